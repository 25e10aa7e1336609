/* wix.c - the Wix adapter (channels.md section 9): eCommerce Order
 * Fulfillments v1 create-fulfillment.
 *
 * Steps: GET the order (must be APPROVED; its line items), GET its
 * fulfillments (our number there -> done; the previous number there for a
 * corrected number -> PATCH that fulfillment's trackingInfo), POST
 * create-fulfillment for the given lines or every not-yet-fulfilled rest.
 * Wix has no idempotency key, only the remaining-quantity guard: hence the
 * read on every attempt. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "dispatch/adapter_util.h"
#include "dispatch/channel_adapters.h"

/* Wix's predefined providers (automatic tracking link). */
static const struct adapter_carrier wix_carriers[] = {
	{ "usps", "usps" },
	{ "ups", "ups" },
	{ "fedex", "fedex" },
	{ "dhl", "dhl" },
	{ "canada_post", "canadaPost" },
	{ NULL, NULL },
};

enum wix_step {
	WIX_BAD_CREDS,
	WIX_ORDER,
	WIX_LIST,
	WIX_POST,
	WIX_PATCH,
};

struct push_state {
	enum wix_step step;
	char *base;
	char *token;
	char *site_id;
	char *order;
	char *tracking;
	char *previous;
	const char *provider; /* predefined, or NULL: custom */
	char *carrier_name;
	char *url;
	char prev_id[128];
	json_t *order_lines;  /* the order's lineItems */
	json_t *lines;        /* what to send */
	struct http_request req;
};

static const char *wix_carrier_code(const char *carrier_id)
{
	return adapter_carrier_find(wix_carriers, carrier_id);
}

static void wix_free(struct push_state *st)
{
	if (!st)
		return;
	adapter_request_clear(&st->req);
	free(st->base);
	free(st->token);
	free(st->site_id);
	free(st->order);
	free(st->tracking);
	free(st->previous);
	free(st->carrier_name);
	free(st->url);
	json_decref(st->order_lines);
	json_decref(st->lines);
	free(st);
}

/* The token: the file's text, or {"access_token"|"api_key": ...}. */
static char *wix_token(const char *credentials)
{
	json_t *j = adapter_json_object(credentials);
	const char *t = adapter_json_str(j, "access_token");
	char *out = NULL;

	if (!t)
		t = adapter_json_str(j, "api_key");
	if (t)
		out = xstrdup(t);
	else if (!j && credentials && *credentials &&
		 !strpbrk(credentials, " \t\r\n{"))
		out = xstrdup(credentials);
	json_decref(j);
	return out;
}

static char *wix_site(const struct channel_store *store)
{
	json_t *s = adapter_json_object(store->settings_json);
	json_t *c = adapter_json_object(store->credentials);
	const char *id = adapter_json_str(s, "site_id");
	char *out;

	if (!id)
		id = adapter_json_str(c, "site_id");
	out = id ? xstrdup(id) : NULL;
	json_decref(s);
	json_decref(c);
	return out;
}

static struct push_state *wix_start(const struct channel_store *store,
				    const struct push_request *req)
{
	struct push_state *st = xcalloc(1, sizeof(*st));

	st->base = xstrdup(store->api_url ? store->api_url : "");
	st->token = wix_token(store->credentials);
	st->site_id = wix_site(store);
	st->order = adapter_urlencode(req->channel_order ? req->channel_order
							 : "");
	st->tracking = xstrdup(req->tracking ? req->tracking : "");
	st->previous = req->previous_tracking
			       ? xstrdup(req->previous_tracking) : NULL;
	st->provider = wix_carrier_code(req->carrier);
	st->carrier_name = xstrdup(req->carrier_name ? req->carrier_name
				   : req->carrier ? req->carrier : "");
	st->url = adapter_tracking_url(req);
	st->lines = json_array();
	for (size_t i = 0; i < req->n_lines; i++) {
		json_t *l = json_object();

		json_object_set_new(l, "id", json_string(req->lines[i].line_id));
		json_object_set_new(l, "quantity",
				    json_integer(req->lines[i].quantity));
		json_array_append_new(st->lines, l);
	}
	st->step = st->token ? WIX_ORDER : WIX_BAD_CREDS;
	return st;
}

