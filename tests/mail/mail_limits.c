/* mail_limits.c - limits and hostile inputs built in memory (cmocka):
 * every limit of core/limits.h that mail_decode enforces gives its
 * quarantine reason, the libetpan crash inputs of LIBRARIES.md 2.6 decode
 * without crashing in a binary that links the boundary hotfix, and a
 * repeated decode leaks nothing (run under ASan/LSan or valgrind). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/buf.h"
#include "core/limits.h"
#include "core/util.h"
#include "mail/mail.h"

/* Decodes b (padded) and returns the reason, or NULL on success. */
static const char *decode_reason(const struct buf *b,
				 struct decoded_message **msg_r)
{
	char *raw = xmalloc(b->len + 16);
	const char *reason = NULL;
	struct decoded_message *msg = NULL;

	memcpy(raw, b->data, b->len);
	memset(raw + b->len, 0, 16);
	int r = mail_decode(raw, b->len, &msg, &reason);
	free(raw);
	if (r == 0) {
		assert_non_null(msg);
		assert_null(reason);
		if (msg_r)
			*msg_r = msg;
		else
			mail_free(&msg);
		return NULL;
	}
	assert_null(msg);
	assert_non_null(reason);
	return reason;
}

static void big_buf(struct buf *b)
{
	buf_init(b, 200u * 1024 * 1024);
}

static void message_size_limit(void **state)
{
	struct buf b;
	big_buf(&b);
	buf_append_str(&b, "From: a@b.example\nSubject: big\n\n");
	char line[1024];
	memset(line, 'x', sizeof(line) - 1);
	line[sizeof(line) - 1] = '\n';
	while (b.len <= LIMIT_MESSAGE_SIZE)
		buf_append(&b, line, sizeof(line));
	assert_string_equal(decode_reason(&b, NULL), "limit:message-size");
	buf_free(&b);
}

static void header_line_limit(void **state)
{
	struct buf b;
	big_buf(&b);
	buf_append_str(&b, "From: a@b.example\nSubject: ");
	for (size_t i = 0; i <= LIMIT_HEADER_LINE; i++)
		buf_append_char(&b, 'y');
	buf_append_str(&b, "\n\nbody\n");
	assert_string_equal(decode_reason(&b, NULL), "limit:header-line");
	buf_free(&b);
}

static void header_folded_line_limit(void **state)
{
	struct buf b;
	big_buf(&b);
	buf_append_str(&b, "From: a@b.example\nSubject: x\n");
	for (size_t i = 0; i <= LIMIT_HEADER_LINE / 64; i++)
		buf_append_str(&b, " 0123456789012345678901234567890123456"
				   "78901234567890123456789012\n");
	buf_append_str(&b, "\nbody\n");
	assert_string_equal(decode_reason(&b, NULL), "limit:header-line");
	buf_free(&b);
}

static void header_count_limit(void **state)
{
	struct buf b;
	big_buf(&b);
	for (size_t i = 0; i <= LIMIT_HEADER_COUNT; i++)
		buf_printf(&b, "X-H%zu: v\n", i);
	buf_append_str(&b, "\nbody\n");
	assert_string_equal(decode_reason(&b, NULL), "limit:header-count");
	buf_free(&b);
}

static void nested(struct buf *b, unsigned depth, const char *type)
{
	buf_append_str(b, "From: a@b.example\nSubject: nest\n");
	for (unsigned i = 0; i < depth; i++) {
		if (strcmp(type, "message/rfc822") == 0)
			buf_append_str(b, "Content-Type: message/rfc822\n\n"
					  "From: c@d.example\n");
		else
			buf_printf(b, "Content-Type: %s; boundary=\"b%u\"\n"
				      "\n--b%u\n", type, i, i);
	}
	buf_append_str(b, "Content-Type: text/plain\n\ndeep\n");
	if (strcmp(type, "message/rfc822") != 0)
		for (unsigned i = depth; i-- > 0;)
			buf_printf(b, "--b%u--\n", i);
}

