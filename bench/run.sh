#!/bin/bash
#
# bench/run.sh — agent_guard's overhead, measured: pgbench throughput without
# the extension, with it (non-agent, agent, agent with audit_level = all)
# and with pgaudit; the latency of a denial; the fail-fast ratio; the CLI's
# throughput when a bench/lint*.sh exists.  Writes a table to bench/RESULTS.md.
#
#   bash bench/run.sh                         # full run, about 22 minutes
#   DURATION=5 ROUNDS=1 FF_ROWS=100000 FF_ROUNDS=1 SKIP_LINT=1 OUT=/tmp/r.md bash bench/run.sh
#                                             # quick run, about 2 minutes
#
# Full run on the 2-core machine: 60 pgbench runs of 15 s plus setup and
# warm-up (about 18 min), fail_fast.sh (seconds), bench/lint_bench.sh
# (about 4 min, most of it the squawk comparison).
#
# Run as root after "make install" (it builds nothing of agent_guard; it
# compiles bench/denial_latency.c with gcc and libpq).  PostgreSQL runs as
# the postgres OS user on scratch clusters under /tmp, removed at the end.
#
# Knobs (environment):
#   DURATION   seconds per pgbench run                    (default 15)
#   ROUNDS     interleaved rounds                         (default 5)
#   WARMUP     seconds of warm-up per cluster and workload (default 5)
#   SCALE      pgbench scale                              (default 10)
#   CLIENTS    pgbench clients (and -j threads)           (default 2)
#   DENIALS    timed denials for the latency figure       (default 1000)
#   FF_ROWS, FF_ROUNDS   arguments of bench/fail_fast.sh  (default 1000000 5)
#   SKIP_FAIL_FAST=1, SKIP_LINT=1   leave those out
#   OUT        results file                               (default bench/RESULTS.md)
#
# Method.  One scratch cluster per configuration, identical (bench/lib.sh)
# except shared_preload_libraries and the settings named below, run side by
# side (only one is ever loaded by pgbench at a time; an idle cluster costs
# nothing measurable).  A cluster of its own per configuration means every
# configuration's tables see only its own updates (bloat alike), and (d)'s
# audit rows (millions over a run) load only (d)'s checkpoints and WAL.
# Separate clusters rather than restarts between configurations, so that
# configurations can be interleaved run by run without a restart (and a cold
# cache) before each one.  In every cluster pgbench runs in database "bench"
# (scale SCALE) as the non-superuser role bench_user, with privileges on the
# pgbench tables:
#   (a) shared_preload_libraries = ''
#   (b) 'agent_guard'; bench_user is not an agent
#   (c) 'agent_guard'; bench_user tagged 'agent', default audit level, row
#       budgets off (0) so tpcb-like's UPDATEs never hit the window budget
#   (d) as (c), with ALTER ROLE bench_user SET agent_guard.audit_level = all
#   (e) 'pgaudit'; ALTER ROLE bench_user SET pgaudit.log = 'write, ddl'
#   (f) 'pgaudit'; pgaudit.log = 'all': not asked for by the targets, but the
#       like-for-like comparison for (d), since both record every statement
# Each round runs every configuration once per workload (select-only, then
# tpcb-like), the order of configurations rotated by one each round, so
# drift and noise fall on all of them alike.  Before every run, as the
# superuser: VACUUM pgbench_branches, pgbench_tellers; TRUNCATE
# pgbench_history; CHECKPOINT (what pgbench itself does before a run, plus a
# checkpoint); sync (so the page cache holds no other cluster's dirty
# pages), then pgbench -n -c CLIENTS -j CLIENTS -T DURATION (simple
# query protocol).  Reported: median tps per configuration, and each
# configuration's ratio to (a) as the median of the per-round ratios.
#
# Denial latency: bench/denial_latency.c, one libpq connection as the agent
# on (c)'s cluster, timing PQexec with CLOCK_MONOTONIC around each call
# (client round trip included, so it is what the agent waits).  Round robin,
# DENIALS times each: "DROP TABLE victim" (refused by the utility hook),
# "DELETE FROM victim" (refused by the executor hook) and "SELECT 1" as a
# baseline round trip of the same session; 50 untimed rounds first.

