/*-------------------------------------------------------------------------
 *
 * lint_body.c
 *		agent_guard_lint: code that runs later or elsewhere — DO blocks,
 *		function and procedure bodies (PL/pgSQL through
 *		pg_query_parse_plpgsql, SQL and BEGIN ATOMIC bodies through the
 *		parser), and EXECUTE of a string built from constants.
 *
 * Each statement found in a body is classified like a top-level one and
 * reported as a nested finding (depth > 0) on its own line; the worst of
 * them becomes the verdict of the DO block, or of calls to the function
 * (remembered in L->functions).  Nesting is followed MAX_DEPTH deep.
 * libpg_query's results are freed as soon as their JSON has been read.
 *
 *-------------------------------------------------------------------------
 */
#include <stdio.h>
#include <string.h>

#include <pg_query.h>

#include "lint_int.h"

/* Record a nested statement's result as a finding, if it is not allowed. */
void
agl_nested_finding(AglCtx *cx, int line, const AglResult *r)
{
	AglFinding	f;

	if (r->verdict == AGL_ALLOW)
		return;
	memset(&f, 0, sizeof(f));
	f.file = cx->file;
	f.line = line;
	f.location = -1;
	f.length = 0;
	f.depth = cx->depth;
	f.context = cx->context;
	f.command = r->command;
	f.op = r->op;
	f.verdict = r->verdict;
	f.objects = r->objects ? r->objects : "";
	f.reason = r->reason;
	agl_add_finding(cx->L, &f);
}

/*
 * Classify every statement of sql (a body, or an EXECUTEd string), as
 * nested findings on the given line; the most severe goes into worst.
 */
void
agl_classify_sql_text(AglCtx *cx, const char *sql, int line, AglResult *worst)
{
	PgQueryParseResult pr;
	AglArena   *a = cx->L->arena;
	JVal	   *root, *stmts;
	int			i;

	if (cx->depth >= MAX_DEPTH)
	{
		agl_result_runtime(worst, "statements nested too deeply to analyse");
		return;
	}
	pr = pg_query_parse(sql);
	if (pr.error)
	{
		agl_result_runtime(worst, agl_printf(a, "could not parse nested SQL: %s",
											 pr.error->message));
		pg_query_free_parse_result(pr);
		return;
	}
	root = agl_json_parse(a, pr.parse_tree);
	pg_query_free_parse_result(pr);
	stmts = jget(root, "stmts");
	for (i = 0; stmts && stmts->t == J_ARR && i < stmts->n; i++)
	{
		AglResult	r;
		AglCtx		sub = *cx;

		sub.depth = cx->depth + 1;
		sub.line = line;
		agl_classify_stmt(&sub, jget(stmts->items[i], "stmt"), sql, &r);
		agl_nested_finding(&sub, line, &r);
		agl_result_merge(worst, r.op, r.verdict, r.command, r.objects, r.reason);
	}
}

/* An expression of a PL/pgSQL statement: classify what it calls or runs. */
static void
classify_plpgsql_expr(AglCtx *cx, const char *query, bool is_sql_stmt, int line,
					  AglResult *worst)
{
	AglArena   *a = cx->L->arena;
	const char *assign;
	PgQueryParseResult pr;

	if (is_sql_stmt)
	{
		agl_classify_sql_text(cx, query, line, worst);
		return;
	}
	/* "x := expr" (assignments) or a bare expression */
	assign = strstr(query, ":=");
	if (assign)
		query = assign + 2;
	pr = pg_query_parse(query);
	if (pr.error == NULL && strncasecmp(query, "select", 6) == 0)
	{
		pg_query_free_parse_result(pr);
		agl_classify_sql_text(cx, query, line, worst);
		return;
	}
	pg_query_free_parse_result(pr);
	agl_classify_sql_text(cx, agl_printf(a, "SELECT %s", query), line, worst);
}

