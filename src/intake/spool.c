/* spool.c - the durable spool, a Maildir under <data-dir>/spool (issue 9).
 *
 * A message is written to tmp/, fdatasync'd, renamed into new/ and new/ is
 * fsync'd: only then is it durable and may the intake answer 250.
 * spool_submit() hands the bytes to one writer thread that takes every
 * submission queued meanwhile as a batch: it writes each file, fdatasyncs
 * them all at once from several threads (sync_batch), renames them all,
 * and fsyncs new/ once for the batch (group commit), then
 * reports back to the libevent loop through a pipe. spool_deliver() does
 * the same for one message in the caller's thread.
 *
 * Workers take a message with an flock on new/<id> (released by the kernel
 * when a worker dies), decide it and move it to archive/<day>/. The file
 * starts with one envelope line (SPOOL_HEADER) carrying the account; the
 * bytes after it are the message as the client sent it. */
#include "intake/spool.h"

#include <dirent.h>
#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/limits.h"
#include "core/log.h"
#include "core/util.h"

struct spool_job {
	struct spool_job *next;
	char *data;                 /* envelope line + message */
	size_t len;
	spool_done_fn *done;
	void *arg;
	int status;
	int fd;
	char id[128];
};

struct spool {
	char *data_dir;
	char *root;
	char *tmp;
	char *new;
	char *cur;
	char host[64];
	atomic_uint seq;
	atomic_uint batches;

	/* group commit: the writer thread and the loop's pipe */
	struct event_base *base;
	struct event *ev;
	int pipe_r, pipe_w;
	pthread_t thread;
	bool thread_running;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool stopping;
	struct spool_job *pending, **pending_tail;
	struct spool_job *finished, **finished_tail;

	/* the writer thread's sync helpers (sync_pool_*), kept for the
	 * spool's life: creating and joining threads per batch was 8 % of
	 * the intake's CPU */
	struct sync_pool *pool;
};

const char *spool_source_name(enum spool_source source)
{
	switch (source) {
	case SPOOL_SOURCE_SMTP:
		return "smtp";
	case SPOOL_SOURCE_LMTP:
		return "lmtp";
	case SPOOL_SOURCE_IMAP:
		return "imap";
	case SPOOL_SOURCE_FILE:
		break;
	}
	return "file";
}

static enum spool_source source_from_name(const char *s, size_t n)
{
	if (n == 4 && memcmp(s, "smtp", 4) == 0)
		return SPOOL_SOURCE_SMTP;
	if (n == 4 && memcmp(s, "lmtp", 4) == 0)
		return SPOOL_SOURCE_LMTP;
	if (n == 4 && memcmp(s, "imap", 4) == 0)
		return SPOOL_SOURCE_IMAP;
	return SPOOL_SOURCE_FILE;
}

