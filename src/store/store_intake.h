/* store_intake.h - what the service's intake asks of the store: the
 * spool file a message came from (unique: a message taken from the spool
 * twice, after a worker died, is stored once), the way it arrived
 * (smtp/lmtp/imap/file), and the listing behind `messages list` and
 * `status`.
 *
 * Same conventions as store.h: 0 or -errno, store_error() for the text. */
#ifndef TRACKMAIL_STORE_INTAKE_H
#define TRACKMAIL_STORE_INTAKE_H

#include <stdint.h>

#include "store/store.h"

/* The account with this id; -ENOENT when none. */
int store_intake_account_by_id(struct store *store, int64_t id,
			       struct store_account *out);

/* Records on message row where it came from: spool_id (the spool file's
 * base name, may be NULL) and intake ("smtp", "lmtp", "imap", "file").
 * Run inside the transaction that inserts the row. -EEXIST when another
 * row already has this spool_id. */
int store_intake_mark(struct store *store, int64_t row, const char *spool_id,
		      const char *intake);

/* 1 and *row_r when a message from spool file spool_id is stored, 0 when
 * not. */
int store_intake_by_spool_id(struct store *store, const char *spool_id,
			     int64_t *row_r);

struct store_intake_row {
	int64_t id;
	const char *message_id;  /* Message-ID header, "" when none */
	const char *account;     /* the account's name */
	const char *intake;      /* smtp, lmtp, imap, file */
	const char *name;        /* file name or spool id */
	int64_t received_at;     /* seconds since the epoch */
	const char *result_json; /* the decision's JSON line, "" when none */
};

/* Calls fn for each stored message received at or after since (0: all),
 * in account (NULL: all), by id; id > 0 selects that one message, id < 0
 * the last one stored.
 * Returns the number of rows or <0. fn's strings live until it returns. */
int store_intake_each(struct store *store, int64_t id, int64_t since,
		      const char *account,
		      void (*fn)(const struct store_intake_row *row, void *arg),
		      void *arg);

#endif
