/* store.c - SQLite schema, migrations and writes; see store.h.
 *
 * Statements are prepared once per connection (SQLITE_PREPARE_PERSISTENT)
 * and kept in a small cache keyed by the SQL text's address: every call
 * site passes a string literal. */
#include "store/store.h"

#include <ctype.h>
#include <errno.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>
#include <stdio.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/util.h"
#include "store/store_internal.h"
#include "store/store_attribution.h"
#include "store/store_orders.h"

/* Schema steps: migrations[i] takes user_version i to i+1. Never edit a
 * step that has shipped; add a new one. */
static const char *const migrations[] = {
	/* 0 -> 1: the foundation schema */
	"CREATE TABLE accounts ("
	"  id INTEGER PRIMARY KEY,"
	"  name TEXT NOT NULL UNIQUE,"
	"  token TEXT NOT NULL UNIQUE,"
	"  created_at INTEGER NOT NULL"
	") STRICT;"
	"CREATE TABLE account_senders ("
	"  account_id INTEGER NOT NULL REFERENCES accounts(id)"
	"    ON DELETE CASCADE,"
	"  sender TEXT NOT NULL,"
	"  PRIMARY KEY (account_id, sender)"
	") STRICT;"
	"CREATE TABLE messages ("
	"  id INTEGER PRIMARY KEY,"
	"  account_id INTEGER NOT NULL REFERENCES accounts(id),"
	"  message_id TEXT NOT NULL,"
	"  content_hash TEXT NOT NULL,"
	"  source TEXT NOT NULL,"
	"  received_at INTEGER NOT NULL,"
	"  orig_from TEXT NOT NULL DEFAULT '',"
	"  orig_subject TEXT NOT NULL DEFAULT '',"
	"  supplier TEXT,"
	"  outcome TEXT,"
	"  event TEXT,"
	"  reason TEXT,"
	"  result_json TEXT,"
	"  UNIQUE (account_id, message_id, content_hash)"
	") STRICT;"
	"CREATE INDEX messages_supplier ON messages(supplier, received_at);"
	"CREATE TABLE supplier_orders ("
	"  id INTEGER PRIMARY KEY,"
	"  account_id INTEGER NOT NULL REFERENCES accounts(id),"
	"  supplier TEXT NOT NULL,"
	"  order_number TEXT NOT NULL,"
	"  status TEXT NOT NULL CHECK (status IN ('ordered', 'shipped',"
	"    'awaiting_tracking', 'cancelled', 'refunded')),"
	"  tracking_link TEXT,"
	"  created_at INTEGER NOT NULL,"
	"  updated_at INTEGER NOT NULL,"
	"  UNIQUE (account_id, supplier, order_number)"
	") STRICT;"
	"CREATE TABLE shipments ("
	"  id INTEGER PRIMARY KEY,"
	"  account_id INTEGER NOT NULL REFERENCES accounts(id),"
	"  supplier_order_id INTEGER REFERENCES supplier_orders(id),"
	"  supplier TEXT,"
	"  tracking_number TEXT NOT NULL,"
	"  carrier TEXT NOT NULL,"
	"  message_row INTEGER NOT NULL REFERENCES messages(id),"
	"  created_at INTEGER NOT NULL"
	") STRICT;"
	"CREATE UNIQUE INDEX shipments_order_number ON"
	"  shipments(supplier_order_id, tracking_number)"
	"  WHERE supplier_order_id IS NOT NULL;"
	"CREATE UNIQUE INDEX shipments_orphan_number ON"
	"  shipments(account_id, tracking_number)"
	"  WHERE supplier_order_id IS NULL;"
	"CREATE TABLE events ("
	"  id INTEGER PRIMARY KEY,"
	"  account_id INTEGER NOT NULL REFERENCES accounts(id),"
	"  message_row INTEGER NOT NULL REFERENCES messages(id),"
	"  supplier_order_id INTEGER REFERENCES supplier_orders(id),"
	"  shipment_id INTEGER REFERENCES shipments(id),"
	"  event TEXT NOT NULL,"
	"  created_at INTEGER NOT NULL"
	") STRICT;"
	"CREATE TABLE quarantine ("
	"  id INTEGER PRIMARY KEY,"
	"  account_id INTEGER NOT NULL REFERENCES accounts(id),"
	"  message_row INTEGER REFERENCES messages(id),"
	"  reason TEXT NOT NULL,"
	"  detail TEXT NOT NULL DEFAULT '',"
	"  path TEXT NOT NULL,"
	"  state TEXT NOT NULL DEFAULT 'open'"
	"    CHECK (state IN ('open', 'resolved', 'dropped')),"
	"  created_at INTEGER NOT NULL,"
	"  updated_at INTEGER NOT NULL"
	") STRICT;",
	/* 1 -> 2: decision safety (store_message.c). A re-decided message
	 * keeps its earlier decisions in message_decisions; one message is
	 * one row per (account, content hash), found by an index; quarantine
	 * rows name their file by Maildir base name (the folder is per
	 * account, the file may sit in new/ or cur/). */
	"CREATE TABLE message_decisions ("
	"  id INTEGER PRIMARY KEY,"
	"  message_row INTEGER NOT NULL REFERENCES messages(id),"
	"  supplier TEXT,"
	"  outcome TEXT,"
	"  event TEXT,"
	"  reason TEXT,"
	"  result_json TEXT,"
	"  replaced_at INTEGER NOT NULL,"
	"  replaced_by TEXT NOT NULL"
	") STRICT;"
	"CREATE INDEX message_decisions_row ON message_decisions(message_row);"
	"CREATE INDEX messages_hash ON messages(account_id, content_hash);"
	"UPDATE quarantine SET path ="
	"  replace(path, rtrim(path, replace(path, '/', '')), '');"
	"UPDATE quarantine SET path = substr(path, 1, instr(path, ':') - 1)"
	"  WHERE instr(path, ':') > 0;",
	/* intake (store_intake.c, issue 9): the spool file a message was
	 * taken from, unique so a message taken twice after a worker died
	 * is stored once, and how it arrived (smtp, lmtp, imap, file). */
	"ALTER TABLE messages ADD COLUMN spool_id TEXT;"
	"ALTER TABLE messages ADD COLUMN intake TEXT NOT NULL DEFAULT 'file';"
	"CREATE UNIQUE INDEX messages_spool_id ON messages(spool_id)"
	"  WHERE spool_id IS NOT NULL;"
	"CREATE INDEX messages_received ON messages(received_at);",
	/* attribution (store_attribution.c): how each message was attributed
	 * to its supplier and whether its template drifted (the supplier's
	 * domain sent it but no marker matched); supplier_drift counts per
	 * supplier. One row per message: re-deciding replaces it. IF NOT
	 * EXISTS: a data dir set back to an older user_version (store_safety
	 * does) keeps this table. */
	"CREATE TABLE IF NOT EXISTS message_attribution ("
	"  message_row INTEGER PRIMARY KEY REFERENCES messages(id),"
	"  supplier TEXT NOT NULL,"
	"  attributed_by TEXT NOT NULL,"
	"  template_drift INTEGER NOT NULL CHECK (template_drift IN (0, 1)),"
	"  decided_at INTEGER NOT NULL"
	") STRICT;"
	"CREATE VIEW IF NOT EXISTS supplier_drift AS SELECT supplier,"
	"  count(*) AS mails, sum(template_drift) AS drift_mails,"
	"  max(CASE WHEN template_drift THEN decided_at END) AS last_drift_at"
	"  FROM message_attribution GROUP BY supplier;",
	/* accounts/imap (store_accounts.c): accounts over their life
	 * (disabled, a Dovecot password hash, old tokens valid for a grace
	 * period) and the IMAP poller's state per mailbox (UIDVALIDITY,
	 * last UID) and per delivered message (for the Quarantine copy). */
	"ALTER TABLE accounts ADD COLUMN disabled INTEGER NOT NULL DEFAULT 0;"
	"ALTER TABLE accounts ADD COLUMN password_hash TEXT;"
	"CREATE TABLE account_old_tokens ("
	"  token TEXT PRIMARY KEY,"
	"  account_id INTEGER NOT NULL REFERENCES accounts(id)"
	"    ON DELETE CASCADE,"
	"  expires_at INTEGER NOT NULL"
	") STRICT;"
	"CREATE TABLE imap_mailboxes ("
	"  name TEXT PRIMARY KEY,"
	"  uidvalidity INTEGER NOT NULL,"
	"  last_uid INTEGER NOT NULL"
	") STRICT;"
	"CREATE TABLE imap_delivered ("
	"  id INTEGER PRIMARY KEY,"
	"  mailbox TEXT NOT NULL,"
	"  spool_id TEXT NOT NULL,"
	"  content_hash TEXT NOT NULL,"
	"  account_id INTEGER NOT NULL REFERENCES accounts(id)"
	"    ON DELETE CASCADE,"
	"  message_id TEXT NOT NULL DEFAULT '',"
	"  state TEXT NOT NULL DEFAULT 'processed'"
	"    CHECK (state IN ('processed', 'quarantine-copied', 'done')),"
	"  created_at INTEGER NOT NULL"
	") STRICT;"
	"CREATE INDEX imap_delivered_state ON imap_delivered(mailbox, state);",
	/* dispatch (store_orders.c, docs/dispatch.md): stores on selling
	 * channels, seller orders linked to supplier orders by normalized
	 * number, and the outbox of pushes. Triggers write the push of a new
	 * shipment in the transaction that stores it, and make waiting pushes
	 * due when their seller order is added. */
	"ALTER TABLE supplier_orders ADD COLUMN order_norm TEXT GENERATED"
	" ALWAYS AS (" STORE_ORDER_NORM("order_number") ") VIRTUAL;"
	"CREATE INDEX supplier_orders_norm ON"
	" supplier_orders(account_id, supplier, order_norm);"
	"CREATE TABLE stores ("
	" id INTEGER PRIMARY KEY,"
	" account_id INTEGER NOT NULL REFERENCES accounts(id),"
	" name TEXT NOT NULL UNIQUE,"
	" channel TEXT NOT NULL,"
	" api_url TEXT NOT NULL,"
	" ca_file TEXT,"
	" credentials TEXT NOT NULL,"
	" settings TEXT NOT NULL DEFAULT '{}',"
	" created_at INTEGER NOT NULL"
	") STRICT;"
	"CREATE TABLE seller_orders ("
	" id INTEGER PRIMARY KEY,"
	" store_id INTEGER NOT NULL REFERENCES stores(id),"
	" channel_order TEXT NOT NULL,"
	" created_at INTEGER NOT NULL,"
	" UNIQUE (store_id, channel_order)"
	") STRICT;"
	"CREATE TABLE seller_order_lines ("
	" seller_order_id INTEGER NOT NULL REFERENCES seller_orders(id),"
	" line_id TEXT NOT NULL,"
	" quantity INTEGER NOT NULL CHECK (quantity > 0),"
	" PRIMARY KEY (seller_order_id, line_id)"
	") STRICT;"
	"CREATE TABLE order_links ("
	" id INTEGER PRIMARY KEY,"
	" seller_order_id INTEGER NOT NULL REFERENCES seller_orders(id),"
	" account_id INTEGER NOT NULL REFERENCES accounts(id),"
	" supplier TEXT NOT NULL,"
	" supplier_order TEXT NOT NULL,"
	" norm TEXT NOT NULL,"
	" UNIQUE (seller_order_id, supplier, norm)"
	") STRICT;"
	"CREATE INDEX order_links_norm ON order_links(account_id, supplier, norm);"
	"CREATE TABLE pushes ("
	" id INTEGER PRIMARY KEY,"
	" shipment_id INTEGER NOT NULL REFERENCES shipments(id),"
	" seller_order_id INTEGER REFERENCES seller_orders(id),"
	" state TEXT NOT NULL CHECK (state IN ('awaiting_order', 'due',"
	" 'sent', 'done', 'manual', 'dead')),"
	" attempts INTEGER NOT NULL DEFAULT 0,"
	" next_at INTEGER NOT NULL,"
	" last_error TEXT,"
	" remote_ref TEXT,"
	" previous_tracking TEXT,"
	" sent_request TEXT,"
	" created_at INTEGER NOT NULL,"
	" updated_at INTEGER NOT NULL,"
	" UNIQUE (shipment_id, seller_order_id)"
	") STRICT;"
	"CREATE INDEX pushes_due ON pushes(state, next_at);"
	"CREATE TABLE conversions ("
	" id INTEGER PRIMARY KEY,"
	" push_id INTEGER NOT NULL UNIQUE REFERENCES pushes(id),"
	" provider TEXT NOT NULL,"
	" original_carrier TEXT NOT NULL,"
	" original_number TEXT NOT NULL,"
	" carrier TEXT,"
	" number TEXT,"
	" cost REAL NOT NULL DEFAULT 0,"
	" currency TEXT,"
	" reason TEXT,"
	" created_at INTEGER NOT NULL"
	") STRICT;"
	"CREATE TRIGGER shipments_push AFTER INSERT ON shipments"
	" WHEN NEW.supplier_order_id IS NOT NULL BEGIN"
	" INSERT INTO pushes(shipment_id, seller_order_id, state, next_at,"
	" created_at, updated_at)"
	" SELECT NEW.id, l.seller_order_id, 'due', NEW.created_at,"
	" NEW.created_at, NEW.created_at"
	" FROM supplier_orders so JOIN order_links l"
	" ON l.account_id = so.account_id AND l.supplier = so.supplier"
	" AND l.norm = so.order_norm"
	" WHERE so.id = NEW.supplier_order_id;"
	" INSERT INTO pushes(shipment_id, state, next_at, created_at,"
	" updated_at)"
	" SELECT NEW.id, 'awaiting_order', NEW.created_at, NEW.created_at,"
	" NEW.created_at"
	" WHERE NOT EXISTS (SELECT 1 FROM pushes WHERE shipment_id = NEW.id);"
	"END;"
	"CREATE TRIGGER order_links_push AFTER INSERT ON order_links BEGIN"
	" UPDATE pushes SET seller_order_id = NEW.seller_order_id,"
	" state = 'due', next_at = CAST(strftime('%s', 'now') AS INTEGER),"
	" updated_at = CAST(strftime('%s', 'now') AS INTEGER)"
	" WHERE state = 'awaiting_order' AND shipment_id IN ("
	" SELECT s.id FROM shipments s JOIN supplier_orders so"
	" ON so.id = s.supplier_order_id"
	" WHERE so.account_id = NEW.account_id"
	" AND so.supplier = NEW.supplier AND so.order_norm = NEW.norm);"
	" INSERT OR IGNORE INTO pushes(shipment_id, seller_order_id, state,"
	" next_at, created_at, updated_at)"
	" SELECT s.id, NEW.seller_order_id, 'due',"
	" CAST(strftime('%s', 'now') AS INTEGER),"
	" CAST(strftime('%s', 'now') AS INTEGER),"
	" CAST(strftime('%s', 'now') AS INTEGER)"
	" FROM shipments s JOIN supplier_orders so"
	" ON so.id = s.supplier_order_id"
	" WHERE so.account_id = NEW.account_id"
	" AND so.supplier = NEW.supplier AND so.order_norm = NEW.norm;"
	"END;",
};

