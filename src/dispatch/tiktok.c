/* tiktok.c - the TikTok Shop adapter (channels.md section 10): Partner API
 * v202309 signed requests, Mark Package As Shipped.
 *
 * Every call is signed: sign = hex HMAC-SHA256(app_secret, app_secret +
 * path + sorted query key+value (no sign, no access_token) + body +
 * app_secret), with app_key, timestamp and shop_cipher in the query.
 * Steps: (token refresh when the credentials hold no access token, or on
 * code 105002 - once per push), GET the order detail (FBT -> manual; our
 * number on its lines -> done), GET the shipping providers of its
 * delivery option (TikTok has no "other": a carrier it does not list ->
 * manual), POST the packages call, or for a corrected number the
 * package's shipping_info/update. "Already shipped" codes are re-read:
 * done only when the lines show our number. */
#include <gnutls/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "core/buf.h"
#include "core/util.h"
#include "dispatch/adapter_util.h"
#include "dispatch/channel_adapters.h"

/* Our carrier id -> the provider name TikTok lists (matched by name,
 * case-insensitively, then by our carrier's display name). */
static const struct adapter_carrier tt_carriers[] = {
	{ "usps", "USPS" },
	{ "ups", "UPS" },
	{ "fedex", "FedEx" },
	{ "dhl", "DHL" },
	{ "dhl_ecommerce", "DHL eCommerce" },
	{ "yunexpress", "YunExpress" },
	{ "4px", "4PX" },
	{ "yanwen", "Yanwen" },
	{ "china_post", "China Post" },
	{ "ontrac", "OnTrac" },
	{ "lasership", "LaserShip" },
	{ "royal_mail", "Royal Mail" },
	{ NULL, NULL },
};

enum tt_step {
	TT_BAD_CREDS,
	TT_TOKEN,
	TT_ORDER,
	TT_PROVIDERS,
	TT_POST,
	TT_UPDATE,
	TT_REREAD,
};

struct push_state {
	enum tt_step step;
	char *base;
	char *auth_url;
	char *app_key;
	char *app_secret;
	char *refresh;
	char *token;
	char *cipher;
	char *order;
	char *tracking;
	char *previous;
	const char *name;
	char *carrier_name;
	char *provider_id;   /* from settings "providers" or the list */
	char *delivery_option;
	char *refresh_query; /* "app_secret=..&refresh_token=.." */
	char prev_package[64];
	char post_error[160];
	bool refreshed;
	json_t *line_ids;
	json_t *want;        /* the push's line ids, or NULL */
	struct http_request req;
};

static const char *tt_carrier_code(const char *carrier_id)
{
	return adapter_carrier_find(tt_carriers, carrier_id);
}

static void tt_free(struct push_state *st)
{
	if (!st)
		return;
	adapter_request_clear(&st->req);
	free(st->base);
	free(st->auth_url);
	free(st->app_key);
	free(st->app_secret);
	free(st->refresh);
	free(st->token);
	free(st->cipher);
	free(st->order);
	free(st->tracking);
	free(st->previous);
	free(st->carrier_name);
	free(st->provider_id);
	free(st->delivery_option);
	free(st->refresh_query);
	json_decref(st->line_ids);
	json_decref(st->want);
	free(st);
}

static char *tt_dup(const json_t *j, const char *key)
{
	const char *v = adapter_json_str(j, key);

	return v ? xstrdup(v) : NULL;
}

