/* store_message.c - the store's side of decision safety: one message is
 * one row (looked up by its content hash, also from the parent after a
 * worker died), and a message decided again keeps its earlier decisions
 * in message_decisions (migration step 1 -> 2 in store.c). See
 * store_message.h and docs/store.md "Decision history". */
#include "store/store_message.h"

#include <errno.h>
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>

#include "core/util.h"
#include "store/store_internal.h"

int store_message_by_hash(struct store *store, int64_t account_id,
			  const char *hash, int64_t *row_r, char **json_r)
{
	static const char sql[] =
		"SELECT id, coalesce(result_json, '') FROM messages "
		"WHERE (?1 = 0 OR account_id = ?1) AND content_hash = ?2 "
		"ORDER BY id LIMIT 1";
	sqlite3_stmt *st = store_stmt(store, sql);
	if (!st)
		return -EIO;
	sqlite3_bind_int64(st, 1, account_id);
	store_bind_text(st, 2, hash);
	int rc = sqlite3_step(st);
	int r = 0;
	if (rc == SQLITE_ROW) {
		*row_r = sqlite3_column_int64(st, 0);
		if (json_r)
			*json_r = xstrdup(
				(const char *)sqlite3_column_text(st, 1));
		r = 1;
	} else if (rc != SQLITE_DONE) {
		r = store_fail(store, rc);
	}
	store_stmt_done(store, st);
	return r;
}

int store_message_account(struct store *store, int64_t row,
			  struct store_account *out)
{
	static const char sql[] =
		"SELECT a.id, a.name, a.token FROM messages m "
		"JOIN accounts a ON a.id = m.account_id WHERE m.id = ?";
	sqlite3_stmt *st = store_stmt(store, sql);
	if (!st)
		return -EIO;
	sqlite3_bind_int64(st, 1, row);
	int rc = sqlite3_step(st);
	int r = 0;
	if (rc == SQLITE_ROW) {
		out->id = sqlite3_column_int64(st, 0);
		snprintf(out->name, sizeof(out->name), "%s",
			 (const char *)sqlite3_column_text(st, 1));
		snprintf(out->token, sizeof(out->token), "%s",
			 (const char *)sqlite3_column_text(st, 2));
	} else {
		r = rc == SQLITE_DONE ? -ENOENT : store_fail(store, rc);
	}
	store_stmt_done(store, st);
	return r;
}

int store_message_keep_decision(struct store *store, int64_t row,
				const char *by)
{
	static const char sql[] =
		"INSERT INTO message_decisions(message_row, supplier, outcome,"
		" event, reason, result_json, replaced_at, replaced_by) "
		"SELECT id, supplier, outcome, event, reason, result_json, ?,"
		" ? FROM messages WHERE id = ? AND outcome IS NOT NULL";
	sqlite3_stmt *st = store_stmt(store, sql);
	if (!st)
		return -EIO;
	sqlite3_bind_int64(st, 1, store_now());
	store_bind_text(st, 2, by);
	sqlite3_bind_int64(st, 3, row);
	return store_step_done(store, st);
}

int store_message_open_quarantine(struct store *store, int64_t row,
				  int64_t *id_r, char **base_r)
{
	static const char sql[] =
		"SELECT id, path FROM quarantine WHERE message_row = ? AND "
		"state = 'open' ORDER BY id LIMIT 1";
	sqlite3_stmt *st = store_stmt(store, sql);
	if (!st)
		return -EIO;
	sqlite3_bind_int64(st, 1, row);
	int rc = sqlite3_step(st);
	int r = 0;
	if (rc == SQLITE_ROW) {
		*id_r = sqlite3_column_int64(st, 0);
		*base_r = xstrdup((const char *)sqlite3_column_text(st, 1));
		r = 1;
	} else if (rc != SQLITE_DONE) {
		r = store_fail(store, rc);
	}
	store_stmt_done(store, st);
	return r;
}

long store_message_decision_count(struct store *store, int64_t row)
{
	static const char sql[] =
		"SELECT count(*) FROM message_decisions WHERE message_row = ?";
	sqlite3_stmt *st = store_stmt(store, sql);
	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, row);
	long n = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0)
						: -1;
	store_stmt_done(store, st);
	return n;
}
