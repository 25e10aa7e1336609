/* shopify_sync.c - `orders sync STORE` for Shopify: the supplier order
 * number of each open order, read from a note attribute (order
 * customAttributes) or a metafield, as the store's `sync` setting names:
 *   {"attribute": "supplier_order", "supplier": "aliexpress"}
 *   {"metafield": "custom.supplier_order", "supplier": "aliexpress"}
 * Read-only: GraphQL `orders(first: 50, after:, query:
 * "fulfillment_status:unfulfilled")`, page by page. */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "dispatch/dispatch.h"

#define SYNC_MAX_PAGES 200

static const char sync_q[] =
	"query($cursor: String, $ns: String!, $key: String!) { orders(first: "
	"50, after: $cursor, query: \"fulfillment_status:unfulfilled\") { "
	"pageInfo { hasNextPage endCursor } nodes { id customAttributes { key "
	"value } metafield(namespace: $ns, key: $key) { value } } } }";

int shopify_sync(const struct channel_store *cs,
		 void (*fn)(const char *channel_order, const char *supplier,
			    const char *supplier_order, void *ctx),
		 void *ctx, char *msg, size_t size)
{
	json_t *settings = json_loads(cs->settings_json ? cs->settings_json
							: "{}",
				      0, NULL);
	json_t *sync = json_object_get(settings, "sync");
	const char *attr = json_string_value(json_object_get(sync,
							     "attribute"));
	const char *mf = json_string_value(json_object_get(sync, "metafield"));
	const char *supplier = json_string_value(json_object_get(sync,
								 "supplier"));
	const char *version = json_string_value(json_object_get(settings,
								"api_version"));
	const char *dot = mf ? strchr(mf, '.') : NULL;
	if ((!attr && !dot) || !supplier) {
		snprintf(msg, size, "store %s: set `sync` first, e.g. stores "
			 "set %s sync '{\"attribute\": \"supplier_order\", "
			 "\"supplier\": \"aliexpress\"}' (or \"metafield\": "
			 "\"namespace.key\")", cs->name, cs->name);
		json_decref(settings);
		return -EINVAL;
	}
	char *ns = dot ? xstrndup(mf, (size_t)(dot - mf)) : xstrdup("custom");
	const char *key = dot ? dot + 1 : "supplier_order";
	char *url = xasprintf("%s/admin/api/%s/graphql.json", cs->api_url,
			      version ? version : "2026-10");
	char *cursor = NULL;
	int count = 0, r = 0;
	for (int page = 0; page < SYNC_MAX_PAGES; page++) {
		json_t *vars = json_pack("{s:s, s:s}", "ns", ns, "key", key);
		if (cursor)
			json_object_set_new(vars, "cursor", json_string(cursor));
		json_t *payload = json_pack("{s:s, s:o}", "query", sync_q,
					    "variables", vars);
		struct http_request rq = {
			.method = "POST",
			.url = url,
			.headers = { { "X-Shopify-Access-Token",
				       cs->credentials },
				     { "Content-Type", "application/json" } },
			.n_headers = 2,
			.body = json_dumps(payload, JSON_COMPACT),
		};
		json_decref(payload);
		long status;
		char *body;
		r = dispatch_http(cs, &rq, 30000, &status, &body);
		free(rq.body);
		json_t *root = body ? json_loads(body, 0, NULL) : NULL;
		free(body);
		json_t *orders = json_object_get(json_object_get(root, "data"),
						 "orders");
		if (r < 0 || status != 200 || !json_is_object(orders)) {
			snprintf(msg, size, "store %s: Shopify answered HTTP "
				 "%ld%s", cs->name, status,
				 status == 200 ? " without orders (THROTTLED "
						 "or an error: try again)"
					       : "");
			json_decref(root);
			r = -EIO;
			break;
		}
		size_t i;
		json_t *o;
		json_array_foreach(json_object_get(orders, "nodes"), i, o) {
			const char *gid = json_string_value(
				json_object_get(o, "id"));
			const char *num = NULL;
			if (attr) {
				size_t k;
				json_t *a;
				json_array_foreach(json_object_get(
							   o, "customAttributes"),
						   k, a) {
					const char *kk = json_string_value(
						json_object_get(a, "key"));
					if (kk && strcmp(kk, attr) == 0)
						num = json_string_value(
							json_object_get(a,
									"value"));
				}
			} else {
				num = json_string_value(json_object_get(
					json_object_get(o, "metafield"),
					"value"));
			}
			const char *slash = gid ? strrchr(gid, '/') : NULL;
			if (!slash || !num || !*num)
				continue;
			fn(slash + 1, supplier, num, ctx);
			count++;
		}
		json_t *pi = json_object_get(orders, "pageInfo");
		free(cursor);
		cursor = NULL;
		const char *end = json_string_value(json_object_get(pi,
								    "endCursor"));
		if (json_is_true(json_object_get(pi, "hasNextPage")) && end)
			cursor = xstrdup(end);
		json_decref(root);
		if (!cursor)
			break;
	}
	free(cursor);
	free(url);
	free(ns);
	json_decref(settings);
	return r < 0 ? r : count;
}
