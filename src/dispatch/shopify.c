/* shopify.c - the Shopify adapter (GraphQL Admin API, channels.md §2):
 * pre-read the order's fulfillments and fulfillment orders, then
 * fulfillmentCreate; a corrected number, or a second parcel for an order
 * whose lines are all fulfilled, goes through
 * fulfillmentTrackingInfoUpdate. Never a fulfillment event (no Delivered).
 *
 * Settings (stores set NAME KEY VALUE): api_version (default 2026-10),
 * notify_customer (default true). */
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "dispatch/adapter.h"
#include "dispatch/adapter_util.h"

#define SHOPIFY_DEFAULT_VERSION "2026-10"

/* channels.md §1, the Shopify `company` column: exact names. */
static const struct {
	const char *id, *company;
} companies[] = {
	{ "usps", "USPS" },
	{ "ups", "UPS" },
	{ "fedex", "FedEx" },
	{ "dhl", "DHL Express" },
	{ "dhl_ecommerce", "DHL eCommerce" },
	{ "china_post", "China Post" },
	{ "yunexpress", "YunExpress" },
	{ "4px", "4PX" },
	{ "sf_express", "SF Express" },
	{ "sfc", "SFC Fulfillment" },
	{ "royal_mail", "Royal Mail" },
	{ "canada_post", "Canada Post" },
	{ "australia_post", "Australia Post" },
};

static const char *shopify_carrier(const char *id)
{
	for (size_t i = 0; i < sizeof(companies) / sizeof(*companies); i++)
		if (strcmp(companies[i].id, id) == 0)
			return companies[i].company;
	return NULL;
}

static const char preread_q[] =
	"query($id: ID!) { order(id: $id) { id displayFulfillmentStatus "
	"cancelledAt fulfillments(first: 20) { id status trackingInfo(first: "
	"10) { company number url } } fulfillmentOrders(first: 10) { nodes { "
	"id status requestStatus supportedActions { action } lineItems(first: "
	"50) { nodes { id remainingQuantity totalQuantity lineItem { id sku } "
	"} } } } } }";
static const char create_q[] =
	"mutation($f: FulfillmentInput!) { fulfillmentCreate(fulfillment: $f)"
	" { fulfillment { id status trackingInfo(first: 10) { company number "
	"url } } userErrors { field message } } }";
static const char update_q[] =
	"mutation($id: ID!, $t: FulfillmentTrackingInput!, $n: Boolean) { "
	"fulfillmentTrackingInfoUpdate(fulfillmentId: $id, trackingInfoInput:"
	" $t, notifyCustomer: $n) { fulfillment { id trackingInfo(first: 10) "
	"{ company number url } } userErrors { field message } } }";

enum sstate { S_PREREAD, S_CREATE, S_UPDATE, S_REREAD };

struct push_state {
	const struct channel_store *store;
	enum sstate state;
	char *url;
	char *version;
	bool notify;
	char *order_gid;
	char *tracking, *company, *tracking_url, *previous;
	struct push_line *lines;
	char **line_ids;
	size_t n_lines;
	char error[200]; /* the userErrors of a refused write */
};

static char *gid(const char *kind, const char *id)
{
	if (strncmp(id, "gid://", 6) == 0)
		return xstrdup(id);
	return xasprintf("gid://shopify/%s/%s", kind, id);
}

