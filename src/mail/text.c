/* text.c - text cleanup and link collection shared by plain and HTML
 * parts. All input is valid UTF-8 (charset.c made it so) and every change
 * here removes or replaces whole characters, so the output stays valid. */
#include "mail/text.h"

#include <ctype.h>
#include <errno.h>
#include <string.h>
#include <strings.h>

#include "core/limits.h"
#include "core/util.h"

/* Length of an invisible mark at p (to drop), or 0. */
static size_t invisible_len(const unsigned char *p, size_t n)
{
	if (n >= 2 && p[0] == 0xc2 && p[1] == 0xad)
		return 2; /* soft hyphen */
	if (n < 3)
		return 0;
	if (p[0] == 0xe2 && p[1] == 0x80 &&
	    ((p[2] >= 0x8b && p[2] <= 0x8f) || (p[2] >= 0xaa && p[2] <= 0xae)))
		return 3; /* U+200B-U+200F, U+202A-U+202E */
	if (p[0] == 0xe2 && p[1] == 0x81 && p[2] >= 0xa0 && p[2] <= 0xa9)
		return 3; /* U+2060-U+2069 */
	if (p[0] == 0xef && p[1] == 0xbb && p[2] == 0xbf)
		return 3; /* U+FEFF */
	return 0;
}

/* Length of a space-like character at p (to turn into ' '), or 0. */
static size_t nbsp_len(const unsigned char *p, size_t n)
{
	if (n >= 2 && p[0] == 0xc2 && p[1] == 0xa0)
		return 2;
	if (n >= 3 && p[0] == 0xe2 && p[1] == 0x80 &&
	    (p[2] == 0xaf || p[2] == 0x87 || (p[2] >= 0x80 && p[2] <= 0x8a)))
		return 3; /* U+202F, U+2007, U+2000-U+200A */
	return 0;
}

/* Bytes that end a run of ordinary text in text_clean(): controls, DEL
 * and the lead bytes of the invisible marks and no-break spaces it
 * rewrites (0xc2, 0xe2, 0xef). One lookup per byte. */
#define STOP4(c) [c] = 1, [c + 1] = 1, [c + 2] = 1, [c + 3] = 1
static const unsigned char run_stop[256] = {
	STOP4(0x00), STOP4(0x04), STOP4(0x08), STOP4(0x0c),
	STOP4(0x10), STOP4(0x14), STOP4(0x18), STOP4(0x1c),
	[0x7f] = 1, [0xc2] = 1, [0xe2] = 1, [0xef] = 1,
};
#undef STOP4

int text_clean(const char *in, size_t len, struct buf *out)
{
	const unsigned char *p = (const unsigned char *)in;
	size_t start = out->len;
	size_t i = 0;
	size_t line_start = out->len; /* where the current line begins */
	int blank_lines = 0;
	int r = 0;

	while (i < len && r == 0) {
		/* At the start of a line: quote prefixes. */
		if (out->len == line_start) {
			while (i < len && p[i] == '>') {
				i++;
				if (i < len && p[i] == ' ')
					i++;
			}
		}
		if (i >= len)
			break;
		unsigned char c = p[i];
		size_t n;
		if (c == '\r' || c == '\n') {
			bool crlf = c == '\r' && i + 1 < len &&
				    p[i + 1] == '\n';
			i += crlf ? 2 : 1;
			/* Trim trailing blanks of the line. */
			while (out->len > line_start &&
			       (out->data[out->len - 1] == ' ' ||
				out->data[out->len - 1] == '\t'))
				out->len--;
			if (out->len == line_start)
				blank_lines++;
			else
				blank_lines = 0;
			if (out->len > start && blank_lines < 2)
				r = buf_append_char(out, '\n');
			line_start = out->len;
			continue;
		}
		if ((n = invisible_len(p + i, len - i)) > 0) {
			i += n;
			continue;
		}
		if ((n = nbsp_len(p + i, len - i)) > 0) {
			i += n;
			r = buf_append_char(out, ' ');
			continue;
		}
		if (c < 0x20 && c != '\t') {
			i++;
			if (c != 0)
				r = buf_append_char(out, ' ');
			continue;
		}
		if (c == 0x7f) {
			i++;
			continue;
		}
		/* A run of ordinary bytes. */
		size_t j = i + 1;
		while (j < len && !run_stop[p[j]])
			j++;
		r = buf_append(out, in + i, j - i);
		if (r < 0) {
			/* Cut at a character boundary. */
			size_t room = out->max - out->len;
			while (room > 0 &&
			       ((unsigned char)in[i + room] & 0xc0) == 0x80)
				room--;
			buf_append(out, in + i, room);
		}
		i = j;
	}
	/* Trim trailing whitespace of the part. */
	while (out->len > start &&
	       (out->data[out->len - 1] == '\n' ||
		out->data[out->len - 1] == ' ' ||
		out->data[out->len - 1] == '\t'))
		out->len--;
	if (out->data)
		out->data[out->len] = '\0';
	return r < 0 ? -E2BIG : 0;
}

