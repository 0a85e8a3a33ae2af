/*-------------------------------------------------------------------------
 *
 * fingerprint.c
 *		Lexing with libpg_query's copy of the PostgreSQL lexer, and the
 *		statement fingerprint built on it.
 *
 * pg_query_scan() returns a protobuf ScanResult.  Its wire format is small
 * (two messages of varint fields), so it is decoded here by hand rather
 * than through protobuf-c, whose headers Debian does not ship with
 * libpg-query-dev.
 *
 * The canonical stream must equal the server's (src/fingerprint.c), which
 * takes a token's text to run from its start up to where flex ended the
 * token.  libpg_query's "end" offsets are not always that (it records the
 * length of the last flex match only), so a token's text is taken to run
 * up to the start of the next token, comment or end of input, with the
 * whitespace before it removed.  Between two tokens there is only
 * whitespace and comments, and libpg_query reports comments as tokens.
 *
 * Memory: token arrays and canonical strings are malloc'd and owned by the
 * caller.
 *
 *-------------------------------------------------------------------------
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <pg_query.h>

#include "fingerprint.h"
#include "sha256.h"

/* Read a protobuf varint; returns the new position or NULL. */
static const uint8_t *
read_varint(const uint8_t *p, const uint8_t *end, uint64_t *v)
{
	uint64_t	r = 0;
	int			shift = 0;

	while (p < end && shift < 64)
	{
		r |= (uint64_t) (*p & 0x7F) << shift;
		if ((*p++ & 0x80) == 0)
		{
			*v = r;
			return p;
		}
		shift += 7;
	}
	return NULL;
}

/* Skip a field of the given wire type; NULL on malformed input. */
static const uint8_t *
skip_field(const uint8_t *p, const uint8_t *end, int wt)
{
	uint64_t	len;

	switch (wt)
	{
		case 0:
			return read_varint(p, end, &len);
		case 1:
			return end - p >= 8 ? p + 8 : NULL;
		case 2:
			p = read_varint(p, end, &len);
			return (p && (uint64_t) (end - p) >= len) ? p + len : NULL;
		case 5:
			return end - p >= 4 ? p + 4 : NULL;
		default:
			return NULL;
	}
}

static bool
decode_token(const uint8_t *p, const uint8_t *end, AglToken *t)
{
	memset(t, 0, sizeof(*t));
	while (p < end)
	{
		uint64_t	key, v;
		int			field, wt;

		if ((p = read_varint(p, end, &key)) == NULL)
			return false;
		field = (int) (key >> 3);
		wt = (int) (key & 7);
		if (wt == 0 && field >= 1 && field <= 5)
		{
			if ((p = read_varint(p, end, &v)) == NULL)
				return false;
			if (field == 1)
				t->start = (int) v;
			else if (field == 2)
				t->end = (int) v;
			else if (field == 4)
				t->token = (int) v;
			else if (field == 5)
				t->keyword = (int) v;
		}
		else if ((p = skip_field(p, end, wt)) == NULL)
			return false;
	}
	return true;
}

static bool
decode_scan(const uint8_t *p, const uint8_t *end, AglTokens *out)
{
	int			cap = 64;

	out->n = 0;
	out->tok = malloc(sizeof(AglToken) * cap);
	if (out->tok == NULL)
		return false;
	while (p < end)
	{
		uint64_t	key, len;
		int			field, wt;

		if ((p = read_varint(p, end, &key)) == NULL)
			return false;
		field = (int) (key >> 3);
		wt = (int) (key & 7);
		if (field == 2 && wt == 2)
		{
			AglToken	t;

			if ((p = read_varint(p, end, &len)) == NULL ||
				(uint64_t) (end - p) < len)
				return false;
			if (!decode_token(p, p + len, &t))
				return false;
			p += len;
			if (out->n == cap)
			{
				AglToken   *nt;

				cap *= 2;
				nt = realloc(out->tok, sizeof(AglToken) * cap);
				if (nt == NULL)
					return false;
				out->tok = nt;
			}
			out->tok[out->n++] = t;
		}
		else if ((p = skip_field(p, end, wt)) == NULL)
			return false;
	}
	return true;
}

static bool
is_scanner_space(char c)
{
	/* scan.l: space [ \t\n\r\f] (PostgreSQL 15) */
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f';
}

/*
 * Does sql[p..end) match scan.l's {whitespace_with_newline}, the gap that
 * continues a quoted string onto the next line?
 *	 {horiz_whitespace}*{newline}{special_whitespace}*
 * where horiz_whitespace is [ \t\f] or a -- comment, and special_whitespace
 * is {space}+ or a -- comment followed by a newline.
 */
static bool
is_quote_continuation_gap(const char *sql, int p, int end)
{
	while (p < end && (sql[p] == ' ' || sql[p] == '\t' || sql[p] == '\f' ||
					   (sql[p] == '-' && p + 1 < end && sql[p + 1] == '-')))
	{
		if (sql[p] == '-')
			while (p < end && sql[p] != '\n' && sql[p] != '\r')
				p++;
		else
			p++;
	}
	if (p >= end || (sql[p] != '\n' && sql[p] != '\r'))
		return false;
	p++;
	while (p < end)
	{
		if (is_scanner_space(sql[p]))
			p++;
		else if (sql[p] == '-' && p + 1 < end && sql[p + 1] == '-')
		{
			while (p < end && sql[p] != '\n' && sql[p] != '\r')
				p++;
			if (p >= end)
				return false;
			p++;
		}
		else
			return false;
	}
	return true;
}

