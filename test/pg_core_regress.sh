#!/bin/bash
#
# pg_core_regress.sh — PostgreSQL's own regression suite, with and without
# agent_guard preloaded, must give the same results.
#
#   bash test/pg_core_regress.sh
#
# Issue 5 ("zero side effects for everyone else"): a cluster that preloads
# agent_guard must behave exactly like one that does not for every session
# that is not an agent.  The strongest check at hand is PostgreSQL's own
# regression suite (src/test/regress, parallel_schedule), run as the
# untagged superuser "postgres":
#
#   1. fetch the sources of Debian's postgresql-15 package (apt-get source)
#      into a cache outside the repository ($PGSRC_CACHE, default
#      /var/cache/agent_guard/pgsrc), adding a deb-src entry that mirrors the
#      machine's bookworm deb entries if there is none;
#   2. build regress.so from src/test/regress/regress.c with PGXS against the
#      installed server headers (as debian/tests/installcheck does), next to
#      the installed autoinc.so and refint.so (contrib/spi, used by
#      "triggers"), and pass that directory to pg_regress with --dlpath;
#   3. run the installed pg_regress in installcheck mode against two scratch
#      clusters, run by the "postgres" OS user on private sockets:
#        plain   no shared_preload_libraries
#        guard   shared_preload_libraries = 'agent_guard' and
#                CREATE EXTENSION agent_guard in the audit database
#                "postgres", its audit worker running;
#   4. compare test by test.  "ok N - name" when the test has the same result
#      in both runs and, if it failed, the same output; then a few checks
#      that the guard really was active and recorded nothing for the suite.
#
# The installed agent_guard (make install) is the one tested.  Runs as root
# (it installs packages); the servers run as "postgres".  Takes about
# 1 to 1.5 minutes on 2 cores, most of it the two suite runs (20-40 s each).
#
# Environment:
#   PGSRC_CACHE  where the Debian source package is kept between runs
#   KEEP_WORK=1  keep the scratch directory (clusters, results, diffs)
#
# Output: one "ok N - name" / "not ok N - name" line per check and a last
# line "N passed, N failed"; exit status 0 only if every check passed.

set -euo pipefail

PGVER=15
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
PGBIN=/usr/lib/postgresql/$PGVER/bin
PG_CONFIG=$PGBIN/pg_config
PG_REGRESS=/usr/lib/postgresql/$PGVER/lib/pgxs/src/test/regress/pg_regress
SRCPKG=postgresql-$PGVER
PGSRC_CACHE=${PGSRC_CACHE:-/var/cache/agent_guard/pgsrc}
# Extra apt source we may write (and nothing else in /etc/apt).
DEBSRC_FILE=/etc/apt/sources.list.d/agent_guard-deb-src

WORK=
NTEST=0
NPASS=0
NFAIL=0
NTODO=0

# Tests whose output is known to differ with agent_guard loaded, and why.
# Such a test is reported "not ok ... # TODO <why>" (TAP: a known failure,
# counted neither passed nor failed) as long as the two outputs differ only
# in ERROR/DETAIL/HINT lines; any other difference is a plain "not ok".
# If it stops differing, it is reported "ok ... # TODO": remove it here.
# (None now: SECURITY LABEL without FOR used to reach agent_guard when it
# registered a label provider; it handles FOR agent_guard itself instead.)
declare -A KNOWN_DIFF=()

# ---------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------

log() { echo "# $*"; }
die() {
	echo "pg_core_regress.sh: $*" >&2
	exit 2
}

ok() {
	NTEST=$((NTEST + 1))
	NPASS=$((NPASS + 1))
	echo "ok $NTEST - $*"
}

not_ok() {
	NTEST=$((NTEST + 1))
	NFAIL=$((NFAIL + 1))
	echo "not ok $NTEST - $*"
}

# todo OK|NOTOK TEXT REASON: a known difference (see KNOWN_DIFF)
todo() {
	NTEST=$((NTEST + 1))
	NTODO=$((NTODO + 1))
	if [[ $1 == OK ]]; then
		echo "ok $NTEST - $2 # TODO $3"
	else
		echo "not ok $NTEST - $2 # TODO $3"
	fi
}

as_postgres() {
	(cd "$WORK" && runuser -u postgres -- "$@")
}

trap scratch_cleanup EXIT
trap 'exit 130' INT TERM