set -euo pipefail
cd "$(dirname "$0")/.."
REPO=$(pwd)
. bench/lib.sh

DURATION=${DURATION:-15}
ROUNDS=${ROUNDS:-5}
WARMUP=${WARMUP:-5}
SCALE=${SCALE:-10}
CLIENTS=${CLIENTS:-2}
DENIALS=${DENIALS:-1000}
FF_ROWS=${FF_ROWS:-1000000}
FF_ROUNDS=${FF_ROUNDS:-5}
OUT=${OUT:-$REPO/bench/RESULTS.md}
COMMAND="${BENCH_COMMAND:-bash bench/run.sh}"
knobs="DURATION=$DURATION ROUNDS=$ROUNDS WARMUP=$WARMUP SCALE=$SCALE CLIENTS=$CLIENTS DENIALS=$DENIALS FF_ROWS=$FF_ROWS FF_ROUNDS=$FF_ROUNDS"

if [[ $EUID -ne 0 ]]; then
	echo "bench/run.sh must run as root" >&2
	exit 1
fi
for lib in agent_guard pgaudit; do
	if [[ ! -f "$("$PGBIN/pg_config" --pkglibdir)/$lib.so" ]]; then
		echo "$lib.so is not installed (make install; apt-get install postgresql-15-pgaudit)" >&2
		exit 1
	fi
done

TOP=$(mktemp -d /tmp/agent_guard_benchrun.XXXXXX)
chmod 755 "$TOP"
CONFIGS=(a b c d e f)
CLUSTERS=("${CONFIGS[@]}")
declare -A PORT=([a]=54381 [b]=54382 [c]=54383 [d]=54384 [e]=54385 [f]=54386)
declare -A PRELOAD=([a]="" [b]="agent_guard" [c]="agent_guard" [d]="agent_guard" [e]="pgaudit" [f]="pgaudit")
cleanup() {
	for c in "${CLUSTERS[@]}"; do bench_cluster_stop "$TOP/$c"; done
	rm -rf "$TOP"
}
trap cleanup EXIT

log() { echo "[$(date +%H:%M:%S)] $*" >&2; }
started=$(date +%s)
load_start=$(cut -d' ' -f1-3 /proc/loadavg)
commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
dirty=$(git status --porcelain --untracked-files=no 2>/dev/null | grep -q . && echo " (work tree had uncommitted changes)" || true)
so=$("$PGBIN/pg_config" --pkglibdir)/agent_guard.so
so_info="installed agent_guard.so built $(date -u -r "$so" '+%Y-%m-%d %H:%M UTC'), md5 $(md5sum "$so" | cut -c1-12)"

# ---------------------------------------------------------------------------
# Clusters
# ---------------------------------------------------------------------------

for c in "${CLUSTERS[@]}"; do
	log "starting cluster $c (shared_preload_libraries = '${PRELOAD[$c]}')"
	bench_cluster_start "$TOP/$c" "${PORT[$c]}" "shared_preload_libraries = '${PRELOAD[$c]}'
max_connections = 20"
	bench_psql "$TOP/$c" "${PORT[$c]}" -v ON_ERROR_STOP=1 postgres \
		-c "CREATE DATABASE bench" -c "CREATE ROLE bench_user LOGIN" >/dev/null
	log "pgbench -i -s $SCALE on $c"
	"$PGBIN/pgbench" -i -q -s "$SCALE" -h "$TOP/$c" -p "${PORT[$c]}" -U postgres bench \
		>"$TOP/$c.init.log" 2>&1
	bench_psql "$TOP/$c" "${PORT[$c]}" -v ON_ERROR_STOP=1 bench \
		-c "GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO bench_user" >/dev/null
done

