/* hdrs: --header rules (contract in hdrs.h).
 *
 * The glob matcher simulates the glob as an automaton whose states are
 * positions in the glob, all live positions at once, one path byte at a
 * time: a path from a client cannot make it backtrack, so its cost is
 * bounded by the lengths alone. */
#include "hdrs.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

bool hdrs_is_token(const char *s, size_t n)
{
	static const char extra[] = "!#$%&'*+-.^_`|~";

	if (n == 0)
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		bool alnum = (c >= '0' && c <= '9') || ((c | 0x20) >= 'a' && (c | 0x20) <= 'z');
		if (!alnum && (c == '\0' || !strchr(extra, c)))
			return false;
	}
	return true;
}

static bool is_blank(char c)
{
	return c == ' ' || c == '\t';
}

static bool is_ctl(unsigned char c)
{
	return c < 0x20 || c == 0x7f;
}

static bool name_is(const char *name, size_t n, const char *lower)
{
	return strlen(lower) == n && strncasecmp(name, lower, n) == 0;
}

/* Headers whose value depends on the response (framing, validators, the
 * representation, the connection): a fixed value would be wrong. */
static bool managed(const char *name, size_t n)
{
	static const char *const names[] = {
		"accept-ranges", "allow", "connection", "content-encoding", "content-length",
		"content-range", "content-type", "date", "etag", "keep-alive", "last-modified",
		"location", "proxy-connection", "te", "trailer", "transfer-encoding", "upgrade",
		"vary",
	};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (name_is(name, n, names[i]))
			return true;
	return false;
}

static unsigned replaces(const char *name, size_t n)
{
	if (name_is(name, n, "server"))
		return HDRS_R_SERVER;
	if (name_is(name, n, "cache-control"))
		return HDRS_R_CACHE_CONTROL;
	if (name_is(name, n, "x-content-type-options"))
		return HDRS_R_NOSNIFF;
	return 0;
}

static int refuse(const char **why, const char *reason)
{
	if (why)
		*why = reason;
	return -EINVAL;
}

int hdrs_parse(const char *arg, struct hdrs_spec *out, const char **why)
{
	size_t len = strnlen(arg, HDRS_SPEC_MAX + 1);
	const char *p = arg, *end = arg + len;

	memset(out, 0, sizeof(*out));
	if (len > HDRS_SPEC_MAX)
		return refuse(why, "longer than 4096 bytes");
	if (*p == '/') {
		out->glob = p;
		while (p < end && !is_blank(*p)) {
			if (is_ctl((unsigned char)*p))
				return refuse(why, "a control byte in the glob");
			p++;
		}
		out->glob_len = (size_t)(p - out->glob);
		if (out->glob_len > HDRS_GLOB_MAX)
			return refuse(why, "a glob longer than 256 bytes");
		while (p < end && is_blank(*p))
			p++;
		if (p == end)
			return refuse(why, "a glob and no header after it");
	}
	out->name = p;
	while (p < end && *p != ':' && !is_blank(*p))
		p++;
	out->name_len = (size_t)(p - out->name);
	if (p == end || *p != ':')
		return refuse(why, "not 'Name: value' (no ':' right after the name)");
	if (!hdrs_is_token(out->name, out->name_len))
		return refuse(why, "the name is not a token (letters, digits, !#$%&'*+-.^_`|~)");
	for (p++; p < end && is_blank(*p); p++)
		;
	while (end > p && is_blank(end[-1]))
		end--;
	out->value = p;
	out->value_len = (size_t)(end - p);
	if (out->value_len == 0)
		return refuse(why, "no value");
	for (; p < end; p++)
		if (is_ctl((unsigned char)*p) && *p != '\t')
			return refuse(why, "a control byte (CR, LF, NUL...) in the value");
	if (out->name_len > 15 && strncasecmp(out->name, "access-control-", 15) == 0)
		return refuse(why, "Access-Control-* headers come from --cors");
	if (managed(out->name, out->name_len))
		return refuse(why, "a header ringserve computes for each response");
	out->replaces = replaces(out->name, out->name_len);
	return 0;
}

size_t hdrs_line_len(const struct hdrs_spec *s)
{
	return s->name_len + 2 + s->value_len + 2;
}

