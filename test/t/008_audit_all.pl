# Copyright (c) agent_guard contributors
#
# agent_guard.audit_level = all: every statement of an agent session lands in
# audit_log, through the ring of routine records.  Nothing is lost when the
# ring is full (what does not fit in time goes to the server log) or when
# the worker dies holding records it had taken (the next worker writes them,
# once each), and the chain still verifies.

use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $WORKER = 'agent_guard audit writer';

my $node = PostgreSQL::Test::Cluster->new('audit_all');
$node->init;
$node->append_conf(
	'postgresql.conf', q{
shared_preload_libraries = 'agent_guard'
# the smallest ring, and a short wait for space in it
agent_guard.audit_queue_size = '128kB'
agent_guard.audit_timeout = '300ms'
});
$node->start;
$node->safe_psql(
	'postgres', q{
CREATE EXTENSION agent_guard;
CREATE ROLE bot LOGIN;
SECURITY LABEL FOR agent_guard ON ROLE bot IS 'agent';
ALTER ROLE bot SET agent_guard.audit_level = 'all';
CREATE ROLE human LOGIN;
ALTER ROLE human SET agent_guard.audit_level = 'all';
GRANT CREATE ON SCHEMA public TO bot, human;
});

sub as_bot
{
	my ($sql) = @_;
	return $node->psql('postgres', $sql, extra_params => [ '-U', 'bot' ], on_error_stop => 0);
}

sub rows_like
{
	my ($marker, $extra) = @_;
	$extra //= '';
	return $node->safe_psql('postgres',
		"SELECT count(*) FROM agent_guard.audit_log WHERE statement LIKE '%$marker%' $extra"
	);
}

sub wait_rows
{
	my ($marker, $n, $name) = @_;
	ok( $node->poll_query_until(
			'postgres',
			"SELECT count(*) >= $n FROM agent_guard.audit_log WHERE statement LIKE '%$marker%'"
		),
		$name);
}

sub worker_pid
{
	return $node->safe_psql('postgres',
		"SELECT pid FROM pg_stat_activity WHERE backend_type = '$WORKER'");
}

# Lines of the server log, from $offset, where a record holding $marker
# went to the log instead, for the reason $why.
sub logged_instead
{
	my ($offset, $marker, $why) = @_;
	my $log = slurp_file($node->logfile, $offset);
	return scalar grep { /audit record not written .*\Q($why)\E/ && /\Q$marker\E/ }
	  split /\n/, $log;
}

# --- every statement, routine and decided ----------------------------------

as_bot(
	q{
CREATE TABLE a1 (id int) /* m-basic */;
INSERT INTO a1 VALUES (1), (2) /* m-basic */;
SELECT count(*) FROM a1 /* m-basic */;
UPDATE a1 SET id = 3 WHERE id = 1 /* m-basic */;
DELETE FROM a1 /* m-basic */;
});
$node->psql('postgres', 'SELECT 1 /* m-human */', extra_params => [ '-U', 'human' ]);

# Refused by PostgreSQL's own permission check after the guard let it start.
$node->safe_psql('postgres', 'CREATE TABLE secret (id int)');
my ($perm_ret, $perm_out, $perm_err) = as_bot('SELECT * FROM secret /* m-perm */');
like($perm_err, qr/permission denied for table secret/,
	'PostgreSQL refuses the agent a table it may not read');
wait_rows('m-perm', 1, 'and the attempt is on record');

wait_rows('m-basic', 5, 'the agent\'s five statements reach audit_log');
is( $node->safe_psql(
		'postgres', q{
SELECT string_agg(command_tag || ':' || verdict || ':' || rule || ':' || session_role
                  || ':' || coalesce(row_count::text, '-'), ',' ORDER BY logged_at)
  FROM agent_guard.audit_log WHERE statement LIKE '%m-basic%'}),
	'CREATE TABLE:allow:none:bot:-,INSERT:allow:none:bot:2,SELECT:allow:none:bot:1,'
	  . 'UPDATE:allow:none:bot:1,DELETE:deny:unbounded_delete:bot:2',
	'four routine rows with the rows they processed, and the denial, in the order they ran');