static struct push_state *tt_start(const struct channel_store *store,
				   const struct push_request *req)
{
	struct push_state *st = xcalloc(1, sizeof(*st));
	json_t *cred = adapter_json_object(store->credentials);
	json_t *set = adapter_json_object(store->settings_json);
	const char *pid = adapter_json_str(json_object_get(set, "providers"),
					   req->carrier ? req->carrier : "");

	st->base = xstrdup(store->api_url ? store->api_url : "");
	st->auth_url = tt_dup(set, "auth_url");
	if (!st->auth_url)
		st->auth_url = xstrdup("https://auth.tiktok-shops.com");
	st->app_key = tt_dup(cred, "app_key");
	st->app_secret = tt_dup(cred, "app_secret");
	st->refresh = tt_dup(cred, "refresh_token");
	st->token = tt_dup(cred, "access_token");
	st->cipher = tt_dup(cred, "shop_cipher");
	if (!st->cipher)
		st->cipher = tt_dup(set, "shop_cipher");
	st->order = xstrdup(req->channel_order ? req->channel_order : "");
	st->tracking = xstrdup(req->tracking ? req->tracking : "");
	st->previous = req->previous_tracking
			       ? xstrdup(req->previous_tracking) : NULL;
	st->name = tt_carrier_code(req->carrier);
	st->carrier_name = xstrdup(req->carrier_name ? req->carrier_name
				   : req->carrier ? req->carrier : "");
	st->provider_id = pid ? xstrdup(pid) : NULL;
	st->line_ids = json_array();
	if (req->n_lines > 0) {
		st->want = json_array();
		for (size_t i = 0; i < req->n_lines; i++)
			json_array_append_new(st->want, json_string(
				req->lines[i].line_id));
	}
	st->step = TT_BAD_CREDS;
	if (st->app_key && st->app_secret && st->cipher &&
	    (st->token || st->refresh))
		st->step = TT_TOKEN;
	json_decref(cred);
	json_decref(set);
	return st;
}

/* Builds a signed request: path, extra query (already sorted after
 * app_key: "ids" sorts before "shop_cipher"), body. */
static void tt_signed(struct push_state *st, const char *method,
		      const char *path, const char *ids, char *body)
{
	char ts[24], mac[32], hex[65];
	struct buf in;
	_cleanup_free_ char *ids_enc = ids ? adapter_urlencode(ids) : NULL;
	_cleanup_free_ char *cipher_enc = adapter_urlencode(st->cipher);
	_cleanup_free_ char *key_enc = adapter_urlencode(st->app_key);

	snprintf(ts, sizeof(ts), "%lld", (long long)time(NULL));
	buf_init(&in, 1 << 20);
	buf_printf(&in, "%s%sapp_key%s", st->app_secret, path, st->app_key);
	if (ids)
		buf_printf(&in, "ids%s", ids);
	buf_printf(&in, "shop_cipher%stimestamp%s%s%s", st->cipher, ts,
		   body ? body : "", st->app_secret);
	gnutls_hmac_fast(GNUTLS_MAC_SHA256, st->app_secret,
			 strlen(st->app_secret), in.data, in.len, mac);
	buf_free(&in);
	for (size_t i = 0; i < 32; i++)
		snprintf(hex + 2 * i, 3, "%02x", (unsigned char)mac[i]);
	adapter_request_set(&st->req, method,
			    xasprintf("%s%s?app_key=%s%s%s&shop_cipher=%s"
				      "&timestamp=%s&sign=%s", st->base, path,
				      key_enc, ids ? "&ids=" : "",
				      ids ? ids_enc : "", cipher_enc, ts, hex),
			    body, NULL);
	adapter_request_header(&st->req, "x-tts-access-token", st->token);
	st->req.secret_hint = st->token;
}

static void tt_send(struct push_state *st, enum tt_step step,
		    struct http_request *next)
{
	char path[256];