# What makes each configuration: SQL run as the superuser in "bench".
# Agents have row budgets off (0) so tpcb-like's UPDATEs never hit them.
AGENT_SQL="CREATE EXTENSION agent_guard;
SECURITY LABEL FOR agent_guard ON ROLE bench_user IS 'agent';
ALTER ROLE bench_user SET agent_guard.max_rows = 0;
ALTER ROLE bench_user SET agent_guard.max_rows_per_transaction = 0;
ALTER ROLE bench_user SET agent_guard.window_max_rows = 0;"
declare -A SETUP=(
	[a]=""
	[b]="CREATE EXTENSION agent_guard;"
	[c]="$AGENT_SQL
CREATE TABLE victim (id int PRIMARY KEY, v text);
INSERT INTO victim SELECT g, 'v' || g FROM generate_series(1, 1000) g;
ANALYZE victim;
ALTER TABLE victim OWNER TO bench_user;"
	[d]="$AGENT_SQL
ALTER ROLE bench_user SET agent_guard.audit_level = 'all';"
	[e]="CREATE EXTENSION pgaudit;
ALTER ROLE bench_user SET pgaudit.log = 'write, ddl';"
	[f]="CREATE EXTENSION pgaudit;
ALTER ROLE bench_user SET pgaudit.log = 'all';")
for c in "${CLUSTERS[@]}"; do
	# agent_guard.database is "postgres": the audit log lives there
	[[ ${PRELOAD[$c]} == agent_guard ]] &&
		bench_psql "$TOP/$c" "${PORT[$c]}" -v ON_ERROR_STOP=1 postgres \
			-c "CREATE EXTENSION agent_guard" >/dev/null
	[[ -n ${SETUP[$c]} ]] &&
		bench_psql "$TOP/$c" "${PORT[$c]}" -v ON_ERROR_STOP=1 bench -c "${SETUP[$c]}" >/dev/null
done

# ---------------------------------------------------------------------------
# pgbench rounds
# ---------------------------------------------------------------------------

declare -A DESC=(
	[a]="(a) no agent_guard in shared_preload_libraries"
	[b]="(b) agent_guard loaded, non-agent role"
	[c]="(c) agent role, audit_level = decisions (default)"
	[d]="(d) agent role, audit_level = all"
	[e]="(e) pgaudit, pgaudit.log = 'write, ddl', no agent_guard"
	[f]="(f) pgaudit, pgaudit.log = 'all' (every statement, as (d)), no agent_guard")
WORKLOADS=(select-only tpcb-like)
declare -A WFLAG=([select-only]="-S" [tpcb-like]="")
declare -A WSTMTS=([select-only]=1 [tpcb-like]=5)

# CPU time (clock ticks) the cluster's processes used so far: the
# postmaster's own and its reaped children's (utime, stime, cutime, cstime
# of /proc/PID/stat), plus utime + stime of its live children.  Unlike
# throughput, this hardly moves when other work competes for the cores.
cluster_cpu_ticks() {
	local pm
	pm=$(head -n 1 "$1/data/postmaster.pid")
	{ cat /proc/[0-9]*/stat 2>/dev/null || true; } | awk -v pm="$pm" '
		{
			pid = $1
			sub(/^.*\) /, "")           # fields after "pid (comm) "
			split($0, f, " ")           # f[2] = ppid, f[12..15] = utime stime cutime cstime
			if (pid == pm) t += f[12] + f[13] + f[14] + f[15]
			else if (f[2] == pm) t += f[12] + f[13]
		}
		END { print t }'
}
TICK_US=$((1000000 / $(getconf CLK_TCK)))

