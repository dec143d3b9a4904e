/* cfile and --config: the line syntax (names, values, quotes, comments,
 * every refusal, the output buffer bound), quoting that reads back, and a
 * file applied through config_parse: precedence (the command line wins,
 * also against repeated lines), flags written out, FILE:LINE errors on
 * one line, --check-config output that reads back to the same settings. */
#include "cfile.h"
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"

/* ---- the line parser ---- */

struct parsed {
	int r;
	char name[256], value[256];
	int has_value;
};

/* Parse s with a buffer of exactly len + 2 bytes, and check the bytes
 * after it are untouched. */
static struct parsed parse(const char *s, size_t len)
{
	struct parsed p = { 0 };
	char *buf = malloc(len + 2 + 16);
	struct cfile_entry e = { 0 };

	memset(buf, 0x5a, len + 2 + 16);
	p.r = cfile_parse_line(s, len, buf, &e);
	for (size_t i = len + 2; i < len + 2 + 16; i++)
		CHECK((unsigned char)buf[i] == 0x5a);
	if (p.r == CFILE_ENTRY) {
		snprintf(p.name, sizeof(p.name), "%s", e.name);
		p.has_value = e.value != NULL;
		if (e.value)
			snprintf(p.value, sizeof(p.value), "%s", e.value);
	}
	free(buf);
	return p;
}

static int entry(const char *line, const char *name, const char *value)
{
	struct parsed p = parse(line, strlen(line));

	if (p.r != CFILE_ENTRY || strcmp(p.name, name) != 0 || p.has_value != (value != NULL) ||
	    (value && strcmp(p.value, value) != 0)) {
		fprintf(stderr, "  '%s': r=%d name='%s' value=%s'%s'\n", line, p.r, p.name,
			p.has_value ? "" : "(none) ", p.value);
		return 0;
	}
	return 1;
}

static int result(const char *line, int want)
{
	struct parsed p = parse(line, strlen(line));

	if (p.r != want)
		fprintf(stderr, "  '%s': r=%d, want %d\n", line, p.r, want);
	return p.r == want;
}

static void test_lines(void)
{
	CHECK(result("", CFILE_EMPTY));
	CHECK(result("   \t ", CFILE_EMPTY));
	CHECK(result("# port = 1", CFILE_EMPTY));
	CHECK(result("   # indented", CFILE_EMPTY));
	CHECK(result("\r", CFILE_EMPTY));

	CHECK(entry("port = 8080", "port", "8080"));
	CHECK(entry("port=8080", "port", "8080"));
	CHECK(entry("  port\t=\t8080  ", "port", "8080"));
	CHECK(entry("port = 8080\r", "port", "8080"));
	CHECK(entry("port = 8080 # the port", "port", "8080"));
	CHECK(entry("port = 8080\t# the port", "port", "8080"));
	CHECK(entry("cache-control = public, max-age=60  # a minute", "cache-control",
		    "public, max-age=60"));
	CHECK(entry("x = a#b", "x", "a#b"));
	CHECK(entry("x = a #b", "x", "a"));
	CHECK(entry("x = a\tb", "x", "a\tb"));
	CHECK(entry("x = a\"b\"", "x", "a\"b\""));
	CHECK(entry("x = /srv/www 2", "x", "/srv/www 2"));
	CHECK(entry("x = \xc3\xa9t\xc3\xa9", "x", "\xc3\xa9t\xc3\xa9"));
	CHECK(entry("x9-y = 1", "x9-y", "1"));

	CHECK(entry("x = \"a # b\"", "x", "a # b"));
	CHECK(entry("x = \" padded \"", "x", " padded "));
	CHECK(entry("x = \"say \\\"hi\\\" \\\\\"", "x", "say \"hi\" \\"));
	CHECK(entry("x = \"\"", "x", ""));
	CHECK(entry("x = \"\"  # empty", "x", ""));
	CHECK(entry("x = \"a\"\t", "x", "a"));
	CHECK(entry("x = \"tab\there\"", "x", "tab\there"));

	CHECK(entry("dotfiles", "dotfiles", NULL));
	CHECK(entry("  dotfiles  ", "dotfiles", NULL));
	CHECK(entry("dotfiles # serve them", "dotfiles", NULL));

	CHECK(result("dotfiles#x", CFILE_E_NAME));
	CHECK(result("--port = 1", CFILE_E_DASHES));
	CHECK(result("-port = 1", CFILE_E_NAME));
	CHECK(result("Port = 1", CFILE_E_NAME));
	CHECK(result("po_rt = 1", CFILE_E_NAME));
	CHECK(result("= 1", CFILE_E_NAME));
	CHECK(result("port: 1", CFILE_E_NAME));
	CHECK(result("po rt = 1", CFILE_E_NOEQ));
	CHECK(result("port 1", CFILE_E_NOEQ));
	CHECK(result("port =", CFILE_E_NOVALUE));
	CHECK(result("port =   ", CFILE_E_NOVALUE));
	CHECK(result("port = # none", CFILE_E_NOVALUE));
	CHECK(result("x = \"abc", CFILE_E_QUOTE));
	CHECK(result("x = \"abc\\\"", CFILE_E_QUOTE));
	CHECK(result("x = \"abc\\", CFILE_E_QUOTE));
	CHECK(result("x = \"a\\nb\"", CFILE_E_ESCAPE));
	CHECK(result("x = \"a\" b", CFILE_E_TRAILING));
	CHECK(result("x = \"a\"b", CFILE_E_TRAILING));
	CHECK(result("x = a\x01", CFILE_E_CTRL));
	CHECK(result("x = a\x7f", CFILE_E_CTRL));
	CHECK(result("# a comment with \x1b[31m", CFILE_E_CTRL));
	CHECK(result("x = a\rb", CFILE_E_CTRL));
	CHECK(parse("x = a\0b", 7).r == CFILE_E_CTRL);
	CHECK(parse("x = a\0", 6).r == CFILE_E_CTRL);

	for (int code = CFILE_E_TRAILING; code <= CFILE_E_CTRL; code++)
		CHECK(cfile_strerror(code)[0] != '\0' && !strchr(cfile_strerror(code), '\n'));
}

