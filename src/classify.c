/*-------------------------------------------------------------------------
 *
 * classify.c
 *		Classification: from a utility parse tree or an executed plan to an
 *		operation class, the objects it reaches and the reason.
 *
 * Utility statements are judged on their parse tree.  DML is judged on the
 * plan that is about to run, never on the statement's text: a writable CTE
 * arrives as a SELECT with ModifyTable subplans, rules add plans of their
 * own, the planner has folded constant WHERE clauses away, and a cached
 * generic plan keeps a filter that its parameters may make always true.
 *
 * A DELETE, UPDATE or MERGE is unbounded when some scan of its target
 * relation passes every row: the scan has no qual, or its quals, with the
 * statement's parameters substituted and constants folded, are true or do
 * not depend on the row; and nothing between the scan and the ModifyTable
 * filters it (a join without join clauses does not).  A clause that is
 * true for every row although it mentions one ("id IS NOT NULL" on a NOT
 * NULL column, "id = id") does not restrict either.  Anything subtler is
 * left to the row budget.
 *
 * The session's own temporary relations are scratch space: nothing done to
 * them is a finding.
 *
 * Everything here is a pure function of its input and the catalogs; it
 * allocates in the caller's memory context.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/namespace.h"
#include "miscadmin.h"
#include "catalog/pg_class.h"
#include "commands/defrem.h"
#include "nodes/makefuncs.h"
#include "nodes/nodeFuncs.h"
#include "nodes/pathnodes.h"
#include "optimizer/optimizer.h"
#include "parser/parse_type.h"
#include "parser/parsetree.h"
#include "access/relation.h"
#include "rewrite/rewriteHandler.h"
#include "tcop/cmdtag.h"
#include "tcop/utility.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/syscache.h"
#include "access/htup_details.h"
#include "access/stratnum.h"
#include "catalog/pg_attribute.h"
#include "catalog/pg_language.h"

#include "agent_guard.h"

void
ag_finding_init(AgFinding *f, AgOpClass op)
{
	f->op = op;
	f->action = ag_op_default_action(op);
	f->rule = ag_op_rule(op);
	f->command_tag = NULL;
	f->objects = NIL;
	f->row_count = -1;
	f->reason = NULL;
	f->detail = NULL;
	f->relid = InvalidOid;
	f->pop = 0;
}

/* Set the operation class, with its default action and rule. */
static void
ag_finding_set_op(AgFinding *f, AgOpClass op)
{
	f->op = op;
	f->action = ag_op_default_action(op);
	f->rule = ag_op_rule(op);
}

/* A finding of class op, about one more object (NULL: none), and why. */
static void
ag_found(AgFinding *f, AgOpClass op, char *object, const char *reason)
{
	ag_finding_set_op(f, op);
	if (object != NULL)
		f->objects = lappend(f->objects, object);
	f->reason = reason;
}

/* Is this relation in the session's own temporary schema? */
bool
ag_relid_is_own_temp(Oid relid)
{
	Oid			nsp;

	if (!OidIsValid(relid))
		return false;
	nsp = get_rel_namespace(relid);
	return OidIsValid(nsp) && isTempOrTempToastNamespace(nsp);
}

static const char *
ag_relkind_word(char relkind)
{
	switch (relkind)
	{
		case RELKIND_RELATION:
		case RELKIND_PARTITIONED_TABLE:
			return "table";
		case RELKIND_VIEW:
			return "view";
		case RELKIND_MATVIEW:
			return "materialized view";
		case RELKIND_INDEX:
		case RELKIND_PARTITIONED_INDEX:
			return "index";
		case RELKIND_SEQUENCE:
			return "sequence";
		case RELKIND_FOREIGN_TABLE:
			return "foreign table";
		case RELKIND_COMPOSITE_TYPE:
			return "type";
		default:
			return "relation";
	}
}

/* "table public.orders" */
char *
ag_relation_description(Oid relid)
{
	Oid			nspid = get_rel_namespace(relid);
	char	   *nsp = isTempNamespace(nspid) ? "pg_temp" : get_namespace_name(nspid);
	char	   *rel = get_rel_name(relid);

	if (rel == NULL)
		return psprintf("relation %u", relid);
	return psprintf("%s %s", ag_relkind_word(get_rel_relkind(relid)),
					quote_qualified_identifier(nsp, rel));
}

/* Resolve a RangeVar without locking; InvalidOid if it does not exist. */
static Oid
ag_rangevar_relid(RangeVar *rv)
{
	return RangeVarGetRelid(rv, NoLock, true);
}

static char *
ag_rangevar_description(RangeVar *rv, Oid relid)
{
	if (OidIsValid(relid))
		return ag_relation_description(relid);
	return psprintf("relation %s",
					quote_qualified_identifier(rv->schemaname, rv->relname));
}

/* A role as written: its name, or CURRENT_USER and the like. */
static const char *
ag_rolespec_text(RoleSpec *rs)
{
	switch (rs->roletype)
	{
		case ROLESPEC_CSTRING:
			return quote_identifier(rs->rolename);
		case ROLESPEC_CURRENT_ROLE:
			return "CURRENT_ROLE";
		case ROLESPEC_CURRENT_USER:
			return "CURRENT_USER";
		case ROLESPEC_SESSION_USER:
			return "SESSION_USER";
		default:
			return "PUBLIC";
	}
}

