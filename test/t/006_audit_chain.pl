# Copyright (c) agent_guard contributors
#
# The audit log is tamper-evident: verify_audit() finds an edited row, a
# deleted row and a reordered chain, even when a superuser disabled the
# triggers to do it; purge_audit() keeps the chain verifiable and records
# itself; agent_guard.log_format = json also writes every row to the log.

use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('chain');
$node->init;
$node->append_conf('postgresql.conf', "shared_preload_libraries = 'agent_guard'\n");
$node->start;
$node->safe_psql('postgres', q{
CREATE EXTENSION agent_guard;
CREATE ROLE bot LOGIN;
SECURITY LABEL FOR agent_guard ON ROLE bot IS 'agent';
CREATE TABLE t (id int);
ALTER TABLE t OWNER TO bot;
});

for my $i (1 .. 6)
{
	$node->psql('postgres', "DELETE FROM t /* $i */", extra_params => [ '-U', 'bot' ]);
}

sub verify
{
	return $node->safe_psql('postgres',
		q{SELECT ok, coalesce(broken_chain_seq, 0), coalesce(problem, '') FROM agent_guard.verify_audit()});
}

sub tamper
{
	my ($sql) = @_;
	$node->safe_psql('postgres', qq{
ALTER TABLE agent_guard.audit_log DISABLE TRIGGER USER;
$sql;
ALTER TABLE agent_guard.audit_log ENABLE TRIGGER USER;
});
}

is( $node->safe_psql('postgres', 'SELECT count(*) FROM agent_guard.audit_log'),
	'6', 'six denials recorded');
like(verify(), qr/^t\|0\|$/, 'the chain verifies');

# An edited row.
my $orig = $node->safe_psql('postgres',
	'SELECT verdict FROM agent_guard.audit_log WHERE chain_seq = 3');
tamper(q{UPDATE agent_guard.audit_log SET verdict = 'allow' WHERE chain_seq = 3});
like(verify(), qr/^f\|3\|its content does not match its hash/,
	'an edited row is found');
tamper(qq{UPDATE agent_guard.audit_log SET verdict = '$orig' WHERE chain_seq = 3});
like(verify(), qr/^t\|/, 'and the chain holds again once it is put back');

# A deleted row.
$node->safe_psql('postgres',
	'CREATE TABLE saved AS SELECT * FROM agent_guard.audit_log WHERE chain_seq = 4');
tamper(q{DELETE FROM agent_guard.audit_log WHERE chain_seq = 4});
like(verify(), qr/^f\|5\|expected chain position 4, found 5/,
	'a deleted row is found at the next one');
tamper(q{INSERT INTO agent_guard.audit_log OVERRIDING SYSTEM VALUE SELECT * FROM saved});
like(verify(), qr/^t\|/, 'restoring it mends the chain');

# A reordered chain: two rows swap places.
tamper(q{
UPDATE agent_guard.audit_log SET chain_seq = -2 WHERE chain_seq = 2;
UPDATE agent_guard.audit_log SET chain_seq = 2 WHERE chain_seq = 5;
UPDATE agent_guard.audit_log SET chain_seq = 5 WHERE chain_seq = -2});
like(verify(), qr/^f\|2\|its link to the previous row does not match/,
	'a reordered chain is found');
tamper(q{
UPDATE agent_guard.audit_log SET chain_seq = -2 WHERE chain_seq = 2;
UPDATE agent_guard.audit_log SET chain_seq = 2 WHERE chain_seq = 5;
UPDATE agent_guard.audit_log SET chain_seq = 5 WHERE chain_seq = -2});
like(verify(), qr/^t\|/, 'and mended when put back');

# Retention: purge the oldest rows; the chain still verifies from the new
# first row, and the purge is itself on the record.
my $cut = $node->safe_psql('postgres',
	'SELECT logged_at FROM agent_guard.audit_log WHERE chain_seq = 4');
my ($ret, $out, $err) = $node->psql('postgres',
	"SELECT agent_guard.purge_audit('$cut')", extra_params => [ '-U', 'bot' ]);
isnt($ret, 0, 'an agent cannot purge');
is($node->safe_psql('postgres', "SELECT agent_guard.purge_audit('$cut')"),
	'3', 'a human purges the three oldest rows');
like(verify(), qr/^t\|/, 'the chain verifies after the purge');
is( $node->safe_psql('postgres',
		q{SELECT command_tag || ' ' || row_count || ' ' || rule FROM agent_guard.audit_log ORDER BY chain_seq DESC LIMIT 1}),
	'PURGE AUDIT 3 retention', 'the purge is recorded in the chain');
is( $node->safe_psql('postgres',
		q{SELECT min(chain_seq) FROM agent_guard.audit_log}),
	'4', 'only a prefix of the chain was removed');
($ret, $out, $err) = $node->psql('postgres',
	'DELETE FROM agent_guard.audit_log WHERE chain_seq = 4');
like($err, qr/append-only/, 'rows still cannot be deleted directly');

# JSON lines in the server log.
$node->safe_psql('postgres', q{ALTER SYSTEM SET agent_guard.log_format = 'json'; SELECT pg_reload_conf()});
$node->poll_query_until('postgres', q{SELECT current_setting('agent_guard.log_format') = 'json'});
sleep 1;    # the worker reloads on its own latch timeout
my $offset = -s $node->logfile;
$node->psql('postgres', 'DROP TABLE t /* json-marker */', extra_params => [ '-U', 'bot' ]);
ok( $node->wait_for_log(qr/agent_guard audit: \{[^\n]*json-marker[^\n]*"verdict":"deny"/, $offset),
	'the denial is in the server log as a JSON line');
like(slurp_file($node->logfile, $offset), qr/agent_guard audit: \{[^\n]*"row_hash":"[0-9a-f]{64}"/,
	'with its chain hash');

$node->stop;
done_testing();
