/* carrier_scan.c - fallback detection of tracking numbers in decoded text
 * for mail no supplier parser takes.
 *
 * One bounded pass over the text finds three kinds of evidence:
 *  - labels ("Tracking number", "Sendungsnummer", "运单号" …, or a carrier
 *    name such as "UPS:") followed, after separators and a few filler words,
 *    by a number that carrier_check() finds valid;
 *  - links (the caller's list, and http(s) URLs in the text) that carry a
 *    number (carrier_from_url());
 *  - unlabelled numbers whose format is distinctive and whose check digit
 *    passes (UPS 1Z, S10, USPS IMpb 9x…, FedEx 96/34, OnTrac), unless a
 *    decoy word ("Order", "SKU", "Coupon" …) labels them.
 * Order numbers, phones, ZIP codes, prices, dates, SKUs and coupon codes
 * have no tracking label and no distinctive checked format, so they never
 * pass. Nothing reads past len; every copy is into a fixed buffer. */
#include "parse/carrier.h"

#include <pthread.h>
#include <stdint.h>
#include <string.h>

#define SCAN_FOUND_MAX 32   /* distinct numbers kept while scanning */
#define SCAN_URL_MAX 2048   /* longest URL taken from the text */
#define SCAN_GAP_MAX 64     /* bytes between a label and its number */
#define SCAN_TOKEN_MAX 56   /* bytes of one spaced-out number */
#define SCAN_GROUPS_MAX 10  /* space- or dash-separated groups in it */

enum label_kind {
	LABEL_TRACKING, /* says "tracking number" in some language */
	LABEL_CARRIER,  /* a carrier name: the number must fit it */
};

struct label {
	const char *text; /* lower case UTF-8 */
	enum label_kind kind;
};