/* A readable name for one element of DropStmt.objects. */
static char *
ag_object_name(Node *obj)
{
	if (obj == NULL)
		return pstrdup("?");
	if (IsA(obj, String))
		return pstrdup(quote_identifier(strVal(obj)));
	if (IsA(obj, TypeName))
		return TypeNameToString((TypeName *) obj);
	if (IsA(obj, ObjectWithArgs))
	{
		ObjectWithArgs *owa = (ObjectWithArgs *) obj;
		StringInfoData buf;
		ListCell   *lc;

		initStringInfo(&buf);
		appendStringInfo(&buf, "%s(", NameListToString(owa->objname));
		if (!owa->args_unspecified)
			foreach(lc, owa->objargs)
			{
				if (lc != list_head(owa->objargs))
					appendStringInfoString(&buf, ", ");
				appendStringInfoString(&buf, lfirst(lc) ?
									   TypeNameToString(lfirst(lc)) : "NONE");
			}
		appendStringInfoChar(&buf, ')');
		return buf.data;
	}
	if (IsA(obj, List))
	{
		List	   *l = (List *) obj;
		ListCell   *lc;
		StringInfoData buf;

		/* A qualified name, or a list of parts such as a cast's types. */
		initStringInfo(&buf);
		foreach(lc, l)
		{
			Node	   *part = lfirst(lc);

			if (buf.len > 0)
				appendStringInfoString(&buf, IsA(part, String) ? "." : ", ");
			appendStringInfoString(&buf, ag_object_name(part));
		}
		return buf.data;
	}
	return pstrdup("?");
}

static bool
ag_objtype_is_relation(ObjectType t)
{
	return t == OBJECT_TABLE || t == OBJECT_VIEW || t == OBJECT_MATVIEW ||
		t == OBJECT_INDEX || t == OBJECT_SEQUENCE || t == OBJECT_FOREIGN_TABLE;
}

/* The object kind a DROP names, from its command tag: "DROP TYPE" -> "type". */
static char *
ag_kind_from_tag(const char *tag)
{
	const char *p = strncmp(tag, "DROP ", 5) == 0 ? tag + 5 : tag;
	char	   *s = pstrdup(p);
	char	   *c;

	for (c = s; *c; c++)
		*c = pg_ascii_tolower((unsigned char) *c);
	return s;
}

static void ag_apply_policy_to_relations(AgFinding *f, List *relids, AgPolicyOp op);

static void
ag_classify_drop(DropStmt *stmt, AgFinding *f)
{
	ListCell   *lc;
	bool		all_temp = ag_objtype_is_relation(stmt->removeType);
	char	   *kind = ag_kind_from_tag(f->command_tag);
	List	   *relids = NIL;

	foreach(lc, stmt->objects)
	{
		Node	   *obj = lfirst(lc);

		if (ag_objtype_is_relation(stmt->removeType))
		{
			RangeVar   *rv = makeRangeVarFromNameList((List *) obj);
			Oid			relid = ag_rangevar_relid(rv);

			if (!ag_relid_is_own_temp(relid))
				all_temp = false;
			if (OidIsValid(relid))
				relids = lappend_oid(relids, relid);
			f->objects = lappend(f->objects, ag_rangevar_description(rv, relid));
		}
		else
			f->objects = lappend(f->objects,
								 psprintf("%s %s", kind, ag_object_name(obj)));
	}

	if (all_temp && stmt->objects != NIL)
		return;					/* the session's own scratch tables */

	ag_finding_set_op(f, AG_OP_DROP);
	f->pop = AG_POLICY_DROP;
	f->relid = relids != NIL ? linitial_oid(relids) : InvalidOid;
	f->reason = stmt->behavior == DROP_CASCADE ?
		"an agent may not drop database objects, with or without CASCADE" :
		"an agent may not drop database objects";

	/*
	 * The policy may allow dropping particular tables, if every object
	 * named is one of them.
	 */
	if (stmt->removeType == OBJECT_TABLE &&
		list_length(relids) == list_length(stmt->objects))
		ag_apply_policy_to_relations(f, relids, AG_POLICY_DROP);
	else if (ag_objtype_is_relation(stmt->removeType) && relids != NIL)
	{
		double		rows = 0;

		foreach(lc, relids)
		{
			double		r = ag_relation_row_estimate(lfirst_oid(lc));

			if (r > 0)
				rows += r;
		}
		f->row_count = (int64) rows;
	}
}

/*
 * The policy's verdict on a utility statement over several relations: the
 * policy may allow it only if it allows it for every one of them; a policy
 * denial of any one is a denial.  Also sums their estimated rows.
 */
static void
ag_apply_policy_to_relations(AgFinding *f, List *relids, AgPolicyOp op)
{
	ListCell   *lc;
	AgAction	result = AG_ACTION_ALLOW;
	double		rows = 0;
	bool		rows_known = true;

	foreach(lc, relids)
	{
		AgFinding	one = *f;
		double		r;

		ag_policy_apply(&one, lfirst_oid(lc), op);
		if (one.action == AG_ACTION_DENY && strcmp(one.rule, AG_RULE_POLICY) == 0)
		{
			f->rule = one.rule;
			f->reason = one.reason;
		}
		if (one.action > result)
			result = one.action;
		r = ag_relation_row_estimate(lfirst_oid(lc));
		if (r < 0)
			rows_known = false;
		else
			rows += r;
	}
	if (relids != NIL)
		f->action = result == AG_ACTION_BUDGET ? AG_ACTION_DENY : result;
	if (relids != NIL && rows_known)
		f->row_count = (int64) rows;
}

