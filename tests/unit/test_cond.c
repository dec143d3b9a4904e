/* cond: each precondition alone and combined (the order of RFC 9110
 * §13.2.2), entity-tag lists and comparison, the three date formats,
 * If-Range, and Accept-Encoding negotiation. Requests are real heads run
 * through http_parse_request. */
#include "cond.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "mkreq.h"

#define GET(h) mkreq("GET", h)

/* Sun, 06 Nov 1994 08:49:37 GMT */
#define T0 784111777
#define IMF0 "Sun, 06 Nov 1994 08:49:37 GMT"
#define IMF0_MINUS1 "Sun, 06 Nov 1994 08:49:36 GMT"
#define IMF0_PLUS1 "Sun, 06 Nov 1994 08:49:38 GMT"
#define RFC850_0 "Sunday, 06-Nov-94 08:49:37 GMT"
#define ASCTIME0 "Sun Nov  6 08:49:37 1994"

static const struct cond_validators V = { "\"abc\"", 5, T0 };

static enum cond_result ev(const char *hdrs)
{
	return cond_evaluate(GET(hdrs), &V);
}

static void test_none(void)
{
	CHECK(ev("") == COND_PROCEED);
	CHECK(ev("Accept: */*\r\n") == COND_PROCEED);
}

static void test_if_match(void)
{
	CHECK(ev("If-Match: \"abc\"\r\n") == COND_PROCEED);
	CHECK(ev("If-Match: *\r\n") == COND_PROCEED);
	CHECK(ev("If-Match: \"xyz\"\r\n") == COND_PRECONDITION_FAILED);
	CHECK(ev("If-Match: W/\"abc\"\r\n") == COND_PRECONDITION_FAILED); /* strong */
	CHECK(ev("If-Match: \"xyz\", \"abc\"\r\n") == COND_PROCEED);
	CHECK(ev("If-Match: \"xyz\" ,\t\"abc\" \r\n") == COND_PROCEED);
	CHECK(ev("If-Match: , \"xyz\",,\"abc\",\r\n") == COND_PROCEED);
	CHECK(ev("If-Match: \"xyz\", W/\"abc\"\r\n") == COND_PRECONDITION_FAILED);
	CHECK(ev("if-match: \"abc\"\r\n") == COND_PROCEED);
	CHECK(ev("IF-MATCH: \"nope\"\r\n") == COND_PRECONDITION_FAILED);
	/* Several fields are one list. */
	CHECK(ev("If-Match: \"xyz\"\r\nIf-Match: \"abc\"\r\n") == COND_PROCEED);
	CHECK(ev("If-Match: \"xyz\"\r\nIf-Match: \"uvw\"\r\n") == COND_PRECONDITION_FAILED);
	/* Malformed lists match nothing. */
	CHECK(ev("If-Match: abc\r\n") == COND_PRECONDITION_FAILED);
	CHECK(ev("If-Match: \"abc\r\n") == COND_PRECONDITION_FAILED);
	CHECK(ev("If-Match: \"abc\"x\r\n") == COND_PRECONDITION_FAILED);
	CHECK(ev("If-Match: \"abc\" \"abc\"\r\n") == COND_PRECONDITION_FAILED);
	CHECK(ev("If-Match: w/\"abc\"\r\n") == COND_PRECONDITION_FAILED);
	CHECK(ev("If-Match: \"abc\", garbage\r\n") == COND_PRECONDITION_FAILED);
	CHECK(ev("If-Match: *, \"abc\"\r\n") == COND_PRECONDITION_FAILED);
	CHECK(ev("If-Match: **\r\n") == COND_PRECONDITION_FAILED);
	CHECK(ev("If-Match: \"abc\"\r\nIf-Match: *\r\n") == COND_PRECONDITION_FAILED);
	CHECK(ev("If-Match: \"a\"bc\"\r\n") == COND_PRECONDITION_FAILED);
	/* An empty field is an empty list (#entity-tag allows it): no match. */
	CHECK(ev("If-Match:\r\n") == COND_PRECONDITION_FAILED);
	CHECK(ev("If-Match: , ,\r\n") == COND_PRECONDITION_FAILED);
	CHECK(ev("If-None-Match:\r\n") == COND_PROCEED);
	CHECK(ev("If-None-Match:\r\nIf-Modified-Since: " IMF0 "\r\n") == COND_PROCEED);
	/* A comma is an etagc: it does not split a tag. */
	{
		static const struct cond_validators vc = { "\"a,b\"", 5, T0 };
		CHECK(cond_evaluate(GET("If-Match: \"a,b\"\r\n"), &vc) == COND_PROCEED);
		CHECK(cond_evaluate(GET("If-Match: \"a\", \"b\"\r\n"), &vc) ==
		      COND_PRECONDITION_FAILED);
		CHECK(cond_evaluate(GET("If-None-Match: W/\"a,b\"\r\n"), &vc) ==
		      COND_NOT_MODIFIED);
	}
	/* No ETag at all: only "*" matches. */
	{
		static const struct cond_validators vn = { NULL, 0, T0 };
		CHECK(cond_evaluate(GET("If-Match: *\r\n"), &vn) == COND_PROCEED);
		CHECK(cond_evaluate(GET("If-Match: \"\"\r\n"), &vn) == COND_PRECONDITION_FAILED);
		CHECK(cond_evaluate(GET("If-None-Match: \"\"\r\n"), &vn) == COND_PROCEED);
		CHECK(cond_evaluate(GET("If-None-Match: *\r\n"), &vn) == COND_NOT_MODIFIED);
	}
	/* A malformed validator matches no tag either. */
	{
		static const struct cond_validators vb = { "\"abc\"x", 6, T0 };
		CHECK(cond_evaluate(GET("If-Match: \"abc\"\r\n"), &vb) == COND_PRECONDITION_FAILED);
		CHECK(cond_evaluate(GET("If-None-Match: \"abc\"\r\n"), &vb) == COND_PROCEED);
		CHECK(!cond_if_range(GET("If-Range: \"abc\"\r\n"), &vb));
	}
}

