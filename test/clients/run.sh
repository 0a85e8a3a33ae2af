#!/bin/bash
#
# test/clients/run.sh — real agent clients end to end, against a scratch
# cluster with agent_guard preloaded (run as root, after "make install";
# test/run_tests.sh runs it as its "clients" section).
#
#   node-postgres   pg_client.js: npm "pg" as an agent over the extended
#                   protocol (prepared statements executed repeatedly,
#                   DELETE ... WHERE id = $1 allowed, DELETE ... WHERE $1
#                   with true refused: 42501 with DETAIL and HINT intact).
#   MCP             mcp_client.js: npm "@henkey/postgres-mcp-server" over
#                   stdio, connected as an agent, driven with MCP JSON-RPC
#                   tool calls: destructive calls refused, harmless ones
#                   work, all of them in agent_guard.audit_log.
#   pgbench         8 agent clients for 30 s (PGBENCH_SECONDS): tpcb-like
#                   work plus intended denials; no other error, and every
#                   denial and every audited statement is in audit_log.
#
# Prints "ok ..." / "not ok ..." lines.  npm packages go to
# $AG_NPM_DIR (default /var/cache/agent_guard/npm), never into the checkout;
# if they cannot be installed the two node suites print "skipped: ..." and
# count nothing.  The PostgreSQL server runs as the postgres OS user and
# reads nothing from the checkout.  Exit status non-zero if anything failed.

set -uo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
# shellcheck source=../../bench/lib.sh
. "$REPO/bench/lib.sh"

NPM_DIR=${AG_NPM_DIR:-/var/cache/agent_guard/npm}
PG_VERSION_PIN=8.16.3
MCP_PKG=@henkey/postgres-mcp-server
MCP_VERSION_PIN=1.0.7
PGBENCH_SECONDS=${PGBENCH_SECONDS:-30}
PGBENCH_CLIENTS=${PGBENCH_CLIENTS:-8}

FAILED=0
ok() { echo "ok - $*"; }
notok() { echo "not ok - $*"; FAILED=$((FAILED + 1)); }
check() { # check COND-EXIT-STATUS DESCRIPTION
	if [[ $1 == 0 ]]; then ok "$2"; else notok "$2"; fi
}

if [[ $EUID -ne 0 ]]; then
	echo "test/clients/run.sh must run as root" >&2
	exit 1
fi

DIR=$(mktemp -d /tmp/agent_guard_clients.XXXXXX)
chmod 755 "$DIR"
PORT=
for _ in $(seq 1 100); do
	PORT=$((41000 + RANDOM % 8000))
	(exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null || break
done
cleanup() {
	bench_cluster_stop "$DIR"
	if [[ "${KEEP_WORK:-0}" == 1 ]]; then
		echo "clients: scratch directory kept: $DIR" >&2
	else
		rm -rf "$DIR"
	fi
}
trap cleanup EXIT

# The cluster: agent_guard preloaded, TCP on loopback for the node clients
# (trust authentication, as initdb --auth=trust sets it up).
bench_cluster_start "$DIR" "$PORT" "listen_addresses = '127.0.0.1'
agent_guard.database = 'postgres'
max_connections = 50
log_min_messages = log" || {
	notok "clients: scratch cluster did not start"
	tail -n 40 "$DIR/log" 2>/dev/null
	exit 1
}

psql_admin() { bench_psql "$DIR" "$PORT" -v ON_ERROR_STOP=1 "$@"; }

psql_admin postgres <<'SQL' || { notok "clients: setup failed"; exit 1; }
CREATE EXTENSION agent_guard;
CREATE DATABASE app;
CREATE DATABASE pgb;
CREATE ROLE node_agent LOGIN;
CREATE ROLE mcp_agent LOGIN;
CREATE ROLE pgb_agent LOGIN;
SECURITY LABEL FOR agent_guard ON ROLE node_agent IS 'agent';
SECURITY LABEL FOR agent_guard ON ROLE mcp_agent IS 'agent';
SECURITY LABEL FOR agent_guard ON ROLE pgb_agent IS 'agent';
-- node-postgres: a small statement budget, to be passed on purpose
ALTER ROLE node_agent SET agent_guard.max_rows = 20;
-- the MCP server's harmless statements are on the record too
ALTER ROLE mcp_agent SET agent_guard.audit_level = 'all';
-- pgbench: many rows over 30 s; every statement on the record
ALTER ROLE pgb_agent SET agent_guard.audit_level = 'all';
ALTER ROLE pgb_agent SET agent_guard.max_rows = 0;
ALTER ROLE pgb_agent SET agent_guard.max_rows_per_transaction = 0;
ALTER ROLE pgb_agent SET agent_guard.window_max_rows = 0;
SQL

