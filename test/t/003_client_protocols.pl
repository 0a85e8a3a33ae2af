# Copyright (c) agent_guard contributors
#
# Paths that need a client other than psql's simple protocol, or a server
# set up differently: CREATE EXTENSION without the preload, connection
# options (PGOPTIONS) that try to loosen the guard, and the extended query
# protocol (pgbench -M extended / prepared) with parameters.

use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

# Without shared_preload_libraries, CREATE EXTENSION fails with a hint.
my $bare = PostgreSQL::Test::Cluster->new('bare');
$bare->init;
$bare->start;
my ($ret, $out, $err) =
  $bare->psql('postgres', 'CREATE EXTENSION agent_guard');
isnt($ret, 0, 'CREATE EXTENSION fails without the preload');
like(
	$err,
	qr/agent_guard must be loaded via "shared_preload_libraries"/,
	'the error says how the library must be loaded');
like($err, qr/HINT:.*shared_preload_libraries.*restart/,
	'the hint says what to do');
$bare->stop;

my $node = PostgreSQL::Test::Cluster->new('main');
$node->init;
$node->append_conf('postgresql.conf',
	"shared_preload_libraries = 'agent_guard'\n");
$node->start;
$node->safe_psql(
	'postgres', q{
CREATE EXTENSION agent_guard;
CREATE ROLE bot LOGIN;
SECURITY LABEL FOR agent_guard ON ROLE bot IS 'agent';
CREATE TABLE t (id int PRIMARY KEY, v text);
INSERT INTO t SELECT i, 'v' FROM generate_series(1, 100) i;
ALTER TABLE t OWNER TO bot;
});

# Connection options cannot loosen the guard, granted or not.
for my $opt ('agent_guard.mode=dry_run', 'agent_guard.enabled=off')
{
	($ret, $out, $err) = $node->psql(
		'postgres', 'DELETE FROM t',
		connstr => $node->connstr('postgres') . " user=bot options='-c $opt'");
	isnt($ret, 0, "PGOPTIONS -c $opt is refused");
	like($err, qr/permission denied to set parameter/,
		"PGOPTIONS -c $opt: permission denied");
}
$node->safe_psql('postgres',
	'GRANT SET ON PARAMETER agent_guard.mode, agent_guard.enabled TO bot');
for my $opt ('agent_guard.mode=dry_run', 'agent_guard.enabled=off')
{
	($ret, $out, $err) = $node->psql(
		'postgres', 'DELETE FROM t',
		connstr => $node->connstr('postgres') . " user=bot options='-c $opt'");
	isnt($ret, 0, "granted PGOPTIONS -c $opt is still refused");
	like(
		$err,
		qr/agent_guard: an agent session cannot change agent_guard settings/,
		"granted PGOPTIONS -c $opt: agent_guard refuses it");
}
is($node->safe_psql('postgres', 'SELECT count(*) FROM t'),
	'100', 'no rows lost to connection options');

# The extended protocol, with parameters, as pgbench sends it.
my $dir = PostgreSQL::Test::Utils::tempdir;
sub pgbench_as_bot
{
	my ($mode, $script) = @_;
	my $file = "$dir/script.sql";
	open my $fh, '>', $file or die $!;
	print $fh $script;
	close $fh;
	my ($stdout, $stderr);
	my $ok = IPC::Run::run(
		[
			'pgbench', '-n', '-M', $mode, '-t', '1', '-f', $file,
			'-h', $node->host, '-p', $node->port, '-U', 'bot', 'postgres'
		],
		'>', \$stdout, '2>', \$stderr);
	return ($ok, $stderr);
}

for my $mode ('extended', 'prepared')
{
	my ($ok, $stderr) = pgbench_as_bot($mode, "DELETE FROM t;\n");
	ok(!$ok, "$mode protocol: unbounded DELETE fails");
	like($stderr, qr/agent_guard: refused DELETE/,
		"$mode protocol: agent_guard refused it");

	($ok, $stderr) =
	  pgbench_as_bot($mode, "\\set flag true\nDELETE FROM t WHERE :flag;\n");
	ok(!$ok, "$mode protocol: DELETE WHERE \$1 with true fails");
	like($stderr, qr/agent_guard: refused DELETE/,
		"$mode protocol: parameter that removes the filter is caught");

	($ok, $stderr) = pgbench_as_bot($mode,
		"\\set id 1 + random(0, 0)\nDELETE FROM t WHERE id = :id;\n");
	ok($ok, "$mode protocol: bounded parameterised DELETE runs")
	  or diag($stderr);
	$node->safe_psql('postgres', q{INSERT INTO t VALUES (1, 'v')});
}

is($node->safe_psql('postgres', 'SELECT count(*) FROM t'),
	'100', 'no rows lost to the extended protocol');
is( $node->safe_psql(
		'postgres',
		q{SELECT count(*) FROM agent_guard.audit_log
		   WHERE session_role = 'bot' AND verdict = 'deny'}),
	'4',
	'each extended-protocol denial is audited');

$node->stop;
done_testing();