static void test_if_unmodified_since(void)
{
	CHECK(ev("If-Unmodified-Since: " IMF0 "\r\n") == COND_PROCEED);
	CHECK(ev("If-Unmodified-Since: " IMF0_PLUS1 "\r\n") == COND_PROCEED);
	CHECK(ev("If-Unmodified-Since: " IMF0_MINUS1 "\r\n") == COND_PRECONDITION_FAILED);
	CHECK(ev("If-Unmodified-Since: Sunday, 06-Nov-94 08:49:36 GMT\r\n") ==
	      COND_PRECONDITION_FAILED);
	CHECK(ev("If-Unmodified-Since: Sun Nov  6 08:49:36 1994\r\n") ==
	      COND_PRECONDITION_FAILED);
	CHECK(ev("If-Unmodified-Since: " RFC850_0 "\r\n") == COND_PROCEED);
	CHECK(ev("If-Unmodified-Since: " ASCTIME0 "\r\n") == COND_PROCEED);
	/* Invalid dates, and lists of dates, are ignored. */
	CHECK(ev("If-Unmodified-Since: yesterday\r\n") == COND_PROCEED);
	CHECK(ev("If-Unmodified-Since: Sun, 06 Nov 1994 08:49:36 GMT, " IMF0 "\r\n") ==
	      COND_PROCEED);
	CHECK(ev("If-Unmodified-Since: " IMF0_MINUS1 "\r\nIf-Unmodified-Since: " IMF0_MINUS1
		 "\r\n") == COND_PROCEED);
	/* If-Match present: If-Unmodified-Since is not evaluated. */
	CHECK(ev("If-Match: \"abc\"\r\nIf-Unmodified-Since: " IMF0_MINUS1 "\r\n") ==
	      COND_PROCEED);
	CHECK(ev("If-Match: *\r\nIf-Unmodified-Since: " IMF0_MINUS1 "\r\n") == COND_PROCEED);
	CHECK(ev("If-Match: \"x\"\r\nIf-Unmodified-Since: " IMF0_PLUS1 "\r\n") ==
	      COND_PRECONDITION_FAILED);
}

