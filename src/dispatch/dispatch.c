/* dispatch.c - the outbox worker; see dispatch.h and docs/dispatch.md. */
#include "dispatch/dispatch.h"

#include <curl/curl.h>
#include <jansson.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/util.h"
#include "parse/carrier.h"
#include "dispatch/rules.h"

#define ANSWER_MAX (4u << 20)
#define LEASE_S 86400
#define MAX_PAUSES 64

bool dispatch_url_allowed(const char *url)
{
	if (strncmp(url, "https://", 8) == 0)
		return url[8] != '\0';
	if (strncmp(url, "http://", 7) != 0)
		return false;
	const char *h = url + 7;
	static const char *const loopback[] = { "127.", "localhost:",
						"localhost/", "[::1]" };
	for (size_t i = 0; i < sizeof(loopback) / sizeof(*loopback); i++)
		if (strncmp(h, loopback[i], strlen(loopback[i])) == 0)
			return true;
	return strcmp(h, "localhost") == 0;
}

void dispatch_channel_store(const struct store_channel *c,
			    struct channel_store *out)
{
	*out = (struct channel_store){
		.id = c->id,
		.name = c->name,
		.channel = c->channel,
		.api_url = c->api_url,
		.ca_file = c->ca_file,
		.credentials = c->credentials,
		.settings_json = c->settings,
	};
}

/* Replaces every occurrence of secret in s (in place) with '*'. */
static void mask_secret(char *s, const char *secret)
{
	if (!s || !secret || strlen(secret) < 4)
		return;
	size_t n = strlen(secret);
	for (char *p = strstr(s, secret); p; p = strstr(p + n, secret))
		memset(p, '*', n);
}

/* One request in flight. */
struct xfer {
	CURL *easy;
	struct curl_slist *headers;
	struct buf body;
	char retry_after[64];
	char error[CURL_ERROR_SIZE];
};

static size_t on_body(char *data, size_t size, size_t n, void *vx)
{
	struct xfer *x = vx;
	return buf_append(&x->body, data, size * n) == 0 ? size * n : 0;
}

static size_t on_header(char *data, size_t size, size_t n, void *vx)
{
	struct xfer *x = vx;
	size_t len = size * n;
	static const char name[] = "retry-after:";
	if (len > sizeof(name) && strncasecmp(data, name, 12) == 0) {
		const char *v = data + 12;
		while (*v == ' ')
			v++;
		size_t vl = (size_t)(data + len - v);
		while (vl && (v[vl - 1] == '\r' || v[vl - 1] == '\n'))
			vl--;
		if (vl >= sizeof(x->retry_after))
			vl = sizeof(x->retry_after) - 1;
		memcpy(x->retry_after, v, vl);
		x->retry_after[vl] = '\0';
	}
	return len;
}

static int xfer_start(struct xfer *x, const struct channel_store *cs,
		      const struct http_request *rq, long timeout_ms)
{
	memset(x, 0, sizeof(*x));
	buf_init(&x->body, ANSWER_MAX);
	if (!dispatch_url_allowed(rq->url))
		return -EINVAL;
	x->easy = curl_easy_init();
	if (!x->easy)
		return -ENOMEM;
	CURL *e = x->easy;
	curl_easy_setopt(e, CURLOPT_URL, rq->url);
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, timeout_ms);
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS,
			 timeout_ms < 10000 ? timeout_ms : 10000L);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, x);
	curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(e, CURLOPT_HEADERDATA, x);
	curl_easy_setopt(e, CURLOPT_ERRORBUFFER, x->error);
	curl_easy_setopt(e, CURLOPT_USERAGENT, "trackmail/" TRACKMAIL_VERSION);
	if (cs->ca_file)
		curl_easy_setopt(e, CURLOPT_CAINFO, cs->ca_file);
	if (rq->body) {
		curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE,
				 (long)strlen(rq->body));
		curl_easy_setopt(e, CURLOPT_COPYPOSTFIELDS, rq->body);
	}
	if (rq->method && strcmp(rq->method, rq->body ? "POST" : "GET") != 0)
		curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, rq->method);
	x->headers = curl_slist_append(NULL, "Expect:");
	for (size_t i = 0; i < rq->n_headers; i++) {
		char *h = xasprintf("%s: %s", rq->headers[i].name,
				    rq->headers[i].value);
		x->headers = curl_slist_append(x->headers, h);
		explicit_bzero(h, strlen(h));
		free(h);
	}
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, x->headers);
	return 0;
}