# Connection settings from the caller's environment (PGOPTIONS, PGUSER, ...)
# must not reach either run: every connection below names its socket.
while IFS= read -r v; do unset "$v"; done < <(compgen -e | grep '^PG' || true)

[[ $EUID -eq 0 ]] || die "must run as root (installs packages, runs servers as postgres)"
[[ -x "$PGBIN/postgres" ]] || die "PostgreSQL $PGVER server not installed ($PGBIN/postgres)"
[[ -f "$($PG_CONFIG --pkglibdir)/agent_guard.so" ]] ||
	die "agent_guard is not installed: run 'make install' first"

# ---------------------------------------------------------------------------
# Packages: dpkg-dev for apt-get source, the server headers for regress.so
# ---------------------------------------------------------------------------

ensure_packages dpkg-dev "postgresql-server-dev-$PGVER" make gcc

# ---------------------------------------------------------------------------
# Sources of the installed server's Debian package
# ---------------------------------------------------------------------------

# "15.20" from "postgres (PostgreSQL) 15.20 (Debian 15.20-0+deb12u1)"
SERVER_UPSTREAM=$("$PGBIN/postgres" --version | awk '{print $3}')
# "15.20-0+deb12u1": the source package version to ask for first
SERVER_DEBVER=$(dpkg-query -W -f='${Version}' "$SRCPKG")
log "installed server: $SERVER_UPSTREAM (Debian package $SRCPKG $SERVER_DEBVER)"