static json_t *wix_tracking_info(struct push_state *st)
{
	json_t *t = json_object();

	json_object_set_new(t, "trackingNumber", json_string(st->tracking));
	json_object_set_new(t, "shippingProvider",
			    json_string(st->provider ? st->provider
					: st->carrier_name));
	if (!st->provider && st->url)
		json_object_set_new(t, "trackingLink", json_string(st->url));
	return t;
}

static void wix_send(struct push_state *st, enum wix_step step,
		     struct http_request *next)
{
	char *url, *body = NULL;
	const char *method = "GET";

	st->step = step;
	if (step == WIX_ORDER) {
		url = xasprintf("%s/ecom/v1/orders/%s", st->base, st->order);
	} else if (step == WIX_LIST) {
		url = xasprintf("%s/ecom/v1/fulfillments/orders/%s", st->base,
				st->order);
	} else {
		json_t *b = json_object(), *f = json_object();

		if (step == WIX_POST) {
			method = "POST";
			url = xasprintf("%s/ecom/v1/fulfillments/orders/%s/"
					"create-fulfillment", st->base,
					st->order);
			json_object_set(f, "lineItems", st->lines);
		} else {
			_cleanup_free_ char *fid = adapter_urlencode(st->prev_id);

			method = "PATCH";
			url = xasprintf("%s/ecom/v1/fulfillments/%s/orders/%s",
					st->base, fid, st->order);
		}
		json_object_set_new(f, "trackingInfo", wix_tracking_info(st));
		json_object_set_new(b, "fulfillment", f);
		body = json_dumps(b, JSON_COMPACT);
		json_decref(b);
	}
	adapter_request_set(&st->req, method, url, body, NULL);
	adapter_request_header(&st->req, "Authorization", st->token);
	if (st->site_id)
		adapter_request_header(&st->req, "wix-site-id", st->site_id);
	st->req.secret_hint = st->token;
	adapter_request_hand(&st->req, next);
}

static enum push_verdict wix_error(struct push_state *st,
				   const struct http_answer *a,
				   const char *what, struct push_outcome *out)
{
	json_t *j;
	char msg[160];

	if (adapter_transient(a, what, out))
		return PUSH_RETRY;
	j = adapter_answer_json(a);
	snprintf(msg, sizeof(msg), "%s",
		 adapter_json_message(j) ? adapter_json_message(j) : "");
	json_decref(j);
	if (a->status == 401 || a->status == 403)
		return adapter_outcome(out, PUSH_DEAD, "%s: token refused (HTTP "
				       "%ld): renew the Wix token (Manage "
				       "Orders permission)", what, a->status);
	if (a->status == 404 && st->step != WIX_PATCH)
		return adapter_outcome(out, PUSH_DEAD, "%s: order %s not found",
				       what, st->order);
	return adapter_rule(out, "validation_errors",
		adapter_outcome(out, PUSH_MANUAL, "%s: refused (HTTP %ld: %s)",
			       what, a->status, msg));
}

/* What remains per order line, after the fulfillments in list. */
static void wix_pick_lines(struct push_state *st, const json_t *list)
{
	json_t *l, *f, *fl;
	size_t i, k, m;

	if (json_array_size(st->lines) > 0)
		return;
	json_array_foreach(st->order_lines, i, l) {
		const char *id = adapter_json_str(l, "id");
		json_int_t rest = json_integer_value(
			json_object_get(l, "quantity"));
		json_t *out;

		if (!id)
			continue;
		json_array_foreach(list, k, f) {
			json_array_foreach(json_object_get(f, "lineItems"), m,
					   fl) {
				const char *fid = adapter_json_str(fl, "id");

				if (fid && strcmp(fid, id) == 0)
					rest -= json_integer_value(
						json_object_get(fl,
								"quantity"));
			}
		}
		if (rest <= 0)
			continue;
		out = json_object();
		json_object_set_new(out, "id", json_string(id));
		json_object_set_new(out, "quantity", json_integer(rest));
		json_array_append_new(st->lines, out);
	}
}

static enum push_verdict wix_step(struct push_state *st,
				  const struct http_answer *a,
				  struct http_request *next,
				  struct push_outcome *out)
{
	json_t *j, *list, *f;
	size_t i;

