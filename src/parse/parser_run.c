/* parser_run.c - picks the parser for a decoded message and extracts.
 *
 * Selection (select_parser): the original sender's address domain, or a
 * parent domain of it, in a parser's match.domains attributes that parser
 * (a sorted index, binary search per label). The display name never
 * attributes; a foreign domain never does. Body markers attribute only a
 * sender without an address or behind a relay (parsers/relays.yaml);
 * platform parsers (Shopify ...) are recognised by their template.
 *
 * Every number a rule extracts goes through carrier_decide(): a number
 * that fails its check digit, or whose carrier stays ambiguous, sends the
 * mail to quarantine rather than to a seller's buyer. */
#include "parse/parser_internal.h"

#include <ctype.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/limits.h"
#include "core/util.h"
#include "parse/schema_org.h"

#define MATCH_OVECTOR_PAIRS 64
#define EXPLAIN_TEXT_MAX 80

struct parser_matcher {
	pcre2_match_data *md;
	pcre2_match_context *mctx;
	pcre2_jit_stack *jit_stack;
	pcre2_code *utf_check; /* empty pattern: validates UTF-8 once */
};

struct parser_matcher *parser_matcher_new(void)
{
	struct parser_matcher *m = xcalloc(1, sizeof(*m));
	m->md = pcre2_match_data_create(MATCH_OVECTOR_PAIRS, NULL);
	m->mctx = pcre2_match_context_create(NULL);
	pcre2_set_match_limit(m->mctx, LIMIT_REGEX_MATCH);
	pcre2_set_depth_limit(m->mctx, LIMIT_REGEX_DEPTH);
	pcre2_set_heap_limit(m->mctx, LIMIT_REGEX_HEAP_KIB);
	m->jit_stack = pcre2_jit_stack_create(32 * 1024, 512 * 1024, NULL);
	if (m->jit_stack)
		pcre2_jit_stack_assign(m->mctx, NULL, m->jit_stack);
	int err;
	PCRE2_SIZE off;
	m->utf_check = pcre2_compile((PCRE2_SPTR) "\\A", 2, PCRE2_UTF, &err,
				     &off, NULL);
	if (!m->md || !m->mctx || !m->utf_check)
		abort();
	return m;
}

void parser_matcher_free(struct parser_matcher **mp)
{
	struct parser_matcher *m = *mp;
	if (!m)
		return;
	pcre2_match_data_free(m->md);
	pcre2_match_context_free(m->mctx);
	pcre2_jit_stack_free(m->jit_stack);
	pcre2_code_free(m->utf_check);
	free(m);
	*mp = NULL;
}

const char *parse_outcome_name(enum parse_outcome o)
{
	static const char *const names[] = { "shipped", "info", "quarantined",
					     "duplicate" };
	return names[o];
}

static const char *const event_names[] = {
	"shipped", "ordered", "cancelled", "refunded", "delivered",
	"out_for_delivery", "other",
};

const char *parse_event_name(enum parse_event e)
{
	return event_names[e];
}

int parse_event_from_name(const char *name, enum parse_event *e)
{
	for (size_t i = 0; i < sizeof(event_names) / sizeof(*event_names); i++)
		if (strcmp(name, event_names[i]) == 0) {
			*e = (enum parse_event)i;
			return 0;
		}
	return -EINVAL;
}

void parse_result_init(struct parse_result *r)
{
	memset(r, 0, sizeof(*r));
	r->event = EVENT_OTHER;
	buf_init(&r->explain, 1024 * 1024);
}

char *parse_result_supplier_id(const struct parse_result *r)
{
	if (!r->parser)
		return NULL;
	if (r->parser->kind == PARSER_SUPPLIER)
		return xstrdup(r->parser->id);
	if (r->parser->kind == PARSER_PLATFORM)
		return xasprintf("%s:%s", r->parser->id,
				 r->store_domain ? r->store_domain : "unknown");
	return NULL;
}

void parse_result_clear(struct parse_result *r)
{
	free(r->order);
	for (size_t i = 0; i < r->n_orders; i++)
		free(r->orders[i]);
	free(r->orders);
	for (size_t i = 0; i < r->n_shipments; i++)
		free(r->shipments[i].order);
	free(r->shipments);
	free(r->notices);
	free(r->tracking_link);
	free(r->detail);
	free(r->store_domain);
	free(r->store_name);
	buf_free(&r->explain);
	parse_result_init(r);
}

/* What one run of the matcher over a message needs to carry along. */
struct run {
	const struct parser_set *set;
	struct parser_matcher *m;
	const struct decoded_message *msg;
	struct parse_result *r;
	bool explain;
	char *sender; /* "Name <addr>" of the original sender */
	bool regex_failed;
	/* The message's links parsed once (run_link_index()). */
	struct carrier_link_index *link_ix;
	bool link_ix_built;
};

static void explain(struct run *run, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void explain(struct run *run, const char *fmt, ...)
{
	if (!run->explain)
		return;
	va_list ap;
	va_start(ap, fmt);
	buf_vprintf(&run->r->explain, fmt, ap);
	va_end(ap);
	buf_append_char(&run->r->explain, '\n');
}

/* Appends a short, single-line, quoted copy of untrusted text. */
static void explain_quote(struct buf *b, const char *s, size_t len)
{
	buf_append_char(b, '"');
	size_t i = 0;
	for (; i < len && i < EXPLAIN_TEXT_MAX; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '\n' || c == '\r' || c == '\t')
			buf_append_char(b, ' ');
		else if (c == '"' || c == '\\')
			buf_printf(b, "\\%c", c);
		else if (c < 0x20)
			buf_printf(b, "\\x%02x", c);
		else
			buf_append_char(b, (char)c);
	}
	/* Do not cut a UTF-8 sequence in half. */
	while (i < len && ((unsigned char)s[i] & 0xc0) == 0x80)
		buf_append_char(b, s[i++]);
	buf_append_str(b, i < len ? "...\"" : "\"");
}

/* Runs one rule on subject from offset start. Returns 1 on a match (the
 * ovector is in run->m->md), 0 on none, <0 when a limit stopped it. */
static int rule_exec_opts(struct run *run, const struct rule *rule,
			  const char *subject, size_t len, size_t start,
			  uint32_t opts)
{
	if (!rule->code)
		return 0;
	int rc = pcre2_match(rule->code, (PCRE2_SPTR)subject, len, start,
			     PCRE2_NO_UTF_CHECK | opts, run->m->md,
			     run->m->mctx);
	if (rc >= 0)
		return 1; /* rc == 0: ovector too small, still a match */
	if (rc == PCRE2_ERROR_NOMATCH)
		return 0;
	run->regex_failed = true;
	explain(run, "  %s (line %d): stopped by a match limit (%d)",
		rule->label, rule->line, rc);
	return rc;
}

