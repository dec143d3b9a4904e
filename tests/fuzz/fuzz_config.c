/* fuzz_config: the configuration file, line by line and whole.
 *
 * Each line goes to cfile_parse_line with an exactly sized output buffer
 * (ASan sees any overrun): the result is a known code; an entry has a
 * well-formed name and a value without control bytes, and what
 * cfile_quote writes for that value reads back to it. The whole input is
 * then applied to a default config with config_apply_text: it is accepted,
 * or refused with exactly one line naming the file and line; when
 * accepted, config_print's text applied to another config prints the same
 * again. A violated invariant abort()s. */
#include "cfile.h"
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define REQUIRE(c)                                                           \
	do {                                                                 \
		if (!(c))                                                    \
			abort();                                             \
	} while (0)

static int name_ok(const char *n)
{
	if (!n[0] || n[0] == '-')
		return 0;
	for (; *n; n++)
		if (!((*n >= 'a' && *n <= 'z') || (*n >= '0' && *n <= '9') || *n == '-'))
			return 0;
	return 1;
}

static void one_line(const char *s, size_t n)
{
	char *buf = malloc(n + 2);
	struct cfile_entry e = { 0 };
	int r = cfile_parse_line(s, n, buf, &e);

	REQUIRE(r >= CFILE_E_TRAILING && r <= CFILE_ENTRY);
	REQUIRE(cfile_strerror(r)[0]);
	if (r == CFILE_ENTRY) {
		REQUIRE(name_ok(e.name) && strlen(e.name) <= n);
		REQUIRE(memchr(s, e.name[0], n) != NULL);
		if (e.value) {
			size_t vl = strlen(e.value);
			REQUIRE(strlen(e.name) + vl + 2 <= n + 2);
			for (size_t i = 0; i < vl; i++) {
				unsigned char c = (unsigned char)e.value[i];
				REQUIRE((c >= 0x20 && c != 0x7f) || c == '\t');
			}
		}
		/* Write it back and read it again. */
		size_t cap = strlen(e.name) + 3 + (e.value ? 2 * strlen(e.value) + 3 : 0) + 1;
		char *line = malloc(cap), *q = malloc(cap), *buf2 = malloc(cap + 2);
		struct cfile_entry e2 = { 0 };
		int len;
		if (e.value) {
			REQUIRE(cfile_quote(e.value, q, cap) >= 0);
			len = snprintf(line, cap, "%s = %s", e.name, q);
		} else {
			len = snprintf(line, cap, "%s", e.name);
		}
		REQUIRE(len > 0 && (size_t)len < cap);
		REQUIRE(cfile_parse_line(line, (size_t)len, buf2, &e2) == CFILE_ENTRY);
		REQUIRE(strcmp(e.name, e2.name) == 0);
		REQUIRE((e.value == NULL) == (e2.value == NULL));
		REQUIRE(!e.value || strcmp(e.value, e2.value) == 0);
		free(line);
		free(q);
		free(buf2);
	}
	free(buf);
}

static char *printed(const struct config *cfg, size_t *len)
{
	char *t = NULL;
	FILE *f = open_memstream(&t, len);

	REQUIRE(f);
	config_print(cfg, f);
	fclose(f);
	return t;
}

static void defaults(struct config *cfg)
{
	static char prog[] = "ringserve";
	char *argv[] = { prog, NULL };

	memset(cfg, 0, sizeof(*cfg));
	REQUIRE(config_parse(cfg, 1, argv, stdout, stderr) == 0);
}

static void whole(const char *text, size_t len)
{
	struct config a, b;
	char *err = NULL;
	size_t elen = 0;
	FILE *f;

	defaults(&a);
	f = open_memstream(&err, &elen);
	REQUIRE(f);
	int r = config_apply_text(&a, "fuzz", text, len, f);
	fclose(f);
	REQUIRE(r == 0 || r == 2);
	if (r == 2) {
		REQUIRE(elen > 0 && strncmp(err, "ringserve: fuzz:", 16) == 0);
		REQUIRE(memchr(err, '\n', elen) == err + elen - 1);
	} else {
		size_t n1, n2;
		char *t1 = printed(&a, &n1);
		defaults(&b);
		REQUIRE(config_apply_text(&b, "printed", t1, n1, stderr) == 0);
		char *t2 = printed(&b, &n2);
		REQUIRE(n1 == n2 && memcmp(t1, t2, n1) == 0);
		free(t1);
		free(t2);
		config_free(&b);
	}
	free(err);
	config_free(&a);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data;

	for (size_t at = 0; at <= size;) {
		const char *nl = memchr(s + at, '\n', size - at);
		size_t n = nl ? (size_t)(nl - (s + at)) : size - at;
		one_line(s + at, n);
		at += n + 1;
	}
	whole(s, size);
	return 0;
}
