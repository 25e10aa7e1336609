/* test_safety.c - unit tests of decision safety's small pieces: terminal
 * escaping of mail-derived text (C0, C1, bidi, invalid UTF-8), the store
 * refusing a connection after fork(), one message row per content hash
 * whatever the Message-ID, and the history of a re-decided row. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/log.h"
#include "core/term.h"
#include "core/util.h"
#include "store/store.h"
#include "store/store_message.h"

static void escapes(const char *in, const char *want)
{
	char *got = term_safe(in);
	assert_string_equal(got, want);
	free(got);
}

static void term_escapes_controls(void **state)
{
	(void)state;
	escapes("plain text, Ünïcödé €", "plain text, Ünïcödé €");
	escapes("a\033[31mb", "a\\x1b[31mb");
	escapes("tab\tnl\ndel\x7f", "tab\\x09nl\\x0adel\\x7f");
	escapes("csi\xc2\x9b" "31m", "csi\\u009b31m");
	escapes("\xc2\x80\xc2\x9f", "\\u0080\\u009f");
	escapes("rlo\xe2\x80\xae" "x\xe2\x81\xa6y\xe2\x81\xa9", "rlo\\u202ex\\u2066y\\u2069");
	escapes("lrm\xe2\x80\x8e", "lrm\\u200e");
	escapes("bad\xff\xc2", "bad\\xff\\xc2");
	escapes("overlong\xc0\xaf", "overlong\\xc0\\xaf");
	escapes("back\\slash", "back\\\\slash");
	escapes(NULL, "");
}

static void log_escape_follows_the_terminal_rules(void **state)
{
	(void)state;
	struct buf b;
	buf_init(&b, 4096);
	log_escape(&b, "a\"b\xc2\x9b" "c\xe2\x80\xae" "d\\");
	assert_string_equal(buf_cstr(&b), "\"a\\\"b\\u009bc\\u202ed\\\\\"");
	buf_free(&b);
}

struct fixture {
	char dir[64];
	char path[128];
	struct store *store;
	int64_t account;
};

static int setup(void **state)
{
	struct fixture *f = xcalloc(1, sizeof(*f));
	snprintf(f->dir, sizeof(f->dir), "/tmp/tm-safety-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->path, sizeof(f->path), "%s/t.db", f->dir);
	const char *err = NULL;
	assert_int_equal(store_open(f->path, &f->store, &err), 0);
	struct store_account a;
	assert_int_equal(store_account_default(f->store, &a), 0);
	f->account = a.id;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	store_close(&f->store);
	char *cmd = xasprintf("rm -rf '%s'", f->dir);
	assert_int_equal(system(cmd), 0);
	free(cmd);
	free(f);
	return 0;
}

static void store_refuses_after_fork(void **state)
{
	struct fixture *f = *state;
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		/* The child must not use the parent's connection. */
		int r = store_begin(f->store);
		_exit(r == -EINVAL &&
			      strstr(store_error(f->store), "used in") ? 0 : 1);
	}
	int status;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	/* The parent's connection still works. */
	assert_int_equal(store_begin(f->store), 0);
	assert_int_equal(store_commit(f->store), 0);
}

static void one_row_per_content_hash(void **state)
{
	struct fixture *f = *state;
	struct store_message m = {
		.account_id = f->account,
		.message_id = "<a@b>",
		.content_hash = "h1",
		.source = "x.eml",
	};
	int64_t row, row2, found;
	assert_int_equal(store_begin(f->store), 0);
	assert_int_equal(store_message_insert(f->store, &m, &row), 1);
	/* A crash row carries no Message-ID: still the same message. */
	m.message_id = "";
	assert_int_equal(store_message_insert(f->store, &m, &row2), 0);
	assert_int_equal(row2, row);
	assert_int_equal(store_commit(f->store), 0);
	assert_int_equal(store_message_by_hash(f->store, 0, "h1", &found,
					       NULL), 1);
	assert_int_equal(found, row);
	assert_int_equal(store_message_by_hash(f->store, f->account + 1, "h1",
					       &found, NULL), 0);
	assert_int_equal(store_message_by_hash(f->store, 0, "h2", &found,
					       NULL), 0);
}

static void history_keeps_the_earlier_decision(void **state)
{
	struct fixture *f = *state;
	struct store_message m = {
		.account_id = f->account,
		.message_id = "<a@b>",
		.content_hash = "h1",
		.source = "x.eml",
	};
	int64_t row;
	assert_int_equal(store_begin(f->store), 0);
	assert_int_equal(store_message_insert(f->store, &m, &row), 1);
	/* Never decided: nothing to keep. */
	assert_int_equal(store_message_keep_decision(f->store, row, "t"), 0);
	assert_int_equal(store_message_decision_count(f->store, row), 0);
	struct parse_result r;
	parse_result_init(&r);
	r.outcome = OUTCOME_QUARANTINED;
	r.reason = "unknown-sender";
	assert_int_equal(store_record_result(f->store, f->account, row, &r,
					     "{\"outcome\":\"quarantined\"}"),
			 0);
	assert_int_equal(store_message_keep_decision(f->store, row, "t"), 0);
	assert_int_equal(store_commit(f->store), 0);
	assert_int_equal(store_message_decision_count(f->store, row), 1);
	struct store_account a;
	assert_int_equal(store_message_account(f->store, row, &a), 0);
	assert_int_equal(a.id, f->account);
	assert_int_equal(store_message_account(f->store, row + 99, &a),
			 -ENOENT);
	r.reason = NULL;
	parse_result_clear(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(term_escapes_controls),
		cmocka_unit_test(log_escape_follows_the_terminal_rules),
		cmocka_unit_test_setup_teardown(store_refuses_after_fork, setup,
						teardown),
		cmocka_unit_test_setup_teardown(one_row_per_content_hash, setup,
						teardown),
		cmocka_unit_test_setup_teardown(
			history_keeps_the_earlier_decision, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
