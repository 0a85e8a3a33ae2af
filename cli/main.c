/*-------------------------------------------------------------------------
 *
 * main.c
 *		agent_guard_lint: report, for each statement of SQL files, the
 *		verdict agent_guard would give an agent session, and its
 *		fingerprint.
 *
 *	agent_guard_lint [--format=text|json] [--fingerprint] [--canonical]
 *					 [--whole] [--policy name=value]... [FILE...]
 *
 * Exit status: 0 nothing would be denied, 1 something would be, 2 a parse
 * error (or unreadable input), 3 out of memory or bad usage.
 *
 * Inputs are read whole into malloc'd buffers, freed after their findings
 * are printed; the findings' strings live in the lint arena until exit.
 *
 *-------------------------------------------------------------------------
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <pg_query.h>

#include "fingerprint.h"
#include "lint.h"

typedef enum OutMode
{
	OUT_TEXT,
	OUT_JSON,
	OUT_FINGERPRINT,
	OUT_CANONICAL,
	OUT_WHOLE
} OutMode;

static void
usage(FILE *out)
{
	fprintf(out,
			"Usage: agent_guard_lint [OPTION]... [FILE]...\n"
			"Report the verdict agent_guard would give an agent session for each SQL\n"
			"statement of FILEs (standard input if none, or \"-\"), and its fingerprint.\n"
			"\n"
			"  --format=text|json     human-readable lines (default) or one JSON document\n"
			"  --fingerprint          print only each statement's fingerprint\n"
			"  --canonical            print each statement's canonical token stream\n"
			"  --whole                fingerprint each input as one token stream, lexing\n"
			"                         only, as agent_guard.fingerprint() does with its argument\n"
			"  --policy NAME=VALUE    agent_guard setting to judge under: mode=enforce|dry_run,\n"
			"                         max_rows=N (repeatable; agent_guard. prefix optional)\n"
			"  --help                 show this help\n"
			"\n"
			"Exit status: 0 nothing would be denied, 1 something would be denied,\n"
			"2 parse error or unreadable input.\n"
			"Parser: libpg_query for PostgreSQL %s.\n", PG_VERSION);
}

/* Read a whole file (or stdin for "-"); NULL with errno set on failure. */
static char *
read_all(const char *path)
{
	FILE	   *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
	char	   *buf = NULL;
	size_t		len = 0, cap = 0;

	if (f == NULL)
		return NULL;
	for (;;)
	{
		size_t		n;

		if (cap - len < 65536)
		{
			char	   *nb;

			cap = cap ? cap * 2 : 131072;
			nb = realloc(buf, cap + 1);
			if (nb == NULL)
			{
				free(buf);
				if (f != stdin)
					fclose(f);
				errno = ENOMEM;
				return NULL;
			}
			buf = nb;
		}
		n = fread(buf + len, 1, cap - len, f);
		len += n;
		if (n == 0)
			break;
	}
	if (ferror(f))
	{
		free(buf);
		if (f != stdin)
			fclose(f);
		errno = EIO;
		return NULL;
	}
	if (f != stdin)
		fclose(f);
	buf[len] = '\0';
	if (strlen(buf) != len)
	{
		free(buf);
		errno = EINVAL;			/* NUL bytes: not SQL text */
		return NULL;
	}
	return buf;
}

static void
json_string(FILE *out, const char *s)
{
	const unsigned char *p = (const unsigned char *) (s ? s : "");

	if (s == NULL)
	{
		fputs("null", out);
		return;
	}
	fputc('"', out);
	for (; *p; p++)
	{
		if (*p == '"' || *p == '\\')
			fprintf(out, "\\%c", *p);
		else if (*p == '\n')
			fputs("\\n", out);
		else if (*p == '\t')
			fputs("\\t", out);
		else if (*p < 0x20)
			fprintf(out, "\\u%04x", *p);
		else
			fputc(*p, out);
	}
	fputc('"', out);
}

static const char *
human_verdict(const char *v)
{
	if (strcmp(v, "runtime_check") == 0)
		return "needs runtime check";
	return v;
}

