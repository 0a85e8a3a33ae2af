/*-------------------------------------------------------------------------
 *
 * lint_expr.c
 *		agent_guard_lint: what an expression is worth without a server.
 *
 *	- Constant folding of WHERE clauses, as far as literals allow, with
 *	  SQL's three-valued logic (the server's planner folds the same ones).
 *	- What a function call does: built-ins known by a fixed list, functions
 *	  created earlier in the input by their body's verdict, anything else
 *	  needs a runtime check.
 *
 * Folded strings are allocated in the AglLint's arena.
 *
 *-------------------------------------------------------------------------
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lint_int.h"

/* ---------------------------------------------------------------------
 * Constant folding of WHERE clauses
 * ---------------------------------------------------------------------
 */

static Cv
cv(CvKind k)
{
	Cv			c;

	c.k = k;
	c.num = 0;
	c.str = NULL;
	return c;
}

/* A folded value read as a boolean, as a cast to bool would. */
Cv
agl_cv_bool_of(Cv c)
{
	if (c.k == CV_STR)
	{
		const char *s = c.str;

		if (strcasecmp(s, "t") == 0 || strcasecmp(s, "true") == 0 ||
			strcasecmp(s, "y") == 0 || strcasecmp(s, "yes") == 0 ||
			strcasecmp(s, "on") == 0 || strcmp(s, "1") == 0)
			return cv(CV_TRUE);
		if (strcasecmp(s, "f") == 0 || strcasecmp(s, "false") == 0 ||
			strcasecmp(s, "n") == 0 || strcasecmp(s, "no") == 0 ||
			strcasecmp(s, "off") == 0 || strcmp(s, "0") == 0)
			return cv(CV_FALSE);
		return cv(CV_UNKNOWN);
	}
	if (c.k == CV_NUM)
		return cv(c.num != 0 ? CV_TRUE : CV_FALSE);
	return c;
}

/* Days since 1970-01-01 of a literal starting "YYYY-MM-DD", or -1e9. */
static double
literal_days(const char *s)
{
	int			y, m, d;
	struct tm	tm;

	if (s == NULL || sscanf(s, "%4d-%2d-%2d", &y, &m, &d) != 3)
		return -1e9;
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = y - 1900;
	tm.tm_mon = m - 1;
	tm.tm_mday = d;
	tm.tm_hour = 12;
	return (double) timegm(&tm) / 86400.0;
}

/* Compare two folded values with a comparison operator. */
static Cv
cv_compare(const char *op, Cv a, Cv b)
{
	int			cmp;

	if (a.k == CV_NULL || b.k == CV_NULL)
		return cv(CV_NULL);
	if (a.k == CV_NOW || b.k == CV_NOW)
	{
		/* now() against a date literal: only far from today is certain. */
		Cv			lit = a.k == CV_NOW ? b : a;
		double		days, today = (double) time(NULL) / 86400.0;

		if (lit.k != CV_STR || (days = literal_days(lit.str)) < -1e8)
			return cv(CV_UNKNOWN);
		if (days > today - 2 && days < today + 2)
			return cv(CV_UNKNOWN);
		cmp = (a.k == CV_NOW) ? (today > days ? 1 : -1) : (days > today ? 1 : -1);
	}
	else if ((a.k == CV_NUM || a.k == CV_STR) && (b.k == CV_NUM || b.k == CV_STR) &&
			 (a.k == CV_NUM || b.k == CV_NUM))
	{
		/* A number against a string literal: the literal is read as one. */
		char	   *end;
		double		x = a.k == CV_NUM ? a.num : strtod(a.str, &end);

		if (a.k == CV_STR && (*end || end == a.str))
			return cv(CV_UNKNOWN);
		{
			double		y = b.k == CV_NUM ? b.num : strtod(b.str, &end);

			if (b.k == CV_STR && (*end || end == b.str))
				return cv(CV_UNKNOWN);
			cmp = x < y ? -1 : x > y ? 1 : 0;
		}
	}
	else if (a.k == CV_STR && b.k == CV_STR)
	{
		/* Only equality is collation-independent. */
		if (strcmp(op, "=") != 0 && strcmp(op, "<>") != 0 && strcmp(op, "!=") != 0)
			return cv(CV_UNKNOWN);
		cmp = strcmp(a.str, b.str) != 0;
	}
	else if ((a.k == CV_TRUE || a.k == CV_FALSE) && (b.k == CV_TRUE || b.k == CV_FALSE))
		cmp = (a.k == CV_TRUE) - (b.k == CV_TRUE);
	else
		return cv(CV_UNKNOWN);

	if (strcmp(op, "=") == 0)
		return cv(cmp == 0 ? CV_TRUE : CV_FALSE);
	if (strcmp(op, "<>") == 0 || strcmp(op, "!=") == 0)
		return cv(cmp != 0 ? CV_TRUE : CV_FALSE);
	if (strcmp(op, "<") == 0)
		return cv(cmp < 0 ? CV_TRUE : CV_FALSE);
	if (strcmp(op, ">") == 0)
		return cv(cmp > 0 ? CV_TRUE : CV_FALSE);
	if (strcmp(op, "<=") == 0)
		return cv(cmp <= 0 ? CV_TRUE : CV_FALSE);
	if (strcmp(op, ">=") == 0)
		return cv(cmp >= 0 ? CV_TRUE : CV_FALSE);
	return cv(CV_UNKNOWN);
}

