# Copyright (c) agent_guard contributors
#
# Cluster-level guarantees: the guard works in a database where the extension
# was never created, its audit records reach the audit database and survive
# the agent's rollback, and it keeps denying across a restart, a terminated
# audit worker and a crashed (SIGKILLed) audit worker.

use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $WORKER = 'agent_guard audit writer';

my $node = PostgreSQL::Test::Cluster->new('main');
$node->init;
$node->append_conf(
	'postgresql.conf', qq{
shared_preload_libraries = 'agent_guard'
agent_guard.database = 'postgres'
# Cluster.pm turns this off; the SIGKILL test needs a crash restart.
restart_after_crash = on
# Give up on the audit worker well before the postmaster restarts it, so the
# "worker terminated" step exercises the server-log fallback.
agent_guard.audit_timeout = '2s'
});
$node->start;

$node->safe_psql('postgres', 'CREATE EXTENSION agent_guard');
$node->safe_psql(
	'postgres', q{
CREATE ROLE bot LOGIN;
SECURITY LABEL FOR agent_guard ON ROLE bot IS 'agent';
CREATE DATABASE otherdb OWNER bot;
});
$node->safe_psql(
	'otherdb', q{
CREATE TABLE t (id int PRIMARY KEY, v text);
INSERT INTO t SELECT i, 'row ' || i FROM generate_series(1, 100) AS i;
ALTER TABLE t OWNER TO bot;
});

is( $node->safe_psql(
		'otherdb',
		q{SELECT count(*) FROM pg_extension WHERE extname = 'agent_guard'}),
	'0',
	'agent_guard is not created in otherdb');

# Run SQL as the agent "bot" in otherdb; returns (exit code, stdout, stderr).
sub as_bot
{
	my ($sql) = @_;
	my ($ret, $out, $err) = $node->psql(
		'otherdb', "\\set VERBOSITY verbose\n$sql",
		extra_params => [ '-U', 'bot' ]);
	return ($ret, $out, $err);
}

# Assert that the agent's statement is refused by agent_guard.
sub denied_ok
{
	my ($sql, $name) = @_;
	my ($ret, $out, $err) = as_bot($sql);
	isnt($ret, 0, "$name: statement fails");
	like($err, qr/ERROR:  42501: agent_guard:/,
		"$name: refused by agent_guard with SQLSTATE 42501")
	  or diag("stderr: $err");
	return $err;
}

sub row_count
{
	return $node->safe_psql('otherdb', 'SELECT count(*) FROM t');
}

# Number of deny records for a statement containing the given text.
sub deny_records
{
	my ($text) = @_;
	$text =~ s/'/''/g;
	return $node->safe_psql(
		'postgres', qq{
SELECT count(*) FROM agent_guard.audit_log
WHERE database_name = 'otherdb' AND session_role = 'bot'
  AND verdict = 'deny' AND rule IS NOT NULL
  AND strpos(statement, '$text') > 0});
}

sub audit_total
{
	return $node->safe_psql('postgres',
		'SELECT count(*) FROM agent_guard.audit_log');
}

sub worker_pid
{
	return $node->safe_psql('postgres',
		"SELECT pid FROM pg_stat_activity WHERE backend_type = '$WORKER'");
}

# Wait until an audit worker runs, other than the process $old_pid if given.
sub wait_for_worker
{
	my ($name, $old_pid) = @_;
	my $not_old = defined $old_pid ? "AND pid <> $old_pid" : '';
	ok( $node->poll_query_until(
			'postgres',
			"SELECT count(*) = 1 FROM pg_stat_activity WHERE backend_type = '$WORKER' $not_old"
		),
		"$name: audit worker is running");
}

# True if the log (from $offset) has an "agent_guard: audit record" LOG
# message whose text, or one of its DETAIL/CONTEXT lines, holds $marker.
sub audit_fallback_logged
{
	my ($offset, $marker) = @_;
	my $log = slurp_file($node->logfile, $offset);
	my @lines = split /\n/, $log;
	for (my $i = 0; $i < @lines; $i++)
	{
		next unless $lines[$i] =~ /LOG:  agent_guard: audit record/;
		return 1 if index($lines[$i], $marker) >= 0;
		for (my $j = $i + 1; $j < @lines; $j++)
		{
			# continuation: DETAIL/HINT/CONTEXT lines or unprefixed text
			last
			  if $lines[$j] =~ /^\d{4}-\d\d-\d\d / && $lines[$j] !~ /(DETAIL|HINT|CONTEXT):  /;
			return 1 if index($lines[$j], $marker) >= 0;
		}
	}
	return 0;
}

