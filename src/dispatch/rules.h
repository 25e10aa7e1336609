/* rules.h - per-channel push rules as data, overridable per store
 * (issue 10, channels.md section 12, docs/dispatch.md "Rules").
 *
 * Each channel has one table of rules with their defaults; a store's
 * settings JSON overrides one with the key "rules.<name>" (`trackmail
 * stores set NAME rules.<name> VALUE`). The dispatcher asks before the
 * first request (hold every push, hold an unknown carrier) and after an
 * adapter's verdict (what a tagged situation such as an FBA order
 * becomes). */
#ifndef TRACKMAIL_RULES_H
#define TRACKMAIL_RULES_H

#include <stdbool.h>
#include <stddef.h>

#include "dispatch/adapter.h"

struct push_rule {
	const char *name;
	const char *values;   /* the values it takes, ", "-separated */
	const char *what;     /* one line for errors and docs */
};

/* The rule named name (any channel), or NULL. */
const struct push_rule *rules_find(const char *name);

/* The channel's default for rule name, or NULL when the rule does not
 * apply to that channel. */
const char *rules_default(const char *channel, const char *name);

/* The value in force for store: its override, else the channel's
 * default (NULL when the rule does not apply). Copied to buf. */
const char *rules_value(const struct channel_store *store, const char *name,
			char *buf, size_t size);

/* Checks `stores set` of key "rules.<name>" to value for channel;
 * false with a message naming the known rules or values in err. */
bool rules_check_setting(const char *channel, const char *name,
			 const char *value, char *err, size_t size);

/* Before the first request: true when the push must be held for the
 * seller (out filled as PUSH_MANUAL with the rule in the reason).
 * known_carrier: the channel has a name or code for our carrier. */
bool rules_hold(const struct channel_store *store, bool known_carrier,
		const char *carrier, struct push_outcome *out);

/* After the adapter's verdict v for a tagged situation (out->rule):
 * the verdict the store's rule gives it. */
enum push_verdict rules_apply(const struct channel_store *store,
			      enum push_verdict v, struct push_outcome *out);

#endif
