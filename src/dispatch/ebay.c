/* ebay.c - the eBay adapter (channels.md section 3): Sell Fulfillment API
 * createShippingFulfillment.
 *
 * Steps: (token from the refresh token when the credentials hold no
 * access token, or after a 401 - once per push), GET the order (cancelled
 * -> manual; its line items), GET its shipping fulfillments (our number
 * there -> done, nothing sent), POST one shipping fulfillment. A 400 on
 * the POST is re-read: done only if the list shows our number. eBay has
 * no update of a fulfillment's number in this API: a corrected number
 * goes to manual. The daily call quota (429 errorId 2001, no Retry-After)
 * retries after the next UTC midnight. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/util.h"
#include "dispatch/adapter_util.h"
#include "dispatch/channel_adapters.h"

static const struct adapter_carrier ebay_carriers[] = {
	{ "usps", "USPS" },
	{ "ups", "UPS" },
	{ "fedex", "FedEx" },
	{ "dhl", "DHL" },
	{ "dhl_ecommerce", "DHLGlobalMail" },
	{ "china_post", "ChinaPost" },
	{ "hongkong_post", "HongKongPost" },
	{ "4px", "FourPX" },
	{ "yanwen", "YANWEN" },
	{ "royal_mail", "RoyalMail" },
	{ "australia_post", "AustraliaPost" },
	{ NULL, NULL },
};

#define EBAY_SCOPE "https://api.ebay.com/oauth/api_scope/sell.fulfillment"

enum ebay_step {
	EBAY_BAD_CREDS,
	EBAY_TOKEN,
	EBAY_ORDER,
	EBAY_LIST,
	EBAY_POST,
	EBAY_REREAD,
};

struct push_state {
	enum ebay_step step;
	char *base;
	char *basic;        /* "Basic base64(id:secret)" */
	char *refresh;
	char *bearer;
	char *order;
	char *tracking;
	char *previous;
	const char *code;
	bool other;         /* no code: "Other" */
	bool refreshed;
	json_t *lines;      /* the lineItems array to send */
	char post_error[160];
	struct http_request req;
};

static const char *ebay_carrier_code(const char *carrier_id)
{
	return adapter_carrier_find(ebay_carriers, carrier_id);
}

static void ebay_free(struct push_state *st)
{
	if (!st)
		return;
	adapter_request_clear(&st->req);
	free(st->base);
	free(st->basic);
	free(st->refresh);
	free(st->bearer);
	free(st->order);
	free(st->tracking);
	free(st->previous);
	json_decref(st->lines);
	free(st);
}

static struct push_state *ebay_start(const struct channel_store *store,
				     const struct push_request *req)
{
	struct push_state *st = xcalloc(1, sizeof(*st));
	json_t *cred = adapter_json_object(store->credentials);
	const char *id = adapter_json_str(cred, "client_id");
	const char *sec = adapter_json_str(cred, "client_secret");
	const char *rt = adapter_json_str(cred, "refresh_token");
	const char *at = adapter_json_str(cred, "access_token");

	st->base = xstrdup(store->api_url ? store->api_url : "");
	st->order = adapter_urlencode(req->channel_order ? req->channel_order
							 : "");
	st->tracking = xstrdup(req->tracking ? req->tracking : "");
	st->previous = req->previous_tracking
			       ? xstrdup(req->previous_tracking) : NULL;
	st->code = ebay_carrier_code(req->carrier);
	if (!st->code) {
		st->code = "Other";
		st->other = true;
	}
	st->lines = json_array();
	for (size_t i = 0; i < req->n_lines; i++) {
		json_t *l = json_object();

		json_object_set_new(l, "lineItemId",
				    json_string(req->lines[i].line_id));
		json_object_set_new(l, "quantity",
				    json_integer(req->lines[i].quantity));
		json_array_append_new(st->lines, l);
	}
	st->step = EBAY_BAD_CREDS;
	if ((id && sec && rt) || at) {
		if (id && sec && rt) {
			_cleanup_free_ char *pair = xasprintf("%s:%s", id, sec);
			_cleanup_free_ char *b64 =
				adapter_base64(pair, strlen(pair));

			st->basic = xasprintf("Basic %s", b64);
			st->refresh = xstrdup(rt);
		}
		st->bearer = at ? xasprintf("Bearer %s", at) : NULL;
		st->step = EBAY_TOKEN;
	}
	json_decref(cred);
	return st;
}

