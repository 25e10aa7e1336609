/* test_carrier_generated.c - for every carrier with a check digit: numbers
 * generated with the published algorithm (gen.h) are accepted for that
 * carrier; the same numbers with the check digit or one data digit changed
 * are refused for it. Formats without a check digit: accepted, flagged as
 * needing evidence, and a broken prefix is refused. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "gen.h"
#include "parse/carrier.h"

#define PER_SCHEME 500

static bool has(const struct carrier_check *c, const char *id)
{
	for (size_t i = 0; i < c->n_candidates; i++)
		if (strcmp(carrier_id(c->candidates[i]), id) == 0)
			return true;
	return false;
}

static void check_scheme(const struct scheme *s, uint64_t seed)
{
	struct rng r = { seed };
	char n[64], m[64];
	struct carrier_check c;
	size_t refused_check = 0, refused_digit = 0;

	for (int k = 0; k < PER_SCHEME; k++) {
		gen_number(s, &r, n);
		carrier_check(n, s->len, &c);
		if (!c.valid || !has(&c, s->carrier))
			fail_msg("%s: generated %s not accepted for %s",
				 s->name, n, s->carrier);
		assert_string_equal(c.normalized, n);
		assert_true(carrier_has_check_digit(
			carrier_find(s->carrier), n));

		/* The check character changed. */
		memcpy(m, n, s->len + 1);
		m[s->check_pos] = m[s->check_pos] == '9' ? '0' :
				  (char)(m[s->check_pos] + 1);
		carrier_check(m, s->len, &c);
		if (has(&c, s->carrier))
			fail_msg("%s: %s (check changed) accepted", s->name,
				 m);
		refused_check++;

		/* One data digit changed (+1): the first position where the
		 * reference says the number no longer checks. */
		for (size_t p = s->len; p-- > 0;) {
			if (p == s->check_pos || m[p] < '0' || m[p] > '9')
				continue;
			memcpy(m, n, s->len + 1);
			m[p] = m[p] == '9' ? '0' : (char)(m[p] + 1);
			if (s->check(m) == m[s->check_pos])
				continue;
			carrier_check(m, s->len, &c);
			/* A changed prefix may leave the format altogether;
			 * either way it must not be this carrier's. */
			if (has(&c, s->carrier))
				fail_msg("%s: %s (digit %zu changed) accepted",
					 s->name, m, p);
			refused_digit++;
			break;
		}
	}
	printf("# %-16s %d generated accepted, %zu check-changed refused, "
	       "%zu digit-changed refused\n", s->name, PER_SCHEME,
	       refused_check, refused_digit);
}

static void generated_numbers_pass_and_mutations_fail(void **state)
{
	(void)state;
	for (size_t i = 0; i < N_SCHEMES; i++)
		check_scheme(&schemes[i], 0x9e3779b97f4a7c15ull + i);
}

struct nocheck {
	const char *carrier;
	const char *valid;
	const char *broken;
};

static void no_check_digit_formats_need_evidence(void **state)
{
	static const struct nocheck cases[] = {
		{ "amazon", "TBA304958172615", "TBB304958172615" },
		{ "yunexpress", "YT2412345678901234", "YU2412345678901234" },
		{ "cainiao", "LP00612345678901", "LQ00612345678901" },
		{ "lasership", "LX29384756", "LZ29384756" },
		{ "lasership", "1LS724505321754", "1LX724505321754" },
		{ "yodel", "JD0002254405060992", "JC0002254405060992" },
		{ "4px", "4PX3001234567890CN", "4PY3001234567890CN" },
		{ "sf_express", "SF1234567890123", "SG1234567890123" },
		{ "evri", "H01HYA0004316086", "Q01HYA0004316086" },
		{ "postnl", "3SABCD123456789", "3TABCD123456789" },
		{ "canpar", "D576002440000001718010", "M576002440000001718010" },
		{ "speedee", "SP029692510000920746", "SX029692510000920746" },
		{ "gofo", "GFUS01011884214464", "GFUX01011884214464" },
		{ "landmark", "LTN74207623N1", "LTN74207623N2" },
		{ "yanwen", "UG123456789YP", "UG12345678YP" },
		{ "dhl_ecommerce", "GM2951173225174494", "GQ2951173225174494" },
	};
	struct carrier_check c;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		carrier_check(cases[i].valid, strlen(cases[i].valid), &c);
		if (!c.valid || !has(&c, cases[i].carrier))
			fail_msg("%s not accepted for %s", cases[i].valid,
				 cases[i].carrier);
		assert_true(c.needs_evidence);
		assert_false(carrier_has_check_digit(
			carrier_find(cases[i].carrier), cases[i].valid));
		carrier_check(cases[i].broken, strlen(cases[i].broken), &c);
		if (has(&c, cases[i].carrier))
			fail_msg("%s accepted for %s", cases[i].broken,
				 cases[i].carrier);
	}
}

