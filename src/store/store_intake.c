/* store_intake.c - spool ids, intake sources and the message listing; see
 * store_intake.h. Schema: migration step "intake" in store.c. */
#include "store/store_intake.h"

#include <errno.h>
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>

#include "store/store_internal.h"

int store_intake_account_by_id(struct store *store, int64_t id,
			       struct store_account *out)
{
	static const char sql[] =
		"SELECT id, name, token FROM accounts WHERE id = ?";
	sqlite3_stmt *st = store_stmt(store, sql);
	if (!st)
		return -EIO;
	sqlite3_bind_int64(st, 1, id);
	int rc = sqlite3_step(st);
	int r;
	if (rc == SQLITE_ROW) {
		out->id = sqlite3_column_int64(st, 0);
		snprintf(out->name, sizeof(out->name), "%s",
			 (const char *)sqlite3_column_text(st, 1));
		snprintf(out->token, sizeof(out->token), "%s",
			 (const char *)sqlite3_column_text(st, 2));
		r = 0;
	} else if (rc == SQLITE_DONE) {
		r = -ENOENT;
	} else {
		r = store_fail(store, rc);
	}
	store_stmt_done(store, st);
	return r;
}

int store_intake_mark(struct store *store, int64_t row, const char *spool_id,
		      const char *intake)
{
	static const char sql[] =
		"UPDATE messages SET spool_id = ?, intake = ? WHERE id = ?";
	sqlite3_stmt *st = store_stmt(store, sql);
	if (!st)
		return -EIO;
	store_bind_text(st, 1, spool_id);
	store_bind_text(st, 2, intake ? intake : "file");
	sqlite3_bind_int64(st, 3, row);
	return store_step_done(store, st);
}

int store_intake_by_spool_id(struct store *store, const char *spool_id,
			     int64_t *row_r)
{
	static const char sql[] =
		"SELECT id FROM messages WHERE spool_id = ?";
	sqlite3_stmt *st = store_stmt(store, sql);
	if (!st)
		return -EIO;
	store_bind_text(st, 1, spool_id);
	int rc = sqlite3_step(st);
	int r = 0;
	if (rc == SQLITE_ROW) {
		*row_r = sqlite3_column_int64(st, 0);
		r = 1;
	} else if (rc != SQLITE_DONE) {
		r = store_fail(store, rc);
	}
	store_stmt_done(store, st);
	return r;
}

static const char *col(sqlite3_stmt *st, int i)
{
	const char *s = (const char *)sqlite3_column_text(st, i);
	return s ? s : "";
}

int store_intake_each(struct store *store, int64_t id, int64_t since,
		      const char *account,
		      void (*fn)(const struct store_intake_row *row, void *arg),
		      void *arg)
{
	static const char sql[] =
		"SELECT m.id, m.message_id, a.name, m.intake, m.source, "
		"m.received_at, m.result_json FROM messages m "
		"JOIN accounts a ON a.id = m.account_id "
		"WHERE (?1 = 0 OR m.id = (CASE WHEN ?1 < 0 THEN "
		"(SELECT max(id) FROM messages) ELSE ?1 END)) "
		"AND m.received_at >= ?2 "
		"AND (?3 IS NULL OR a.name = ?3) ORDER BY m.id";
	sqlite3_stmt *st = store_stmt(store, sql);
	if (!st)
		return -EIO;
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_int64(st, 2, since);
	store_bind_text(st, 3, account);
	int n = 0, rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct store_intake_row row = {
			.id = sqlite3_column_int64(st, 0),
			.message_id = col(st, 1),
			.account = col(st, 2),
			.intake = col(st, 3),
			.name = col(st, 4),
			.received_at = sqlite3_column_int64(st, 5),
			.result_json = col(st, 6),
		};
		fn(&row, arg);
		n++;
	}
	int r = rc == SQLITE_DONE ? n : store_fail(store, rc);
	store_stmt_done(store, st);
	return r;
}