/* ---- globs ---- */

struct nfa {
	const char *g;
	size_t n;
	uint32_t gen;
	uint32_t mark[HDRS_GLOB_MAX + 1]; /* == gen: already in the list being built */
};

static bool is_star2(const struct nfa *m, size_t s)
{
	return s + 1 < m->n && m->g[s] == '*' && m->g[s + 1] == '*';
}

/* A '**' between two slashes: "**" + "/" there is (any run, then '/') or
 * nothing. Its second '*' serves as the state "inside the run". */
static bool is_segs(const struct nfa *m, size_t s)
{
	return is_star2(m, s) && s > 0 && m->g[s - 1] == '/' && s + 2 < m->n && m->g[s + 2] == '/';
}

/* Add state s to list, and the states it reaches without reading a byte:
 * past a '*' or a '**' (matching nothing), past a segments '**' and its
 * '/' (no segment at all). */
static void add(struct nfa *m, uint16_t *list, unsigned *cnt, size_t s)
{
	for (;;) {
		if (m->mark[s] == m->gen)
			return;
		m->mark[s] = m->gen;
		list[(*cnt)++] = (uint16_t)s;
		if (s >= m->n || m->g[s] != '*' || (s > 0 && is_segs(m, s - 1)))
			return;
		s += is_segs(m, s) ? 3 : is_star2(m, s) ? 2 : 1;
	}
}

struct piece {
	const char *p;
	size_t n;
};

/* One byte from state s into nxt. */
static void step(struct nfa *m, uint16_t *nxt, unsigned *cnt, size_t s, char ch)
{
	const char *g = m->g;

	if (s == m->n)
		return;
	if (is_segs(m, s) || (s > 0 && g[s] == '*' && is_segs(m, s - 1))) {
		size_t run = is_segs(m, s) ? s + 1 : s, after = run + 2;
		add(m, nxt, cnt, run);
		if (ch == '/')
			add(m, nxt, cnt, after);
	} else if (is_star2(m, s)) {
		add(m, nxt, cnt, s);
	} else if (g[s] == '*') {
		if (ch != '/')
			add(m, nxt, cnt, s);
	} else if (g[s] == '?') {
		if (ch != '/')
			add(m, nxt, cnt, s + 1);
	} else if (g[s] == ch) {
		add(m, nxt, cnt, s + 1);
	}
}

static bool run(const char *g, size_t n, const struct piece *pc, unsigned npc)
{
	struct nfa m = { g, n, 1, { 0 } };
	uint16_t a[HDRS_GLOB_MAX + 1], b[HDRS_GLOB_MAX + 1], *cur = a, *nxt = b;
	unsigned ncur = 0, nnxt;

	add(&m, cur, &ncur, 0);
	for (unsigned k = 0; k < npc; k++) {
		for (size_t i = 0; i < pc[k].n; i++) {
			m.gen++;
			nnxt = 0;
			for (unsigned j = 0; j < ncur; j++)
				step(&m, nxt, &nnxt, cur[j], pc[k].p[i]);
			if (nnxt == 0)
				return false;
			uint16_t *t = cur;
			cur = nxt;
			nxt = t;
			ncur = nnxt;
		}
	}
	return m.mark[n] == m.gen;
}

static bool match_pieces(const char *g, size_t n, const struct piece *pc, unsigned npc)
{
	if (n > HDRS_GLOB_MAX)
		return false;
	if (!memchr(g, '*', n) && !memchr(g, '?', n)) {
		/* A plain path: compare, no automaton. */
		size_t at = 0;
		for (unsigned k = 0; k < npc; k++) {
			if (pc[k].n > n - at || memcmp(g + at, pc[k].p, pc[k].n) != 0)
				return false;
			at += pc[k].n;
		}
		return at == n;
	}
	return run(g, n, pc, npc);
}

bool hdrs_glob_match(const char *glob, size_t glen, const char *path, size_t plen)
{
	struct piece pc = { path, plen };

	return match_pieces(glob, glen, &pc, 1);
}

/* ---- the set ---- */

static bool same_glob(const struct hdrs_rule *a, const struct hdrs_rule *b)
{
	if (!a->glob || !b->glob)
		return !a->glob && !b->glob;
	return a->glob_len == b->glob_len && memcmp(a->glob, b->glob, a->glob_len) == 0;
}