static const struct label labels[] = {
	/* English */
	{ "tracking number", LABEL_TRACKING },
	{ "tracking numbers", LABEL_TRACKING },
	{ "tracking no", LABEL_TRACKING },
	{ "tracking #", LABEL_TRACKING },
	{ "tracking#", LABEL_TRACKING },
	{ "tracking id", LABEL_TRACKING },
	{ "tracking code", LABEL_TRACKING },
	{ "tracking", LABEL_TRACKING },
	{ "track #", LABEL_TRACKING },
	{ "trk#", LABEL_TRACKING },
	{ "trk #", LABEL_TRACKING },
	{ "waybill", LABEL_TRACKING },
	{ "air waybill", LABEL_TRACKING },
	{ "awb", LABEL_TRACKING },
	{ "consignment number", LABEL_TRACKING },
	{ "parcel number", LABEL_TRACKING },
	{ "track & trace", LABEL_TRACKING },
	{ "track and trace", LABEL_TRACKING },
	/* German */
	{ "sendungsnummer", LABEL_TRACKING },
	{ "sendungs-nr", LABEL_TRACKING },
	{ "sendungsnr", LABEL_TRACKING },
	{ "trackingnummer", LABEL_TRACKING },
	{ "tracking-nummer", LABEL_TRACKING },
	{ "paketnummer", LABEL_TRACKING },
	{ "sendungsverfolgungsnummer", LABEL_TRACKING },
	{ "sendungsverfolgung", LABEL_TRACKING },
	/* Spanish, Portuguese */
	{ "n\xc3\xbamero de seguimiento", LABEL_TRACKING },
	{ "numero de seguimiento", LABEL_TRACKING },
	{ "n\xc2\xba de seguimiento", LABEL_TRACKING },
	{ "c\xc3\xb3" "digo de seguimiento", LABEL_TRACKING },
	{ "codigo de seguimiento", LABEL_TRACKING },
	{ "n\xc3\xbamero de rastreo", LABEL_TRACKING },
	{ "numero de rastreo", LABEL_TRACKING },
	{ "n\xc3\xbamero de gu\xc3\xad" "a", LABEL_TRACKING },
	{ "c\xc3\xb3" "digo de rastreio", LABEL_TRACKING },
	{ "codigo de rastreio", LABEL_TRACKING },
	{ "c\xc3\xb3" "digo de rastreamento", LABEL_TRACKING },
	{ "n\xc3\xbamero de rastreio", LABEL_TRACKING },
	/* French */
	{ "num\xc3\xa9ro de suivi", LABEL_TRACKING },
	{ "numero de suivi", LABEL_TRACKING },
	{ "n\xc2\xb0 de suivi", LABEL_TRACKING },
	{ "n\xc2\xba de suivi", LABEL_TRACKING },
	{ "no de suivi", LABEL_TRACKING },
	{ "code de suivi", LABEL_TRACKING },
	{ "num\xc3\xa9ro de colis", LABEL_TRACKING },
	{ "numero de colis", LABEL_TRACKING },
	/* Italian, Dutch */
	{ "numero di tracking", LABEL_TRACKING },
	{ "numero di tracciamento", LABEL_TRACKING },
	{ "codice di tracciamento", LABEL_TRACKING },
	{ "codice di tracking", LABEL_TRACKING },
	{ "numero di spedizione", LABEL_TRACKING },
	{ "track-en-tracecode", LABEL_TRACKING },
	{ "track & trace code", LABEL_TRACKING },
	{ "zendingnummer", LABEL_TRACKING },
	/* Nordic, Polish, Czech, Turkish, Russian */
	{ "sp\xc3\xa5rningsnummer", LABEL_TRACKING },
	{ "sporingsnummer", LABEL_TRACKING },
	{ "seurantakoodi", LABEL_TRACKING },
	{ "numer przesy\xc5\x82ki", LABEL_TRACKING },
	{ "numer \xc5\x9bledzenia", LABEL_TRACKING },
	{ "\xc4\x8d\xc3\xadslo z\xc3\xa1silky", LABEL_TRACKING },
	{ "takip numaras\xc4\xb1", LABEL_TRACKING },
	{ "\xd1\x82\xd1\x80\xd0\xb5\xd0\xba-\xd0\xbd\xd0\xbe\xd0\xbc\xd0\xb5"
	  "\xd1\x80", LABEL_TRACKING }, /* трек-номер */
	{ "\xd1\x82\xd1\x80\xd0\xb5\xd0\xba \xd0\xbd\xd0\xbe\xd0\xbc\xd0\xb5"
	  "\xd1\x80", LABEL_TRACKING }, /* трек номер */
	/* Chinese, Japanese, Korean */
	{ "\xe8\xbf\x90\xe5\x8d\x95\xe5\x8f\xb7", LABEL_TRACKING }, /* 运单号 */
	{ "\xe9\x81\x8b\xe5\x96\xae\xe8\x99\x9f", LABEL_TRACKING }, /* 運單號 */
	{ "\xe5\xbf\xab\xe9\x80\x92\xe5\x8d\x95\xe5\x8f\xb7",
	  LABEL_TRACKING }, /* 快递单号 */
	{ "\xe7\x89\xa9\xe6\xb5\x81\xe5\x8d\x95\xe5\x8f\xb7",
	  LABEL_TRACKING }, /* 物流单号 */
	{ "\xe8\xb7\x9f\xe8\xb8\xaa\xe5\x8f\xb7", LABEL_TRACKING }, /* 跟踪号 */
	{ "\xe8\xbf\xbd\xe8\xb8\xaa\xe5\x8f\xb7", LABEL_TRACKING }, /* 追踪号 */
	{ "\xe8\xbf\xbd\xe8\xb7\xa1\xe7\x95\xaa\xe5\x8f\xb7",
	  LABEL_TRACKING }, /* 追跡番号 */
	{ "\xe3\x81\x8a\xe5\x95\x8f\xe3\x81\x84\xe5\x90\x88\xe3\x82\x8f\xe3"
	  "\x81\x9b\xe7\x95\xaa\xe5\x8f\xb7", LABEL_TRACKING }, /* お問い合わせ番号 */
	{ "\xe4\xbc\x9d\xe7\xa5\xa8\xe7\x95\xaa\xe5\x8f\xb7",
	  LABEL_TRACKING }, /* 伝票番号 */
	{ "\xec\x86\xa1\xec\x9e\xa5\xeb\xb2\x88\xed\x98\xb8",
	  LABEL_TRACKING }, /* 송장번호 */
	{ "\xec\x9a\xb4\xec\x86\xa1\xec\x9e\xa5 \xeb\xb2\x88\xed\x98\xb8",
	  LABEL_TRACKING }, /* 운송장 번호 */
	/* Carrier names right before a number */
	{ "ups", LABEL_CARRIER },
	{ "usps", LABEL_CARRIER },
	{ "fedex", LABEL_CARRIER },
	{ "dhl", LABEL_CARRIER },
	{ "dhl ecommerce", LABEL_CARRIER },
	{ "ontrac", LABEL_CARRIER },
	{ "lasership", LABEL_CARRIER },
	{ "amazon logistics", LABEL_CARRIER },
	{ "canada post", LABEL_CARRIER },
	{ "purolator", LABEL_CARRIER },
	{ "royal mail", LABEL_CARRIER },
	{ "australia post", LABEL_CARRIER },
	{ "china post", LABEL_CARRIER },
	{ "cainiao", LABEL_CARRIER },
	{ "yanwen", LABEL_CARRIER },
	{ "yunexpress", LABEL_CARRIER },
	{ "4px", LABEL_CARRIER },
	{ "sf express", LABEL_CARRIER },
	{ "dpd", LABEL_CARRIER },
	{ "gls", LABEL_CARRIER },
	{ "evri", LABEL_CARRIER },
	{ "yodel", LABEL_CARRIER },
	{ "postnl", LABEL_CARRIER },
	{ "deutsche post", LABEL_CARRIER },
	{ "japan post", LABEL_CARRIER },
};

