/* worker.c - a crash-contained child process for a batch, or one kept
 * across batches; see worker.h.
 *
 * The child reports each finished item (its index and process()'s
 * return) over a pipe, or the kept child's socket; the parent polls it
 * under the wall-clock limit, so a child blocked in a read is killed too. */
#include "pipeline/worker.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/limits.h"
#include "core/log.h"
#include "core/util.h"

#if defined(__SANITIZE_ADDRESS__)
#define BUILT_WITH_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define BUILT_WITH_ASAN 1
#endif
#endif

void worker_default_limits(struct worker_limits *lim)
{
	lim->cpu_ms = LIMIT_WORKER_CPU_MS;
	lim->wall_ms = LIMIT_WORKER_WALL_MS;
	lim->memory_bytes = LIMIT_WORKER_MEMORY;
	lim->stack_bytes = LIMIT_WORKER_STACK;
#ifdef BUILT_WITH_ASAN
	lim->memory_bytes = 0;
#endif
}

static void arm_cpu_timer(unsigned ms)
{
	struct itimerval it = { 0 };
	it.it_value.tv_sec = ms / 1000;
	it.it_value.tv_usec = (suseconds_t)(ms % 1000) * 1000;
	setitimer(ITIMER_PROF, &it, NULL);
}

void worker_pause_cpu_limit(struct worker_cpu_pause *left)
{
	struct itimerval off = { 0 }, old = { 0 };
	left->left_us = 0;
	if (setitimer(ITIMER_PROF, &off, &old) == 0)
		left->left_us = (long)old.it_value.tv_sec * 1000000 +
				(long)old.it_value.tv_usec;
}

void worker_resume_cpu_limit(struct worker_cpu_pause *left)
{
	if (left->left_us <= 0)
		return;
	struct itimerval it = { 0 };
	it.it_value.tv_sec = left->left_us / 1000000;
	it.it_value.tv_usec = (suseconds_t)(left->left_us % 1000000);
	setitimer(ITIMER_PROF, &it, NULL);
	left->left_us = 0;
}

/* Exit status of a child that could not set itself up (limits, parent
 * gone): no item was started, none is to blame. */
#define EXIT_SETUP 125

/* What the child reports for each finished item. */
struct report {
	uint64_t i;
	int64_t r; /* process()'s return, WORKER_STOP included */
};

static int set_limit(int resource, rlim_t want, const char *name)
{
	struct rlimit rl;
	if (getrlimit(resource, &rl) < 0)
		return -errno;
	/* Never above the hard limit: lowering always works. */
	if (rl.rlim_max != RLIM_INFINITY && want > rl.rlim_max)
		want = rl.rlim_max;
	rl.rlim_cur = want;
	if (resource != RLIMIT_STACK)
		rl.rlim_max = want;
	if (setrlimit(resource, &rl) < 0) {
		int e = errno;
		log_msg(LOG_ERROR, "event=worker-setup-failed limit=%s "
			"error=\"%s\"", name, strerror(e));
		return -e;
	}
	return 0;
}

static int apply_limits(const struct worker_limits *lim)
{
	int r = 0;
	if (lim->memory_bytes)
		r = set_limit(RLIMIT_AS, lim->memory_bytes, "memory");
	if (r == 0 && lim->stack_bytes)
		r = set_limit(RLIMIT_STACK, lim->stack_bytes, "stack");
	/* No core files of hostile mail on disk. */
	if (r == 0)
		r = set_limit(RLIMIT_CORE, 0, "core");
	/* SIGPROF's default action ends the process: the CPU budget. */
	signal(SIGPROF, SIG_DFL);
	return r;
}

/* In a new child: dies with its parent, under the limits. */
static void child_setup(const struct worker_limits *lim, pid_t parent)
{
	/* If the parent died before prctl, the signal never comes: the
	 * child was re-parented, and getppid() says so. */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != parent)
		_exit(EXIT_SETUP);
	if (apply_limits(lim) < 0)
		_exit(EXIT_SETUP);
}

/* In a child: item i under the CPU limit (through process_desc when desc
 * is not NULL), then its report. Returns process()'s return, with
 * WORKER_STOP also set when the report could not be written. */