static void test_if_none_match(void)
{
	CHECK(ev("If-None-Match: \"abc\"\r\n") == COND_NOT_MODIFIED);
	CHECK(ev("If-None-Match: W/\"abc\"\r\n") == COND_NOT_MODIFIED); /* weak */
	CHECK(ev("If-None-Match: *\r\n") == COND_NOT_MODIFIED);
	CHECK(ev("If-None-Match: \"xyz\"\r\n") == COND_PROCEED);
	CHECK(ev("If-None-Match: W/\"xyz\"\r\n") == COND_PROCEED);
	CHECK(ev("If-None-Match: \"xyz\", W/\"abc\"\r\n") == COND_NOT_MODIFIED);
	CHECK(ev("If-None-Match: \"x\"  ,\t, \"y\" ,\"abc\"\r\n") == COND_NOT_MODIFIED);
	CHECK(ev("If-None-Match: \"x\"\r\nIf-None-Match: \"abc\"\r\n") == COND_NOT_MODIFIED);
	CHECK(ev("If-None-Match: \"ABC\"\r\n") == COND_PROCEED); /* case-sensitive */
	CHECK(ev("If-None-Match: abc\r\n") == COND_PROCEED);     /* malformed */
	CHECK(ev("If-None-Match: \"abc\", abc\r\n") == COND_PROCEED);
	CHECK(ev("If-None-Match: \"abc\";\r\n") == COND_PROCEED);
	CHECK(ev("If-None-Match: W/ \"abc\"\r\n") == COND_PROCEED);
	CHECK(ev("If-None-Match: \"abc\r\n") == COND_PROCEED);
	/* A weak validator: weak comparison matches, strong never does. */
	{
		static const struct cond_validators vw = { "W/\"abc\"", 7, T0 };
		CHECK(cond_evaluate(GET("If-None-Match: \"abc\"\r\n"), &vw) == COND_NOT_MODIFIED);
		CHECK(cond_evaluate(GET("If-Match: \"abc\"\r\n"), &vw) == COND_PRECONDITION_FAILED);
		CHECK(cond_evaluate(GET("If-Match: W/\"abc\"\r\n"), &vw) ==
		      COND_PRECONDITION_FAILED);
	}
	/* Other methods: a match fails the precondition instead. */
	CHECK(cond_evaluate(mkreq("POST", "If-None-Match: \"abc\"\r\n"), &V) ==
	      COND_PRECONDITION_FAILED);
	CHECK(cond_evaluate(mkreq("HEAD", "If-None-Match: \"abc\"\r\n"), &V) == COND_NOT_MODIFIED);
}

static void test_if_modified_since(void)
{
	CHECK(ev("If-Modified-Since: " IMF0 "\r\n") == COND_NOT_MODIFIED);
	CHECK(ev("If-Modified-Since: " IMF0_PLUS1 "\r\n") == COND_NOT_MODIFIED);
	CHECK(ev("If-Modified-Since: " IMF0_MINUS1 "\r\n") == COND_PROCEED);
	CHECK(ev("If-Modified-Since: " RFC850_0 "\r\n") == COND_NOT_MODIFIED);
	CHECK(ev("If-Modified-Since: " ASCTIME0 "\r\n") == COND_NOT_MODIFIED);
	CHECK(ev("If-Modified-Since: Sunday, 06-Nov-94 08:49:36 GMT\r\n") == COND_PROCEED);
	CHECK(ev("If-Modified-Since: Sun Nov  6 08:49:36 1994\r\n") == COND_PROCEED);
	/* Invalid dates and lists ignored. */
	CHECK(ev("If-Modified-Since: Sun, 06 Nov 1994 08:49:37 UTC\r\n") == COND_PROCEED);
	CHECK(ev("If-Modified-Since: Sun, 32 Nov 1994 08:49:37 GMT\r\n") == COND_PROCEED);
	CHECK(ev("If-Modified-Since: 784111777\r\n") == COND_PROCEED);
	CHECK(ev("If-Modified-Since: " IMF0 ", " IMF0 "\r\n") == COND_PROCEED);
	CHECK(ev("If-Modified-Since: " IMF0 "\r\nIf-Modified-Since: " IMF0 "\r\n") ==
	      COND_PROCEED);
	/* Only for GET and HEAD. */
	CHECK(cond_evaluate(mkreq("HEAD", "If-Modified-Since: " IMF0 "\r\n"), &V) ==
	      COND_NOT_MODIFIED);
	CHECK(cond_evaluate(mkreq("POST", "If-Modified-Since: " IMF0 "\r\n"), &V) == COND_PROCEED);
	/* If-None-Match present: If-Modified-Since is ignored, even when the
	 * date alone would say "not modified". */
	CHECK(ev("If-None-Match: \"xyz\"\r\nIf-Modified-Since: " IMF0 "\r\n") == COND_PROCEED);
	CHECK(ev("If-Modified-Since: " IMF0_PLUS1 "\r\nIf-None-Match: \"xyz\"\r\n") ==
	      COND_PROCEED);
	CHECK(ev("If-None-Match: garbage\r\nIf-Modified-Since: " IMF0 "\r\n") == COND_PROCEED);
	CHECK(ev("If-None-Match: \"abc\"\r\nIf-Modified-Since: " IMF0_MINUS1 "\r\n") ==
	      COND_NOT_MODIFIED);
}

