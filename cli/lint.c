/*-------------------------------------------------------------------------
 *
 * lint.c
 *		The analysis behind agent_guard_lint: statements in, findings out.
 *		This file holds its interface (lint.h): inputs, split and parsed
 *		by libpg_query, each statement handed to agl_classify_stmt(); the
 *		findings list; the policy.
 *
 * Each statement is classified by the rules of src/classify.c and
 * src/tamper.c, which are the reference, restated over raw parse trees
 * (lint_int.h lists the files).  The server judges the executed plan with
 * the catalogs at hand; the CLI sees only text.  Whenever the answer
 * depends on what it cannot see (row counts, parameters, NOT NULL
 * constraints, functions whose bodies are not in the input, triggers and
 * rules), the verdict is AGL_RUNTIME, never AGL_ALLOW.  What the input
 * itself creates (temporary tables, functions, prepared statements) is
 * remembered in order, across all inputs of a run.
 *
 * Memory: everything the analysis allocates lives in the AglLint's arena
 * and is released by agl_lint_free(); the findings array is malloc'd and
 * grows by doubling; libpg_query results are freed as soon as their JSON
 * has been read.
 *
 *-------------------------------------------------------------------------
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <pg_query.h>

#include "fingerprint.h"
#include "lint_int.h"

/* Append a finding; out of memory ends the program (exit 3). */
void
agl_add_finding(AglLint *L, const AglFinding *f)
{
	if (L->n == L->cap)
	{
		int			ncap = L->cap ? L->cap * 2 : 256;
		AglFinding *nf = realloc(L->findings, sizeof(AglFinding) * ncap);

		if (nf == NULL)
		{
			fprintf(stderr, "agent_guard_lint: out of memory\n");
			exit(3);
		}
		L->findings = nf;
		L->cap = ncap;
	}
	L->findings[L->n++] = *f;
}

/* 1-based line of offset in text. */
int
agl_line_of(const char *text, int offset)
{
	int			line = 1, i;

	for (i = 0; i < offset && text[i]; i++)
		if (text[i] == '\n')
			line++;
	return line;
}

/* ---------------------------------------------------------------------
 * Inputs
 * ---------------------------------------------------------------------
 */

AglLint *
agl_lint_new(AglPolicy policy)
{
	AglLint    *L = calloc(1, sizeof(AglLint));

	if (L == NULL)
	{
		fprintf(stderr, "agent_guard_lint: out of memory\n");
		exit(3);
	}
	L->arena = agl_arena_new();
	L->policy = policy;
	return L;
}

void
agl_lint_free(AglLint *L)
{
	if (L == NULL)
		return;
	agl_arena_free(L->arena);
	free(L->findings);
	free(L);
}

int
agl_lint_count(const AglLint *L)
{
	return L->n;
}

const AglFinding *
agl_lint_finding(const AglLint *L, int i)
{
	return &L->findings[i];
}

bool
agl_finding_denied(const AglLint *L, const AglFinding *f)
{
	if (f->error)
		return false;
	return f->verdict == AGL_DENY &&
		!(L->policy.dry_run && f->op != AG_OP_GUARD_TAMPER);
}

const char *
agl_verdict_name(const AglLint *L, const AglFinding *f)
{
	if (f->error)
		return "error";
	switch (f->verdict)
	{
		case AGL_DENY:
			return agl_finding_denied(L, f) ? "deny" : "dry_run";
		case AGL_RUNTIME:
			return "runtime_check";
		default:
			return "allow";
	}
}

const char *
agl_policy_set(AglPolicy *p, const char *setting)
{
	const char *eq = strchr(setting, '=');
	size_t		nlen;
	const char *name = setting;
	const char *val;

	if (eq == NULL)
		return "a policy setting looks like name=value";
	if (strncasecmp(name, "agent_guard.", 12) == 0)
		name += 12;
	nlen = (size_t) (eq - name);
	val = eq + 1;
	if (nlen == 4 && strncasecmp(name, "mode", 4) == 0)
	{
		if (strcasecmp(val, "enforce") == 0)
			p->dry_run = false;
		else if (strcasecmp(val, "dry_run") == 0)
			p->dry_run = true;
		else
			return "mode must be enforce or dry_run";
		return NULL;
	}
	if (nlen == 8 && strncasecmp(name, "max_rows", 8) == 0)
	{
		char	   *end;
		long		n = strtol(val, &end, 10);

		if (*val == '\0' || *end || n < 0)
			return "max_rows must be a non-negative integer";
		p->max_rows = n;
		return NULL;
	}
	return "unknown policy setting (known: mode, max_rows)";
}

/* Line of a byte offset, advancing a cursor that only moves forward. */
typedef struct LineCursor
{
	const char *text;
	int			pos;
	int			line;
} LineCursor;

