/* term.h - text from mail (subjects, addresses, file names) made safe to
 * print on a terminal.
 *
 * A Subject can carry C0 controls, DEL, C1 controls (U+0080..U+009F: U+009B
 * is CSI, an escape sequence in one character on many terminals), bidi
 * controls that reorder what the reader sees (U+202A..U+202E,
 * U+2066..U+2069, U+200E/U+200F, U+061C) and bytes that are not UTF-8.
 * Each becomes visible text: \xNN for bytes, \uXXXX for code points, a
 * backslash as \\. Every other character is kept as it is. */
#ifndef TRACKMAIL_TERM_H
#define TRACKMAIL_TERM_H

#include "core/buf.h"

/* Appends s, escaped, to b. NULL appends nothing. */
void term_escape(struct buf *b, const char *s);
/* s escaped, malloc'ed (never NULL; "" for NULL). */
char *term_safe(const char *s);
/* Prints prefix as it is, then text escaped line by line (its newlines
 * kept), then a newline unless text ends with one, to stdout. */
void term_print_line(const char *prefix, const char *text);

#endif
