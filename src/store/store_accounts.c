/* store_accounts.c - accounts over their life and the IMAP poller's state
 * (the accounts/imap migration step in store.c). See store_accounts.h.
 *
 * Deleting an account walks the foreign keys that lead to `accounts`
 * (PRAGMA foreign_key_list), children first, so a table another area adds
 * later is covered without this file knowing it. */
#include "store/store_accounts.h"

#include <errno.h>
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "core/util.h"
#include "store/store_internal.h"

/* How deep the foreign-key graph below accounts may go. */
#define DELETE_DEPTH_MAX 6

static void copy_col(char *dst, size_t size, sqlite3_stmt *st, int col)
{
	const unsigned char *v = sqlite3_column_text(st, col);
	snprintf(dst, size, "%s", v ? (const char *)v : "");
}

int store_account_lookup(struct store *store, const char *token,
			 struct store_account *out, bool *disabled_r)
{
	static const char sql[] =
		"SELECT id, name, token, disabled FROM accounts "
		"WHERE token = lower(?1) "
		"UNION ALL "
		"SELECT a.id, a.name, a.token, a.disabled FROM "
		"account_old_tokens o JOIN accounts a ON a.id = o.account_id "
		"WHERE o.token = lower(?1) AND o.expires_at > ?2 LIMIT 1";
	sqlite3_stmt *st = store_stmt(store, sql);
	if (!st)
		return -EIO;
	store_bind_text(st, 1, token);
	sqlite3_bind_int64(st, 2, store_now());
	int rc = sqlite3_step(st);
	int r;
	if (rc == SQLITE_ROW) {
		out->id = sqlite3_column_int64(st, 0);
		copy_col(out->name, sizeof(out->name), st, 1);
		copy_col(out->token, sizeof(out->token), st, 2);
		if (disabled_r)
			*disabled_r = sqlite3_column_int(st, 3) != 0;
		r = 0;
	} else if (rc == SQLITE_DONE) {
		r = -ENOENT;
	} else {
		r = store_fail(store, rc);
	}
	store_stmt_done(store, st);
	return r;
}

int store_account_set_disabled(struct store *store, int64_t account_id,
			       bool disabled)
{
	static const char sql[] =
		"UPDATE accounts SET disabled = ? WHERE id = ?";
	sqlite3_stmt *st = store_stmt(store, sql);
	if (!st)
		return -EIO;
	sqlite3_bind_int(st, 1, disabled ? 1 : 0);
	sqlite3_bind_int64(st, 2, account_id);
	return store_step_done(store, st);
}

int store_account_rotate(struct store *store, int64_t account_id,
			 long grace_days, struct store_account *out)
{
	static const char save[] =
		"INSERT OR REPLACE INTO account_old_tokens(token, account_id, "
		"expires_at) SELECT token, id, ? FROM accounts WHERE id = ?";
	static const char set[] =
		"UPDATE accounts SET token = ? WHERE id = ?";
	static const char name[] = "SELECT name FROM accounts WHERE id = ?";
	sqlite3_stmt *st = store_stmt(store, save);
	if (!st)
		return -EIO;
	sqlite3_bind_int64(st, 1, store_now() + (int64_t)grace_days * 86400);
	sqlite3_bind_int64(st, 2, account_id);
	int r = store_step_done(store, st);
	if (r < 0)
		return r;
	char token[STORE_TOKEN_LEN + 1];
	store_new_token(token);
	st = store_stmt(store, set);
	if (!st)
		return -EIO;
	store_bind_text(st, 1, token);
	sqlite3_bind_int64(st, 2, account_id);
	r = store_step_done(store, st);
	if (r < 0)
		return r;
	st = store_stmt(store, name);
	if (!st)
		return -EIO;
	sqlite3_bind_int64(st, 1, account_id);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		copy_col(out->name, sizeof(out->name), st, 0);
		r = 0;
	} else {
		r = rc == SQLITE_DONE ? -ENOENT : store_fail(store, rc);
	}
	store_stmt_done(store, st);
	out->id = account_id;
	snprintf(out->token, sizeof(out->token), "%s", token);
	return r;
}

/* Deletes the rows of every table whose foreign key points at `parent`
 * rows selected by `where` (an SQL condition on parent), children of
 * those first. Table and column names come from sqlite_schema, quoted. */
