/* pipeline.c - composes mail -> parse -> store for one message: the one
 * code path every command and worker uses (see pipeline.h's contract).
 *
 * The decision (parse), the reads (account, duplicate, allowlist) and the
 * quarantine file happen before the write transaction opens, so a
 * transaction holds the database lock only for the inserts. A quarantine
 * copy is written and fsync'd before the row that points at it commits:
 * a crash in between leaves a file without a row (found by a person),
 * never a row without its file. */
#include "pipeline/pipeline.h"

#include <ctype.h>
#include <errno.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/util.h"
#include "pipeline/qfile.h"
#include "pipeline/worker.h"
#include "store/store_intake.h"
#include "store/store_message.h"

void pipeline_result_init(struct pipeline_result *res)
{
	memset(res, 0, sizeof(*res));
	parse_result_init(&res->parse);
}

void pipeline_result_clear(struct pipeline_result *res)
{
	mail_free(&res->msg);
	parse_result_clear(&res->parse);
	free(res->json);
	free(res->error);
	pipeline_result_init(res);
}

static json_t *str_or_null(const char *s)
{
	return s ? json_string(s) : json_null();
}

char *pipeline_result_json(const struct pipeline_result *res,
			   const char *name, bool explain)
{
	const struct parse_result *r = &res->parse;
	json_t *o = json_object();
	json_object_set_new(o, "file", json_string(name ? name : "-"));
	json_object_set_new(o, "outcome",
			    json_string(res->duplicate
						? "duplicate"
						: parse_outcome_name(r->outcome)));
	json_object_set_new(o, "event",
			    json_string(parse_event_name(r->event)));
	bool supplier = r->parser && (parser_kind(r->parser) == PARSER_SUPPLIER ||
				      parser_kind(r->parser) == PARSER_PLATFORM);
	char *supplier_id = parse_result_supplier_id(r);
	json_object_set_new(o, "supplier", str_or_null(supplier_id));
	free(supplier_id);
	if (r->parser && parser_kind(r->parser) == PARSER_PLATFORM) {
		json_object_set_new(o, "platform",
				    json_string(parser_id(r->parser)));
		json_object_set_new(o, "store_name",
				    str_or_null(r->store_name));
	}
	if (r->template_drift)
		json_object_set_new(o, "template_drift", json_true());
	if (r->attributed_by)
		json_object_set_new(o, "attributed_by",
				    json_string(r->attributed_by));
	if (r->parser && !supplier)
		json_object_set_new(o, "carrier_mail",
				    json_string(parser_id(r->parser)));
	json_t *ships = json_array();
	for (size_t i = 0; i < r->n_shipments; i++) {
		const struct shipment *s = &r->shipments[i];
		json_t *j = json_object();
		json_object_set_new(j, "order", str_or_null(s->order));
		json_object_set_new(j, "tracking",
				    json_string(s->decision.check.normalized));
		json_object_set_new(j, "carrier", json_string(s->carrier_id));
		json_array_append_new(ships, j);
	}
	json_object_set_new(o, "shipments", ships);
	if (r->n_notices) {
		json_t *ns = json_array();
		for (size_t i = 0; i < r->n_notices; i++) {
			json_t *j = json_object();
			json_object_set_new(j, "tracking",
					    json_string(r->notices[i].number));
			json_object_set_new(j, "carrier",
					    str_or_null(r->notices[i].carrier_id));
			json_array_append_new(ns, j);
		}
		json_object_set_new(o, "notices", ns);
	}
	json_object_set_new(o, "order", str_or_null(r->order));
	if (r->n_orders > 1) {
		json_t *os = json_array();
		for (size_t i = 0; i < r->n_orders; i++)
			json_array_append_new(os, json_string(r->orders[i]));
		json_object_set_new(o, "orders", os);
	}
	if (r->tracking_link)
		json_object_set_new(o, "tracking_link",
				    json_string(r->tracking_link));
	if (r->event == EVENT_SHIPPED && r->n_shipments == 0 &&
	    r->outcome == OUTCOME_INFO)
		json_object_set_new(o, "awaiting_tracking", json_true());
	json_object_set_new(o, "reason", str_or_null(r->reason));
	if (r->detail)
		json_object_set_new(o, "detail", json_string(r->detail));
	if (r->n_candidates) {
		json_t *cs = json_array();
		for (size_t i = 0; i < r->n_candidates; i++)
			json_array_append_new(cs, json_string(r->candidates[i]));
		json_object_set_new(o, "candidates", cs);
	}
	if (r->needs_review)
		json_object_set_new(o, "needs_review", json_true());
	if (res->msg) {
		json_t *orig = json_object();
		json_object_set_new(orig, "from",
				    json_string(res->msg->orig_from.addr));
		json_object_set_new(orig, "subject",
				    json_string(res->msg->orig_subject));
		if (res->msg->forward_depth)
			json_object_set_new(orig, "forwarded_by",
					    json_string(res->msg->forward_kind));
		json_object_set_new(o, "original", orig);
	}
	if (res->account.id)
		json_object_set_new(o, "account",
				    json_string(res->account.name));
	if (res->quarantine_id)
		json_object_set_new(o, "quarantine_id",
				    json_integer(res->quarantine_id));
	if (explain && r->explain.len) {
		json_t *lines = json_array();
		const char *s = buf_cstr(&r->explain);
		while (*s) {
			const char *e = strchr(s, '\n');
			size_t n = e ? (size_t)(e - s) : strlen(s);
			json_array_append_new(lines, json_stringn(s, n));
			s += n + (e ? 1 : 0);
		}
		json_object_set_new(o, "explain", lines);
	}
	char *out = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(o);
	if (!out)
		abort(); /* only on OOM: every string above is valid UTF-8 */
	return out;
}