# run_pgbench CONFIG WORKLOAD SECONDS -> prints "tps server-CPU-us-per-transaction"
run_pgbench() {
	local cfg=$1 wl=$2 secs=$3 c=$1 out cpu0 cpu1 tx
	bench_psql "$TOP/$c" "${PORT[$c]}" bench \
		-c "VACUUM pgbench_branches, pgbench_tellers" \
		-c "TRUNCATE pgbench_history" -c "CHECKPOINT" >/dev/null
	# and write back what any cluster left dirty in the page cache, so that
	# one configuration's writes do not slow the next one's fsyncs
	sync
	cpu0=$(cluster_cpu_ticks "$TOP/$c")
	# shellcheck disable=SC2086 # WFLAG is one flag or none
	out=$("$PGBIN/pgbench" -n ${WFLAG[$wl]} -c "$CLIENTS" -j "$CLIENTS" -T "$secs" \
		-h "$TOP/$c" -p "${PORT[$c]}" -U bench_user bench 2>&1) || {
		echo "pgbench failed for $cfg $wl:" >&2
		echo "$out" >&2
		return 1
	}
	if grep -q "aborted" <<<"$out"; then
		echo "pgbench clients aborted for $cfg $wl:" >&2
		echo "$out" >&2
		return 1
	fi
	# let the backends exit and be reaped, and (d)'s audit worker catch up
	for _ in $(seq 1 50); do
		bench_psql "$TOP/$c" "${PORT[$c]}" postgres -At -c \
			"SELECT count(*) FROM pg_stat_activity WHERE datname = 'bench' AND pid <> pg_backend_pid()" |
			grep -qx 0 && break
		sleep 0.1
	done
	sleep 0.5
	cpu1=$(cluster_cpu_ticks "$TOP/$c")
	tx=$(sed -n 's/^number of transactions actually processed: \([0-9]*\).*/\1/p' <<<"$out")
	# statements (d) ran, for the audit count: BEGIN and END are not recorded
	[[ $cfg == d ]] && echo $((tx * ${WSTMTS[$wl]})) >>"$TOP/d_statements"
	echo "$(sed -n 's/^tps = \([0-9.]*\) (without initial connection time)/\1/p' <<<"$out")" \
		"$(awk -v d=$((cpu1 - cpu0)) -v u="$TICK_US" -v n="$tx" 'BEGIN {printf "%.2f", d * u / n}')"
}

if ((WARMUP > 0)); then
	for wl in "${WORKLOADS[@]}"; do
		for cfg in "${CONFIGS[@]}"; do
			log "warm-up ${WARMUP}s: $wl on ($cfg)"
			run_pgbench "$cfg" "$wl" "$WARMUP" >/dev/null
		done
	done
fi

mkdir -p "$TOP/tps"
for round in $(seq 1 "$ROUNDS"); do
	for wl in "${WORKLOADS[@]}"; do
		order=()
		for i in "${!CONFIGS[@]}"; do
			order+=("${CONFIGS[$(((i + round - 1) % ${#CONFIGS[@]}))]}")
		done
		for cfg in "${order[@]}"; do
			read -r tps cpu < <(run_pgbench "$cfg" "$wl" "$DURATION")
			echo "$round $tps" >>"$TOP/tps/$wl.$cfg"
			echo "$round $cpu" >>"$TOP/tps/cpu.$wl.$cfg"
			log "round $round/$ROUNDS $wl $cfg: $tps tps, server CPU $cpu us/transaction"
		done
	done
done

# per-config medians and median of per-round ratios to (a)
declare -A MED RATIO SPREAD CPU CRATIO
for wl in "${WORKLOADS[@]}"; do
	for cfg in "${CONFIGS[@]}"; do
		MED[$wl.$cfg]=$(cut -d' ' -f2 "$TOP/tps/$wl.$cfg" | bench_median)
		SPREAD[$wl.$cfg]=$(cut -d' ' -f2 "$TOP/tps/$wl.$cfg" | sort -g |
			awk 'NR==1 {lo=$1} {hi=$1} END {printf "%.0f–%.0f", lo, hi}')
		RATIO[$wl.$cfg]=$(join "$TOP/tps/$wl.$cfg" "$TOP/tps/$wl.a" |
			awk '{printf "%.6f\n", $2 / $3}' | bench_median)
	done
	for cfg in "${CONFIGS[@]}"; do
		CPU[$wl.$cfg]=$(cut -d' ' -f2 "$TOP/tps/cpu.$wl.$cfg" | bench_median)
		# cost ratio as a throughput ratio: CPU(a) / CPU(cfg), paired per round
		CRATIO[$wl.$cfg]=$(join "$TOP/tps/cpu.$wl.a" "$TOP/tps/cpu.$wl.$cfg" |
			awk '{printf "%.6f\n", $2 / $3}' | bench_median)
	done
	# (d)/(e) and (d)/(f), paired the same way
	for x in e f; do
		CRATIO[$wl.d$x]=$(join "$TOP/tps/cpu.$wl.$x" "$TOP/tps/cpu.$wl.d" |
			awk '{printf "%.6f\n", $2 / $3}' | bench_median)
		RATIO[$wl.d$x]=$(join "$TOP/tps/$wl.d" "$TOP/tps/$wl.$x" |
			awk '{printf "%.6f\n", $2 / $3}' | bench_median)
	done
