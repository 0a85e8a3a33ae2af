/*-------------------------------------------------------------------------
 *
 * lint_tamper.c
 *		agent_guard_lint: self-protection, as src/classify.c
 *		(ag_classify_utility) and src/tamper.c refuse it to agent sessions.
 *
 *	- CREATE EXTENSION (of anything), CREATE LANGUAGE, functions in C,
 *	  internal or another untrusted language;
 *	- event triggers, foreign data wrappers, servers and user mappings;
 *	- COPY to or from a program, COPY to a server file;
 *	- SET session_replication_role;
 *	- calls of functions that reach outside the guard (signals, server
 *	  files, large-object file transfer, dblink, replication state);
 *	- creating objects in, moving objects to, or writing to tables of the
 *	  agent_guard schema (COPY FROM into them: a runtime check, as the
 *	  server's executor check does not see COPY FROM);
 *	- CREATE RULE ... DO INSTEAD on a table (destructive_alter).
 *
 * The server checks these before anything else, so a finding here replaces
 * whatever else the statement was found to be.  What only the catalogs
 * know (whether a language is trusted, whether a rule's target is a view)
 * is a runtime check unless the input itself answers it.  Strings are
 * allocated in the AglLint's arena.
 *
 *-------------------------------------------------------------------------
 */
#include <stdio.h>
#include <string.h>

#include "lint_int.h"

#define GUARD_SCHEMA "agent_guard"

/* Functions of pg_catalog an agent session may not call (src/ag_vocab.h). */
static const char *const catalog_denied[] = {
	AG_CATALOG_DENIED_FUNCTIONS, NULL
};

/* Languages PostgreSQL ships as trusted. */
static const char *const trusted_languages[] = {
	"sql", "plpgsql", "plperl", "pltcl", "plv8", NULL
};

/* Mark r as guard tampering, replacing what else was found. */
static void
set_tamper(AglResult *r, AgOpClass op, const char *object, const char *reason)
{
	r->op = op;
	r->verdict = AGL_DENY;
	r->objects = object;
	r->reason = reason;
}

/*
 * Is a function of this language untrusted?  1: yes, 0: no, -1: only the
 * server knows (pg_language.lanpltrusted).  Offline, c, internal and names
 * ending in "u" (plpython3u, plperlu, pltclu) are untrusted.
 */
static int
language_untrusted(const char *lang)
{
	size_t		len = strlen(lang);

	if (strcmp(lang, "c") == 0 || strcmp(lang, "internal") == 0)
		return 1;
	if (agl_in_list(trusted_languages, lang))
		return 0;
	if (len > 1 && lang[len - 1] == 'u')
		return 1;
	return -1;
}

/* CREATE FUNCTION / PROCEDURE in an untrusted language. */
static void
check_function_language(AglLint *L, const JVal *b, AglResult *r)
{
	const char *lang = agl_string_val(agl_defelem_arg(jget(b, "options"), "language"));
	int			untrusted;

	if (lang == NULL)
		return;					/* SQL-standard body: language sql */
	untrusted = language_untrusted(lang);
	if (untrusted > 0)
		set_tamper(r, AG_OP_GUARD_TAMPER, agl_printf(L->arena, "language %s", lang),
				   "an agent may not create functions in C or another untrusted language");
	else if (untrusted < 0)
		agl_result_runtime(r, agl_printf(L->arena,
										 "whether language %s is trusted is known only to the server (untrusted: refused)",
										 lang));
}

/*
 * CREATE [OR REPLACE] RULE ... DO INSTEAD: refused on a table (it would
 * make writes or reads vanish, or turn the table into a view), allowed on
 * a view and on the session's own temporary tables.  The input may have
 * said which the target is; otherwise only the server knows.
 */
static void
check_rule(AglLint *L, const JVal *b, AglResult *r)
{
	const JVal *rv = jget(b, "relation");
	const char *rel = jstr(rv, "relname");
	const char *obj;

	if (!jbool(b, "instead") || rel == NULL || agl_rangevar_is_temp(L, rv))
		return;
	if (agl_entry_find(L->views, rel))
		return;
	obj = agl_printf(L->arena, "relation %s (rule %s)", agl_rangevar_name(L, rv),
					 jstr(b, "rulename") ? jstr(b, "rulename") : "?");
	if (agl_entry_find(L->tables, rel))
		set_tamper(r, AG_OP_ALTER_DESTRUCTIVE, obj,
				   "an agent may not create INSTEAD rules on tables, which would make writes or reads vanish");
	else
	{
		r->op = AG_OP_ALTER_DESTRUCTIVE;
		r->verdict = AGL_RUNTIME;
		r->objects = obj;
		r->reason = "an INSTEAD rule is refused on a table and allowed on a view; which one this is, only the server knows";
	}
}

