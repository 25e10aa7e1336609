/* serve_worker.c - a worker process of `trackmail serve`; see
 * serve_worker.h. Loop: list new/, take up to a batch of messages (flock),
 * hand them one by one to the kept decoder child (worker.h worker_keep_*),
 * which decides and archives each; release the rest; then wait for the
 * next file (inotify on new/, or a second). */
#include "pipeline/serve_worker.h"

#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/log.h"
#include "core/util.h"
#include "dispatch/dispatch.h"
#include "intake/spool.h"
#include "pipeline/pipeline.h"
#include "store/store_intake.h"

/* Messages one child decides per batch: small, so that N workers share
 * a burst. */
#define SERVE_WORKER_BATCH 8

struct ctx {
	const struct serve_worker_opts *o;
	struct spool *spool;
	struct pipeline pl;
	struct parser_matcher *matcher;
	struct spool_message msgs[SERVE_WORKER_BATCH];
	size_t n;
	char *db_path;
	/* The last listing of new/ and the next name to try in it: batches
	 * are taken from it until it is used up, and only then is new/
	 * listed again. Listing (and sorting) a backlog of N files for every
	 * batch of 8 made a backlog cost O(N^2) (docs/intake.md "serve"). */
	char **listed;
	size_t n_listed, next_listed;
};

static void log_result(const struct ctx *c, const struct spool_message *m,
		       const struct pipeline_result *res, const char *event)
{
	struct buf b;
	buf_init(&b, 4096);
	buf_printf(&b, "event=%s worker=%d spool_id=", event, c->o->index);
	log_escape(&b, m->id);
	buf_append_str(&b, " message_id=");
	log_escape(&b, res->msg && res->msg->message_id ? res->msg->message_id
							: "");
	buf_append_str(&b, " account=");
	log_escape(&b, res->account.name);
	buf_printf(&b, " source=%s row=%" PRId64 " outcome=%s%s",
		   spool_source_name(m->source), res->message_row,
		   parse_outcome_name(res->parse.outcome),
		   res->duplicate ? " duplicate=1" : "");
	if (res->quarantine_id)
		buf_printf(&b, " quarantine_id=%" PRId64, res->quarantine_id);
	log_msg(LOG_INFO, "%s", buf_cstr(&b));
	buf_free(&b);
}

static void log_failure(const struct ctx *c, const struct spool_message *m,
			const char *what, const char *error)
{
	struct buf b;
	buf_init(&b, 4096);
	buf_printf(&b, "event=%s worker=%d spool_id=", what, c->o->index);
	log_escape(&b, m->id);
	buf_append_str(&b, " error=");
	log_escape(&b, error ? error : "");
	log_msg(LOG_ERROR, "%s", buf_cstr(&b));
	buf_free(&b);
}

static bool store_refuses(int r)
{
	return r == -ENOSPC || r == -EIO || r == -EROFS || r == -EACCES;
}

static int open_store(struct ctx *c, struct store **st)
{
	if (*st)
		return 0;
	const char *err = NULL;
	int r = store_open(c->db_path, st, &err);
	if (r < 0) {
		struct buf b;
		buf_init(&b, 4096);
		log_escape(&b, err ? err : strerror(-r));
		log_msg(LOG_ERROR, "event=store-open-failed worker=%d "
			"error=%s", c->o->index, buf_cstr(&b));
		buf_free(&b);
	}
	return r;
}

/* Archives m after its decision is committed. */
static void archive(struct ctx *c, struct spool_message *m)
{
	char err[512];
	if (spool_archive(c->spool, m, err, sizeof(err)) < 0)
		log_failure(c, m, "archive-failed", err);
}

/* Already stored (a worker died between commit and archive)? */
static int already_stored(struct ctx *c, struct store *st,
			  struct spool_message *m)
{
	int64_t row;
	int r = store_intake_by_spool_id(st, m->id, &row);
	if (r == 1) {
		log_msg(LOG_INFO, "event=already-decided worker=%d row=%" PRId64,
			c->o->index, row);
		archive(c, m);
	}
	return r;
}