static void set_err(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void set_err(char *err, size_t errlen, const char *fmt, ...)
{
	if (!err || !errlen)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

int spool_open(struct spool **out, const char *data_dir, char *err,
	       size_t errlen)
{
	struct spool *s = xcalloc(1, sizeof(*s));
	s->data_dir = xstrdup(data_dir);
	s->root = xasprintf("%s/spool", data_dir);
	s->tmp = xasprintf("%s/tmp", s->root);
	s->new = xasprintf("%s/new", s->root);
	s->cur = xasprintf("%s/cur", s->root);
	s->pipe_r = s->pipe_w = -1;
	pthread_mutex_init(&s->lock, NULL);
	pthread_cond_init(&s->cond, NULL);
	s->pending_tail = &s->pending;
	s->finished_tail = &s->finished;
	if (gethostname(s->host, sizeof(s->host) - 1) < 0 || !s->host[0])
		snprintf(s->host, sizeof(s->host), "localhost");
	for (char *p = s->host; *p; p++)
		if (*p == '/' || *p == ':' || *p == '.' || (unsigned char)*p < 33)
			*p = '_';
	const char *dirs[] = { s->tmp, s->new, s->cur };
	for (size_t i = 0; i < 3; i++) {
		int r = util_mkdir_p(dirs[i]);
		if (r < 0) {
			set_err(err, errlen, "spool: %s: %s", dirs[i],
				strerror(-r));
			spool_close(s);
			return r;
		}
	}
	*out = s;
	return 0;
}

static void run_finished(struct spool *s);
static void sync_pool_free(struct sync_pool *p);

void spool_close(struct spool *s)
{
	if (!s)
		return;
	if (s->thread_running) {
		pthread_mutex_lock(&s->lock);
		s->stopping = true;
		pthread_cond_signal(&s->cond);
		pthread_mutex_unlock(&s->lock);
		pthread_join(s->thread, NULL);
		s->thread_running = false;
	}
	sync_pool_free(s->pool);
	s->pool = NULL;
	run_finished(s);
	if (s->ev)
		event_free(s->ev);
	if (s->pipe_r >= 0)
		close(s->pipe_r);
	if (s->pipe_w >= 0)
		close(s->pipe_w);
	pthread_mutex_destroy(&s->lock);
	pthread_cond_destroy(&s->cond);
	free(s->data_dir);
	free(s->root);
	free(s->tmp);
	free(s->new);
	free(s->cur);
	free(s);
}

void spool_closep(struct spool **spool)
{
	if (spool) {
		spool_close(*spool);
		*spool = NULL;
	}
}

const char *spool_dir(const struct spool *s, const char *sub)
{
	if (!sub || !*sub)
		return s->root;
	if (strcmp(sub, "tmp") == 0)
		return s->tmp;
	if (strcmp(sub, "cur") == 0)
		return s->cur;
	return s->new;
}

unsigned spool_batches(struct spool *s)
{
	return atomic_load(&s->batches);
}

const char *spool_data_dir(const struct spool *s)
{
	return s->data_dir;
}

/* Copies value into b with CR, LF, ';' and controls replaced. */
static void put_field(struct buf *b, const char *key, const char *value)
{
	buf_printf(b, "; %s=", key);
	size_t n = 0;
	for (const char *p = value ? value : ""; *p && n < SPOOL_FIELD_MAX - 1;
	     p++, n++) {
		unsigned char c = (unsigned char)*p;
		buf_append_char(b, (c < 0x20 || c == 0x7f || c == ';') ? '_'
								      : (char)c);
	}
}

static struct spool_job *job_new(struct spool *s,
				 const struct spool_envelope *env,
				 const char *data, size_t len)
{
	struct spool_job *j = xcalloc(1, sizeof(*j));
	j->fd = -1;
	struct timeval tv;
	gettimeofday(&tv, NULL);
	unsigned seq = atomic_fetch_add(&s->seq, 1);
	snprintf(j->id, sizeof(j->id), "%lld.M%06ldP%ldQ%u.%s",
		 (long long)tv.tv_sec, (long)tv.tv_usec, (long)getpid(), seq,
		 s->host);
	struct buf b;
	buf_init(&b, (size_t)-1);
	buf_printf(&b, "%s account=%" PRId64 "; source=%s; received=%lld",
		       SPOOL_HEADER, env->account_id,
		       spool_source_name(env->source), (long long)tv.tv_sec);
	put_field(&b, "from", env->mail_from);
	put_field(&b, "rcpt", env->rcpt_to);
	put_field(&b, "peer", env->peer);
	buf_append(&b, "\r\n", 2);
	buf_append(&b, data, len);
	j->len = b.len;
	j->data = buf_steal(&b);
	return j;
}

static void job_free(struct spool_job *j)
{
	if (!j)
		return;
	if (j->fd >= 0)
		close(j->fd);
	free(j->data);
	free(j);
}

static char *job_path(const char *dir, const struct spool_job *j)
{
	return xasprintf("%s/%s", dir, j->id);
}

/* Up to this many threads run the fdatasync()s of one batch at once. */
#define SPOOL_SYNC_THREADS 8

struct sync_share {
	struct spool_job *next;     /* the next job to sync, under lock */
	pthread_mutex_t lock;
};

/* Takes jobs off the shared list and fdatasync()s each: several of these
 * run at once, so the file system commits their journal entries together
 * instead of one commit per file. */
static void *sync_worker(void *arg)
{
	struct sync_share *sh = arg;
	for (;;) {
		pthread_mutex_lock(&sh->lock);
		struct spool_job *j = sh->next;
		while (j && (j->fd < 0 || j->status != 0))
			j = j->next;
		sh->next = j ? j->next : NULL;
		pthread_mutex_unlock(&sh->lock);
		if (!j)
			return NULL;
		if (fdatasync(j->fd) < 0)
			j->status = -errno;
	}
}

/* SPOOL_SYNC_THREADS - 1 threads that help the writer thread sync each
 * batch. The writer publishes the batch's share (cur) and wakes them;
 * each helper that wakes while cur is set joins in (busy counts them);
 * when the writer's own sync_worker() returns the list is taken, so it
 * clears cur and waits for busy to reach 0 before the share goes. */
struct sync_pool {
	pthread_t th[SPOOL_SYNC_THREADS - 1];
	unsigned n;
	pthread_mutex_t lock;
	pthread_cond_t work, idle;
	struct sync_share *cur;
	unsigned long gen;  /* batches published; a helper joins each once */
	unsigned busy;
	bool stop;
};

static void *sync_pool_main(void *arg)
{
	struct sync_pool *p = arg;
	unsigned long seen = 0;
	sigset_t all;
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, NULL);
	pthread_mutex_lock(&p->lock);
	for (;;) {
		while (!p->stop && (p->cur == NULL || seen == p->gen))
			pthread_cond_wait(&p->work, &p->lock);
		if (p->stop)
			break;
		seen = p->gen;
		struct sync_share *sh = p->cur;
		p->busy++;
		pthread_mutex_unlock(&p->lock);
		sync_worker(sh);
		pthread_mutex_lock(&p->lock);
		if (--p->busy == 0)
			pthread_cond_broadcast(&p->idle);
	}
	pthread_mutex_unlock(&p->lock);
	return NULL;
}

static struct sync_pool *sync_pool_new(void)
{
	struct sync_pool *p = xcalloc(1, sizeof(*p));
	pthread_mutex_init(&p->lock, NULL);
	pthread_cond_init(&p->work, NULL);
	pthread_cond_init(&p->idle, NULL);
	while (p->n < SPOOL_SYNC_THREADS - 1 &&
	       pthread_create(&p->th[p->n], NULL, sync_pool_main, p) == 0)
		p->n++;
	return p;
}

static void sync_pool_free(struct sync_pool *p)
{
	if (!p)
		return;
	pthread_mutex_lock(&p->lock);
	p->stop = true;
	pthread_cond_broadcast(&p->work);
	pthread_mutex_unlock(&p->lock);
	for (unsigned i = 0; i < p->n; i++)
		pthread_join(p->th[i], NULL);
	pthread_mutex_destroy(&p->lock);
	pthread_cond_destroy(&p->work);
	pthread_cond_destroy(&p->idle);
	free(p);
}

/* fdatasync()s every written file of the batch. First asks the kernel to
 * start writing all of them (sync_file_range, no waiting), so their blocks
 * are allocated in the same journal transaction, then syncs them from up
 * to SPOOL_SYNC_THREADS threads at once: the pool's helpers when there is
 * a pool (the attached spool's writer thread), else threads started for
 * this batch (spool_deliver()). Each file still gets its own fdatasync
 * (the durability guarantee is unchanged: data and the size and block map
 * needed to read it back are on disk when it returns); the kernel only
 * has to wait for a shared commit instead of one per file. */
static void sync_batch(struct spool_job *batch, struct sync_pool *pool)
{
	unsigned n = 0;
	for (struct spool_job *j = batch; j; j = j->next) {
		if (j->fd < 0 || j->status != 0)
			continue;
		n++;
		/* a hint only: an error here shows again in fdatasync */
		(void)sync_file_range(j->fd, 0, 0, SYNC_FILE_RANGE_WRITE);
	}
	struct sync_share sh = { .next = batch };
	pthread_mutex_init(&sh.lock, NULL);
	if (pool && n > 1) {
		pthread_mutex_lock(&pool->lock);
		pool->cur = &sh;
		pool->gen++;
		pthread_cond_broadcast(&pool->work);
		pthread_mutex_unlock(&pool->lock);
		sync_worker(&sh); /* the writer syncs too */
		pthread_mutex_lock(&pool->lock);
		pool->cur = NULL; /* the list is taken: no one else joins */
		while (pool->busy > 0)
			pthread_cond_wait(&pool->idle, &pool->lock);
		pthread_mutex_unlock(&pool->lock);
		pthread_mutex_destroy(&sh.lock);
		return;
	}
	pthread_t th[SPOOL_SYNC_THREADS - 1];
	unsigned started = 0;
	unsigned want = n < SPOOL_SYNC_THREADS ? n : SPOOL_SYNC_THREADS;
	while (started + 1 < want &&
	       pthread_create(&th[started], NULL, sync_worker, &sh) == 0)
		started++;
	sync_worker(&sh); /* the caller syncs too (all of it if alone) */
	for (unsigned i = 0; i < started; i++)
		pthread_join(th[i], NULL);
	pthread_mutex_destroy(&sh.lock);
}

/* One batch: write each file, fdatasync them all together (sync_batch),
 * rename each into new/, fsync new/ once. Sets each job's status. */
static void write_batch(struct spool *s, struct spool_job *batch,
			struct sync_pool *pool)
{
	for (struct spool_job *j = batch; j; j = j->next) {
		_cleanup_free_ char *tmp = job_path(s->tmp, j);
		j->fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
			     0600);
		if (j->fd < 0) {
			j->status = -errno;
			continue;
		}
		j->status = util_write_all(j->fd, j->data, j->len);
	}
	sync_batch(batch, pool);
	for (struct spool_job *j = batch; j; j = j->next) {
		if (j->fd < 0)
			continue;
		if (close(j->fd) < 0 && j->status == 0)
			j->status = -errno;
		j->fd = -1;
	}
	bool renamed = false;
	for (struct spool_job *j = batch; j; j = j->next) {
		_cleanup_free_ char *tmp = job_path(s->tmp, j);
		if (j->status == 0) {
			_cleanup_free_ char *path = job_path(s->new, j);
			if (rename(tmp, path) == 0) {
				renamed = true;
				continue;
			}
			j->status = -errno;
		}
		unlink(tmp);
	}
	if (!renamed)
		return;
	int r = util_fsync_dir(s->new);
	if (r == 0)
		return;
	/* Not durable: take them back so nothing unacknowledged is
	 * decided as if it were (the client will resend). */
	for (struct spool_job *j = batch; j; j = j->next) {
		if (j->status != 0)
			continue;
		_cleanup_free_ char *path = job_path(s->new, j);
		unlink(path);
		j->status = r;
	}
}