/* The name of a rule is its line up to the ':'. */
static bool same_name(const struct hdrs_rule *a, const struct hdrs_rule *b)
{
	size_t na = (size_t)((const char *)memchr(a->line, ':', a->line_len) - a->line);
	size_t nb = (size_t)((const char *)memchr(b->line, ':', b->line_len) - b->line);

	return na == nb && strncasecmp(a->line, b->line, na) == 0;
}

int hdrs_init(struct hdrs_set *set, const char *const *args, unsigned n)
{
	struct hdrs_spec sp[HDRS_MAX];
	size_t lines = 0, total = 0;

	memset(set, 0, sizeof(*set));
	if (n > HDRS_MAX)
		return -EINVAL;
	for (unsigned i = 0; i < n; i++) {
		if (hdrs_parse(args[i], &sp[i], NULL))
			return -EINVAL;
		lines += hdrs_line_len(&sp[i]);
		total += hdrs_line_len(&sp[i]) + sp[i].glob_len;
	}
	if (lines > HDRS_TEXT_MAX)
		return -E2BIG;
	if (n == 0)
		return 0;
	char *t = malloc(total);
	if (!t)
		return -ENOMEM;
	set->text = t;
	for (unsigned i = 0; i < n; i++) {
		struct hdrs_rule *r = &set->rule[i];
		r->line = t;
		r->line_len = (uint16_t)hdrs_line_len(&sp[i]);
		memcpy(t, sp[i].name, sp[i].name_len);
		t += sp[i].name_len;
		memcpy(t, ": ", 2);
		memcpy(t + 2, sp[i].value, sp[i].value_len);
		t += 2 + sp[i].value_len;
		memcpy(t, "\r\n", 2);
		t += 2;
		if (sp[i].glob) {
			memcpy(t, sp[i].glob, sp[i].glob_len);
			r->glob = t;
			r->glob_len = (uint16_t)sp[i].glob_len;
			t += sp[i].glob_len;
		}
		r->replaces = sp[i].replaces;
	}
	set->n = n;
	for (unsigned i = 0; i < n; i++)
		for (unsigned j = 0; j < n; j++) {
			struct hdrs_rule *a = &set->rule[i], *b = &set->rule[j];
			if (same_glob(a, b))
				a->peers |= 1ull << j;
			else if (same_name(a, b) && b->glob && (!a->glob || j > i))
				a->shadow |= 1ull << j;
		}
	return 0;
}

void hdrs_free(struct hdrs_set *set)
{
	free(set->text);
	memset(set, 0, sizeof(*set));
}

uint64_t hdrs_select(const struct hdrs_set *set, const char *rel, size_t len, bool trailing)
{
	struct piece pc[3] = { { "/", 1 }, { rel, len }, { "/", trailing && len ? 1 : 0 } };
	uint64_t seen = 0, hit = 0, on = 0;

	/* Each distinct glob is matched once. */
	for (unsigned i = 0; i < set->n; i++) {
		const struct hdrs_rule *r = &set->rule[i];
		if (seen >> i & 1)
			continue;
		seen |= r->peers;
		if (!r->glob || match_pieces(r->glob, r->glob_len, pc, 3))
			hit |= r->peers;
	}
	for (unsigned i = 0; i < set->n; i++)
		if ((hit >> i & 1) && !(hit & set->rule[i].shadow))
			on |= 1ull << i;
	return on;
}

unsigned hdrs_replaces(const struct hdrs_set *set, uint64_t on)
{
	unsigned r = 0;

	for (unsigned i = 0; i < set->n; i++)
		if (on >> i & 1)
			r |= set->rule[i].replaces;
	return r;
}

int hdrs_write(const struct hdrs_set *set, uint64_t on, char *out, size_t cap)
{
	size_t len = 0;

	for (unsigned i = 0; i < set->n; i++) {
		const struct hdrs_rule *r = &set->rule[i];
		if (!(on >> i & 1))
			continue;
		if (r->line_len > cap - len)
			return -ENOSPC;
		memcpy(out + len, r->line, r->line_len);
		len += r->line_len;
	}
	return (int)len;
}