static int run_item(const struct worker_ops *ops, void *ctx,
		    const struct worker_limits *lim, int fd, size_t i,
		    const char *desc, size_t len)
{
	if (lim->cpu_ms)
		arm_cpu_timer(lim->cpu_ms);
	int r = desc ? ops->process_desc(i, desc, len, ctx)
		     : ops->process(i, ctx);
	if (lim->cpu_ms)
		arm_cpu_timer(0);
	struct report rep = { .i = i, .r = r };
	if (util_write_all(fd, &rep, sizeof(rep)) < 0)
		r |= WORKER_STOP;
	return r;
}

static void child_main(size_t start, size_t n, const struct worker_ops *ops,
		       void *ctx, const struct worker_limits *lim, int fd,
		       pid_t parent)
{
	child_setup(lim, parent);
	int worst = 0;
	for (size_t i = start; i < n; i++) {
		int r = run_item(ops, ctx, lim, fd, i, NULL, 0);
		if ((r & ~WORKER_STOP) > worst)
			worst = r & ~WORKER_STOP;
		if (r & WORKER_STOP)
			break;
	}
	if (ops->child_done)
		ops->child_done(ctx);
	_exit(worst);
}

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Waits up to wall_ms (0: no limit) for the child's next report. 1: *rep
 * has it; 0: end of file (the child is gone or ending) or the limit
 * struck (the child is killed, *killed set). */
static int read_report(int fd, pid_t pid, unsigned wall_ms,
		       struct report *rep, bool *killed)
{
	int64_t deadline = wall_ms ? now_ms() + wall_ms : 0;
	for (;;) {
		int timeout = -1;
		if (wall_ms) {
			int64_t left = deadline - now_ms();
			if (left <= 0) {
				kill(pid, SIGKILL);
				*killed = true;
				return 0;
			}
			timeout = left > 1000000 ? 1000000 : (int)left;
		}
		struct pollfd p = { .fd = fd, .events = POLLIN };
		int pr = poll(&p, 1, timeout);
		if (pr < 0 && errno == EINTR)
			continue;
		if (pr == 0)
			continue; /* the deadline check above */
		ssize_t got = read(fd, rep, sizeof(*rep));
		if (got < 0 && errno == EINTR)
			continue;
		return got == (ssize_t)sizeof(*rep);
	}
}

/* Reads the child's reports until EOF or the wall-clock limit (renewed
 * by each report). Returns the next item not done; *killed when the limit
 * struck, *stop when the child asked to end the batch. */
static size_t follow_child(int fd, pid_t pid, size_t next, unsigned wall_ms,
			   bool *killed, bool *stop)
{
	size_t in_flight = next;
	struct report rep;
	while (read_report(fd, pid, wall_ms, &rep, killed) == 1) {
		in_flight = (size_t)rep.i + 1;
		if (rep.r & WORKER_STOP)
			*stop = true;
	}
	return in_flight;
}

static int wait_child(pid_t pid)
{
	int status = 0;
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	return status;
}

/* Forks with a channel fds[0] (the parent's) / fds[1] (the child's).
 * Returns the pid (0 in the child) or -errno. */
static pid_t fork_child(int fds[2])
{
	fflush(NULL); /* no buffered output twice */
	pid_t pid = fork();
	if (pid < 0) {
		int e = -errno;
		close(fds[0]);
		close(fds[1]);
		return e;
	}
	close(fds[pid == 0 ? 0 : 1]);
	return pid;
}

/* A child that could not set itself up before its first item. */
static bool setup_failed(int status, bool killed)
{
	if (killed || !WIFEXITED(status) || WEXITSTATUS(status) != EXIT_SETUP)
		return false;
	log_msg(LOG_ERROR, "event=worker-setup-failed "
		"note=\"the worker could not set its limits\"");
	return true;
}

/* The child died before the end (a signal, a limit, or an early exit: a
 * library calling exit(), a sanitizer's report) with item in_flight in
 * hand: that item killed it. Returns crashed()'s return. */
static int blame(size_t in_flight, int status, bool killed,
		 const struct worker_ops *ops, void *ctx,
		 const struct worker_limits *lim)
{
	char why[96];
	bool timeout = false;
	if (killed) {
		timeout = true;
		snprintf(why, sizeof(why), "wall-clock limit of %u ms",
			 lim->wall_ms);
	} else if (WIFSIGNALED(status)) {
		int sig = WTERMSIG(status);
		timeout = sig == SIGPROF || sig == SIGXCPU;
		if (timeout)
			snprintf(why, sizeof(why), "cpu time limit of %u ms",
				 lim->cpu_ms);
		else
			snprintf(why, sizeof(why), "signal %d (%s)", sig,
				 strsignal(sig));
	} else {
		snprintf(why, sizeof(why), "exit status %d",
			 WEXITSTATUS(status));
	}
	log_msg(LOG_WARN, "event=worker-died item=%zu why=\"%s\"", in_flight,
		why);
	return ops->crashed(in_flight, why, timeout, ctx);
}