static void ebay_send(struct push_state *st, enum ebay_step step,
		      struct http_request *next)
{
	st->step = step;
	if (step == EBAY_TOKEN) {
		_cleanup_free_ char *rt = adapter_urlencode(st->refresh);
		_cleanup_free_ char *sc = adapter_urlencode(EBAY_SCOPE);

		adapter_request_set(&st->req, "POST",
				    xasprintf("%s/identity/v1/oauth2/token",
					      st->base),
				    xasprintf("grant_type=refresh_token&"
					      "refresh_token=%s&scope=%s",
					      rt, sc),
				    "application/x-www-form-urlencoded");
		adapter_request_header(&st->req, "Authorization", st->basic);
		st->req.secret_hint = st->basic;
		adapter_request_hand(&st->req, next);
		return;
	}
	if (step == EBAY_ORDER) {
		adapter_request_set(&st->req, "GET",
				    xasprintf("%s/sell/fulfillment/v1/order/%s",
					      st->base, st->order), NULL, NULL);
	} else if (step == EBAY_POST) {
		json_t *b = json_object();
		char date[40];
		time_t now = time(NULL);
		struct tm tm;

		gmtime_r(&now, &tm);
		strftime(date, sizeof(date), "%Y-%m-%dT%H:%M:%S.000Z", &tm);
		json_object_set(b, "lineItems", st->lines);
		json_object_set_new(b, "shippedDate", json_string(date));
		json_object_set_new(b, "shippingCarrierCode",
				    json_string(st->code));
		json_object_set_new(b, "trackingNumber",
				    json_string(st->tracking));
		adapter_request_set(&st->req, "POST",
				    xasprintf("%s/sell/fulfillment/v1/order/%s/"
					      "shipping_fulfillment",
					      st->base, st->order),
				    json_dumps(b, JSON_COMPACT), NULL);
		json_decref(b);
	} else {
		adapter_request_set(&st->req, "GET",
				    xasprintf("%s/sell/fulfillment/v1/order/%s/"
					      "shipping_fulfillment",
					      st->base, st->order), NULL, NULL);
	}
	adapter_request_header(&st->req, "Authorization", st->bearer);
	st->req.secret_hint = st->bearer + 7;
	adapter_request_hand(&st->req, next);
}

/* Seconds to the next UTC midnight: when the daily quota comes back. */
static long ebay_until_midnight(void)
{
	time_t now = time(NULL);

	return 86400 - (long)(now % 86400) + 60;
}

static long ebay_error_id(const json_t *j, char *msg, size_t size)
{
	json_t *e = json_array_get(json_object_get(j, "errors"), 0);
	const char *m = adapter_json_str(e, "message");

	snprintf(msg, size, "%s", m ? m : "");
	return (long)json_integer_value(json_object_get(e, "errorId"));
}

static enum push_verdict ebay_error(struct push_state *st,
				    const struct http_answer *a,
				    const char *what,
				    struct http_request *next,
				    struct push_outcome *out)
{
	json_t *j = adapter_answer_json(a);
	char msg[160];
	long eid = ebay_error_id(j, msg, sizeof(msg));