psql_admin app <<'SQL' || { notok "clients: setup of database app failed"; exit 1; }
CREATE TABLE items (id int PRIMARY KEY, v text);
INSERT INTO items SELECT g, 'item ' || g FROM generate_series(1, 100) g;
ALTER TABLE items OWNER TO node_agent;
CREATE TABLE orders (id int PRIMARY KEY, note text);
INSERT INTO orders SELECT g, 'order ' || g FROM generate_series(1, 50) g;
ALTER TABLE orders OWNER TO mcp_agent;
SQL

AGENT_HOST="127.0.0.1:$PORT"

# ---------------------------------------------------------------------------
# npm packages (node-postgres and the MCP server)
# ---------------------------------------------------------------------------

npm_ready() {
	local pgv mcpv
	pgv=$(node -p "require('$NPM_DIR/node_modules/pg/package.json').version" 2>/dev/null)
	mcpv=$(node -p "require('$NPM_DIR/node_modules/$MCP_PKG/package.json').version" 2>/dev/null)
	[[ $pgv == "$PG_VERSION_PIN" && $mcpv == "$MCP_VERSION_PIN" ]]
}

NODE_SKIP=
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
	NODE_SKIP="node or npm is not installed"
elif ! npm_ready; then
	mkdir -p "$NPM_DIR"
	[[ -f "$NPM_DIR/package.json" ]] || echo '{ "private": true }' >"$NPM_DIR/package.json"
	echo "# installing pg@$PG_VERSION_PIN $MCP_PKG@$MCP_VERSION_PIN into $NPM_DIR"
	if ! timeout 300 npm install --prefix "$NPM_DIR" --no-audit --no-fund \
		--ignore-scripts "pg@$PG_VERSION_PIN" "$MCP_PKG@$MCP_VERSION_PIN" \
		>"$DIR/npm.log" 2>&1 || ! npm_ready; then
		NODE_SKIP="npm install of pg@$PG_VERSION_PIN and $MCP_PKG@$MCP_VERSION_PIN failed: $(tail -n 3 "$DIR/npm.log" | tr '\n' ' ')"
	fi
fi

if [[ -n $NODE_SKIP ]]; then
	echo "skipped: node-postgres and MCP client tests ($NODE_SKIP)"
else
	echo "# node $(node --version), pg $PG_VERSION_PIN, $MCP_PKG $MCP_VERSION_PIN"
	echo "# node-postgres as the agent (test/clients/pg_client.js)"
	NODE_PATH="$NPM_DIR/node_modules" \
		AGENT_URL="postgresql://node_agent@$AGENT_HOST/app" \
		ADMIN_URL="postgresql://postgres@$AGENT_HOST/postgres" \
		timeout 120 node "$HERE/pg_client.js"
	rc=$?
	[[ $rc == 0 ]] || notok "pg_client.js exited with status $rc"

	echo "# MCP server $MCP_PKG over stdio as the agent (test/clients/mcp_client.js)"
	NODE_PATH="$NPM_DIR/node_modules" \
		MCP_SERVER="$NPM_DIR/node_modules/$MCP_PKG/build/index.js" \
		AGENT_URL="postgresql://mcp_agent@$AGENT_HOST/app" \
		ADMIN_URL="postgresql://postgres@$AGENT_HOST/postgres" \
		timeout 120 node "$HERE/mcp_client.js"
	rc=$?
	[[ $rc == 0 ]] || notok "mcp_client.js exited with status $rc"
fi

# ---------------------------------------------------------------------------
# pgbench: 8 concurrent agent sessions
# ---------------------------------------------------------------------------
#
# PostgreSQL 15's pgbench aborts a client on any error other than a
# serialization failure or deadlock, so the intended denials are raised in
# a PL/pgSQL function that catches agent_guard's SQLSTATE 42501, records
# what it caught in seen_denials and returns the SQLSTATE to pgbench.
# Anything else (a destructive statement not refused, any other error)
# aborts the client and fails the test.

echo "# pgbench: $PGBENCH_CLIENTS agent clients, ${PGBENCH_SECONDS}s, audit_level = all"
"$PGBIN/pgbench" -i -q -s 1 -h "$DIR" -p "$PORT" -U postgres pgb >"$DIR/pgbench_init.log" 2>&1 ||
	notok "pgbench -i failed: $(tail -n 3 "$DIR/pgbench_init.log")"