wait_for_worker('startup');

# --- the guard holds in a database without the extension -------------------

denied_ok('DROP TABLE t', 'DROP TABLE in otherdb');
denied_ok('DELETE FROM t', 'DELETE without WHERE in otherdb');
is(row_count(), '100', 'table t still has its 100 rows');

cmp_ok(deny_records('DROP TABLE t'), '>=', 1,
	'DROP TABLE denial is in audit_log of the audit database');
cmp_ok(deny_records('DELETE FROM t'), '>=', 1,
	'DELETE denial is in audit_log of the audit database');
is( $node->safe_psql(
		'postgres', q{
SELECT command_tag FROM agent_guard.audit_log
WHERE database_name = 'otherdb' AND strpos(statement, 'DROP TABLE t') > 0
ORDER BY id LIMIT 1}),
	'DROP TABLE',
	'audit record carries the command tag');

# The agent's transaction rolls back; the audit record stays.
denied_ok(
	q{BEGIN;
INSERT INTO t VALUES (1000, 'in doomed transaction');
DELETE FROM t /* marker-rollback */;
COMMIT;}, 'DELETE inside a transaction');
is( $node->safe_psql('otherdb', 'SELECT count(*) FROM t WHERE id = 1000'),
	'0', "the agent's transaction rolled back");
is(deny_records('marker-rollback'), '1',
	'audit record committed although the agent rolled back');

# --- restart ----------------------------------------------------------------

my $before_restart = audit_total();
$node->restart;
wait_for_worker('after restart');
denied_ok('DROP TABLE t /* marker-restart */', 'DROP TABLE after restart');
is(row_count(), '100', 'table intact after restart');
cmp_ok(audit_total(), '>', $before_restart,
	'audit rows from before the restart are kept, new one added');
is(deny_records('marker-restart'), '1', 'denial after restart is audited');

# --- audit worker terminated --------------------------------------------------

my $pid = worker_pid();
like($pid, qr/^\d+$/, 'found the audit worker pid');
my $log_offset = -s $node->logfile;
# wait (up to 10 s) until the worker has actually exited
is( $node->safe_psql('postgres', "SELECT pg_terminate_backend($pid, 10000)"),
	't', 'audit worker terminated');

my $down_before = worker_pid() eq '';
denied_ok('DELETE FROM t /* marker-nowriter */',
	'DELETE while the audit worker is down');
my $down_after = worker_pid() eq '';
is(row_count(), '100', 'table intact while the audit worker is down');

if ($down_before && $down_after)
{
	ok(audit_fallback_logged($log_offset, 'marker-nowriter'),
		'unwritable audit record goes to the server log');
}
else
{
	# The worker came back in time to write the record after all.
	ok( audit_fallback_logged($log_offset, 'marker-nowriter')
		  || deny_records('marker-nowriter') eq '1',
		'audit record is in the server log or in audit_log');
}

wait_for_worker('after pg_terminate_backend', $pid);
denied_ok('DELETE FROM t /* marker-worker-back */',
	'DELETE after the worker came back');
is(deny_records('marker-worker-back'), '1',
	'denial after the worker came back is in audit_log');

# --- audit worker crashes (SIGKILL => crash restart of all backends) ---------

my $rows_before_crash = audit_total();
$pid = worker_pid();
like($pid, qr/^\d+$/, 'found the audit worker pid again');
$log_offset = -s $node->logfile;
ok(kill('KILL', $pid), 'SIGKILL sent to the audit worker');
$node->wait_for_log(qr/all server processes terminated; reinitializing/,
	$log_offset);
ok($node->poll_query_until('postgres', 'SELECT 1', '1'),
	'server accepts connections after the crash restart');
wait_for_worker('after crash restart', $pid);
denied_ok('DROP TABLE t /* marker-crash */', 'DROP TABLE after crash restart');
is(row_count(), '100', 'table intact after crash restart');
cmp_ok(audit_total(), '>', $rows_before_crash,
	'audit rows from before the crash are kept, new one added');
is(deny_records('marker-rollback'), '1', 'an early audit row is still there');
is(deny_records('marker-crash'), '1', 'denial after crash restart is audited');

$node->stop;
done_testing();