static int delete_children(struct store *store, const char *parent,
			   const char *where, int depth)
{
	if (depth > DELETE_DEPTH_MAX) {
		snprintf(store->error, sizeof(store->error),
			 "%s: foreign keys nest deeper than %d below accounts",
			 store->path, DELETE_DEPTH_MAX);
		return -ELOOP;
	}
	sqlite3_stmt *tables = NULL;
	int rc = sqlite3_prepare_v2(
		store->db,
		"SELECT m.name, f.\"from\", f.\"to\" FROM sqlite_schema m, "
		"pragma_foreign_key_list(m.name) f WHERE m.type = 'table' "
		"AND f.\"table\" = ?",
		-1, &tables, NULL);
	if (rc != SQLITE_OK)
		return store_fail(store, rc);
	sqlite3_bind_text(tables, 1, parent, -1, SQLITE_TRANSIENT);
	int r = 0;
	while (r == 0 && (rc = sqlite3_step(tables)) == SQLITE_ROW) {
		const char *child = (const char *)sqlite3_column_text(tables, 0);
		const char *from = (const char *)sqlite3_column_text(tables, 1);
		const char *to = (const char *)sqlite3_column_text(tables, 2);
		if (strcmp(child, parent) == 0)
			continue;
		char *cond = sqlite3_mprintf(
			"\"%w\" IN (SELECT \"%w\" FROM \"%w\" WHERE %s)", from,
			to ? to : "id", parent, where);
		r = delete_children(store, child, cond, depth + 1);
		if (r == 0) {
			char *sql = sqlite3_mprintf("DELETE FROM \"%w\" WHERE %s",
						    child, cond);
			r = store_exec(store, sql);
			sqlite3_free(sql);
		}
		sqlite3_free(cond);
	}
	if (r == 0 && rc != SQLITE_DONE)
		r = store_fail(store, rc);
	sqlite3_finalize(tables);
	return r;
}

int store_account_delete(struct store *store, int64_t account_id)
{
	char where[64];
	snprintf(where, sizeof(where), "id = %lld", (long long)account_id);
	int r = delete_children(store, "accounts", where, 0);
	if (r < 0)
		return r;
	static const char sql[] = "DELETE FROM accounts WHERE id = ?";
	sqlite3_stmt *st = store_stmt(store, sql);
	if (!st)
		return -EIO;
	sqlite3_bind_int64(st, 1, account_id);
	r = store_step_done(store, st);
	if (r == 0 && sqlite3_changes(store->db) == 0)
		r = -ENOENT;
	return r;
}

int store_account_set_password(struct store *store, int64_t account_id,
			       const char *hash)
{
	static const char sql[] =
		"UPDATE accounts SET password_hash = ? WHERE id = ?";
	sqlite3_stmt *st = store_stmt(store, sql);
	if (!st)
		return -EIO;
	store_bind_text(st, 1, hash);
	sqlite3_bind_int64(st, 2, account_id);
	return store_step_done(store, st);
}

int store_account_each_login(struct store *store,
			     void (*fn)(const struct store_account *a,
					const char *hash, bool disabled,
					void *ctx),
			     void *ctx)
{
	static const char sql[] =
		"SELECT id, name, token, coalesce(password_hash, ''), "
		"disabled FROM accounts ORDER BY id";
	sqlite3_stmt *st = store_stmt(store, sql);
	if (!st)
		return -EIO;
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct store_account a;
		a.id = sqlite3_column_int64(st, 0);
		copy_col(a.name, sizeof(a.name), st, 1);
		copy_col(a.token, sizeof(a.token), st, 2);
		fn(&a, (const char *)sqlite3_column_text(st, 3),
		   sqlite3_column_int(st, 4) != 0, ctx);
	}
	int r = rc == SQLITE_DONE ? 0 : store_fail(store, rc);
	store_stmt_done(store, st);
	return r;
}

int store_backup(struct store *store, const char *dest)
{
	if (access(dest, F_OK) == 0) {
		snprintf(store->error, sizeof(store->error),
			 "%s exists; a backup writes a new file", dest);
		return -EEXIST;
	}
	sqlite3 *out = NULL;
	int rc = sqlite3_open_v2(dest, &out,
				 SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE,
				 NULL);
	if (rc != SQLITE_OK) {
		snprintf(store->error, sizeof(store->error), "%s: %s", dest,
			 out ? sqlite3_errmsg(out) : sqlite3_errstr(rc));
		sqlite3_close(out);
		return -EIO;
	}
	sqlite3_backup *b = sqlite3_backup_init(out, "main", store->db,
						"main");
	if (!b) {
		snprintf(store->error, sizeof(store->error), "%s: %s", dest,
			 sqlite3_errmsg(out));
		sqlite3_close(out);
		unlink(dest);
		return -EIO;
	}
	/* 256 pages a step: writers wait at most one step (the source is
	 * read in a short read transaction per step; a write by another
	 * connection restarts the copy, which still ends consistent). */
	do {
		rc = sqlite3_backup_step(b, 256);
		if (rc == SQLITE_BUSY || rc == SQLITE_LOCKED)
			sqlite3_sleep(50);
	} while (rc == SQLITE_OK || rc == SQLITE_BUSY || rc == SQLITE_LOCKED);
	sqlite3_backup_finish(b);
	int r = 0;
	if (rc != SQLITE_DONE) {
		snprintf(store->error, sizeof(store->error),
			 "backup to %s failed: %s", dest, sqlite3_errstr(rc));
		r = rc == SQLITE_FULL ? -ENOSPC : -EIO;
	} else if (sqlite3_exec(out, "PRAGMA journal_mode=DELETE", NULL, NULL,
				NULL) != SQLITE_OK) {
		snprintf(store->error, sizeof(store->error), "%s: %s", dest,
			 sqlite3_errmsg(out));
		r = -EIO;
	}
	sqlite3_close(out);
	if (r < 0)
		unlink(dest);
	return r;
}

