/* html.h - HTML part to plain text: a one-pass streaming converter
 * (html.c, docs/mail.md). */
#ifndef TRACKMAIL_MAIL_HTML_H
#define TRACKMAIL_MAIL_HTML_H

#include <stddef.h>

#include "core/buf.h"
#include "mail/mail.h"

/* Converts html[0..len) (valid UTF-8; any <meta charset> is ignored) to
 * text appended to out: block elements end lines, table cells are
 * separated by spaces, entities are decoded, script/style/head/title are
 * dropped (hidden preheaders are kept: no CSS is applied). Links (<a href>,
 * <area href>) go to msg->links with their anchor text, and
 * application/ld+json scripts to msg->jsonld. Returns 0, -E2BIG when out is
 * full (text cut), or -ELOOP with *reason_r = "limit:html-depth" when more
 * than LIMIT_HTML_DEPTH elements are open at once. */
int html_to_text(const char *html, size_t len, struct buf *out,
		 struct decoded_message *msg, const char **reason_r);

/* Finds a charset declared in <meta> within the first KiB of html, copies
 * it to name (NUL-terminated); returns false when there is none. */
bool html_sniff_charset(const char *html, size_t len, char *name,
			size_t size);

#endif
