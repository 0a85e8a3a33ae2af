#!/bin/bash
#
# run_tests.sh — build, install and test agent_guard against scratch clusters.
#
#   bash test/run_tests.sh
#
# Runs as root on Debian 12 with PostgreSQL 15.  Installs missing build and
# test packages, builds with -Wall -Wextra -Werror, installs, then runs every
# suite as the "postgres" OS user from a private copy of the test inputs (so
# the checkout itself need not be readable by postgres):
#
#   pg_regress       sql/*.sql vs expected/*.out      (REGRESS in the Makefile)
#   isolation        test/specs/*.spec vs test/expected/*.out  (ISOLATION)
#   TAP              test/t/*.pl on PostgreSQL::Test::Cluster
#   CLI              test/cli/run.sh, when present and executable
#   clients          test/clients/run.sh: node-postgres, an MCP server (npm;
#                    skipped with a message if npm cannot install them) and
#                    8 pgbench agent clients for 30 s
#   PostgreSQL's own regression suite without and with agent_guard preloaded
#                    test/pg_core_regress.sh
#
# The last line of output is always "N passed, N failed"; the exit status is
# non-zero if anything failed or a suite could not run.  Set KEEP_WORK=1 to
# keep the scratch directory for inspection.

set -euo pipefail

PGVER=15
PGBIN=/usr/lib/postgresql/$PGVER/bin
PG_CONFIG=$PGBIN/pg_config
PGXS_DIR=/usr/lib/postgresql/$PGVER/lib/pgxs
PG_REGRESS=$PGXS_DIR/src/test/regress/pg_regress
PG_ISOLATION_REGRESS=$PGXS_DIR/src/test/isolation/pg_isolation_regress
PG_PERL_LIB=$PGXS_DIR/src/test/perl

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$REPO"
. test/lib.sh

PASSED=0
FAILED=0
SUMMARY_DONE=0
WORK=

# ---------------------------------------------------------------------------
# Cleanup and summary (scratch_cleanup is in test/lib.sh)
# ---------------------------------------------------------------------------

summary() {
	SUMMARY_DONE=1
	scratch_cleanup
	echo
	echo "$PASSED passed, $FAILED failed"
}

# Runs on every exit: an early abort (package install, build) still ends the
# output with the summary line and a non-zero status.
on_exit() {
	local rc=$?
	if [[ $SUMMARY_DONE == 0 ]]; then
		echo "not ok - run_tests.sh aborted (exit status $rc)"
		FAILED=$((FAILED + 1))
		summary
		exit 1
	fi
	scratch_cleanup
}
trap on_exit EXIT
trap 'exit 130' INT TERM

section() {
	echo
	echo "=== $* ==="
}

# Count result lines matching the given patterns in a suite log.
count_lines() {
	local pattern=$1 file=$2
	grep -cE "$pattern" "$file" || true
}

# Fold one suite's counts into the totals.  A suite that exited non-zero
# without reporting any failed test did not run to the end (crash, bad
# plan, initdb failure): count that as one failure so it cannot pass.
record_suite() {
	local name=$1 rc=$2 ok=$3 notok=$4
	PASSED=$((PASSED + ok))
	FAILED=$((FAILED + notok))
	if [[ $rc != 0 && $notok == 0 ]]; then
		echo "not ok - $name suite did not complete (exit status $rc)"
		FAILED=$((FAILED + 1))
	fi
	echo "--- $name: $ok passed, $notok failed (exit status $rc)"
}

# Print a file for the CI log: its first (head) or last (tail) $max lines.
show_file() {
	local file=$1 max=$2 end=$3 total
	[[ -s "$file" ]] || return 0
	total=$(wc -l <"$file")
	echo "----- $file ($total lines; $end $max shown) -----"
	"$end" -n "$max" "$file"
	echo "----- end of $file -----"
}

as_postgres() {
	(cd "$WORK" && runuser -u postgres -- "$@")
}

# ---------------------------------------------------------------------------
# Packages
# ---------------------------------------------------------------------------

if [[ $EUID -ne 0 ]]; then
	echo "run_tests.sh must run as root (it installs packages and the extension)" >&2
	exit 1
fi

section "packages"
PACKAGES=("postgresql-$PGVER" "postgresql-client-$PGVER" "postgresql-server-dev-$PGVER"
	"postgresql-$PGVER-pgaudit" libpg-query-dev libipc-run-perl perl make gcc)
ensure_packages "${PACKAGES[@]}"

# ---------------------------------------------------------------------------
# Build and install
# ---------------------------------------------------------------------------

section "build"
make -s PG_CONFIG="$PG_CONFIG" clean
make PG_CONFIG="$PG_CONFIG" -j"$(nproc)"
make PG_CONFIG="$PG_CONFIG" install

tests=$(make -s PG_CONFIG="$PG_CONFIG" print-tests)
REGRESS_TESTS=$(sed -n 's/^REGRESS=//p' <<<"$tests")
ISOLATION_TESTS=$(sed -n 's/^ISOLATION=//p' <<<"$tests")

# ---------------------------------------------------------------------------
# Private copy of the test inputs, owned by postgres
# ---------------------------------------------------------------------------

WORK=$(mktemp -d /tmp/agent_guard_test.XXXXXX)
mkdir -p "$WORK/isolation" "$WORK/tap" "$WORK/logs"
cp -r sql expected "$WORK/"
[[ -d data ]] && cp -r data "$WORK/"
cp test/agent_guard.conf "$WORK/agent_guard.conf"
[[ -d test/specs ]] && cp -r test/specs "$WORK/isolation/"
[[ -d test/expected ]] && cp -r test/expected "$WORK/isolation/"
[[ -d test/t ]] && cp -r test/t "$WORK/tap/"
chown -R postgres: "$WORK"
echo "scratch directory: $WORK"

