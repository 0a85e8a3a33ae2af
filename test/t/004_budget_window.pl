# Copyright (c) agent_guard contributors
#
# The rolling row window of an agent role is shared by all its sessions,
# survives reconnecting and a clean restart, and only counts committed rows.

use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('window');
$node->init;
$node->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'agent_guard'
agent_guard.window_max_rows = 30
agent_guard.window = '1h'
});
$node->start;
$node->safe_psql('postgres', q{
CREATE EXTENSION agent_guard;
CREATE ROLE bot LOGIN;
SECURITY LABEL FOR agent_guard ON ROLE bot IS 'agent';
CREATE TABLE t (id int);
INSERT INTO t SELECT generate_series(1, 100);
ALTER TABLE t OWNER TO bot;
});

sub as_bot
{
	my ($sql) = @_;
	my ($ret, $out, $err) =
	  $node->psql('postgres', $sql, extra_params => [ '-U', 'bot' ]);
	return ($ret, $err);
}

my ($ret, $err) = as_bot('DELETE FROM t WHERE id <= 10');
is($ret, 0, '10 rows: within the window');
($ret, $err) = as_bot('BEGIN; DELETE FROM t WHERE id BETWEEN 11 AND 20; ROLLBACK;');
is($ret, 0, 'rolled back: costs nothing');
($ret, $err) = as_bot('DELETE FROM t WHERE id BETWEEN 11 AND 20');
is($ret, 0, 'another session: 20 rows so far');

$node->restart;

($ret, $err) = as_bot('DELETE FROM t WHERE id BETWEEN 21 AND 31');
isnt($ret, 0, 'after a restart, 20 + 11 rows pass the window of 30');
like($err, qr/agent_guard: refused DELETE.*\n.*window_budget/,
	'refused by the window budget');
($ret, $err) = as_bot('DELETE FROM t WHERE id BETWEEN 21 AND 30');
is($ret, 0, 'exactly at the window: allowed');
($ret, $err) = as_bot('DELETE FROM t WHERE id = 31');
isnt($ret, 0, 'one more row: refused');

is($node->safe_psql('postgres', 'SELECT count(*) FROM t'), '70',
	'exactly 30 rows were deleted');
is( $node->safe_psql(
		'postgres',
		q{SELECT count(*) FROM agent_guard.audit_log WHERE rule = 'window_budget'}),
	'2',
	'both refusals are audited');

# A human is not counted against any window.
$node->safe_psql('postgres', 'DELETE FROM t WHERE id > 90');
is($node->safe_psql('postgres', 'SELECT count(*) FROM t'), '60',
	'a non-agent deletes freely');

$node->stop;
done_testing();
