/* carrier.c - the carrier table, number formats with their check digits,
 * carrier names, and the decision that combines format, name, links and the
 * supplier's usual carriers (docs/carriers.md).
 *
 * Everything is immutable data and pure functions. A number is first
 * normalized (spaces and dashes out, upper case), then every format of the
 * table is tried: a format either does not fit, fits with a passing check
 * digit (strong), fits with no check digit to verify (weak: needs evidence in
 * free text), or fits in shape with a failing check digit. */
#include "parse/carrier.h"

#include <errno.h>
#include <stdint.h>
#include <string.h>

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

struct carrier {
	const char *id;
	const char *name;
	/* Tracking page; "%s" stands for the number (replaced by hand, never
	 * used as a printf format). NULL when the carrier has none. */
	const char *url;
	/* Hosts of its tracking links, space-separated; a host matches itself
	 * and its subdomains. */
	const char *hosts;
	/* How mails name it, lower case, '|'-separated; matched as words. */
	const char *aliases;
	/* Human description for `carriers list` and docs/carriers.md. */
	const char *formats;
	const char *check;
	/* ISO country codes of S10 numbers this postal operator issued. */
	const char *s10;
};

#define S10_URL_17TRACK "https://t.17track.net/en#nums=%s"

static const struct carrier carriers[C_COUNT] = {
	[C_UPS] = { "ups", "UPS",
		"https://www.ups.com/track?tracknum=%s",
		"ups.com",
		"ups|united parcel service|ups ground|ups mail innovations",
		"1Z + 16 alnum; waybill [AHJKTV] + 10 digits",
		"mod 10 (odd positions x2, letters (c-3)%10)", NULL },
	[C_USPS] = { "usps", "USPS",
		"https://tools.usps.com/go/TrackConfirmAction?tLabels=%s",
		"usps.com usps.gov",
		"usps|u.s. postal service|us postal service|"
		"united states postal service|u.s.p.s.|u.s. mail|"
		"usps informed delivery|priority mail|first-class package",
		"20 digits; IMpb 22/26 digits 9[1-5]...; 420+ZIP prefixes "
		"(30/34 digits); S10 ..US",
		"mod 10 (x3 from the right); 20-digit: also with 91 prefix; "
		"S10 mod 11", "US" },
	[C_FEDEX] = { "fedex", "FedEx",
		"https://www.fedex.com/fedextrack/?trknbr=%s",
		"fedex.com",
		"fedex|fed ex|federal express|fedex ground|fedex express|"
		"fedex smartpost|fedex home delivery|fedex ground economy",
		"12 (Express), 15 (Ground), 18 (SSCC), 20 (SmartPost), "
		"22 (96...), 32 (ASTRA), 34 digits; 92/93-612 IMpb",
		"12/32/34: weights 1,3,7 mod 11 mod 10; 15/20/22: mod 10 "
		"x3; 18: GS1 mod 10", NULL },
	[C_DHL] = { "dhl", "DHL",
		"https://www.dhl.com/en/express/tracking.html?AWB=%s&brand=DHL",
		"dhl.com dhl.de dhl.co.uk dhl.fr dhl.nl dhl.es dhl.it "
		"dhl.ca dhl.com.au dhlparcel.nl dhlparcel.co.uk",
		"dhl|dhl express|dhl paket|dhl parcel|dhl parcel uk|"
		"dhl worldwide express",
		"Express 10/11 digits; piece ID J + 2-3 letters + 9-10 digits; "
		"Paket 00340434 + 12 digits",
		"Express mod 7 (weak: shared with others); Paket GS1 mod 10",
		NULL },
	[C_DHL_ECOMMERCE] = { "dhl_ecommerce", "DHL eCommerce",
		"https://webtrack.dhlecs.com/?trackingnumber=%s",
		"dhlecs.com dhlecommerce.com webtrack.dhlglobalmail.com "
		"dhlglobalmail.com",
		"dhl ecommerce|dhl e-commerce|dhl ecs|dhl global mail|"
		"dhl smartmail|dhl smartmail parcel|dhlecs",
		"GM/LX/RX/UV/CN/SG/TH/IN/HK/MY + 10-39 alnum; 14 digits; "
		"92/93-612 IMpb",
		"none (IMpb: USPS mod 10)", NULL },
	[C_AMAZON] = { "amazon", "Amazon Logistics",
		"https://track.amazon.com/tracking/%s",
		"track.amazon.com amazonlogistics.com",
		"amazon logistics|amazon shipping|amzl|amazon|amzl_us|"
		"amazon transportation services",
		"TBA/TBC/TBM + 12 digits; A/F/C + 10 digits (international); "
		"Q + letter + 10 digits (UK/EU)",
		"none", NULL },
	[C_ONTRAC] = { "ontrac", "OnTrac",
		"https://www.ontrac.com/tracking/?number=%s",
		"ontrac.com",
		"ontrac|on trac",
		"C or D + 14 digits",
		"mod 10 (odd positions x2, C=4 D=5 prefixed)", NULL },
	[C_LASERSHIP] = { "lasership", "LaserShip",
		"https://www.lasership.com/track/%s",
		"lasership.com",
		"lasership|laser ship",
		"L[AIEHNX][1-3] + 7 digits; 1LS7 + 11 digits; 1LS7 + 12 "
		"digits -1; 1LSCX + 10 alnum",
		"none", NULL },
	[C_CANADA_POST] = { "canada_post", "Canada Post",
		"https://www.canadapost-postescanada.ca/track-reperage/en#/"
		"search?searchFor=%s",
		"canadapost-postescanada.ca canadapost.ca postescanada.ca",
		"canada post|postes canada|canadapost|postes canada post",
		"16 digits; S10 ..CA",
		"16: mod 10 (even positions x3); S10 mod 11", "CA" },
	[C_PUROLATOR] = { "purolator", "Purolator",
		"https://www.purolator.com/en/shipping/tracker?pin=%s",
		"purolator.com",
		"purolator",
		"12 digits [0-5]...; 3 letters + 9 digits",
		"12: Luhn (weak: shared with FedEx 12)", NULL },
	[C_ROYAL_MAIL] = { "royal_mail", "Royal Mail",
		"https://www.royalmail.com/track-your-item#/"
		"tracking-results/%s",
		"royalmail.com royalmail.co.uk",
		"royal mail|royalmail|royal mail tracked|parcelforce",
		"S10 ..GB", "S10 mod 11", "GB" },
	[C_AUSTRALIA_POST] = { "australia_post", "Australia Post",
		"https://auspost.com.au/mypost/track/details/%s",
		"auspost.com.au",
		"australia post|auspost|aus post",
		"S10 ..AU", "S10 mod 11", "AU" },
	[C_CHINA_POST] = { "china_post", "China Post",
		"https://www.ems.com.cn/qps/yjcx?mailNum=%s",
		"chinapost.com.cn ems.com.cn 11183.com.cn",
		"china post|chinapost|china ems|china post air mail|"
		"china post registered|\xe4\xb8\xad\xe5\x9b\xbd\xe9\x82\xae"
		"\xe6\x94\xbf", /* 中国邮政 */
		"S10 ..CN", "S10 mod 11", "CN" },
	[C_CAINIAO] = { "cainiao", "Cainiao",
		"https://global.cainiao.com/newDetail.htm?mailNoList=%s",
		"cainiao.com global.cainiao.com",
		"cainiao|aliexpress standard shipping|aliexpress shipping|"
		"cainiao super economy|\xe8\x8f\x9c\xe9\xb8\x9f", /* 菜鸟 */
		"LP + 12-16 digits; CNAQV/CNGB/CNUS... (CN + 2 letters + "
		"10-16 alnum)",
		"none", NULL },
	[C_YANWEN] = { "yanwen", "Yanwen",
		"https://track.yw56.com.cn/en/querydel?nums=%s",
		"yw56.com.cn track.yw56.com.cn",
		"yanwen|yanwen express|\xe7\x87\x95\xe6\x96\x87", /* 燕文 */
		"2 letters + 9 digits + YP/YW; Y + 2 letters + 9-10 digits",
		"none", NULL },
	[C_YUNEXPRESS] = { "yunexpress", "YunExpress",
		"https://www.yuntrack.com/parcelTracking?id=%s",
		"yuntrack.com yunexpress.com",
		"yunexpress|yun express|yuntrack|"
		"\xe4\xba\x91\xe9\x80\x94", /* 云途 */
		"YT + 16 digits", "none", NULL },
	[C_4PX] = { "4px", "4PX",
		"https://track.4px.com/#/result/0/%s",
		"4px.com track.4px.com",
		"4px|4px express|4px worldwide|"
		"\xe9\x80\x92\xe5\x9b\x9b\xe6\x96\xb9", /* 递四方 */
		"4PX + 10-16 digits + optional CN", "none", NULL },
	[C_SF_EXPRESS] = { "sf_express", "SF Express",
		"https://www.sf-express.com/we/ow/chn/sc/waybill/"
		"waybill-detail/%s",
		"sf-express.com sf-international.com",
		"sf express|s.f. express|sf-express|sf international|"
		"\xe9\xa1\xba\xe4\xb8\xb0", /* 顺丰 */
		"SF + 12-13 digits", "none", NULL },
	[C_DPD] = { "dpd", "DPD",
		"https://tracking.dpd.de/status/en_US/parcel/%s",
		"dpd.de dpd.co.uk dpd.com dpd.fr dpd.nl dpdgroup.com "
		"dpd.at dpd.be dpd.ie dpd.pl",
		"dpd|dpd local|dpd uk|dpd predict",
		"14 digits + check char; 28 (ZIP 7 + 14 + service 3 + "
		"country 3 + check char); 14 digits alone; 13 digits + U "
		"(DPD Polska waybill)",
		"ISO 7064 mod 37,36", NULL },
	[C_GLS] = { "gls", "GLS",
		"https://gls-group.com/GROUP/en/parcel-tracking?match=%s",
		"gls-group.com gls-group.eu gls-us.com gls-pakete.de "
		"gls-italy.com gls-spain.es",
		"gls|general logistics systems|gls us|gls parcel",
		"11 digits", "none", NULL },
	[C_EVRI] = { "evri", "Evri",
		"https://www.evri.com/track/parcel/%s",
		"evri.com myhermes.co.uk hermes-europe.co.uk",
		"evri|hermes|myhermes|hermes uk",
		"H + 15 alnum; 16 digits (older Hermes UK)", "none", NULL },
	[C_YODEL] = { "yodel", "Yodel",
		"https://www.yodel.co.uk/tracking/%s",
		"yodel.co.uk",
		"yodel|yodel direct|yodel xpect",
		"JD or JJD + 16 digits", "none", NULL },
	[C_POSTNL] = { "postnl", "PostNL",
		"https://postnl.nl/tracktrace/?B=%s",
		"postnl.nl postnl.com jouw.postnl.nl postnl.post",
		"postnl|post nl|tnt post",
		"3S + 4 letters + 7-9 digits; S10 ..NL", "S10 mod 11", "NL" },
	[C_DEUTSCHE_POST] = { "deutsche_post", "Deutsche Post",
		"https://www.deutschepost.de/sendung/simpleQueryResult.html?"
		"form.sendungsnummer=%s",
		"deutschepost.de",
		"deutsche post|deutschepost|warenpost|dp ag",
		"S10 ..DE", "S10 mod 11", "DE" },
	[C_JAPAN_POST] = { "japan_post", "Japan Post",
		"https://trackings.post.japanpost.jp/services/srv/search/"
		"?requestNo1=%s&locale=en",
		"japanpost.jp post.japanpost.jp trackings.post.japanpost.jp",
		"japan post|japanpost|yu-pack|"
		"\xe6\x97\xa5\xe6\x9c\xac\xe9\x83\xb5\xe4\xbe\xbf", /* 日本郵便 */
		"S10 ..JP", "S10 mod 11", "JP" },
	[C_CANPAR] = { "canpar", "Canpar",
		"https://www.canpar.com/en/tracking/track.htm?barcode=%s",
		"canpar.com canpar.ca",
		"canpar|canpar express",
		"[CDKLSUXZ] + 21 digits", "none", NULL },
	[C_OLD_DOMINION] = { "old_dominion", "Old Dominion Freight Line",
		"https://www.odfl.com/us/en/tools/trace-track-ltl-freight/"
		"trace.html?proNumbers=%s",
		"odfl.com",
		"old dominion|odfl|old dominion freight line",
		"11 digits 077x/072/780/80...", "Luhn", NULL },
	[C_SPEEDEE] = { "speedee", "Spee-Dee Delivery",
		"https://speedeedelivery.com/track-a-package/?v=%s",
		"speedeedelivery.com",
		"spee-dee|speedee|spee dee delivery",
		"SP + 18 digits", "none", NULL },
	[C_GOFO] = { "gofo", "GOFO Express",
		"https://www.gofoexpress.com/tracking.html?searchID=%s",
		"gofoexpress.com gofo.com",
		"gofo|gofo express",
		"GFUS + 14 digits", "none", NULL },
	[C_LANDMARK] = { "landmark", "Landmark Global",
		"https://track.landmarkglobal.com/?search=%s",
		"landmarkglobal.com track.landmarkglobal.com",
		"landmark global|landmark",
		"LTN + 8 digits + N1", "none", NULL },
	[C_LA_POSTE] = { "la_poste", "La Poste / Colissimo",
		"https://www.laposte.fr/outils/suivre-vos-envois?code=%s",
		"laposte.fr colissimo.fr",
		"la poste|colissimo|laposte",
		"S10 ..FR", "S10 mod 11", "FR" },
	[C_CORREOS] = { "correos", "Correos",
		"https://www.correos.es/es/en/tools/tracker/items/details?"
		"tracking-number=%s",
		"correos.es",
		"correos|correos express|correos de espa\xc3\xb1" "a",
		"S10 ..ES", "S10 mod 11", "ES" },
	[C_POSTE_ITALIANE] = { "poste_italiane", "Poste Italiane",
		"https://www.poste.it/cerca/index.html#/"
		"risultati-spedizioni/%s",
		"poste.it",
		"poste italiane|posteitaliane|poste delivery",
		"S10 ..IT", "S10 mod 11", "IT" },
	[C_SWISS_POST] = { "swiss_post", "Swiss Post",
		"https://service.post.ch/ekp-web/ui/entry/shipping/1/%s",
		"post.ch",
		"swiss post|die post|la poste suisse|post ch",
		"S10 ..CH", "S10 mod 11", "CH" },
	[C_BPOST] = { "bpost", "bpost",
		"https://track.bpost.cloud/btr/web/#/search?itemCode=%s",
		"bpost.be bpost.cloud",
		"bpost|belgian post",
		"S10 ..BE", "S10 mod 11", "BE" },
	[C_AUSTRIAN_POST] = { "austrian_post", "Austrian Post",
		"https://www.post.at/s/sendungsdetails?snr=%s",
		"post.at",
		"austrian post|\xc3\xb6sterreichische post|post.at",
		"S10 ..AT", "S10 mod 11", "AT" },
	[C_POSTNORD] = { "postnord", "PostNord",
		"https://www.postnord.se/en/our-tools/track-and-trace?"
		"shipmentId=%s",
		"postnord.se postnord.dk postnord.com",
		"postnord|post nord",
		"S10 ..SE/DK", "S10 mod 11", "SE DK" },
	[C_AN_POST] = { "an_post", "An Post",
		"https://www.anpost.com/Post-Parcels/Track/History?item=%s",
		"anpost.com anpost.ie",
		"an post",
		"S10 ..IE", "S10 mod 11", "IE" },
	[C_POCZTA_POLSKA] = { "poczta_polska", "Poczta Polska",
		"https://emonitoring.poczta-polska.pl/?numer=%s",
		"poczta-polska.pl",
		"poczta polska|pocztex",
		"S10 ..PL", "S10 mod 11", "PL" },
	[C_HONGKONG_POST] = { "hongkong_post", "Hongkong Post",
		"https://www.hongkongpost.hk/en/mail_tracking/index.html?"
		"trackcode=%s",
		"hongkongpost.hk",
		"hongkong post|hong kong post|hk post",
		"S10 ..HK", "S10 mod 11", "HK" },
	[C_SINGAPORE_POST] = { "singapore_post", "Singapore Post",
		"https://www.singpost.com/track-items?trackingid=%s",
		"singpost.com",
		"singapore post|singpost",
		"S10 ..SG", "S10 mod 11", "SG" },
	[C_KOREA_POST] = { "korea_post", "Korea Post",
		"https://service.epost.go.kr/"
		"trace.RetrieveEmsRigiTraceList.comm?"
		"POST_CODE=%s",
		"epost.go.kr",
		"korea post|epost",
		"S10 ..KR", "S10 mod 11", "KR" },
	[C_INDIA_POST] = { "india_post", "India Post",
		"https://www.indiapost.gov.in/_layouts/15/dop.portal.tracking/"
		"trackconsignment.aspx?consignment=%s",
		"indiapost.gov.in",
		"india post|speed post",
		"S10 ..IN", "S10 mod 11", "IN" },
	[C_CORREIOS] = { "correios", "Correios (Brazil)",
		"https://rastreamento.correios.com.br/app/index.php?objeto=%s",
		"correios.com.br",
		"correios|correios brasil",
		"S10 ..BR", "S10 mod 11", "BR" },
	[C_NZ_POST] = { "nz_post", "NZ Post",
		"https://www.nzpost.co.nz/tools/tracking/item/%s",
		"nzpost.co.nz",
		"nz post|new zealand post|courierpost",
		"S10 ..NZ", "S10 mod 11", "NZ" },
	[C_ISRAEL_POST] = { "israel_post", "Israel Post",
		"https://mypost.israelpost.co.il/itemtrace?itemcode=%s",
		"israelpost.co.il",
		"israel post|doar israel",
		"S10 ..IL", "S10 mod 11", "IL" },
	[C_INPOST] = { "inpost", "InPost",
		"https://inpost.pl/sledzenie-przesylek?number=%s",
		"inpost.pl inpost.co.uk inpost.eu inpost.it",
		"inpost|paczkomat|paczkomaty|inpost uk",
		"24 digits", "none", NULL },
	[C_UPU] = { "upu", "Postal service (UPU S10)",
		S10_URL_17TRACK,
		"",
		"",
		"S10 of a country without its own entry",
		"S10 mod 11 (never decided by format alone)", NULL },
};

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

