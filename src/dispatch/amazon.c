/* amazon.c - the Amazon SP-API adapter (channels.md section 6):
 * confirmShipment for seller-fulfilled orders.
 *
 * Steps: (LWA token from the refresh token when the credentials hold no
 * access token, or after a 403 "expired" - once per push), GET the order
 * with FULFILLMENT,PACKAGES (FBA -> manual, cancelled -> manual, our
 * number among the packages -> done), POST shipmentConfirmation with a
 * deterministic packageReferenceId: the next free one for a new parcel,
 * the previous number's for a corrected number (Amazon addresses the same
 * package). A 400, or a correction, is re-read: done only when the order
 * shows our number. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/util.h"
#include "dispatch/adapter_util.h"
#include "dispatch/channel_adapters.h"

/* Our carrier id -> Seller Central CarrierCode (exact). */
static const struct adapter_carrier amz_carriers[] = {
	{ "usps", "USPS" },
	{ "ups", "UPS" },
	{ "fedex", "FedEx" },
	{ "dhl", "DHL" },
	{ "dhl_ecommerce", "DHL Global Mail" },
	{ "royal_mail", "Royal Mail" },
	{ "canada_post", "Canada Post" },
	{ "ontrac", "OnTrac" },
	{ "lasership", "Lasership" },
	{ "gls", "GLS" },
	{ "dpd", "DPD" },
	{ "yodel", "Yodel" },
	{ "deutsche_post", "Deutsche Post" },
	{ "la_poste", "La Poste" },
	{ "poste_italiane", "Poste Italiane" },
	{ "india_post", "India Post" },
	{ NULL, NULL },
};

enum amz_step {
	AMZ_BAD_CREDS,
	AMZ_TOKEN,
	AMZ_ORDER,
	AMZ_POST,
	AMZ_REREAD,
};

struct push_state {
	enum amz_step step;
	char *base;
	char *lwa;          /* LWA base URL */
	char *client_id;
	char *client_secret;
	char *refresh;
	char *token;
	char *market;
	char *order;
	char *tracking;
	char *previous;
	const char *code;
	char *carrier_name;
	char ref[32];       /* packageReferenceId to send */
	char post_error[160];
	bool refreshed;
	json_t *items;
	struct http_request req;
};

static const char *amz_carrier_code(const char *carrier_id)
{
	return adapter_carrier_find(amz_carriers, carrier_id);
}

static void amz_free(struct push_state *st)
{
	if (!st)
		return;
	adapter_request_clear(&st->req);
	free(st->base);
	free(st->lwa);
	free(st->client_id);
	free(st->client_secret);
	free(st->refresh);
	free(st->token);
	free(st->market);
	free(st->order);
	free(st->tracking);
	free(st->previous);
	free(st->carrier_name);
	json_decref(st->items);
	free(st);
}

static char *amz_dup(const json_t *a, const json_t *b, const char *key)
{
	const char *v = adapter_json_str(a, key);

	if (!v)
		v = adapter_json_str(b, key);
	return v ? xstrdup(v) : NULL;
}

static struct push_state *amz_start(const struct channel_store *store,
				    const struct push_request *req)
{
	struct push_state *st = xcalloc(1, sizeof(*st));
	json_t *cred = adapter_json_object(store->credentials);
	json_t *set = adapter_json_object(store->settings_json);

	st->base = xstrdup(store->api_url ? store->api_url : "");
	st->lwa = amz_dup(set, NULL, "lwa_url");
	if (!st->lwa)
		st->lwa = xstrdup("https://api.amazon.com");
	st->market = amz_dup(set, cred, "marketplace_id");
	st->client_id = amz_dup(cred, NULL, "client_id");
	st->client_secret = amz_dup(cred, NULL, "client_secret");
	st->refresh = amz_dup(cred, NULL, "refresh_token");
	st->token = amz_dup(cred, NULL, "access_token");
	st->order = adapter_urlencode(req->channel_order ? req->channel_order
							 : "");
	st->tracking = xstrdup(req->tracking ? req->tracking : "");
	st->previous = req->previous_tracking
			       ? xstrdup(req->previous_tracking) : NULL;
	st->code = amz_carrier_code(req->carrier);
	st->carrier_name = xstrdup(req->carrier_name ? req->carrier_name
				   : req->carrier ? req->carrier : "Other");
	st->items = json_array();
	for (size_t i = 0; i < req->n_lines; i++) {
		json_t *it = json_object();

		json_object_set_new(it, "orderItemId",
				    json_string(req->lines[i].line_id));
		json_object_set_new(it, "quantity",
				    json_integer(req->lines[i].quantity));
		json_array_append_new(st->items, it);
	}
	st->step = AMZ_BAD_CREDS;
	if (st->market && (st->token || (st->client_id &&
					 st->client_secret && st->refresh)))
		st->step = AMZ_TOKEN;
	json_decref(cred);
	json_decref(set);
	return st;
}

