/*-------------------------------------------------------------------------
 *
 * decide.c
 *		From a finding to a verdict: apply the policy and the mode, make
 *		the decision durable in the audit trail, then let the statement run
 *		or raise the error the agent will read.
 *
 * The audit record of a denial or a dry-run verdict is committed before
 * the client sees the result.  If it cannot be, the statement is refused:
 * a dry run that cannot be recorded is enforced.  Attempts to weaken the
 * guard itself are refused even in dry_run mode.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "parser/scansup.h"
#include "tcop/tcopprot.h"
#include "utils/acl.h"

#include "agent_guard.h"

/* The statement that was judged, cut out of a multi-statement string. */
static char *
ag_statement_text(const char *source, int location, int len)
{
	int			srclen;

	if (source == NULL)
		return pstrdup("");
	srclen = strlen(source);
	if (location < 0 || location > srclen)
		return pstrdup(source);
	if (len <= 0 || location + len > srclen)
		len = srclen - location;
	while (len > 0 && scanner_isspace(source[location]))
	{
		location++;
		len--;
	}
	return pnstrdup(source + location, len);
}

static char *
ag_join_objects(List *objects)
{
	StringInfoData buf;
	ListCell   *lc;

	if (objects == NIL)
		return pstrdup("none named");
	initStringInfo(&buf);
	foreach(lc, objects)
	{
		if (buf.len > 0)
			appendStringInfoString(&buf, ", ");
		appendStringInfoString(&buf, (char *) lfirst(lc));
	}
	return buf.data;
}

/* Fill the common part of an audit record from a finding. */
static void
ag_record_init(AgAuditRecord *rec, AgFinding *f, AgVerdict verdict,
			   const char *sourceText, int stmt_location, int stmt_len)
{
	char	   *statement = ag_statement_text(sourceText, stmt_location, stmt_len);

	memset(rec, 0, sizeof(*rec));
	rec->kind = AG_REC_AUDIT;
	rec->verdict = verdict;
	rec->row_count = f->row_count;
	rec->command_tag = f->command_tag ? f->command_tag : "???";
	rec->statement = ag_redacted(statement);
	rec->top_statement = (debug_query_string &&
						  strcmp(debug_query_string, statement) != 0 &&
						  (sourceText == NULL || strcmp(debug_query_string, sourceText) != 0)) ?
		ag_redacted(debug_query_string) : NULL;
	rec->rule = f->rule;
	rec->reason = f->detail ? psprintf("%s. %s", f->reason, f->detail) : f->reason;
	rec->objects = f->objects;
	rec->fingerprint = ag_fingerprint(statement);
	rec->max_rows = -1;
}

/*
 * Make a durable audit record of a decision on a finding.  Returns whether
 * it is committed in agent_guard.audit_log; if not, it is in the server log.
 */
bool
ag_record(AgFinding *f, AgVerdict verdict, const char *sourceText,
		  int stmt_location, int stmt_len)
{
	AgAuditRecord rec;

	ag_record_init(&rec, f, verdict, sourceText, stmt_location, stmt_len);
	return ag_audit_write(&rec);
}

/*
 * With agent_guard.audit_level = all: a top-level statement of an agent
 * session that needed no decision starts.  Its routine record is queued when
 * it ends (ag_routine_end() with the same owner) or fails, not waited for.
 */
void
ag_record_statement(const char *command_tag, const char *sourceText,
					int stmt_location, int stmt_len, const void *owner)
{
	AgAuditRecord rec;

	memset(&rec, 0, sizeof(rec));
	rec.kind = AG_REC_AUDIT;
	rec.verdict = AG_VERDICT_ALLOW;
	rec.row_count = -1;
	rec.command_tag = command_tag;
	rec.statement = ag_redacted(ag_statement_text(sourceText, stmt_location, stmt_len));
	rec.rule = "none";
	ag_routine_begin(&rec, owner);
}

/*
 * If the session presents an approval token, have the audit worker check it
 * against this statement and spend it.  Returns true if the statement is
 * approved (the allow row is then committed); otherwise *why says why the
 * token was refused, or stays NULL if there was none.
 */
static bool
ag_try_token(AgFinding *f, const char *sourceText, int stmt_location,
			 int stmt_len, char **why)
{
	char	   *token = ag_presented_token();
	AgAuditRecord rec;

	*why = NULL;
	if (token == NULL)
		return false;

	ag_record_init(&rec, f, AG_VERDICT_ALLOW, sourceText, stmt_location, stmt_len);
	rec.kind = AG_REC_SPEND;
	rec.token_hash = ag_sha256_hex(token, strlen(token));
	memset(token, 0, strlen(token));

	if (!ag_audit_write(&rec))
	{
		*why = "the approval token could not be checked, because the audit worker could not be reached";
		return false;
	}
	if (!rec.spent)
	{
		*why = rec.result_text;
		return false;
	}
	ag_budget_approved(rec.max_rows);
	ereport(NOTICE,
			(errmsg("agent_guard: %s allowed by approval request %lld",
					f->command_tag ? f->command_tag : "statement",
					(long long) rec.request_id),
			 errdetail("Approved by %s; the approval is now used.",
					   rec.result_text && rec.result_text[0] ? rec.result_text : "a human")));
	return true;
}