# Does any apt source already offer Debian bookworm sources?
have_debsrc() {
	local f
	shopt -s nullglob
	for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
		[[ -f "$f" ]] || continue
		grep -qE '^[[:space:]]*deb-src[[:space:]].*[[:space:]]bookworm' "$f" && return 0
	done
	for f in /etc/apt/sources.list.d/*.sources; do
		# deb822: a paragraph whose Types include deb-src and Suites bookworm*
		awk 'BEGIN { RS = ""; IGNORECASE = 1 }
			/(^|\n)Types:[^\n]*deb-src/ && /(^|\n)Suites:[^\n]*bookworm/ &&
			!/(^|\n)Enabled:[[:space:]]*no/ { found = 1 }
			END { exit !found }' "$f" && return 0
	done
	shopt -u nullglob
	return 1
}

# Write deb-src entries mirroring the enabled bookworm deb entries, in the
# format the machine uses: deb822 (*.sources, Debian 12's default) and/or
# one-line (sources.list, *.list).
add_debsrc() {
	local f oneline=() deb822=""
	shopt -s nullglob
	for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
		[[ -f "$f" ]] || continue
		while IFS= read -r line; do
			oneline+=("deb-src${line#deb}")
		done < <(grep -E '^[[:space:]]*deb[[:space:]].*[[:space:]]bookworm' "$f" |
			sed 's/^[[:space:]]*//')
	done
	for f in /etc/apt/sources.list.d/*.sources; do
		[[ "$f" == "$DEBSRC_FILE.sources" ]] && continue
		# Copy each enabled "Types: deb" bookworm paragraph with Types changed
		# to deb-src; comments and other Types dropped.
		deb822+=$(awk 'BEGIN { RS = ""; ORS = "\n\n" }
			{
				types = ""; suites = ""; enabled = 1; out = ""
				n = split($0, l, "\n")
				for (i = 1; i <= n; i++) {
					if (l[i] ~ /^#/) continue
					if (l[i] ~ /^Types:/) { types = l[i]; continue }
					if (l[i] ~ /^Suites:/) suites = l[i]
					if (l[i] ~ /^Enabled:[[:space:]]*no/) enabled = 0
					out = out l[i] "\n"
				}
				if (enabled && types ~ /[[:space:]]deb([[:space:]]|$)/ && suites ~ /bookworm/)
					printf "Types: deb-src\n%s\n", out
			}' "$f")
	done
	shopt -u nullglob
	if [[ -n "$deb822" ]]; then
		log "adding deb-src entries: $DEBSRC_FILE.sources"
		printf '# Added by agent_guard test/pg_core_regress.sh (apt-get source %s)\n%s\n' \
			"$SRCPKG" "$deb822" >"$DEBSRC_FILE.sources"
	fi
	if ((${#oneline[@]})); then
		log "adding deb-src entries: $DEBSRC_FILE.list"
		{
			echo "# Added by agent_guard test/pg_core_regress.sh (apt-get source $SRCPKG)"
			printf '%s\n' "${oneline[@]}"
		} >"$DEBSRC_FILE.list"
	fi
	[[ -n "$deb822" ]] || ((${#oneline[@]})) ||
		die "no Debian bookworm 'deb' entry in /etc/apt to mirror as deb-src"
}

# Source package versions of $SRCPKG that apt knows, newest first.
source_versions() {
	apt-cache showsrc "$SRCPKG" 2>/dev/null | sed -n 's/^Version: //p' |
		sort -u | sort_debian_versions
}

# Sort Debian versions, newest first (dpkg --compare-versions, insertion sort:
# the list has two or three entries).
sort_debian_versions() {
	local v sorted=() i inserted
	while IFS= read -r v; do
		inserted=0
		for i in "${!sorted[@]}"; do
			if dpkg --compare-versions "$v" gt "${sorted[$i]}"; then
				sorted=("${sorted[@]:0:$i}" "$v" "${sorted[@]:$i}")
				inserted=1
				break
			fi
		done
		((inserted)) || sorted+=("$v")
	done
	((${#sorted[@]})) && printf '%s\n' "${sorted[@]}"
	return 0
}

# fetch_source VERSION: download and unpack one source version into the
# cache, as $PGSRC_CACHE/VERSION/tree.  Returns non-zero if apt cannot get it.
fetch_source() {
	local ver=$1 dir=$PGSRC_CACHE/$1
	[[ -f "$dir/.complete" ]] && return 0
	rm -rf "$dir"
	mkdir -p "$dir"
	log "apt-get source $SRCPKG=$ver into $dir"
	# APT::Sandbox::User=root: the cache is root's, _apt could not write it.
	if ! (cd "$dir" && apt-get source -q --download-only \
		-o APT::Sandbox::User=root "$SRCPKG=$ver"); then
		rm -rf "$dir"
		return 1
	fi
	(cd "$dir" && dpkg-source -q -x ./*.dsc tree >/dev/null)
	touch "$dir/.complete"
}

SRCDIR=
if [[ -f "$PGSRC_CACHE/$SERVER_DEBVER/.complete" ]]; then
	SRCDIR=$PGSRC_CACHE/$SERVER_DEBVER/tree
	SRC_DEBVER=$SERVER_DEBVER
	log "using cached sources $SRCDIR"
else
	if ! have_debsrc; then
		add_debsrc
	fi
	apt-get update -q >/dev/null || log "apt-get update failed; using the package lists at hand"
	mapfile -t versions < <(source_versions)
	# Sources cached by an earlier run, newest first: the fallback when apt
	# cannot serve any (no network, say).
	mapfile -t cached < <(find "$PGSRC_CACHE" -mindepth 2 -maxdepth 2 -name .complete \
		-printf '%h\n' 2>/dev/null | xargs -r -n1 basename | sort_debian_versions)
	((${#versions[@]} + ${#cached[@]})) ||
		die "apt knows no source package $SRCPKG (deb-src entries?)"
	log "source versions of $SRCPKG known to apt: ${versions[*]}"
	# The installed server's own version first, then the newest 15.x that can
	# be had.  A Debian mirror may list a source it cannot serve (the security
	# archive's source pool, for one), or lag behind the binary packages.
	tried=" "
	for v in "$SERVER_DEBVER" "${versions[@]}" "${cached[@]}"; do
		[[ "$v" == "$PGVER".* && "$tried" != *" $v "* ]] || continue
		tried+="$v "
		if fetch_source "$v"; then
			SRCDIR=$PGSRC_CACHE/$v/tree
			SRC_DEBVER=$v
			break
		fi
		log "could not get $SRCPKG=$v"
	done
	[[ -n "$SRCDIR" ]] || die "could not get any $SRCPKG source package"
fi

SRC_UPSTREAM=${SRC_DEBVER%%-*}
if [[ "$SRC_DEBVER" != "$SERVER_DEBVER" ]]; then
	# Same major version, so regress.so builds and loads, and the comparison
	# stays valid (both runs use the same tests and the same server); only
	# tests whose expected output changed between the two minor releases fail,
	# and they fail alike in both runs.
	log "WARNING: testing server $SERVER_DEBVER with the regression suite of $SRC_DEBVER"
	log "WARNING: ($SERVER_DEBVER sources not available from apt); tests whose"
	log "WARNING: expected output changed between $SRC_UPSTREAM and $SERVER_UPSTREAM may fail in both runs"
fi

# ---------------------------------------------------------------------------
# Scratch directory: test inputs and regress.so, owned by postgres
# ---------------------------------------------------------------------------

WORK=$(mktemp -d /tmp/agent_guard_pgcore.XXXXXX)
REGDIR=$WORK/regress
LIBDIR=$WORK/lib
mkdir -p "$REGDIR" "$LIBDIR" "$WORK/build"
for f in sql expected data parallel_schedule resultmap; do
	cp -r "$SRCDIR/src/test/regress/$f" "$REGDIR/"
done

# regress.so, built the way debian/tests/installcheck builds it (PGXS with
# debian/tests/Makefile.regress); no LLVM bitcode.
cp "$SRCDIR/src/test/regress/regress.c" "$WORK/build/"
cat >"$WORK/build/Makefile" <<'EOF'
MODULE_big = regress
OBJS = regress.o
PGXS = $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)
EOF
log "building regress.so"
make -s -C "$WORK/build" PG_CONFIG="$PG_CONFIG" with_llvm=no >/dev/null
cp "$WORK/build/regress.so" "$LIBDIR/"
# "triggers" loads autoinc and refint (contrib/spi) from the same directory;
# the server package installs them.
for m in autoinc refint; do
	ln -s "$($PG_CONFIG --pkglibdir)/$m.so" "$LIBDIR/$m.so"
done
chown -R postgres: "$WORK"

# ---------------------------------------------------------------------------
# One run: scratch cluster, optional agent_guard, pg_regress installcheck
# ---------------------------------------------------------------------------

# psql_at NAME DB SQL: one query on cluster NAME, unaligned, tuples only.
psql_at() {
	as_postgres "$PGBIN/psql" -X -q -At -v ON_ERROR_STOP=1 \
		-h "$WORK/$1/sock" -p "$(cat "$WORK/$1/port")" -d "$2" -c "$3"
}

# run_suite NAME PRELOAD(0|1)
run_suite() {
	local name=$1 preload=$2 dir=$WORK/$1 port rc start
	port=$(free_port)
	mkdir -p "$dir/sock" "$dir/out"
	echo "$port" >"$dir/port"
	chown -R postgres: "$dir"
	as_postgres "$PGBIN/initdb" -D "$dir/data" --no-locale -E UTF8 -A trust \
		>"$dir/initdb.log" 2>&1 || {
		cat "$dir/initdb.log"
		die "initdb failed for $name"
	}
	# What pg_regress --temp-instance would add (prepared transactions are
	# tested), a private socket, no TCP; fsync off for speed only.
	cat >>"$dir/data/postgresql.conf" <<EOF

# pg_core_regress.sh
listen_addresses = ''
unix_socket_directories = '$dir/sock'
port = $port
fsync = off
log_autovacuum_min_duration = 0
log_checkpoints = on
log_line_prefix = '%m %b[%p] %q%a '
log_lock_waits = on
log_temp_files = 128kB
max_prepared_transactions = 2
EOF
	if ((preload)); then
		cat >>"$dir/data/postgresql.conf" <<EOF
shared_preload_libraries = 'agent_guard'
agent_guard.database = 'postgres'
EOF
	fi
	as_postgres "$PGBIN/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w start >/dev/null || {
		tail -n 40 "$dir/server.log"
		die "server $name did not start"
	}
	if ((preload)); then
		psql_at "$name" postgres "CREATE EXTENSION agent_guard" ||
			die "CREATE EXTENSION agent_guard failed (is the installed build complete?)"
	fi

	log "$name: pg_regress --schedule=parallel_schedule"
	start=$SECONDS
	set +e
	as_postgres "$PG_REGRESS" \
		--bindir="$PGBIN" \
		--dlpath="$LIBDIR" \
		--inputdir="$REGDIR" \
		--outputdir="$dir/out" \
		--schedule="$REGDIR/parallel_schedule" \
		--host="$dir/sock" \
		--port="$port" \
		>"$dir/pg_regress.log" 2>&1
	rc=$?
	set -e
	echo "$rc" >"$dir/rc"
	echo $((SECONDS - start)) >"$dir/seconds"
	# pg_regress's own summary, e.g. "All 212 tests passed." / "3 of 212 ..."
	log "$name: $(grep -E 'tests? (passed|failed)|failed' "$dir/pg_regress.log" |
		grep -E '^ *[0-9A-Za-z].*tests' | tail -n 1 | sed 's/^ *//') ($(cat "$dir/seconds")s, exit $rc)"
}