const char *store_error(const struct store *store)
{
	return store->error;
}

/* Maps a SQLite result code to -errno and writes the message, naming the
 * database file, to store->error. A full disk says so: SQLITE_FULL, or an
 * I/O error whose system errno is ENOSPC/EDQUOT (WAL and -shm writes). */
static int fail_with(struct store *store, int rc, const char *msg)
{
	int prim = rc & 0xff;
	int sys = store->db ? sqlite3_system_errno(store->db) : 0;
	const char *path = store->path ? store->path : "database";
	if (prim == SQLITE_FULL ||
	    (prim == SQLITE_IOERR && (sys == ENOSPC || sys == EDQUOT))) {
		snprintf(store->error, sizeof(store->error),
			 "disk full: %s: %s", path, msg);
		return -ENOSPC;
	}
	snprintf(store->error, sizeof(store->error), "%s: %s", path, msg);
	if (prim == SQLITE_BUSY || prim == SQLITE_LOCKED)
		return -EBUSY;
	if (prim == SQLITE_CONSTRAINT)
		return -EEXIST;
	if (prim == SQLITE_READONLY)
		return -EROFS;
	if (prim == SQLITE_CANTOPEN || prim == SQLITE_PERM ||
	    prim == SQLITE_AUTH)
		return -EACCES;
	return -EIO;
}

