/*-------------------------------------------------------------------------
 *
 * approval.c
 *		Approval tokens on the backend side: finding the token an agent
 *		presents, hashing it, keeping it out of the logs, and filing
 *		approval requests ahead of time.
 *
 * A token is "agt_" followed by 64 hex digits (see approve() in the
 * extension script).  The agent presents it with SET [LOCAL]
 * agent_guard.approval_token, or in a comment leading the statement it
 * sends, which survives transaction-pooling proxies:
 *
 *		/+ agent_guard:token=agt_... +/ DROP TABLE old_orders;
 *
 * (with the usual comment delimiters).  Only the token's SHA-256 leaves
 * this backend; the audit worker checks and spends it in the audit
 * database.  PostgreSQL itself would log statements and SET commands that
 * carry a token (log_statement, log_min_error_statement); the emit_log_hook
 * below masks every token in any message before it is written.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "common/cryptohash.h"
#include "common/sha2.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "tcop/tcopprot.h"
#include "utils/builtins.h"
#include "utils/elog.h"

#include "agent_guard.h"

#define AG_TOKEN_PREFIX		"agt_"
#define AG_TOKEN_HEX		64
#define AG_COMMENT_KEY		"agent_guard:token="

char	   *ag_approval_token = NULL;

static emit_log_hook_type prev_emit_log_hook = NULL;

/* Hex SHA-256 of a string. */
char *
ag_sha256_hex(const char *data, size_t len)
{
	pg_cryptohash_ctx *ctx = pg_cryptohash_create(PG_SHA256);
	uint8		digest[PG_SHA256_DIGEST_LENGTH];
	char	   *hex = palloc(PG_SHA256_DIGEST_LENGTH * 2 + 1);

	if (ctx == NULL ||
		pg_cryptohash_init(ctx) < 0 ||
		pg_cryptohash_update(ctx, (const uint8 *) data, len) < 0 ||
		pg_cryptohash_final(ctx, digest, sizeof(digest)) < 0)
		elog(ERROR, "could not compute SHA-256: %s", pg_cryptohash_error(ctx));
	pg_cryptohash_free(ctx);
	hex[hex_encode((const char *) digest, sizeof(digest), hex)] = '\0';
	return hex;
}

static bool
ag_token_char(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
		(c >= 'A' && c <= 'Z') || c == '_';
}

/*
 * The token in a comment that leads the client's statement, if any.  Only
 * comments before the first token of the statement count.
 */
static char *
ag_comment_token(const char *sql)
{
	const char *p = sql;

	if (p == NULL)
		return NULL;
	for (;;)
	{
		while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r' || *p == '\f')
			p++;
		if (p[0] == '-' && p[1] == '-')
		{
			const char *eol = strchr(p, '\n');
			const char *key = strstr(p, AG_COMMENT_KEY);

			if (key && (eol == NULL || key < eol))
				p = key;
			else if (eol == NULL)
				return NULL;
			else
			{
				p = eol;
				continue;
			}
		}
		else if (p[0] == '/' && p[1] == '*')
		{
			const char *end = strstr(p + 2, "*/");
			const char *key = strstr(p + 2, AG_COMMENT_KEY);

			if (key && (end == NULL || key < end))
				p = key;
			else if (end == NULL)
				return NULL;
			else
			{
				p = end + 2;
				continue;
			}
		}
		else
			return NULL;

		/* p points at the key */
		{
			const char *start = p + strlen(AG_COMMENT_KEY);
			const char *q = start;

			while (ag_token_char(*q))
				q++;
			return q > start ? pnstrdup(start, q - start) : NULL;
		}
	}
}

/*
 * The token the session presents for its current statement: a leading
 * comment wins over the setting.  NULL if none.
 */
char *
ag_presented_token(void)
{
	char	   *token = ag_comment_token(debug_query_string);

	if (token != NULL)
		return token;
	if (ag_approval_token != NULL && ag_approval_token[0] != '\0')
		return pstrdup(ag_approval_token);
	return NULL;
}

/* Mask every token in a string, in place. */
void
ag_redact_tokens(char *s)
{
	char	   *p = s;

	if (s == NULL)
		return;
	while ((p = strstr(p, AG_TOKEN_PREFIX)) != NULL)
	{
		char	   *q = p + strlen(AG_TOKEN_PREFIX);

		while (ag_token_char(*q))
			*q++ = '*';
		p = q;
	}
}

/* Copy of a string with its tokens masked. */
char *
ag_redacted(const char *s)
{
	char	   *copy;

	if (s == NULL)
		return NULL;
	copy = pstrdup(s);
	ag_redact_tokens(copy);
	return copy;
}

/*
 * Keep tokens out of the server log: mask them in the message, and do not
 * let PostgreSQL add the statement that carried one.
 */
static void
ag_emit_log_hook(ErrorData *edata)
{
	if (edata->message && strstr(edata->message, AG_TOKEN_PREFIX))
		ag_redact_tokens(edata->message);
	if (edata->detail && strstr(edata->detail, AG_TOKEN_PREFIX))
		ag_redact_tokens(edata->detail);
	if (edata->context && strstr(edata->context, AG_TOKEN_PREFIX))
		ag_redact_tokens(edata->context);
	if (edata->internalquery && strstr(edata->internalquery, AG_TOKEN_PREFIX))
		ag_redact_tokens(edata->internalquery);
	if (debug_query_string && strstr(debug_query_string, AG_TOKEN_PREFIX))
		edata->hide_stmt = true;

	if (prev_emit_log_hook)
		prev_emit_log_hook(edata);
}

void
ag_install_emit_log_hook(void)
{
	prev_emit_log_hook = emit_log_hook;
	emit_log_hook = ag_emit_log_hook;
}

PG_FUNCTION_INFO_V1(agent_guard_request_approval);

/*
 * agent_guard.request_approval(statement text) returns bigint: file a
 * request for a statement ahead of running it.  Nothing is run.
 */
Datum
agent_guard_request_approval(PG_FUNCTION_ARGS)
{
	char	   *sql = text_to_cstring(PG_GETARG_TEXT_PP(0));
	AgAuditRecord rec;

	memset(&rec, 0, sizeof(rec));
	rec.kind = AG_REC_INTENT;
	rec.verdict = AG_VERDICT_DENY;
	rec.row_count = -1;
	rec.command_tag = "REQUEST";
	rec.statement = ag_redacted(sql);
	rec.rule = "intent";
	rec.fingerprint = ag_fingerprint(sql);
	rec.approvals_required = 1;

	if (!ag_audit_write(&rec) || rec.request_id <= 0)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("agent_guard: could not file the approval request"),
				 errdetail("The audit worker could not write it to database \"%s\"; see the server log.",
						   ag_audit_database),
				 errhint("Check that agent_guard's audit worker runs and that CREATE EXTENSION agent_guard was run in the audit database.")));
	ereport(NOTICE,
			(errmsg("agent_guard: approval request %lld filed", (long long) rec.request_id),
			 errhint("Ask a human to approve it with SELECT agent_guard.approve(%lld); in database \"%s\".",
					 (long long) rec.request_id, ag_audit_database)));
	PG_RETURN_INT64(rec.request_id);
}