static void
ag_classify_truncate(TruncateStmt *stmt, AgFinding *f)
{
	ListCell   *lc;
	bool		all_temp = true;
	List	   *relids = NIL;

	foreach(lc, stmt->relations)
	{
		RangeVar   *rv = lfirst(lc);
		Oid			relid = ag_rangevar_relid(rv);

		if (!ag_relid_is_own_temp(relid))
			all_temp = false;
		if (OidIsValid(relid))
			relids = lappend_oid(relids, relid);
		f->objects = lappend(f->objects, ag_rangevar_description(rv, relid));
	}
	if (all_temp)
		return;
	ag_found(f, AG_OP_TRUNCATE, NULL,
			 "an agent may not empty tables with TRUNCATE");
	f->pop = AG_POLICY_TRUNCATE;
	f->relid = relids != NIL ? linitial_oid(relids) : InvalidOid;
	ag_apply_policy_to_relations(f, relids, AG_POLICY_TRUNCATE);
}

/* Which ALTER TABLE subcommands lose data or hide it from the application. */
static const char *
ag_destructive_subcommand(AlterTableCmd *cmd)
{
	switch (cmd->subtype)
	{
		case AT_DropColumn:
		case AT_DropColumnRecurse:
			return "DROP COLUMN";
		case AT_DropConstraint:
		case AT_DropConstraintRecurse:
			return "DROP CONSTRAINT";
		case AT_AlterColumnType:
			return "ALTER COLUMN TYPE";
		case AT_DetachPartition:
		case AT_DetachPartitionFinalize:
			return "DETACH PARTITION";
		case AT_SetUnLogged:
			return "SET UNLOGGED";
		case AT_DropInherit:
			return "NO INHERIT";
		case AT_DisableTrig:
		case AT_DisableTrigAll:
		case AT_DisableTrigUser:
			return "DISABLE TRIGGER";
		case AT_DisableRule:
			return "DISABLE RULE";
		default:
			return NULL;
	}
}

static void
ag_classify_alter_table(AlterTableStmt *stmt, AgFinding *f)
{
	ListCell   *lc;
	Oid			relid = ag_rangevar_relid(stmt->relation);
	char	   *reldesc;

	if (ag_relid_is_own_temp(relid))
		return;
	reldesc = ag_rangevar_description(stmt->relation, relid);

	foreach(lc, stmt->cmds)
	{
		AlterTableCmd *cmd = lfirst(lc);
		const char *what = ag_destructive_subcommand(cmd);

		if (what == NULL)
			continue;
		ag_finding_set_op(f, AG_OP_ALTER_DESTRUCTIVE);
		if (cmd->name)
			f->objects = lappend(f->objects,
								 psprintf("%s (%s %s)", reldesc, what,
										  quote_identifier(cmd->name)));
		else if (cmd->subtype == AT_DetachPartition ||
				 cmd->subtype == AT_DetachPartitionFinalize)
		{
			PartitionCmd *pc = (PartitionCmd *) cmd->def;

			f->objects = lappend(f->objects,
								 psprintf("%s (%s %s)", reldesc, what,
										  quote_qualified_identifier(pc->name->schemaname,
																	 pc->name->relname)));
		}
		else
			f->objects = lappend(f->objects, psprintf("%s (%s)", reldesc, what));
	}
	if (f->op == AG_OP_ALTER_DESTRUCTIVE)
		f->reason = "an agent may not drop columns or constraints, change column types, detach partitions, make tables unlogged or disable triggers";
}

static void
ag_classify_rename(RenameStmt *stmt, AgFinding *f)
{
	Oid			relid = InvalidOid;

	switch (stmt->renameType)
	{
		case OBJECT_TABLE:
		case OBJECT_VIEW:
		case OBJECT_MATVIEW:
		case OBJECT_FOREIGN_TABLE:
		case OBJECT_SEQUENCE:
		case OBJECT_INDEX:
		case OBJECT_COLUMN:
		case OBJECT_TABCONSTRAINT:
			relid = ag_rangevar_relid(stmt->relation);
			if (ag_relid_is_own_temp(relid))
				return;
			f->objects = lappend(f->objects,
								 ag_rangevar_description(stmt->relation, relid));
			if (stmt->subname)
				f->objects = lappend(f->objects,
									 psprintf("column or constraint %s",
											  quote_identifier(stmt->subname)));
			break;
		case OBJECT_SCHEMA:
		case OBJECT_DATABASE:
			f->objects = lappend(f->objects,
								 psprintf("%s %s",
										  stmt->renameType == OBJECT_SCHEMA ? "schema" : "database",
										  quote_identifier(stmt->subname)));
			break;
		default:
			return;
	}
	ag_found(f, AG_OP_ALTER_DESTRUCTIVE, NULL,
			 "an agent may not rename tables, columns, schemas or databases that applications depend on");
}