/* The body of an EXECUTE: a constant string is linted, anything else is runtime. */
static void
classify_dynamic(AglCtx *cx, const char *expr, int line, AglResult *worst)
{
	AglArena   *a = cx->L->arena;
	char	   *sel = agl_printf(a, "SELECT %s", expr);
	PgQueryParseResult pr = pg_query_parse(sel);
	JVal	   *root;
	const JVal *target;
	const char *s = NULL;

	if (pr.error == NULL)
	{
		root = agl_json_parse(a, pr.parse_tree);
		target = jget(jnode_is(jget(jget(root, "stmts")->items[0], "stmt"), "SelectStmt"),
					  "targetList");
		if (target && target->t == J_ARR && target->n == 1)
			s = agl_const_string(cx->L, jget(jnode_is(target->items[0], "ResTarget"), "val"));
	}
	pg_query_free_parse_result(pr);
	if (s == NULL)
	{
		AglResult	r;

		agl_result_init(&r, "EXECUTE");
		agl_result_runtime(&r, "dynamic SQL built at run time");
		agl_nested_finding(cx, line, &r);
		agl_result_merge(worst, r.op, r.verdict, r.command, r.objects, r.reason);
		classify_plpgsql_expr(cx, expr, false, line, worst);
		return;
	}
	agl_classify_sql_text(cx, s, line, worst);
}

/* Walk a PL/pgSQL function tree from pg_query_parse_plpgsql. */
static void
walk_plpgsql(AglCtx *cx, const JVal *v, int base_line, int lineno, AglResult *worst)
{
	const char *t;
	const JVal *b;
	int			i;

	if (v == NULL || (v->t != J_OBJ && v->t != J_ARR))
		return;
	if (v->t == J_ARR)
	{
		for (i = 0; i < v->n; i++)
			walk_plpgsql(cx, v->items[i], base_line, lineno, worst);
		return;
	}
	t = jnode_type(v);
	b = jnode_body(v);
	if (t == NULL)
	{
		lineno = (int) jint(v, "lineno", lineno);
		for (i = 0; i < v->n; i++)
			walk_plpgsql(cx, v->items[i], base_line, lineno, worst);
		return;
	}
	lineno = (int) jint(b, "lineno", lineno);
	if (strcmp(t, "PLpgSQL_datum") == 0 || strcmp(t, "PLpgSQL_var") == 0 ||
		strcmp(t, "PLpgSQL_row") == 0 || strcmp(t, "PLpgSQL_rec") == 0)
		return;					/* declarations; defaults are expressions too */
	if (strcmp(t, "PLpgSQL_stmt_dynexecute") == 0 ||
		strcmp(t, "PLpgSQL_stmt_dynfors") == 0)
	{
		const char *q = jstr(jnode_is(jget(b, "query"), "PLpgSQL_expr"), "query");

		if (q)
			classify_dynamic(cx, q, base_line + lineno - 1, worst);
		walk_plpgsql(cx, jget(b, "params"), base_line, lineno, worst);
		walk_plpgsql(cx, jget(b, "body"), base_line, lineno, worst);
		return;
	}
	if ((strcmp(t, "PLpgSQL_stmt_open") == 0 || strcmp(t, "PLpgSQL_stmt_return_query") == 0) &&
		jget(b, "dynquery"))
	{
		const char *q = jstr(jnode_is(jget(b, "dynquery"), "PLpgSQL_expr"), "query");

		if (q)
			classify_dynamic(cx, q, base_line + lineno - 1, worst);
		return;
	}
	if (strcmp(t, "PLpgSQL_stmt_execsql") == 0)
	{
		const char *q = jstr(jnode_is(jget(b, "sqlstmt"), "PLpgSQL_expr"), "query");

		if (q)
			classify_plpgsql_expr(cx, q, true, base_line + lineno - 1, worst);
		return;
	}
	if (strcmp(t, "PLpgSQL_expr") == 0)
	{
		const char *q = jstr(b, "query");

		if (q)
			classify_plpgsql_expr(cx, q, false, base_line + lineno - 1, worst);
		return;
	}
	for (i = 0; i < b->n; i++)
		walk_plpgsql(cx, b->items[i], base_line, lineno, worst);
}

/* Analyse a PL/pgSQL CREATE FUNCTION text; body starts on base_line. */
static void
classify_plpgsql(AglCtx *cx, const char *create_sql, int base_line, AglResult *worst)
{
	PgQueryPlpgsqlParseResult pr;
	JVal	   *root;

	if (cx->depth >= MAX_DEPTH)
	{
		agl_result_runtime(worst, "statements nested too deeply to analyse");
		return;
	}
	pr = pg_query_parse_plpgsql(create_sql);
	if (pr.error)
	{
		agl_result_runtime(worst, agl_printf(cx->L->arena,
											 "could not analyse the PL/pgSQL body: %s",
											 pr.error->message));
		pg_query_free_plpgsql_parse_result(pr);
		return;
	}
	root = agl_json_parse(cx->L->arena, pr.plpgsql_funcs);
	pg_query_free_plpgsql_parse_result(pr);
	if (root == NULL)
	{
		agl_result_runtime(worst, "could not read the PL/pgSQL parse tree");
		return;
	}
	walk_plpgsql(cx, root, base_line, 1, worst);
}

