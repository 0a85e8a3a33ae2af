/*-------------------------------------------------------------------------
 *
 * lint.c
 *		The analysis behind agent_guard_lint: statements in, findings out.
 *
 * Input is split and parsed by libpg_query (pg_query_parse, JSON output);
 * each statement is classified by the rules of src/classify.c, which is the
 * reference, restated over raw parse trees:
 *
 *	- utility statements: DROP of any kind, TRUNCATE, destructive ALTER
 *	  TABLE subcommands, renames, SET SCHEMA, guard tampering;
 *	- DELETE / UPDATE / MERGE anywhere in the statement (writable CTEs,
 *	  COPY (...) TO, EXPLAIN ANALYZE, CREATE TABLE AS): unbounded when the
 *	  WHERE clause, folded as far as constants allow, cannot restrict the
 *	  target's rows;
 *	- DO blocks and function bodies (PL/pgSQL through
 *	  pg_query_parse_plpgsql, SQL bodies through the parser), including
 *	  EXECUTE of a constant string.
 *
 * The server judges the executed plan with the catalogs at hand; the CLI
 * sees only text.  Whenever the answer depends on what it cannot see (row
 * counts, parameters, NOT NULL constraints, functions whose bodies are not
 * in the input, triggers and rules), the verdict is AGL_RUNTIME, never
 * AGL_ALLOW.  What the input itself creates (temporary tables, functions,
 * prepared statements) is remembered in order, across all inputs of a run.
 *
 * Memory: everything the analysis allocates lives in the AglLint's arena
 * and is released by agl_lint_free(); libpg_query results are freed as soon
 * as their JSON has been read.
 *
 *-------------------------------------------------------------------------
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <pg_query.h>

#include "fingerprint.h"
#include "lint.h"

#define MAX_DEPTH 16

/* A name -> classification map, for functions and prepared statements. */
typedef struct AglEntry
{
	const char *name;
	AgOpClass	op;
	AglVerdict	verdict;
	const char *reason;
	struct AglEntry *next;
} AglEntry;

struct AglLint
{
	AglArena   *arena;
	AglPolicy	policy;
	AglFinding *findings;
	int			n;
	int			cap;
	AglEntry   *temp_tables;	/* created TEMP in the input */
	AglEntry   *functions;		/* created in the input */
	AglEntry   *prepared;		/* PREPAREd in the input */
	AglEntry   *hooked_tables;	/* tables given triggers or rules */
};

/* The classification of one statement while it is being built. */
typedef struct AglResult
{
	AgOpClass	op;
	AglVerdict	verdict;
	const char *command;
	const char *objects;
	const char *reason;
} AglResult;

/* Where nested findings go and how their lines are numbered. */
typedef struct AglCtx
{
	AglLint    *L;
	const char *file;
	int			line;			/* line of the statement being classified */
	int			depth;
	const char *context;		/* for nested findings */
	bool		in_body;		/* classifying a function body's statement */
} AglCtx;

static void classify_stmt(AglCtx *cx, const JVal *node, const char *src, AglResult *r);
static void classify_sql_text(AglCtx *cx, const char *sql, int line, AglResult *worst);

/* ---------------------------------------------------------------------
 * Small helpers
 * ---------------------------------------------------------------------
 */

static AglVerdict
verdict_of(AgOpClass op)
{
	switch (ag_op_default_action(op))
	{
		case AG_ACTION_DENY:
			return AGL_DENY;
		case AG_ACTION_BUDGET:
			return AGL_RUNTIME;
		default:
			return AGL_ALLOW;
	}
}

static void
result_init(AglResult *r, const char *command)
{
	r->op = AG_OP_OTHER;
	r->verdict = AGL_ALLOW;
	r->command = command;
	r->objects = NULL;
	r->reason = NULL;
}

static void
result_set(AglResult *r, AgOpClass op, const char *reason)
{
	r->op = op;
	r->verdict = verdict_of(op);
	r->reason = reason;
}

/* Keep the more severe of r and (op, verdict, reason). */
static void
result_merge(AglResult *r, AgOpClass op, AglVerdict v, const char *command,
			 const char *objects, const char *reason)
{
	if (v > r->verdict ||
		(v == r->verdict && r->op <= AG_OP_DDL && op > r->op))
	{
		r->op = op;
		r->verdict = v;
		if (command)
			r->command = command;
		r->objects = objects;
		r->reason = reason;
	}
}

/* Mark r as needing a runtime check, unless something worse was found. */
static void
result_runtime(AglResult *r, const char *reason)
{
	if (r->verdict < AGL_RUNTIME)
	{
		r->verdict = AGL_RUNTIME;
		r->reason = reason;
	}
}

static void
add_object(AglLint *L, AglResult *r, const char *obj)
{
	if (r->objects == NULL || r->objects[0] == '\0')
		r->objects = agl_strdup(L->arena, obj);
	else
		r->objects = agl_printf(L->arena, "%s, %s", r->objects, obj);
}

static char *
lower_dup(AglLint *L, const char *s)
{
	char	   *d = agl_strdup(L->arena, s);
	char	   *p;

	for (p = d; *p; p++)
		if (*p >= 'A' && *p <= 'Z')
			*p += 'a' - 'A';
	return d;
}

static AglEntry *
entry_find(AglEntry *list, const char *name)
{
	for (; list; list = list->next)
		if (strcmp(list->name, name) == 0)
			return list;
	return NULL;
}

static AglEntry *
entry_put(AglLint *L, AglEntry **list, const char *name)
{
	AglEntry   *e = entry_find(*list, name);

	if (e == NULL)
	{
		e = agl_alloc(L->arena, sizeof(AglEntry));
		e->name = agl_strdup(L->arena, name);
		e->next = *list;
		*list = e;
	}
	e->op = AG_OP_OTHER;
	e->verdict = AGL_ALLOW;
	e->reason = NULL;
	return e;
}

static void
entry_remove(AglEntry **list, const char *name)
{
	for (; *list; list = &(*list)->next)
		if (strcmp((*list)->name, name) == 0)
		{
			*list = (*list)->next;
			return;
		}
}

/* The sval of a {"String": {"sval": ...}} node, or NULL. */
static const char *
string_val(const JVal *v)
{
	JVal	   *b = jnode_is(v, "String");

	if (b == NULL)
		return NULL;
	return jstr(b, "sval") ? jstr(b, "sval") : "";
}

/* Items of a JSON array, or of a {"List": {"items": [...]}} node. */
static const JVal *
list_items(const JVal *v)
{
	JVal	   *b = jnode_is(v, "List");

	if (b)
		return jget(b, "items");
	return (v && v->t == J_ARR) ? v : NULL;
}

/* "a.b.c" from a list of String nodes. */
static const char *
dotted_name(AglLint *L, const JVal *list)
{
	const JVal *items = list_items(list);
	const char *out = NULL;
	int			i;

	if (items == NULL)
		return "?";
	for (i = 0; i < items->n; i++)
	{
		const char *s = string_val(items->items[i]);

		if (s == NULL)
			s = "*";
		out = out ? agl_printf(L->arena, "%s.%s", out, s) : s;
	}
	return out ? out : "?";
}

