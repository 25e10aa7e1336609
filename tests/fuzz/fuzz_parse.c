/* fuzz_parse.c - libFuzzer target over the whole decode + parse path:
 * mail_decode(), then parser_run() with every parser file of the project
 * loaded (supplier selection, events, extraction, carrier decisions,
 * the fallback scan, schema.org markup).
 *
 * Checks beyond "no crash": every shipment's number is a valid tracking
 * number with a decided carrier, a quarantined result has a reason, and a
 * shipped one has a shipment (the outcome contract of DESIGN.md).
 *
 * The parsers load once, on the first input, from FUZZ_PARSERS_DIR (set by
 * tests/fuzz/meson.build to the source tree's parsers/). */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mail/mail.h"
#include "parse/parser.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct parser_set *set;
static struct parser_matcher *matcher;

static void load(void)
{
	struct buf errors;
	buf_init(&errors, 1 << 20);
	if (parser_set_load_dir(FUZZ_PARSERS_DIR, &set, &errors) < 0 ||
	    parser_set_count(set) == 0) {
		fprintf(stderr, "fuzz_parse: no parsers in %s\n",
			FUZZ_PARSERS_DIR);
		abort();
	}
	buf_free(&errors);
	matcher = parser_matcher_new();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!set)
		load();
	char *raw = malloc(size + 16);
	if (raw == NULL)
		return 0;
	if (size)
		memcpy(raw, data, size);
	memset(raw + size, 0, 16);
	struct decoded_message *m = NULL;
	const char *reason = NULL;
	if (mail_decode(raw, size, &m, &reason) == 0) {
		struct parse_result r;
		parse_result_init(&r);
		parser_run(set, matcher, m, true, &r);
		if (r.outcome == OUTCOME_QUARANTINED && r.reason == NULL)
			abort();
		if (r.outcome == OUTCOME_SHIPPED && r.n_shipments == 0)
			abort();
		for (size_t i = 0; i < r.n_shipments; i++) {
			const struct shipment *s = &r.shipments[i];
			if (!s->carrier_id || !s->decision.check.valid)
				abort();
		}
		parse_result_clear(&r);
		mail_free(&m);
	}
	free(raw);
	return 0;
}