int spool_deliver(struct spool *s, const struct spool_envelope *env,
		  const char *data, size_t len, char *id_out, size_t id_len,
		  char *err, size_t errlen)
{
	struct spool_job *j = job_new(s, env, data, len);
	write_batch(s, j, NULL);
	int r = j->status;
	if (r < 0)
		set_err(err, errlen, "spool: %s/%s: %s", s->root, j->id,
			strerror(-r));
	else if (id_out && id_len)
		snprintf(id_out, id_len, "%s", j->id);
	job_free(j);
	return r;
}

static void *writer_main(void *arg)
{
	struct spool *s = arg;
	sigset_t all;
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, NULL);
	pthread_mutex_lock(&s->lock);
	for (;;) {
		while (!s->pending && !s->stopping)
			pthread_cond_wait(&s->cond, &s->lock);
		if (!s->pending && s->stopping)
			break;
		struct spool_job *batch = s->pending;
		s->pending = NULL;
		s->pending_tail = &s->pending;
		pthread_mutex_unlock(&s->lock);

		write_batch(s, batch, s->pool);
		atomic_fetch_add(&s->batches, 1);

		pthread_mutex_lock(&s->lock);
		*s->finished_tail = batch;
		struct spool_job *last = batch;
		while (last->next)
			last = last->next;
		s->finished_tail = &last->next;
		if (s->pipe_w >= 0) {
			char c = 1;
			if (write(s->pipe_w, &c, 1) < 0) {
				/* full pipe: the loop is already woken */
			}
		}
	}
	pthread_mutex_unlock(&s->lock);
	return NULL;
}