/* The account: --account, else a t-<token>@ recipient, else default. */
static int resolve_account(struct pipeline *pl, struct pipeline_result *res)
{
	if (pl->account_id)
		return store_intake_account_by_id(pl->store, pl->account_id,
						  &res->account);
	if (pl->account_name) {
		int r = store_account_by_name(pl->store, pl->account_name,
					      &res->account);
		if (r == -ENOENT && strcmp(pl->account_name, "default") == 0)
			r = store_account_default(pl->store, &res->account);
		return r;
	}
	for (size_t i = 0; res->msg && i < res->msg->n_recipients; i++) {
		const char *a = res->msg->recipients[i];
		if (strncasecmp(a, "t-", 2) != 0)
			continue;
		const char *at = strchr(a, '@');
		size_t n = at ? (size_t)(at - a - 2) : 0;
		if (n != STORE_TOKEN_LEN)
			continue;
		char token[STORE_TOKEN_LEN + 1];
		for (size_t k = 0; k < n; k++)
			token[k] = (char)tolower((unsigned char)a[2 + k]);
		token[n] = '\0';
		if (store_account_by_token(pl->store, token, &res->account) == 0)
			return 0;
	}
	return store_account_default(pl->store, &res->account);
}

static void log_result(const struct pipeline_result *res, const char *name)
{
	struct buf b;
	buf_init(&b, 4096);
	log_escape(&b, name);
	buf_append_str(&b, " outcome=");
	buf_append_str(&b, res->duplicate ? "duplicate"
					  : parse_outcome_name(res->parse.outcome));
	if (res->parse.reason) {
		buf_append_str(&b, " reason=");
		log_escape(&b, res->parse.reason);
	}
	log_msg(LOG_DEBUG, "event=message file=%s", buf_cstr(&b));
	buf_free(&b);
}

static void set_error(struct pipeline_result *res, char *msg)
{
	free(res->error);
	res->error = msg;
}

/* The allowlist of the account: a decided message from a forwarder not
 * on it is quarantined instead. A read, before the write lock. */
static int check_sender(struct pipeline *pl, struct pipeline_result *res)
{
	struct parse_result *r = &res->parse;
	if (!res->msg || r->outcome == OUTCOME_QUARANTINED)
		return 0;
	int ok = store_account_sender_allowed(pl->store, res->account.id,
					      res->msg->from.addr);
	if (ok < 0)
		return ok;
	if (ok == 0) {
		r->outcome = OUTCOME_QUARANTINED;
		r->reason = "sender-not-allowed";
		free(r->detail);
		r->detail = xasprintf("%s is not on the allowlist of account %s",
				      res->msg->from.addr, res->account.name);
	}
	return 0;
}

