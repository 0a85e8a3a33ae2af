# Copyright (c) agent_guard contributors
#
# Wiping a database by replaying a dump: pg_restore --clean is a stream of
# DROPs.  As an agent, every DROP is refused and audited, nothing is left
# half-dropped, and the data is all there; as a human, it just works.

use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('restore');
$node->init;
$node->append_conf('postgresql.conf', "shared_preload_libraries = 'agent_guard'\n");
$node->start;
$node->safe_psql('postgres', q{
CREATE EXTENSION agent_guard;
CREATE ROLE bot LOGIN;
SECURITY LABEL FOR agent_guard ON ROLE bot IS 'agent';
CREATE DATABASE app OWNER bot;
});
$node->safe_psql('app', q{
SET ROLE bot;
CREATE TABLE customers (id int PRIMARY KEY, name text);
CREATE TABLE orders (id int PRIMARY KEY, customer int REFERENCES customers);
CREATE VIEW big_orders AS SELECT * FROM orders WHERE id > 50;
CREATE SEQUENCE invoice_no;
INSERT INTO customers SELECT g, 'c' || g FROM generate_series(1, 100) g;
INSERT INTO orders SELECT g, 1 + g % 100 FROM generate_series(1, 200) g;
});

my $dir = PostgreSQL::Test::Utils::tempdir;
$node->command_ok(
	[ 'pg_dump', '-Fc', '-f', "$dir/app.dump", '-d', $node->connstr('app') ],
	'dump the application database');

my $before = $node->safe_psql('postgres', 'SELECT count(*) FROM agent_guard.audit_log');

# As the agent, single transaction: all or nothing.
my ($stdout, $stderr);
IPC::Run::run(
	[
		'pg_restore', '--clean', '--if-exists', '--single-transaction',
		'-d', $node->connstr('app') . ' user=bot', "$dir/app.dump"
	],
	'>', \$stdout, '2>', \$stderr);
like($stderr, qr/agent_guard: refused (DROP|ALTER TABLE)/,
	'the first DROP (of a constraint, with ALTER TABLE) is refused');

# As the agent, statement by statement: each DROP refused on its own.
IPC::Run::run(
	[
		'pg_restore', '--clean', '--if-exists',
		'-d', $node->connstr('app') . ' user=bot', "$dir/app.dump"
	],
	'>', \$stdout, '2>', \$stderr);
my @refused = $stderr =~ /agent_guard: refused (?:DROP|ALTER TABLE)/g;
cmp_ok(scalar(@refused), '>=', 5, 'every DROP of the dump is refused')
  or diag($stderr);
unlike($stderr, qr/agent_guard: refused (?!DROP|ALTER TABLE)/, 'nothing else was needed to stop it');

is($node->safe_psql('app', 'SELECT count(*) FROM customers'), '100', 'customers intact');
is($node->safe_psql('app', 'SELECT count(*) FROM orders'), '200', 'orders intact');
is($node->safe_psql('app', q{SELECT count(*) FROM pg_class WHERE relname IN ('customers', 'orders', 'big_orders', 'invoice_no')}),
	'4', 'nothing half-dropped');
my $after = $node->safe_psql('postgres',
	q{SELECT count(*) FROM agent_guard.audit_log WHERE session_role = 'bot' AND verdict = 'deny'});
cmp_ok($after - $before, '>=', 5, 'every refusal is audited');

# A human restores the same dump without trouble.
$node->command_ok(
	[ 'pg_restore', '--clean', '--if-exists', '--single-transaction', '-d', $node->connstr('app'), "$dir/app.dump" ],
	'a human can restore with --clean');
is($node->safe_psql('app', 'SELECT count(*) FROM orders'), '200', 'and the data is as dumped');

$node->stop;
done_testing();
