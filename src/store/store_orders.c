/* store_orders.c - stores, seller orders, order links and the outbox of
 * pushes (migration step "dispatch" in store.c, store_orders.h,
 * docs/dispatch.md). */
#include "store/store_orders.h"

#include <errno.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "store/store_internal.h"

static char *col_dup(sqlite3_stmt *st, int i)
{
	const unsigned char *t = sqlite3_column_text(st, i);
	return t ? xstrdup((const char *)t) : NULL;
}

static const char *col(sqlite3_stmt *st, int i)
{
	const unsigned char *t = sqlite3_column_text(st, i);
	return t ? (const char *)t : NULL;
}

void store_channel_clear(struct store_channel *c)
{
	free(c->api_url);
	free(c->ca_file);
	if (c->credentials) {
		explicit_bzero(c->credentials, strlen(c->credentials));
		free(c->credentials);
	}
	free(c->settings);
	memset(c, 0, sizeof(*c));
}

int store_channel_add(struct store *store, int64_t account_id,
		      const char *name, const char *channel,
		      const char *api_url, const char *ca_file,
		      const char *credentials)
{
	static const char sql[] =
		"INSERT INTO stores(account_id, name, channel, api_url, "
		"ca_file, credentials, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)";
	sqlite3_stmt *st = store_stmt(store, sql);
	if (!st)
		return -EIO;
	sqlite3_bind_int64(st, 1, account_id);
	store_bind_text(st, 2, name);
	store_bind_text(st, 3, channel);
	store_bind_text(st, 4, api_url);
	store_bind_text(st, 5, ca_file);
	store_bind_text(st, 6, credentials);
	sqlite3_bind_int64(st, 7, store_now());
	return store_step_done(store, st);
}

static void read_channel(sqlite3_stmt *st, bool with_secret,
			 struct store_channel *out)
{
	memset(out, 0, sizeof(*out));
	out->id = sqlite3_column_int64(st, 0);
	out->account_id = sqlite3_column_int64(st, 1);
	snprintf(out->name, sizeof(out->name), "%s", col(st, 2));
	snprintf(out->channel, sizeof(out->channel), "%s", col(st, 3));
	out->api_url = col_dup(st, 4);
	out->ca_file = col_dup(st, 5);
	out->settings = col_dup(st, 6);
	if (with_secret)
		out->credentials = col_dup(st, 7);
}

int store_channel_get(struct store *store, const char *name, bool with_secret,
		      struct store_channel *out)
{
	static const char sql[] =
		"SELECT id, account_id, name, channel, api_url, ca_file, "
		"settings, credentials FROM stores WHERE name = ?";
	sqlite3_stmt *st = store_stmt(store, sql);
	if (!st)
		return -EIO;
	store_bind_text(st, 1, name);
	int rc = sqlite3_step(st);
	int r = 0;
	if (rc == SQLITE_ROW)
		read_channel(st, with_secret, out);
	else
		r = rc == SQLITE_DONE ? -ENOENT : store_fail(store, rc);
	store_stmt_done(store, st);
	return r;
}

int store_channel_each(struct store *store,
		       void (*fn)(const struct store_channel *c, void *ctx),
		       void *ctx)
{
	static const char sql[] =
		"SELECT id, account_id, name, channel, api_url, ca_file, "
		"settings FROM stores ORDER BY name";
	sqlite3_stmt *st = store_stmt(store, sql);
	if (!st)
		return -EIO;
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct store_channel c;
		read_channel(st, false, &c);
		fn(&c, ctx);
		store_channel_clear(&c);
	}
	int r = rc == SQLITE_DONE ? 0 : store_fail(store, rc);
	store_stmt_done(store, st);
	return r;
}

