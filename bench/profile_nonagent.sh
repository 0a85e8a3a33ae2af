#!/bin/bash
#
# profile_nonagent.sh — what agent_guard costs a session that is not an
# agent, measured by profiling rather than by throughput (which moves more
# with the machine's other work than with a 1% overhead).
#
#   bash bench/profile_nonagent.sh [SECONDS]      (default 8; needs perf)
#
# Starts a scratch cluster with agent_guard preloaded (synchronous_commit =
# off, so the profile shows CPU rather than fsync waits), runs pgbench
# tpcb-like with 2 non-agent clients, records one backend with perf, and
# prints the share of its samples spent in agent_guard.so.

set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh

SECONDS_TO_RECORD=${1:-8}
command -v perf >/dev/null || { echo "perf is not installed (apt-get install linux-perf)"; exit 1; }
DIR=$(mktemp -d /tmp/agent_guard_profile.XXXXXX)
PORT=54396
trap 'bench_cluster_stop "$DIR"; rm -rf "$DIR"' EXIT

bench_cluster_start "$DIR" "$PORT" "synchronous_commit = off"
"$PGBIN/pgbench" -h "$DIR" -p "$PORT" -U postgres -i -s 10 -q postgres >/dev/null 2>&1
"$PGBIN/pgbench" -h "$DIR" -p "$PORT" -U postgres -c 2 -j 2 -n \
	-T $((SECONDS_TO_RECORD + 6)) postgres >"$DIR/pgbench.out" 2>&1 &
sleep 3
backend=$(pgrep -f "postgres: postgres postgres" | head -n 1)
timeout "$SECONDS_TO_RECORD" perf record -p "$backend" -o "$DIR/perf.data" >/dev/null 2>&1 || true
wait
grep "tps =" "$DIR/pgbench.out"
share=$(perf report -i "$DIR/perf.data" --no-children --sort dso 2>/dev/null |
	awk '/agent_guard\.so/ { print $1 }')
echo "share of one non-agent backend's CPU samples in agent_guard.so: ${share:-0%}"
