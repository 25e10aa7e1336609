/* dkim.h - DKIM verification of the original message (libopendkim).
 *
 * Gmail's automatic forwarding keeps the supplier's message and its
 * DKIM-Signature intact, so the signature still verifies when the mail
 * reaches trackmail. A signature "for the supplier's domain" is one whose
 * d= is the author's (From:) domain or a parent of it (relaxed
 * alignment, as DMARC does). docs/mail.md "DKIM". */
#ifndef TRACKMAIL_DKIM_H
#define TRACKMAIL_DKIM_H

#include <stddef.h>

enum dkim_outcome {
	DKIM_NONE,      /* no DKIM-Signature header */
	DKIM_UNALIGNED, /* signatures, none for the author's domain */
	DKIM_PASS,      /* an aligned signature verified */
	DKIM_FAIL,      /* an aligned signature did not (body or headers
			 * changed, or signed with another key) */
	DKIM_TEMPERROR, /* the key could not be fetched now */
	DKIM_PERMERROR, /* no key, a broken signature or key */
};

struct dkim_verdict {
	enum dkim_outcome outcome;
	char domain[256]; /* d= of the signature the outcome is about */
	char detail[160]; /* libopendkim's reason, for a fail or error */
};

/* "none", "unaligned", "pass", "fail", "temperror", "permerror". */
const char *dkim_outcome_name(enum dkim_outcome outcome);

/* Verifies the DKIM signatures of raw[0..len). author_domain is the
 * domain of the original From: (lower case; may be NULL or "": then no
 * signature is aligned). query_file: NULL or "" looks keys up in DNS,
 * else a file of "selector._domainkey.domain<space>TXT value" lines
 * (libopendkim's DKIM_QUERY_FILE, for tests and offline use). Returns 0
 * and fills out; <0 only when libopendkim cannot start. */
int dkim_check(const char *raw, size_t len, const char *author_domain,
	       const char *query_file, struct dkim_verdict *out);

#endif