/* quote(v) read back as the value of "x = ..." gives v. */
static int reads_back(const char *v, int want_bare)
{
	char q[512], line[600];
	int n = cfile_quote(v, q, sizeof(q));

	if (n < 0 || (size_t)n != strlen(q))
		return 0;
	if (want_bare >= 0 && (strcmp(q, v) == 0) != want_bare) {
		fprintf(stderr, "  quote('%s') = %s\n", v, q);
		return 0;
	}
	snprintf(line, sizeof(line), "x = %s", q);
	return entry(line, "x", v);
}

static void test_quote(void)
{
	char small[8];

	CHECK(reads_back("a", 1));
	CHECK(reads_back("public, max-age=60", 1));
	CHECK(reads_back("a#b", 1));
	CHECK(reads_back("a\"b", 1));
	CHECK(reads_back("", 0));
	CHECK(reads_back(" a", 0));
	CHECK(reads_back("a ", 0));
	CHECK(reads_back("a\t", 0));
	CHECK(reads_back("a #b", 0));
	CHECK(reads_back("a\t#b", 0));
	CHECK(reads_back("#a", 0));
	CHECK(reads_back("\"a\"", 0));
	CHECK(reads_back("\\", 1));
	CHECK(reads_back(" back\\slash \"and quotes\" ", 0));
	CHECK(cfile_quote("a\nb", small, sizeof(small)) == -EINVAL);
	CHECK(cfile_quote("1234567", small, sizeof(small)) == 7);
	CHECK(cfile_quote("12345678", small, sizeof(small)) == -ENOSPC);
	CHECK(cfile_quote(" 1234", small, sizeof(small)) == 7);
	CHECK(strcmp(small, "\" 1234\"") == 0);
	CHECK(cfile_quote(" 12345", small, sizeof(small)) == -ENOSPC);
	CHECK(cfile_quote("\"\"", small, sizeof(small)) == 6);
	CHECK(cfile_quote("\"\"\"", small, sizeof(small)) == -ENOSPC);
	CHECK(cfile_quote("", small, 2) == -ENOSPC);
}

/* ---- files through config_parse ---- */

static char *out_text, *err_text;
static char path[64];

static void write_file(const char *text)
{
	FILE *f = fopen(path, "w");

	if (!f)
		abort();
	fputs(text, f);
	fclose(f);
}

/* config_parse on --config FILE (written with text) and more arguments. */
static int run(struct config *cfg, const char *text, ...)
{
	char *argv[32];
	int argc = 0, r;
	size_t olen, elen;
	va_list ap;

	if (text)
		write_file(text);
	argv[argc++] = (char *)"ringserve";
	argv[argc++] = (char *)"--config";
	argv[argc++] = path;
	va_start(ap, text);
	while (argc < 31 && (argv[argc] = va_arg(ap, char *)) != NULL)
		argc++;
	va_end(ap);
	argv[argc] = NULL;
	free(out_text);
	free(err_text);
	FILE *out = open_memstream(&out_text, &olen);
	FILE *err = open_memstream(&err_text, &elen);
	config_free(cfg);
	r = config_parse(cfg, argc, argv, out, err);
	fclose(out);
	fclose(err);
	return r;
}

