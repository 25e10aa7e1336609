/* carrier_formats.c - every tracking-number format the carrier table
 * knows, with its check digit (docs/carriers.md): UPS mod 10, USPS IMpb
 * mod 10, FedEx's schemes, DHL mod 7, UPU S10 mod 11, Luhn, DPD ISO 7064
 * mod 37,36 and the rest. Each fit function answers for a normalized
 * number (upper case, no spaces): no fit, fits with a passing check digit,
 * fits a format without one, or fits in shape with a failing check digit.
 * Pure functions over immutable data. */
#include "parse/carrier_internal.h"

#include <stdint.h>
#include <string.h>

/* ISO 3166-1 alpha-2 codes an S10 number may end with. */
static const char iso_countries[] =
	"AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG "
	"BH BI BJ BL BM BN BO BQ BR BS BT BV BW BY BZ CA CC CD CF CG CH CI "
	"CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO DZ EC EE EG EH "
	"ER ES ET FI FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP GQ "
	"GR GS GT GU GW GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT "
	"JE JM JO JP KE KG KH KI KM KN KP KR KW KY KZ LA LB LC LI LK LR LS "
	"LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT MU "
	"MV MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG "
	"PH PK PL PM PN PR PS PT PW PY QA RE RO RS RU RW SA SB SC SD SE SG "
	"SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ TC TD TF TG TH TJ TK "
	"TL TM TN TO TR TT TV TW TZ UA UG UM US UY UZ VA VC VE VG VI VN VU "
	"WF WS XK YE YT ZA ZM ZW";

static bool all_digits(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!is_digit(s[i]))
			return false;
	return true;
}

static bool all_upper(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!is_upper(s[i]))
			return false;
	return true;
}

static bool all_alnum(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!is_digit(s[i]) && !is_upper(s[i]))
			return false;
	return true;
}

static size_t count_digits(const char *s, size_t n)
{
	size_t k = 0;

	for (size_t i = 0; i < n; i++)
		k += is_digit(s[i]);
	return k;
}

static bool all_zero(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] != '0')
			return false;
	return true;
}

static inline enum fit checked(bool ok)
{
	return ok ? FIT_OK : FIT_BAD;
}

/* Mod 10 over s[0..n): weight w_even at even (0-based, from the left)
 * positions and w_odd at odd ones; letters count (c - 3) % 10 (UPS). */
static int mod10_lr(const char *s, size_t n, unsigned w_even, unsigned w_odd)
{
	unsigned sum = 0;

	for (size_t i = 0; i < n; i++) {
		unsigned v = is_digit(s[i]) ? (unsigned)(s[i] - '0') :
			((unsigned)(unsigned char)s[i] - 3) % 10;
		sum += v * ((i & 1) ? w_odd : w_even);
	}
	return (int)((10 - sum % 10) % 10);
}

/* Mod 10 with weight 3 on the rightmost data digit, then 1, 3 … (USPS,
 * GS1/SSCC); extra is added to the sum (a virtual prefix). */
static int mod10_r3(const char *s, size_t n, unsigned extra)
{
	unsigned sum = extra;

	for (size_t i = 0; i < n; i++) {
		unsigned v = (unsigned)(s[i] - '0');
		sum += v * (((n - 1 - i) & 1) ? 1u : 3u);
	}
	return (int)((10 - sum % 10) % 10);
}

/* Luhn check digit for the data digits s[0..n). */
static int luhn(const char *s, size_t n)
{
	unsigned sum = 0;

	for (size_t i = 0; i < n; i++) {
		unsigned v = (unsigned)(s[n - 1 - i] - '0');
		if (!(i & 1)) {
			v *= 2;
			if (v > 9)
				v -= 9;
		}
		sum += v;
	}
	return (int)((10 - sum % 10) % 10);
}

/* FedEx Express: weights 1, 3, 7 from the right, mod 11, mod 10. */
static int fedex_mod11(const char *s, size_t n)
{
	static const unsigned w[3] = { 1, 3, 7 };
	unsigned sum = 0;

	for (size_t i = 0; i < n; i++)
		sum += (unsigned)(s[n - 1 - i] - '0') * w[i % 3];
	return (int)(sum % 11 % 10);
}