/* The schema a CREATE statement puts its object in, if it names one. */
static const char *
created_in_schema(const char *t, const JVal *b)
{
	const JVal *rv = NULL;
	const JVal *names = NULL;
	const JVal *items;

	if (strcmp(t, "CreateStmt") == 0 || strcmp(t, "IndexStmt") == 0)
		rv = jget(b, "relation");
	else if (strcmp(t, "CreateForeignTableStmt") == 0)
		rv = jget(jget(b, "base"), "relation");
	else if (strcmp(t, "CreateTableAsStmt") == 0)
		rv = jget(jget(b, "into"), "rel");
	else if (strcmp(t, "ViewStmt") == 0)
		rv = jget(b, "view");
	else if (strcmp(t, "CreateSeqStmt") == 0)
		rv = jget(b, "sequence");
	else if (strcmp(t, "CompositeTypeStmt") == 0)
		rv = jget(b, "typevar");
	else if (strcmp(t, "CreateFunctionStmt") == 0)
		names = jget(b, "funcname");
	else if (strcmp(t, "DefineStmt") == 0)
		names = jget(b, "defnames");
	else if (strcmp(t, "CreateEnumStmt") == 0 || strcmp(t, "CreateRangeStmt") == 0)
		names = jget(b, "typeName");
	else if (strcmp(t, "CreateDomainStmt") == 0)
		names = jget(b, "domainname");
	if (rv)
		return jstr(rv, "schemaname");
	items = agl_list_items(names);
	if (items && items->n >= 2)
		return agl_string_val(items->items[items->n - 2]);
	return NULL;
}

/*
 * Self-protection rules for a utility statement already classified into r
 * by lint_utility.c; a refusal here replaces that result.
 */