	st->step = step;
	if (step == TT_TOKEN) {
		_cleanup_free_ char *k = adapter_urlencode(st->app_key);
		_cleanup_free_ char *s = adapter_urlencode(st->app_secret);
		_cleanup_free_ char *r = adapter_urlencode(st->refresh);

		/* Both secrets sit side by side in the query: the hint
		 * covers the two, so one mask hides them. */
		free(st->refresh_query);
		st->refresh_query = xasprintf("app_secret=%s&refresh_token=%s",
					      s, r);
		adapter_request_set(&st->req, "GET",
				    xasprintf("%s/api/v2/token/refresh?"
					      "app_key=%s&%s&grant_type="
					      "refresh_token", st->auth_url,
					      k, st->refresh_query),
				    NULL, NULL);
		st->req.secret_hint = st->refresh_query;
	} else if (step == TT_ORDER || step == TT_REREAD) {
		tt_signed(st, "GET", "/order/202309/orders", st->order, NULL);
	} else if (step == TT_PROVIDERS) {
		_cleanup_free_ char *d = adapter_urlencode(st->delivery_option);

		snprintf(path, sizeof(path), "/logistics/202309/delivery_options"
			 "/%s/shipping_providers", d);
		tt_signed(st, "GET", path, NULL, NULL);
	} else {
		json_t *b = json_object();
		_cleanup_free_ char *id = adapter_urlencode(
			step == TT_POST ? st->order : st->prev_package);

		if (step == TT_POST) {
			snprintf(path, sizeof(path),
				 "/fulfillment/202309/orders/%s/packages", id);
			if (json_array_size(st->line_ids) > 0)
				json_object_set(b, "order_line_item_ids",
						st->line_ids);
		} else {
			snprintf(path, sizeof(path), "/fulfillment/202309/"
				 "packages/%s/shipping_info/update", id);
		}
		json_object_set_new(b, "tracking_number",
				    json_string(st->tracking));
		json_object_set_new(b, "shipping_provider_id",
				    json_string(st->provider_id));
		tt_signed(st, "POST", path, NULL, json_dumps(b, JSON_COMPACT));
		json_decref(b);
	}
	adapter_request_hand(&st->req, next);
}

static bool tt_code_in(long code, const long *list, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (list[i] == code)
			return true;
	return false;
}

static const long tt_shipped[] = { 21011006, 21011020, 21042056, 21008099 };
static const long tt_transient[] = { 36009002, 36009003, 11001027, 11001031,
				     21001008, 21008300 };

/* The body's code and message; -1 when the body is not TikTok JSON. */
static long tt_code(const struct http_answer *a, json_t **j_r,
		    char *msg, size_t size)
{
	json_t *j = adapter_answer_json(a);
	json_t *c = json_object_get(j, "code");

	snprintf(msg, size, "%s", adapter_json_str(j, "message")
		 ? adapter_json_str(j, "message") : "");
	*j_r = j;
	return json_is_integer(c) ? (long)json_integer_value(c) : -1;
}

/* Classifies a failed answer (HTTP or code != 0); may continue with a
 * refresh or a re-read. */
static enum push_verdict tt_fail(struct push_state *st,
				 const struct http_answer *a, long code,
				 const char *msg, const char *what,
				 struct http_request *next,
				 struct push_outcome *out)
{
	if (code == 105002 && st->refresh && !st->refreshed) {
		tt_send(st, TT_TOKEN, next);
		return PUSH_CONTINUE;
	}
	if (a->status == 429 || a->status >= 500 || a->status == 0 ||
	    tt_code_in(code, tt_transient, 6))
		return adapter_transient(a, what, out) ? PUSH_RETRY
			: adapter_outcome(out, PUSH_RETRY, "%s: code %ld (%s)",
					  what, code, msg);
	if (st->step == TT_POST && tt_code_in(code, tt_shipped, 4)) {
		snprintf(st->post_error, sizeof(st->post_error),
			 "answered code %ld (%.100s)", code, msg);
		tt_send(st, TT_REREAD, next);
		return PUSH_CONTINUE;
	}
	if (code == 105002 || code == 106001 || code == 36009004 ||
	    code == 105005 || a->status == 401 || a->status == 403)
		return adapter_outcome(out, PUSH_DEAD, "%s: refused (code %ld: "
				       "%s): check the app key, token, scope "
				       "and the clock", what, code, msg);
	if (code == 21008025)
		return adapter_outcome(out, PUSH_MANUAL, "order %s is fulfilled "
				       "by TikTok (FBT)", st->order);
	return adapter_rule(out, "validation_errors",
		adapter_outcome(out, PUSH_MANUAL, "%s: refused (HTTP %ld, code "
			       "%ld: %s)", what, a->status, code, msg));
}

