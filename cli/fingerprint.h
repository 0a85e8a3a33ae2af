/*-------------------------------------------------------------------------
 *
 * fingerprint.h
 *		Lexing with libpg_query and statement fingerprints, identical to
 *		the server's agent_guard.fingerprint() (docs/fingerprint.md).
 *
 *-------------------------------------------------------------------------
 */
#ifndef AGL_FINGERPRINT_H
#define AGL_FINGERPRINT_H

#include <stdbool.h>
#include <stddef.h>

/* libpg_query's token numbers (enum Token in pg_query.proto) we need. */
#define AGL_TOK_IDENT		258
#define AGL_TOK_SQL_COMMENT	275
#define AGL_TOK_C_COMMENT	276

typedef struct AglToken
{
	int			start;			/* byte offset of the token */
	int			end;			/* byte offset just past its canonical text */
	int			token;			/* libpg_query token number */
	int			keyword;		/* 0: not a keyword */
} AglToken;

typedef struct AglTokens
{
	AglToken   *tok;			/* comments removed */
	int			n;
} AglTokens;

/*
 * Lex sql (NUL-terminated).  On success returns true and fills *out (free
 * with agl_tokens_free).  On a lexical error returns false and sets
 * *errmsg (malloc'd) and *errpos (byte offset, -1 if unknown).
 */
extern bool agl_lex(const char *sql, AglTokens *out, char **errmsg, int *errpos);
extern void agl_tokens_free(AglTokens *t);

/*
 * Fingerprint of the tokens of sql that start in [from, to): hex SHA-256 of
 * the canonical stream.  If canon is not NULL, *canon receives the stream
 * (malloc'd).
 */
extern void agl_fingerprint_range(const char *sql, const AglTokens *t,
								  int from, int to, char hex[65], char **canon);

#endif							/* AGL_FINGERPRINT_H */