int store_fail(struct store *store, int rc)
{
	return fail_with(store, rc, sqlite3_errmsg(store->db));
}

sqlite3_stmt *store_stmt(struct store *store, const char *sql)
{
	if (store->pid != getpid()) {
		snprintf(store->error, sizeof(store->error),
			 "%s: connection opened by process %ld used in %ld",
			 store->path, (long)store->pid, (long)getpid());
		return NULL;
	}
	for (size_t i = 0; i < store->n_cache; i++) {
		if (store->cache[i].sql == sql) {
			sqlite3_reset(store->cache[i].st);
			sqlite3_clear_bindings(store->cache[i].st);
			return store->cache[i].st;
		}
	}
	sqlite3_stmt *st = NULL;
	int rc = sqlite3_prepare_v3(store->db, sql, -1,
				    SQLITE_PREPARE_PERSISTENT, &st, NULL);
	if (rc != SQLITE_OK) {
		store_fail(store, rc);
		return NULL;
	}
	if (store->n_cache < STMT_CACHE) {
		store->cache[store->n_cache].sql = sql;
		store->cache[store->n_cache].st = st;
		store->n_cache++;
	}
	return st;
}

/* Finalizes st unless it lives in the cache. */
void store_stmt_done(struct store *store, sqlite3_stmt *st)
{
	for (size_t i = 0; i < store->n_cache; i++)
		if (store->cache[i].st == st) {
			sqlite3_reset(st);
			return;
		}
	sqlite3_finalize(st);
}

int store_exec(struct store *store, const char *sql)
{
	if (store->pid != getpid()) {
		/* A connection that crossed fork(): SQLite's locks belong to
		 * the process that opened it. Refuse rather than corrupt. */
		snprintf(store->error, sizeof(store->error),
			 "%s: connection opened by process %ld used in %ld",
			 store->path, (long)store->pid, (long)getpid());
		return -EINVAL;
	}
	char *err = NULL;
	int rc = sqlite3_exec(store->db, sql, NULL, NULL, &err);
	if (rc != SQLITE_OK) {
		int r = fail_with(store, rc, err ? err : sqlite3_errstr(rc));
		sqlite3_free(err);
		return r;
	}
	return 0;
}

static int schema_version(struct store *store)
{
	sqlite3_stmt *st = NULL;
	sqlite3_prepare_v2(store->db, "PRAGMA user_version", -1, &st, NULL);
	int version = -1;
	if (st && sqlite3_step(st) == SQLITE_ROW)
		version = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return version;
}

/* The number of steps to apply: all of them. Test hook (docs/testing.md):
 * TRACKMAIL_TEST_SCHEMA_STOP=N stops at version N, so a test can check one
 * step on a database whose later tables it cannot undo. */
static int steps_to_apply(void)
{
	int known = (int)(sizeof(migrations) / sizeof(*migrations));
	const char *stop = getenv("TRACKMAIL_TEST_SCHEMA_STOP");
	if (stop && *stop) {
		char *end = NULL;
		long n = strtol(stop, &end, 10);
		if (*end == '\0' && n > 0 && n < known)
			return (int)n;
	}
	return known;
}

