/* store_message.h - what decision safety asks of the store: finding a
 * message by its bytes, re-deciding a stored message with its history
 * kept, the quarantine entry of a message.
 *
 * Same conventions as store.h: 0 or -errno, store_error() for the text. */
#ifndef TRACKMAIL_STORE_MESSAGE_H
#define TRACKMAIL_STORE_MESSAGE_H

#include <stdint.h>

#include "store/store.h"

/* The stored message with these bytes (content hash) in account_id, or in
 * any account when account_id is 0. Returns 1 found (*row_r, and when
 * json_r is not NULL the stored JSON line, malloc'ed, "" when none), 0
 * not found, <0 errors. A read: runs outside a transaction too. */
int store_message_by_hash(struct store *store, int64_t account_id,
			  const char *hash, int64_t *row_r, char **json_r);

/* The account a message row belongs to. -ENOENT when no such row. */
int store_message_account(struct store *store, int64_t row,
			  struct store_account *out);

/* Copies row's current decision (supplier, outcome, event, reason, JSON)
 * into message_decisions before it is replaced; `by` says what replaces
 * it ("quarantine retry", "replay"). Does nothing when the row was never
 * decided. Run inside the transaction that records the new decision. */
int store_message_keep_decision(struct store *store, int64_t row,
				const char *by);

/* The open quarantine entry of message row: 1 and its id and Maildir base
 * name (malloc'ed), 0 when none is open. */
int store_message_open_quarantine(struct store *store, int64_t row,
				  int64_t *id_r, char **base_r);

/* The number of earlier decisions kept for row (tests, `show`). */
long store_message_decision_count(struct store *store, int64_t row);

#endif