/* Test hook (docs/testing.md): TRACKMAIL_TEST_KILL_AFTER_COMMIT=TEXT kills
 * the process with SIGKILL right after it committed a message whose name
 * contains TEXT: the moment between the commit and the worker's "done"
 * report that must never store a message twice. */
static void test_kill_after_commit(const char *name)
{
	const char *want = getenv("TRACKMAIL_TEST_KILL_AFTER_COMMIT");
	if (want && *want && name && strstr(name, want))
		raise(SIGKILL);
}

/* Stores a decided message. Reads first (account, duplicate, allowlist),
 * then the quarantine file, then one short write transaction; after the
 * commit only renames that the row survives either way. */
static int store_message(struct pipeline *pl, const char *raw, size_t len,
			 const char *name, bool crash,
			 struct pipeline_result *res)
{
	struct parse_result *r = &res->parse;
	int64_t redecide = res->redecide_row;
	/* Declared before the first goto: fail: frees and reads them. */
	_cleanup_free_ char *open_base = NULL; /* open entry's file */
	_cleanup_free_ char *base = NULL;      /* the file written here */
	int64_t open_id = 0;
	struct worker_cpu_pause cpu = { 0 };
	char hash[65];
	util_sha256_hex(raw, len, hash);
	int rc;
	if (redecide) {
		res->message_row = redecide;
		rc = store_message_account(pl->store, redecide, &res->account);
	} else {
		rc = resolve_account(pl, res);
	}
	if (rc < 0)
		goto fail;
	if (!redecide) {
		/* After a worker died the parent cannot resolve the account
		 * (nothing decoded): the bytes stored in any account are
		 * this message, decided before the worker died. */
		int64_t acct = crash && !pl->account_name ? 0 : res->account.id;
		char *json = NULL;
		rc = store_message_by_hash(pl->store, acct, hash,
					   &res->message_row, &json);
		if (rc < 0)
			goto fail;
		if (rc == 1) {
			res->duplicate = true;
			if (crash && *json) {
				res->json = json;
			} else {
				free(json);
				res->json = pipeline_result_json(res, name,
								 pl->explain);
			}
			return 0;
		}
	}
	rc = check_sender(pl, res);
	if (rc < 0)
		goto fail;
	bool to_quarantine = r->outcome == OUTCOME_QUARANTINED ||
			     r->needs_review;
	if (redecide) {
		rc = store_message_open_quarantine(pl->store, redecide,
						   &open_id, &open_base);
		if (rc < 0)
			goto fail;
		if (to_quarantine && open_id) {
			/* Still quarantined: the open entry stays as it is. */
			res->quarantine_id = open_id;
			res->json = pipeline_result_json(res, name, pl->explain);
			return 0;
		}
	}
	/* The file before the lock: mkdir and two fsyncs never run inside
	 * BEGIN IMMEDIATE. A crash before the commit leaves a file no row
	 * names (a person finds it), never a row without its file. */
	const char *reason = r->outcome == OUTCOME_QUARANTINED ? r->reason
							       : "needs-review";
	if (to_quarantine) {
		char *failed = NULL;
		rc = qfile_write(pl->data_dir, res->account.id, raw, len,
				 reason, r->detail, &base, &failed);
		if (rc < 0) {
			set_error(res, xasprintf("%s%s: %s",
						 rc == -ENOSPC ? "disk full: "
							       : "",
						 failed ? failed : pl->data_dir,
						 strerror(-rc)));
			free(failed);
			return rc;
		}
	}
	/* The CPU limit is for decoding hostile mail, not for waiting on
	 * the lock and the fsyncs of the commit. */
	worker_pause_cpu_limit(&cpu);
	rc = store_begin(pl->store);
	if (rc < 0)
		goto fail;
	if (redecide) {
		rc = store_message_keep_decision(pl->store, redecide,
						 pl->redecide_by
							 ? pl->redecide_by
							 : "redecide");
	} else {
		struct store_message m = {
			.account_id = res->account.id,
			.message_id = res->msg ? res->msg->message_id : "",
			.content_hash = hash,
			.source = name,
			.orig_from = res->msg ? res->msg->orig_from.addr : "",
			.orig_subject = res->msg ? res->msg->orig_subject : "",
		};
		rc = store_message_insert(pl->store, &m, &res->message_row);
		if (rc == 1 && (pl->spool_id || pl->intake)) {
			int mr = store_intake_mark(pl->store, res->message_row,
						   pl->spool_id, pl->intake);
			if (mr < 0)
				rc = mr;
		}
		if (rc == -EEXIST)
			rc = 0; /* this spool file was stored before */
		if (rc == 0) {
			/* Stored by another process since the look-up. */
			store_rollback(pl->store);
			worker_resume_cpu_limit(&cpu);
			if (base)
				qfile_remove(pl->data_dir, res->account.id,
					     base);
			res->duplicate = true;
			res->json = pipeline_result_json(res, name, pl->explain);
			return 0;
		}
	}
	if (rc < 0)
		goto fail;
	if (to_quarantine) {
		rc = store_quarantine_add(pl->store, res->account.id,
					  res->message_row, reason, r->detail,
					  base, &res->quarantine_id);
		if (rc < 0)
			goto fail;
	}
	if (open_id && !to_quarantine) {
		rc = store_quarantine_set_state(pl->store, open_id, "resolved",
						NULL);
		if (rc < 0)
			goto fail;
	}
	res->json = pipeline_result_json(res, name, pl->explain);
	/* A needs-review shipment waits for a person: store the decision
	 * text, not the shipment. */
	if (r->needs_review) {
		struct parse_result held = *r;
		held.n_shipments = 0;
		held.outcome = OUTCOME_QUARANTINED;
		rc = store_record_result(pl->store, res->account.id,
					 res->message_row, &held, res->json);
	} else {
		rc = store_record_result(pl->store, res->account.id,
					 res->message_row, r, res->json);
	}
	if (rc < 0)
		goto fail;
	rc = store_commit(pl->store);
	if (rc < 0)
		goto fail;
	worker_resume_cpu_limit(&cpu);
	if (!crash)
		test_kill_after_commit(name);
	/* The row names the file by base name: flagging it Seen after the
	 * commit cannot lose it, whether or not the rename happens. */
	if (open_id && !to_quarantine &&
	    qfile_flag(pl->data_dir, res->account.id, open_base, "S") < 0)
		log_msg(LOG_WARN, "event=quarantine-flag-failed id=%lld",
			(long long)open_id);
	return 0;
fail:
	set_error(res, xstrdup(store_error(pl->store)));
	log_msg(LOG_ERROR, "event=store-failed error=\"%s\"",
		store_error(pl->store));
	store_rollback(pl->store);
	worker_resume_cpu_limit(&cpu);
	if (base)
		qfile_remove(pl->data_dir, res->account.id, base);
	free(res->json);
	res->json = NULL;
	return rc;
}

