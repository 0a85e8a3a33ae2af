--
-- An untagged superuser is never affected: the same statements that are
-- refused to agents run, and leave no audit rows.
--
\set regdb :DBNAME
\c postgres postgres
SELECT coalesce(max(id), 0) AS last_id FROM agent_guard.audit_log \gset
\c :regdb postgres
\set VERBOSITY terse
SELECT agent_guard.is_agent_session();

CREATE TABLE su (id int PRIMARY KEY, note text);
INSERT INTO su SELECT g, 'n' FROM generate_series(1, 10) g;
CREATE TABLE su2 (id int);
INSERT INTO su2 VALUES (1), (2);
DELETE FROM su WHERE true;
INSERT INTO su SELECT g, 'n' FROM generate_series(1, 10) g;
UPDATE su SET note = 'u';
DELETE FROM su;
INSERT INTO su SELECT g, 'n' FROM generate_series(1, 10) g;
WITH d AS (DELETE FROM su RETURNING *) SELECT count(*) FROM d;
DO $$ BEGIN INSERT INTO su VALUES (1, 'a'); DELETE FROM su; END $$;
PREPARE su_del AS DELETE FROM su2;
EXECUTE su_del;
MERGE INTO su USING su2 ON true WHEN MATCHED THEN DELETE;
TRUNCATE su;
ALTER TABLE su DROP COLUMN note;
ALTER TABLE su RENAME TO su_renamed;
SELECT lo_unlink(lo_create(4343));
DROP TABLE su_renamed, su2;
CREATE SCHEMA su_schema;
CREATE TABLE su_schema.t (id int);
DROP SCHEMA su_schema CASCADE;

\c postgres postgres
SELECT count(*) AS new_audit_rows FROM agent_guard.audit_log WHERE id > :last_id;
\c :regdb
