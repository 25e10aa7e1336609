/* test_store.c - the SQLite store on real database files: schema version,
 * refusal of a newer schema, duplicates, order status that only moves
 * forward and never reaches Delivered, shipments unique per order and
 * number, carrier notices attached to their shipment, quarantine rows. */
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

struct fixture {
	char dir[64];
	char path[128];
	struct store *store;
};

static int setup(void **state)
{
	struct fixture *f = xcalloc(1, sizeof(*f));
	snprintf(f->dir, sizeof(f->dir), "/tmp/tm-store-XXXXXX");
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

static long query_long(const char *path, const char *sql)
{
	sqlite3 *db;
	sqlite3_stmt *st;
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
	long v = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0)
						: -1;
	sqlite3_finalize(st);
	sqlite3_close(db);
	return v;
}

static void store_schema_is_versioned_and_wal(void **state)
{
	struct fixture *f = *state;
	assert_int_equal(query_long(f->path, "PRAGMA user_version"),
			 STORE_SCHEMA_VERSION);
	sqlite3 *db;
	sqlite3_stmt *st;
	sqlite3_open(f->path, &db);
	sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &st, NULL);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	assert_string_equal((const char *)sqlite3_column_text(st, 0), "wal");
	sqlite3_finalize(st);
	sqlite3_close(db);
	/* Opening again migrates nothing and keeps the data. */
	struct store_account a;
	assert_int_equal(store_account_add(f->store, "s", &a), 0);
	store_close(&f->store);
	const char *err;
	assert_int_equal(store_open(f->path, &f->store, &err), 0);
	assert_int_equal(store_account_by_name(f->store, "s", &a), 0);
}

static void store_refuses_a_newer_schema(void **state)
{
	struct fixture *f = *state;
	store_close(&f->store);
	sqlite3 *db;
	sqlite3_open(f->path, &db);
	assert_int_equal(sqlite3_exec(db, "PRAGMA user_version=99", NULL, NULL,
				      NULL),
			 SQLITE_OK);
	sqlite3_close(db);
	const char *err = NULL;
	assert_int_equal(store_open(f->path, &f->store, &err), -EPROTO);
	assert_non_null(strstr(err, "newer than this trackmail knows"));
}

static void store_tokens_are_random_base32(void **state)
{
	struct fixture *f = *state;
	struct store_account a, b, c;
	assert_int_equal(store_account_add(f->store, "one", &a), 0);
	assert_int_equal(store_account_add(f->store, "two", &b), 0);
	assert_int_equal(strlen(a.token), STORE_TOKEN_LEN);
	assert_string_not_equal(a.token, b.token);
	for (const char *s = a.token; *s; s++)
		assert_non_null(strchr("abcdefghijklmnopqrstuvwxyz234567", *s));
	assert_int_equal(store_account_add(f->store, "one", &c), -EEXIST);
	char upper[STORE_TOKEN_LEN + 1];
	for (int i = 0; i <= STORE_TOKEN_LEN; i++)
		upper[i] = (char)(a.token[i] >= 'a' ? a.token[i] - 32
						    : a.token[i]);
	assert_int_equal(store_account_by_token(f->store, upper, &c), 0);
	assert_string_equal(c.name, "one");
}

static void store_allowlist(void **state)
{
	struct fixture *f = *state;
	struct store_account a;
	store_account_add(f->store, "shop", &a);
	assert_int_equal(store_account_sender_allowed(f->store, a.id,
						      "any@x.example"),
			 1);
	store_account_allow_sender(f->store, a.id, "Me@Shop.example");
	assert_int_equal(store_account_sender_allowed(f->store, a.id,
						      "me@shop.example"),
			 1);
	assert_int_equal(store_account_sender_allowed(f->store, a.id,
						      "other@shop.example"),
			 0);
}