static void normalization_and_table(void **state)
{
	struct carrier_check c;
	char url[256];
	static const char *const ids[] = {
		"ups", "usps", "fedex", "dhl", "dhl_ecommerce", "amazon",
		"ontrac", "lasership", "canada_post", "purolator",
		"royal_mail", "australia_post", "china_post", "cainiao",
		"yanwen", "yunexpress", "4px", "sf_express", "dpd", "gls",
		"evri", "yodel", "postnl", "deutsche_post", "japan_post",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
		const struct carrier *k = carrier_find(ids[i]);

		assert_non_null(k);
		assert_string_equal(carrier_id(k), ids[i]);
		assert_non_null(carrier_name(k));
		assert_int_equal(carrier_tracking_url(k, "X1", url,
						      sizeof(url)), 0);
		assert_non_null(strstr(url, "X1"));
		assert_int_equal(carrier_tracking_url(k, "X1", url, 5),
				 -ENOSPC);
	}
	assert_null(carrier_find("nope"));
	assert_null(carrier_at(carrier_count()));

	carrier_check(" 1z-999 aa1 0123 4567 84 ", 25, &c);
	assert_true(c.valid);
	assert_string_equal(c.normalized, "1Z999AA10123456784");
	assert_string_equal(carrier_id(c.carrier), "ups");

	/* Upstream's ambiguity examples: Purolator's 12 digits also pass
	 * FedEx; an S10 of a country without its own entry; DHL 10. */
	carrier_check("320595463938", 12, &c);
	assert_true(c.valid);
	carrier_check("RB123456785CV", 13, &c);
	assert_true(c.valid);
	assert_null(c.carrier);
	assert_string_equal(carrier_id(c.candidates[0]), "upu");
	carrier_check("3318810025", 10, &c);
	assert_true(c.valid);
	assert_null(c.carrier);
	assert_true(c.needs_evidence);
	carrier_check("RB123456785XX", 13, &c);
	assert_false(c.valid);

	/* Junk, overlong, empty, embedded NUL. */
	carrier_check("1Z999AA1012345678$", 18, &c);
	assert_false(c.valid);
	carrier_check("", 0, &c);
	assert_false(c.valid);
	carrier_check("12345678901234567890123456789012345678901234567890"
		      "12345678901234567890", 70, &c);
	assert_false(c.valid);
	assert_true(strlen(c.input) < CARRIER_NUMBER_MAX);
	carrier_check("1Z999AA1\0" "0123456784", 18, &c);
	assert_false(c.valid);
}

static void twelve_digits_both_fedex_and_purolator(void **state)
{
	struct rng r = { 42 };
	char n[13];
	struct carrier_check c;
	int found = 0;

	(void)state;
	for (int k = 0; k < 20000 && found < 5; k++) {
		body_purolator(&r, n);
		n[11] = ck_purolator(n);
		n[12] = 0;
		if (ck_fedex_12(n) != n[11])
			continue;
		carrier_check(n, 12, &c);
		assert_true(c.valid);
		assert_null(c.carrier);
		assert_true(has(&c, "fedex"));
		assert_true(has(&c, "purolator"));
		found++;
	}
	assert_int_equal(found, 5);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(generated_numbers_pass_and_mutations_fail),
		cmocka_unit_test(no_check_digit_formats_need_evidence),
		cmocka_unit_test(normalization_and_table),
		cmocka_unit_test(twelve_digits_both_fedex_and_purolator),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
