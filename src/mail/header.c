/* header.c - raw header sections, RFC 2047 words, addresses, RFC 2231.
 *
 * Everything here is loose on purpose: a header that breaks the grammar is
 * still read the way a mail client would show it. Limits (line length,
 * field count) come from core/limits.h. */
#include "mail/header.h"

#include <ctype.h>
#include <errno.h>
#include <string.h>
#include <strings.h>

#include "core/limits.h"
#include "core/util.h"
#include "mail/charset.h"

void header_list_free(struct header_list *h)
{
	for (size_t i = 0; i < h->n; i++) {
		free(h->fields[i].name);
		free(h->fields[i].value);
	}
	free(h->fields);
	memset(h, 0, sizeof(*h));
}

static bool is_name_char(unsigned char c)
{
	return c > 32 && c < 127 && c != ':';
}

/* Length of a header name at p (up to ':' with optional blanks before
 * it), or 0 when the line is not a header field. */
static size_t field_name_len(const char *p, size_t len, size_t *colon_r)
{
	size_t i = 0;

	while (i < len && is_name_char((unsigned char)p[i]))
		i++;
	if (i == 0)
		return 0;
	size_t n = i;
	while (i < len && (p[i] == ' ' || p[i] == '\t'))
		i++;
	if (i >= len || p[i] != ':')
		return 0;
	*colon_r = i;
	return n;
}

static void trim_value(struct buf *b)
{
	size_t start = 0, end = b->len;

	while (start < end && isspace((unsigned char)b->data[start]))
		start++;
	while (end > start && isspace((unsigned char)b->data[end - 1]))
		end--;
	memmove(b->data, b->data + start, end - start);
	b->len = end - start;
	b->data[b->len] = '\0';
}

int header_scan(const char *raw, size_t len, struct header_list *h,
		const char **reason_r)
{
	struct buf value;
	size_t pos = 0;
	int r = 0;

	memset(h, 0, sizeof(*h));
	buf_init(&value, LIMIT_HEADER_LINE);
	/* An mbox "From " line is not a header. */
	if (len >= 5 && memcmp(raw, "From ", 5) == 0) {
		const char *nl = memchr(raw, '\n', len);
		pos = nl ? (size_t)(nl - raw) + 1 : len;
	}
	while (pos < len) {
		const char *line = raw + pos;
		const char *nl = memchr(line, '\n', len - pos);
		size_t full = nl ? (size_t)(nl - line) + 1 : len - pos;
		size_t ll = nl ? (size_t)(nl - line) : len - pos;
		if (ll > 0 && line[ll - 1] == '\r')
			ll--;
		if (ll > LIMIT_HEADER_LINE) {
			*reason_r = "limit:header-line";
			r = -EMSGSIZE;
			goto out;
		}
		for (size_t i = 0; i < ll; i++)
			if ((unsigned char)line[i] >= 0x80) {
				h->has_8bit = true;
				break;
			}
		if (ll == 0) {
			pos += full;
			break;
		}
		if ((line[0] == ' ' || line[0] == '\t') && h->n > 0) {
			if (buf_append(&value, line, ll) < 0) {
				*reason_r = "limit:header-line";
				r = -EMSGSIZE;
				goto out;
			}
			pos += full;
			continue;
		}
		size_t colon;
		size_t nlen = field_name_len(line, ll, &colon);
		if (nlen == 0)
			break; /* not a header: the body starts here */
		if (h->n > 0) {
			trim_value(&value);
			h->fields[h->n - 1].value = xstrdup(buf_cstr(&value));
		}
		if (h->n >= LIMIT_HEADER_COUNT) {
			*reason_r = "limit:header-count";
			r = -E2BIG;
			goto out;
		}
		if (h->n == h->cap) {
			h->cap = h->cap ? h->cap * 2 : 32;
			h->fields = xrealloc(h->fields,
					     h->cap * sizeof(*h->fields));
		}
		h->fields[h->n].name = xstrndup(line, nlen);
		h->fields[h->n].value = NULL;
		h->n++;
		buf_reset(&value);
		buf_append(&value, line + colon + 1, ll - colon - 1);
		pos += full;
	}
	if (h->n > 0) {
		trim_value(&value);
		h->fields[h->n - 1].value = xstrdup(buf_cstr(&value));
		h->body_offset = pos;
	}
out:
	if (r < 0 && h->n > 0 && h->fields[h->n - 1].value == NULL)
		h->fields[h->n - 1].value = xstrdup("");
	buf_free(&value);
	return r;
}