static void xfer_answer(struct xfer *x, CURLcode rc, struct http_answer *a)
{
	long status = 0;
	if (rc == CURLE_OK)
		curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &status);
	*a = (struct http_answer){
		.status = rc == CURLE_OK ? status : 0,
		.body = x->body.data ? x->body.data : "",
		.body_len = x->body.len,
		.retry_after = x->retry_after[0] ? x->retry_after : NULL,
		.error = rc == CURLE_OK ? NULL
			 : x->error[0] ? x->error
				       : curl_easy_strerror(rc),
	};
}

static void xfer_free(struct xfer *x)
{
	if (x->easy)
		curl_easy_cleanup(x->easy);
	curl_slist_free_all(x->headers);
	buf_free(&x->body);
	memset(x, 0, sizeof(*x));
}

int dispatch_http(const struct channel_store *cs, const struct http_request *rq,
		  long timeout_ms, long *status_r, char **body_r)
{
	struct xfer x;
	*body_r = NULL;
	*status_r = 0;
	if (xfer_start(&x, cs, rq, timeout_ms) < 0) {
		xfer_free(&x);
		return -EINVAL;
	}
	CURLcode rc = curl_easy_perform(x.easy);
	struct http_answer a;
	xfer_answer(&x, rc, &a);
	*status_r = a.status;
	*body_r = xstrndup(a.body, a.body_len);
	xfer_free(&x);
	return rc == CURLE_OK ? 0 : -EIO;
}

int dispatch_check(const struct store_channel *c, char *msg, size_t size)
{
	const struct channel_adapter *ad = adapter_find(c->channel);
	if (!ad || !ad->check_request) {
		snprintf(msg, size, "no adapter for channel %s yet",
			 c->channel);
		return -1;
	}
	struct channel_store cs;
	dispatch_channel_store(c, &cs);
	struct http_request rq = { 0 };
	if (ad->check_request(&cs, &rq) < 0) {
		snprintf(msg, size, "cannot build the check request");
		return -1;
	}
	struct xfer x;
	int r = xfer_start(&x, &cs, &rq, 30000);
	if (r < 0) {
		snprintf(msg, size, "%s: refused URL (https, or http to "
			 "loopback only)", c->name);
		ad->free_request(&rq);
		xfer_free(&x);
		return -1;
	}
	CURLcode rc = curl_easy_perform(x.easy);
	struct http_answer a;
	xfer_answer(&x, rc, &a);
	if (a.status == 0)
		snprintf(msg, size, "%s: no answer from %s (%s)", c->name,
			 c->api_url, a.error);
	else if (a.status >= 200 && a.status < 300 &&
		 !strstr(a.body, "\"errors\""))
		snprintf(msg, size, "%s: credentials accepted by %s (HTTP %ld)",
			 c->name, c->api_url, a.status);
	else
		snprintf(msg, size, "%s: %s refused the credentials (HTTP %ld)",
			 c->name, c->api_url, a.status);
	mask_secret(msg, c->credentials);
	r = a.status >= 200 && a.status < 300 && !strstr(a.body, "\"errors\"")
		    ? 0
		    : -1;
	ad->free_request(&rq);
	xfer_free(&x);
	return r;
}

/* ---- the worker ---------------------------------------------------- */