static void
ag_classify_set_schema(AlterObjectSchemaStmt *stmt, AgFinding *f)
{
	Oid			relid;

	if (!ag_objtype_is_relation(stmt->objectType))
		return;
	relid = ag_rangevar_relid(stmt->relation);
	if (ag_relid_is_own_temp(relid))
		return;
	ag_finding_set_op(f, AG_OP_ALTER_DESTRUCTIVE);
	f->objects = lappend(f->objects, ag_rangevar_description(stmt->relation, relid));
	f->reason = "an agent may not move tables to another schema";
}

/* Functions in C or another untrusted language run code in the server. */
static void
ag_classify_create_function(CreateFunctionStmt *stmt, AgFinding *f)
{
	ListCell   *lc;
	char	   *language = NULL;
	HeapTuple	tup;
	bool		trusted = true;

	foreach(lc, stmt->options)
	{
		DefElem    *d = lfirst(lc);

		if (strcmp(d->defname, "language") == 0)
			language = strVal(d->arg);
	}
	if (language == NULL)
		return;					/* SQL-standard body: language sql */
	tup = SearchSysCache1(LANGNAME, PointerGetDatum(language));
	if (HeapTupleIsValid(tup))
	{
		trusted = ((Form_pg_language) GETSTRUCT(tup))->lanpltrusted;
		ReleaseSysCache(tup);
	}
	if (trusted)
		return;
	ag_found(f, AG_OP_GUARD_TAMPER,
			 psprintf("language %s", quote_identifier(language)),
			 "an agent may not create functions in C or another untrusted language");
}

/*
 * Classify a utility statement.  Objects are named from the parse tree,
 * resolved where that is possible without taking a lock.
 */
