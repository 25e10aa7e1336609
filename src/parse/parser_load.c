/* parser_load.c - reads the parser files (parsers/NAME.yaml) into parsers.
 *
 * The file format is documented in docs/parsers.md. Every error names the
 * file and the line (libyaml marks are 0-based; we print 1-based) and the
 * file is skipped as a whole: a half-loaded parser would misfile mail. Keys
 * are checked against the schema so a typo is an error, not a silently
 * ignored rule. Patterns compile once here (PCRE2 UTF + JIT). */
#include "parse/parser_internal.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "core/limits.h"
#include "core/log.h"
#include "core/util.h"

struct loader {
	const char *path;
	yaml_document_t *doc;
	struct buf *errors;
	int failed;
	pcre2_compile_context *cctx;
};

static void load_error(struct loader *ld, const yaml_node_t *node,
		       const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void load_error(struct loader *ld, const yaml_node_t *node,
		       const char *fmt, ...)
{
	if (ld->failed++)
		return; /* the first error is the one worth fixing */
	buf_printf(ld->errors, "%s:%zu: ", ld->path,
		   node ? node->start_mark.line + 1 : 1);
	va_list ap;
	va_start(ap, fmt);
	buf_vprintf(ld->errors, fmt, ap);
	va_end(ap);
	buf_append_char(ld->errors, '\n');
}

static const char *scalar(const yaml_node_t *n)
{
	if (!n || n->type != YAML_SCALAR_NODE)
		return NULL;
	return (const char *)n->data.scalar.value;
}

static yaml_node_t *node_at(struct loader *ld, int index)
{
	return yaml_document_get_node(ld->doc, index);
}

/* Checks that every key of the mapping is in allowed (NULL-terminated). */
static void check_keys(struct loader *ld, yaml_node_t *map,
		       const char *const *allowed, const char *where)
{
	for (yaml_node_pair_t *p = map->data.mapping.pairs.start;
	     p < map->data.mapping.pairs.top; p++) {
		yaml_node_t *k = node_at(ld, p->key);
		const char *key = scalar(k);
		bool ok = false;
		for (size_t i = 0; key && allowed[i]; i++)
			ok |= strcmp(key, allowed[i]) == 0;
		if (!ok)
			load_error(ld, k, "unknown key '%s' in %s", key ? key : "?",
				   where);
	}
}

static yaml_node_t *map_get(struct loader *ld, yaml_node_t *map,
			    const char *key)
{
	if (!map || map->type != YAML_MAPPING_NODE)
		return NULL;
	for (yaml_node_pair_t *p = map->data.mapping.pairs.start;
	     p < map->data.mapping.pairs.top; p++) {
		const char *k = scalar(node_at(ld, p->key));
		if (k && strcmp(k, key) == 0)
			return node_at(ld, p->value);
	}
	return NULL;
}

static char *get_string(struct loader *ld, yaml_node_t *map, const char *key,
			bool required)
{
	yaml_node_t *n = map_get(ld, map, key);
	if (!n) {
		if (required)
			load_error(ld, map, "missing key '%s'", key);
		return NULL;
	}
	const char *s = scalar(n);
	if (!s) {
		load_error(ld, n, "'%s' must be a string", key);
		return NULL;
	}
	return xstrdup(s);
}

static bool get_bool(struct loader *ld, yaml_node_t *map, const char *key,
		     bool dflt)
{
	yaml_node_t *n = map_get(ld, map, key);
	if (!n)
		return dflt;
	const char *s = scalar(n);
	if (s && (strcmp(s, "true") == 0 || strcmp(s, "yes") == 0))
		return true;
	if (s && (strcmp(s, "false") == 0 || strcmp(s, "no") == 0))
		return false;
	load_error(ld, n, "'%s' must be true or false", key);
	return dflt;
}

/* A list of strings, or one string as a list of one. */
static char **get_string_list(struct loader *ld, yaml_node_t *map,
			      const char *key, size_t *n_r)
{
	*n_r = 0;
	yaml_node_t *n = map_get(ld, map, key);
	if (!n)
		return NULL;
	if (n->type == YAML_SCALAR_NODE) {
		char **v = xcalloc(1, sizeof(*v));
		v[0] = xstrdup(scalar(n));
		*n_r = 1;
		return v;
	}
	if (n->type != YAML_SEQUENCE_NODE) {
		load_error(ld, n, "'%s' must be a list of strings", key);
		return NULL;
	}
	size_t count = (size_t)(n->data.sequence.items.top -
				n->data.sequence.items.start);
	char **v = xcalloc(count + 1, sizeof(*v));
	size_t k = 0;
	for (yaml_node_item_t *it = n->data.sequence.items.start;
	     it < n->data.sequence.items.top; it++) {
		yaml_node_t *item = node_at(ld, *it);
		const char *s = scalar(item);
		if (!s) {
			load_error(ld, item, "'%s' items must be strings", key);
			continue;
		}
		v[k++] = xstrdup(s);
	}
	*n_r = k;
	return v;
}

static void free_string_list(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

static int group_number(pcre2_code *code, const char *name)
{
	int n = pcre2_substring_number_from_name(code, (PCRE2_SPTR)name);
	return n > 0 ? n : 0;
}

static void compile_rule(struct loader *ld, yaml_node_t *node,
			 const char *pattern, bool caseless, const char *label,
			 struct rule *r)
{
	memset(r, 0, sizeof(*r));
	r->source = xstrdup(pattern);
	r->label = xstrdup(label);
	r->line = (int)node->start_mark.line + 1;
	if (strlen(pattern) > LIMIT_PATTERN_LENGTH) {
		load_error(ld, node, "%s: pattern longer than %u bytes", label,
			   LIMIT_PATTERN_LENGTH);
		return;
	}
	int err;
	PCRE2_SIZE erroff;
	uint32_t opts = PCRE2_UTF | PCRE2_MULTILINE | PCRE2_NEVER_BACKSLASH_C;
	/* match and events rules read words in every language: with UCP,
	 * \b and \w know that "é" is a letter ("Commandé :"). extract rules
	 * stay ASCII so \d never takes another script's digits for a
	 * tracking number (LIBRARIES.md 3). */
	if (caseless)
		opts |= PCRE2_CASELESS | PCRE2_UCP;
	r->code = pcre2_compile((PCRE2_SPTR)pattern, PCRE2_ZERO_TERMINATED,
				opts, &err, &erroff, ld->cctx);
	if (!r->code) {
		PCRE2_UCHAR msg[256];
		pcre2_get_error_message(err, msg, sizeof(msg));
		load_error(ld, node,
			   "%s: invalid regular expression at offset %zu: %s",
			   label, (size_t)erroff, (const char *)msg);
		return;
	}
	int jr = pcre2_jit_compile(r->code, PCRE2_JIT_COMPLETE);
	if (jr != 0) {
		/* W^X policies refuse JIT: matching still works, slower. */
		log_msg(LOG_DEBUG, "event=jit-unavailable file=%s line=%d",
			ld->path, r->line);
	}
	r->group_order = group_number(r->code, "order");
	r->group_tracking = group_number(r->code, "tracking");
	r->group_carrier = group_number(r->code, "carrier");
	r->group_store = group_number(r->code, "store");
}

static void free_rule(struct rule *r)
{
	pcre2_code_free(r->code);
	free(r->source);
	free(r->label);
	free(r->carrier);
}

static void free_rule_list(struct rule_list *l)
{
	for (size_t i = 0; i < l->n; i++)
		free_rule(&l->v[i]);
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

/* Reads key of map as a list of patterns (strings, or mappings with
 * `pattern` and, when allow_carrier, `carrier`). need_group: the named
 * group each pattern must define, or NULL. */
static void get_rules(struct loader *ld, yaml_node_t *map, const char *key,
		      const char *prefix, bool caseless, const char *need_group,
		      bool allow_carrier, struct rule_list *out)
{
	out->v = NULL;
	out->n = 0;
	yaml_node_t *n = map_get(ld, map, key);
	if (!n)
		return;
	yaml_node_item_t one = 0;
	yaml_node_item_t *start, *top;
	if (n->type == YAML_SCALAR_NODE) {
		one = (yaml_node_item_t)(n - ld->doc->nodes.start) + 1;
		start = &one;
		top = &one + 1;
	} else if (n->type == YAML_SEQUENCE_NODE) {
		start = n->data.sequence.items.start;
		top = n->data.sequence.items.top;
	} else {
		load_error(ld, n, "'%s.%s' must be a pattern or a list of them",
			   prefix, key);
		return;
	}
	out->v = xcalloc((size_t)(top - start) + 1, sizeof(*out->v));
	for (yaml_node_item_t *it = start; it < top; it++) {
		yaml_node_t *item = node_at(ld, *it);
		const char *pattern = scalar(item);
		const char *carrier = NULL;
		if (!pattern && item->type == YAML_MAPPING_NODE) {
			static const char *const keys[] = { "pattern", "carrier",
							    NULL };
			check_keys(ld, item, keys, key);
			pattern = scalar(map_get(ld, item, "pattern"));
			carrier = scalar(map_get(ld, item, "carrier"));
			if (carrier && !allow_carrier) {
				load_error(ld, item,
					   "'carrier' is only allowed on "
					   "tracking patterns");
				carrier = NULL;
			}
			if (carrier && !carrier_find(carrier)) {
				load_error(ld, item, "unknown carrier id '%s' "
					   "(see trackmail carriers list)",
					   carrier);
				carrier = NULL;
			}
		}
		if (!pattern) {
			load_error(ld, item,
				   "'%s.%s' items must be patterns", prefix,
				   key);
			continue;
		}
		char label[96];
		snprintf(label, sizeof(label), "%s.%s[%zu]", prefix, key,
			 out->n);
		struct rule *r = &out->v[out->n++];
		compile_rule(ld, item, pattern, caseless, label, r);
		if (carrier)
			r->carrier = xstrdup(carrier);
		if (r->code && need_group &&
		    group_number(r->code, need_group) == 0)
			load_error(ld, item, "%s: pattern has no named group "
				   "(?<%s>...)", label, need_group);
	}
}

static int tracking_expect_from_name(const char *s, enum tracking_expect *e)
{
	if (strcmp(s, "optional") == 0)
		*e = TRACKING_OPTIONAL;
	else if (strcmp(s, "required") == 0)
		*e = TRACKING_REQUIRED;
	else if (strcmp(s, "none") == 0)
		*e = TRACKING_NONE;
	else
		return -EINVAL;
	return 0;
}

static void load_events(struct loader *ld, struct parser *p, yaml_node_t *n)
{
	if (!n)
		return;
	if (n->type != YAML_SEQUENCE_NODE) {
		load_error(ld, n, "'events' must be a list");
		return;
	}
	size_t count = (size_t)(n->data.sequence.items.top -
				n->data.sequence.items.start);
	p->events = xcalloc(count + 1, sizeof(*p->events));
	unsigned seen = 0;
	for (yaml_node_item_t *it = n->data.sequence.items.start;
	     it < n->data.sequence.items.top; it++) {
		yaml_node_t *item = node_at(ld, *it);
		if (item->type != YAML_MAPPING_NODE) {
			load_error(ld, item, "each event must be a mapping");
			continue;
		}
		static const char *const keys[] = { "event", "subject", "body",
						    "tracking", NULL };
		check_keys(ld, item, keys, "events");
		struct event_rule *e = &p->events[p->n_events];
		e->line = (int)item->start_mark.line + 1;
		const char *name = scalar(map_get(ld, item, "event"));
		if (!name || parse_event_from_name(name, &e->event) < 0) {
			load_error(ld, item, "event must be one of shipped, "
				   "ordered, cancelled, refunded, delivered, "
				   "out_for_delivery, other");
			continue;
		}
		const char *expect = scalar(map_get(ld, item, "tracking"));
		e->expect = e->event == EVENT_SHIPPED ? TRACKING_REQUIRED
						      : TRACKING_OPTIONAL;
		if (expect && tracking_expect_from_name(expect, &e->expect) < 0)
			load_error(ld, item, "tracking must be required, "
				   "optional or none");
		char prefix[48];
		snprintf(prefix, sizeof(prefix), "events[%zu]", p->n_events);
		get_rules(ld, item, "subject", prefix, true, NULL, false,
			  &e->subject);
		get_rules(ld, item, "body", prefix, true, NULL, false, &e->body);
		if (e->subject.n == 0 && e->body.n == 0)
			load_error(ld, item, "event '%s' needs a subject or "
				   "body pattern", name);
		seen |= 1u << e->event;
		p->n_events++;
	}
	/* Listed in the one canonical order, for tables and docs. */
	struct buf names;
	buf_init(&names, 4096);
	for (int ev = EVENT_SHIPPED; ev <= EVENT_OTHER; ev++)
		if (seen & (1u << ev))
			buf_printf(&names, "%s%s", names.len ? ", " : "",
				   parse_event_name((enum parse_event)ev));
	p->events_text = buf_steal(&names);
}

static void parser_free(struct parser *p)
{
	if (!p)
		return;
	free(p->id);
	free(p->name);
	free(p->file);
	free(p->countries);
	free(p->events_text);
	free_string_list(p->domains, p->n_domains);
	free_string_list(p->real_mail, p->n_real_mail);
	free_string_list(p->relay_encoded, p->n_relay_encoded);
	free_rule_list(&p->store);
	free_string_list(p->usual_carriers, p->n_usual_carriers);
	for (size_t i = 0; i < p->n_usual_by_country; i++)
		free_string_list(p->usual_by_country[i].ids,
				 p->usual_by_country[i].n);
	free(p->usual_by_country);
	free_rule_list(&p->from);
	free_rule_list(&p->subject);
	free_rule_list(&p->body);
	for (size_t i = 0; i < p->n_events; i++) {
		free_rule_list(&p->events[i].subject);
		free_rule_list(&p->events[i].body);
	}
	free(p->events);
	free_rule_list(&p->order);
	free_rule_list(&p->tracking);
	free_rule_list(&p->carrier);
	free_rule_list(&p->tracking_link);
	free_rule_list(&p->tracking_url);
	free_rule_list(&p->blocks);
	free(p);
}

/* usual_carriers_by_country: { US: [ups, usps], GB: [royal_mail] } */
static void load_usual_by_country(struct loader *ld, yaml_node_t *root,
				  struct parser *p)
{
	yaml_node_t *m = map_get(ld, root, "usual_carriers_by_country");
	if (!m)
		return;
	if (m->type != YAML_MAPPING_NODE) {
		load_error(ld, m, "'usual_carriers_by_country' must map "
			   "country codes (US, GB ...) to carrier id lists");
		return;
	}
	size_t count = (size_t)(m->data.mapping.pairs.top -
				m->data.mapping.pairs.start);
	p->usual_by_country = xcalloc(count + 1, sizeof(*p->usual_by_country));
	for (yaml_node_pair_t *pr = m->data.mapping.pairs.start;
	     pr < m->data.mapping.pairs.top; pr++) {
		yaml_node_t *k = node_at(ld, pr->key);
		const char *cc = scalar(k);
		if (!cc || strlen(cc) != 2 || !isupper((unsigned char)cc[0]) ||
		    !isupper((unsigned char)cc[1])) {
			load_error(ld, k, "usual_carriers_by_country: '%s' is "
				   "not a two-letter upper-case country code",
				   cc ? cc : "?");
			continue;
		}
		struct country_carriers *c =
			&p->usual_by_country[p->n_usual_by_country++];
		memcpy(c->cc, cc, 3);
		c->ids = get_string_list(ld, m, cc, &c->n);
		for (size_t i = 0; i < c->n; i++)
			if (!carrier_find(c->ids[i]))
				load_error(ld, node_at(ld, pr->value),
					   "unknown carrier id '%s' for %s",
					   c->ids[i], cc);
	}
}

static bool valid_id(const char *id)
{
	if (!*id || strlen(id) > 40)
		return false;
	for (const char *s = id; *s; s++)
		if (!islower((unsigned char)*s) && !isdigit((unsigned char)*s) &&
		    *s != '_')
			return false;
	return true;
}

/* A domain as match.domains and relays.yaml write it: lower-case labels of
 * letters, digits and '-', at least two of them. */
static bool valid_domain(const char *d)
{
	size_t len = strlen(d);
	if (len < 3 || len > 253 || d[0] == '.' || d[len - 1] == '.' ||
	    !strchr(d, '.') || strstr(d, ".."))
		return false;
	for (const char *s = d; *s; s++)
		if (!islower((unsigned char)*s) && !isdigit((unsigned char)*s) &&
		    *s != '-' && *s != '.')
			return false;
	return true;
}

static struct parser *load_document(struct loader *ld)
{
	yaml_node_t *root = yaml_document_get_root_node(ld->doc);
	if (!root || root->type != YAML_MAPPING_NODE) {
		load_error(ld, root, "a parser file must be a YAML mapping");
		return NULL;
	}
	static const char *const top_keys[] = {
		"id", "name", "kind", "countries", "tracking_automation",
		"usual_carriers", "usual_carriers_by_country", "match",
		"events", "default_event",
		"default_tracking", "extract", "notes", "real_mail", NULL
	};
	check_keys(ld, root, top_keys, "the file");

	struct parser *p = xcalloc(1, sizeof(*p));
	p->file = xstrdup(ld->path);
	p->id = get_string(ld, root, "id", true);
	if (p->id && !valid_id(p->id))
		load_error(ld, map_get(ld, root, "id"),
			   "id must be lower-case letters, digits and _");
	p->name = get_string(ld, root, "name", true);
	char *kind = get_string(ld, root, "kind", false);
	p->kind = PARSER_SUPPLIER;
	if (kind && strcmp(kind, "carrier") == 0)
		p->kind = PARSER_CARRIER;
	else if (kind && strcmp(kind, "platform") == 0)
		p->kind = PARSER_PLATFORM;
	else if (kind && strcmp(kind, "relays") == 0)
		p->kind = PARSER_RELAYS;
	else if (kind && strcmp(kind, "supplier") != 0)
		load_error(ld, map_get(ld, root, "kind"),
			   "kind must be supplier, carrier, platform or "
			   "relays");
	free(kind);
	p->real_mail = get_string_list(ld, root, "real_mail",
				       &p->n_real_mail);
	for (size_t i = 0; i < p->n_real_mail; i++)
		if (!p->real_mail[i][0] || strchr(p->real_mail[i], '/') ||
		    strstr(p->real_mail[i], ".."))
			load_error(ld, map_get(ld, root, "real_mail"),
				   "real_mail entry '%s' must be a file name "
				   "of fixtures-upstream/emails/*/",
				   p->real_mail[i]);

	size_t n;
	char **countries = get_string_list(ld, root, "countries", &n);
	struct buf cb;
	buf_init(&cb, 4096);
	for (size_t i = 0; i < n; i++)
		buf_printf(&cb, "%s%s", i ? ", " : "", countries[i]);
	free_string_list(countries, n);
	p->countries = buf_steal(&cb);
	p->tracking_automation = get_bool(ld, root, "tracking_automation",
					  p->kind == PARSER_SUPPLIER);
	p->usual_carriers = get_string_list(ld, root, "usual_carriers",
					    &p->n_usual_carriers);
	for (size_t i = 0; i < p->n_usual_carriers; i++)
		if (!carrier_find(p->usual_carriers[i]))
			load_error(ld, map_get(ld, root, "usual_carriers"),
				   "unknown carrier id '%s'",
				   p->usual_carriers[i]);

	load_usual_by_country(ld, root, p);

	yaml_node_t *match = map_get(ld, root, "match");
	if (!match || match->type != YAML_MAPPING_NODE) {
		load_error(ld, match ? match : root,
			   "'match' must be a mapping with domains and "
			   "subject/body patterns");
	} else {
		static const char *const keys[] = { "domains", "subject",
						    "body", "relay_encoded",
						    NULL };
		check_keys(ld, match, keys, "match");
		p->domains = get_string_list(ld, match, "domains",
					     &p->n_domains);
		for (size_t i = 0; i < p->n_domains; i++)
			if (!valid_domain(p->domains[i]))
				load_error(ld, map_get(ld, match, "domains"),
					   "'%s' is not a domain (lower-case "
					   "letters, digits, '-' and at least "
					   "one '.')", p->domains[i]);
		p->relay_encoded = get_string_list(ld, match, "relay_encoded",
						   &p->n_relay_encoded);
		if (p->n_relay_encoded && p->kind != PARSER_RELAYS)
			load_error(ld, map_get(ld, match, "relay_encoded"),
				   "match.relay_encoded is for kind: relays");
		for (size_t i = 0; i < p->n_relay_encoded; i++)
			if (!valid_domain(p->relay_encoded[i]))
				load_error(ld, map_get(ld, match,
						       "relay_encoded"),
					   "'%s' is not a domain",
					   p->relay_encoded[i]);
		get_rules(ld, match, "subject", "match", true, NULL, false,
			  &p->subject);
		get_rules(ld, match, "body", "match", true, NULL, false,
			  &p->body);
		if (p->n_domains == 0 && p->kind != PARSER_PLATFORM)
			load_error(ld, match, "match.domains must name the "
				   "domains the original sender's address "
				   "has: nothing else attributes");
		if (p->kind != PARSER_RELAYS && p->subject.n == 0 &&
		    p->body.n == 0)
			load_error(ld, match, "match needs subject or body "
				   "markers too: they pick the event and "
				   "detect template drift");
		if (p->kind == PARSER_PLATFORM && p->body.n == 0)
			load_error(ld, match, "a platform parser needs "
				   "match.body: its template is what "
				   "attributes it");
	}
	if (p->kind == PARSER_RELAYS) {
		if (ld->failed) {
			parser_free(p);
			return NULL;
		}
		return p;
	}

	load_events(ld, p, map_get(ld, root, "events"));
	p->default_event = EVENT_OTHER;
	const char *de = scalar(map_get(ld, root, "default_event"));
	if (de && parse_event_from_name(de, &p->default_event) < 0)
		load_error(ld, map_get(ld, root, "default_event"),
			   "unknown event '%s'", de);
	p->default_expect = TRACKING_OPTIONAL;
	const char *dt = scalar(map_get(ld, root, "default_tracking"));
	if (dt && tracking_expect_from_name(dt, &p->default_expect) < 0)
		load_error(ld, map_get(ld, root, "default_tracking"),
			   "tracking must be required, optional or none");

	yaml_node_t *ex = map_get(ld, root, "extract");
	if (ex && ex->type != YAML_MAPPING_NODE) {
		load_error(ld, ex, "'extract' must be a mapping");
	} else if (ex) {
		static const char *const keys[] = { "order", "tracking",
						    "carrier", "tracking_link",
						    "tracking_url", "blocks",
						    "store", NULL };
		check_keys(ld, ex, keys, "extract");
		get_rules(ld, ex, "order", "extract", false, "order", false,
			  &p->order);
		get_rules(ld, ex, "tracking", "extract", false, "tracking",
			  true, &p->tracking);
		get_rules(ld, ex, "carrier", "extract", true, "carrier", false,
			  &p->carrier);
		get_rules(ld, ex, "tracking_link", "extract", true, NULL,
			  false, &p->tracking_link);
		get_rules(ld, ex, "tracking_url", "extract", false,
			  "tracking", true, &p->tracking_url);
		get_rules(ld, ex, "blocks", "extract", false, NULL, false,
			  &p->blocks);
		get_rules(ld, ex, "store", "extract", true, "store", false,
			  &p->store);
	}
	if (ld->failed) {
		parser_free(p);
		return NULL;
	}
	return p;
}

struct parser_set *parser_set_new(void)
{
	return xcalloc(1, sizeof(struct parser_set));
}

static int keyword_cmp(const void *a, const void *b)
{
	const struct keyword_entry *x = a, *y = b;
	int c = strcmp(x->keyword, y->keyword);
	if (c)
		return c;
	return x->parser_index < y->parser_index ? -1 :
	       x->parser_index > y->parser_index;
}

void parser_set_index(struct parser_set *set)
{
	free(set->keywords);
	size_t total = 0;
	for (size_t i = 0; i < set->n_parsers; i++)
		total += set->parsers[i]->n_domains;
	set->keywords = xcalloc(total + 1, sizeof(*set->keywords));
	set->n_keywords = 0;
	for (size_t i = 0; i < set->n_parsers; i++)
		for (size_t k = 0; k < set->parsers[i]->n_domains; k++) {
			enum parser_kind kind = set->parsers[i]->kind;
			if (kind != PARSER_SUPPLIER && kind != PARSER_CARRIER)
				continue;
			set->keywords[set->n_keywords++] = (struct keyword_entry){
				set->parsers[i]->domains[k], i
			};
		}
	qsort(set->keywords, set->n_keywords, sizeof(*set->keywords),
	      keyword_cmp);
}

int parser_set_add_file(struct parser_set *set, const char *path,
			struct buf *errors)
{
	char *data;
	size_t len;
	int r = util_read_file(path, LIMIT_PARSER_FILE, &data, &len);
	if (r < 0) {
		buf_printf(errors, "%s:1: cannot read: %s\n", path,
			   strerror(-r));
		return r;
	}
	yaml_parser_t yp;
	yaml_document_t doc;
	yaml_parser_initialize(&yp);
	yaml_parser_set_input_string(&yp, (const unsigned char *)data, len);
	if (!yaml_parser_load(&yp, &doc)) {
		buf_printf(errors, "%s:%zu: YAML error: %s %s\n", path,
			   yp.problem_mark.line + 1,
			   yp.problem ? yp.problem : "syntax error",
			   yp.context ? yp.context : "");
		yaml_parser_delete(&yp);
		free(data);
		return -EINVAL;
	}
	struct loader ld = { .path = path, .doc = &doc, .errors = errors };
	ld.cctx = pcre2_compile_context_create(NULL);
	pcre2_set_max_pattern_length(ld.cctx, LIMIT_PATTERN_LENGTH);
	pcre2_set_parens_nest_limit(ld.cctx, 50);
	struct parser *p = load_document(&ld);
	pcre2_compile_context_free(ld.cctx);
	yaml_document_delete(&doc);
	yaml_parser_delete(&yp);
	free(data);
	if (!p)
		return -EINVAL;
	if (parser_set_find(set, p->id)) {
		buf_printf(errors, "%s:1: parser id '%s' is already loaded "
			   "from another file\n", path, p->id);
		parser_free(p);
		return -EEXIST;
	}
	set->parsers = xrealloc(set->parsers,
				(set->n_parsers + 1) * sizeof(*set->parsers));
	set->parsers[set->n_parsers++] = p;
	parser_set_index(set);
	return 0;
}

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int parser_set_load_dir(const char *dir, struct parser_set **set_r,
			struct buf *errors)
{
	DIR *d = opendir(dir);
	if (!d)
		return -errno;
	char **names = NULL;
	size_t n = 0;
	struct dirent *de;
	while ((de = readdir(d))) {
		size_t len = strlen(de->d_name);
		if (de->d_name[0] == '.' || len < 6 ||
		    strcmp(de->d_name + len - 5, ".yaml") != 0)
			continue;
		names = xrealloc(names, (n + 1) * sizeof(*names));
		names[n++] = xasprintf("%s/%s", dir, de->d_name);
	}
	closedir(d);
	if (n)
		qsort(names, n, sizeof(*names), name_cmp);
	struct parser_set *set = parser_set_new();
	for (size_t i = 0; i < n; i++) {
		parser_set_add_file(set, names[i], errors);
		free(names[i]);
	}
	free(names);
	*set_r = set;
	return 0;
}

void parser_set_free(struct parser_set **setp)
{
	struct parser_set *set = *setp;
	if (!set)
		return;
	for (size_t i = 0; i < set->n_parsers; i++)
		parser_free(set->parsers[i]);
	free(set->parsers);
	free(set->keywords);
	free(set);
	*setp = NULL;
}

size_t parser_set_count(const struct parser_set *set)
{
	return set->n_parsers;
}

const struct parser *parser_set_at(const struct parser_set *set, size_t i)
{
	return i < set->n_parsers ? set->parsers[i] : NULL;
}

const struct parser *parser_set_find(const struct parser_set *set,
				     const char *id)
{
	for (size_t i = 0; i < set->n_parsers; i++)
		if (strcmp(set->parsers[i]->id, id) == 0)
			return set->parsers[i];
	return NULL;
}

const char *parser_id(const struct parser *p)
{
	return p->id;
}
const char *parser_name(const struct parser *p)
{
	return p->name;
}
const char *parser_file(const struct parser *p)
{
	return p->file;
}
enum parser_kind parser_kind(const struct parser *p)
{
	return p->kind;
}
bool parser_tracking_automation(const struct parser *p)
{
	return p->tracking_automation;
}
const char *parser_countries(const struct parser *p)
{
	return p->countries;
}
const char *parser_events(const struct parser *p)
{
	return p->events_text ? p->events_text : "";
}

const char *const *parser_real_mail(const struct parser *p, size_t *n_r)
{
	*n_r = p->n_real_mail;
	return (const char *const *)p->real_mail;
}

static bool domain_in(const char *domain, char *const *list, size_t n)
{
	size_t dl = strlen(domain);
	for (size_t k = 0; k < n; k++) {
		size_t rl = strlen(list[k]);
		if (dl == rl && strcmp(domain, list[k]) == 0)
			return true;
		if (dl > rl && domain[dl - rl - 1] == '.' &&
		    strcmp(domain + dl - rl, list[k]) == 0)
			return true;
	}
	return false;
}

bool parser_set_is_relay(const struct parser_set *set, const char *domain)
{
	for (size_t i = 0; i < set->n_parsers; i++) {
		const struct parser *p = set->parsers[i];
		if (p->kind == PARSER_RELAYS &&
		    domain_in(domain, p->domains, p->n_domains))
			return true;
	}
	return false;
}

bool parser_set_relay_encodes(const struct parser_set *set,
			      const char *domain)
{
	for (size_t i = 0; i < set->n_parsers; i++) {
		const struct parser *p = set->parsers[i];
		if (p->kind == PARSER_RELAYS &&
		    domain_in(domain, p->relay_encoded, p->n_relay_encoded))
			return true;
	}
	return false;
}

const char *parser_kind_name(enum parser_kind k)
{
	static const char *const names[] = { "supplier", "carrier",
					     "platform", "relays" };
	return names[k];
}