static void group_span(struct run *run, int group, const char *subject,
		       const char **s_r, size_t *len_r)
{
	PCRE2_SIZE *ov = pcre2_get_ovector_pointer(run->m->md);
	uint32_t count = pcre2_get_ovector_count(run->m->md);
	*s_r = NULL;
	*len_r = 0;
	if (group < 0 || (uint32_t)group >= count)
		return;
	if (ov[2 * group] == PCRE2_UNSET)
		return;
	*s_r = subject + ov[2 * group];
	*len_r = ov[2 * group + 1] - ov[2 * group];
}

static int rule_exec(struct run *run, const struct rule *rule,
		     const char *subject, size_t len, size_t start)
{
	return rule_exec_opts(run, rule, subject, len, start, 0);
}

/* Where a global match loop goes on after a match ending at end: there,
 * or after an empty match one whole UTF-8 character further (never into
 * the middle of a character: matching runs with PCRE2_NO_UTF_CHECK). */
static size_t next_start(const char *s, size_t len, size_t from, size_t end)
{
	if (end > from)
		return end;
	size_t i = from + 1;
	while (i < len && ((unsigned char)s[i] & 0xc0) == 0x80)
		i++;
	return i;
}

/* Tries each rule of list on text; returns the index of the first rule
 * that matches, -1 when none does. Explains the attempts. */
static int first_match(struct run *run, const struct rule_list *list,
		       const char *what, const char *text, size_t len)
{
	for (size_t i = 0; i < list->n; i++) {
		if (rule_exec(run, &list->v[i], text, len, 0) == 1) {
			if (run->explain) {
				const char *s;
				size_t n;
				group_span(run, 0, text, &s, &n);
				buf_printf(&run->r->explain,
					   "  %s (line %d) matched %s ",
					   list->v[i].label, list->v[i].line,
					   what);
				explain_quote(&run->r->explain, s, n);
				buf_append_char(&run->r->explain, '\n');
			}
			return (int)i;
		}
	}
	if (list->n)
		explain(run, "  no %s pattern of %s matched", what,
			list->v[0].label);
	return -1;
}

/* The domain of an address ("" without '@'). */
static const char *addr_domain(const char *addr)
{
	const char *at = strrchr(addr, '@');
	return at ? at + 1 : "";
}

/* The parser whose match.domains holds domain or one of its parent
 * domains (binary search per suffix: the cost does not grow with the
 * number of parsers). "amazon.com.evil.example" is looked up as itself,
 * "com.evil.example", "evil.example", "example": never as amazon.com. */
static const struct parser *parser_for_domain(const struct parser_set *set,
					      const char *domain)
{
	for (const char *d = domain; d && *d;) {
		size_t lo = 0, hi = set->n_keywords;
		while (lo < hi) {
			size_t mid = (lo + hi) / 2;
			if (strcmp(set->keywords[mid].keyword, d) < 0)
				lo = mid + 1;
			else
				hi = mid;
		}
		if (lo < set->n_keywords &&
		    strcmp(set->keywords[lo].keyword, d) == 0)
			return set->parsers[set->keywords[lo].parser_index];
		d = strchr(d, '.');
		if (d)
			d++;
	}
	return NULL;
}

/* A body marker (match.body) in the text or in a link target: the
 * supplier's own links are often only in the HTML hrefs. */
static bool body_marker(struct run *run, const struct parser *p)
{
	const struct decoded_message *msg = run->msg;
	if (first_match(run, &p->body, "body", msg->text, msg->text_len) >= 0)
		return true;
	for (size_t l = 0; l < msg->n_links; l++) {
		const char *url = msg->links[l].url;
		for (size_t i = 0; i < p->body.n; i++)
			if (rule_exec(run, &p->body.v[i], url, strlen(url),
				      0) == 1) {
				explain(run, "  %s (line %d) matched link",
					p->body.v[i].label, p->body.v[i].line);
				return true;
			}
	}
	return false;
}

/* How many of p's subject and body markers this mail has (subject 2,
 * body 1). */
static int marker_score(struct run *run, const struct parser *p)
{
	const struct decoded_message *msg = run->msg;
	int score = 0;
	if (first_match(run, &p->subject, "subject", msg->orig_subject,
			strlen(msg->orig_subject)) >= 0)
		score += 2;
	if (body_marker(run, p))
		score += 1;
	return score;
}

/* Body-marker attribution, for a sender without an address or behind a
 * relay: only a parser whose body markers (its own links) match, best
 * subject+body score wins; kinds limits it to suppliers/carriers or to
 * platforms. */
static const struct parser *select_by_body(struct run *run, bool platforms)
{
	const struct parser *best = NULL;
	int best_score = 0;
	for (size_t i = 0; i < run->set->n_parsers; i++) {
		const struct parser *p = run->set->parsers[i];
		bool is_platform = p->kind == PARSER_PLATFORM;
		if (p->kind == PARSER_RELAYS || is_platform != platforms)
			continue;
		explain(run, "parser %s (%s):", p->id, p->file);
		if (!body_marker(run, p))
			continue;
		int score = 1 + (first_match(run, &p->subject, "subject",
					     run->msg->orig_subject,
					     strlen(run->msg->orig_subject)) >= 0
					 ? 2
					 : 0);
		explain(run, "  score %d", score);
		if (score > best_score) {
			best = p;
			best_score = score;
		}
	}
	return best;
}

/* A relay that encodes the sender it relays (Apple Hide My Email:
 * "notice_at_notice_aliexpress_com_0a1b2c3d@privaterelay.appleid.com"):
 * the parser of the longest run of '_'-separated labels after "_at_" that
 * is a parser's domain (domains have no '_', the relay's random suffix
 * follows). NULL when the local part has no such sender. */
static const struct parser *parser_for_relayed(struct run *run,
					       const char *addr)
{
	const char *at = strrchr(addr, '@');
	const char *enc = NULL;
	for (const char *s = addr; at && s < at; s++)
		if (strncmp(s, "_at_", 4) == 0)
			enc = s + 4;
	if (!enc || enc >= at)
		return NULL;
	char dom[256];
	size_t len = (size_t)(at - enc);
	if (len >= sizeof(dom))
		return NULL;
	memcpy(dom, enc, len);
	dom[len] = '\0';
	for (char *s = dom; *s; s++)
		if (*s == '_')
			*s = '.';
	/* Drop the relay's suffix: at most two trailing labels, each a
	 * random token (6+ letters and digits, with a digit). A real
	 * label ("example" of amazon.com.evil.example) stops the trimming,
	 * so a look-alike domain never shortens to the supplier's. */
	for (int trimmed = 0;; trimmed++) {
		const struct parser *p = parser_for_domain(run->set, dom);
		if (p && strchr(dom, '.')) {
			explain(run, "relay encodes the sender domain %s", dom);
			return p;
		}
		char *dot = strrchr(dom, '.');
		if (!dot || trimmed == 2)
			return NULL;
		const char *label = dot + 1;
		bool digit = false;
		for (const char *c = label; *c; c++)
			digit |= isdigit((unsigned char)*c) != 0;
		if (strlen(label) < 6 || !digit)
			return NULL;
		*dot = '\0';
	}
}