void
ag_classify_utility(Node *parsetree, AgFinding *f)
{
	ag_finding_init(f, AG_OP_OTHER);
	f->command_tag = GetCommandTagName(CreateCommandTag(parsetree));

	switch (nodeTag(parsetree))
	{
		case T_DropStmt:
			ag_classify_drop((DropStmt *) parsetree, f);
			break;

		case T_DropOwnedStmt:
			{
				DropOwnedStmt *stmt = (DropOwnedStmt *) parsetree;
				ListCell   *lc;

				foreach(lc, stmt->roles)
					f->objects = lappend(f->objects,
										 psprintf("objects owned by role %s",
												  ag_rolespec_text(lfirst(lc))));
				ag_found(f, AG_OP_DROP, NULL,
						 "an agent may not drop every object a role owns");
				break;
			}

		case T_DropdbStmt:
			ag_found(f, AG_OP_DROP,
					 psprintf("database %s", quote_identifier(((DropdbStmt *) parsetree)->dbname)),
					 "an agent may not drop databases");
			break;

		case T_DropRoleStmt:
			{
				ListCell   *lc;

				foreach(lc, ((DropRoleStmt *) parsetree)->roles)
				{
					f->objects = lappend(f->objects,
										 psprintf("role %s", ag_rolespec_text(lfirst(lc))));
				}
				ag_found(f, AG_OP_DROP, NULL,
						 "an agent may not drop roles");
				break;
			}

		case T_DropTableSpaceStmt:
			ag_found(f, AG_OP_DROP,
					 psprintf("tablespace %s", quote_identifier(((DropTableSpaceStmt *) parsetree)->tablespacename)),
					 "an agent may not drop tablespaces");
			break;

		case T_DropSubscriptionStmt:
			ag_found(f, AG_OP_DROP,
					 psprintf("subscription %s", quote_identifier(((DropSubscriptionStmt *) parsetree)->subname)),
					 "an agent may not drop subscriptions");
			break;

		case T_DropUserMappingStmt:
			ag_found(f, AG_OP_DROP,
					 psprintf("user mapping for server %s", quote_identifier(((DropUserMappingStmt *) parsetree)->servername)),
					 "an agent may not drop user mappings");
			break;

		case T_TruncateStmt:
			ag_classify_truncate((TruncateStmt *) parsetree, f);
			break;

		case T_AlterTableStmt:
			ag_classify_alter_table((AlterTableStmt *) parsetree, f);
			break;

		case T_RenameStmt:
			ag_classify_rename((RenameStmt *) parsetree, f);
			break;

		case T_AlterObjectSchemaStmt:
			ag_classify_set_schema((AlterObjectSchemaStmt *) parsetree, f);
			break;

		case T_SecLabelStmt:
			{
				SecLabelStmt *stmt = (SecLabelStmt *) parsetree;

				if (stmt->provider != NULL && strcmp(stmt->provider, AG_PROVIDER) == 0)
				{
					ag_finding_set_op(f, AG_OP_GUARD_TAMPER);
					if (stmt->objtype == OBJECT_ROLE && IsA(stmt->object, String))
						f->objects = list_make1(psprintf("role %s",
														 quote_identifier(strVal(stmt->object))));
					else
						f->objects = list_make1(psprintf("%s label", AG_PROVIDER));
					f->reason = "an agent may not set or remove agent_guard labels";
				}
				break;
			}

		case T_AlterSystemStmt:
			ag_found(f, AG_OP_GUARD_TAMPER, NULL,
					 "an agent may not change the server configuration");
			break;

		case T_LoadStmt:
			ag_found(f, AG_OP_GUARD_TAMPER,
					 psprintf("library %s", ((LoadStmt *) parsetree)->filename),
					 "an agent may not load libraries into the server");
			break;

		case T_CreateRoleStmt:
		case T_AlterRoleStmt:
		case T_AlterRoleSetStmt:
		case T_GrantRoleStmt:
			ag_finding_set_op(f, AG_OP_GUARD_TAMPER);
			if (IsA(parsetree, CreateRoleStmt))
				f->objects = list_make1(psprintf("role %s",
												 quote_identifier(((CreateRoleStmt *) parsetree)->role)));
			else if (IsA(parsetree, AlterRoleStmt))
				f->objects = list_make1(psprintf("role %s",
												 ag_rolespec_text(((AlterRoleStmt *) parsetree)->role)));
			else if (IsA(parsetree, AlterRoleSetStmt) && ((AlterRoleSetStmt *) parsetree)->role)
				f->objects = list_make1(psprintf("role %s",
												 ag_rolespec_text(((AlterRoleSetStmt *) parsetree)->role)));
			else if (IsA(parsetree, GrantRoleStmt))
			{
				ListCell   *lc;

				foreach(lc, ((GrantRoleStmt *) parsetree)->granted_roles)
				{
					AccessPriv *priv = lfirst(lc);

					if (priv->priv_name)
						f->objects = lappend(f->objects,
											 psprintf("role %s", quote_identifier(priv->priv_name)));
				}
			}
			f->reason = "an agent may not create or alter roles or role memberships";
			break;

		case T_AlterExtensionStmt:
		case T_AlterExtensionContentsStmt:
			ag_found(f, AG_OP_GUARD_TAMPER, NULL,
					 "an agent may not alter extensions");
			break;

		case T_CreateExtensionStmt:
			ag_found(f, AG_OP_GUARD_TAMPER,
					 psprintf("extension %s", quote_identifier(((CreateExtensionStmt *) parsetree)->extname)),
					 "an agent may not create extensions, which can load code into the server");
			break;

		case T_CreatePLangStmt:
			ag_found(f, AG_OP_GUARD_TAMPER, NULL,
					 "an agent may not create procedural languages");
			break;

		case T_CreateFunctionStmt:
			ag_classify_create_function((CreateFunctionStmt *) parsetree, f);
			break;

		case T_CreateEventTrigStmt:
		case T_AlterEventTrigStmt:
			ag_found(f, AG_OP_GUARD_TAMPER, NULL,
					 "an agent may not create or alter event triggers");
			break;

		case T_CreateForeignServerStmt:
		case T_AlterForeignServerStmt:
		case T_CreateUserMappingStmt:
		case T_AlterUserMappingStmt:
		case T_CreateFdwStmt:
		case T_AlterFdwStmt:
			ag_found(f, AG_OP_GUARD_TAMPER, NULL,
					 "an agent may not set up foreign servers or user mappings, which could connect back to this server as another role");
			break;

		case T_CopyStmt:
			{
				CopyStmt   *stmt = (CopyStmt *) parsetree;

				if (stmt->is_from && stmt->relation != NULL)
				{
					Oid			relid = ag_rangevar_relid(stmt->relation);
					Oid			nsp = get_namespace_oid("agent_guard", true);

					if (OidIsValid(relid) && OidIsValid(nsp) &&
						get_rel_namespace(relid) == nsp)
					{
						ag_found(f, AG_OP_GUARD_TAMPER,
								 ag_relation_description(relid),
								 "an agent may not write to agent_guard's own tables");
						break;
					}
				}
				if (stmt->is_program || (stmt->filename != NULL && !stmt->is_from))
				{
					ag_found(f, AG_OP_GUARD_TAMPER,
							 psprintf("%s %s", stmt->is_program ? "program" : "server file", stmt->filename),
							 "an agent may not run programs or write files on the database server");
				}
				break;
			}

		case T_RuleStmt:
			{
				RuleStmt   *stmt = (RuleStmt *) parsetree;
				Oid			relid = ag_rangevar_relid(stmt->relation);
				char		relkind = OidIsValid(relid) ? get_rel_relkind(relid) : RELKIND_RELATION;

				if (stmt->instead && relkind != RELKIND_VIEW &&
					!ag_relid_is_own_temp(relid))
				{
					ag_found(f, AG_OP_ALTER_DESTRUCTIVE,
							 psprintf("%s (rule %s)", ag_rangevar_description(stmt->relation, relid),  quote_identifier(stmt->rulename)),
							 "an agent may not create INSTEAD rules on tables, which would make writes or reads vanish");
				}
				break;
			}

		case T_VariableSetStmt:
			{
				VariableSetStmt *stmt = (VariableSetStmt *) parsetree;

				if (stmt->kind == VAR_SET_VALUE && stmt->name &&
					strcmp(stmt->name, "session_replication_role") == 0)
				{
					ag_found(f, AG_OP_GUARD_TAMPER, NULL,
							 "an agent may not change session_replication_role, which disables triggers and foreign keys");
				}
				break;
			}

		default:
			break;
	}
}

/* ---------------------------------------------------------------------
 * Plans
 * ---------------------------------------------------------------------
 */

typedef struct AgPlanContext
{
	PlannedStmt *pstmt;
	PlannerInfo *root;			/* carries the bound parameters */
	Bitmapset  *targets;		/* RT indexes of the ModifyTable's targets */
	bool		any_scan_is_target; /* target is a view: every scan counts */
	int			view_quals;		/* clauses that auto-updatable views add */
} AgPlanContext;

