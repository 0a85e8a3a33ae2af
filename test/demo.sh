#!/bin/bash
#
# demo.sh — run the product: an AI agent tries to wipe a table and is stopped.
#
#   bash test/demo.sh
#
# Runs as root on Debian 12 with PostgreSQL 15.  Installs missing packages,
# builds and installs agent_guard, starts a scratch cluster in
# /tmp/agent_guard_demo (port 54329, socket in that directory), sets up an
# application owned by the agent role "ai_agent", replays an agent's
# destructive statements, and shows that the data survived and that every
# refusal is in agent_guard.audit_log.  The cluster is left running.

set -euo pipefail

PGVER=15
PGBIN=/usr/lib/postgresql/$PGVER/bin
PG_CONFIG=$PGBIN/pg_config
DEMO=/tmp/agent_guard_demo
DATA=$DEMO/data
PORT=54329

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$REPO"
. test/lib.sh

heading() {
	echo
	echo "==> $*"
}

if [[ $EUID -ne 0 ]]; then
	echo "demo.sh must run as root (it installs packages and the extension)" >&2
	exit 1
fi

# --- packages ---------------------------------------------------------------
PACKAGES=("postgresql-$PGVER" "postgresql-client-$PGVER" "postgresql-server-dev-$PGVER"
	libpg-query-dev make gcc)
heading "Packages"
ensure_packages "${PACKAGES[@]}"

# --- build and install (the Makefile adds -Wall -Wextra -Werror) ------------
heading "Building and installing agent_guard"
make -s PG_CONFIG="$PG_CONFIG" -j"$(nproc)"
make -s PG_CONFIG="$PG_CONFIG" install

# --- scratch cluster --------------------------------------------------------
if [[ -e "$DEMO" ]]; then
	heading "Removing the previous demo cluster in $DEMO"
	if [[ -f "$DATA/postmaster.pid" ]]; then
		runuser -u postgres -- "$PGBIN/pg_ctl" -D "$DATA" -m fast -w stop || true
	fi
	rm -rf "$DEMO"
fi

heading "Creating a scratch cluster in $DATA (port $PORT)"
mkdir -p "$DEMO"
chown postgres: "$DEMO"
chmod 700 "$DEMO"
(cd "$DEMO" && runuser -u postgres -- "$PGBIN/initdb" -D "$DATA" --auth=trust \
	--username=postgres --no-instructions >"$DEMO/initdb.log")
cat >>"$DATA/postgresql.conf" <<EOF

# agent_guard demo
port = $PORT
listen_addresses = ''
unix_socket_directories = '$DEMO'
shared_preload_libraries = 'agent_guard'
agent_guard.database = 'postgres'
EOF
(cd "$DEMO" && runuser -u postgres -- "$PGBIN/pg_ctl" -D "$DATA" \
	-l "$DEMO/server.log" -w start >/dev/null)

# psql as a given role over the demo socket; stops on the first error unless
# the script says otherwise.
psql_as() {
	local role=$1
	shift
	"$PGBIN/psql" -X -h "$DEMO" -p "$PORT" -U "$role" -d postgres "$@"
}

heading "Setting up the application: tables orders and customers, owned by ai_agent"
psql_as postgres -q -v ON_ERROR_STOP=1 <<'SQL'
CREATE EXTENSION agent_guard;
CREATE ROLE ai_agent LOGIN;
CREATE TABLE customers (
	id    int PRIMARY KEY,
	name  text NOT NULL
);
CREATE TABLE orders (
	id          int PRIMARY KEY,
	customer_id int NOT NULL REFERENCES customers,
	amount      numeric(10, 2) NOT NULL,
	placed_at   timestamptz NOT NULL
);
INSERT INTO customers
	SELECT i, 'customer ' || i FROM generate_series(1, 50) AS i;
INSERT INTO orders
	SELECT i, 1 + i % 50, round((random() * 500)::numeric, 2),
		   now() - i * interval '1 hour'
	FROM generate_series(1, 300) AS i;
ALTER TABLE customers OWNER TO ai_agent;
ALTER TABLE orders OWNER TO ai_agent;
SQL
psql_as postgres -c "SELECT count(*) AS orders FROM orders"

heading "Tagging ai_agent as an agent"
psql_as postgres -v ON_ERROR_STOP=1 -e \
	-c "SECURITY LABEL FOR agent_guard ON ROLE ai_agent IS 'agent';"

heading "The agent (connected as ai_agent, owner of the tables) tries to destroy the data"
echo "    Each statement below must be refused with an agent_guard error."
AGENT_STATEMENTS=(
	"DROP TABLE orders;"
	"TRUNCATE orders;"
	"DELETE FROM orders;"
	'DO $$ BEGIN DROP TABLE orders; END $$;'
	'DO $$ BEGIN TRUNCATE orders; END $$;'
	'DO $$ BEGIN DELETE FROM orders; END $$;'
)
for stmt in "${AGENT_STATEMENTS[@]}"; do
	echo
	echo "ai_agent=> $stmt"
	# One session per statement; the refusal (ERROR, DETAIL, HINT) is printed.
	if psql_as ai_agent -c "$stmt" 2>&1; then
		echo "    !!! NOT REFUSED: agent_guard let this statement through"
	fi
done

heading "Back as postgres: the data is intact"
psql_as postgres -c "SELECT count(*) AS orders FROM orders"

heading "Every refusal is on the audit record (agent_guard.audit_log)"
psql_as postgres -c "SELECT logged_at, session_role, command_tag, verdict, rule, objects
	FROM agent_guard.audit_log ORDER BY id"

heading "The demo cluster is still running"
echo "    connect: psql -h $DEMO -p $PORT -U postgres postgres"
echo "    stop:    runuser -u postgres -- $PGBIN/pg_ctl -D $DATA stop"