static void amz_send(struct push_state *st, enum amz_step step,
		     struct http_request *next)
{
	st->step = step;
	if (step == AMZ_TOKEN) {
		_cleanup_free_ char *rt = adapter_urlencode(st->refresh);
		_cleanup_free_ char *id = adapter_urlencode(st->client_id);
		_cleanup_free_ char *sec = adapter_urlencode(st->client_secret);

		adapter_request_set(&st->req, "POST",
				    xasprintf("%s/auth/o2/token", st->lwa),
				    xasprintf("grant_type=refresh_token&"
					      "refresh_token=%s&client_id=%s&"
					      "client_secret=%s", rt, id, sec),
				    "application/x-www-form-urlencoded");
		st->req.secret_hint = st->client_secret;
		adapter_request_hand(&st->req, next);
		return;
	}
	if (step == AMZ_POST) {
		json_t *b = json_object(), *pd = json_object();
		char date[40];
		time_t now = time(NULL);
		struct tm tm;

		gmtime_r(&now, &tm);
		strftime(date, sizeof(date), "%Y-%m-%dT%H:%M:%SZ", &tm);
		json_object_set_new(b, "marketplaceId", json_string(st->market));
		json_object_set_new(pd, "packageReferenceId",
				    json_string(st->ref));
		json_object_set_new(pd, "carrierCode",
				    json_string(st->code ? st->code : "Other"));
		json_object_set_new(pd, "carrierName",
				    json_string(st->code ? st->code
						: st->carrier_name));
		json_object_set_new(pd, "shippingMethod",
				    json_string("Standard"));
		json_object_set_new(pd, "trackingNumber",
				    json_string(st->tracking));
		json_object_set_new(pd, "shipDate", json_string(date));
		json_object_set(pd, "orderItems", st->items);
		json_object_set_new(b, "packageDetail", pd);
		adapter_request_set(&st->req, "POST",
				    xasprintf("%s/orders/v0/orders/%s/"
					      "shipmentConfirmation",
					      st->base, st->order),
				    json_dumps(b, JSON_COMPACT), NULL);
		json_decref(b);
	} else {
		adapter_request_set(&st->req, "GET",
				    xasprintf("%s/orders/2026-01-01/orders/%s"
					      "?includedData=FULFILLMENT,"
					      "PACKAGES", st->base, st->order),
				    NULL, NULL);
	}
	adapter_request_header(&st->req, "x-amz-access-token", st->token);
	st->req.secret_hint = st->token;
	adapter_request_hand(&st->req, next);
}

static enum push_verdict amz_error(struct push_state *st,
				   const struct http_answer *a,
				   const char *what,
				   struct http_request *next,
				   struct push_outcome *out)
{
	json_t *j = adapter_answer_json(a);
	json_t *e = json_array_get(json_object_get(j, "errors"), 0);
	char msg[200];

	snprintf(msg, sizeof(msg), "%s %s",
		 adapter_json_str(e, "code") ? adapter_json_str(e, "code") : "",
		 adapter_json_str(e, "message") ? adapter_json_str(e, "message")
						: "");
	json_decref(j);
	if (a->status == 429) {
		/* QuotaExceeded has no Retry-After: 2 rps, burst 10. */
		out->retry_after_s = a->retry_after
			? adapter_retry_after(a->retry_after) : 2;
		return adapter_outcome(out, PUSH_RETRY, "%s: QuotaExceeded "
				       "(429)", what);
	}
	if (adapter_transient(a, what, out))
		return PUSH_RETRY;
	/* An expired LWA token is 403 on SP-API, not 401. */
	if ((a->status == 403 || a->status == 401) && !st->refreshed &&
	    st->refresh && st->client_id && st->client_secret) {
		amz_send(st, AMZ_TOKEN, next);
		return PUSH_CONTINUE;
	}
	if (a->status == 401 || a->status == 403)
		return adapter_outcome(out, PUSH_DEAD, "%s: access refused (HTTP "
				       "%ld: %s): authorize the app again",
				       what, a->status, msg);
	if (a->status == 404)
		return adapter_outcome(out, PUSH_DEAD, "%s: order %s not found",
				       what, st->order);
	return adapter_rule(out, "validation_errors",
		adapter_outcome(out, PUSH_MANUAL, "%s: refused (HTTP %ld: %s)",
			       what, a->status, msg));
}