/* DESIGN.md "Supplier parsers": the original sender's address domain
 * attributes (any subdomain); the display name never does; a foreign
 * domain never does, whatever the body says. Body markers attribute only
 * when the original sender has no address or a relay's. Platform
 * templates are tried for any sender no supplier domain claims. */
static const struct parser *select_parser(struct run *run)
{
	const char *addr = run->msg->orig_from.addr;
	const char *domain = addr_domain(addr);
	/* icloud.com writes a relayed sender as LOCAL_at_DOMAIN_x@icloud.com;
	 * its other addresses are ordinary mailboxes of a foreign domain. */
	bool encoded = *domain && strstr(addr, "_at_") &&
		       parser_set_relay_encodes(run->set, domain);
	bool relay = *domain && (encoded ||
				 parser_set_is_relay(run->set, domain));
	const struct parser *p = NULL;
	if (*domain && !relay) {
		p = parser_for_domain(run->set, domain);
		if (p) {
			explain(run, "parser %s (%s): sender domain %s is "
				"its own", p->id, p->file, domain);
			run->r->attributed_by = "domain";
			if (marker_score(run, p) == 0) {
				explain(run, "  no subject or body marker "
					"matched: template drift");
				run->r->template_drift = true;
			}
			return p;
		}
		explain(run, "sender domain %s belongs to no supplier or "
			"carrier parser: the display name and body do not "
			"attribute", domain);
	} else {
		p = encoded ? parser_for_relayed(run, addr) : NULL;
		if (p) {
			explain(run, "parser %s (%s): the relay names its "
				"own domain as the sender", p->id, p->file);
			run->r->attributed_by = "relay-sender";
			if (marker_score(run, p) == 0)
				run->r->template_drift = true;
			return p;
		}
		explain(run, "original sender has %s: body markers attribute",
			relay ? "a relay address" : "no address");
		p = select_by_body(run, false);
		if (p) {
			run->r->attributed_by = relay ? "relay-body"
						      : "no-address-body";
			return p;
		}
	}
	p = select_by_body(run, true);
	if (p)
		run->r->attributed_by = "platform-template";
	return p;
}

/* The subject without its reply/forward prefixes ("Re: Fwd: AW: ..."). */
static const char *strip_subject_prefixes(const char *s)
{
	static const char *const prefixes[] = {
		"re", "fwd", "fw", "aw", "wg", "tr", "rv", "r", "i", "sv",
		"vs", "antw", "doorst", "enc", "res", "odp", "pd", NULL
	};
	for (;;) {
		while (*s == ' ' || *s == '\t')
			s++;
		bool again = false;
		for (size_t i = 0; prefixes[i]; i++) {
			size_t n = strlen(prefixes[i]);
			if (strncasecmp(s, prefixes[i], n) == 0 && s[n] == ':') {
				s += n + 1;
				again = true;
				break;
			}
		}
		if (!again)
			return s;
	}
}

/* Length of the quote mark at s, or 0: ASCII '"' and the typographic
 * double quotes and guillemets product names are written in. */
static size_t quote_mark(const char *s)
{
	/* Called for every byte of the body: test the lead byte first (all
	 * marks start with '"', 0xE2 or 0xC2) so the common case is one
	 * compare. */
	const unsigned char *u = (const unsigned char *)s;
	if (u[0] == '"')
		return 1;
	if (u[0] == 0xE2 && u[1] == 0x80 &&
	    (u[2] == 0x9C || u[2] == 0x9D || u[2] == 0x9E))
		return 3; /* U+201C, U+201D, U+201E */
	if (u[0] == 0xC2 && (u[1] == 0xAB || u[1] == 0xBB))
		return 2; /* U+00AB, U+00BB */
	return 0;
}

/* A copy of text with every quoted span ("Anti-Cancellation Headphones",
 * up to EVENT_QUOTE_MAX bytes on one line) replaced by '_': product names
 * carry every event word ("Refund-Proof", "Delivered Fresh") and must not
 * decide the event. Same length, still valid UTF-8. */
#define EVENT_QUOTE_MAX 300
static char *mask_quoted(const char *text, size_t len)
{
	char *out = xmalloc(len + 1);
	memcpy(out, text, len);
	out[len] = '\0';
	for (size_t i = 0; i < len;) {
		size_t q = quote_mark(out + i);
		if (!q) {
			i++;
			continue;
		}
		size_t k = i + q, close = 0;
		while (k < len && k - i < EVENT_QUOTE_MAX && out[k] != '\n') {
			close = quote_mark(out + k);
			if (close)
				break;
			k++;
		}
		if (!close) {
			i += q;
			continue;
		}
		memset(out + i + q, '_', k - i - q);
		i = k + close;
	}
	return out;
}

/* Order in which events are tried: the file order, except that cancelled
 * and refunded never come before shipped (a shipment must not be read as
 * the cancellation or refund a product name mentions): those written
 * before shipped are tried right after it. */
static bool cancel_like(enum parse_event e)
{
	return e == EVENT_CANCELLED || e == EVENT_REFUNDED;
}

static size_t event_order(const struct parser *p, size_t *order)
{
	size_t shipped = p->n_events, n = 0;
	for (size_t i = 0; i < p->n_events; i++)
		if (p->events[i].event == EVENT_SHIPPED && shipped == p->n_events)
			shipped = i;
	for (size_t i = 0; i < p->n_events; i++) {
		if (i < shipped && cancel_like(p->events[i].event))
			continue;
		order[n++] = i;
		if (i == shipped)
			for (size_t k = 0; k < shipped; k++)
				if (cancel_like(p->events[k].event))
					order[n++] = k;
	}
	return n;
}

/* Event detection is structural (issue 8): quoted product names are
 * masked first; then (1) the subject's leading verb after Re:/Fwd:
 * prefixes: every event's subject patterns anchored at its start; (2) the
 * subject patterns anywhere; (3) the mail's own status line in the body.
 * In each pass the events are tried in event_order(). A progress
 * bar in the body ("Ordered - Shipped - Delivered") cannot outvote the
 * subject. */
