/* schema_org.c - ParcelDelivery markup; see schema_org.h. */
#include "parse/schema_org.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>

static const char *str_or_name(json_t *v)
{
	if (json_is_string(v))
		return json_string_value(v);
	if (json_is_object(v))
		return json_string_value(json_object_get(v, "name"));
	return NULL;
}

static void visit(json_t *node, struct schema_parcel *out, size_t max,
		  size_t *n, int depth)
{
	if (!node || depth > 8 || *n >= max)
		return;
	if (json_is_array(node)) {
		size_t i;
		json_t *v;
		json_array_foreach(node, i, v) visit(v, out, max, n, depth + 1);
		return;
	}
	if (!json_is_object(node))
		return;
	visit(json_object_get(node, "@graph"), out, max, n, depth + 1);
	const char *type = json_string_value(json_object_get(node, "@type"));
	if (!type || strcmp(type, "ParcelDelivery") != 0)
		return;
	const char *number =
		json_string_value(json_object_get(node, "trackingNumber"));
	if (!number || !*number)
		return;
	struct schema_parcel *p = &out[(*n)++];
	memset(p, 0, sizeof(*p));
	snprintf(p->number, sizeof(p->number), "%s", number);
	const char *carrier = str_or_name(json_object_get(node, "carrier"));
	if (!carrier)
		carrier = str_or_name(json_object_get(node, "provider"));
	if (carrier)
		snprintf(p->carrier, sizeof(p->carrier), "%s", carrier);
	json_t *order = json_object_get(node, "partOfOrder");
	const char *on = json_string_value(json_object_get(order, "orderNumber"));
	if (on)
		snprintf(p->order, sizeof(p->order), "%s", on);
}

size_t schema_org_parcels(const struct decoded_message *msg,
			  struct schema_parcel *out, size_t max)
{
	size_t n = 0;
	for (size_t i = 0; i < msg->n_jsonld && n < max; i++) {
		json_t *root = json_loads(msg->jsonld[i],
					  JSON_DECODE_ANY | JSON_REJECT_DUPLICATES,
					  NULL);
		visit(root, out, max, &n, 0);
		json_decref(root);
	}
	return n;
}