/* Reads the order: FBA/cancelled -> manual, ours -> done, else picks the
 * packageReferenceId and the items. Returns PUSH_CONTINUE to post. */
static enum push_verdict amz_read(struct push_state *st, json_t *j,
				  struct push_outcome *out)
{
	json_t *o = json_object_get(j, "order"), *p, *it, *oi;
	const char *by, *status;
	long max_ref = 0;
	size_t i, k;
	bool reread = st->step == AMZ_REREAD;

	if (!o)
		o = json_object_get(j, "payload");
	if (!o)
		o = j;
	by = adapter_json_str(json_object_get(o, "fulfillment"), "fulfilledBy");
	status = adapter_json_str(json_object_get(o, "fulfillment"),
				  "fulfillmentStatus");
	json_array_foreach(json_object_get(o, "packages"), i, p) {
		const char *t = adapter_json_str(p, "trackingNumber");
		char ref[32];
		long r;

		adapter_json_id(p, "packageReferenceId", ref, sizeof(ref));
		r = strtol(ref, NULL, 10);
		if (r > max_ref)
			max_ref = r;
		if (t && strcmp(t, st->tracking) == 0) {
			snprintf(out->remote_ref, sizeof(out->remote_ref), "%s",
				 ref);
			return adapter_outcome(out, PUSH_DONE, "order %s shows "
					       "the number (package %s)",
					       st->order, ref);
		}
		if (t && st->previous && strcmp(t, st->previous) == 0)
			snprintf(st->ref, sizeof(st->ref), "%s", ref);
	}
	if (reread)
		return adapter_outcome(out, PUSH_MANUAL, "Amazon %s and the "
				       "order does not show our number",
				       st->post_error);
	if (by && strcmp(by, "MERCHANT") != 0)
		return adapter_rule(out, "fba_orders",
			adapter_outcome(out, PUSH_MANUAL, "order %s is fulfilled "
				       "by %s (FBA): Amazon ships it", st->order,
				       by));
	if (status && strcmp(status, "CANCELLED") == 0)
		return adapter_outcome(out, PUSH_MANUAL, "order %s is cancelled",
				       st->order);
	if (st->ref[0] && json_array_size(st->items) == 0) {
		/* Correction: the same package's items. */
		json_array_foreach(json_object_get(o, "packages"), i, p) {
			char ref[32];

			adapter_json_id(p, "packageReferenceId", ref,
					sizeof(ref));
			if (strcmp(ref, st->ref) == 0)
				json_array_extend(st->items,
					json_object_get(p, "packageItems"));
		}
	}
	if (!st->ref[0])
		snprintf(st->ref, sizeof(st->ref), "%ld", max_ref + 1);
	if (json_array_size(st->items) == 0) {
		json_array_foreach(json_object_get(o, "orderItems"), i, oi) {
			const char *id = adapter_json_str(oi, "orderItemId");
			json_int_t rest = json_integer_value(
				json_object_get(oi, "quantityOrdered"));

			if (!id)
				continue;
			json_array_foreach(json_object_get(o, "packages"), k,
					   p) {
				size_t m;
				json_t *pi;

				json_array_foreach(json_object_get(p,
						"packageItems"), m, pi) {
					const char *pid = adapter_json_str(
						pi, "orderItemId");

					if (pid && strcmp(pid, id) == 0)
						rest -= json_integer_value(
							json_object_get(pi,
								"quantity"));
				}
			}
			if (rest <= 0)
				continue;
			it = json_object();
			json_object_set_new(it, "orderItemId", json_string(id));
			json_object_set_new(it, "quantity", json_integer(rest));
			json_array_append_new(st->items, it);
		}
	}
	if (json_array_size(st->items) == 0)
		return adapter_outcome(out, PUSH_MANUAL, "order %s: every item "
				       "is shipped already; add this parcel's "
				       "number by hand", st->order);
	return PUSH_CONTINUE;
}

static enum push_verdict amz_step(struct push_state *st,
				  const struct http_answer *a,
				  struct http_request *next,
				  struct push_outcome *out)
{
	json_t *j;
	enum push_verdict v;