static void decide_event(struct run *run, const struct parser *p,
			 enum tracking_expect *expect)
{
	const struct decoded_message *msg = run->msg;
	char *subject = mask_quoted(strip_subject_prefixes(msg->orig_subject),
				    strlen(strip_subject_prefixes(
					    msg->orig_subject)));
	char *body = mask_quoted(msg->text, msg->text_len);
	size_t slen = strlen(subject);
	size_t *order = xcalloc(p->n_events + 1, sizeof(*order));
	size_t n = event_order(p, order);
	static const char *const pass_names[] = { "leading verb of subject",
						  "subject", "body" };
	for (int pass = 0; pass < 3; pass++) {
		for (size_t oi = 0; oi < n; oi++) {
			const struct event_rule *e = &p->events[order[oi]];
			const struct rule_list *rules =
				pass < 2 ? &e->subject : &e->body;
			const char *text = pass < 2 ? subject : body;
			size_t tlen = pass < 2 ? slen : msg->text_len;
			for (size_t k = 0; k < rules->n; k++) {
				if (rule_exec_opts(run, &rules->v[k], text,
						   tlen, 0,
						   pass == 0 ? PCRE2_ANCHORED
							     : 0) != 1)
					continue;
				if (run->explain) {
					const char *ms;
					size_t mn;
					group_span(run, 0, text, &ms, &mn);
					buf_printf(&run->r->explain,
						   "event %s (line %d) by %s: "
						   "%s matched ",
						   parse_event_name(e->event),
						   e->line, pass_names[pass],
						   rules->v[k].label);
					explain_quote(&run->r->explain, ms,
						      mn);
					buf_append_char(&run->r->explain,
							'\n');
				}
				run->r->event = e->event;
				*expect = e->expect;
				free(order);
				free(subject);
				free(body);
				return;
			}
		}
	}
	free(order);
	free(subject);
	free(body);
	run->r->event = p->default_event;
	*expect = p->default_expect;
	explain(run, "no event rule matched: default event %s",
		parse_event_name(p->default_event));
}

static void add_order(struct parse_result *r, const char *s, size_t len)
{
	for (size_t i = 0; i < r->n_orders; i++)
		if (strlen(r->orders[i]) == len &&
		    memcmp(r->orders[i], s, len) == 0)
			return;
	if (r->n_orders >= LIMIT_SHIPMENTS)
		return;
	r->orders = xrealloc(r->orders, (r->n_orders + 1) * sizeof(char *));
	r->orders[r->n_orders++] = xstrndup(s, len);
	if (!r->order)
		r->order = xstrndup(s, len);
}

/* Finds the first order number in text (then in the subject). */
static char *extract_order(struct run *run, const struct parser *p,
			   const char *text, size_t len, bool with_subject)
{
	for (size_t i = 0; i < p->order.n; i++) {
		const struct rule *rule = &p->order.v[i];
		const char *hay[2] = { text, run->msg->orig_subject };
		size_t hlen[2] = { len, strlen(run->msg->orig_subject) };
		for (int h = 0; h < (with_subject ? 2 : 1); h++) {
			if (rule_exec(run, rule, hay[h], hlen[h], 0) != 1)
				continue;
			const char *s;
			size_t n;
			group_span(run, rule->group_order, hay[h], &s, &n);
			if (!s || n == 0)
				continue;
			if (run->explain) {
				buf_printf(&run->r->explain,
					   "  %s (line %d) matched order in %s ",
					   rule->label, rule->line,
					   h ? "subject" : "body");
				explain_quote(&run->r->explain, s, n);
				buf_append_char(&run->r->explain, '\n');
			}
			return xstrndup(s, n);
		}
	}
	return NULL;
}

/* Collects every order number the mail names (multi-order mails). */
static void collect_orders(struct run *run, const struct parser *p)
{
	const char *hay[2] = { run->msg->orig_subject, run->msg->text };
	size_t hlen[2] = { strlen(run->msg->orig_subject),
			   run->msg->text_len };
	for (size_t i = 0; i < p->order.n; i++) {
		const struct rule *rule = &p->order.v[i];
		for (int h = 0; h < 2; h++) {
			size_t start = 0;
			while (start <= hlen[h] &&
			       rule_exec(run, rule, hay[h], hlen[h], start) == 1) {
				PCRE2_SIZE *ov =
					pcre2_get_ovector_pointer(run->m->md);
				const char *s;
				size_t n;
				group_span(run, rule->group_order, hay[h], &s,
					   &n);
				if (s && n)
					add_order(run->r, s, n);
				start = next_start(hay[h], hlen[h], start,
						   ov[1]);
			}
		}
	}
}

struct found_number {
	char number[CARRIER_NUMBER_MAX];
	char *order;
	const struct rule *rule;
	const char *named;  /* NULL, or named_buf */
	size_t named_len;
	/* A copy: the carrier name may live in the caller's stack (the
	 * schema.org parcels) and is read after that caller returns. */
	char named_buf[128];
	bool fixed;
	bool named_by_line; /* named by a carrier line, not the rule */
};

/* The carrier lines of a mail (extract.carrier matches), in text order:
 * each number takes the one written nearest to it (split shipments). */
#define CARRIER_LINES_MAX 16
struct carrier_lines {
	const char *text; /* msg->text */
	size_t text_len;
	size_t at[CARRIER_LINES_MAX];
	const char *s[CARRIER_LINES_MAX];
	size_t n_s[CARRIER_LINES_MAX];
	size_t n;
};

struct found_list {
	struct found_number v[LIMIT_SHIPMENTS];
	size_t n;
};

static void add_found(struct found_list *fl, const char *s, size_t len,
		      const char *order, const struct rule *rule,
		      const char *named, size_t named_len, bool fixed,
		      bool by_line)
{
	struct carrier_check chk;
	carrier_check(s, len, &chk);
	for (size_t i = 0; i < fl->n; i++)
		if (strcmp(fl->v[i].number, chk.normalized) == 0)
			return;
	if (fl->n >= LIMIT_SHIPMENTS || !chk.normalized[0])
		return;
	struct found_number *f = &fl->v[fl->n++];
	memset(f, 0, sizeof(*f));
	snprintf(f->number, sizeof(f->number), "%s", chk.normalized);
	f->order = order ? xstrdup(order) : NULL;
	f->rule = rule;
	if (named) {
		if (named_len >= sizeof(f->named_buf))
			named_len = sizeof(f->named_buf) - 1;
		memcpy(f->named_buf, named, named_len);
		f->named_buf[named_len] = '\0';
		f->named = f->named_buf;
	}
	f->named_len = named ? named_len : 0;
	f->fixed = fixed;
	f->named_by_line = by_line && named && !fixed;
}

