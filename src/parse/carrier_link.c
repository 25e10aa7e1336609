/* carrier_link.c - tracking numbers in links: carrier tracking pages (UPS
 * tracknum=, USPS tLabels=, FedEx trknbr=, DHL AWB=, Royal Mail
 * #/tracking-results/N …), aggregators (17track #nums=, parcelsapp …) and
 * supplier redirect links that carry the number, or a whole carrier URL, in
 * a query parameter.
 *
 * Pure and bounded: a URL longer than CARRIER_URL_MAX is cut, redirects
 * nest at most CARRIER_URL_DEPTH deep, every value is decoded into a fixed
 * buffer. A value counts when carrier_check() finds it valid and the place
 * it comes from is trustworthy enough for its format: on carrier and
 * aggregator hosts any tracking key or path segment; elsewhere only
 * tracking-named keys, or distinctive check-digit numbers. */
#include "parse/carrier.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define CARRIER_URL_MAX 4096
#define CARRIER_URL_DEPTH 3
#define VALUE_MAX 1024

struct url_parts {
	const char *host;
	size_t host_len;
	const char *path; /* after the host, up to '?' or '#' */
	size_t path_len;
	const char *query;
	size_t query_len;
	const char *frag;
	size_t frag_len;
};

static inline char lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

/* s[0..n) equals the lower-case p[0..n), ignoring case. */
static bool eq_ci(const char *s, const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (lower(s[i]) != p[i])
			return false;
	return true;
}

/* s[0..len) starts with the lower-case string literal p (only a literal
 * compiles: its length is a constant), ignoring case. */
#define prefix_ci(s, len, p) \
	((len) >= sizeof("" p) - 1 && eq_ci((s), "" p, sizeof("" p) - 1))