const char *header_get(const struct header_list *h, const char *name)
{
	for (size_t i = 0; i < h->n; i++)
		if (strcasecmp(h->fields[i].name, name) == 0)
			return h->fields[i].value;
	return NULL;
}

static int b64_value(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+' || c == '-')
		return 62;
	if (c == '/' || c == '_')
		return 63;
	return -1;
}

static int hex_value(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Decodes the text of one encoded word into raw bytes. */
static void word_decode(char enc, const char *s, size_t n, struct buf *out)
{
	if (enc == 'b' || enc == 'B') {
		unsigned long acc = 0;
		int bits = 0;
		for (size_t i = 0; i < n; i++) {
			int v = b64_value((unsigned char)s[i]);
			if (v < 0)
				continue; /* '=' padding and noise */
			acc = (acc << 6) | (unsigned long)v;
			bits += 6;
			if (bits >= 8) {
				bits -= 8;
				buf_append_char(out,
						(char)((acc >> bits) & 0xff));
			}
		}
		return;
	}
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '_') {
			buf_append_char(out, ' ');
		} else if (s[i] == '=' && i + 2 < n &&
			   hex_value((unsigned char)s[i + 1]) >= 0 &&
			   hex_value((unsigned char)s[i + 2]) >= 0) {
			buf_append_char(out,
				(char)(hex_value((unsigned char)s[i + 1]) * 16 +
				       hex_value((unsigned char)s[i + 2])));
			i += 2;
		} else {
			buf_append_char(out, s[i]);
		}
	}
}

/* Recognizes "=?charset?X?text?=" at p. Fills the pieces, returns the
 * length of the word or 0. */
static size_t encoded_word(const char *p, const char **cs, size_t *cs_len,
			   char *enc, const char **txt, size_t *txt_len)
{
	if (p[0] != '=' || p[1] != '?')
		return 0;
	const char *c = p + 2;
	const char *q = c;
	while (*q && *q != '?' && !isspace((unsigned char)*q))
		q++;
	if (*q != '?' || q == c)
		return 0;
	if (!(q[1] == 'b' || q[1] == 'B' || q[1] == 'q' || q[1] == 'Q') ||
	    q[2] != '?')
		return 0;
	const char *t = q + 3;
	const char *e = t;
	while (*e && !(e[0] == '?' && e[1] == '=') &&
	       !isspace((unsigned char)*e))
		e++;
	if (e[0] != '?' || e[1] != '=')
		return 0;
	*cs = c;
	*cs_len = (size_t)(q - c);
	/* RFC 2231 language suffix: "utf-8*en". */
	const char *star = memchr(c, '*', *cs_len);
	if (star)
		*cs_len = (size_t)(star - c);
	*enc = q[1];
	*txt = t;
	*txt_len = (size_t)(e - t);
	return (size_t)(e + 2 - p);
}

static void flush_words(struct buf *pend, const char *cs, struct buf *out,
			unsigned *defects_r)
{
	if (pend->len == 0)
		return;
	charset_to_utf8(cs, pend->data, pend->len, out, defects_r);
	buf_reset(pend);
}