/*
 * Decide on a finding.  Returns if the statement may go on (allowed, dry
 * run, or approved by a human); otherwise raises the denial, after filing an
 * approval request for it.  The result says whether the decision went on
 * record (dry run, approval) or there was nothing to decide.
 */
bool
ag_judge(AgFinding *f, const char *sourceText, int stmt_location, int stmt_len)
{
	AgAuditRecord rec;
	AgVerdict	verdict;
	bool		durable;
	bool		approvable;
	char	   *token_problem = NULL;
	StringInfoData detail;
	StringInfoData hint;

	if (f->action != AG_ACTION_DENY)
		return false;

	/* Attempts on the guard itself are never approved nor dry-run. */
	approvable = f->op != AG_OP_GUARD_TAMPER;
	verdict = (ag_mode == AG_MODE_DRY_RUN && approvable) ?
		AG_VERDICT_DRY_RUN : AG_VERDICT_DENY;

	/* A statement that outgrew its approval does not spend another. */
	if (verdict == AG_VERDICT_DENY && approvable &&
		strcmp(f->rule, AG_RULE_APPROVAL_CEILING) != 0 &&
		ag_try_token(f, sourceText, stmt_location, stmt_len, &token_problem))
		return true;

	ag_record_init(&rec, f, verdict, sourceText, stmt_location, stmt_len);
	if (verdict == AG_VERDICT_DENY && approvable)
	{
		rec.kind = AG_REC_REQUEST;
		rec.approvals_required = ag_policy_approvers(f->relid, f->pop);
	}
	if (token_problem)
		rec.reason = psprintf("%s. The presented approval token was refused: %s",
							  rec.reason ? rec.reason : "guarded statement", token_problem);
	if (OidIsValid(ag_agent_code_owner) && ag_agent_code_owner != GetSessionUserId())
		rec.reason = psprintf("%s. In code owned by agent role %s",
							  rec.reason ? rec.reason : "guarded statement",
							  GetUserNameFromId(ag_agent_code_owner, true));
	durable = ag_audit_write(&rec);

	if (verdict == AG_VERDICT_DRY_RUN && durable)
		return true;

	initStringInfo(&detail);
	appendStringInfo(&detail, "Rule \"%s\": %s. Objects: %s.",
					 f->rule, f->reason ? f->reason : "guarded statement",
					 ag_join_objects(f->objects));
	if (f->row_count >= 0 && f->detail == NULL)
		appendStringInfo(&detail, " Rows at stake: about %lld.", (long long) f->row_count);
	if (f->detail)
		appendStringInfo(&detail, " %s", f->detail);
	if (token_problem)
		appendStringInfo(&detail, " The approval token was refused: %s.", token_problem);
	if (durable && rec.request_id > 0)
		appendStringInfo(&detail, " Approval request %lld is filed.", (long long) rec.request_id);
	if (!durable)
		appendStringInfoString(&detail, verdict == AG_VERDICT_DRY_RUN ?
							   " The audit record could not be written, so the dry-run verdict was enforced; see the server log." :
							   " The audit record could not be written to agent_guard.audit_log; it is in the server log.");

	initStringInfo(&hint);
	if (durable && rec.request_id > 0)
		appendStringInfo(&hint,
						 "Ask a human to approve request %lld (SELECT agent_guard.approve(%lld); in database \"%s\"), "
						 "then run the same statement again with SET agent_guard.approval_token = '<token>' "
						 "or a leading comment /* agent_guard:token=<token> */. Do not retry it in another form.",
						 (long long) rec.request_id, (long long) rec.request_id,
						 ag_audit_database);
	else if (!approvable)
		appendStringInfoString(&hint,
							   "Only a human administrator using a non-agent role can do this. Do not retry it in another form.");
	else
		appendStringInfoString(&hint,
							   "Ask a human to review this statement; if it is intended, a human must run it with a non-agent role. Do not retry it in another form.");

	if (OidIsValid(ag_agent_code_owner) && ag_agent_code_owner != GetSessionUserId())
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("agent_guard: refused %s in code owned by agent role \"%s\"",
						f->command_tag ? f->command_tag : "statement",
						GetUserNameFromId(ag_agent_code_owner, false)),
				 errdetail_internal("%s", detail.data),
				 errhint("Code an agent wrote is guarded whoever runs it. Ask a human to review it: %s",
						 hint.data)));
	ereport(ERROR,
			(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
			 errmsg("agent_guard: refused %s for agent role \"%s\"",
					f->command_tag ? f->command_tag : "statement",
					GetUserNameFromId(GetSessionUserId(), false)),
			 errdetail_internal("%s", detail.data),
			 errhint("%s", hint.data)));
}