static void run_finished(struct spool *s)
{
	pthread_mutex_lock(&s->lock);
	struct spool_job *list = s->finished;
	s->finished = NULL;
	s->finished_tail = &s->finished;
	pthread_mutex_unlock(&s->lock);
	while (list) {
		struct spool_job *j = list;
		list = j->next;
		j->done(j->arg, j->status, j->status == 0 ? j->id : NULL);
		job_free(j);
	}
}

static void on_pipe(evutil_socket_t fd, short what, void *arg)
{
	char drain[256];
	while (read(fd, drain, sizeof(drain)) > 0) {
	}
	run_finished(arg);
}

int spool_attach(struct spool *s, struct event_base *base)
{
	int fds[2];
	if (pipe2(fds, O_CLOEXEC | O_NONBLOCK) < 0)
		return -errno;
	s->pipe_r = fds[0];
	s->pipe_w = fds[1];
	s->base = base;
	s->ev = event_new(base, s->pipe_r, EV_READ | EV_PERSIST, on_pipe, s);
	if (!s->ev || event_add(s->ev, NULL) < 0)
		return -ENOMEM;
	s->pool = sync_pool_new();
	int r = pthread_create(&s->thread, NULL, writer_main, s);
	if (r != 0)
		return -r;
	s->thread_running = true;
	return 0;
}

