/* walmart.c - the Walmart Marketplace (US) adapter (channels.md section 7):
 * ship order lines.
 *
 * Tokens live 15 minutes: every push starts with POST /v3/token (client
 * credentials), and a 401 gets one new token. Then GET the order (WFS
 * lines or lines with an intent to cancel -> manual; our number on the
 * lines -> done), acknowledge Created lines, POST the shipping of the
 * lines (the previous number's lines with processMode PARTIAL_UPDATE for
 * a corrected number). "is in SHIPPED status" (400, or 500 on some
 * tenants) is re-read: done only when the lines show our number. */
#include <gnutls/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/util.h"
#include "dispatch/adapter_util.h"
#include "dispatch/channel_adapters.h"

static const struct adapter_carrier wm_carriers[] = {
	{ "ups", "UPS" },
	{ "usps", "USPS" },
	{ "fedex", "FedEx" },
	{ "dhl", "DHL" },
	{ "dhl_ecommerce", "DHL Ecommerce - US" },
	{ "china_post", "China Post" },
	{ "yunexpress", "YunExpress" },
	{ "4px", "4PX" },
	{ "yanwen", "Yanwen" },
	{ "sf_express", "SF Express" },
	{ "royal_mail", "Royal Mail" },
	{ "canada_post", "Canada Post" },
	{ "ontrac", "OnTrac" },
	{ "lasership", "LaserShip" },
	{ NULL, NULL },
};

enum wm_step {
	WM_BAD_CREDS,
	WM_TOKEN,
	WM_ORDER,
	WM_ACK,
	WM_POST,
	WM_REREAD,
};

struct push_state {
	enum wm_step step;
	char *base;
	char *basic;
	char *token;
	char *po;
	char *tracking;
	char *previous;
	const char *code;
	char *carrier_name;
	char *url;
	char *method_code;
	char correlation[40];
	char post_error[160];
	int tokens;         /* token requests in this push */
	bool partial;       /* corrected number: PARTIAL_UPDATE */
	json_t *want;       /* {lineNumber: qty} given by the push, or NULL */
	json_t *ship;       /* [[lineNumber, qty]] to ship */
	struct http_request req;
};

static const char *wm_carrier_code(const char *carrier_id)
{
	return adapter_carrier_find(wm_carriers, carrier_id);
}

static void wm_free(struct push_state *st)
{
	if (!st)
		return;
	adapter_request_clear(&st->req);
	free(st->base);
	free(st->basic);
	free(st->token);
	free(st->po);
	free(st->tracking);
	free(st->previous);
	free(st->carrier_name);
	free(st->url);
	free(st->method_code);
	json_decref(st->want);
	json_decref(st->ship);
	free(st);
}

static struct push_state *wm_start(const struct channel_store *store,
				   const struct push_request *req)
{
	struct push_state *st = xcalloc(1, sizeof(*st));
	json_t *cred = adapter_json_object(store->credentials);
	json_t *set = adapter_json_object(store->settings_json);
	const char *id = adapter_json_str(cred, "client_id");
	const char *sec = adapter_json_str(cred, "client_secret");
	const char *mc = adapter_json_str(set, "method_code");

	st->base = xstrdup(store->api_url ? store->api_url : "");
	st->po = adapter_urlencode(req->channel_order ? req->channel_order
						      : "");
	st->tracking = xstrdup(req->tracking ? req->tracking : "");
	st->previous = req->previous_tracking
			       ? xstrdup(req->previous_tracking) : NULL;
	st->code = wm_carrier_code(req->carrier);
	st->carrier_name = xstrdup(req->carrier_name ? req->carrier_name
				   : req->carrier ? req->carrier : "Other");
	st->url = adapter_tracking_url(req);
	st->method_code = xstrdup(mc ? mc : "Standard");
	st->ship = json_array();
	if (req->n_lines > 0) {
		st->want = json_object();
		for (size_t i = 0; i < req->n_lines; i++)
			json_object_set_new(st->want, req->lines[i].line_id,
					    json_integer(req->lines[i].quantity));
	}
	st->step = WM_BAD_CREDS;
	if (id && sec) {
		_cleanup_free_ char *pair = xasprintf("%s:%s", id, sec);
		_cleanup_free_ char *b64 = adapter_base64(pair, strlen(pair));

		st->basic = xasprintf("Basic %s", b64);
		st->step = WM_TOKEN;
	}
	json_decref(cred);
	json_decref(set);
	return st;
}