static void mime_depth_limit(void **state)
{
	struct buf b;
	struct decoded_message *m = NULL;

	big_buf(&b);
	nested(&b, LIMIT_MIME_DEPTH, "multipart/mixed");
	assert_null(decode_reason(&b, &m));
	assert_int_equal(m->n_parts, 1);
	assert_int_equal(m->parts[0].depth, LIMIT_MIME_DEPTH);
	assert_string_equal(m->parts[0].text, "deep");
	mail_free(&m);
	buf_reset(&b);
	nested(&b, LIMIT_MIME_DEPTH + 1, "multipart/mixed");
	assert_string_equal(decode_reason(&b, NULL), "limit:mime-depth");
	buf_free(&b);
}

static void mime_depth_rfc822(void **state)
{
	struct buf b;
	big_buf(&b);
	nested(&b, LIMIT_MIME_DEPTH, "message/rfc822");
	assert_null(decode_reason(&b, NULL));
	buf_reset(&b);
	nested(&b, LIMIT_MIME_DEPTH + 1, "message/rfc822");
	assert_string_equal(decode_reason(&b, NULL), "limit:mime-depth");
	buf_free(&b);
}

/* LIBRARIES.md 0.6: 30,000 nested message/rfc822 overflow the stack and
 * 20,000 nested multiparts take 33 s; the pre-scan refuses at once. */
static void mime_depth_hostile(void **state)
{
	struct buf b;
	big_buf(&b);
	nested(&b, 30000, "message/rfc822");
	assert_string_equal(decode_reason(&b, NULL), "limit:mime-depth");
	buf_reset(&b);
	nested(&b, 20000, "multipart/mixed");
	assert_string_equal(decode_reason(&b, NULL), "limit:mime-depth");
	buf_free(&b);
}

static void mime_parts_limit(void **state)
{
	struct buf b;
	big_buf(&b);
	buf_append_str(&b, "From: a@b.example\nContent-Type: multipart/mixed;"
			   " boundary=\"p\"\n\n");
	for (size_t i = 0; i <= LIMIT_MIME_PARTS; i++)
		buf_append_str(&b, "--p\nContent-Type: image/gif\n\nx\n");
	buf_append_str(&b, "--p--\n");
	assert_string_equal(decode_reason(&b, NULL), "limit:mime-parts");
	buf_free(&b);
}

static void html_depth_limit(void **state)
{
	struct buf b;
	struct decoded_message *m = NULL;

	big_buf(&b);
	buf_append_str(&b, "From: a@b.example\nContent-Type: text/html\n\n");
	for (unsigned i = 0; i < 200; i++)
		buf_append_str(&b, "<div>");
	buf_append_str(&b, "ok 1Z999AA10123456784");
	assert_null(decode_reason(&b, &m));
	assert_non_null(strstr(m->text, "1Z999AA10123456784"));
	mail_free(&m);
	buf_reset(&b);
	buf_append_str(&b, "From: a@b.example\nContent-Type: text/html\n\n");
	for (unsigned i = 0; i < 5000; i++)
		buf_append_str(&b, "<div><span>");
	buf_append_str(&b, "deep");
	const char *reason = decode_reason(&b, &m);
	/* libxml2 may cap the tree itself; either way: no crash, and a
	 * tree deeper than LIMIT_HTML_DEPTH is refused. */
	if (reason)
		assert_string_equal(reason, "limit:html-depth");
	else
		mail_free(&m);
	buf_free(&b);
}

static void decoded_text_cut(void **state)
{
	struct buf b;
	struct decoded_message *m = NULL;

	big_buf(&b);
	buf_append_str(&b, "From: a@b.example\nContent-Type: text/plain;"
			   " charset=utf-8\n\n");
	while (b.len < LIMIT_DECODED_TEXT + 100000)
		buf_append_str(&b, "0123456789 \xe2\x82\xac tracking\n");
	assert_null(decode_reason(&b, &m));
	assert_true(m->defects & MAIL_DEFECT_TEXT_CUT);
	assert_true(m->text_len <= LIMIT_DECODED_TEXT);
	mail_free(&m);
	buf_free(&b);
}

