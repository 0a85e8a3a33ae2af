/*-------------------------------------------------------------------------
 *
 * lint_int.h
 *		Declarations shared by the files of agent_guard_lint's analysis,
 *		not part of its interface (lint.h is).
 *
 *	lint.c			inputs: splitting, parse errors, findings, policy
 *	lint_node.c		results, remembered names, parse-tree helpers
 *	lint_expr.c		constant folding; what a function call does
 *	lint_dml.c		boundedness of DELETE / UPDATE / MERGE
 *	lint_body.c		DO blocks, function bodies, dynamic SQL
 *	lint_utility.c	statements: DROP, TRUNCATE, ALTER, roles, settings
 *	lint_tamper.c	self-protection: extensions, languages, files, foreign
 *					servers, event triggers, rules, the guard's schema
 *
 * Everything allocated lives in the AglLint's arena (json.h) and is
 * released by agl_lint_free(); only the findings array is malloc'd.
 *
 *-------------------------------------------------------------------------
 */
#ifndef AGL_LINT_INT_H
#define AGL_LINT_INT_H

#include <stdbool.h>
#include <string.h>

#include "json.h"
#include "lint.h"

/* Is name one of the NULL-terminated list? */
static inline bool
agl_in_list(const char *const *list, const char *name)
{
	for (; *list; list++)
		if (strcmp(*list, name) == 0)
			return true;
	return false;
}

/* How deep bodies and EXECUTEd strings are followed. */
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
	AglEntry   *views;			/* created as views in the input */
	AglEntry   *tables;			/* created as tables or matviews in the input */
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

/* A folded constant (lint_expr.c). */
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

/* lint.c */
extern void agl_add_finding(AglLint *L, const AglFinding *f);
extern int	agl_line_of(const char *text, int offset);

/* lint_node.c */
extern AglVerdict agl_verdict_of(AgOpClass op);
extern void agl_result_init(AglResult *r, const char *command);
extern void agl_result_set(AglResult *r, AgOpClass op, const char *reason);
extern void agl_result_merge(AglResult *r, AgOpClass op, AglVerdict v,
							 const char *command, const char *objects,
							 const char *reason);
extern void agl_result_runtime(AglResult *r, const char *reason);
extern void agl_add_object(AglLint *L, AglResult *r, const char *obj);
extern AglEntry *agl_entry_find(AglEntry *list, const char *name);
extern AglEntry *agl_entry_put(AglLint *L, AglEntry **list, const char *name);
extern void agl_entry_remove(AglEntry **list, const char *name);
extern const char *agl_string_val(const JVal *v);
extern const JVal *agl_list_items(const JVal *v);
extern const char *agl_dotted_name(AglLint *L, const JVal *list);
extern const char *agl_last_name(const JVal *list);
extern const char *agl_rangevar_name(AglLint *L, const JVal *rv);
extern bool agl_rel_is_temp(AglLint *L, const char *schema, const char *rel);
extern bool agl_rangevar_is_temp(AglLint *L, const JVal *rv);
extern const char *agl_objtype_word(AglLint *L, const char *objtype);
extern bool agl_objtype_is_relation(const char *t);
extern bool agl_streq(const char *a, const char *b);
extern const JVal *agl_defelem_arg(const JVal *options, const char *name);

/* lint_expr.c */
extern Cv	agl_const_eval(AglLint *L, const JVal *v);
extern Cv	agl_cv_bool_of(Cv c);
extern const char *agl_const_string(AglLint *L, const JVal *v);
extern void agl_classify_call(AglCtx *cx, const JVal *funcname, const JVal *args,
							  AglResult *r, bool *is_volatile);

/* lint_dml.c */
extern bool agl_table_is_hooked(AglLint *L, const JVal *rv);
extern void agl_walk_executed(AglCtx *cx, const JVal *v, AglResult *r);

/* lint_body.c */
extern void agl_nested_finding(AglCtx *cx, int line, const AglResult *r);
extern void agl_classify_sql_text(AglCtx *cx, const char *sql, int line,
								  AglResult *worst);
extern void agl_classify_do(AglCtx *cx, const JVal *b, const char *src,
							AglResult *r);
extern void agl_classify_create_function(AglCtx *cx, const JVal *b,
										 const char *src, AglResult *r);

/* lint_utility.c */
extern void agl_classify_stmt(AglCtx *cx, const JVal *node, const char *src,
							  AglResult *r);

/* lint_tamper.c */
extern void agl_classify_tamper(AglCtx *cx, const char *t, const JVal *b,
								AglResult *r);
extern bool agl_call_is_tamper(AglCtx *cx, const JVal *funcname, AglResult *r);
extern bool agl_guard_schema_write(AglCtx *cx, const JVal *rv, AglResult *r);

#endif							/* AGL_LINT_INT_H */