/* ---- format fitting --------------------------------------------------- */

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
static bool iso_country(const char *cc)
{
	for (size_t i = 0; i + 1 < sizeof(iso_countries); i += 3)
		if (iso_countries[i] == cc[0] && iso_countries[i + 1] == cc[1])
			return true;
	return false;
}

static enum fit fit_s10(const char *n, size_t len)
{
	if (len != 13 || !all_upper(n, 2) || !all_digits(n + 2, 9) ||
	    !all_upper(n + 11, 2) || !iso_country(n + 11))
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
static const struct carrier_format formats[] = {
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

#define N_FORMATS (sizeof(formats) / sizeof(formats[0]))

/* ---- the table -------------------------------------------------------- */

size_t carrier_count(void)
{
	return C_COUNT;
}

const struct carrier *carrier_at(size_t i)
{
	return i < C_COUNT ? &carriers[i] : NULL;
}

const struct carrier *carrier_find(const char *id)
{
	if (!id)
		return NULL;
	for (size_t i = 0; i < C_COUNT; i++)
		if (strcmp(carriers[i].id, id) == 0)
			return &carriers[i];
	return NULL;
}

const char *carrier_id(const struct carrier *c)
{
	return c ? c->id : NULL;
}

const char *carrier_name(const struct carrier *c)
{
	return c ? c->name : NULL;
}

const char *carrier_formats_text(const struct carrier *c)
{
	return c ? c->formats : NULL;
}

const char *carrier_check_digit_text(const struct carrier *c)
{
	return c ? c->check : NULL;
}

const char *carrier_url_template(const struct carrier *c)
{
	return c ? c->url : NULL;
}

const char *carrier_link_hosts(const struct carrier *c)
{
	return c ? c->hosts : NULL;
}

const char *carrier_s10_countries(const struct carrier *c)
{
	return c ? c->s10 : NULL;
}

const struct carrier *carrier_for_country(const char *cc)
{
	if (!cc || !is_upper(cc[0]) || !is_upper(cc[1]))
		return NULL;
	for (size_t i = 0; i < C_COUNT; i++) {
		const char *s = carriers[i].s10;

		for (; s && s[0] && s[1]; s += s[2] ? 3 : 2)
			if (s[0] == cc[0] && s[1] == cc[1])
				return &carriers[i];
	}
	return iso_country(cc) ? &carriers[C_UPU] : NULL;
}

bool carrier_is_postal(const struct carrier *c)
{
	return c && (c->s10 || c == &carriers[C_UPU]);
}

static size_t carrier_index_of(const struct carrier *c)
{
	return (size_t)(c - carriers);
}

static const struct carrier *format_carrier(const struct carrier_format *f,
					    const char *n)
{
	if (f->flags & FMT_S10)
		return carrier_for_country(n + 11);
	return &carriers[f->carrier];
}

/* Normalizes into out (CARRIER_NUMBER_MAX); returns its length, or
 * SIZE_MAX when the input cannot be a number (other characters, too long,
 * empty). Spaces, tabs, line breaks, dashes and no-break spaces go. */
static size_t normalize(const char *in, size_t len, char *out)
{
	size_t k = 0;
	bool bad = false;

	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)in[i];

		if (c == ' ' || c == '\t' || c == '-' || c == '\r' ||
		    c == '\n')
			continue;
		if (c == 0xc2 && i + 1 < len &&
		    (unsigned char)in[i + 1] == 0xa0) {
			i++;
			continue;
		}
		if (c >= 'a' && c <= 'z')
			c = (unsigned char)(c - 'a' + 'A');
		if (!is_digit((char)c) && !is_upper((char)c))
			bad = true;
		if (k + 1 >= CARRIER_NUMBER_MAX) {
			bad = true;
			break;
		}
		out[k++] = (char)c;
	}
	out[k] = 0;
	return bad || k == 0 ? SIZE_MAX : k;
}