/*
 * How many clauses of this implicitly ANDed list restrict which rows pass?
 * A clause restricts when, after substituting the statement's parameters
 * and folding constants, it is not a true constant and depends on the row.
 * A false or null constant lets no row pass: it counts as a restriction
 * that no view qual can explain away.
 */
#define AG_NOTHING_PASSES	1000000

/* Is this Var of a scan a column that can never be null? */
static bool
ag_var_is_not_null(Var *var, AgPlanContext *cxt)
{
	RangeTblEntry *rte;
	HeapTuple	tup;
	bool		notnull = false;

	if (var->varlevelsup != 0 || var->varno < 1 ||
		var->varno > list_length(cxt->pstmt->rtable))
		return false;			/* OUTER_VAR and friends in join quals */
	if (var->varattno < 0)
		return true;			/* system columns: ctid, ... */
	rte = rt_fetch(var->varno, cxt->pstmt->rtable);
	if (rte->rtekind != RTE_RELATION || var->varattno == 0)
		return false;
	tup = SearchSysCache2(ATTNUM, ObjectIdGetDatum(rte->relid),
						  Int16GetDatum(var->varattno));
	if (HeapTupleIsValid(tup))
	{
		notnull = ((Form_pg_attribute) GETSTRUCT(tup))->attnotnull;
		ReleaseSysCache(tup);
	}
	return notnull;
}

/*
 * Is the clause true for every row, though it mentions the row?  Caught:
 * "col IS NOT NULL" and "col = col" (also <=, >=) on a NOT NULL column, and
 * OR/AND combinations of those.  Subtler tautologies are left to the row
 * budget.
 */
static bool
ag_clause_is_tautology(Node *clause, AgPlanContext *cxt)
{
	ListCell   *lc;

	if (IsA(clause, NullTest))
	{
		NullTest   *nt = (NullTest *) clause;

		return nt->nulltesttype == IS_NOT_NULL && !nt->argisrow &&
			IsA(nt->arg, Var) && ag_var_is_not_null((Var *) nt->arg, cxt);
	}
	if (is_opclause(clause))
	{
		OpExpr	   *op = (OpExpr *) clause;

		if (list_length(op->args) == 2 && IsA(linitial(op->args), Var) &&
			equal(linitial(op->args), lsecond(op->args)) &&
			ag_var_is_not_null(linitial(op->args), cxt))
		{
			foreach(lc, get_op_btree_interpretation(op->opno))
			{
				OpBtreeInterpretation *bt = lfirst(lc);

				if (bt->strategy == BTEqualStrategyNumber ||
					bt->strategy == BTLessEqualStrategyNumber ||
					bt->strategy == BTGreaterEqualStrategyNumber)
					return true;
			}
		}
		return false;
	}
	if (is_orclause(clause))
	{
		foreach(lc, ((BoolExpr *) clause)->args)
			if (ag_clause_is_tautology(lfirst(lc), cxt))
				return true;
		return false;
	}
	if (is_andclause(clause))
	{
		foreach(lc, ((BoolExpr *) clause)->args)
			if (!ag_clause_is_tautology(lfirst(lc), cxt))
				return false;
		return true;
	}
	return false;
}

static int
ag_count_restrictions(List *quals, AgPlanContext *cxt)
{
	ListCell   *lc;
	int			n = 0;

	foreach(lc, quals)
	{
		Node	   *clause = estimate_expression_value(cxt->root, lfirst(lc));

		if (IsA(clause, Const))
		{
			Const	   *c = (Const *) clause;

			if (c->constisnull || !DatumGetBool(c->constvalue))
				return AG_NOTHING_PASSES;
			continue;
		}
		if (contain_var_clause(clause) && !ag_clause_is_tautology(clause, cxt))
			n++;
	}
	return n;
}

static bool
ag_quals_restrict(List *quals, AgPlanContext *cxt)
{
	return ag_count_restrictions(quals, cxt) > 0;
}

static bool
ag_expr_restricts(Node *expr, AgPlanContext *cxt)
{
	if (expr == NULL)
		return false;
	if (IsA(expr, List))
		return ag_quals_restrict((List *) expr, cxt);
	return ag_quals_restrict(list_make1(expr), cxt);
}

/*
 * A scan of a target relation passes every row when its restricting
 * clauses are no more than those the auto-updatable views it was reached
 * through add: DELETE FROM v, where v is SELECT * FROM t WHERE active,
 * empties v as surely as DELETE FROM t empties t.
 */
static bool
ag_target_scan_passes_all(List *quals, List *indexquals, AgPlanContext *cxt)
{
	return ag_count_restrictions(quals, cxt) +
		ag_count_restrictions(indexquals, cxt) <= cxt->view_quals;
}

static bool ag_plan_passes_all_target_rows(Plan *plan, AgPlanContext *cxt);

static bool
ag_any_child_passes(List *plans, AgPlanContext *cxt)
{
	ListCell   *lc;

	foreach(lc, plans)
		if (ag_plan_passes_all_target_rows(lfirst(lc), cxt))
			return true;
	return false;
}

/*
 * Does some scan of a target relation under this node pass every one of its
 * rows up to the node?
 */