static Cv
const_eval_aconst(const JVal *b)
{
	JVal	   *x;
	Cv			c = cv(CV_UNKNOWN);

	if (jbool(b, "isnull"))
		return cv(CV_NULL);
	if ((x = jget(b, "boolval")) != NULL)
		return cv(jbool(x, "boolval") ? CV_TRUE : CV_FALSE);
	if ((x = jget(b, "ival")) != NULL)
	{
		c.k = CV_NUM;
		c.num = (double) jint(x, "ival", 0);
		return c;
	}
	if ((x = jget(b, "fval")) != NULL && jstr(x, "fval"))
	{
		c.k = CV_NUM;
		c.num = strtod(jstr(x, "fval"), NULL);
		return c;
	}
	if ((x = jget(b, "sval")) != NULL)
	{
		c.k = CV_STR;
		c.str = jstr(x, "sval") ? jstr(x, "sval") : "";
		return c;
	}
	return c;
}

/*
 * Fold an expression as far as its constants allow.  Column references,
 * parameters, subqueries and functions other than now() are unknown;
 * 3-valued logic carries unknowns through AND, OR and NOT.
 */
Cv
agl_const_eval(AglLint *L, const JVal *v)
{
	const char *t = jnode_type(v);
	const JVal *b = jnode_body(v);

	if (t == NULL)
		return cv(CV_UNKNOWN);
	if (strcmp(t, "A_Const") == 0)
		return const_eval_aconst(b);
	if (strcmp(t, "TypeCast") == 0)
	{
		Cv			c = agl_const_eval(L, jget(b, "arg"));
		const char *type = agl_last_name(jget(jget(b, "typeName"), "names"));

		if (agl_streq(type, "bool") || agl_streq(type, "boolean"))
			return agl_cv_bool_of(c);
		if (c.k == CV_STR && (agl_streq(type, "int4") || agl_streq(type, "int8") ||
							  agl_streq(type, "int2") || agl_streq(type, "numeric") ||
							  agl_streq(type, "float8") || agl_streq(type, "float4")))
		{
			char	   *end;
			double		d = strtod(c.str, &end);

			if (*end || end == c.str)
				return cv(CV_UNKNOWN);
			c.k = CV_NUM;
			c.num = d;
		}
		return c;
	}
	if (strcmp(t, "BoolExpr") == 0)
	{
		const char *op = jstr(b, "boolop");
		const JVal *args = jget(b, "args");
		bool		any_unknown = false, any_null = false;
		int			i;

		if (args == NULL || args->t != J_ARR || args->n == 0)
			return cv(CV_UNKNOWN);
		if (agl_streq(op, "NOT_EXPR"))
		{
			Cv			c = agl_cv_bool_of(agl_const_eval(L, args->items[0]));

			return c.k == CV_TRUE ? cv(CV_FALSE) : c.k == CV_FALSE ? cv(CV_TRUE) :
				c.k == CV_NULL ? cv(CV_NULL) : cv(CV_UNKNOWN);
		}
		for (i = 0; i < args->n; i++)
		{
			Cv			c = agl_cv_bool_of(agl_const_eval(L, args->items[i]));

			if (agl_streq(op, "AND_EXPR") && c.k == CV_FALSE)
				return cv(CV_FALSE);
			if (agl_streq(op, "OR_EXPR") && c.k == CV_TRUE)
				return cv(CV_TRUE);
			if (c.k == CV_NULL)
				any_null = true;
			else if (c.k != CV_TRUE && c.k != CV_FALSE)
				any_unknown = true;
		}
		if (any_unknown)
			return cv(CV_UNKNOWN);
		if (any_null)
			return cv(CV_NULL);
		return cv(agl_streq(op, "AND_EXPR") ? CV_TRUE : CV_FALSE);
	}
	if (strcmp(t, "A_Expr") == 0 && agl_streq(jstr(b, "kind"), "AEXPR_OP"))
	{
		const char *op = agl_last_name(jget(b, "name"));
		Cv			l, r;

		if (op == NULL || jget(b, "lexpr") == NULL)
			return cv(CV_UNKNOWN);
		l = agl_const_eval(L, jget(b, "lexpr"));
		r = agl_const_eval(L, jget(b, "rexpr"));
		if (l.k == CV_UNKNOWN || r.k == CV_UNKNOWN)
			return cv(CV_UNKNOWN);
		return cv_compare(op, l, r);
	}
	if (strcmp(t, "NullTest") == 0)
	{
		Cv			c = agl_const_eval(L, jget(b, "arg"));
		bool		isnull_test = agl_streq(jstr(b, "nulltesttype"), "IS_NULL");

		if (c.k == CV_UNKNOWN)
			return c;
		return cv(((c.k == CV_NULL) == isnull_test) ? CV_TRUE : CV_FALSE);
	}
	if (strcmp(t, "BooleanTest") == 0)
	{
		Cv			c = agl_cv_bool_of(agl_const_eval(L, jget(b, "arg")));
		const char *bt = jstr(b, "booltesttype");

		if (c.k != CV_TRUE && c.k != CV_FALSE && c.k != CV_NULL)
			return cv(CV_UNKNOWN);
		if (agl_streq(bt, "IS_TRUE"))
			return cv(c.k == CV_TRUE ? CV_TRUE : CV_FALSE);
		if (agl_streq(bt, "IS_NOT_TRUE"))
			return cv(c.k != CV_TRUE ? CV_TRUE : CV_FALSE);
		if (agl_streq(bt, "IS_FALSE"))
			return cv(c.k == CV_FALSE ? CV_TRUE : CV_FALSE);
		if (agl_streq(bt, "IS_NOT_FALSE"))
			return cv(c.k != CV_FALSE ? CV_TRUE : CV_FALSE);
		if (agl_streq(bt, "IS_UNKNOWN"))
			return cv(c.k == CV_NULL ? CV_TRUE : CV_FALSE);
		if (agl_streq(bt, "IS_NOT_UNKNOWN"))
			return cv(c.k != CV_NULL ? CV_TRUE : CV_FALSE);
		return cv(CV_UNKNOWN);
	}
	if (strcmp(t, "SQLValueFunction") == 0)
	{
		const char *op = jstr(b, "op");

		if (op && (strstr(op, "CURRENT_DATE") || strstr(op, "CURRENT_TIMESTAMP") ||
				   strstr(op, "LOCALTIMESTAMP")))
			return cv(CV_NOW);
		return cv(CV_UNKNOWN);
	}
	if (strcmp(t, "FuncCall") == 0 && jget(b, "args") == NULL)
	{
		const char *name = agl_last_name(jget(b, "funcname"));

		if (agl_streq(name, "now") || agl_streq(name, "transaction_timestamp") ||
			agl_streq(name, "statement_timestamp"))
			return cv(CV_NOW);
	}
	return cv(CV_UNKNOWN);
}