static void copy_input(const char *in, size_t len, char *out)
{
	size_t n = len < CARRIER_NUMBER_MAX - 1 ? len : CARRIER_NUMBER_MAX - 1;

	/* Do not cut a UTF-8 sequence in two. */
	if (n < len)
		while (n > 0 && ((unsigned char)in[n] & 0xc0) == 0x80)
			n--;
	memcpy(out, in, n);
	out[n] = 0;
	for (size_t i = 0; i < n; i++)
		if (out[i] == 0)
			out[i] = ' ';
}

static void add_candidate(struct carrier_check *out, const struct carrier *c)
{
	for (size_t i = 0; i < out->n_candidates; i++)
		if (out->candidates[i] == c)
			return;
	if (out->n_candidates < CARRIER_MAX_CANDIDATES)
		out->candidates[out->n_candidates++] = c;
}

void carrier_check(const char *input, size_t len, struct carrier_check *out)
{
	enum fit best[C_COUNT];
	unsigned strong_flags[C_COUNT];
	size_t n, n_strong = 0, n_weak = 0;
	bool undecided = false, weak_only = true, distinct = false;
	const struct carrier *strong = NULL;

	memset(out, 0, sizeof(*out));
	if (!input)
		return;
	copy_input(input, len, out->input);
	n = normalize(input, len, out->normalized);
	if (n == SIZE_MAX)
		return;
	memset(best, 0, sizeof(best));
	memset(strong_flags, 0, sizeof(strong_flags));
	for (size_t i = 0; i < N_FORMATS; i++) {
		const struct carrier_format *f = &formats[i];
		enum fit r = f->fit(out->normalized, n);
		const struct carrier *c;
		size_t ci;

		if (r == FIT_NO)
			continue;
		c = format_carrier(f, out->normalized);
		if (!c)
			continue;
		ci = carrier_index_of(c);
		if (r > best[ci])
			best[ci] = r;
		if (r == FIT_OK) {
			strong_flags[ci] |= f->flags;
			if (c == &carriers[C_UPU])
				strong_flags[ci] |= FMT_UNDECIDED;
		}
	}
	for (size_t pass = 0; pass < 2; pass++) {
		for (size_t i = 0; i < N_FORMATS; i++) {
			const struct carrier *c =
				format_carrier(&formats[i], out->normalized);
			enum fit want = pass == 0 ? FIT_OK : FIT_NOCHECK;

			if (c && best[carrier_index_of(c)] == want)
				add_candidate(out, c);
		}
	}
	for (size_t i = 0; i < C_COUNT; i++) {
		if (best[i] == FIT_OK) {
			n_strong++;
			strong = &carriers[i];
			if (strong_flags[i] & FMT_UNDECIDED)
				undecided = true;
			if (!(strong_flags[i] & FMT_WEAK))
				weak_only = false;
			if (strong_flags[i] & FMT_DISTINCT)
				distinct = true;
		} else if (best[i] == FIT_NOCHECK) {
			n_weak++;
		}
	}
	out->valid = out->n_candidates > 0;
	if (!out->valid)
		return;
	out->needs_evidence = n_strong == 0 || weak_only;
	out->distinctive = distinct && n_strong == 1 && !undecided;
	if (n_strong == 1 && !undecided)
		out->carrier = strong;
	else if (n_strong == 0 && n_weak == 1)
		out->carrier = out->candidates[0];
}