int store_channel_set(struct store *store, const char *name, const char *key,
		      const char *json_value)
{
	/* A value that is not JSON is a string. */
	static const char sql[] =
		"UPDATE stores SET settings = json_set(settings, '$.' || "
		"json_quote(?1), CASE WHEN json_valid(?2) THEN json(?2) "
		"ELSE ?2 END) WHERE name = ?3";
	sqlite3_stmt *st = store_stmt(store, sql);
	if (!st)
		return -EIO;
	store_bind_text(st, 1, key);
	store_bind_text(st, 2, json_value);
	store_bind_text(st, 3, name);
	int r = store_step_done(store, st);
	if (r == 0 && sqlite3_changes(store->db) == 0)
		return -ENOENT;
	return r;
}

int store_channel_set_credentials(struct store *store, const char *name,
				  const char *credentials)
{
	static const char sql[] =
		"UPDATE stores SET credentials = ? WHERE name = ?";
	sqlite3_stmt *st = store_stmt(store, sql);
	if (!st)
		return -EIO;
	store_bind_text(st, 1, credentials);
	store_bind_text(st, 2, name);
	int r = store_step_done(store, st);
	if (r == 0 && sqlite3_changes(store->db) == 0)
		return -ENOENT;
	return r;
}

int store_order_add(struct store *store, int64_t store_id,
		    const char *channel_order, const char *supplier,
		    const char *supplier_order, const struct store_line *lines,
		    size_t n_lines, int64_t *id_r)
{
	static const char ins[] =
		"INSERT INTO seller_orders(store_id, channel_order, created_at)"
		" VALUES (?1, ?2, ?3) ON CONFLICT (store_id, channel_order) DO "
		"UPDATE SET store_id = ?1 RETURNING id";
	sqlite3_stmt *st = store_stmt(store, ins);
	if (!st)
		return -EIO;
	sqlite3_bind_int64(st, 1, store_id);
	store_bind_text(st, 2, channel_order);
	sqlite3_bind_int64(st, 3, store_now());
	int rc = sqlite3_step(st);
	int r = 0;
	if (rc == SQLITE_ROW)
		*id_r = sqlite3_column_int64(st, 0);
	else
		r = store_fail(store, rc);
	store_stmt_done(store, st);
	if (r < 0)
		return r;
	static const char line[] =
		"INSERT INTO seller_order_lines(seller_order_id, line_id, "
		"quantity) VALUES (?1, ?2, ?3) ON CONFLICT DO UPDATE SET "
		"quantity = ?3";
	for (size_t i = 0; i < n_lines; i++) {
		st = store_stmt(store, line);
		if (!st)
			return -EIO;
		sqlite3_bind_int64(st, 1, *id_r);
		store_bind_text(st, 2, lines[i].line_id);
		sqlite3_bind_int(st, 3, lines[i].quantity);
		r = store_step_done(store, st);
		if (r < 0)
			return r;
	}
	static const char link[] =
		"INSERT INTO order_links(seller_order_id, account_id, supplier,"
		" supplier_order, norm) SELECT ?1, account_id, ?2, ?3, "
		STORE_ORDER_NORM("?3") " FROM stores WHERE id = ?4 "
		"ON CONFLICT DO NOTHING";
	st = store_stmt(store, link);
	if (!st)
		return -EIO;
	sqlite3_bind_int64(st, 1, *id_r);
	store_bind_text(st, 2, supplier);
	store_bind_text(st, 3, supplier_order);
	sqlite3_bind_int64(st, 4, store_id);
	r = store_step_done(store, st);
	if (r < 0)
		return r;
	return sqlite3_changes(store->db) ? 1 : 0;
}

/* A seller order's status: shipped once a push is done (the channel
 * shows the number); otherwise what its supplier orders say. Never
 * delivered. */