psql_admin pgb <<'SQL' || notok "pgbench setup failed"
ALTER TABLE pgbench_accounts OWNER TO pgb_agent;
ALTER TABLE pgbench_branches OWNER TO pgb_agent;
ALTER TABLE pgbench_tellers OWNER TO pgb_agent;
ALTER TABLE pgbench_history OWNER TO pgb_agent;
CREATE TABLE seen_denials (k int, sqlstate text, message text);
ALTER TABLE seen_denials OWNER TO pgb_agent;
CREATE FUNCTION try_destroy(k int) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
	IF k = 1 THEN
		DELETE FROM pgbench_history;
	ELSIF k = 2 THEN
		TRUNCATE pgbench_history;
	ELSE
		DROP TABLE pgbench_branches CASCADE;
	END IF;
	RAISE EXCEPTION 'try_destroy(%) was not refused', k;
EXCEPTION WHEN insufficient_privilege THEN
	IF SQLERRM NOT LIKE 'agent_guard: refused%' THEN
		RAISE;
	END IF;
	INSERT INTO seen_denials VALUES (k, SQLSTATE, SQLERRM);
	RETURN SQLSTATE;
END $$;
ALTER FUNCTION try_destroy(int) OWNER TO pgb_agent;
SQL

cat >"$DIR/work.sql" <<'EOF'
\set aid random(1, 100000 * :scale)
\set bid random(1, 1 * :scale)
\set tid random(1, 10 * :scale)
\set delta random(-5000, 5000)
BEGIN;
UPDATE pgbench_accounts SET abalance = abalance + :delta WHERE aid = :aid;
SELECT abalance FROM pgbench_accounts WHERE aid = :aid;
UPDATE pgbench_tellers SET tbalance = tbalance + :delta WHERE tid = :tid;
UPDATE pgbench_branches SET bbalance = bbalance + :delta WHERE bid = :bid;
INSERT INTO pgbench_history (tid, bid, aid, delta, mtime) VALUES (:tid, :bid, :aid, :delta, CURRENT_TIMESTAMP);
END;
EOF
cat >"$DIR/deny.sql" <<'EOF'
\set k random(1, 3)
SELECT try_destroy(:k);
EOF

"$PGBIN/pgbench" -h "$DIR" -p "$PORT" -U pgb_agent -n -M prepared \
	-c "$PGBENCH_CLIENTS" -j 2 -T "$PGBENCH_SECONDS" -s 1 \
	-f "$DIR/work.sql@9" -f "$DIR/deny.sql@1" pgb >"$DIR/pgbench.log" 2>&1
rc=$?
sed 's/^/# /' "$DIR/pgbench.log" | head -n 40
check "$rc" "pgbench, $PGBENCH_CLIENTS agent clients for ${PGBENCH_SECONDS}s: exit status 0 (no client aborted)"
! grep -qiE 'aborted|error' "$DIR/pgbench.log"
check $? "pgbench: no error and no aborted client in its output"
grep -qE '^number of failed transactions: 0 ' "$DIR/pgbench.log"
check $? "pgbench: 0 failed transactions"

work_tx=$(awk '/^SQL script 1:/ {s=1} s && /- [0-9]+ transactions/ {print $2; exit}' "$DIR/pgbench.log")
deny_tx=$(awk '/^SQL script 2:/ {s=1} s && /- [0-9]+ transactions/ {print $2; exit}' "$DIR/pgbench.log")
echo "# pgbench transactions: work $work_tx, deny $deny_tx"
[[ ${work_tx:-0} -gt 100 && ${deny_tx:-0} -gt 10 ]]
check $? "pgbench ran both scripts many times (work ${work_tx:-?}, deny ${deny_tx:-?})"

seen=$(psql_admin pgb -At -c "SELECT count(*) FROM seen_denials WHERE sqlstate = '42501'")
[[ "$seen" == "$deny_tx" ]]
check $? "every deny-script transaction caught SQLSTATE 42501 ($seen of $deny_tx)"

