/* adapter.h - one selling channel behind one small interface (issue 10).
 *
 * The dispatcher (dispatch.c) owns the outbox, retries, backoff and the
 * libcurl multi handle; an adapter only knows its channel's API
 * (../shared/channels.md): how to build each request and how to read
 * each answer. Adapters never block and never sleep: they describe HTTP
 * requests, the dispatcher runs them concurrently and hands the answers
 * back. A push is a small state machine driven by step():
 *
 *   step(push, NULL)           -> first request (usually the pre-read of
 *                                 what the channel already has)
 *   step(push, &answer)        -> next request, or a final verdict
 *
 * Exactly once: before writing, an adapter reads what the channel has;
 * "already fulfilled" is success only when a re-read shows our number. */
#ifndef TRACKMAIL_ADAPTER_H
#define TRACKMAIL_ADAPTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The store's credentials and settings, as the dispatcher loaded them. */
struct channel_store {
	int64_t id;
	const char *name;
	const char *channel;       /* "shopify", "ebay", ... */
	const char *api_url;       /* base URL, no trailing slash */
	const char *ca_file;       /* NULL: system CAs */
	const char *credentials;   /* the token or the JSON object, secret */
	const char *settings_json; /* per-store settings and rule overrides */
};

/* One line of a seller order and the quantity to fulfil. */
struct push_line {
	const char *line_id;
	int quantity;
};

/* What to push: one shipment for one seller order. */
struct push_request {
	int64_t outbox_id;
	const char *channel_order;  /* the channel's order id */
	const struct push_line *lines;
	size_t n_lines;             /* 0: every remaining line */
	const char *tracking;       /* the number */
	const char *carrier;        /* our carrier id (carrier.h) */
	const char *carrier_name;   /* its display name */
	const char *tracking_url;   /* may be NULL */
	const char *previous_tracking; /* set: a corrected number, update */
	const char *remote_ref;     /* what an earlier attempt recorded
				     * (fulfilment id ...), or NULL */
};

struct http_header {
	const char *name;
	const char *value;
};

/* A request the adapter wants sent. Strings owned by the adapter's push
 * state until the next step() or free_push(). */
struct http_request {
	const char *method;         /* "GET", "POST", "PUT" */
	char *url;
	struct http_header headers[8];
	size_t n_headers;
	char *body;                 /* NULL: none */
	const char *secret_hint;    /* never logged: the dispatcher masks it */
};

struct http_answer {
	long status;                /* 0: no answer (timeout, refused) */
	const char *body;
	size_t body_len;
	const char *retry_after;    /* Retry-After header, or NULL */
	const char *error;          /* transport error text, or NULL */
};

enum push_verdict {
	PUSH_CONTINUE,  /* send *next */
	PUSH_DONE,      /* the channel shows our number */
	PUSH_RETRY,     /* transient: retry later (retry_after_s if > 0) */
	PUSH_MANUAL,    /* cannot be pushed: a person must (reason says why) */
	PUSH_DEAD,      /* a fix is needed (reason says which) */
};

struct push_outcome {
	enum push_verdict verdict;
	char reason[256];           /* no secret in it */
	long retry_after_s;
	char remote_ref[128];       /* fulfilment/shipment id to keep */
	const char *rule;           /* the situation's rule (rules.h), or
				     * NULL: a store may change the verdict */
};

struct push_state;

struct channel_adapter {
	const char *channel;
	/* The channel's carrier code or name for our carrier id, or NULL
	 * when it has none (then "other" + URL where allowed, else manual). */
	const char *(*carrier_code)(const char *carrier_id);
	struct push_state *(*start_push)(const struct channel_store *store,
					 const struct push_request *req);
	/* answer NULL on the first call. Fills *next when returning
	 * PUSH_CONTINUE, else *out. */
	enum push_verdict (*step)(struct push_state *st,
				  const struct http_answer *answer,
				  struct http_request *next,
				  struct push_outcome *out);
	void (*free_push)(struct push_state *st);
	/* stores check: one read-only request proving the credentials. */
	int (*check_request)(const struct channel_store *store,
			     struct http_request *req);
	void (*free_request)(struct http_request *req);
};

/* The adapter for a channel name, or NULL. */
const struct channel_adapter *adapter_find(const char *channel);

#endif