/* Last element of a name list: the object's own name. */
static const char *
last_name(const JVal *list)
{
	const JVal *items = list_items(list);

	if (items == NULL || items->n == 0)
		return NULL;
	return string_val(items->items[items->n - 1]);
}

static const char *
rangevar_name(AglLint *L, const JVal *rv)
{
	const char *rel = jstr(rv, "relname");
	const char *nsp = jstr(rv, "schemaname");

	if (rel == NULL)
		return "?";
	return nsp ? agl_printf(L->arena, "%s.%s", nsp, rel) : rel;
}

/*
 * Is this relation one of the input's own temporary tables?  Unqualified
 * names find temporary tables first, as pg_temp leads the search path.
 */
static bool
rel_is_temp(AglLint *L, const char *schema, const char *rel)
{
	if (rel == NULL)
		return false;
	if (schema && strcmp(schema, "pg_temp") != 0)
		return false;
	return entry_find(L->temp_tables, rel) != NULL;
}

static bool
rangevar_is_temp(AglLint *L, const JVal *rv)
{
	return rv && rel_is_temp(L, jstr(rv, "schemaname"), jstr(rv, "relname"));
}

/* "OBJECT_MATERIALIZED_VIEW" -> "materialized view" */
static const char *
objtype_word(AglLint *L, const char *objtype)
{
	char	   *w;
	char	   *p;

	if (objtype == NULL)
		return "object";
	if (strncmp(objtype, "OBJECT_", 7) == 0)
		objtype += 7;
	w = lower_dup(L, objtype);
	for (p = w; *p; p++)
		if (*p == '_')
			*p = ' ';
	return w;
}

static bool
objtype_is_relation(const char *t)
{
	return t && (strcmp(t, "OBJECT_TABLE") == 0 || strcmp(t, "OBJECT_VIEW") == 0 ||
				 strcmp(t, "OBJECT_MATVIEW") == 0 || strcmp(t, "OBJECT_INDEX") == 0 ||
				 strcmp(t, "OBJECT_SEQUENCE") == 0 ||
				 strcmp(t, "OBJECT_FOREIGN_TABLE") == 0);
}

