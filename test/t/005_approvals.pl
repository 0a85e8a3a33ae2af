# Copyright (c) agent_guard contributors
#
# Approvals across a restart, NOTIFY on new requests, and tokens kept out of
# the server log even with log_statement = 'all'.

use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('approvals');
$node->init;
$node->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'agent_guard'
log_statement = 'all'
log_min_error_statement = 'error'
});
$node->start;
$node->safe_psql('postgres', q{
CREATE EXTENSION agent_guard;
CREATE ROLE bot LOGIN;
CREATE ROLE human LOGIN;
SECURITY LABEL FOR agent_guard ON ROLE bot IS 'agent';
GRANT EXECUTE ON FUNCTION agent_guard.approve(bigint, bigint, interval) TO human;
CREATE TABLE t (id int);
CREATE TABLE u (id int);
INSERT INTO t SELECT generate_series(1, 10);
ALTER TABLE t OWNER TO bot;
ALTER TABLE u OWNER TO bot;
});

sub as_bot
{
	my ($sql) = @_;
	my ($ret, $out, $err) =
	  $node->psql('postgres', $sql, extra_params => [ '-U', 'bot' ]);
	return ($ret, $out, $err);
}

# A listener hears about each new request.
my $listener = $node->background_psql('postgres');
$listener->query_safe('LISTEN agent_guard_approvals');

my ($ret, $out, $err) = as_bot('DROP TABLE t');
isnt($ret, 0, 'the agent is refused');
like($err, qr/Approval request (\d+) is filed/, 'DETAIL names the request');
my ($req) = $err =~ /Approval request (\d+) is filed/;
like($err, qr/HINT:.*approve\($req\)/, 'HINT tells a human what to do');

# psql prints notifications it received with the next result.
my $heard = $listener->query_safe('SELECT 1');
like($listener->{stdout} . $heard, qr/agent_guard_approvals" with payload "$req"/,
	'NOTIFY agent_guard_approvals carries the request id')
  or diag($heard);
$listener->quit;

my $token = $node->safe_psql('postgres', "SELECT agent_guard.approve($req)",
	extra_params => [ '-U', 'human' ]);
like($token, qr/^agt_[0-9a-f]{64}$/, 'a human gets a token');

# Requests and approvals survive a restart.
$node->restart;
is( $node->safe_psql('postgres',
		"SELECT status FROM agent_guard.approval_requests WHERE id = $req"),
	'approved', 'the approval is still there after a restart');

($ret, $out, $err) = as_bot("SET agent_guard.approval_token = '$token'; DROP TABLE u;");
isnt($ret, 0, 'the token does not approve another statement');
($ret, $out, $err) = as_bot("/* agent_guard:token=$token */ DROP TABLE t");
is($ret, 0, 'the token approves its statement after the restart') or diag($err);
($ret, $out, $err) = as_bot("/* agent_guard:token=$token */ DROP TABLE u");
isnt($ret, 0, 'and only once');
is($node->safe_psql('postgres',
		"SELECT count(*) FROM agent_guard.audit_log WHERE verdict = 'allow' AND request_id = $req"),
	'1', 'the use is audited with its request');

# Nowhere in the server log in clear: not the SET, not the comment, not the
# statement PostgreSQL logs with the error.
my $log = slurp_file($node->logfile);
my $secret = substr($token, 4);
unlike($log, qr/$secret/, 'the token never appears in the server log');
like($log, qr/agt_\*{64}/, 'it appears masked instead');
is( $node->safe_psql('postgres',
		"SELECT count(*) FROM agent_guard.audit_log WHERE statement LIKE '%$secret%' OR top_statement LIKE '%$secret%'"),
	'0', 'nor in the audit log');

$node->stop;
done_testing();
