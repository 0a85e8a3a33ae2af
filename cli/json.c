/*-------------------------------------------------------------------------
 *
 * json.c
 *		A minimal JSON reader and an arena allocator for agent_guard_lint.
 *
 * libpg_query prints parse trees as JSON; this reads them into JVal trees.
 * Every allocation comes from an arena that is released as a whole, so the
 * analysis code never frees anything itself.  Allocation failure aborts the
 * program: a lint run has no useful way to continue without memory.
 *
 *-------------------------------------------------------------------------
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"

#define ARENA_CHUNK (256 * 1024)

typedef struct Chunk
{
	struct Chunk *next;
	size_t		size;
	size_t		used;
	/* data follows, aligned to 16 */
} Chunk;

struct AglArena
{
	Chunk	   *head;
};

static void *
xmalloc(size_t n)
{
	void	   *p = malloc(n);

	if (p == NULL)
	{
		fprintf(stderr, "agent_guard_lint: out of memory\n");
		exit(3);
	}
	return p;
}

AglArena *
agl_arena_new(void)
{
	AglArena   *a = xmalloc(sizeof(AglArena));

	a->head = NULL;
	return a;
}

void
agl_arena_free(AglArena *a)
{
	Chunk	   *c, *next;

	if (a == NULL)
		return;
	for (c = a->head; c; c = next)
	{
		next = c->next;
		free(c);
	}
	free(a);
}

#define CHUNK_HDR ((sizeof(Chunk) + 15) & ~(size_t) 15)

void *
agl_alloc(AglArena *a, size_t size)
{
	Chunk	   *c = a->head;
	void	   *p;

	size = (size + 15) & ~(size_t) 15;
	if (c == NULL || c->size - c->used < size)
	{
		size_t		csize = size > ARENA_CHUNK ? size : ARENA_CHUNK;

		c = xmalloc(CHUNK_HDR + csize);
		c->size = csize;
		c->used = 0;
		c->next = a->head;
		a->head = c;
	}
	p = (char *) c + CHUNK_HDR + c->used;
	c->used += size;
	return p;
}

char *
agl_strndup(AglArena *a, const char *s, size_t n)
{
	char	   *d = agl_alloc(a, n + 1);

	memcpy(d, s, n);
	d[n] = '\0';
	return d;
}

char *
agl_strdup(AglArena *a, const char *s)
{
	return agl_strndup(a, s, strlen(s));
}

char *
agl_printf(AglArena *a, const char *fmt,...)
{
	va_list		ap;
	int			n;
	char	   *d;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	d = agl_alloc(a, n + 1);
	va_start(ap, fmt);
	vsnprintf(d, n + 1, fmt, ap);
	va_end(ap);
	return d;
}

/* ---- parser ---- */

typedef struct Parser
{
	AglArena   *a;
	const char *p;
	int			depth;
} Parser;

static JVal *parse_value(Parser *ps);

static void
skip_ws(Parser *ps)
{
	while (*ps->p == ' ' || *ps->p == '\n' || *ps->p == '\t' || *ps->p == '\r')
		ps->p++;
}

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static void
put_utf8(char **d, unsigned cp)
{
	char	   *o = *d;

	if (cp < 0x80)
		*o++ = (char) cp;
	else if (cp < 0x800)
	{
		*o++ = (char) (0xC0 | (cp >> 6));
		*o++ = (char) (0x80 | (cp & 0x3F));
	}
	else if (cp < 0x10000)
	{
		*o++ = (char) (0xE0 | (cp >> 12));
		*o++ = (char) (0x80 | ((cp >> 6) & 0x3F));
		*o++ = (char) (0x80 | (cp & 0x3F));
	}
	else
	{
		*o++ = (char) (0xF0 | (cp >> 18));
		*o++ = (char) (0x80 | ((cp >> 12) & 0x3F));
		*o++ = (char) (0x80 | ((cp >> 6) & 0x3F));
		*o++ = (char) (0x80 | (cp & 0x3F));
	}
	*d = o;
}

static int
read_hex4(const char *p, unsigned *out)
{
	unsigned	v = 0;
	int			i;

	for (i = 0; i < 4; i++)
	{
		int			h = hexval(p[i]);

		if (h < 0)
			return -1;
		v = v * 16 + (unsigned) h;
	}
	*out = v;
	return 0;
}

/* Decode a string starting at the opening quote. */
static const char *
parse_string(Parser *ps)
{
	const char *s = ps->p + 1;
	const char *e = s;
	char	   *out, *d;

	/* Find the end to size the buffer (decoded is never longer). */
	while (*e && *e != '"')
	{
		if (*e == '\\' && e[1])
			e++;
		e++;
	}
	if (*e != '"')
		return NULL;
	out = d = agl_alloc(ps->a, (size_t) (e - s) + 1);
	while (s < e)
	{
		if (*s != '\\')
		{
			*d++ = *s++;
			continue;
		}
		s++;
		switch (*s)
		{
			case 'n':
				*d++ = '\n';
				break;
			case 't':
				*d++ = '\t';
				break;
			case 'r':
				*d++ = '\r';
				break;
			case 'b':
				*d++ = '\b';
				break;
			case 'f':
				*d++ = '\f';
				break;
			case 'u':
				{
					unsigned	cp, lo;

					if (read_hex4(s + 1, &cp) < 0)
						return NULL;
					s += 4;
					if (cp >= 0xD800 && cp < 0xDC00 && s[1] == '\\' && s[2] == 'u' &&
						read_hex4(s + 3, &lo) == 0 && lo >= 0xDC00 && lo < 0xE000)
					{
						cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
						s += 6;
					}
					put_utf8(&d, cp);
					break;
				}
			default:
				*d++ = *s;		/* \" \\ \/ */
				break;
		}
		s++;
	}
	*d = '\0';
	ps->p = e + 1;
	return out;
}

