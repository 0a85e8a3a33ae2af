/*-------------------------------------------------------------------------
 *
 * json.h
 *		A minimal JSON reader for libpg_query's parse-tree output.
 *
 * Values live in an arena owned by the caller; agl_arena_free() releases
 * every value parsed into it at once.
 *
 *-------------------------------------------------------------------------
 */
#ifndef AGL_JSON_H
#define AGL_JSON_H

#include <stdbool.h>
#include <stddef.h>

typedef struct AglArena AglArena;

typedef enum JType
{
	J_NULL = 0,
	J_BOOL,
	J_NUM,
	J_STR,
	J_ARR,
	J_OBJ
} JType;

typedef struct JVal
{
	JType		t;
	bool		b;
	double		num;
	const char *s;				/* J_STR: decoded, NUL-terminated; J_NUM: text */
	int			n;				/* J_ARR, J_OBJ: number of items */
	struct JVal **items;		/* J_ARR, J_OBJ */
	const char **keys;			/* J_OBJ */
} JVal;

extern AglArena *agl_arena_new(void);
extern void agl_arena_free(AglArena *a);
extern void *agl_alloc(AglArena *a, size_t size);
extern char *agl_strdup(AglArena *a, const char *s);
extern char *agl_strndup(AglArena *a, const char *s, size_t n);
extern char *agl_printf(AglArena *a, const char *fmt,...) __attribute__((format(printf, 2, 3)));

/* Parse text; NULL on malformed input. */
extern JVal *agl_json_parse(AglArena *a, const char *text);

/* Object member by key, NULL if absent or v is not an object. */
extern JVal *jget(const JVal *v, const char *key);
/* Member as a string / integer / boolean, with a default. */
extern const char *jstr(const JVal *v, const char *key);
extern long jint(const JVal *v, const char *key, long dflt);
extern bool jbool(const JVal *v, const char *key);
/* A parse node {"Type": {...}}: its type name and body, NULL if not one. */
extern const char *jnode_type(const JVal *v);
extern JVal *jnode_body(const JVal *v);
/* The body if v is a node of this type, else NULL. */
extern JVal *jnode_is(const JVal *v, const char *type);

#endif							/* AGL_JSON_H */
