/* woocommerce.c - the WooCommerce adapter (channels.md section 4):
 * WooCommerce Shipment Tracking (or AST, same body) first, then the order
 * status "completed", in that order, so the "Completed order" email
 * carries the tracking.
 *
 * Steps: GET the order (cancelled/refunded/failed -> manual), GET the
 * order's tracking list (no add-on -> manual; our number there -> skip the
 * POST), GET the store's provider names (ours by name, else a custom
 * provider with the tracking link), POST the tracking, DELETE the
 * previous number's item for a corrected number (the list stays one item
 * per parcel), PUT status completed unless it already is. POST tracking
 * is not idempotent (each call appends an item that shows in emails),
 * hence the list read on every attempt. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/util.h"
#include "dispatch/adapter_util.h"
#include "dispatch/channel_adapters.h"

/* Our carrier id -> the Shipment Tracking extension's provider name. */
static const struct adapter_carrier woo_carriers[] = {
	{ "usps", "USPS" },
	{ "ups", "UPS" },
	{ "fedex", "Fedex" },
	{ "dhl", "DHL US" },
	{ "dhl_ecommerce", "DHL eCommerce" },
	{ "royal_mail", "Royal Mail" },
	{ "canada_post", "Canada Post" },
	{ "australia_post", "Australia Post" },
	{ "ontrac", "OnTrac" },
	{ "lasership", "LaserShip" },
	{ "purolator", "Purolator" },
	{ "dpd", "DPD" },
	{ "evri", "Evri" },
	{ "postnl", "PostNL" },
	{ "deutsche_post", "Deutsche Post" },
	{ NULL, NULL },
};

enum woo_step {
	WOO_ORDER,
	WOO_LIST,
	WOO_PROVIDERS,
	WOO_POST,
	WOO_DELETE_PREV,
	WOO_COMPLETE,
};

struct push_state {
	enum woo_step step;
	char *base;         /* api_url */
	char *ns;           /* tracking namespace, "wc-shipment-tracking/v3" */
	char *order;        /* url-encoded order id */
	char *auth;         /* "Basic ..." or NULL (query auth) */
	char *query_auth;   /* "consumer_key=..&consumer_secret=.." or NULL */
	char *secret;       /* for secret_hint */
	char *tracking;
	char *previous;
	char *carrier;
	char *carrier_name;
	char *url;          /* tracking link, may be NULL */
	char *provider;     /* the store's provider name, once known */
	char *prev_id;      /* tracking_id of the previous number's item */
	char *status;       /* the order's status at the pre-read */
	bool complete;      /* settings complete_order (default true) */
	bool have_ours;
	char *ref;          /* our item's tracking_id */
	struct http_request req;
};

static const char *woo_carrier_code(const char *carrier_id)
{
	return adapter_carrier_find(woo_carriers, carrier_id);
}

static void woo_free(struct push_state *st)
{
	if (!st)
		return;
	adapter_request_clear(&st->req);
	free(st->base);
	free(st->ns);
	free(st->order);
	free(st->auth);
	free(st->query_auth);
	free(st->secret);
	free(st->tracking);
	free(st->previous);
	free(st->carrier);
	free(st->carrier_name);
	free(st->url);
	free(st->provider);
	free(st->prev_id);
	free(st->status);
	free(st->ref);
	free(st);
}

/* Credentials {"consumer_key","consumer_secret"}; settings "auth":
 * "basic" (default) or "query". Returns 0 or -EINVAL. */
static int woo_auth(const struct channel_store *store, char **auth_r,
		    char **query_r, char **secret_r)
{
	json_t *cred = adapter_json_object(store->credentials);
	json_t *set = adapter_json_object(store->settings_json);
	const char *key = adapter_json_str(cred, "consumer_key");
	const char *sec = adapter_json_str(cred, "consumer_secret");
	const char *mode = adapter_json_str(set, "auth");
	int rc = -22;

	*auth_r = *query_r = *secret_r = NULL;
	if (key && sec) {
		if (mode && strcmp(mode, "query") == 0) {
			_cleanup_free_ char *k = adapter_urlencode(key);
			_cleanup_free_ char *s = adapter_urlencode(sec);

			*query_r = xasprintf("consumer_key=%s&consumer_secret=%s",
					     k, s);
		} else {
			_cleanup_free_ char *pair = xasprintf("%s:%s", key, sec);
			_cleanup_free_ char *b64 =
				adapter_base64(pair, strlen(pair));

			*auth_r = xasprintf("Basic %s", b64);
		}
		*secret_r = xstrdup(sec);
		rc = 0;
	}
	json_decref(cred);
	json_decref(set);
	return rc;
}

