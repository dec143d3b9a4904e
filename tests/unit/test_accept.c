/* accept: q-values, the exact-name lookup used for listings, and the
 * most-specific-range rule that decides whether a client takes text/html
 * (--fallback): browsers, curl, API clients, refusals by q=0, several
 * fields, malformed q. Requests are real heads run through
 * http_parse_request. */
#include "accept.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "mkreq.h"

#define mk(h) mkreq("GET", h)

static int html(const char *hdrs)
{
	return accept_type_q(mk(hdrs), "text/html");
}

static void test_param_q(void)
{
	CHECK(accept_param_q("", 0) == 1000);
	CHECK(accept_param_q(";q=0", 4) == 0);
	CHECK(accept_param_q(";q=0.5", 6) == 500);
	CHECK(accept_param_q("; Q=0.25", 8) == 250);
	CHECK(accept_param_q(";q=1.000", 8) == 1000);
	CHECK(accept_param_q(";q=0.0001", 9) == 0);   /* three digits at most */
	CHECK(accept_param_q(";level=1;q=0.3", 14) == 300);
	CHECK(accept_param_q(";q=1.5", 6) == -1);
	CHECK(accept_param_q(";q=2", 4) == -1);
	CHECK(accept_param_q(";q=", 3) == -1);
	CHECK(accept_param_q(";q=x", 4) == -1);
	CHECK(accept_param_q(";charset=utf-8", 14) == 1000);
}

static void test_exact(void)
{
	CHECK(accept_q(mk(""), "application/json") == -1);
	CHECK(accept_q(mk("Accept: application/json\r\n"), "application/json") == 1000);
	CHECK(accept_q(mk("Accept: text/html, Application/JSON;q=0.9\r\n"), "application/json") == 900);
	CHECK(accept_q(mk("Accept: */*\r\n"), "application/json") == -1); /* named only */
	CHECK(accept_q(mk("Accept: text/html\r\nAccept: application/json;q=0.2\r\n"),
		       "application/json") == 200);
	CHECK(accept_q(mk("Accept: application/jsonx\r\n"), "application/json") == -1);
}

static void test_html(void)
{
	/* No Accept: any type will do (RFC 9110 §12.5.1). */
	CHECK(html("") == 1000);
	/* Browsers (Firefox, Chrome) and curl. */
	CHECK(html("Accept: text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8\r\n") ==
	      1000);
	CHECK(html("Accept: text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,"
		   "image/webp,image/apng,*/*;q=0.8,application/signed-exchange;v=b3;q=0.7\r\n") == 1000);
	CHECK(html("Accept: */*\r\n") == 1000);
	CHECK(html("Accept: text/*;q=0.4\r\n") == 400);
	CHECK(html("Accept: TEXT/HTML\r\n") == 1000);
	CHECK(html("Accept: text/html ; q=0.7\r\n") == 700);
	/* API clients and assets. */
	CHECK(html("Accept: application/json\r\n") == -1);
	CHECK(html("Accept: image/webp,image/*\r\n") == -1);
	CHECK(html("Accept: text/css,*/*;q=0.1\r\n") == 100);
	CHECK(html("Accept: text/plain\r\n") == -1);
	CHECK(html("Accept: text/htmlx\r\n") == -1);
	/* The most specific range decides, whatever the order. */
	CHECK(html("Accept: text/html;q=0, */*\r\n") == 0);
	CHECK(html("Accept: */*, text/html;q=0\r\n") == 0);
	CHECK(html("Accept: text/*;q=0, */*\r\n") == 0);
	CHECK(html("Accept: text/*;q=0, text/html;q=0.5\r\n") == 500);
	CHECK(html("Accept: */*;q=0\r\n") == 0);
	/* Equally specific: the highest q. */
	CHECK(html("Accept: text/html;q=0.2, text/html;level=1;q=0.6\r\n") == 600);
	/* Several fields are one list. */
	CHECK(html("Accept: application/json\r\nAccept: text/html;q=0.3\r\n") == 300);
	/* Malformed q: the element is ignored. */
	CHECK(html("Accept: text/html;q=2, */*;q=0.1\r\n") == 100);
	CHECK(html("Accept: text/html;q=abc\r\n") == -1);
	/* Present but naming nothing: not accepted. */
	CHECK(html("Accept: ,\r\n") == -1);
	CHECK(html("Accept:\r\n") == -1);
	/* Another family's star does not count. */
	CHECK(html("Accept: texts/*\r\n") == -1);
	CHECK(html("Accept: */html\r\n") == -1);
}

int main(void)
{
	test_param_q();
	test_exact();
	test_html();
	mkreq_free();
	return failures ? 1 : 0;
}