static void empty_and_garbage(void **state)
{
	struct buf b;
	buf_init(&b, 1024);
	buf_append_str(&b, " \r\n\n");
	assert_string_equal(decode_reason(&b, NULL), "empty-message");
	buf_reset(&b);
	buf_append(&b, "\x00\x01\x02\x7f""ELF\x00\x00", 9);
	assert_string_equal(decode_reason(&b, NULL), "not-a-message");
	buf_free(&b);
}

/* LIBRARIES.md 0.3: boundary="\"" is a heap write in Debian's 1.9.4
 * mailmime_extract_boundary; this binary links src/mail/etpan_hotfix.c. */
static void etpan_boundary_quote(void **state)
{
	static const char *const inputs[] = {
		"From: a@b\nContent-Type: multipart/mixed; boundary=\"\\\"\"\n"
		"\n--\"\nContent-Type: text/plain\n\nx\n--\"--\n",
		"Content-Type: multipart/mixed; boundary=\"\\\"\"\n\n",
		"Content-Type: multipart/mixed; boundary=\"\"\n\n--\n\nx\n",
		"Content-Type: multipart/mixed; boundary=\"\n\n--\n",
		"Content-Type: multipart/mixed; boundary=\\\n\n--\\\n\nx\n",
	};
	for (size_t i = 0; i < sizeof(inputs) / sizeof(*inputs); i++) {
		struct buf b;
		struct decoded_message *m = NULL;
		buf_init(&b, 4096);
		buf_append_str(&b, inputs[i]);
		const char *reason = decode_reason(&b, &m);
		if (reason == NULL)
			mail_free(&m);
		buf_free(&b);
	}
}

/* LIBRARIES.md 2.6: a QP part ending in "=X" reads one byte past it. */
static void qp_overread(void **state)
{
	struct buf b;
	struct decoded_message *m = NULL;

	buf_init(&b, 4096);
	buf_append_str(&b, "Content-Type: text/plain\n"
			   "Content-Transfer-Encoding: quoted-printable\n"
			   "\nab=4");
	assert_null(decode_reason(&b, &m));
	mail_free(&m);
	buf_free(&b);
}

/* Safe to call repeatedly in one process: nothing accumulates. */
static void repeated_decode(void **state)
{
	struct buf b;
	buf_init(&b, 1u << 20);
	buf_append_str(&b,
		"From: Seller <s@x.example>\nSubject: =?utf-8?q?Fwd=3A_x?=\n"
		"Content-Type: multipart/mixed; boundary=\"m\"\n\n--m\n"
		"Content-Type: text/html; charset=iso-8859-1\n\n"
		"<p>---------- Forwarded message ---------<br>From: A "
		"&lt;a@a.example&gt;<br>Subject: s<br><br>"
		"<a href=\"https://t.example/1Z\">t\xe9</a></p>\n--m\n"
		"Content-Type: message/rfc822\n\nFrom: b@b.example\n\nbody\n"
		"--m--\n");
	for (int i = 0; i < 2000; i++) {
		struct decoded_message *m = NULL;
		assert_null(decode_reason(&b, &m));
		assert_int_equal(m->n_parts, 2);
		mail_free(&m);
		assert_null(m);
	}
	mail_free(NULL);
	buf_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(message_size_limit),
		cmocka_unit_test(header_line_limit),
		cmocka_unit_test(header_folded_line_limit),
		cmocka_unit_test(header_count_limit),
		cmocka_unit_test(mime_depth_limit),
		cmocka_unit_test(mime_depth_rfc822),
		cmocka_unit_test(mime_depth_hostile),
		cmocka_unit_test(mime_parts_limit),
		cmocka_unit_test(html_depth_limit),
		cmocka_unit_test(decoded_text_cut),
		cmocka_unit_test(empty_and_garbage),
		cmocka_unit_test(etpan_boundary_quote),
		cmocka_unit_test(qp_overread),
		cmocka_unit_test(repeated_decode),
	};
	return cmocka_run_group_tests_name("mail_limits", tests, NULL, NULL);
}