#define ORDER_STATUS_SQL \
	"CASE WHEN EXISTS (SELECT 1 FROM pushes p WHERE p.seller_order_id = " \
	"o.id AND p.state = 'done') THEN 'shipped' "                        \
	"WHEN EXISTS (SELECT 1 FROM order_links l JOIN supplier_orders so "  \
	"ON so.account_id = l.account_id AND so.supplier = l.supplier AND "  \
	"so.order_norm = l.norm WHERE l.seller_order_id = o.id AND "         \
	"so.status = 'refunded') THEN 'supplier_refunded' "                  \
	"WHEN EXISTS (SELECT 1 FROM order_links l JOIN supplier_orders so "  \
	"ON so.account_id = l.account_id AND so.supplier = l.supplier AND "  \
	"so.order_norm = l.norm WHERE l.seller_order_id = o.id AND "         \
	"so.status = 'cancelled') THEN 'supplier_cancelled' "                \
	"WHEN EXISTS (SELECT 1 FROM order_links l JOIN supplier_orders so "  \
	"ON so.account_id = l.account_id AND so.supplier = l.supplier AND "  \
	"so.order_norm = l.norm WHERE l.seller_order_id = o.id AND "         \
	"so.status = 'awaiting_tracking') "                    \
	"THEN 'awaiting_tracking' ELSE 'ordered' END"

int store_order_each(struct store *store, const char *status, int64_t id,
		     void (*fn)(const struct store_order_row *o, void *ctx),
		     void *ctx)
{
	static const char sql[] =
		"SELECT * FROM (SELECT o.id, s.name, s.channel, "
		"o.channel_order, (SELECT group_concat(DISTINCT supplier) FROM "
		"order_links WHERE seller_order_id = o.id), (SELECT "
		"group_concat(supplier_order, ', ') FROM order_links WHERE "
		"seller_order_id = o.id), " ORDER_STATUS_SQL " AS status, "
		"coalesce((SELECT group_concat(sh.tracking_number, ', ') FROM "
		"pushes p JOIN shipments sh ON sh.id = p.shipment_id WHERE "
		"p.seller_order_id = o.id AND p.state = 'done'), '') "
		"FROM seller_orders o JOIN stores s ON s.id = o.store_id "
		"WHERE (?2 = 0 OR o.id = ?2)) WHERE (?1 IS NULL OR status = ?1) "
		"ORDER BY 1";
	sqlite3_stmt *st = store_stmt(store, sql);
	if (!st)
		return -EIO;
	store_bind_text(st, 1, status);
	sqlite3_bind_int64(st, 2, id);
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct store_order_row o = {
			.id = sqlite3_column_int64(st, 0),
			.store = col(st, 1),
			.channel = col(st, 2),
			.channel_order = col(st, 3),
			.supplier = col(st, 4) ? col(st, 4) : "",
			.supplier_order = col(st, 5) ? col(st, 5) : "",
			.status = col(st, 6),
			.tracking = col(st, 7),
		};
		fn(&o, ctx);
	}
	int r = rc == SQLITE_DONE ? 0 : store_fail(store, rc);
	store_stmt_done(store, st);
	return r;
}

#define PUSH_COLUMNS \
	"p.id, p.state, p.attempts, p.next_at, p.last_error, p.remote_ref, " \
	"p.previous_tracking, coalesce(s.id, 0), s.name, s.channel, "        \
	"o.channel_order, sh.tracking_number, sh.carrier, so.supplier, "    \
	"so.order_number, coalesce(p.seller_order_id, 0) FROM pushes p "     \
	"JOIN shipments sh ON sh.id = p.shipment_id "                        \
	"LEFT JOIN supplier_orders so ON so.id = sh.supplier_order_id "      \
	"LEFT JOIN seller_orders o ON o.id = p.seller_order_id "             \
	"LEFT JOIN stores s ON s.id = o.store_id "