void spool_submit(struct spool *s, const struct spool_envelope *env,
		  const char *data, size_t len, spool_done_fn *done,
		  void *arg)
{
	if (!s->thread_running) {
		done(arg, -EINVAL, NULL);
		return;
	}
	struct spool_job *j = job_new(s, env, data, len);
	j->done = done;
	j->arg = arg;
	pthread_mutex_lock(&s->lock);
	*s->pending_tail = j;
	s->pending_tail = &j->next;
	pthread_cond_signal(&s->cond);
	pthread_mutex_unlock(&s->lock);
}

/* The pid in a name "SECS.MUSECPpidQseq.host", or 0. */
static long name_pid(const char *name)
{
	const char *p = strchr(name, 'P');
	if (!p)
		return 0;
	char *end;
	long pid = strtol(p + 1, &end, 10);
	return *end == 'Q' ? pid : 0;
}

int spool_remove_stale_tmp(struct spool *s)
{
	DIR *d = opendir(s->tmp);
	if (!d)
		return -errno;
	int removed = 0;
	time_t now = time(NULL);
	struct dirent *de;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		struct stat st;
		if (fstatat(dirfd(d), de->d_name, &st, 0) < 0)
			continue;
		long pid = name_pid(de->d_name);
		bool gone = pid <= 0 || (kill((pid_t)pid, 0) < 0 &&
					 errno == ESRCH);
		if (!gone && now - st.st_mtime < 3600)
			continue;
		if (unlinkat(dirfd(d), de->d_name, 0) == 0) {
			removed++;
			struct buf b;
			buf_init(&b, 4096);
			log_escape(&b, de->d_name);
			log_msg(LOG_INFO, "event=spool-stale-tmp-removed "
				"file=%s", buf_cstr(&b));
			buf_free(&b);
		}
	}
	closedir(d);
	return removed;
}

static int cmp_names(const void *a, const void *b)
{
	const char *x = *(const char *const *)a, *y = *(const char *const *)b;
	/* numeric seconds first (names start with the time), then bytes */
	long long tx = strtoll(x, NULL, 10), ty = strtoll(y, NULL, 10);
	if (tx != ty)
		return tx < ty ? -1 : 1;
	return strcmp(x, y);
}

int spool_list_new(struct spool *s, char ***names_r, size_t *n_r)
{
	DIR *d = opendir(s->new);
	if (!d)
		return -errno;
	size_t n = 0, cap = 16;
	char **names = xmalloc(cap * sizeof(*names));
	struct dirent *de;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		if (n == cap) {
			cap *= 2;
			names = xrealloc(names, cap * sizeof(*names));
		}
		names[n++] = xstrdup(de->d_name);
	}
	closedir(d);
	qsort(names, n, sizeof(*names), cmp_names);
	*names_r = names;
	*n_r = n;
	return 0;
}