	json_decref(j);
	if (a->status == 429 && eid == 2001) {
		out->retry_after_s = ebay_until_midnight();
		return adapter_outcome(out, PUSH_RETRY, "%s: eBay daily call "
				       "quota used up (2001): retry after "
				       "00:00 UTC", what);
	}
	if (adapter_transient(a, what, out))
		return PUSH_RETRY;
	if (a->status == 401 && st->refresh && !st->refreshed) {
		ebay_send(st, EBAY_TOKEN, next);
		return PUSH_CONTINUE;
	}
	if (a->status == 401 || a->status == 403)
		return adapter_outcome(out, PUSH_DEAD, "%s: token refused (HTTP "
				       "%ld %ld): authorize the eBay account "
				       "again", what, a->status, eid);
	if (a->status == 404)
		return adapter_outcome(out, PUSH_DEAD, "%s: order %s not found",
				       what, st->order);
	return adapter_rule(out, "validation_errors",
		adapter_outcome(out, PUSH_MANUAL, "%s: refused (HTTP %ld, "
			       "errorId %ld: %s)", what, a->status, eid, msg));
}

/* From the order: every line not fulfilled yet (all lines when every one
 * is: a second parcel for the same items). */
static void ebay_pick_lines(struct push_state *st, const json_t *order)
{
	json_t *items = json_object_get(order, "lineItems"), *li;
	size_t i;

	if (json_array_size(st->lines) > 0)
		return;
	for (int pass = 0; pass < 2 && json_array_size(st->lines) == 0;
	     pass++) {
		json_array_foreach(items, i, li) {
			const char *s = adapter_json_str(
				li, "lineItemFulfillmentStatus");
			json_t *l;

			if (pass == 0 && s && strcmp(s, "FULFILLED") == 0)
				continue;
			l = json_object();
			json_object_set(l, "lineItemId",
					json_object_get(li, "lineItemId"));
			json_object_set(l, "quantity",
					json_object_get(li, "quantity"));
			json_array_append_new(st->lines, l);
		}
	}
}

static enum push_verdict ebay_step(struct push_state *st,
				   const struct http_answer *a,
				   struct http_request *next,
				   struct push_outcome *out)
{
	json_t *j, *f;
	size_t i;
	bool ours = false, prev = false;