static int push_rows(struct store *store, sqlite3_stmt *st,
		     void (*fn)(const struct store_push *p, void *ctx),
		     void *ctx)
{
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct store_push p = {
			.id = sqlite3_column_int64(st, 0),
			.state = col(st, 1),
			.attempts = sqlite3_column_int(st, 2),
			.next_at = sqlite3_column_int64(st, 3),
			.last_error = col(st, 4),
			.remote_ref = col(st, 5),
			.previous_tracking = col(st, 6),
			.store_id = sqlite3_column_int64(st, 7),
			.store = col(st, 8),
			.channel = col(st, 9),
			.channel_order = col(st, 10),
			.tracking = col(st, 11),
			.carrier = col(st, 12),
			.supplier = col(st, 13),
			.supplier_order = col(st, 14),
			.seller_order_id = sqlite3_column_int64(st, 15),
		};
		fn(&p, ctx);
	}
	int r = rc == SQLITE_DONE ? 0 : store_fail(store, rc);
	store_stmt_done(store, st);
	return r;
}

int store_push_each(struct store *store, const char *state,
		    void (*fn)(const struct store_push *p, void *ctx),
		    void *ctx)
{
	static const char sql[] = "SELECT " PUSH_COLUMNS
		"WHERE (?1 IS NULL OR p.state = ?1) ORDER BY p.id";
	sqlite3_stmt *st = store_stmt(store, sql);
	if (!st)
		return -EIO;
	store_bind_text(st, 1, state);
	return push_rows(store, st, fn, ctx);
}

int store_push_one(struct store *store, int64_t id,
		   void (*fn)(const struct store_push *p, void *ctx),
		   void *ctx)
{
	static const char sql[] = "SELECT " PUSH_COLUMNS "WHERE p.id = ?1";
	sqlite3_stmt *st = store_stmt(store, sql);
	if (!st)
		return -EIO;
	sqlite3_bind_int64(st, 1, id);
	return push_rows(store, st, fn, ctx);
}

int store_push_due(struct store *store, int64_t now, int limit,
		   void (*fn)(const struct store_push *p, void *ctx),
		   void *ctx)
{
	static const char sql[] = "SELECT " PUSH_COLUMNS
		"WHERE p.state IN ('due', 'sent') AND p.next_at <= ?1 "
		"ORDER BY p.next_at, p.id LIMIT ?2";
	sqlite3_stmt *st = store_stmt(store, sql);
	if (!st)
		return -EIO;
	sqlite3_bind_int64(st, 1, now);
	sqlite3_bind_int(st, 2, limit);
	return push_rows(store, st, fn, ctx);
}

int store_push_lines(struct store *store, int64_t seller_order_id,
		     void (*fn)(const char *line_id, int qty, void *ctx),
		     void *ctx)
{
	static const char sql[] =
		"SELECT line_id, quantity FROM seller_order_lines WHERE "
		"seller_order_id = ? ORDER BY line_id";
	sqlite3_stmt *st = store_stmt(store, sql);
	if (!st)
		return -EIO;
	sqlite3_bind_int64(st, 1, seller_order_id);
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		fn(col(st, 0), sqlite3_column_int(st, 1), ctx);
	int r = rc == SQLITE_DONE ? 0 : store_fail(store, rc);
	store_stmt_done(store, st);
	return r;
}

int store_push_sent(struct store *store, int64_t id, const char *request,
		    int64_t lease_until)
{
	static const char sql[] =
		"UPDATE pushes SET state = 'sent', attempts = attempts + 1, "
		"sent_request = ?, updated_at = ?, next_at = ? WHERE id = ?";
	sqlite3_stmt *st = store_stmt(store, sql);
	if (!st)
		return -EIO;
	store_bind_text(st, 1, request);
	sqlite3_bind_int64(st, 2, store_now());
	sqlite3_bind_int64(st, 3, lease_until);
	sqlite3_bind_int64(st, 4, id);
	return store_step_done(store, st);
}

int store_push_reclaim(struct store *store, int64_t now)
{
	static const char sql[] =
		"UPDATE pushes SET next_at = ? WHERE state = 'sent'";
	sqlite3_stmt *st = store_stmt(store, sql);
	if (!st)
		return -EIO;
	sqlite3_bind_int64(st, 1, now);
	return store_step_done(store, st);
}