done

# ---------------------------------------------------------------------------
# Denial latency
# ---------------------------------------------------------------------------

log "denial latency: $DENIALS x (DROP TABLE, DELETE without WHERE, SELECT 1) as the agent of (c)"
gcc -O2 -Wall -o "$TOP/denial_latency" bench/denial_latency.c \
	-I"$("$PGBIN/pg_config" --includedir)" -lpq
audit_before=$(bench_psql "$TOP/c" "${PORT[c]}" postgres -At \
	-c "SELECT count(*) FROM agent_guard.audit_log WHERE verdict = 'deny'")
"$TOP/denial_latency" "host=$TOP/c port=${PORT[c]} user=bench_user dbname=bench" \
	"$DENIALS" 50 "DROP TABLE victim" "DELETE FROM victim" "SELECT 1" >"$TOP/latency"
audit_after=$(bench_psql "$TOP/c" "${PORT[c]}" postgres -At \
	-c "SELECT count(*) FROM agent_guard.audit_log WHERE verdict = 'deny'")
victim_rows=$(bench_psql "$TOP/c" "${PORT[c]}" bench -At -c "SELECT count(*) FROM victim")
# every timed (and warm-up) denial must have been a 42501 with its audit row
bad=$(awk '$1 < 2 && $3 != "42501"' "$TOP/latency" | wc -l)
if ((bad > 0 || victim_rows != 1000)); then
	echo "denial latency run: $bad statements were not refused with 42501, victim has $victim_rows rows" >&2
	exit 1
fi
pctl() { # pctl STMT_INDEX PERCENTILE -> ms
	awk -v s="$1" '$1 == s {print $2}' "$TOP/latency" | sort -g |
		awk -v p="$2" '{a[NR]=$1} END {i=int((NR*p/100)+0.999999); if (i<1) i=1; printf "%.3f", a[i]/1000}'
}
declare -A LAT
for s in 0 1 2; do
	LAT[$s.50]=$(pctl $s 50)
	LAT[$s.99]=$(pctl $s 99)
	LAT[$s.max]=$(pctl $s 100)
done
audit_rows=$((audit_after - audit_before))

# pgaudit's log volume, for the record
pgaudit_lines_e=$(grep -c 'AUDIT:' "$TOP/e/log" || true)
pgaudit_lines_f=$(grep -c 'AUDIT:' "$TOP/f/log" || true)
# (d)'s rows, once the audit worker has written all of them
audit_all_rows=-1
while :; do
	n=$(bench_psql "$TOP/d" "${PORT[d]}" postgres -At \
		-c "SELECT count(*) FROM agent_guard.audit_log WHERE verdict = 'allow'")
	((n == audit_all_rows)) && break
	audit_all_rows=$n
	sleep 1
done
d_statements=$(awk '{ s += $1 } END { print s + 0 }' "$TOP/d_statements")

for c in "${CLUSTERS[@]}"; do bench_cluster_stop "$TOP/$c"; done

# ---------------------------------------------------------------------------
# Fail-fast ratio and CLI throughput (other scripts)
# ---------------------------------------------------------------------------