static bool
streq(const char *a, const char *b)
{
	return a && b && strcmp(a, b) == 0;
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

static bool
in_list(const char *const *list, const char *name)
{
	for (; *list; list++)
		if (strcmp(*list, name) == 0)
			return true;
	return false;
}

/* A constant string argument, folded through casts and ||. */
static const char *const_string(AglLint *L, const JVal *v);

/*
 * What calling this function does: merged into r.  Functions created in
 * the input bring their body's verdict; unknown ones need a runtime check.
 */
static void
classify_call(AglCtx *cx, const JVal *funcname, const JVal *args, AglResult *r,
			  bool *is_volatile)
{
	AglLint    *L = cx->L;
	const JVal *items = list_items(funcname);
	const char *name = last_name(funcname);
	const char *schema = (items && items->n == 2) ? string_val(items->items[0]) : NULL;
	AglEntry   *e;

	if (is_volatile)
		*is_volatile = false;
	if (name == NULL)
		return;
	if (schema && strcmp(schema, "pg_catalog") != 0)
		schema = NULL;			/* not pg_catalog: look it up as user code */
	else if (items && items->n > 2)
		return;

	if (strcmp(name, "lo_unlink") == 0 && (schema || !entry_find(L->functions, name)))
	{
		result_merge(r, AG_OP_DROP, AGL_DENY, "SELECT", "large object",
					 "an agent may not drop database objects");
		return;
	}
	if (strcmp(name, "set_config") == 0 && (schema || !entry_find(L->functions, name)))
	{
		const char *setting = (args && args->t == J_ARR && args->n > 0) ?
		const_string(L, args->items[0]) : NULL;

		if (setting == NULL)
			result_runtime(r, "set_config() of a setting named at run time");
		else if (strncasecmp(setting, "agent_guard.", 12) == 0 &&
				 strcasecmp(setting, "agent_guard.approval_token") != 0)
			result_merge(r, AG_OP_GUARD_TAMPER, AGL_DENY, "SET",
						 agl_printf(L->arena, "setting %s", setting),
						 "an agent session cannot change agent_guard settings");
		return;
	}
	if (in_list(volatile_builtins, name) && (schema || !entry_find(L->functions, name)))
	{
		if (is_volatile)
			*is_volatile = true;
		return;
	}
	if (schema == NULL && (e = entry_find(L->functions, name)) != NULL)
	{
		if (e->verdict != AGL_ALLOW)
			result_merge(r, e->op, e->verdict, NULL,
						 agl_printf(L->arena, "function %s", name),
						 e->reason ? e->reason :
						 agl_printf(L->arena, "function %s, created in the input, does this", name));
		return;
	}
	if (schema || in_list(safe_builtins, name))
		return;
	result_runtime(r, agl_printf(L->arena,
								 "calls function %s, whose body is not in the input", name));
}

/* ---------------------------------------------------------------------
 * Constant folding of WHERE clauses
 * ---------------------------------------------------------------------
 */

typedef enum CvKind
{
	CV_UNKNOWN = 0,				/* depends on the row, a parameter, ... */
	CV_TRUE,
	CV_FALSE,
	CV_NULL,
	CV_NUM,
	CV_STR,
	CV_NOW						/* now(), CURRENT_TIMESTAMP, ... */
} CvKind;

typedef struct Cv
{
	CvKind		k;
	double		num;
	const char *str;
} Cv;

static Cv
cv(CvKind k)
{
	Cv			c;

	c.k = k;
	c.num = 0;
	c.str = NULL;
	return c;
}

static Cv const_eval(AglLint *L, const JVal *v);

static Cv
cv_bool_of(Cv c)
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
static Cv
const_eval(AglLint *L, const JVal *v)
{
	const char *t = jnode_type(v);
	const JVal *b = jnode_body(v);

	if (t == NULL)
		return cv(CV_UNKNOWN);
	if (strcmp(t, "A_Const") == 0)
		return const_eval_aconst(b);
	if (strcmp(t, "TypeCast") == 0)
	{
		Cv			c = const_eval(L, jget(b, "arg"));
		const char *type = last_name(jget(jget(b, "typeName"), "names"));

		if (streq(type, "bool") || streq(type, "boolean"))
			return cv_bool_of(c);
		if (c.k == CV_STR && (streq(type, "int4") || streq(type, "int8") ||
							  streq(type, "int2") || streq(type, "numeric") ||
							  streq(type, "float8") || streq(type, "float4")))
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
		if (streq(op, "NOT_EXPR"))
		{
			Cv			c = cv_bool_of(const_eval(L, args->items[0]));

			return c.k == CV_TRUE ? cv(CV_FALSE) : c.k == CV_FALSE ? cv(CV_TRUE) :
				c.k == CV_NULL ? cv(CV_NULL) : cv(CV_UNKNOWN);
		}
		for (i = 0; i < args->n; i++)
		{
			Cv			c = cv_bool_of(const_eval(L, args->items[i]));

			if (streq(op, "AND_EXPR") && c.k == CV_FALSE)
				return cv(CV_FALSE);
			if (streq(op, "OR_EXPR") && c.k == CV_TRUE)
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
		return cv(streq(op, "AND_EXPR") ? CV_TRUE : CV_FALSE);
	}
	if (strcmp(t, "A_Expr") == 0 && streq(jstr(b, "kind"), "AEXPR_OP"))
	{
		const char *op = last_name(jget(b, "name"));
		Cv			l, r;

		if (op == NULL || jget(b, "lexpr") == NULL)
			return cv(CV_UNKNOWN);
		l = const_eval(L, jget(b, "lexpr"));
		r = const_eval(L, jget(b, "rexpr"));
		if (l.k == CV_UNKNOWN || r.k == CV_UNKNOWN)
			return cv(CV_UNKNOWN);
		return cv_compare(op, l, r);
	}
	if (strcmp(t, "NullTest") == 0)
	{
		Cv			c = const_eval(L, jget(b, "arg"));
		bool		isnull_test = streq(jstr(b, "nulltesttype"), "IS_NULL");

		if (c.k == CV_UNKNOWN)
			return c;
		return cv(((c.k == CV_NULL) == isnull_test) ? CV_TRUE : CV_FALSE);
	}
	if (strcmp(t, "BooleanTest") == 0)
	{
		Cv			c = cv_bool_of(const_eval(L, jget(b, "arg")));
		const char *bt = jstr(b, "booltesttype");

		if (c.k != CV_TRUE && c.k != CV_FALSE && c.k != CV_NULL)
			return cv(CV_UNKNOWN);
		if (streq(bt, "IS_TRUE"))
			return cv(c.k == CV_TRUE ? CV_TRUE : CV_FALSE);
		if (streq(bt, "IS_NOT_TRUE"))
			return cv(c.k != CV_TRUE ? CV_TRUE : CV_FALSE);
		if (streq(bt, "IS_FALSE"))
			return cv(c.k == CV_FALSE ? CV_TRUE : CV_FALSE);
		if (streq(bt, "IS_NOT_FALSE"))
			return cv(c.k != CV_FALSE ? CV_TRUE : CV_FALSE);
		if (streq(bt, "IS_UNKNOWN"))
			return cv(c.k == CV_NULL ? CV_TRUE : CV_FALSE);
		if (streq(bt, "IS_NOT_UNKNOWN"))
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
		const char *name = last_name(jget(b, "funcname"));

		if (streq(name, "now") || streq(name, "transaction_timestamp") ||
			streq(name, "statement_timestamp"))
			return cv(CV_NOW);
	}
	return cv(CV_UNKNOWN);
}

/* A constant string: a literal, possibly cast or concatenated with ||. */
static const char *
const_string(AglLint *L, const JVal *v)
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
		return const_string(L, jget(b, "arg"));
	if (strcmp(t, "A_Expr") == 0 && streq(jstr(b, "kind"), "AEXPR_OP") &&
		streq(last_name(jget(b, "name")), "||"))
	{
		const char *l = const_string(L, jget(b, "lexpr"));
		const char *r = const_string(L, jget(b, "rexpr"));

		return (l && r) ? agl_printf(L->arena, "%s%s", l, r) : NULL;
	}
	return NULL;
}

/* ---------------------------------------------------------------------
 * Boundedness of DELETE / UPDATE / MERGE
 * ---------------------------------------------------------------------
 */

/* The target of a DML statement and whether other relations join it. */
typedef struct Scope
{
	const char *name;			/* alias, or relation name */
	bool		has_others;		/* USING / FROM list present */
} Scope;

typedef struct Refs
{
	bool		target;			/* references the target's columns */
	bool		other;			/* references another relation's columns */
	bool		ambiguous;		/* unqualified where it could be either */
	bool		param;			/* $n */
	bool		volatile_fn;	/* random() and friends */
	bool		unknown;		/* a function call we cannot see into */
	bool		current_of;		/* WHERE CURRENT OF */
} Refs;

static void
collect_refs(AglCtx *cx, const JVal *v, const Scope *s, int sublevel, Refs *refs,
			 AglResult *calls)
{
	const char *t;
	int			i;

	if (v == NULL || (v->t != J_OBJ && v->t != J_ARR))
		return;
	if (v->t == J_ARR)
	{
		for (i = 0; i < v->n; i++)
			collect_refs(cx, v->items[i], s, sublevel, refs, calls);
		return;
	}
	t = jnode_type(v);
	if (t && strcmp(t, "ColumnRef") == 0)
	{
		const JVal *fields = jget(jnode_body(v), "fields");

		if (fields && fields->t == J_ARR && fields->n >= 2)
		{
			const char *q = string_val(fields->items[fields->n - 2]);

			if (streq(q, s->name))
				refs->target = true;
			else
				refs->other = true;
		}
		else if (sublevel == 0 && !s->has_others)
			refs->target = true;
		else
			refs->ambiguous = true;
		return;
	}
	if (t && strcmp(t, "ParamRef") == 0)
	{
		refs->param = true;
		return;
	}
	if (t && strcmp(t, "CurrentOfExpr") == 0)
	{
		refs->current_of = true;
		return;
	}
	if (t && strcmp(t, "SubLink") == 0)
	{
		const JVal *b = jnode_body(v);

		collect_refs(cx, jget(b, "testexpr"), s, sublevel, refs, calls);
		collect_refs(cx, jget(b, "subselect"), s, sublevel + 1, refs, calls);
		return;
	}
	if (t && strcmp(t, "FuncCall") == 0)
	{
		const JVal *b = jnode_body(v);
		bool		vol;
		AglVerdict	before = calls->verdict;

		classify_call(cx, jget(b, "funcname"), jget(b, "args"), calls, &vol);
		if (vol)
			refs->volatile_fn = true;
		if (calls->verdict != before)
			refs->unknown = true;
	}
	for (i = 0; i < v->n; i++)
		collect_refs(cx, v->items[i], s, sublevel, refs, calls);
}

/* Could this clause be true for every row although it names a column? */
static bool
maybe_tautology(const JVal *v)
{
	const char *t = jnode_type(v);
	const JVal *b = jnode_body(v);

	if (t == NULL)
		return false;
	if (strcmp(t, "NullTest") == 0)
		return streq(jstr(b, "nulltesttype"), "IS_NOT_NULL") &&
			jnode_is(jget(b, "arg"), "ColumnRef") != NULL;
	if (strcmp(t, "A_Expr") == 0 && streq(jstr(b, "kind"), "AEXPR_OP"))
	{
		const char *op = last_name(jget(b, "name"));
		const JVal *l = jnode_is(jget(b, "lexpr"), "ColumnRef");
		const JVal *r = jnode_is(jget(b, "rexpr"), "ColumnRef");
		const JVal *lf, *rf;
		int			i;

		if (!(streq(op, "=") || streq(op, "<=") || streq(op, ">=")) || !l || !r)
			return false;
		lf = jget(l, "fields");
		rf = jget(r, "fields");
		if (!lf || !rf || lf->n != rf->n || lf->t != J_ARR || rf->t != J_ARR)
			return false;
		for (i = 0; i < lf->n; i++)
			if (!streq(string_val(lf->items[i]), string_val(rf->items[i])))
				return false;
		return true;
	}
	if (strcmp(t, "BoolExpr") == 0)
	{
		const char *op = jstr(b, "boolop");
		const JVal *args = jget(b, "args");
		int			i;

		if (args == NULL || args->t != J_ARR)
			return false;
		if (streq(op, "OR_EXPR"))
		{
			for (i = 0; i < args->n; i++)
				if (maybe_tautology(args->items[i]))
					return true;
			return false;
		}
		if (streq(op, "AND_EXPR"))
		{
			for (i = 0; i < args->n; i++)
				if (!maybe_tautology(args->items[i]))
					return false;
			return true;
		}
	}
	return false;
}

typedef enum Bound
{
	B_PASSES = 0,				/* lets every target row through */
	B_RESTRICTS,				/* restricts the target's rows */
	B_MAYBE						/* only the server can tell */
} Bound;

/* Split a clause into its ANDed conjuncts. */
static void
conjuncts(const JVal *v, const JVal **out, int *n, int max)
{
	const JVal *b = jnode_is(v, "BoolExpr");

	if (b && streq(jstr(b, "boolop"), "AND_EXPR"))
	{
		const JVal *args = jget(b, "args");
		int			i;

		for (i = 0; args && args->t == J_ARR && i < args->n; i++)
			conjuncts(args->items[i], out, n, max);
		return;
	}
	if (*n < max)
		out[(*n)++] = v;
}

/*
 * Does this clause restrict the target's rows?  any_column: for MERGE
 * action conditions, a reference to any column restricts (as on the
 * server, where the condition is evaluated per joined row).
 */
static Bound
clause_bound(AglCtx *cx, const JVal *clause, const Scope *s, bool any_column,
			 AglResult *calls, const char **why)
{
	const JVal *parts[256];
	int			n = 0, i;
	Bound		result = B_PASSES;

	if (clause == NULL)
		return B_PASSES;
	conjuncts(clause, parts, &n, 256);
	for (i = 0; i < n; i++)
	{
		Cv			c = cv_bool_of(const_eval(cx->L, parts[i]));
		Refs		refs;

		memset(&refs, 0, sizeof(refs));
		if (c.k == CV_TRUE)
			continue;
		if (c.k == CV_FALSE || c.k == CV_NULL)
			return B_RESTRICTS; /* no row passes */
		collect_refs(cx, parts[i], s, 0, &refs, calls);
		if (refs.current_of)
			return B_RESTRICTS;
		if (refs.target || (any_column && (refs.other || refs.ambiguous)))
		{
			if (refs.param && jnode_is(parts[i], "BoolExpr"))
			{
				/* ($1 IS NULL OR id = $1) passes every row when $1 is null */
				result = B_MAYBE;
				*why = "the condition depends on parameter values";
				continue;
			}
			if (maybe_tautology(parts[i]))
			{
				result = B_MAYBE;
				*why = "the condition may be true for every row (IS NOT NULL or col = col on a column that may be NOT NULL)";
				continue;
			}
			return B_RESTRICTS;
		}
		if (refs.ambiguous)
		{
			result = B_MAYBE;
			*why = "the condition names a column the CLI cannot attribute to the target or a joined table";
		}
		else if (refs.param)
		{
			result = B_MAYBE;
			*why = "the condition depends on parameter values";
		}
		else if (refs.other || refs.volatile_fn)
			continue;			/* restricts nothing of the target */
		else if (refs.unknown)
		{
			result = B_MAYBE;
			*why = "the condition calls a function whose body is not in the input";
		}
		else if (jnode_type(parts[i]) && strcmp(jnode_type(parts[i]), "SubLink") == 0)
			continue;			/* uncorrelated subquery: one value for all rows */
		else
		{
			result = B_MAYBE;
			*why = "the condition does not depend on the row; its value is known only at run time";
		}
	}
	return result;
}

static Scope
scope_of(const JVal *rv, const JVal *others)
{
	Scope		s;
	const JVal *alias = jget(rv, "alias");

	s.name = alias ? jstr(alias, "aliasname") : NULL;
	if (s.name == NULL)
		s.name = jstr(rv, "relname");
	s.has_others = others && others->t == J_ARR && others->n > 0;
	return s;
}

static bool
table_is_hooked(AglLint *L, const JVal *rv)
{
	return rv && jstr(rv, "relname") &&
		entry_find(L->hooked_tables, jstr(rv, "relname")) != NULL;
}

/* DELETE or UPDATE: unbounded, bounded (row budget) or runtime. */
static void
classify_delete_update(AglCtx *cx, const JVal *b, bool is_delete, AglResult *r)
{
	AglLint    *L = cx->L;
	const JVal *rv = jget(b, "relation");
	const JVal *others = jget(b, is_delete ? "usingClause" : "fromClause");
	Scope		s = scope_of(rv, others);
	const char *why = NULL;
	Bound		bound;
	AglResult	calls;
	const char *obj = agl_printf(L->arena, "table %s", rangevar_name(L, rv));
	const char *cmd = is_delete ? "DELETE" : "UPDATE";

	if (rangevar_is_temp(L, rv))
		return;					/* the session's scratch tables */
	result_init(&calls, cmd);
	bound = clause_bound(cx, jget(b, "whereClause"), &s, false, &calls, &why);
	if (jget(b, "whereClause") == NULL)
		bound = B_PASSES;

	if (bound == B_PASSES)
		result_merge(r, is_delete ? AG_OP_DELETE_UNBOUNDED : AG_OP_UPDATE_UNBOUNDED,
					 AGL_DENY, cmd, obj,
					 is_delete ?
					 "an agent may not DELETE without a WHERE clause that restricts rows" :
					 "an agent may not UPDATE without a WHERE clause that restricts rows");
	else
	{
		AgOpClass	op = is_delete ? AG_OP_DELETE : AG_OP_UPDATE;

		result_merge(r, op, AGL_RUNTIME, cmd, obj,
					 bound == B_MAYBE ? why :
					 table_is_hooked(L, rv) ?
					 "the table has triggers or rules created in the input" :
					 "bounded: the row budget is checked at run time");
	}
	if (calls.verdict > AGL_ALLOW)
		result_merge(r, calls.op, calls.verdict, NULL, calls.objects, calls.reason);
}

static void
classify_merge(AglCtx *cx, const JVal *b, AglResult *r)
{
	AglLint    *L = cx->L;
	const JVal *rv = jget(b, "relation");
	JVal		fake_others;
	Scope		s;
	const JVal *whens = jget(b, "mergeWhenClauses");
	const char *why = NULL;
	bool		destructive = false, unrestricted_action = false, maybe = false;
	Bound		join;
	AglResult	calls;
	const char *obj = agl_printf(L->arena, "table %s", rangevar_name(L, rv));
	int			i;

	if (rangevar_is_temp(L, rv))
		return;
	memset(&fake_others, 0, sizeof(fake_others));
	fake_others.t = J_ARR;
	fake_others.n = 1;
	s = scope_of(rv, &fake_others);
	result_init(&calls, "MERGE");
	join = clause_bound(cx, jget(b, "joinCondition"), &s, false, &calls, &why);
	if (join == B_MAYBE)
		maybe = true;

	for (i = 0; whens && whens->t == J_ARR && i < whens->n; i++)
	{
		const JVal *w = jnode_is(whens->items[i], "MergeWhenClause");
		const char *ct = jstr(w, "commandType");
		Bound		cond;

		if (!jbool(w, "matched") || !(streq(ct, "CMD_DELETE") || streq(ct, "CMD_UPDATE")))
			continue;
		destructive = true;
		cond = jget(w, "condition") ?
			clause_bound(cx, jget(w, "condition"), &s, true, &calls, &why) : B_PASSES;
		if (cond == B_PASSES)
			unrestricted_action = true;
		else if (cond == B_MAYBE)
			maybe = true;
	}
	if (!destructive)
		;
	else if (join == B_PASSES && unrestricted_action && !maybe)
		result_merge(r, AG_OP_MERGE_UNBOUNDED, AGL_DENY, "MERGE", obj,
					 "an agent may not MERGE with a join condition that matches every row of the target and then delete or update it");
	else
		result_merge(r, AG_OP_MERGE, AGL_RUNTIME, "MERGE", obj,
					 maybe ? why : "bounded: the row budget is checked at run time");
	if (calls.verdict > AGL_ALLOW)
		result_merge(r, calls.op, calls.verdict, NULL, calls.objects, calls.reason);
}

/*
 * Walk an executed statement's tree: every DML node anywhere in it (CTEs,
 * subqueries) and every function call.  Bodies of CREATE FUNCTION and
 * PREPARE are not executed and are not walked.
 */
static void
walk_executed(AglCtx *cx, const JVal *v, AglResult *r)
{
	const char *t;
	const JVal *b;
	int			i;

	if (v == NULL || (v->t != J_OBJ && v->t != J_ARR))
		return;
	if (v->t == J_ARR)
	{
		for (i = 0; i < v->n; i++)
			walk_executed(cx, v->items[i], r);
		return;
	}
	t = jnode_type(v);
	b = jnode_body(v);
	if (t)
	{
		if (strcmp(t, "DeleteStmt") == 0)
		{
			classify_delete_update(cx, b, true, r);
			walk_executed(cx, jget(b, "withClause"), r);
			walk_executed(cx, jget(b, "returningList"), r);
			walk_executed(cx, jget(b, "usingClause"), r);
			return;
		}
		if (strcmp(t, "UpdateStmt") == 0)
		{
			classify_delete_update(cx, b, false, r);
			walk_executed(cx, jget(b, "withClause"), r);
			walk_executed(cx, jget(b, "targetList"), r);
			walk_executed(cx, jget(b, "returningList"), r);
			walk_executed(cx, jget(b, "fromClause"), r);
			return;
		}
		if (strcmp(t, "MergeStmt") == 0)
		{
			classify_merge(cx, b, r);
			walk_executed(cx, jget(b, "withClause"), r);
			walk_executed(cx, jget(b, "sourceRelation"), r);
			walk_executed(cx, jget(b, "mergeWhenClauses"), r);
			return;
		}
		if (strcmp(t, "InsertStmt") == 0)
		{
			if (r->op < AG_OP_INSERT)
				r->op = AG_OP_INSERT;
			if (table_is_hooked(cx->L, jget(b, "relation")))
				result_runtime(r, "the table has triggers or rules created in the input");
		}
		if (strcmp(t, "FuncCall") == 0)
			classify_call(cx, jget(b, "funcname"), jget(b, "args"), r, NULL);
	}
	for (i = 0; i < v->n; i++)
		walk_executed(cx, v->items[i], r);
}

/* ---------------------------------------------------------------------
 * Bodies: DO blocks, functions, dynamic SQL
 * ---------------------------------------------------------------------
 */

static void
add_finding(AglLint *L, const AglFinding *f)
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

/* Record a nested statement's result as a finding, if it is not allowed. */
static void
nested_finding(AglCtx *cx, int line, const AglResult *r)
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
	add_finding(cx->L, &f);
}