static int migrate(struct store *store)
{
	int target = steps_to_apply();
	bool stopped = target < (int)(sizeof(migrations) / sizeof(*migrations));
	int current = schema_version(store);
	/* Up to date: no write lock (opening must not wait for a writer). */
	if (current == target || (stopped && current > target))
		return 0;
	int r = store_exec(store, "BEGIN IMMEDIATE");
	if (r < 0)
		return r;
	sqlite3_stmt *st = NULL;
	sqlite3_prepare_v2(store->db, "PRAGMA user_version", -1, &st, NULL);
	int version = 0;
	if (st && sqlite3_step(st) == SQLITE_ROW)
		version = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	int known = (int)(sizeof(migrations) / sizeof(*migrations));
	if (version > known) {
		store_exec(store, "ROLLBACK");
		snprintf(store->error, sizeof(store->error),
			 "database schema version %d is newer than this "
			 "trackmail knows (%d): upgrade trackmail",
			 version, known);
		return -EPROTO;
	}
	for (; version < target; version++) {
		r = store_exec(store, migrations[version]);
		if (r < 0) {
			store_exec(store, "ROLLBACK");
			return r;
		}
		char sql[64];
		snprintf(sql, sizeof(sql), "PRAGMA user_version=%d",
			 version + 1);
		r = store_exec(store, sql);
		if (r < 0) {
			store_exec(store, "ROLLBACK");
			return r;
		}
	}
	return store_exec(store, "COMMIT");
}

/* The database holds account tokens: owner-only, also for files an older
 * version created 0644 (the -wal and -shm files exist once WAL is on). */
static int private_files(struct store *store)
{
	static const char *const suffix[] = { "", "-wal", "-shm" };
	for (size_t i = 0; i < 3; i++) {
		_cleanup_free_ char *p = xasprintf("%s%s", store->path,
						   suffix[i]);
		struct stat st;
		if (stat(p, &st) < 0 || (st.st_mode & 077) == 0)
			continue;
		if (chmod(p, st.st_mode & 0700) < 0) {
			snprintf(store->error, sizeof(store->error),
				 "%s: cannot make it private: %s", p,
				 strerror(errno));
			return -errno;
		}
	}
	return 0;
}

/* How long a connection waits for another one's write lock. */
#define STORE_BUSY_MS 10000
/* Longest sleep between two tries. */
#define STORE_BUSY_STEP_US 1000

/* Waits for another connection's lock (SQLITE_BUSY): retries every 50 us,
 * doubling up to 1 ms, for STORE_BUSY_MS in all. sqlite3_busy_timeout()
 * sleeps 1, 2, 5, 10, 15, 20, 25 ... ms between tries and is not woken
 * when the lock is released: two serve workers committing at the same
 * time (each commit holds the lock for about one WAL fdatasync, 1-4 ms
 * here) made the second one sleep 10-50 ms past the release, the tail of
 * the 250-to-decision latency (docs/intake.md "Figures"). A try is an
 * fcntl lock and a read of the WAL index: polling at 1 ms costs nothing
 * measurable. */
static int busy_wait(void *vstore, int count)
{
	struct store *store = vstore;
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	if (count == 0)
		store->busy_since = now;
	long long waited_ms =
		(long long)(now.tv_sec - store->busy_since.tv_sec) * 1000 +
		(now.tv_nsec - store->busy_since.tv_nsec) / 1000000;
	if (waited_ms >= STORE_BUSY_MS)
		return 0;
	long us = 50L << (count < 5 ? count : 5);
	if (us > STORE_BUSY_STEP_US)
		us = STORE_BUSY_STEP_US;
	struct timespec d = { 0, us * 1000 };
	nanosleep(&d, NULL); /* EINTR: just one try sooner */
	return 1;
}

int store_open(const char *path, struct store **store_r, const char **error_r)
{
	static char open_error[300];
	struct store *store = xcalloc(1, sizeof(*store));
	store->path = xstrdup(path);
	store->pid = getpid();
	int rc = sqlite3_open_v2(path, &store->db,
				 SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
					 SQLITE_OPEN_NOMUTEX,
				 NULL);
	if (rc != SQLITE_OK) {
		snprintf(open_error, sizeof(open_error), "%s: %s", path,
			 store->db ? sqlite3_errmsg(store->db)
				   : sqlite3_errstr(rc));
		sqlite3_close(store->db);
		free(store->path);
		free(store);
		*error_r = open_error;
		return -EIO;
	}
	sqlite3_extended_result_codes(store->db, 1);
	sqlite3_busy_handler(store->db, busy_wait, store);
	sqlite3_db_config(store->db, SQLITE_DBCONFIG_DEFENSIVE, 1, NULL);
	/* FULL: a message acknowledged is a message kept, also on power
	 * loss (LIBRARIES.md 5: ~1,100 commits/s here, affordable). */
	int r = store_exec(store, "PRAGMA journal_mode=WAL;"
			    "PRAGMA synchronous=FULL;"
			    "PRAGMA foreign_keys=ON;"
			    "PRAGMA trusted_schema=OFF;");
	if (r == 0)
		r = migrate(store);
	if (r == 0)
		r = private_files(store);
	if (r < 0) {
		snprintf(open_error, sizeof(open_error), "%s", store->error);
		*error_r = open_error;
		store_close(&store);
		return r;
	}
	*store_r = store;
	return 0;
}

void store_close(struct store **sp)
{
	struct store *store = *sp;
	if (!store)
		return;
	for (size_t i = 0; i < store->n_cache; i++)
		sqlite3_finalize(store->cache[i].st);
	/* In a process that did not open it (after fork) only the memory is
	 * ours to free: closing would touch the parent's locks. */
	if (store->pid == getpid()) {
		sqlite3_exec(store->db, "PRAGMA optimize", NULL, NULL, NULL);
		sqlite3_close(store->db);
	}
	free(store->path);
	free(store);
	*sp = NULL;
}

int store_begin(struct store *store)
{
	return store_exec(store, "BEGIN IMMEDIATE");
}

int store_commit(struct store *store)
{
	return store_exec(store, "COMMIT");
}

void store_rollback(struct store *store)
{
	if (!sqlite3_get_autocommit(store->db))
		store_exec(store, "ROLLBACK");
}

int64_t store_now(void)
{
	return (int64_t)time(NULL);
}

void store_bind_text(sqlite3_stmt *st, int i, const char *s)
{
	if (s)
		sqlite3_bind_text(st, i, s, -1, SQLITE_TRANSIENT);
	else
		sqlite3_bind_null(st, i);
}

/* Steps a statement that returns no rows. */
int store_step_done(struct store *store, sqlite3_stmt *st)
{
	int rc = sqlite3_step(st);
	int r = rc == SQLITE_DONE ? 0 : store_fail(store, rc);
	store_stmt_done(store, st);
	return r;
}

