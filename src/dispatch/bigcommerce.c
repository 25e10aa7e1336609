/* bigcommerce.c - the BigCommerce adapter (channels.md section 8): REST v2
 * order shipments.
 *
 * Steps: GET the order (refunded/cancelled/declined/incomplete -> manual),
 * GET its shipments (our number there -> done; the previous number there
 * for a corrected number -> PUT that shipment's tracking, never a new
 * shipment), GET its products (what remains to ship), GET its shipping
 * addresses, POST one shipment. A POST for remaining items is not
 * idempotent (another shipment, another customer email): hence the
 * shipments read on every attempt. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "dispatch/adapter_util.h"
#include "dispatch/channel_adapters.h"

/* Our carrier id -> AfterShip slug (tracking_carrier). */
static const struct adapter_carrier bc_carriers[] = {
	{ "usps", "usps" },
	{ "ups", "ups" },
	{ "fedex", "fedex" },
	{ "dhl", "dhl" },
	{ "dhl_ecommerce", "dhl-global-mail" },
	{ "china_post", "china-post" },
	{ "yunexpress", "yunexpress" },
	{ "4px", "4px" },
	{ "yanwen", "yanwen" },
	{ "cainiao", "cainiao" },
	{ "sf_express", "sf-express" },
	{ "canada_post", "canada-post" },
	{ "australia_post", "australia-post" },
	{ "royal_mail", "royal-mail" },
	{ NULL, NULL },
};

enum bc_step {
	BC_BAD_CREDS,
	BC_ORDER,
	BC_SHIPMENTS,
	BC_PRODUCTS,
	BC_ADDRESSES,
	BC_POST,
	BC_PUT,
};

struct push_state {
	enum bc_step step;
	char *base;
	char *token;
	char *order;
	char *tracking;
	char *previous;
	const char *slug;   /* NULL: unknown carrier, tracking_link */
	char *url;
	char prev_id[32];
	json_t *items;      /* [{"order_product_id","quantity"}] */
	bool given_lines;
	json_t *address_id;
	struct http_request req;
};

static const char *bc_carrier_code(const char *carrier_id)
{
	return adapter_carrier_find(bc_carriers, carrier_id);
}

static void bc_free(struct push_state *st)
{
	if (!st)
		return;
	adapter_request_clear(&st->req);
	free(st->base);
	free(st->token);
	free(st->order);
	free(st->tracking);
	free(st->previous);
	free(st->url);
	json_decref(st->items);
	json_decref(st->address_id);
	free(st);
}

/* The token: the file's text, or {"access_token": ...}. */
static char *bc_token(const char *credentials)
{
	json_t *j = adapter_json_object(credentials);
	char *t = NULL;

	if (j && adapter_json_str(j, "access_token"))
		t = xstrdup(adapter_json_str(j, "access_token"));
	else if (!j && credentials && *credentials &&
		 !strpbrk(credentials, " \t\r\n{"))
		t = xstrdup(credentials);
	json_decref(j);
	return t;
}

static struct push_state *bc_start(const struct channel_store *store,
				   const struct push_request *req)
{
	struct push_state *st = xcalloc(1, sizeof(*st));

	st->base = xstrdup(store->api_url ? store->api_url : "");
	st->token = bc_token(store->credentials);
	st->order = adapter_urlencode(req->channel_order ? req->channel_order
							 : "");
	st->tracking = xstrdup(req->tracking ? req->tracking : "");
	st->previous = req->previous_tracking
			       ? xstrdup(req->previous_tracking) : NULL;
	st->slug = bc_carrier_code(req->carrier);
	st->url = adapter_tracking_url(req);
	st->items = json_array();
	for (size_t i = 0; i < req->n_lines; i++) {
		json_t *it = json_object();
		long id = strtol(req->lines[i].line_id, NULL, 10);

		json_object_set_new(it, "order_product_id", json_integer(id));
		json_object_set_new(it, "quantity",
				    json_integer(req->lines[i].quantity));
		json_array_append_new(st->items, it);
	}
	st->given_lines = req->n_lines > 0;
	st->step = st->token ? BC_ORDER : BC_BAD_CREDS;
	return st;
}