/* Decides m (in the decoder child): commits, then archives. */
static int decide(struct ctx *c, struct spool_message *m)
{
	if (open_store(c, &c->pl.store) < 0)
		return 1 | WORKER_STOP;
	int r = already_stored(c, c->pl.store, m);
	if (r != 0)
		return r < 0 ? 1 : 0;
	struct pipeline pl = c->pl;
	pl.account_id = m->account_id;
	pl.spool_id = m->id;
	pl.intake = spool_source_name(m->source);
	struct pipeline_result res;
	pipeline_result_init(&res);
	r = pipeline_process(&pl, m->raw, m->raw_len, m->id, &res);
	int rc = 0;
	if (r < 0) {
		log_failure(c, m, "store-failed", res.error);
		rc = 1 | (store_refuses(r) ? WORKER_STOP : 0);
	} else {
		log_result(c, m, &res, "decided");
		archive(c, m);
	}
	pipeline_result_clear(&res);
	return rc;
}

/* In the parent: the child finds item i by its spool id. */
static int describe_one(size_t i, void *vctx, char *out, size_t cap)
{
	struct ctx *c = vctx;
	if (*c->o->stop)
		return -1; /* left in new/ for the next start */
	return snprintf(out, cap, "%s", c->msgs[i].id);
}

/* In the kept decoder child: reads the message its parent took. */
static int process_one(size_t i, const char *id, size_t len, void *vctx)
{
	struct ctx *c = vctx;
	(void)i;
	(void)len;
	struct spool_message m;
	char err[512];
	int r = spool_read_taken(c->spool, id, &m, err, sizeof(err));
	if (r < 0) {
		log_failure(c, &m, "spool-read-failed", err);
		return 1;
	}
	r = decide(c, &m);
	spool_message_release(&m);
	return r;
}

static int crashed_one(size_t i, const char *why, bool timeout, void *vctx)
{
	struct ctx *c = vctx;
	struct spool_message *m = &c->msgs[i];
	/* This process's own connection, opened for this and closed
	 * again: no connection may cross the next fork(). */
	struct pipeline pl = c->pl;
	pl.store = NULL;
	if (open_store(c, &pl.store) < 0)
		return 1 | WORKER_STOP;
	int r = already_stored(c, pl.store, m);
	if (r != 0) {
		store_close(&pl.store);
		return r < 0 ? 1 : 0;
	}
	pl.account_id = m->account_id;
	pl.spool_id = m->id;
	pl.intake = spool_source_name(m->source);
	char *detail = xasprintf("the decoder worker died on this message: %s",
				 why);
	struct pipeline_result res;
	pipeline_result_init(&res);
	r = pipeline_record_crash(&pl, m->raw, m->raw_len, m->id,
				  timeout ? "decoder-timeout" : "decoder-crash",
				  detail, &res);
	store_close(&pl.store);
	int rc = 0;
	if (r < 0) {
		log_failure(c, m, "store-failed", res.error);
		rc = 1;
	} else {
		log_result(c, m, &res, "decoder-crash");
		archive(c, m);
	}
	pipeline_result_clear(&res);
	free(detail);
	return rc;
}

/* The decoder child, once when it starts: the flocks of the messages its
 * parent holds are the parent's to release (a copy of the file
 * descriptor here would keep a released message taken); its connection
 * is opened now, not with the next mail. */
static void child_start(void *vctx)
{
	struct ctx *c = vctx;
	for (size_t i = 0; i < c->n; i++)
		spool_message_release(&c->msgs[i]);
	c->n = 0;
	open_store(c, &c->pl.store);
}

static void child_done(void *vctx)
{
	struct ctx *c = vctx;
	store_close(&c->pl.store);
}

static void forget_listing(struct ctx *c)
{
	spool_names_free(c->listed, c->n_listed);
	c->listed = NULL;
	c->n_listed = c->next_listed = 0;
}

/* Takes up to SERVE_WORKER_BATCH messages from new/, oldest first: from
 * the listing kept since the last batch while it lasts (a name another
 * worker took or archived meanwhile is skipped by spool_take), then from
 * a new listing. Mail spooled since the kept listing is newer than all
 * of it, so the order stays oldest first. */