# Wait for the asynchronous records (audit_level = all) to drain.
audit_counts() {
	psql_admin postgres -At -F ' ' <<'SQL'
SELECT count(*) FILTER (WHERE verdict = 'deny'),
       count(*) FILTER (WHERE verdict = 'allow' AND statement LIKE 'UPDATE pgbench_accounts SET abalance%'),
       count(*) FILTER (WHERE verdict = 'allow' AND statement LIKE 'INSERT INTO pgbench_history%'),
       count(*) FILTER (WHERE verdict NOT IN ('allow', 'deny'))
  FROM agent_guard.audit_log WHERE session_role = 'pgb_agent'
SQL
}
# The work that really committed: pgbench's count can miss a transaction
# or two still in flight when -T runs out, the table cannot.
hist_rows=$(psql_admin pgb -At -c "SELECT count(*) FROM pgbench_history")
for _ in $(seq 1 100); do
	read -r a_deny a_upd a_ins a_other < <(audit_counts)
	[[ "$a_upd" == "$hist_rows" && "$a_ins" == "$hist_rows" ]] && break
	sleep 0.2
done
echo "# audit_log for pgb_agent: deny $a_deny, allow UPDATE pgbench_accounts $a_upd, allow INSERT pgbench_history $a_ins, other $a_other"
seen_by_k=$(psql_admin pgb -At -F ' ' -c "SELECT count(*) FILTER (WHERE k = 1), count(*) FILTER (WHERE k = 2), count(*) FILTER (WHERE k = 3) FROM seen_denials")
audit_by_rule=$(psql_admin postgres -At -F ' ' -c "SELECT count(*) FILTER (WHERE rule = 'unbounded_delete'), count(*) FILTER (WHERE rule = 'truncate'), count(*) FILTER (WHERE rule = 'drop_object') FROM agent_guard.audit_log WHERE session_role = 'pgb_agent' AND verdict = 'deny'")
[[ "$a_deny" == "$seen" ]]
check $? "no lost deny rows: audit_log holds $a_deny deny rows for $seen denials the clients saw"
[[ "$seen_by_k" == "$audit_by_rule" ]]
check $? "deny rows by rule (unbounded_delete truncate drop_object: $audit_by_rule) match the denials seen ($seen_by_k)"
[[ "$a_upd" == "$hist_rows" && "$a_ins" == "$hist_rows" ]]
check $? "no lost allow rows: one per UPDATE pgbench_accounts ($a_upd) and INSERT pgbench_history ($a_ins) for $hist_rows committed transactions"
(( hist_rows >= work_tx && hist_rows <= work_tx + PGBENCH_CLIENTS ))
check $? "the committed work ($hist_rows rows) is what pgbench reports ($work_tx transactions, up to $PGBENCH_CLIENTS more in flight at the end)"
[[ "$a_other" == 0 ]]
check $? "no verdict other than allow and deny"

# The same denials reaching pgbench itself: 8 clients, each sends one
# refused statement over the extended protocol and is aborted by it.
echo 'DELETE FROM pgbench_history WHERE 1 = 1;' >"$DIR/direct.sql"
"$PGBIN/pgbench" -h "$DIR" -p "$PORT" -U pgb_agent -n -M extended \
	-c "$PGBENCH_CLIENTS" -j 2 -t 1 -f "$DIR/direct.sql" pgb >"$DIR/pgbench_direct.log" 2>&1
rc=$?
direct_seen=$(grep -cE 'aborted in command 0 .*ERROR: +agent_guard: refused DELETE' "$DIR/pgbench_direct.log")
sed 's/^/# /' "$DIR/pgbench_direct.log" | grep -E 'aborted|refused' | head -n 3
direct_audit=$(psql_admin postgres -At -c "SELECT count(*) FROM agent_guard.audit_log WHERE session_role = 'pgb_agent' AND verdict = 'deny' AND statement LIKE 'DELETE FROM pgbench_history WHERE 1 = 1%'")
[[ $rc == 2 && "$direct_seen" == "$PGBENCH_CLIENTS" ]]
check $? "pgbench, $PGBENCH_CLIENTS clients sending DELETE ... WHERE 1 = 1: every client receives agent_guard's refusal ($direct_seen, exit status $rc)"
[[ "$direct_audit" == "$PGBENCH_CLIENTS" ]]
check $? "one deny row per client-side refusal ($direct_audit of $PGBENCH_CLIENTS)"

after=$(psql_admin pgb -At -c "SELECT (SELECT count(*) FROM pgbench_branches) || ' ' || (SELECT count(*) FROM pgbench_history)")
[[ "$after" == "1 $hist_rows" ]]
check $? "pgbench_branches still there and pgbench_history untouched by the refused DELETEs ($after vs 1 $hist_rows)"

! grep -q 'audit record not written' "$DIR/log"
check $? "server log: no audit record failed to be written"
! grep -qE 'PANIC|TRAP|server process .* was terminated' "$DIR/log"
check $? "server log: no crash"

exit $((FAILED > 0))