struct job {
	int64_t push_id;
	int attempts;
	struct store_channel ch;
	struct channel_store cs;
	const struct channel_adapter *ad;
	struct push_state *st;
	struct http_request rq;
	bool have_rq;
	struct xfer x;
	/* push_request strings */
	char *channel_order, *tracking, *carrier, *carrier_name, *url,
		*previous, *remote_ref;
	struct push_line *lines;
	char **line_ids;
	size_t n_lines;
	char *supplier;
	/* tracking conversion in flight: its provider URL and request */
	char *conv_url;
	struct http_request conv_rq;
	struct job *next;
};

struct pause {
	int64_t store_id;
	int64_t until;
};

struct worker {
	struct store *store;
	const struct dispatch_opts *o;
	struct dispatch_stats *stats;
	CURLM *multi;
	struct job *jobs;
	int active;
	struct pause pauses[MAX_PAUSES];
	size_t n_pauses;
	int failed; /* a store write failed: stop */
};

static void job_free(struct job *j)
{
	if (j->have_rq && j->ad)
		j->ad->free_request(&j->rq);
	if (j->st)
		j->ad->free_push(j->st);
	xfer_free(&j->x);
	store_channel_clear(&j->ch);
	free(j->channel_order);
	free(j->tracking);
	free(j->carrier);
	free(j->carrier_name);
	free(j->url);
	free(j->previous);
	free(j->remote_ref);
	free(j->supplier);
	free(j->conv_url);
	free(j->conv_rq.url);
	free(j->conv_rq.body);
	for (size_t i = 0; i < j->n_lines; i++)
		free(j->line_ids[i]);
	free(j->line_ids);
	free(j->lines);
	free(j);
}

static bool paused(struct worker *w, int64_t store_id, int64_t now)
{
	for (size_t i = 0; i < w->n_pauses; i++)
		if (w->pauses[i].store_id == store_id &&
		    w->pauses[i].until > now)
			return true;
	return false;
}

static void pause_store(struct worker *w, int64_t store_id, int64_t until)
{
	for (size_t i = 0; i < w->n_pauses; i++)
		if (w->pauses[i].store_id == store_id) {
			if (w->pauses[i].until < until)
				w->pauses[i].until = until;
			return;
		}
	if (w->n_pauses < MAX_PAUSES)
		w->pauses[w->n_pauses++] =
			(struct pause){ .store_id = store_id, .until = until };
}

/* Exponential backoff with jitter: 2^(attempts-1) s (capped at one
 * hour), times a random factor in [0.5, 1.5). */
static int64_t backoff_s(int attempts)
{
	int64_t base = attempts >= 13 ? 3600
		       : attempts < 1 ? 1
				      : (int64_t)1 << (attempts - 1);
	if (base > 3600)
		base = 3600;
	double f = 0.5 + (double)random() / ((double)RAND_MAX + 1.0);
	int64_t s = (int64_t)((double)base * f);
	return s < 1 ? 1 : s;
}

static int finish(struct worker *w, struct job *j, const char *state,
		  int64_t next_at, char *reason, const char *ref)
{
	mask_secret(reason, j->ch.credentials);
	int r = store_begin(w->store);
	if (r == 0)
		r = store_push_finish(w->store, j->push_id, state, next_at,
				      reason && *reason ? reason : NULL, ref);
	if (r == 0)
		r = store_commit(w->store);
	else
		store_rollback(w->store);
	if (r < 0) {
		fprintf(stderr, "trackmail: dispatch: push %lld: %s\n",
			(long long)j->push_id, store_error(w->store));
		w->failed = 1;
	}
	fprintf(stderr, "push %lld: %s%s%s\n", (long long)j->push_id,
			state, reason && *reason ? ": " : "",
			reason ? reason : "");
	return r;
}