# Per-test status from a pg_regress log (PG 15 format):
#   "test name                     ... ok          12 ms"   (serial)
#   "     name                     ... FAILED      12 ms"   (parallel group)
# prints "name status" with status ok, FAILED or ignored.
statuses() {
	sed -nE 's/^(test | {5})([^ ]+) +\.\.\. (ok|FAILED|failed \(ignored\)).*/\2 \3/p' "$1" |
		sed 's/failed (ignored)/ignored/'
}

# ---------------------------------------------------------------------------
# The two runs
# ---------------------------------------------------------------------------

run_suite plain 0
run_suite guard 1

# Before the guard cluster stops: was agent_guard really there, and did the
# suite leave anything in its audit log?  Then a positive control: an agent
# role's DROP is refused and audited, so the guard was enforcing all along.
guard_active=$(psql_at guard postgres "SELECT (SELECT count(*) FROM pg_stat_activity
	WHERE backend_type = 'agent_guard audit writer') || ' ' ||
	(SELECT count(*) FROM pg_extension WHERE extname = 'agent_guard') || ' ' ||
	current_setting('shared_preload_libraries')" 2>&1) || true
audit_rows=$(psql_at guard postgres "SELECT count(*) FROM agent_guard.audit_log" 2>&1) || true
probe_out=$(psql_at guard regression "
	CREATE ROLE agent_guard_probe LOGIN;
	SECURITY LABEL FOR agent_guard ON ROLE agent_guard_probe IS 'agent';
	CREATE TABLE agent_guard_probe_t (i int);
	ALTER TABLE agent_guard_probe_t OWNER TO agent_guard_probe;" 2>&1 &&
	as_postgres "$PGBIN/psql" -X -q -At -h "$WORK/guard/sock" \
		-p "$(cat "$WORK/guard/port")" -d regression -U agent_guard_probe \
		-c "DROP TABLE agent_guard_probe_t" 2>&1) || true
