/* charset.h - any declared charset to valid UTF-8 (glibc iconv).
 *
 * Conversion never fails on bad input: unknown charsets are read as
 * windows-1252, bytes that are invalid in the declared charset become the
 * windows-1252 character (for utf-8/us-ascii, which mail lies about most)
 * or U+FFFD, and *defects_r gets MAIL_DEFECT_CHARSET. The output is always
 * valid UTF-8. */
#ifndef TRACKMAIL_MAIL_CHARSET_H
#define TRACKMAIL_MAIL_CHARSET_H

#include <stdbool.h>
#include <stddef.h>

#include "core/buf.h"

/* Appends in[0..len) converted from charset (NULL or "" = unknown: UTF-8
 * when valid, else windows-1252) to out. Returns 0, or -E2BIG when out hit
 * its max (what fit is kept, cut at a character boundary). */
int charset_to_utf8(const char *charset, const char *in, size_t len,
		    struct buf *out, unsigned *defects_r);

/* Length of the valid UTF-8 sequence at s[0..len), or 0 if invalid
 * (overlongs, surrogates and code points over U+10FFFF are invalid). */
size_t charset_utf8_seq(const unsigned char *s, size_t len);

/* True when s[0..len) is valid UTF-8. */
bool charset_utf8_valid(const char *s, size_t len);

/* Appends the UTF-8 encoding of code point cp (U+FFFD if invalid). */
int charset_put_utf8(struct buf *out, unsigned long cp);

#endif
