/* carrier.h - the carrier table, tracking-number validation, carrier choice.
 *
 * One table (carrier.c) holds every carrier: id, display name, number
 * formats, check-digit algorithm, tracking URL template and the hosts of its
 * tracking links (docs/carriers.md). Everything here is pure: no I/O, no
 * globals but the immutable table. */
#ifndef TRACKMAIL_CARRIER_H
#define TRACKMAIL_CARRIER_H

#include <stdbool.h>
#include <stddef.h>

#define CARRIER_NUMBER_MAX 64    /* longest normalized number + NUL */
#define CARRIER_MAX_CANDIDATES 8

struct carrier; /* opaque: an entry of the table */

size_t carrier_count(void);
const struct carrier *carrier_at(size_t i);
/* By id ("ups", "royal_mail"); NULL when unknown. */
const struct carrier *carrier_find(const char *id);
const char *carrier_id(const struct carrier *c);
const char *carrier_name(const struct carrier *c);
/* Does this carrier have a check digit for the given normalized number's
 * format (false for TBA, YunExpress, Cainiao, LaserShip, Yodel …)? */
bool carrier_has_check_digit(const struct carrier *c, const char *number);
/* Writes the public tracking URL for number into buf; returns 0, or
 * -ENOSPC when buf is too small, -ENOENT when the carrier has none. */
int carrier_tracking_url(const struct carrier *c, const char *number,
			 char *buf, size_t size);

/* Added: the table's descriptions (static strings; url/hosts may be ""
 * or NULL when the carrier has none), for `carriers list` and docs. */
const char *carrier_formats_text(const struct carrier *c);
const char *carrier_check_digit_text(const struct carrier *c);
const char *carrier_url_template(const struct carrier *c); /* "%s" = number */
const char *carrier_link_hosts(const struct carrier *c);   /* space-sep. */
const char *carrier_s10_countries(const struct carrier *c); /* or NULL */
/* Added: the postal operator of an S10 country code (2 upper-case
 * letters): its own entry, "upu" for a valid ISO code without one, NULL for
 * anything else. */
const struct carrier *carrier_for_country(const char *cc);
/* Added: true for postal operators (they track any S10 number). */
bool carrier_is_postal(const struct carrier *c);
/* Added: the carrier whose tracking links use this host (or a parent
 * domain of it); NULL when none. Aggregators (17track …) are no carrier. */
const struct carrier *carrier_from_host(const char *host, size_t len);
bool carrier_host_is_aggregator(const char *host, size_t len);

/* Maps how a mail names a carrier ("UPS", "Shipped with FedEx",
 * "Royal Mail Tracked 48", "USPS®", "Cainiao", "4PX") to the table entry;
 * NULL when nothing known is named. */
const struct carrier *carrier_from_name(const char *text, size_t len);

struct carrier_check {
	char input[CARRIER_NUMBER_MAX];      /* as given (cut if longer) */
	char normalized[CARRIER_NUMBER_MAX]; /* spaces/dashes removed, upper */
	bool valid;          /* fits ≥ 1 carrier's format (and check digit) */
	/* The carrier, when exactly one fits; NULL when none or several. */
	const struct carrier *carrier;
	/* Every carrier that fits, best first (carrier == candidates[0] when
	 * decided). */
	const struct carrier *candidates[CARRIER_MAX_CANDIDATES];
	size_t n_candidates;
	/* The fitting formats carry no check digit: in free text this number
	 * needs a label, a carrier name or a link beside it to be trusted. */
	bool needs_evidence;
	/* Added: a decided carrier's format whose shape and check digit are
	 * distinctive enough to accept unlabelled in free text (UPS 1Z, S10,
	 * USPS IMpb 9x…, FedEx 96/34, OnTrac, DHL Paket SSCC). */
	bool distinctive;
};

/* Normalizes and classifies one number by format and check digit only. */
void carrier_check(const char *input, size_t len, struct carrier_check *out);

