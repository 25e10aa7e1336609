/* mail_upstream.c - decodes every real mail in
 * ../shared/fixtures-upstream/emails/<source>/ (relative to the source
 * tree) and checks against INDEX.tsv:
 *  - the text parts found match the text/plain and text/html entries of
 *    the mime_parts column (a multipart leaf there, a multipart Python
 *    could not split, may give one text part here: we keep its body);
 *  - an order number in the Subject also appears in the decoded text;
 *  - a forwarded mail (Fwd:/FW: subject) yields an original sender that
 *    is not the forwarder.
 * Exits 77 (skip) with a message when the fixtures are absent. TAP. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/buf.h"
#include "core/limits.h"
#include "core/util.h"
#include "mail/mail.h"

static int n_test;
static int n_fail;

static void result(bool ok, const char *file, const char *what,
		   const char *detail)
{
	n_test++;
	if (!ok)
		n_fail++;
	printf("%s %d - %s: %s%s%s\n", ok ? "ok" : "not ok", n_test, file,
	       what, detail ? " # " : "", detail ? detail : "");
}

static int count_type(const char *list, const char *type)
{
	int n = 0;
	size_t tl = strlen(type);

	for (const char *p = list; p && *p;) {
		const char *e = strchr(p, ',');
		size_t l = e ? (size_t)(e - p) : strlen(p);
		if (l == tl && strncmp(p, type, l) == 0)
			n++;
		p = e ? e + 1 : NULL;
	}
	return n;
}

/* raw body with QP soft line breaks removed, to tell whether a number
 * is in the body at all (some upstream files were anonymized in the
 * Subject only). */
static bool in_raw_body(const char *raw, size_t len, const char *tok)
{
	const char *body = strstr(raw, "\n\n");
	struct buf b;
	bool found;

	body = body ? body : raw;
	buf_init(&b, len + 1);
	for (const char *p = body; p < raw + len; p++) {
		if (p[0] == '=' && p[1] == '\n') {
			p++;
			continue;
		}
		if (p[0] == '=' && p[1] == '\r' && p[2] == '\n') {
			p += 2;
			continue;
		}
		buf_append_char(&b, *p);
	}
	found = strstr(buf_cstr(&b), tok) != NULL;
	buf_free(&b);
	return found;
}

/* Digit-and-dash tokens with at least 6 digits: order numbers. Found in
 * the text or in a link (tracking numbers often live only in a carrier
 * link). */
static void check_order_numbers(const char *file, const char *subject,
				const struct decoded_message *m,
				const char *raw, size_t len)
{
	const char *p = subject;

	while (*p) {
		if (!(*p >= '0' && *p <= '9')) {
			p++;
			continue;
		}
		const char *s = p;
		int digits = 0;
		while ((*p >= '0' && *p <= '9') || *p == '-') {
			digits += *p != '-';
			p++;
		}
		size_t n = (size_t)(p - s);
		while (n > 0 && s[n - 1] == '-')
			n--;
		if (digits < 6)
			continue;
		char *tok = xstrndup(s, n);
		bool ok = strstr(m->text, tok) != NULL;
		for (size_t i = 0; i < m->n_links && !ok; i++)
			ok = strstr(m->links[i].url, tok) != NULL;
		if (!ok && !in_raw_body(raw, len, tok)) {
			char *why = xasprintf("SKIP %s is not in the body",
					      tok);
			n_test++;
			printf("ok %d - %s: subject order number # %s\n",
			       n_test, file, why);
			free(why);
		} else {
			result(ok, file, "subject order number in text", tok);
		}
		free(tok);
	}
}

static void check_file(const char *dir, char *line)
{
	char *cols[5] = { 0 };
	int nc = 0;

	for (char *p = line; nc < 5;) {
		cols[nc++] = p;
		char *t = strchr(p, '\t');
		if (!t)
			break;
		*t = '\0';
		p = t + 1;
	}
	if (nc < 5)
		return;
	char *nl = strchr(cols[4], '\n');
	if (nl)
		*nl = '\0';
	const char *file = cols[0], *parts = cols[4];
	char *path = xasprintf("%s/%s", dir, file);
	char *raw = NULL;
	size_t len = 0;
	if (util_read_file(path, LIMIT_MESSAGE_SIZE, &raw, &len) < 0) {
		result(false, file, "read", NULL);
		free(path);
		return;
	}
	struct decoded_message *m = NULL;
	const char *reason = NULL;
	if (mail_decode(raw, len, &m, &reason) < 0) {
		result(false, file, "decode", reason);
		free(raw);
		free(path);
		return;
	}
	int want_plain = count_type(parts, "text/plain");
	int want_html = count_type(parts, "text/html");
	int leaves = 0;
	for (const char *q = strstr(parts, "multipart/"); q;
	     q = strstr(q + 1, "multipart/"))
		leaves++;
	int got_plain = 0, got_html = 0;
	for (size_t i = 0; i < m->n_parts; i++) {
		if (m->parts[i].from_html)
			got_html++;
		else
			got_plain++;
	}
	bool ok;
	char detail[256];
	if (parts[0] == '\0') {
		/* Not multipart: the body itself is the one text part. */
		ok = m->n_parts == 1;
	} else {
		int extra = got_plain + got_html - want_plain - want_html;
		ok = got_plain >= want_plain && got_html >= want_html &&
		     extra <= leaves;
	}
	snprintf(detail, sizeof(detail),
		 "want %s, got %d plain %d html", parts[0] ? parts : "(single)",
		 got_plain, got_html);
	result(ok, file, "text parts", detail);
	check_order_numbers(file, m->subject, m, raw, len);
	const char *s = m->subject;
	if (strncasecmp(s, "fwd:", 4) == 0 || strncasecmp(s, "fw:", 3) == 0) {
		ok = m->forward_depth > 0 && m->orig_from.addr[0] != '\0' &&
		     strcmp(m->orig_from.addr, m->from.addr) != 0;
		result(ok, file, "forward yields the original sender",
		       m->orig_from.addr);
	}
	mail_free(&m);
	free(raw);
	free(path);
}

int main(int argc, char **argv)
{
	const char *root = argc > 1 ? argv[1] : ".";
	char *base = xasprintf("%s/../shared/fixtures-upstream/emails", root);
	DIR *d = opendir(base);

	if (d == NULL) {
		printf("1..0 # SKIP %s absent\n", base);
		fprintf(stderr, "SKIP: upstream fixtures not found at %s\n",
			base);
		free(base);
		return 77;
	}
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		char *dir = xasprintf("%s/%s", base, e->d_name);
		char *index = xasprintf("%s/INDEX.tsv", dir);
		FILE *f = fopen(index, "r");
		if (f) {
			char line[8192];
			bool header = true;
			while (fgets(line, sizeof(line), f)) {
				if (header) {
					header = false;
					continue;
				}
				check_file(dir, line);
			}
			fclose(f);
		}
		free(index);
		free(dir);
	}
	closedir(d);
	free(base);
	printf("1..%d\n", n_test);
	fprintf(stderr, "upstream: %d checks, %d failed\n", n_test, n_fail);
	return n_fail ? 1 : 0;
}
