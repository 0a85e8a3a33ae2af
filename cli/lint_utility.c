/*-------------------------------------------------------------------------
 *
 * lint_utility.c
 *		agent_guard_lint: one statement's verdict — the entry point for
 *		every parse node, and the utility statements of src/classify.c's
 *		ag_classify_utility: DROP of every kind, TRUNCATE, destructive
 *		ALTER TABLE subcommands, renames, SET SCHEMA, roles, labels,
 *		settings; and what the input creates that later statements depend
 *		on (temporary tables, triggers and rules, prepared statements).
 *
 * Object names and commands are allocated in the AglLint's arena.
 *
 *-------------------------------------------------------------------------
 */
#include <stdio.h>
#include <string.h>

#include "lint_int.h"

/* The destructive ALTER TABLE subcommand this is, or NULL. */
static const char *
alter_destructive_name(const char *subtype)
{
	static const char *const map[][2] = {
		{"AT_DropColumn", "DROP COLUMN"}, {"AT_DropColumnRecurse", "DROP COLUMN"},
		{"AT_DropConstraint", "DROP CONSTRAINT"},
		{"AT_DropConstraintRecurse", "DROP CONSTRAINT"},
		{"AT_AlterColumnType", "ALTER COLUMN TYPE"},
		{"AT_DetachPartition", "DETACH PARTITION"},
		{"AT_DetachPartitionFinalize", "DETACH PARTITION"},
		{"AT_SetUnLogged", "SET UNLOGGED"}, {"AT_DropInherit", "NO INHERIT"},
		{"AT_DisableTrig", "DISABLE TRIGGER"}, {"AT_DisableTrigAll", "DISABLE TRIGGER"},
		{"AT_DisableTrigUser", "DISABLE TRIGGER"}, {"AT_DisableRule", "DISABLE RULE"},
	};
	size_t		i;

	for (i = 0; subtype && i < sizeof(map) / sizeof(map[0]); i++)
		if (strcmp(subtype, map[i][0]) == 0)
			return map[i][1];
	return NULL;
}

/* DROP of any object kind; the input's own temporary tables are scratch. */
static void
classify_drop(AglCtx *cx, const JVal *b, AglResult *r)
{
	AglLint    *L = cx->L;
	const char *type = jstr(b, "removeType");
	const JVal *objects = jget(b, "objects");
	bool		relation = agl_objtype_is_relation(type);
	bool		all_temp = relation;
	const char *word = agl_objtype_word(L, type);
	int			i;

	r->command = agl_printf(L->arena, "DROP %s", word);
	for (i = 5; r->command[i]; i++)
		if (r->command[i] >= 'a' && r->command[i] <= 'z')
			((char *) r->command)[i] -= 'a' - 'A';
	for (i = 0; objects && objects->t == J_ARR && i < objects->n; i++)
	{
		const JVal *o = objects->items[i];
		const char *name;

		if (agl_list_items(o))
		{
			const JVal *parts = agl_list_items(o);

			name = agl_dotted_name(L, o);
			if (relation &&
				!agl_rel_is_temp(L, parts->n >= 2 ?
								 agl_string_val(parts->items[parts->n - 2]) : NULL,
								 agl_last_name(o)))
				all_temp = false;
		}
		else if (agl_string_val(o))
		{
			name = agl_string_val(o);
			all_temp = false;
		}
		else if (jnode_is(o, "ObjectWithArgs"))
		{
			name = agl_printf(L->arena, "%s()",
							  agl_dotted_name(L, jget(jnode_is(o, "ObjectWithArgs"), "objname")));
			all_temp = false;
		}
		else if (jnode_is(o, "TypeName"))
		{
			name = agl_dotted_name(L, jget(jnode_is(o, "TypeName"), "names"));
			all_temp = false;
		}
		else
		{
			name = "?";
			all_temp = false;
		}
		agl_add_object(L, r, agl_printf(L->arena, "%s %s", word, name));
	}
	if (all_temp && objects && objects->n > 0)
	{
		/* The input's own temporary tables: scratch space. */
		for (i = 0; i < objects->n; i++)
			agl_entry_remove(&L->temp_tables, agl_last_name(objects->items[i]));
		return;
	}
	agl_result_set(r, AG_OP_DROP, "an agent may not drop database objects");
}