#define N_LABELS (sizeof(labels) / sizeof(labels[0]))

/* Built once (pthread_once) from labels[]: the labels grouped by a hash
 * of their first two bytes, longest first within a group, with their
 * lengths; and a class for every byte, so that the scan skips what can
 * start nothing. Every label has at least two bytes. */
enum {
	B_ALNUM = 1u << 0, /* [0-9A-Za-z] */
	B_FIRST = 1u << 1, /* some label starts with it (either case) */
};

#define LABEL_HASH_SIZE 512

static inline unsigned label_hash(unsigned char c0, unsigned char c1)
{
	return ((unsigned)c0 * 31u + c1) & (LABEL_HASH_SIZE - 1);
}

_Static_assert(N_LABELS < 256, "label indices fit a byte");

static unsigned char label_len[N_LABELS];
static unsigned char label_order[N_LABELS]; /* by hash, longest first */
/* Group of hash h: label_order[label_from[h] .. label_from[h + 1]). */
static unsigned char label_from[LABEL_HASH_SIZE + 1];
static unsigned char byte_class[256];
static pthread_once_t tables_once = PTHREAD_ONCE_INIT;

static unsigned label_key(size_t k)
{
	return label_hash((unsigned char)labels[k].text[0],
			  (unsigned char)labels[k].text[1]);
}

static void tables_build(void)
{
	size_t n = 0;

	for (unsigned c = 0; c < 256; c++)
		if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
		    (c >= 'A' && c <= 'Z'))
			byte_class[c] |= B_ALNUM;
	for (size_t k = 0; k < N_LABELS; k++) {
		unsigned char c = (unsigned char)labels[k].text[0];

		label_len[k] = (unsigned char)strlen(labels[k].text);
		byte_class[c] |= B_FIRST;
		if (c >= 'a' && c <= 'z')
			byte_class[c - 'a' + 'A'] |= B_FIRST;
	}
	/* Grouped by hash; within a group the longest first (the labels are
	 * distinct, so of two that match at one place the longer one is the
	 * one to take). Insertion sort: a few thousand steps. */
	for (size_t k = 0; k < N_LABELS; k++) {
		unsigned h = label_key(k);
		size_t at = k;

		while (at > 0) {
			size_t o = label_order[at - 1];
			unsigned oh = label_key(o);

			if (oh < h || (oh == h && label_len[o] >= label_len[k]))
				break;
			label_order[at] = label_order[at - 1];
			at--;
		}
		label_order[at] = (unsigned char)k;
	}
	for (unsigned h = 0; h <= LABEL_HASH_SIZE; h++) {
		while (n < N_LABELS && label_key(label_order[n]) < h)
			n++;
		label_from[h] = (unsigned char)n;
	}
}

/* A word list entry: lower case, with its length. */
struct word {
	const char *text;
	size_t len;
};

#define W(s) { s, sizeof(s) - 1 }