FF_LINE="not run (SKIP_FAIL_FAST=1)"
FF_RATIO="–"
if [[ "${SKIP_FAIL_FAST:-0}" != 1 ]]; then
	log "bash bench/fail_fast.sh $FF_ROWS $FF_ROUNDS"
	bash bench/fail_fast.sh "$FF_ROWS" "$FF_ROUNDS" >"$TOP/fail_fast.log" 2>&1
	ff_full=$(sed -n 's/^full DELETE (median of [0-9]*): \(.*\) ms$/\1/p' "$TOP/fail_fast.log")
	ff_ref=$(sed -n 's/^over-budget DELETE refused (median of [0-9]*): \(.*\) ms$/\1/p' "$TOP/fail_fast.log")
	FF_RATIO=$(sed -n 's/^ratio: \(.*\) %$/\1/p' "$TOP/fail_fast.log")
	FF_LINE="full DELETE of $FF_ROWS rows $ff_full ms; refused at row 1001 (budget 1000) $ff_ref ms"
fi

# The CLI's own benchmark (another script, bench/lint*.sh): its last line.
LINT_LINE=
LINT_SCRIPT=$(ls bench/lint*.sh 2>/dev/null | head -n 1 || true)
if [[ "${SKIP_LINT:-0}" != 1 && -n $LINT_SCRIPT ]]; then
	log "bash $LINT_SCRIPT"
	if bash "$LINT_SCRIPT" >"$TOP/lint.log" 2>&1; then
		LINT_LINE="\`bash $LINT_SCRIPT\`: $(grep -E 'statements/s' "$TOP/lint.log" | sed 's/  */ /g' | paste -sd ';' -)"
	else
		LINT_LINE="\`bash $LINT_SCRIPT\` failed: $(tail -n 1 "$TOP/lint.log")"
	fi
fi

elapsed=$(($(date +%s) - started))
load_end=$(cut -d' ' -f1-3 /proc/loadavg)

# ---------------------------------------------------------------------------
# Results
# ---------------------------------------------------------------------------

pgver=$("$PGBIN/postgres" --version)
cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')
mem=$(awk '/MemTotal/ {printf "%.1f GiB", $2 / 1048576}' /proc/meminfo)
pct() { awk -v r="$1" 'BEGIN {printf "%.3f", r}'; }
met() { awk -v r="$1" -v t="$2" 'BEGIN {print (r >= t) ? "met" : "**missed**"}'; }

