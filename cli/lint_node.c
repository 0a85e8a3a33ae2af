/*-------------------------------------------------------------------------
 *
 * lint_node.c
 *		agent_guard_lint: building a statement's result, the names the
 *		input has created so far, and reading libpg_query's JSON parse
 *		trees (names, range variables, object types, options).
 *
 * Strings returned here live in the AglLint's arena, or point into the
 * parse tree, which lives there too; none is freed separately.
 *
 *-------------------------------------------------------------------------
 */
#include <stdio.h>
#include <string.h>

#include "lint_int.h"


AglVerdict
agl_verdict_of(AgOpClass op)
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

void
agl_result_init(AglResult *r, const char *command)
{
	r->op = AG_OP_OTHER;
	r->verdict = AGL_ALLOW;
	r->command = command;
	r->objects = NULL;
	r->reason = NULL;
}

void
agl_result_set(AglResult *r, AgOpClass op, const char *reason)
{
	r->op = op;
	r->verdict = agl_verdict_of(op);
	r->reason = reason;
}

/* Keep the more severe of r and (op, verdict, reason). */
void
agl_result_merge(AglResult *r, AgOpClass op, AglVerdict v, const char *command,
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
void
agl_result_runtime(AglResult *r, const char *reason)
{
	if (r->verdict < AGL_RUNTIME)
	{
		r->verdict = AGL_RUNTIME;
		r->reason = reason;
	}
}

void
agl_add_object(AglLint *L, AglResult *r, const char *obj)
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

AglEntry *
agl_entry_find(AglEntry *list, const char *name)
{
	for (; list; list = list->next)
		if (strcmp(list->name, name) == 0)
			return list;
	return NULL;
}

AglEntry *
agl_entry_put(AglLint *L, AglEntry **list, const char *name)
{
	AglEntry   *e = agl_entry_find(*list, name);

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

void
agl_entry_remove(AglEntry **list, const char *name)
{
	for (; *list; list = &(*list)->next)
		if (strcmp((*list)->name, name) == 0)
		{
			*list = (*list)->next;
			return;
		}
}

/* The sval of a {"String": {"sval": ...}} node, or NULL. */
const char *
agl_string_val(const JVal *v)
{
	JVal	   *b = jnode_is(v, "String");

	if (b == NULL)
		return NULL;
	return jstr(b, "sval") ? jstr(b, "sval") : "";
}

/* Items of a JSON array, or of a {"List": {"items": [...]}} node. */
const JVal *
agl_list_items(const JVal *v)
{
	JVal	   *b = jnode_is(v, "List");

	if (b)
		return jget(b, "items");
	return (v && v->t == J_ARR) ? v : NULL;
}

/* "a.b.c" from a list of String nodes. */
const char *
agl_dotted_name(AglLint *L, const JVal *list)
{
	const JVal *items = agl_list_items(list);
	const char *out = NULL;
	int			i;

	if (items == NULL)
		return "?";
	for (i = 0; i < items->n; i++)
	{
		const char *s = agl_string_val(items->items[i]);

		if (s == NULL)
			s = "*";
		out = out ? agl_printf(L->arena, "%s.%s", out, s) : s;
	}
	return out ? out : "?";
}

/* Last element of a name list: the object's own name. */
const char *
agl_last_name(const JVal *list)
{
	const JVal *items = agl_list_items(list);

	if (items == NULL || items->n == 0)
		return NULL;
	return agl_string_val(items->items[items->n - 1]);
}

const char *
agl_rangevar_name(AglLint *L, const JVal *rv)
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
bool
agl_rel_is_temp(AglLint *L, const char *schema, const char *rel)
{
	if (rel == NULL)
		return false;
	if (schema && strcmp(schema, "pg_temp") != 0)
		return false;
	return agl_entry_find(L->temp_tables, rel) != NULL;
}

bool
agl_rangevar_is_temp(AglLint *L, const JVal *rv)
{
	return rv && agl_rel_is_temp(L, jstr(rv, "schemaname"), jstr(rv, "relname"));
}

/* "OBJECT_MATERIALIZED_VIEW" -> "materialized view" */
const char *
agl_objtype_word(AglLint *L, const char *objtype)
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

bool
agl_objtype_is_relation(const char *t)
{
	return t && (strcmp(t, "OBJECT_TABLE") == 0 || strcmp(t, "OBJECT_VIEW") == 0 ||
				 strcmp(t, "OBJECT_MATVIEW") == 0 || strcmp(t, "OBJECT_INDEX") == 0 ||
				 strcmp(t, "OBJECT_SEQUENCE") == 0 ||
				 strcmp(t, "OBJECT_FOREIGN_TABLE") == 0);
}

bool
agl_streq(const char *a, const char *b)
{
	return a && b && strcmp(a, b) == 0;
}

/* A DefElem's argument by name from an options list. */
const JVal *
agl_defelem_arg(const JVal *options, const char *name)
{
	int			i;

	for (i = 0; options && options->t == J_ARR && i < options->n; i++)
	{
		const JVal *d = jnode_is(options->items[i], "DefElem");

		if (d && agl_streq(jstr(d, "defname"), name))
			return jget(d, "arg");
	}
	return NULL;
}