int worker_run(size_t n, const struct worker_ops *ops, void *ctx,
	       const struct worker_limits *lim, bool isolate)
{
	return worker_run_stoppable(n, ops, ctx, lim, isolate, NULL);
}

int worker_run_stoppable(size_t n, const struct worker_ops *ops, void *ctx,
			 const struct worker_limits *lim, bool isolate,
			 size_t *stopped_r)
{
	int worst = 0;
	if (stopped_r)
		*stopped_r = 0;
	if (!isolate) {
		for (size_t i = 0; i < n; i++) {
			int r = ops->process(i, ctx);
			if ((r & ~WORKER_STOP) > worst)
				worst = r & ~WORKER_STOP;
			if (r & WORKER_STOP) {
				if (stopped_r)
					*stopped_r = n - i - 1;
				break;
			}
		}
		if (ops->child_done)
			ops->child_done(ctx);
		return worst;
	}
	size_t next = 0;
	pid_t self = getpid();
	while (next < n) {
		int fds[2];
		if (pipe2(fds, O_CLOEXEC) < 0)
			return -errno;
		pid_t pid = fork_child(fds);
		if (pid < 0)
			return pid;
		if (pid == 0)
			child_main(next, n, ops, ctx, lim, fds[1], self);
		bool killed = false, stop = false;
		size_t in_flight = follow_child(fds[0], pid, next, lim->wall_ms,
						&killed, &stop);
		close(fds[0]);
		int status = wait_child(pid);
		if (stop || in_flight >= n) {
			if (WIFEXITED(status) && WEXITSTATUS(status) > worst)
				worst = WEXITSTATUS(status);
			if (stop && stopped_r)
				*stopped_r = n - in_flight;
			break;
		}
		if (in_flight == next && setup_failed(status, killed))
			return -EPERM;
		int r = blame(in_flight, status, killed, ops, ctx, lim);
		if ((r & ~WORKER_STOP) > worst)
			worst = r & ~WORKER_STOP;
		next = in_flight + 1;
		if (r & WORKER_STOP) {
			if (stopped_r)
				*stopped_r = n - next;
			break;
		}
	}
	return worst;
}

/* ---- the kept child (serve) ----------------------------------------- */

/* A request: the item's index, then its descriptor (one record). */
#define REQ_HEAD sizeof(uint64_t)

static void keep_child_main(struct worker_keep *w, int fd, pid_t parent)
{
	child_setup(w->lim, parent);
	/* Its parent ends it (end of input) when it has finished the item
	 * in hand: a SIGTERM to the whole process group must not. */
	signal(SIGTERM, SIG_IGN);
	signal(SIGINT, SIG_IGN);
	if (w->ops->child_start)
		w->ops->child_start(w->ctx);
	char req[REQ_HEAD + WORKER_DESC_MAX + 1];
	for (;;) {
		ssize_t got = recv(fd, req, sizeof(req) - 1, 0);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < (ssize_t)REQ_HEAD)
			break; /* end of input: the parent ends us */
		req[got] = '\0';
		uint64_t i;
		memcpy(&i, req, REQ_HEAD);
		int r = run_item(w->ops, w->ctx, w->lim, fd, (size_t)i,
				 req + REQ_HEAD, (size_t)got - REQ_HEAD);
		if (r & WORKER_STOP)
			break;
	}
	if (w->ops->child_done)
		w->ops->child_done(w->ctx);
	_exit(0);
}

void worker_keep_init(struct worker_keep *w, const struct worker_ops *ops,
		      void *ctx, const struct worker_limits *lim, bool isolate)
{
	*w = (struct worker_keep){ .ops = ops, .ctx = ctx, .lim = lim,
				   .isolate = isolate,
				   .recycle = WORKER_KEEP_ITEMS, .fd = -1 };
}

