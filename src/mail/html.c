/* html.c - HTML to text for the parsers: one pass over the bytes, no tree.
 *
 * A tokenizer with the WHATWG states that matter here (data, tag open, tag
 * name, attributes, character references, comments, RAWTEXT for
 * script/style/title) drives a small stack of open elements that gives
 * block breaks, table cell spacing, <pre>, anchors and hidden subtrees
 * (<head>, script/style/svg/...; not display:none, see start_tag()).
 * The tree-building rules kept
 * are the few that change the text: implied paragraphs, the auto-closing of
 * p/li/dt/dd/td/th/tr/head/a, end tags that cannot close a higher-priority
 * element, and which blank runs are dropped; they follow libxml2 2.9, the
 * converter this one replaced (html_xml.c), so both give the same text
 * on real mail (tests/mail/html_compare.sh; differences: docs/mail.md).
 * Nothing is allocated per character or per element: the stack is a fixed
 * array of LIMIT_HTML_DEPTH entries and the text goes to the caller's
 * buffer. */
#include "mail/html.h"

#include <ctype.h>
#include <errno.h>
#include <stddef.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/limits.h"
#include "core/util.h"
#include "mail/html_entities.h"
#include "mail/text.h"

#define NAME_SIZE 16

enum elem_kind {
	EK_INLINE, EK_SKIP, EK_HIDDEN, EK_BLOCK, EK_PARA, EK_BR, EK_CELL
};

struct tag_info;

/* What the current element's last child was (libxml2's areBlanks()). */
enum last_child { LC_NONE, LC_TEXT, LC_ELEM, LC_ELEM_PCDATA };

struct open_elem {
	char name[NAME_SIZE];
	const struct tag_info *info;
	unsigned char kind;
	unsigned char last;
	bool hide;   /* counted in conv.hidden */
	bool pcdata; /* in libxml2's allowPCData list */
	bool inert;  /* inside a dropped subtree: no breaks, no links */
	bool anchor; /* the <a href> whose text is collected */
	bool pre;
};

struct conv {
	struct buf *out;
	struct decoded_message *msg;
	int nl_pending;     /* line breaks owed before the next text */
	bool space_pending; /* a blank owed before the next text */
	int pre;            /* inside <pre> */
	int hidden;         /* inside a hidden subtree */
	int skipped;        /* inside a dropped subtree (script, svg, ...) */
	bool anchor_open;
	size_t anchor_start;
	struct buf href;    /* the open anchor's href */
	struct buf tmp;     /* decoded text run or attribute value */
	unsigned char top_last; /* last child at the top level */
	size_t depth, base; /* base: bottom of a conditional comment's stack */
	int err;
	const char **reason_r;
	struct open_elem stack[LIMIT_HTML_DEPTH]; /* last: not cleared */
};

/* Every element the converter treats specially, sorted by name (looked
 * up by hash, tag_info()); any other is inline. `closes`: the open
 * elements a start tag of this name closes when they are on top of the
 * stack (libxml2 2.9's
 * htmlStartClose; any element without TF_HEAD also ends <head>); `prio`:
 * libxml2's htmlGetEndPriority (an end tag does not close an element of
 * higher priority on its way to its own start tag). */
enum {
	TF_VOID = 1,   /* no content, never pushed */
	TF_PCDATA = 2, /* blank children kept (libxml2's allowPCData) */
	TF_HEAD = 4,   /* may stay inside <head> */
	TF_RAW = 8,    /* RAWTEXT content: script, style, title */
};