int store_push_next_at(struct store *store, int64_t *t_r)
{
	static const char sql[] =
		"SELECT min(next_at) FROM pushes WHERE state IN ('due', 'sent')";
	sqlite3_stmt *st = store_stmt(store, sql);
	if (!st)
		return -EIO;
	int rc = sqlite3_step(st);
	int r = 0;
	if (rc == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL) {
		*t_r = sqlite3_column_int64(st, 0);
		r = 1;
	} else if (rc != SQLITE_ROW) {
		r = store_fail(store, rc);
	}
	store_stmt_done(store, st);
	return r;
}

int store_push_finish(struct store *store, int64_t id, const char *state,
		      int64_t next_at, const char *error,
		      const char *remote_ref)
{
	static const char sql[] =
		"UPDATE pushes SET state = ?1, next_at = ?2, last_error = ?3, "
		"remote_ref = coalesce(?4, remote_ref), updated_at = ?5 "
		"WHERE id = ?6";
	sqlite3_stmt *st = store_stmt(store, sql);
	if (!st)
		return -EIO;
	store_bind_text(st, 1, state);
	sqlite3_bind_int64(st, 2, next_at);
	store_bind_text(st, 3, error);
	store_bind_text(st, 4, remote_ref && *remote_ref ? remote_ref : NULL);
	sqlite3_bind_int64(st, 5, store_now());
	sqlite3_bind_int64(st, 6, id);
	return store_step_done(store, st);
}

int store_push_retry(struct store *store, int64_t id)
{
	static const char sql[] =
		"UPDATE pushes SET state = 'due', attempts = 0, next_at = ?1, "
		"updated_at = ?1 WHERE state IN ('manual', 'dead') AND "
		"(?2 = 0 OR id = ?2)";
	sqlite3_stmt *st = store_stmt(store, sql);
	if (!st)
		return -EIO;
	sqlite3_bind_int64(st, 1, store_now());
	sqlite3_bind_int64(st, 2, id);
	int r = store_step_done(store, st);
	return r < 0 ? r : sqlite3_changes(store->db);
}

int store_conversion_get(struct store *store, int64_t push_id,
			 struct store_conversion *out)
{
	static const char sql[] =
		"SELECT coalesce(carrier, ''), coalesce(number, '') FROM "
		"conversions WHERE push_id = ?";
	sqlite3_stmt *st = store_stmt(store, sql);
	if (!st)
		return -EIO;
	sqlite3_bind_int64(st, 1, push_id);
	int rc = sqlite3_step(st);
	int r = 0;
	if (rc == SQLITE_ROW) {
		snprintf(out->carrier, sizeof(out->carrier), "%s", col(st, 0));
		snprintf(out->number, sizeof(out->number), "%s", col(st, 1));
		r = 1;
	} else if (rc != SQLITE_DONE) {
		r = store_fail(store, rc);
	}
	store_stmt_done(store, st);
	return r;
}

int store_conversion_add(struct store *store, int64_t push_id,
			 const char *provider, const char *orig_carrier,
			 const char *orig_number, const char *carrier,
			 const char *number, double cost,
			 const char *currency, const char *reason)
{
	static const char sql[] =
		"INSERT INTO conversions(push_id, provider, original_carrier, "
		"original_number, carrier, number, cost, currency, reason, "
		"created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
		"ON CONFLICT (push_id) DO NOTHING";
	sqlite3_stmt *st = store_stmt(store, sql);
	if (!st)
		return -EIO;
	sqlite3_bind_int64(st, 1, push_id);
	store_bind_text(st, 2, provider);
	store_bind_text(st, 3, orig_carrier);
	store_bind_text(st, 4, orig_number);
	store_bind_text(st, 5, carrier);
	store_bind_text(st, 6, number);
	sqlite3_bind_double(st, 7, cost);
	store_bind_text(st, 8, currency);
	store_bind_text(st, 9, reason);
	sqlite3_bind_int64(st, 10, store_now());
	return store_step_done(store, st);
}