/* Remember whether the input created this relation as a view or a table. */
static void
note_relation(AglLint *L, const JVal *rv, bool is_view)
{
	const char *rel = jstr(rv, "relname");

	if (rel == NULL)
		return;
	agl_entry_remove(is_view ? &L->tables : &L->views, rel);
	agl_entry_put(L, is_view ? &L->views : &L->tables, rel);
}

/* A utility statement: the rules of src/classify.c's ag_classify_utility. */
static void
classify_utility(AglCtx *cx, const char *t, const JVal *b, const char *src, AglResult *r)
{
	AglLint    *L = cx->L;
	int			i;

	if (strcmp(t, "DropStmt") == 0)
		classify_drop(cx, b, r);
	else if (strcmp(t, "DropOwnedStmt") == 0 || strcmp(t, "DropRoleStmt") == 0 ||
			 strcmp(t, "DropdbStmt") == 0 || strcmp(t, "DropTableSpaceStmt") == 0 ||
			 strcmp(t, "DropSubscriptionStmt") == 0 ||
			 strcmp(t, "DropUserMappingStmt") == 0)
	{
		const char *n = jstr(b, "dbname") ? jstr(b, "dbname") :
		jstr(b, "tablespacename") ? jstr(b, "tablespacename") :
		jstr(b, "subname") ? jstr(b, "subname") : jstr(b, "servername");

		r->command = strcmp(t, "DropOwnedStmt") == 0 ? "DROP OWNED" :
			strcmp(t, "DropRoleStmt") == 0 ? "DROP ROLE" :
			strcmp(t, "DropdbStmt") == 0 ? "DROP DATABASE" :
			strcmp(t, "DropTableSpaceStmt") == 0 ? "DROP TABLESPACE" :
			strcmp(t, "DropSubscriptionStmt") == 0 ? "DROP SUBSCRIPTION" : "DROP USER MAPPING";
		if (n)
			agl_add_object(L, r, n);
		else
		{
			const JVal *roles = jget(b, "roles");

			for (i = 0; roles && roles->t == J_ARR && i < roles->n; i++)
			{
				const char *rn = jstr(jnode_is(roles->items[i], "RoleSpec"), "rolename");

				agl_add_object(L, r, agl_printf(L->arena, "role %s", rn ? rn : "(special)"));
			}
		}
		agl_result_set(r, AG_OP_DROP, "an agent may not drop database objects");
	}
	else if (strcmp(t, "TruncateStmt") == 0)
	{
		const JVal *rels = jget(b, "relations");
		bool		all_temp = true;

		r->command = "TRUNCATE";
		for (i = 0; rels && rels->t == J_ARR && i < rels->n; i++)
		{
			const JVal *rv = jnode_is(rels->items[i], "RangeVar");

			if (!agl_rangevar_is_temp(L, rv))
				all_temp = false;
			agl_add_object(L, r, agl_printf(L->arena, "table %s", agl_rangevar_name(L, rv)));
		}
		if (!all_temp)
			agl_result_set(r, AG_OP_TRUNCATE, "an agent may not empty tables with TRUNCATE");
	}
	else if (strcmp(t, "AlterTableStmt") == 0)
	{
		const JVal *rv = jget(b, "relation");
		const JVal *cmds = jget(b, "cmds");

		r->command = "ALTER TABLE";
		r->op = AG_OP_DDL;
		if (agl_rangevar_is_temp(L, rv))
		{
			r->op = AG_OP_OTHER;
			return;
		}
		for (i = 0; cmds && cmds->t == J_ARR && i < cmds->n; i++)
		{
			const JVal *c = jnode_is(cmds->items[i], "AlterTableCmd");
			const char *what = alter_destructive_name(jstr(c, "subtype"));

			if (what == NULL)
				continue;
			agl_add_object(L, r, agl_printf(L->arena, "table %s (%s%s%s)", agl_rangevar_name(L, rv),
											what, jstr(c, "name") ? " " : "",
											jstr(c, "name") ? jstr(c, "name") : ""));
			agl_result_set(r, AG_OP_ALTER_DESTRUCTIVE,
						   "an agent may not drop columns or constraints, change column types, detach partitions, make tables unlogged or disable triggers");
		}
	}
	else if (strcmp(t, "RenameStmt") == 0)
	{
		const char *rt = jstr(b, "renameType");

		r->command = "ALTER ... RENAME";
		if (agl_objtype_is_relation(rt) || agl_streq(rt, "OBJECT_COLUMN") ||
			agl_streq(rt, "OBJECT_TABCONSTRAINT"))
		{
			if (agl_rangevar_is_temp(L, jget(b, "relation")))
				return;
			agl_add_object(L, r, agl_printf(L->arena, "relation %s",
											agl_rangevar_name(L, jget(b, "relation"))));
		}
		else if (agl_streq(rt, "OBJECT_SCHEMA") || agl_streq(rt, "OBJECT_DATABASE"))
			agl_add_object(L, r, agl_printf(L->arena, "%s %s", agl_objtype_word(L, rt),
											jstr(b, "subname") ? jstr(b, "subname") : "?"));
		else
			return;
		agl_result_set(r, AG_OP_ALTER_DESTRUCTIVE,
					   "an agent may not rename tables, columns, schemas or databases that applications depend on");
	}
	else if (strcmp(t, "AlterObjectSchemaStmt") == 0)
	{
		r->command = "ALTER ... SET SCHEMA";
		if (!agl_objtype_is_relation(jstr(b, "objectType")) ||
			agl_rangevar_is_temp(L, jget(b, "relation")))
			return;
		agl_add_object(L, r, agl_printf(L->arena, "relation %s",
										agl_rangevar_name(L, jget(b, "relation"))));
		agl_result_set(r, AG_OP_ALTER_DESTRUCTIVE, "an agent may not move tables to another schema");
	}
	else if (strcmp(t, "SecLabelStmt") == 0)
	{
		/*
		 * Without FOR, the label goes to the one registered provider;
		 * agent_guard registers none (its labels are handled in its
		 * utility hook), so such a statement is not its business.
		 */
		r->command = "SECURITY LABEL";
		if (agl_streq(jstr(b, "provider"), "agent_guard"))
			agl_result_set(r, AG_OP_GUARD_TAMPER, "an agent may not set or remove agent_guard labels");
	}
	else if (strcmp(t, "AlterSystemStmt") == 0)
	{
		r->command = "ALTER SYSTEM";
		agl_result_set(r, AG_OP_GUARD_TAMPER, "an agent may not change the server configuration");
	}
	else if (strcmp(t, "LoadStmt") == 0)
	{
		r->command = "LOAD";
		agl_add_object(L, r, agl_printf(L->arena, "library %s",
										jstr(b, "filename") ? jstr(b, "filename") : "?"));
		agl_result_set(r, AG_OP_GUARD_TAMPER, "an agent may not load libraries into the server");
	}
	else if (strcmp(t, "CreateRoleStmt") == 0 || strcmp(t, "AlterRoleStmt") == 0 ||
			 strcmp(t, "AlterRoleSetStmt") == 0 || strcmp(t, "GrantRoleStmt") == 0)
	{
		r->command = strcmp(t, "CreateRoleStmt") == 0 ? "CREATE ROLE" :
			strcmp(t, "GrantRoleStmt") == 0 ? "GRANT ROLE" : "ALTER ROLE";
		agl_result_set(r, AG_OP_GUARD_TAMPER,
					   "an agent may not create or alter roles or role memberships");
	}
	else if (strcmp(t, "AlterExtensionStmt") == 0 ||
			 strcmp(t, "AlterExtensionContentsStmt") == 0)
	{
		r->command = "ALTER EXTENSION";
		agl_result_set(r, AG_OP_GUARD_TAMPER, "an agent may not alter extensions");
	}
	else if (strcmp(t, "AlterDomainStmt") == 0 && agl_streq(jstr(b, "subtype"), "X"))
	{
		r->command = "ALTER DOMAIN";
		agl_add_object(L, r, agl_printf(L->arena, "constraint %s on domain %s",
										jstr(b, "name") ? jstr(b, "name") : "?",
										agl_dotted_name(L, jget(b, "typeName"))));
		agl_result_set(r, AG_OP_DROP, "an agent may not drop database objects");
	}
	else if (strcmp(t, "VariableSetStmt") == 0 || strcmp(t, "AlterDatabaseSetStmt") == 0)
	{
		const JVal *set = strcmp(t, "VariableSetStmt") == 0 ? b :
		jnode_is(jget(b, "setstmt"), "VariableSetStmt");
		const char *name = jstr(set, "name");

		r->command = "SET";
		if (name && strncasecmp(name, "agent_guard.", 12) == 0 &&
			strcasecmp(name, "agent_guard.approval_token") != 0)
		{
			agl_add_object(L, r, agl_printf(L->arena, "setting %s", name));
			agl_result_set(r, AG_OP_GUARD_TAMPER,
						   "an agent session cannot change agent_guard settings");
		}
	}
	else if (strcmp(t, "DoStmt") == 0)
	{
		r->command = "DO";
		agl_classify_do(cx, b, src, r);
	}
	else if (strcmp(t, "CreateFunctionStmt") == 0)
	{
		r->command = jbool(b, "is_procedure") ? "CREATE PROCEDURE" : "CREATE FUNCTION";
		agl_classify_create_function(cx, b, src, r);
	}
	else if (strcmp(t, "CallStmt") == 0)
	{
		const JVal *fc = jnode_is(jget(b, "funccall"), "FuncCall") ?
		jnode_is(jget(b, "funccall"), "FuncCall") : jget(b, "funccall");

		r->command = "CALL";
		agl_walk_executed(cx, jget(fc, "args"), r);
		agl_classify_call(cx, jget(fc, "funcname"), jget(fc, "args"), r, NULL);
	}
	else if (strcmp(t, "ExplainStmt") == 0)
	{
		const JVal *opts = jget(b, "options");
		bool		analyze = false;

		r->command = "EXPLAIN";
		r->op = AG_OP_READ;
		for (i = 0; opts && opts->t == J_ARR && i < opts->n; i++)
		{
			const JVal *d = jnode_is(opts->items[i], "DefElem");

			if (agl_streq(jstr(d, "defname"), "analyze"))
			{
				const JVal *arg = jget(d, "arg");
				const char *s = agl_string_val(arg);
				Cv			c = agl_cv_bool_of(agl_const_eval(L, arg));

				analyze = arg == NULL || c.k == CV_TRUE ||
					(s && (strcasecmp(s, "true") == 0 || strcasecmp(s, "on") == 0));
			}
		}
		if (analyze)
		{
			AglResult	inner;

			agl_classify_stmt(cx, jget(b, "query"), src, &inner);
			agl_result_merge(r, inner.op, inner.verdict, inner.command, inner.objects, inner.reason);
		}
	}
	else if (strcmp(t, "CopyStmt") == 0)
	{
		r->command = "COPY";
		if (jget(b, "query"))
			agl_walk_executed(cx, jget(b, "query"), r);
		if (r->op == AG_OP_OTHER)
			r->op = jbool(b, "is_from") ? AG_OP_INSERT : AG_OP_READ;
		if (jbool(b, "is_from") && agl_table_is_hooked(L, jget(b, "relation")))
			agl_result_runtime(r, "the table has triggers or rules created in the input");
	}
	else if (strcmp(t, "CreateTableAsStmt") == 0)
	{
		const JVal *into = jget(b, "into");
		const JVal *rel = jget(into, "rel");

		r->command = "CREATE TABLE AS";
		agl_walk_executed(cx, jget(b, "query"), r);
		if (r->op == AG_OP_OTHER || r->op == AG_OP_READ)
			r->op = AG_OP_DDL;
		if (rel && agl_streq(jstr(rel, "relpersistence"), "t") && jstr(rel, "relname"))
			agl_entry_put(L, &L->temp_tables, jstr(rel, "relname"));
		note_relation(L, rel, false);
	}
	else if (strcmp(t, "CreateStmt") == 0)
	{
		const JVal *rel = jget(b, "relation");

		r->command = "CREATE TABLE";
		r->op = AG_OP_DDL;
		if (rel && agl_streq(jstr(rel, "relpersistence"), "t") && jstr(rel, "relname"))
			agl_entry_put(L, &L->temp_tables, jstr(rel, "relname"));
		note_relation(L, rel, false);
	}
	else if (strcmp(t, "ViewStmt") == 0)
	{
		r->command = "CREATE VIEW";
		r->op = AG_OP_DDL;
		note_relation(L, jget(b, "view"), true);
	}
	else if (strcmp(t, "CreateTrigStmt") == 0 || strcmp(t, "RuleStmt") == 0)
	{
		const JVal *rel = jget(b, "relation");

		r->command = strcmp(t, "RuleStmt") == 0 ? "CREATE RULE" : "CREATE TRIGGER";
		r->op = AG_OP_DDL;
		if (rel && jstr(rel, "relname"))
			agl_entry_put(L, &L->hooked_tables, jstr(rel, "relname"));
	}
	else if (strcmp(t, "PrepareStmt") == 0)
	{
		AglResult	inner;
		AglEntry   *e;

		r->command = "PREPARE";
		agl_classify_stmt(cx, jget(b, "query"), src, &inner);
		if (jstr(b, "name"))
		{
			e = agl_entry_put(L, &L->prepared, jstr(b, "name"));
			e->op = inner.op;
			e->verdict = inner.verdict;
			e->reason = inner.reason;
		}
	}
	else if (strcmp(t, "ExecuteStmt") == 0)
	{
		AglEntry   *e = jstr(b, "name") ? agl_entry_find(L->prepared, jstr(b, "name")) : NULL;

		r->command = "EXECUTE";
		agl_walk_executed(cx, jget(b, "params"), r);
		if (e == NULL)
			agl_result_runtime(r, "executes a prepared statement that is not in the input");
		else
		{
			agl_result_merge(r, e->op, e->verdict, NULL, NULL, e->reason);
			/* Parameters may switch a filter off. */
			if (e->verdict == AGL_ALLOW && e->op >= AG_OP_DELETE)
				agl_result_runtime(r, "depends on the parameter values");
		}
	}
	else if (strcmp(t, "DeclareCursorStmt") == 0)
	{
		r->command = "DECLARE CURSOR";
		agl_walk_executed(cx, jget(b, "query"), r);
		if (r->op == AG_OP_OTHER)
			r->op = AG_OP_READ;
	}
	else if (strcmp(t, "AlterOpFamilyStmt") == 0 && jbool(b, "isDrop"))
	{
		r->command = "ALTER OPERATOR FAMILY";
		agl_result_set(r, AG_OP_DROP, "an agent may not drop database objects");
	}
	else if (strncmp(t, "Create", 6) == 0 || strncmp(t, "Alter", 5) == 0 ||
			 strcmp(t, "ViewStmt") == 0 || strcmp(t, "IndexStmt") == 0 ||
			 strcmp(t, "CommentStmt") == 0 || strcmp(t, "GrantStmt") == 0 ||
			 strcmp(t, "CompositeTypeStmt") == 0 || strcmp(t, "DefineStmt") == 0)
		r->op = AG_OP_DDL;
}