/* The serial as a number, mod 7 (DHL Express, n <= 18). */
static int mod7(const char *s, size_t n)
{
	uint64_t v = 0;

	for (size_t i = 0; i < n; i++)
		v = v * 10 + (uint64_t)(s[i] - '0');
	return (int)(v % 7);
}

/* UPU S10 weighted mod 11 over the 8 serial digits. */
static int s10_check(const char *s)
{
	static const unsigned w[8] = { 8, 6, 4, 2, 3, 5, 9, 7 };
	unsigned sum = 0;
	int c;

	for (size_t i = 0; i < 8; i++)
		sum += (unsigned)(s[i] - '0') * w[i];
	c = 11 - (int)(sum % 11);
	if (c == 10)
		return 0;
	if (c == 11)
		return 5;
	return c;
}

/* ISO 7064 mod 37,36 (DPD): the check character for s[0..n). */
static char mod37_36(const char *s, size_t n)
{
	static const char alphabet[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";
	int cd = 36;

	for (size_t i = 0; i < n; i++) {
		int v = is_digit(s[i]) ? s[i] - '0' : s[i] - 'A' + 10;
		cd += v;
		if (cd > 36)
			cd -= 36;
		cd *= 2;
		if (cd > 36)
			cd -= 37;
	}
	cd = 37 - cd;
	if (cd == 36)
		cd = 0;
	return alphabet[cd];
}

static inline int dv(char c)
{
	return c - '0';
}

/* -- UPS -- */
static enum fit fit_ups_1z(const char *n, size_t len)
{
	if (len != 18 || n[0] != '1' || n[1] != 'Z' ||
	    !all_alnum(n + 2, 15) || !is_digit(n[17]))
		return FIT_NO;
	return checked(mod10_lr(n + 2, 15, 1, 2) == dv(n[17]));
}

static enum fit fit_ups_waybill(const char *n, size_t len)
{
	if (len != 11 || !strchr("AHJKTV", n[0]) || !all_digits(n + 1, 10))
		return FIT_NO;
	if (all_zero(n + 1, 10))
		return FIT_BAD;
	return checked(mod10_lr(n + 1, 9, 1, 2) == dv(n[10]));
}

/* -- USPS -- */
/* 22 or 26 digits starting 9[1-5] (IMpb; 91 is the legacy 22-digit one);
 * consolidator: only the 92/93 Parcel Select (612) numbers FedEx SmartPost
 * and DHL eCommerce also print. */
static enum fit usps_impb(const char *n, size_t len, bool consolidator)
{
	if ((len != 22 && len != 26) || n[0] != '9' || n[1] < '1' ||
	    n[1] > '5' || !all_digits(n, len))
		return FIT_NO;
	if (n[1] == '1' && len != 22)
		return FIT_NO;
	if (n[1] == '2' && n[5] != '9')
		return FIT_NO;
	if (n[1] == '3' && n[5] == '9')
		return FIT_NO;
	if (consolidator &&
	    ((n[1] != '2' && n[1] != '3') || memcmp(n + 2, "612", 3) != 0))
		return FIT_NO;
	if (all_zero(n + 2, len - 2))
		return FIT_BAD;
	return checked(mod10_r3(n, len - 1, 0) == dv(n[len - 1]));
}

/* 420 + ZIP (5 or 9) + IMpb body. */
static enum fit usps_routed(const char *n, size_t len, bool consolidator)
{
	enum fit best = FIT_NO;
	static const size_t zips[2] = { 5, 9 };

	if (len < 30 || memcmp(n, "420", 3) != 0 || !all_digits(n, len))
		return FIT_NO;
	for (size_t i = 0; i < 2; i++) {
		size_t skip = 3 + zips[i];
		enum fit f;

		if (len - skip != 22 && len - skip != 26)
			continue;
		f = usps_impb(n + skip, len - skip, consolidator);
		if (f > best)
			best = f;
	}
	return best;
}

static enum fit fit_usps_20(const char *n, size_t len)
{
	int c = len == 20 && all_digits(n, 20) ? dv(n[19]) : -1;

	if (c < 0)
		return FIT_NO;
	if (all_zero(n, 19))
		return FIT_BAD;
	/* Printed as is, or the legacy one missing its "91" (+ 9*3 + 1). */
	return checked(mod10_r3(n, 19, 0) == c || mod10_r3(n, 19, 28) == c);
}

static enum fit fit_usps_impb(const char *n, size_t len)
{
	return usps_impb(n, len, false);
}

static enum fit fit_usps_routed(const char *n, size_t len)
{
	return usps_routed(n, len, false);
}

static enum fit fit_impb_consolidator(const char *n, size_t len)
{
	enum fit a = usps_impb(n, len, true);
	enum fit b = usps_routed(n, len, true);

	return a > b ? a : b;
}

/* -- FedEx -- */
static enum fit fit_fedex_12(const char *n, size_t len)
{
	if (len != 12 || !all_digits(n, 12))
		return FIT_NO;
	if (all_zero(n, 11))
		return FIT_BAD;
	return checked(fedex_mod11(n, 11) == dv(n[11]));
}

static enum fit fit_fedex_15(const char *n, size_t len)
{
	if (len != 15 || !all_digits(n, 15))
		return FIT_NO;
	if (all_zero(n, 14))
		return FIT_BAD;
	return checked(mod10_lr(n, 14, 1, 3) == dv(n[14]));
}

static enum fit fit_fedex_sscc18(const char *n, size_t len)
{
	if (len != 18 || !all_digits(n, 18))
		return FIT_NO;
	if (all_zero(n, 17))
		return FIT_BAD;
	return checked(mod10_r3(n, 17, 0) == dv(n[17]));
}

/* SmartPost 20: the 22-digit 96 barcode without its "96". */
static enum fit fit_fedex_20(const char *n, size_t len)
{
	if (len != 20 || !all_digits(n, 20))
		return FIT_NO;
	if (all_zero(n + 5, 14))
		return FIT_BAD;
	return checked(mod10_lr(n + 5, 14, 1, 3) == dv(n[19]));
}

static enum fit fit_fedex_22(const char *n, size_t len)
{
	if (len != 22 || n[0] != '9' || n[1] != '6' || !all_digits(n, 22))
		return FIT_NO;
	if (all_zero(n + 7, 14))
		return FIT_BAD;
	return checked(mod10_lr(n + 7, 14, 1, 3) == dv(n[21]));
}

static enum fit fit_fedex_32(const char *n, size_t len)
{
	if (len != 32 || n[0] != '3' || !all_digits(n, 32))
		return FIT_NO;
	if (all_zero(n + 16, 11))
		return FIT_BAD;
	return checked(fedex_mod11(n + 16, 11) == dv(n[27]));
}

static enum fit fit_fedex_34(const char *n, size_t len)
{
	if (len != 34 || !all_digits(n, 34) || memcmp(n, "420", 3) == 0)
		return FIT_NO;
	if (all_zero(n + 20, 13))
		return FIT_BAD;
	return checked(fedex_mod11(n + 20, 13) == dv(n[33]));
}

/* -- DHL -- */
static enum fit fit_dhl_express(const char *n, size_t len)
{
	if ((len != 10 && len != 11) || !all_digits(n, len))
		return FIT_NO;
	if (all_zero(n, len - 1))
		return FIT_BAD;
	return checked(mod7(n, len - 1) == dv(n[len - 1]));
}

static enum fit fit_dhl_piece(const char *n, size_t len)
{
	size_t letters;

	if (len < 12 || len > 14 || n[0] != 'J')
		return FIT_NO;
	letters = is_upper(n[3]) ? 4 : 3;
	if (!all_upper(n, letters) || len - letters < 9 ||
	    len - letters > 10 || !all_digits(n + letters, len - letters))
		return FIT_NO;
	return FIT_NOCHECK;
}

static enum fit fit_dhl_paket(const char *n, size_t len)
{
	if (len != 20 || memcmp(n, "00340434", 8) != 0 || !all_digits(n, 20))
		return FIT_NO;
	return checked(mod10_r3(n + 2, 17, 0) == dv(n[19]));
}

/* -- DHL eCommerce -- */
static enum fit fit_dhl_ecom(const char *n, size_t len)
{
	static const char prefixes[] = "GM LX RX UV CN SG TH IN HK MY";

	if (len < 12 || len > 41 || !all_alnum(n, len))
		return FIT_NO;
	for (size_t i = 0; i < sizeof(prefixes) - 1; i += 3) {
		if (n[0] == prefixes[i] && n[1] == prefixes[i + 1])
			return count_digits(n + 2, len - 2) ? FIT_NOCHECK :
							      FIT_NO;
	}
	return FIT_NO;
}

static enum fit fit_digits14(const char *n, size_t len)
{
	return len == 14 && all_digits(n, 14) && !all_zero(n, 14) ?
		       FIT_NOCHECK : FIT_NO;
}

/* -- Amazon -- */
static enum fit fit_amazon_tba(const char *n, size_t len)
{
	if (len != 15 || n[0] != 'T' || n[1] != 'B' || !strchr("ACM", n[2]) ||
	    !all_digits(n + 3, 12))
		return FIT_NO;
	return FIT_NOCHECK;
}

static enum fit fit_amazon_intl(const char *n, size_t len)
{
	if (len != 11 || !strchr("AFC", n[0]) || !all_digits(n + 1, 10))
		return FIT_NO;
	return FIT_NOCHECK;
}

/* Amazon Logistics UK/EU: Q + a letter + 10 digits ("Your item(s) is
 * (are) being sent by Amazon Logistics. Your tracking number is
 * QA0881872248", a real amazon.co.uk dispatch mail). No check digit. */
static enum fit fit_amazon_q(const char *n, size_t len)
{
	if (len != 12 || n[0] != 'Q' || n[1] < 'A' || n[1] > 'Z' ||
	    !all_digits(n + 2, 10))
		return FIT_NO;
	return FIT_NOCHECK;
}

/* -- OnTrac: C/D + 13 digits + check; C counts as 4, D as 5 -- */
static enum fit fit_ontrac(const char *n, size_t len)
{
	char buf[14];

	if (len != 15 || (n[0] != 'C' && n[0] != 'D') || !all_digits(n + 1, 14))
		return FIT_NO;
	buf[0] = n[0] == 'C' ? '4' : '5';
	memcpy(buf + 1, n + 1, 13);
	if (all_zero(n + 1, 13))
		return FIT_BAD;
	return checked(mod10_lr(buf, 14, 1, 2) == dv(n[14]));
}

/* -- LaserShip -- */
static enum fit fit_lasership(const char *n, size_t len)
{
	if (len == 10 && n[0] == 'L' && strchr("AIEHNX", n[1]) &&
	    n[2] >= '1' && n[2] <= '3' && all_digits(n + 3, 7))
		return FIT_NOCHECK;
	if (len < 15 || memcmp(n, "1LS", 3) != 0)
		return FIT_NO;
	if (len == 15 && n[3] == '7' && (n[4] == '1' || n[4] == '2') &&
	    all_digits(n + 4, 11))
		return FIT_NOCHECK;
	if (len == 17 && n[3] == '7' && all_digits(n + 4, 13) &&
	    n[16] == '1' && n[7] == '0' && n[8] == '1')
		return FIT_NOCHECK;
	if (len == 15 && n[3] == 'C' && n[4] == 'X' && all_alnum(n + 5, 10))
		return FIT_NOCHECK;
	/* LaserShip (now OnTrac) labels: 1LS + 12-14 letters and digits,
	 * the forms above and newer ones (a real Walmart mail names OnTrac
	 * beside such a number). No check digit. */
	if (len <= 17 && all_alnum(n + 3, len - 3))
		return FIT_NOCHECK;
	return FIT_NO;
}

/* -- Canada Post 16 -- */
static enum fit fit_canada_post(const char *n, size_t len)
{
	if (len != 16 || !all_digits(n, 16))
		return FIT_NO;
	if (all_zero(n, 15))
		return FIT_BAD;
	return checked(mod10_lr(n, 15, 3, 1) == dv(n[15]));
}

/* -- Purolator -- */
static enum fit fit_purolator_12(const char *n, size_t len)
{
	if (len != 12 || n[0] < '0' || n[0] > '5' || !all_digits(n, 12))
		return FIT_NO;
	if (all_zero(n, 11))
		return FIT_BAD;
	return checked(luhn(n, 11) == dv(n[11]));
}

static enum fit fit_purolator_alpha(const char *n, size_t len)
{
	return len == 12 && all_upper(n, 3) && all_digits(n + 3, 9) ?
		       FIT_NOCHECK : FIT_NO;
}

/* -- S10 (any postal operator; carrier from the country code) -- */
bool carrier_iso_country(const char *cc)
{
	for (size_t i = 0; i + 1 < sizeof(iso_countries); i += 3)
		if (iso_countries[i] == cc[0] && iso_countries[i + 1] == cc[1])
			return true;
	return false;
}

static enum fit fit_s10(const char *n, size_t len)
{
	if (len != 13 || !all_upper(n, 2) || !all_digits(n + 2, 9) ||
	    !all_upper(n + 11, 2) || !carrier_iso_country(n + 11))
		return FIT_NO;
	if (all_zero(n + 2, 8))
		return FIT_BAD;
	return checked(s10_check(n + 2) == dv(n[10]));
}

/* -- Chinese cross-border -- */
static enum fit fit_cainiao(const char *n, size_t len)
{
	if (len >= 14 && len <= 18 && n[0] == 'L' && n[1] == 'P' &&
	    all_digits(n + 2, len - 2))
		return FIT_NOCHECK;
	if (len >= 14 && len <= 20 && n[0] == 'C' && n[1] == 'N' &&
	    all_upper(n + 2, 2) && all_alnum(n + 4, len - 4) &&
	    count_digits(n + 4, len - 4) >= 8)
		return FIT_NOCHECK;
	return FIT_NO;
}

static enum fit fit_yanwen(const char *n, size_t len)
{
	if (len == 13 && all_upper(n, 2) && all_digits(n + 2, 9) &&
	    n[11] == 'Y' && (n[12] == 'P' || n[12] == 'W'))
		return FIT_NOCHECK;
	if ((len == 12 || len == 13) && n[0] == 'Y' && all_upper(n, 3) &&
	    all_digits(n + 3, len - 3))
		return FIT_NOCHECK;
	return FIT_NO;
}

static enum fit fit_yunexpress(const char *n, size_t len)
{
	return len == 18 && n[0] == 'Y' && n[1] == 'T' &&
			       all_digits(n + 2, 16) ?
		       FIT_NOCHECK : FIT_NO;
}

static enum fit fit_4px(const char *n, size_t len)
{
	size_t end = len;

	if (len < 13 || memcmp(n, "4PX", 3) != 0)
		return FIT_NO;
	if (n[len - 2] == 'C' && n[len - 1] == 'N')
		end -= 2;
	if (end - 3 < 10 || end - 3 > 16 || !all_digits(n + 3, end - 3))
		return FIT_NO;
	return FIT_NOCHECK;
}

static enum fit fit_sf(const char *n, size_t len)
{
	return (len == 14 || len == 15) && n[0] == 'S' && n[1] == 'F' &&
			       all_digits(n + 2, len - 2) ?
		       FIT_NOCHECK : FIT_NO;
}

/* -- DPD -- */
static enum fit fit_dpd_checked(const char *n, size_t len)
{
	if ((len != 15 && len != 28) || !all_digits(n, len - 1) ||
	    (!is_digit(n[len - 1]) && !is_upper(n[len - 1])))
		return FIT_NO;
	if (all_zero(n, len - 1))
		return FIT_BAD;
	return checked(mod37_36(n, len - 1) == n[len - 1]);
}

/* -- Europe, UK -- */
static enum fit fit_gls(const char *n, size_t len)
{
	return len == 11 && all_digits(n, 11) && !all_zero(n, 11) ?
		       FIT_NOCHECK : FIT_NO;
}

static enum fit fit_evri(const char *n, size_t len)
{
	return len == 16 && n[0] == 'H' && all_alnum(n, 16) &&
			       count_digits(n, 16) >= 8 ?
		       FIT_NOCHECK : FIT_NO;
}

/* Hermes UK (now Evri) also used 16-digit numbers ("Tracking Number
 * 8888297016898882" in a real myhermes.co.uk mail). No check digit. */
static enum fit fit_evri_digits(const char *n, size_t len)
{
	return len == 16 && all_digits(n, 16) && !all_zero(n, 16) ?
		       FIT_NOCHECK : FIT_NO;
}

/* DPD Polska waybills: 13 digits and a letter, e.g. "...451U" (a real
 * dpd.com.pl notice). No check digit known. */
static enum fit fit_dpd_pl(const char *n, size_t len)
{
	return len == 14 && all_digits(n, 13) && n[13] >= 'A' &&
			       n[13] <= 'Z' && !all_zero(n, 13) ?
		       FIT_NOCHECK : FIT_NO;
}

/* InPost parcel numbers: 24 digits, no check digit published. */
static enum fit fit_inpost(const char *n, size_t len)
{
	return len == 24 && all_digits(n, 24) && !all_zero(n, 24) ?
		       FIT_NOCHECK : FIT_NO;
}

static enum fit fit_yodel(const char *n, size_t len)
{
	if (len == 18 && n[0] == 'J' && n[1] == 'D' && all_digits(n + 2, 16))
		return FIT_NOCHECK;
	if (len == 19 && n[0] == 'J' && n[1] == 'J' && n[2] == 'D' &&
	    all_digits(n + 3, 16))
		return FIT_NOCHECK;
	return FIT_NO;
}

static enum fit fit_postnl(const char *n, size_t len)
{
	if (len < 13 || len > 15 || n[0] != '3' || n[1] != 'S')
		return FIT_NO;
	return all_upper(n + 2, 4) && all_digits(n + 6, len - 6) ?
		       FIT_NOCHECK : FIT_NO;
}

/* -- North American others -- */
static enum fit fit_canpar(const char *n, size_t len)
{
	return len == 22 && strchr("CDKLSUXZ", n[0]) && all_digits(n + 1, 21) ?
		       FIT_NOCHECK : FIT_NO;
}

static enum fit fit_old_dominion(const char *n, size_t len)
{
	if (len != 11 || !all_digits(n, 11))
		return FIT_NO;
	if (memcmp(n, "777", 3) != 0 && memcmp(n, "778", 3) != 0 &&
	    memcmp(n, "072", 3) != 0 && memcmp(n, "780", 3) != 0 &&
	    memcmp(n, "80", 2) != 0)
		return FIT_NO;
	return checked(luhn(n, 10) == dv(n[10]));
}

static enum fit fit_speedee(const char *n, size_t len)
{
	if (len != 20 || n[0] != 'S' || n[1] != 'P')
		return FIT_NO;
	return all_digits(n + 2, 18) ? FIT_NOCHECK : FIT_NO;
}

static enum fit fit_gofo(const char *n, size_t len)
{
	return len == 18 && memcmp(n, "GFUS", 4) == 0 && all_digits(n + 4, 14) ?
		       FIT_NOCHECK : FIT_NO;
}

static enum fit fit_landmark(const char *n, size_t len)
{
	return len == 13 && memcmp(n, "LTN", 3) == 0 && all_digits(n + 3, 8) &&
			       n[11] == 'N' && n[12] == '1' ?
		       FIT_NOCHECK : FIT_NO;
}

/* Order matters only for the order of candidates: best known first. */
const struct carrier_format carrier_formats[] = {
	{ C_UPS, "1Z", fit_ups_1z, FMT_CHECK | FMT_DISTINCT },
	{ C_UPS, "waybill", fit_ups_waybill, FMT_CHECK },
	{ C_UPS, "S10", fit_s10, FMT_CHECK | FMT_DISTINCT | FMT_S10 },
	{ C_USPS, "IMpb", fit_usps_impb, FMT_CHECK | FMT_DISTINCT },
	{ C_USPS, "420+ZIP IMpb", fit_usps_routed, FMT_CHECK | FMT_DISTINCT },
	{ C_USPS, "20", fit_usps_20, FMT_CHECK },
	{ C_FEDEX, "12", fit_fedex_12, FMT_CHECK },
	{ C_FEDEX, "15 Ground", fit_fedex_15, FMT_CHECK },
	{ C_FEDEX, "18 SSCC", fit_fedex_sscc18, FMT_CHECK },
	{ C_FEDEX, "20 SmartPost", fit_fedex_20, FMT_CHECK },
	{ C_FEDEX, "22 Ground 96", fit_fedex_22, FMT_CHECK | FMT_DISTINCT },
	{ C_FEDEX, "32 ASTRA", fit_fedex_32, FMT_CHECK },
	{ C_FEDEX, "34", fit_fedex_34, FMT_CHECK | FMT_DISTINCT },
	{ C_FEDEX, "SmartPost IMpb", fit_impb_consolidator,
	  FMT_CHECK | FMT_DISTINCT },
	{ C_DHL, "Express", fit_dhl_express,
	  FMT_CHECK | FMT_WEAK | FMT_UNDECIDED },
	{ C_DHL, "piece ID", fit_dhl_piece, 0 },
	{ C_DHL, "Paket SSCC", fit_dhl_paket, FMT_CHECK | FMT_DISTINCT },
	{ C_DHL_ECOMMERCE, "prefixed", fit_dhl_ecom, 0 },
	{ C_DHL_ECOMMERCE, "14", fit_digits14, 0 },
	{ C_DHL_ECOMMERCE, "IMpb", fit_impb_consolidator,
	  FMT_CHECK | FMT_DISTINCT },
	{ C_AMAZON, "TBA", fit_amazon_tba, 0 },
	{ C_AMAZON, "international", fit_amazon_intl, 0 },
	{ C_AMAZON, "UK/EU Q", fit_amazon_q, 0 },
	{ C_ONTRAC, "C/D", fit_ontrac, FMT_CHECK | FMT_DISTINCT },
	{ C_LASERSHIP, "LaserShip", fit_lasership, 0 },
	{ C_CANADA_POST, "16", fit_canada_post, FMT_CHECK },
	{ C_PUROLATOR, "12", fit_purolator_12, FMT_CHECK },
	{ C_PUROLATOR, "alpha", fit_purolator_alpha, 0 },
	{ C_CAINIAO, "LP/CN", fit_cainiao, 0 },
	{ C_YANWEN, "Yanwen", fit_yanwen, 0 },
	{ C_YUNEXPRESS, "YT", fit_yunexpress, 0 },
	{ C_4PX, "4PX", fit_4px, 0 },
	{ C_SF_EXPRESS, "SF", fit_sf, 0 },
	{ C_DPD, "checked", fit_dpd_checked, FMT_CHECK },
	{ C_DPD, "14", fit_digits14, 0 },
	{ C_GLS, "11", fit_gls, 0 },
	{ C_EVRI, "H", fit_evri, 0 },
	{ C_EVRI, "16 digits", fit_evri_digits, 0 },
	{ C_DPD, "Polska", fit_dpd_pl, 0 },
	{ C_INPOST, "24 digits", fit_inpost, 0 },
	{ C_YODEL, "JD", fit_yodel, 0 },
	{ C_POSTNL, "3S", fit_postnl, 0 },
	{ C_CANPAR, "22", fit_canpar, 0 },
	{ C_OLD_DOMINION, "PRO", fit_old_dominion, FMT_CHECK },
	{ C_SPEEDEE, "SP", fit_speedee, 0 },
	{ C_GOFO, "GFUS", fit_gofo, 0 },
	{ C_LANDMARK, "LTN", fit_landmark, 0 },
};

const size_t carrier_n_formats =
	sizeof(carrier_formats) / sizeof(carrier_formats[0]);
