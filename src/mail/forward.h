/* forward.h - find the original sender in an inline forward.
 *
 * Mail clients put the forwarded mail's headers into the body as text:
 * Gmail "---------- Forwarded message ---------", Outlook "From: … Sent: …
 * To: … Subject:" (localized, with or without "-----Original Message-----"),
 * Apple Mail "Begin forwarded message:", Thunderbird "-------- Forwarded
 * Message --------" (a table in HTML), Yahoo "----- Forwarded Message
 * -----". */
#ifndef TRACKMAIL_MAIL_FORWARD_H
#define TRACKMAIL_MAIL_FORWARD_H

#include <stddef.h>

#include "mail/mail.h"

struct forward_block {
	struct mail_address from; /* malloc'ed */
	char *subject;            /* malloc'ed, may be "" */
	char *date;               /* malloc'ed, may be "" */
	const char *kind;         /* static: "gmail", "outlook", ... */
	size_t end;               /* offset just after the header block */
};

/* Looks for the first forward header block in text[start..len). Returns
 * true and fills *fb (free with forward_block_free) when one is found. */
bool forward_find(const char *text, size_t len, size_t start,
		  struct forward_block *fb, unsigned *defects_r);
void forward_block_free(struct forward_block *fb);

/* Returns subject without leading "Fwd:", "FW:", "WG:", "TR:", "RV:",
 * "Re:" ... prefixes (a pointer into subject). */
const char *forward_strip_prefixes(const char *subject);

#endif