/* Classify one statement node {"XxxStmt": {...}} into r. */
void
agl_classify_stmt(AglCtx *cx, const JVal *node, const char *src, AglResult *r)
{
	const char *t = jnode_type(node);
	const JVal *b = jnode_body(node);

	agl_result_init(r, NULL);
	if (t == NULL)
		return;
	if (strcmp(t, "SelectStmt") == 0 || strcmp(t, "InsertStmt") == 0 ||
		strcmp(t, "DeleteStmt") == 0 || strcmp(t, "UpdateStmt") == 0 ||
		strcmp(t, "MergeStmt") == 0)
	{
		r->command = strcmp(t, "SelectStmt") == 0 ? "SELECT" :
			strcmp(t, "InsertStmt") == 0 ? "INSERT" :
			strcmp(t, "DeleteStmt") == 0 ? "DELETE" :
			strcmp(t, "UpdateStmt") == 0 ? "UPDATE" : "MERGE";
		agl_walk_executed(cx, node, r);
		if (r->op == AG_OP_OTHER)
			r->op = strcmp(t, "InsertStmt") == 0 ? AG_OP_INSERT :
				strcmp(t, "SelectStmt") == 0 ? AG_OP_READ : AG_OP_OTHER;
		return;
	}
	r->command = t;
	classify_utility(cx, t, b, src, r);
	agl_classify_tamper(cx, t, b, r);
}