/* A new random UUID (v4) for WM_QOS.CORRELATION_ID. */
static void wm_uuid(char out[40])
{
	unsigned char r[16];

	if (gnutls_rnd(GNUTLS_RND_NONCE, r, sizeof(r)) < 0)
		abort();
	r[6] = (unsigned char)((r[6] & 0x0f) | 0x40);
	r[8] = (unsigned char)((r[8] & 0x3f) | 0x80);
	snprintf(out, 40, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-"
		 "%02x%02x%02x%02x%02x%02x", r[0], r[1], r[2], r[3], r[4],
		 r[5], r[6], r[7], r[8], r[9], r[10], r[11], r[12], r[13],
		 r[14], r[15]);
}

static json_t *wm_ship_body(struct push_state *st)
{
	json_t *lines = json_array(), *pair, *b;
	size_t i;
	long long ms = (long long)time(NULL) * 1000;

	json_array_foreach(st->ship, i, pair) {
		json_t *ti = json_object(), *cn = json_object();
		char amount[24];

		if (st->code)
			json_object_set_new(cn, "carrier",
					    json_string(st->code));
		else
			json_object_set_new(cn, "otherCarrier",
					    json_string(st->carrier_name));
		json_object_set_new(ti, "shipDateTime", json_integer(ms));
		json_object_set_new(ti, "carrierName", cn);
		json_object_set_new(ti, "methodCode",
				    json_string(st->method_code));
		json_object_set_new(ti, "trackingNumber",
				    json_string(st->tracking));
		if (st->url)
			json_object_set_new(ti, "trackingURL",
					    json_string(st->url));
		snprintf(amount, sizeof(amount), "%lld",
			 (long long)json_integer_value(
				 json_array_get(pair, 1)));
		json_array_append_new(lines, json_pack(
			"{s:O, s:b, s:{s:[{s:s, s:{s:s, s:s}, s:o}]}}",
			"lineNumber", json_array_get(pair, 0),
			"intentToCancelOverride", 0,
			"orderLineStatuses", "orderLineStatus",
			"status", "Shipped", "statusQuantity",
			"unitOfMeasurement", "EACH", "amount", amount,
			"trackingInfo", ti));
	}
	b = json_pack("{s:{s:{s:o}}}", "orderShipment", "orderLines",
		      "orderLine", lines);
	if (st->partial)
		json_object_set_new(json_object_get(b, "orderShipment"),
				    "processMode",
				    json_string("PARTIAL_UPDATE"));
	return b;
}

static void wm_send(struct push_state *st, enum wm_step step,
		    struct http_request *next)
{
	st->step = step;
	wm_uuid(st->correlation);
	if (step == WM_TOKEN) {
		st->tokens++;
		adapter_request_set(&st->req, "POST",
				    xasprintf("%s/v3/token", st->base),
				    xstrdup("grant_type=client_credentials"),
				    "application/x-www-form-urlencoded");
		adapter_request_header(&st->req, "Authorization", st->basic);
		st->req.secret_hint = st->basic;
	} else {
		if (step == WM_POST) {
			json_t *b = wm_ship_body(st);

			adapter_request_set(&st->req, "POST",
					    xasprintf("%s/v3/orders/%s/shipping",
						      st->base, st->po),
					    json_dumps(b, JSON_COMPACT), NULL);
			json_decref(b);
		} else if (step == WM_ACK) {
			adapter_request_set(&st->req, "POST",
					    xasprintf("%s/v3/orders/%s/"
						      "acknowledge", st->base,
						      st->po), NULL, NULL);
		} else {
			adapter_request_set(&st->req, "GET",
					    xasprintf("%s/v3/orders/%s",
						      st->base, st->po),
					    NULL, NULL);
		}
		adapter_request_header(&st->req, "WM_SEC.ACCESS_TOKEN",
				       st->token);
		st->req.secret_hint = st->token;
	}
	adapter_request_header(&st->req, "WM_QOS.CORRELATION_ID",
			       st->correlation);
	adapter_request_header(&st->req, "WM_SVC.NAME", "Walmart Marketplace");
	adapter_request_hand(&st->req, next);
}

/* The first error's description in either of Walmart's shapes. */
static void wm_error_text(const struct http_answer *a, char *out,
			  size_t size)
{
	json_t *j = adapter_answer_json(a), *errs, *e;
	const char *d = NULL;

	errs = json_object_get(j, "errors");
	if (json_is_object(errs))
		errs = json_object_get(errs, "error");
	e = json_array_get(errs, 0);
	d = adapter_json_str(e, "description");
	if (!d)
		d = adapter_json_str(e, "message");
	if (!d)
		d = adapter_json_str(e, "code");
	snprintf(out, size, "%s", d ? d : "");
	json_decref(j);
}