struct carrier_link_index;

/* Evidence about one number found in a mail, for carrier_decide(). */
struct carrier_evidence {
	/* The carrier as the mail names it near the number, or NULL. */
	const char *named;
	size_t named_len;
	/* The supplier parser fixed the carrier for this rule: trust `named`
	 * over an ambiguous format (still refuse a failing check digit). */
	bool parser_names_carrier;
	/* Tracking-link URLs in the mail (decoded_message links). */
	const char *const *links;
	size_t n_links;
	/* Added: the same links parsed once (carrier_link_index_build()), or
	 * NULL: carrier_decide() then parses each link for every number. */
	const struct carrier_link_index *index;
	/* The supplier's usual carrier ids for the mail's country, best
	 * first, or none: they break ties and corroborate a number whose
	 * formats carry no check digit. */
	const char *const *usual;
	size_t n_usual;
};

struct carrier_decision {
	struct carrier_check check;
	const struct carrier *carrier; /* decided carrier, or NULL */
	/* Why no carrier was decided (static string), or NULL when decided:
	 * "invalid-number", "check-digit", "carrier-ambiguous",
	 * "carrier-conflict" (named carrier and format disagree),
	 * "carrier-unconfirmed" (only formats without a check digit fit and
	 * no name, link or usual carrier corroborates one). */
	const char *reason;
	const char *evidence; /* what decided it: "format", "named", "link",
				 "usual" (static string) */
};

/* Combines format, check digit, the named carrier, links and the supplier's
 * usual carriers. Returns 1 when a carrier is decided, 0 when the number is
 * valid but the carrier is ambiguous or conflicting (candidates in
 * d->check), -1 when the number is not a valid tracking number. */
int carrier_decide(const char *number, size_t len,
		   const struct carrier_evidence *ev,
		   struct carrier_decision *d);

/* Finds a tracking number in a carrier or tracking-aggregator URL (UPS
 * tracknum=, USPS tLabels=, FedEx trknbr=, DHL, Royal Mail, 17track …).
 * Returns 1 and fills *out (carrier set when the host names one), else 0. */
int carrier_from_url(const char *url, struct carrier_check *out);
/* Added: the carrier a link points to by itself: its host's carrier, else
 * the carrier a supplier redirect names in a carrier=/courier= parameter;
 * NULL when neither. */
const struct carrier *carrier_link_carrier(const char *url);

/* Added: every link of one message parsed once (host, path, query), so
 * that each candidate number is looked up in the index instead of
 * re-parsing every link. Entry i belongs to links[i]. */
struct carrier_link_entry {
	const struct carrier *carrier; /* carrier_link_carrier(links[i]) */
	bool has_number;               /* carrier_from_url(links[i]) == 1 */
	struct carrier_check number;   /* its result when has_number */
};
struct carrier_link_index {
	struct carrier_link_entry *v;
	size_t n;
};
/* Builds the index of links[0..n) (NULL entries stay empty); free it with
 * carrier_link_index_free(). Returns NULL only when out of memory. */
struct carrier_link_index *carrier_link_index_build(const char *const *links,
						    size_t n);
void carrier_link_index_free(struct carrier_link_index *ix);

/* Fallback detection for mail no supplier parser takes: labelled numbers
 * ("Tracking number", "Sendungsnummer", "运单号" …) and carrier links, only
 * numbers that pass their check digit or come with a carrier link or name.
 * Decoys (order numbers, phones, ZIPs, prices, dates, coupons) never pass.
 * Fills up to max results, best first; returns how many. */
struct carrier_found {
	struct carrier_decision decision;
	size_t offset;        /* where in text (SIZE_MAX when from a link) */
	const char *how;      /* "label", "link", "check-digit" */
};
size_t carrier_scan(const char *text, size_t len, const char *const *links,
		    size_t n_links, struct carrier_found *out, size_t max);

#endif
