/* test_carrier_decide.c - carrier names, the decision that combines
 * format, named carrier, links and usual carriers, and numbers in links. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "gen.h"
#include "parse/carrier.h"

static const char *name_id(const char *text)
{
	return carrier_id(carrier_from_name(text, strlen(text)));
}

static void names_map_to_the_table(void **state)
{
	(void)state;
	assert_string_equal(name_id("UPS"), "ups");
	assert_string_equal(name_id("Shipped with FedEx"), "fedex");
	assert_string_equal(name_id("Royal Mail Tracked 48"), "royal_mail");
	assert_string_equal(name_id("USPS\xc2\xae"), "usps");
	assert_string_equal(name_id("Carrier: USPS"), "usps");
	assert_string_equal(name_id("Cainiao"), "cainiao");
	assert_string_equal(name_id("4PX"), "4px");
	assert_string_equal(name_id("DHL eCommerce"), "dhl_ecommerce");
	assert_string_equal(name_id("via Canada Post"), "canada_post");
	assert_string_equal(name_id("\xe9\xa1\xba\xe4\xb8\xb0"), "sf_express");
	assert_null(carrier_from_name("check-ups and pick-ups", 22));
	assert_null(carrier_from_name("Thank you for your order", 24));
	assert_null(carrier_from_name("UPSTAIRS", 8));
	assert_null(carrier_from_name(NULL, 0));
	/* Every display name maps back to its entry (the scanner relies on
	 * it), except the generic S10 one. */
	for (size_t i = 0; i < carrier_count(); i++) {
		const struct carrier *c = carrier_at(i);

		if (strcmp(carrier_id(c), "upu") == 0)
			continue;
		if (carrier_from_name(carrier_name(c),
				      strlen(carrier_name(c))) != c)
			fail_msg("name '%s' does not map to %s",
				 carrier_name(c), carrier_id(c));
	}
}

static int decide(const char *num, const char *named, bool parser,
		  const char *const *links, size_t n_links,
		  const char *const *usual, size_t n_usual,
		  struct carrier_decision *d)
{
	struct carrier_evidence ev = {
		.named = named,
		.named_len = named ? strlen(named) : 0,
		.parser_names_carrier = parser,
		.links = links,
		.n_links = n_links,
		.usual = usual,
		.n_usual = n_usual,
	};

	return carrier_decide(num, strlen(num), &ev, d);
}

/* A 12-digit number that passes both FedEx and Purolator. */
static void fedex_purolator(char n[13])
{
	struct rng r = { 7 };

	do {
		body_purolator(&r, n);
		n[11] = ck_purolator(n);
		n[12] = 0;
	} while (ck_fedex_12(n) != n[11]);
}

