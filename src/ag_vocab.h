/*-------------------------------------------------------------------------
 *
 * ag_vocab.h
 *		The vocabulary agent_guard speaks: operation classes, the rule that
 *		guards each of them, its default action, and the verdict names.
 *
 * This header has no PostgreSQL dependency.  The extension and the
 * agent_guard_lint command-line tool both include it, so the two always
 * report the same class and rule names for the same statement.  Add a
 * class here, never in one of the two programs alone.
 *
 *-------------------------------------------------------------------------
 */
#ifndef AG_VOCAB_H
#define AG_VOCAB_H

typedef enum AgOpClass
{
	AG_OP_OTHER = 0,			/* nothing agent_guard cares about */
	AG_OP_READ,					/* SELECT and friends */
	AG_OP_INSERT,				/* INSERT, COPY FROM */
	AG_OP_DDL,					/* CREATE and other non-destructive DDL */
	AG_OP_DELETE,				/* DELETE with a restricting WHERE */
	AG_OP_UPDATE,				/* UPDATE with a restricting WHERE */
	AG_OP_MERGE,				/* MERGE with a restricting join */
	AG_OP_DELETE_UNBOUNDED,		/* DELETE that reaches every row */
	AG_OP_UPDATE_UNBOUNDED,		/* UPDATE that reaches every row */
	AG_OP_MERGE_UNBOUNDED,		/* MERGE deleting/updating every row */
	AG_OP_DROP,					/* DROP of any object kind, DROP OWNED */
	AG_OP_TRUNCATE,				/* TRUNCATE */
	AG_OP_ALTER_DESTRUCTIVE,	/* ALTER that loses data or hides it */
	AG_OP_GUARD_TAMPER,			/* attempts to weaken the guard itself */
	AG_OP__COUNT
} AgOpClass;

typedef enum AgAction
{
	AG_ACTION_ALLOW = 0,		/* let it run */
	AG_ACTION_BUDGET,			/* let it run within the row budget */
	AG_ACTION_DENY				/* refuse unless a human approved it */
} AgAction;

typedef enum AgVerdict
{
	AG_VERDICT_ALLOW = 0,
	AG_VERDICT_DENY,
	AG_VERDICT_DRY_RUN
} AgVerdict;

typedef struct AgOpClassInfo
{
	AgOpClass	op;
	const char *name;			/* operation class name, as reported */
	const char *rule;			/* rule name in errors and audit rows */
	AgAction	action;			/* default policy */
} AgOpClassInfo;

/* Indexed by AgOpClass; keep in enum order. */
static const AgOpClassInfo ag_op_classes[AG_OP__COUNT] = {
	{AG_OP_OTHER, "other", "none", AG_ACTION_ALLOW},
	{AG_OP_READ, "read", "none", AG_ACTION_ALLOW},
	{AG_OP_INSERT, "insert", "none", AG_ACTION_ALLOW},
	{AG_OP_DDL, "ddl", "none", AG_ACTION_ALLOW},
	{AG_OP_DELETE, "delete", "row_budget", AG_ACTION_BUDGET},
	{AG_OP_UPDATE, "update", "row_budget", AG_ACTION_BUDGET},
	{AG_OP_MERGE, "merge", "row_budget", AG_ACTION_BUDGET},
	{AG_OP_DELETE_UNBOUNDED, "delete_unbounded", "unbounded_delete", AG_ACTION_DENY},
	{AG_OP_UPDATE_UNBOUNDED, "update_unbounded", "unbounded_update", AG_ACTION_DENY},
	{AG_OP_MERGE_UNBOUNDED, "merge_unbounded", "unbounded_merge", AG_ACTION_DENY},
	{AG_OP_DROP, "drop", "drop_object", AG_ACTION_DENY},
	{AG_OP_TRUNCATE, "truncate", "truncate", AG_ACTION_DENY},
	{AG_OP_ALTER_DESTRUCTIVE, "alter_destructive", "destructive_alter", AG_ACTION_DENY},
	{AG_OP_GUARD_TAMPER, "guard_tamper", "guard_tamper", AG_ACTION_DENY},
};

static const char *const ag_verdict_names[] = {"allow", "deny", "dry_run"};

/*
 * Rules that are not tied to one operation class: the row budgets and the
 * administrator's policy table.
 */
#define AG_RULE_ROW_BUDGET		"row_budget"	/* rows per statement */
#define AG_RULE_TXN_BUDGET		"transaction_budget"	/* rows per transaction */
#define AG_RULE_WINDOW_BUDGET	"window_budget"	/* rows per role and window */
#define AG_RULE_POLICY			"policy"	/* a row of agent_guard.policy */
#define AG_RULE_APPROVAL_CEILING "approval_ceiling"	/* rows an approval allows */

static inline const char *
ag_op_name(AgOpClass op)
{
	return (op >= 0 && op < AG_OP__COUNT) ? ag_op_classes[op].name : "other";
}

static inline const char *
ag_op_rule(AgOpClass op)
{
	return (op >= 0 && op < AG_OP__COUNT) ? ag_op_classes[op].rule : "none";
}

static inline AgAction
ag_op_default_action(AgOpClass op)
{
	return (op >= 0 && op < AG_OP__COUNT) ? ag_op_classes[op].action : AG_ACTION_DENY;
}

static inline const char *
ag_verdict_name(AgVerdict v)
{
	return (v >= AG_VERDICT_ALLOW && v <= AG_VERDICT_DRY_RUN) ? ag_verdict_names[v] : "deny";
}

/*
 * Functions of pg_catalog an agent session may not call: they reach outside
 * the guard (signalling backends, server-side file transfer, adminpack's
 * file functions, replication slot and origin removal).
 */
#define AG_CATALOG_DENIED_FUNCTIONS \
	"pg_terminate_backend", "pg_cancel_backend", \
	"lo_import", "lo_export", \
	"pg_file_write", "pg_file_unlink", "pg_file_rename", "pg_file_sync", \
	"pg_drop_replication_slot", "pg_replication_origin_drop"

#endif							/* AG_VOCAB_H */