static void new_token(char out[STORE_TOKEN_LEN + 1])
{
	static const char alphabet[] = "abcdefghijklmnopqrstuvwxyz234567";
	unsigned char raw[17] = { 0 };
	size_t got = 0;
	while (got < 16) {
		ssize_t n = getrandom(raw + got, 16 - got, 0);
		if (n < 0)
			abort(); /* no randomness: never hand out a guessable key */
		got += (size_t)n;
	}
	/* 26 groups of 5 bits = 130 bits; the last 2 are zero padding. */
	for (int i = 0; i < STORE_TOKEN_LEN; i++) {
		int bit = i * 5;
		unsigned v = ((unsigned)raw[bit / 8] << 8 | raw[bit / 8 + 1]) >>
			     (11 - bit % 8);
		out[i] = alphabet[v & 31];
	}
	out[STORE_TOKEN_LEN] = '\0';
}

/* For store_accounts.c (rotate): the same generator. */
void store_new_token(char out[STORE_TOKEN_LEN + 1])
{
	new_token(out);
}

static int read_account(struct store *store, sqlite3_stmt *st,
			struct store_account *out)
{
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

int store_account_add(struct store *store, const char *name,
		      struct store_account *out)
{
	static const char sql[] = "INSERT INTO accounts(name, token, "
				  "created_at) VALUES (?, ?, ?)";
	sqlite3_stmt *st = store_stmt(store, sql);
	if (!st)
		return -EIO;
	char token[STORE_TOKEN_LEN + 1];
	new_token(token);
	store_bind_text(st, 1, name);
	store_bind_text(st, 2, token);
	sqlite3_bind_int64(st, 3, store_now());
	int r = store_step_done(store, st);
	if (r < 0)
		return r;
	return store_account_by_name(store, name, out);
}

int store_account_by_name(struct store *store, const char *name,
			  struct store_account *out)
{
	static const char sql[] =
		"SELECT id, name, token FROM accounts WHERE name = ?";
	sqlite3_stmt *st = store_stmt(store, sql);
	if (!st)
		return -EIO;
	store_bind_text(st, 1, name);
	return read_account(store, st, out);
}

int store_account_by_token(struct store *store, const char *token,
			   struct store_account *out)
{
	static const char sql[] =
		"SELECT id, name, token FROM accounts WHERE token = lower(?)";
	sqlite3_stmt *st = store_stmt(store, sql);
	if (!st)
		return -EIO;
	store_bind_text(st, 1, token);
	return read_account(store, st, out);
}

int store_account_default(struct store *store, struct store_account *out)
{
	int r = store_account_by_name(store, "default", out);
	if (r == -ENOENT)
		r = store_account_add(store, "default", out);
	/* Another process created it between our read and our insert
	 * (three ingests on a new data dir): take theirs. */
	if (r == -EEXIST)
		r = store_account_by_name(store, "default", out);
	return r;
}

int store_account_allow_sender(struct store *store, int64_t account_id,
			       const char *sender)
{
	static const char sql[] = "INSERT OR IGNORE INTO account_senders"
				  "(account_id, sender) VALUES (?, lower(?))";
	sqlite3_stmt *st = store_stmt(store, sql);
	if (!st)
		return -EIO;
	sqlite3_bind_int64(st, 1, account_id);
	store_bind_text(st, 2, sender);
	return store_step_done(store, st);
}

int store_account_sender_allowed(struct store *store, int64_t account_id,
				 const char *sender)
{
	static const char sql[] =
		"SELECT count(*), sum(sender = lower(?)) FROM account_senders "
		"WHERE account_id = ?";
	sqlite3_stmt *st = store_stmt(store, sql);
	if (!st)
		return -EIO;
	store_bind_text(st, 1, sender);
	sqlite3_bind_int64(st, 2, account_id);
	int r = 1;
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		if (sqlite3_column_int(st, 0) > 0 &&
		    sqlite3_column_int(st, 1) == 0)
			r = 0;
	} else {
		r = store_fail(store, rc);
	}
	store_stmt_done(store, st);
	return r;
}

int store_account_each(struct store *store,
		       void (*fn)(const struct store_account *a,
				  const char *senders, void *ctx),
		       void *ctx)
{
	static const char sql[] =
		"SELECT a.id, a.name, a.token, "
		"  coalesce((SELECT group_concat(sender, ', ') FROM "
		"    account_senders s WHERE s.account_id = a.id), '') "
		"FROM accounts a ORDER BY a.id";
	sqlite3_stmt *st = store_stmt(store, sql);
	if (!st)
		return -EIO;
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct store_account a;
		a.id = sqlite3_column_int64(st, 0);
		snprintf(a.name, sizeof(a.name), "%s",
			 (const char *)sqlite3_column_text(st, 1));
		snprintf(a.token, sizeof(a.token), "%s",
			 (const char *)sqlite3_column_text(st, 2));
		fn(&a, (const char *)sqlite3_column_text(st, 3), ctx);
	}
	int r = rc == SQLITE_DONE ? 0 : store_fail(store, rc);
	store_stmt_done(store, st);
	return r;
}

int store_message_insert(struct store *store, const struct store_message *m,
			 int64_t *id_r)
{
	/* The same bytes are the same message, whatever its Message-ID
	 * says (a crash row has none): one row per (account, content hash).
	 * Inside BEGIN IMMEDIATE the look-up and the insert cannot race. */
	static const char sel[] =
		"SELECT id FROM messages WHERE account_id = ? AND "
		"content_hash = ? ORDER BY id LIMIT 1";
	sqlite3_stmt *st = store_stmt(store, sel);
	if (!st)
		return -EIO;
	sqlite3_bind_int64(st, 1, m->account_id);
	store_bind_text(st, 2, m->content_hash);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*id_r = sqlite3_column_int64(st, 0);
	int r = rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : store_fail(store, rc);
	store_stmt_done(store, st);
	if (r < 0)
		return r;
	if (rc == SQLITE_ROW)
		return 0;
	static const char ins[] =
		"INSERT INTO messages(account_id, message_id, content_hash, "
		"source, received_at, orig_from, orig_subject) "
		"VALUES (?, ?, ?, ?, ?, ?, ?)";
	st = store_stmt(store, ins);
	if (!st)
		return -EIO;
	sqlite3_bind_int64(st, 1, m->account_id);
	store_bind_text(st, 2, m->message_id ? m->message_id : "");
	store_bind_text(st, 3, m->content_hash);
	store_bind_text(st, 4, m->source);
	sqlite3_bind_int64(st, 5, store_now());
	store_bind_text(st, 6, m->orig_from ? m->orig_from : "");
	store_bind_text(st, 7, m->orig_subject ? m->orig_subject : "");
	r = store_step_done(store, st);
	if (r < 0)
		return r;
	*id_r = sqlite3_last_insert_rowid(store->db);
	return 1;
}

/* Status an event gives a supplier order. A later 'shipped' must not be
 * undone by an older 'ordered' mail arriving late, and no event ever gives
 * 'delivered': the service never sets Delivered. */