/* 1-based line of offset in text. */
static int
line_of(const char *text, int offset)
{
	int			line = 1, i;

	for (i = 0; i < offset && text[i]; i++)
		if (text[i] == '\n')
			line++;
	return line;
}

/*
 * Classify every statement of sql (a body, or an EXECUTEd string), as
 * nested findings on the given line; the most severe goes into worst.
 */
static void
classify_sql_text(AglCtx *cx, const char *sql, int line, AglResult *worst)
{
	PgQueryParseResult pr;
	AglArena   *a = cx->L->arena;
	JVal	   *root, *stmts;
	int			i;

	if (cx->depth >= MAX_DEPTH)
	{
		result_runtime(worst, "statements nested too deeply to analyse");
		return;
	}
	pr = pg_query_parse(sql);
	if (pr.error)
	{
		result_runtime(worst, agl_printf(a, "could not parse nested SQL: %s",
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
		classify_stmt(&sub, jget(stmts->items[i], "stmt"), sql, &r);
		nested_finding(&sub, line, &r);
		result_merge(worst, r.op, r.verdict, r.command, r.objects, r.reason);
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
		classify_sql_text(cx, query, line, worst);
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
		classify_sql_text(cx, query, line, worst);
		return;
	}
	pg_query_free_parse_result(pr);
	classify_sql_text(cx, agl_printf(a, "SELECT %s", query), line, worst);
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
			s = const_string(cx->L, jget(jnode_is(target->items[0], "ResTarget"), "val"));
	}
	pg_query_free_parse_result(pr);
	if (s == NULL)
	{
		AglResult	r;

		result_init(&r, "EXECUTE");
		result_runtime(&r, "dynamic SQL built at run time");
		nested_finding(cx, line, &r);
		result_merge(worst, r.op, r.verdict, r.command, r.objects, r.reason);
		classify_plpgsql_expr(cx, expr, false, line, worst);
		return;
	}
	classify_sql_text(cx, s, line, worst);
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
		result_runtime(worst, "statements nested too deeply to analyse");
		return;
	}
	pr = pg_query_parse_plpgsql(create_sql);
	if (pr.error)
	{
		result_runtime(worst, agl_printf(cx->L->arena,
										 "could not analyse the PL/pgSQL body: %s",
										 pr.error->message));
		pg_query_free_plpgsql_parse_result(pr);
		return;
	}
	root = agl_json_parse(cx->L->arena, pr.plpgsql_funcs);
	pg_query_free_plpgsql_parse_result(pr);
	if (root == NULL)
	{
		result_runtime(worst, "could not read the PL/pgSQL parse tree");
		return;
	}
	walk_plpgsql(cx, root, base_line, 1, worst);
}

