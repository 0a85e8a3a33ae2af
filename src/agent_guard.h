/*-------------------------------------------------------------------------
 *
 * agent_guard.h
 *		Declarations shared by the files of the agent_guard extension.
 *
 *-------------------------------------------------------------------------
 */
#ifndef AGENT_GUARD_H
#define AGENT_GUARD_H

#include "postgres.h"

#include "ag_vocab.h"
#include "nodes/params.h"
#include "nodes/pg_list.h"
#include "nodes/plannodes.h"

#define AG_PROVIDER			"agent_guard"
#define AG_AGENT_LABEL		"agent"
#define AG_WORKER_TYPE		"agent_guard audit writer"

/* guc.c */
typedef enum AgMode
{
	AG_MODE_ENFORCE = 0,
	AG_MODE_DRY_RUN
} AgMode;

extern bool ag_enabled;
extern int	ag_mode;
extern char *ag_audit_database;
extern int	ag_audit_timeout;

extern void ag_define_gucs(void);

/* identity.c */
extern void ag_identity_init(void);
extern bool ag_is_agent_session(void);
extern bool ag_role_is_agent(Oid roleid);

/*
 * What the classifier found in one statement: the operation class, the
 * objects it reaches and a sentence saying why the class applies.  Built in
 * the caller's memory context; nothing in it outlives the statement.
 */
typedef struct AgFinding
{
	AgOpClass	op;
	const char *command_tag;	/* e.g. "DROP TABLE" */
	List	   *objects;		/* char * descriptions, e.g. "table public.t" */
	int64		row_count;		/* rows reached, -1 if unknown */
	const char *reason;			/* what the statement would do, a phrase */
} AgFinding;

/* classify.c */
extern void ag_classify_utility(Node *parsetree, AgFinding *f);
extern void ag_classify_plan(PlannedStmt *pstmt, ParamListInfo params,
							 AgFinding *f);
extern bool ag_relid_is_own_temp(Oid relid);
extern char *ag_relation_description(Oid relid);

/* decide.c */
extern void ag_judge(AgFinding *f, const char *sourceText,
					 int stmt_location, int stmt_len);

/* audit.c */
typedef struct AgAuditRecord
{
	AgVerdict	verdict;
	int64		row_count;
	const char *command_tag;
	const char *statement;
	const char *top_statement;
	const char *rule;
	const char *reason;
	List	   *objects;		/* char * */
} AgAuditRecord;

extern void ag_audit_shmem_request(void);
extern void ag_audit_shmem_startup(void);
extern void ag_audit_register_worker(void);
extern bool ag_audit_write(const AgAuditRecord *rec);
extern PGDLLEXPORT void ag_audit_worker_main(Datum main_arg);

/* hooks: utility.c, executor.c, objaccess.c */
extern void ag_install_utility_hook(void);
extern void ag_install_executor_hooks(void);
extern void ag_install_object_access_hook(void);

/*
 * Which non-internal object drops the current utility statement may cause;
 * set by the utility hook, read by the object access hook.
 */
typedef enum AgDropScope
{
	AG_DROP_NONE = 0,			/* none: any drop is a finding */
	AG_DROP_TEMP,				/* only the session's own temporary objects */
	AG_DROP_ANY					/* the statement was already judged */
} AgDropScope;

extern AgDropScope ag_drop_scope;

#endif							/* AGENT_GUARD_H */
