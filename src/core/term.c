/* term.c - escaping mail-derived text for the terminal; see term.h.
 *
 * A small UTF-8 decoder: valid sequences are copied unless the code point
 * is a control or a bidi control; overlong forms, surrogates and stray
 * bytes are escaped byte by byte. */
#include "core/term.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"


static bool dangerous(uint32_t cp)
{
	return cp < 0x20 || cp == 0x7f || (cp >= 0x80 && cp <= 0x9f) ||
	       (cp >= 0x202a && cp <= 0x202e) ||
	       (cp >= 0x2066 && cp <= 0x2069) || cp == 0x200e ||
	       cp == 0x200f || cp == 0x061c;
}

/* Length of the valid UTF-8 sequence at s (1..4) and its code point, or 0
 * when s does not start one. */
static size_t utf8_decode(const unsigned char *s, uint32_t *cp)
{
	unsigned char c = s[0];
	size_t n;
	uint32_t v, min;
	if (c < 0x80) {
		*cp = c;
		return 1;
	} else if (c >= 0xc2 && c <= 0xdf) {
		n = 2, v = c & 0x1f, min = 0x80;
	} else if (c >= 0xe0 && c <= 0xef) {
		n = 3, v = c & 0x0f, min = 0x800;
	} else if (c >= 0xf0 && c <= 0xf4) {
		n = 4, v = c & 0x07, min = 0x10000;
	} else {
		return 0;
	}
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0; /* also stops at the NUL */
		v = (v << 6) | (s[i] & 0x3f);
	}
	if (v < min || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff))
		return 0;
	*cp = v;
	return n;
}

void term_escape(struct buf *b, const char *str)
{
	const unsigned char *s = (const unsigned char *)str;
	while (s && *s) {
		uint32_t cp;
		size_t n = utf8_decode(s, &cp);
		if (n == 0) {
			buf_printf(b, "\\x%02x", *s);
			s++;
		} else if (cp == '\\') {
			buf_append_str(b, "\\\\");
			s++;
		} else if (dangerous(cp)) {
			if (cp < 0x80)
				buf_printf(b, "\\x%02x", (unsigned)cp);
			else
				buf_printf(b, "\\u%04x", (unsigned)cp);
			s += n;
		} else {
			buf_append(b, s, n);
			s += n;
		}
	}
}

char *term_safe(const char *s)
{
	struct buf b;
	buf_init(&b, (size_t)-1);
	term_escape(&b, s);
	return buf_steal(&b);
}

void term_print_line(const char *prefix, const char *text)
{
	struct buf b;
	buf_init(&b, (size_t)-1);
	buf_append_str(&b, prefix);
	const char *s = text ? text : "";
	while (*s) {
		const char *nl = strchr(s, '\n');
		size_t n = nl ? (size_t)(nl - s) : strlen(s);
		char *line = xstrndup(s, n);
		term_escape(&b, line);
		free(line);
		s += n;
		if (*s == '\n') {
			buf_append_char(&b, '\n');
			s++;
		}
	}
	if (b.len == 0 || buf_cstr(&b)[b.len - 1] != '\n')
		buf_append_char(&b, '\n');
	fputs(buf_cstr(&b), stdout);
	buf_free(&b);
}