static void
print_text(FILE *out, const AglLint *L, const AglFinding *f)
{
	if (f->error)
	{
		fprintf(out, "%s:%d: parse error: %s\n", f->file, f->line, f->error);
		return;
	}
	fprintf(out, "%s:%d: %s%s%s%s: %s [%s] %s",
			f->file, f->line,
			f->depth ? "  in " : "", f->depth ? f->context : "", f->depth ? ": " : "",
			f->command ? f->command : "?",
			human_verdict(agl_verdict_name(L, f)),
			ag_op_rule(f->op), ag_op_name(f->op));
	if (f->objects && *f->objects)
		fprintf(out, ": %s", f->objects);
	if (f->reason && f->verdict != AGL_ALLOW)
		fprintf(out, "; %s", f->reason);
	if (f->depth == 0)
		fprintf(out, " (fingerprint %s)", f->fingerprint);
	fputc('\n', out);
}

static void
print_json(FILE *out, const AglLint *L, const AglFinding *f, bool first)
{
	fputs(first ? "\n  {" : ",\n  {", out);
	fputs("\"file\": ", out);
	json_string(out, f->file);
	fprintf(out, ", \"line\": %d", f->line);
	if (f->error)
	{
		fputs(", \"verdict\": \"error\", \"error\": ", out);
		json_string(out, f->error);
		fputc('}', out);
		return;
	}
	fprintf(out, ", \"depth\": %d, \"context\": ", f->depth);
	json_string(out, f->context);
	fputs(", \"command\": ", out);
	json_string(out, f->command);
	fputs(", \"class\": ", out);
	json_string(out, ag_op_name(f->op));
	fputs(", \"rule\": ", out);
	json_string(out, ag_op_rule(f->op));
	fputs(", \"verdict\": ", out);
	json_string(out, agl_verdict_name(L, f));
	fputs(", \"objects\": ", out);
	json_string(out, f->objects);
	fputs(", \"reason\": ", out);
	json_string(out, f->verdict != AGL_ALLOW ? f->reason : NULL);
	if (f->depth == 0)
	{
		fprintf(out, ", \"location\": %d, \"length\": %d, \"fingerprint\": ",
				f->location, f->length);
		json_string(out, f->fingerprint);
	}
	fputc('}', out);
}

/* --canonical: print the stream each statement is fingerprinted over. */
static void
print_canonical(FILE *out, const char *text, const AglFinding *f)
{
	AglTokens	toks;
	char	   *err;
	int			pos;
	char		hex[65];
	char	   *canon;

	if (f->error || f->depth > 0 || !agl_lex(text, &toks, &err, &pos))
		return;
	agl_fingerprint_range(text, &toks, f->location, f->location + f->length, hex, &canon);
	fprintf(out, "%s\n", canon);
	free(canon);
	agl_tokens_free(&toks);
}