/* Refused with one line "ringserve: FILE:LINE: ..." containing want. */
static int refused_at(int r, unsigned line, const char *want)
{
	char prefix[128];
	size_t n = strlen(err_text);

	snprintf(prefix, sizeof(prefix), "ringserve: %s:%u: ", path, line);
	if (r != 2 || n == 0 || strchr(err_text, '\n') != err_text + n - 1 ||
	    strncmp(err_text, prefix, strlen(prefix)) != 0 || !strstr(err_text, want)) {
		fprintf(stderr, "  r=%d err='%s' (want '%s...%s')\n", r, err_text, prefix, want);
		return 0;
	}
	return 1;
}

static void test_file(void)
{
	struct config c = { 0 };

	CHECK(run(&c, "# ringserve\n\nport = 9090\nthreads = 3\nbuffer-size = 128K\n"
		  "cache-control = public, max-age=60  # a minute\nserver-header = \"a # b\"\n"
		  "charset = \"\"\nfollow-symlinks = never\ndotfiles\nno-pin = true\n"
		  "root = /srv/www\nsqpoll\n", NULL) == 0);
	CHECK(err_text[0] == 0);
	CHECK(c.port == 9090 && c.threads == 3 && c.buf_size == 128 * 1024);
	CHECK(strcmp(c.cache_control, "public, max-age=60") == 0);
	CHECK(strcmp(c.server_header, "a # b") == 0);
	CHECK(strcmp(c.charset, "") == 0);
	CHECK(c.follow_symlinks == FOLLOW_NEVER && c.dotfiles == 1 && c.pin_cpus == 0);
	CHECK(strcmp(c.root, "/srv/www") == 0 && c.sqpoll_idle == 1000);
	CHECK(strcmp(c.config_file, path) == 0);

	/* Later lines win, as later options do; a flag written false. */
	CHECK(run(&c, "port = 1\nport = 2\ndotfiles = true\ndotfiles = false\n"
		  "precompressed = false\nno-pin = false\n", NULL) == 0);
	CHECK(c.port == 2 && c.dotfiles == 0 && c.precompressed == 0 && c.pin_cpus == 1);
	CHECK(run(&c, "no-precompressed = false\nsend-zc\n", NULL) == 0);
	CHECK(c.precompressed == 1 && c.send_zc == 64 * 1024);

	/* The command line wins, wherever it names the option, in any form. */
	CHECK(run(&c, "port = 1\nport = 2\nthreads = 3\nroot = /a\n", "-p", "7", "/b", NULL) == 0);
	CHECK(c.port == 7 && c.threads == 3 && strcmp(c.root, "/b") == 0);
	CHECK(run(&c, NULL, "--port=8", "--root", "/c", NULL) == 0);
	CHECK(c.port == 8 && strcmp(c.root, "/c") == 0);
	CHECK(run(&c, "dotfiles\nno-precompressed\n", "--precompressed", NULL) == 0);
	CHECK(c.dotfiles == 1 && c.precompressed == 1);
	/* ... yet a bad value the command line overrides is still an error. */
	CHECK(refused_at(run(&c, "\nport = 99999\n", "-p", "7", NULL), 2, "--port must be"));
	CHECK(run(&c, "root = /a\n", "--root", "/b", "/c", NULL) == 2 &&
	      strstr(err_text, "ROOT given twice"));

	/* Every kind of refusal names the file and line. */
	CHECK(refused_at(run(&c, "port = 80\nprot = 80\n", NULL), 2, "unknown option 'prot'"));
	CHECK(refused_at(run(&c, "threads = 0\n", NULL), 1, "--threads must be an integer from 1"));
	CHECK(refused_at(run(&c, "buffer-size = 1X\n", NULL), 1, "--buffer-size must be"));
	CHECK(refused_at(run(&c, "follow-symlinks = sometimes\n", NULL), 1, "one of never|inside"));
	CHECK(refused_at(run(&c, "bind = 1.2.3\n", NULL), 1, "--bind must be"));
	CHECK(refused_at(run(&c, "metrics = localhost\n", NULL), 1, "--metrics must be"));
	CHECK(refused_at(run(&c, "port\n", NULL), 1, "--port needs an argument"));
	CHECK(refused_at(run(&c, "dotfiles = yes\n", NULL), 1, "--dotfiles is a flag"));
	CHECK(refused_at(run(&c, "\n\n\nx = \"open\n", NULL), 4, "unterminated"));
	CHECK(refused_at(run(&c, "--port = 1\n", NULL), 1, "without the leading '--'"));
	CHECK(refused_at(run(&c, "config = /etc/x\n", NULL), 1, "command line only"));
	CHECK(refused_at(run(&c, "help\n", NULL), 1, "command line only"));
	CHECK(refused_at(run(&c, "check-config\n", NULL), 1, "command line only"));
	CHECK(refused_at(run(&c, "port = 1\r\nthreads = x\r\n", NULL), 2, "--threads"));
	CHECK(refused_at(run(&c, "cache-control = \"a\tb\"\nserver-header = \"\x01\"\n", NULL), 2,
			 "control character"));
	/* No newline at the end, a last line without one, a NUL. */
	CHECK(run(&c, "port = 5", NULL) == 0 && c.port == 5);
	FILE *f = fopen(path, "w");
	fwrite("port = 5\n\0\n", 1, 11, f);
	fclose(f);
	CHECK(refused_at(run(&c, NULL, NULL), 2, "control character"));

	/* The file itself. */
	unlink(path);
	CHECK(run(&c, NULL, NULL) == 2 && strstr(err_text, "No such file"));
	CHECK(strchr(err_text, '\n') == err_text + strlen(err_text) - 1);
	char *argv[] = { (char *)"ringserve", (char *)"--config", (char *)"/", NULL };
	free(err_text);
	size_t elen;
	FILE *err = open_memstream(&err_text, &elen);
	config_free(&c);
	CHECK(config_parse(&c, 3, argv, stdout, err) == 2);
	fclose(err);
	CHECK(strstr(err_text, "not a regular file") != NULL);
	/* --help needs no readable file. */
	write_file("port = bad\n");
	free(out_text);
	FILE *out = open_memstream(&out_text, &elen);
	char *argv2[] = { (char *)"ringserve", (char *)"--config", path, (char *)"--help", NULL };
	CHECK(config_parse(&c, 4, argv2, out, stderr) == 1);
	fclose(out);
	config_free(&c);
}