void header_decode_text(const char *value, struct buf *out,
			unsigned *defects_r)
{
	struct buf pend;
	char pend_cs[64] = "";
	const char *p = value;
	const char *run = p;
	bool after_word = false;
	unsigned dummy = 0;

	buf_init(&pend, LIMIT_HEADER_LINE);
	while (*p) {
		const char *cs, *txt;
		size_t cs_len, txt_len;
		char enc;
		size_t wl = encoded_word(p, &cs, &cs_len, &enc, &txt,
					 &txt_len);
		if (wl == 0) {
			p++;
			continue;
		}
		/* Plain text before this word; blanks between two words
		 * are dropped (RFC 2047 6.2). */
		bool blank = true;
		for (const char *s = run; s < p; s++)
			if (!isspace((unsigned char)*s))
				blank = false;
		char csname[64];
		size_t cn = cs_len < sizeof(csname) - 1 ? cs_len
							: sizeof(csname) - 1;
		memcpy(csname, cs, cn);
		csname[cn] = '\0';
		if (!(after_word && blank) || strcasecmp(csname, pend_cs)) {
			flush_words(&pend, pend_cs, out, defects_r);
			if (!(after_word && blank))
				charset_to_utf8(NULL, run, (size_t)(p - run),
						out, &dummy);
		}
		memcpy(pend_cs, csname, cn + 1);
		word_decode(enc, txt, txt_len, &pend);
		p += wl;
		run = p;
		after_word = true;
	}
	flush_words(&pend, pend_cs, out, defects_r);
	charset_to_utf8(NULL, run, (size_t)(p - run), out, &dummy);
	buf_free(&pend);
}

/* Control characters (a decoded "=0A") become spaces; runs of blanks
 * collapse; ends trimmed. In place. */
static void tidy(char *s)
{
	size_t j = 0;
	bool space = true;

	for (size_t i = 0; s[i]; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c < 0x20 || c == 0x7f || c == ' ') {
			if (!space)
				s[j++] = ' ';
			space = true;
			continue;
		}
		s[j++] = (char)c;
		space = false;
	}
	while (j > 0 && s[j - 1] == ' ')
		j--;
	s[j] = '\0';
}

char *header_decode_dup(const char *value, unsigned *defects_r)
{
	struct buf b;

	buf_init(&b, LIMIT_HEADER_LINE * 4);
	header_decode_text(value ? value : "", &b, defects_r);
	char *s = buf_steal(&b);
	tidy(s);
	return s;
}

/* End of the list element starting at s: a ',' or ';' outside quotes,
 * angle brackets and comments. */
static const char *element_end(const char *s)
{
	bool quoted = false;
	int angle = 0, paren = 0;

	for (; *s; s++) {
		if (quoted) {
			if (*s == '\\' && s[1])
				s++;
			else if (*s == '"')
				quoted = false;
			continue;
		}
		switch (*s) {
		case '"':
			quoted = true;
			break;
		case '<':
			angle++;
			break;
		case '>':
			if (angle > 0)
				angle--;
			break;
		case '(':
			paren++;
			break;
		case ')':
			if (paren > 0)
				paren--;
			break;
		case ',':
		case ';':
			if (angle == 0 && paren == 0)
				return s;
			break;
		default:
			break;
		}
	}
	return s;
}

static char *clean_addr(const char *s, size_t n)
{
	while (n > 0 && (isspace((unsigned char)*s) || *s == '"' ||
			 *s == '\'' || *s == '<'))
		s++, n--;
	while (n > 0 && (isspace((unsigned char)s[n - 1]) ||
			 s[n - 1] == '"' || s[n - 1] == '\'' ||
			 s[n - 1] == '>' || s[n - 1] == '.'))
		n--;
	if (n >= 7 && strncasecmp(s, "mailto:", 7) == 0)
		s += 7, n -= 7;
	/* Raw 8-bit bytes in an address: valid UTF-8 all the same. */
	struct buf b;
	unsigned dummy = 0;
	buf_init(&b, LIMIT_HEADER_LINE * 4);
	charset_to_utf8(NULL, s, n, &b, &dummy);
	char *a = buf_steal(&b);
	for (char *p = a; *p; p++)
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p + 32);
	return a;
}

static char *clean_name(const char *s, size_t n, unsigned *defects_r)
{
	while (n > 0 && (isspace((unsigned char)*s) || *s == '*'))
		s++, n--;
	while (n > 0 && (isspace((unsigned char)s[n - 1]) || s[n - 1] == '*'))
		n--;
	/* One pair of quotes or parentheses around the whole name. */
	if (n >= 2 && ((s[0] == '"' && s[n - 1] == '"') ||
		       (s[0] == '\'' && s[n - 1] == '\'') ||
		       (s[0] == '(' && s[n - 1] == ')')))
		s++, n -= 2;
	char *raw = xmalloc(n + 1);
	size_t j = 0;
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '\\' && i + 1 < n)
			i++;
		raw[j++] = s[i];
	}
	raw[j] = '\0';
	char *name = header_decode_dup(raw, defects_r);
	free(raw);
	return name;
}

