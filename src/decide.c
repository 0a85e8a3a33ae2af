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

#include "miscadmin.h"
#include "parser/scansup.h"
#include "tcop/tcopprot.h"
#include "lib/stringinfo.h"
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

/*
 * Make a durable audit record of a decision on a finding.  Returns whether
 * it is committed in agent_guard.audit_log; if not, it is in the server log.
 */
bool
ag_record(AgFinding *f, AgVerdict verdict, const char *sourceText,
		  int stmt_location, int stmt_len)
{
	AgAuditRecord rec;
	char	   *statement = ag_statement_text(sourceText, stmt_location, stmt_len);

	memset(&rec, 0, sizeof(rec));
	rec.verdict = verdict;
	rec.row_count = f->row_count;
	rec.command_tag = f->command_tag ? f->command_tag : "???";
	rec.statement = statement;
	rec.top_statement = (debug_query_string &&
						 strcmp(debug_query_string, statement) != 0 &&
						 (sourceText == NULL || strcmp(debug_query_string, sourceText) != 0)) ?
		debug_query_string : NULL;
	rec.rule = f->rule;
	rec.reason = f->detail ? psprintf("%s. %s", f->reason, f->detail) : f->reason;
	rec.objects = f->objects;
	return ag_audit_write(&rec);
}

/*
 * With agent_guard.audit_level = all: a routine record of a statement of an
 * agent session that needed no decision.  Not waited for.
 */
void
ag_record_statement(const char *command_tag, const char *sourceText,
					int stmt_location, int stmt_len)
{
	AgAuditRecord rec;

	memset(&rec, 0, sizeof(rec));
	rec.verdict = AG_VERDICT_ALLOW;
	rec.row_count = -1;
	rec.command_tag = command_tag;
	rec.statement = ag_statement_text(sourceText, stmt_location, stmt_len);
	rec.rule = "none";
	rec.async = true;
	(void) ag_audit_write(&rec);
}

/*
 * Decide on a finding.  Returns if the statement may go on; otherwise
 * raises the denial.
 */
void
ag_judge(AgFinding *f, const char *sourceText, int stmt_location, int stmt_len)
{
	AgVerdict	verdict;
	bool		durable;
	StringInfoData detail;

	if (f->action != AG_ACTION_DENY)
		return;

	verdict = (ag_mode == AG_MODE_DRY_RUN && f->op != AG_OP_GUARD_TAMPER) ?
		AG_VERDICT_DRY_RUN : AG_VERDICT_DENY;
	durable = ag_record(f, verdict, sourceText, stmt_location, stmt_len);

	if (verdict == AG_VERDICT_DRY_RUN && durable)
		return;

	initStringInfo(&detail);
	appendStringInfo(&detail, "Rule \"%s\": %s. Objects: %s.",
					 f->rule, f->reason ? f->reason : "guarded statement",
					 ag_join_objects(f->objects));
	if (f->row_count >= 0 && f->detail == NULL)
		appendStringInfo(&detail, " Rows at stake: about %lld.", (long long) f->row_count);
	if (f->detail)
		appendStringInfo(&detail, " %s", f->detail);
	if (!durable)
		appendStringInfoString(&detail, verdict == AG_VERDICT_DRY_RUN ?
							   " The audit record could not be written, so the dry-run verdict was enforced; see the server log." :
							   " The audit record could not be written to agent_guard.audit_log; it is in the server log.");

	ereport(ERROR,
			(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
			 errmsg("agent_guard: refused %s for agent role \"%s\"",
					f->command_tag ? f->command_tag : "statement",
					GetUserNameFromId(GetSessionUserId(), false)),
			 errdetail_internal("%s", detail.data),
			 errhint("Ask a human to review this statement; if it is intended, a human must run it with a non-agent role. Do not retry it in another form.")));
}