static void decisions(void **state)
{
	struct carrier_decision d;
	char amb[13], bad[13];
	static const char *const usual_p[] = { "ups", "purolator" };
	static const char *const link_p[] = {
		"https://www.purolator.com/en/shipping/tracker?pin=X",
	};

	(void)state;
	/* Format alone. */
	assert_int_equal(decide("1Z999AA10123456784", NULL, false, NULL, 0,
				NULL, 0, &d), 1);
	assert_string_equal(carrier_id(d.carrier), "ups");
	assert_string_equal(d.evidence, "format");
	/* Named and fitting. */
	assert_int_equal(decide("1Z999AA10123456784", "Shipped with UPS",
				false, NULL, 0, NULL, 0, &d), 1);
	assert_string_equal(d.evidence, "named");
	/* Named and not fitting: conflict, quarantined by the caller. */
	assert_int_equal(decide("1Z999AA10123456784", "FedEx", false, NULL,
				0, NULL, 0, &d), 0);
	assert_string_equal(d.reason, "carrier-conflict");
	assert_null(d.carrier);
	/* Named carrier's format fits but its check digit fails. */
	assert_int_equal(decide("1Z999AA10123456785", "UPS", false, NULL, 0,
				NULL, 0, &d), -1);
	assert_string_equal(d.reason, "check-digit");
	assert_int_equal(decide("1Z999AA10123456785", NULL, false, NULL, 0,
				NULL, 0, &d), -1);
	assert_string_equal(d.reason, "check-digit");
	assert_int_equal(decide("hello world", NULL, false, NULL, 0, NULL, 0,
				&d), -1);
	assert_string_equal(d.reason, "invalid-number");

	/* Two carriers fit equally. */
	fedex_purolator(amb);
	assert_int_equal(decide(amb, NULL, false, NULL, 0, NULL, 0, &d), 0);
	assert_string_equal(d.reason, "carrier-ambiguous");
	assert_true(d.check.n_candidates >= 2);
	assert_int_equal(decide(amb, "Purolator", false, NULL, 0, NULL, 0,
				&d), 1);
	assert_string_equal(carrier_id(d.carrier), "purolator");
	assert_int_equal(decide(amb, NULL, false, NULL, 0, usual_p, 2, &d), 1);
	assert_string_equal(carrier_id(d.carrier), "purolator");
	assert_string_equal(d.evidence, "usual");
	assert_ptr_equal(d.check.candidates[0], d.carrier);
	assert_int_equal(decide(amb, NULL, false, link_p, 1, NULL, 0, &d), 1);
	assert_string_equal(carrier_id(d.carrier), "purolator");
	assert_string_equal(d.evidence, "link");

	/* 10-digit DHL: never by format alone; the parser may name it. */
	assert_int_equal(decide("3318810025", NULL, false, NULL, 0, NULL, 0,
				&d), 0);
	assert_int_equal(decide("3318810025", "DHL Express", true, NULL, 0,
				NULL, 0, &d), 1);
	assert_string_equal(carrier_id(d.carrier), "dhl");
	memcpy(bad, "3318810026", 11);
	assert_int_equal(decide(bad, "DHL", true, NULL, 0, NULL, 0, &d), -1);
	assert_string_equal(d.reason, "check-digit");

	/* No check digit: the named carrier decides. */
	assert_int_equal(decide("TBA304958172615", "Amazon Logistics", true,
				NULL, 0, NULL, 0, &d), 1);
	assert_string_equal(carrier_id(d.carrier), "amazon");

	/* S10: issuing post by format; the destination's post when named;
	 * a country without an entry stays undecided. */
	assert_int_equal(decide("LB123456785CN", NULL, false, NULL, 0, NULL,
				0, &d), 1);
	assert_string_equal(carrier_id(d.carrier), "china_post");
	assert_int_equal(decide("LB123456785CN", "USPS", false, NULL, 0,
				NULL, 0, &d), 1);
	assert_string_equal(carrier_id(d.carrier), "usps");
	assert_int_equal(decide("RB123456785CV", NULL, false, NULL, 0, NULL,
				0, &d), 0);
	assert_string_equal(carrier_id(d.check.candidates[0]), "upu");

	/* A link that carries the number names its carrier; a link of
	 * another carrier with the same number conflicts with the name. */
	{
		static const char *const l[] = {
			"https://www.ups.com/track?tracknum=1Z999AA10123456784",
		};
		static const char *const lf[] = {
			"https://www.fedex.com/fedextrack/?trknbr="
			"1Z999AA10123456784",
		};

		assert_int_equal(decide("1Z999AA10123456784", NULL, false, l,
					1, NULL, 0, &d), 1);
		assert_int_equal(decide("1Z999AA10123456784", NULL, false, lf,
					1, NULL, 0, &d), 0);
		assert_string_equal(d.reason, "carrier-conflict");
	}
}

struct link_case {
	const char *url;
	const char *number; /* NULL: no number expected */
	const char *carrier;
};

static void numbers_in_links(void **state)
{
	static const struct link_case cases[] = {
		{ "https://www.ups.com/track?loc=en_US&tracknum="
		  "1Z999AA10123456784&requester=ST/", "1Z999AA10123456784",
		  "ups" },
		{ "https://tools.usps.com/go/TrackConfirmAction?tRef=fullpage"
		  "&tLc=2&text28777=&tLabels=9400111206206406260787%2C",
		  "9400111206206406260787", "usps" },
		{ "https://www.fedex.com/fedextrack/?trknbr=986578788855&trkqual=x",
		  "986578788855", "fedex" },
		{ "https://www.dhl.com/en/express/tracking.html?AWB=3318810025"
		  "&brand=DHL", "3318810025", "dhl" },
		{ "https://www.royalmail.com/track-your-item#/tracking-results/"
		  "RB123456785GB", "RB123456785GB", "royal_mail" },
		{ "https://t.17track.net/en#nums=LB123456785CN",
		  "LB123456785CN", "china_post" },
		{ "https://www.yodel.co.uk/tracking/JD0002254405060992",
		  "JD0002254405060992", "yodel" },
		{ "https://click.supplier.example/ls/click?upn="
		  "https%3A%2F%2Fwww.ups.com%2Ftrack%3Ftracknum%3D"
		  "1Z999AA10123456784", "1Z999AA10123456784", "ups" },
		{ "https://www.walmart.com/tracking?tracking_number="
		  "TBA304958172615&carrier=Amazon", "TBA304958172615",
		  "amazon" },
		{ "https://shop.example/orders/track?order_id=11212345671234567"
		  "&id=ABC123", NULL, NULL },
		{ "https://shop.example/account/orders/112-1234567-1234567",
		  NULL, NULL },
		{ "mailto:help@ups.com", NULL, NULL },
		{ "https://www.ups.com/", NULL, NULL },
	};
	struct carrier_check c;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int r = carrier_from_url(cases[i].url, &c);

		if (!cases[i].number) {
			if (r != 0)
				fail_msg("%s: found %s", cases[i].url,
					 c.normalized);
			continue;
		}
		if (r != 1)
			fail_msg("%s: nothing found", cases[i].url);
		assert_string_equal(c.normalized, cases[i].number);
		if (!c.carrier ||
		    strcmp(carrier_id(c.carrier), cases[i].carrier) != 0)
			fail_msg("%s: carrier %s, want %s", cases[i].url,
				 c.carrier ? carrier_id(c.carrier) : "null",
				 cases[i].carrier);
	}
	assert_string_equal(carrier_id(carrier_link_carrier(
		"https://wwwapps.ups.com/WebTracking/track?trackNums=1")), "ups");
	assert_null(carrier_link_carrier("https://evil-ups.com/track"));
	assert_null(carrier_link_carrier("https://ups.com.evil.example/"));
}