void spool_names_free(char **names, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
}

int spool_depth(struct spool *s, size_t *n_r, long *oldest_age_r)
{
	char **names;
	size_t n;
	int r = spool_list_new(s, &names, &n);
	if (r < 0)
		return r;
	*n_r = n;
	*oldest_age_r = 0;
	if (n) {
		long long t = strtoll(names[0], NULL, 10);
		long long now = (long long)time(NULL);
		*oldest_age_r = t > 0 && now > t ? (long)(now - t) : 0;
	}
	spool_names_free(names, n);
	return 0;
}

static void copy_field(char *dst, const char *v, size_t n)
{
	if (n >= SPOOL_FIELD_MAX)
		n = SPOOL_FIELD_MAX - 1;
	memcpy(dst, v, n);
	dst[n] = '\0';
}

int spool_parse(const char *data, size_t len, struct spool_message *m)
{
	m->raw = data;
	m->raw_len = len;
	m->account_id = 0;
	m->source = SPOOL_SOURCE_FILE;
	m->mail_from[0] = m->rcpt_to[0] = m->peer[0] = '\0';
	size_t hl = strlen(SPOOL_HEADER);
	if (len < hl || memcmp(data, SPOOL_HEADER, hl) != 0)
		return -EINVAL;
	const char *eol = memchr(data, '\n', len);
	if (!eol)
		return -EINVAL;
	m->raw = eol + 1;
	m->raw_len = len - (size_t)(eol + 1 - data);
	const char *p = data + hl;
	const char *end = eol;
	if (end > p && end[-1] == '\r')
		end--;
	while (p < end) {
		while (p < end && (*p == ' ' || *p == ';'))
			p++;
		const char *eq = memchr(p, '=', (size_t)(end - p));
		if (!eq)
			break;
		const char *v = eq + 1;
		const char *ve = memchr(v, ';', (size_t)(end - v));
		if (!ve)
			ve = end;
		size_t kl = (size_t)(eq - p), vl = (size_t)(ve - v);
		char num[32];
		copy_field(num, v, vl < sizeof(num) ? vl : sizeof(num) - 1);
		if (kl == 7 && memcmp(p, "account", 7) == 0)
			m->account_id = strtoll(num, NULL, 10);
		else if (kl == 6 && memcmp(p, "source", 6) == 0)
			m->source = source_from_name(v, vl);
		else if (kl == 8 && memcmp(p, "received", 8) == 0)
			m->received = strtoll(num, NULL, 10);
		else if (kl == 4 && memcmp(p, "from", 4) == 0)
			copy_field(m->mail_from, v, vl);
		else if (kl == 4 && memcmp(p, "rcpt", 4) == 0)
			copy_field(m->rcpt_to, v, vl);
		else if (kl == 4 && memcmp(p, "peer", 4) == 0)
			copy_field(m->peer, v, vl);
		p = ve;
	}
	return 0;
}

void spool_message_release(struct spool_message *m)
{
	if (m->fd >= 0)
		close(m->fd); /* releases the flock */
	m->fd = -1;
	free(m->file);
	m->file = NULL;
}

/* An empty m for new/<id>; returns that path (malloc'ed). */
static char *message_init(struct spool *s, const char *id,
			  struct spool_message *m)
{
	memset(m, 0, sizeof(*m));
	m->fd = -1;
	snprintf(m->id, sizeof(m->id), "%s", id);
	return xasprintf("%s/%s", s->new, id);
}

/* Reads path (new/<id>) into m: 1, or <0 (m released). */
static int read_message(const char *path, const char *id,
			struct spool_message *m, char *err, size_t errlen)
{
	int r = util_read_file(path, LIMIT_MESSAGE_SIZE + 64 * 1024, &m->file,
			       &m->file_len);
	if (r < 0) {
		set_err(err, errlen, "spool: %s: %s", path, strerror(-r));
		spool_message_release(m);
		return r;
	}
	m->received = strtoll(id, NULL, 10);
	if (spool_parse(m->file, m->file_len, m) < 0) {
		/* a file dropped into new/ by hand: all of it is the
		 * message, no account recorded */
		m->raw = m->file;
		m->raw_len = m->file_len;
	}
	return 1;
}