/* The carrier line nearest to the number at s (within the mail text), or
 * NULL when the mail has none or s is not in the text (a link). */
static const char *nearest_carrier(const struct carrier_lines *cl,
				   const char *s, size_t *len)
{
	*len = 0;
	if (!cl || !cl->n)
		return NULL;
	/* Compared as addresses: s may point into a link, not the text. */
	uintptr_t p = (uintptr_t)s, t = (uintptr_t)cl->text;
	if (p < t || p > t + cl->text_len)
		return NULL;
	size_t at = (size_t)(p - t), best = 0, best_d = SIZE_MAX;
	for (size_t i = 0; i < cl->n; i++) {
		size_t d = cl->at[i] > at ? cl->at[i] - at : at - cl->at[i];
		if (d < best_d) {
			best_d = d;
			best = i;
		}
	}
	*len = cl->n_s[best];
	return cl->s[best];
}

/* Records the number the last match of a tracking rule captured in
 * subject. Its carrier is the one the rule fixes, else the one its
 * (?<carrier>) group captured, else fallback (the mail's carrier line).
 * Returns false when the tracking group is empty. */
static bool found_by_rule(struct run *run, const struct rule *rule,
			  const char *subject, const char *where,
			  const char *order, const struct carrier_lines *cl,
			  struct found_list *fl)
{
	const char *s, *c;
	size_t n, cn;
	group_span(run, rule->group_tracking, subject, &s, &n);
	if (!s || !n)
		return false;
	group_span(run, rule->group_carrier, subject, &c, &cn);
	if (run->explain) {
		buf_printf(&run->r->explain, "  %s (line %d) matched tracking%s ",
			   rule->label, rule->line, where);
		explain_quote(&run->r->explain, s, n);
		buf_append_char(&run->r->explain, '\n');
	}
	size_t fallback_len;
	const char *fallback = nearest_carrier(cl, s, &fallback_len);
	const char *named = c ? c : fallback;
	size_t named_len = c ? cn : fallback_len;
	if (rule->carrier) {
		named = carrier_name(carrier_find(rule->carrier));
		named_len = strlen(named);
	}
	add_found(fl, s, n, order, rule, named, named_len,
		  rule->carrier != NULL, !c);
	return true;
}

/* Runs the tracking rules over one region (the whole body or a block). */
static void extract_tracking(struct run *run, const struct parser *p,
			     const char *text, size_t len, const char *order,
			     const struct carrier_lines *cl,
			     struct found_list *fl)
{
	for (size_t i = 0; i < p->tracking.n; i++) {
		const struct rule *rule = &p->tracking.v[i];
		size_t start = 0;
		bool any = false;
		while (start <= len &&
		       rule_exec(run, rule, text, len, start) == 1) {
			PCRE2_SIZE *ov = pcre2_get_ovector_pointer(run->m->md);
			any |= found_by_rule(run, rule, text, "", order, cl,
					     fl);
			start = next_start(text, len, start, ov[1]);
		}
		if (!any)
			explain(run, "  %s (line %d): no tracking number",
				rule->label, rule->line);
	}
}

/* Every carrier line of the mail (each extract.carrier rule, every match),
 * so that each number takes the carrier written next to it. */
static void collect_carrier_lines(struct run *run, const struct parser *p,
				  struct carrier_lines *cl)
{
	for (size_t i = 0; i < p->carrier.n && cl->n < CARRIER_LINES_MAX;
	     i++) {
		const struct rule *rule = &p->carrier.v[i];
		size_t start = 0;
		while (cl->n < CARRIER_LINES_MAX && start <= cl->text_len &&
		       rule_exec(run, rule, cl->text, cl->text_len, start) ==
			       1) {
			PCRE2_SIZE *ov = pcre2_get_ovector_pointer(run->m->md);
			const char *c;
			size_t cn;
			group_span(run, rule->group_carrier, cl->text, &c, &cn);
			if (c && cn) {
				explain(run, "  %s (line %d) names a carrier "
					"at %zu", rule->label, rule->line,
					(size_t)(c - cl->text));
				cl->at[cl->n] = (size_t)(c - cl->text);
				cl->s[cl->n] = c;
				cl->n_s[cl->n++] = cn;
			}
			start = next_start(cl->text, cl->text_len, start,
					   ov[1]);
		}
	}
}

static const struct carrier_link_index *run_link_index(struct run *run);

static void extract_links(struct run *run, const struct parser *p,
			  const char *order, struct found_list *fl)
{
	const struct decoded_message *msg = run->msg;
	const struct carrier_link_index *ix = run_link_index(run);
	for (size_t l = 0; l < msg->n_links; l++) {
		const char *url = msg->links[l].url;
		size_t ulen = strlen(url);
		for (size_t i = 0; i < p->tracking_url.n; i++) {
			const struct rule *rule = &p->tracking_url.v[i];
			if (rule_exec(run, rule, url, ulen, 0) == 1)
				found_by_rule(run, rule, url, " in link", order,
					      NULL, fl);
		}
		/* Carrier tracking links carry the number themselves. */
		struct carrier_check chk;
		int has;
		if (ix) {
			has = ix->v[l].has_number;
			if (has)
				chk = ix->v[l].number;
		} else {
			has = carrier_from_url(url, &chk) == 1;
		}
		if (has && chk.valid) {
			explain(run, "  carrier link gives tracking %s",
				chk.normalized);
			add_found(fl, chk.normalized, strlen(chk.normalized),
				  order, NULL, NULL, 0, false, false);
		}
	}
}

/* schema.org ParcelDelivery markup: the number with the carrier the markup
 * names (still checked like any other number). */
static void extract_schema_org(struct run *run, const char *order,
			       struct found_list *fl)
{
	struct schema_parcel parcels[8];
	size_t n = schema_org_parcels(run->msg, parcels, 8);
	for (size_t i = 0; i < n; i++) {
		explain(run, "  schema.org ParcelDelivery gives tracking %s "
			"(%s)", parcels[i].number,
			parcels[i].carrier[0] ? parcels[i].carrier : "no carrier");
		add_found(fl, parcels[i].number, strlen(parcels[i].number),
			  parcels[i].order[0] ? parcels[i].order : order, NULL,
			  parcels[i].carrier[0] ? parcels[i].carrier : NULL,
			  strlen(parcels[i].carrier), false, false);
	}
}

static void keep_tracking_link(struct run *run, const struct parser *p)
{
	const struct decoded_message *msg = run->msg;
	for (size_t i = 0; i < p->tracking_link.n && !run->r->tracking_link;
	     i++) {
		for (size_t l = 0; l < msg->n_links; l++) {
			const char *url = msg->links[l].url;
			if (rule_exec(run, &p->tracking_link.v[i], url,
				      strlen(url), 0) == 1) {
				run->r->tracking_link = xstrdup(url);
				explain(run, "  %s kept tracking link",
					p->tracking_link.v[i].label);
				break;
			}
		}
	}
}