/* Words allowed between a label and its number. */
static const struct word fillers[] = {
	W("number"), W("numbers"), W("no"), W("nr"), W("num"), W("id"),
	W("code"), W("is"), W("your"), W("the"), W("with"), W("via"),
	W("and"), W("for"), W("package"), W("parcel"), W("shipment"),
	W("order's"), W("de"), W("du"), W("la"), W("le"), W("el"), W("di"),
	W("ist"), W("lautet"), W("nummer"), W("tracking"), W("track"),
	W("trace"), W("ground"), W("express"), W("mail"), W("post"),
	W("ecommerce"), W("logistics"), W("smartpost"), W("priority"),
	W("domestic"), W("international"), W("one"), W("plus"),
	{ NULL, 0 },
};

/* Words that, just before an unlabelled number, say it is not one. */
static const struct word decoys[] = {
	W("order"), W("invoice"), W("sku"), W("coupon"), W("promo"),
	W("voucher"), W("item"), W("model"), W("part"), W("phone"), W("tel"),
	W("call"), W("fax"), W("ref"), W("account"), W("customer"), W("zip"),
	W("postal"), W("gift"), W("code"), W("asin"), W("upc"), W("ean"),
	W("isbn"), W("mpn"), W("serial"), W("imei"), W("bestell"),
	W("rechnung"), W("pedido"), W("commande"), W("factura"), W("facture"),
	W("auftrag"), W("kunden"),
	{ NULL, 0 },
};

struct scan {
	const char *text;
	size_t len;
	const char *const *links;
	size_t n_links;
	const struct carrier_link_index *index; /* the links parsed once */
	struct carrier_found found[SCAN_FOUND_MAX];
	size_t n_found;
};

static inline bool is_alnum(unsigned char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
	       (c >= 'A' && c <= 'Z');
}

/* is_alnum() from the table (after tables_build()). */
static inline bool alnum_at(const char *t, size_t i)
{
	return byte_class[(unsigned char)t[i]] & B_ALNUM;
}

