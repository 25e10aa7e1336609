/* store_accounts.h - accounts over their life (disable, rotate, delete,
 * passwords), the online backup, and the IMAP poller's state
 * (store_accounts.c, docs/accounts.md, docs/intake.md "IMAP").
 *
 * Same conventions as store.h: 0 or -errno, the message in store_error().
 * Writes run inside store_begin()/store_commit() unless said otherwise. */
#ifndef TRACKMAIL_STORE_ACCOUNTS_H
#define TRACKMAIL_STORE_ACCOUNTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store/store.h"

/* The account a forwarding token names: its current token, or a token it
 * had before `accounts rotate` while the grace period lasts. Compared in
 * lower case. 0 and out filled, *disabled_r set (a disabled account's mail
 * is refused at intake: 550 5.2.1); -ENOENT when no account has it. */
int store_account_lookup(struct store *store, const char *token,
			 struct store_account *out, bool *disabled_r);

int store_account_set_disabled(struct store *store, int64_t account_id,
			       bool disabled);

/* Gives the account a new random token (written to out); the old one
 * keeps naming it for grace_days days (0: not at all). */
int store_account_rotate(struct store *store, int64_t account_id,
			 long grace_days, struct store_account *out);

/* Deletes the account and every row that refers to it, also rows of
 * tables added later (found through their foreign keys). The caller
 * removes its files. */
int store_account_delete(struct store *store, int64_t account_id);

/* Sets the password hash (a Dovecot scheme prefix such as
 * {SHA512-CRYPT}); NULL clears it. */
int store_account_set_password(struct store *store, int64_t account_id,
			       const char *hash);

/* Calls fn for each account with its password hash ("" when none) and
 * disabled flag, by id. */
int store_account_each_login(struct store *store,
			     void (*fn)(const struct store_account *a,
					const char *hash, bool disabled,
					void *ctx),
			     void *ctx);

/* A consistent copy of the database into the new file dest with SQLite's
 * online backup API, while other processes keep writing (they are not
 * blocked for longer than one step). dest must not exist. Not inside a
 * transaction. */
int store_backup(struct store *store, const char *dest);

/* IMAP poller state, per configured mailbox name. */
/* 0 and the stored UIDVALIDITY and last UID, -ENOENT when none yet. */
int store_imap_state(struct store *store, const char *mailbox,
		     uint32_t *uidvalidity_r, uint32_t *last_uid_r);
int store_imap_set_state(struct store *store, const char *mailbox,
			 uint32_t uidvalidity, uint32_t last_uid);
/* Records a message the poller spooled (and moved to Processed). */
int store_imap_delivered(struct store *store, const char *mailbox,
			 const char *spool_id, const char *content_hash,
			 int64_t account_id, const char *message_id);
/* Delivered messages of mailbox still waiting for their decision: fn
 * gets the row id, the Message-ID and whether the decision now exists and
 * is a quarantine (decided: 0 not yet, 1 decided and not quarantined, 2
 * quarantined). */
int store_imap_pending(struct store *store, const char *mailbox,
		       void (*fn)(int64_t id, const char *message_id,
				  int decided, void *ctx),
		       void *ctx);
/* state: "quarantine-copied" or "done". */
int store_imap_set_delivered_state(struct store *store, int64_t id,
				   const char *state);

#endif
