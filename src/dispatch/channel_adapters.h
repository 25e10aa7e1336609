/* channel_adapters.h - the adapters of src/dispatch/ other than Shopify
 * (one file each, channels.md sections 3-10). adapter_find() in
 * adapter.c lists them; tests reach them through it. */
#ifndef TRACKMAIL_CHANNEL_ADAPTERS_H
#define TRACKMAIL_CHANNEL_ADAPTERS_H

#include "dispatch/adapter.h"

extern const struct channel_adapter woocommerce_adapter;
extern const struct channel_adapter etsy_adapter;
extern const struct channel_adapter ebay_adapter;
extern const struct channel_adapter bigcommerce_adapter;
extern const struct channel_adapter wix_adapter;
extern const struct channel_adapter amazon_adapter;
extern const struct channel_adapter walmart_adapter;
extern const struct channel_adapter tiktok_adapter;

#endif
