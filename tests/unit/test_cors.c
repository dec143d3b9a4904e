/* cors: origin syntax and normalisation, verdicts for a list and for "*",
 * the exact lines of each verdict, the Access-Control-Request-Headers
 * filter and its limits, whole requests (preflight or not), and the
 * preflight's lines. */
#include "cors.h"
#include "http.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"

static bool valid(const char *s)
{
	return cors_origin_valid(s, strlen(s));
}

static void test_origin_syntax(void)
{
	static const char *const good[] = {
		"https://a.example", "http://localhost:8080", "http://[::1]:8080", "null",
		"https://xn--bcher-kva.example", "app+x.y-z://h", "http://127.0.0.1",
		"HTTPS://A.EXAMPLE", "http://a:1", "http://a:65535", "http://a_b~c",
		"http://[2001:db8::1]", "http://[::ffff:10.0.0.1]:1",
	};
	static const char *const bad[] = {
		"", "https://", "https://a.example/", "https://a.example/path", "a.example",
		"https://a b", "https://a:", "https://a:123456", "https://a:65536", "https://[::1",
		"https://[]", "1http://a", "https://a.example?x", "https://user@a", "https:/a",
		"https//a", "https://a\r\n", "Null", "null ", " https://a", "https://a%20b",
		"https://[::1]x", "https://[g::1]", "*", "https://a:-1", "https://a:+80",
	};
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		if (!valid(good[i])) {
			fprintf(stderr, "  refused: '%s'\n", good[i]);
			failures++;
		}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (valid(bad[i])) {
			fprintf(stderr, "  accepted: '%s'\n", bad[i]);
			failures++;
		}
	/* Length: CORS_ORIGIN_MAX is the last that passes. */
	char o[CORS_ORIGIN_MAX + 2];
	memcpy(o, "https://", 8);
	memset(o + 8, 'a', sizeof(o) - 8);
	CHECK(cors_origin_valid(o, CORS_ORIGIN_MAX));
	CHECK(!cors_origin_valid(o, CORS_ORIGIN_MAX + 1));
	/* Not NUL-terminated: only n bytes are read. */
	CHECK(cors_origin_valid("http://abc/", 10) && !cors_origin_valid("http://abc/", 11));
}

static void test_normalize(void)
{
	static const struct {
		const char *in, *out;
	} t[] = {
		{ "*", "*" },
		{ "https://a.example", "https://a.example" },
		{ "HTTPS://A.Example:443", "https://a.example" },
		{ "http://a:80", "http://a" },
		{ "http://a:8080", "http://a:8080" },
		{ "https://a:0443", "https://a" },
		{ "https://a:00080", "https://a:80" },
		{ "http://a:443", "http://a:443" },
		{ "http://[::1]:80", "http://[::1]" },
		{ "http://[ABCD::1]", "http://[abcd::1]" },
		{ "ftp://h:21", "ftp://h:21" },
	};
	char out[CORS_ORIGIN_MAX + 1];

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		int n = cors_normalize(t[i].in, out, sizeof(out));
		if (n != (int)strlen(t[i].out) || strcmp(out, t[i].out) != 0) {
			fprintf(stderr, "  '%s' -> %d '%s', want '%s'\n", t[i].in, n, n > 0 ? out : "",
				t[i].out);
			failures++;
		}
	}
	CHECK(cors_normalize("null", out, sizeof(out)) == -EINVAL);
	CHECK(cors_normalize("https://a/", out, sizeof(out)) == -EINVAL);
	CHECK(cors_normalize("", out, sizeof(out)) == -EINVAL);
	CHECK(cors_normalize("**", out, sizeof(out)) == -EINVAL);
	CHECK(cors_normalize("https://a", out, 5) == -EINVAL);
}

static unsigned verdict(const struct cors_set *s, const char *origin)
{
	return cors_verdict(s, origin ? 1 : 0, origin, origin ? strlen(origin) : 0);
}

static const char EXPOSE[] = "Access-Control-Expose-Headers: " CORS_EXPOSE "\r\n";

