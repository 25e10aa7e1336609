/* test_accounts.c - accounts over their life on a real database file:
 * the lookup intake uses (disabled flag, old tokens during their grace
 * period only), delete removing every row that refers to the account, the
 * online backup, and the IMAP poller's state. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/util.h"
#include "store/store.h"
#include "store/store_accounts.h"

struct fixture {
	char dir[64];
	char path[128];
	struct store *store;
};

static int setup(void **state)
{
	struct fixture *f = xcalloc(1, sizeof(*f));
	snprintf(f->dir, sizeof(f->dir), "/tmp/tm-acct-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->path, sizeof(f->path), "%s/t.db", f->dir);
	const char *err = NULL;
	assert_int_equal(store_open(f->path, &f->store, &err), 0);
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

static long count_rows(const char *path, const char *table)
{
	sqlite3 *db;
	sqlite3_stmt *st;
	char *sql = xasprintf("SELECT count(*) FROM %s", table);
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
	long v = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0)
						: -1;
	sqlite3_finalize(st);
	sqlite3_close(db);
	free(sql);
	return v;
}

static void lookup_reports_disabled(void **state)
{
	struct fixture *f = *state;
	struct store_account a, b;
	bool disabled = true;
	assert_int_equal(store_account_add(f->store, "shop", &a), 0);
	char upper[STORE_TOKEN_LEN + 1];
	for (int i = 0; i <= STORE_TOKEN_LEN; i++)
		upper[i] = (char)(a.token[i] >= 'a' && a.token[i] <= 'z'
					  ? a.token[i] - 32
					  : a.token[i]);
	assert_int_equal(store_account_lookup(f->store, upper, &b, &disabled),
			 0);
	assert_int_equal(b.id, a.id);
	assert_false(disabled);
	assert_int_equal(store_account_set_disabled(f->store, a.id, true), 0);
	assert_int_equal(store_account_lookup(f->store, a.token, &b,
					      &disabled), 0);
	assert_true(disabled);
	assert_int_equal(store_account_set_disabled(f->store, a.id, false), 0);
	assert_int_equal(store_account_lookup(f->store, a.token, &b,
					      &disabled), 0);
	assert_false(disabled);
	assert_int_equal(store_account_lookup(f->store, "nosuchtoken", &b,
					      &disabled), -ENOENT);
}

static void rotate_keeps_old_token_for_grace_only(void **state)
{
	struct fixture *f = *state;
	struct store_account a, r1, r2, b;
	assert_int_equal(store_account_add(f->store, "shop", &a), 0);
	assert_int_equal(store_account_rotate(f->store, a.id, 14, &r1), 0);
	assert_string_not_equal(r1.token, a.token);
	assert_string_equal(r1.name, "shop");
	assert_int_equal(store_account_lookup(f->store, r1.token, &b, NULL), 0);
	assert_int_equal(b.id, a.id);
	assert_string_equal(b.token, r1.token);
	/* The old address still names the account during the grace period. */
	assert_int_equal(store_account_lookup(f->store, a.token, &b, NULL), 0);
	assert_int_equal(b.id, a.id);
	/* Grace 0: the token replaced now stops working at once. */
	assert_int_equal(store_account_rotate(f->store, a.id, 0, &r2), 0);
	assert_int_equal(store_account_lookup(f->store, r1.token, &b, NULL),
			 -ENOENT);
	assert_int_equal(store_account_lookup(f->store, a.token, &b, NULL), 0);
	assert_int_equal(store_account_lookup(f->store, r2.token, &b, NULL), 0);
	/* Only the account itself changed: no stray row left behind. */
	assert_int_equal(store_count(f->store, "accounts"), 1);
}

