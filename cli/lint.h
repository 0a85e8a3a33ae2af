/*-------------------------------------------------------------------------
 *
 * lint.h
 *		agent_guard_lint's analysis: split SQL into statements, classify
 *		each as the extension would for an agent session, fingerprint it.
 *
 *-------------------------------------------------------------------------
 */
#ifndef AGL_LINT_H
#define AGL_LINT_H

#include <stdbool.h>

#include "../src/ag_vocab.h"
#include "json.h"

/* What the CLI can say about a statement, in increasing severity. */
typedef enum AglVerdict
{
	AGL_ALLOW = 0,				/* the extension lets it run */
	AGL_RUNTIME,				/* needs a runtime check: row budget, or
								 * what only the server can know */
	AGL_DENY					/* the extension refuses it */
} AglVerdict;

typedef struct AglPolicy
{
	bool		dry_run;		/* agent_guard.mode = dry_run */
	long		max_rows;		/* agent_guard.max_rows, -1: not given */
} AglPolicy;

/* One reported statement: top level, or nested in a body. */
typedef struct AglFinding
{
	const char *file;
	int			line;
	int			location;		/* byte offset in the file, top level only */
	int			length;
	int			depth;			/* 0: top level; >0: inside a body */
	const char *context;		/* "DO block", "function f", ... */
	const char *command;		/* e.g. "DROP", "DELETE", "CREATE FUNCTION" */
	AgOpClass	op;
	AglVerdict	verdict;
	const char *objects;		/* "table a, table b" or "" */
	const char *reason;			/* why, or NULL */
	char		fingerprint[65];	/* top level only */
	const char *error;			/* parse error message, or NULL */
} AglFinding;

typedef struct AglLint AglLint;

extern AglLint *agl_lint_new(AglPolicy policy);
extern void agl_lint_free(AglLint *L);

/* Analyse one input; findings accumulate in L.  Returns false on parse error. */
extern bool agl_lint_text(AglLint *L, const char *file, const char *text);

extern int	agl_lint_count(const AglLint *L);
extern const AglFinding *agl_lint_finding(const AglLint *L, int i);

/* Policy-level verdict name: "allow", "deny", "dry_run", "runtime_check". */
extern const char *agl_verdict_name(const AglLint *L, const AglFinding *f);
/* Would the server refuse it (deny under the policy, not dry run)? */
extern bool agl_finding_denied(const AglLint *L, const AglFinding *f);

/* Parse a --policy setting "name=value"; NULL on success, else a message. */
extern const char *agl_policy_set(AglPolicy *p, const char *setting);

#endif							/* AGL_LINT_H */
