/* cond: conditional requests (RFC 9110 §13) and Accept-Encoding.
 *
 * Everything reads the request's header spans in place: no copies, no
 * allocation. Fields that are lists (If-Match, If-None-Match,
 * Accept-Encoding) may arrive as several lines and are read line by line as
 * one list; date fields are single values, so two of them are treated as an
 * invalid date (RFC 9110 §13.1.3-4: a list of dates is not a valid date). */
#include "cond.h"

#include "hdate.h"

#include <errno.h>
#include <string.h>
#include <strings.h>

static bool name_is(const struct http_header *h, const char *name)
{
	size_t n = strlen(name);

	return h->name.len == n && strncasecmp(h->name.p, name, n) == 0;
}

static bool is_ows(char c)
{
	return c == ' ' || c == '\t';
}

/* The one field named `name`: NULL when absent or when sent more than once
 * (*present says which). */
static const struct http_header *single_field(const struct http_request *req,
					      const char *name, bool *present)
{
	const struct http_header *found = NULL;

	*present = false;
	for (uint32_t i = 0; i < req->nheaders; i++) {
		if (!name_is(&req->headers[i], name))
			continue;
		if (*present)
			return NULL;
		*present = true;
		found = &req->headers[i];
	}
	return found;
}

/* A valid HTTP-date in the single field `name`: 0, -ENOENT when absent,
 * -EINVAL when invalid or repeated. */
static int field_date(const struct http_request *req, const char *name, time_t *t)
{
	bool present;
	const struct http_header *h = single_field(req, name, &present);

	if (!present)
		return -ENOENT;
	if (!h)
		return -EINVAL;
	return hdate_parse(h->value.p, h->value.len, t);
}

/* ---- entity-tags ---- */

struct etag {
	const char *p; /* opaque-tag, quotes included */
	size_t len;
	bool weak;
};

/* etagc = %x21 / %x23-7E / obs-text */
static bool is_etagc(unsigned char c)
{
	return c == 0x21 || (c >= 0x23 && c != 0x7f);
}

/* entity-tag = [ "W/" ] DQUOTE *etagc DQUOTE at s[*i..n). "W" is
 * case-sensitive (%s"W/"). -EINVAL when s[*i] does not start a valid tag. */
static int read_etag(const char *s, size_t n, size_t *i, struct etag *t)
{
	size_t j = *i;

	t->weak = n - j >= 2 && s[j] == 'W' && s[j + 1] == '/';
	if (t->weak)
		j += 2;
	if (j == n || s[j] != '"')
		return -EINVAL;
	t->p = s + j;
	for (j++; j < n && is_etagc((unsigned char)s[j]); j++)
		;
	if (j == n || s[j] != '"')
		return -EINVAL;
	t->len = (size_t)(s + j + 1 - t->p);
	*i = j + 1;
	return 0;
}

static bool etag_match(const struct etag *a, const struct etag *b, bool strong)
{
	if (strong && (a->weak || b->weak))
		return false;
	return a->len == b->len && memcmp(a->p, b->p, a->len) == 0;
}

/* The representation's tag, or len 0 when it has none (matches no tag). */
static struct etag current_tag(const struct cond_validators *v)
{
	struct etag t = { 0 };
	size_t i = 0;

	if (v->etag && v->etag_len && (read_etag(v->etag, v->etag_len, &i, &t) ||
				       i != v->etag_len))
		t.len = 0;
	return t;
}

struct tag_list {
	unsigned count; /* non-empty elements */
	bool star, match, bad;
};

/* Add one field value, "*" / #entity-tag, to the list: elements separated
 * by OWS "," OWS, empty ones skipped. A comma may sit inside a tag, so the
 * tags are read, not split. */
static void scan_tags(struct http_span f, const struct etag *cur, bool strong,
		      struct tag_list *l)
{
	const char *s = f.p;
	size_t n = f.len, i = 0;
	struct etag t;

	while (i < n && !l->bad) {
		if (s[i] == '*') {
			l->star = true;
			l->count++;
			i++;
		} else if (s[i] != ',' && !is_ows(s[i])) {
			if (read_etag(s, n, &i, &t))
				l->bad = true;
			l->count++;
			l->match |= !l->bad && cur->len && etag_match(&t, cur, strong);
		}
		while (i < n && is_ows(s[i]))
			i++;
		if (i < n && s[i] != ',')
			l->bad = true;
		for (; i < n && (s[i] == ',' || is_ows(s[i])); i++)
			;
	}
}