/* What the carrier's formats say about a normalized number. */
static enum fit carrier_fit(const struct carrier *c, const char *n, size_t len)
{
	enum fit best = FIT_NO;

	for (size_t i = 0; i < N_FORMATS; i++) {
		const struct carrier_format *f = &formats[i];
		enum fit r;

		if (f->flags & FMT_S10) {
			if (!carrier_is_postal(c))
				continue;
		} else if (&carriers[f->carrier] != c) {
			continue;
		}
		r = f->fit(n, len);
		/* An S10 number of another country: the destination's post
		 * tracks it too. */
		if (r > best)
			best = r;
	}
	return best;
}

bool carrier_has_check_digit(const struct carrier *c, const char *number)
{
	char n[CARRIER_NUMBER_MAX];
	size_t len;

	if (!c || !number)
		return false;
	len = normalize(number, strlen(number), n);
	if (len == SIZE_MAX)
		return false;
	for (size_t i = 0; i < N_FORMATS; i++) {
		const struct carrier_format *f = &formats[i];
		enum fit r;

		if (!(f->flags & FMT_CHECK))
			continue;
		if (f->flags & FMT_S10 ? !carrier_is_postal(c) :
					 &carriers[f->carrier] != c)
			continue;
		r = f->fit(n, len);
		if (r == FIT_OK || r == FIT_BAD)
			return true;
	}
	return false;
}