	if (st->step == AMZ_BAD_CREDS)
		return adapter_outcome(out, PUSH_DEAD, "credentials need "
				       "client_id, client_secret, refresh_token "
				       "(LWA) and marketplace_id (settings)");
	if (!a) {
		amz_send(st, st->token ? AMZ_ORDER : AMZ_TOKEN, next);
		return PUSH_CONTINUE;
	}
	switch (st->step) {
	case AMZ_BAD_CREDS:
		break;
	case AMZ_TOKEN: {
		const char *tok;

		st->refreshed = true;
		if (a->status != 200) {
			if (adapter_transient(a, "LWA token", out))
				return PUSH_RETRY;
			return adapter_outcome(out, PUSH_DEAD, "LWA refused the "
					       "refresh token (HTTP %ld): "
					       "authorize the app again",
					       a->status);
		}
		j = adapter_answer_json(a);
		tok = adapter_json_str(j, "access_token");
		if (tok) {
			free(st->token);
			st->token = xstrdup(tok);
		}
		json_decref(j);
		if (!tok)
			return adapter_outcome(out, PUSH_RETRY, "LWA token: no "
					       "access_token in the answer");
		amz_send(st, AMZ_ORDER, next);
		return PUSH_CONTINUE;
	}
	case AMZ_ORDER:
	case AMZ_REREAD:
		if (a->status != 200)
			return amz_error(st, a, "read order", next, out);
		j = adapter_answer_json(a);
		v = amz_read(st, j, out);
		json_decref(j);
		if (v != PUSH_CONTINUE)
			return v;
		amz_send(st, AMZ_POST, next);
		return PUSH_CONTINUE;
	case AMZ_POST:
		if (a->status == 204 || a->status == 200) {
			if (st->previous) {
				snprintf(st->post_error,
					 sizeof(st->post_error),
					 "accepted the corrected number");
				amz_send(st, AMZ_REREAD, next);
				return PUSH_CONTINUE;
			}
			snprintf(out->remote_ref, sizeof(out->remote_ref), "%s",
				 st->ref);
			return adapter_outcome(out, PUSH_DONE, "shipment "
					       "confirmed on order %s (package "
					       "%s%s)", st->order, st->ref,
					       st->code ? "" : ", carrier Other");
		}
		if (a->status == 400) {
			j = adapter_answer_json(a);
			{
				json_t *e = json_array_get(
					json_object_get(j, "errors"), 0);
				const char *m = adapter_json_str(e, "message");

				snprintf(st->post_error, sizeof(st->post_error),
					 "refused the confirmation (%s)",
					 m ? m : "400");
			}
			json_decref(j);
			amz_send(st, AMZ_REREAD, next);
			return PUSH_CONTINUE;
		}
		return amz_error(st, a, "confirm shipment", next, out);
	}
	return adapter_outcome(out, PUSH_DEAD, "internal: bad step");
}

static int amz_check(const struct channel_store *store,
		     struct http_request *req)
{
	json_t *cred = adapter_json_object(store->credentials);
	json_t *set = adapter_json_object(store->settings_json);
	const char *id = adapter_json_str(cred, "client_id");
	const char *sec = adapter_json_str(cred, "client_secret");
	const char *rt = adapter_json_str(cred, "refresh_token");
	const char *lwa = adapter_json_str(set, "lwa_url");
	_cleanup_free_ char *ide = NULL, *sece = NULL, *rte = NULL;

	memset(req, 0, sizeof(*req));
	if (!id || !sec || !rt) {
		json_decref(cred);
		json_decref(set);
		return -22;
	}
	/* The LWA refresh grant: read-only, proves the three fields. */
	ide = adapter_urlencode(id);
	sece = adapter_urlencode(sec);
	rte = adapter_urlencode(rt);
	adapter_request_owned(req, "POST",
			      xasprintf("%s/auth/o2/token",
					lwa ? lwa : "https://api.amazon.com"),
			      NULL, NULL);
	req->body = xasprintf("grant_type=refresh_token&refresh_token=%s&"
			      "client_id=%s&client_secret=%s", rte, ide, sece);
	adapter_request_header(req, "Content-Type",
			       "application/x-www-form-urlencoded");
	json_decref(cred);
	json_decref(set);
	return 0;
}

static void amz_free_request(struct http_request *req)
{
	adapter_request_clear(req);
}

const struct channel_adapter amazon_adapter = {
	.channel = "amazon",
	.carrier_code = amz_carrier_code,
	.start_push = amz_start,
	.step = amz_step,
	.free_push = amz_free,
	.check_request = amz_check,
	.free_request = amz_free_request,
};
