/* rules.c - per-channel push rules as data (rules.h, docs/dispatch.md
 * "Rules"). A static table rather than a file shipped beside the
 * parsers: every rule names a situation an adapter detects in code (an
 * FBA order, a WFS line), so a new rule always needs code; the table is
 * checked by the compiler, needs no file at run time, and `stores set`
 * validates against it without reading anything. What the seller wants
 * changed lives in the store's settings, not in the table. */
#include "dispatch/rules.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>

static const struct push_rule all_rules[] = {
	{ "hold_all", "on, off",
	  "on: every push waits on the manual list for review" },
	{ "unknown_carrier", "other, hold",
	  "a carrier the channel has no name for: other + tracking URL, or "
	  "hold for the seller" },
	{ "validation_errors", "manual, dead",
	  "the channel refused the push as invalid" },
	{ "fba_orders", "manual, dead", "Amazon order fulfilled by Amazon" },
	{ "wfs_lines", "manual, dead", "Walmart line fulfilled by Walmart" },
	{ "other_app_fulfillment", "manual, dead",
	  "Shopify fulfillment order owned by another app" },
	{ "no_tracking_addon", "manual, dead",
	  "WooCommerce site without a tracking add-on" },
};

struct rule_default {
	const char *name;
	const char *value;
};

/* One table per channel: the rules that apply there and their defaults
 * (channels.md section 12, "unknown carrier" column and the manual
 * update triggers). */
#define COMMON \
	{ "hold_all", "off" }, { "validation_errors", "manual" }
static const struct rule_default shopify_rules[] = {
	COMMON, { "unknown_carrier", "other" },
	{ "other_app_fulfillment", "manual" }, { NULL, NULL } };
static const struct rule_default amazon_rules[] = {
	COMMON, { "unknown_carrier", "other" }, { "fba_orders", "manual" },
	{ NULL, NULL } };
static const struct rule_default walmart_rules[] = {
	COMMON, { "unknown_carrier", "other" }, { "wfs_lines", "manual" },
	{ NULL, NULL } };
static const struct rule_default woocommerce_rules[] = {
	COMMON, { "unknown_carrier", "other" },
	{ "no_tracking_addon", "manual" }, { NULL, NULL } };
static const struct rule_default other_rules[] = {
	COMMON, { "unknown_carrier", "other" }, { NULL, NULL } };
/* TikTok takes provider ids only: no "other" to fall back on. */
static const struct rule_default tiktok_rules[] = {
	COMMON, { "unknown_carrier", "hold" }, { NULL, NULL } };

static const struct {
	const char *channel;
	const struct rule_default *rules;
} channel_rules[] = {
	{ "shopify", shopify_rules },	  { "amazon", amazon_rules },
	{ "walmart", walmart_rules },	  { "woocommerce", woocommerce_rules },
	{ "ebay", other_rules },	  { "etsy", other_rules },
	{ "bigcommerce", other_rules },	  { "wix", other_rules },
	{ "tiktok", tiktok_rules },
};

const struct push_rule *rules_find(const char *name)
{
	for (size_t i = 0; i < sizeof(all_rules) / sizeof(all_rules[0]); i++)
		if (strcmp(all_rules[i].name, name) == 0)
			return &all_rules[i];
	return NULL;
}

const char *rules_default(const char *channel, const char *name)
{
	for (size_t i = 0; i < sizeof(channel_rules) / sizeof(channel_rules[0]);
	     i++) {
		if (strcmp(channel_rules[i].channel, channel) != 0)
			continue;
		for (const struct rule_default *d = channel_rules[i].rules;
		     d->name; d++)
			if (strcmp(d->name, name) == 0)
				return d->value;
	}
	return NULL;
}

/* value is one of the comma-separated values. */
static bool takes(const struct push_rule *r, const char *value)
{
	size_t n = strlen(value);
	for (const char *p = r->values; *p;) {
		size_t len = strcspn(p, ",");
		if (len == n && strncmp(p, value, n) == 0)
			return true;
		p += len;
		while (*p == ',' || *p == ' ')
			p++;
	}
	return false;
}

const char *rules_value(const struct channel_store *store, const char *name,
			char *buf, size_t size)
{
	const char *def = rules_default(store->channel, name);
	if (!def)
		return NULL;
	snprintf(buf, size, "%s", def);
	json_t *s = json_loads(store->settings_json ? store->settings_json
						    : "{}", 0, NULL);
	char key[64];
	snprintf(key, sizeof(key), "rules.%s", name);
	const char *v = json_string_value(json_object_get(s, key));
	const struct push_rule *r = rules_find(name);
	if (v && r && takes(r, v))
		snprintf(buf, size, "%s", v);
	json_decref(s);
	return buf;
}

bool rules_check_setting(const char *channel, const char *name,
			 const char *value, char *err, size_t size)
{
	const struct push_rule *r = rules_find(name);
	if (!r || !rules_default(channel, name)) {
		size_t len = (size_t)snprintf(err, size,
			"unknown rule '%s' for channel %s; rules:", name,
			channel);
		for (size_t i = 0; i < sizeof(all_rules) / sizeof(all_rules[0]);
		     i++)
			if (rules_default(channel, all_rules[i].name) &&
			    len < size)
				len += (size_t)snprintf(err + len, size - len,
							" %s",
							all_rules[i].name);
		return false;
	}
	if (!takes(r, value)) {
		snprintf(err, size, "rule %s takes %s, not '%s' (%s)", name,
			 r->values, value, r->what);
		return false;
	}
	return true;
}

bool rules_hold(const struct channel_store *store, bool known_carrier,
		const char *carrier, struct push_outcome *out)
{
	char v[32];
	const char *hold = rules_value(store, "hold_all", v, sizeof(v));
	if (hold && strcmp(hold, "on") == 0) {
		out->verdict = PUSH_MANUAL;
		snprintf(out->reason, sizeof(out->reason),
			 "held for review (rules.hold_all on for store %s)",
			 store->name);
		return true;
	}
	const char *unk = rules_value(store, "unknown_carrier", v, sizeof(v));
	if (!known_carrier && unk && strcmp(unk, "hold") == 0) {
		out->verdict = PUSH_MANUAL;
		snprintf(out->reason, sizeof(out->reason),
			 "%s has no carrier name for %s (rules.unknown_carrier "
			 "hold): add the number by hand",
			 store->channel, carrier);
		return true;
	}
	return false;
}

enum push_verdict rules_apply(const struct channel_store *store,
			      enum push_verdict v, struct push_outcome *out)
{
	if (!out->rule || (v != PUSH_MANUAL && v != PUSH_DEAD))
		return v;
	char buf[32];
	const char *val = rules_value(store, out->rule, buf, sizeof(buf));
	enum push_verdict to = !val ? v
			       : strcmp(val, "dead") == 0 ? PUSH_DEAD
							  : PUSH_MANUAL;
	if (to != v) {
		size_t len = strlen(out->reason);
		snprintf(out->reason + len, sizeof(out->reason) - len,
			 " (rules.%s %s)", out->rule, val);
	}
	out->verdict = to;
	return to;
}