static struct push_state *woo_start(const struct channel_store *store,
				    const struct push_request *req)
{
	struct push_state *st = xcalloc(1, sizeof(*st));
	json_t *set = adapter_json_object(store->settings_json);
	const char *ns = adapter_json_str(set, "tracking_namespace");
	json_t *complete = json_object_get(set, "complete_order");

	st->base = xstrdup(store->api_url ? store->api_url : "");
	st->ns = xstrdup(ns ? ns : "wc-shipment-tracking/v3");
	st->complete = !json_is_false(complete);
	json_decref(set);
	st->order = adapter_urlencode(req->channel_order ? req->channel_order
							 : "");
	st->tracking = xstrdup(req->tracking ? req->tracking : "");
	st->previous = req->previous_tracking
			       ? xstrdup(req->previous_tracking) : NULL;
	st->carrier = xstrdup(req->carrier ? req->carrier : "");
	st->carrier_name = xstrdup(req->carrier_name ? req->carrier_name
						     : st->carrier);
	st->url = adapter_tracking_url(req);
	if (woo_auth(store, &st->auth, &st->query_auth, &st->secret) < 0)
		st->step = (enum woo_step)-1;
	return st;
}

/* Builds a request to base + path (+ query auth). */
static void woo_request(struct push_state *st, const char *method,
			char *path, char *body)
{
	char *url = xasprintf("%s%s%s%s", st->base, path,
			      st->query_auth ? (strchr(path, '?') ? "&" : "?")
					     : "",
			      st->query_auth ? st->query_auth : "");

	free(path);
	adapter_request_set(&st->req, method, url, body, NULL);
	if (st->auth)
		adapter_request_header(&st->req, "Authorization", st->auth);
	st->req.secret_hint = st->secret;
}

static void woo_send(struct push_state *st, enum woo_step step,
		     struct http_request *next)
{
	st->step = step;
	switch (step) {
	case WOO_ORDER:
		woo_request(st, "GET", xasprintf("/wp-json/wc/v3/orders/%s",
						 st->order), NULL);
		break;
	case WOO_LIST:
		woo_request(st, "GET",
			    xasprintf("/wp-json/%s/orders/%s/shipment-trackings",
				      st->ns, st->order), NULL);
		break;
	case WOO_PROVIDERS:
		woo_request(st, "GET",
			    xasprintf("/wp-json/%s/shipment-trackings/providers",
				      st->ns), NULL);
		break;
	case WOO_POST: {
		json_t *b = json_object();

		if (st->provider) {
			json_object_set_new(b, "tracking_provider",
					    json_string(st->provider));
		} else {
			json_object_set_new(b, "custom_tracking_provider",
					    json_string(st->carrier_name));
			if (st->url)
				json_object_set_new(b, "custom_tracking_link",
						    json_string(st->url));
		}
		json_object_set_new(b, "tracking_number",
				    json_string(st->tracking));
		/* AST: do not let the add-on change the status (we do it,
		 * after), never replace other parcels' numbers. */
		json_object_set_new(b, "status_shipped", json_integer(0));
		json_object_set_new(b, "replace_tracking", json_integer(0));
		woo_request(st, "POST",
			    xasprintf("/wp-json/%s/orders/%s/shipment-trackings",
				      st->ns, st->order),
			    json_dumps(b, JSON_COMPACT));
		json_decref(b);
		break;
	}
	case WOO_DELETE_PREV: {
		_cleanup_free_ char *id = adapter_urlencode(st->prev_id);

		woo_request(st, "DELETE",
			    xasprintf("/wp-json/%s/orders/%s/"
				      "shipment-trackings/%s",
				      st->ns, st->order, id), NULL);
		break;
	}
	case WOO_COMPLETE:
		woo_request(st, "PUT", xasprintf("/wp-json/wc/v3/orders/%s",
						 st->order),
			    xstrdup("{\"status\":\"completed\"}"));
		break;
	}
	adapter_request_hand(&st->req, next);
}