/* §13.2.2: the first failing step decides. */
static void test_order(void)
{
	/* If-Match failing beats If-None-Match matching. */
	CHECK(ev("If-Match: \"xyz\"\r\nIf-None-Match: \"abc\"\r\n") ==
	      COND_PRECONDITION_FAILED);
	CHECK(ev("If-None-Match: *\r\nIf-Match: \"xyz\"\r\n") == COND_PRECONDITION_FAILED);
	/* If-Unmodified-Since failing beats If-None-Match and If-Modified-Since. */
	CHECK(ev("If-Unmodified-Since: " IMF0_MINUS1 "\r\nIf-None-Match: \"abc\"\r\n") ==
	      COND_PRECONDITION_FAILED);
	CHECK(ev("If-Modified-Since: " IMF0 "\r\nIf-Unmodified-Since: " IMF0_MINUS1 "\r\n") ==
	      COND_PRECONDITION_FAILED);
	/* All pass through to If-None-Match. */
	CHECK(ev("If-Match: \"abc\"\r\nIf-Unmodified-Since: " IMF0_MINUS1
		 "\r\nIf-None-Match: \"abc\"\r\n") == COND_NOT_MODIFIED);
	CHECK(ev("If-Match: \"abc\"\r\nIf-None-Match: \"x\"\r\nIf-Modified-Since: " IMF0
		 "\r\n") == COND_PROCEED);
	CHECK(ev("If-Match: \"abc\"\r\nIf-Modified-Since: " IMF0 "\r\n") == COND_NOT_MODIFIED);
	CHECK(ev("If-Unmodified-Since: " IMF0 "\r\nIf-Modified-Since: " IMF0 "\r\n") ==
	      COND_NOT_MODIFIED);
	CHECK(ev("If-Unmodified-Since: " IMF0 "\r\nIf-Modified-Since: " IMF0_MINUS1 "\r\n") ==
	      COND_PROCEED);
	CHECK(ev("If-Unmodified-Since: bad\r\nIf-Modified-Since: " IMF0 "\r\n") ==
	      COND_NOT_MODIFIED);
	CHECK(ev("If-Match: \"x\"\r\nIf-Modified-Since: " IMF0 "\r\n") ==
	      COND_PRECONDITION_FAILED);
}

static bool ir(const char *hdrs)
{
	return cond_if_range(GET(hdrs), &V);
}

static void test_if_range(void)
{
	CHECK(ir(""));
	CHECK(ir("Range: bytes=0-1\r\n"));
	CHECK(ir("If-Range: \"abc\"\r\n"));
	CHECK(!ir("If-Range: W/\"abc\"\r\n")); /* weak never matches */
	CHECK(!ir("If-Range: \"xyz\"\r\n"));
	CHECK(!ir("If-Range: \"ABC\"\r\n"));
	CHECK(ir("If-Range: " IMF0 "\r\n"));
	CHECK(ir("If-Range: " RFC850_0 "\r\n"));
	CHECK(ir("If-Range: " ASCTIME0 "\r\n"));
	CHECK(!ir("If-Range: " IMF0_PLUS1 "\r\n")); /* equal, not "not newer" */
	CHECK(!ir("If-Range: " IMF0_MINUS1 "\r\n"));
	CHECK(!ir("If-Range: Wed, 09 Jun 2021 10:18:14 GMT\r\n"));
	CHECK(!ir("If-Range: garbage\r\n"));
	CHECK(!ir("If-Range: \"abc\", \"xyz\"\r\n"));
	CHECK(!ir("If-Range: \"abc\"x\r\n"));
	CHECK(!ir("If-Range: \"abc\r\n"));
	CHECK(!ir("If-Range: *\r\n"));
	CHECK(!ir("If-Range: W/\r\n"));
	CHECK(!ir("If-Range:\r\n"));
	CHECK(!ir("If-Range: \"abc\"\r\nIf-Range: \"abc\"\r\n"));
	{
		struct cond_validators wed = { "\"abc\"", 5, 1623233894 };
		CHECK(cond_if_range(GET("If-Range: Wed, 09 Jun 2021 10:18:14 GMT\r\n"), &wed));
		CHECK(cond_if_range(GET("If-Range: Wednesday, 09-Jun-21 10:18:14 GMT\r\n"),
				    &wed));
		wed.etag = NULL;
		wed.etag_len = 0;
		CHECK(!cond_if_range(GET("If-Range: \"abc\"\r\n"), &wed));
	}
	{
		static const struct cond_validators vw = { "W/\"abc\"", 7, T0 };
		CHECK(!cond_if_range(GET("If-Range: W/\"abc\"\r\n"), &vw));
		CHECK(!cond_if_range(GET("If-Range: \"abc\"\r\n"), &vw));
	}
}