static void conclude(struct worker *w, struct job *j, enum push_verdict v,
		     struct push_outcome *out)
{
	int64_t now = time(NULL);
	v = rules_apply(&j->cs, v, out); /* the store's rules (rules.h) */
	switch (v) {
	case PUSH_DONE:
		w->stats->done++;
		finish(w, j, "done", now, out->reason, out->remote_ref);
		break;
	case PUSH_MANUAL:
		w->stats->manual++;
		finish(w, j, "manual", now, out->reason, out->remote_ref);
		break;
	case PUSH_DEAD:
		w->stats->dead++;
		finish(w, j, "dead", now, out->reason, out->remote_ref);
		break;
	case PUSH_RETRY:
	default:
		if (j->attempts >= w->o->max_attempts) {
			w->stats->dead++;
			char *why = xasprintf("gave up after %d attempts: %s",
					      j->attempts, out->reason);
			finish(w, j, "dead", now, why, out->remote_ref);
			free(why);
			break;
		}
		w->stats->retry++;
		/* The channel's own wait (Retry-After, a throttle's cost
		 * budget) replaces the backoff and pauses the whole store. */
		int64_t wait = backoff_s(j->attempts);
		if (out->retry_after_s > 0) {
			wait = out->retry_after_s;
			pause_store(w, j->cs.id, now + out->retry_after_s);
		}
		finish(w, j, "due", now + wait, out->reason, out->remote_ref);
		break;
	}
}

/* Sends j->rq, or concludes the push when it cannot be sent. */
static void send_request(struct worker *w, struct job *j)
{
	if (xfer_start(&j->x, &j->cs, &j->rq, w->o->timeout_ms) < 0) {
		struct push_outcome out = { .verdict = PUSH_DEAD };
		snprintf(out.reason, sizeof(out.reason),
			 "refused URL for store %s (https, or http to "
			 "loopback only)", j->ch.name);
		conclude(w, j, PUSH_DEAD, &out);
		j->push_id = 0;
		return;
	}
	curl_easy_setopt(j->x.easy, CURLOPT_PRIVATE, j);
	curl_multi_add_handle(w->multi, j->x.easy);
}

static void add_line(const char *id, int qty, void *vj)
{
	struct job *j = vj;
	j->line_ids = xrealloc(j->line_ids, (j->n_lines + 1) * sizeof(char *));
	j->lines = xrealloc(j->lines,
			    (j->n_lines + 1) * sizeof(struct push_line));
	j->line_ids[j->n_lines] = xstrdup(id);
	j->lines[j->n_lines] = (struct push_line){ .quantity = qty };
	j->n_lines++;
}

static bool is_active(struct worker *w, int64_t id)
{
	for (struct job *j = w->jobs; j; j = j->next)
		if (j->push_id == id)
			return true;
	return false;
}

struct pick_ctx {
	struct worker *w;
	int64_t now;
	int64_t ids[256];
	size_t n;
};

static void pick(const struct store_push *p, void *vctx)
{
	struct pick_ctx *ctx = vctx;
	if (ctx->n < 256 && !is_active(ctx->w, p->id) &&
	    !paused(ctx->w, p->store_id, ctx->now))
		ctx->ids[ctx->n++] = p->id;
}

struct one_ctx {
	int64_t id;
	struct job *j;
	struct store *store;
};

static void load_push(const struct store_push *p, void *vctx)
{
	struct one_ctx *ctx = vctx;
	if (p->id != ctx->id || ctx->j)
		return;
	struct job *j = xcalloc(1, sizeof(*j));
	j->push_id = p->id;
	j->attempts = p->attempts;
	snprintf(j->ch.name, sizeof(j->ch.name), "%s", p->store ? p->store : "");
	j->channel_order = xstrdup(p->channel_order ? p->channel_order : "");
	j->tracking = xstrdup(p->tracking);
	j->carrier = xstrdup(p->carrier);
	j->previous = p->previous_tracking ? xstrdup(p->previous_tracking)
					   : NULL;
	j->remote_ref = p->remote_ref ? xstrdup(p->remote_ref) : NULL;
	j->supplier = xstrdup(p->supplier ? p->supplier : "");
	/* the seller order id travels in ch.id until the store is loaded */
	j->ch.id = p->seller_order_id;
	ctx->j = j;
}

