#!/bin/bash
#
# test/cli/run.sh — agent_guard_lint's test suite.
#
#   bash test/cli/run.sh
#
# Run by test/run_tests.sh after the build and install.  Prints "ok ..." /
# "not ok ..." lines:
#
#   - the table-driven cases of cases.tsv, options, output and exit status,
#     and the fingerprint definition (lint_test.pl);
#   - when run as root with the extension installed: a scratch cluster
#     (agent_guard preloaded and created, run as the "postgres" OS user)
#     on which the CLI's fingerprints are compared with
#     agent_guard.fingerprint() and its verdicts with what the server does
#     to an agent session;
#   - when valgrind is installed: the CLI over every input of the suite
#     under memcheck, with no errors and no leaks.
#
# Exit status is non-zero if any check failed.

set -u

PGBIN=/usr/lib/postgresql/15/bin
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
HERE=$REPO/test/cli
AGL=$REPO/cli/agent_guard_lint
WORK=
STATUS=0

cleanup() {
	if [[ -n "$WORK" && -f "$WORK/data/postmaster.pid" ]]; then
		runuser -u postgres -- "$PGBIN/pg_ctl" -D "$WORK/data" -m immediate -w stop >/dev/null 2>&1
	fi
	[[ -n "$WORK" ]] && rm -rf "$WORK"
}
trap cleanup EXIT

if [[ ! -x "$AGL" ]]; then
	make -s -C "$REPO" cli/agent_guard_lint || {
		echo "not ok - could not build agent_guard_lint"
		exit 1
	}
fi

# ---------------------------------------------------------------------------
# Scratch cluster
# ---------------------------------------------------------------------------

SERVER=
start_cluster() {
	local port sock
	[[ $EUID -eq 0 ]] && id postgres >/dev/null 2>&1 || return 1
	[[ -f "$("$PGBIN/pg_config" --pkglibdir)/agent_guard.so" ]] || return 1
	WORK=$(mktemp -d /tmp/agent_guard_lint_test.XXXXXX)
	chown postgres: "$WORK"
	chmod 755 "$WORK"
	port=$((55000 + RANDOM % 5000))
	sock=$WORK
	runuser -u postgres -- "$PGBIN/initdb" -D "$WORK/data" -A trust -E UTF8 \
		--no-locale >"$WORK/initdb.log" 2>&1 || return 1
	cat "$REPO/test/agent_guard.conf" >>"$WORK/data/postgresql.conf"
	cat >>"$WORK/data/postgresql.conf" <<-EOF
		port = $port
		listen_addresses = ''
		unix_socket_directories = '$sock'
	EOF
	runuser -u postgres -- "$PGBIN/pg_ctl" -D "$WORK/data" -l "$WORK/server.log" -w start \
		>/dev/null 2>&1 || {
		tail -20 "$WORK/server.log" | sed 's/^/# /'
		return 1
	}
	"$PGBIN/psql" -X -q -h "$sock" -p "$port" -U postgres -d postgres \
		-v ON_ERROR_STOP=1 >"$WORK/setup.log" 2>&1 <<-'EOF' || { sed 's/^/# /' "$WORK/setup.log"; return 1; }
		CREATE EXTENSION agent_guard;
		CREATE ROLE agent LOGIN;
		SECURITY LABEL FOR agent_guard ON ROLE agent IS 'agent';
		GRANT CREATE ON SCHEMA public TO agent;
		CREATE SCHEMA app AUTHORIZATION agent;
		CREATE TABLE t (id int PRIMARY KEY, x int, c int, flag bool, note text);
		INSERT INTO t SELECT g, g, g, g % 2 = 0, 'n' FROM generate_series(1, 20) g;
		CREATE TABLE o (id int, tid int, x int);
		INSERT INTO o VALUES (1, 1, 1), (2, 2, 20);
		CREATE TABLE s (id int, x int);
		INSERT INTO s VALUES (1, 1);
		CREATE TABLE orders (id int);
		CREATE TABLE items (id int);
		CREATE VIEW v AS SELECT * FROM t WHERE flag;
		CREATE SEQUENCE seq1;
		CREATE TYPE mood AS ENUM ('ok');
		CREATE DOMAIN posint AS int CHECK (VALUE > 0);
		CREATE TYPE comp AS (a int, b int);
		CREATE MATERIALIZED VIEW mv AS SELECT 1 AS a;
		CREATE FUNCTION f() RETURNS int LANGUAGE sql AS 'SELECT 1';
		CREATE FUNCTION app_func(int) RETURNS int LANGUAGE sql AS 'SELECT $1';
		CREATE PROCEDURE p() LANGUAGE sql AS 'SELECT 1';
		CREATE FUNCTION trgf() RETURNS trigger LANGUAGE plpgsql AS 'BEGIN RETURN NEW; END';
		CREATE POLICY pol ON t USING (true);
		SELECT lo_create(4242);
		ALTER LARGE OBJECT 4242 OWNER TO agent;
		DO $$
		DECLARE r record;
		BEGIN
			FOR r IN SELECT c.oid::regclass AS n FROM pg_class c
				WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'v', 'm', 'S')
			LOOP
				EXECUTE format('ALTER TABLE %s OWNER TO agent', r.n);
			END LOOP;
		END $$;
		ALTER TYPE mood OWNER TO agent;
		ALTER DOMAIN posint OWNER TO agent;
		ALTER TYPE comp OWNER TO agent;
		ALTER FUNCTION f() OWNER TO agent;
		ALTER FUNCTION app_func(int) OWNER TO agent;
		ALTER PROCEDURE p() OWNER TO agent;
		ALTER FUNCTION trgf() OWNER TO agent;
		-- What a careless administrator might have granted (as sql/tamper.sql):
		-- the guard, not a missing privilege, must be what refuses.
		CREATE EXTENSION dblink;
		CREATE EXTENSION postgres_fdw;
		CREATE EXTENSION adminpack;
		GRANT USAGE ON FOREIGN DATA WRAPPER postgres_fdw TO agent;
		GRANT pg_execute_server_program, pg_write_server_files, pg_read_server_files,
			pg_signal_backend TO agent;
		GRANT CREATE ON SCHEMA agent_guard TO agent;
		GRANT INSERT, UPDATE, DELETE ON agent_guard.policy TO agent;
		GRANT SET ON PARAMETER session_replication_role TO agent;
		GRANT EXECUTE ON FUNCTION lo_export(oid, text), lo_import(text),
			pg_file_write(text, text, bool), pg_replication_origin_drop(text) TO agent;
	EOF
	SERVER="$sock:$port:postgres:agent:postgres"
}