/* A constant string: a literal, possibly cast or concatenated with ||. */
const char *
agl_const_string(AglLint *L, const JVal *v)
{
	const char *t = jnode_type(v);
	const JVal *b = jnode_body(v);

	if (t == NULL)
		return NULL;
	if (strcmp(t, "A_Const") == 0)
	{
		JVal	   *x = jget(b, "sval");

		return x ? (jstr(x, "sval") ? jstr(x, "sval") : "") : NULL;
	}
	if (strcmp(t, "TypeCast") == 0)
		return agl_const_string(L, jget(b, "arg"));
	if (strcmp(t, "A_Expr") == 0 && agl_streq(jstr(b, "kind"), "AEXPR_OP") &&
		agl_streq(agl_last_name(jget(b, "name")), "||"))
	{
		const char *l = agl_const_string(L, jget(b, "lexpr"));
		const char *r = agl_const_string(L, jget(b, "rexpr"));

		return (l && r) ? agl_printf(L->arena, "%s%s", l, r) : NULL;
	}
	return NULL;
}

/* ---------------------------------------------------------------------
 * Functions: what a call does
 * ---------------------------------------------------------------------
 */

/* Built-in functions that are volatile: never folded by the planner. */
static const char *const volatile_builtins[] = {
	"random", "clock_timestamp", "timeofday", "gen_random_uuid", "setseed",
	"nextval", "random_normal", "txid_current", "pg_sleep", NULL
};

