/* prescan.h - nesting check on raw bytes before libetpan sees them.
 *
 * libetpan 1.9.4 recurses without a limit and is quadratic in multipart
 * nesting (LIBRARIES.md 2.6). This scan estimates the MIME depth from the
 * raw text alone: every multipart Content-Type pushes its boundary, a
 * boundary line pops what it encloses, and message/rfc822 counts one
 * level. It also counts container headers. Cheap (one pass, no
 * allocation beyond a small stack) and conservative. */
#ifndef TRACKMAIL_MAIL_PRESCAN_H
#define TRACKMAIL_MAIL_PRESCAN_H

#include <stddef.h>

#include "core/buf.h"

/* Returns 0 when raw[0..len) may be parsed with at most max_depth levels
 * of nesting, or a negative code with *reason_r set to "limit:mime-depth"
 * or "limit:mime-parts".
 *
 * When fix is not NULL and multiparts are left open at the end (a cut
 * message, a missing final boundary), fix gets the bytes that close them
 * and *keep_r how many bytes of raw to keep before them: libetpan 1.9.4
 * returns NO parts at all for a multipart whose body ends with a
 * delimiter line ("--B" without "--B--"). Otherwise fix stays empty and
 * *keep_r = len. */
int prescan_check(const char *raw, size_t len, unsigned max_depth,
		  struct buf *fix, size_t *keep_r, const char **reason_r);

#endif