	if (st->step == EBAY_BAD_CREDS)
		return adapter_outcome(out, PUSH_DEAD, "credentials need "
				       "client_id, client_secret and "
				       "refresh_token (or an access_token)");
	if (!a) {
		ebay_send(st, st->bearer ? EBAY_ORDER : EBAY_TOKEN, next);
		return PUSH_CONTINUE;
	}
	switch (st->step) {
	case EBAY_BAD_CREDS:
		break;
	case EBAY_TOKEN: {
		st->refreshed = true;
		enum push_verdict v = adapter_bearer_from_refresh(
			a, "the eBay account", &st->bearer, out);
		if (v != PUSH_CONTINUE)
			return v;
		ebay_send(st, EBAY_ORDER, next);
		return PUSH_CONTINUE;
	}
	case EBAY_ORDER: {
		const char *cancel;

		if (a->status != 200)
			return ebay_error(st, a, "read order", next, out);
		j = adapter_answer_json(a);
		cancel = adapter_json_str(json_object_get(j, "cancelStatus"),
					  "cancelState");
		if (cancel && strcmp(cancel, "CANCELED") == 0) {
			json_decref(j);
			return adapter_outcome(out, PUSH_MANUAL, "order %s is "
					       "cancelled on eBay", st->order);
		}
		ebay_pick_lines(st, j);
		json_decref(j);
		ebay_send(st, EBAY_LIST, next);
		return PUSH_CONTINUE;
	}
	case EBAY_LIST:
	case EBAY_REREAD:
		if (a->status != 200)
			return ebay_error(st, a, "read fulfillments", next, out);
		j = adapter_answer_json(a);
		json_array_foreach(json_object_get(j, "fulfillments"), i, f) {
			const char *t = adapter_json_str(f,
						"shipmentTrackingNumber");

			if (t && strcmp(t, st->tracking) == 0) {
				ours = true;
				adapter_json_id(f, "fulfillmentId",
						out->remote_ref,
						sizeof(out->remote_ref));
			} else if (t && st->previous &&
				   strcmp(t, st->previous) == 0) {
				prev = true;
			}
		}
		json_decref(j);
		if (ours)
			return adapter_outcome(out, PUSH_DONE, "order %s shows "
					       "the number", st->order);
		if (st->step == EBAY_REREAD)
			return adapter_outcome(out, PUSH_MANUAL, "eBay refused "
					       "the fulfillment (%s) and the "
					       "order does not show our number",
					       st->post_error);
		if (prev)
			return adapter_outcome(out, PUSH_MANUAL, "corrected "
					       "number: eBay's API cannot change "
					       "%s; change it in Seller Hub",
					       st->previous);
		if (json_array_size(st->lines) == 0)
			return adapter_outcome(out, PUSH_MANUAL, "order %s has "
					       "no line items", st->order);
		ebay_send(st, EBAY_POST, next);
		return PUSH_CONTINUE;
	case EBAY_POST:
		if (a->status == 201 || a->status == 200) {
			/* fulfillmentId is the tracking number (Location). */
			snprintf(out->remote_ref, sizeof(out->remote_ref), "%s",
				 st->tracking);
			return adapter_outcome(out, PUSH_DONE, "fulfillment "
					       "created on order %s%s",
					       st->order, st->other ?
					       " with carrier Other: eBay does "
					       "not validate the number" : "");
		}
		if (a->status == 400) {
			j = adapter_answer_json(a);
			{
				char msg[120];
				long eid = ebay_error_id(j, msg, sizeof(msg));

				snprintf(st->post_error, sizeof(st->post_error),
					 "errorId %ld: %s", eid, msg);
			}
			json_decref(j);
			ebay_send(st, EBAY_REREAD, next);
			return PUSH_CONTINUE;
		}
		return ebay_error(st, a, "create fulfillment", next, out);
	}
	return adapter_outcome(out, PUSH_DEAD, "internal: bad step");
}

static int ebay_check(const struct channel_store *store,
		      struct http_request *req)
{
	json_t *cred = adapter_json_object(store->credentials);
	const char *id = adapter_json_str(cred, "client_id");
	const char *sec = adapter_json_str(cred, "client_secret");
	const char *rt = adapter_json_str(cred, "refresh_token");
	_cleanup_free_ char *pair = NULL, *b64 = NULL, *basic = NULL;
	_cleanup_free_ char *rte = NULL, *sc = NULL;

	memset(req, 0, sizeof(*req));
	if (!id || !sec || !rt) {
		json_decref(cred);
		return -22;
	}
	/* The refresh grant is read-only and proves all three fields. */
	pair = xasprintf("%s:%s", id, sec);
	b64 = adapter_base64(pair, strlen(pair));
	basic = xasprintf("Basic %s", b64);
	rte = adapter_urlencode(rt);
	sc = adapter_urlencode(EBAY_SCOPE);
	adapter_request_owned(req, "POST",
			      xasprintf("%s/identity/v1/oauth2/token",
					store->api_url ? store->api_url : ""),
			      "Authorization", basic);
	req->body = xasprintf("grant_type=refresh_token&refresh_token=%s"
			      "&scope=%s", rte, sc);
	req->headers[req->n_headers].name = "Content-Type";
	req->headers[req->n_headers++].value =
		"application/x-www-form-urlencoded";
	json_decref(cred);
	return 0;
}

static void ebay_free_request(struct http_request *req)
{
	adapter_request_clear(req);
}

const struct channel_adapter ebay_adapter = {
	.channel = "ebay",
	.carrier_code = ebay_carrier_code,
	.start_push = ebay_start,
	.step = ebay_step,
	.free_push = ebay_free,
	.check_request = ebay_check,
	.free_request = ebay_free_request,
};