static void test_sets(void)
{
	struct cors_set s;
	const char *list[] = { "https://a.example", "HTTP://Localhost:8080", "https://a.example:443" };
	char want[512];

	/* Off. */
	CHECK(cors_init(&s, NULL, 0, 600) == 0 && !s.on);
	CHECK(verdict(&s, "https://a.example") == CORS_OFF && verdict(&s, NULL) == CORS_OFF);
	CHECK(cors_lines(&s, CORS_OFF) == NULL);
	cors_free(&s);

	/* A list (the third one is the first once normalised). */
	CHECK(cors_init(&s, list, 3, 600) == 0 && s.on && !s.any && s.n == 2);
	CHECK(verdict(&s, "https://a.example") == CORS_ORIGIN0);
	CHECK(verdict(&s, "http://localhost:8080") == CORS_ORIGIN0 + 1);
	CHECK(verdict(&s, NULL) == CORS_REJECT);
	CHECK(verdict(&s, "https://b.example") == CORS_REJECT);
	CHECK(verdict(&s, "https://A.example") == CORS_REJECT); /* browsers send lower case */
	CHECK(verdict(&s, "https://a.example/") == CORS_REJECT);
	CHECK(verdict(&s, "null") == CORS_REJECT);
	CHECK(cors_verdict(&s, 2, "https://a.example", 17) == CORS_REJECT); /* sent twice */
	CHECK(cors_verdict(&s, 1, "https://a.example.evil", 17) == CORS_ORIGIN0); /* n bytes only */
	snprintf(want, sizeof(want), "Access-Control-Allow-Origin: https://a.example\r\n"
		 "Vary: Origin\r\n%s", EXPOSE);
	CHECK(strcmp(cors_lines(&s, CORS_ORIGIN0), want) == 0);
	snprintf(want, sizeof(want), "Access-Control-Allow-Origin: http://localhost:8080\r\n"
		 "Vary: Origin\r\n%s", EXPOSE);
	CHECK(strcmp(cors_lines(&s, CORS_ORIGIN0 + 1), want) == 0);
	CHECK(strcmp(cors_lines(&s, CORS_REJECT), "Vary: Origin\r\n") == 0);
	CHECK(cors_lines(&s, CORS_ORIGIN0 + 2) == NULL);
	CHECK(cors_lines(&s, 255) == NULL);
	cors_free(&s);

	/* "*" anywhere: every origin, the same answer. */
	const char *any[] = { "https://a.example", "*" };
	CHECK(cors_init(&s, any, 2, 600) == 0 && s.any);
	CHECK(verdict(&s, NULL) == CORS_ANY && verdict(&s, "https://zzz.example") == CORS_ANY);
	CHECK(verdict(&s, "null") == CORS_ANY);
	CHECK(verdict(&s, "https://a.example/x") == CORS_REJECT); /* malformed: none */
	char huge[CORS_ORIGIN_MAX + 10];
	memcpy(huge, "https://", 8);
	memset(huge + 8, 'h', sizeof(huge) - 9);
	huge[sizeof(huge) - 1] = '\0';
	CHECK(verdict(&s, huge) == CORS_REJECT);
	snprintf(want, sizeof(want), "Access-Control-Allow-Origin: *\r\n%s", EXPOSE);
	CHECK(strcmp(cors_lines(&s, CORS_ANY), want) == 0);
	CHECK(strcmp(cors_lines(&s, CORS_REJECT), "Vary: Origin\r\n") == 0);
	cors_free(&s);

	/* Bad arguments, too many. */
	const char *bad[] = { "https://a/" };
	CHECK(cors_init(&s, bad, 1, 600) == -EINVAL);
	const char *many[CORS_MAX + 1];
	static char names[CORS_MAX + 1][40];
	for (int i = 0; i <= CORS_MAX; i++) {
		snprintf(names[i], sizeof(names[i]), "https://h%d.example:%d", i, 1000 + i);
		many[i] = names[i];
	}
	CHECK(cors_init(&s, many, CORS_MAX + 1, 1) == -EINVAL);
	CHECK(cors_init(&s, many, CORS_MAX, 1) == 0 && s.n == CORS_MAX);
	CHECK(verdict(&s, names[CORS_MAX - 1]) == CORS_ORIGIN0 + CORS_MAX - 1);
	cors_free(&s);
}

static int safe(const char *v)
{
	return cors_safe_headers(v, strlen(v));
}

