/* pipeline.h - raw message -> mail -> parse -> (store): the one place
 * that composes the stages (DESIGN.md "Data flow").
 *
 * pipeline_process() decodes and parses one raw message and, when the
 * pipeline has a store, records it in one transaction: the message row,
 * what the parser decided, and for quarantined mail a Maildir copy in the
 * data dir plus a quarantine row. The same code serves `trackmail parse`
 * (no store), `trackmail ingest` and the service's workers. */
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
	bool explain;
};

struct pipeline_result {
	struct decoded_message *msg; /* NULL when decoding failed */
	struct parse_result parse;
	bool duplicate;
	struct store_account account;
	int64_t message_row;
	int64_t quarantine_id;       /* 0 when not quarantined */
	char *json;                  /* the JSON line (no newline) */
};

void pipeline_result_init(struct pipeline_result *res);
void pipeline_result_clear(struct pipeline_result *res);

/* Processes raw[0..len) (padded, see util_read_file). `name` is the file
 * name or source reported in JSON. Returns 0 when a decision was made
 * (including quarantine), <0 only when storing failed (nothing was
 * committed; the input must not be acknowledged). */
int pipeline_process(struct pipeline *pl, const char *raw, size_t len,
		     const char *name, struct pipeline_result *res);

/* Records a message the decoder could not survive (the worker died or
 * ran out of time): quarantined with reason, raw kept in the Maildir. In a
 * dry run only fills res. */
int pipeline_record_crash(struct pipeline *pl, const char *raw, size_t len,
			  const char *name, const char *reason,
			  const char *detail, struct pipeline_result *res);

/* The JSON line for a result (also stored in messages.result_json). */
char *pipeline_result_json(const struct pipeline_result *res,
			   const char *name, bool explain);

/* Writes raw to the quarantine Maildir of data_dir with
 * X-Trackmail-Quarantine-* headers in front; fsyncs file and directory.
 * Returns 0 and the path (malloc'ed) in *path_r. */
int pipeline_quarantine_write(const char *data_dir, const char *raw,
			      size_t len, const char *reason,
			      const char *detail, char **path_r);
/* Returns where the original message starts in a quarantine file: after
 * the leading X-Trackmail-Quarantine-* header lines. */
size_t pipeline_quarantine_skip_headers(const char *raw, size_t len);

#endif