static bool
ag_plan_passes_all_target_rows(Plan *plan, AgPlanContext *cxt)
{
	if (plan == NULL)
		return false;

	check_stack_depth();

	switch (nodeTag(plan))
	{
		case T_SeqScan:
		case T_IndexScan:
		case T_BitmapHeapScan:
			{
				Scan	   *scan = (Scan *) plan;
				List	   *indexquals = NIL;

				if (!cxt->any_scan_is_target &&
					!bms_is_member(scan->scanrelid, cxt->targets))
					return false;
				if (IsA(plan, IndexScan))
					indexquals = ((IndexScan *) plan)->indexqualorig;
				else if (IsA(plan, BitmapHeapScan))
					indexquals = ((BitmapHeapScan *) plan)->bitmapqualorig;
				return ag_target_scan_passes_all(plan->qual, indexquals, cxt);
			}

		case T_SampleScan:
		case T_IndexOnlyScan:
		case T_TidScan:
		case T_TidRangeScan:
		case T_ForeignScan:
		case T_FunctionScan:
		case T_ValuesScan:
		case T_CteScan:
		case T_WorkTableScan:
		case T_NamedTuplestoreScan:
		case T_TableFuncScan:
			/* Restricted by index or tid quals, or not a target. */
			return false;

		case T_Result:
			{
				Result	   *r = (Result *) plan;

				if (ag_expr_restricts(r->resconstantqual, cxt) ||
					ag_quals_restrict(plan->qual, cxt))
					return false;
				return ag_plan_passes_all_target_rows(outerPlan(plan), cxt);
			}

		case T_Append:
			return ag_any_child_passes(((Append *) plan)->appendplans, cxt);

		case T_MergeAppend:
			return ag_any_child_passes(((MergeAppend *) plan)->mergeplans, cxt);

		case T_NestLoop:
			{
				NestLoop   *nl = (NestLoop *) plan;

				if (nl->nestParams != NIL ||
					ag_quals_restrict(nl->join.joinqual, cxt) ||
					ag_quals_restrict(plan->qual, cxt))
					return false;
				break;
			}

		case T_HashJoin:
			{
				HashJoin   *hj = (HashJoin *) plan;

				if (hj->hashclauses != NIL ||
					ag_quals_restrict(hj->join.joinqual, cxt) ||
					ag_quals_restrict(plan->qual, cxt))
					return false;
				break;
			}

		case T_MergeJoin:
			{
				MergeJoin  *mj = (MergeJoin *) plan;

				if (mj->mergeclauses != NIL ||
					ag_quals_restrict(mj->join.joinqual, cxt) ||
					ag_quals_restrict(plan->qual, cxt))
					return false;
				break;
			}

		case T_SubqueryScan:
			if (ag_quals_restrict(plan->qual, cxt))
				return false;
			return ag_plan_passes_all_target_rows(((SubqueryScan *) plan)->subplan, cxt);

		default:
			/* Sort, Material, Hash, Gather, LockRows, Memoize, ... */
			if (ag_quals_restrict(plan->qual, cxt))
				return false;
			break;
	}

	return ag_plan_passes_all_target_rows(outerPlan(plan), cxt) ||
		ag_plan_passes_all_target_rows(innerPlan(plan), cxt);
}

#ifdef AG_HAVE_MERGE
/* Do all destructive MERGE actions carry a restricting WHEN condition? */
static bool
ag_merge_actions_restricted(ModifyTable *mt, AgPlanContext *cxt, bool *destructive)
{
	ListCell   *l1;
	bool		restricted = true;

	*destructive = false;
	foreach(l1, mt->mergeActionLists)
	{
		ListCell   *l2;

		foreach(l2, (List *) lfirst(l1))
		{
			MergeAction *action = lfirst(l2);

			if (action->commandType != CMD_DELETE &&
				action->commandType != CMD_UPDATE)
				continue;
			*destructive = true;
			if (!ag_expr_restricts(action->qual, cxt))
				restricted = false;
		}
	}
	return restricted;
}
#endif

/*
 * Clauses added by the auto-updatable views the statement went through.
 * Such a view stays in the range table as a plain relation entry.
 */
static int
ag_view_qual_count(PlannedStmt *pstmt)
{
	ListCell   *lc;
	int			n = 0;

	foreach(lc, pstmt->rtable)
	{
		RangeTblEntry *rte = lfirst(lc);
		Relation	view;
		Query	   *vq;

		if (rte->rtekind != RTE_RELATION || rte->relkind != RELKIND_VIEW)
			continue;
		view = relation_open(rte->relid, AccessShareLock);
		vq = get_view_query(view);
		if (vq->jointree && vq->jointree->quals)
		{
			Node	   *q = eval_const_expressions(NULL, copyObject(vq->jointree->quals));

			n += list_length(make_ands_implicit((Expr *) q));
		}
		relation_close(view, AccessShareLock);
	}
	return n;
}

