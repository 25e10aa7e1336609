/* parser_internal.h - the compiled form of a parser file, shared by
 * parser_load.c (YAML -> struct) and parser_run.c (matching). Not for use
 * outside src/parse/. */
#ifndef TRACKMAIL_PARSER_INTERNAL_H
#define TRACKMAIL_PARSER_INTERNAL_H

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "parse/parser.h"

enum tracking_expect {
	TRACKING_OPTIONAL, /* a number may or may not be there */
	TRACKING_REQUIRED, /* none found: template drift, quarantine */
	TRACKING_NONE,     /* never extract numbers from this event's mail */
};

struct rule {
	pcre2_code *code;
	char *source;       /* the pattern as written */
	char *label;        /* "match.from[0]", "extract.tracking[2]" */
	int line;           /* 1-based line in the file */
	char *carrier;      /* tracking rules: carrier fixed by the parser */
	int group_order;    /* capture numbers, 0 when the group is absent */
	int group_tracking;
	int group_carrier;
	int group_store; /* extract.store: (?<store>) */
};

struct rule_list {
	struct rule *v;
	size_t n;
};

struct event_rule {
	enum parse_event event;
	enum tracking_expect expect;
	struct rule_list subject;
	struct rule_list body;
	int line;
};

struct country_carriers {
	char cc[3];  /* ISO 3166-1 alpha-2, upper case */
	char **ids;  /* carrier ids, best first */
	size_t n;
};

struct parser {
	char *id;
	char *name;
	char *file;
	char *countries;
	char *events_text;
	enum parser_kind kind;
	bool tracking_automation;
	char **domains; /* match.domains, lower case */
	size_t n_domains;
	char **relay_encoded; /* relays: domains writing LOCAL_at_DOMAIN_x */
	size_t n_relay_encoded;
	char **real_mail; /* real upstream mails the format was checked on */
	size_t n_real_mail;
	char **usual_carriers;
	size_t n_usual_carriers;
	/* usual_carriers_by_country: the usual carriers of each country the
	 * supplier ships in (decide-carriers); when present they replace
	 * usual_carriers for a mail of that country. */
	struct country_carriers *usual_by_country;
	size_t n_usual_by_country;
	struct rule_list from, subject, body;
	struct event_rule *events;
	size_t n_events;
	enum parse_event default_event;
	enum tracking_expect default_expect;
	struct rule_list order, tracking, carrier, tracking_link, tracking_url;
	struct rule_list blocks;
	struct rule_list store; /* platform: (?<store>) from a link */
};

/* The domain index: every match.domains entry of the supplier and
 * carrier parsers, sorted, so the sender's domain and each of its parent
 * domains are found by binary search. */
struct keyword_entry {
	const char *keyword; /* a domain, lower case, owned by the parser */
	size_t parser_index;
};

struct parser_set {
	struct parser **parsers;
	size_t n_parsers;
	struct keyword_entry *keywords; /* sorted by keyword */
	size_t n_keywords;
};

/* Rebuilds the domain index after parsers were added. */
void parser_set_index(struct parser_set *set);

#endif
