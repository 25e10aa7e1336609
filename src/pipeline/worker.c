/* worker.c - a crash-contained child process for a batch; see worker.h.
 *
 * The child reports each finished item's index over a pipe (and a stop
 * mark when the caller ends the batch); the parent polls that pipe under
 * the wall-clock limit, so a child blocked in a read is killed too. */
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
#define STOP_MARK UINT64_MAX

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

static void child_main(size_t start, size_t n, const struct worker_ops *ops,
		       void *ctx, const struct worker_limits *lim, int fd,
		       pid_t parent)
{
	/* If the parent died before prctl, the signal never comes: the
	 * child was re-parented, and getppid() says so. */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != parent)
		_exit(EXIT_SETUP);
	if (apply_limits(lim) < 0)
		_exit(EXIT_SETUP);
	int worst = 0;
	for (size_t i = start; i < n; i++) {
		if (lim->cpu_ms)
			arm_cpu_timer(lim->cpu_ms);
		int r = ops->process(i, ctx);
		if (lim->cpu_ms)
			arm_cpu_timer(0);
		bool stop = r & WORKER_STOP;
		r &= ~WORKER_STOP;
		if (r > worst)
			worst = r;
		uint64_t done = i;
		if (util_write_all(fd, &done, sizeof(done)) < 0)
			break;
		if (stop) {
			done = STOP_MARK;
			util_write_all(fd, &done, sizeof(done));
			break;
		}
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

/* Reads the child's reports until EOF or the wall-clock limit. Returns
 * the next item not done; *killed when the limit struck, *stop when the
 * child asked to end the batch. */
static size_t follow_child(int fd, pid_t pid, size_t next, unsigned wall_ms,
			   bool *killed, bool *stop)
{
	size_t in_flight = next;
	int64_t deadline = wall_ms ? now_ms() + wall_ms : 0;
	for (;;) {
		int timeout = -1;
		if (wall_ms) {
			int64_t left = deadline - now_ms();
			if (left <= 0) {
				kill(pid, SIGKILL);
				*killed = true;
				break;
			}
			timeout = left > 1000000 ? 1000000 : (int)left;
		}
		struct pollfd p = { .fd = fd, .events = POLLIN };
		int pr = poll(&p, 1, timeout);
		if (pr < 0 && errno == EINTR)
			continue;
		if (pr == 0)
			continue; /* the deadline check above */
		uint64_t done;
		ssize_t got = read(fd, &done, sizeof(done));
		if (got < 0 && errno == EINTR)
			continue;
		if (got != (ssize_t)sizeof(done))
			break;
		if (done == STOP_MARK) {
			*stop = true;
			continue;
		}
		in_flight = (size_t)done + 1;
		if (wall_ms)
			deadline = now_ms() + wall_ms;
	}
	return in_flight;
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
		fflush(NULL); /* no buffered output twice */
		pid_t pid = fork();
		if (pid < 0) {
			int e = -errno;
			close(fds[0]);
			close(fds[1]);
			return e;
		}
		if (pid == 0) {
			close(fds[0]);
			child_main(next, n, ops, ctx, lim, fds[1], self);
		}
		close(fds[1]);
		bool killed = false, stop = false;
		size_t in_flight = follow_child(fds[0], pid, next, lim->wall_ms,
						&killed, &stop);
		close(fds[0]);
		int status = 0;
		while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
			;
		if (stop || in_flight >= n) {
			if (WIFEXITED(status) && WEXITSTATUS(status) > worst)
				worst = WEXITSTATUS(status);
			if (stop && stopped_r)
				*stopped_r = n - in_flight;
			break;
		}
		if (!killed && WIFEXITED(status) &&
		    WEXITSTATUS(status) == EXIT_SETUP && in_flight == next) {
			log_msg(LOG_ERROR, "event=worker-setup-failed "
				"note=\"the worker could not set its limits\"");
			return -EPERM;
		}
		/* Died before the end: a signal, a limit, or an early exit (a
		 * library calling exit(), a sanitizer's report): the item in
		 * flight is the one that killed it. */
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
				snprintf(why, sizeof(why),
					 "cpu time limit of %u ms",
					 lim->cpu_ms);
			else
				snprintf(why, sizeof(why), "signal %d (%s)",
					 sig, strsignal(sig));
		} else {
			snprintf(why, sizeof(why), "exit status %d",
				 WEXITSTATUS(status));
		}
		log_msg(LOG_WARN, "event=worker-died item=%zu why=\"%s\"",
			in_flight, why);
		int r = ops->crashed(in_flight, why, timeout, ctx);
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