static json_t *bc_tracking_body(struct push_state *st)
{
	json_t *b = json_object();

	json_object_set_new(b, "tracking_number", json_string(st->tracking));
	json_object_set_new(b, "tracking_carrier",
			    json_string(st->slug ? st->slug : ""));
	json_object_set_new(b, "shipping_provider", json_string(""));
	if (!st->slug && st->url)
		json_object_set_new(b, "tracking_link", json_string(st->url));
	return b;
}

static void bc_send(struct push_state *st, enum bc_step step,
		    struct http_request *next)
{
	static const char *const sub[] = {
		[BC_ORDER] = "", [BC_SHIPMENTS] = "/shipments",
		[BC_PRODUCTS] = "/products",
		[BC_ADDRESSES] = "/shipping_addresses",
		[BC_POST] = "/shipments",
	};
	char *url;
	char *body = NULL;
	const char *method = "GET";

	st->step = step;
	if (step == BC_PUT) {
		url = xasprintf("%s/v2/orders/%s/shipments/%s", st->base,
				st->order, st->prev_id);
		method = "PUT";
		json_t *b = bc_tracking_body(st);

		body = json_dumps(b, JSON_COMPACT);
		json_decref(b);
	} else {
		url = xasprintf("%s/v2/orders/%s%s", st->base, st->order,
				sub[step]);
		if (step == BC_POST) {
			json_t *b = bc_tracking_body(st);

			method = "POST";
			json_object_set(b, "order_address_id", st->address_id);
			json_object_set(b, "items", st->items);
			json_object_set_new(b, "comments", json_string(""));
			body = json_dumps(b, JSON_COMPACT);
			json_decref(b);
		}
	}
	adapter_request_set(&st->req, method, url, body, NULL);
	adapter_request_header(&st->req, "X-Auth-Token", st->token);
	st->req.secret_hint = st->token;
	adapter_request_hand(&st->req, next);
}

static enum push_verdict bc_error(struct push_state *st,
				  const struct http_answer *a,
				  const char *what, struct push_outcome *out)
{
	json_t *j, *e;
	const char *m;
	char msg[160];

	if (adapter_transient(a, what, out))
		return PUSH_RETRY;
	j = adapter_answer_json(a);
	e = json_is_array(j) ? json_array_get(j, 0) : j;
	m = adapter_json_message(e);
	snprintf(msg, sizeof(msg), "%s", m ? m : "");
	json_decref(j);
	if (a->status == 401 || a->status == 403)
		return adapter_outcome(out, PUSH_DEAD, "%s: token refused (HTTP "
				       "%ld): fix the store's API account "
				       "(scope store_v2_orders modify)", what,
				       a->status);
	if (a->status == 404)
		return adapter_outcome(out, PUSH_DEAD, "%s: order %s not found",
				       what, st->order);
	if (a->status == 507)
		return adapter_outcome(out, PUSH_MANUAL, "%s: the store's plan "
				       "limit is reached (507)", what);
	return adapter_rule(out, "validation_errors",
		adapter_outcome(out, PUSH_MANUAL, "%s: refused (HTTP %ld: %s)",
			       what, a->status, msg));
}

/* 204 and an empty body are an empty list. */
static json_t *bc_list(const struct http_answer *a)
{
	json_t *j = a->status == 204 ? NULL : adapter_answer_json(a);

	if (!json_is_array(j)) {
		json_decref(j);
		return json_array();
	}
	return j;
}

static enum push_verdict bc_step(struct push_state *st,
				 const struct http_answer *a,
				 struct http_request *next,
				 struct push_outcome *out)
{
	json_t *j, *e;
	size_t i;