{
	echo "# Benchmark results"
	echo
	echo "Produced by \`bench/run.sh\` (see its header for the method); do not edit by hand."
	echo
	echo "- Command: \`$COMMAND\` ($knobs)"
	echo "- Date: $(date -u '+%Y-%m-%d %H:%M UTC'); agent_guard commit $commit$dirty at the start, $so_info; total run time $((elapsed / 60)) min $((elapsed % 60)) s"
	echo "- Machine: $(nproc) cores ($cpu), $mem memory, $(uname -sr); $pgver"
	echo "- Load average (1, 5, 15 min) at start: $load_start; at end: $load_end (anything above 0 before the start is other work on the machine)"
	echo "- pgbench: scale $SCALE, $CLIENTS clients, $CLIENTS threads, ${DURATION} s per run, simple query protocol, $ROUNDS interleaved rounds (order rotated each round); clusters with shared_buffers 256MB, default fsync/synchronous_commit"
	echo
	echo "## Throughput (tps; ratio to (a) = median of per-round ratios)"
	echo
	echo "| configuration | select-only tps (median; min–max) | ratio to (a) | tpcb-like tps (median; min–max) | ratio to (a) |"
	echo "|---|---|---|---|---|"
	for cfg in "${CONFIGS[@]}"; do
		printf '| %s | %.0f (%s) | %s | %.0f (%s) | %s |\n' "${DESC[$cfg]}" \
			"${MED[select-only.$cfg]}" "${SPREAD[select-only.$cfg]}" "$(pct "${RATIO[select-only.$cfg]}")" \
			"${MED[tpcb-like.$cfg]}" "${SPREAD[tpcb-like.$cfg]}" "$(pct "${RATIO[tpcb-like.$cfg]}")"
	done
	echo
	echo "## Server CPU per transaction (µs; all of the cluster's processes, audit worker included)"
	echo
	echo "Less sensitive to other work on the machine than tps. \"as a tps ratio\" = CPU(a) / CPU(configuration), median of per-round ratios: the throughput ratio a CPU-bound server would see."
	echo
	echo "| configuration | select-only µs/tx | as a tps ratio to (a) | tpcb-like µs/tx | as a tps ratio to (a) |"
	echo "|---|---|---|---|---|"
	for cfg in "${CONFIGS[@]}"; do
		printf '| %s | %.1f | %s | %.1f | %s |\n' "${DESC[$cfg]}" \
			"${CPU[select-only.$cfg]}" "$(pct "${CRATIO[select-only.$cfg]}")" \
			"${CPU[tpcb-like.$cfg]}" "$(pct "${CRATIO[tpcb-like.$cfg]}")"
	done
	echo
	echo "## Targets"
	echo
	echo "| target | select-only: tps ratio | CPU ratio | tpcb-like: tps ratio | CPU ratio |"
	echo "|---|---|---|---|---|"
	target_row() { # label key threshold
		echo "| $1 | $(pct "${RATIO[select-only.$2]}") $(met "${RATIO[select-only.$2]}" "$3") | $(pct "${CRATIO[select-only.$2]}") $(met "${CRATIO[select-only.$2]}" "$3") | $(pct "${RATIO[tpcb-like.$2]}") $(met "${RATIO[tpcb-like.$2]}" "$3") | $(pct "${CRATIO[tpcb-like.$2]}") $(met "${CRATIO[tpcb-like.$2]}" "$3") |"
	}
	target_row "(b)/(a) >= 0.99" b 0.99
	target_row "(c)/(a) >= 0.97" c 0.97
	target_row "(d) ahead of (e): (d)/(e) > 1" de 1.0000001
	target_row "not a target, like for like: (d)/(f)" df 1.0000001
	echo
	echo "## Latency, denials and other figures"
	echo
	echo "| measurement | result |"
	echo "|---|---|"
	echo "| denial by the utility hook (\`DROP TABLE victim\` as an agent), incl. durable audit write, client-side, $DENIALS runs | median ${LAT[0.50]} ms, p99 ${LAT[0.99]} ms, max ${LAT[0.max]} ms |"
	echo "| denial by the executor hook (\`DELETE FROM victim\`, 1,000 rows), same | median ${LAT[1.50]} ms, p99 ${LAT[1.99]} ms, max ${LAT[1.max]} ms |"
	echo "| baseline round trip (\`SELECT 1\`, same agent session), $DENIALS runs | median ${LAT[2.50]} ms, p99 ${LAT[2.99]} ms, max ${LAT[2.max]} ms |"
	echo "| deny rows written by those denials (incl. 50 warm-up rounds) | $audit_rows of $((2 * (DENIALS + 50))) |"
	echo "| fail-fast ratio (\`bash bench/fail_fast.sh $FF_ROWS $FF_ROUNDS\`): refused over-budget DELETE / full DELETE | $FF_RATIO % ($FF_LINE) |"
	if [[ -n $LINT_LINE ]]; then
		echo "| agent_guard_lint throughput | $LINT_LINE |"
	else
		echo "| agent_guard_lint throughput | not measured (no bench/lint*.sh when this ran) |"
	fi
	echo "| audit volume during the pgbench rounds | (d): $audit_all_rows \`allow\` rows in agent_guard.audit_log for $d_statements statements pgbench counted (it leaves out those of transactions still open when -T ends); (e): $pgaudit_lines_e and (f): $pgaudit_lines_f \`AUDIT:\` lines in the server log |"
} >"$OUT"

cat "$OUT"
log "done in $((elapsed / 60)) min $((elapsed % 60)) s; results in $OUT"
