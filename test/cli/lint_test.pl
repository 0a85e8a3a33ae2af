#!/usr/bin/perl
#
# lint_test.pl — tests of agent_guard_lint; driven by test/cli/run.sh.
#
#   perl lint_test.pl AGL_BINARY [SERVER]
#
# Prints one "ok N - ..." / "not ok N - ..." line per check.  With SERVER
# ("host:port:superuser:agent:database" of a scratch cluster that has
# agent_guard preloaded and created), it also compares fingerprints with
# agent_guard.fingerprint() and verdicts with what the server does to an
# agent session.  Nothing here measures time.

use strict;
use warnings;
use File::Temp qw(tempdir);
use File::Basename qw(dirname);
use JSON::PP;
use Digest::SHA qw(sha256_hex);

my ($agl, $server) = @ARGV;
die "usage: $0 AGL_BINARY [host:port:superuser:agent:db]\n" unless $agl && -x $agl;
my $here = dirname(__FILE__);
my $tmp = tempdir(CLEANUP => 1);
chmod 0755, $tmp;
my $n = 0;
my $failed = 0;

sub ok {
	my ($cond, $name, $diag) = @_;
	$n++;
	$name =~ s/\n/\\n/g;
	$name =~ s/\t/\\t/g;
	print(($cond ? "ok" : "not ok") . " $n - $name\n");
	if (!$cond) {
		$failed++;
		print "# $_\n" for split /\n/, ($diag // '');
	}
	return $cond;
}

sub slurp {
	my ($f) = @_;
	open my $fh, '<:raw', $f or die "$f: $!";
	local $/;
	return scalar <$fh>;
}

sub spew {
	my ($f, $s) = @_;
	open my $fh, '>:raw', $f or die "$f: $!";
	print $fh $s;
	close $fh;
}

# Run the CLI on SQL text; returns (exit status, stdout, stderr).
my $seq = 0;
sub lint {
	my ($sql, @opts) = @_;
	my $f = "$tmp/in" . (++$seq) . ".sql";
	spew($f, $sql);
	my $out = `'$agl' @opts '$f' 2>'$tmp/err'`;
	my $rc = $? >> 8;
	return ($rc, $out, slurp("$tmp/err"), $f);
}

sub lint_json {
	my ($sql, @opts) = @_;
	my ($rc, $out, $err) = lint($sql, '--format=json', @opts);
	my $doc = eval { decode_json($out) };
	return ($rc, $doc, $err);
}

my %sev = (allow => 0, runtime_check => 1, dry_run => 1, deny => 2);

# Worst top-level verdict of a case, with its class.
sub case_verdict {
	my ($doc) = @_;
	my ($v, $class) = ('allow', 'other');
	my $first = 1;
	for my $f (@{ $doc->{findings} }) {
		next if $f->{depth} || ($f->{verdict} // '') eq 'error';
		if ($first || $sev{ $f->{verdict} } > $sev{$v}) {
			($v, $class) = ($f->{verdict}, $f->{class});
		}
		elsif ($sev{ $f->{verdict} } == $sev{$v} && $v eq 'allow') {
			$class = $f->{class};
		}
		$first = 0;
	}
	return ($v, $class);
}

# ---------------------------------------------------------------------------
# 1. Table-driven verdicts (cases.tsv)
# ---------------------------------------------------------------------------

my @cases;
for my $line (split /\n/, slurp("$here/cases.tsv")) {
	next if $line =~ /^#/ || $line !~ /\S/;
	my ($verdict, $class, $parity, $sql) = split /\t/, $line, 4;
	push @cases, { verdict => $verdict, class => $class, parity => $parity, sql => $sql };
}
for my $c (@cases) {
	my ($rc, $doc) = lint_json($c->{sql});
	my ($v, $class) = $doc ? case_verdict($doc) : ('(no output)', '');
	$c->{cli} = $v;
	ok($v eq $c->{verdict} && $class eq $c->{class},
		"verdict $c->{verdict} ($c->{class}): $c->{sql}", "got $v ($class)");
}

# ---------------------------------------------------------------------------
# 2. Output, options and exit status
# ---------------------------------------------------------------------------

{
	my ($rc, $out) = lint("SELECT 1;\nSELECT 2;\n");
	ok($rc == 0, 'exit 0 when nothing would be denied', "exit $rc");
	ok($out =~ /^\S+:1: SELECT: allow \[none\] read \(fingerprint [0-9a-f]{64}\)$/m,
		'text output: file:line, command, verdict, rule, class, fingerprint', $out);
	ok($out =~ /:2: SELECT/, 'line numbers follow the input', $out);

	($rc, $out) = lint("SELECT 1;\n\n-- c\nDROP TABLE x;\n");
	ok($rc == 1, 'exit 1 when something would be denied', "exit $rc");
	ok($out =~ /:4: DROP TABLE: deny \[drop_object\] drop: table x/, 'the DROP is reported on its line', $out);

	my ($err, $f);
	($rc, $out, $err, $f) = lint("SELECT 1;\nSELEC 2;\nDROP TABLE x;\n");
	ok($rc == 2, 'exit 2 on a parse error', "exit $rc");
	ok($err =~ /^\Q$f\E:2: parse error: syntax error at or near "SELEC"/m,
		'parse error names file, line and the parser message', $err);
	ok($out =~ /:3: DROP TABLE: deny/, 'statements after a parse error are still judged', $out);

	($rc, $out, $err) = lint("SELECT 'unterminated\n");
	ok($rc == 2 && $err =~ /:1: parse error: unterminated quoted string/, 'lexer errors are parse errors', $err);

	($rc, $out) = lint("DROP TABLE x; SELECT 1", '--policy', 'mode=dry_run');
	ok($rc == 0 && $out =~ /dry_run \[drop_object\]/, '--policy mode=dry_run: would be recorded, exit 0', "exit $rc: $out");
	($rc, $out) = lint("ALTER SYSTEM SET work_mem = 1", '--policy=agent_guard.mode=dry_run');
	ok($rc == 1 && $out =~ /deny \[guard_tamper\]/, 'dry_run never lets guard tampering through', "exit $rc: $out");
	($rc, $out, $err) = lint("SELECT 1", '--policy', 'max_rows=100');
	ok($rc == 0, '--policy max_rows=N is accepted', "exit $rc $err");
	($rc, $out, $err) = lint("SELECT 1", '--policy', 'mode=off');
	ok($rc == 3 && $err =~ /invalid policy/, 'a bad policy value is refused', "exit $rc $err");

	($rc, $out) = lint("SELECT 1; select   1 ; DROP TABLE x", '--fingerprint');
	my @fp = split /\n/, $out;
	ok(@fp == 3 && !grep({ !/^[0-9a-f]{64}$/ } @fp), '--fingerprint prints only fingerprints', $out);
	ok($fp[0] eq $fp[1], 'whitespace and keyword case do not change the fingerprint', $out);

	my $doc;
	($rc, $doc) = lint_json("DELETE FROM t;\nDO \$\$\nBEGIN\n  EXECUTE 'DROP TABLE x';\nEND \$\$;\n");
	ok($doc && $doc->{summary}{statements} == 2 && $doc->{summary}{denied} >= 2,
		'--format=json: findings and a summary', encode_json($doc // {}));
	my ($nested) = grep { $_->{depth} } @{ $doc->{findings} // [] };
	ok($nested && $nested->{line} == 4 && $nested->{context} eq 'DO block' && $nested->{rule} eq 'drop_object',
		'EXECUTE of a constant string inside a DO block is reported on its own line',
		encode_json($nested // {}));

	($rc, $out) = lint("CREATE FUNCTION g() RETURNS void LANGUAGE plpgsql AS \$\$\nBEGIN\n  NULL;\n  DELETE FROM t;\nEND \$\$;\n");
	ok($rc == 1 && $out =~ /:4:   in function g \(when called\): DELETE: deny \[unbounded_delete\]/,
		'a function body is analysed: exit 1, finding on the body line', $out);
}

# ---------------------------------------------------------------------------
# 3. Fingerprint definition (CLI only)
# ---------------------------------------------------------------------------

sub fp_of {
	my ($sql) = @_;
	my ($rc, $out) = lint($sql, '--fingerprint');
	return join ',', split /\n/, $out;
}

my @same = (
	['SELECT 1', 'select 1'],
	['SELECT 1', "  SELECT\n\t1  "],
	['SELECT 1', '/* c */ SELECT /* d */ 1 -- e'],
	['SELECT 1', 'SELECT 1;'],
	['SELECT 1', ';;SELECT 1;;'],
	['SELECT a FROM T', 'select A from t'],
	["SELECT 'x'", "SELECT 'x' -- comment"],
	['SELECT $1', 'select $1'],
);
my @differ = (
	['SELECT 1', 'SELECT 2'],
	["SELECT 'a'", "SELECT 'A'"],
	["SELECT 'a'", 'SELECT "a"'],
	['SELECT "A"', 'SELECT a'],
	['SELECT "a b"', 'SELECT "a  b"'],
	["SELECT 'a b'", "SELECT 'a  b'"],
	['SELECT 1.0', 'SELECT 1'],
	["SELECT \$\$x\$\$", "SELECT 'x'"],
	['SELECT $1', 'SELECT $2'],
	['DELETE FROM t WHERE id = 1', 'DELETE FROM t WHERE id = 2'],
	['SELECT 1; SELECT 2', 'SELECT 1, 2'],
);
ok(fp_of($_->[0]) eq fp_of($_->[1]), "same fingerprint: [$_->[0]] [$_->[1]]") for @same;
ok(fp_of($_->[0]) ne fp_of($_->[1]), "different fingerprints: [$_->[0]] [$_->[1]]") for @differ;
{
	my ($rc, $out) = lint("SeLeCt  \"Foo\",  Bar, 'Baz' -- c\n;", '--canonical');
	ok($out eq "select \"Foo\" , bar , 'Baz'\n", 'canonical stream: keywords and identifiers folded, quoted and literals verbatim', $out);
	my ($rc2, $fp) = lint("SeLeCt  \"Foo\",  Bar, 'Baz' -- c\n;", '--fingerprint');
	chomp $fp;
	ok($fp eq sha256_hex("select \"Foo\" , bar , 'Baz'"), 'fingerprint is SHA-256 of the canonical stream', $fp);
	# FIPS 180-4 test vectors through the CLI's own SHA-256: the canonical
	# stream of SELECT 'abc' is hashed by the CLI; compare with Digest::SHA
	# over strings long enough to span several blocks.
	for my $len (0, 1, 55, 56, 63, 64, 65, 119, 120, 1000) {
		my $lit = 'a' x $len;
		my ($r, $h) = lint("SELECT '$lit'", '--fingerprint');
		chomp $h;
		ok($h eq sha256_hex("select '$lit'"), "SHA-256 of a " . (length("select '$lit'")) . "-byte stream");
	}
}

# ---------------------------------------------------------------------------
# 4. The server: fingerprints and verdicts (needs a scratch cluster)
# ---------------------------------------------------------------------------

if (!$server) {
	print "# no scratch cluster: server fingerprint and verdict parity not checked\n";
	print "1..$n\n";
	exit($failed ? 1 : 0);
}
my ($host, $port, $su, $agent, $db) = split /:/, $server;

sub psql {
	my ($user, $script) = @_;
	spew("$tmp/script.sql", $script);
	my $out = `psql -X -q -A -t -h '$host' -p '$port' -U '$user' -d '$db' -v ON_ERROR_STOP=0 -v VERBOSITY=verbose -f '$tmp/script.sql' 2>'$tmp/psql.err' </dev/null`;
	return ($out, slurp("$tmp/psql.err"));
}

sub dollar_quote {
	my ($s) = @_;
	my $k = 0;
	$k++ while index($s, "\$q$k\$") >= 0;
	return "\$q$k\$$s\$q$k\$";
}

# The fingerprint corpus: hand-written entries, each in several spellings,
# plus every case above.
my @entries = split /\n--- next ---\n/, slurp("$here/fingerprints.sql");
my @corpus;
for my $e (@entries) {
	push @corpus, $e;
	push @corpus, uc($e) if uc($e) ne $e;
	push @corpus, "/* lead */\n$e;\n-- tail";
	(my $spaced = $e) =~ s/ /  \n\t/;
	push @corpus, $spaced if $spaced ne $e;
}
push @corpus, map { $_->{sql} } @cases;

# Lexical errors must be errors on both sides: the server's are caught.
my $script = <<'EOS';
CREATE FUNCTION pg_temp.fp(sql text) RETURNS text LANGUAGE plpgsql AS $f$
BEGIN
	RETURN agent_guard.fingerprint(sql);
EXCEPTION WHEN others THEN
	RETURN 'ERROR';
END $f$;
EOS
my @expect;
my ($entries_with_many, $entries_in_error, $single_mismatch) = (0, 0, 0);
for my $i (0 .. $#corpus) {
	my $e = $corpus[$i];
	my ($rc, $doc) = lint_json($e);
	next unless $doc;
	my $q = dollar_quote($e);
	# The whole input as one stream (lexing only), as the server function.
	my ($wrc, $whole) = lint($e, '--whole');
	chomp $whole;
	push @expect, ["entry $i whole", $wrc == 0 ? $whole : 'ERROR'];
	$script .= "SELECT pg_temp.fp($q);\n";
	if ($doc->{summary}{errors}) {
		$entries_in_error++;
		next;
	}
	my @st = grep { !$_->{depth} && $_->{fingerprint} } @{ $doc->{findings} };
	$entries_with_many++ if @st > 1;
	for my $j (0 .. $#st) {
		push @expect, ["entry $i statement $j", $st[$j]{fingerprint}];
		$script .= "SELECT pg_temp.fp(pg_catalog.convert_from(pg_catalog.substr(pg_catalog.convert_to($q, 'UTF8'), $st[$j]{location} + 1, $st[$j]{length}), 'UTF8'));\n";
	}
	$single_mismatch++ if @st == 1 && $st[0]{fingerprint} ne $whole;
	$single_mismatch++ if @st == 0 && $whole ne sha256_hex('');
}
my ($out, $err) = psql($su, $script);
my @got = split /\n/, $out;
my $mismatch = 0;
my $diag = '';
for my $k (0 .. $#expect) {
	if (($got[$k] // '') ne $expect[$k][1]) {
		$mismatch++;
		$diag .= "$expect[$k][0]: CLI $expect[$k][1] server " . ($got[$k] // '(none)') . "\n" if $mismatch <= 10;
	}
}
ok($single_mismatch == 0, "a one-statement input's statement fingerprint equals its --whole fingerprint",
	"$single_mismatch differ");
ok(@expect >= 300, scalar(@expect) . " statements fingerprinted from " . scalar(@corpus) .
	" inputs ($entries_with_many with several statements, $entries_in_error rejected by libpg_query's parser)");
ok($mismatch == 0 && @got == @expect,
	"CLI fingerprints equal agent_guard.fingerprint() for all " . scalar(@expect) . " statements",
	"$mismatch mismatches, " . scalar(@got) . " server rows\n$diag$err");

# Verdict parity: each case as the agent, in its own rolled-back transaction.
for my $c (grep { $_->{parity} eq 'parity' } @cases) {
	my ($o, $e) = psql($agent, "BEGIN;\n$c->{sql};\nROLLBACK;\n");
	my $server_denied = ($e =~ /ERROR:  42501: (agent_guard:|permission denied to set parameter "agent_guard)/) ? 1 : 0;
	my $server_error = (!$server_denied && $e =~ /ERROR:  (\w+): (.*)/) ? "$1 $2" : '';
	if ($c->{cli} eq 'runtime_check') {
		print "# runtime only: $c->{sql} -> server " .
			($server_denied ? 'denied' : $server_error ? "error $server_error" : 'allowed') . "\n";
		ok($c->{cli} eq 'runtime_check', "CLI needs a runtime check, not allow: $c->{sql}");
		next;
	}
	if ($c->{cli} eq 'deny') {
		ok($server_denied, "parity deny: $c->{sql}", $e);
	}
	else {
		ok(!$server_denied && !$server_error, "parity allow: $c->{sql}", $e);
	}
}

print "1..$n\n";
exit($failed ? 1 : 0);
