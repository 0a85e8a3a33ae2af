/*-------------------------------------------------------------------------
 *
 * lint_dml.c
 *		agent_guard_lint: DELETE, UPDATE and MERGE wherever they sit in a
 *		statement (writable CTEs, COPY (...) TO, EXPLAIN ANALYZE, CREATE
 *		TABLE AS), judged unbounded when their WHERE clause or join
 *		condition, folded as far as constants allow, cannot restrict the
 *		target's rows.
 *
 * The server decides on the plan (src/classify.c, ag_classify_modify);
 * here only the parse tree is at hand, so whatever depends on parameters,
 * NOT NULL constraints or functions not in the input is B_MAYBE, reported
 * as a runtime check.  Object names are allocated in the AglLint's arena.
 *
 *-------------------------------------------------------------------------
 */
#include <string.h>

#include "lint_int.h"

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
			const char *q = agl_string_val(fields->items[fields->n - 2]);

			if (agl_streq(q, s->name))
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

		agl_classify_call(cx, jget(b, "funcname"), jget(b, "args"), calls, &vol);
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
		return agl_streq(jstr(b, "nulltesttype"), "IS_NOT_NULL") &&
			jnode_is(jget(b, "arg"), "ColumnRef") != NULL;
	if (strcmp(t, "A_Expr") == 0 && agl_streq(jstr(b, "kind"), "AEXPR_OP"))
	{
		const char *op = agl_last_name(jget(b, "name"));
		const JVal *l = jnode_is(jget(b, "lexpr"), "ColumnRef");
		const JVal *r = jnode_is(jget(b, "rexpr"), "ColumnRef");
		const JVal *lf, *rf;
		int			i;

		if (!(agl_streq(op, "=") || agl_streq(op, "<=") || agl_streq(op, ">=")) || !l || !r)
			return false;
		lf = jget(l, "fields");
		rf = jget(r, "fields");
		if (!lf || !rf || lf->n != rf->n || lf->t != J_ARR || rf->t != J_ARR)
			return false;
		for (i = 0; i < lf->n; i++)
			if (!agl_streq(agl_string_val(lf->items[i]), agl_string_val(rf->items[i])))
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
		if (agl_streq(op, "OR_EXPR"))
		{
			for (i = 0; i < args->n; i++)
				if (maybe_tautology(args->items[i]))
					return true;
			return false;
		}
		if (agl_streq(op, "AND_EXPR"))
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

	if (b && agl_streq(jstr(b, "boolop"), "AND_EXPR"))
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
	bool		restricts = false;
	const char *maybe_why = NULL;

	if (clause == NULL)
		return B_PASSES;
	conjuncts(clause, parts, &n, 256);
	for (i = 0; i < n; i++)
	{
		Cv			c = agl_cv_bool_of(agl_const_eval(cx->L, parts[i]));
		Refs		refs;

		memset(&refs, 0, sizeof(refs));
		if (c.k == CV_TRUE)
			continue;
		if (c.k == CV_FALSE || c.k == CV_NULL)
		{
			restricts = true;	/* no row passes */
			continue;
		}
		collect_refs(cx, parts[i], s, 0, &refs, calls);
		if (refs.current_of)
		{
			restricts = true;
			continue;
		}
		if (refs.target || (any_column && (refs.other || refs.ambiguous)))
		{
			if (refs.param && jnode_is(parts[i], "BoolExpr"))
			{
				/* ($1 IS NULL OR id = $1) passes every row when $1 is null */
				result = B_MAYBE;
				maybe_why = "the condition depends on parameter values";
				continue;
			}
			if (maybe_tautology(parts[i]))
			{
				result = B_MAYBE;
				maybe_why = "the condition may be true for every row (IS NOT NULL or col = col on a column that may be NOT NULL)";
				continue;
			}
			restricts = true;
			continue;
		}
		if (refs.ambiguous)
		{
			result = B_MAYBE;
			maybe_why = "the condition names a column the CLI cannot attribute to the target or a joined table";
		}
		else if (refs.param)
		{
			result = B_MAYBE;
			maybe_why = "the condition depends on parameter values";
		}
		else if (refs.other || refs.volatile_fn)
			continue;			/* restricts nothing of the target */
		else if (refs.unknown)
		{
			result = B_MAYBE;
			maybe_why = "the condition calls a function whose body is not in the input";
		}
		else if (jnode_type(parts[i]) && strcmp(jnode_type(parts[i]), "SubLink") == 0)
			continue;			/* uncorrelated subquery: one value for all rows */
		else
		{
			result = B_MAYBE;
			maybe_why = "the condition does not depend on the row; its value is known only at run time";
		}
	}
	/* Every conjunct was looked at: calls anywhere in it are judged. */
	if (restricts)
		return B_RESTRICTS;
	if (result == B_MAYBE)
		*why = maybe_why;
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

bool
agl_table_is_hooked(AglLint *L, const JVal *rv)
{
	return rv && jstr(rv, "relname") &&
		agl_entry_find(L->hooked_tables, jstr(rv, "relname")) != NULL;
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
	const char *obj = agl_printf(L->arena, "table %s", agl_rangevar_name(L, rv));
	const char *cmd = is_delete ? "DELETE" : "UPDATE";

	if (agl_rangevar_is_temp(L, rv))
		return;					/* the session's scratch tables */
	if (agl_guard_schema_write(cx, rv, r))
		return;
	agl_result_init(&calls, cmd);
	bound = clause_bound(cx, jget(b, "whereClause"), &s, false, &calls, &why);
	if (jget(b, "whereClause") == NULL)
		bound = B_PASSES;

	if (bound == B_PASSES)
		agl_result_merge(r, is_delete ? AG_OP_DELETE_UNBOUNDED : AG_OP_UPDATE_UNBOUNDED,
						 AGL_DENY, cmd, obj,
						 is_delete ?
						 "an agent may not DELETE without a WHERE clause that restricts rows" :
						 "an agent may not UPDATE without a WHERE clause that restricts rows");
	else
	{
		AgOpClass	op = is_delete ? AG_OP_DELETE : AG_OP_UPDATE;

		agl_result_merge(r, op, AGL_RUNTIME, cmd, obj,
						 bound == B_MAYBE ? why :
						 agl_table_is_hooked(L, rv) ?
						 "the table has triggers or rules created in the input" :
						 "bounded: the row budget is checked at run time");
	}
	if (calls.verdict > AGL_ALLOW)
		agl_result_merge(r, calls.op, calls.verdict, NULL, calls.objects, calls.reason);
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
	const char *obj = agl_printf(L->arena, "table %s", agl_rangevar_name(L, rv));
	int			i;

	if (agl_rangevar_is_temp(L, rv) || agl_guard_schema_write(cx, rv, r))
		return;
	memset(&fake_others, 0, sizeof(fake_others));
	fake_others.t = J_ARR;
	fake_others.n = 1;
	s = scope_of(rv, &fake_others);
	agl_result_init(&calls, "MERGE");
	join = clause_bound(cx, jget(b, "joinCondition"), &s, false, &calls, &why);
	if (join == B_MAYBE)
		maybe = true;

	for (i = 0; whens && whens->t == J_ARR && i < whens->n; i++)
	{
		const JVal *w = jnode_is(whens->items[i], "MergeWhenClause");
		const char *ct = jstr(w, "commandType");
		Bound		cond;

		if (!jbool(w, "matched") || !(agl_streq(ct, "CMD_DELETE") || agl_streq(ct, "CMD_UPDATE")))
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
		agl_result_merge(r, AG_OP_MERGE_UNBOUNDED, AGL_DENY, "MERGE", obj,
						 "an agent may not MERGE with a join condition that matches every row of the target and then delete or update it");
	else
		agl_result_merge(r, AG_OP_MERGE, AGL_RUNTIME, "MERGE", obj,
						 maybe ? why : "bounded: the row budget is checked at run time");
	if (calls.verdict > AGL_ALLOW)
		agl_result_merge(r, calls.op, calls.verdict, NULL, calls.objects, calls.reason);
}

/*
 * Walk an executed statement's tree: every DML node anywhere in it (CTEs,
 * subqueries) and every function call.  Bodies of CREATE FUNCTION and
 * PREPARE are not executed and are not walked.
 */
void
agl_walk_executed(AglCtx *cx, const JVal *v, AglResult *r)
{
	const char *t;
	const JVal *b;
	int			i;

	if (v == NULL || (v->t != J_OBJ && v->t != J_ARR))
		return;
	if (v->t == J_ARR)
	{
		for (i = 0; i < v->n; i++)
			agl_walk_executed(cx, v->items[i], r);
		return;
	}
	t = jnode_type(v);
	b = jnode_body(v);
	if (t)
	{
		if (strcmp(t, "DeleteStmt") == 0)
		{
			classify_delete_update(cx, b, true, r);
			agl_walk_executed(cx, jget(b, "withClause"), r);
			agl_walk_executed(cx, jget(b, "returningList"), r);
			agl_walk_executed(cx, jget(b, "usingClause"), r);
			return;
		}
		if (strcmp(t, "UpdateStmt") == 0)
		{
			classify_delete_update(cx, b, false, r);
			agl_walk_executed(cx, jget(b, "withClause"), r);
			agl_walk_executed(cx, jget(b, "targetList"), r);
			agl_walk_executed(cx, jget(b, "returningList"), r);
			agl_walk_executed(cx, jget(b, "fromClause"), r);
			return;
		}
		if (strcmp(t, "MergeStmt") == 0)
		{
			classify_merge(cx, b, r);
			agl_walk_executed(cx, jget(b, "withClause"), r);
			agl_walk_executed(cx, jget(b, "sourceRelation"), r);
			agl_walk_executed(cx, jget(b, "mergeWhenClauses"), r);
			return;
		}
		if (strcmp(t, "InsertStmt") == 0)
		{
			if (r->op < AG_OP_INSERT)
				r->op = AG_OP_INSERT;
			if (!agl_guard_schema_write(cx, jget(b, "relation"), r) &&
				agl_table_is_hooked(cx->L, jget(b, "relation")))
				agl_result_runtime(r, "the table has triggers or rules created in the input");
		}
		if (strcmp(t, "FuncCall") == 0)
			agl_classify_call(cx, jget(b, "funcname"), jget(b, "args"), r, NULL);
	}
	for (i = 0; i < v->n; i++)
		agl_walk_executed(cx, v->items[i], r);
}

