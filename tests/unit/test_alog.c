/* alog_format: the three line formats, escaping of client bytes, bounds. */
#include <string.h>

#include "alog.h"
#include "check.h"
#include "config.h"

static const char *TCLF = "22/Nov/2026:02:15:03 +0000";
static const char *TISO = "2026-11-22T02:15:03+00:00";

static size_t fmt(char *out, size_t cap, unsigned format, const struct alog_entry *e)
{
	size_t n = alog_format(out, cap, format, e, TCLF, TISO);
	out[n] = '\0';
	return n;
}

int main(void)
{
	struct alog_peer v4 = { { 127, 0, 0, 1 }, 0 };
	struct alog_peer v6 = { { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 }, 1 };
	struct alog_entry e = {
		.peer = &v4, .req = "GET /a?b HTTP/1.1", .req_len = 17, .status = 200, .bytes = 1234,
		.referer = "http://r/", .referer_len = 9, .agent = "curl/8", .agent_len = 6, .msec = 1500,
	};
	char out[16384];

	fmt(out, sizeof(out), LOGF_COMMON, &e);
	CHECK(strcmp(out, "127.0.0.1 - - [22/Nov/2026:02:15:03 +0000] \"GET /a?b HTTP/1.1\" 200 1234\n") == 0);
	fmt(out, sizeof(out), LOGF_COMBINED, &e);
	CHECK(strcmp(out, "127.0.0.1 - - [22/Nov/2026:02:15:03 +0000] \"GET /a?b HTTP/1.1\" 200 1234 "
			  "\"http://r/\" \"curl/8\"\n") == 0);
	fmt(out, sizeof(out), LOGF_JSON, &e);
	CHECK(strcmp(out, "{\"time\":\"2026-11-22T02:15:03+00:00\",\"remote_addr\":\"127.0.0.1\","
			  "\"request\":\"GET /a?b HTTP/1.1\",\"status\":200,\"bytes\":1234,"
			  "\"referer\":\"http://r/\",\"user_agent\":\"curl/8\",\"request_time\":1.500}\n") == 0);

	/* HTTPS: a tls object in json only. */
	e.tls_version = "TLSv1.3";
	e.tls_cipher = "TLS_AES_128_GCM_SHA256";
	e.tls_resumed = true;
	fmt(out, sizeof(out), LOGF_JSON, &e);
	CHECK(strstr(out, ",\"tls\":{\"version\":\"TLSv1.3\",\"cipher\":\"TLS_AES_128_GCM_SHA256\","
			  "\"resumed\":true,\"ktls\":false},\"request_time\":1.500}\n") != NULL);
	fmt(out, sizeof(out), LOGF_COMBINED, &e);
	CHECK(strstr(out, "TLS") == NULL);
	e.tls_version = e.tls_cipher = NULL;

	/* No body: "-" in CLF; absent headers: "-" and null; IPv6 peer. */
	e.peer = &v6;
	e.bytes = 0;
	e.referer = e.agent = NULL;
	fmt(out, sizeof(out), LOGF_COMBINED, &e);
	CHECK(strcmp(out, "2001:db8::1 - - [22/Nov/2026:02:15:03 +0000] \"GET /a?b HTTP/1.1\" 200 - "
			  "\"-\" \"-\"\n") == 0);
	fmt(out, sizeof(out), LOGF_JSON, &e);
	CHECK(strstr(out, "\"referer\":null,\"user_agent\":null") != NULL);
	CHECK(strstr(out, "\"bytes\":0") != NULL);

	/* Hostile bytes: quotes, backslash, control and high bytes. */
	const char evil[] = "a\"b\\c\x01\xff\n";
	e.agent = evil;
	e.agent_len = sizeof(evil) - 1;
	fmt(out, sizeof(out), LOGF_COMBINED, &e);
	CHECK(strstr(out, "\"a\\x22b\\x5Cc\\x01\\xFF\\x0A\"\n") != NULL);
	fmt(out, sizeof(out), LOGF_JSON, &e);
	CHECK(strstr(out, "\"user_agent\":\"a\\\"b\\\\c\\u0001\\u00FF\\u000A\"") != NULL);
	CHECK(strchr(out, '\n') == out + strlen(out) - 1); /* one line */

	/* A huge field is cut at a whole escape; the line stays bounded. */
	static char big[20000];
	memset(big, '"', sizeof(big));
	e.req = big;
	e.req_len = sizeof(big);
	e.agent = big;
	e.agent_len = sizeof(big);
	size_t n = fmt(out, sizeof(out), LOGF_COMBINED, &e);
	CHECK(n < 5000 && out[n - 1] == '\n');
	CHECK(strstr(out, "\\x2\"") == NULL && strstr(out, "\\x\"") == NULL);
	n = fmt(out, sizeof(out), LOGF_JSON, &e);
	CHECK(n < 5000 && out[n - 2] == '}');

	/* A tiny output buffer still ends in a newline. */
	n = alog_format(out, 64, LOGF_COMBINED, &e, TCLF, TISO);
	CHECK(n <= 64 && out[n - 1] == '\n');
	return failures ? 1 : 0;
}