static enum push_verdict wm_error(struct push_state *st,
				  const struct http_answer *a,
				  const char *what,
				  struct http_request *next,
				  struct push_outcome *out)
{
	char msg[200];

	wm_error_text(a, msg, sizeof(msg));
	if (a->status == 401 && st->tokens < 2) {
		wm_send(st, WM_TOKEN, next);
		return PUSH_CONTINUE;
	}
	if (adapter_transient(a, what, out))
		return PUSH_RETRY;
	if (a->status == 401 || a->status == 403)
		return adapter_outcome(out, PUSH_DEAD, "%s: refused (HTTP %ld: "
				       "%s): fix the store's Walmart API keys",
				       what, a->status, msg);
	if (a->status == 404)
		return adapter_outcome(out, PUSH_DEAD, "%s: order %s not found",
				       what, st->po);
	return adapter_rule(out, "validation_errors",
		adapter_outcome(out, PUSH_MANUAL, "%s: refused (HTTP %ld: %s)",
			       what, a->status, msg));
}

/* Reads the order's lines: done/manual, or fills st->ship. Sets *ack when
 * a line to ship is still Created. */
static enum push_verdict wm_read(struct push_state *st, json_t *j,
				 bool *ack, struct push_outcome *out)
{
	json_t *lines, *l;
	size_t i;
	bool reread = st->step == WM_REREAD;

	lines = json_object_get(json_object_get(json_object_get(j, "order"),
						"orderLines"), "orderLine");
	*ack = false;
	json_array_foreach(lines, i, l) {
		json_t *s = json_array_get(json_object_get(json_object_get(l,
			"orderLineStatuses"), "orderLineStatus"), 0);
		const char *t = adapter_json_str(json_object_get(s,
					"trackingInfo"), "trackingNumber");
		char n[32];

		adapter_json_id(l, "lineNumber", n, sizeof(n));
		if (t && strcmp(t, st->tracking) == 0) {
			snprintf(out->remote_ref, sizeof(out->remote_ref),
				 "%s", st->tracking);
			return adapter_outcome(out, PUSH_DONE, "PO %s shows "
					       "the number", st->po);
		}
		if (t && st->previous && strcmp(t, st->previous) == 0)
			st->partial = true;
	}
	if (reread)
		return adapter_outcome(out, PUSH_MANUAL, "Walmart %s and the "
				       "PO does not show our number",
				       st->post_error);
	json_array_foreach(lines, i, l) {
		json_t *s = json_array_get(json_object_get(json_object_get(l,
			"orderLineStatuses"), "orderLineStatus"), 0);
		const char *status = adapter_json_str(s, "status");
		const char *t = adapter_json_str(json_object_get(s,
					"trackingInfo"), "trackingNumber");
		const char *node = adapter_json_str(json_object_get(l,
					"shipNode"), "type");
		json_t *cancel = json_object_get(l, "intentToCancel");
		char n[32];
		json_int_t qty;

		adapter_json_id(l, "lineNumber", n, sizeof(n));
		if (st->want && !json_object_get(st->want, n))
			continue;
		if (st->partial) {
			if (!t || strcmp(t, st->previous) != 0)
				continue;
		} else if (status && strcmp(status, "Created") != 0 &&
			   strcmp(status, "Acknowledged") != 0) {
			continue;
		}
		if (node && strstr(node, "WFS"))
			return adapter_rule(out, "wfs_lines",
				adapter_outcome(out, PUSH_MANUAL, "PO %s line %s "
					       "is fulfilled by Walmart (WFS)",
					       st->po, n));
		if (json_is_true(cancel) ||
		    (json_is_string(cancel) &&
		     strcmp(json_string_value(cancel), "true") == 0))
			return adapter_outcome(out, PUSH_MANUAL, "PO %s line %s: "
					       "the buyer asked to cancel", st->po,
					       n);
		if (status && strcmp(status, "Created") == 0)
			*ack = true;
		if (st->want) {
			qty = json_integer_value(json_object_get(st->want, n));
		} else {
			const char *amt = adapter_json_str(json_object_get(l,
						"orderLineQuantity"), "amount");

			qty = amt ? strtol(amt, NULL, 10) : 1;
		}
		json_array_append_new(st->ship, json_pack("[s,I]", n,
							  (json_int_t)qty));
	}
	if (json_array_size(st->ship) == 0)
		return adapter_outcome(out, PUSH_MANUAL, "PO %s: no line left "
				       "to ship; add this parcel's number by "
				       "hand", st->po);
	if (!st->code && !st->url)
		return adapter_outcome(out, PUSH_MANUAL, "carrier %s is not in "
				       "Walmart's list and has no tracking URL "
				       "(required for otherCarrier)",
				       st->carrier_name);
	return PUSH_CONTINUE;
}