static int64_t insert_message(struct store *s, int64_t account,
			      const char *mid, const char *hash)
{
	struct store_message m = { .account_id = account, .message_id = mid,
				   .content_hash = hash, .source = "test" };
	int64_t id = 0;
	int r = store_message_insert(s, &m, &id);
	assert_true(r == 0 || r == 1);
	return r == 1 ? id : -id;
}

static void store_message_duplicates(void **state)
{
	struct fixture *f = *state;
	struct store_account a;
	store_account_default(f->store, &a);
	int64_t id = insert_message(f->store, a.id, "m1@x", "h1");
	assert_true(id > 0);
	assert_int_equal(insert_message(f->store, a.id, "m1@x", "h1"), -id);
	/* Same Message-ID, other content: a different message. */
	assert_true(insert_message(f->store, a.id, "m1@x", "h2") > 0);
	assert_int_equal(store_count(f->store, "messages"), 2);
}

/* A parse result with one event and optional shipments, built by hand. */
static void result(struct parse_result *r, enum parse_event ev,
		   const char *order, const char *number, const char *carrier)
{
	parse_result_init(r);
	r->outcome = number ? OUTCOME_SHIPPED : OUTCOME_INFO;
	r->event = ev;
	if (order) {
		r->orders = xcalloc(1, sizeof(char *));
		r->orders[0] = xstrdup(order);
		r->n_orders = 1;
		r->order = xstrdup(order);
	}
	if (number) {
		r->shipments = xcalloc(1, sizeof(*r->shipments));
		r->n_shipments = 1;
		r->shipments[0].order = order ? xstrdup(order) : NULL;
		snprintf(r->shipments[0].decision.check.normalized,
			 CARRIER_NUMBER_MAX, "%s", number);
		r->shipments[0].carrier_id = carrier;
	}
}

/* Records r for a fresh message as supplier "amazon" (needs a parser:
 * the store takes the supplier id from the result's parser). */
static struct parser_set *amazon_set(void)
{
	struct parser_set *set = parser_set_new();
	struct buf errors;
	buf_init(&errors, 65536);
	char path[] = "/tmp/tm-parser-XXXXXX.yaml";
	int fd = mkstemps(path, 5);
	assert_true(fd >= 0);
	static const char yaml[] =
		"id: amazon\nname: Amazon\nmatch:\n  domains: [amazon.example]\n"
		"  subject: ['order']\n";
	assert_int_equal(write(fd, yaml, sizeof(yaml) - 1),
			 (ssize_t)sizeof(yaml) - 1);
	close(fd);
	assert_int_equal(parser_set_add_file(set, path, &errors), 0);
	unlink(path);
	buf_free(&errors);
	return set;
}

static void record(struct store *s, int64_t account, const char *mid,
		   struct parse_result *r)
{
	int64_t row = insert_message(s, account, mid, mid);
	assert_true(row > 0);
	assert_int_equal(store_begin(s), 0);
	assert_int_equal(store_record_result(s, account, row, r, "{}"), 0);
	assert_int_equal(store_commit(s), 0);
	parse_result_clear(r);
}

