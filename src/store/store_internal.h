/* store_internal.h - what the store's own files share (store.c and the
 * store_*.c files of later areas: history, intake state, outbox). Not for
 * callers outside src/store/: they use store.h.
 *
 * Statements are prepared once per connection and cached by the address of
 * their SQL text: every call site passes a string literal. */
#ifndef TRACKMAIL_STORE_INTERNAL_H
#define TRACKMAIL_STORE_INTERNAL_H

#include <sqlite3.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "store/store.h"

#define STMT_CACHE 96

struct store {
	sqlite3 *db;
	char *path;    /* the database file, named in every error */
	pid_t pid;     /* the process that opened it: never used after fork */
	struct timespec busy_since; /* first SQLITE_BUSY of the current wait */
	char error[256];
	struct {
		const char *sql;
		sqlite3_stmt *st;
	} cache[STMT_CACHE];
	size_t n_cache;
};

/* Records sqlite's message in store->error and maps rc to -errno:
 * -EBUSY, -EEXIST (constraint), -ENOSPC (disk full, store->error then
 * starts with "disk full: <file>"), -EROFS, -EACCES, else -EIO. */
int store_fail(struct store *store, int rc);
/* The cached statement for sql (reset, bindings cleared), or NULL with
 * store->error set. */
sqlite3_stmt *store_stmt(struct store *store, const char *sql);
/* Resets a cached statement, finalizes an uncached one. */
void store_stmt_done(struct store *store, sqlite3_stmt *st);
/* Runs SQL without results (several statements allowed). */
int store_exec(struct store *store, const char *sql);
int64_t store_now(void);
/* Binds s, or NULL when s is NULL. */
void store_bind_text(sqlite3_stmt *st, int i, const char *s);
/* Steps a statement that returns no rows, then store_stmt_done(). */
int store_step_done(struct store *store, sqlite3_stmt *st);
/* A fresh random account token (128 bits, base32, lower case). */
void store_new_token(char out[STORE_TOKEN_LEN + 1]);

#endif