/* Scans the order detail. Returns PUSH_CONTINUE to go on. */
static enum push_verdict tt_read(struct push_state *st, json_t *j,
				 struct push_outcome *out)
{
	json_t *o = json_array_get(json_object_get(json_object_get(j, "data"),
						   "orders"), 0);
	json_t *l;
	size_t i;
	const char *ft, *dopt;

	if (!o)
		return adapter_outcome(out, PUSH_DEAD, "order %s not found",
				       st->order);
	json_array_foreach(json_object_get(o, "line_items"), i, l) {
		const char *t = adapter_json_str(l, "tracking_number");

		if (t && strcmp(t, st->tracking) == 0) {
			adapter_json_id(l, "package_id", out->remote_ref,
					sizeof(out->remote_ref));
			return adapter_outcome(out, PUSH_DONE, "order %s shows "
					       "the number", st->order);
		}
		if (t && st->previous && strcmp(t, st->previous) == 0)
			adapter_json_id(l, "package_id", st->prev_package,
					sizeof(st->prev_package));
	}
	if (st->step == TT_REREAD)
		return adapter_outcome(out, PUSH_MANUAL, "TikTok %s and the "
				       "order does not show our number",
				       st->post_error);
	ft = adapter_json_str(o, "fulfillment_type");
	if (ft && strcmp(ft, "FULFILLMENT_BY_TIKTOK") == 0)
		return adapter_outcome(out, PUSH_MANUAL, "order %s is fulfilled "
				       "by TikTok (FBT)", st->order);
	if (!st->prev_package[0]) {
		json_array_foreach(json_object_get(o, "line_items"), i, l) {
			const char *id = adapter_json_str(l, "id");
			bool wanted = !st->want;
			size_t k;
			json_t *w;

			json_array_foreach(st->want, k, w)
				if (id && strcmp(json_string_value(w), id) == 0)
					wanted = true;
			if (id && wanted &&
			    !adapter_json_str(l, "tracking_number"))
				json_array_append_new(st->line_ids,
						      json_string(id));
		}
		if (json_array_size(st->line_ids) == 0)
			return adapter_outcome(out, PUSH_MANUAL, "order %s: no "
					       "line left to ship; add this "
					       "parcel's number by hand",
					       st->order);
	}
	dopt = adapter_json_str(o, "delivery_option_id");
	free(st->delivery_option);
	st->delivery_option = xstrdup(dopt ? dopt : "");
	return PUSH_CONTINUE;
}

static enum push_verdict tt_after_provider(struct push_state *st,
					   struct http_request *next)
{
	tt_send(st, st->prev_package[0] ? TT_UPDATE : TT_POST, next);
	return PUSH_CONTINUE;
}

static enum push_verdict tt_step(struct push_state *st,
				 const struct http_answer *a,
				 struct http_request *next,
				 struct push_outcome *out)
{
	json_t *j, *p;
	long code;
	char msg[160];
	enum push_verdict v;
	size_t i;