static void quarantine(struct parse_result *r, const char *reason,
		       char *detail)
{
	r->outcome = OUTCOME_QUARANTINED;
	r->reason = reason;
	free(r->detail);
	r->detail = detail;
}

/* The link targets of msg as the array carrier_decide/carrier_scan take
 * (borrowed strings; free the array only). */
static const char **link_urls(const struct decoded_message *msg)
{
	const char **links = xcalloc(msg->n_links + 1, sizeof(char *));
	for (size_t i = 0; i < msg->n_links; i++)
		links[i] = msg->links[i].url;
	return links;
}

/* The links of the message parsed once for the whole run (built on first
 * use; NULL when out of memory: the callers then parse them themselves). */
static const struct carrier_link_index *run_link_index(struct run *run)
{
	if (!run->link_ix_built) {
		const char **links = link_urls(run->msg);
		run->link_ix = carrier_link_index_build(links,
							run->msg->n_links);
		free(links);
		run->link_ix_built = true;
	}
	return run->link_ix;
}

/* The country a mail was sent for: its sender domain's country code
 * (amazon.ca: CA, amazon.co.uk: GB), else the supplier's only country;
 * NULL when neither says. */
static const char *mail_country(const struct decoded_message *msg,
				const struct parser *p)
{
	static const char *const tld[][2] = {
		{ ".ca", "CA" }, { ".uk", "GB" }, { ".de", "DE" },
		{ ".fr", "FR" }, { ".it", "IT" }, { ".es", "ES" },
		{ ".au", "AU" }, { ".mx", "MX" }, { ".nl", "NL" },
		{ ".pl", "PL" }, { ".be", "BE" }, { ".at", "AT" },
		{ ".ie", "IE" }, { ".jp", "JP" }, { ".se", "SE" },
		{ ".us", "US" },
	};
	const char *addr = msg->orig_from.addr;
	const char *at = strrchr(addr, '@');
	size_t n = at ? strlen(at) : 0;
	for (size_t i = 0; at && i < sizeof(tld) / sizeof(tld[0]); i++) {
		size_t l = strlen(tld[i][0]);
		if (n > l && strcasecmp(at + n - l, tld[i][0]) == 0)
			return tld[i][1];
	}
	if (p && p->countries && strlen(p->countries) == 2)
		return p->countries;
	return NULL;
}

/* The supplier's usual carriers for the mail's country: its
 * usual_carriers_by_country entry for that country, else (no map, the
 * country unknown or not listed) its usual_carriers, which therefore name
 * only carriers it uses whatever the country. */
static void usual_for_mail(const struct decoded_message *msg,
			   const struct parser *p, const char *const **ids,
			   size_t *n)
{
	*ids = NULL;
	*n = 0;
	if (!p)
		return;
	*ids = (const char *const *)p->usual_carriers;
	*n = p->n_usual_carriers;
	const char *cc = mail_country(msg, p);
	for (size_t i = 0; cc && i < p->n_usual_by_country; i++)
		if (strcmp(p->usual_by_country[i].cc, cc) == 0 ||
		    (strcmp(cc, "GB") == 0 &&
		     strcmp(p->usual_by_country[i].cc, "UK") == 0)) {
			*ids = (const char *const *)p->usual_by_country[i].ids;
			*n = p->usual_by_country[i].n;
		}
}

/* Decides each found number's carrier; builds shipments or quarantines. */
static void decide_numbers(struct run *run, const struct parser *p,
			   struct found_list *fl, enum tracking_expect expect)
{
	struct parse_result *r = run->r;
	const char **links = link_urls(run->msg);
	/* Each link parsed once for all the numbers (NULL when out of
	 * memory: carrier_decide() then parses them itself). */
	const struct carrier_link_index *link_ix = run_link_index(run);
	const char *const *usual;
	size_t n_usual;
	usual_for_mail(run->msg, p, &usual, &n_usual);
	explain(run, "  mail country %s, %zu usual carriers",
		mail_country(run->msg, p) ? mail_country(run->msg, p) : "unknown",
		n_usual);
	r->shipments = xcalloc(fl->n + 1, sizeof(*r->shipments));
	for (size_t i = 0; i < fl->n; i++) {
		struct found_number *f = &fl->v[i];
		struct carrier_evidence ev = {
			.named = f->named,
			.named_len = f->named_len,
			.parser_names_carrier = f->fixed,
			.links = links,
			.n_links = run->msg->n_links,
			.index = link_ix,
			.usual = usual,
			.n_usual = n_usual,
		};
		struct carrier_decision d;
		int rc = carrier_decide(f->number, strlen(f->number), &ev, &d);
		/* Split shipments: a carrier line of another package that the
		 * number does not fit at all is not this number's carrier. */
		if (rc == 0 && f->named_by_line && fl->n > 1 && d.reason &&
		    strcmp(d.reason, "carrier-conflict") == 0) {
			explain(run, "  %s: the nearest carrier line is another "
				"package's", f->number);
			ev.named = NULL;
			ev.named_len = 0;
			rc = carrier_decide(f->number, strlen(f->number), &ev,
					    &d);
		}
		explain(run, "  number %s: %s%s%s", f->number,
			rc == 1 ? carrier_id(d.carrier) : "not decided",
			rc == 1 ? " by " : " - ",
			rc == 1 ? (d.evidence ? d.evidence : "?")
				: (d.reason ? d.reason : "invalid"));
		if (rc == 1) {
			struct shipment *s = &r->shipments[r->n_shipments++];
			s->order = steal_ptr(&f->order);
			s->decision = d;
			s->carrier_id = carrier_id(d.carrier);
			s->rule = f->rule ? f->rule->label : "link";
			continue;
		}
		if (r->outcome != OUTCOME_QUARANTINED) {
			if (rc == 0 && d.reason &&
			    strcmp(d.reason, "carrier-unconfirmed") == 0) {
				quarantine(r, d.reason,
					   xasprintf("%s fits only formats "
						     "without a check digit "
						     "and nothing in the mail "
						     "confirms its carrier",
						     f->number));
				for (size_t k = 0; k < d.check.n_candidates;
				     k++)
					r->candidates[r->n_candidates++] =
						carrier_id(d.check.candidates[k]);
			} else if (rc == 0) {
				quarantine(r, d.reason ? d.reason
						       : "carrier-ambiguous",
					   xasprintf("carrier of %s is not "
						     "certain", f->number));
				for (size_t k = 0; k < d.check.n_candidates;
				     k++)
					r->candidates[r->n_candidates++] =
						carrier_id(d.check.candidates[k]);
			} else {
				/* `optional` means a number may be absent,
				 * never that it may be wrong. */
				(void)expect;
				quarantine(r, "invalid-tracking",
					   xasprintf("%s is not a valid "
						     "tracking number (%s)",
						     f->number,
						     d.reason ? d.reason
							      : "format"));
			}
		}
	}
	for (size_t i = 0; i < fl->n; i++)
		free(fl->v[i].order);
	free(links);
}