/* Rule 0.3 for a WordPress error answer; never returns PUSH_CONTINUE. */
static enum push_verdict woo_error(struct push_state *st,
				   const struct http_answer *a,
				   const char *what, struct push_outcome *out)
{
	json_t *j = adapter_answer_json(a);
	const char *code = adapter_json_str(j, "code");
	char msg[160];
	enum push_verdict v;

	snprintf(msg, sizeof(msg), "%s", j && adapter_json_message(j)
		 ? adapter_json_message(j) : "");
	if (adapter_transient(a, what, out)) {
		v = PUSH_RETRY;
	} else if (code && strcmp(code, "rest_no_route") == 0 &&
		   st->step != WOO_ORDER) {
		v = adapter_rule(out, "no_tracking_addon",
			adapter_outcome(out, PUSH_MANUAL,
				    "%s: the site has no tracking add-on at "
				    "/wp-json/%s (rest_no_route): add the "
				    "number by hand", what, st->ns));
	} else if (a->status == 401 || (a->status == 403 && code)) {
		v = adapter_outcome(out, PUSH_DEAD,
				    "%s: credentials refused (HTTP %ld %s): "
				    "fix the store's consumer key", what,
				    a->status, code ? code : "");
	} else if (a->status == 403) {
		/* A host's WAF, not WooCommerce (no JSON code). */
		v = adapter_outcome(out, PUSH_RETRY, "%s: HTTP 403 from the "
				    "host (not WooCommerce)", what);
	} else if (a->status == 404) {
		v = adapter_outcome(out, PUSH_DEAD, "%s: order %s not found "
				    "(%s)", what, st->order, code ? code : "404");
	} else {
		v = adapter_rule(out, "validation_errors",
			adapter_outcome(out, PUSH_MANUAL, "%s: refused (HTTP %ld "
				    "%s: %s)", what, a->status,
				    code ? code : "", msg));
	}
	json_decref(j);
	return v;
}

/* Finds the store's spelling of our carrier among the providers
 * ({"Country":{"Name":"url"}}). */
static void woo_pick_provider(struct push_state *st, const json_t *j)
{
	const char *want = woo_carrier_code(st->carrier);
	const char *country, *name;
	json_t *names, *v;

	json_object_foreach((json_t *)j, country, names) {
		json_object_foreach(names, name, v) {
			if ((want && strcasecmp(name, want) == 0) ||
			    strcasecmp(name, st->carrier_name) == 0) {
				free(st->provider);
				st->provider = xstrdup(name);
				return;
			}
		}
	}
}

static enum push_verdict woo_after_list(struct push_state *st,
					struct http_request *next)
{
	if (!st->have_ours) {
		woo_send(st, WOO_PROVIDERS, next);
		return PUSH_CONTINUE;
	}
	if (st->prev_id) {
		woo_send(st, WOO_DELETE_PREV, next);
		return PUSH_CONTINUE;
	}
	return PUSH_DONE;
}

static enum push_verdict woo_finish(struct push_state *st,
				    struct http_request *next,
				    struct push_outcome *out)
{
	if (st->complete && strcmp(st->status, "completed") != 0) {
		woo_send(st, WOO_COMPLETE, next);
		return PUSH_CONTINUE;
	}
	snprintf(out->remote_ref, sizeof(out->remote_ref), "%s",
		 st->ref ? st->ref : "");
	return adapter_outcome(out, PUSH_DONE, "tracking %s on order %s%s",
			       st->provider ? "added" : "added (custom "
			       "provider)", st->order,
			       st->complete ? ", status completed" : "");
}

static enum push_verdict woo_step(struct push_state *st,
				  const struct http_answer *a,
				  struct http_request *next,
				  struct push_outcome *out)
{
	json_t *j;
	enum push_verdict v;