# One row per client statement, whatever happens inside it.
as_bot(
	q{
DO $$ BEGIN DELETE FROM a1; END $$ /* m-nested */;
PREPARE p AS DELETE FROM a1 /* m-prep */;
EXECUTE p /* m-exec */;
SELECT 1 / (random() * 0)::int /* m-div */;
DO $$ BEGIN BEGIN PERFORM 1 / 0; EXCEPTION WHEN division_by_zero THEN NULL; END; END $$ /* m-exc */;
BEGIN;
SAVEPOINT s;
SELECT 1 / (random() * 0)::int /* m-sp-fail */;
ROLLBACK TO SAVEPOINT s;
SELECT 2 /* m-sp-ok */;
COMMIT;
SELECT 'm-last';
});
wait_rows('m-last', 1, 'the statements reach audit_log');
is( $node->safe_psql(
		'postgres', q{
SELECT string_agg(command_tag || ':' || verdict || ':' || coalesce(row_count::text, '-'), ','
                  ORDER BY logged_at)
  FROM agent_guard.audit_log
 WHERE coalesce(top_statement, statement) ~ 'm-(nested|prep|exec|div|exc|sp-fail|sp-ok)'}),
	'DELETE:deny:2,PREPARE:allow:-,DELETE:deny:2,SELECT:allow:-,DO:allow:-,'
	  . 'SELECT:allow:-,SELECT:allow:1',
	'a refused nested statement\'s denial stands for its DO and its EXECUTE; failed statements are on record once');
is( $node->safe_psql(
		'postgres', q{
SELECT count(*) FROM agent_guard.audit_log
 WHERE verdict = 'allow' AND statement ~ 'm-(nested|exec)'}),
	'0', 'no allow row for a statement that was refused inside');

# A procedure's COMMIT does not end its CALL.
as_bot(
	q{
CREATE PROCEDURE pr_deny() LANGUAGE plpgsql AS $$
BEGIN INSERT INTO a1 VALUES (9); COMMIT; DELETE FROM a1; END $$;
CREATE PROCEDURE pr_ok() LANGUAGE plpgsql AS $$
BEGIN INSERT INTO a1 VALUES (10); COMMIT; INSERT INTO a1 VALUES (11); END $$;
CALL pr_deny() /* m-call-deny */;
CALL pr_ok() /* m-call-ok */;
SELECT 'm-call-last';
});
wait_rows('m-call-last', 1, 'the CALLs reach audit_log');
is( $node->safe_psql(
		'postgres', q{
SELECT string_agg(command_tag || ':' || verdict, ',' ORDER BY logged_at)
  FROM agent_guard.audit_log
 WHERE coalesce(top_statement, statement) ~ 'm-call-(deny|ok)'}),
	'DELETE:deny,CALL:allow',
	'a CALL that commits inside is one row: its denial, or its allow row');
is(rows_like('m-human'), '0', 'a human session is not recorded');
like(
	$node->safe_psql('postgres', 'SELECT ok FROM agent_guard.verify_audit()'),
	qr/^t$/, 'the chain verifies');

# --- the ring is full: wait up to audit_timeout, then the server log -------

my $bg = $node->background_psql('postgres');
# The worker takes the chain's lock before it writes; hold it.
$bg->query_safe('SELECT pg_advisory_lock(7142315, 1)');

my $pad = 'x' x 8000;
my $offset = -s $node->logfile;
my $sql = join("\n",
	map { "SELECT $_ AS n /* m-full-$_ $pad */;" } (1 .. 30));
my ($ret) = as_bot($sql);
is($ret, 0, 'every statement ran although the ring filled up');

my $logged = logged_instead($offset, 'm-full-', 'audit queue full');
ok($logged > 0 && $logged < 30,
	"records that found no room went to the server log ($logged of 30)");

$bg->query_safe('SELECT pg_advisory_unlock(7142315, 1)');
wait_rows('m-full-', 30 - $logged, 'the queued records reach audit_log');
is(rows_like('m-full-') + $logged, 30,
	'every record is in audit_log or the server log, none twice');

# --- the worker dies holding records it had taken ---------------------------

$bg->query_safe('SELECT pg_advisory_lock(7142315, 1)');
as_bot(join("\n", map { "SELECT $_ /* m-held-$_ */;" } (1 .. 5)));
ok( $node->poll_query_until(
		'postgres',
		"SELECT wait_event_type = 'Lock' FROM pg_stat_activity WHERE backend_type = '$WORKER'"
	),
	'the worker took the records and waits for the chain\'s lock');
my $pid = worker_pid();
is($node->safe_psql('postgres', "SELECT pg_terminate_backend($pid, 10000)"),
	't', 'audit worker terminated while it held them');
$bg->query_safe('SELECT pg_advisory_unlock(7142315, 1)');
$bg->quit;

ok( $node->poll_query_until(
		'postgres',
		"SELECT count(*) = 1 FROM pg_stat_activity WHERE backend_type = '$WORKER' AND pid <> $pid"
	),
	'a new audit worker runs');
wait_rows('m-held-', 5, 'the next worker writes the records');
is(rows_like('m-held-'), '5', 'each of them once');
like(
	$node->safe_psql('postgres', 'SELECT ok FROM agent_guard.verify_audit()'),
	qr/^t$/, 'the chain still verifies');

$node->stop;
done_testing();
