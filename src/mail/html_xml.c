/* html_xml.c - the former HTML-to-text converter, on libxml2's HTML
 * parser: kept only as the reference the streaming converter (html.c) is
 * compared with (tests/mail/html_compare.sh, TRACKMAIL_TEST_HTML_XML).
 *
 * libxml2 is error-tolerant (HTML_PARSE_RECOVER), decodes all named and
 * numeric entities, and builds a tree we walk without recursion, so a
 * hostile nesting costs no stack. */
#include "mail/html_xml.h"

#include <errno.h>
#include <libxml/HTMLparser.h>
#include <libxml/tree.h>
#include <string.h>
#include <strings.h>

#include "core/limits.h"
#include "core/util.h"
#include "mail/text.h"

struct conv {
	struct buf *out;
	int nl_pending;     /* line breaks owed before the next text */
	bool space_pending; /* a blank owed before the next text */
	int pre;            /* inside <pre> */
	int hidden;         /* inside <head>: walked for JSON-LD only */
	xmlNode *anchor;    /* current <a href> */
	size_t anchor_start;
	int err;
};

enum elem_kind {
	EK_INLINE, EK_SKIP, EK_HIDDEN, EK_BLOCK, EK_PARA, EK_BR, EK_CELL
};

/* Sorted by name (elem_kind() searches it with bsearch). */
static const struct element {
	const char *name;
	enum elem_kind kind;
} elements[] = {
	{ "address", EK_BLOCK }, { "article", EK_BLOCK },
	{ "aside", EK_BLOCK }, { "blockquote", EK_PARA },
	{ "body", EK_BLOCK }, { "br", EK_BR }, { "caption", EK_BLOCK },
	{ "center", EK_BLOCK }, { "dd", EK_BLOCK }, { "div", EK_BLOCK },
	{ "dl", EK_BLOCK }, { "dt", EK_BLOCK }, { "fieldset", EK_BLOCK },
	{ "figcaption", EK_BLOCK }, { "figure", EK_BLOCK },
	{ "footer", EK_BLOCK }, { "form", EK_BLOCK }, { "h1", EK_PARA },
	{ "h2", EK_PARA }, { "h3", EK_PARA }, { "h4", EK_PARA },
	{ "h5", EK_PARA }, { "h6", EK_PARA }, { "head", EK_HIDDEN },
	{ "header", EK_BLOCK }, { "hr", EK_PARA }, { "html", EK_BLOCK },
	{ "iframe", EK_SKIP }, { "li", EK_BLOCK }, { "main", EK_BLOCK },
	{ "nav", EK_BLOCK }, { "object", EK_SKIP }, { "ol", EK_BLOCK },
	{ "p", EK_PARA }, { "pre", EK_BLOCK }, { "script", EK_SKIP },
	{ "section", EK_BLOCK }, { "select", EK_SKIP }, { "style", EK_SKIP },
	{ "svg", EK_SKIP }, { "table", EK_PARA }, { "tbody", EK_BLOCK },
	{ "td", EK_CELL }, { "template", EK_SKIP }, { "tfoot", EK_BLOCK },
	{ "th", EK_CELL }, { "thead", EK_BLOCK }, { "title", EK_SKIP },
	{ "tr", EK_BLOCK }, { "ul", EK_BLOCK },
};

static int element_cmp(const void *key, const void *e)
{
	return strcasecmp(key, ((const struct element *)e)->name);
}