static const struct tag_info {
	char name[NAME_SIZE]; /* zero-padded: compared as a fixed key */
	enum elem_kind kind;
	unsigned flags;
	int prio;
	const char *closes; /* " a b c " or NULL */
} tags[] = {
	{ "a", EK_INLINE, TF_PCDATA, 100,
	  " a head " },
	{ "abbr", EK_INLINE, TF_PCDATA, 100,
	  NULL },
	{ "acronym", EK_INLINE, TF_PCDATA, 100,
	  NULL },
	{ "address", EK_BLOCK, TF_PCDATA, 100,
	  " p head ul " },
	{ "applet", EK_INLINE, TF_PCDATA, 100,
	  NULL },
	{ "area", EK_INLINE, TF_VOID, 100,
	  NULL },
	{ "article", EK_BLOCK, 0, 100,
	  NULL },
	{ "aside", EK_BLOCK, 0, 100,
	  NULL },
	{ "b", EK_INLINE, TF_PCDATA, 100,
	  NULL },
	{ "base", EK_INLINE, TF_VOID | TF_HEAD, 100,
	  NULL },
	{ "basefont", EK_INLINE, TF_VOID, 100,
	  NULL },
	{ "bdo", EK_INLINE, TF_PCDATA, 100,
	  NULL },
	{ "big", EK_INLINE, TF_PCDATA, 100,
	  NULL },
	{ "blockquote", EK_PARA, TF_PCDATA, 100,
	  " p head " },
	{ "body", EK_BLOCK, TF_PCDATA, 200,
	  NULL },
	{ "br", EK_BR, TF_VOID, 100,
	  NULL },
	{ "button", EK_INLINE, TF_PCDATA, 100,
	  NULL },
	{ "caption", EK_BLOCK, TF_PCDATA, 100,
	  " p " },
	{ "center", EK_BLOCK, TF_PCDATA, 100,
	  " font b i p head " },
	{ "cite", EK_INLINE, TF_PCDATA, 100,
	  NULL },
	{ "code", EK_INLINE, TF_PCDATA, 100,
	  NULL },
	{ "col", EK_INLINE, TF_VOID, 100,
	  " caption col p " },
	{ "colgroup", EK_INLINE, 0, 100,
	  " caption colgroup col p " },
	{ "dd", EK_BLOCK, TF_PCDATA, 100,
	  " p menu dir address pre listing xmp head dt " },
	{ "del", EK_INLINE, TF_PCDATA, 100,
	  NULL },
	{ "dfn", EK_INLINE, TF_PCDATA, 100,
	  NULL },
	{ "dir", EK_INLINE, 0, 100,
	  " p head " },
	{ "div", EK_BLOCK, TF_PCDATA, 150,
	  " p head " },
	{ "dl", EK_BLOCK, 0, 100,
	  " p dt menu dir address pre listing xmp head " },
	{ "dt", EK_BLOCK, TF_PCDATA, 100,
	  " p menu dir address pre listing xmp head dd " },
	{ "em", EK_INLINE, TF_PCDATA, 100,
	  NULL },
	{ "embed", EK_INLINE, TF_VOID, 100,
	  NULL },
	{ "fieldset", EK_BLOCK, 0, 100,
	  " legend p head h1 h2 h3 h4 h5 h6 pre listing xmp a " },
	{ "figcaption", EK_BLOCK, 0, 100,
	  NULL },
	{ "figure", EK_BLOCK, 0, 100,
	  NULL },
	{ "font", EK_INLINE, TF_PCDATA, 100,
	  NULL },
	{ "footer", EK_BLOCK, 0, 100,
	  NULL },
	{ "form", EK_BLOCK, TF_PCDATA, 100,
	  " form p hr h1 h2 h3 h4 h5 h6 dl ul ol menu dir address pre listing xmp head " },
	{ "h1", EK_PARA, TF_PCDATA, 100,
	  " p head h1 h2 h3 h4 h5 h6 " },
	{ "h2", EK_PARA, TF_PCDATA, 100,
	  " p head h1 h2 h3 h4 h5 h6 " },
	{ "h3", EK_PARA, TF_PCDATA, 100,
	  " p head h1 h2 h3 h4 h5 h6 " },
	{ "h4", EK_PARA, TF_PCDATA, 100,
	  " p head h1 h2 h3 h4 h5 h6 " },
	{ "h5", EK_PARA, TF_PCDATA, 100,
	  " p head h1 h2 h3 h4 h5 h6 " },
	{ "h6", EK_PARA, TF_PCDATA, 100,
	  " p head h1 h2 h3 h4 h5 h6 " },
	{ "head", EK_HIDDEN, 0, 200,
	  NULL },
	{ "header", EK_BLOCK, 0, 100,
	  NULL },
	{ "hr", EK_PARA, TF_VOID, 100,
	  " p head " },
	{ "html", EK_BLOCK, 0, 220,
	  NULL },
	{ "i", EK_INLINE, TF_PCDATA, 100,
	  NULL },
	{ "iframe", EK_SKIP, TF_PCDATA, 100,
	  NULL },
	{ "img", EK_INLINE, TF_VOID, 100,
	  NULL },
	{ "input", EK_INLINE, TF_VOID, 100,
	  NULL },
	{ "ins", EK_INLINE, TF_PCDATA, 100,
	  NULL },
	{ "isindex", EK_INLINE, TF_VOID, 100,
	  NULL },
	{ "kbd", EK_INLINE, TF_PCDATA, 100,
	  NULL },
	{ "keygen", EK_INLINE, TF_VOID, 100,
	  NULL },
	{ "label", EK_INLINE, TF_PCDATA, 100,
	  NULL },
	{ "legend", EK_INLINE, TF_PCDATA, 100,
	  NULL },
	{ "li", EK_BLOCK, TF_PCDATA, 100,
	  " p h1 h2 h3 h4 h5 h6 dl address pre listing xmp head li " },
	{ "link", EK_INLINE, TF_VOID | TF_HEAD, 100,
	  NULL },
	{ "listing", EK_INLINE, 0, 100,
	  " p head " },
	{ "main", EK_BLOCK, 0, 100,
	  NULL },
	{ "map", EK_INLINE, TF_PCDATA, 100,
	  NULL },
	{ "menu", EK_INLINE, TF_PCDATA, 100,
	  " p head ul " },
	{ "meta", EK_INLINE, TF_VOID | TF_HEAD, 100,
	  NULL },
	{ "nav", EK_BLOCK, 0, 100,
	  NULL },
	{ "noscript", EK_INLINE, TF_HEAD, 100,
	  NULL },
	{ "object", EK_SKIP, TF_PCDATA, 100,
	  NULL },
	{ "ol", EK_BLOCK, TF_PCDATA, 100,
	  " p head ul " },
	{ "optgroup", EK_INLINE, 0, 100,
	  " option " },
	{ "option", EK_INLINE, 0, 100,
	  " option " },
	{ "p", EK_PARA, TF_PCDATA, 100,
	  " p head h1 h2 h3 h4 h5 h6 tt i b u s strike big small " },
	{ "param", EK_INLINE, TF_VOID, 100,
	  NULL },
	{ "pre", EK_BLOCK, TF_PCDATA, 100,
	  " p head ul " },
	{ "q", EK_INLINE, TF_PCDATA, 100,
	  NULL },
	{ "s", EK_INLINE, TF_PCDATA, 100,
	  NULL },
	{ "samp", EK_INLINE, TF_PCDATA, 100,
	  NULL },
	{ "script", EK_SKIP, TF_HEAD | TF_RAW, 100,
	  NULL },
	{ "section", EK_BLOCK, 0, 100,
	  NULL },
	{ "select", EK_SKIP, 0, 100,
	  NULL },
	{ "small", EK_INLINE, TF_PCDATA, 100,
	  NULL },
	{ "source", EK_INLINE, TF_VOID, 100,
	  NULL },
	{ "span", EK_INLINE, TF_PCDATA, 100,
	  NULL },
	{ "strike", EK_INLINE, TF_PCDATA, 100,
	  NULL },
	{ "strong", EK_INLINE, TF_PCDATA, 100,
	  NULL },
	{ "style", EK_SKIP, TF_HEAD | TF_RAW, 100,
	  NULL },
	{ "svg", EK_SKIP, 0, 100,
	  NULL },
	{ "table", EK_PARA, 0, 190,
	  " p head h1 h2 h3 h4 h5 h6 pre listing xmp a " },
	{ "tbody", EK_BLOCK, 0, 180,
	  " th td tr caption col colgroup thead tfoot tbody p " },
	{ "td", EK_CELL, TF_PCDATA, 160,
	  " th td p " },
	{ "template", EK_SKIP, 0, 100,
	  NULL },
	{ "tfoot", EK_BLOCK, 0, 180,
	  " th td tr caption col colgroup thead tbody p " },
	{ "th", EK_CELL, TF_PCDATA, 160,
	  " th td p span font a b i u " },
	{ "thead", EK_BLOCK, 0, 180,
	  " caption col colgroup " },
	{ "title", EK_SKIP, TF_HEAD | TF_RAW, 100,
	  NULL },
	{ "tr", EK_BLOCK, 0, 170,
	  " th td tr caption col colgroup p " },
	{ "track", EK_INLINE, TF_VOID, 100,
	  NULL },
	{ "tt", EK_INLINE, TF_PCDATA, 100,
	  NULL },
	{ "u", EK_INLINE, TF_PCDATA, 100,
	  NULL },
	{ "ul", EK_BLOCK, TF_PCDATA, 100,
	  " p head ol menu dir address pre listing xmp " },
	{ "var", EK_INLINE, TF_PCDATA, 100,
	  NULL },
	{ "wbr", EK_INLINE, TF_VOID, 100,
	  NULL },
	{ "xmp", EK_INLINE, 0, 100,
	  " p " },
};

