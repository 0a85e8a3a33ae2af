/*-------------------------------------------------------------------------
 *
 * fuzz.c
 *		libFuzzer harness for agent_guard_lint's splitter, lexer,
 *		fingerprint and classifier.
 *
 *	make -C cli fuzz FUZZ_SECONDS=60
 *
 * Each input is linted as a file (parse, split, classify, nested bodies)
 * and fingerprinted whole; crashes, sanitizer reports and leaks are
 * findings.  Inputs with NUL bytes are skipped: the CLI refuses them.
 *
 *-------------------------------------------------------------------------
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fingerprint.h"
#include "lint.h"

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char	   *text;
	AglPolicy	policy = {false, -1};
	AglLint    *L;
	AglTokens	toks;
	char	   *err;
	int			pos;
	char		hex[65];

	if (memchr(data, 0, size) != NULL)
		return 0;
	text = malloc(size + 1);
	if (text == NULL)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';

	if (agl_lex(text, &toks, &err, &pos))
	{
		agl_fingerprint_range(text, &toks, 0, (int) size, hex, NULL);
		agl_tokens_free(&toks);
	}
	else
		free(err);

	L = agl_lint_new(policy);
	agl_lint_text(L, "fuzz", text);
	agl_lint_free(L);
	free(text);
	return 0;
}