static enum elem_kind elem_kind(const xmlNode *n)
{
	const struct element *e =
		bsearch(n->name, elements, sizeof(elements) / sizeof(*elements),
			sizeof(*elements), element_cmp);
	return e ? e->kind : EK_INLINE;
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

static void jsonld_add(struct decoded_message *msg, const xmlNode *script)
{
	if (msg->n_jsonld >= LIMIT_JSONLD_BLOCKS)
		return;
	xmlChar *content = xmlNodeGetContent(script);
	if (content == NULL)
		return;
	size_t n = strlen((const char *)content);
	if (n > 0 && n <= LIMIT_JSONLD_SIZE) {
		msg->jsonld = xrealloc(msg->jsonld, (msg->n_jsonld + 1) *
							    sizeof(char *));
		msg->jsonld[msg->n_jsonld++] = xstrdup((const char *)content);
	}
	xmlFree(content);
}

static void enter(struct conv *c, xmlNode *n, enum elem_kind k,
		  struct decoded_message *msg)
{
	switch (k) {
	case EK_HIDDEN:
		c->hidden++;
		break;
	case EK_BR:
		c->nl_pending = c->nl_pending < 2 ? c->nl_pending + 1 : 2;
		if (c->out->len == 0)
			c->nl_pending = 0;
		break;
	case EK_PARA:
		brk(c, 2);
		break;
	case EK_BLOCK:
		brk(c, 1);
		if (strcasecmp((const char *)n->name, "pre") == 0)
			c->pre++;
		break;
	case EK_CELL:
		c->space_pending = true;
		break;
	default:
		break;
	}
	if (strcasecmp((const char *)n->name, "a") == 0 && c->anchor == NULL) {
		xmlChar *href = xmlGetProp(n, (const xmlChar *)"href");
		if (href) {
			c->anchor = n;
			/* Pending breaks belong before the anchor text. */
			c->anchor_start = c->out->len;
			xmlFree(href);
		}
	} else if (strcasecmp((const char *)n->name, "area") == 0) {
		xmlChar *href = xmlGetProp(n, (const xmlChar *)"href");
		if (href) {
			text_link_add(msg, (const char *)href,
				      strlen((const char *)href), "", 0);
			xmlFree(href);
		}
	}
}

static void leave(struct conv *c, xmlNode *n, enum elem_kind k,
		  struct decoded_message *msg)
{
	if (k == EK_HIDDEN && c->hidden > 0)
		c->hidden--;
	else if (k == EK_PARA)
		brk(c, 2);
	else if (k == EK_BLOCK) {
		brk(c, 1);
		if (c->pre > 0 && strcasecmp((const char *)n->name, "pre") == 0)
			c->pre--;
	} else if (k == EK_CELL) {
		c->space_pending = true;
	}
	if (n == c->anchor) {
		xmlChar *href = xmlGetProp(n, (const xmlChar *)"href");
		size_t start = c->anchor_start <= c->out->len
				       ? c->anchor_start
				       : c->out->len;
		if (href)
			text_link_add(msg, (const char *)href,
				      strlen((const char *)href),
				      c->out->data ? c->out->data + start : "",
				      c->out->len - start);
		xmlFree(href);
		c->anchor = NULL;
	}
}

static htmlDocPtr parse(const char *html, size_t len)
{
	if (len > (size_t)INT32_MAX)
		len = INT32_MAX;
	return htmlReadMemory(html, (int)len, NULL, "UTF-8",
		HTML_PARSE_RECOVER | HTML_PARSE_NOERROR |
		HTML_PARSE_NOWARNING | HTML_PARSE_NONET |
		HTML_PARSE_IGNORE_ENC | HTML_PARSE_COMPACT);
}

static int walk_doc(struct conv *c, htmlDocPtr doc,
		    struct decoded_message *msg, bool nested,
		    const char **reason_r);

/* Outlook-only content hides in conditional comments
 * ("<!--[if mso]> ... <![endif]-->"); Outlook users see it, and some
 * senders put the only copy of a number there. Converted as a fragment of
 * its own (comments do not nest, so this recurses once at most). */
static int conditional_comment(struct conv *c, const xmlNode *n,
			       struct decoded_message *msg,
			       const char **reason_r)
{
	const char *s = (const char *)n->content;
	if (s == NULL || strncmp(s, "[if", 3) != 0)
		return 0;
	const char *b = strstr(s, "]>");
	if (b == NULL)
		return 0;
	b += 2;
	const char *e = strstr(b, "<![endif]");
	size_t len = e ? (size_t)(e - b) : strlen(b);
	if (len == 0)
		return 0;
	htmlDocPtr doc = parse(b, len);
	if (doc == NULL)
		return 0;
	int r = walk_doc(c, doc, msg, true, reason_r);
	xmlFreeDoc(doc);
	return r;
}

static int walk_doc(struct conv *c, htmlDocPtr doc,
		    struct decoded_message *msg, bool nested,
		    const char **reason_r)
{
	int depth = 0;

	/* Iterative walk: enter, children, leave, next sibling. */
	xmlNode *n = doc->children;
	while (n != NULL && c->err == 0) {
		bool descend = false;
		if (n->type == XML_ELEMENT_NODE) {
			enum elem_kind k = elem_kind(n);
			if (k == EK_SKIP) {
				if (strcasecmp((const char *)n->name,
					       "script") == 0) {
					xmlChar *t = xmlGetProp(n,
						(const xmlChar *)"type");
					if (t && strcasecmp((const char *)t,
						"application/ld+json") == 0)
						jsonld_add(msg, n);
					xmlFree(t);
				}
			} else {
				enter(c, n, k, msg);
				if (n->children) {
					if (++depth > (int)LIMIT_HTML_DEPTH) {
						*reason_r = "limit:html-depth";
						return -ELOOP;
					}
					descend = true;
				} else {
					leave(c, n, k, msg);
				}
			}
		} else if (n->type == XML_TEXT_NODE ||
			   n->type == XML_CDATA_SECTION_NODE) {
			if (n->content)
				text(c, (const char *)n->content,
				     strlen((const char *)n->content));
		} else if (n->type == XML_COMMENT_NODE && !nested) {
			int r = conditional_comment(c, n, msg, reason_r);
			if (r < 0)
				return r;
		}
		if (descend) {
			n = n->children;
			continue;
		}
		while (n != NULL && n->next == NULL) {
			n = n->parent;
			if (n == NULL || n == (xmlNode *)doc) {
				n = NULL;
				break;
			}
			depth--;
			leave(c, n, elem_kind(n), msg);
		}
		if (n != NULL)
			n = n->next;
	}
	return c->err;
}

int html_xml_to_text(const char *html, size_t len, struct buf *out,
		     struct decoded_message *msg, const char **reason_r)
{
	struct conv c = { .out = out };

	if (len == 0)
		return 0;
	htmlDocPtr doc = parse(html, len);
	if (doc == NULL)
		return 0;
	int r = walk_doc(&c, doc, msg, false, reason_r);
	xmlFreeDoc(doc);
	return r;
}