int store_imap_state(struct store *store, const char *mailbox,
		     uint32_t *uidvalidity_r, uint32_t *last_uid_r)
{
	static const char sql[] = "SELECT uidvalidity, last_uid FROM "
				  "imap_mailboxes WHERE name = ?";
	sqlite3_stmt *st = store_stmt(store, sql);
	if (!st)
		return -EIO;
	store_bind_text(st, 1, mailbox);
	int rc = sqlite3_step(st);
	int r = -ENOENT;
	if (rc == SQLITE_ROW) {
		*uidvalidity_r = (uint32_t)sqlite3_column_int64(st, 0);
		*last_uid_r = (uint32_t)sqlite3_column_int64(st, 1);
		r = 0;
	} else if (rc != SQLITE_DONE) {
		r = store_fail(store, rc);
	}
	store_stmt_done(store, st);
	return r;
}

int store_imap_set_state(struct store *store, const char *mailbox,
			 uint32_t uidvalidity, uint32_t last_uid)
{
	static const char sql[] =
		"INSERT INTO imap_mailboxes(name, uidvalidity, last_uid) "
		"VALUES (?1, ?2, ?3) ON CONFLICT (name) DO UPDATE SET "
		"uidvalidity = ?2, last_uid = ?3";
	sqlite3_stmt *st = store_stmt(store, sql);
	if (!st)
		return -EIO;
	store_bind_text(st, 1, mailbox);
	sqlite3_bind_int64(st, 2, uidvalidity);
	sqlite3_bind_int64(st, 3, last_uid);
	return store_step_done(store, st);
}

int store_imap_delivered(struct store *store, const char *mailbox,
			 const char *spool_id, const char *content_hash,
			 int64_t account_id, const char *message_id)
{
	static const char sql[] =
		"INSERT INTO imap_delivered(mailbox, spool_id, content_hash, "
		"account_id, message_id, created_at) VALUES (?, ?, ?, ?, ?, ?)";
	sqlite3_stmt *st = store_stmt(store, sql);
	if (!st)
		return -EIO;
	store_bind_text(st, 1, mailbox);
	store_bind_text(st, 2, spool_id);
	store_bind_text(st, 3, content_hash);
	sqlite3_bind_int64(st, 4, account_id);
	store_bind_text(st, 5, message_id ? message_id : "");
	sqlite3_bind_int64(st, 6, store_now());
	return store_step_done(store, st);
}

int store_imap_pending(struct store *store, const char *mailbox,
		       void (*fn)(int64_t id, const char *message_id,
				  int decided, void *ctx),
		       void *ctx)
{
	/* The decision is the messages row with the same content hash (the
	 * hash covers the bytes as fetched); quarantined when its outcome
	 * says so or a quarantine row names it. */
	static const char sql[] =
		"SELECT d.id, d.message_id, "
		"  (SELECT CASE WHEN m.outcome = 'quarantined' OR EXISTS "
		"     (SELECT 1 FROM quarantine q WHERE q.message_row = m.id) "
		"     THEN 2 ELSE 1 END FROM messages m "
		"   WHERE m.content_hash = d.content_hash ORDER BY m.id "
		"   LIMIT 1) "
		"FROM imap_delivered d WHERE d.mailbox = ? AND "
		"d.state = 'processed' ORDER BY d.id";
	sqlite3_stmt *st = store_stmt(store, sql);
	if (!st)
		return -EIO;
	store_bind_text(st, 1, mailbox);
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		fn(sqlite3_column_int64(st, 0),
		   (const char *)sqlite3_column_text(st, 1),
		   sqlite3_column_type(st, 2) == SQLITE_NULL
			   ? 0
			   : sqlite3_column_int(st, 2),
		   ctx);
	int r = rc == SQLITE_DONE ? 0 : store_fail(store, rc);
	store_stmt_done(store, st);
	return r;
}

int store_imap_set_delivered_state(struct store *store, int64_t id,
				   const char *state)
{
	static const char sql[] =
		"UPDATE imap_delivered SET state = ? WHERE id = ?";
	sqlite3_stmt *st = store_stmt(store, sql);
	if (!st)
		return -EIO;
	store_bind_text(st, 1, state);
	sqlite3_bind_int64(st, 2, id);
	return store_step_done(store, st);
}
