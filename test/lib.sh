# test/lib.sh — helpers shared by test/run_tests.sh, test/demo.sh and
# test/pg_core_regress.sh (sourced, not run).

# ensure_packages PKG...: install the Debian packages that are missing,
# running "apt-get update" only when something is.  Prints what it installs.
ensure_packages() {
	local pkg missing=()
	for pkg in "$@"; do
		if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed'; then
			missing+=("$pkg")
		fi
	done
	((${#missing[@]})) || return 0
	echo "installing: ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -q
	apt-get install -y -q --no-install-recommends "${missing[@]}"
}

# free_port: a TCP port nothing listens on.  Scratch servers listen only on
# a private Unix socket directory, but the port is part of the socket's
# name and lock file, so keep it distinct anyway.
free_port() {
	local p _
	for _ in $(seq 1 100); do
		p=$((50000 + RANDOM % 9000))
		if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
			echo "$p"
			return 0
		fi
	done
	echo 55432
}

# Stop any cluster still running from the scratch directory $WORK, then
# remove it (unless KEEP_WORK=1).  Servers a run started and stopped itself
# are gone already; this catches what an interrupted or crashed run left
# behind.
scratch_cleanup() {
	[[ -n "$WORK" && -d "$WORK" ]] || return 0
	local pidfile datadir pid
	while IFS= read -r pidfile; do
		datadir=$(dirname "$pidfile")
		pid=$(head -n 1 "$pidfile" 2>/dev/null || true)
		echo "cleanup: stopping leftover server in $datadir" >&2
		if ! runuser -u postgres -- "$PGBIN/pg_ctl" -D "$datadir" -m immediate \
			-w stop >/dev/null 2>&1; then
			if [[ "$pid" =~ ^[0-9]+$ ]]; then
				kill -9 "$pid" 2>/dev/null || true
			fi
		fi
	done < <(find "$WORK" -name postmaster.pid 2>/dev/null)
	if [[ "${KEEP_WORK:-0}" == 1 ]]; then
		echo "scratch directory kept: $WORK" >&2
	else
		rm -rf "$WORK"
	fi
	WORK=
}
