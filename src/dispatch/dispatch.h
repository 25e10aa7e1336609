/* dispatch.h - the outbox worker (issue 10, docs/dispatch.md): sends due
 * pushes through their channel's adapter with libcurl's multi interface,
 * concurrently, with timeouts, retries with exponential backoff and
 * jitter, Retry-After and per-store throttle pauses, and dead letters.
 *
 * Exactly once: a push is recorded 'sent' before its first request; the
 * adapter always pre-reads the channel, so a push left 'sent' by a crash
 * is re-read, never blindly pushed a second time. One dispatcher per data
 * dir (an flock on <data_dir>/dispatch.lock). */
#ifndef TRACKMAIL_DISPATCH_H
#define TRACKMAIL_DISPATCH_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>

#include "dispatch/adapter.h"
#include "store/store.h"
#include "store/store_orders.h"

struct dispatch_opts {
	bool once;            /* send what is due, wait, return */
	long timeout_ms;      /* per request (default 30000) */
	int concurrency;      /* requests in flight (default 16) */
	int max_attempts;     /* then dead (default 8) */
	long once_horizon_s;  /* --once waits for retries due within this */
	/* Set from a SIGTERM handler (the `dispatch` process of serve):
	 * start nothing new, wait for the requests in flight, return. */
	volatile sig_atomic_t *stop;
};

struct dispatch_stats {
	long done, manual, dead, retry;
};

/* Runs the dispatcher on store until (once) nothing is due within the
 * horizon, or forever. Returns 0, or <0 when it cannot run (the reason
 * printed to stderr). */
int dispatch_run(struct store *store, const char *data_dir,
		 const struct dispatch_opts *o, struct dispatch_stats *stats);

/* Wakes a running dispatcher of data_dir: one datagram to
 * <data_dir>/dispatch.sock (DESIGN.md "Processes"). Never blocks, never
 * fails: a lost wake-up only waits for the dispatcher's poll (5 s). */
void dispatch_wake(const char *data_dir);

/* `stores check`: the adapter's read-only request, sent once. Returns 0
 * when the channel accepted the credentials, else -1 with msg set (no
 * secret in it). */
int dispatch_check(const struct store_channel *c, char *msg, size_t size);

/* One request, blocking (CLI commands such as `orders sync`): 0 and the
 * status and body (malloc'ed), or <0 (refused URL, no answer). */
int dispatch_http(const struct channel_store *cs, const struct http_request *rq,
		  long timeout_ms, long *status_r, char **body_r);

/* `orders sync` for Shopify (shopify_sync.c): reads the open orders and
 * the supplier order number from the note attribute or metafield the
 * store's `sync` setting names; calls fn for each. Returns the number of
 * orders read, or <0 with msg set. */
int shopify_sync(const struct channel_store *cs,
		 void (*fn)(const char *channel_order, const char *supplier,
			    const char *supplier_order, void *ctx),
		 void *ctx, char *msg, size_t size);

/* true for https:// URLs, and http:// to a loopback address only. */
bool dispatch_url_allowed(const char *url);

/* The channel_store view of a loaded store row. */
void dispatch_channel_store(const struct store_channel *c,
			    struct channel_store *out);

#endif