int carrier_tracking_url(const struct carrier *c, const char *number,
			 char *buf, size_t size)
{
	const char *t, *p;
	size_t before, nlen, after;

	if (!c || !c->url || !number)
		return -ENOENT;
	t = c->url;
	p = strstr(t, "%s");
	if (!p)
		return -ENOENT;
	before = (size_t)(p - t);
	after = strlen(p + 2);
	nlen = strlen(number);
	if (!buf || before + nlen + after + 1 > size)
		return -ENOSPC;
	memcpy(buf, t, before);
	memcpy(buf + before, number, nlen);
	memcpy(buf + before + nlen, p + 2, after + 1);
	return 0;
}

/* ---- names ------------------------------------------------------------ */

static inline unsigned char lower(unsigned char c)
{
	return c >= 'A' && c <= 'Z' ? (unsigned char)(c - 'A' + 'a') : c;
}

static inline bool is_word(unsigned char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
	       (c >= 'A' && c <= 'Z');
}

/* Does alias (lower case, alen bytes) occur at text[i] as a word? Short
 * all-letter aliases ("ups", "dhl") must not be written all in lower case
 * in the text ("check-ups" is not UPS). */
static bool alias_at(const char *text, size_t len, size_t i,
		     const char *alias, size_t alen)
{
	bool letters = true, lower_only = true;

	if (alen == 0 || len - i < alen)
		return false;
	for (size_t k = 0; k < alen; k++) {
		unsigned char t = (unsigned char)text[i + k];

		if (lower(t) != (unsigned char)alias[k])
			return false;
		if (!(t >= 'a' && t <= 'z') && !(t >= 'A' && t <= 'Z'))
			letters = false;
		if (t >= 'A' && t <= 'Z')
			lower_only = false;
	}
	if (is_word((unsigned char)alias[0]) && i > 0 &&
	    is_word((unsigned char)text[i - 1]))
		return false;
	if (is_word((unsigned char)alias[alen - 1]) && i + alen < len &&
	    is_word((unsigned char)text[i + alen]))
		return false;
	if (letters && alen <= 4 && lower_only)
		return false;
	return true;
}

