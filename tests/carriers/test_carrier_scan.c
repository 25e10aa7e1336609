/* test_carrier_scan.c - the fallback scanner: mails full of decoys (order
 * numbers, phones, ZIP codes, prices, dates, SKUs, coupon and invoice
 * codes) beside one real number yield exactly that number; mails without
 * a trustworthy number yield nothing; the scanner never reads past len. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "gen.h"
#include "parse/carrier.h"

static const char decoys_en[] =
	"Hi Jane,\n\nThanks for your order #112-1234567-1234567 placed on "
	"2024-03-15 (03/15/2024).\nOrder total: $1,234.56 (USD 1234.56), "
	"tax $98.76.\nQuestions? Call 1-800-555-0199 or +1 (555) 123-4567, "
	"fax 555.987.6543.\nShip to: 1600 Amphitheatre Pkwy, Mountain View, "
	"CA 94043-1351\nItem: Blue Widget  SKU: WID-BLU-00042  ASIN "
	"B08N5WRWNW  UPC 012345678905  qty 2\nModel: XJ-9000  Serial "
	"SN1234567890123\nUse coupon SAVE20NOW or code WELCOME2024 for 20%% "
	"off. Gift card 6006491234567890123.\nInvoice INV-2024-000123456, "
	"account 100234567890, customer ID 9876543210.\nOrder number: "
	"98765432109876 | Reference: 4400123456789012\n";

static const char decoys_de[] =
	"Bestellnummer: 302-7654321-7654321 vom 15.03.2024\nSumme: 1.234,56 "
	"EUR\nTelefon: +49 30 1234567-0, PLZ 10115 Berlin\nArtikelnummer "
	"4006381333931, Gutscheincode SOMMER24, Rechnung RE-2024-00042\n";

static const char decoys_es_fr_zh[] =
	"N\xc3\xbamero de pedido: 4011-2233-4455 Fecha 15/03/2024 Total "
	"1.234,56 \xe2\x82\xac Tel\xc3\xa9" "fono 912 345 678\nNum\xc3\xa9ro "
	"de commande : 123456789012 T\xc3\xa9l : 01 23 45 67 89\n"
	"\xe8\xae\xa2\xe5\x8d\x95\xe5\x8f\xb7\xef\xbc\x9a"
	"8123456789012345678 \xe9\x87\x91\xe9\xa2\x9d \xc2\xa5" "199.00\n";

static size_t scan(const char *text, const char *const *links,
		   size_t n_links, struct carrier_found *f, size_t max)
{
	/* An exact-size copy: ASan catches any read past len. */
	size_t len = strlen(text);
	char *copy = malloc(len ? len : 1);
	size_t n;

	assert_non_null(copy);
	memcpy(copy, text, len);
	n = carrier_scan(copy, len, links, n_links, f, max);
	free(copy);
	return n;
}

static void expect_one(const char *text, const char *number,
		       const char *carrier)
{
	struct carrier_found f[8];
	size_t n = scan(text, NULL, 0, f, 8);

	if (n != 1) {
		for (size_t i = 0; i < n; i++)
			printf("# found %s (%s)\n",
			       f[i].decision.check.normalized, f[i].how);
		fail_msg("%zu numbers found, want exactly %s", n, number);
	}
	assert_string_equal(f[0].decision.check.normalized, number);
	if (carrier)
		assert_string_equal(carrier_id(f[0].decision.carrier),
				    carrier);
}

struct placement {
	const char *before; /* text before the number */
	const char *after;
};

static void decoys_never_pass(void **state)
{
	static const struct placement where[] = {
		{ "Tracking number: ", "\n" },
		{ "Your package is on its way!\nTracking #", " (UPS)\n" },
		{ "Sendungsnummer: ", "\n" },
		{ "N\xc3\xbamero de seguimiento: ", "\n" },
		{ "N\xc2\xb0 de suivi : ", "\n" },
		{ "\xe8\xbf\x90\xe5\x8d\x95\xe5\x8f\xb7\xef\xbc\x9a", "\n" },
		{ "Shipped! ", " is on its way.\n" },
	};
	const char *const decoy_sets[] = { decoys_en, decoys_de,
					   decoys_es_fr_zh };
	struct rng r = { 1234 };
	char text[4096], num[64];
	size_t runs = 0;

	(void)state;
	for (size_t s = 0; s < N_SCHEMES; s++) {
		const struct scheme *sc = &schemes[s];

		for (size_t w = 0; w < sizeof(where) / sizeof(where[0]); w++) {
			const char *d = decoy_sets[(s + w) % 3];
			bool unlabelled = w == 6;
			struct carrier_check c;

			gen_number(sc, &r, num);
			carrier_check(num, strlen(num), &c);
			/* Unlabelled, only distinctive numbers count. */
			if (unlabelled && !c.distinctive)
				continue;
			snprintf(text, sizeof(text), "%s%s%s%s%s", d,
				 where[w].before, num, where[w].after, d);
			expect_one(text, num, NULL);
			runs++;
		}
	}
	printf("# %zu decoy mails, each yielded exactly its one number\n",
	       runs);
}