/* A store domain as the JSON writes it: lower case, without "www.". */
static char *store_domain_norm(const char *s, size_t n)
{
	if (n > 4 && strncasecmp(s, "www.", 4) == 0) {
		s += 4;
		n -= 4;
	}
	char *d = xstrndup(s, n);
	for (char *c = d; *c; c++)
		*c = (char)tolower((unsigned char)*c);
	return d;
}

/* Platform parsers: the store's own domain, from the first link an
 * extract.store rule matches (the store's order-status page), else from
 * the sender's address when that is not the platform's own domain or a
 * relay; the store's name is the sender's display name. */
static void platform_store(struct run *run, const struct parser *p)
{
	const struct decoded_message *msg = run->msg;
	struct parse_result *r = run->r;
	for (size_t l = 0; l < msg->n_links && !r->store_domain; l++) {
		const char *url = msg->links[l].url;
		for (size_t i = 0; i < p->store.n && !r->store_domain; i++) {
			const struct rule *rule = &p->store.v[i];
			if (rule_exec(run, rule, url, strlen(url), 0) != 1)
				continue;
			const char *sd;
			size_t sn;
			group_span(run, rule->group_store, url, &sd, &sn);
			if (sd && sn)
				r->store_domain = store_domain_norm(sd, sn);
			/* A shop name without a dot ("etsy.com/shop/NAME")
			 * lives under the platform's first domain. */
			if (r->store_domain && !strchr(r->store_domain, '.') &&
			    p->n_domains) {
				char *full = xasprintf("%s.%s",
						       r->store_domain,
						       p->domains[0]);
				free(r->store_domain);
				r->store_domain = full;
			}
		}
	}
	const char *domain = addr_domain(msg->orig_from.addr);
	bool own = false;
	for (size_t i = 0; i < p->n_domains; i++) {
		size_t dl = strlen(domain), pl = strlen(p->domains[i]);
		own |= strcmp(domain, p->domains[i]) == 0 ||
		       (dl > pl && domain[dl - pl - 1] == '.' &&
			strcmp(domain + dl - pl, p->domains[i]) == 0);
	}
	if (!r->store_domain && *domain && !own &&
	    !parser_set_is_relay(run->set, domain))
		r->store_domain = store_domain_norm(domain, strlen(domain));
	if (msg->orig_from.name[0])
		r->store_name = xstrdup(msg->orig_from.name);
	explain(run, "platform %s: store %s (%s)", p->id,
		r->store_domain ? r->store_domain : "unknown",
		r->store_name ? r->store_name : "no name");
}

static void run_supplier(struct run *run, const struct parser *p)
{
	struct parse_result *r = run->r;
	const struct decoded_message *msg = run->msg;
	enum tracking_expect expect;
	r->parser = p;
	if (p->kind == PARSER_PLATFORM)
		platform_store(run, p);
	decide_event(run, p, &expect);
	explain(run, "extract:");
	char *order = extract_order(run, p, msg->text, msg->text_len, true);
	if (order) {
		add_order(r, order, strlen(order));
	}
	collect_orders(run, p);
	if (!order && p->order.n)
		explain(run, "  no order pattern matched the body or subject");

	struct carrier_lines cl = { .text = msg->text,
				    .text_len = msg->text_len };
	collect_carrier_lines(run, p, &cl);

	struct found_list *fl = xmalloc(sizeof(*fl)); /* add_found() clears */
	fl->n = 0;
	if (expect != TRACKING_NONE) {
		if (p->blocks.n) {
			/* Each block (one order or one package) carries its
			 * own order number; fall back to the mail's. */
			const struct rule *b = &p->blocks.v[0];
			size_t starts[LIMIT_SHIPMENTS + 1];
			size_t nb = 0, start = 0;
			while (nb < LIMIT_SHIPMENTS &&
			       rule_exec(run, b, msg->text, msg->text_len,
					 start) == 1) {
				PCRE2_SIZE *ov =
					pcre2_get_ovector_pointer(run->m->md);
				starts[nb++] = ov[0];
				start = next_start(msg->text, msg->text_len,
						   ov[0], ov[1]);
				if (start > msg->text_len)
					break;
			}
			explain(run, "  %s: %zu blocks", b->label, nb);
			starts[nb] = msg->text_len;
			for (size_t i = 0; i < nb; i++) {
				const char *bt = msg->text + starts[i];
				size_t bl = starts[i + 1] - starts[i];
				char *bo = extract_order(run, p, bt, bl, false);
				extract_tracking(run, p, bt, bl,
						 bo ? bo : order, &cl, fl);
				free(bo);
			}
		}
		extract_tracking(run, p, msg->text, msg->text_len, order, &cl,
				 fl);
		extract_links(run, p, order, fl);
		extract_schema_org(run, order, fl);
	} else {
		explain(run, "  event %s carries no tracking number: numbers "
			"not extracted", parse_event_name(r->event));
	}
	keep_tracking_link(run, p);
	free(order);

	r->outcome = OUTCOME_INFO;
	decide_numbers(run, p, fl, expect);
	free(fl);
	if (r->outcome == OUTCOME_QUARANTINED)
		return;
	if (r->n_shipments > 0) {
		r->outcome = OUTCOME_SHIPPED;
		/* A valid number is a shipment: never "shipped" with event
		 * other (issue 8). */
		if (r->event == EVENT_OTHER) {
			explain(run, "valid tracking number: event other "
				"becomes shipped");
			r->event = EVENT_SHIPPED;
		}
		return;
	}
	if (expect == TRACKING_REQUIRED) {
		quarantine(r, "template-drift",
			   xasprintf("%s's %s mail should carry a tracking "
				     "number and none was found", p->id,
				     parse_event_name(r->event)));
		return;
	}
	if (r->event == EVENT_SHIPPED)
		explain(run, "shipped without a tracking number: awaiting "
			"tracking%s", r->tracking_link ? " (link kept)" : "");
}