int
main(int argc, char **argv)
{
	AglPolicy	policy = {false, -1};
	OutMode		mode = OUT_TEXT;
	const char **files;
	int			nfiles = 0, i, j, printed = 0;
	bool		parse_failed = false, denied = false, first = true;
	int			denied_n = 0, runtime_n = 0, statements = 0, errors = 0;
	AglLint    *L;

	files = calloc((size_t) argc + 1, sizeof(char *));
	if (files == NULL)
		return 3;
	for (i = 1; i < argc; i++)
	{
		const char *a = argv[i];
		const char *setting = NULL;

		if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0)
		{
			usage(stdout);
			free(files);
			return 0;
		}
		else if (strcmp(a, "--format=json") == 0)
			mode = OUT_JSON;
		else if (strcmp(a, "--format=text") == 0)
			mode = OUT_TEXT;
		else if (strcmp(a, "--fingerprint") == 0)
			mode = OUT_FINGERPRINT;
		else if (strcmp(a, "--canonical") == 0)
			mode = OUT_CANONICAL;
		else if (strcmp(a, "--whole") == 0)
			mode = OUT_WHOLE;
		else if (strncmp(a, "--policy=", 9) == 0)
			setting = a + 9;
		else if (strcmp(a, "--policy") == 0 && i + 1 < argc)
			setting = argv[++i];
		else if (strcmp(a, "--") == 0)
		{
			for (i++; i < argc; i++)
				files[nfiles++] = argv[i];
			break;
		}
		else if (a[0] == '-' && a[1] != '\0')
		{
			fprintf(stderr, "agent_guard_lint: unknown option \"%s\"\n", a);
			usage(stderr);
			free(files);
			return 3;
		}
		else
			files[nfiles++] = a;

		/* "--policy a=1,b=2" or repeated --policy */
		while (setting && *setting)
		{
			const char *comma = strchr(setting, ',');
			size_t		n = comma ? (size_t) (comma - setting) : strlen(setting);
			char	   *one = strndup(setting, n);
			const char *msg = one ? agl_policy_set(&policy, one) : "out of memory";

			if (msg)
			{
				fprintf(stderr, "agent_guard_lint: invalid policy \"%s\": %s\n", one ? one : "", msg);
				free(one);
				free(files);
				return 3;
			}
			free(one);
			setting = comma ? comma + 1 : NULL;
		}
	}
	if (nfiles == 0)
		files[nfiles++] = "-";

	L = agl_lint_new(policy);
	if (mode == OUT_JSON)
		fputs("{\"findings\": [", stdout);
	for (i = 0; i < nfiles; i++)
	{
		const char *name = strcmp(files[i], "-") == 0 ? "<stdin>" : files[i];
		char	   *text = read_all(files[i]);

		if (text == NULL)
		{
			fprintf(stderr, "agent_guard_lint: could not read \"%s\": %s\n",
					name, strerror(errno));
			parse_failed = true;
			errors++;
			continue;
		}
		if (mode == OUT_WHOLE)
		{
			AglTokens	toks;
			char	   *err;
			int			pos;
			char		hex[65];

			if (agl_lex(text, &toks, &err, &pos))
			{
				agl_fingerprint_range(text, &toks, 0, (int) strlen(text), hex, NULL);
				printf("%s\n", hex);
				agl_tokens_free(&toks);
			}
			else
			{
				fprintf(stderr, "%s: lexical error: %s\n", name, err);
				free(err);
				parse_failed = true;
			}
			free(text);
			continue;
		}
		if (!agl_lint_text(L, name, text))
			parse_failed = true;

		for (j = printed; j < agl_lint_count(L); j++)
		{
			const AglFinding *f = agl_lint_finding(L, j);

			if (f->error)
			{
				errors++;
				fprintf(stderr, "%s:%d: parse error: %s\n", f->file, f->line, f->error);
			}
			else if (f->depth == 0)
				statements++;
			if (agl_finding_denied(L, f))
			{
				denied = true;
				denied_n++;
			}
			else if (f->verdict == AGL_RUNTIME && !f->error)
				runtime_n++;

			switch (mode)
			{
				case OUT_TEXT:
					if (!f->error)
						print_text(stdout, L, f);
					break;
				case OUT_JSON:
					print_json(stdout, L, f, first);
					first = false;
					break;
				case OUT_FINGERPRINT:
					if (!f->error && f->depth == 0)
						printf("%s\n", f->fingerprint);
					break;
				case OUT_CANONICAL:
					print_canonical(stdout, text, f);
					break;
				case OUT_WHOLE:
					break;		/* handled above */
			}
		}
		printed = agl_lint_count(L);
		free(text);
	}
	if (mode == OUT_JSON)
		printf("\n], \"summary\": {\"statements\": %d, \"denied\": %d, \"runtime_check\": %d, \"errors\": %d, \"parser\": \"libpg_query %s\"}}\n",
			   statements, denied_n, runtime_n, errors, PG_VERSION);

	agl_lint_free(L);
	free(files);
	pg_query_exit();			/* libpg_query's memory; once, at exit */
	if (fflush(stdout) != 0)
		return 3;
	return parse_failed ? 2 : denied ? 1 : 0;
}