/* --check-config's text, read back as a file, gives the same settings:
 * printing it again gives the same text. */
static void test_print_reads_back(void)
{
	struct config a = { 0 }, b = { 0 };
	char *t1 = NULL, *t2 = NULL;
	size_t n1, n2;

	CHECK(run(&a, "port = 81\nserver-header = \" odd # \\\"name\\\" \"\ncharset = \"\"\n"
		  "bind = ::1\nmetrics = 127.0.0.1:9100\nmax-line = 4K\nno-listing\n", "-t", "5",
		  "--transfer=direct", "--send-zc=1M", "/srv", NULL) == 0);
	FILE *f = open_memstream(&t1, &n1);
	config_print(&a, f);
	fclose(f);
	CHECK(strstr(t1, "\nport = 81\n") && strstr(t1, "\nthreads = 5\n"));
	CHECK(strstr(t1, "\nserver-header = \" odd # \\\"name\\\" \"\n"));
	CHECK(strstr(t1, "\ntransfer = direct\n") && strstr(t1, "\nsend-zc = 1M\n"));
	CHECK(strstr(t1, "\nno-listing = true\n") && strstr(t1, "\nroot = /srv\n"));
	CHECK(strstr(t1, "\nbind = ::1\n") && strstr(t1, "\nmetrics = 127.0.0.1:9100\n"));
	CHECK(!strstr(t1, "check-config") && !strstr(t1, "\nconfig"));
	char *none[] = { (char *)"ringserve", NULL };
	CHECK(config_parse(&b, 1, none, stdout, stderr) == 0);
	CHECK(config_apply_text(&b, "printed", t1, n1, stderr) == 0);
	f = open_memstream(&t2, &n2);
	config_print(&b, f);
	fclose(f);
	CHECK(strcmp(t1, t2) == 0);
	if (strcmp(t1, t2) != 0)
		fprintf(stderr, "--- printed\n%s--- read back\n%s", t1, t2);
	CHECK(b.port == 81 && b.threads == 5 && b.listing == 0 && b.max_line == 4096);
	free(t1);
	free(t2);
	config_free(&a);
	config_free(&b);

	/* Defaults too, and config_apply_text's own errors. */
	struct config d = { 0 };
	char *argv[] = { (char *)"ringserve", NULL };
	CHECK(config_parse(&d, 1, argv, stdout, stderr) == 0);
	f = open_memstream(&t1, &n1);
	config_print(&d, f);
	fclose(f);
	CHECK(strstr(t1, "\n# bind: all interfaces") && strstr(t1, "\n# metrics: off\n"));
	CHECK(config_apply_text(&d, "defaults", t1, n1, stderr) == 0);
	free(t1);
	char *e = NULL;
	f = open_memstream(&e, &n2);
	CHECK(config_apply_text(&d, "inline", "a b", 3, f) == 2);
	fclose(f);
	CHECK(strcmp(e, "ringserve: inline:1: expected '=' after the option name\n") == 0);
	free(e);
	config_free(&d);
}

int main(void)
{
	snprintf(path, sizeof(path), "test_cfile.%d.conf", (int)getpid());
	test_lines();
	test_quote();
	test_file();
	test_print_reads_back();
	unlink(path);
	free(out_text);
	free(err_text);
	if (failures)
		fprintf(stderr, "test_cfile: %d failure(s)\n", failures);
	return failures ? 1 : 0;
}
