# agent_guard — PGXS build
#
#   make && make install            build and install the extension
#   bash test/run_tests.sh          every suite against a scratch cluster
#
EXTENSION = agent_guard
EXTVERSION = $(shell sed -n "s/^default_version[[:space:]]*=[[:space:]]*'\([^']*\)'.*/\1/p" $(EXTENSION).control)

MODULE_big = agent_guard
OBJS = \
	src/agent_guard.o \
	src/approval.o \
	src/audit.o \
	src/budget.o \
	src/classify.o \
	src/decide.o \
	src/executor.o \
	src/fingerprint.o \
	src/guc.o \
	src/identity.o \
	src/objaccess.o \
	src/policy.o \
	src/sqlfuncs.o \
	src/tamper.o \
	src/utility.o

DATA = $(wildcard $(EXTENSION)--*.sql)

# Test lists; test/run_tests.sh reads them with "make print-tests".
REGRESS = setup identity drop_kinds truncate_alter dml_unbounded client_paths \
	budgets policy \
	superuser guc_protect dry_run audit approvals tamper
ISOLATION = tag_live approval_race
TAP_TESTS = 1

PG_CPPFLAGS = -I$(srcdir)/src
PG_CFLAGS = -Wall -Wextra -Werror -Wno-unused-parameter -Wno-sign-compare \
	-Wno-missing-field-initializers -Wno-cast-function-type

PG_CONFIG ?= $(firstword $(wildcard /usr/lib/postgresql/15/bin/pg_config) pg_config)
# No JIT bitcode: it would need clang at build time and buys nothing here.
override with_llvm = no

PGXS := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)

# Every object depends on the shared headers (PGXS tracks no dependencies).
$(OBJS): src/agent_guard.h src/ag_vocab.h

.PHONY: print-tests
print-tests:
	@echo "REGRESS=$(REGRESS)"
	@echo "ISOLATION=$(ISOLATION)"

# agent_guard_lint: the offline CLI (cli/), linked against libpg_query and
# built with the same warnings as the extension, but no server headers.
CLI_SRCS = cli/main.c cli/lint.c cli/lint_node.c cli/lint_expr.c cli/lint_dml.c \
	cli/lint_body.c cli/lint_utility.c cli/lint_tamper.c cli/json.c \
	cli/fingerprint.c cli/sha256.c
CLI_HDRS = cli/lint.h cli/lint_int.h cli/json.h cli/fingerprint.h cli/sha256.h \
	src/ag_vocab.h
CLI_CFLAGS = -std=gnu99 -O2 -g -Wall -Wextra -Werror -Wno-unused-parameter
EXTRA_CLEAN += cli/agent_guard_lint cli/agent_guard_lint_fuzz

all: cli/agent_guard_lint

cli/agent_guard_lint: $(CLI_SRCS) $(CLI_HDRS)
	$(CC) $(CLI_CFLAGS) -o $@ $(CLI_SRCS) -lpg_query

install: install-cli

.PHONY: install-cli
install-cli: cli/agent_guard_lint
	$(INSTALL_PROGRAM) cli/agent_guard_lint '$(DESTDIR)$(bindir)/agent_guard_lint'
