#!/bin/bash
#
# bench/lint_bench.sh — agent_guard_lint throughput, side by side with squawk.
#
#   bash bench/lint_bench.sh [STATEMENTS]      (default 100000)
#
# Generates a SQL file of STATEMENTS varied statements (bench/lint_gen.pl),
# then times, on the same file, best of 3 runs each:
#   agent_guard_lint                  text output to /dev/null
#   agent_guard_lint --format=json    JSON output to /dev/null
#   agent_guard_lint --fingerprint    fingerprints only
#   squawk                            npm package squawk-cli, installed into
#                                     a scratch directory if npm is present
# and prints statements per second and the ratio.  Timings are printed,
# never asserted: this is not a test.

set -euo pipefail

N=${1:-100000}
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
AGL=$REPO/cli/agent_guard_lint
WORK=$(mktemp -d /tmp/agent_guard_lint_bench.XXXXXX)
trap 'rm -rf "$WORK"' EXIT

[[ -x "$AGL" ]] || make -s -C "$REPO" cli/agent_guard_lint
perl "$REPO/bench/lint_gen.pl" "$N" >"$WORK/bench.sql"
echo "input: $N statements, $(wc -c <"$WORK/bench.sql") bytes, $(wc -l <"$WORK/bench.sql") lines"

# best of 3 wall-clock seconds of a command (stdout discarded)
best_of_3() {
	local best= t s e
	for _ in 1 2 3; do
		s=$(date +%s.%N)
		"$@" >/dev/null 2>&1 || true
		e=$(date +%s.%N)
		t=$(echo "$e - $s" | bc -l)
		if [[ -z "$best" ]] || (($(echo "$t < $best" | bc -l))); then best=$t; fi
	done
	echo "$best"
}

report() {
	local name=$1 secs=$2
	printf "%-34s %8.3f s  %10.0f statements/s\n" "$name" "$secs" "$(echo "$N / $secs" | bc -l)"
}

t_text=$(best_of_3 "$AGL" "$WORK/bench.sql")
report "agent_guard_lint" "$t_text"
t_json=$(best_of_3 "$AGL" --format=json "$WORK/bench.sql")
report "agent_guard_lint --format=json" "$t_json"
t_fp=$(best_of_3 "$AGL" --fingerprint "$WORK/bench.sql")
report "agent_guard_lint --fingerprint" "$t_fp"

SQUAWK=${SQUAWK:-}
if [[ -z "$SQUAWK" ]] && command -v npm >/dev/null 2>&1; then
	if (cd "$WORK" && npm install --silent --no-audit --no-fund squawk-cli >/dev/null 2>&1); then
		SQUAWK=$WORK/node_modules/.bin/squawk
	fi
fi
if [[ -n "$SQUAWK" && -x "$SQUAWK" ]]; then
	echo "squawk: $("$SQUAWK" --version 2>/dev/null)"
	t_sq=$(best_of_3 "$SQUAWK" "$WORK/bench.sql")
	report "squawk" "$t_sq"
	printf "ratio agent_guard_lint / squawk (statements/s): %.2f\n" "$(echo "$t_sq / $t_text" | bc -l)"
else
	echo "squawk: not available (npm install squawk-cli failed or npm missing)"
fi
