--
-- DROP of every object kind is refused to an agent that owns the objects;
-- only its own temporary tables may go.  Then a human drops them all.
--
\set regdb :DBNAME
\c postgres postgres
SELECT coalesce(max(id), 0) AS last_id FROM agent_guard.audit_log \gset
CREATE DATABASE ag_botdb OWNER ag_bot;
\c :regdb
ALTER ROLE ag_bot CREATEROLE;
CREATE ROLE ag_victim;

\c - ag_bot
\set VERBOSITY terse
CREATE TABLE d_t (id int PRIMARY KEY, parent int, note text);
INSERT INTO d_t SELECT g, NULL, 'n' FROM generate_series(1, 5) g;
CREATE TABLE d_child (id int REFERENCES d_t ON DELETE CASCADE);
CREATE VIEW d_v AS SELECT * FROM d_t;
CREATE MATERIALIZED VIEW d_mv AS SELECT * FROM d_t;
CREATE INDEX d_idx ON d_t (note);
CREATE SEQUENCE d_seq;
CREATE SCHEMA d_schema;
CREATE FUNCTION d_f(int) RETURNS int LANGUAGE sql AS 'SELECT $1';
CREATE PROCEDURE d_p() LANGUAGE sql AS 'SELECT 1';
CREATE AGGREGATE d_agg(int) (sfunc = int4pl, stype = int);
CREATE TYPE d_type AS (a int);
CREATE TYPE d_enum AS ENUM ('a', 'b');
CREATE DOMAIN d_dom AS int CHECK (VALUE > 0);
CREATE FUNCTION d_trgf() RETURNS trigger LANGUAGE plpgsql AS 'BEGIN RETURN NEW; END';
CREATE TRIGGER d_trg BEFORE INSERT ON d_t FOR EACH ROW EXECUTE FUNCTION d_trgf();
CREATE RULE d_rule AS ON UPDATE TO d_v DO INSTEAD NOTHING;
CREATE POLICY d_pol ON d_t USING (true);
CREATE OPERATOR === (leftarg = int, rightarg = int, function = int4eq);
CREATE COLLATION d_coll FROM "C";
CREATE TEXT SEARCH CONFIGURATION d_ts (COPY = simple);
CREATE STATISTICS d_stat ON id, parent FROM d_t;
CREATE CAST (d_type AS text) WITH INOUT;

DROP TABLE d_t;
DROP TABLE d_t CASCADE;
DROP TABLE IF EXISTS d_t, d_nonexistent;
DROP TABLE d_nonexistent;
DROP VIEW d_v;
DROP MATERIALIZED VIEW d_mv;
DROP INDEX d_idx;
DROP INDEX CONCURRENTLY d_idx;
DROP SEQUENCE d_seq;
DROP SCHEMA d_schema;
DROP SCHEMA app CASCADE;
DROP FUNCTION d_f(int);
DROP PROCEDURE d_p();
DROP ROUTINE d_f;
DROP AGGREGATE d_agg(int);
DROP TYPE d_type;
DROP TYPE d_enum;
DROP DOMAIN d_dom;
DROP TRIGGER d_trg ON d_t;
DROP RULE d_rule ON d_v;
DROP POLICY d_pol ON d_t;
DROP OPERATOR === (int, int);
DROP COLLATION d_coll;
DROP TEXT SEARCH CONFIGURATION d_ts;
DROP STATISTICS d_stat;
DROP CAST (d_type AS text);
DROP OWNED BY ag_bot;
DROP OWNED BY CURRENT_USER CASCADE;
DROP DATABASE ag_botdb;
DROP ROLE ag_victim;
DROP EXTENSION agent_guard;
DROP EXTENSION IF EXISTS agent_guard CASCADE;

-- Everything is still there.
SELECT count(*) FROM d_t;
SELECT count(*) FROM pg_class
 WHERE relname IN ('d_t', 'd_child', 'd_v', 'd_mv', 'd_idx', 'd_seq');
SELECT count(*) FROM pg_proc WHERE proname IN ('d_f', 'd_p', 'd_agg', 'd_trgf');
SELECT count(*) FROM pg_type WHERE typname IN ('d_type', 'd_enum', 'd_dom');
SELECT datname FROM pg_database WHERE datname = 'ag_botdb';
SELECT rolname FROM pg_roles WHERE rolname = 'ag_victim';

-- The session's own temporary tables are scratch space.
CREATE TEMP TABLE d_tmp (id int);
CREATE TEMP TABLE d_tmp2 (id int);
CREATE INDEX ON d_tmp (id);
DROP TABLE d_tmp;
DROP TABLE IF EXISTS d_tmp2;
-- ... but not together with a real table.
CREATE TEMP TABLE d_tmp3 (id int);
DROP TABLE d_tmp3, d_t;
SELECT count(*) FROM d_t;

-- A human drops them all.
\c - postgres
\set VERBOSITY default
SET search_path = app, public;
DROP TRIGGER d_trg ON d_t;
DROP RULE d_rule ON d_v;
DROP POLICY d_pol ON d_t;
DROP CAST (d_type AS text);
DROP STATISTICS d_stat;
DROP TEXT SEARCH CONFIGURATION d_ts;
DROP COLLATION d_coll;
DROP OPERATOR === (int, int);
DROP AGGREGATE d_agg(int);
DROP FUNCTION d_f(int);
DROP PROCEDURE d_p();
DROP FUNCTION d_trgf();
DROP TYPE d_type, d_enum;
DROP DOMAIN d_dom;
DROP INDEX d_idx;
DROP SEQUENCE d_seq;
DROP SCHEMA d_schema;
DROP MATERIALIZED VIEW d_mv;
DROP VIEW d_v;
DROP TABLE d_t CASCADE;
DROP TABLE d_child;
DROP ROLE ag_victim;
DROP DATABASE ag_botdb;
ALTER ROLE ag_bot NOCREATEROLE;

\c postgres postgres
SELECT command_tag, verdict, rule, objects
  FROM agent_guard.audit_log WHERE id > :last_id ORDER BY id;
\c :regdb
