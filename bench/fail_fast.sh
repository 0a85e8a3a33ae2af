#!/bin/bash
#
# fail_fast.sh — how fast an over-budget DELETE is refused, against how long
# the full DELETE takes.
#
#   bash bench/fail_fast.sh [ROWS] [ROUNDS]      (defaults: 1000000, 5)
#
# Builds nothing: run after "make install" (or test/demo.sh).  Starts a
# scratch cluster with agent_guard preloaded, fills a table with ROWS rows,
# then alternates, ROUNDS times:
#   A  the full "DELETE FROM big WHERE id > 0" by a non-agent superuser,
#      inside a transaction that is rolled back;
#   B  the same statement by an agent with agent_guard.max_rows = 1000,
#      which agent_guard stops at row 1001.
# Prints the median of each and the ratio B/A (target: under 2%).

set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh

ROWS=${1:-1000000}
ROUNDS=${2:-5}
DIR=$(mktemp -d /tmp/agent_guard_bench.XXXXXX)
PORT=54391
trap 'bench_cluster_stop "$DIR"; rm -rf "$DIR"' EXIT

bench_cluster_start "$DIR" "$PORT"
bench_psql "$DIR" "$PORT" postgres <<SQL
CREATE EXTENSION agent_guard;
CREATE ROLE bench_agent LOGIN;
SECURITY LABEL FOR agent_guard ON ROLE bench_agent IS 'agent';
ALTER ROLE bench_agent SET agent_guard.max_rows = 1000;
ALTER ROLE bench_agent SET agent_guard.max_rows_per_transaction = 0;
ALTER ROLE bench_agent SET agent_guard.window_max_rows = 0;
CREATE TABLE big (id int PRIMARY KEY, payload text);
INSERT INTO big SELECT g, md5(g::text) FROM generate_series(1, $ROWS) g;
ALTER TABLE big OWNER TO bench_agent;
VACUUM ANALYZE big;
SQL

# Time one statement in ms with psql's \timing; the statement may fail.
time_ms() {
	local user=$1 sql=$2
	"$PGBIN/psql" -X -h "$DIR" -p "$PORT" -U "$user" postgres 2>&1 <<SQL |
\\timing on
$sql
SQL
		sed -n 's/^Time: \([0-9.]*\) ms.*/\1/p' | tail -n 1
}

: >"$DIR/full" ; : >"$DIR/refused"
for round in $(seq 1 "$ROUNDS"); do
	# A: the second \timing line is the DELETE's.
	full=$("$PGBIN/psql" -X -h "$DIR" -p "$PORT" -U postgres postgres 2>&1 <<SQL | sed -n 's/^Time: \([0-9.]*\) ms.*/\1/p' | sed -n 2p
\\timing on
BEGIN;
DELETE FROM big WHERE id > 0;
ROLLBACK;
SQL
)
	# Clean up after A and flush its WAL, so B does not pay for A's.
	bench_psql "$DIR" "$PORT" postgres -c "VACUUM big" -c "CHECKPOINT" >/dev/null
	refused=$(time_ms bench_agent "DELETE FROM big WHERE id > 0;")
	echo "$full" >>"$DIR/full"
	echo "$refused" >>"$DIR/refused"
	echo "round $round: full DELETE ${full} ms, refused by agent_guard ${refused} ms"
done

full_med=$(bench_median <"$DIR/full")
refused_med=$(bench_median <"$DIR/refused")
ratio=$(awk -v a="$refused_med" -v b="$full_med" 'BEGIN { printf "%.2f", 100 * a / b }')
remaining=$(bench_psql "$DIR" "$PORT" postgres -At -c "SELECT count(*) FROM big")
echo
echo "rows: $ROWS (all still there: $remaining)"
echo "full DELETE (median of $ROUNDS): $full_med ms"
echo "over-budget DELETE refused (median of $ROUNDS): $refused_med ms"
echo "ratio: $ratio %"
