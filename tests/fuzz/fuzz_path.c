/* fuzz_path: path_normalize against its invariants and a naive reference.
 *
 * The reference decodes the whole path first, then walks the segments with
 * a stack; path_normalize must give the same verdict and bytes. A second run
 * with a small cap (derived from the input) must agree with the first:
 * -ENAMETOOLONG exactly when the result does not fit, whatever the path did
 * on the way. A violated invariant abort()s. */
#include "path.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define REQUIRE(c)                                                           \
	do {                                                                 \
		if (!(c))                                                    \
			abort();                                             \
	} while (0)

static int hexval(uint8_t c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c |= 0x20;
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* Decode all of s into d; decoded length or -1. */
static long ref_decode(const uint8_t *s, size_t n, uint8_t *d)
{
	size_t dn = 0;
	uint8_t c;

	for (size_t i = 0; i < n; i++) {
		c = s[i];
		if (c == '%') {
			if (n - i < 3 || hexval(s[i + 1]) < 0 || hexval(s[i + 2]) < 0)
				return -1;
			c = (uint8_t)(hexval(s[i + 1]) << 4 | hexval(s[i + 2]));
			i += 2;
		}
		if (c < 0x20 || c == 0x7f)
			return -1;
		d[dn++] = c;
	}
	return (long)dn;
}

/* Naive normalization into out (room for n bytes). */
static int ref_normalize(const uint8_t *s, size_t n, char *out, bool *ts)
{
	uint8_t *d = malloc(n + 1);
	size_t *stack = malloc((n + 1) * sizeof(*stack));
	size_t depth = 0, o = 0, a = 1, b, dn;
	long r = n && s[0] == '/' ? ref_decode(s, n, d) : -1;
	bool name = false;

	for (dn = r < 0 ? 0 : (size_t)r; r >= 0; a = b + 1) {
		for (b = a; b < dn && d[b] != '/'; b++)
			;
		name = false;
		if (b - a == 2 && d[a] == '.' && d[a + 1] == '.') {
			if (depth == 0)
				r = -1;
			else
				o = stack[--depth];
		} else if (b - a > 0 && !(b - a == 1 && d[a] == '.')) {
			stack[depth++] = o;
			if (o)
				out[o++] = '/';
			memcpy(out + o, d + a, b - a);
			o += b - a;
			name = true;
		}
		if (b >= dn)
			break;
	}
	free(d);
	free(stack);
	if (r < 0)
		return -EINVAL;
	out[o] = '\0';
	*ts = !name || depth == 0;
	return (int)o;
}

static void check_output(const char *out, int r, size_t cap)
{
	REQUIRE(r >= 0 && (size_t)r < cap);
	REQUIRE(strlen(out) == (size_t)r); /* no NUL before the end */
	if (r == 0)
		return;
	REQUIRE(out[0] != '/' && out[r - 1] != '/');
	REQUIRE(!strstr(out, "//"));
	for (int i = 0; i < r; i++)
		REQUIRE((unsigned char)out[i] >= 0x20 && out[i] != 0x7f);
	for (const char *p = out;; p += strcspn(p, "/") + 1) {
		size_t len = strcspn(p, "/");
		REQUIRE(len > 0);
		REQUIRE(!(len == 1 && p[0] == '.'));
		REQUIRE(!(len == 2 && p[0] == '.' && p[1] == '.'));
		if (!p[len])
			break;
	}
}

static int run(const uint8_t *data, size_t size, char *dst, size_t cap, bool *ts)
{
	char *src = malloc(size ? size : 1);
	int r;

	memcpy(src, data, size);
	r = path_normalize(src, size, dst, cap, ts);
	free(src);
	REQUIRE(r >= 0 || r == -EINVAL || r == -ENAMETOOLONG);
	if (r >= 0)
		check_output(dst, r, cap);
	return r;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t big = size + 1, small = size ? data[size - 1] % (size + 1) : 0;
	char *out = malloc(big), *ref = malloc(big), *tiny = malloc(small ? small : 1);
	bool ts = false, ts_ref = false, ts_tiny = false;
	int r, r_ref, r_tiny;

	/* The result is never longer than the path, so size + 1 always fits. */
	r = run(data, size, out, big, &ts);
	REQUIRE(r != -ENAMETOOLONG);
	r_ref = ref_normalize(data, size, ref, &ts_ref);
	REQUIRE(r == r_ref);
	if (r >= 0)
		REQUIRE(memcmp(out, ref, (size_t)r + 1) == 0 && ts == ts_ref);

	r_tiny = run(data, size, tiny, small, &ts_tiny);
	if (r < 0)
		REQUIRE(r_tiny == r);
	else if ((size_t)r < small)
		REQUIRE(r_tiny == r && memcmp(tiny, out, (size_t)r + 1) == 0 && ts_tiny == ts);
	else
		REQUIRE(r_tiny == -ENAMETOOLONG);
	free(out);
	free(ref);
	free(tiny);
	return 0;
}
