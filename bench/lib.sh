# bench/lib.sh — shared helpers for the benchmark scripts (sourced).
#
# bench_cluster_start DIR PORT [EXTRA_CONF]
#     initdb a scratch cluster in DIR as the postgres OS user, with
#     agent_guard preloaded unless EXTRA_CONF overrides
#     shared_preload_libraries, and start it on PORT with its socket in DIR.
# bench_cluster_stop DIR
# bench_psql DIR PORT [psql args...]   psql as root over the socket

PGBIN=${PGBIN:-/usr/lib/postgresql/15/bin}

bench_cluster_start() {
	local dir=$1 port=$2 extra=${3:-}
	rm -rf "$dir"
	mkdir -p "$dir"
	chown postgres: "$dir"
	runuser -u postgres -- "$PGBIN/initdb" -D "$dir/data" --auth=trust \
		-U postgres --no-locale >/dev/null
	cat >>"$dir/data/postgresql.conf" <<EOC
port = $port
unix_socket_directories = '$dir'
listen_addresses = ''
shared_preload_libraries = 'agent_guard'
shared_buffers = '256MB'
max_wal_size = '4GB'
checkpoint_timeout = '30min'
$extra
EOC
	runuser -u postgres -- "$PGBIN/pg_ctl" -D "$dir/data" -l "$dir/log" -w start >/dev/null
}

bench_cluster_stop() {
	runuser -u postgres -- "$PGBIN/pg_ctl" -D "$1/data" -m fast -w stop >/dev/null 2>&1 || true
}

bench_psql() {
	local dir=$1 port=$2
	shift 2
	"$PGBIN/psql" -X -q -h "$dir" -p "$port" -U postgres "$@"
}

# median of numbers on stdin
bench_median() {
	sort -g | awk '{a[NR]=$1} END {if (NR % 2) print a[(NR+1)/2]; else print (a[NR/2] + a[NR/2+1]) / 2}'
}