int spool_take(struct spool *s, const char *id, struct spool_message *m,
	       char *err, size_t errlen)
{
	_cleanup_free_ char *path = message_init(s, id, m);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? 0 : -errno;
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		close(fd);
		return 0;
	}
	/* Taken: still the file in new/ (not archived meanwhile)? */
	struct stat a, b;
	if (fstat(fd, &a) < 0 || stat(path, &b) < 0 || a.st_ino != b.st_ino) {
		close(fd);
		return 0;
	}
	m->fd = fd;
	return read_message(path, id, m, err, errlen);
}

int spool_read_taken(struct spool *s, const char *id, struct spool_message *m,
		     char *err, size_t errlen)
{
	_cleanup_free_ char *path = message_init(s, id, m);
	return read_message(path, id, m, err, errlen);
}

static void day_name(char out[16])
{
	time_t now = time(NULL);
	struct tm tm;
	gmtime_r(&now, &tm);
	strftime(out, 16, "%Y-%m-%d", &tm);
}

int spool_archive(struct spool *s, struct spool_message *m, char *err,
		  size_t errlen)
{
	char day[16];
	day_name(day);
	_cleanup_free_ char *dir = xasprintf("%s/archive/%s", s->data_dir, day);
	int r = util_mkdir_p(dir);
	_cleanup_free_ char *from = xasprintf("%s/%s", s->new, m->id);
	_cleanup_free_ char *to = xasprintf("%s/%s", dir, m->id);
	/* No fsync of either directory: the decision is committed (and
	 * durable) before this rename, and a rename a crash undoes puts the
	 * file back in new/, where the next worker finds it already stored
	 * (spool_id) and archives it again. */
	if (r == 0 && rename(from, to) < 0)
		r = -errno;
	if (r < 0)
		set_err(err, errlen, "archive: %s -> %s: %s", from, to,
			strerror(-r));
	spool_message_release(m);
	return r;
}

int spool_archive_bytes(const char *data_dir, const char *name,
			const char *data, size_t len, char *err,
			size_t errlen)
{
	char day[16];
	day_name(day);
	_cleanup_free_ char *dir = xasprintf("%s/archive/%s", data_dir, day);
	int r = util_mkdir_p(dir);
	_cleanup_free_ char *path = xasprintf("%s/%s", dir, name);
	if (r == 0)
		r = util_write_file_durable(path, data, len);
	if (r < 0)
		set_err(err, errlen, "archive: %s: %s", path, strerror(-r));
	return r;
}

static int rm_tree(int parent, const char *name)
{
	int fd = openat(parent, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC |
					      O_NOFOLLOW);
	if (fd < 0)
		return -errno;
	DIR *d = fdopendir(fd);
	if (!d) {
		close(fd);
		return -errno;
	}
	struct dirent *de;
	while ((de = readdir(d))) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if (unlinkat(dirfd(d), de->d_name, 0) < 0 && errno == EISDIR)
			rm_tree(dirfd(d), de->d_name);
	}
	closedir(d);
	return unlinkat(parent, name, AT_REMOVEDIR) < 0 ? -errno : 0;
}

int spool_archive_prune(const char *data_dir, unsigned days)
{
	if (days == 0)
		return 0;
	_cleanup_free_ char *root = xasprintf("%s/archive", data_dir);
	DIR *d = opendir(root);
	if (!d)
		return errno == ENOENT ? 0 : -errno;
	time_t cutoff = time(NULL) - (time_t)days * 86400;
	struct tm tm;
	gmtime_r(&cutoff, &tm);
	char oldest[16];
	strftime(oldest, sizeof(oldest), "%Y-%m-%d", &tm);
	int removed = 0;
	struct dirent *de;
	while ((de = readdir(d))) {
		if (strlen(de->d_name) != 10 || de->d_name[4] != '-')
			continue;
		if (strcmp(de->d_name, oldest) >= 0)
			continue;
		if (rm_tree(dirfd(d), de->d_name) == 0) {
			removed++;
			log_msg(LOG_INFO, "event=archive-pruned day=%s",
				de->d_name);
		}
	}
	closedir(d);
	return removed;
}