/* Judge one ModifyTable node; keep the most severe finding. */
static void
ag_classify_modify(ModifyTable *mt, AgPlanContext *cxt, AgFinding *f)
{
	ListCell   *lc;
	bool		all_temp = true;
	bool		unbounded;
	Oid			relid = InvalidOid;
	AgFinding	local;
	AgPolicyOp	pop;

	if (mt->operation != CMD_DELETE && mt->operation != CMD_UPDATE
#ifdef AG_HAVE_MERGE
		&& mt->operation != CMD_MERGE
#endif
		)
		return;

	cxt->targets = NULL;
	cxt->any_scan_is_target = false;
	foreach(lc, mt->resultRelations)
	{
		Index		rti = lfirst_int(lc);
		RangeTblEntry *rte = rt_fetch(rti, cxt->pstmt->rtable);

		cxt->targets = bms_add_member(cxt->targets, rti);
		if (!ag_relid_is_own_temp(rte->relid))
			all_temp = false;
		if (rte->relkind == RELKIND_VIEW)
			cxt->any_scan_is_target = true;
	}
	if (all_temp)
		return;
	cxt->view_quals = ag_view_qual_count(cxt->pstmt);

	/* The table the statement was written against. */
	if (mt->rootRelation > 0)
		relid = rt_fetch(mt->rootRelation, cxt->pstmt->rtable)->relid;
	else if (mt->nominalRelation > 0)
		relid = rt_fetch(mt->nominalRelation, cxt->pstmt->rtable)->relid;

	unbounded = ag_plan_passes_all_target_rows(outerPlan(mt), cxt);

	ag_finding_init(&local, AG_OP_OTHER);
	if (OidIsValid(relid))
		local.objects = list_make1(ag_relation_description(relid));
	switch (mt->operation)
	{
		case CMD_DELETE:
			local.command_tag = "DELETE";
			pop = AG_POLICY_DELETE;
			ag_finding_set_op(&local, unbounded ? AG_OP_DELETE_UNBOUNDED : AG_OP_DELETE);
			local.reason = "an agent may not DELETE without a WHERE clause that restricts rows";
			break;
		case CMD_UPDATE:
			local.command_tag = "UPDATE";
			pop = AG_POLICY_UPDATE;
			ag_finding_set_op(&local, unbounded ? AG_OP_UPDATE_UNBOUNDED : AG_OP_UPDATE);
			local.reason = "an agent may not UPDATE without a WHERE clause that restricts rows";
			break;
#ifdef AG_HAVE_MERGE
		case CMD_MERGE:
			{
				bool		destructive;
				bool		restricted = ag_merge_actions_restricted(mt, cxt, &destructive);

				if (!destructive)
					return;
				local.command_tag = "MERGE";
				pop = AG_POLICY_MERGE;
				ag_finding_set_op(&local, (unbounded && !restricted) ?
								  AG_OP_MERGE_UNBOUNDED : AG_OP_MERGE);
				local.reason = "an agent may not MERGE with a join condition that matches every row of the target and then delete or update it";
				break;
			}
#endif
		default:
			return;
	}
	if (unbounded && OidIsValid(relid))
		local.row_count = (int64) ag_relation_row_estimate(relid);
	local.relid = relid;
	local.pop = pop;

	/* The administrator's policy for this table and role may differ. */
	if (OidIsValid(relid))
		ag_policy_apply(&local, relid, pop);

	if (f->op == AG_OP_OTHER || local.action > f->action)
		*f = local;
}

/* Find every ModifyTable node in a plan tree. */
static void
ag_walk_plan(Plan *plan, AgPlanContext *cxt, AgFinding *f)
{
	ListCell   *lc;

	if (plan == NULL)
		return;
	check_stack_depth();

	if (IsA(plan, ModifyTable))
		ag_classify_modify((ModifyTable *) plan, cxt, f);

	switch (nodeTag(plan))
	{
		case T_Append:
			foreach(lc, ((Append *) plan)->appendplans)
				ag_walk_plan(lfirst(lc), cxt, f);
			break;
		case T_MergeAppend:
			foreach(lc, ((MergeAppend *) plan)->mergeplans)
				ag_walk_plan(lfirst(lc), cxt, f);
			break;
		case T_BitmapAnd:
			foreach(lc, ((BitmapAnd *) plan)->bitmapplans)
				ag_walk_plan(lfirst(lc), cxt, f);
			break;
		case T_BitmapOr:
			foreach(lc, ((BitmapOr *) plan)->bitmapplans)
				ag_walk_plan(lfirst(lc), cxt, f);
			break;
		case T_SubqueryScan:
			ag_walk_plan(((SubqueryScan *) plan)->subplan, cxt, f);
			break;
		case T_CustomScan:
			foreach(lc, ((CustomScan *) plan)->custom_plans)
				ag_walk_plan(lfirst(lc), cxt, f);
			break;
		default:
			break;
	}
	ag_walk_plan(outerPlan(plan), cxt, f);
	ag_walk_plan(innerPlan(plan), cxt, f);
}

/*
 * Classify the plan about to run.  params are the statement's bound
 * parameters (NULL if none); they are substituted into the quals, so a
 * generic plan whose parameters remove its filter is judged unbounded.
 */
void
ag_classify_plan(PlannedStmt *pstmt, ParamListInfo params, AgFinding *f)
{
	AgPlanContext cxt;
	PlannerGlobal *glob = makeNode(PlannerGlobal);
	PlannerInfo *root = makeNode(PlannerInfo);
	ListCell   *lc;

	ag_finding_init(f, AG_OP_OTHER);

	glob->boundParams = params;
	root->glob = glob;
	cxt.pstmt = pstmt;
	cxt.root = root;
	cxt.targets = NULL;
	cxt.any_scan_is_target = false;
	cxt.view_quals = 0;

	ag_walk_plan(pstmt->planTree, &cxt, f);
	foreach(lc, pstmt->subplans)
		ag_walk_plan(lfirst(lc), &cxt, f);
}