static inline bool is_alpha(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static inline bool is_dig(unsigned char c)
{
	return c >= '0' && c <= '9';
}

static inline unsigned char lower(unsigned char c)
{
	return c >= 'A' && c <= 'Z' ? (unsigned char)(c - 'A' + 'a') : c;
}

static bool word_in(const char *w, size_t n, const struct word *list)
{
	for (size_t i = 0; list[i].text; i++) {
		const char *l = list[i].text;
		size_t k;

		if (list[i].len != n)
			continue;
		for (k = 0; k < n && lower((unsigned char)w[k]) ==
					     (unsigned char)l[k];
		     k++)
			;
		if (k == n)
			return true;
	}
	return false;
}

static int how_rank(const char *how)
{
	if (how[0] == 'l' && how[1] == 'a')
		return 0; /* label */
	if (how[0] == 'l')
		return 1; /* link */
	return 2;
}

static int found_rank(const struct carrier_found *f)
{
	return (f->decision.carrier ? 0 : 3) + how_rank(f->how);
}

static void keep(struct scan *s, const struct carrier_decision *d,
		 size_t offset, const char *how)
{
	struct carrier_found f;

	f.decision = *d;
	f.offset = offset;
	f.how = how;
	for (size_t i = 0; i < s->n_found; i++) {
		struct carrier_found *o = &s->found[i];

		if (strcmp(o->decision.check.normalized,
			   d->check.normalized) != 0)
			continue;
		if (found_rank(&f) < found_rank(o)) {
			if (o->offset != SIZE_MAX && offset == SIZE_MAX)
				f.offset = o->offset;
			*o = f;
		}
		return;
	}
	if (s->n_found < SCAN_FOUND_MAX)
		s->found[s->n_found++] = f;
}

/* The nearest carrier name around [a, b): the same line first, then the
 * line before. */
static const struct carrier *name_near(const struct scan *s, size_t a,
				       size_t b, const char **named_r,
				       size_t *named_len_r)
{
	size_t ls = a, le = b, ps;
	const struct carrier *c;

	while (ls > 0 && a - ls < 120 && s->text[ls - 1] != '\n')
		ls--;
	while (le < s->len && le - b < 60 && s->text[le] != '\n')
		le++;
	c = carrier_from_name(s->text + ls, le - ls);
	if (c) {
		*named_r = s->text + ls;
		*named_len_r = le - ls;
		return c;
	}
	if (ls == 0 || s->text[ls - 1] != '\n')
		return NULL;
	ps = ls - 1;
	while (ps > 0 && ls - ps < 120 && s->text[ps - 1] != '\n')
		ps--;
	c = carrier_from_name(s->text + ps, ls - 1 - ps);
	if (c) {
		*named_r = s->text + ps;
		*named_len_r = ls - 1 - ps;
	}
	return c;
}

/* The carrier named near [a, b) as its display name (which maps back to
 * it), or NULL. */
static const char *named_near(const struct scan *s, size_t a, size_t b)
{
	const char *w;
	size_t wl;

	return carrier_name(name_near(s, a, b, &w, &wl));
}

static int decide_here(const struct scan *s, const char *num, size_t n,
		       const char *named, size_t named_len,
		       struct carrier_decision *d)
{
	struct carrier_evidence ev;

	memset(&ev, 0, sizeof(ev));
	ev.links = s->links;
	ev.n_links = s->n_links;
	ev.index = s->index;
	ev.named = named;
	ev.named_len = named ? named_len : 0;
	return carrier_decide(num, n, &ev, d);
}

/* Bytes of separator at p (0 when none); counts line breaks. */
static size_t separator(const char *p, size_t left, unsigned *newlines)
{
	unsigned char c = (unsigned char)p[0];

	if (c == '\n') {
		++*newlines;
		return 1;
	}
	if (strchr(" \t\r:#.=*|()[]>\"',-_/", c) && c)
		return 1;
	if (left >= 2 && c == 0xc2 &&
	    ((unsigned char)p[1] == 0xa0 || (unsigned char)p[1] == 0xb0 ||
	     (unsigned char)p[1] == 0xba))
		return 2; /* no-break space, degree, ordinal */
	if (left >= 3 && c == 0xef && (unsigned char)p[1] == 0xbc &&
	    ((unsigned char)p[2] == 0x9a || (unsigned char)p[2] == 0x83))
		return 3; /* fullwidth colon, number sign */
	if (left >= 3 && c == 0xe2 && (unsigned char)p[1] == 0x84 &&
	    (unsigned char)p[2] == 0x96)
		return 3; /* numero sign */
	if (left >= 3 && c == 0xe3 && (unsigned char)p[1] == 0x80 &&
	    ((unsigned char)p[2] == 0x80 || (unsigned char)p[2] == 0x91 ||
	     (unsigned char)p[2] == 0x90))
		return 3; /* ideographic space, 【 】 */
	return 0;
}

/* After a label at [ls, le): skips separators and filler words, then reads
 * space/dash-separated groups and keeps the best valid number. */
static void after_label(struct scan *s, size_t ls, size_t le,
			enum label_kind kind)
{
	const char *t = s->text;
	size_t i = le, words = 0, start;
	unsigned newlines = 0;
	size_t gend[SCAN_GROUPS_MAX], ng = 0;
	char buf[SCAN_TOKEN_MAX + 1];
	struct carrier_decision d, best;
	int best_score = -1;
	const char *named = NULL;
	size_t named_len = 0;

	while (i < s->len && i - le < SCAN_GAP_MAX && newlines <= 2) {
		size_t k = separator(t + i, s->len - i, &newlines);

		if (k) {
			i += k;
			continue;
		}
		if (is_alpha((unsigned char)t[i])) {
			size_t j = i;

			while (j < s->len && is_alpha((unsigned char)t[j]))
				j++;
			if (j < s->len && is_dig((unsigned char)t[j]))
				break; /* a number with a letter prefix */
			if (words >= 4 || (!word_in(t + i, j - i, fillers) &&
					   !carrier_from_name(t + i, j - i)))
				return;
			words++;
			i = j;
			continue;
		}
		break;
	}
	if (i >= s->len || !is_alnum((unsigned char)t[i]) || newlines > 2)
		return;
	start = i;
	if (kind == LABEL_CARRIER) {
		named = t + ls;
		named_len = le - ls;
	} else {
		named = named_near(s, ls, start);
		named_len = named ? strlen(named) : 0;
	}
	while (i < s->len && ng < SCAN_GROUPS_MAX &&
	       i - start < SCAN_TOKEN_MAX) {
		while (i < s->len && is_alnum((unsigned char)t[i]))
			i++;
		if (i - start > SCAN_TOKEN_MAX)
			break;
		gend[ng++] = i;
		if (i + 1 < s->len && (t[i] == ' ' || t[i] == '-') &&
		    is_alnum((unsigned char)t[i + 1]))
			i++;
		else
			break;
	}
	/* A number glued to more letters or digits is not one of ours. */
	for (size_t g = ng; g > 0; g--) {
		size_t n = gend[g - 1] - start;
		int r, score;

		if (n > SCAN_TOKEN_MAX)
			continue;
		memcpy(buf, t + start, n);
		buf[n] = 0;
		r = decide_here(s, buf, n, named, named_len, &d);
		if (r < 0 || (kind == LABEL_CARRIER && r != 1))
			continue;
		/* Prefer a checked, undisputed number; then one group; then
		 * the longest. */
		score = (!d.check.needs_evidence ? 4 : 0) + (r == 1 ? 2 : 0) +
			(g == 1 ? 1 : 0);
		if (score > best_score) {
			best = d;
			best_score = score;
		}
	}
	if (best_score >= 0)
		keep(s, &best, start, "label");
}

static bool decoy_before(const struct scan *s, size_t pos)
{
	size_t i = pos, words = 0;

	while (i > 0 && pos - i < 40 && s->text[i - 1] != '\n' && words < 3) {
		size_t e;

		while (i > 0 && !is_alpha((unsigned char)s->text[i - 1]) &&
		       s->text[i - 1] != '\n' && pos - i < 40)
			i--;
		e = i;
		while (i > 0 && is_alpha((unsigned char)s->text[i - 1]))
			i--;
		if (e == i)
			break;
		if (word_in(s->text + i, e - i, decoys))
			return true;
		words++;
	}
	return false;
}

/* A cheap look at an alnum run before carrier_check(): only shapes that
 * can be distinctive. */
static bool maybe_distinct(const char *p, size_t n)
{
	size_t d = 0;

	if (n == 18 && p[0] == '1' && (p[1] == 'Z' || p[1] == 'z'))
		return true;
	if (n == 13 && is_alpha((unsigned char)p[0]) &&
	    is_alpha((unsigned char)p[1]) && is_alpha((unsigned char)p[11]) &&
	    is_alpha((unsigned char)p[12]))
		return true;
	if (n == 15 && (p[0] == 'C' || p[0] == 'D'))
		return true;
	for (size_t i = 0; i < n; i++)
		d += is_dig((unsigned char)p[i]);
	return d == n && (n == 20 || n == 22 || n == 26 || n == 30 ||
			  n == 34);
}

static void unlabelled(struct scan *s, size_t a, size_t b)
{
	const char *named;
	struct carrier_check c;
	struct carrier_decision d;

	if (!maybe_distinct(s->text + a, b - a))
		return;
	carrier_check(s->text + a, b - a, &c);
	if (!c.valid || !c.distinctive || decoy_before(s, a))
		return;
	named = named_near(s, a, b);
	if (decide_here(s, s->text + a, b - a, named,
			named ? strlen(named) : 0, &d) >= 0)
		keep(s, &d, a, "check-digit");
}

/* A link's number: lc is its carrier_from_url() result when the link
 * index has it already, else NULL. */
static void from_link(struct scan *s, const char *url,
		      const struct carrier_check *known, size_t offset)
{
	struct carrier_check lc;
	struct carrier_decision d;
	struct carrier_evidence ev;

	if (known)
		lc = *known;
	else if (carrier_from_url(url, &lc) != 1)
		return;
	memset(&ev, 0, sizeof(ev));
	ev.links = s->links;
	ev.n_links = s->n_links;
	ev.index = s->index;
	if (carrier_decide(lc.normalized, strlen(lc.normalized), &ev, &d) < 0)
		return;
	/* The link's own carrier decides an ambiguous number. */
	if (!d.carrier && lc.carrier) {
		ev.named = carrier_id(lc.carrier);
		ev.named_len = strlen(ev.named);
		ev.parser_names_carrier = false;
		if (carrier_decide(lc.normalized, strlen(lc.normalized), &ev,
				   &d) < 0)
			return;
		if (d.carrier)
			d.evidence = "link";
	}
	keep(s, &d, offset, "link");
}

static size_t url_in_text(struct scan *s, size_t i)
{
	char url[SCAN_URL_MAX + 1];
	size_t j = i;

	while (j < s->len && j - i < SCAN_URL_MAX) {
		unsigned char c = (unsigned char)s->text[j];

		if (c <= ' ' || c == '"' || c == '<' || c == '>' ||
		    c == '\'' || c == ')' || c == ']' || c == 0x7f)
			break;
		j++;
	}
	memcpy(url, s->text + i, j - i);
	url[j - i] = 0;
	from_link(s, url, NULL, i);
	return j;
}

/* The longest label at i (its group by the first two bytes, longest
 * first): runs after_label() for it and returns its length, or 0. */
static size_t try_labels(struct scan *s, size_t i)
{
	const char *t = s->text;
	size_t left = s->len - i;
	unsigned h;

	if (left < 2)
		return 0; /* every label has two bytes or more */
	h = label_hash(lower((unsigned char)t[i]),
		       lower((unsigned char)t[i + 1]));
	for (size_t g = label_from[h]; g < label_from[h + 1]; g++) {
		const struct label *lb = &labels[label_order[g]];
		const char *l = lb->text;
		size_t n = label_len[label_order[g]], m;

		if (left < n)
			continue;
		for (m = 0; m < n && lower((unsigned char)t[i + m]) ==
					     (unsigned char)l[m];
		     m++)
			;
		if (m != n)
			continue;
		/* An ASCII word must end where the label ends. */
		if (is_alnum((unsigned char)l[n - 1]) && i + n < s->len &&
		    is_alpha((unsigned char)t[i + n]))
			continue;
		if (lb->kind == LABEL_CARRIER && !carrier_from_name(t + i, n))
			continue; /* "ups" in lower case is a word */
		after_label(s, i, i + n, lb->kind);
		return n;
	}
	return 0;
}

size_t carrier_scan(const char *text, size_t len, const char *const *links,
		    size_t n_links, struct carrier_found *out, size_t max)
{
	struct scan *s;
	struct scan local;
	struct carrier_link_index *ix;
	const char *t;
	size_t n, len_;

	s = &local;
	s->n_found = 0; /* found[] is written before it is read */
	s->index = NULL;
	s->text = text ? text : "";
	s->len = text ? len : 0;
	s->links = links;
	s->n_links = links ? n_links : 0;
	pthread_once(&tables_once, tables_build);
	/* Every link parsed once; when out of memory each decision parses
	 * them again, with the same result. */
	ix = s->n_links ? carrier_link_index_build(links, s->n_links) : NULL;
	s->index = ix;
	for (size_t k = 0; k < s->n_links; k++) {
		if (!links[k])
			continue;
		if (!ix)
			from_link(s, links[k], NULL, SIZE_MAX);
		else if (ix->v[k].has_number)
			from_link(s, links[k], &ix->v[k].number, SIZE_MAX);
	}

	t = s->text;
	len_ = s->len;
	for (size_t i = 0; i < len_;) {
		unsigned char c, cls;
		bool boundary;

		/* Bytes that start no label and are no letter or digit. */
		while (i < len_ && !byte_class[(unsigned char)t[i]])
			i++;
		if (i >= len_)
			break;
		c = (unsigned char)t[i];
		cls = byte_class[c];
		boundary = i == 0 || !alnum_at(t, i - 1);
		if ((c == 'h' || c == 'H') && boundary && len_ - i > 8 &&
		    (memcmp(t + i, "http://", 7) == 0 ||
		     memcmp(t + i, "https://", 8) == 0)) {
			i = url_in_text(s, i);
			continue;
		}
		if ((cls & B_FIRST) && (boundary || c >= 0x80))
			try_labels(s, i);
		if ((cls & B_ALNUM) && boundary) {
			size_t j = i + 1;

			while (j < len_ && alnum_at(t, j))
				j++;
			if (j - i >= 13 && j - i <= 34)
				unlabelled(s, i, j);
			i = j;
			continue;
		}
		i++;
	}

	/* Best first: decided before undecided; label, link, check digit;
	 * then by position. */
	for (size_t a = 1; a < s->n_found; a++) {
		struct carrier_found f = s->found[a];
		size_t b = a;

		while (b > 0 &&
		       (found_rank(&s->found[b - 1]) > found_rank(&f) ||
			(found_rank(&s->found[b - 1]) == found_rank(&f) &&
			 s->found[b - 1].offset > f.offset))) {
			s->found[b] = s->found[b - 1];
			b--;
		}
		s->found[b] = f;
	}
	carrier_link_index_free(ix);
	n = s->n_found < max ? s->n_found : max;
	if (out && n)
		memcpy(out, s->found, n * sizeof(*out));
	return out ? n : 0;
}