/* The negotiated list as a string: "br,gzip", "" for none. */
static const char *ae(const char *hdrs)
{
	static char s[64];
	enum cond_coding o[CODING_COUNT];
	unsigned n = cond_accept_codings(GET(hdrs), o);

	s[0] = '\0';
	for (unsigned i = 0; i < n && n <= CODING_COUNT; i++) {
		if (i)
			strcat(s, ",");
		strcat(s, cond_coding_name(o[i]));
	}
	return n <= CODING_COUNT ? s : "overflow";
}

#define AE(v, want) CHECK(strcmp(ae("Accept-Encoding: " v "\r\n"), want) == 0)

static void test_accept_encoding(void)
{
	CHECK(strcmp(ae(""), "") == 0);
	AE("gzip, br", "br,gzip");
	AE("br, gzip", "br,gzip");
	AE("br;q=0, *", "zstd,gzip");
	AE("gzip;q=0.5, zstd;q=0.8", "zstd,gzip");
	AE("identity", "");
	AE("*;q=0", "");
	AE("*", "br,zstd,gzip");
	AE("GZIP", "gzip");
	AE("x-gzip", "gzip");
	AE("X-GZip;q=0.3, br;q=0.2", "gzip,br");
	AE("gzip, deflate, br, zstd", "br,zstd,gzip");
	AE("gzip;q=1.000", "gzip");
	AE("gzip;q=0.001", "gzip");
	AE("gzip;q=0.001, br;q=0.002", "br,gzip");
	AE("gzip;q=1.", "gzip");
	AE("gzip;q=0., br", "br");
	AE("gzip;q=0.000", "");
	AE("gzip;Q=0.5, br;q=0.4", "gzip,br");  /* "q=" is case-insensitive */
	AE("gzip ; q=0.5 , br ;\tq=0.6", "br,gzip");
	/* Malformed elements ignored, the rest kept. */
	AE("gzip;q=2, br", "br");
	AE("gzip;q=0.0001, br", "br");
	AE("gzip;q=1.001, br", "br");
	AE("gzip;q=1.5", "");
	AE("gzip;q=.5", "");
	AE("gzip;q=", "");
	AE("gzip;q", "");
	AE("gzip;q = 0.5", "");
	AE("gzip;q=0.5x", "");
	AE("gzip;level=1", "");
	AE("gzip;", "");
	AE("gz ip, zstd", "zstd");
	AE("g\"zip, br", "br");
	AE(";q=1, zstd", "zstd");
	/* A malformed element does not exclude its coding... */
	AE("gzip;q=2, gzip;q=0.5", "gzip");
	/* ... nor does a bad "*", while q=0 by name beats "*". */
	AE("*;q=x, br", "br");
	AE("gzip;q=0, *;q=0.5", "br,zstd");
	AE("*;q=0.5, gzip", "gzip,br,zstd");
	AE("*;q=0.1, br;q=0", "zstd,gzip");
	AE("identity;q=1, *;q=0", "");
	/* Empty elements, several fields. */
	AE(", ,gzip,,", "gzip");
	CHECK(strcmp(ae("Accept-Encoding: gzip;q=0.2\r\nAccept-Encoding: br;q=0.9\r\n"),
		     "br,gzip") == 0);
	CHECK(strcmp(ae("Accept-Encoding: zstd\r\naccept-encoding: gzip;q=0\r\n"), "zstd") == 0);
	/* Ties break by server preference whatever the order sent. */
	AE("gzip;q=0.5, zstd;q=0.5, br;q=0.5", "br,zstd,gzip");
	AE("zstd;q=0.7, gzip;q=0.9, br;q=0.7", "gzip,br,zstd");

	CHECK(strcmp(cond_coding_name(CODING_BR), "br") == 0);
	CHECK(strcmp(cond_coding_name(CODING_ZSTD), "zstd") == 0);
	CHECK(strcmp(cond_coding_name(CODING_GZIP), "gzip") == 0);
	CHECK(strcmp(cond_coding_suffix(CODING_BR), ".br") == 0);
	CHECK(strcmp(cond_coding_suffix(CODING_ZSTD), ".zst") == 0);
	CHECK(strcmp(cond_coding_suffix(CODING_GZIP), ".gz") == 0);
	CHECK(cond_coding_name(CODING_COUNT) == NULL);
	CHECK(cond_coding_suffix(CODING_COUNT) == NULL);
}

int main(void)
{
	test_none();
	test_if_match();
	test_if_unmodified_since();
	test_if_none_match();
	test_if_modified_since();
	test_order();
	test_if_range();
	test_accept_encoding();
	mkreq_free();
	if (failures)
		fprintf(stderr, "%d check(s) failed\n", failures);
	return failures ? 1 : 0;
}