int worker_keep_start(struct worker_keep *w)
{
	if (!w->isolate || w->pid)
		return 0;
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
		return -errno;
	pid_t self = getpid();
	pid_t pid = fork_child(sv);
	if (pid < 0)
		return pid;
	if (pid == 0)
		keep_child_main(w, sv[1], self);
	w->pid = pid;
	w->fd = sv[0];
	w->items = 0;
	return 0;
}

/* The child is gone or going: its exit status. */
static int keep_reap(struct worker_keep *w)
{
	close(w->fd);
	w->fd = -1;
	int status = wait_child(w->pid);
	w->pid = 0;
	return status;
}

void worker_keep_end(struct worker_keep *w)
{
	if (!w->isolate) {
		if (w->ops->child_done)
			w->ops->child_done(w->ctx);
		return;
	}
	if (!w->pid)
		return;
	/* End of input; it closes its end when it exits. */
	shutdown(w->fd, SHUT_WR);
	struct report rep;
	bool killed = false;
	while (read_report(w->fd, w->pid, w->lim->wall_ms, &rep, &killed) == 1)
		;
	keep_reap(w);
}

/* Item i through the kept child. Returns process()'s return or
 * crashed()'s, <0 when no child could be started. */
static int keep_item(struct worker_keep *w, size_t i, char *req, size_t len)
{
	for (int attempt = 0;; attempt++) {
		int status;
		if (w->pid && waitpid(w->pid, &status, WNOHANG) == w->pid) {
			/* Died while idle (killed from outside): no item to
			 * blame. */
			log_msg(LOG_WARN, "event=worker-died item=none "
				"note=\"while idle\"");
			close(w->fd);
			w->fd = -1;
			w->pid = 0;
		}
		bool fresh = !w->pid;
		int r = worker_keep_start(w);
		if (r < 0)
			return r;
		uint64_t idx = i;
		memcpy(req, &idx, REQ_HEAD);
		w->items++;
		ssize_t sent;
		do
			sent = send(w->fd, req, REQ_HEAD + len, MSG_NOSIGNAL);
		while (sent < 0 && errno == EINTR);
		bool killed = false;
		struct report rep;
		if (sent == (ssize_t)(REQ_HEAD + len) &&
		    read_report(w->fd, w->pid, w->lim->wall_ms, &rep,
				&killed) == 1 &&
		    rep.i == idx) {
			r = (int)rep.r;
			if (r & WORKER_STOP)
				keep_reap(w); /* it ends itself */
			else if (w->items >= w->recycle) {
				log_msg(LOG_INFO, "event=worker-recycled "
					"items=%u", w->items);
				worker_keep_end(w);
				worker_keep_start(w);
			}
			return r;
		}
		/* End of file (it died), a send it never got, or a report
		 * out of order: make sure it is gone before the wait. */
		if (!killed)
			kill(w->pid, SIGKILL);
		status = keep_reap(w);
		if (fresh && setup_failed(status, killed))
			return -EPERM;
		if (sent < 0) {
			/* It never got the item: it died before (idle, or
			 * starting). Once more with a new one. */
			log_msg(LOG_WARN, "event=worker-died item=none "
				"note=\"before it got the item\"");
			if (attempt == 0)
				continue;
			return -ECHILD;
		}
		return blame(i, status, killed, w->ops, w->ctx, w->lim);
	}
}

int worker_keep_run(struct worker_keep *w, size_t n, size_t *stopped_r)
{
	int worst = 0;
	size_t stopped = 0;
	char req[REQ_HEAD + WORKER_DESC_MAX + 1];
	for (size_t i = 0; i < n; i++) {
		int len = w->ops->describe(i, w->ctx, req + REQ_HEAD,
					   WORKER_DESC_MAX);
		if (len < 0) {
			stopped = n - i;
			break;
		}
		if (len > WORKER_DESC_MAX)
			len = WORKER_DESC_MAX;
		req[REQ_HEAD + len] = '\0';
		int r;
		if (!w->isolate)
			r = w->ops->process_desc(i, req + REQ_HEAD, (size_t)len,
						 w->ctx);
		else
			r = keep_item(w, i, req, (size_t)len);
		if (r < 0)
			return r;
		if ((r & ~WORKER_STOP) > worst)
			worst = r & ~WORKER_STOP;
		if (r & WORKER_STOP) {
			stopped = n - i - 1;
			break;
		}
	}
	if (stopped_r)
		*stopped_r = stopped;
	return worst;
}
