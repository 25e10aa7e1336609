/* header.h - RFC 5322 header sections: scan, RFC 2047, addresses, RFC 2231.
 *
 * libetpan parses headers too, but keeps no raw Date value, fails whole
 * fields on 8-bit bytes and does not decode RFC 2231 in 1.9.4; this module
 * reads the raw header section itself, loosely, the way mail clients do. */
#ifndef TRACKMAIL_MAIL_HEADER_H
#define TRACKMAIL_MAIL_HEADER_H

#include <stdbool.h>
#include <stddef.h>

#include "core/buf.h"
#include "mail/mail.h"

struct header_field {
	char *name;   /* as written, NUL-terminated */
	char *value;  /* unfolded raw value, leading/trailing space trimmed */
};

struct header_list {
	struct header_field *fields;
	size_t n;
	size_t cap;
	size_t body_offset; /* where the body starts in the scanned bytes */
	bool has_8bit;      /* raw bytes >= 0x80 in a header */
};

/* Scans the header section of raw[0..len). Returns 0, or a negative code
 * with *reason_r set to "limit:header-line" / "limit:header-count". A
 * message without a header section gives n == 0 and body_offset 0. */
int header_scan(const char *raw, size_t len, struct header_list *h,
		const char **reason_r);
void header_list_free(struct header_list *h);

/* First value of the named field (case-insensitive), or NULL. */
const char *header_get(const struct header_list *h, const char *name);

/* Decodes RFC 2047 encoded words in value; raw 8-bit bytes are read as
 * UTF-8, else windows-1252. Appends UTF-8 to out. */
void header_decode_text(const char *value, struct buf *out,
			unsigned *defects_r);
/* Same, returning a malloc'ed string. */
char *header_decode_dup(const char *value, unsigned *defects_r);

/* Parses the first mailbox of a From-like value ("Name <a@b>",
 * "a@b (Name)", "Name [mailto:a@b]", "a@b"). name and addr are malloc'ed
 * (never NULL, may be ""); addr lower-cased. */
void header_parse_mailbox(const char *value, struct mail_address *a,
			  unsigned *defects_r);

/* Appends every address of an address-list value to *list (lower-cased,
 * malloc'ed), up to max entries in total. */
void header_parse_addr_list(const char *value, char ***list, size_t *n,
			    size_t max);

/* Reads parameter `name` of a structured value such as a Content-Type or
 * Content-Disposition ("attachment; filename*=UTF-8''%E2%82%AC.pdf"),
 * handling RFC 2231 continuations and charsets and RFC 2047 words inside
 * quotes. Returns a malloc'ed UTF-8 string, or NULL when absent. */
char *header_param(const char *value, const char *name, unsigned *defects_r);

#endif
