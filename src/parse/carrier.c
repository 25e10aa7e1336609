/* carrier.c - the carrier table, carrier names, and the decision that
 * combines format, name, links and the supplier's usual carriers
 * (docs/carriers.md). The formats and their check digits live in
 * carrier_formats.c.
 *
 * Everything is immutable data and pure functions. A number is first
 * normalized (spaces and dashes out, upper case), then every format of the
 * table is tried: a format either does not fit, fits with a passing check
 * digit (strong), fits with no check digit to verify (weak: needs evidence in
 * free text), or fits in shape with a failing check digit. */
#include "parse/carrier.h"
#include "parse/carrier_internal.h"

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

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
		"digits -1; 1LSCX + 10 alnum; 1LS + 12-14 alnum (now OnTrac)",
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
		"cainiao.com", /* global.cainiao.com: an aggregator */
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
	return carrier_iso_country(cc) ? &carriers[C_UPU] : NULL;
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
	for (size_t i = 0; i < carrier_n_formats; i++) {
		const struct carrier_format *f = &carrier_formats[i];
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
		for (size_t i = 0; i < carrier_n_formats; i++) {
			const struct carrier *c =
				format_carrier(&carrier_formats[i], out->normalized);
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

	for (size_t i = 0; i < carrier_n_formats; i++) {
		const struct carrier_format *f = &carrier_formats[i];
		enum fit r;

		if (f->flags & FMT_S10) {
			if (!carrier_is_postal(c))
				continue;
		} else if (&carriers[f->carrier] != c &&
			   !(c == &carriers[C_ONTRAC] &&
			     f->carrier == C_LASERSHIP)) {
			/* OnTrac took over LaserShip: a mail naming OnTrac
			 * may carry a LaserShip number. */
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
	for (size_t i = 0; i < carrier_n_formats; i++) {
		const struct carrier_format *f = &carrier_formats[i];
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

/* Every alias of every carrier in one table built once (pthread_once),
 * grouped by first byte, the longest first within a group and then in
 * table order: the first alias of the group that occurs at a place is the
 * one the name lookup takes there. Sized by counting first, as the host
 * table is. */
struct alias_entry {
	const char *text; /* into the alias list, not terminated */
	size_t len;
	unsigned char carrier; /* index into carriers[] */
};

static struct alias_entry *alias_table;
static size_t alias_from[257]; /* group of byte b: [b, b + 1) */
static pthread_once_t alias_table_once = PTHREAD_ONCE_INIT;

static bool alias_before(const struct alias_entry *a,
			 const struct alias_entry *b)
{
	unsigned char ca = (unsigned char)a->text[0];
	unsigned char cb = (unsigned char)b->text[0];

	if (ca != cb)
		return ca < cb;
	return a->len > b->len;
}

/* Adds carrier ci's aliases to alias_table (kept sorted) after its first
 * n entries, or with t NULL only counts them. Returns how many. */
static size_t alias_list_add(size_t ci, struct alias_entry *t, size_t n)
{
	size_t added = 0;

	for (const char *a = carriers[ci].aliases; a && *a;) {
		const char *bar = strchr(a, '|');
		size_t alen = bar ? (size_t)(bar - a) : strlen(a);

		if (alen > 0) {
			if (t) {
				struct alias_entry e = {
					.text = a,
					.len = alen,
					.carrier = (unsigned char)ci,
				};
				size_t at = n + added;

				/* Insertion sort, stable: table order stays
				 * among equals. */
				while (at > 0 && alias_before(&e, &t[at - 1])) {
					t[at] = t[at - 1];
					at--;
				}
				t[at] = e;
			}
			added++;
		}
		a = bar ? bar + 1 : NULL;
	}
	return added;
}

static void alias_table_build(void)
{
	size_t n = 0;

	_Static_assert(C_COUNT < 256, "carrier indices fit a byte");
	for (size_t ci = 0; ci < C_COUNT; ci++)
		n += alias_list_add(ci, NULL, 0);
	alias_table = calloc(n ? n : 1, sizeof(*alias_table));
	if (!alias_table)
		abort(); /* at start, a few kilobytes */
	n = 0;
	for (size_t ci = 0; ci < C_COUNT; ci++)
		n += alias_list_add(ci, alias_table, n);
	for (unsigned c = 0, k = 0; c <= 256; c++) {
		while (k < n && (unsigned char)alias_table[k].text[0] < c)
			k++;
		alias_from[c] = k;
	}
}

/* For every alias its first place as a word: the earliest place wins,
 * then the longest alias, then table order. One pass over the text: at
 * each place only the aliases that start with its byte, longest first, so
 * the first alias that occurs at the earliest place is the answer. */
const struct carrier *carrier_from_name(const char *text, size_t len)
{
	if (!text)
		return NULL;
	pthread_once(&alias_table_once, alias_table_build);
	for (size_t i = 0; i < len; i++) {
		unsigned char c = lower((unsigned char)text[i]);
		/* The byte after, lower case (0 at the end: no alias has a
		 * NUL, so a longer alias fails the cheap test too). */
		unsigned char c1 = i + 1 < len ?
					   lower((unsigned char)text[i + 1]) :
					   0;

		for (size_t k = alias_from[c]; k < alias_from[c + 1]; k++) {
			const struct alias_entry *e = &alias_table[k];

			if (e->len >= 2 && (unsigned char)e->text[1] != c1)
				continue; /* a cheap look before alias_at() */
			if (alias_at(text, len, i, e->text, e->len))
				return &carriers[e->carrier];
		}
	}
	return NULL;
}

/* ---- hosts ------------------------------------------------------------ */

/* Aggregators show any carrier; their links carry numbers, not carriers. */
static const char aggregator_hosts[] =
	"17track.net parcelsapp.com aftership.com track24.net track24.ru "
	"trackingmore.com ship24.com parcelmonitor.com packagetrackr.com "
	"narvar.com wismolabs.com route.com parcelpanel.com "
	"trackingmore.net 17track.com t.17track.net global.cainiao.com "
	"parcelsapp.net ordertracker.com";

/* Carrier and aggregator hosts in one table built once (the first lookup
 * builds it, under pthread_once): every host name of every carrier and of
 * the aggregators, sorted, each with the first carrier that lists it and
 * whether it is an aggregator. A link's host is looked up by its
 * registrable suffixes ("a.b.ups.com", "b.ups.com", "ups.com", "com"), each
 * by binary search: the longest suffix found names the carrier, as the
 * linear scan of every carrier's host list did before. */
#define HOST_NAME_MAX_LEN 63

struct host_entry {
	const char *name; /* into the host lists, not terminated */
	size_t len;
	int carrier;      /* index into carriers[], or -1 */
	bool aggregator;
};

static struct host_entry *host_table;
static size_t n_host_table;
static pthread_once_t host_table_once = PTHREAD_ONCE_INIT;

static int host_cmp(const char *a, size_t alen, const char *b, size_t blen)
{
	int c = memcmp(a, b, alen < blen ? alen : blen);

	if (c)
		return c;
	return alen < blen ? -1 : alen > blen;
}

static int host_entry_cmp(const void *pa, const void *pb)
{
	const struct host_entry *a = pa, *b = pb;
	int c = host_cmp(a->name, a->len, b->name, b->len);

	if (c)
		return c;
	/* Same name: the aggregator mark first, then carriers in table
	 * order, so that the merge below keeps the first carrier. */
	if (a->carrier != b->carrier)
		return a->carrier < b->carrier ? -1 : 1;
	return 0;
}

/* Calls add(name, len, carrier) for every name of a space-separated list. */
static size_t host_list_add(const char *list, int carrier,
			    struct host_entry *out)
{
	size_t n = 0;

	for (const char *p = list; p && *p;) {
		const char *sp = strchr(p, ' ');
		size_t l = sp ? (size_t)(sp - p) : strlen(p);

		if (l && l <= HOST_NAME_MAX_LEN) {
			if (out) {
				out[n].name = p;
				out[n].len = l;
				out[n].carrier = carrier;
				out[n].aggregator = carrier < 0;
			}
			n++;
		}
		p = sp ? sp + 1 : NULL;
	}
	return n;
}

static void host_table_build(void)
{
	size_t n = host_list_add(aggregator_hosts, -1, NULL), k = 0;
	struct host_entry *t;

	for (size_t i = 0; i < C_COUNT; i++)
		n += host_list_add(carriers[i].hosts, (int)i, NULL);
	t = calloc(n ? n : 1, sizeof(*t));
	if (!t)
		abort(); /* at start, a few kilobytes */
	k += host_list_add(aggregator_hosts, -1, t);
	for (size_t i = 0; i < C_COUNT; i++)
		k += host_list_add(carriers[i].hosts, (int)i, t + k);
	qsort(t, k, sizeof(*t), host_entry_cmp);
	/* One entry per name: aggregator mark and first carrier merged. */
	n = 0;
	for (size_t i = 0; i < k; i++) {
		if (n && host_cmp(t[n - 1].name, t[n - 1].len, t[i].name,
				  t[i].len) == 0) {
			if (t[i].carrier >= 0 && t[n - 1].carrier < 0)
				t[n - 1].carrier = t[i].carrier;
			t[n - 1].aggregator |= t[i].aggregator;
			continue;
		}
		t[n++] = t[i];
	}
	host_table = t;
	n_host_table = n;
}

static const struct host_entry *host_find(const char *name, size_t len)
{
	size_t lo = 0, hi = n_host_table;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = host_cmp(host_table[mid].name, host_table[mid].len,
				 name, len);

		if (c == 0)
			return &host_table[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

/* The carrier of host's longest listed suffix (NULL when none), and
 * whether any suffix is an aggregator. */
static const struct carrier *host_lookup(const char *host, size_t hlen,
					 bool *aggregator)
{
	char low[HOST_NAME_MAX_LEN];
	const struct carrier *best = NULL;
	size_t from;

	*aggregator = false;
	pthread_once(&host_table_once, host_table_build);
	/* Only the last HOST_NAME_MAX_LEN bytes can match a listed name. */
	from = hlen > HOST_NAME_MAX_LEN ? hlen - HOST_NAME_MAX_LEN : 0;
	for (size_t k = from; k < hlen; k++)
		low[k - from] = (char)lower((unsigned char)host[k]);
	for (size_t p = from; p < hlen; p++) {
		const struct host_entry *e;

		if (p > 0 && host[p - 1] != '.')
			continue;
		e = host_find(low + (p - from), hlen - p);
		if (!e)
			continue;
		if (e->aggregator)
			*aggregator = true;
		if (!best && e->carrier >= 0)
			best = &carriers[e->carrier];
	}
	return best;
}

const struct carrier *carrier_from_host(const char *host, size_t len)
{
	const struct carrier *c;
	bool aggregator;

	if (!host)
		return NULL;
	c = host_lookup(host, len, &aggregator);
	/* An aggregator tracks any carrier's number: no evidence. */
	return aggregator ? NULL : c;
}

bool carrier_host_is_aggregator(const char *host, size_t len)
{
	bool aggregator;

	if (!host)
		return false;
	host_lookup(host, len, &aggregator);
	return aggregator;
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
	if (ev && ev->index) {
		const struct carrier_link_index *ix = ev->index;

		for (size_t i = 0; i < ix->n; i++) {
			const struct carrier_link_entry *e = &ix->v[i];
			const struct carrier *hc = e->carrier;

			if (e->has_number &&
			    strcmp(e->number.normalized, normalized) == 0) {
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
		return;
	}
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
	/* A format without a check digit (or with only a weak one) proves
	 * nothing by itself: a number that fits only such formats needs the
	 * named carrier or a link carrying it (above), or one of the
	 * supplier's usual carriers for the mail's country (below). */
	if (ch->carrier && !ch->needs_evidence) {
		if (host && host != ch->carrier && among(ch, host))
			return decide(d, host, "link");
		return decide(d, ch->carrier, "format");
	}
	if (host && among(ch, host) && !ch->needs_evidence)
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
	if (ch->needs_evidence)
		return undecided(d, "carrier-unconfirmed");
	return undecided(d, "carrier-ambiguous");
}