static const char *order_status_for(const struct parse_result *r)
{
	switch (r->event) {
	case EVENT_ORDERED:
		return "ordered";
	case EVENT_CANCELLED:
		return "cancelled";
	case EVENT_REFUNDED:
		return "refunded";
	case EVENT_SHIPPED:
		return r->n_shipments ? "shipped" : "awaiting_tracking";
	default:
		return r->n_shipments ? "shipped" : NULL;
	}
}

static int upsert_order(struct store *store, int64_t account_id,
			const char *supplier, const char *order,
			const char *status, const char *link, int64_t *id_r)
{
	/* Status only moves forward: ordered < awaiting_tracking < shipped;
	 * cancelled and refunded always win (the seller must see them), and
	 * refunded outranks cancelled (a refund follows a cancellation), so
	 * the end state does not depend on the order mails arrive in. */
	static const char sql[] =
		"INSERT INTO supplier_orders(account_id, supplier, "
		"order_number, status, tracking_link, created_at, updated_at) "
		"VALUES (?1, ?2, ?3, coalesce(?4, 'ordered'), ?5, ?6, ?6) "
		"ON CONFLICT (account_id, supplier, order_number) DO UPDATE SET "
		"status = CASE "
		"  WHEN ?4 IS NULL THEN status "
		"  WHEN ?4 = 'refunded' THEN ?4 "
		"  WHEN ?4 = 'cancelled' AND status <> 'refunded' THEN ?4 "
		"  WHEN status IN ('cancelled', 'refunded') THEN status "
		"  WHEN ?4 = 'shipped' THEN 'shipped' "
		"  WHEN ?4 = 'awaiting_tracking' AND status = 'ordered' "
		"    THEN 'awaiting_tracking' "
		"  ELSE status END, "
		"tracking_link = coalesce(?5, tracking_link), updated_at = ?6 "
		"RETURNING id";
	sqlite3_stmt *st = store_stmt(store, sql);
	if (!st)
		return -EIO;
	sqlite3_bind_int64(st, 1, account_id);
	store_bind_text(st, 2, supplier);
	store_bind_text(st, 3, order);
	store_bind_text(st, 4, status);
	store_bind_text(st, 5, link);
	sqlite3_bind_int64(st, 6, store_now());
	int rc = sqlite3_step(st);
	int r = 0;
	if (rc == SQLITE_ROW)
		*id_r = sqlite3_column_int64(st, 0);
	else
		r = store_fail(store, rc);
	store_stmt_done(store, st);
	return r;
}

static int add_event(struct store *store, int64_t account_id, int64_t msg_row,
		     int64_t order_id, int64_t shipment_id, const char *event)
{
	static const char sql[] =
		"INSERT INTO events(account_id, message_row, supplier_order_id,"
		" shipment_id, event, created_at) VALUES (?, ?, ?, ?, ?, ?)";
	sqlite3_stmt *st = store_stmt(store, sql);
	if (!st)
		return -EIO;
	sqlite3_bind_int64(st, 1, account_id);
	sqlite3_bind_int64(st, 2, msg_row);
	if (order_id)
		sqlite3_bind_int64(st, 3, order_id);
	if (shipment_id)
		sqlite3_bind_int64(st, 4, shipment_id);
	store_bind_text(st, 5, event);
	sqlite3_bind_int64(st, 6, store_now());
	return store_step_done(store, st);
}

static int add_shipment(struct store *store, int64_t account_id,
			int64_t order_id, const char *supplier,
			const char *number, const char *carrier,
			int64_t msg_row, int64_t *id_r)
{
	static const char sql[] =
		"INSERT INTO shipments(account_id, supplier_order_id, supplier,"
		" tracking_number, carrier, message_row, created_at) "
		"VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING";
	sqlite3_stmt *st = store_stmt(store, sql);
	if (!st)
		return -EIO;
	sqlite3_bind_int64(st, 1, account_id);
	if (order_id)
		sqlite3_bind_int64(st, 2, order_id);
	store_bind_text(st, 3, supplier);
	store_bind_text(st, 4, number);
	store_bind_text(st, 5, carrier);
	sqlite3_bind_int64(st, 6, msg_row);
	sqlite3_bind_int64(st, 7, store_now());
	int r = store_step_done(store, st);
	if (r < 0)
		return r;
	*id_r = sqlite3_changes(store->db) ? sqlite3_last_insert_rowid(store->db)
					   : 0;
	return 0;
}

/* A carrier's notice attaches to the shipment with that number, if any. */
static int shipment_by_number(struct store *store, int64_t account_id,
			      const char *number, int64_t *id_r,
			      int64_t *order_r)
{
	static const char sql[] =
		"SELECT id, coalesce(supplier_order_id, 0) FROM shipments "
		"WHERE account_id = ? AND tracking_number = ? ORDER BY id "
		"LIMIT 1";
	sqlite3_stmt *st = store_stmt(store, sql);
	if (!st)
		return -EIO;
	sqlite3_bind_int64(st, 1, account_id);
	store_bind_text(st, 2, number);
	int rc = sqlite3_step(st);
	*id_r = 0;
	*order_r = 0;
	if (rc == SQLITE_ROW) {
		*id_r = sqlite3_column_int64(st, 0);
		*order_r = sqlite3_column_int64(st, 1);
	}
	int r = rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : store_fail(store, rc);
	store_stmt_done(store, st);
	return r;
}