static enum push_verdict wm_step(struct push_state *st,
				 const struct http_answer *a,
				 struct http_request *next,
				 struct push_outcome *out)
{
	json_t *j;
	enum push_verdict v;
	bool ack;

	if (st->step == WM_BAD_CREDS)
		return adapter_outcome(out, PUSH_DEAD, "credentials need "
				       "client_id and client_secret");
	if (!a) {
		wm_send(st, WM_TOKEN, next);
		return PUSH_CONTINUE;
	}
	switch (st->step) {
	case WM_BAD_CREDS:
		break;
	case WM_TOKEN: {
		const char *tok;

		if (a->status != 200) {
			if (adapter_transient(a, "token", out))
				return PUSH_RETRY;
			return adapter_outcome(out, PUSH_DEAD, "token refused "
					       "(HTTP %ld): fix the store's "
					       "Walmart API keys", a->status);
		}
		j = adapter_answer_json(a);
		tok = adapter_json_str(j, "access_token");
		if (tok) {
			free(st->token);
			st->token = xstrdup(tok);
		}
		json_decref(j);
		if (!tok)
			return adapter_outcome(out, PUSH_RETRY, "token: no "
					       "access_token in the answer");
		json_array_clear(st->ship);
		st->partial = false;
		wm_send(st, WM_ORDER, next);
		return PUSH_CONTINUE;
	}
	case WM_ORDER:
	case WM_REREAD:
		if (a->status != 200)
			return wm_error(st, a, "read order", next, out);
		j = adapter_answer_json(a);
		v = wm_read(st, j, &ack, out);
		json_decref(j);
		if (v != PUSH_CONTINUE)
			return v;
		wm_send(st, ack ? WM_ACK : WM_POST, next);
		return PUSH_CONTINUE;
	case WM_ACK:
		if (a->status != 200)
			return wm_error(st, a, "acknowledge", next, out);
		wm_send(st, WM_POST, next);
		return PUSH_CONTINUE;
	case WM_POST:
		if (a->status == 200) {
			snprintf(out->remote_ref, sizeof(out->remote_ref), "%s",
				 st->tracking);
			return adapter_outcome(out, PUSH_DONE, "%s on PO %s%s",
					       st->partial ? "tracking "
					       "corrected" : "lines shipped",
					       st->po, st->code ? ""
					       : " (otherCarrier + URL)");
		}
		if (a->status == 400 || a->status == 500) {
			char msg[120];

			wm_error_text(a, msg, sizeof(msg));
			if (a->status == 500 && !strstr(msg, "SHIPPED status"))
				return wm_error(st, a, "ship lines", next, out);
			snprintf(st->post_error, sizeof(st->post_error),
				 "refused the shipping (%s)", msg);
			json_array_clear(st->ship);
			wm_send(st, WM_REREAD, next);
			return PUSH_CONTINUE;
		}
		return wm_error(st, a, "ship lines", next, out);
	}
	return adapter_outcome(out, PUSH_DEAD, "internal: bad step");
}

static int wm_check(const struct channel_store *store,
		    struct http_request *req)
{
	json_t *cred = adapter_json_object(store->credentials);
	const char *id = adapter_json_str(cred, "client_id");
	const char *sec = adapter_json_str(cred, "client_secret");
	_cleanup_free_ char *pair = NULL, *b64 = NULL, *basic = NULL;
	char cid[40];

	memset(req, 0, sizeof(*req));
	if (!id || !sec) {
		json_decref(cred);
		return -22;
	}
	/* The token call proves the keys and changes nothing. */
	pair = xasprintf("%s:%s", id, sec);
	b64 = adapter_base64(pair, strlen(pair));
	wm_uuid(cid);
	basic = xasprintf("Basic %s", b64);
	adapter_request_owned2(req, "POST",
			       xasprintf("%s/v3/token",
					 store->api_url ? store->api_url : ""),
			       "Authorization", basic,
			       "WM_QOS.CORRELATION_ID", cid);
	req->body = xstrdup("grant_type=client_credentials");
	adapter_request_header(req, "Content-Type",
			       "application/x-www-form-urlencoded");
	adapter_request_header(req, "WM_SVC.NAME", "Walmart Marketplace");
	json_decref(cred);
	return 0;
}

static void wm_free_request(struct http_request *req)
{
	adapter_request_clear(req);
}

const struct channel_adapter walmart_adapter = {
	.channel = "walmart",
	.carrier_code = wm_carrier_code,
	.start_push = wm_start,
	.step = wm_step,
	.free_push = wm_free,
	.check_request = wm_check,
	.free_request = wm_free_request,
};