int pipeline_process(struct pipeline *pl, const char *raw, size_t len,
		     const char *name, struct pipeline_result *res)
{
	const char *reason = NULL;
	int rc = mail_decode(raw, len, &res->msg, &reason);
	if (rc < 0) {
		res->parse.outcome = OUTCOME_QUARANTINED;
		res->parse.reason = reason ? reason : "decode-failed";
		res->parse.detail = xstrdup("the message could not be decoded");
	} else {
		parser_run(pl->parsers, pl->matcher, res->msg, pl->explain,
			   &res->parse);
	}
	if (pl->store) {
		rc = store_message(pl, raw, len, name, false, res);
		if (rc < 0)
			return rc;
	} else {
		res->json = pipeline_result_json(res, name, pl->explain);
	}
	log_result(res, name);
	return 0;
}

int pipeline_record_crash(struct pipeline *pl, const char *raw, size_t len,
			  const char *name, const char *reason,
			  const char *detail, struct pipeline_result *res)
{
	res->parse.outcome = OUTCOME_QUARANTINED;
	res->parse.reason = reason;
	res->parse.detail = xstrdup(detail);
	if (!pl->store) {
		res->json = pipeline_result_json(res, name, false);
		return 0;
	}
	return store_message(pl, raw, len, name, true, res);
}

int pipeline_redecide(struct pipeline *pl, int64_t message_row,
		      const char *raw, size_t len, const char *name,
		      struct pipeline_result *res)
{
	if (!pl->store || message_row <= 0)
		return -EINVAL;
	res->redecide_row = message_row;
	return pipeline_process(pl, raw, len, name, res);
}
