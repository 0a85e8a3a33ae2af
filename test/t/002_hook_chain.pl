# Copyright (c) agent_guard contributors
#
# Hook chaining: agent_guard shares the executor and utility hooks with other
# preloaded modules.  In either load order, the agent must still be refused
# and the other module must still do its job: pg_stat_statements records
# statements, auto_explain logs plans, pgaudit (when installed) logs reads.

use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('chain');
my $have_pgaudit = -e $node->config_data('--pkglibdir') . '/pgaudit.so';

my @orders = (
	[ 'pg_stat_statements', 'agent_guard' ],
	[ 'agent_guard',        'pg_stat_statements' ],
	[ 'auto_explain',       'agent_guard' ],
	[ 'agent_guard',        'auto_explain' ],
	[ 'pg_stat_statements', 'auto_explain', 'agent_guard' ],
	[ 'agent_guard',        'auto_explain', 'pg_stat_statements' ]);
push @orders, [ 'pgaudit', 'agent_guard' ], [ 'agent_guard', 'pgaudit' ]
  if $have_pgaudit;

$node->init;
$node->append_conf(
	'postgresql.conf', q{
shared_preload_libraries = 'agent_guard'
agent_guard.database = 'postgres'
auto_explain.log_min_duration = 0
pgaudit.log = 'read'
});
$node->start;

$node->safe_psql(
	'postgres', q{
CREATE EXTENSION agent_guard;
CREATE ROLE bot LOGIN;
SECURITY LABEL FOR agent_guard ON ROLE bot IS 'agent';
CREATE DATABASE app OWNER bot;
});
$node->safe_psql(
	'app', q{
CREATE TABLE t (id int PRIMARY KEY);
INSERT INTO t SELECT generate_series(1, 50);
ALTER TABLE t OWNER TO bot;
});

# Run SQL in "app" as $user (undef: the bootstrap superuser); returns
# (exit code, stdout, stderr).
sub run_as
{
	my ($user, $sql) = @_;
	my @extra = defined $user ? ('-U', $user) : ();
	my ($ret, $out, $err) =
	  $node->psql('app', $sql, extra_params => \@extra);
	return ($ret, $out, $err);
}

my $pgss_created = 0;
my $n            = 0;

foreach my $order (@orders)
{
	my @libs = @$order;
	my $spl  = join(',', @libs);
	my %has  = map { $_ => 1 } @libs;
	$n++;

	$node->adjust_conf('postgresql.conf', 'shared_preload_libraries',
		"'$spl'");
	$node->restart;
	is($node->safe_psql('postgres', 'SHOW shared_preload_libraries'),
		$spl, "[$spl] server restarted with this load order");

	if ($has{pg_stat_statements})
	{
		$node->safe_psql('postgres', 'CREATE EXTENSION pg_stat_statements')
		  unless $pgss_created++;
		$node->safe_psql('postgres', 'SELECT pg_stat_statements_reset()');
	}
	my $log_offset = -s $node->logfile;

	# The guard: refused, audited, table intact.
	my $audited_before = $node->safe_psql('postgres',
		"SELECT count(*) FROM agent_guard.audit_log WHERE verdict = 'deny'");
	foreach my $sql ('DROP TABLE t', 'TRUNCATE t', 'DELETE FROM t')
	{
		my ($ret, $out, $err) = run_as('bot', $sql);
		isnt($ret, 0, "[$spl] agent's $sql fails");
		like($err, qr/agent_guard:/, "[$spl] agent's $sql refused by agent_guard")
		  or diag("stderr: $err");
	}
	is($node->safe_psql('app', 'SELECT count(*) FROM t'),
		'50', "[$spl] table intact");
	is( $node->safe_psql(
			'postgres',
			"SELECT count(*) - $audited_before FROM agent_guard.audit_log WHERE verdict = 'deny'"
		),
		'3',
		"[$spl] three denials audited");

	# Distinctive statements from a human and from the agent.  The alias
	# makes the text unique; the WHERE clause makes the query's shape unique
	# (pg_stat_statements ignores aliases, and keeps the first text it saw).
	my ($ret, $out, $err) = run_as(undef,
		"SELECT count(*) AS probe_human_$n FROM t WHERE id IS NOT NULL");
	is($out, '50', "[$spl] human's SELECT runs");
	($ret, $out, $err) = run_as('bot',
		"SELECT count(*) AS probe_agent_$n FROM t WHERE id IS NOT NULL");
	is($out, '50', "[$spl] agent's SELECT runs");
	($ret, $out, $err) = run_as(undef, 'DELETE FROM t WHERE id > 1000');
	is($ret, 0, "[$spl] human's DELETE is not refused") or diag($err);

	if ($has{pg_stat_statements})
	{
		foreach my $who ('human', 'agent')
		{
			is( $node->safe_psql(
					'postgres',
					"SELECT count(*) FROM pg_stat_statements WHERE query LIKE '%probe_${who}_$n %' AND calls >= 1"
				),
				'1',
				"[$spl] pg_stat_statements recorded the ${who}'s SELECT")
			  or diag(
				$node->safe_psql(
					'postgres',
					'SELECT userid::regrole, dbid, toplevel, calls, query FROM pg_stat_statements ORDER BY query'
				));
		}
	}

	if ($has{auto_explain})
	{
		foreach my $who ('human', 'agent')
		{
			ok( eval {
					$node->wait_for_log(
						qr/duration: [0-9.]+ ms\s+plan:\s*\n\s*Query Text: SELECT count\(\*\) AS probe_${who}_$n /,
						$log_offset);
					1;
				},
				"[$spl] auto_explain logged the plan of the ${who}'s SELECT");
		}
	}

	if ($has{pgaudit})
	{
		foreach my $who ('human', 'agent')
		{
			ok( eval {
					$node->wait_for_log(
						qr/AUDIT: SESSION,\d+,\d+,READ,SELECT,.*probe_${who}_$n /,
						$log_offset);
					1;
				},
				"[$spl] pgaudit logged the ${who}'s SELECT");
		}
	}
}

$node->stop;
done_testing();
