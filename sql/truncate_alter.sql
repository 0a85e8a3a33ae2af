--
-- TRUNCATE and destructive ALTERs are refused to an agent; harmless ALTERs
-- and the session's temporary tables are not.  The drops no utility
-- statement names (ALTER DOMAIN, lo_unlink) are caught at the object level.
--
\set regdb :DBNAME
\c postgres postgres
SELECT coalesce(max(id), 0) AS last_id FROM agent_guard.audit_log \gset
\c :regdb ag_bot
\set VERBOSITY terse

CREATE TABLE ta_parent (id int PRIMARY KEY, note text, n int);
CREATE TABLE ta_kid (id int PRIMARY KEY, parent int REFERENCES ta_parent);
INSERT INTO ta_parent SELECT g, 'p' || g, g FROM generate_series(1, 20) g;
INSERT INTO ta_kid SELECT g, g FROM generate_series(1, 20) g;
CREATE TABLE ta_part (id int, k int) PARTITION BY RANGE (k);
CREATE TABLE ta_part_1 PARTITION OF ta_part FOR VALUES FROM (0) TO (10);
CREATE TABLE ta_part_2 PARTITION OF ta_part FOR VALUES FROM (10) TO (20);
INSERT INTO ta_part SELECT g, g FROM generate_series(0, 19) g;
CREATE FUNCTION ta_trgf() RETURNS trigger LANGUAGE plpgsql AS 'BEGIN RETURN NEW; END';
CREATE TRIGGER ta_trg BEFORE INSERT ON ta_parent FOR EACH ROW EXECUTE FUNCTION ta_trgf();
CREATE TYPE ta_comp AS (a int, b int);
CREATE DOMAIN ta_dom AS int CONSTRAINT ta_dom_pos CHECK (VALUE > 0);

TRUNCATE ta_kid;
TRUNCATE TABLE ONLY ta_kid;
TRUNCATE ta_parent CASCADE;
TRUNCATE ta_parent, ta_kid;
TRUNCATE ta_part;
TRUNCATE ta_kid RESTART IDENTITY;

ALTER TABLE ta_parent DROP COLUMN note;
ALTER TABLE ta_parent DROP COLUMN IF EXISTS note CASCADE;
ALTER TABLE ta_kid DROP CONSTRAINT ta_kid_parent_fkey;
ALTER TABLE ta_parent ALTER COLUMN n TYPE bigint;
ALTER TABLE ta_parent ALTER n SET DATA TYPE text;
ALTER TABLE ta_part DETACH PARTITION ta_part_2;
ALTER TABLE ta_part DETACH PARTITION ta_part_2 CONCURRENTLY;
ALTER TABLE ta_parent SET UNLOGGED;
ALTER TABLE ta_parent RENAME TO ta_parent_old;
ALTER TABLE ta_parent RENAME COLUMN note TO note_old;
ALTER TABLE ta_parent RENAME CONSTRAINT ta_parent_pkey TO pk_old;
ALTER TABLE ta_parent SET SCHEMA public;
ALTER TABLE ta_parent DISABLE TRIGGER ta_trg;
ALTER TABLE ta_parent DISABLE TRIGGER ALL;
ALTER TABLE ta_parent ADD COLUMN extra int, DROP COLUMN n;
ALTER TYPE ta_comp DROP ATTRIBUTE b;
ALTER DOMAIN ta_dom DROP CONSTRAINT ta_dom_pos;

-- Nothing was lost.
SELECT count(*) AS parents, count(note) AS notes FROM ta_parent;
SELECT count(*) FROM ta_kid;
SELECT count(*) FROM ta_part;
SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conname = 'ta_kid_parent_fkey';
SELECT relpersistence FROM pg_class WHERE relname = 'ta_parent';

-- Harmless ALTERs go through.
ALTER TABLE ta_parent ADD COLUMN extra int DEFAULT 0;
ALTER TABLE ta_parent ALTER COLUMN extra SET DEFAULT 1;
ALTER TABLE ta_parent ALTER COLUMN extra DROP DEFAULT;
ALTER TABLE ta_parent ADD CONSTRAINT ta_n_pos CHECK (n > 0);
CREATE INDEX ta_parent_note ON ta_parent (note);
ALTER TABLE ta_parent ALTER COLUMN note SET STATISTICS 200;
COMMENT ON TABLE ta_parent IS 'parents';
-- Large objects: creating is fine, destroying is not.
SELECT lo_create(4242) AS lo;
SELECT lo_unlink(4242);
DO $$ DECLARE r int; BEGIN r := lo_unlink(4242); END $$;
SELECT count(*) FROM pg_largeobject_metadata WHERE oid = 4242;

-- Temporary tables may be truncated and altered at will.
CREATE TEMP TABLE ta_tmp (id int, note text);
INSERT INTO ta_tmp VALUES (1, 'a');
TRUNCATE ta_tmp;
ALTER TABLE ta_tmp DROP COLUMN note;
ALTER TABLE ta_tmp RENAME TO ta_tmp2;
DROP TABLE ta_tmp2;

\c postgres postgres
SELECT command_tag, verdict, rule, objects
  FROM agent_guard.audit_log WHERE id > :last_id ORDER BY id;
\c :regdb