/* The line in src where body text starts, best effort. */
static int
body_line(AglCtx *cx, const char *src, const char *body)
{
	const char *p = (src && body && *body) ? strstr(src, body) : NULL;

	return p ? cx->line + agl_line_of(src, (int) (p - src)) - 1 : cx->line;
}

/* A DO block: PL/pgSQL is analysed, other languages need a runtime check. */
void
agl_classify_do(AglCtx *cx, const JVal *b, const char *src, AglResult *r)
{
	AglLint    *L = cx->L;
	const char *body = agl_string_val(agl_defelem_arg(jget(b, "args"), "as"));
	const char *lang = agl_string_val(agl_defelem_arg(jget(b, "args"), "language"));
	AglCtx		sub = *cx;
	AglResult	worst;
	char		tag[32];
	int			k = 0;

	agl_result_init(&worst, "DO");
	if (body == NULL)
		return;
	if (lang && strcmp(lang, "plpgsql") != 0)
	{
		agl_result_runtime(r, agl_printf(L->arena, "DO block in language %s", lang));
		return;
	}
	do
		snprintf(tag, sizeof(tag), "$agl%d$", k++);
	while (strstr(body, tag));
	sub.context = "DO block";
	classify_plpgsql(&sub,
					 agl_printf(L->arena,
								"CREATE FUNCTION agent_guard_lint_do() RETURNS void LANGUAGE plpgsql AS %s%s%s",
								tag, body, tag),
					 body_line(cx, src, body), &worst);
	if (worst.verdict > AGL_ALLOW)
		agl_result_merge(r, worst.op, worst.verdict, worst.command, worst.objects, worst.reason);
}

/*
 * CREATE FUNCTION / PROCEDURE: creating is harmless; the body's verdict
 * is remembered for the calls that follow.
 */
void
agl_classify_create_function(AglCtx *cx, const JVal *b, const char *src, AglResult *r)
{
	AglLint    *L = cx->L;
	const JVal *options = jget(b, "options");
	const char *lang = agl_string_val(agl_defelem_arg(options, "language"));
	const JVal *as = agl_list_items(agl_defelem_arg(options, "as"));
	const char *body = (as && as->n == 1) ? agl_string_val(as->items[0]) : NULL;
	const char *name = agl_last_name(jget(b, "funcname"));
	const JVal *sql_body = jget(b, "sql_body");
	AglCtx		sub = *cx;
	AglResult	worst;
	AglEntry   *e;

	agl_result_init(&worst, "CREATE FUNCTION");
	sub.context = agl_printf(L->arena, "function %s (when called)", name ? name : "?");
	if (sql_body)
	{
		const JVal *outer = agl_list_items(sql_body);
		int			i, j;

		for (i = 0; outer && i < outer->n; i++)
		{
			const JVal *inner = agl_list_items(outer->items[i]);

			for (j = 0; inner && j < inner->n; j++)
			{
				AglResult	sr;

				sub.depth = cx->depth + 1;
				agl_classify_stmt(&sub, inner->items[j], src, &sr);
				agl_nested_finding(&sub, cx->line, &sr);
				agl_result_merge(&worst, sr.op, sr.verdict, sr.command, sr.objects, sr.reason);
			}
		}
	}
	else if (body == NULL)
		agl_result_runtime(&worst, "the function's body is not in the statement");
	else if (lang == NULL || strcmp(lang, "plpgsql") == 0)
		classify_plpgsql(&sub, src, body_line(cx, src, body), &worst);
	else if (strcmp(lang, "sql") == 0 && body)
		agl_classify_sql_text(&sub, body, body_line(cx, src, body), &worst);
	else
		agl_result_runtime(&worst, agl_printf(L->arena, "function body in language %s",
											  lang ? lang : "?"));

	if (name)
	{
		e = agl_entry_put(L, &L->functions, name);
		e->op = worst.op;
		e->verdict = worst.verdict;
		e->reason = worst.reason;
	}
	/* Creating it is harmless; calling it is judged on the body. */
	r->op = AG_OP_DDL;
}