static void store_order_status_moves_forward_never_delivered(void **state)
{
	struct fixture *f = *state;
	struct parser_set *set = amazon_set();
	const struct parser *p = parser_set_at(set, 0);
	struct store_account a;
	store_account_default(f->store, &a);
	struct parse_result r;

	result(&r, EVENT_SHIPPED, "111-1", NULL, NULL);
	r.parser = p;
	record(f->store, a.id, "a", &r);
	assert_int_equal(query_long(f->path, "SELECT count(*) FROM "
				    "supplier_orders WHERE status = "
				    "'awaiting_tracking'"),
			 1);
	result(&r, EVENT_SHIPPED, "111-1", "1Z12345E0205271686", "ups");
	r.parser = p;
	record(f->store, a.id, "b", &r);
	/* A late "ordered" mail does not move it back. */
	result(&r, EVENT_ORDERED, "111-1", NULL, NULL);
	r.parser = p;
	record(f->store, a.id, "c", &r);
	/* Delivered is an event, never a status. */
	result(&r, EVENT_DELIVERED, "111-1", NULL, NULL);
	r.parser = p;
	record(f->store, a.id, "d", &r);
	assert_int_equal(query_long(f->path, "SELECT count(*) FROM "
				    "supplier_orders WHERE status = 'shipped'"),
			 1);
	assert_int_equal(query_long(f->path, "SELECT count(*) FROM events "
				    "WHERE event = 'delivered'"),
			 1);
	/* The same number for the same order again: one shipment. */
	result(&r, EVENT_SHIPPED, "111-1", "1Z12345E0205271686", "ups");
	r.parser = p;
	record(f->store, a.id, "e", &r);
	assert_int_equal(store_count(f->store, "shipments"), 1);
	/* A cancellation always shows. */
	result(&r, EVENT_CANCELLED, "111-1", NULL, NULL);
	r.parser = p;
	record(f->store, a.id, "f", &r);
	assert_int_equal(query_long(f->path, "SELECT count(*) FROM "
				    "supplier_orders WHERE status = "
				    "'cancelled'"),
			 1);
	/* A refund outranks the cancellation, whichever arrives first. */
	result(&r, EVENT_REFUNDED, "111-1", NULL, NULL);
	r.parser = p;
	record(f->store, a.id, "g", &r);
	result(&r, EVENT_CANCELLED, "111-1", NULL, NULL);
	r.parser = p;
	record(f->store, a.id, "h", &r);
	assert_int_equal(query_long(f->path, "SELECT count(*) FROM "
				    "supplier_orders WHERE status = "
				    "'refunded'"),
			 1);
	/* The CHECK constraint refuses a Delivered status outright. */
	sqlite3 *db;
	sqlite3_open(f->path, &db);
	assert_int_not_equal(sqlite3_exec(db, "UPDATE supplier_orders SET "
					  "status = 'delivered'", NULL, NULL,
					  NULL),
			     SQLITE_OK);
	sqlite3_close(db);
	parser_set_free(&set);
}

static void store_quarantine_rows(void **state)
{
	struct fixture *f = *state;
	struct store_account a;
	store_account_default(f->store, &a);
	int64_t row = insert_message(f->store, a.id, "q", "q");
	int64_t id;
	assert_int_equal(store_quarantine_add(f->store, a.id, row,
					      "template-drift", "detail",
					      "/x/new/1", &id),
			 0);
	struct store_quarantine q;
	assert_int_equal(store_quarantine_get(f->store, id, &q), 0);
	assert_string_equal(q.reason, "template-drift");
	assert_string_equal(q.state, "open");
	assert_string_equal(q.account, "default");
	store_quarantine_clear(&q);
	assert_int_equal(store_quarantine_set_state(f->store, id, "resolved",
						    "/x/cur/1:2,S"),
			 0);
	assert_int_equal(store_quarantine_get(f->store, id, &q), 0);
	assert_string_equal(q.state, "resolved");
	assert_string_equal(q.path, "/x/cur/1:2,S");
	store_quarantine_clear(&q);
	assert_int_equal(store_quarantine_set_state(f->store, 999, "dropped",
						    NULL),
			 -ENOENT);
	assert_int_equal(store_quarantine_get(f->store, 999, &q), -ENOENT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(store_schema_is_versioned_and_wal,
						setup, teardown),
		cmocka_unit_test_setup_teardown(store_refuses_a_newer_schema,
						setup, teardown),
		cmocka_unit_test_setup_teardown(store_tokens_are_random_base32,
						setup, teardown),
		cmocka_unit_test_setup_teardown(store_allowlist, setup,
						teardown),
		cmocka_unit_test_setup_teardown(store_message_duplicates, setup,
						teardown),
		cmocka_unit_test_setup_teardown(
			store_order_status_moves_forward_never_delivered, setup,
			teardown),
		cmocka_unit_test_setup_teardown(store_quarantine_rows, setup,
						teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