if start_cluster; then
	echo "# scratch cluster on port $(cut -d: -f2 <<<"$SERVER")"
else
	echo "# could not start a scratch cluster (needs root and an installed agent_guard)"
fi

# ---------------------------------------------------------------------------
# Cases, output, fingerprints, parity
# ---------------------------------------------------------------------------

perl "$HERE/lint_test.pl" "$AGL" $SERVER || STATUS=1

# ---------------------------------------------------------------------------
# Valgrind
# ---------------------------------------------------------------------------

if command -v valgrind >/dev/null 2>&1; then
	VG=$(mktemp -d /tmp/agent_guard_lint_vg.XXXXXX)
	cut -f4 "$HERE/cases.tsv" | grep -v '^#' | sed 's/$/;/' >"$VG/cases.sql"
	sed 's/^--- next ---$/;/' "$HERE/fingerprints.sql" >"$VG/fingerprints.sql"
	printf '%s\n' 'SELECT 1;' 'SELEC 2;' 'DROP TABLE x;' 'DO $$ BEGIN EXTE x; END $$;' >"$VG/error.sql"
	n=0
	for args in "$VG/cases.sql" "--format=json $VG/cases.sql" \
		"--fingerprint $VG/fingerprints.sql" "--canonical $VG/fingerprints.sql" \
		"$VG/error.sql"; do
		n=$((n + 1))
		# shellcheck disable=SC2086 # word splitting of args on purpose
		valgrind --quiet --error-exitcode=99 --leak-check=full \
			--suppressions="$HERE/valgrind.supp" \
			--errors-for-leak-kinds=definite,indirect,possible \
			--show-leak-kinds=definite,indirect,possible \
			"$AGL" $args >/dev/null 2>"$VG/vg$n.log"
		rc=$?
		if [[ $rc -ne 99 ]] && ! grep -q '==[0-9]*==' "$VG/vg$n.log"; then
			echo "ok - valgrind: agent_guard_lint $args (exit $rc, no errors, no leaks)" | sed "s|$VG/||g"
		else
			echo "not ok - valgrind: agent_guard_lint $args" | sed "s|$VG/||g"
			head -40 "$VG/vg$n.log" | sed 's/^/# /'
			STATUS=1
		fi
	done
	rm -rf "$VG"
else
	echo "# valgrind not installed: memory checks skipped"
fi

exit $STATUS
