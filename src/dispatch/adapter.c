/* adapter.c - the table of channel adapters (adapter.h). One line per
 * adapter; channels without one are simply absent (their pushes go dead
 * with "no adapter for channel X"). */
#include "dispatch/adapter.h"

#include <string.h>

#include "dispatch/channel_adapters.h"

extern const struct channel_adapter shopify_adapter;

static const struct channel_adapter *const adapters[] = {
	&shopify_adapter,
	&woocommerce_adapter,
	&etsy_adapter,
	&ebay_adapter,
	&bigcommerce_adapter,
	&wix_adapter,
	&amazon_adapter,
	&walmart_adapter,
	&tiktok_adapter,
};

const struct channel_adapter *adapter_find(const char *channel)
{
	for (size_t i = 0; i < sizeof(adapters) / sizeof(*adapters); i++)
		if (strcmp(adapters[i]->channel, channel) == 0)
			return adapters[i];
	return NULL;
}