static void take_batch(struct ctx *c)
{
	c->n = 0;
	bool relisted = false;
	while (c->n < SERVE_WORKER_BATCH) {
		if (c->next_listed >= c->n_listed) {
			/* Used up: a part-batch now if it gave any, else one
			 * new listing. */
			if (relisted || c->n > 0)
				break;
			relisted = true;
			forget_listing(c);
			if (spool_list_new(c->spool, &c->listed,
					   &c->n_listed) < 0)
				return;
			/* Start at a different place per worker so that N
			 * workers do not all queue on the same oldest file. */
			if (c->n_listed > SERVE_WORKER_BATCH * 2)
				c->next_listed = (size_t)c->o->index %
						 c->n_listed;
			continue;
		}
		const char *id = c->listed[c->next_listed++];
		char err[512];
		struct spool_message *m = &c->msgs[c->n];
		int r = spool_take(c->spool, id, m, err, sizeof(err));
		if (r == 1)
			c->n++;
		else if (r < 0)
			log_failure(c, m, "spool-read-failed", err);
	}
}

int serve_worker_run(const struct serve_worker_opts *o)
{
	struct ctx c = { .o = o };
	char err[512];
	if (spool_open(&c.spool, o->data_dir, err, sizeof(err)) < 0) {
		struct buf b;
		buf_init(&b, 4096);
		log_escape(&b, err);
		log_msg(LOG_ERROR, "event=spool-open-failed error=%s",
			buf_cstr(&b));
		buf_free(&b);
		return 3;
	}
	c.db_path = xasprintf("%s/trackmail.db", o->data_dir);
	c.matcher = parser_matcher_new();
	c.pl.parsers = o->parsers;
	c.pl.matcher = c.matcher;
	c.pl.data_dir = o->data_dir;
	c.pl.dkim_query_file = o->dkim_query_file;
	int ino = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (ino >= 0 && inotify_add_watch(ino, spool_dir(c.spool, "new"),
					  IN_MOVED_TO | IN_CREATE) < 0) {
		close(ino);
		ino = -1;
	}
	log_msg(LOG_INFO, "event=worker-started worker=%d pid=%ld nice=%d",
		o->index, (long)getpid(), nice(0));
	static const struct worker_ops ops = {
		.crashed = crashed_one,
		.child_done = child_done,
		.describe = describe_one,
		.process_desc = process_one,
		.child_start = child_start,
	};
	/* One decoder child for many batches (worker.h), started now so
	 * that the first mail does not wait for it. */
	struct worker_keep keep;
	worker_keep_init(&keep, &ops, &c, &o->limits, o->isolate);
	/* Test hook (docs/testing.md): a new child every N messages. */
	const char *recycle = getenv("TRACKMAIL_TEST_WORKER_RECYCLE");
	long every;
	if (recycle &&
	    util_parse_long(recycle, 1, WORKER_KEEP_ITEMS, &every) == 0)
		keep.recycle = (unsigned)every;
	worker_keep_start(&keep);
	int rc = 0;
	while (!*o->stop && getppid() == o->supervisor) {
		char drain[4096];
		while (ino >= 0 && read(ino, drain, sizeof(drain)) > 0) {
		}
		take_batch(&c);
		if (c.n) {
			int r = worker_keep_run(&keep, c.n, NULL);
			if (r < 0)
				log_msg(LOG_ERROR, "event=decoder-start-failed "
					"worker=%d error=\"%s\"", o->index,
					strerror(-r));
			bool failed = r != 0;
			/* a decision may have made pushes due */
			if (!failed)
				dispatch_wake(o->data_dir);
			for (size_t i = 0; i < c.n; i++)
				spool_message_release(&c.msgs[i]);
			if (!failed)
				continue; /* more may be waiting */
		}
		/* Nothing to take (or it failed: retried in a second). */
		struct pollfd p = { .fd = ino, .events = POLLIN };
		if (poll(&p, ino >= 0 ? 1 : 0, 1000) < 0 && errno != EINTR)
			break;
	}
	worker_keep_end(&keep);
	log_msg(LOG_INFO, "event=worker-stopped worker=%d", o->index);
	if (ino >= 0)
		close(ino);
	forget_listing(&c);
	parser_matcher_free(&c.matcher);
	free(c.db_path);
	spool_close(c.spool);
	return rc;
}