probe_audit=$(psql_at guard postgres "SELECT count(*) FROM agent_guard.audit_log
	WHERE session_role = 'agent_guard_probe' AND verdict = 'deny'" 2>&1) || true

for name in plain guard; do
	as_postgres "$PGBIN/pg_ctl" -D "$WORK/$name/data" -m fast -w stop >/dev/null || true
done

# ---------------------------------------------------------------------------
# Compare
# ---------------------------------------------------------------------------

declare -A plain_st guard_st
while read -r t s; do plain_st[$t]=$s; done < <(statuses "$WORK/plain/pg_regress.log")
while read -r t s; do guard_st[$t]=$s; done < <(statuses "$WORK/guard/pg_regress.log")
# Tests in schedule order, each once
mapfile -t all_tests < <({ statuses "$WORK/plain/pg_regress.log"
	statuses "$WORK/guard/pg_regress.log"; } | awk '!seen[$1]++ { print $1 }')

echo
echo "=== PostgreSQL $SRC_UPSTREAM regression suite: without vs with agent_guard ==="
if ((${#all_tests[@]} == 0)); then
	not_ok "pg_regress reported no test (see pg_regress.log below)"
	tail -n 30 "$WORK/plain/pg_regress.log" "$WORK/guard/pg_regress.log"
fi
# Changed lines of a diff -u, other than error reports.
non_error_changes() {
	sed -n '/^@@/,$p' | grep -E '^[-+]' |
		grep -vE '^[-+](ERROR|DETAIL|HINT|CONTEXT|LINE [0-9]+):|^[-+] +\^$' || true
}

same_fail=()
for t in "${all_tests[@]}"; do
	p=${plain_st[$t]:-missing} g=${guard_st[$t]:-missing}
	pout=$WORK/plain/out/results/$t.out gout=$WORK/guard/out/results/$t.out
	if [[ -n "${KNOWN_DIFF[$t]:-}" ]]; then
		if cmp -s "$pout" "$gout"; then
			todo OK "$t (now the same with and without agent_guard)" "${KNOWN_DIFF[$t]}"
		elif [[ -f "$pout" && -f "$gout" && -z "$(diff -u "$pout" "$gout" | non_error_changes)" ]]; then
			todo NOTOK "$t (without agent_guard: $p, with: $g; only error messages differ)" \
				"${KNOWN_DIFF[$t]}"
			diff -u "$pout" "$gout" 2>&1 | head -n 60 | sed 's/^/#   /' || true
		else
			not_ok "$t (without agent_guard: $p, with: $g; more than the known difference)"
			diff -u "$pout" "$gout" 2>&1 | head -n 60 | sed 's/^/#   /' || true
		fi
	elif [[ "$p" != "$g" ]]; then
		not_ok "$t (without agent_guard: $p, with: $g)"
		diff -u "$pout" "$gout" 2>&1 | head -n 60 | sed 's/^/#   /' || true
	elif [[ "$p" == ok ]]; then
		ok "$t"
	elif cmp -s "$pout" "$gout"; then
		# Fails in both runs with identical output: the environment (or the
		# minor version of the suite), not agent_guard.
		ok "$t (fails alike in both runs)"
		same_fail+=("$t")
	else
		not_ok "$t (fails in both runs, but the outputs differ)"
		diff -u "$pout" "$gout" 2>&1 | head -n 60 | sed 's/^/#   /' || true
	fi
done

# The suite's own verdict (exit status: 0 all passed, 1 some failed).
if [[ "$(cat "$WORK/plain/rc")" == "$(cat "$WORK/guard/rc")" ]]; then
	ok "pg_regress exit status the same in both runs ($(cat "$WORK/plain/rc"))"
else
	not_ok "pg_regress exit status: without agent_guard $(cat "$WORK/plain/rc"), with $(cat "$WORK/guard/rc")"
fi

# regression.diffs, with the two output directories' names made equal,
# timestamps dropped, and the sections of known differences left out.
norm_diffs() {
	[[ -f "$WORK/$1/out/regression.diffs" ]] || return 0
	sed -e "s#$WORK/$1/#WORK/#g" -e 's/^\(---\|+++\) \([^\t]*\).*/\1 \2/' \
		"$WORK/$1/out/regression.diffs" |
		awk -v skip="${!KNOWN_DIFF[*]}" '
			BEGIN { n = split(skip, s, " "); for (i = 1; i <= n; i++) known[s[i]] = 1 }
			/^diff / { f = $NF; sub(/.*\//, "", f); sub(/\.out$/, "", f); drop = (f in known) }
			!drop'
}
if diff -u <(norm_diffs plain) <(norm_diffs guard) >"$WORK/diffs.diff"; then
	ok "regression.diffs identical, known differences left out ($(norm_diffs plain | wc -l) lines)"
else
	not_ok "regression.diffs differ"
	head -n 100 "$WORK/diffs.diff" | sed 's/^/#   /'
fi

read -r workers exts spl <<<"$guard_active"
if [[ "${workers:-}" == 1 && "${exts:-}" == 1 && "${spl:-}" == agent_guard ]]; then
	ok "agent_guard preloaded, extension created in postgres, audit worker running"
else
	not_ok "agent_guard not fully active in the guard run: $guard_active"
fi
if [[ "$audit_rows" == 0 ]]; then
	ok "the suite (untagged superuser) left no row in agent_guard.audit_log"
else
	not_ok "agent_guard.audit_log after the suite: $audit_rows"
fi
if [[ "$probe_out" == *"agent_guard: refused DROP TABLE"* && "$probe_audit" == 1 ]]; then
	ok "positive control: an agent role's DROP TABLE was refused and audited"
else
	not_ok "positive control failed: $probe_out / audit rows: $probe_audit"
fi

echo
log "source package: $SRCPKG $SRC_DEBVER; server: $SERVER_DEBVER"
log "pg_regress time: without agent_guard $(cat "$WORK/plain/seconds")s, with $(cat "$WORK/guard/seconds")s"
if ((${#same_fail[@]})); then
	log "failing alike in both runs (environment/minor version): ${same_fail[*]}"
	log "first lines of regression.diffs (without agent_guard):"
	head -n 40 "$WORK/plain/out/regression.diffs" | sed 's/^/#   /'
fi
echo
((NTODO == 0)) || log "$NTODO known difference(s) reported as TODO, counted neither passed nor failed"
echo "$NPASS passed, $NFAIL failed"
[[ $NFAIL == 0 ]]
