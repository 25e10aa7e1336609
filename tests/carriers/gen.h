/* gen.h - test-side generators of valid tracking numbers, written from the
 * published algorithms independently of src/parse/carrier.c, so a bug
 * there cannot hide behind the same bug here. */
#ifndef TRACKMAIL_TEST_CARRIER_GEN_H
#define TRACKMAIL_TEST_CARRIER_GEN_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

struct rng {
	uint64_t s;
};

static inline uint32_t rng_next(struct rng *r)
{
	r->s ^= r->s << 13;
	r->s ^= r->s >> 7;
	r->s ^= r->s << 17;
	return (uint32_t)(r->s >> 16);
}

static inline char rnd_digit(struct rng *r)
{
	return (char)('0' + rng_next(r) % 10);
}

static inline void rnd_digits(struct rng *r, char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		p[i] = rnd_digit(r);
}

static inline int gen_d(char c)
{
	return c - '0';
}

/* Each scheme computes the expected check character of a full number
 * (the check position's content ignored) and fills a random body. */
struct scheme {
	const char *name;
	const char *carrier; /* expected among the candidates */
	size_t len;
	size_t check_pos;
	void (*body)(struct rng *r, char *n); /* fills n[0..len) */
	char (*check)(const char *n);
};

static inline char ck_mod10(unsigned sum)
{
	return (char)('0' + (10 - sum % 10) % 10);
}

/* UPS 1Z: 15 alnum after 1Z; odd positions doubled; letters (c-3)%10. */
static void body_ups(struct rng *r, char *n)
{
	static const char al[] = "0123456789ABCDEFGHJKLMNPRSTVWXYZ";

	n[0] = '1';
	n[1] = 'Z';
	for (size_t i = 2; i < 17; i++)
		n[i] = al[rng_next(r) % (sizeof(al) - 1)];
}

static char ck_ups(const char *n)
{
	unsigned sum = 0;

	for (size_t i = 0; i < 15; i++) {
		char c = n[2 + i];
		unsigned v = c >= '0' && c <= '9' ? (unsigned)(c - '0') :
						    (unsigned)(c - 3) % 10;
		sum += (i % 2) ? 2 * v : v;
	}
	return ck_mod10(sum);
}

static void body_ups_waybill(struct rng *r, char *n)
{
	n[0] = "AHJKTV"[rng_next(r) % 6];
	rnd_digits(r, n + 1, 10);
}

static char ck_ups_waybill(const char *n)
{
	unsigned sum = 0;

	for (size_t i = 0; i < 9; i++)
		sum += (unsigned)gen_d(n[1 + i]) * ((i % 2) ? 2 : 1);
	return ck_mod10(sum);
}

/* USPS: weight 3 on the rightmost data digit, then 1, 3, … */
static char usps_r3(const char *n, size_t data, unsigned extra)
{
	unsigned sum = extra;

	for (size_t i = 0; i < data; i++)
		sum += (unsigned)gen_d(n[i]) * (((data - 1 - i) % 2) ? 1 : 3);
	return ck_mod10(sum);
}

static void body_usps_94(struct rng *r, char *n)
{
	n[0] = '9';
	n[1] = '4';
	rnd_digits(r, n + 2, 20);
}

static char ck_usps_22(const char *n)
{
	return usps_r3(n, 21, 0);
}

static void body_usps_92_26(struct rng *r, char *n)
{
	n[0] = '9';
	n[1] = '2';
	n[2] = '7';
	rnd_digits(r, n + 3, 23);
	n[5] = '9';
}

static char ck_usps_26(const char *n)
{
	return usps_r3(n, 25, 0);
}

static void body_usps_420(struct rng *r, char *n)
{
	memcpy(n, "420", 3);
	rnd_digits(r, n + 3, 5);
	n[8] = '9';
	n[9] = '4';
	rnd_digits(r, n + 10, 20);
}

static char ck_usps_420(const char *n)
{
	return usps_r3(n + 8, 21, 0);
}

static void body_digits(struct rng *r, char *n, size_t len)
{
	rnd_digits(r, n, len);
	if (n[0] == '0')
		n[0] = '1';
}

static void body_usps_20(struct rng *r, char *n)
{
	body_digits(r, n, 20);
	n[0] = '0';
	n[1] = '3';
}

static char ck_usps_20(const char *n)
{
	return usps_r3(n, 19, 0);
}

