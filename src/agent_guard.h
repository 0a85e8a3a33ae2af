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

#include "access/tableam.h"
#include "ag_vocab.h"
#include "compat.h"
#include "catalog/objectaccess.h"
#include "nodes/params.h"
#include "nodes/parsenodes.h"
#include "nodes/pg_list.h"
#include "executor/execdesc.h"
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
extern int	ag_audit_queue_size;
extern int	ag_max_rows;
extern int	ag_max_rows_per_transaction;
extern int	ag_window_max_rows;
extern int	ag_window_seconds;
extern int	ag_audit_level;
extern int	ag_log_format;

typedef enum AgLogFormat
{
	AG_LOG_FORMAT_NONE = 0,		/* audit rows only in agent_guard.audit_log */
	AG_LOG_FORMAT_JSON			/* and as JSON lines in the server log */
} AgLogFormat;

typedef enum AgAuditLevel
{
	AG_AUDIT_DECISIONS = 0,		/* denials, dry runs, approvals */
	AG_AUDIT_ALL				/* and every statement of an agent session */
} AgAuditLevel;

extern void ag_define_gucs(void);

/* identity.c */
extern void ag_identity_init(void);
extern bool ag_is_agent_session(void);
extern bool ag_role_is_agent(Oid roleid);
extern void ag_exec_seclabel(SecLabelStmt *stmt);

/*
 * What the classifier found in one statement: the operation class, the
 * objects it reaches and a sentence saying why the class applies.  Built in
 * the caller's memory context; nothing in it outlives the statement.
 */
typedef struct AgFinding
{
	AgOpClass	op;
	AgAction	action;			/* what policy says: starts as the default */
	const char *rule;			/* rule name: starts as the class's */
	const char *command_tag;	/* e.g. "DROP TABLE" */
	List	   *objects;		/* char * descriptions, e.g. "table public.t" */
	int64		row_count;		/* rows reached or estimated, -1 if unknown */
	const char *reason;			/* what the statement would do, a phrase */
	const char *detail;			/* extra sentence for errdetail, or NULL */
	Oid			relid;			/* the table concerned, if one */
	int			pop;			/* AgPolicyOp of the operation, 0 if none */
} AgFinding;

extern void ag_finding_init(AgFinding *f, AgOpClass op);

/* classify.c */
extern void ag_classify_utility(Node *parsetree, AgFinding *f);
extern void ag_classify_plan(PlannedStmt *pstmt, ParamListInfo params,
							 AgFinding *f);
extern bool ag_relid_is_own_temp(Oid relid);
extern char *ag_relation_description(Oid relid);

/* decide.c */
extern bool ag_judge(AgFinding *f, const char *sourceText,
					 int stmt_location, int stmt_len);
extern bool ag_record(AgFinding *f, AgVerdict verdict, const char *sourceText,
					  int stmt_location, int stmt_len);
extern void ag_record_statement(const char *command_tag, const char *sourceText,
								int stmt_location, int stmt_len,
								const void *owner);

/* executor.c, utility.c: how deep in nested statements we are */
extern int	ag_nesting_level;

/* budget.c */
extern void ag_budget_init(void);
extern void ag_budget_shmem_request(void);
extern void ag_budget_statement_begin(PlannedStmt *pstmt);
extern void ag_budget_statement_end(void);
extern void ag_budget_watch(QueryDesc *queryDesc);
extern void ag_budget_unwatch(QueryDesc *queryDesc);
extern double ag_relation_row_estimate(Oid relid);
extern void ag_budget_approved(int64 max_rows);

/* policy.c */
typedef enum AgPolicyOp
{
	AG_POLICY_DELETE = 1 << 0,
	AG_POLICY_UPDATE = 1 << 1,
	AG_POLICY_MERGE = 1 << 2,
	AG_POLICY_TRUNCATE = 1 << 3,
	AG_POLICY_DROP = 1 << 4
} AgPolicyOp;

typedef struct AgPolicyMatch
{
	int			id;				/* policy row id, 0 when none matched */
	AgAction	action;
	int64		max_rows;		/* per statement, -1 when the rule sets none */
	bool		table_rule;		/* matched on the table, not only the role */
	int			approvers;		/* distinct approvers its approvals need */
} AgPolicyMatch;

extern void ag_policy_init(void);
extern void ag_policy_lookup(Oid relid, AgPolicyOp op, AgPolicyMatch *m);
extern void ag_policy_apply(AgFinding *f, Oid relid, AgPolicyOp op);
extern int	ag_policy_approvers(Oid relid, int op);

/* approval.c */
extern char *ag_approval_token;
extern char *ag_sha256_hex(const char *data, size_t len);
extern char *ag_presented_token(void);
extern void ag_redact_tokens(char *s);
extern char *ag_redacted(const char *s);
extern void ag_install_emit_log_hook(void);

/* fingerprint.c */
extern char *ag_fingerprint(const char *sql);

/* audit.c */
typedef enum AgRecordKind
{
	AG_REC_AUDIT = 0,			/* an audit row */
	AG_REC_REQUEST,				/* an audit row, and an approval request */
	AG_REC_INTENT,				/* only an approval request, filed ahead */
	AG_REC_SPEND				/* check and spend a token; allow row if good */
} AgRecordKind;

typedef struct AgAuditRecord
{
	AgRecordKind kind;
	AgVerdict	verdict;
	int64		row_count;
	const char *command_tag;
	const char *statement;
	const char *top_statement;
	const char *rule;
	const char *reason;
	List	   *objects;		/* char * */
	const char *fingerprint;
	const char *token_hash;		/* AG_REC_SPEND: SHA-256 of the token */
	const char *approver;
	int			approvals_required; /* AG_REC_REQUEST, AG_REC_INTENT */
	int64		request_id;		/* in: approved run; out: filed or spent */
	/* results of AG_REC_SPEND */
	bool		spent;			/* the token was good and is now spent */
	int64		max_rows;		/* the approval's row ceiling, -1 if none */
	char	   *result_text;	/* approvers, or why the token was refused */
} AgAuditRecord;

extern void ag_audit_shmem_request(void);
extern void ag_audit_shmem_startup(void);
extern void ag_audit_register_worker(void);
extern bool ag_audit_write(AgAuditRecord *rec);
extern void ag_audit_init(void);
extern void ag_routine_begin(const AgAuditRecord *rec, const void *owner);
extern void ag_routine_end(const void *owner, int64 row_count);
extern PGDLLEXPORT void ag_audit_worker_main(Datum main_arg);
extern const char *const ag_hash_columns[];
extern char *ag_audit_hash(Datum *values, bool *nulls);

/* tamper.c */
extern int	ag_agent_code_depth;
extern Oid	ag_agent_code_owner;
extern Oid	ag_plan_agent_owner(PlannedStmt *pstmt);
extern void ag_check_plan_tamper(PlannedStmt *pstmt, AgFinding *f);
extern bool ag_check_object_tamper(ObjectAccessType access, Oid classId,
								   Oid objectId, AgFinding *f);
extern void ag_install_tamper_hooks(void);

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
