/* carrier_internal.h - what carrier.c (the table, decisions, names) and
 * carrier_formats.c (number formats and check digits) share. Not for use
 * outside src/parse/carrier*.c. */
#ifndef TRACKMAIL_CARRIER_INTERNAL_H
#define TRACKMAIL_CARRIER_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>

enum carrier_index {
	C_UPS,
	C_USPS,
	C_FEDEX,
	C_DHL,
	C_DHL_ECOMMERCE,
	C_AMAZON,
	C_ONTRAC,
	C_LASERSHIP,
	C_CANADA_POST,
	C_PUROLATOR,
	C_ROYAL_MAIL,
	C_AUSTRALIA_POST,
	C_CHINA_POST,
	C_CAINIAO,
	C_YANWEN,
	C_YUNEXPRESS,
	C_4PX,
	C_SF_EXPRESS,
	C_DPD,
	C_GLS,
	C_EVRI,
	C_YODEL,
	C_POSTNL,
	C_DEUTSCHE_POST,
	C_JAPAN_POST,
	C_CANPAR,
	C_OLD_DOMINION,
	C_SPEEDEE,
	C_GOFO,
	C_LANDMARK,
	C_LA_POSTE,
	C_CORREOS,
	C_POSTE_ITALIANE,
	C_SWISS_POST,
	C_BPOST,
	C_AUSTRIAN_POST,
	C_POSTNORD,
	C_AN_POST,
	C_POCZTA_POLSKA,
	C_HONGKONG_POST,
	C_SINGAPORE_POST,
	C_KOREA_POST,
	C_INDIA_POST,
	C_CORREIOS,
	C_NZ_POST,
	C_ISRAEL_POST,
	C_INPOST,
	C_UPU,
	C_COUNT
};

enum fit {
	FIT_NO,      /* shape does not fit */
	FIT_BAD,     /* shape fits, check digit fails */
	FIT_NOCHECK, /* fits; the format has no check digit */
	FIT_OK,      /* fits and the check digit passes */
};

enum {
	FMT_CHECK = 1u << 0,     /* the format carries a check digit */
	FMT_WEAK = 1u << 1,      /* its check digit alone is too weak to trust
				    in free text (10/11-digit mod 7) */
	FMT_UNDECIDED = 1u << 2, /* other carriers use the same numbers: the
				    format names a candidate, never decides */
	FMT_DISTINCT = 1u << 3,  /* shape + check digit are distinctive
				    enough to accept unlabelled in free text */
	FMT_S10 = 1u << 4,       /* carrier is decided by the country code */
};

struct carrier_format {
	enum carrier_index carrier;
	const char *name;
	enum fit (*fit)(const char *n, size_t len);
	unsigned flags;
};

static inline bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static inline bool is_upper(char c)
{
	return c >= 'A' && c <= 'Z';
}

/* Every format, best known first (the order of candidates). */
extern const struct carrier_format carrier_formats[];
extern const size_t carrier_n_formats;

/* cc is an ISO 3166-1 alpha-2 code an S10 number may end with. */
bool carrier_iso_country(const char *cc);

#endif
