/*-------------------------------------------------------------------------
 *
 * fingerprint.c
 *		Statement fingerprints: hex SHA-256 over the canonical token stream
 *		of a statement, as the core lexer sees it.
 *
 * The canonical stream is built from the tokens core_yylex() returns, each
 * written as its own source text:
 *
 *	- comments and whitespace are not tokens, so they never count;
 *	- keywords and unquoted identifiers are ASCII-lowercased (A-Z only, as
 *	  downcase_identifier() does for a multibyte encoding);
 *	- quoted identifiers ("X", U&"X") and every literal (strings of every
 *	  kind, dollar quotes, numbers, bit strings) and every other token
 *	  (operators, punctuation, $n parameters) are kept byte for byte;
 *	- tokens are separated by a single space; leading and trailing ';'
 *	  tokens are dropped, inner ones are kept.
 *
 * The lexer always runs with standard_conforming_strings on and
 * backslash_quote at its default, whatever the session says, so the result
 * is a function of the text alone.  agent_guard_lint computes the same
 * stream with libpg_query's copy of the same lexer; docs/fingerprint.md
 * states the definition, and test/cli/run.sh compares the two on a corpus.
 *
 * A token's text is read the way pg_stat_statements' fill_in_constant_lengths
 * reads it: flex leaves a NUL byte after the text of the token it has just
 * returned in the scanner's private copy of the input, so the token runs from
 * its start location up to that NUL.  A string literal continued across a
 * newline ('a'<newline>'b') is one token whose text includes the newline.
 *
 * Everything is allocated in the caller's memory context; nothing is kept.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "fmgr.h"
#include "lib/stringinfo.h"
#include "parser/gramparse.h"
#include "parser/parser.h"
#include "parser/scanner.h"
#include "utils/builtins.h"

#include "agent_guard.h"

PG_FUNCTION_INFO_V1(agent_guard_fingerprint);

/* Append one token's canonical text. */
static void
ag_append_token(StringInfo buf, const char *text, bool fold)
{
	const char *p;

	if (buf->len > 0)
		appendStringInfoChar(buf, ' ');
	if (!fold)
	{
		appendStringInfoString(buf, text);
		return;
	}
	for (p = text; *p; p++)
	{
		char		c = *p;

		if (c >= 'A' && c <= 'Z')
			c += 'a' - 'A';
		appendStringInfoChar(buf, c);
	}
}

/*
 * The canonical token stream of sql, as described in the file header.
 * Lexical errors (an unterminated quote, say) are raised as syntax errors.
 */
static char *
ag_canonical_tokens(const char *sql)
{
	core_yyscan_t yyscanner;
	core_yy_extra_type yyextra;
	core_YYSTYPE yylval;
	YYLTYPE		yylloc;
	StringInfoData buf;
	int			last_non_semi = 0;	/* buf.len after the last non-';' token */

	initStringInfo(&buf);
	yyscanner = scanner_init(sql, &yyextra, &ScanKeywords, ScanKeywordTokens);
	yyextra.backslash_quote = BACKSLASH_QUOTE_SAFE_ENCODING;
	yyextra.escape_string_warning = false;
	yyextra.standard_conforming_strings = true;

	for (;;)
	{
		int			tok = core_yylex(&yylval, &yylloc, yyscanner);
		const char *text;
		bool		fold;

		if (tok == 0)
			break;
		text = yyextra.scanbuf + yylloc;

		if (tok == ';' && last_non_semi == 0)
			continue;			/* leading semicolons */

		/* Keywords and unquoted identifiers fold; quoted ones start with '"'. */
		fold = ((tok == IDENT && text[0] != '"') ||
				(tok >= ABORT_P && tok <= ZONE));
		ag_append_token(&buf, text, fold);
		if (tok != ';')
			last_non_semi = buf.len;
	}
	scanner_finish(yyscanner);

	/* Trailing semicolons. */
	buf.len = last_non_semi;
	buf.data[buf.len] = '\0';
	return buf.data;
}

/* Hex SHA-256 of the statement's canonical token stream. */
char *
ag_fingerprint(const char *sql)
{
	char	   *canon = ag_canonical_tokens(sql);
	char	   *hex = ag_sha256_hex(canon, strlen(canon));

	pfree(canon);
	return hex;
}

/* SQL: agent_guard.fingerprint(sql text) returns text */
Datum
agent_guard_fingerprint(PG_FUNCTION_ARGS)
{
	char	   *sql = text_to_cstring(PG_GETARG_TEXT_PP(0));

	PG_RETURN_TEXT_P(cstring_to_text(ag_fingerprint(sql)));
}
