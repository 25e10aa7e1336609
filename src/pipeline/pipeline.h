/* pipeline.h - raw message -> mail -> parse -> (store): the one place
 * that composes the stages (DESIGN.md "Data flow").
 *
 * Contract. Every path that decides a message goes through
 * pipeline_process(): `parse` (no store), `ingest`, `quarantine retry`
 * (through pipeline_redecide(), which sets res->redecide_row and calls
 * pipeline_process()), the service's workers and any later replay. No
 * caller composes parse and store itself. With a store, one call:
 *   1. decodes and parses (no database access);
 *   2. reads: the account (--account, t-<token>@ recipient, default; for
 *      a re-decision the row's own account), whether these bytes are
 *      already stored for it (then `duplicate`, nothing written), the
 *      account's sender allowlist (a decided mail from a forwarder not on
 *      it becomes quarantined, reason sender-not-allowed);
 *   3. for quarantined or needs-review mail writes the Maildir copy
 *      (qfile.h), before any write lock;
 *   4. one BEGIN IMMEDIATE transaction: the message row (or, re-deciding,
 *      the earlier decision copied to message_decisions and the same row
 *      updated), the quarantine row, orders, shipments, events; an open
 *      quarantine entry of a re-decided message that now gets a decision
 *      is resolved;
 *   5. after the commit, renames only (the resolved file flagged Seen).
 * A message (account, content hash) is stored at most once: the look-up
 * also runs inside the transaction.
 * Returns 0 when a decision was made or the message is a duplicate (the
 * input may then be acknowledged), <0 when nothing was stored (the input
 * must not be acknowledged); res->error then says why, naming the file
 * ("disk full: <file>: ..." when it is). -ENOSPC, -EIO, -EROFS, -EACCES
 * mean the store refuses writes: stop taking input. -EBUSY is transient.
 *
 * Processes: a struct store belongs to the process that opened it
 * (store.c refuses it after fork). A worker child opens its own. */
#ifndef TRACKMAIL_PIPELINE_H
#define TRACKMAIL_PIPELINE_H

#include <stdbool.h>
#include <stdint.h>

#include "mail/mail.h"
#include "parse/parser.h"
#include "store/store.h"

struct pipeline {
	const struct parser_set *parsers;
	struct parser_matcher *matcher;
	struct store *store;        /* NULL: dry run */
	const char *data_dir;       /* for the quarantine Maildir */
	const char *account_name;   /* --account, or NULL: from the address */
	const char *redecide_by;    /* kept with a replaced decision:
				     * "quarantine retry", "replay" */
	bool explain;
	/* The service's workers (issue 9): the account the spool recorded
	 * (0: from the address), the spool file's id (stored unique: a
	 * second commit of the same file is a duplicate) and the intake
	 * source name ("smtp", ...; NULL: "file"). */
	int64_t account_id;
	const char *spool_id;
	const char *intake;
};

struct pipeline_result {
	struct decoded_message *msg; /* NULL when decoding failed */
	struct parse_result parse;
	bool duplicate;
	struct store_account account;
	int64_t message_row;
	int64_t quarantine_id;       /* 0 when not quarantined */
	char *json;                  /* the JSON line (no newline) */
	char *error;                 /* why storing failed, or NULL */
	/* Input, set before pipeline_process(): re-decide this stored
	 * message row instead of adding one (pipeline_redecide()). */
	int64_t redecide_row;
};

void pipeline_result_init(struct pipeline_result *res);
void pipeline_result_clear(struct pipeline_result *res);

/* Processes raw[0..len) (padded, see util_read_file). `name` is the file
 * name or source reported in JSON. See the contract above. */
int pipeline_process(struct pipeline *pl, const char *raw, size_t len,
		     const char *name, struct pipeline_result *res);

/* pipeline_process() for a message already stored in row message_row
 * (quarantine retry, replay): same decision rules, the same row updated,
 * the earlier decision kept in message_decisions. Needs a store. */
int pipeline_redecide(struct pipeline *pl, int64_t message_row,
		      const char *raw, size_t len, const char *name,
		      struct pipeline_result *res);

/* Records a message the decoder could not survive (the worker died or
 * ran out of time): quarantined with reason, raw kept in the Maildir. When
 * these bytes are already stored (the worker died after its commit) it
 * is a duplicate carrying the stored JSON line: never stored twice. In a
 * dry run only fills res. */
int pipeline_record_crash(struct pipeline *pl, const char *raw, size_t len,
			  const char *name, const char *reason,
			  const char *detail, struct pipeline_result *res);

/* The JSON line for a result (also stored in messages.result_json). */
char *pipeline_result_json(const struct pipeline_result *res,
			   const char *name, bool explain);

#endif