static void begin_push(struct worker *w, struct job *j);

/* Tracking conversion (docs/dispatch.md "Tracking conversion"): the
 * store setting `conversion` {"url": ..., "suppliers": [...],
 * "carriers": [...], "country": "US"} asks the provider for another
 * number of the same parcel. Returns true when j waits for the provider
 * (it is on the job list); false to push now (with a recorded
 * conversion applied). */
static bool start_conversion(struct worker *w, struct job *j)
{
	json_t *settings = json_loads(j->ch.settings ? j->ch.settings : "{}",
				      0, NULL);
	json_t *conv = json_object_get(settings, "conversion");
	const char *url = json_string_value(json_object_get(conv, "url"));
	bool wanted = url != NULL;
	json_t *sup = json_object_get(conv, "suppliers");
	json_t *car = json_object_get(conv, "carriers");
	size_t i;
	json_t *v;
	if (wanted && json_is_array(sup)) {
		bool any = false;
		json_array_foreach(sup, i, v)
			any |= json_is_string(v) &&
			       strcmp(json_string_value(v), j->supplier) == 0;
		wanted = any;
	}
	if (wanted && json_is_array(car)) {
		bool any = false;
		json_array_foreach(car, i, v)
			any |= json_is_string(v) &&
			       strcmp(json_string_value(v), j->carrier) == 0;
		wanted = any;
	}
	if (!wanted) {
		json_decref(settings);
		return false;
	}
	struct store_conversion rec;
	int have = store_conversion_get(w->store, j->push_id, &rec);
	if (have != 0) {
		/* decided before: the same number on every attempt */
		if (have > 0 && rec.number[0]) {
			free(j->tracking);
			free(j->carrier);
			j->tracking = xstrdup(rec.number);
			j->carrier = xstrdup(rec.carrier);
		}
		json_decref(settings);
		return false;
	}
	j->conv_url = xstrdup(url);
	j->conv_rq = (struct http_request){
		.method = "POST",
		.url = xstrdup(url),
		.headers = { { "Content-Type", "application/json" } },
		.n_headers = 1,
	};
	json_t *body = json_pack("{s:s, s:s, s:s, s:O*}", "carrier",
				 j->carrier, "number", j->tracking, "supplier",
				 j->supplier, "destination_country",
				 json_object_get(conv, "country"));
	j->conv_rq.body = json_dumps(body, JSON_COMPACT);
	json_decref(body);
	json_decref(settings);
	if (xfer_start(&j->x, &j->cs, &j->conv_rq, w->o->timeout_ms) < 0) {
		xfer_free(&j->x);
		return false; /* a refused URL: push the original */
	}
	curl_easy_setopt(j->x.easy, CURLOPT_PRIVATE, j);
	curl_multi_add_handle(w->multi, j->x.easy);
	j->next = w->jobs;
	w->jobs = j;
	w->active++;
	return true;
}

/* The provider answered (or not): record it, then push. A failed
 * conversion never blocks the original number. */