static void spaced_and_named_numbers(void **state)
{
	char text[2048];

	(void)state;
	snprintf(text, sizeof(text), "%sShipped with USPS\nTracking "
		 "number: 9400 1112 0620 6406 2607 87\n%s", decoys_en,
		 decoys_de);
	expect_one(text, "9400111206206406260787", "usps");
	snprintf(text, sizeof(text), "%sCarrier: Amazon Logistics\n"
		 "Tracking ID: TBA304958172615\n", decoys_en);
	expect_one(text, "TBA304958172615", "amazon");
	snprintf(text, sizeof(text), "%sFedEx: 986578788855\n", decoys_en);
	expect_one(text, "986578788855", "fedex");
}

static void nothing_trustworthy_nothing_found(void **state)
{
	static const char *const texts[] = {
		decoys_en, decoys_de, decoys_es_fr_zh,
		"Tracking number will follow in a separate email. Order "
		"112-1234567-1234567, call 1-800-555-0199.",
		"Tracking: not available yet 18005550199",
		"Order 1Z999AA10123456785 (bad check digit)",
		"SKU AB123456785CN",
		"Coupon code: LB123456785CN",
		"",
	};
	struct carrier_found f[4];

	(void)state;
	for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		size_t n = scan(texts[i], NULL, 0, f, 4);

		if (n)
			fail_msg("text %zu: found %s", i,
				 f[0].decision.check.normalized);
	}
}

static void links_and_bounds(void **state)
{
	static const char *const links[] = {
		"https://www.fedex.com/fedextrack/?trknbr=986578788855",
		"https://shop.example/orders/112-1234567-1234567",
	};
	static const char cut[] = "Tracking number: 1Z999AA10123456784";
	struct carrier_found f[4];
	struct rng r = { 99 };
	char *junk;
	size_t n;

	(void)state;
	n = scan(decoys_en, links, 2, f, 4);
	assert_int_equal(n, 1);
	assert_string_equal(f[0].how, "link");
	assert_string_equal(carrier_id(f[0].decision.carrier), "fedex");

	/* The number cut by len is not found, and nothing past len is read
	 * (the copy has no NUL). */
	junk = malloc(sizeof(cut) - 2);
	assert_non_null(junk);
	memcpy(junk, cut, sizeof(cut) - 2);
	assert_int_equal(carrier_scan(junk, sizeof(cut) - 2, NULL, 0, f, 4),
			 0);
	free(junk);
	assert_int_equal(carrier_scan(cut, sizeof(cut) - 1, NULL, 0, f, 0),
			 0);
	assert_int_equal(carrier_scan(NULL, 0, NULL, 0, f, 4), 0);

	/* Random bytes and label soup: no crash, no over-read. */
	for (int k = 0; k < 200; k++) {
		size_t len = 1 + rng_next(&r) % 3000;
		static const char *const bits[] = {
			"Tracking number: ", "1Z", "9400", " ", "-", "\n",
			"https://ups.com/track?tracknum=", "%", "LB", "CN",
			"\xe8\xbf\x90\xe5\x8d\x95\xe5\x8f\xb7", "\xc2", "UPS",
		};

		junk = malloc(len);
		assert_non_null(junk);
		for (size_t i = 0; i < len;) {
			if (rng_next(&r) % 3 == 0) {
				const char *b = bits[rng_next(&r) % 13];
				size_t bl = strlen(b);

				if (bl > len - i)
					bl = len - i;
				memcpy(junk + i, b, bl);
				i += bl;
			} else {
				junk[i++] = (char)(rng_next(&r) & 0xff);
			}
		}
		carrier_scan(junk, len, NULL, 0, f, 4);
		free(junk);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(decoys_never_pass),
		cmocka_unit_test(spaced_and_named_numbers),
		cmocka_unit_test(nothing_trustworthy_nothing_found),
		cmocka_unit_test(links_and_bounds),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
