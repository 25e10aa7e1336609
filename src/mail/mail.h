/* mail.h - decode one raw RFC 5322 message into what the parsers read.
 *
 * mail_decode() turns raw bytes into a struct decoded_message: the outer
 * headers, the ORIGINAL supplier headers recovered from a forward, every
 * text part as valid UTF-8 (HTML converted to text), and the link targets
 * found in HTML and text. It never fails on bad mail: defects are flags. It
 * fails only when a limit from core/limits.h is crossed, and then says which
 * one, so the caller can quarantine the message with that reason.
 *
 * Ownership: the decoded message owns all of its strings; free it with
 * mail_free(). It keeps no pointer into the raw buffer. */
#ifndef TRACKMAIL_MAIL_H
#define TRACKMAIL_MAIL_H

#include <stdbool.h>
#include <stddef.h>

/* Defect flags: recorded, never fatal (after Postfix's mime_state). */
enum mail_defect {
	MAIL_DEFECT_CHARSET = 1 << 0,       /* unknown/lying charset, fell back */
	MAIL_DEFECT_TRUNCATED = 1 << 1,     /* missing final boundary, cut body */
	MAIL_DEFECT_8BIT_HEADER = 1 << 2,   /* raw 8-bit bytes in a header */
	MAIL_DEFECT_BAD_ENCODING = 1 << 3,  /* broken base64/QP, tolerated */
	MAIL_DEFECT_TEXT_CUT = 1 << 4,      /* decoded text cut at the limit */
	MAIL_DEFECT_NO_HEADERS = 1 << 5,    /* no header section at all */
};

struct mail_part {
	char *text;         /* UTF-8, NUL-terminated; HTML already as text */
	size_t len;
	bool from_html;     /* this text came from a text/html part */
	char *content_type; /* "text/plain", "text/html" (lower case) */
	int depth;          /* MIME depth, 0 = top-level body */
};

struct mail_link {
	char *url;          /* href target, entities decoded */
	char *text;         /* the anchor's text (may be ""), UTF-8 */
};

/* A mailbox: display name (RFC 2047 decoded, UTF-8) and address, either
 * may be "" but never NULL. Addresses are lower-cased. */
struct mail_address {
	char *name;
	char *addr;
};

struct decoded_message {
	/* Headers of the message as received (the seller's forward). */
	struct mail_address from;
	char *subject;      /* UTF-8, RFC 2047 decoded, never NULL */
	char *date;         /* raw Date header value or "" */
	char *message_id;   /* without <>, or "" */
	/* Recipient addresses seen in Delivered-To, X-Original-To,
	 * X-Forwarded-To, To and Cc, in that order, lower-cased: the account
	 * lookup reads these. */
	char **recipients;
	size_t n_recipients;

	/* The supplier's original mail. Equal to the outer values when the
	 * message is not a forward. forward_depth counts unwrapped forwards
	 * (inline and message/rfc822); forward_kind names the last one
	 * ("gmail", "outlook", "apple", "thunderbird", "yahoo", "rfc822",
	 * "header" for X-Original-From / Resent-From), or "" */
	struct mail_address orig_from;
	char *orig_subject;
	char *orig_date;
	int forward_depth;
	char *forward_kind;

	/* Text parts in MIME order. Quoted-text prefixes ("> ") are removed
	 * and invisible Unicode marks (zero-width, bidi, soft hyphen) dropped. */
	struct mail_part *parts;
	size_t n_parts;
	/* All part texts joined with "\n\n", UTF-8, NUL-terminated: what the
	 * regex rules run over. */
	char *text;
	size_t text_len;

	struct mail_link *links;
	size_t n_links;

	/* schema.org JSON-LD / microdata blocks found in HTML, raw JSON text
	 * each (for ParcelDelivery markup), or none. */
	char **jsonld;
	size_t n_jsonld;

	unsigned defects;   /* enum mail_defect bits */
	size_t raw_size;

	/* Added after the first contract: file names (UTF-8, RFC 2047 and
	 * RFC 2231 decoded; "" when unnamed) of the parts skipped as
	 * attachments, in MIME order. Bodies are never decoded. */
	char **attachments;
	size_t n_attachments;
};

/* Decodes raw[0..len). raw must be followed by at least 16 readable bytes
 * (util_read_file pads; libetpan's QP decoder over-reads by one).
 * Returns 0 and sets *msg_r, or a negative code and sets *reason_r to a
 * static quarantine reason such as "limit:message-size", "limit:mime-depth",
 * "limit:mime-parts", "limit:header-line", "limit:header-count",
 * "empty-message", "not-a-message" (binary garbage without any header). */
int mail_decode(const char *raw, size_t len, struct decoded_message **msg_r,
		const char **reason_r);

/* Frees *msg and sets it to NULL; accepts NULL and *msg == NULL. */
void mail_free(struct decoded_message **msg);

#endif