static const struct tag_info inline_tag = { "", EK_INLINE, 0, 100, NULL };

/* Tag names are NAME_SIZE bytes, zero-padded (tag_name(), the table,
 * open_elem): name_eq() compares them whole, tag_hash() reads them as two
 * 64-bit words. */
static uint64_t key_word(const char *s)
{
	uint64_t w;
	memcpy(&w, s, sizeof(w));
	return w;
}

static bool name_eq(const char *a, const char *b)
{
	return memcmp(a, b, NAME_SIZE) == 0;
}

/* Byte classes for the tag and attribute loops, which look at every
 * byte of every tag: CLS_SPACE is isspace() of the C locale; CLS_TAG_END
 * ends a tag name, CLS_ATTR_END an attribute name ('/' is handled apart
 * there). */
enum { CLS_SPACE = 1, CLS_TAG_END = 2, CLS_ATTR_END = 4 };
#define CLS_BLANK (CLS_SPACE | CLS_TAG_END | CLS_ATTR_END)
static const unsigned char byte_class[256] = {
	[' '] = CLS_BLANK, ['\t'] = CLS_BLANK, ['\n'] = CLS_BLANK,
	['\v'] = CLS_BLANK, ['\f'] = CLS_BLANK, ['\r'] = CLS_BLANK,
	['>'] = CLS_TAG_END | CLS_ATTR_END, ['/'] = CLS_TAG_END,
	['='] = CLS_ATTR_END,
};