#define MAX_ITEMS_STACK 64

/* Members or elements, collected then copied into the arena. */
static JVal *
parse_container(Parser *ps, bool is_obj)
{
	JVal	   *v = agl_alloc(ps->a, sizeof(JVal));
	JVal	  **items = NULL;
	const char **keys = NULL;
	int			n = 0, cap = 0;
	char		close = is_obj ? '}' : ']';

	memset(v, 0, sizeof(JVal));
	v->t = is_obj ? J_OBJ : J_ARR;
	if (++ps->depth > 10000)
		return NULL;
	ps->p++;
	skip_ws(ps);
	if (*ps->p == close)
	{
		ps->p++;
		ps->depth--;
		return v;
	}
	for (;;)
	{
		const char *key = NULL;
		JVal	   *item;

		skip_ws(ps);
		if (is_obj)
		{
			if (*ps->p != '"' || (key = parse_string(ps)) == NULL)
				goto fail;
			skip_ws(ps);
			if (*ps->p++ != ':')
				goto fail;
		}
		if ((item = parse_value(ps)) == NULL)
			goto fail;
		if (n == cap)
		{
			int			ncap = cap ? cap * 2 : 4;
			JVal	  **ni = agl_alloc(ps->a, sizeof(JVal *) * ncap);

			if (n)
				memcpy(ni, items, sizeof(JVal *) * n);
			items = ni;
			if (is_obj)
			{
				const char **nk = agl_alloc(ps->a, sizeof(char *) * ncap);

				if (n)
					memcpy(nk, keys, sizeof(char *) * n);
				keys = nk;
			}
			cap = ncap;
		}
		items[n] = item;
		if (is_obj)
			keys[n] = key;
		n++;
		skip_ws(ps);
		if (*ps->p == ',')
		{
			ps->p++;
			continue;
		}
		if (*ps->p == close)
		{
			ps->p++;
			break;
		}
		goto fail;
	}
	v->n = n;
	v->items = items;
	v->keys = keys;
	ps->depth--;
	return v;
fail:
	return NULL;
}

static JVal *
parse_value(Parser *ps)
{
	JVal	   *v;

	skip_ws(ps);
	switch (*ps->p)
	{
		case '{':
			return parse_container(ps, true);
		case '[':
			return parse_container(ps, false);
		case '"':
			v = agl_alloc(ps->a, sizeof(JVal));
			memset(v, 0, sizeof(JVal));
			v->t = J_STR;
			if ((v->s = parse_string(ps)) == NULL)
				return NULL;
			return v;
		default:
			break;
	}
	v = agl_alloc(ps->a, sizeof(JVal));
	memset(v, 0, sizeof(JVal));
	if (strncmp(ps->p, "true", 4) == 0)
	{
		v->t = J_BOOL;
		v->b = true;
		ps->p += 4;
	}
	else if (strncmp(ps->p, "false", 5) == 0)
	{
		v->t = J_BOOL;
		ps->p += 5;
	}
	else if (strncmp(ps->p, "null", 4) == 0)
	{
		v->t = J_NULL;
		ps->p += 4;
	}
	else if (*ps->p == '-' || (*ps->p >= '0' && *ps->p <= '9'))
	{
		char	   *end;
		const char *start = ps->p;

		v->t = J_NUM;
		v->num = strtod(ps->p, &end);
		if (end == ps->p)
			return NULL;
		ps->p = end;
		v->s = agl_strndup(ps->a, start, (size_t) (end - start));
	}
	else
		return NULL;
	return v;
}

JVal *
agl_json_parse(AglArena *a, const char *text)
{
	Parser		ps;
	JVal	   *v;

	ps.a = a;
	ps.p = text;
	ps.depth = 0;
	v = parse_value(&ps);
	if (v == NULL)
		return NULL;
	skip_ws(&ps);
	return *ps.p == '\0' ? v : NULL;
}

JVal *
jget(const JVal *v, const char *key)
{
	int			i;

	if (v == NULL || v->t != J_OBJ)
		return NULL;
	for (i = 0; i < v->n; i++)
		if (strcmp(v->keys[i], key) == 0)
			return v->items[i];
	return NULL;
}

const char *
jstr(const JVal *v, const char *key)
{
	JVal	   *m = jget(v, key);

	return (m && m->t == J_STR) ? m->s : NULL;
}

long
jint(const JVal *v, const char *key, long dflt)
{
	JVal	   *m = jget(v, key);

	return (m && m->t == J_NUM) ? (long) m->num : dflt;
}

bool
jbool(const JVal *v, const char *key)
{
	JVal	   *m = jget(v, key);

	return m && m->t == J_BOOL && m->b;
}

/* Node type names start with a capital ("DeleteStmt", "PLpgSQL_expr"). */
const char *
jnode_type(const JVal *v)
{
	if (v == NULL || v->t != J_OBJ || v->n != 1 ||
		v->keys[0][0] < 'A' || v->keys[0][0] > 'Z')
		return NULL;
	return v->keys[0];
}

JVal *
jnode_body(const JVal *v)
{
	return jnode_type(v) ? v->items[0] : NULL;
}

JVal *
jnode_is(const JVal *v, const char *type)
{
	const char *t = jnode_type(v);

	return (t && strcmp(t, type) == 0) ? jnode_body(v) : NULL;
}
