/* store.h - the SQLite database: schema, migrations, and every write.
 *
 * One file in the data dir, WAL mode, synchronous=FULL, foreign keys on,
 * STRICT tables, schema versioned by PRAGMA user_version with forward
 * migrations (a newer database than the code knows is refused). Writes run
 * inside store_begin()/store_commit() (BEGIN IMMEDIATE + busy timeout), so
 * several processes can share the file. docs/store.md shows the schema.
 *
 * Functions return 0 or a negative errno-style code; on failure the SQLite
 * message is available from store_error(). */
#ifndef TRACKMAIL_STORE_H
#define TRACKMAIL_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mail/mail.h"
#include "parse/parser.h"

#define STORE_TOKEN_LEN 26 /* 128 bits in base32 */
#define STORE_SCHEMA_VERSION 4

struct store;

/* Opens (creating and migrating) the database at path. */
int store_open(const char *path, struct store **store_r,
	       const char **error_r);
void store_close(struct store **store);
const char *store_error(const struct store *store);

int store_begin(struct store *store);
int store_commit(struct store *store);
void store_rollback(struct store *store);

struct store_account {
	int64_t id;
	char name[128];
	char token[STORE_TOKEN_LEN + 1];
};

/* Creates an account with a fresh random token. -EEXIST when the name is
 * taken. */
int store_account_add(struct store *store, const char *name,
		      struct store_account *out);
/* 0 and fills out, -ENOENT when absent. */
int store_account_by_name(struct store *store, const char *name,
			  struct store_account *out);
/* token is compared in lower case (forwarders may change case). */
int store_account_by_token(struct store *store, const char *token,
			   struct store_account *out);
/* Returns the "default" account, creating it if needed. */
int store_account_default(struct store *store, struct store_account *out);
int store_account_allow_sender(struct store *store, int64_t account_id,
			       const char *sender);
/* 1 when the account has an allowlist and sender (lower case) is on it,
 * or when the account has no allowlist; 0 when not allowed. */
int store_account_sender_allowed(struct store *store, int64_t account_id,
				 const char *sender);
/* Calls fn for each account, with its allowed senders joined by ", ". */
int store_account_each(struct store *store,
		       void (*fn)(const struct store_account *a,
				  const char *senders, void *ctx),
		       void *ctx);

/* The message row: inserted once per (account, content hash): the same
 * bytes are the same message whatever their Message-ID (a decoder-crash
 * row has none). Returns 1 inserted (*id_r set), 0 duplicate (*id_r =
 * existing row). Run inside store_begin()/store_commit(). */
struct store_message {
	int64_t account_id;
	const char *message_id;
	const char *content_hash;
	const char *source;
	const char *orig_from;
	const char *orig_subject;
};
int store_message_insert(struct store *store, const struct store_message *m,
			 int64_t *id_r);

/* Records what the parser decided for message row msg_row: the outcome
 * columns, supplier orders (status never 'delivered'), shipments (unique
 * per order and tracking number) and events. result_json is the JSON line
 * `trackmail parse` prints for it. */
int store_record_result(struct store *store, int64_t account_id,
			int64_t msg_row, const struct parse_result *r,
			const char *result_json);

/* A tracking number a person entered for an existing supplier order
 * (`trackmail tracking set`): recorded like a message that shipped it, with
 * a 'manual' message row for the audit trail, the shipment, the order
 * Shipped and a 'shipped' event. supplier may be NULL when the order
 * number is unique in the account. Returns 1 recorded, 0 already recorded
 * (the same entry again), -ENOENT no such order, -EEXIST the order number
 * exists for several suppliers (give one), <0 errors. The supplier is
 * written to supplier_r. Run inside store_begin()/store_commit(). */
int store_manual_shipment(struct store *store, int64_t account_id,
			  const char *supplier, const char *order,
			  const char *number, const char *carrier,
			  char *supplier_r, size_t size);

/* Quarantine rows. The Maildir copy is written by the caller first;
 * `path` is its Maildir base name (before ':'): the file lives in
 * <data-dir>/quarantine/<account id>/new or cur (pipeline/qfile.h). */
int store_quarantine_add(struct store *store, int64_t account_id,
			 int64_t msg_row, const char *reason,
			 const char *detail, const char *path, int64_t *id_r);
struct store_quarantine {
	int64_t id;
	int64_t account_id;
	int64_t message_row;
	char account[128];
	char reason[64];
	char *detail;   /* owned, free with store_quarantine_clear */
	char *path;     /* Maildir base name (qfile_path() finds the file) */
	char *orig_from;
	char *orig_subject;
	char state[16]; /* open, resolved, dropped */
	int64_t created_at;
};
void store_quarantine_clear(struct store_quarantine *q);
int store_quarantine_get(struct store *store, int64_t id,
			 struct store_quarantine *out);
/* Calls fn for every quarantine row in state (NULL: all states). */
int store_quarantine_each(struct store *store, const char *state,
			  void (*fn)(const struct store_quarantine *q,
				     void *ctx),
			  void *ctx);
int store_quarantine_set_state(struct store *store, int64_t id,
			       const char *state, const char *path);

/* Per supplier counts of outcomes over the last `days` days. */
struct store_supplier_stats {
	char supplier[64];
	long shipped, info, quarantined;
};
int store_supplier_stats(struct store *store, int days,
			 void (*fn)(const struct store_supplier_stats *s,
				    void *ctx),
			 void *ctx);

/* Read helpers for tests and the CLI: the number of rows of table. */
long store_count(struct store *store, const char *table);

#endif
