/* pipeline.c - composes mail -> parse -> store for one message.
 *
 * The decision (parse) happens before the write transaction opens, so a
 * transaction holds the database lock only for the inserts. A quarantine
 * copy is written and fsync'd before the row that points at it commits:
 * a crash in between leaves a file without a row (found by a person),
 * never a row without its file. */
#include "pipeline/pipeline.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "core/log.h"
#include "core/util.h"

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
	bool supplier = r->parser && parser_kind(r->parser) == PARSER_SUPPLIER;
	json_object_set_new(o, "supplier",
			    str_or_null(supplier ? parser_id(r->parser) : NULL));
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

static char *maildir_name(void)
{
	static unsigned long seq;
	unsigned char rnd[6];
	if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd))
		memset(rnd, 0, sizeof(rnd));
	char host[64];
	if (gethostname(host, sizeof(host)) < 0)
		snprintf(host, sizeof(host), "localhost");
	host[sizeof(host) - 1] = '\0';
	for (char *h = host; *h; h++)
		if (*h == '/' || *h == ':')
			*h = '_';
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return xasprintf("%lld.M%ldP%ldQ%luR%02x%02x%02x%02x%02x%02x.%s",
			 (long long)ts.tv_sec, ts.tv_nsec / 1000,
			 (long)getpid(), ++seq, rnd[0], rnd[1], rnd[2], rnd[3],
			 rnd[4], rnd[5], host);
}

/* Header values we write must stay one line of printable text. */
static void header_safe(struct buf *b, const char *s)
{
	for (; s && *s && b->len < 900; s++) {
		unsigned char c = (unsigned char)*s;
		buf_append_char(b, c < 0x20 || c == 0x7f ? ' ' : (char)c);
	}
}

int pipeline_quarantine_write(const char *data_dir, const char *raw,
			      size_t len, const char *reason,
			      const char *detail, char **path_r)
{
	_cleanup_free_ char *dir = xasprintf("%s/quarantine", data_dir);
	_cleanup_free_ char *tmpdir = xasprintf("%s/tmp", dir);
	_cleanup_free_ char *newdir = xasprintf("%s/new", dir);
	_cleanup_free_ char *curdir = xasprintf("%s/cur", dir);
	int r;
	if ((r = util_mkdir_p(tmpdir)) < 0 || (r = util_mkdir_p(newdir)) < 0 ||
	    (r = util_mkdir_p(curdir)) < 0)
		return r;
	_cleanup_free_ char *name = maildir_name();
	_cleanup_free_ char *tmp = xasprintf("%s/%s", tmpdir, name);
	char *final = xasprintf("%s/%s", newdir, name);
	struct buf h;
	buf_init(&h, 4096);
	buf_append_str(&h, "X-Trackmail-Quarantine-Reason: ");
	header_safe(&h, reason);
	buf_append_str(&h, "\r\nX-Trackmail-Quarantine-Detail: ");
	header_safe(&h, detail ? detail : "");
	buf_append_str(&h, "\r\n");

	const struct util_chunk chunks[2] = { { h.data, h.len }, { raw, len } };
	r = util_write_durable(tmp, final, chunks, 2);
	buf_free(&h);
	if (r < 0) {
		free(final);
		return r;
	}
	*path_r = final;
	return 0;
}

size_t pipeline_quarantine_skip_headers(const char *raw, size_t len)
{
	static const char prefix[] = "X-Trackmail-Quarantine-";
	size_t off = 0;
	while (len - off > sizeof(prefix) &&
	       strncasecmp(raw + off, prefix, sizeof(prefix) - 1) == 0) {
		const char *nl = memchr(raw + off, '\n', len - off);
		if (!nl)
			break;
		off = (size_t)(nl - raw) + 1;
	}
	return off;
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

/* Stores a decided message: one transaction. */
static int store_message(struct pipeline *pl, const char *raw, size_t len,
			 const char *name, struct pipeline_result *res)
{
	struct parse_result *r = &res->parse;
	char hash[65];
	util_sha256_hex(raw, len, hash);
	int rc = store_begin(pl->store);
	if (rc < 0)
		return rc;
	rc = resolve_account(pl, res);
	if (rc < 0)
		goto fail;
	struct store_message m = {
		.account_id = res->account.id,
		.message_id = res->msg ? res->msg->message_id : "",
		.content_hash = hash,
		.source = name,
		.orig_from = res->msg ? res->msg->orig_from.addr : "",
		.orig_subject = res->msg ? res->msg->orig_subject : "",
	};
	rc = store_message_insert(pl->store, &m, &res->message_row);
	if (rc < 0)
		goto fail;
	if (rc == 0) {
		res->duplicate = true;
		store_rollback(pl->store);
		res->json = pipeline_result_json(res, name, pl->explain);
		return 0;
	}
	if (res->msg && r->outcome != OUTCOME_QUARANTINED) {
		int ok = store_account_sender_allowed(
			pl->store, res->account.id, res->msg->from.addr);
		if (ok < 0) {
			rc = ok;
			goto fail;
		}
		if (ok == 0) {
			r->outcome = OUTCOME_QUARANTINED;
			r->reason = "sender-not-allowed";
			free(r->detail);
			r->detail = xasprintf("%s is not on the allowlist of "
					      "account %s",
					      res->msg->from.addr,
					      res->account.name);
		}
	}
	bool to_quarantine = r->outcome == OUTCOME_QUARANTINED ||
			     r->needs_review;
	if (to_quarantine) {
		const char *reason = r->outcome == OUTCOME_QUARANTINED
					     ? r->reason
					     : "needs-review";
		_cleanup_free_ char *path = NULL;
		rc = pipeline_quarantine_write(pl->data_dir, raw, len, reason,
					       r->detail, &path);
		if (rc < 0)
			goto fail;
		rc = store_quarantine_add(pl->store, res->account.id,
					  res->message_row, reason, r->detail,
					  path, &res->quarantine_id);
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
	return 0;
fail:
	log_msg(LOG_ERROR, "event=store-failed error=\"%s\"",
		store_error(pl->store));
	store_rollback(pl->store);
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
		rc = store_message(pl, raw, len, name, res);
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
	return store_message(pl, raw, len, name, res);
}