static void conversion_done(struct worker *w, struct job *j, CURLcode rc)
{
	struct http_answer a;
	xfer_answer(&j->x, rc, &a);
	curl_multi_remove_handle(w->multi, j->x.easy);
	json_t *root = a.status == 200 ? json_loadb(a.body, a.body_len, 0, NULL)
				       : NULL;
	const char *number = json_string_value(json_object_get(root, "number"));
	const char *carrier = json_string_value(json_object_get(root,
								"carrier"));
	char reason[200] = "";
	if (!number || !carrier || !*number || !*carrier) {
		const char *why = json_string_value(json_object_get(root,
								    "reason"));
		if (why)
			snprintf(reason, sizeof(reason), "%s", why);
		else if (a.status == 0)
			snprintf(reason, sizeof(reason), "no answer (%s)",
				 a.error ? a.error : "timeout");
		else
			snprintf(reason, sizeof(reason), "HTTP %ld",
				 a.status);
		number = carrier = NULL;
	}
	double cost = json_number_value(json_object_get(root, "cost"));
	const char *cur = json_string_value(json_object_get(root, "currency"));
	int r = store_begin(w->store);
	if (r == 0)
		r = store_conversion_add(w->store, j->push_id, j->conv_url,
					 j->carrier, j->tracking, carrier,
					 number, cost, cur,
					 reason[0] ? reason : NULL);
	if (r == 0)
		r = store_commit(w->store);
	else
		store_rollback(w->store);
	if (r < 0) {
		fprintf(stderr, "trackmail: dispatch: %s\n",
			store_error(w->store));
		w->failed = 1;
	}
	fprintf(stderr, "push %lld: conversion %s%s%s%s\n",
		(long long)j->push_id, number ? "to " : "failed: ",
		number ? number : reason, number ? " " : "",
		number ? carrier : "");
	if (number) {
		free(j->tracking);
		free(j->carrier);
		j->tracking = xstrdup(number);
		j->carrier = xstrdup(carrier);
	}
	json_decref(root);
	xfer_free(&j->x);
	free(j->conv_url);
	j->conv_url = NULL;
	for (struct job **pp = &w->jobs; *pp; pp = &(*pp)->next)
		if (*pp == j) {
			*pp = j->next;
			w->active--;
			break;
		}
	if (w->failed)
		job_free(j);
	else
		begin_push(w, j);
}

static void start_job(struct worker *w, int64_t push_id)
{
	struct one_ctx one = { .id = push_id, .store = w->store };
	if (store_push_one(w->store, push_id, load_push, &one) < 0 || !one.j)
		return;
	struct job *j = one.j;
	int64_t seller_order = j->ch.id;
	char name[128];
	snprintf(name, sizeof(name), "%s", j->ch.name);
	memset(&j->ch, 0, sizeof(j->ch));
	struct push_outcome out = { .verdict = PUSH_DEAD };
	if (store_channel_get(w->store, name, true, &j->ch) < 0) {
		snprintf(out.reason, sizeof(out.reason), "store %s is gone",
			 name);
		conclude(w, j, PUSH_DEAD, &out);
		job_free(j);
		return;
	}
	dispatch_channel_store(&j->ch, &j->cs);
	j->ad = adapter_find(j->ch.channel);
	if (!j->ad) {
		snprintf(out.reason, sizeof(out.reason),
			 "no adapter for channel %s", j->ch.channel);
		conclude(w, j, PUSH_DEAD, &out);
		job_free(j);
		return;
	}
	store_push_lines(w->store, seller_order, add_line, j);
	for (size_t i = 0; i < j->n_lines; i++)
		j->lines[i].line_id = j->line_ids[i];
	if (rules_hold(&j->cs, true, j->carrier, &out)) {
		conclude(w, j, PUSH_MANUAL, &out);
		job_free(j);
		return;
	}
	if (start_conversion(w, j))
		return;
	begin_push(w, j);
}