/* Issue 8: a number whose only fitting formats carry no check digit
 * needs corroboration; aggregator links name no carrier; LaserShip 1LS
 * numbers fit a mail naming OnTrac. */
static void corroboration(void **state)
{
	struct carrier_decision d;
	static const char *const walmart[] = { "fedex", "ups", "usps",
					       "ontrac", "lasership" };
	static const char *const gb[] = { "amazon", "royal_mail", "evri" };
	static const char *const gls_link[] = {
		"https://gls-group.com/GROUP/en/parcel-tracking?match="
		"98765432107"
	};
	static const char *const cainiao[] = {
		"https://global.cainiao.com/newDetail.htm?mailNoList="
		"LB123456785CN"
	};

	(void)state;
	/* 11 digits fit only GLS (no check digit): never decided alone. */
	assert_int_equal(decide("98765432107", NULL, false, NULL, 0, NULL, 0,
				&d), 0);
	assert_string_equal(d.reason, "carrier-unconfirmed");
	assert_null(d.carrier);
	assert_int_equal(decide("98765432107", NULL, false, NULL, 0, walmart,
				5, &d), 0);
	assert_string_equal(d.reason, "carrier-unconfirmed");
	/* Corroborated by the name, by a link carrying it. */
	assert_int_equal(decide("98765432107", "GLS", false, NULL, 0, NULL, 0,
				&d), 1);
	assert_string_equal(d.evidence, "named");
	assert_int_equal(decide("98765432107", NULL, false, gls_link, 1, NULL,
				0, &d), 1);
	assert_string_equal(d.evidence, "link");
	assert_string_equal(carrier_id(d.carrier), "gls");
	/* 16 digits that fail Canada Post's check: Evri only with a usual
	 * carrier list (of the mail's country) that names Evri. */
	assert_int_equal(decide("7035114477138471", NULL, false, NULL, 0, NULL,
				0, &d), 0);
	assert_string_equal(d.reason, "carrier-unconfirmed");
	assert_int_equal(decide("7035114477138471", NULL, false, NULL, 0, gb,
				3, &d), 1);
	assert_string_equal(d.evidence, "usual");
	assert_string_equal(carrier_id(d.carrier), "evri");
	assert_int_equal(decide("7035114477138471", "Canada Post", false, NULL,
				0, NULL, 0, &d), -1);
	assert_string_equal(d.reason, "check-digit");
	/* A check digit still decides alone. */
	assert_int_equal(decide("1Z999AA10123456784", NULL, false, NULL, 0,
				NULL, 0, &d), 1);
	assert_string_equal(d.evidence, "format");
	/* global.cainiao.com tracks any carrier: an S10 CN number there is
	 * China Post's, not a conflict with Cainiao. */
	assert_null(carrier_link_carrier(cainiao[0]));
	assert_true(carrier_host_is_aggregator("global.cainiao.com", 18));
	assert_null(carrier_from_host("global.cainiao.com", 18));
	assert_int_equal(decide("LB123456785CN", NULL, false, cainiao, 1, NULL,
				0, &d), 1);
	assert_string_equal(carrier_id(d.carrier), "china_post");
	/* LaserShip 1LS + 12-14 letters and digits; OnTrac may be named. */
	assert_int_equal(decide("1LSXJ7A1B2C3D4E", "OnTrac", false, NULL, 0,
				NULL, 0, &d), 1);
	assert_string_equal(carrier_id(d.carrier), "ontrac");
	assert_int_equal(decide("1LS7ABCDEFGH12345", "LaserShip", false, NULL,
				0, NULL, 0, &d), 1);
	assert_string_equal(carrier_id(d.carrier), "lasership");
	assert_int_equal(decide("1LSXJ7A1B2C3D4E", NULL, false, NULL, 0,
				walmart, 5, &d), 1);
	assert_string_equal(d.evidence, "usual");
	assert_int_equal(decide("1LS12345678901", NULL, false, NULL, 0, NULL,
				0, &d), -1); /* 1LS + 11: too short */
	assert_int_equal(decide("1LS123456789012345", NULL, false, NULL, 0,
				NULL, 0, &d), -1); /* 1LS + 15: too long */
}