int store_record_result(struct store *store, int64_t account_id,
			int64_t msg_row, const struct parse_result *r,
			const char *result_json)
{
	/* A platform parser's mail belongs to "<platform>:<store domain>"
	 * (parse_result_supplier_id), the id `orders add --supplier` takes. */
	_cleanup_free_ char *supplier_owned = parse_result_supplier_id(r);
	const char *supplier = supplier_owned;
	static const char upd[] =
		"UPDATE messages SET supplier = ?, outcome = ?, event = ?, "
		"reason = ?, result_json = ? WHERE id = ?";
	sqlite3_stmt *st = store_stmt(store, upd);
	if (!st)
		return -EIO;
	store_bind_text(st, 1, supplier ? supplier
					: r->parser ? parser_id(r->parser) : NULL);
	store_bind_text(st, 2, parse_outcome_name(r->outcome));
	store_bind_text(st, 3, parse_event_name(r->event));
	store_bind_text(st, 4, r->reason);
	store_bind_text(st, 5, result_json);
	sqlite3_bind_int64(st, 6, msg_row);
	int rc = store_step_done(store, st);
	if (rc == 0)
		rc = store_attribution_record(store, msg_row, r);
	if (rc == 0) {
		/* A message's events are those of its current decision: a
		 * re-decided message (quarantine retry, replay) replaces them
		 * rather than adding them again. */
		static const char del[] =
			"DELETE FROM events WHERE message_row = ?";
		st = store_stmt(store, del);
		if (!st)
			return -EIO;
		sqlite3_bind_int64(st, 1, msg_row);
		rc = store_step_done(store, st);
	}
	if (rc < 0 || r->outcome == OUTCOME_QUARANTINED)
		return rc;

	const char *event = parse_event_name(r->event);
	if (r->parser && parser_kind(r->parser) == PARSER_CARRIER) {
		for (size_t i = 0; i < r->n_notices; i++) {
			int64_t sid, oid;
			rc = shipment_by_number(store, account_id,
						r->notices[i].number, &sid,
						&oid);
			if (rc == 0)
				rc = add_event(store, account_id, msg_row, oid,
					       sid, event);
			if (rc < 0)
				return rc;
		}
		if (r->n_notices == 0)
			rc = add_event(store, account_id, msg_row, 0, 0, event);
		return rc;
	}

	const char *status = order_status_for(r);
	/* Orders named by the mail, each with the event. */
	int64_t first_order = 0;
	for (size_t i = 0; supplier && i < r->n_orders; i++) {
		int64_t oid;
		bool has_shipment = false;
		for (size_t k = 0; k < r->n_shipments; k++)
			has_shipment |= r->shipments[k].order &&
					strcmp(r->shipments[k].order,
					       r->orders[i]) == 0;
		/* An order without its own shipment in a mail that ships
		 * others stays where it was. */
		const char *st_i = status;
		if (status && strcmp(status, "shipped") == 0 && !has_shipment)
			st_i = NULL;
		rc = upsert_order(store, account_id, supplier, r->orders[i],
				  st_i, r->tracking_link, &oid);
		if (rc < 0)
			return rc;
		if (!first_order)
			first_order = oid;
		if (!has_shipment) {
			rc = add_event(store, account_id, msg_row, oid, 0,
				       event);
			if (rc < 0)
				return rc;
		}
	}
	for (size_t i = 0; i < r->n_shipments; i++) {
		const struct shipment *s = &r->shipments[i];
		int64_t oid = 0, sid = 0;
		if (supplier && s->order) {
			rc = upsert_order(store, account_id, supplier,
					  s->order, "shipped", NULL, &oid);
			if (rc < 0)
				return rc;
		}
		rc = add_shipment(store, account_id, oid, supplier,
				  s->decision.check.normalized, s->carrier_id,
				  msg_row, &sid);
		if (rc == 0)
			rc = add_event(store, account_id, msg_row, oid, sid,
				       event);
		if (rc < 0)
			return rc;
	}
	if (r->n_orders == 0 && r->n_shipments == 0)
		rc = add_event(store, account_id, msg_row, 0, 0, event);
	return rc;
}

/* A number entered by the seller (`tracking set`) for a supplier order
 * whose earlier shipment was already pushed to a seller order is a
 * correction: the new push carries the pushed number as
 * previous_tracking, so the adapter updates that fulfilment instead of
 * adding a second one (docs/dispatch.md "Corrected numbers"). */
static int mark_correction(struct store *store, int64_t oid, int64_t sid)
{
	static const char sql[] =
		"UPDATE pushes SET previous_tracking = ("
		" SELECT s.tracking_number FROM pushes p JOIN shipments s"
		" ON s.id = p.shipment_id WHERE s.supplier_order_id = ?1"
		" AND s.id <> ?2 AND p.seller_order_id = pushes.seller_order_id"
		" AND p.state IN ('sent', 'done')"
		" ORDER BY p.updated_at DESC, p.id DESC LIMIT 1)"
		" WHERE shipment_id = ?2 AND seller_order_id IS NOT NULL";
	if (!oid || !sid)
		return 0;
	sqlite3_stmt *st = store_stmt(store, sql);
	if (!st)
		return -EIO;
	sqlite3_bind_int64(st, 1, oid);
	sqlite3_bind_int64(st, 2, sid);
	return store_step_done(store, st);
}

int store_manual_shipment(struct store *store, int64_t account_id,
			  const char *supplier, const char *order,
			  const char *number, const char *carrier,
			  char *supplier_r, size_t size)
{
	static const char find[] =
		"SELECT supplier FROM supplier_orders WHERE account_id = ?1 "
		"AND order_number = ?2 AND (?3 IS NULL OR supplier = ?3)";
	sqlite3_stmt *st = store_stmt(store, find);
	if (!st)
		return -EIO;
	sqlite3_bind_int64(st, 1, account_id);
	store_bind_text(st, 2, order);
	store_bind_text(st, 3, supplier);
	int found = 0, rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (found++ == 0)
			snprintf(supplier_r, size, "%s",
				 (const char *)sqlite3_column_text(st, 0));
	}
	int r = rc == SQLITE_DONE ? 0 : store_fail(store, rc);
	store_stmt_done(store, st);
	if (r < 0)
		return r;
	if (found == 0)
		return -ENOENT;
	if (found > 1)
		return -EEXIST;

	/* The entry itself is the message: the same entry twice is a
	 * duplicate, like the same mail twice. */
	char *key = xasprintf("manual\n%s\n%s\n%s\n%s", supplier_r, order,
			      number, carrier);
	char hash[65];
	util_sha256_hex(key, strlen(key), hash);
	free(key);
	char *mid = xasprintf("manual:%s:%s", order, number);
	struct store_message m = {
		.account_id = account_id,
		.message_id = mid,
		.content_hash = hash,
		.source = "manual",
	};
	int64_t msg_row;
	r = store_message_insert(store, &m, &msg_row);
	free(mid);
	if (r <= 0)
		return r; /* 0: recorded before */
	int64_t oid, sid;
	r = upsert_order(store, account_id, supplier_r, order, "shipped",
			 NULL, &oid);
	if (r == 0)
		r = add_shipment(store, account_id, oid, supplier_r, number,
				 carrier, msg_row, &sid);
	if (r == 0)
		r = add_event(store, account_id, msg_row, oid, sid, "shipped");
	if (r == 0)
		r = mark_correction(store, oid, sid);
	if (r < 0)
		return r;
	static const char upd[] =
		"UPDATE messages SET supplier = ?, outcome = 'shipped', "
		"event = 'shipped' WHERE id = ?";
	st = store_stmt(store, upd);
	if (!st)
		return -EIO;
	store_bind_text(st, 1, supplier_r);
	sqlite3_bind_int64(st, 2, msg_row);
	r = store_step_done(store, st);
	return r < 0 ? r : 1;
}