static bool split_url(const char *url, size_t len, struct url_parts *u)
{
	size_t i = 0, h;

	memset(u, 0, sizeof(*u));
	if (prefix_ci(url, len, "https://"))
		i = 8;
	else if (prefix_ci(url, len, "http://"))
		i = 7;
	else if (prefix_ci(url, len, "//"))
		i = 2;
	else if (!prefix_ci(url, len, "www."))
		return false;
	h = i;
	while (i < len && url[i] != '/' && url[i] != '?' && url[i] != '#') {
		if (url[i] == '@')
			h = i + 1;
		i++;
	}
	u->host = url + h;
	u->host_len = i - h;
	for (size_t k = 0; k < u->host_len; k++) {
		if (u->host[k] == ':') {
			u->host_len = k;
			break;
		}
	}
	if (u->host_len == 0)
		return false;
	u->path = url + i;
	while (i < len && url[i] != '?' && url[i] != '#')
		i++;
	u->path_len = (size_t)(url + i - u->path);
	if (i < len && url[i] == '?') {
		u->query = url + ++i;
		while (i < len && url[i] != '#')
			i++;
		u->query_len = (size_t)(url + i - u->query);
	}
	if (i < len && url[i] == '#') {
		u->frag = url + i + 1;
		u->frag_len = len - i - 1;
	}
	return true;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = lower(c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* Percent- and '+'-decodes s into out (VALUE_MAX); returns the length. */
static size_t decode(const char *s, size_t len, char *out)
{
	size_t k = 0;

	for (size_t i = 0; i < len && k + 1 < VALUE_MAX; i++) {
		if (s[i] == '%' && i + 2 < len && hexval(s[i + 1]) >= 0 &&
		    hexval(s[i + 2]) >= 0) {
			out[k++] = (char)(hexval(s[i + 1]) * 16 +
					  hexval(s[i + 2]));
			i += 2;
		} else if (s[i] == '+') {
			out[k++] = ' ';
		} else {
			out[k++] = s[i];
		}
	}
	out[k] = 0;
	return k;
}

/* A query key, lower case, with its length. */
struct key {
	const char *text;
	size_t len;
};

#define K(s) { s, sizeof(s) - 1 }

/* Keys that name a tracking number on any host. */
static const struct key tracking_keys[] = {
	K("tracknum"), K("tracknums"), K("tracknumbers"), K("tracknumber"),
	K("trackingnumber"), K("tracking_number"), K("tracking-number"),
	K("trackingnumbers"), K("tracking_numbers"), K("tracking"),
	K("track"), K("tlabels"), K("trknbr"), K("awb"), K("trackingid"),
	K("tracking_id"), K("tracking-id"), K("trackid"), K("trackcode"),
	K("trackingno"), K("tracking_no"), K("piececode"), K("waybill"),
	K("waybillno"), K("mailnolist"), K("mailnum"), K("mailno"),
	K("parcelnumber"), K("parcel_number"), K("parcelno"), K("parcel"),
	K("consignment"), K("consignmentno"), K("sendungsnummer"),
	K("tracking_code"), K("trackingcode"), K("trackingnumbers[]"),
	K("nums"), K("searchfor"), K("searchvalue"), K("itemcode"),
	K("objeto"), K("requestno1"),
	{ NULL, 0 },
};

/* Generic keys trusted only on carrier and aggregator hosts. */
static const struct key carrier_host_keys[] = {
	K("number"), K("numbers"), K("num"), K("id"), K("code"), K("pin"),
	K("idc"), K("q"), K("query"), K("search"), K("match"), K("item"),
	K("barcode"), K("snr"), K("numer"), K("reference"), K("ref"), K("v"),
	K("b"), K("t"), K("tn"), K("billno"), K("searchid"), K("trackingid"),
	K("consignment"), K("shipmentid"),
	{ NULL, 0 },
};

static const struct key carrier_keys[] = {
	K("carrier"), K("carrier_code"), K("carriercode"), K("carrier_name"),
	K("courier"), K("courier_code"), K("slug"), K("shipping_carrier"),
	K("tracking_company"),
	{ NULL, 0 },
};

static bool key_in(const char *key, size_t klen, const struct key *list)
{
	for (size_t i = 0; list[i].text; i++)
		if (list[i].len == klen && eq_ci(key, list[i].text, klen))
			return true;
	return false;
}

/* Tries each ',' or ' '-separated item of a decoded value; the first one
 * that is valid (and distinctive when only that is enough) wins. */
static bool try_value(const char *v, size_t len, bool need_distinct,
		      struct carrier_check *out)
{
	struct carrier_check c;
	size_t i = 0;

	/* The whole value first: "9400 1112 …" is one number. */
	carrier_check(v, len, &c);
	if (c.valid && (!need_distinct || c.distinctive)) {
		*out = c;
		return true;
	}
	while (i < len) {
		size_t j = i;

		while (j < len && v[j] != ',' && v[j] != ';' && v[j] != '|')
			j++;
		if (j - i > 0 && j - i < 80) {
			carrier_check(v + i, j - i, &c);
			if (c.valid && (!need_distinct || c.distinctive)) {
				*out = c;
				return true;
			}
		}
		i = j + 1;
	}
	return false;
}

static int from_url(const char *url, size_t len, int depth,
		    struct carrier_check *out, const struct carrier **named);

/* Walks key=value pairs of a query (or fragment) string. */
static int from_params(const char *q, size_t len, bool carrier_host,
		       int depth, struct carrier_check *out,
		       const struct carrier **named)
{
	char value[VALUE_MAX];
	int found = 0;
	struct carrier_check weak;
	bool have_weak = false;
	size_t i = 0;

	while (i < len) {
		size_t j = i, eq = SIZE_MAX, vlen;
		const char *key = q + i;
		size_t klen;

		while (j < len && q[j] != '&' && q[j] != ';') {
			if (q[j] == '=' && eq == SIZE_MAX)
				eq = j;
			j++;
		}
		if (eq == SIZE_MAX) {
			i = j + 1;
			continue;
		}
		klen = eq - i;
		/* "/search?searchFor=" inside a fragment: the key's last
		 * path part. */
		for (size_t k = klen; k > 0; k--) {
			if (key[k - 1] == '?' || key[k - 1] == '/') {
				key += k;
				klen -= k;
				break;
			}
		}
		vlen = decode(q + eq + 1, j - eq - 1, value);
		if (key_in(key, klen, carrier_keys)) {
			const struct carrier *c = carrier_find(value);

			if (!c)
				c = carrier_from_name(value, vlen);
			if (c && !*named)
				*named = c;
		} else if (depth < CARRIER_URL_DEPTH &&
			   (prefix_ci(value, vlen, "http://") ||
			    prefix_ci(value, vlen, "https://") ||
			    prefix_ci(value, vlen, "www."))) {
			if (!found && from_url(value, vlen, depth + 1, out,
					       named) == 1)
				found = 1;
		} else if (!found) {
			bool trk = key_in(key, klen, tracking_keys);
			bool gen = carrier_host &&
				   key_in(key, klen, carrier_host_keys);

			if ((trk || gen) && try_value(value, vlen, false, out))
				found = 1;
			else if (!have_weak &&
				 try_value(value, vlen, true, &weak))
				have_weak = true;
		}
		i = j + 1;
	}
	if (!found && have_weak) {
		*out = weak;
		found = 1;
	}
	return found;
}

/* Path segments: "/tracking/JD0002242617644732", "#/tracking-results/N". */
static int from_segments(const char *p, size_t len, bool carrier_host,
			 struct carrier_check *out)
{
	char value[VALUE_MAX];
	size_t i = 0;
	int found = 0;

	while (i < len) {
		size_t j = i, vlen;

		while (j < len && p[j] != '/' && p[j] != '?' && p[j] != '&' &&
		       p[j] != '=')
			j++;
		if (j - i >= 8 && j - i < 120) {
			vlen = decode(p + i, j - i, value);
			if (try_value(value, vlen, !carrier_host, out))
				found = 1; /* the last one wins: it is the
					      most specific */
		}
		if (j < len && (p[j] == '?' || p[j] == '=' || p[j] == '&'))
			break;
		i = j + 1;
	}
	return found;
}

/* from_url() on a split URL; *host_r is the carrier of its host. */
static int from_parts(const struct url_parts *u, int depth,
		      struct carrier_check *out, const struct carrier **named,
		      const struct carrier **host_r)
{
	const struct carrier *host;
	bool trusted;

	host = carrier_from_host(u->host, u->host_len);
	*host_r = host;
	trusted = host || carrier_host_is_aggregator(u->host, u->host_len);
	if (host && !*named)
		*named = host;
	if (u->query && from_params(u->query, u->query_len, trusted, depth,
				    out, named))
		return 1;
	if (u->frag) {
		if (from_params(u->frag, u->frag_len, trusted, depth, out,
				named))
			return 1;
		if (from_segments(u->frag, u->frag_len, trusted, out))
			return 1;
	}
	if (u->path_len && from_segments(u->path, u->path_len, trusted, out))
		return 1;
	return 0;
}

static int from_url(const char *url, size_t len, int depth,
		    struct carrier_check *out, const struct carrier **named)
{
	struct url_parts u;
	const struct carrier *host;

	if (len > CARRIER_URL_MAX)
		len = CARRIER_URL_MAX;
	if (!split_url(url, len, &u))
		return 0;
	return from_parts(&u, depth, out, named, &host);
}

/* Puts c first among the candidates and decides it, when it fits. */
static void prefer(struct carrier_check *out, const struct carrier *c)
{
	size_t i;

	for (i = 0; i < out->n_candidates && out->candidates[i] != c; i++)
		;
	if (i == out->n_candidates) {
		/* An S10 item is tracked by the destination's post too. */
		struct carrier_check s;

		if (!carrier_is_postal(c) || strlen(out->normalized) != 13)
			return;
		carrier_check(out->normalized, 13, &s);
		if (!s.valid || !s.candidates[0] ||
		    !carrier_is_postal(s.candidates[0]))
			return;
		if (out->n_candidates == CARRIER_MAX_CANDIDATES)
			out->n_candidates--;
		i = out->n_candidates++;
	}
	memmove(&out->candidates[1], &out->candidates[0],
		i * sizeof(out->candidates[0]));
	out->candidates[0] = c;
	out->carrier = c;
}

int carrier_from_url(const char *url, struct carrier_check *out)
{
	const struct carrier *named = NULL;
	struct carrier_check c;

	memset(out, 0, sizeof(*out));
	if (!url)
		return 0;
	memset(&c, 0, sizeof(c));
	if (from_url(url, strnlen(url, CARRIER_URL_MAX), 0, &c, &named) != 1)
		return 0;
	*out = c;
	if (named)
		prefer(out, named);
	return 1;
}

const struct carrier *carrier_link_carrier(const char *url)
{
	const struct carrier *named = NULL, *host;
	struct url_parts u;
	struct carrier_check c;
	size_t len;

	if (!url)
		return NULL;
	len = strnlen(url, CARRIER_URL_MAX);
	if (!split_url(url, len, &u))
		return NULL;
	named = carrier_from_host(u.host, u.host_len);
	if (named)
		return named;
	from_parts(&u, 0, &c, &named, &host);
	return named;
}

struct carrier_link_index *carrier_link_index_build(const char *const *links,
						    size_t n)
{
	struct carrier_link_index *ix = calloc(1, sizeof(*ix));

	if (!ix)
		return NULL;
	if (n) {
		ix->v = calloc(n, sizeof(*ix->v));
		if (!ix->v) {
			free(ix);
			return NULL;
		}
	}
	ix->n = n;
	for (size_t i = 0; links && i < n; i++) {
		struct carrier_link_entry *e = &ix->v[i];
		const char *url = links[i];
		const struct carrier *named = NULL, *host;
		struct carrier_check c;
		struct url_parts u;
		size_t len;
		int found;

		if (!url)
			continue;
		/* One pass over the link gives both answers: the number
		 * (carrier_from_url()) and the carrier it points to
		 * (carrier_link_carrier()). */
		len = strnlen(url, CARRIER_URL_MAX);
		if (!split_url(url, len, &u))
			continue;
		memset(&c, 0, sizeof(c));
		found = from_parts(&u, 0, &c, &named, &host);
		e->carrier = host ? host : named;
		if (found == 1) {
			e->has_number = true;
			e->number = c;
			if (named)
				prefer(&e->number, named);
		}
	}
	return ix;
}

void carrier_link_index_free(struct carrier_link_index *ix)
{
	if (!ix)
		return;
	free(ix->v);
	free(ix);
}