/* Whether the fields named `name` match the representation: -ENOENT when
 * absent, 1 on a match, 0 otherwise. A malformed list, or "*" that is not
 * the whole list, matches nothing. The resource exists, so "*" matches. */
static int tags_match(const struct http_request *req, const char *name,
		      const struct etag *cur, bool strong)
{
	struct tag_list l = { 0 };
	bool present = false;

	for (uint32_t i = 0; i < req->nheaders; i++) {
		if (!name_is(&req->headers[i], name))
			continue;
		present = true;
		scan_tags(req->headers[i].value, cur, strong, &l);
	}
	if (!present)
		return -ENOENT;
	if (l.bad || (l.star && l.count > 1))
		return 0;
	return l.star || l.match;
}

static bool safe_method(const struct http_request *req)
{
	return req->method == HTTP_M_GET || req->method == HTTP_M_HEAD;
}

/* Whether any field is named If-*: most requests carry no precondition,
 * and one pass over the names spares them four lookups and a tag parse. */
static bool has_if_fields(const struct http_request *req)
{
	for (uint32_t i = 0; i < req->nheaders; i++) {
		const struct http_span n = req->headers[i].name;

		if (n.len >= 3 && (n.p[0] | 0x20) == 'i' && (n.p[1] | 0x20) == 'f' && n.p[2] == '-')
			return true;
	}
	return false;
}

/* RFC 9110 §13.2.2 steps 1-4. */
enum cond_result cond_evaluate(const struct http_request *req, const struct cond_validators *v)
{
	if (!has_if_fields(req))
		return COND_PROCEED;
	struct etag cur = current_tag(v);
	time_t t;
	int r;

	r = tags_match(req, "If-Match", &cur, true);
	if (r == 0)
		return COND_PRECONDITION_FAILED;
	if (r == -ENOENT && field_date(req, "If-Unmodified-Since", &t) == 0 &&
	    v->mtime > t)
		return COND_PRECONDITION_FAILED;

	r = tags_match(req, "If-None-Match", &cur, false);
	if (r == 1) /* §13.1.2: 304 for GET/HEAD, 412 for other methods */
		return safe_method(req) ? COND_NOT_MODIFIED : COND_PRECONDITION_FAILED;
	if (r == -ENOENT && safe_method(req) &&
	    field_date(req, "If-Modified-Since", &t) == 0 && v->mtime <= t)
		return COND_NOT_MODIFIED;
	return COND_PROCEED;
}

/* §13.1.5: an entity-tag (strong comparison) or an HTTP-date equal to
 * Last-Modified. Anything else, repeated fields included, means "send it
 * all": a Range against a changed representation would splice two
 * versions together. */
bool cond_if_range(const struct http_request *req, const struct cond_validators *v)
{
	bool present;
	const struct http_header *h = single_field(req, "If-Range", &present);
	struct etag cur, t;
	size_t i = 0;
	time_t d;

	if (!present)
		return true;
	if (!h || h->value.len == 0)
		return false;
	if (h->value.p[0] == '"' || (h->value.len > 1 && h->value.p[0] == 'W' &&
				     h->value.p[1] == '/')) { /* not "Wed, ..." */
		cur = current_tag(v);
		return read_etag(h->value.p, h->value.len, &i, &t) == 0 &&
		       i == h->value.len && cur.len && etag_match(&t, &cur, true);
	}
	return hdate_parse(h->value.p, h->value.len, &d) == 0 && d == v->mtime;
}

/* ---- Accept-Encoding ---- */

#define Q_NONE -1   /* not mentioned */
#define Q_ONE 1000  /* q-values in thousandths */

static const char *const coding_names[CODING_COUNT] = { "br", "zstd", "gzip" };
static const char *const coding_suffixes[CODING_COUNT] = { ".br", ".zst", ".gz" };