/* Short windows (the common case: a carrier field, a line around a
 * number) are lower-cased once and searched with memmem per alias. */
#define NAME_FAST_MAX 512

const struct carrier *carrier_from_name(const char *text, size_t len)
{
	size_t best_pos = SIZE_MAX, best_len = 0;
	const struct carrier *best = NULL;
	char low[NAME_FAST_MAX];
	bool fast = len <= NAME_FAST_MAX;

	if (!text)
		return NULL;
	if (fast)
		for (size_t i = 0; i < len; i++)
			low[i] = (char)lower((unsigned char)text[i]);
	for (size_t ci = 0; ci < C_COUNT; ci++) {
		const char *a = carriers[ci].aliases;

		while (a && *a) {
			const char *bar = strchr(a, '|');
			size_t alen = bar ? (size_t)(bar - a) : strlen(a);
			size_t i = 0;

			while (i + alen <= len && i <= best_pos) {
				if (fast) {
					const char *hit = memmem(low + i,
						len - i, a, alen);

					if (!hit)
						break;
					i = (size_t)(hit - low);
					if (i > best_pos)
						break;
				} else if (lower((unsigned char)text[i]) !=
					   (unsigned char)a[0]) {
					i++;
					continue;
				}
				if (!alias_at(text, len, i, a, alen)) {
					i++;
					continue;
				}
				if (i < best_pos ||
				    (i == best_pos && alen > best_len)) {
					best_pos = i;
					best_len = alen;
					best = &carriers[ci];
				}
				break;
			}
			a = bar ? bar + 1 : NULL;
		}
	}
	return best;
}