/* FedEx Express: weights 1, 3, 7 from the right, mod 11, mod 10. */
static char fedex_m11(const char *n, size_t data)
{
	static const unsigned w[3] = { 1, 3, 7 };
	unsigned sum = 0;

	for (size_t i = 0; i < data; i++)
		sum += (unsigned)gen_d(n[data - 1 - i]) * w[i % 3];
	return (char)('0' + sum % 11 % 10);
}

static void body_fedex_12(struct rng *r, char *n)
{
	body_digits(r, n, 12);
	n[0] = (char)('6' + rng_next(r) % 4); /* 6-9: not Purolator's */
}

static char ck_fedex_12(const char *n)
{
	return fedex_m11(n, 11);
}

static char ground(const char *p)
{
	unsigned sum = 0;

	for (size_t i = 0; i < 14; i++)
		sum += (unsigned)gen_d(p[i]) * ((i % 2) ? 3 : 1);
	return ck_mod10(sum);
}

static void body_fedex_15(struct rng *r, char *n)
{
	body_digits(r, n, 15);
}

static char ck_fedex_15(const char *n)
{
	return ground(n);
}

static void body_fedex_22(struct rng *r, char *n)
{
	n[0] = '9';
	n[1] = '6';
	rnd_digits(r, n + 2, 20);
}

static char ck_fedex_22(const char *n)
{
	return ground(n + 7);
}

static void body_fedex_34(struct rng *r, char *n)
{
	body_digits(r, n, 34);
	n[0] = '1';
}

static char ck_fedex_34(const char *n)
{
	return fedex_m11(n + 20, 13);
}

/* DHL Express: the serial as a number, mod 7 (10 digits). */
static void body_dhl(struct rng *r, char *n)
{
	body_digits(r, n, 10);
}

static char ck_dhl(const char *n)
{
	uint64_t v = 0;

	for (size_t i = 0; i < 9; i++)
		v = v * 10 + (uint64_t)gen_d(n[i]);
	return (char)('0' + v % 7);
}

static void body_dhl_paket(struct rng *r, char *n)
{
	memcpy(n, "00340434", 8);
	rnd_digits(r, n + 8, 12);
}

static char ck_dhl_paket(const char *n)
{
	return usps_r3(n + 2, 17, 0);
}

/* UPU S10: 8 serial digits weighted 8 6 4 2 3 5 9 7, mod 11. */
static char ck_s10(const char *n)
{
	static const unsigned w[8] = { 8, 6, 4, 2, 3, 5, 9, 7 };
	unsigned sum = 0;
	int c;

	for (size_t i = 0; i < 8; i++)
		sum += (unsigned)gen_d(n[2 + i]) * w[i];
	c = 11 - (int)(sum % 11);
	c = c == 10 ? 0 : c == 11 ? 5 : c;
	return (char)('0' + c);
}

#define S10_BODY(cc)                                                     \
	static void body_s10_##cc(struct rng *r, char *n)                \
	{                                                                \
		n[0] = "RLECVU"[rng_next(r) % 6];                        \
		n[1] = (char)('A' + rng_next(r) % 26);                   \
		rnd_digits(r, n + 2, 9);                                 \
		n[11] = #cc[0];                                          \
		n[12] = #cc[1];                                          \
	}
S10_BODY(CN)
S10_BODY(GB)
S10_BODY(US)
S10_BODY(AU)
S10_BODY(CA)
S10_BODY(DE)
S10_BODY(JP)
S10_BODY(NL)
S10_BODY(FR)

/* Canada Post 16: even positions x3 from the left. */
static void body_canada_post(struct rng *r, char *n)
{
	body_digits(r, n, 16);
}

static char ck_canada_post(const char *n)
{
	unsigned sum = 0;

	for (size_t i = 0; i < 15; i++)
		sum += (unsigned)gen_d(n[i]) * ((i % 2) ? 1 : 3);
	return ck_mod10(sum);
}

/* OnTrac: C = 4, D = 5 prefixed; odd positions doubled. */
static void body_ontrac(struct rng *r, char *n)
{
	n[0] = rng_next(r) % 2 ? 'C' : 'D';
	rnd_digits(r, n + 1, 14);
}

static char ck_ontrac(const char *n)
{
	char b[14];
	unsigned sum = 0;

	b[0] = n[0] == 'C' ? '4' : '5';
	memcpy(b + 1, n + 1, 13);
	for (size_t i = 0; i < 14; i++)
		sum += (unsigned)gen_d(b[i]) * ((i % 2) ? 2 : 1);
	return ck_mod10(sum);
}

