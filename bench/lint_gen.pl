#!/usr/bin/perl
#
# bench/lint_gen.pl N — print N varied SQL statements for bench/lint_bench.sh:
# reads, inserts, bounded and unbounded DML, DDL, drops, CTEs, DO blocks and
# functions, in a fixed pseudo-random order (same file on every run).

use strict;
use warnings;

my $n = shift // 100000;
my $seed = 12345;
sub rnd { $seed = ($seed * 1103515245 + 12345) % 2147483648; return $seed % $_[0]; }

my @tpl = (
	sub { "SELECT id, name, created_at FROM orders_$_[0] WHERE id = $_[1] AND status <> 'closed';" },
	sub { "INSERT INTO events_$_[0] (id, kind, payload) VALUES ($_[1], 'click', '{\"k\": $_[1]}');" },
	sub { "UPDATE accounts_$_[0] SET balance = balance - 10, updated_at = now() WHERE id = $_[1];" },
	sub { "DELETE FROM sessions_$_[0] WHERE expires_at < now() - interval '$_[1] minutes';" },
	sub { "SELECT c.id, count(o.id) FROM customers c LEFT JOIN orders_$_[0] o ON o.customer_id = c.id GROUP BY c.id HAVING count(o.id) > $_[1] ORDER BY 2 DESC LIMIT 10;" },
	sub { "WITH recent AS (SELECT * FROM orders_$_[0] WHERE created_at > now() - interval '1 day') SELECT count(*) FROM recent;" },
	sub { "ALTER TABLE items_$_[0] ADD COLUMN note_$_[1] text DEFAULT 'n/a';" },
	sub { "CREATE INDEX IF NOT EXISTS idx_$_[0]_$_[1] ON items_$_[0] (sku, created_at);" },
	sub { "DELETE FROM audit_tmp_$_[0];" },
	sub { "DROP TABLE IF EXISTS old_$_[0]_$_[1];" },
	sub { "UPDATE flags_$_[0] SET enabled = false WHERE 1 = 1;" },
	sub { "MERGE INTO stock_$_[0] s USING incoming i ON s.sku = i.sku WHEN MATCHED THEN UPDATE SET qty = s.qty + i.qty WHEN NOT MATCHED THEN INSERT (sku, qty) VALUES (i.sku, i.qty);" },
	sub { "DO \$\$ BEGIN IF (SELECT count(*) FROM t_$_[0]) > $_[1] THEN DELETE FROM t_$_[0] WHERE id < $_[1]; END IF; END \$\$;" },
	sub { "SELECT /* dashboard */ date_trunc('hour', ts) AS h, avg(v) FROM metrics_$_[0] WHERE ts BETWEEN '2024-01-01' AND '2024-02-01' GROUP BY 1;" },
	sub { "TRUNCATE staging_$_[0];" },
	sub { "CREATE TABLE IF NOT EXISTS part_$_[0]_$_[1] (id bigint PRIMARY KEY, v numeric(12,2) NOT NULL, tag text);" },
);
for my $i (1 .. $n) {
	my $k = rnd(100) < 60 ? rnd(6) : rnd(scalar @tpl);
	print $tpl[$k]->(rnd(50), rnd(100000)), "\n";
}