	if (st->step == BC_BAD_CREDS)
		return adapter_outcome(out, PUSH_DEAD, "credentials: the file "
				       "must hold the API account's access "
				       "token");
	if (!a) {
		bc_send(st, BC_ORDER, next);
		return PUSH_CONTINUE;
	}
	if (a->status != 200 && a->status != 201 &&
	    !(a->status == 204 && st->step == BC_SHIPMENTS))
		return bc_error(st, a, st->step == BC_POST ? "create shipment"
				: st->step == BC_PUT ? "update shipment"
				: "read order", out);
	switch (st->step) {
	case BC_BAD_CREDS:
		break;
	case BC_ORDER: {
		long s;

		j = adapter_answer_json(a);
		s = (long)json_integer_value(json_object_get(j, "status_id"));
		json_decref(j);
		if (s == 0 || s == 4 || s == 5 || s == 6)
			return adapter_outcome(out, PUSH_MANUAL, "order %s has "
					       "status_id %ld (incomplete, "
					       "refunded, cancelled or "
					       "declined)", st->order, s);
		bc_send(st, BC_SHIPMENTS, next);
		return PUSH_CONTINUE;
	}
	case BC_SHIPMENTS:
		j = bc_list(a);
		json_array_foreach(j, i, e) {
			const char *t = adapter_json_str(e, "tracking_number");

			if (t && strcmp(t, st->tracking) == 0) {
				adapter_json_id(e, "id", out->remote_ref,
						sizeof(out->remote_ref));
				json_decref(j);
				return adapter_outcome(out, PUSH_DONE, "order %s "
						       "shows the number",
						       st->order);
			}
			if (t && st->previous && strcmp(t, st->previous) == 0)
				adapter_json_id(e, "id", st->prev_id,
						sizeof(st->prev_id));
		}
		json_decref(j);
		if (st->prev_id[0]) {
			bc_send(st, BC_PUT, next);
			return PUSH_CONTINUE;
		}
		if (st->given_lines) {
			bc_send(st, BC_ADDRESSES, next);
			return PUSH_CONTINUE;
		}
		bc_send(st, BC_PRODUCTS, next);
		return PUSH_CONTINUE;
	case BC_PRODUCTS:
		j = bc_list(a);
		json_array_foreach(j, i, e) {
			json_int_t q = json_integer_value(
				json_object_get(e, "quantity"));
			json_int_t s = json_integer_value(
				json_object_get(e, "quantity_shipped"));
			json_t *it;

			if (q - s <= 0)
				continue;
			it = json_object();
			json_object_set(it, "order_product_id",
					json_object_get(e, "id"));
			json_object_set_new(it, "quantity", json_integer(q - s));
			json_array_append_new(st->items, it);
		}
		json_decref(j);
		if (json_array_size(st->items) == 0)
			return adapter_outcome(out, PUSH_MANUAL, "order %s: "
					       "every item is shipped already; "
					       "add this parcel's number by hand",
					       st->order);
		bc_send(st, BC_ADDRESSES, next);
		return PUSH_CONTINUE;
	case BC_ADDRESSES:
		j = bc_list(a);
		e = json_array_get(j, 0);
		if (!e || !json_object_get(e, "id")) {
			json_decref(j);
			return adapter_outcome(out, PUSH_MANUAL, "order %s has "
					       "no shipping address", st->order);
		}
		st->address_id = json_incref(json_object_get(e, "id"));
		json_decref(j);
		bc_send(st, BC_POST, next);
		return PUSH_CONTINUE;
	case BC_POST:
	case BC_PUT:
		j = adapter_answer_json(a);
		adapter_json_id(j, "id", out->remote_ref,
				sizeof(out->remote_ref));
		json_decref(j);
		return adapter_outcome(out, PUSH_DONE, "%s on order %s%s",
				       st->step == BC_PUT ? "shipment's number "
				       "corrected" : "shipment created",
				       st->order, st->slug ? "" : " (tracking "
				       "link, carrier not in BigCommerce's "
				       "list)");
	}
	return adapter_outcome(out, PUSH_DEAD, "internal: bad step");
}

static int bc_check(const struct channel_store *store,
		    struct http_request *req)
{
	_cleanup_free_ char *tok = bc_token(store->credentials);

	memset(req, 0, sizeof(*req));
	if (!tok)
		return -22;
	adapter_request_owned(req, "GET",
			      xasprintf("%s/v2/store",
					store->api_url ? store->api_url : ""),
			      "X-Auth-Token", tok);
	return 0;
}

static void bc_free_request(struct http_request *req)
{
	adapter_request_clear(req);
}

const struct channel_adapter bigcommerce_adapter = {
	.channel = "bigcommerce",
	.carrier_code = bc_carrier_code,
	.start_push = bc_start,
	.step = bc_step,
	.free_push = bc_free,
	.check_request = bc_check,
	.free_request = bc_free_request,
};