static struct push_state *shopify_start(const struct channel_store *store,
					const struct push_request *req)
{
	struct push_state *st = xcalloc(1, sizeof(*st));
	st->store = store;
	json_t *settings = json_loads(store->settings_json
					      ? store->settings_json
					      : "{}",
				      0, NULL);
	const char *v = json_string_value(json_object_get(settings,
							  "api_version"));
	st->version = xstrdup(v ? v : SHOPIFY_DEFAULT_VERSION);
	json_t *n = json_object_get(settings, "notify_customer");
	st->notify = !(n && (json_is_false(n) ||
			     (json_is_string(n) &&
			      strcmp(json_string_value(n), "false") == 0)));
	json_decref(settings);
	st->url = xasprintf("%s/admin/api/%s/graphql.json", store->api_url,
			    st->version);
	st->order_gid = gid("Order", req->channel_order);
	st->tracking = xstrdup(req->tracking);
	const char *company = shopify_carrier(req->carrier);
	st->company = xstrdup(company ? company
			      : req->carrier_name ? req->carrier_name
						  : req->carrier);
	/* Exact company names get Shopify's own link; others need ours. */
	if (req->tracking_url)
		st->tracking_url = xstrdup(req->tracking_url);
	if (req->previous_tracking)
		st->previous = xstrdup(req->previous_tracking);
	st->n_lines = req->n_lines;
	st->lines = xcalloc(req->n_lines + 1, sizeof(*st->lines));
	st->line_ids = xcalloc(req->n_lines + 1, sizeof(char *));
	for (size_t i = 0; i < req->n_lines; i++) {
		st->line_ids[i] = gid("LineItem", req->lines[i].line_id);
		st->lines[i] = (struct push_line){ .line_id = st->line_ids[i],
						   .quantity =
							   req->lines[i].quantity };
	}
	if (!company && !st->tracking_url) {
		/* no exact name and no link: keep it for the seller */
		free(st->company);
		st->company = NULL;
	}
	return st;
}

static void shopify_free(struct push_state *st)
{
	if (!st)
		return;
	free(st->url);
	free(st->version);
	free(st->order_gid);
	free(st->tracking);
	free(st->company);
	free(st->tracking_url);
	free(st->previous);
	for (size_t i = 0; i < st->n_lines; i++)
		free(st->line_ids[i]);
	free(st->line_ids);
	free(st->lines);
	free(st);
}

static void build(const struct channel_store *store, const char *url,
		  json_t *payload, struct http_request *rq)
{
	memset(rq, 0, sizeof(*rq));
	rq->method = "POST";
	rq->url = xstrdup(url);
	rq->headers[0] = (struct http_header){ "X-Shopify-Access-Token",
					       store->credentials };
	rq->headers[1] = (struct http_header){ "Content-Type",
					       "application/json" };
	rq->n_headers = 2;
	rq->body = json_dumps(payload, JSON_COMPACT);
	rq->secret_hint = store->credentials;
	json_decref(payload);
}

static void shopify_free_request(struct http_request *rq)
{
	free(rq->url);
	free(rq->body);
	memset(rq, 0, sizeof(*rq));
}

static void preread(struct push_state *st, struct http_request *rq)
{
	build(st->store, st->url,
	      json_pack("{s:s, s:{s:s}}", "query", preread_q, "variables",
			"id", st->order_gid),
	      rq);
}