static inline bool c_space(unsigned char ch)
{
	return byte_class[ch] & CLS_SPACE;
}

/* The names the converter tests, as padded keys for name_eq(). */
static const char N_A[NAME_SIZE] = "a", N_AREA[NAME_SIZE] = "area",
		  N_BODY[NAME_SIZE] = "body", N_HEAD[NAME_SIZE] = "head",
		  N_HTML[NAME_SIZE] = "html", N_P[NAME_SIZE] = "p",
		  N_PRE[NAME_SIZE] = "pre", N_SCRIPT[NAME_SIZE] = "script";

/* tag_info() runs for every start and end tag of every HTML part: an
 * open-addressing table of the known names, keyed by a multiplicative
 * hash of both words, built once. */
#define TAG_SLOTS 512
static const struct tag_info *tag_slots[TAG_SLOTS];
static pthread_once_t tag_slots_once = PTHREAD_ONCE_INIT;

static size_t tag_hash(const char *name)
{
	uint64_t h = key_word(name) * 0x9e3779b97f4a7c15ull ^
		     key_word(name + 8) * 0xc2b2ae3d27d4eb4full;
	return (size_t)(h >> 55) & (TAG_SLOTS - 1);
}

static void tag_slots_build(void)
{
	for (size_t i = 0; i < sizeof(tags) / sizeof(*tags); i++) {
		size_t h = tag_hash(tags[i].name);
		while (tag_slots[h])
			h = (h + 1) & (TAG_SLOTS - 1);
		tag_slots[h] = &tags[i];
	}
}

static const struct tag_info *tag_info(const char *name)
{
	pthread_once(&tag_slots_once, tag_slots_build);
	for (size_t h = tag_hash(name); tag_slots[h];
	     h = (h + 1) & (TAG_SLOTS - 1))
		if (name_eq(tag_slots[h]->name, name))
			return tag_slots[h];
	return &inline_tag;
}

/* Does a start tag `t` close the open element `open`? */
static bool start_closes(const struct tag_info *t,
			 const struct open_elem *open)
{
	if (name_eq(open->name, N_HEAD))
		return !(t->flags & TF_HEAD);
	if (t->closes == NULL)
		return false;
	size_t n = strlen(open->name);
	for (const char *p = strstr(t->closes, open->name); p;
	     p = strstr(p + 1, open->name))
		if (p[-1] == ' ' && p[n] == ' ')
			return true;
	return false;
}

static void put(struct conv *c, const char *s, size_t n)
{
	if (c->err == 0 && buf_append(c->out, s, n) < 0)
		c->err = -E2BIG;
}

static void text(struct conv *c, const char *s, size_t n)
{
	size_t i = 0;

	if (c->hidden)
		return;
	while (i < n) {
		unsigned char ch = (unsigned char)s[i];
		size_t sp = 0;
		if (!c->pre) {
			if (ch == ' ' || ch == '\t' || ch == '\n' ||
			    ch == '\r' || ch == '\f')
				sp = 1;
			else if (ch == 0xc2 && i + 1 < n &&
				 (unsigned char)s[i + 1] == 0xa0)
				sp = 2;
		}
		if (sp) {
			c->space_pending = true;
			i += sp;
			continue;
		}
		if (c->nl_pending && c->out->len > 0) {
			put(c, "\n\n", (size_t)(c->nl_pending > 1 ? 2 : 1));
		} else if (c->space_pending && c->out->len > 0 &&
			   c->out->data[c->out->len - 1] != '\n') {
			put(c, " ", 1);
		}
		c->nl_pending = 0;
		c->space_pending = false;
		size_t j = i + 1;
		while (j < n) {
			unsigned char d = (unsigned char)s[j];
			if (!c->pre && (d == ' ' || d == '\t' || d == '\n' ||
					d == '\r' || d == '\f' || d == 0xc2))
				break;
			j++;
		}
		put(c, s + i, j - i);
		i = j;
	}
}

static void brk(struct conv *c, int n)
{
	if (c->nl_pending < n)
		c->nl_pending = n;
}

static unsigned char *last_slot(struct conv *c)
{
	return c->depth > c->base ? &c->stack[c->depth - 1].last
				  : &c->top_last;
}