void
agl_classify_tamper(AglCtx *cx, const char *t, const JVal *b, AglResult *r)
{
	AglLint    *L = cx->L;

	if (strcmp(t, "CreateExtensionStmt") == 0)
	{
		/* also CREATE LANGUAGE without HANDLER, which PG15 parses as this */
		r->command = "CREATE EXTENSION";
		set_tamper(r, AG_OP_GUARD_TAMPER,
				   agl_printf(L->arena, "extension %s",
							  jstr(b, "extname") ? jstr(b, "extname") : "?"),
				   "an agent may not create extensions, which can load code into the server");
	}
	else if (strcmp(t, "CreatePLangStmt") == 0)
	{
		r->command = "CREATE LANGUAGE";
		set_tamper(r, AG_OP_GUARD_TAMPER,
				   agl_printf(L->arena, "language %s",
							  jstr(b, "plname") ? jstr(b, "plname") : "?"),
				   "an agent may not create procedural languages");
	}
	else if (strcmp(t, "CreateFunctionStmt") == 0)
		check_function_language(L, b, r);
	else if (strcmp(t, "CreateEventTrigStmt") == 0 || strcmp(t, "AlterEventTrigStmt") == 0)
	{
		r->command = t[0] == 'C' ? "CREATE EVENT TRIGGER" : "ALTER EVENT TRIGGER";
		set_tamper(r, AG_OP_GUARD_TAMPER,
				   agl_printf(L->arena, "event trigger %s",
							  jstr(b, "trigname") ? jstr(b, "trigname") : "?"),
				   "an agent may not create or alter event triggers");
	}
	else if (strcmp(t, "CreateForeignServerStmt") == 0 ||
			 strcmp(t, "AlterForeignServerStmt") == 0 ||
			 strcmp(t, "CreateUserMappingStmt") == 0 ||
			 strcmp(t, "AlterUserMappingStmt") == 0 ||
			 strcmp(t, "CreateFdwStmt") == 0 || strcmp(t, "AlterFdwStmt") == 0)
	{
		const char *server = jstr(b, "servername");
		const char *fdw = jstr(b, "fdwname");

		r->command = strcmp(t, "CreateForeignServerStmt") == 0 ? "CREATE SERVER" :
			strcmp(t, "AlterForeignServerStmt") == 0 ? "ALTER SERVER" :
			strcmp(t, "CreateUserMappingStmt") == 0 ? "CREATE USER MAPPING" :
			strcmp(t, "AlterUserMappingStmt") == 0 ? "ALTER USER MAPPING" :
			strcmp(t, "CreateFdwStmt") == 0 ? "CREATE FOREIGN DATA WRAPPER" :
			"ALTER FOREIGN DATA WRAPPER";
		set_tamper(r, AG_OP_GUARD_TAMPER,
				   strstr(t, "Fdw") ?
				   agl_printf(L->arena, "foreign data wrapper %s", fdw ? fdw : "?") :
				   agl_printf(L->arena, "server %s", server ? server : "?"),
				   "an agent may not set up foreign servers or user mappings, which could connect back to this server as another role");
	}
	else if (strcmp(t, "CopyStmt") == 0)
	{
		const char *file = jstr(b, "filename");
		bool		program = jbool(b, "is_program");

		r->command = "COPY";
		if (program || (file && !jbool(b, "is_from")))
			set_tamper(r, AG_OP_GUARD_TAMPER,
					   agl_printf(L->arena, "%s %s", program ? "program" : "server file",
								  file ? file : "?"),
					   "an agent may not run programs or write files on the database server");
		else if (jbool(b, "is_from") &&
				 agl_streq(jstr(jget(b, "relation"), "schemaname"), GUARD_SCHEMA))
		{
			/*
			 * The server refuses writes to its tables in the executor hook,
			 * which COPY FROM does not go through: only grants stop it.
			 */
			agl_result_runtime(r, "COPY FROM into agent_guard's tables: only privileges stop it (the guard's write check does not see COPY FROM)");
		}
	}
	else if (strcmp(t, "RuleStmt") == 0)
		check_rule(L, b, r);
	else if (strcmp(t, "VariableSetStmt") == 0)
	{
		if (agl_streq(jstr(b, "kind"), "VAR_SET_VALUE") &&
			agl_streq(jstr(b, "name"), "session_replication_role"))
			set_tamper(r, AG_OP_GUARD_TAMPER, "setting session_replication_role",
					   "an agent may not change session_replication_role, which disables triggers and foreign keys");
	}
	else if (strcmp(t, "AlterObjectSchemaStmt") == 0)
	{
		if (agl_streq(jstr(b, "newschema"), GUARD_SCHEMA))
			set_tamper(r, AG_OP_GUARD_TAMPER, "schema " GUARD_SCHEMA,
					   "an agent may not create or alter objects in agent_guard's schema");
	}

	if (agl_streq(created_in_schema(t, b), GUARD_SCHEMA))
		set_tamper(r, AG_OP_GUARD_TAMPER, "schema " GUARD_SCHEMA,
				   "an agent may not create or alter objects in agent_guard's schema");
}

/*
 * A call of a function that reaches outside the guard: the pg_catalog ones
 * of catalog_denied (unqualified, unless the input created a function of
 * that name), and dblink's.  Returns true, with r marked, if refused.
 */
bool
agl_call_is_tamper(AglCtx *cx, const JVal *funcname, AglResult *r)
{
	AglLint    *L = cx->L;
	const JVal *items = agl_list_items(funcname);
	const char *name = agl_last_name(funcname);
	const char *schema = (items && items->n == 2) ? agl_string_val(items->items[0]) : NULL;
	bool		catalog = schema && strcmp(schema, "pg_catalog") == 0;
	bool		denied = false;

	if (name == NULL || (items && items->n > 2))
		return false;
	if (agl_in_list(catalog_denied, name))
		denied = catalog || (schema == NULL && !agl_entry_find(L->functions, name));
	else if (strncmp(name, "dblink", 6) == 0 && !catalog)
		denied = schema != NULL || !agl_entry_find(L->functions, name);
	if (!denied)
		return false;
	agl_result_merge(r, AG_OP_GUARD_TAMPER, AGL_DENY, NULL,
					 agl_printf(L->arena, "function %s()", name),
					 "an agent may not signal other sessions, move files on the server, open connections with dblink, or drop replication state");
	return true;
}

/*
 * A write (INSERT, UPDATE, DELETE, MERGE) to a table of the agent_guard
 * schema.  Returns true, with r marked, if refused.
 */
bool
agl_guard_schema_write(AglCtx *cx, const JVal *rv, AglResult *r)
{
	if (!agl_streq(jstr(rv, "schemaname"), GUARD_SCHEMA))
		return false;
	set_tamper(r, AG_OP_GUARD_TAMPER,
			   agl_printf(cx->L->arena, "table %s", agl_rangevar_name(cx->L, rv)),
			   "an agent may not write to agent_guard's own tables");
	return true;
}
