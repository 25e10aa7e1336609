/* schema_org.h - schema.org ParcelDelivery markup (JSON-LD) as evidence.
 *
 * Some supplier mails carry Gmail's "parcel delivery" markup in a
 * <script type="application/ld+json"> block (rare after forwarding: Gmail
 * strips it). Each ParcelDelivery gives a tracking number, the carrier's
 * name and often the order number. */
#ifndef TRACKMAIL_SCHEMA_ORG_H
#define TRACKMAIL_SCHEMA_ORG_H

#include <stddef.h>

#include "mail/mail.h"
#include "parse/carrier.h"

struct schema_parcel {
	char number[CARRIER_NUMBER_MAX];
	char carrier[64]; /* as named in the markup, or "" */
	char order[64];   /* partOfOrder.orderNumber, or "" */
};

/* Fills up to max parcels from msg's JSON-LD blocks; returns how many.
 * Malformed JSON is skipped. */
size_t schema_org_parcels(const struct decoded_message *msg,
			  struct schema_parcel *out, size_t max);

#endif