/* The adapter's first request for j (not yet on the job list). */
static void begin_push(struct worker *w, struct job *j)
{
	struct push_outcome out = { .verdict = PUSH_DEAD };
	const struct carrier *c = carrier_find(j->carrier);
	char url[512] = "";
	if (c)
		carrier_tracking_url(c, j->tracking, url, sizeof(url));
	j->carrier_name = xstrdup(c ? carrier_name(c) : j->carrier);
	j->url = url[0] ? xstrdup(url) : NULL;
	struct push_request req = {
		.outbox_id = j->push_id,
		.channel_order = j->channel_order,
		.lines = j->lines,
		.n_lines = j->n_lines,
		.tracking = j->tracking,
		.carrier = j->carrier,
		.carrier_name = j->carrier_name,
		.tracking_url = j->url,
		.previous_tracking = j->previous,
		.remote_ref = j->remote_ref,
	};
	if (rules_hold(&j->cs, j->ad->carrier_code(j->carrier) != NULL,
		       j->carrier, &out)) {
		conclude(w, j, PUSH_MANUAL, &out);
		job_free(j);
		return;
	}
	j->st = j->ad->start_push(&j->cs, &req);
	enum push_verdict v = j->st ? j->ad->step(j->st, NULL, &j->rq, &out)
				    : PUSH_DEAD;
	if (!j->st)
		snprintf(out.reason, sizeof(out.reason),
			 "the adapter refused the push");
	if (v != PUSH_CONTINUE) {
		conclude(w, j, v, &out);
		job_free(j);
		return;
	}
	j->have_rq = true;
	/* 'sent' is committed before the first byte leaves. */
	char *what = xasprintf("%s %s", j->rq.method, j->rq.url);
	mask_secret(what, j->ch.credentials);
	int r = store_begin(w->store);
	if (r == 0)
		r = store_push_sent(w->store, j->push_id, what,
				    time(NULL) + LEASE_S);
	if (r == 0)
		r = store_commit(w->store);
	else
		store_rollback(w->store);
	free(what);
	if (r < 0) {
		fprintf(stderr, "trackmail: dispatch: %s\n",
			store_error(w->store));
		w->failed = 1;
		job_free(j);
		return;
	}
	j->attempts++;
	j->next = w->jobs;
	w->jobs = j;
	w->active++;
	send_request(w, j);
	if (j->push_id == 0) {
		w->jobs = j->next;
		w->active--;
		job_free(j);
	}
}

static void unlink_job(struct worker *w, struct job *j)
{
	for (struct job **pp = &w->jobs; *pp; pp = &(*pp)->next)
		if (*pp == j) {
			*pp = j->next;
			w->active--;
			return;
		}
}

static void on_done(struct worker *w, struct job *j, CURLcode rc)
{
	if (j->conv_url) {
		conversion_done(w, j, rc);
		return;
	}
	struct http_answer a;
	xfer_answer(&j->x, rc, &a);
	curl_multi_remove_handle(w->multi, j->x.easy);
	j->ad->free_request(&j->rq);
	j->have_rq = false;
	struct push_outcome out = { .verdict = PUSH_RETRY };
	enum push_verdict v = j->ad->step(j->st, &a, &j->rq, &out);
	xfer_free(&j->x);
	if (v == PUSH_CONTINUE) {
		j->have_rq = true;
		send_request(w, j);
		if (j->push_id == 0) {
			unlink_job(w, j);
			job_free(j);
		}
		return;
	}
	conclude(w, j, v, &out);
	unlink_job(w, j);
	job_free(j);
}

static void fill(struct worker *w, int64_t now)
{
	int room = w->o->concurrency - w->active;
	if (room <= 0 || w->failed)
		return;
	struct pick_ctx ctx = { .w = w, .now = now };
	int limit = room + w->active + 64;
	if (limit > 256)
		limit = 256;
	if (store_push_due(w->store, now, limit, pick, &ctx) < 0) {
		fprintf(stderr, "trackmail: dispatch: %s\n",
			store_error(w->store));
		w->failed = 1;
		return;
	}
	for (size_t i = 0; i < ctx.n && w->active < w->o->concurrency &&
			   !w->failed;
	     i++)
		start_job(w, ctx.ids[i]);
}

static bool wake_addr(const char *data_dir, struct sockaddr_un *sa)
{
	*sa = (struct sockaddr_un){ .sun_family = AF_UNIX };
	int n = snprintf(sa->sun_path, sizeof(sa->sun_path),
			 "%s/dispatch.sock", data_dir);
	return n > 0 && (size_t)n < sizeof(sa->sun_path);
}

void dispatch_wake(const char *data_dir)
{
	struct sockaddr_un sa;
	if (!wake_addr(data_dir, &sa))
		return;
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return;
	(void)sendto(fd, "w", 1, MSG_DONTWAIT, (struct sockaddr *)&sa,
		     sizeof(sa));
	close(fd);
}