	if (st->step == WIX_BAD_CREDS)
		return adapter_outcome(out, PUSH_DEAD, "credentials: the file "
				       "must hold the Wix access token");
	if (!a) {
		wix_send(st, WIX_ORDER, next);
		return PUSH_CONTINUE;
	}
	if (a->status != 200)
		return wix_error(st, a, st->step == WIX_POST ? "create "
				 "fulfillment" : st->step == WIX_PATCH ?
				 "update fulfillment" : "read order", out);
	switch (st->step) {
	case WIX_BAD_CREDS:
		break;
	case WIX_ORDER: {
		json_t *o;
		const char *status;

		j = adapter_answer_json(a);
		o = json_object_get(j, "order");
		status = adapter_json_str(o, "status");
		if (!status || strcmp(status, "APPROVED") != 0) {
			adapter_outcome(out, PUSH_MANUAL, "order %s is %s, not "
					"APPROVED", st->order,
					status ? status : "unknown");
			json_decref(j);
			return PUSH_MANUAL;
		}
		st->order_lines = json_incref(json_object_get(o, "lineItems"));
		json_decref(j);
		wix_send(st, WIX_LIST, next);
		return PUSH_CONTINUE;
	}
	case WIX_LIST:
		j = adapter_answer_json(a);
		list = json_object_get(json_object_get(j,
				"orderWithFulfillments"), "fulfillments");
		json_array_foreach(list, i, f) {
			const char *t = adapter_json_str(
				json_object_get(f, "trackingInfo"),
				"trackingNumber");

			if (t && strcmp(t, st->tracking) == 0) {
				adapter_json_id(f, "id", out->remote_ref,
						sizeof(out->remote_ref));
				json_decref(j);
				return adapter_outcome(out, PUSH_DONE, "order %s "
						       "shows the number",
						       st->order);
			}
			if (t && st->previous && strcmp(t, st->previous) == 0)
				adapter_json_id(f, "id", st->prev_id,
						sizeof(st->prev_id));
		}
		if (st->prev_id[0]) {
			json_decref(j);
			wix_send(st, WIX_PATCH, next);
			return PUSH_CONTINUE;
		}
		wix_pick_lines(st, list);
		json_decref(j);
		if (json_array_size(st->lines) == 0)
			return adapter_outcome(out, PUSH_MANUAL, "order %s: "
					       "every line is fulfilled already; "
					       "add this parcel's number by hand",
					       st->order);
		wix_send(st, WIX_POST, next);
		return PUSH_CONTINUE;
	case WIX_POST:
	case WIX_PATCH:
		j = adapter_answer_json(a);
		if (st->step == WIX_POST)
			adapter_json_id(j, "fulfillmentId", out->remote_ref,
					sizeof(out->remote_ref));
		else
			snprintf(out->remote_ref, sizeof(out->remote_ref),
				 "%s", st->prev_id);
		json_decref(j);
		return adapter_outcome(out, PUSH_DONE, "%s on order %s%s",
				       st->step == WIX_PATCH ? "fulfillment's "
				       "number corrected" : "fulfillment "
				       "created", st->order, st->provider ? ""
				       : " (custom provider with link)");
	}
	return adapter_outcome(out, PUSH_DEAD, "internal: bad step");
}

static int wix_check(const struct channel_store *store,
		     struct http_request *req)
{
	_cleanup_free_ char *tok = wix_token(store->credentials);

	memset(req, 0, sizeof(*req));
	if (!tok)
		return -22;
	/* Search one order: read-only, needs the Manage Orders permission.
	 * (An API key also needs wix-site-id: use an app token here.) */
	adapter_request_owned(req, "POST",
			      xasprintf("%s/ecom/v1/orders/search",
					store->api_url ? store->api_url : ""),
			      "Authorization", tok);
	req->body = xstrdup("{\"search\":{\"cursorPaging\":{\"limit\":1}}}");
	adapter_request_header(req, "Content-Type", "application/json");
	return 0;
}

static void wix_free_request(struct http_request *req)
{
	adapter_request_clear(req);
}

const struct channel_adapter wix_adapter = {
	.channel = "wix",
	.carrier_code = wix_carrier_code,
	.start_push = wix_start,
	.step = wix_step,
	.free_push = wix_free,
	.check_request = wix_check,
	.free_request = wix_free_request,
};
