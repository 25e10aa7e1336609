/* etsy.c - the Etsy adapter (channels.md section 5): createReceiptShipment.
 *
 * Etsy emails the buyer on every successful call, so a second call is the
 * worst duplicate of all: every attempt reads the receipt first and sends
 * nothing when our number is among its shipments; a 409 counts as done
 * only when a re-read shows our number. Etsy cannot change a number, so a
 * corrected number goes to manual (a second call would add a shipment and
 * email the buyer again). Access tokens live about an hour: without one in
 * the credentials, or on a 401, the refresh token gets a new one (once per
 * push), and the push restarts at the read. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/util.h"
#include "dispatch/adapter_util.h"
#include "dispatch/channel_adapters.h"

static const struct adapter_carrier etsy_carriers[] = {
	{ "usps", "usps" },
	{ "ups", "ups" },
	{ "fedex", "fedex" },
	{ "dhl", "dhl" },
	{ "dhl_ecommerce", "dhl-global-mail" },
	{ "china_post", "china-post" },
	{ "4px", "4px" },
	{ "yanwen", "yanwen" },
	{ "sf_express", "sf-express" },
	{ "hongkong_post", "hong-kong-post" },
	{ "royal_mail", "royal-mail" },
	{ "canada_post", "canada-post" },
	{ "australia_post", "australia-post" },
	{ NULL, NULL },
};

enum etsy_step {
	ETSY_BAD_CREDS,
	ETSY_TOKEN,
	ETSY_READ,
	ETSY_POST,
	ETSY_REREAD,
};

struct push_state {
	enum etsy_step step;
	char *base;
	char *api_key;      /* "keystring:shared_secret" */
	char *keystring;
	char *refresh;
	char *bearer;       /* "Bearer ..." or NULL */
	char *shop;
	char *receipt;
	char *tracking;
	char *previous;
	const char *code;   /* carrier_name slug */
	bool refreshed;
	struct http_request req;
};

static const char *etsy_carrier_code(const char *carrier_id)
{
	return adapter_carrier_find(etsy_carriers, carrier_id);
}

static void etsy_free(struct push_state *st)
{
	if (!st)
		return;
	adapter_request_clear(&st->req);
	free(st->base);
	free(st->api_key);
	free(st->keystring);
	free(st->refresh);
	free(st->bearer);
	free(st->shop);
	free(st->receipt);
	free(st->tracking);
	free(st->previous);
	free(st);
}

static struct push_state *etsy_start(const struct channel_store *store,
				     const struct push_request *req)
{
	struct push_state *st = xcalloc(1, sizeof(*st));
	json_t *cred = adapter_json_object(store->credentials);
	json_t *set = adapter_json_object(store->settings_json);
	const char *ks = adapter_json_str(cred, "keystring");
	const char *ss = adapter_json_str(cred, "shared_secret");
	const char *rt = adapter_json_str(cred, "refresh_token");
	const char *at = adapter_json_str(cred, "access_token");
	char idbuf[32];
	const char *shop = adapter_json_id(set, "shop_id", idbuf, sizeof(idbuf));

	if (!shop)
		shop = adapter_json_id(cred, "shop_id", idbuf, sizeof(idbuf));
	st->base = xstrdup(store->api_url ? store->api_url : "");
	st->receipt = adapter_urlencode(req->channel_order ? req->channel_order
							   : "");
	st->tracking = xstrdup(req->tracking ? req->tracking : "");
	st->previous = req->previous_tracking
			       ? xstrdup(req->previous_tracking) : NULL;
	st->code = etsy_carrier_code(req->carrier);
	if (!st->code)
		st->code = "other";
	if (ks && ss && (rt || at) && shop) {
		st->api_key = xasprintf("%s:%s", ks, ss);
		st->keystring = xstrdup(ks);
		st->refresh = rt ? xstrdup(rt) : NULL;
		st->bearer = at ? xasprintf("Bearer %s", at) : NULL;
		st->shop = adapter_urlencode(shop);
		st->step = ETSY_TOKEN;
	} else {
		st->step = ETSY_BAD_CREDS;
	}
	json_decref(cred);
	json_decref(set);
	return st;
}