/* Parses one list element s[0..n). */
static void parse_one(const char *s, size_t n, struct mail_address *a,
		      unsigned *defects_r)
{
	char *tmp = xstrndup(s, n);
	const char *lt = NULL, *gt = NULL;
	bool quoted = false;

	for (const char *p = tmp; *p; p++) {
		if (*p == '"' && (p == tmp || p[-1] != '\\'))
			quoted = !quoted;
		else if (!quoted && *p == '<' && !lt)
			lt = p;
		else if (!quoted && *p == '>' && lt && !gt)
			gt = p;
	}
	const char *mt = util_memcasemem(tmp, strlen(tmp), "[mailto:");
	if (lt && gt && memchr(lt, '@', (size_t)(gt - lt))) {
		a->addr = clean_addr(lt + 1, (size_t)(gt - lt - 1));
		a->name = clean_name(tmp, (size_t)(lt - tmp), defects_r);
		if (a->name[0] == '\0') {
			free(a->name);
			a->name = clean_name(gt + 1, strlen(gt + 1),
					     defects_r);
		}
	} else if (mt && strchr(mt, ']')) {
		const char *end = strchr(mt, ']');
		a->addr = clean_addr(mt + 8, (size_t)(end - mt - 8));
		a->name = clean_name(tmp, (size_t)(mt - tmp), defects_r);
	} else {
		const char *at = strchr(tmp, '@');
		if (at) {
			const char *b = at, *e = at;
			while (b > tmp && !strchr(" \t\"<>(),;:[]", b[-1]))
				b--;
			while (*e && !strchr(" \t\"<>(),;:[]", *e))
				e++;
			a->addr = clean_addr(b, (size_t)(e - b));
			/* Name: a (comment), else what is left. */
			const char *lp = strchr(e, '(');
			const char *rp = lp ? strchr(lp, ')') : NULL;
			if (lp && rp)
				a->name = clean_name(lp, (size_t)(rp - lp + 1),
						     defects_r);
			else
				a->name = clean_name(tmp, (size_t)(b - tmp),
						     defects_r);
		} else {
			a->addr = xstrdup("");
			a->name = clean_name(tmp, strlen(tmp), defects_r);
		}
	}
	free(tmp);
}

void header_parse_mailbox(const char *value, struct mail_address *a,
			  unsigned *defects_r)
{
	const char *s = value ? value : "";
	const char *e = element_end(s);

	/* A group "name: a@b;" or an element without '@': take the first
	 * element that holds an address, else the first one. */
	for (const char *p = s; *p;) {
		const char *pe = element_end(p);
		if (memchr(p, '@', (size_t)(pe - p))) {
			s = p;
			e = pe;
			break;
		}
		p = *pe ? pe + 1 : pe;
	}
	parse_one(s, (size_t)(e - s), a, defects_r);
}

void header_parse_addr_list(const char *value, char ***list, size_t *n,
			    size_t max)
{
	const char *p = value ? value : "";

	while (*p && *n < max) {
		const char *e = element_end(p);
		if (memchr(p, '@', (size_t)(e - p))) {
			struct mail_address a;
			unsigned d = 0;
			parse_one(p, (size_t)(e - p), &a, &d);
			if (a.addr[0] != '\0') {
				*list = xrealloc(*list,
						 (*n + 1) * sizeof(**list));
				(*list)[(*n)++] = a.addr;
			} else {
				free(a.addr);
			}
			free(a.name);
		}
		p = *e ? e + 1 : e;
	}
}

/* RFC 2231: percent-decodes s[0..n) into out. */
static void pct_decode(const char *s, size_t n, struct buf *out)
{
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '%' && i + 2 < n &&
		    hex_value((unsigned char)s[i + 1]) >= 0 &&
		    hex_value((unsigned char)s[i + 2]) >= 0) {
			buf_append_char(out,
				(char)(hex_value((unsigned char)s[i + 1]) * 16 +
				       hex_value((unsigned char)s[i + 2])));
			i += 2;
		} else {
			buf_append_char(out, s[i]);
		}
	}
}

