/* mail_dump.c - prints a decoded message in a stable text format, and
 * runs the golden tests over tests/data/mail.
 *
 *   mail_dump FILE.eml            print the decoded form
 *   mail_dump --check DIR         compare every DIR/<case>.eml with
 *                                 DIR/<case>.expected (TAP output)
 *   mail_dump --update DIR        rewrite every DIR/<case>.expected
 *
 * The format lists the outer and original headers, the forward kind and
 * depth, defects, links, attachments and each text part. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/limits.h"
#include "core/util.h"
#include "mail/mail.h"

static const char *const defect_names[] = {
	"charset", "truncated", "8bit-header", "bad-encoding", "text-cut",
	"no-headers",
};

static void dump(struct buf *o, const char *raw, size_t len)
{
	struct decoded_message *m = NULL;
	const char *reason = NULL;
	int r = mail_decode(raw, len, &m, &reason);

	if (r < 0) {
		buf_printf(o, "error: %s\n", reason ? reason : "?");
		return;
	}
	buf_printf(o, "from: %s <%s>\n", m->from.name, m->from.addr);
	buf_printf(o, "subject: %s\n", m->subject);
	buf_printf(o, "date: %s\n", m->date);
	buf_printf(o, "message-id: %s\n", m->message_id);
	for (size_t i = 0; i < m->n_recipients; i++)
		buf_printf(o, "recipient: %s\n", m->recipients[i]);
	buf_printf(o, "orig-from: %s <%s>\n", m->orig_from.name,
		   m->orig_from.addr);
	buf_printf(o, "orig-subject: %s\n", m->orig_subject);
	buf_printf(o, "orig-date: %s\n", m->orig_date);
	buf_printf(o, "forward: %s %d\n",
		   m->forward_kind[0] ? m->forward_kind : "none",
		   m->forward_depth);
	buf_printf(o, "defects:");
	for (size_t i = 0; i < sizeof(defect_names) / sizeof(*defect_names);
	     i++)
		if (m->defects & (1u << i))
			buf_printf(o, " %s", defect_names[i]);
	buf_printf(o, "\n");
	for (size_t i = 0; i < m->n_attachments; i++)
		buf_printf(o, "attachment: %s\n", m->attachments[i]);
	for (size_t i = 0; i < m->n_links; i++)
		buf_printf(o, "link: %s | %s\n", m->links[i].url,
			   m->links[i].text);
	for (size_t i = 0; i < m->n_jsonld; i++)
		buf_printf(o, "jsonld: %s\n", m->jsonld[i]);
	buf_printf(o, "parts: %zu\n", m->n_parts);
	for (size_t i = 0; i < m->n_parts; i++) {
		const struct mail_part *p = &m->parts[i];
		buf_printf(o, "--- part %zu %s depth=%d%s\n", i,
			   p->content_type, p->depth,
			   p->from_html ? " html" : "");
		buf_append(o, p->text, p->len);
		buf_append_str(o, "\n");
	}
	buf_printf(o, "--- end\n");
	mail_free(&m);
}

static int dump_file(const char *path, struct buf *o)
{
	char *raw = NULL;
	size_t len = 0;
	int r = util_read_file(path, LIMIT_MESSAGE_SIZE + 1024, &raw, &len);

	if (r < 0)
		return r;
	dump(o, raw, len);
	free(raw);
	return 0;
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int golden(const char *dir, bool update)
{
	DIR *d = opendir(dir);
	char **names = NULL;
	size_t n = 0;
	struct dirent *e;
	int failed = 0;

	if (d == NULL) {
		fprintf(stderr, "cannot open %s\n", dir);
		return 1;
	}
	while ((e = readdir(d)) != NULL) {
		size_t l = strlen(e->d_name);
		if (l > 4 && strcmp(e->d_name + l - 4, ".eml") == 0) {
			names = xrealloc(names, (n + 1) * sizeof(*names));
			names[n++] = xstrndup(e->d_name, l - 4);
		}
	}
	closedir(d);
	qsort(names, n, sizeof(*names), cmp_names);
	printf("1..%zu\n", n);
	for (size_t i = 0; i < n; i++) {
		char *eml = xasprintf("%s/%s.eml", dir, names[i]);
		char *exp = xasprintf("%s/%s.expected", dir, names[i]);
		struct buf o;
		buf_init(&o, 64u * 1024 * 1024);
		int r = dump_file(eml, &o);
		if (update) {
			r = r < 0 ? r : util_write_file_durable(exp, o.data,
								 o.len);
			printf("%s %zu - %s (written)\n",
			       r < 0 ? "not ok" : "ok",
			       i + 1, names[i]);
			failed += r < 0;
		} else {
			char *want = NULL;
			size_t wl = 0;
			int rr = util_read_file(exp, 64u * 1024 * 1024, &want,
						&wl);
			bool ok = r == 0 && rr == 0 && wl == o.len &&
				  memcmp(want, o.data, wl) == 0;
			printf("%s %zu - %s\n", ok ? "ok" : "not ok", i + 1,
			       names[i]);
			if (!ok) {
				failed++;
				printf("# expected (%s):\n", exp);
				printf("# --- got:\n%s", buf_cstr(&o));
			}
			free(want);
		}
		buf_free(&o);
		free(eml);
		free(exp);
		free(names[i]);
	}
	free(names);
	return failed ? 1 : 0;
}

int main(int argc, char **argv)
{
	if (argc == 3 && strcmp(argv[1], "--check") == 0)
		return golden(argv[2], false);
	if (argc == 3 && strcmp(argv[1], "--update") == 0)
		return golden(argv[2], true);
	if (argc != 2) {
		fprintf(stderr, "usage: mail_dump FILE | --check DIR | "
				"--update DIR\n");
		return 2;
	}
	struct buf o;
	buf_init(&o, 64u * 1024 * 1024);
	int r = dump_file(argv[1], &o);
	if (r < 0) {
		fprintf(stderr, "%s: %s\n", argv[1], strerror(-r));
		return 1;
	}
	fwrite(o.data, 1, o.len, stdout);
	buf_free(&o);
	return 0;
}