static int bit(const char *name)
{
	for (unsigned k = 0; k < cors_nsafe; k++)
		if (strcmp(cors_safe[k], name) == 0)
			return 1 << k;
	return 0;
}

static void test_request_headers(void)
{
	CHECK(safe("") == 0);
	CHECK(safe("range") == bit("range"));
	CHECK(safe("Range, If-None-Match") == (bit("range") | bit("if-none-match")));
	CHECK(safe("x-foo, authorization") == 0);
	CHECK(safe("range,,  ,\tif-match ,") == (bit("range") | bit("if-match")));
	CHECK(safe("range, range") == bit("range"));
	CHECK(safe("accept,accept-language,content-language,cache-control,if-modified-since,"
		   "if-unmodified-since,if-range") ==
	      (bit("accept") | bit("accept-language") | bit("content-language") |
	       bit("cache-control") | bit("if-modified-since") | bit("if-unmodified-since") |
	       bit("if-range")));
	CHECK(safe("ran ge") == -1);
	CHECK(safe("range;") == -1);
	CHECK(safe("range\r\n") == -1);
	CHECK(safe("\"range\"") == -1);
	char v[CORS_REQ_HEADERS_MAX + 2];
	memset(v, 'a', sizeof(v) - 1);
	v[sizeof(v) - 1] = '\0';
	CHECK(cors_safe_headers(v, CORS_REQ_HEADERS_MAX) == 0);
	CHECK(cors_safe_headers(v, CORS_REQ_HEADERS_MAX + 1) == -1);
	char items[4 * (CORS_REQ_HEADERS_ITEMS + 1) + 1];
	size_t n = 0;
	for (int i = 0; i <= CORS_REQ_HEADERS_ITEMS; i++)
		n += (size_t)snprintf(items + n, sizeof(items) - n, "x%c,", 'a' + i % 26);
	CHECK(cors_safe_headers(items, n) == -1);
	CHECK(cors_safe_headers(items, 3 * CORS_REQ_HEADERS_ITEMS) == 0);
}

static const struct http_limits LIM = { 8192, 16384, 100 };

/* Parse a request head given as lines; false if it does not parse. */
static bool parse(struct http_request *req, char *buf, size_t cap, const char *head)
{
	size_t scan = 0;

	snprintf(buf, cap, "%s\r\n", head);
	return http_parse_request(buf, strlen(buf), &scan, &LIM, req) > 0;
}