static int
cursor_line(LineCursor *c, int offset)
{
	if (offset < c->pos)
	{
		c->pos = 0;
		c->line = 1;
	}
	while (c->pos < offset && c->text[c->pos])
	{
		if (c->text[c->pos] == '\n')
			c->line++;
		c->pos++;
	}
	return c->line;
}

static void
parse_error(AglLint *L, const char *file, const char *text, int offset,
			const char *message)
{
	AglFinding	f;

	memset(&f, 0, sizeof(f));
	f.file = file;
	f.line = offset >= 0 ? agl_line_of(text, offset) : 1;
	f.location = offset;
	f.error = agl_strdup(L->arena, message);
	f.objects = "";
	agl_add_finding(L, &f);
}

/* Classify the statements of one parsed chunk (text at base offset). */
static void
lint_stmts(AglLint *L, const char *file, const char *text, const AglTokens *toks,
		   const JVal *stmts, int base, int chunk_len, LineCursor *lc)
{
	int			i, k = 0;

	for (i = 0; stmts && stmts->t == J_ARR && i < stmts->n; i++)
	{
		const JVal *s = stmts->items[i];
		int			loc = base + (int) jint(s, "stmt_location", 0);
		int			len = (int) jint(s, "stmt_len", 0);
		int			end = len > 0 ? loc + len : base + chunk_len;
		int			first = loc;
		AglFinding	f;
		AglResult	r;
		AglCtx		cx;
		char	   *src;
		int			mark = L->n;

		/* The statement starts at its first token (after comments). */
		while (k < toks->n && toks->tok[k].start < loc)
			k++;
		if (k < toks->n && toks->tok[k].start < end)
			first = toks->tok[k].start;

		memset(&f, 0, sizeof(f));
		f.file = file;
		f.line = cursor_line(lc, first);
		f.location = first;
		f.length = end - first;

		cx.L = L;
		cx.file = file;
		cx.line = f.line;
		cx.depth = 0;
		cx.context = NULL;
		cx.in_body = false;
		src = agl_strndup(L->arena, text + first, (size_t) (end - first));
		agl_classify_stmt(&cx, jget(s, "stmt"), src, &r);

		f.command = r.command;
		f.op = r.op;
		f.verdict = r.verdict;
		f.objects = r.objects ? r.objects : "";
		f.reason = r.reason;
		agl_fingerprint_range(text, toks, loc, end, f.fingerprint, NULL);
		agl_add_finding(L, &f);

		/* Nested findings were added first: put the statement before them. */
		if (L->n - 1 > mark)
		{
			AglFinding	top = L->findings[L->n - 1];

			memmove(&L->findings[mark + 1], &L->findings[mark],
					sizeof(AglFinding) * (size_t) (L->n - 1 - mark));
			L->findings[mark] = top;
		}
	}
}

bool
agl_lint_text(AglLint *L, const char *file, const char *text)
{
	AglTokens	toks;
	char	   *err = NULL;
	int			errpos = -1;
	PgQueryParseResult pr;
	LineCursor	lc;
	bool		ok = true;

	lc.text = text;
	lc.pos = 0;
	lc.line = 1;
	if (!agl_lex(text, &toks, &err, &errpos))
	{
		parse_error(L, file, text, errpos, err);
		free(err);
		return false;
	}

	pr = pg_query_parse(text);
	if (pr.error == NULL)
	{
		JVal	   *root = agl_json_parse(L->arena, pr.parse_tree);

		pg_query_free_parse_result(pr);
		lint_stmts(L, file, text, &toks, jget(root, "stmts"), 0, (int) strlen(text), &lc);
	}
	else
	{
		/* Localise the error: split with the scanner, parse piece by piece. */
		PgQuerySplitResult sr = pg_query_split_with_scanner(text);
		int			i;

		pg_query_free_parse_result(pr);
		ok = false;
		if (sr.error)
			parse_error(L, file, text, sr.error->cursorpos - 1, sr.error->message);
		for (i = 0; sr.error == NULL && i < sr.n_stmts; i++)
		{
			int			loc = sr.stmts[i]->stmt_location;
			int			len = sr.stmts[i]->stmt_len;
			char	   *piece;
			PgQueryParseResult p;

			if (len <= 0)
				len = (int) strlen(text) - loc;
			piece = agl_strndup(L->arena, text + loc, (size_t) len);
			p = pg_query_parse(piece);
			if (p.error)
				parse_error(L, file, text,
							p.error->cursorpos > 0 ? loc + p.error->cursorpos - 1 : loc,
							p.error->message);
			else
			{
				JVal	   *root = agl_json_parse(L->arena, p.parse_tree);

				lint_stmts(L, file, text, &toks, jget(root, "stmts"), loc, len, &lc);
			}
			pg_query_free_parse_result(p);
		}
		pg_query_free_split_result(sr);
	}
	agl_tokens_free(&toks);
	return ok;
}