/* ---- hosts ------------------------------------------------------------ */

/* Aggregators show any carrier; their links carry numbers, not carriers. */
static const char aggregator_hosts[] =
	"17track.net parcelsapp.com aftership.com track24.net track24.ru "
	"trackingmore.com ship24.com parcelmonitor.com packagetrackr.com "
	"narvar.com wismolabs.com route.com parcelpanel.com "
	"trackingmore.net 17track.com t.17track.net";

static bool host_matches(const char *host, size_t hlen, const char *list,
			 size_t *match_len)
{
	const char *p = list;

	while (p && *p) {
		const char *sp = strchr(p, ' ');
		size_t l = sp ? (size_t)(sp - p) : strlen(p);

		if (l && hlen >= l) {
			const char *tail = host + hlen - l;
			bool eq = true;

			for (size_t k = 0; k < l && eq; k++)
				eq = lower((unsigned char)tail[k]) ==
				     (unsigned char)p[k];
			if (eq && (hlen == l || tail[-1] == '.')) {
				*match_len = l;
				return true;
			}
		}
		p = sp ? sp + 1 : NULL;
	}
	return false;
}

const struct carrier *carrier_from_host(const char *host, size_t len)
{
	const struct carrier *best = NULL;
	size_t best_len = 0;

	if (!host)
		return NULL;
	for (size_t i = 0; i < C_COUNT; i++) {
		size_t l;

		if (host_matches(host, len, carriers[i].hosts, &l) &&
		    l > best_len) {
			best = &carriers[i];
			best_len = l;
		}
	}
	return best;
}

bool carrier_host_is_aggregator(const char *host, size_t len)
{
	size_t l;

	return host && host_matches(host, len, aggregator_hosts, &l);
}

/* ---- decision --------------------------------------------------------- */

static bool among(const struct carrier_check *ch, const struct carrier *c)
{
	for (size_t i = 0; i < ch->n_candidates; i++)
		if (ch->candidates[i] == c)
			return true;
	return false;
}