/* Luhn (Purolator 12, Old Dominion). */
static char ck_luhn_data(const char *n, size_t data)
{
	unsigned sum = 0;

	for (size_t i = 0; i < data; i++) {
		unsigned v = (unsigned)gen_d(n[data - 1 - i]);

		if (i % 2 == 0) {
			v *= 2;
			if (v > 9)
				v -= 9;
		}
		sum += v;
	}
	return ck_mod10(sum);
}

static void body_purolator(struct rng *r, char *n)
{
	rnd_digits(r, n, 12);
	n[0] = (char)('0' + rng_next(r) % 6);
}

static char ck_purolator(const char *n)
{
	return ck_luhn_data(n, 11);
}

static void body_old_dominion(struct rng *r, char *n)
{
	rnd_digits(r, n, 11);
	memcpy(n, "072", 3);
}

static char ck_old_dominion(const char *n)
{
	return ck_luhn_data(n, 10);
}

/* DPD: ISO 7064 mod 37,36 over 14 digits. */
static char iso7064_37_36(const char *s, size_t n)
{
	static const char al[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";
	int p = 36;

	for (size_t i = 0; i < n; i++) {
		int v = s[i] >= '0' && s[i] <= '9' ? s[i] - '0' :
						     s[i] - 'A' + 10;
		int t = (p % 37 + v) % 36;

		if (t == 0)
			t = 36;
		p = (t * 2) % 37;
	}
	return al[(37 - p) % 36];
}

static void body_dpd(struct rng *r, char *n)
{
	body_digits(r, n, 15);
}

static char ck_dpd(const char *n)
{
	return iso7064_37_36(n, 14);
}

static const struct scheme schemes[] = {
	{ "ups 1Z", "ups", 18, 17, body_ups, ck_ups },
	{ "ups waybill", "ups", 11, 10, body_ups_waybill, ck_ups_waybill },
	{ "usps 94 22", "usps", 22, 21, body_usps_94, ck_usps_22 },
	{ "usps 92 26", "usps", 26, 25, body_usps_92_26, ck_usps_26 },
	{ "usps 420 30", "usps", 30, 29, body_usps_420, ck_usps_420 },
	{ "usps 20", "usps", 20, 19, body_usps_20, ck_usps_20 },
	{ "fedex 12", "fedex", 12, 11, body_fedex_12, ck_fedex_12 },
	{ "fedex 15", "fedex", 15, 14, body_fedex_15, ck_fedex_15 },
	{ "fedex 22", "fedex", 22, 21, body_fedex_22, ck_fedex_22 },
	{ "fedex 34", "fedex", 34, 33, body_fedex_34, ck_fedex_34 },
	{ "dhl express", "dhl", 10, 9, body_dhl, ck_dhl },
	{ "dhl paket", "dhl", 20, 19, body_dhl_paket, ck_dhl_paket },
	{ "s10 CN", "china_post", 13, 10, body_s10_CN, ck_s10 },
	{ "s10 GB", "royal_mail", 13, 10, body_s10_GB, ck_s10 },
	{ "s10 US", "usps", 13, 10, body_s10_US, ck_s10 },
	{ "s10 AU", "australia_post", 13, 10, body_s10_AU, ck_s10 },
	{ "s10 CA", "canada_post", 13, 10, body_s10_CA, ck_s10 },
	{ "s10 DE", "deutsche_post", 13, 10, body_s10_DE, ck_s10 },
	{ "s10 JP", "japan_post", 13, 10, body_s10_JP, ck_s10 },
	{ "s10 NL", "postnl", 13, 10, body_s10_NL, ck_s10 },
	{ "s10 FR", "la_poste", 13, 10, body_s10_FR, ck_s10 },
	{ "canada post 16", "canada_post", 16, 15, body_canada_post,
	  ck_canada_post },
	{ "ontrac", "ontrac", 15, 14, body_ontrac, ck_ontrac },
	{ "purolator 12", "purolator", 12, 11, body_purolator, ck_purolator },
	{ "old dominion", "old_dominion", 11, 10, body_old_dominion,
	  ck_old_dominion },
	{ "dpd 15", "dpd", 15, 14, body_dpd, ck_dpd },
};

#define N_SCHEMES (sizeof(schemes) / sizeof(schemes[0]))

/* A valid number of scheme s into out (len + 1 bytes). */
static inline void gen_number(const struct scheme *s, struct rng *r,
			      char *out)
{
	s->body(r, out);
	out[s->len] = 0;
	out[s->check_pos] = '0';
	out[s->check_pos] = s->check(out);
}

#endif