/* Built-in functions that neither drop nor change anything agent_guard guards. */
static const char *const safe_builtins[] = {
	"abs", "age", "array_agg", "array_append", "array_cat", "array_length",
	"array_position", "array_remove", "array_to_string", "ascii", "avg",
	"bit_length", "bool_and", "bool_or", "btrim", "cardinality", "ceil",
	"ceiling", "char_length", "character_length", "chr", "coalesce",
	"col_description", "concat", "concat_ws", "count", "cume_dist",
	"current_database", "current_schema", "current_schemas", "current_setting",
	"date", "date_part", "date_trunc", "decode", "dense_rank", "encode",
	"every", "exp", "extract", "first_value", "float8", "floor", "format",
	"format_type", "generate_series", "greatest", "has_table_privilege",
	"initcap", "int4", "int8", "interval", "isfinite", "json_agg",
	"json_array_elements", "json_build_array", "json_build_object",
	"json_extract_path_text", "jsonb_agg", "jsonb_array_elements",
	"jsonb_build_array", "jsonb_build_object", "jsonb_each",
	"jsonb_extract_path_text", "jsonb_object_keys", "jsonb_set",
	"justify_days", "lag", "last_value", "lead", "least", "left", "length",
	"ln", "log", "lower", "lpad", "ltrim", "make_date", "make_interval",
	"max", "md5", "min", "mod", "mode", "now", "nth_value", "ntile",
	"num_nonnulls", "num_nulls", "numeric", "obj_description",
	"octet_length", "overlay", "percent_rank", "percentile_cont",
	"percentile_disc", "pg_backend_pid", "pg_column_size",
	"pg_get_constraintdef", "pg_get_viewdef", "pg_relation_size",
	"pg_total_relation_size", "pg_typeof", "position", "power",
	"quote_ident", "quote_literal", "quote_nullable", "rank",
	"regexp_match", "regexp_matches", "regexp_replace",
	"regexp_split_to_array", "regexp_split_to_table", "repeat", "replace",
	"reverse", "right", "round", "row_number", "row_to_json", "rpad",
	"rtrim", "sha256", "sign", "split_part", "sqrt", "starts_with",
	"statement_timestamp", "stddev", "string_agg", "string_to_array",
	"strpos", "substr", "substring", "sum", "text", "timezone", "to_char",
	"to_date", "to_json", "to_jsonb", "to_number", "to_timestamp",
	"transaction_timestamp", "translate", "trim", "trunc", "unnest",
	"upper", "variance", "version", "width_bucket", NULL
};

/*
 * What calling this function does: merged into r.  Functions created in
 * the input bring their body's verdict; unknown ones need a runtime check.
 */
void
agl_classify_call(AglCtx *cx, const JVal *funcname, const JVal *args, AglResult *r,
				  bool *is_volatile)
{
	AglLint    *L = cx->L;
	const JVal *items = agl_list_items(funcname);
	const char *name = agl_last_name(funcname);
	const char *schema = (items && items->n == 2) ? agl_string_val(items->items[0]) : NULL;
	AglEntry   *e;

	if (is_volatile)
		*is_volatile = false;
	if (name == NULL || agl_call_is_tamper(cx, funcname, r))
		return;
	if (schema && strcmp(schema, "pg_catalog") != 0)
		schema = NULL;			/* not pg_catalog: look it up as user code */
	else if (items && items->n > 2)
		return;

	if (strcmp(name, "lo_unlink") == 0 && (schema || !agl_entry_find(L->functions, name)))
	{
		agl_result_merge(r, AG_OP_DROP, AGL_DENY, "SELECT", "large object",
						 "an agent may not drop database objects");
		return;
	}
	if (strcmp(name, "set_config") == 0 && (schema || !agl_entry_find(L->functions, name)))
	{
		const char *setting = (args && args->t == J_ARR && args->n > 0) ?
		agl_const_string(L, args->items[0]) : NULL;

		if (setting == NULL)
			agl_result_runtime(r, "set_config() of a setting named at run time");
		else if (strncasecmp(setting, "agent_guard.", 12) == 0 &&
				 strcasecmp(setting, "agent_guard.approval_token") != 0)
			agl_result_merge(r, AG_OP_GUARD_TAMPER, AGL_DENY, "SET",
							 agl_printf(L->arena, "setting %s", setting),
							 "an agent session cannot change agent_guard settings");
		else if (strcasecmp(setting, "session_replication_role") == 0)
			agl_result_runtime(r, "set_config() of session_replication_role: the server refuses every write while it is not origin");
		return;
	}
	if (agl_in_list(volatile_builtins, name) && (schema || !agl_entry_find(L->functions, name)))
	{
		if (is_volatile)
			*is_volatile = true;
		return;
	}
	if (schema == NULL && (e = agl_entry_find(L->functions, name)) != NULL)
	{
		if (e->verdict != AGL_ALLOW)
			agl_result_merge(r, e->op, e->verdict, NULL,
							 agl_printf(L->arena, "function %s", name),
							 e->reason ? e->reason :
							 agl_printf(L->arena, "function %s, created in the input, does this", name));
		return;
	}
	if (schema || agl_in_list(safe_builtins, name))
		return;
	agl_result_runtime(r, agl_printf(L->arena,
									 "calls function %s, whose body is not in the input", name));
}

