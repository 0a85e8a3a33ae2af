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
	src/utility.o

DATA = $(wildcard $(EXTENSION)--*.sql)

# Test lists; test/run_tests.sh reads them with "make print-tests".
REGRESS = setup identity drop_kinds truncate_alter dml_unbounded client_paths \
	budgets policy \
	superuser guc_protect dry_run audit
ISOLATION = tag_live
TAP_TESTS = 1

PG_CPPFLAGS = -I$(srcdir)/src
PG_CFLAGS = -Wall -Wextra -Werror -Wno-unused-parameter -Wno-sign-compare \
	-Wno-missing-field-initializers -Wno-cast-function-type

PG_CONFIG ?= $(firstword $(wildcard /usr/lib/postgresql/15/bin/pg_config) pg_config)
# No JIT bitcode: it would need clang at build time and buys nothing here.
override with_llvm = no

PGXS := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)

.PHONY: print-tests
print-tests:
	@echo "REGRESS=$(REGRESS)"
	@echo "ISOLATION=$(ISOLATION)"