static void put_utf8(struct buf *b, uint32_t cp)
{
	char u[4];
	size_t n;
	if (cp < 0x80) {
		u[0] = (char)cp;
		n = 1;
	} else if (cp < 0x800) {
		u[0] = (char)(0xc0 | (cp >> 6));
		u[1] = (char)(0x80 | (cp & 0x3f));
		n = 2;
	} else if (cp < 0x10000) {
		u[0] = (char)(0xe0 | (cp >> 12));
		u[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		u[2] = (char)(0x80 | (cp & 0x3f));
		n = 3;
	} else {
		u[0] = (char)(0xf0 | (cp >> 18));
		u[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
		u[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
		u[3] = (char)(0x80 | (cp & 0x3f));
		n = 4;
	}
	(void)buf_append(b, u, n);
}

static int entity_cmp(const void *key, const void *e)
{
	return strcmp(key, ((const struct html_entity *)e)->name);
}

static bool name_start(unsigned char ch)
{
	return isalpha(ch) || ch == '_' || ch == ':';
}

static bool name_char(unsigned char ch)
{
	return isalnum(ch) || ch == '.' || ch == '-' || ch == '_' || ch == ':';
}

/* Decodes the character reference at s[0] == '&' into b the way libxml2
 * 2.9 does: numeric ones with or without ';' (invalid code points
 * vanish), named ones only with ';' and when known, otherwise "&name"
 * (a ';' after an unknown name is dropped). Returns the bytes read. */
static size_t char_ref(const char *s, size_t n, struct buf *b)
{
	size_t i = 1;
	if (i < n && s[i] == '#') {
		uint32_t v = 0;
		bool hex = i + 1 < n && (s[i + 1] == 'x' || s[i + 1] == 'X');
		i += hex ? 2 : 1;
		size_t start = i;
		while (i < n && (hex ? isxdigit((unsigned char)s[i])
				     : isdigit((unsigned char)s[i]))) {
			unsigned d = isdigit((unsigned char)s[i])
				? (unsigned)(s[i] - '0')
				: (unsigned)(tolower((unsigned char)s[i]) -
					     'a' + 10);
			if (v < 0x110000)
				v = v * (hex ? 16u : 10u) + d;
			i++;
		}
		if (i == start) {
			/* "&#" with no digits: libxml2 drops it. */
			if (i < n && s[i] == ';')
				i++;
			return i;
		}
		if (i < n && s[i] == ';')
			i++;
		bool ok = v == 0x9 || v == 0xa || v == 0xd ||
			  (v >= 0x20 && v < 0xd800) ||
			  (v >= 0xe000 && v <= 0xfffd) ||
			  (v >= 0x10000 && v < 0x110000);
		if (ok)
			put_utf8(b, v);
		return i;
	}
	if (i >= n || !name_start((unsigned char)s[i])) {
		(void)buf_append(b, "&", 1);
		return 1;
	}
	size_t start = i;
	while (i < n && name_char((unsigned char)s[i]))
		i++;
	size_t len = i - start;
	if (i < n && s[i] == ';') {
		char name[16];
		if (len < sizeof(name)) {
			memcpy(name, s + start, len);
			name[len] = '\0';
			/* The references mail is full of, before the table. */
			static const struct html_entity common[] = {
				{ "nbsp", 160 }, { "amp", 38 }, { "quot", 34 },
				{ "lt", 60 }, { "gt", 62 }, { "copy", 169 },
			};
			for (size_t k = 0;
			     k < sizeof(common) / sizeof(*common); k++) {
				if (name[0] == common[k].name[0] &&
				    strcmp(name, common[k].name) == 0) {
					put_utf8(b, common[k].cp);
					return i + 1;
				}
			}
			const struct html_entity *e = bsearch(
				name, html_entities,
				sizeof(html_entities) / sizeof(*html_entities),
				sizeof(*html_entities), entity_cmp);
			if (e) {
				put_utf8(b, e->cp);
				return i + 1;
			}
		}
		i++;
	}
	(void)buf_append(b, s, 1);
	(void)buf_append(b, s + start, len);
	return i;
}

/* Text from the data state: entities decoded, then on to text(). */
static void data_text(struct conv *c, const char *s, size_t n)
{
	if (c->hidden)
		return; /* text() drops it anyway */
	if (memchr(s, '&', n) == NULL) {
		text(c, s, n); /* nothing to decode: no copy */
		return;
	}
	buf_reset(&c->tmp);
	size_t i = 0;
	while (i < n) {
		const char *amp = memchr(s + i, '&', n - i);
		size_t run = amp ? (size_t)(amp - (s + i)) : n - i;
		(void)buf_append(&c->tmp, s + i, run);
		i += run;
		if (i < n)
			i += char_ref(s + i, n - i, &c->tmp);
	}
	text(c, c->tmp.data ? c->tmp.data : "", c->tmp.len);
}

static void jsonld_add(struct decoded_message *msg, const char *s, size_t n)
{
	if (msg->n_jsonld >= LIMIT_JSONLD_BLOCKS)
		return;
	if (n > 0 && n <= LIMIT_JSONLD_SIZE && memchr(s, '\0', n) == NULL) {
		msg->jsonld = xrealloc(msg->jsonld, (msg->n_jsonld + 1) *
							    sizeof(char *));
		char *copy = xmalloc(n + 1);
		memcpy(copy, s, n);
		copy[n] = '\0';
		msg->jsonld[msg->n_jsonld++] = copy;
	}
}

/* The attributes of one start tag that the converter reads. */
struct attrs {
	const char *href, *type;
	size_t href_len, type_len;
	bool has_href;
};

static void leave(struct conv *c, struct open_elem *e)
{
	if (e->hide && c->hidden > 0)
		c->hidden--;
	if (e->kind == EK_SKIP && !e->inert && c->skipped > 0)
		c->skipped--;
	if (e->inert)
		return;
	if (e->kind == EK_PARA)
		brk(c, 2);
	else if (e->kind == EK_BLOCK)
		brk(c, 1);
	else if (e->kind == EK_CELL)
		c->space_pending = true;
	if (e->pre && c->pre > 0)
		c->pre--;
	if (e->anchor) {
		size_t start = c->anchor_start <= c->out->len
				       ? c->anchor_start
				       : c->out->len;
		text_link_add(c->msg, buf_cstr(&c->href), c->href.len,
			      c->out->data ? c->out->data + start : "",
			      c->out->len - start);
		c->anchor_open = false;
	}
}

static void pop(struct conv *c)
{
	c->depth--;
	leave(c, &c->stack[c->depth]);
}

/* Decodes an attribute value (character references) into c->tmp. */
static void attr_value(struct conv *c, const char *s, size_t n)
{
	buf_reset(&c->tmp);
	size_t i = 0;
	while (i < n) {
		const char *amp = memchr(s + i, '&', n - i);
		size_t run = amp ? (size_t)(amp - (s + i)) : n - i;
		(void)buf_append(&c->tmp, s + i, run);
		i += run;
		if (i < n)
			i += char_ref(s + i, n - i, &c->tmp);
	}
}

static int start_tag(struct conv *c, const char *name, const struct attrs *a,
		     bool self_closing)
{
	const struct tag_info *t = tag_info(name);
	enum elem_kind k = t->kind;

	while (c->depth > c->base && start_closes(t, &c->stack[c->depth - 1]))
		pop(c);
	bool is_void = t->flags & TF_VOID;
	/* Inside a dropped subtree (script, svg, iframe ...) the former
	 * converter never looked: elements there only keep end tags
	 * matched. */
	if (c->skipped > 0) {
		if (is_void)
			return 0;
		if (c->depth >= LIMIT_HTML_DEPTH) {
			*c->reason_r = "limit:html-depth";
			return -ELOOP;
		}
		struct open_elem *e = &c->stack[c->depth++];
		memset(e, 0, sizeof(*e));
		memcpy(e->name, name, NAME_SIZE);
		e->info = t;
		e->kind = (unsigned char)k;
		e->inert = true;
		if (self_closing)
			pop(c);
		return 0;
	}
	if (name_eq(name, N_AREA) && a->has_href) {
		attr_value(c, a->href, a->href_len);
		text_link_add(c->msg, buf_cstr(&c->tmp), c->tmp.len, "", 0);
	}
	*last_slot(c) = (t->flags & TF_PCDATA) ? LC_ELEM_PCDATA : LC_ELEM;
	switch (k) {
	case EK_BR:
		if (!c->hidden) {
			c->nl_pending = c->nl_pending < 2 ? c->nl_pending + 1
							  : 2;
			if (c->out->len == 0)
				c->nl_pending = 0;
		}
		return 0;
	case EK_PARA:
		brk(c, 2);
		break;
	case EK_BLOCK:
		brk(c, 1);
		break;
	case EK_CELL:
		c->space_pending = true;
		break;
	default:
		break;
	}
	if (is_void) {
		if (k == EK_PARA)
			brk(c, 2);
		return 0;
	}
	if (c->depth >= LIMIT_HTML_DEPTH) {
		*c->reason_r = "limit:html-depth";
		return -ELOOP;
	}
	struct open_elem *e = &c->stack[c->depth++];
	memset(e, 0, sizeof(*e));
	memcpy(e->name, name, NAME_SIZE);
	e->kind = (unsigned char)k;
	e->info = t;
	e->pcdata = t->flags & TF_PCDATA;
	/* Not hidden by display:none, hidden or aria-hidden: real mail
	 * (Royal Mail) shows such blocks through media queries, with the
	 * tracking number in them (docs/mail.md). */
	e->hide = k == EK_SKIP || k == EK_HIDDEN;
	if (e->hide)
		c->hidden++;
	if (k == EK_SKIP)
		c->skipped++;
	if (name_eq(name, N_PRE)) {
		e->pre = true;
		c->pre++;
	}
	if (name_eq(name, N_A) && a->has_href && !c->anchor_open) {
		attr_value(c, a->href, a->href_len);
		buf_reset(&c->href);
		(void)buf_append(&c->href, c->tmp.data ? c->tmp.data : "",
				 c->tmp.len);
		e->anchor = true;
		c->anchor_open = true;
		c->anchor_start = c->out->len;
	}
	if (self_closing)
		pop(c);
	return 0;
}

static void end_tag(struct conv *c, const char *name)
{
	if (name_eq(name, N_HTML) || name_eq(name, N_BODY))
		return;
	int prio = tag_info(name)->prio;
	size_t i = c->depth;
	while (i > c->base) {
		i--;
		if (name_eq(c->stack[i].name, name)) {
			while (c->depth > i)
				pop(c);
			return;
		}
		if (c->stack[i].info->prio > prio)
			return;
	}
}

/* Reads the attributes of a start tag from s[*i]; stops after '>' or at
 * the end. Values point into s. */
static void read_attrs(const char *s, size_t n, size_t *pi, struct attrs *a,
		       bool *self_closing)
{
	size_t i = *pi;
	*self_closing = false;
	while (i < n) {
		unsigned char ch = (unsigned char)s[i];
		if (ch == '>') {
			i++;
			break;
		}
		if (ch == '/' && i + 1 < n && s[i + 1] == '>') {
			*self_closing = true;
			i += 2;
			break;
		}
		if (c_space(ch) || ch == '/') {
			i++;
			continue;
		}
		size_t ns = i;
		while (i < n &&
		       !(byte_class[(unsigned char)s[i]] & CLS_ATTR_END) &&
		       (s[i] != '/' || i == ns))
			i++;
		size_t nl = i - ns;
		while (i < n && c_space((unsigned char)s[i]))
			i++;
		const char *v = NULL;
		size_t vl = 0;
		if (i < n && s[i] == '=') {
			i++;
			while (i < n && c_space((unsigned char)s[i]))
				i++;
			if (i < n && (s[i] == '"' || s[i] == '\'')) {
				char q = s[i++];
				const char *end = memchr(s + i, q, n - i);
				size_t e = end ? (size_t)(end - s) : n;
				v = s + i;
				vl = e - i;
				i = end ? e + 1 : n;
			} else {
				size_t vs = i;
				while (i < n && !c_space((unsigned char)s[i]) &&
				       s[i] != '>')
					i++;
				v = s + vs;
				vl = i - vs;
			}
		}
		const char *nm = s + ns;
		if (nl == 4 && strncasecmp(nm, "href", 4) == 0 && !a->has_href) {
			a->has_href = v != NULL;
			a->href = v;
			a->href_len = vl;
		} else if (nl == 4 && strncasecmp(nm, "type", 4) == 0) {
			a->type = v;
			a->type_len = vl;
		}
	}
	*pi = i;
}

static int run(struct conv *c, const char *s, size_t n, bool nested);

/* Outlook-only content hides in conditional comments
 * ("<!--[if mso]> ... <![endif]-->"); Outlook users see it, and some
 * senders put the only copy of a number there. Converted as a fragment of
 * its own, once (comments inside it are not looked into). */
static int conditional_comment(struct conv *c, const char *s, size_t n)
{
	if (n < 3 || memcmp(s, "[if", 3) != 0)
		return 0;
	const char *b = memmem(s, n, "]>", 2);
	if (b == NULL)
		return 0;
	b += 2;
	size_t rest = n - (size_t)(b - s);
	const char *e = memmem(b, rest, "<![endif]", 9);
	size_t len = e ? (size_t)(e - b) : rest;
	if (len == 0)
		return 0;
	size_t saved_base = c->base;
	unsigned char saved_last = c->top_last;
	c->base = c->depth;
	c->top_last = LC_NONE;
	int r = run(c, b, len, true);
	c->base = saved_base;
	c->top_last = saved_last;
	return r;
}

/* Is the blank run s[0..n) dropped, as libxml2's areBlanks() does? */
static bool blank_dropped(const struct conv *c, const char *s, size_t n,
			  bool before_tag_or_end)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] != ' ' && s[i] != '\t' && s[i] != '\n' && s[i] != '\r')
			return false;
	if (!before_tag_or_end)
		return false;
	if (c->depth == c->base)
		return true;
	const struct open_elem *top = &c->stack[c->depth - 1];
	if (name_eq(top->name, N_HTML) || name_eq(top->name, N_HEAD))
		return true;
	if (top->last == LC_TEXT || top->last == LC_ELEM_PCDATA)
		return false;
	if (top->last == LC_NONE)
		return !top->pcdata;
	return true;
}

