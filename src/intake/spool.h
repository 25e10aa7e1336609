/* spool.h - the durable spool: <data-dir>/spool, a Maildir (issue 9).
 *
 * Interface shared by the intake processes (SMTP/LMTP, IMAP) that write it
 * and the workers that take from it (DESIGN.md "Processes": the spool and
 * the database are the only interfaces between processes).
 *
 * A message is durable when spool_submit's callback (or spool_deliver)
 * reports 0: written to tmp/, fsync'd, renamed into new/, new/ fsync'd.
 * Only then may the intake say 250. Concurrent submissions share fsyncs
 * (group commit). The account travels with the message (in the file
 * name or a header the spool adds, never trusted from the client). The
 * content hash the store dedups on covers the bytes as the client sent
 * them, not what the spool adds. */
#ifndef TRACKMAIL_SPOOL_H
#define TRACKMAIL_SPOOL_H

#include <stddef.h>
#include <stdint.h>

struct event_base;
struct spool;

/* Where a message came from: recorded with its decision (messages.source). */
enum spool_source {
	SPOOL_SOURCE_FILE,
	SPOOL_SOURCE_SMTP,
	SPOOL_SOURCE_LMTP,
	SPOOL_SOURCE_IMAP,
};
const char *spool_source_name(enum spool_source source);

struct spool_envelope {
	int64_t account_id;        /* the recipient's account */
	enum spool_source source;
	const char *mail_from;     /* envelope sender, may be "" */
	const char *rcpt_to;       /* the address as given */
	const char *peer;          /* client address or mailbox name, for logs */
};

/* Opens (creating tmp/ new/ cur/ with mode 0700) <data_dir>/spool. */
int spool_open(struct spool **out, const char *data_dir, char *err,
	       size_t errlen);
void spool_close(struct spool *spool);

/* Synchronous: durable on return 0 (IMAP poller, ingest, tests). id_out
 * (may be NULL) receives the Maildir base name. <0: -errno, err says why;
 * nothing is left in new/. */
int spool_deliver(struct spool *spool, const struct spool_envelope *env,
		  const char *data, size_t len, char *id_out, size_t id_len,
		  char *err, size_t errlen);

/* Asynchronous, for a libevent loop: done(arg, 0, id) once the message
 * is durable, batched with other submissions (group commit); done(arg,
 * -errno, NULL) on failure. Needs spool_attach() first. */
typedef void spool_done_fn(void *arg, int status, const char *id);
int spool_attach(struct spool *spool, struct event_base *base);
void spool_submit(struct spool *spool, const struct spool_envelope *env,
		  const char *data, size_t len, spool_done_fn *done,
		  void *arg);

#endif