# Result lines of pg_regress / pg_isolation_regress (PG 15 format):
#   "test name                     ... ok          12 ms"   (serial)
#   "     name                     ... FAILED      12 ms"   (parallel group)
REGRESS_OK='^(test | {5})[^ ]+ +\.\.\. (ok|failed \(ignored\))'
REGRESS_NOTOK='^(test | {5})[^ ]+ +\.\.\. FAILED'

# run_regress NAME DRIVER INPUTDIR DBNAME TESTS...
run_regress() {
	local name=$1 driver=$2 inputdir=$3 dbname=$4
	shift 4
	local out=$WORK/$name log=$WORK/logs/$name.log rc
	mkdir -p "$out"
	chown postgres: "$out"
	set +e
	as_postgres "$driver" \
		--temp-instance="$WORK/tmp_check_$name" \
		--temp-config="$WORK/agent_guard.conf" \
		--bindir="$PGBIN" \
		--inputdir="$inputdir" \
		--outputdir="$out" \
		--dbname="$dbname" \
		--no-locale \
		--port="$(free_port)" \
		"$@" 2>&1 | tee "$log"
	rc=${PIPESTATUS[0]}
	set -e
	if [[ $rc != 0 ]]; then
		show_file "$out/regression.diffs" 1500 head
		show_file "$out/log/postmaster.log" 80 tail
		# exit status 2: could not run at all (initdb, startup, missing file)
		[[ $rc == 1 ]] || show_file "$out/log/initdb.log" 40 tail
	fi
	record_suite "$name" "$rc" "$(count_lines "$REGRESS_OK" "$log")" \
		"$(count_lines "$REGRESS_NOTOK" "$log")"
}

# ---------------------------------------------------------------------------
# pg_regress
# ---------------------------------------------------------------------------

section "pg_regress: ${REGRESS_TESTS:-(none)}"
if [[ -n "${REGRESS_TESTS// /}" ]]; then
	# shellcheck disable=SC2086 # the list is space-separated on purpose
	run_regress regress "$PG_REGRESS" "$WORK" contrib_regression $REGRESS_TESTS
fi

# ---------------------------------------------------------------------------
# isolation
# ---------------------------------------------------------------------------

section "isolation: ${ISOLATION_TESTS:-(none)}"
if [[ -n "${ISOLATION_TESTS// /}" ]]; then
	# shellcheck disable=SC2086
	run_regress isolation "$PG_ISOLATION_REGRESS" "$WORK/isolation" \
		isolation_regression $ISOLATION_TESTS
fi

# ---------------------------------------------------------------------------
# TAP (set up the way PGXS's prove_installcheck does)
# ---------------------------------------------------------------------------

shopt -s nullglob
tap_files=("$WORK"/tap/t/*.pl)
section "TAP: ${#tap_files[@]} file(s)"
if ((${#tap_files[@]})); then
	log=$WORK/logs/tap.log
	set +e
	(cd "$WORK/tap" && runuser -u postgres -- env \
		TESTDIR="$WORK/tap" \
		PATH="$PGBIN:$PATH" \
		PERL5LIB="$PG_PERL_LIB:$WORK/tap${PERL5LIB:+:$PERL5LIB}" \
		PG_REGRESS="$PG_REGRESS" \
		PGPORT="$(free_port)" \
		prove -v "${tap_files[@]#"$WORK/tap/"}") 2>&1 | tee "$log"
	rc=${PIPESTATUS[0]}
	set -e
	if [[ $rc != 0 ]]; then
		for f in "$WORK"/tap/tmp_check/log/*; do
			show_file "$f" 100 tail
		done
	fi
	record_suite TAP "$rc" "$(grep -E '^ok [0-9]+' "$log" | grep -vc '# TODO' || true)" \
		"$(grep -E '^not ok [0-9]+' "$log" | grep -vc '# TODO' || true)"
fi
shopt -u nullglob

# ---------------------------------------------------------------------------
# CLI
# ---------------------------------------------------------------------------

# A suite that is one script printing TAP lines: script_suite NAME SCRIPT
script_suite() {
	local name=$1 script=$2 log rc
	if [[ ! -x $script ]]; then
		section "$name: skipped (no executable $script)"
		return
	fi
	section "$name: $script"
	log=$WORK/logs/$name.log
	set +e
	"$script" 2>&1 | tee "$log"
	rc=${PIPESTATUS[0]}
	set -e
	record_suite "$name" "$rc" "$(count_lines '^ok\b' "$log")" \
		"$(count_lines '^not ok\b' "$log")"
}

script_suite CLI test/cli/run.sh

# ---------------------------------------------------------------------------
# Real clients: node-postgres, an MCP server, pgbench (test/clients/run.sh)
# ---------------------------------------------------------------------------

script_suite clients test/clients/run.sh

# ---------------------------------------------------------------------------
# PostgreSQL's own regression suite, without and with agent_guard preloaded
# ---------------------------------------------------------------------------

section "PostgreSQL regression suite: test/pg_core_regress.sh"
log=$WORK/logs/pg_core_regress.log
set +e
bash test/pg_core_regress.sh 2>&1 | tee "$log"
rc=${PIPESTATUS[0]}
set -e
record_suite pg_core_regress "$rc" "$(grep -E '^ok [0-9]+' "$log" | grep -vc '# TODO' || true)" \
	"$(grep -E '^not ok [0-9]+' "$log" | grep -vc '# TODO' || true)"

summary
[[ $FAILED == 0 ]]