	if (st->step == TT_BAD_CREDS)
		return adapter_outcome(out, PUSH_DEAD, "credentials need "
				       "app_key, app_secret, shop_cipher and "
				       "access_token or refresh_token");
	if (!a) {
		tt_send(st, st->token ? TT_ORDER : TT_TOKEN, next);
		return PUSH_CONTINUE;
	}
	code = tt_code(a, &j, msg, sizeof(msg));
	if (a->status != 200 || code != 0) {
		json_decref(j);
		if (st->step == TT_TOKEN) {
			st->refreshed = true;
			if (adapter_transient(a, "token refresh", out))
				return PUSH_RETRY;
			return adapter_outcome(out, PUSH_DEAD, "token refresh "
					       "refused (code %ld): authorize "
					       "the shop again", code);
		}
		return tt_fail(st, a, code, msg, st->step == TT_POST ? "ship "
			       "package" : st->step == TT_UPDATE ? "update "
			       "shipping info" : "read", next, out);
	}
	switch (st->step) {
	case TT_BAD_CREDS:
		break;
	case TT_TOKEN: {
		const char *tok = adapter_json_str(json_object_get(j, "data"),
						   "access_token");

		st->refreshed = true;
		if (tok) {
			free(st->token);
			st->token = xstrdup(tok);
		}
		json_decref(j);
		if (!tok)
			return adapter_outcome(out, PUSH_RETRY, "token refresh: "
					       "no access_token");
		json_array_clear(st->line_ids);
		tt_send(st, TT_ORDER, next);
		return PUSH_CONTINUE;
	}
	case TT_ORDER:
	case TT_REREAD:
		v = tt_read(st, j, out);
		json_decref(j);
		if (v != PUSH_CONTINUE)
			return v;
		if (st->provider_id)
			return tt_after_provider(st, next);
		tt_send(st, TT_PROVIDERS, next);
		return PUSH_CONTINUE;
	case TT_PROVIDERS:
		json_array_foreach(json_object_get(json_object_get(j, "data"),
					"shipping_providers"), i, p) {
			const char *n = adapter_json_str(p, "name");
			char id[64];

			if (!n || !adapter_json_id(p, "id", id, sizeof(id)))
				continue;
			if ((st->name && strcasecmp(n, st->name) == 0) ||
			    strcasecmp(n, st->carrier_name) == 0) {
				st->provider_id = xstrdup(id);
				break;
			}
		}
		json_decref(j);
		if (!st->provider_id)
			return adapter_outcome(out, PUSH_MANUAL, "TikTok lists no "
					       "shipping provider %s for this "
					       "order's delivery option (there "
					       "is no \"other\")",
					       st->carrier_name);
		return tt_after_provider(st, next);
	case TT_POST:
	case TT_UPDATE: {
		json_t *d = json_object_get(j, "data");
		const char *warn = adapter_json_str(json_object_get(d,
					"warning"), "message");

		if (st->step == TT_POST)
			adapter_json_id(d, "package_id", out->remote_ref,
					sizeof(out->remote_ref));
		else
			snprintf(out->remote_ref, sizeof(out->remote_ref), "%s",
				 st->prev_package);
		adapter_outcome(out, PUSH_DONE, "%s on order %s%s%s",
				st->step == TT_UPDATE ? "tracking corrected"
				: "package shipped", st->order,
				warn ? "; TikTok warns: " : "", warn ? warn : "");
		json_decref(j);
		return PUSH_DONE;
	}
	}
	json_decref(j);
	return adapter_outcome(out, PUSH_DEAD, "internal: bad step");
}

static int tt_check(const struct channel_store *store,
		    struct http_request *req)
{
	json_t *cred = adapter_json_object(store->credentials);
	const char *k = adapter_json_str(cred, "app_key");
	const char *s = adapter_json_str(cred, "app_secret");
	const char *r = adapter_json_str(cred, "refresh_token");
	json_t *set = adapter_json_object(store->settings_json);
	const char *auth = adapter_json_str(set, "auth_url");
	_cleanup_free_ char *ke = NULL, *se = NULL, *re = NULL, *q = NULL;

	memset(req, 0, sizeof(*req));
	if (!k || !s || !r) {
		json_decref(cred);
		json_decref(set);
		return -22;
	}
	/* The refresh grant proves key, secret and refresh token. */
	ke = adapter_urlencode(k);
	se = adapter_urlencode(s);
	re = adapter_urlencode(r);
	q = xasprintf("app_secret=%s&refresh_token=%s", se, re);
	adapter_request_owned(req, "GET",
			      xasprintf("%s/api/v2/token/refresh?app_key=%s&%s"
					"&grant_type=refresh_token",
					auth ? auth
					     : "https://auth.tiktok-shops.com",
					ke, q), NULL, q);
	json_decref(cred);
	json_decref(set);
	return 0;
}

static void tt_free_request(struct http_request *req)
{
	adapter_request_clear(req);
}

const struct channel_adapter tiktok_adapter = {
	.channel = "tiktok",
	.carrier_code = tt_carrier_code,
	.start_push = tt_start,
	.step = tt_step,
	.free_push = tt_free,
	.check_request = tt_check,
	.free_request = tt_free_request,
};