int store_quarantine_add(struct store *store, int64_t account_id,
			 int64_t msg_row, const char *reason,
			 const char *detail, const char *path, int64_t *id_r)
{
	static const char sql[] =
		"INSERT INTO quarantine(account_id, message_row, reason, "
		"detail, path, created_at, updated_at) "
		"VALUES (?, ?, ?, ?, ?, ?, ?)";
	sqlite3_stmt *st = store_stmt(store, sql);
	if (!st)
		return -EIO;
	sqlite3_bind_int64(st, 1, account_id);
	if (msg_row)
		sqlite3_bind_int64(st, 2, msg_row);
	store_bind_text(st, 3, reason);
	store_bind_text(st, 4, detail ? detail : "");
	store_bind_text(st, 5, path);
	sqlite3_bind_int64(st, 6, store_now());
	sqlite3_bind_int64(st, 7, store_now());
	int r = store_step_done(store, st);
	if (r == 0 && id_r)
		*id_r = sqlite3_last_insert_rowid(store->db);
	return r;
}

void store_quarantine_clear(struct store_quarantine *q)
{
	free(q->detail);
	free(q->path);
	free(q->orig_from);
	free(q->orig_subject);
	memset(q, 0, sizeof(*q));
}

static const char quarantine_select[] =
	"SELECT q.id, q.account_id, coalesce(q.message_row, 0), a.name, "
	"q.reason, q.detail, q.path, coalesce(m.orig_from, ''), "
	"coalesce(m.orig_subject, ''), q.state, q.created_at "
	"FROM quarantine q JOIN accounts a ON a.id = q.account_id "
	"LEFT JOIN messages m ON m.id = q.message_row ";

static void read_quarantine(sqlite3_stmt *st, struct store_quarantine *q)
{
	memset(q, 0, sizeof(*q));
	q->id = sqlite3_column_int64(st, 0);
	q->account_id = sqlite3_column_int64(st, 1);
	q->message_row = sqlite3_column_int64(st, 2);
	snprintf(q->account, sizeof(q->account), "%s",
		 (const char *)sqlite3_column_text(st, 3));
	snprintf(q->reason, sizeof(q->reason), "%s",
		 (const char *)sqlite3_column_text(st, 4));
	q->detail = xstrdup((const char *)sqlite3_column_text(st, 5));
	q->path = xstrdup((const char *)sqlite3_column_text(st, 6));
	q->orig_from = xstrdup((const char *)sqlite3_column_text(st, 7));
	q->orig_subject = xstrdup((const char *)sqlite3_column_text(st, 8));
	snprintf(q->state, sizeof(q->state), "%s",
		 (const char *)sqlite3_column_text(st, 9));
	q->created_at = sqlite3_column_int64(st, 10);
}

int store_quarantine_get(struct store *store, int64_t id,
			 struct store_quarantine *out)
{
	static const char *sql;
	static char buf[1024];
	if (!sql) {
		snprintf(buf, sizeof(buf), "%sWHERE q.id = ?",
			 quarantine_select);
		sql = buf;
	}
	sqlite3_stmt *st = store_stmt(store, sql);
	if (!st)
		return -EIO;
	sqlite3_bind_int64(st, 1, id);
	int rc = sqlite3_step(st);
	int r = 0;
	if (rc == SQLITE_ROW)
		read_quarantine(st, out);
	else
		r = rc == SQLITE_DONE ? -ENOENT : store_fail(store, rc);
	store_stmt_done(store, st);
	return r;
}

int store_quarantine_each(struct store *store, const char *state,
			  void (*fn)(const struct store_quarantine *q,
				     void *ctx),
			  void *ctx)
{
	static const char *sql;
	static char buf[1024];
	if (!sql) {
		snprintf(buf, sizeof(buf),
			 "%sWHERE ?1 IS NULL OR q.state = ?1 ORDER BY q.id",
			 quarantine_select);
		sql = buf;
	}
	sqlite3_stmt *st = store_stmt(store, sql);
	if (!st)
		return -EIO;
	store_bind_text(st, 1, state);
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct store_quarantine q;
		read_quarantine(st, &q);
		fn(&q, ctx);
		store_quarantine_clear(&q);
	}
	int r = rc == SQLITE_DONE ? 0 : store_fail(store, rc);
	store_stmt_done(store, st);
	return r;
}

int store_quarantine_set_state(struct store *store, int64_t id,
			       const char *state, const char *path)
{
	static const char sql[] =
		"UPDATE quarantine SET state = ?, path = coalesce(?, path), "
		"updated_at = ? WHERE id = ?";
	sqlite3_stmt *st = store_stmt(store, sql);
	if (!st)
		return -EIO;
	store_bind_text(st, 1, state);
	store_bind_text(st, 2, path);
	sqlite3_bind_int64(st, 3, store_now());
	sqlite3_bind_int64(st, 4, id);
	int r = store_step_done(store, st);
	if (r == 0 && sqlite3_changes(store->db) == 0)
		return -ENOENT;
	return r;
}

int store_supplier_stats(struct store *store, int days,
			 void (*fn)(const struct store_supplier_stats *s,
				    void *ctx),
			 void *ctx)
{
	static const char sql[] =
		"SELECT coalesce(supplier, '(unknown)'), "
		"sum(outcome = 'shipped'), sum(outcome = 'info'), "
		"sum(outcome = 'quarantined') FROM messages "
		"WHERE received_at >= ? AND outcome IS NOT NULL "
		"GROUP BY 1 ORDER BY 1";
	sqlite3_stmt *st = store_stmt(store, sql);
	if (!st)
		return -EIO;
	sqlite3_bind_int64(st, 1, store_now() - (int64_t)days * 86400);
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct store_supplier_stats s;
		snprintf(s.supplier, sizeof(s.supplier), "%s",
			 (const char *)sqlite3_column_text(st, 0));
		s.shipped = sqlite3_column_int64(st, 1);
		s.info = sqlite3_column_int64(st, 2);
		s.quarantined = sqlite3_column_int64(st, 3);
		fn(&s, ctx);
	}
	int r = rc == SQLITE_DONE ? 0 : store_fail(store, rc);
	store_stmt_done(store, st);
	return r;
}

long store_count(struct store *store, const char *table)
{
	static const char *const allowed[] = {
		"accounts", "messages", "supplier_orders", "shipments",
		"events", "quarantine", NULL
	};
	bool ok = false;
	for (size_t i = 0; allowed[i]; i++)
		ok |= strcmp(table, allowed[i]) == 0;
	if (!ok)
		return -1;
	char sql[64];
	snprintf(sql, sizeof(sql), "SELECT count(*) FROM %s", table);
	sqlite3_stmt *st = NULL;
	if (sqlite3_prepare_v2(store->db, sql, -1, &st, NULL) != SQLITE_OK)
		return -1;
	long n = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0)
						: -1;
	sqlite3_finalize(st);
	return n;
}