static int text_run(struct conv *c, const char *s, size_t n, bool at_tag)
{
	if (n == 0 || blank_dropped(c, s, n, at_tag))
		return 0;
	/* Text with no element open (or right in <html>) gets an implied
	 * paragraph, as in libxml2. */
	if (c->depth == c->base ||
	    name_eq(c->stack[c->depth - 1].name, N_HTML)) {
		struct attrs none = { 0 };
		int r = start_tag(c, N_P, &none, false);
		if (r < 0)
			return r;
	}
	*last_slot(c) = LC_TEXT;
	data_text(c, s, n);
	return 0;
}

static size_t tag_name(const char *s, size_t n, size_t i, char *name)
{
	size_t k = 0;
	memset(name, 0, NAME_SIZE);
	while (i < n && !(byte_class[(unsigned char)s[i]] & CLS_TAG_END)) {
		if (k + 1 < NAME_SIZE)
			name[k++] = (char)(s[i] >= 'A' && s[i] <= 'Z'
						   ? s[i] + 32 : s[i]);
		i++;
	}
	return i;
}

static int run(struct conv *c, const char *s, size_t n, bool nested)
{
	size_t i = 0;

	while (i < n && c->err == 0) {
		const char *lt = memchr(s + i, '<', n - i);
		size_t tx = lt ? (size_t)(lt - s) : n;
		int r = text_run(c, s + i, tx - i, true);
		if (r < 0)
			return r;
		i = tx;
		if (i >= n)
			break;
		/* s[i] == '<' */
		unsigned char nx = i + 1 < n ? (unsigned char)s[i + 1] : 0;
		if (isalpha(nx)) {
			char name[NAME_SIZE];
			size_t j = tag_name(s, n, i + 1, name);
			struct attrs a = { 0 };
			bool self_closing;
			read_attrs(s, n, &j, &a, &self_closing);
			i = j;
			if ((tag_info(name)->flags & TF_RAW) &&
			    !self_closing) {
				/* RAWTEXT up to "</name". */
				size_t nl = strlen(name), end = i;
				const char *p = s + i;
				while ((p = memchr(p, '<', n - (size_t)(p - s)))) {
					size_t o = (size_t)(p - s);
					if (o + 2 + nl <= n && p[1] == '/' &&
					    strncasecmp(p + 2, name, nl) == 0)
						break;
					p++;
				}
				end = p ? (size_t)(p - s) : n;
				if (name_eq(name, N_SCRIPT) && a.type &&
				    a.type_len == 19 &&
				    strncasecmp(a.type, "application/ld+json",
						19) == 0)
					jsonld_add(c->msg, s + i, end - i);
				r = start_tag(c, name, &a, false);
				if (r < 0)
					return r;
				end_tag(c, name);
				i = end;
				if (p) {
					const char *gt = memchr(s + end, '>',
								n - end);
					i = gt ? (size_t)(gt - s) + 1 : n;
				}
				continue;
			}
			r = start_tag(c, name, &a, self_closing);
			if (r < 0)
				return r;
		} else if (nx == '/' && i + 2 < n &&
			   isalpha((unsigned char)s[i + 2])) {
			char name[NAME_SIZE];
			size_t j = tag_name(s, n, i + 2, name);
			const char *gt = memchr(s + j, '>', n - j);
			i = gt ? (size_t)(gt - s) + 1 : n;
			end_tag(c, name);
		} else if (nx == '!' && i + 3 < n && s[i + 2] == '-' &&
			   s[i + 3] == '-') {
			size_t cs = i + 4;
			const char *e = memmem(s + cs, n - cs, "-->", 3);
			if (e == NULL)
				return c->err; /* unterminated: to the end */
			i = (size_t)(e - s) + 3;
			if (!nested) {
				r = conditional_comment(c, s + cs,
							(size_t)(e - s) - cs);
				if (r < 0)
					return r;
			}
		} else if (nx == '!' || nx == '?') {
			const char *gt = memchr(s + i, '>', n - i);
			i = gt ? (size_t)(gt - s) + 1 : n;
		} else if (nx == '/') {
			const char *gt = memchr(s + i, '>', n - i);
			i = gt ? (size_t)(gt - s) + 1 : n;
		} else {
			/* A '<' that opens nothing is text. */
			size_t j = i + 1;
			while (j < n && s[j] != '<')
				j++;
			r = text_run(c, s + i, j - i, j >= n);
			if (r < 0)
				return r;
			i = j;
		}
	}
	while (c->depth > c->base)
		pop(c);
	return c->err;
}