/* A DefElem's argument by name from an options list. */
static const JVal *
defelem_arg(const JVal *options, const char *name)
{
	int			i;

	for (i = 0; options && options->t == J_ARR && i < options->n; i++)
	{
		const JVal *d = jnode_is(options->items[i], "DefElem");

		if (d && streq(jstr(d, "defname"), name))
			return jget(d, "arg");
	}
	return NULL;
}

/* The line in src where body text starts, best effort. */
static int
body_line(AglCtx *cx, const char *src, const char *body)
{
	const char *p = (src && body && *body) ? strstr(src, body) : NULL;

	return p ? cx->line + line_of(src, (int) (p - src)) - 1 : cx->line;
}

static void
classify_do(AglCtx *cx, const JVal *b, const char *src, AglResult *r)
{
	AglLint    *L = cx->L;
	const char *body = string_val(defelem_arg(jget(b, "args"), "as"));
	const char *lang = string_val(defelem_arg(jget(b, "args"), "language"));
	AglCtx		sub = *cx;
	AglResult	worst;
	char		tag[32];
	int			k = 0;

	result_init(&worst, "DO");
	if (body == NULL)
		return;
	if (lang && strcmp(lang, "plpgsql") != 0)
	{
		result_runtime(r, agl_printf(L->arena, "DO block in language %s", lang));
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
		result_merge(r, worst.op, worst.verdict, worst.command, worst.objects, worst.reason);
}

static void
classify_create_function(AglCtx *cx, const JVal *b, const char *src, AglResult *r)
{
	AglLint    *L = cx->L;
	const JVal *options = jget(b, "options");
	const char *lang = string_val(defelem_arg(options, "language"));
	const JVal *as = list_items(defelem_arg(options, "as"));
	const char *body = (as && as->n == 1) ? string_val(as->items[0]) : NULL;
	const char *name = last_name(jget(b, "funcname"));
	const JVal *sql_body = jget(b, "sql_body");
	AglCtx		sub = *cx;
	AglResult	worst;
	AglEntry   *e;

	result_init(&worst, "CREATE FUNCTION");
	sub.context = agl_printf(L->arena, "function %s (when called)", name ? name : "?");
	if (sql_body)
	{
		const JVal *outer = list_items(sql_body);
		int			i, j;

		for (i = 0; outer && i < outer->n; i++)
		{
			const JVal *inner = list_items(outer->items[i]);

			for (j = 0; inner && j < inner->n; j++)
			{
				AglResult	sr;

				sub.depth = cx->depth + 1;
				classify_stmt(&sub, inner->items[j], src, &sr);
				nested_finding(&sub, cx->line, &sr);
				result_merge(&worst, sr.op, sr.verdict, sr.command, sr.objects, sr.reason);
			}
		}
	}
	else if (body == NULL)
		result_runtime(&worst, "the function's body is not in the statement");
	else if (lang == NULL || strcmp(lang, "plpgsql") == 0)
		classify_plpgsql(&sub, src, body_line(cx, src, body), &worst);
	else if (strcmp(lang, "sql") == 0 && body)
		classify_sql_text(&sub, body, body_line(cx, src, body), &worst);
	else
		result_runtime(&worst, agl_printf(L->arena, "function body in language %s",
										  lang ? lang : "?"));

	if (name)
	{
		e = entry_put(L, &L->functions, name);
		e->op = worst.op;
		e->verdict = worst.verdict;
		e->reason = worst.reason;
	}
	/* Creating it is harmless; calling it is judged on the body. */
	r->op = AG_OP_DDL;
}

/* ---------------------------------------------------------------------
 * Statements
 * ---------------------------------------------------------------------
 */

static const char *
alter_destructive_name(const char *subtype)
{
	static const char *const map[][2] = {
		{"AT_DropColumn", "DROP COLUMN"}, {"AT_DropColumnRecurse", "DROP COLUMN"},
		{"AT_DropConstraint", "DROP CONSTRAINT"},
		{"AT_DropConstraintRecurse", "DROP CONSTRAINT"},
		{"AT_AlterColumnType", "ALTER COLUMN TYPE"},
		{"AT_DetachPartition", "DETACH PARTITION"},
		{"AT_DetachPartitionFinalize", "DETACH PARTITION"},
		{"AT_SetUnLogged", "SET UNLOGGED"}, {"AT_DropInherit", "NO INHERIT"},
		{"AT_DisableTrig", "DISABLE TRIGGER"}, {"AT_DisableTrigAll", "DISABLE TRIGGER"},
		{"AT_DisableTrigUser", "DISABLE TRIGGER"}, {"AT_DisableRule", "DISABLE RULE"},
	};
	size_t		i;

	for (i = 0; subtype && i < sizeof(map) / sizeof(map[0]); i++)
		if (strcmp(subtype, map[i][0]) == 0)
			return map[i][1];
	return NULL;
}

static void
classify_drop(AglCtx *cx, const JVal *b, AglResult *r)
{
	AglLint    *L = cx->L;
	const char *type = jstr(b, "removeType");
	const JVal *objects = jget(b, "objects");
	bool		relation = objtype_is_relation(type);
	bool		all_temp = relation;
	const char *word = objtype_word(L, type);
	int			i;

	r->command = agl_printf(L->arena, "DROP %s", word);
	for (i = 5; r->command[i]; i++)
		if (r->command[i] >= 'a' && r->command[i] <= 'z')
			((char *) r->command)[i] -= 'a' - 'A';
	for (i = 0; objects && objects->t == J_ARR && i < objects->n; i++)
	{
		const JVal *o = objects->items[i];
		const char *name;

		if (list_items(o))
		{
			const JVal *parts = list_items(o);

			name = dotted_name(L, o);
			if (relation && !rel_is_temp(L, parts->n >= 2 ? string_val(parts->items[parts->n - 2]) : NULL,
										 last_name(o)))
				all_temp = false;
		}
		else if (string_val(o))
		{
			name = string_val(o);
			all_temp = false;
		}
		else if (jnode_is(o, "ObjectWithArgs"))
		{
			name = agl_printf(L->arena, "%s()",
							  dotted_name(L, jget(jnode_is(o, "ObjectWithArgs"), "objname")));
			all_temp = false;
		}
		else if (jnode_is(o, "TypeName"))
		{
			name = dotted_name(L, jget(jnode_is(o, "TypeName"), "names"));
			all_temp = false;
		}
		else
		{
			name = "?";
			all_temp = false;
		}
		add_object(L, r, agl_printf(L->arena, "%s %s", word, name));
	}
	if (all_temp && objects && objects->n > 0)
	{
		/* The input's own temporary tables: scratch space. */
		for (i = 0; i < objects->n; i++)
			entry_remove(&L->temp_tables, last_name(objects->items[i]));
		return;
	}
	result_set(r, AG_OP_DROP, "an agent may not drop database objects");
}

static void
classify_utility(AglCtx *cx, const char *t, const JVal *b, const char *src, AglResult *r)
{
	AglLint    *L = cx->L;
	int			i;

	if (strcmp(t, "DropStmt") == 0)
		classify_drop(cx, b, r);
	else if (strcmp(t, "DropOwnedStmt") == 0 || strcmp(t, "DropRoleStmt") == 0 ||
			 strcmp(t, "DropdbStmt") == 0 || strcmp(t, "DropTableSpaceStmt") == 0 ||
			 strcmp(t, "DropSubscriptionStmt") == 0 ||
			 strcmp(t, "DropUserMappingStmt") == 0)
	{
		const char *n = jstr(b, "dbname") ? jstr(b, "dbname") :
		jstr(b, "tablespacename") ? jstr(b, "tablespacename") :
		jstr(b, "subname") ? jstr(b, "subname") : jstr(b, "servername");

		r->command = strcmp(t, "DropOwnedStmt") == 0 ? "DROP OWNED" :
			strcmp(t, "DropRoleStmt") == 0 ? "DROP ROLE" :
			strcmp(t, "DropdbStmt") == 0 ? "DROP DATABASE" :
			strcmp(t, "DropTableSpaceStmt") == 0 ? "DROP TABLESPACE" :
			strcmp(t, "DropSubscriptionStmt") == 0 ? "DROP SUBSCRIPTION" : "DROP USER MAPPING";
		if (n)
			add_object(L, r, n);
		else
		{
			const JVal *roles = jget(b, "roles");

			for (i = 0; roles && roles->t == J_ARR && i < roles->n; i++)
			{
				const char *rn = jstr(jnode_is(roles->items[i], "RoleSpec"), "rolename");

				add_object(L, r, agl_printf(L->arena, "role %s", rn ? rn : "(special)"));
			}
		}
		result_set(r, AG_OP_DROP, "an agent may not drop database objects");
	}
	else if (strcmp(t, "TruncateStmt") == 0)
	{
		const JVal *rels = jget(b, "relations");
		bool		all_temp = true;

		r->command = "TRUNCATE";
		for (i = 0; rels && rels->t == J_ARR && i < rels->n; i++)
		{
			const JVal *rv = jnode_is(rels->items[i], "RangeVar");

			if (!rangevar_is_temp(L, rv))
				all_temp = false;
			add_object(L, r, agl_printf(L->arena, "table %s", rangevar_name(L, rv)));
		}
		if (!all_temp)
			result_set(r, AG_OP_TRUNCATE, "an agent may not empty tables with TRUNCATE");
	}
	else if (strcmp(t, "AlterTableStmt") == 0)
	{
		const JVal *rv = jget(b, "relation");
		const JVal *cmds = jget(b, "cmds");

		r->command = "ALTER TABLE";
		r->op = AG_OP_DDL;
		if (rangevar_is_temp(L, rv))
		{
			r->op = AG_OP_OTHER;
			return;
		}
		for (i = 0; cmds && cmds->t == J_ARR && i < cmds->n; i++)
		{
			const JVal *c = jnode_is(cmds->items[i], "AlterTableCmd");
			const char *what = alter_destructive_name(jstr(c, "subtype"));

			if (what == NULL)
				continue;
			add_object(L, r, agl_printf(L->arena, "table %s (%s%s%s)", rangevar_name(L, rv),
										what, jstr(c, "name") ? " " : "",
										jstr(c, "name") ? jstr(c, "name") : ""));
			result_set(r, AG_OP_ALTER_DESTRUCTIVE,
					   "an agent may not drop columns or constraints, change column types, detach partitions, make tables unlogged or disable triggers");
		}
	}
	else if (strcmp(t, "RenameStmt") == 0)
	{
		const char *rt = jstr(b, "renameType");

		r->command = "ALTER ... RENAME";
		if (objtype_is_relation(rt) || streq(rt, "OBJECT_COLUMN") ||
			streq(rt, "OBJECT_TABCONSTRAINT"))
		{
			if (rangevar_is_temp(L, jget(b, "relation")))
				return;
			add_object(L, r, agl_printf(L->arena, "relation %s",
										rangevar_name(L, jget(b, "relation"))));
		}
		else if (streq(rt, "OBJECT_SCHEMA") || streq(rt, "OBJECT_DATABASE"))
			add_object(L, r, agl_printf(L->arena, "%s %s", objtype_word(L, rt),
										jstr(b, "subname") ? jstr(b, "subname") : "?"));
		else
			return;
		result_set(r, AG_OP_ALTER_DESTRUCTIVE,
				   "an agent may not rename tables, columns, schemas or databases that applications depend on");
	}
	else if (strcmp(t, "AlterObjectSchemaStmt") == 0)
	{
		r->command = "ALTER ... SET SCHEMA";
		if (!objtype_is_relation(jstr(b, "objectType")) ||
			rangevar_is_temp(L, jget(b, "relation")))
			return;
		add_object(L, r, agl_printf(L->arena, "relation %s",
									rangevar_name(L, jget(b, "relation"))));
		result_set(r, AG_OP_ALTER_DESTRUCTIVE, "an agent may not move tables to another schema");
	}
	else if (strcmp(t, "SecLabelStmt") == 0)
	{
		r->command = "SECURITY LABEL";
		if (jstr(b, "provider") == NULL || streq(jstr(b, "provider"), "agent_guard"))
			result_set(r, AG_OP_GUARD_TAMPER, "an agent may not set or remove agent_guard labels");
	}
	else if (strcmp(t, "AlterSystemStmt") == 0)
	{
		r->command = "ALTER SYSTEM";
		result_set(r, AG_OP_GUARD_TAMPER, "an agent may not change the server configuration");
	}
	else if (strcmp(t, "LoadStmt") == 0)
	{
		r->command = "LOAD";
		add_object(L, r, agl_printf(L->arena, "library %s",
									jstr(b, "filename") ? jstr(b, "filename") : "?"));
		result_set(r, AG_OP_GUARD_TAMPER, "an agent may not load libraries into the server");
	}
	else if (strcmp(t, "CreateRoleStmt") == 0 || strcmp(t, "AlterRoleStmt") == 0 ||
			 strcmp(t, "AlterRoleSetStmt") == 0 || strcmp(t, "GrantRoleStmt") == 0)
	{
		r->command = strcmp(t, "CreateRoleStmt") == 0 ? "CREATE ROLE" :
			strcmp(t, "GrantRoleStmt") == 0 ? "GRANT ROLE" : "ALTER ROLE";
		result_set(r, AG_OP_GUARD_TAMPER,
				   "an agent may not create or alter roles or role memberships");
	}
	else if (strcmp(t, "AlterExtensionStmt") == 0 ||
			 strcmp(t, "AlterExtensionContentsStmt") == 0)
	{
		r->command = "ALTER EXTENSION";
		result_set(r, AG_OP_GUARD_TAMPER, "an agent may not alter extensions");
	}
	else if (strcmp(t, "AlterDomainStmt") == 0 && streq(jstr(b, "subtype"), "X"))
	{
		r->command = "ALTER DOMAIN";
		add_object(L, r, agl_printf(L->arena, "constraint %s on domain %s",
									jstr(b, "name") ? jstr(b, "name") : "?",
									dotted_name(L, jget(b, "typeName"))));
		result_set(r, AG_OP_DROP, "an agent may not drop database objects");
	}
	else if (strcmp(t, "VariableSetStmt") == 0 || strcmp(t, "AlterDatabaseSetStmt") == 0)
	{
		const JVal *set = strcmp(t, "VariableSetStmt") == 0 ? b :
		jnode_is(jget(b, "setstmt"), "VariableSetStmt");
		const char *name = jstr(set, "name");

		r->command = "SET";
		if (name && strncasecmp(name, "agent_guard.", 12) == 0 &&
			strcasecmp(name, "agent_guard.approval_token") != 0)
		{
			add_object(L, r, agl_printf(L->arena, "setting %s", name));
			result_set(r, AG_OP_GUARD_TAMPER,
					   "an agent session cannot change agent_guard settings");
		}
	}
	else if (strcmp(t, "DoStmt") == 0)
	{
		r->command = "DO";
		classify_do(cx, b, src, r);
	}
	else if (strcmp(t, "CreateFunctionStmt") == 0)
	{
		r->command = jbool(b, "is_procedure") ? "CREATE PROCEDURE" : "CREATE FUNCTION";
		classify_create_function(cx, b, src, r);
	}
	else if (strcmp(t, "CallStmt") == 0)
	{
		const JVal *fc = jnode_is(jget(b, "funccall"), "FuncCall") ?
		jnode_is(jget(b, "funccall"), "FuncCall") : jget(b, "funccall");

		r->command = "CALL";
		walk_executed(cx, jget(fc, "args"), r);
		classify_call(cx, jget(fc, "funcname"), jget(fc, "args"), r, NULL);
	}
	else if (strcmp(t, "ExplainStmt") == 0)
	{
		const JVal *opts = jget(b, "options");
		bool		analyze = false;

		r->command = "EXPLAIN";
		r->op = AG_OP_READ;
		for (i = 0; opts && opts->t == J_ARR && i < opts->n; i++)
		{
			const JVal *d = jnode_is(opts->items[i], "DefElem");

			if (streq(jstr(d, "defname"), "analyze"))
			{
				const JVal *arg = jget(d, "arg");
				const char *s = string_val(arg);
				Cv			c = cv_bool_of(const_eval(L, arg));

				analyze = arg == NULL || c.k == CV_TRUE ||
					(s && (strcasecmp(s, "true") == 0 || strcasecmp(s, "on") == 0));
			}
		}
		if (analyze)
		{
			AglResult	inner;

			classify_stmt(cx, jget(b, "query"), src, &inner);
			result_merge(r, inner.op, inner.verdict, inner.command, inner.objects, inner.reason);
		}
	}
	else if (strcmp(t, "CopyStmt") == 0)
	{
		r->command = "COPY";
		if (jget(b, "query"))
			walk_executed(cx, jget(b, "query"), r);
		if (r->op == AG_OP_OTHER)
			r->op = jbool(b, "is_from") ? AG_OP_INSERT : AG_OP_READ;
		if (jbool(b, "is_from") && table_is_hooked(L, jget(b, "relation")))
			result_runtime(r, "the table has triggers or rules created in the input");
	}
	else if (strcmp(t, "CreateTableAsStmt") == 0)
	{
		const JVal *into = jget(b, "into");
		const JVal *rel = jget(into, "rel");

		r->command = "CREATE TABLE AS";
		walk_executed(cx, jget(b, "query"), r);
		if (r->op == AG_OP_OTHER || r->op == AG_OP_READ)
			r->op = AG_OP_DDL;
		if (rel && streq(jstr(rel, "relpersistence"), "t") && jstr(rel, "relname"))
			entry_put(L, &L->temp_tables, jstr(rel, "relname"));
	}
	else if (strcmp(t, "CreateStmt") == 0)
	{
		const JVal *rel = jget(b, "relation");

		r->command = "CREATE TABLE";
		r->op = AG_OP_DDL;
		if (rel && streq(jstr(rel, "relpersistence"), "t") && jstr(rel, "relname"))
			entry_put(L, &L->temp_tables, jstr(rel, "relname"));
	}
	else if (strcmp(t, "CreateTrigStmt") == 0 || strcmp(t, "RuleStmt") == 0)
	{
		const JVal *rel = jget(b, "relation");

		r->command = strcmp(t, "RuleStmt") == 0 ? "CREATE RULE" : "CREATE TRIGGER";
		r->op = AG_OP_DDL;
		if (rel && jstr(rel, "relname"))
			entry_put(L, &L->hooked_tables, jstr(rel, "relname"));
	}
	else if (strcmp(t, "PrepareStmt") == 0)
	{
		AglResult	inner;
		AglEntry   *e;

		r->command = "PREPARE";
		classify_stmt(cx, jget(b, "query"), src, &inner);
		if (jstr(b, "name"))
		{
			e = entry_put(L, &L->prepared, jstr(b, "name"));
			e->op = inner.op;
			e->verdict = inner.verdict;
			e->reason = inner.reason;
		}
	}
	else if (strcmp(t, "ExecuteStmt") == 0)
	{
		AglEntry   *e = jstr(b, "name") ? entry_find(L->prepared, jstr(b, "name")) : NULL;

		r->command = "EXECUTE";
		walk_executed(cx, jget(b, "params"), r);
		if (e == NULL)
			result_runtime(r, "executes a prepared statement that is not in the input");
		else
		{
			result_merge(r, e->op, e->verdict, NULL, NULL, e->reason);
			/* Parameters may switch a filter off. */
			if (e->verdict == AGL_ALLOW && e->op >= AG_OP_DELETE)
				result_runtime(r, "depends on the parameter values");
		}
	}
	else if (strcmp(t, "DeclareCursorStmt") == 0)
	{
		r->command = "DECLARE CURSOR";
		walk_executed(cx, jget(b, "query"), r);
		if (r->op == AG_OP_OTHER)
			r->op = AG_OP_READ;
	}
	else if (strcmp(t, "AlterOpFamilyStmt") == 0 && jbool(b, "isDrop"))
	{
		r->command = "ALTER OPERATOR FAMILY";
		result_set(r, AG_OP_DROP, "an agent may not drop database objects");
	}
	else if (strncmp(t, "Create", 6) == 0 || strncmp(t, "Alter", 5) == 0 ||
			 strcmp(t, "ViewStmt") == 0 || strcmp(t, "IndexStmt") == 0 ||
			 strcmp(t, "CommentStmt") == 0 || strcmp(t, "GrantStmt") == 0 ||
			 strcmp(t, "CompositeTypeStmt") == 0 || strcmp(t, "DefineStmt") == 0)
		r->op = AG_OP_DDL;
}

/* Classify one statement node {"XxxStmt": {...}} into r. */
static void
classify_stmt(AglCtx *cx, const JVal *node, const char *src, AglResult *r)
{
	const char *t = jnode_type(node);
	const JVal *b = jnode_body(node);

	result_init(r, NULL);
	if (t == NULL)
		return;
	if (strcmp(t, "SelectStmt") == 0 || strcmp(t, "InsertStmt") == 0 ||
		strcmp(t, "DeleteStmt") == 0 || strcmp(t, "UpdateStmt") == 0 ||
		strcmp(t, "MergeStmt") == 0)
	{
		r->command = strcmp(t, "SelectStmt") == 0 ? "SELECT" :
			strcmp(t, "InsertStmt") == 0 ? "INSERT" :
			strcmp(t, "DeleteStmt") == 0 ? "DELETE" :
			strcmp(t, "UpdateStmt") == 0 ? "UPDATE" : "MERGE";
		walk_executed(cx, node, r);
		if (r->op == AG_OP_OTHER)
			r->op = strcmp(t, "InsertStmt") == 0 ? AG_OP_INSERT :
				strcmp(t, "SelectStmt") == 0 ? AG_OP_READ : AG_OP_OTHER;
		return;
	}
	r->command = t;
	classify_utility(cx, t, b, src, r);
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
	f.line = offset >= 0 ? line_of(text, offset) : 1;
	f.location = offset;
	f.error = agl_strdup(L->arena, message);
	f.objects = "";
	add_finding(L, &f);
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
		classify_stmt(&cx, jget(s, "stmt"), src, &r);

		f.command = r.command;
		f.op = r.op;
		f.verdict = r.verdict;
		f.objects = r.objects ? r.objects : "";
		f.reason = r.reason;
		agl_fingerprint_range(text, toks, loc, end, f.fingerprint, NULL);
		add_finding(L, &f);

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