bool
agl_lex(const char *sql, AglTokens *out, char **errmsg, int *errpos)
{
	PgQueryScanResult r = pg_query_scan(sql);
	AglTokens	all;
	int			i, len = (int) strlen(sql);

	out->tok = NULL;
	out->n = 0;
	if (r.error)
	{
		*errmsg = strdup(r.error->message);
		*errpos = r.error->cursorpos > 0 ? r.error->cursorpos - 1 : -1;
		pg_query_free_scan_result(r);
		return false;
	}
	if (!decode_scan((const uint8_t *) r.pbuf.data,
					 (const uint8_t *) r.pbuf.data + r.pbuf.len, &all))
	{
		free(all.tok);
		pg_query_free_scan_result(r);
		*errmsg = strdup("could not decode libpg_query scan output");
		*errpos = -1;
		return false;
	}
	pg_query_free_scan_result(r);

	/* Each token ends where the next one (or a comment) starts, less spaces. */
	for (i = 0; i < all.n; i++)
	{
		int			e = (i + 1 < all.n) ? all.tok[i + 1].start : len;

		if (e > len)
			e = len;
		while (e > all.tok[i].start && is_scanner_space(sql[e - 1]))
			e--;
		all.tok[i].end = e;
	}
	/* Drop comments. */
	out->tok = all.tok;
	for (i = 0; i < all.n; i++)
		if (all.tok[i].token != AGL_TOK_SQL_COMMENT &&
			all.tok[i].token != AGL_TOK_C_COMMENT)
			out->tok[out->n++] = all.tok[i];

	/*
	 * The server's lexer continues a quoted string across a newline even
	 * when -- comments sit in the gap ('a' -- c<newline>'b' is one literal);
	 * libpg_query's lexer, which reports comments, splits it.  Merge such
	 * pieces back so both see one token.
	 */
	for (i = 0; i + 1 < out->n;)
	{
		AglToken   *a = &out->tok[i];
		AglToken   *b = &out->tok[i + 1];

		if (a->keyword == 0 && a->end > a->start && sql[a->end - 1] == '\'' &&
			sql[b->start] == '\'' &&
			is_quote_continuation_gap(sql, a->end, b->start))
		{
			a->end = b->end;
			memmove(b, b + 1, sizeof(AglToken) * (size_t) (out->n - i - 2));
			out->n--;
		}
		else
			i++;
	}
	return true;
}

void
agl_tokens_free(AglTokens *t)
{
	free(t->tok);
	t->tok = NULL;
	t->n = 0;
}

/* Does this token fold to lowercase?  Keywords and unquoted identifiers. */
static bool
token_folds(const char *sql, const AglToken *t)
{
	if (t->keyword != 0)
		return true;
	return t->token == AGL_TOK_IDENT && sql[t->start] != '"';
}

void
agl_fingerprint_range(const char *sql, const AglTokens *t, int from, int to,
					  char hex[65], char **canon)
{
	int			first = -1, last = -1, i;
	size_t		size = 0, pos = 0;
	char	   *buf;
	int			lo = 0, hi = t->n;

	/* Tokens are in order: find the first one at or after from. */
	while (lo < hi)
	{
		int			mid = lo + (hi - lo) / 2;

		if (t->tok[mid].start < from)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (i = lo; i < t->n && t->tok[i].start < to; i++)
	{
		const AglToken *k = &t->tok[i];

		if (k->end - k->start == 1 && sql[k->start] == ';')
			continue;			/* only inner ';' count, see below */
		if (first < 0)
			first = i;
		last = i;
	}
	/* Tokens first..last (within range), with inner ';' kept. */
	for (i = first; first >= 0 && i <= last; i++)
		size += (size_t) (t->tok[i].end - t->tok[i].start) + 1;
	buf = malloc(size + 1);
	if (buf == NULL)
	{
		fprintf(stderr, "agent_guard_lint: out of memory\n");
		exit(3);
	}
	for (i = first; first >= 0 && i <= last; i++)
	{
		const AglToken *k = &t->tok[i];
		int			j;

		if (pos > 0)
			buf[pos++] = ' ';
		if (token_folds(sql, k))
			for (j = k->start; j < k->end; j++)
			{
				char		c = sql[j];

				buf[pos++] = (c >= 'A' && c <= 'Z') ? (char) (c + 'a' - 'A') : c;
			}
		else
		{
			memcpy(buf + pos, sql + k->start, (size_t) (k->end - k->start));
			pos += (size_t) (k->end - k->start);
		}
	}
	buf[pos] = '\0';
	agl_sha256_hex(buf, pos, hex);
	if (canon)
		*canon = buf;
	else
		free(buf);
}