#define PARAM_SEGMENTS 64

struct param_seg {
	char *value;
	bool extended;
};

/* Reads one parameter value (quoted string or token) at *pp. */
static char *param_value(const char **pp)
{
	const char *p = *pp;
	struct buf b;

	buf_init(&b, LIMIT_HEADER_LINE);
	while (*p == ' ' || *p == '\t')
		p++;
	if (*p == '"') {
		p++;
		while (*p && *p != '"') {
			if (*p == '\\' && p[1])
				p++;
			buf_append_char(&b, *p++);
		}
		if (*p == '"')
			p++;
	} else {
		while (*p && *p != ';' && *p != ' ' && *p != '\t')
			buf_append_char(&b, *p++);
	}
	*pp = p;
	return buf_steal(&b);
}

char *header_param(const char *value, const char *name, unsigned *defects_r)
{
	struct param_seg segs[PARAM_SEGMENTS] = { 0 };
	char *plain = NULL, *ext = NULL;
	size_t nlen = strlen(name);
	const char *p = value ? strchr(value, ';') : NULL;
	char *result = NULL;

	while (p && *p) {
		p++;
		while (*p == ' ' || *p == '\t' || *p == ';')
			p++;
		const char *pn = p;
		while (*p && *p != '=' && *p != ';')
			p++;
		if (*p != '=')
			continue;
		const char *pe = p;
		while (pe > pn && (pe[-1] == ' ' || pe[-1] == '\t'))
			pe--;
		p++;
		char *v = param_value(&p);
		size_t len = (size_t)(pe - pn);
		if (len < nlen || strncasecmp(pn, name, nlen) != 0) {
			free(v);
		} else if (len == nlen) {
			free(plain);
			plain = v;
		} else if (len == nlen + 1 && pn[nlen] == '*') {
			free(ext);
			ext = v;
		} else if (pn[nlen] == '*' &&
			   isdigit((unsigned char)pn[nlen + 1])) {
			unsigned idx = 0;
			size_t i = nlen + 1;
			while (i < len && isdigit((unsigned char)pn[i]) &&
			       idx < PARAM_SEGMENTS)
				idx = idx * 10 + (unsigned)(pn[i++] - '0');
			bool x = i < len && pn[i] == '*';
			if (idx < PARAM_SEGMENTS && segs[idx].value == NULL) {
				segs[idx].value = v;
				segs[idx].extended = x;
			} else {
				free(v);
			}
		} else {
			free(v);
		}
		while (*p && *p != ';')
			p++;
	}
	struct buf bytes, out;
	char cs[64] = "";
	buf_init(&bytes, LIMIT_HEADER_LINE);
	buf_init(&out, LIMIT_HEADER_LINE * 4);
	if (segs[0].value || ext) {
		for (size_t i = 0; i < PARAM_SEGMENTS; i++) {
			bool only_ext = i == 0 && !segs[0].value;
			const char *v = only_ext ? ext : segs[i].value;
			bool x = only_ext ? true : segs[i].extended;
			if (v == NULL)
				break;
			if (x && i == 0) {
				/* charset'language'text */
				const char *q1 = strchr(v, '\'');
				const char *q2 =
					q1 ? strchr(q1 + 1, '\'') : NULL;
				if (q1 && q2) {
					size_t cl = (size_t)(q1 - v);
					if (cl >= sizeof(cs))
						cl = sizeof(cs) - 1;
					memcpy(cs, v, cl);
					cs[cl] = '\0';
					v = q2 + 1;
				}
			}
			if (x)
				pct_decode(v, strlen(v), &bytes);
			else
				buf_append_str(&bytes, v);
			if (i == 0 && !segs[0].value)
				break;
		}
		charset_to_utf8(cs[0] ? cs : NULL, bytes.data ? bytes.data : "",
				bytes.len, &out, defects_r);
		result = buf_steal(&out);
	} else if (plain) {
		result = header_decode_dup(plain, defects_r);
	}
	buf_free(&bytes);
	buf_free(&out);
	for (size_t i = 0; i < PARAM_SEGMENTS; i++)
		free(segs[i].value);
	free(plain);
	free(ext);
	return result;
}