static void test_requests(void)
{
	static struct http_request req;
	static char buf[4096];
	struct cors_set s, any;
	const char *list[] = { "https://a.example" }, *star[] = { "*" };
	bool pre;
	int sf;

	CHECK(cors_init(&s, list, 1, 600) == 0);
	CHECK(cors_init(&any, star, 1, 600) == 0);

	CHECK(parse(&req, buf, sizeof(buf), "GET /x HTTP/1.1\r\nHost: h\r\nOrigin: https://a.example\r\n"));
	CHECK(cors_request(&s, &req, &pre, &sf) == CORS_ORIGIN0 && !pre && sf == 0);
	CHECK(parse(&req, buf, sizeof(buf), "GET /x HTTP/1.1\r\nHost: h\r\n"));
	CHECK(cors_request(&s, &req, &pre, &sf) == CORS_REJECT && !pre);
	CHECK(cors_request(&any, &req, &pre, &sf) == CORS_ANY && !pre);
	CHECK(parse(&req, buf, sizeof(buf),
		    "GET /x HTTP/1.1\r\nHost: h\r\nOrigin: https://a.example\r\norigin: https://a.example\r\n"));
	CHECK(cors_request(&s, &req, &pre, &sf) == CORS_REJECT);

	/* A plain OPTIONS, then preflights. */
	CHECK(parse(&req, buf, sizeof(buf), "OPTIONS * HTTP/1.1\r\nHost: h\r\nOrigin: https://a.example\r\n"));
	CHECK(cors_request(&s, &req, &pre, &sf) == CORS_ORIGIN0 && !pre);
	CHECK(parse(&req, buf, sizeof(buf),
		    "OPTIONS /x HTTP/1.1\r\nHost: h\r\nOrigin: https://a.example\r\n"
		    "Access-Control-Request-Method: GET\r\n"
		    "Access-Control-Request-Headers: range, x-custom, if-none-match\r\n"));
	CHECK(cors_request(&s, &req, &pre, &sf) == CORS_ORIGIN0 && pre &&
	      sf == (bit("range") | bit("if-none-match")));
	CHECK(parse(&req, buf, sizeof(buf),
		    "OPTIONS /x HTTP/1.1\r\nHost: h\r\nOrigin: https://b.example\r\n"
		    "Access-Control-Request-Method: GET\r\n"));
	CHECK(cors_request(&s, &req, &pre, &sf) == CORS_REJECT && pre);
	CHECK(cors_request(&any, &req, &pre, &sf) == CORS_ANY && pre && sf == 0);
	CHECK(parse(&req, buf, sizeof(buf),
		    "OPTIONS /x HTTP/1.1\r\nHost: h\r\nOrigin: https://a.example\r\n"
		    "Access-Control-Request-Method: G(T\r\n"));
	CHECK(cors_request(&s, &req, &pre, &sf) == CORS_REJECT && pre);
	CHECK(parse(&req, buf, sizeof(buf),
		    "OPTIONS /x HTTP/1.1\r\nHost: h\r\nOrigin: https://a.example\r\n"
		    "Access-Control-Request-Method: GET\r\nAccess-Control-Request-Method: PUT\r\n"));
	CHECK(cors_request(&s, &req, &pre, &sf) == CORS_REJECT && pre);
	CHECK(parse(&req, buf, sizeof(buf),
		    "OPTIONS /x HTTP/1.1\r\nHost: h\r\nOrigin: https://a.example\r\n"
		    "Access-Control-Request-Method: GET\r\nAccess-Control-Request-Headers: a b\r\n"));
	CHECK(cors_request(&s, &req, &pre, &sf) == CORS_REJECT && pre && sf == 0);
	CHECK(parse(&req, buf, sizeof(buf),
		    "OPTIONS /x HTTP/1.1\r\nHost: h\r\nOrigin: https://a.example\r\n"
		    "Access-Control-Request-Method: GET\r\nAccess-Control-Request-Headers: range\r\n"
		    "Access-Control-Request-Headers: range\r\n"));
	CHECK(cors_request(&s, &req, &pre, &sf) == CORS_REJECT && pre);

	/* The preflight's lines. */
	char out[1024];
	int n = cors_preflight_lines(&s, CORS_ORIGIN0, bit("range") | bit("if-match"), out, sizeof(out));
	CHECK(n > 0);
	out[n > 0 ? n : 0] = '\0';
	CHECK(strcmp(out, "Access-Control-Allow-Origin: https://a.example\r\nVary: Origin\r\n"
			  "Access-Control-Allow-Methods: GET, HEAD, OPTIONS\r\n"
			  "Access-Control-Allow-Headers: if-match, range\r\n"
			  "Access-Control-Max-Age: 600\r\n") == 0);
	n = cors_preflight_lines(&any, CORS_ANY, 0, out, sizeof(out));
	out[n > 0 ? n : 0] = '\0';
	CHECK(strcmp(out, "Access-Control-Allow-Origin: *\r\n"
			  "Access-Control-Allow-Methods: GET, HEAD, OPTIONS\r\n"
			  "Access-Control-Max-Age: 600\r\n") == 0);
	n = cors_preflight_lines(&s, CORS_REJECT, bit("range"), out, sizeof(out));
	out[n > 0 ? n : 0] = '\0';
	CHECK(strcmp(out, "Vary: Origin\r\n") == 0);
	CHECK(cors_preflight_lines(&s, CORS_OFF, 0, out, sizeof(out)) == 0);
	CHECK(cors_preflight_lines(&s, CORS_ORIGIN0, 0, out, 40) == -ENOSPC);

	cors_free(&s);
	cors_free(&any);
	CHECK(cors_init(&s, list, 1, 0) == 0);
	n = cors_preflight_lines(&s, CORS_ORIGIN0, 0, out, sizeof(out));
	out[n > 0 ? n : 0] = '\0';
	CHECK(strstr(out, "\r\nAccess-Control-Max-Age: 0\r\n") != NULL);
	cors_free(&s);
}

int main(void)
{
	test_origin_syntax();
	test_normalize();
	test_sets();
	test_request_headers();
	test_requests();
	return failures ? 1 : 0;
}