/* The wake-up socket of a long-running dispatcher, or -1 (then it only
 * polls). */
static int wake_open(const char *data_dir)
{
	struct sockaddr_un sa;
	if (!wake_addr(data_dir, &sa))
		return -1;
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	unlink(sa.sun_path); /* ours: we hold dispatch.lock */
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Sleeps up to seconds, less when a datagram arrives (then drained). */
static void wait_due(int wake, int64_t seconds)
{
	if (wake < 0) {
		sleep((unsigned)seconds);
		return;
	}
	struct pollfd p = { .fd = wake, .events = POLLIN };
	if (poll(&p, 1, (int)(seconds * 1000)) > 0) {
		char b[64];
		while (recv(wake, b, sizeof(b), MSG_DONTWAIT) > 0) {
		}
	}
}

int dispatch_run(struct store *store, const char *data_dir,
		 const struct dispatch_opts *o, struct dispatch_stats *stats)
{
	char *lockpath = xasprintf("%s/dispatch.lock", data_dir);
	int lock = open(lockpath, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (lock < 0 || flock(lock, LOCK_EX | LOCK_NB) < 0) {
		fprintf(stderr, "trackmail: dispatch: %s: %s\n", lockpath,
			lock < 0 ? strerror(errno)
				 : "another dispatch process is running");
		free(lockpath);
		if (lock >= 0)
			close(lock);
		return -EBUSY;
	}
	free(lockpath);
	int wake = o->once ? -1 : wake_open(data_dir);
	srandom((unsigned)(time(NULL) ^ getpid()));
	curl_global_init(CURL_GLOBAL_DEFAULT);
	struct worker w = {
		.store = store,
		.o = o,
		.stats = stats,
		.multi = curl_multi_init(),
	};
	int64_t start = time(NULL);
	int r = store_begin(store);
	if (r == 0)
		r = store_push_reclaim(store, start);
	if (r == 0)
		r = store_commit(store);
	else
		store_rollback(store);
	if (r < 0) {
		fprintf(stderr, "trackmail: dispatch: %s\n", store_error(store));
		w.failed = 1;
	}
	while (!w.failed) {
		int64_t now = time(NULL);
		bool stopping = o->stop && *o->stop;
		if (stopping && w.active == 0)
			break;
		if (!stopping)
			fill(&w, now);
		if (w.active == 0) {
			int64_t next = 0;
			int has = store_push_next_at(store, &next);
			if (has < 0) {
				w.failed = 1;
				break;
			}
			if (o->once &&
			    (!has || next > start + o->once_horizon_s))
				break;
			int64_t wait = has ? next - now : 5;
			if (wait > 5 || wait < 0)
				wait = has && wait < 0 ? 0 : 5;
			/* a paused store's pushes are due but waiting */
			if (wait == 0)
				wait = 1;
			wait_due(wake, wait);
			continue;
		}
		int running = 0;
		curl_multi_perform(w.multi, &running);
		CURLMsg *m;
		int left;
		while ((m = curl_multi_info_read(w.multi, &left))) {
			if (m->msg != CURLMSG_DONE)
				continue;
			struct job *j = NULL;
			curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE,
					  (char **)&j);
			on_done(&w, j, m->data.result);
		}
		if (w.active)
			curl_multi_poll(w.multi, NULL, 0, 200, NULL);
	}
	while (w.jobs) {
		struct job *j = w.jobs;
		curl_multi_remove_handle(w.multi, j->x.easy);
		unlink_job(&w, j);
		job_free(j);
	}
	curl_multi_cleanup(w.multi);
	curl_global_cleanup();
	if (wake >= 0) {
		struct sockaddr_un sa;
		if (wake_addr(data_dir, &sa))
			unlink(sa.sun_path);
		close(wake);
	}
	close(lock);
	return w.failed ? -EIO : 0;
}