static bool is_tchar(char c)
{
	return (c >= '0' && c <= '9') || ((c | 0x20) >= 'a' && (c | 0x20) <= 'z') ||
	       (c && strchr("!#$%&'*+-.^_`|~", c));
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* qvalue = ( "0" [ "." 0*3DIGIT ] ) / ( "1" [ "." 0*3("0") ] ), the whole
 * of s[0..n). Thousandths, or -1 when malformed. */
static int read_qvalue(const char *s, size_t n)
{
	int q;
	size_t i;

	if (n == 0 || (s[0] != '0' && s[0] != '1') || n > 5 || (n > 1 && s[1] != '.'))
		return -1;
	q = (s[0] - '0') * Q_ONE;
	for (i = 2; i < 5; i++) {
		int d = i < n ? s[i] - '0' : 0;

		if (i < n && !is_digit(s[i]))
			return -1;
		q += d * (i == 2 ? 100 : i == 3 ? 10 : 1);
	}
	return q > Q_ONE ? -1 : q;
}

/* element = coding [ OWS ";" OWS "q=" qvalue ], OWS already stripped
 * around it. The q-value, or -1 when malformed; *name gets the coding. */
static int read_coding(const char *s, size_t n, struct http_span *name)
{
	size_t i = 0, j;

	while (i < n && is_tchar(s[i]))
		i++;
	name->p = s;
	name->len = (uint32_t)i;
	if (i == 0)
		return -1;
	if (i == n)
		return Q_ONE;
	for (j = i; j < n && is_ows(s[j]); j++)
		;
	if (j == n || s[j++] != ';')
		return -1;
	while (j < n && is_ows(s[j]))
		j++;
	if (n - j < 2 || (s[j] | 0x20) != 'q' || s[j + 1] != '=')
		return -1;
	return read_qvalue(s + j + 2, n - j - 2);
}

static bool span_is(struct http_span s, const char *lit)
{
	size_t n = strlen(lit);

	return s.len == n && strncasecmp(s.p, lit, n) == 0;
}

/* Which coding a name stands for: a coding, CODING_COUNT for "*", -1 else. */
static int coding_of(struct http_span name)
{
	if (span_is(name, "*"))
		return CODING_COUNT;
	if (span_is(name, "x-gzip"))
		return CODING_GZIP;
	for (int c = 0; c < CODING_COUNT; c++)
		if (span_is(name, coding_names[c]))
			return c;
	return -1;
}

/* Record each element of one Accept-Encoding value: the first well-formed
 * mention of a coding counts. q[CODING_COUNT] is the "*" weight. */
static void scan_codings(struct http_span f, int q[CODING_COUNT + 1])
{
	size_t i = 0, a, b;
	struct http_span name;
	int w, c;

	while (i < f.len) {
		for (a = i; a < f.len && is_ows(f.p[a]); a++)
			;
		for (b = a; b < f.len && f.p[b] != ','; b++)
			;
		i = b + 1;
		while (b > a && is_ows(f.p[b - 1]))
			b--;
		if (b == a)
			continue;
		w = read_coding(f.p + a, b - a, &name);
		c = w < 0 ? -1 : coding_of(name);
		if (c >= 0 && q[c] == Q_NONE)
			q[c] = w;
	}
}

unsigned cond_accept_codings(const struct http_request *req, enum cond_coding order[CODING_COUNT])
{
	int q[CODING_COUNT + 1] = { Q_NONE, Q_NONE, Q_NONE, Q_NONE };
	int w[CODING_COUNT];
	unsigned n = 0, k;

	for (uint32_t i = 0; i < req->nheaders; i++)
		if (name_is(&req->headers[i], "Accept-Encoding"))
			scan_codings(req->headers[i].value, q);
	/* Insert in server order, moving only past strictly lower weights, so
	 * ties keep the server's preference. */
	for (int c = 0; c < CODING_COUNT; c++) {
		int qc = q[c] != Q_NONE ? q[c] : q[CODING_COUNT];

		if (qc <= 0)
			continue;
		for (k = n; k > 0 && w[k - 1] < qc; k--) {
			w[k] = w[k - 1];
			order[k] = order[k - 1];
		}
		w[k] = qc;
		order[k] = (enum cond_coding)c;
		n++;
	}
	return n;
}

const char *cond_coding_name(enum cond_coding c)
{
	return (unsigned)c < CODING_COUNT ? coding_names[c] : NULL;
}

const char *cond_coding_suffix(enum cond_coding c)
{
	return (unsigned)c < CODING_COUNT ? coding_suffixes[c] : NULL;
}