static void etsy_send(struct push_state *st, enum etsy_step step,
		      struct http_request *next)
{
	char *path = xasprintf("%s/v3/application/shops/%s/receipts/%s",
			       st->base, st->shop, st->receipt);

	st->step = step;
	if (step == ETSY_TOKEN) {
		_cleanup_free_ char *ks = adapter_urlencode(st->keystring);
		_cleanup_free_ char *rt = adapter_urlencode(st->refresh);

		free(path);
		adapter_request_set(&st->req, "POST",
				    xasprintf("%s/v3/public/oauth/token",
					      st->base),
				    xasprintf("grant_type=refresh_token&"
					      "client_id=%s&refresh_token=%s",
					      ks, rt),
				    "application/x-www-form-urlencoded");
		st->req.secret_hint = st->refresh;
	} else if (step == ETSY_POST) {
		json_t *b = json_object();

		json_object_set_new(b, "tracking_code",
				    json_string(st->tracking));
		json_object_set_new(b, "carrier_name", json_string(st->code));
		json_object_set_new(b, "send_bcc", json_false());
		adapter_request_set(&st->req, "POST",
				    xasprintf("%s/tracking", path),
				    json_dumps(b, JSON_COMPACT), NULL);
		free(path);
		json_decref(b);
	} else {
		adapter_request_set(&st->req, "GET", path, NULL, NULL);
	}
	if (step != ETSY_TOKEN) {
		adapter_request_header(&st->req, "x-api-key", st->api_key);
		adapter_request_header(&st->req, "Authorization", st->bearer);
		st->req.secret_hint = st->bearer + 7;
	}
	adapter_request_hand(&st->req, next);
}

/* Looks for our (and the previous) number among the receipt's
 * shipments. Returns the receipt JSON (caller decrefs) or NULL. */
static json_t *etsy_scan(const struct http_answer *a, const char *tracking,
			 const char *previous, bool *ours, bool *prev,
			 char *ref, size_t ref_size)
{
	json_t *j = adapter_answer_json(a), *s;
	size_t i;

	*ours = *prev = false;
	json_array_foreach(json_object_get(j, "shipments"), i, s) {
		const char *t = adapter_json_str(s, "tracking_code");

		if (!t)
			continue;
		if (strcmp(t, tracking) == 0) {
			*ours = true;
			adapter_json_id(s, "receipt_shipping_id", ref, ref_size);
		} else if (previous && strcmp(t, previous) == 0) {
			*prev = true;
		}
	}
	return j;
}

static enum push_verdict etsy_error(struct push_state *st,
				    const struct http_answer *a,
				    const char *what,
				    struct http_request *next,
				    struct push_outcome *out)
{
	json_t *j = adapter_answer_json(a);
	char msg[160];

	snprintf(msg, sizeof(msg), "%s",
		 adapter_json_message(j) ? adapter_json_message(j) : "");
	json_decref(j);
	if (adapter_transient(a, what, out))
		return PUSH_RETRY;
	if (a->status == 401 && !st->refreshed && st->refresh) {
		etsy_send(st, ETSY_TOKEN, next);
		return PUSH_CONTINUE;
	}
	if (a->status == 401 || a->status == 403)
		return adapter_outcome(out, PUSH_DEAD, "%s: credentials refused "
				       "(HTTP %ld: %s): fix the store's Etsy "
				       "keys or shop_id", what, a->status, msg);
	if (a->status == 404)
		return adapter_outcome(out, PUSH_DEAD, "%s: receipt %s not "
				       "found in shop %s", what, st->receipt,
				       st->shop);
	return adapter_rule(out, "validation_errors",
		adapter_outcome(out, PUSH_MANUAL, "%s: refused (HTTP %ld: %s)",
			       what, a->status, msg));
}

static enum push_verdict etsy_step(struct push_state *st,
				   const struct http_answer *a,
				   struct http_request *next,
				   struct push_outcome *out)
{
	json_t *j;
	bool ours, prev;
	const char *status;

