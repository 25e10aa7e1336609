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

/* The envelope line the spool puts before the client's bytes:
 * "X-Trackmail-Spool: account=N; source=smtp; received=SECS;
 * from=...; rcpt=...; peer=...\r\n" (one line; values have CR, LF, ';'
 * and controls replaced by '_'). Readers (workers) use spool_take(). */
#define SPOOL_HEADER "X-Trackmail-Spool:"
#define SPOOL_FIELD_MAX 256

/* Closes the spool: the writer thread finishes every queued submission
 * first, then each outstanding done() is called (from the calling thread).
 * Accepts NULL and clears *spool. */
void spool_closep(struct spool **spool);

/* How many group-commit batches (new/ fsyncs) the writer thread has
 * made: for tests and the benchmark. */
unsigned spool_batches(struct spool *spool);

/* Paths: <data_dir>/spool/new etc. Owned by the spool. */
const char *spool_dir(const struct spool *spool, const char *sub);
const char *spool_data_dir(const struct spool *spool);

/* Removes tmp/ files whose writer is gone (its pid, part of the name, no
 * longer runs) or older than an hour: a crash between write and rename.
 * Nothing in tmp/ was ever acknowledged. Returns the number removed. */
int spool_remove_stale_tmp(struct spool *spool);

/* The base names in new/, oldest first (the names start with the time).
 * *names_r is a malloc'ed array of malloc'ed strings (spool_names_free). */
int spool_list_new(struct spool *spool, char ***names_r, size_t *n_r);
void spool_names_free(char **names, size_t n);

/* Spool depth and the age in seconds of the oldest message in new/ (0
 * when empty). */
int spool_depth(struct spool *spool, size_t *n_r, long *oldest_age_r);

/* A message taken from new/ by a worker. */
struct spool_message {
	char id[256];               /* the Maildir base name */
	int fd;                     /* open on new/<id>, flock'ed; -1 */
	char *file;                 /* the whole file, padded (util.h) */
	size_t file_len;
	const char *raw;            /* the bytes as the client sent them */
	size_t raw_len;
	int64_t account_id;         /* 0: none recorded */
	enum spool_source source;
	long long received;         /* seconds since the epoch */
	char mail_from[SPOOL_FIELD_MAX];
	char rcpt_to[SPOOL_FIELD_MAX];
	char peer[SPOOL_FIELD_MAX];
};

/* Takes new/<id> for this process: opens it and takes an exclusive
 * flock (released when the process dies, so a killed worker's message is
 * taken by the next), then reads it. 1: taken; 0: another worker has it
 * or it is gone; <0: -errno, err says why (an unreadable file). */
int spool_take(struct spool *spool, const char *id, struct spool_message *m,
	       char *err, size_t errlen);
/* Reads new/<id> that this process's parent has taken (a decoder child
 * handed the id: the parent's flock covers it, m->fd stays -1). 1: read;
 * <0: -errno (ENOENT: gone), err says why. */
int spool_read_taken(struct spool *spool, const char *id,
		     struct spool_message *m, char *err, size_t errlen);
/* Parses the envelope line of a spool file (data[0..len)). */
int spool_parse(const char *data, size_t len, struct spool_message *m);
/* Moves new/<id> to <data_dir>/archive/<YYYY-MM-DD>/<id> (UTC day of
 * the move), then releases the message. Call it only once the message's
 * decision is committed: the move is not fsync'd, since a move a crash
 * undoes leaves the file in new/, where a worker finds it already
 * stored and moves it again. */
int spool_archive(struct spool *spool, struct spool_message *m, char *err,
		  size_t errlen);
/* Releases without moving (the message stays in new/ for a retry). */
void spool_message_release(struct spool_message *m);

/* Archive helpers shared with `ingest`: stores raw[0..len) durably as
 * <data_dir>/archive/<day>/<name>. */
int spool_archive_bytes(const char *data_dir, const char *name,
			const char *data, size_t len, char *err,
			size_t errlen);
/* Removes archive/<day>/ folders older than days (0: keep all).
 * Returns the number of folders removed or -errno. */
int spool_archive_prune(const char *data_dir, unsigned days);

#endif