/* Moves c to the front of the candidates and decides it. */
static int decide(struct carrier_decision *d, const struct carrier *c,
		  const char *evidence)
{
	struct carrier_check *ch = &d->check;
	size_t i;

	for (i = 0; i < ch->n_candidates && ch->candidates[i] != c; i++)
		;
	if (i == ch->n_candidates) {
		if (ch->n_candidates == CARRIER_MAX_CANDIDATES)
			ch->n_candidates--;
		i = ch->n_candidates++;
	}
	memmove(&ch->candidates[1], &ch->candidates[0],
		i * sizeof(ch->candidates[0]));
	ch->candidates[0] = c;
	d->carrier = c;
	d->reason = NULL;
	d->evidence = evidence;
	return 1;
}

static int undecided(struct carrier_decision *d, const char *reason)
{
	d->carrier = NULL;
	d->reason = reason;
	d->evidence = NULL;
	return 0;
}

/* Does the named carrier fit the number at all (its own formats, or any
 * S10 number when it is a postal operator: the destination's post tracks
 * an incoming S10 item under the same number)? */
static enum fit named_fit(const struct carrier *c,
			  const struct carrier_check *ch)
{
	return carrier_fit(c, ch->normalized, strlen(ch->normalized));
}

/* Carriers the links point to for this number: *with_number gets the
 * carrier of a link that carries this very number (first one), *host_only
 * the single carrier whose tracking host the links use without it. */
static void link_evidence(const struct carrier_evidence *ev,
			  const char *normalized,
			  const struct carrier **with_number,
			  const struct carrier **host_only, bool *host_conflict)
{
	*with_number = NULL;
	*host_only = NULL;
	*host_conflict = false;
	for (size_t i = 0; ev && ev->links && i < ev->n_links; i++) {
		const char *url = ev->links[i];
		struct carrier_check lc;
		const struct carrier *hc;

		if (!url)
			continue;
		hc = carrier_link_carrier(url);
		if (carrier_from_url(url, &lc) == 1 &&
		    strcmp(lc.normalized, normalized) == 0) {
			if (hc && !*with_number)
				*with_number = hc;
			continue;
		}
		if (!hc)
			continue;
		if (*host_only && *host_only != hc)
			*host_conflict = true;
		else
			*host_only = hc;
	}
	if (*host_conflict)
		*host_only = NULL;
}

int carrier_decide(const char *number, size_t len,
		   const struct carrier_evidence *ev,
		   struct carrier_decision *d)
{
	struct carrier_check *ch = &d->check;
	const struct carrier *named = NULL, *link = NULL, *host = NULL;
	bool host_conflict = false, parser = ev && ev->parser_names_carrier;

	memset(d, 0, sizeof(*d));
	carrier_check(number, len, ch);
	if (ev && ev->named && ev->named_len)
		named = carrier_from_name(ev->named, ev->named_len);
	if (!ch->valid) {
		size_t n = strlen(ch->normalized);
		bool shape = false;

		/* A failing check digit of the named carrier, or of any
		 * carrier when none is named. */
		for (size_t i = 0; i < C_COUNT && n; i++) {
			if (named && &carriers[i] != named)
				continue;
			if (carrier_fit(&carriers[i], ch->normalized, n) ==
			    FIT_BAD)
				shape = true;
		}
		d->reason = shape ? "check-digit" : "invalid-number";
		return -1;
	}
	link_evidence(ev, ch->normalized, &link, &host, &host_conflict);

	if (named) {
		enum fit f = named_fit(named, ch);

		if (f == FIT_BAD) {
			d->reason = "check-digit";
			return -1;
		}
		/* The number does not fit the named carrier at all. */
		if (f == FIT_NO)
			return undecided(d, "carrier-conflict");
		if (link && link != named && !parser &&
		    named_fit(link, ch) >= FIT_NOCHECK)
			return undecided(d, "carrier-conflict");
		return decide(d, named, "named");
	}
	if (link) {
		if (named_fit(link, ch) < FIT_NOCHECK)
			return undecided(d, "carrier-conflict");
		return decide(d, link, "link");
	}
	if (ch->carrier) {
		if (host && host != ch->carrier && among(ch, host))
			return decide(d, host, "link");
		return decide(d, ch->carrier, "format");
	}
	if (host && among(ch, host))
		return decide(d, host, "link");
	if (ev && ev->usual) {
		const struct carrier *u = NULL;

		for (size_t i = 0; i < ev->n_usual; i++) {
			const struct carrier *c = carrier_find(ev->usual[i]);

			if (c && among(ch, c)) {
				u = c;
				break;
			}
		}
		if (u)
			return decide(d, u, "usual");
	}
	return undecided(d, "carrier-ambiguous");
}