	if (st->step == (enum woo_step)-1)
		return adapter_outcome(out, PUSH_DEAD, "credentials need "
				       "consumer_key and consumer_secret "
				       "(JSON object)");
	if (!a) {
		woo_send(st, WOO_ORDER, next);
		return PUSH_CONTINUE;
	}
	switch (st->step) {
	case WOO_ORDER: {
		const char *status;

		if (a->status != 200)
			return woo_error(st, a, "read order", out);
		j = adapter_answer_json(a);
		status = adapter_json_str(j, "status");
		if (!status) {
			json_decref(j);
			return adapter_outcome(out, PUSH_RETRY, "read order: "
					       "no status in the answer");
		}
		st->status = xstrdup(status);
		json_decref(j);
		if (strcmp(st->status, "cancelled") == 0 ||
		    strcmp(st->status, "refunded") == 0 ||
		    strcmp(st->status, "failed") == 0 ||
		    strcmp(st->status, "trash") == 0)
			return adapter_outcome(out, PUSH_MANUAL, "order %s is "
					       "%s on WooCommerce", st->order,
					       st->status);
		woo_send(st, WOO_LIST, next);
		return PUSH_CONTINUE;
	}
	case WOO_LIST: {
		size_t i;
		json_t *item;

		if (a->status != 200)
			return woo_error(st, a, "read trackings", out);
		j = adapter_answer_json(a);
		if (!json_is_array(j)) {
			json_decref(j);
			return adapter_outcome(out, PUSH_RETRY, "read trackings:"
					       " the answer is not a list");
		}
		json_array_foreach(j, i, item) {
			const char *n = adapter_json_str(item, "tracking_number");
			const char *id = adapter_json_str(item, "tracking_id");

			if (!n)
				continue;
			if (strcmp(n, st->tracking) == 0 && !st->have_ours) {
				st->have_ours = true;
				st->ref = id ? xstrdup(id) : NULL;
			} else if (st->previous && id && !st->prev_id &&
				   strcmp(n, st->previous) == 0) {
				st->prev_id = xstrdup(id);
			}
		}
		json_decref(j);
		v = woo_after_list(st, next);
		return v == PUSH_DONE ? woo_finish(st, next, out) : v;
	}
	case WOO_PROVIDERS:
		if (a->status != 200)
			return woo_error(st, a, "read providers", out);
		j = adapter_answer_json(a);
		if (json_is_object(j))
			woo_pick_provider(st, j);
		json_decref(j);
		woo_send(st, WOO_POST, next);
		return PUSH_CONTINUE;
	case WOO_POST:
		if (a->status != 201 && a->status != 200)
			return woo_error(st, a, "add tracking", out);
		j = adapter_answer_json(a);
		if (adapter_json_str(j, "tracking_id")) {
			free(st->ref);
			st->ref = xstrdup(adapter_json_str(j, "tracking_id"));
		}
		json_decref(j);
		st->have_ours = true;
		v = woo_after_list(st, next);
		return v == PUSH_DONE ? woo_finish(st, next, out) : v;
	case WOO_DELETE_PREV:
		/* 404: already gone (a crash after the delete). */
		if (a->status != 200 && a->status != 404)
			return woo_error(st, a, "remove the old number", out);
		free(st->prev_id);
		st->prev_id = NULL;
		return woo_finish(st, next, out);
	case WOO_COMPLETE:
		if (a->status != 200)
			return woo_error(st, a, "set status completed", out);
		free(st->status);
		st->status = xstrdup("completed");
		return woo_finish(st, next, out);
	}
	return adapter_outcome(out, PUSH_DEAD, "internal: bad step");
}

static int woo_check(const struct channel_store *store,
		     struct http_request *req)
{
	_cleanup_free_ char *auth = NULL, *query = NULL, *secret = NULL;
	int rc;

	memset(req, 0, sizeof(*req));
	rc = woo_auth(store, &auth, &query, &secret);
	if (rc < 0)
		return rc;
	adapter_request_owned(req, "GET",
			      xasprintf("%s/wp-json/wc/v3/orders?per_page=1%s%s",
					store->api_url ? store->api_url : "",
					query ? "&" : "", query ? query : ""),
			      auth ? "Authorization" : NULL, auth);
	return 0;
}

static void woo_free_request(struct http_request *req)
{
	adapter_request_clear(req);
}

const struct channel_adapter woocommerce_adapter = {
	.channel = "woocommerce",
	.carrier_code = woo_carrier_code,
	.start_push = woo_start,
	.step = woo_step,
	.free_push = woo_free,
	.check_request = woo_check,
	.free_request = woo_free_request,
};