int html_to_text(const char *html, size_t len, struct buf *out,
		 struct decoded_message *msg, const char **reason_r)
{
	if (len == 0)
		return 0;
	struct conv *c = xmalloc(sizeof(*c));
	memset(c, 0, offsetof(struct conv, stack));
	c->out = out;
	c->msg = msg;
	c->reason_r = reason_r;
	buf_init(&c->href, LIMIT_DECODED_TEXT);
	buf_init(&c->tmp, len * 4 + 16);
	int r = run(c, html, len, false);
	buf_free(&c->href);
	buf_free(&c->tmp);
	free(c);
	return r;
}

bool html_sniff_charset(const char *html, size_t len, char *name,
			size_t size)
{
	size_t n = len < 2048 ? len : 2048;
	const char *p = html;

	while (n > 0) {
		const char *cs = util_memcasemem(p, n, "charset");
		if (cs == NULL)
			return false;
		size_t off = (size_t)(cs - p) + 7;
		p += off;
		n -= off;
		while (n > 0 && (*p == ' ' || *p == '"' || *p == '\''))
			p++, n--;
		if (n == 0 || *p != '=')
			continue;
		p++, n--;
		while (n > 0 && (*p == ' ' || *p == '"' || *p == '\''))
			p++, n--;
		size_t i = 0;
		while (i < n && i + 1 < size &&
		       (isalnum((unsigned char)p[i]) || strchr("-_:.", p[i])))
			i++;
		if (i == 0)
			continue;
		memcpy(name, p, i);
		name[i] = '\0';
		return true;
	}
	return false;
}