static void run_carrier_mail(struct run *run, const struct parser *p)
{
	struct parse_result *r = run->r;
	enum tracking_expect expect;
	r->parser = p;
	decide_event(run, p, &expect);
	struct found_list *fl = xmalloc(sizeof(*fl)); /* add_found() clears */
	fl->n = 0;
	explain(run, "extract:");
	if (expect != TRACKING_NONE) {
		extract_tracking(run, p, run->msg->text, run->msg->text_len,
				 NULL, NULL, fl);
		extract_links(run, p, NULL, fl);
	}
	r->notices = xcalloc(fl->n + 1, sizeof(*r->notices));
	for (size_t i = 0; i < fl->n; i++) {
		struct found_number *f = &fl->v[i];
		struct carrier_evidence ev = {
			.named = f->named,
			.named_len = f->named_len,
			.parser_names_carrier = f->fixed,
		};
		struct carrier_decision d;
		int rc = carrier_decide(f->number, strlen(f->number), &ev, &d);
		if (rc < 0) {
			/* A placeholder or reference, not a number. */
			explain(run, "  %s rejected (%s)", f->number,
				d.reason ? d.reason : "invalid");
			free(f->order);
			continue;
		}
		explain(run, "  notice about %s (%s)", f->number,
			rc == 1 ? carrier_id(d.carrier) : "carrier unsure");
		struct notice *n = &r->notices[r->n_notices++];
		snprintf(n->number, sizeof(n->number), "%s", f->number);
		n->carrier_id = rc == 1 ? carrier_id(d.carrier) : NULL;
		free(f->order);
	}
	free(fl);
	r->outcome = OUTCOME_INFO;
}

static void run_fallback(struct run *run)
{
	struct parse_result *r = run->r;
	const struct decoded_message *msg = run->msg;
	const char **links = link_urls(msg);
	struct carrier_found found[16];
	size_t n = carrier_scan(msg->text, msg->text_len, links, msg->n_links,
				found, 16);
	free(links);
	explain(run, "fallback scan: %zu candidate numbers", n);
	struct schema_parcel parcels[8];
	size_t np = schema_org_parcels(msg, parcels, 8);
	r->shipments = xcalloc(n + np + 1, sizeof(*r->shipments));
	for (size_t i = 0; i < np; i++) {
		struct carrier_evidence ev = {
			.named = parcels[i].carrier[0] ? parcels[i].carrier
						       : NULL,
			.named_len = strlen(parcels[i].carrier),
		};
		struct carrier_decision d;
		int rc = carrier_decide(parcels[i].number,
					strlen(parcels[i].number), &ev, &d);
		explain(run, "  schema.org ParcelDelivery %s: %s",
			parcels[i].number,
			rc == 1 ? carrier_id(d.carrier)
				: (d.reason ? d.reason : "invalid"));
		if (rc != 1)
			continue;
		struct shipment *s = &r->shipments[r->n_shipments++];
		s->decision = d;
		s->carrier_id = carrier_id(d.carrier);
		s->order = parcels[i].order[0] ? xstrdup(parcels[i].order)
					       : NULL;
		s->rule = "schema.org";
	}
	const struct carrier_found *ambiguous = NULL;
	for (size_t i = 0; i < n; i++) {
		const struct carrier_decision *d = &found[i].decision;
		explain(run, "  %s via %s: %s", d->check.normalized,
			found[i].how ? found[i].how : "?",
			d->carrier ? carrier_id(d->carrier)
				   : (d->reason ? d->reason : "undecided"));
		if (!d->carrier) {
			if (!ambiguous && d->check.valid)
				ambiguous = &found[i];
			continue;
		}
		bool dup = false;
		for (size_t k = 0; k < r->n_shipments; k++)
			dup |= strcmp(r->shipments[k].decision.check.normalized,
				      d->check.normalized) == 0;
		if (dup)
			continue;
		struct shipment *s = &r->shipments[r->n_shipments++];
		s->decision = *d;
		s->carrier_id = carrier_id(d->carrier);
		s->rule = found[i].how;
	}
	if (r->n_shipments > 0) {
		r->outcome = OUTCOME_SHIPPED;
		r->event = EVENT_SHIPPED;
		r->needs_review = true;
		return;
	}
	if (ambiguous) {
		const char *why = ambiguous->decision.reason;
		bool unconfirmed =
			why && strcmp(why, "carrier-unconfirmed") == 0;
		quarantine(r, unconfirmed ? "carrier-unconfirmed"
					  : "carrier-ambiguous",
			   xasprintf(unconfirmed
					     ? "unknown sender; %s has no check "
					       "digit and nothing confirms its "
					       "carrier"
					     : "unknown sender; %s fits several "
					       "carriers",
				     ambiguous->decision.check.normalized));
		for (size_t k = 0; k < ambiguous->decision.check.n_candidates;
		     k++)
			r->candidates[r->n_candidates++] = carrier_id(
				ambiguous->decision.check.candidates[k]);
		return;
	}
	quarantine(r, "unknown-sender",
		   xasprintf("no parser takes mail from %s and no "
			     "trustworthy tracking number was found",
			     msg->orig_from.addr[0] ? msg->orig_from.addr
						    : "an unknown sender"));
}

static bool valid_utf8(struct parser_matcher *m, const char *s, size_t len)
{
	int rc = pcre2_match(m->utf_check, (PCRE2_SPTR)s, len, 0, 0, m->md,
			     m->mctx);
	return rc >= 0 || rc == PCRE2_ERROR_NOMATCH;
}

void parser_run(const struct parser_set *set, struct parser_matcher *m,
		const struct decoded_message *msg, bool want_explain,
		struct parse_result *r)
{
	struct run run = {
		.set = set, .m = m, .msg = msg, .r = r, .explain = want_explain
	};
	r->outcome = OUTCOME_INFO;
	r->event = EVENT_OTHER;
	if (!valid_utf8(m, msg->text, msg->text_len) ||
	    !valid_utf8(m, msg->orig_subject, strlen(msg->orig_subject))) {
		quarantine(r, "invalid-utf8",
			   xstrdup("decoded text is not valid UTF-8"));
		return;
	}
	run.sender = xasprintf("%s <%s>", msg->orig_from.name,
			       msg->orig_from.addr);
	explain(&run, "original sender: %s", run.sender);
	const struct parser *p = select_parser(&run);
	if (p) {
		explain(&run, "selected parser %s", p->id);
		if (p->kind == PARSER_CARRIER)
			run_carrier_mail(&run, p);
		else
			run_supplier(&run, p);
	} else {
		explain(&run, "no parser takes this mail: fallback detection");
		run_fallback(&run);
	}
	/* A rule cut short by its limit may have hidden the right parser or
	 * a number: no decision from a partial match. */
	if (run.regex_failed)
		quarantine(r, "regex-limit",
			   xstrdup("a parser rule stopped at its match limit; "
				   "the result may be incomplete"));
	carrier_link_index_free(run.link_ix);
	free(run.sender);
}
