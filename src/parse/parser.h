/* parser.h - supplier and carrier parser files: load, select, extract.
 *
 * A parser is one YAML file in parsers/ (docs/parsers.md is the format).
 * parser_set_load_dir() compiles every file once (PCRE2, UTF, JIT); a broken
 * file is reported with file and line and skipped, the rest load.
 * parser_run() picks the parser for a decoded message (the original
 * sender's address domain, looked up in a sorted index of match.domains;
 * relays and platform templates as docs/parsers.md says), decides
 * the event, extracts order numbers, tracking numbers and carriers, checks
 * every number with the carrier table, and says what the message means:
 * its outcome (DESIGN.md "Outcomes of one message").
 *
 * A parser_set is immutable once loaded and may be shared; a parser_matcher
 * holds the per-worker PCRE2 match state and must not be shared. */
#ifndef TRACKMAIL_PARSER_H
#define TRACKMAIL_PARSER_H

#include <stdbool.h>
#include <stddef.h>

#include "core/buf.h"
#include "mail/mail.h"
#include "parse/carrier.h"

struct parser_set;
struct parser;
struct parser_matcher;

/* PARSER_PLATFORM: a store platform's default template (Shopify ...),
 * recognised by its layout; PARSER_RELAYS: not a parser but the list of
 * relay domains (parsers/relays.yaml) whose addresses never attribute. */
enum parser_kind {
	PARSER_SUPPLIER,
	PARSER_CARRIER,
	PARSER_PLATFORM,
	PARSER_RELAYS,
};

enum parse_outcome {
	OUTCOME_SHIPPED,
	OUTCOME_INFO,
	OUTCOME_QUARANTINED,
	OUTCOME_DUPLICATE, /* only decided by the store */
};

enum parse_event {
	EVENT_SHIPPED,
	EVENT_ORDERED,
	EVENT_CANCELLED,
	EVENT_REFUNDED,
	EVENT_DELIVERED,
	EVENT_OUT_FOR_DELIVERY,
	EVENT_OTHER,
};

const char *parse_outcome_name(enum parse_outcome o);
/* "supplier", "carrier", "platform" or "relays". */
const char *parser_kind_name(enum parser_kind k);
const char *parse_event_name(enum parse_event e);
/* Returns 0 and sets *e, or -EINVAL for an unknown name. */
int parse_event_from_name(const char *name, enum parse_event *e);

/* Loads every *.yaml file of dir, in name order. Errors of broken files
 * are appended to errors (one line each: "FILE:LINE: message") and the
 * file is skipped. Returns 0 (even when some files were skipped), or
 * -errno when dir cannot be read. */
int parser_set_load_dir(const char *dir, struct parser_set **set_r,
			struct buf *errors);
/* Loads one file into an existing set (for tests and `parsers check`).
 * Returns 0, or -EINVAL with the error appended to errors. */
int parser_set_add_file(struct parser_set *set, const char *path,
			struct buf *errors);
struct parser_set *parser_set_new(void);
void parser_set_free(struct parser_set **set);

size_t parser_set_count(const struct parser_set *set);
const struct parser *parser_set_at(const struct parser_set *set, size_t i);
const struct parser *parser_set_find(const struct parser_set *set,
				     const char *id);

const char *parser_id(const struct parser *p);
const char *parser_name(const struct parser *p);
const char *parser_file(const struct parser *p);
enum parser_kind parser_kind(const struct parser *p);
bool parser_tracking_automation(const struct parser *p);
/* Countries as written in the file ("US, UK, DE"), or "". */
const char *parser_countries(const struct parser *p);
/* The real upstream mails (file names under fixtures-upstream) the file
 * says its format was checked against (`real_mail:`); *n_r may be 0. */
const char *const *parser_real_mail(const struct parser *p, size_t *n_r);
/* Whether the address domain is one of the relays of the set. */
bool parser_set_is_relay(const struct parser_set *set, const char *domain);
/* Whether the relay at domain writes the sender it relays into the local
 * part as LOCAL_at_DOMAIN_WITH_UNDERSCORES_SUFFIX (Apple Hide My Email). */
bool parser_set_relay_encodes(const struct parser_set *set,
			      const char *domain);
/* The events this parser names, as a comma-separated list. */
const char *parser_events(const struct parser *p);
/* Fixture directory declared by the file, or NULL (defaults to
 * fixtures/emails/<id>). */

struct parser_matcher *parser_matcher_new(void);
void parser_matcher_free(struct parser_matcher **m);

struct shipment {
	char *order;      /* supplier order number or NULL */
	struct carrier_decision decision;
	const char *carrier_id; /* decided carrier id, or NULL */
	const char *rule; /* "tracking[0]" etc. (static or owned by parser) */
};

struct notice {
	char number[CARRIER_NUMBER_MAX];
	const char *carrier_id; /* NULL when undecided */
};

struct parse_result {
	enum parse_outcome outcome;
	enum parse_event event;
	const struct parser *parser; /* NULL: no supplier/carrier parser */
	/* Mail-level supplier order number (first found), or NULL. */
	char *order;
	/* Every order number the mail names, for "awaiting tracking". */
	char **orders;
	size_t n_orders;
	struct shipment *shipments;
	size_t n_shipments;
	struct notice *notices; /* carrier mail: the numbers it is about */
	size_t n_notices;
	/* A "Track package" link kept when a shipped mail has no number. */
	char *tracking_link;
	/* Quarantine reason (static string id such as "template-drift") and a
	 * human detail, when outcome is QUARANTINED. */
	const char *reason;
	char *detail;
	/* Candidate carriers for a carrier-ambiguous quarantine. */
	const char *candidates[CARRIER_MAX_CANDIDATES];
	size_t n_candidates;
	/* The fallback found a number for an unknown sender: a person must
	 * confirm which order it belongs to. */
	bool needs_review;
	/* The supplier's own domain sent the mail but none of its subject or
	 * body markers matched: its template may have changed. */
	bool template_drift;
	/* How the parser was chosen: "domain", "relay-body", "no-address-body",
	 * "platform-template", or NULL (fallback). */
	const char *attributed_by;
	/* Platform parsers: the store's own domain (lower case, no www.) and
	 * its display name; NULL otherwise. */
	char *store_domain;
	char *store_name;
	/* --explain lines: which parser, which rule matched which text. */
	struct buf explain;
};

/* The supplier id the mail is attributed to, malloc'd: the supplier
 * parser's id, "<platform>:<store domain>" for a platform parser, or NULL
 * (carrier mail, fallback). */
char *parse_result_supplier_id(const struct parse_result *r);

void parse_result_init(struct parse_result *r);
void parse_result_clear(struct parse_result *r);

/* Decides what msg means. explain: also fill r->explain. Never fails on
 * bad mail: trouble becomes OUTCOME_QUARANTINED with a reason. */
void parser_run(const struct parser_set *set, struct parser_matcher *m,
		const struct decoded_message *msg, bool explain,
		struct parse_result *r);

#endif