static enum push_verdict verdict(struct push_outcome *out,
				 enum push_verdict v, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static enum push_verdict verdict(struct push_outcome *out,
				 enum push_verdict v, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(out->reason, sizeof(out->reason), fmt, ap);
	va_end(ap);
	out->verdict = v;
	return v;
}

static long ceil_s(double d)
{
	long l = (long)d;
	return d > (double)l ? l + 1 : l;
}

static long retry_after_s(const char *h)
{
	if (!h)
		return 0;
	double d = strtod(h, NULL);
	return d > 0 ? ceil_s(d) : 0;
}

/* The cost-based wait of a THROTTLED answer (channels.md §2). */
static long throttle_wait(json_t *root)
{
	json_t *ts = json_object_get(
		json_object_get(json_object_get(root, "extensions"), "cost"),
		"throttleStatus");
	json_t *cost = json_object_get(json_object_get(root, "extensions"),
				       "cost");
	double need = json_number_value(
		json_object_get(cost, "requestedQueryCost"));
	double avail = json_number_value(
		json_object_get(ts, "currentlyAvailable"));
	double rate = json_number_value(json_object_get(ts, "restoreRate"));
	if (rate <= 0)
		return 2;
	double s = (need - avail) / rate;
	return s < 1 ? 1 : ceil_s(s);
}

/* Classifies transport, HTTP and top-level GraphQL errors. Returns the
 * parsed body when the caller should read data, else NULL with *v set. */
static json_t *classify(const struct http_answer *a, struct push_outcome *out,
			enum push_verdict *v)
{
	if (a->status == 0) {
		*v = verdict(out, PUSH_RETRY, "no answer from Shopify (%s)",
			     a->error ? a->error : "timeout");
		return NULL;
	}
	json_t *root = json_loadb(a->body, a->body_len, 0, NULL);
	if (a->status == 429) {
		*v = verdict(out, PUSH_RETRY, "throttled by Shopify (HTTP 429)");
		out->retry_after_s = retry_after_s(a->retry_after);
		if (!out->retry_after_s)
			out->retry_after_s = root ? throttle_wait(root) : 2;
		json_decref(root);
		return NULL;
	}
	if (a->status >= 500) {
		*v = verdict(out, PUSH_RETRY, "Shopify error HTTP %ld",
			     a->status);
		json_decref(root);
		return NULL;
	}
	if (a->status == 401 || a->status == 403) {
		*v = verdict(out, PUSH_MANUAL,
			     "Shopify refused the access token (HTTP %ld): "
			     "the app was uninstalled or the token rotated; "
			     "replace it with `stores set STORE credentials "
			     "--token-file FILE`, then `outbox retry`",
			     a->status);
		json_decref(root);
		return NULL;
	}
	if (a->status == 402 || a->status == 423 || a->status == 404) {
		*v = verdict(out, PUSH_MANUAL, "Shopify answered HTTP %ld (%s)",
			     a->status,
			     a->status == 404 ? "shop not found: check the "
						"api-url"
			     : a->status == 402 ? "shop frozen: unpaid"
						: "shop locked");
		json_decref(root);
		return NULL;
	}
	if (a->status < 200 || a->status >= 300 || !root) {
		*v = verdict(out, a->status >= 300 ? PUSH_DEAD : PUSH_RETRY,
			     "unexpected Shopify answer (HTTP %ld%s)",
			     a->status, root ? "" : ", not JSON");
		json_decref(root);
		return NULL;
	}
	json_t *errors = json_object_get(root, "errors");
	if (errors) {
		json_t *e0 = json_array_get(errors, 0);
		const char *code = json_string_value(json_object_get(
			json_object_get(e0, "extensions"), "code"));
		const char *msg = json_string_value(
			json_object_get(e0, "message"));
		if (code && strcmp(code, "THROTTLED") == 0) {
			*v = verdict(out, PUSH_RETRY,
				     "throttled by Shopify (THROTTLED)");
			out->retry_after_s = throttle_wait(root);
		} else if (code && strcmp(code, "ACCESS_DENIED") == 0) {
			*v = verdict(out, PUSH_MANUAL,
				     "access denied: the app needs the "
				     "write_merchant_managed_fulfillment_"
				     "orders scope (%.80s)",
				     msg ? msg : "");
		} else {
			*v = verdict(out, PUSH_DEAD, "Shopify error: %.150s",
				     msg ? msg
				     : json_is_string(errors)
					     ? json_string_value(errors)
					     : "unknown");
		}
		json_decref(root);
		return NULL;
	}
	return root;
}

static bool info_has(json_t *infos, const char *number)
{
	size_t i;
	json_t *t;
	json_array_foreach(infos, i, t) {
		const char *n = json_string_value(json_object_get(t, "number"));
		if (n && strcmp(n, number) == 0)
			return true;
	}
	return false;
}

/* A fulfillment showing number, or NULL. */
static json_t *find_fulfillment(json_t *order, const char *number)
{
	size_t i;
	json_t *f;
	json_array_foreach(json_object_get(order, "fulfillments"), i, f)
		if (info_has(json_object_get(f, "trackingInfo"), number))
			return f;
	return NULL;
}

static bool can_create(json_t *fo)
{
	const char *s = json_string_value(json_object_get(fo, "status"));
	if (!s || (strcmp(s, "OPEN") != 0 && strcmp(s, "IN_PROGRESS") != 0))
		return false;
	size_t i;
	json_t *a;
	json_array_foreach(json_object_get(fo, "supportedActions"), i, a) {
		const char *n = json_string_value(json_object_get(a, "action"));
		if (n && strcmp(n, "CREATE_FULFILLMENT") == 0)
			return true;
	}
	return false;
}

static json_t *tracking_input(struct push_state *st, json_t *numbers)
{
	json_t *t = json_object();
	json_object_set_new(t, "company", json_string(st->company));
	if (numbers) {
		json_object_set_new(t, "numbers", numbers);
	} else {
		json_object_set_new(t, "number", json_string(st->tracking));
		if (st->tracking_url)
			json_object_set_new(t, "url",
					    json_string(st->tracking_url));
	}
	return t;
}

/* fulfillmentTrackingInfoUpdate of fulfillment f: previous replaced by
 * our number, or (previous NULL) our number added to its numbers. */
static void update_request(struct push_state *st, json_t *f,
			   const char *previous, struct http_request *rq)
{
	json_t *numbers = json_array();
	size_t i;
	json_t *t;
	json_array_foreach(json_object_get(f, "trackingInfo"), i, t) {
		const char *n = json_string_value(json_object_get(t, "number"));
		if (n && !(previous && strcmp(n, previous) == 0))
			json_array_append_new(numbers, json_string(n));
	}
	json_array_append_new(numbers, json_string(st->tracking));
	json_t *input;
	if (json_array_size(numbers) == 1) {
		json_decref(numbers);
		input = tracking_input(st, NULL);
	} else {
		input = tracking_input(st, numbers);
	}
	st->state = S_UPDATE;
	build(st->store, st->url,
	      json_pack("{s:s, s:{s:O, s:o, s:b}}", "query", update_q,
			"variables", "id", json_object_get(f, "id"), "t", input,
			"n", st->notify),
	      rq);
}

static enum push_verdict after_preread(struct push_state *st, json_t *root,
				       struct http_request *rq,
				       struct push_outcome *out)
{
	json_t *order = json_object_get(json_object_get(root, "data"),
					"order");
	if (!json_is_object(order))
		return verdict(out, PUSH_MANUAL, "order %s not found on Shopify",
			       st->order_gid);
	json_t *ours = find_fulfillment(order, st->tracking);
	if (ours) {
		snprintf(out->remote_ref, sizeof(out->remote_ref), "%s",
			 json_string_value(json_object_get(ours, "id")));
		return verdict(out, PUSH_DONE, "already on Shopify");
	}
	if (st->state == S_REREAD)
		return adapter_rule(out, "validation_errors",
				    verdict(out, PUSH_MANUAL,
					    "Shopify refused: %s", st->error));
	if (!json_is_null(json_object_get(order, "cancelledAt")) &&
	    json_object_get(order, "cancelledAt"))
		return verdict(out, PUSH_MANUAL, "order cancelled on Shopify");
	if (!st->company)
		return verdict(out, PUSH_MANUAL,
			       "no Shopify company name and no tracking URL "
			       "for this carrier: enter it by hand");
	if (st->previous) {
		json_t *old = find_fulfillment(order, st->previous);
		if (old) {
			update_request(st, old, st->previous, rq);
			return PUSH_CONTINUE;
		}
	}
	/* The fulfillment orders we may fulfil, with the lines asked for. */
	json_t *by_fo = json_array();
	bool other_app = false, any_remaining = false;
	size_t matched = 0, i;
	json_t *fo;
	json_array_foreach(json_object_get(json_object_get(order,
							   "fulfillmentOrders"),
					   "nodes"),
			   i, fo) {
		bool ok = can_create(fo);
		json_t *items = json_array();
		size_t k;
		json_t *li;
		long remaining = 0;
		json_array_foreach(json_object_get(json_object_get(fo,
								   "lineItems"),
						   "nodes"),
				   k, li) {
			long rem = (long)json_integer_value(
				json_object_get(li, "remainingQuantity"));
			remaining += rem;
			const char *lid = json_string_value(json_object_get(
				json_object_get(li, "lineItem"), "id"));
			for (size_t m = 0; m < st->n_lines; m++) {
				if (!lid || strcmp(lid, st->lines[m].line_id))
					continue;
				if (!ok || rem < st->lines[m].quantity)
					continue;
				json_array_append_new(
					items,
					json_pack("{s:O, s:i}", "id",
						  json_object_get(li, "id"),
						  "quantity",
						  st->lines[m].quantity));
				matched++;
			}
		}
		if (remaining > 0)
			any_remaining = true;
		if (remaining > 0 && !ok)
			other_app = true;
		if (ok && remaining > 0 &&
		    (st->n_lines == 0 || json_array_size(items) > 0)) {
			json_t *e = json_pack("{s:O}", "fulfillmentOrderId",
					      json_object_get(fo, "id"));
			if (st->n_lines)
				json_object_set(e, "fulfillmentOrderLineItems",
						items);
			json_array_append_new(by_fo, e);
		}
		json_decref(items);
	}
	if (json_array_size(by_fo) == 0 || (st->n_lines && matched <
							     st->n_lines)) {
		json_decref(by_fo);
		if (other_app)
			return adapter_rule(out, "other_app_fulfillment",
				verdict(out, PUSH_MANUAL,
				       "the fulfillment order is held by "
				       "another app's fulfillment service (or "
				       "on hold): mark it shipped by hand"));
		if (st->n_lines && any_remaining)
			return verdict(out, PUSH_MANUAL,
				       "the order's lines do not match (or ask "
				       "more than remains): check the lines");
		/* Every line fulfilled already: a second parcel joins the
		 * last fulfillment's numbers. */
		json_t *fs = json_object_get(order, "fulfillments");
		json_t *last = json_array_get(fs, json_array_size(fs) - 1);
		if (!last)
			return verdict(out, PUSH_MANUAL,
				       "nothing to fulfil on this order");
		update_request(st, last, NULL, rq);
		return PUSH_CONTINUE;
	}
	json_t *f = json_pack("{s:b, s:o, s:o}", "notifyCustomer", st->notify,
			      "trackingInfo", tracking_input(st, NULL),
			      "lineItemsByFulfillmentOrder", by_fo);
	st->state = S_CREATE;
	build(st->store, st->url,
	      json_pack("{s:s, s:{s:o}}", "query", create_q, "variables", "f",
			f),
	      rq);
	return PUSH_CONTINUE;
}

static enum push_verdict after_write(struct push_state *st, json_t *root,
				     const char *field,
				     struct http_request *rq,
				     struct push_outcome *out)
{
	json_t *res = json_object_get(json_object_get(root, "data"), field);
	json_t *f = json_object_get(res, "fulfillment");
	json_t *ue = json_object_get(res, "userErrors");
	if (json_is_object(f) && json_array_size(ue) == 0) {
		snprintf(out->remote_ref, sizeof(out->remote_ref), "%s",
			 json_string_value(json_object_get(f, "id")));
		return verdict(out, PUSH_DONE, "%s",
			       st->state == S_UPDATE ? "tracking updated"
						     : "fulfilled");
	}
	/* Refused ("already fulfilled" among others): success only if a
	 * re-read shows our number. */
	const char *msg = json_string_value(
		json_object_get(json_array_get(ue, 0), "message"));
	snprintf(st->error, sizeof(st->error), "%s",
		 msg ? msg : "no fulfillment in the answer");
	st->state = S_REREAD;
	preread(st, rq);
	return PUSH_CONTINUE;
}

static enum push_verdict shopify_step(struct push_state *st,
				      const struct http_answer *a,
				      struct http_request *next,
				      struct push_outcome *out)
{
	memset(out, 0, sizeof(*out));
	if (!a) {
		st->state = S_PREREAD;
		preread(st, next);
		return PUSH_CONTINUE;
	}
	enum push_verdict v = PUSH_RETRY;
	json_t *root = classify(a, out, &v);
	if (!root)
		return v;
	switch (st->state) {
	case S_PREREAD:
	case S_REREAD:
		v = after_preread(st, root, next, out);
		break;
	case S_CREATE:
		v = after_write(st, root, "fulfillmentCreate", next, out);
		break;
	case S_UPDATE:
		v = after_write(st, root, "fulfillmentTrackingInfoUpdate", next,
				out);
		break;
	}
	json_decref(root);
	return v;
}

static int shopify_check(const struct channel_store *store,
			 struct http_request *rq)
{
	json_t *settings = json_loads(store->settings_json
					      ? store->settings_json
					      : "{}",
				      0, NULL);
	const char *v = json_string_value(json_object_get(settings,
							  "api_version"));
	char *url = xasprintf("%s/admin/api/%s/graphql.json", store->api_url,
			      v ? v : SHOPIFY_DEFAULT_VERSION);
	json_decref(settings);
	build(store, url, json_pack("{s:s}", "query", "{ shop { name } }"), rq);
	free(url);
	return 0;
}

const struct channel_adapter shopify_adapter = {
	.channel = "shopify",
	.carrier_code = shopify_carrier,
	.start_push = shopify_start,
	.step = shopify_step,
	.free_push = shopify_free,
	.check_request = shopify_check,
	.free_request = shopify_free_request,
};
