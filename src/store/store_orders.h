/* store_orders.h - the dispatch side of the store (issue 10): stores on
 * selling channels, seller orders and their links to supplier orders, and
 * the outbox of pushes (docs/dispatch.md). The push of a new shipment is
 * written by a trigger in the transaction that stores the shipment.
 *
 * Same conventions as store.h: 0 or -errno, store_error() for the text.
 * Credentials are only ever returned by store_channel_get(); no listing
 * function reads them. */
#ifndef TRACKMAIL_STORE_ORDERS_H
#define TRACKMAIL_STORE_ORDERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store/store.h"

/* The normalized supplier order number as SQL: lower case, without
 * dashes, spaces and invisible marks (soft hyphen, zero-width space,
 * joiners, word joiner, BOM, no-break space, en/em dash, hyphen). */
#define STORE_ORDER_NORM(x) \
	"lower(replace(replace(replace(replace(replace(replace(replace(" \
	"replace(replace(replace(replace(replace(" x ", '-', ''), ' ', ''),"\
	" char(9), ''), char(160), ''), char(173), ''), char(8203), ''),"  \
	" char(8204), ''), char(8205), ''), char(8288), ''),"              \
	" char(65279), ''), char(8208), ''), char(8211), ''))"

struct store_channel {
	int64_t id;
	int64_t account_id;
	char name[128];
	char channel[32];
	char *api_url;
	char *ca_file;      /* NULL: system CAs */
	char *credentials;  /* secret; NULL unless with_secret */
	char *settings;     /* JSON object */
};
void store_channel_clear(struct store_channel *c);

int store_channel_add(struct store *store, int64_t account_id,
		      const char *name, const char *channel,
		      const char *api_url, const char *ca_file,
		      const char *credentials);
/* -ENOENT when absent. credentials only filled when with_secret. */
int store_channel_get(struct store *store, const char *name, bool with_secret,
		      struct store_channel *out);
int store_channel_each(struct store *store,
		       void (*fn)(const struct store_channel *c, void *ctx),
		       void *ctx);
/* Sets settings[key] = value (a JSON value text, or a string). */
int store_channel_set(struct store *store, const char *name, const char *key,
		      const char *json_value);
int store_channel_set_credentials(struct store *store, const char *name,
				  const char *credentials);

struct store_line {
	const char *line_id;
	int quantity;
};
/* Adds seller order (or finds it: same store and channel order) and links
 * it to (supplier, supplier order). Returns 1 added, 0 the link existed.
 * Waiting pushes of that supplier order become due (trigger). */
int store_order_add(struct store *store, int64_t store_id,
		    const char *channel_order, const char *supplier,
		    const char *supplier_order, const struct store_line *lines,
		    size_t n_lines, int64_t *id_r);

struct store_order_row {
	int64_t id;
	const char *store;
	const char *channel;
	const char *channel_order;
	const char *supplier;
	const char *supplier_order; /* several joined with ", " */
	const char *status;
	const char *tracking;       /* pushed numbers, ", ", or "" */
};
/* status NULL: all; id 0: all. */
int store_order_each(struct store *store, const char *status, int64_t id,
		     void (*fn)(const struct store_order_row *o, void *ctx),
		     void *ctx);

/* The outbox. */
struct store_push {
	int64_t id;
	const char *state;
	int attempts;
	int64_t next_at;
	const char *last_error;
	const char *remote_ref;
	const char *previous_tracking;
	int64_t store_id;
	const char *store;          /* NULL while awaiting_order */
	const char *channel;
	const char *channel_order;
	const char *tracking;
	const char *carrier;
	const char *supplier;
	const char *supplier_order;
	int64_t seller_order_id;
};
/* states: NULL all, else a comma-free state name. */
int store_push_each(struct store *store, const char *state,
		    void (*fn)(const struct store_push *p, void *ctx),
		    void *ctx);
/* The push with this id (fn not called when there is none). */
int store_push_one(struct store *store, int64_t id,
		   void (*fn)(const struct store_push *p, void *ctx),
		   void *ctx);
/* Pushes that may be sent now (due, or sent ones orphaned by a crash:
 * the caller holds the dispatch lock), at most limit, oldest first. */
int store_push_due(struct store *store, int64_t now, int limit,
		   void (*fn)(const struct store_push *p, void *ctx),
		   void *ctx);
/* The lines of a seller order. */
int store_push_lines(struct store *store, int64_t seller_order_id,
		     void (*fn)(const char *line_id, int qty, void *ctx),
		     void *ctx);
/* Records 'sent' and what is being sent (no secret), before sending;
 * lease_until keeps this process from picking it again meanwhile. */
int store_push_sent(struct store *store, int64_t id, const char *request,
		    int64_t lease_until);
/* Under the dispatch lock: 'sent' rows are orphans of a process that
 * died; they become pickable now (the adapter re-reads first). */
int store_push_reclaim(struct store *store, int64_t now);
/* The earliest next_at of a due or sent push: 1 and *t_r, 0 none. */
int store_push_next_at(struct store *store, int64_t *t_r);
/* Final or retry state: state is due (retry at next_at), done, manual or
 * dead. error and remote_ref may be NULL. */
int store_push_finish(struct store *store, int64_t id, const char *state,
		      int64_t next_at, const char *error,
		      const char *remote_ref);
/* manual/dead -> due. id 0: all. Returns the number of rows. */
int store_push_retry(struct store *store, int64_t id);

/* Tracking conversion (docs/dispatch.md): one row per push, success
 * (carrier and number set) or failure (reason set). The original stays
 * on the shipment. */
struct store_conversion {
	char carrier[64];  /* "" when the conversion failed */
	char number[128];
};
/* 1 and *out when the push has a recorded conversion, 0 when none. */
int store_conversion_get(struct store *store, int64_t push_id,
			 struct store_conversion *out);
int store_conversion_add(struct store *store, int64_t push_id,
			 const char *provider, const char *orig_carrier,
			 const char *orig_number, const char *carrier,
			 const char *number, double cost,
			 const char *currency, const char *reason);

#endif
