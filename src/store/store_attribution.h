/* store_attribution.h - how each stored message was attributed to its
 * supplier; the supplier_drift view (store.c) counts template drift per
 * supplier (issue 8: the
 * supplier's own domain sent a mail none of its markers recognise). */
#ifndef TRACKMAIL_STORE_ATTRIBUTION_H
#define TRACKMAIL_STORE_ATTRIBUTION_H

#include <stdint.h>

#include "parse/parser.h"
#include "store/store.h"

/* Records (or replaces, when the message is re-decided) the attribution
 * of message msg_row. Nothing is written for a mail no supplier or
 * platform parser took. Returns 0 or -errno (store_error() says why). */
int store_attribution_record(struct store *store, int64_t msg_row,
			     const struct parse_result *r);

#endif