/* Copies s[0..n) collapsing whitespace, trimmed. */
static char *collapse(const char *s, size_t n)
{
	char *o = xmalloc(n + 1);
	size_t j = 0;
	bool sp = true;

	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (isspace(c) || c < 0x20) {
			if (!sp)
				o[j++] = ' ';
			sp = true;
			continue;
		}
		o[j++] = (char)c;
		sp = false;
	}
	while (j > 0 && o[j - 1] == ' ')
		j--;
	o[j] = '\0';
	return o;
}

void text_link_add(struct decoded_message *msg, const char *url,
		   size_t url_len, const char *text, size_t text_len)
{
	if (msg->n_links >= LIMIT_LINKS || url_len > LIMIT_URL_LENGTH)
		return;
	char *u = collapse(url, url_len);
	if (u[0] == '\0' || u[0] == '#') {
		free(u);
		return;
	}
	/* Whitespace inside a URL is an artefact of wrapping. */
	size_t j = 0;
	for (size_t i = 0; u[i]; i++)
		if (u[i] != ' ')
			u[j++] = u[i];
	u[j] = '\0';
	struct buf clean;
	buf_init(&clean, text_len + 1);
	text_clean(text, text_len, &clean);
	char *t = collapse(buf_cstr(&clean), clean.len);
	buf_free(&clean);
	for (size_t i = 0; i < msg->n_links; i++) {
		if (strcmp(msg->links[i].url, u) == 0 &&
		    strcmp(msg->links[i].text, t) == 0) {
			free(u);
			free(t);
			return;
		}
	}
	msg->links = xrealloc(msg->links,
			      (msg->n_links + 1) * sizeof(*msg->links));
	msg->links[msg->n_links].url = u;
	msg->links[msg->n_links].text = t;
	msg->n_links++;
}

void text_find_urls(struct decoded_message *msg, const char *s, size_t len)
{
	size_t i = 0;

	while (i + 8 <= len) {
		const char *h = util_memcasemem(s + i, len - i, "http");
		if (h == NULL)
			break;
		size_t k = (size_t)(h - s);
		size_t scheme = 0;
		if (k + 8 <= len && strncasecmp(h, "https://", 8) == 0)
			scheme = 8;
		else if (k + 7 <= len && strncasecmp(h, "http://", 7) == 0)
			scheme = 7;
		if (scheme == 0 ||
		    (k > 0 && isalnum((unsigned char)s[k - 1]))) {
			i = k + 4;
			continue;
		}
		size_t e = k + scheme;
		while (e < len && !isspace((unsigned char)s[e]) &&
		       !strchr("<>\"'`()[]{}|\\^", s[e]) &&
		       (unsigned char)s[e] >= 0x20)
			e++;
		while (e > k + scheme && strchr(".,;:!?*", s[e - 1]))
			e--;
		if (e > k + scheme)
			text_link_add(msg, h, e - k, "", 0);
		i = e > k ? e : k + 1;
	}
}