static void delete_removes_every_row(void **state)
{
	struct fixture *f = *state;
	struct store_account a, keep;
	assert_int_equal(store_account_add(f->store, "gone", &a), 0);
	assert_int_equal(store_account_add(f->store, "keep", &keep), 0);
	assert_int_equal(store_account_allow_sender(f->store, a.id, "x@y"), 0);
	assert_int_equal(store_account_rotate(f->store, a.id, 14, &a), 0);
	struct store_message m = { .account_id = a.id, .message_id = "m@x",
				   .content_hash = "h1", .source = "file" };
	int64_t row, krow, qid;
	assert_int_equal(store_message_insert(f->store, &m, &row), 1);
	m.account_id = keep.id;
	assert_int_equal(store_message_insert(f->store, &m, &krow), 1);
	assert_int_equal(store_quarantine_add(f->store, a.id, row, "no-parser",
					      "", "base1", &qid), 0);
	assert_int_equal(store_imap_delivered(f->store, "mb", "sp1", "h1",
					      a.id, "m@x"), 0);
	assert_int_equal(store_account_delete(f->store, a.id), 0);
	assert_int_equal(store_count(f->store, "accounts"), 1);
	assert_int_equal(store_count(f->store, "messages"), 1);
	assert_int_equal(store_count(f->store, "quarantine"), 0);
	assert_int_equal(count_rows(f->path, "account_senders"), 0);
	assert_int_equal(count_rows(f->path, "account_old_tokens"), 0);
	assert_int_equal(count_rows(f->path, "imap_delivered"), 0);
	assert_int_equal(store_account_delete(f->store, a.id), -ENOENT);
}

static void backup_is_a_readable_copy(void **state)
{
	struct fixture *f = *state;
	struct store_account a;
	assert_int_equal(store_account_add(f->store, "shop", &a), 0);
	char *dest = xasprintf("%s/copy.db", f->dir);
	assert_int_equal(store_backup(f->store, dest), 0);
	/* A second backup over an existing file is refused, not merged. */
	assert_int_equal(store_backup(f->store, dest), -EEXIST);
	struct store *copy = NULL;
	const char *err = NULL;
	assert_int_equal(store_open(dest, &copy, &err), 0);
	struct store_account b;
	assert_int_equal(store_account_by_name(copy, "shop", &b), 0);
	assert_string_equal(b.token, a.token);
	store_close(&copy);
	free(dest);
}

static int counted;
static int quarantined_seen;
static void count_pending(int64_t id, const char *message_id, int decided,
			  void *ctx)
{
	(void)id;
	(void)ctx;
	assert_string_equal(message_id, "<m1@x>");
	counted++;
	quarantined_seen = decided;
}

static void imap_state_and_pending(void **state)
{
	struct fixture *f = *state;
	uint32_t v, last;
	assert_int_equal(store_imap_state(f->store, "mb", &v, &last), -ENOENT);
	assert_int_equal(store_imap_set_state(f->store, "mb", 7, 3), 0);
	assert_int_equal(store_imap_set_state(f->store, "mb", 7, 5), 0);
	assert_int_equal(store_imap_state(f->store, "mb", &v, &last), 0);
	assert_int_equal(v, 7);
	assert_int_equal(last, 5);
	struct store_account a;
	assert_int_equal(store_account_default(f->store, &a), 0);
	assert_int_equal(store_imap_delivered(f->store, "mb", "sp1", "h9",
					      a.id, "<m1@x>"), 0);
	assert_int_equal(store_imap_pending(f->store, "mb", count_pending,
					    NULL), 0);
	assert_int_equal(counted, 1);
	assert_int_equal(quarantined_seen, 0); /* no decision yet */
	struct store_message m = { .account_id = a.id, .message_id = "<m1@x>",
				   .content_hash = "h9", .source = "imap" };
	int64_t row, qid;
	assert_int_equal(store_message_insert(f->store, &m, &row), 1);
	assert_int_equal(store_quarantine_add(f->store, a.id, row, "dkim-fail",
					      "", "b", &qid), 0);
	counted = 0;
	assert_int_equal(store_imap_pending(f->store, "mb", count_pending,
					    NULL), 0);
	assert_int_equal(quarantined_seen, 2);
	int64_t id = 1;
	assert_int_equal(store_imap_set_delivered_state(f->store, id, "done"),
			 0);
	counted = 0;
	assert_int_equal(store_imap_pending(f->store, "mb", count_pending,
					    NULL), 0);
	assert_int_equal(counted, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(lookup_reports_disabled, setup,
						teardown),
		cmocka_unit_test_setup_teardown(
			rotate_keeps_old_token_for_grace_only, setup, teardown),
		cmocka_unit_test_setup_teardown(delete_removes_every_row,
						setup, teardown),
		cmocka_unit_test_setup_teardown(backup_is_a_readable_copy,
						setup, teardown),
		cmocka_unit_test_setup_teardown(imap_state_and_pending, setup,
						teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
