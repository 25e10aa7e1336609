/* imap.h - what the IMAP poller (imap.c) offers besides intake_imap_run
 * (intake.h): a single pass for `trackmail imap-poll --once` and the
 * certificate check, exposed for its test. */
#ifndef TRACKMAIL_IMAP_H
#define TRACKMAIL_IMAP_H

#include <libetpan/libetpan.h>
#include <stddef.h>

struct config;

/* One pass over every configured mailbox: connect, take new mail, copy
 * quarantined mail, log out. Returns the number of mailboxes that
 * failed (each logged). */
int imap_poll_once(const struct config *cfg);

/* Verifies a DER chain (carray of MMAPString*, leaf first) for host with
 * GnuTLS against ca_file (PEM), or the system's CAs when ca_file is NULL
 * or "". 0, or <0 with err set. */
int imap_verify_chain(carray *chain, const char *host, const char *ca_file,
		      char *err, size_t len);

#endif
