/* text.h - clean decoded text and collect links for the parsers. */
#ifndef TRACKMAIL_MAIL_TEXT_H
#define TRACKMAIL_MAIL_TEXT_H

#include <stddef.h>

#include "core/buf.h"
#include "mail/mail.h"

/* Appends a cleaned copy of in[0..len) (valid UTF-8) to out: line ends to
 * "\n", quoted-text prefixes ("> ", ">>") removed, invisible marks (U+00AD,
 * U+200B-U+200F, U+202A-U+202E, U+2060-U+2069, U+FEFF) dropped, no-break
 * spaces to spaces, control characters to spaces, trailing blanks and runs
 * of blank lines trimmed. Returns 0 or -E2BIG (out full; cut cleanly). */
int text_clean(const char *in, size_t len, struct buf *out);

/* Adds a link (url and anchor text are trimmed and whitespace-collapsed;
 * empty or over-long urls, duplicates and links past LIMIT_LINKS are
 * ignored). */
void text_link_add(struct decoded_message *msg, const char *url,
		   size_t url_len, const char *text, size_t text_len);

/* Adds every http(s):// URL found in plain text s[0..len). */
void text_find_urls(struct decoded_message *msg, const char *s, size_t len);

#endif