/* Added: the host table and the per-message link index give exactly what
 * re-parsing every link for every number gives. */
static void link_index_matches_reparse(void **state)
{
	static const char *const links[] = {
		"https://wwwapps.ups.com/WebTracking/track?trackNums="
		"1Z999AA10123456784",
		"https://WWW.USPS.COM/go/TrackConfirmAction?tLabels="
		"9400111206206406260787",
		"https://www.fedex.com/fedextrack/?trknbr=986578788855",
		"https://t.17track.net/en#nums=LB123456785CN",
		"https://global.cainiao.com/detail.htm?mailNoList=LB123456785CN",
		"https://www.royalmail.com/track-your-item#/tracking-results/"
		"RB123456785GB",
		"https://click.supplier.example/ls/click?upn="
		"https%3A%2F%2Fwww.dhl.de%2Ftrack%3Fpiececode%3D3318810025",
		"https://www.walmart.com/tracking?tracking_number="
		"TBA304958172615&carrier=Amazon",
		"https://evil-ups.com/track?tracknum=1Z999AA10123456784",
		"https://ups.com.evil.example/",
		"mailto:help@ups.com",
		NULL,
		"https://shop.example/orders/112-1234567-1234567",
	};
	static const char *const numbers[] = {
		"1Z999AA10123456784", "9400111206206406260787",
		"986578788855", "LB123456785CN", "RB123456785GB",
		"3318810025", "TBA304958172615", "JD0002254405060992",
		"123456789012",
	};
	static const char *const names[] = { NULL, "UPS", "Royal Mail" };
	size_t nl = sizeof(links) / sizeof(links[0]);
	struct carrier_link_index *ix = carrier_link_index_build(links, nl);

	(void)state;
	assert_non_null(ix);
	assert_int_equal(ix->n, nl);
	for (size_t i = 0; i < nl; i++) {
		struct carrier_check c;
		int r = carrier_from_url(links[i], &c);

		assert_ptr_equal(ix->v[i].carrier,
				 carrier_link_carrier(links[i]));
		assert_int_equal(ix->v[i].has_number, r == 1);
		if (r == 1) {
			assert_string_equal(ix->v[i].number.normalized,
					    c.normalized);
			assert_ptr_equal(ix->v[i].number.carrier, c.carrier);
		}
	}
	for (size_t k = 0; k < sizeof(numbers) / sizeof(numbers[0]); k++) {
		for (size_t m = 0; m < sizeof(names) / sizeof(names[0]); m++) {
			struct carrier_evidence ev = {
				.named = names[m],
				.named_len = names[m] ? strlen(names[m]) : 0,
				.links = links,
				.n_links = nl,
			};
			struct carrier_decision a, b;
			int ra, rb;

			ra = carrier_decide(numbers[k], strlen(numbers[k]),
					    &ev, &a);
			ev.index = ix;
			rb = carrier_decide(numbers[k], strlen(numbers[k]),
					    &ev, &b);
			if (ra != rb || a.carrier != b.carrier ||
			    (a.reason != b.reason) ||
			    (a.evidence != b.evidence))
				fail_msg("%s (%s): index and re-parse differ",
					 numbers[k],
					 names[m] ? names[m] : "no name");
		}
	}
	carrier_link_index_free(ix);
	/* Hosts: subdomains and case match, look-alikes do not, an
	 * aggregator suffix names no carrier. */
	assert_string_equal(carrier_id(carrier_from_host("A.B.UPS.COM", 11)),
			    "ups");
	assert_null(carrier_from_host("notups.com", 10));
	assert_null(carrier_from_host("ups.com.evil.example", 20));
	assert_null(carrier_from_host("", 0));
	assert_true(carrier_host_is_aggregator("x.T.17TRACK.NET", 15));
	assert_false(carrier_host_is_aggregator("17track.net.example", 19));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(names_map_to_the_table),
		cmocka_unit_test(decisions),
		cmocka_unit_test(numbers_in_links),
		cmocka_unit_test(corroboration),
		cmocka_unit_test(link_index_matches_reparse),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