	if (st->step == ETSY_BAD_CREDS)
		return adapter_outcome(out, PUSH_DEAD, "credentials need "
				       "keystring, shared_secret, refresh_token "
				       "and a shop_id (settings)");
	if (!a) {
		etsy_send(st, st->bearer ? ETSY_READ : ETSY_TOKEN, next);
		return PUSH_CONTINUE;
	}
	switch (st->step) {
	case ETSY_BAD_CREDS:
		break;
	case ETSY_TOKEN: {
		st->refreshed = true;
		enum push_verdict v = adapter_bearer_from_refresh(
			a, "the app", &st->bearer, out);
		if (v != PUSH_CONTINUE)
			return v;
		etsy_send(st, ETSY_READ, next);
		return PUSH_CONTINUE;
	}
	case ETSY_READ:
	case ETSY_REREAD:
		if (a->status != 200)
			return etsy_error(st, a, "read receipt", next, out);
		j = etsy_scan(a, st->tracking, st->previous, &ours, &prev,
			      out->remote_ref, sizeof(out->remote_ref));
		status = adapter_json_str(j, "status");
		if (ours) {
			json_decref(j);
			return adapter_outcome(out, PUSH_DONE, "receipt %s "
					       "shows the number", st->receipt);
		}
		if (st->step == ETSY_REREAD) {
			json_decref(j);
			return adapter_outcome(out, PUSH_MANUAL, "Etsy refused "
					       "the shipment (409) and the "
					       "receipt does not show our "
					       "number");
		}
		if (st->previous && prev) {
			json_decref(j);
			return adapter_outcome(out, PUSH_MANUAL, "corrected "
					       "number: Etsy cannot change %s "
					       "without emailing the buyer "
					       "again; change it on Etsy",
					       st->previous);
		}
		if (status && (strcasecmp(status, "canceled") == 0 ||
			       strcasecmp(status, "cancelled") == 0 ||
			       strcasecmp(status, "fully refunded") == 0)) {
			adapter_outcome(out, PUSH_MANUAL, "receipt %s is %s "
					"on Etsy", st->receipt, status);
			json_decref(j);
			return PUSH_MANUAL;
		}
		json_decref(j);
		etsy_send(st, ETSY_POST, next);
		return PUSH_CONTINUE;
	case ETSY_POST:
		if (a->status == 409) {
			etsy_send(st, ETSY_REREAD, next);
			return PUSH_CONTINUE;
		}
		if (a->status != 200)
			return etsy_error(st, a, "create shipment", next, out);
		j = etsy_scan(a, st->tracking, NULL, &ours, &prev,
			      out->remote_ref, sizeof(out->remote_ref));
		json_decref(j);
		if (!ours) {
			/* 200 without our number: read again, never post
			 * again in this attempt. */
			etsy_send(st, ETSY_REREAD, next);
			return PUSH_CONTINUE;
		}
		return adapter_outcome(out, PUSH_DONE, "shipment created on "
				       "receipt %s (carrier %s)", st->receipt,
				       st->code);
	}
	return adapter_outcome(out, PUSH_DEAD, "internal: bad step");
}

static int etsy_check(const struct channel_store *store,
		      struct http_request *req)
{
	json_t *cred = adapter_json_object(store->credentials);
	const char *ks = adapter_json_str(cred, "keystring");
	const char *ss = adapter_json_str(cred, "shared_secret");

	memset(req, 0, sizeof(*req));
	if (!ks || !ss) {
		json_decref(cred);
		return -22;
	}
	/* openapi/ping needs only the key: proves keystring:secret. */
	{
		_cleanup_free_ char *key = xasprintf("%s:%s", ks, ss);

		adapter_request_owned(req, "GET",
				      xasprintf("%s/v3/application/openapi-ping",
						store->api_url ? store->api_url
							       : ""),
				      "x-api-key", key);
	}
	json_decref(cred);
	return 0;
}

static void etsy_free_request(struct http_request *req)
{
	adapter_request_clear(req);
}

const struct channel_adapter etsy_adapter = {
	.channel = "etsy",
	.carrier_code = etsy_carrier_code,
	.start_push = etsy_start,
	.step = etsy_step,
	.free_push = etsy_free,
	.check_request = etsy_check,
	.free_request = etsy_free_request,
};
