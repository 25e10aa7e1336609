/* worker.c - a crash-contained child process for a batch; see worker.h. */
#include "pipeline/worker.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/wait.h>
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

static void apply_limits(const struct worker_limits *lim)
{
	struct rlimit rl;
	if (lim->memory_bytes) {
		rl.rlim_cur = rl.rlim_max = lim->memory_bytes;
		setrlimit(RLIMIT_AS, &rl);
	}
	if (lim->stack_bytes && getrlimit(RLIMIT_STACK, &rl) == 0) {
		rl.rlim_cur = lim->stack_bytes;
		if (rl.rlim_max != RLIM_INFINITY && rl.rlim_max < rl.rlim_cur)
			rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_STACK, &rl);
	}
	/* SIGPROF's default action ends the process: the CPU budget. */
	signal(SIGPROF, SIG_DFL);
	/* No core files of hostile mail on disk. */
	rl.rlim_cur = rl.rlim_max = 0;
	setrlimit(RLIMIT_CORE, &rl);
}

static void child_main(size_t start, size_t n, const struct worker_ops *ops,
		       void *ctx, const struct worker_limits *lim, int fd)
{
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	apply_limits(lim);
	int worst = 0;
	for (size_t i = start; i < n; i++) {
		if (lim->cpu_ms)
			arm_cpu_timer(lim->cpu_ms);
		int r = ops->process(i, ctx);
		if (lim->cpu_ms)
			arm_cpu_timer(0);
		if (r > worst)
			worst = r;
		uint64_t done = i;
		if (util_write_all(fd, &done, sizeof(done)) < 0)
			break;
	}
	if (ops->child_done)
		ops->child_done(ctx);
	_exit(worst);
}

int worker_run(size_t n, const struct worker_ops *ops, void *ctx,
	       const struct worker_limits *lim, bool isolate)
{
	int worst = 0;
	if (!isolate) {
		for (size_t i = 0; i < n; i++) {
			int r = ops->process(i, ctx);
			if (r > worst)
				worst = r;
		}
		if (ops->child_done)
			ops->child_done(ctx);
		return worst;
	}
	size_t next = 0;
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
			child_main(next, n, ops, ctx, lim, fds[1]);
		}
		close(fds[1]);
		uint64_t done;
		ssize_t got;
		size_t in_flight = next;
		for (;;) {
			got = read(fds[0], &done, sizeof(done));
			if (got < 0 && errno == EINTR)
				continue;
			if (got != (ssize_t)sizeof(done))
				break;
			in_flight = (size_t)done + 1;
		}
		close(fds[0]);
		int status = 0;
		while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
			;
		if (in_flight >= n) {
			if (WIFEXITED(status) && WEXITSTATUS(status) > worst)
				worst = WEXITSTATUS(status);
			break;
		}
		/* Died before the end: a signal, or an early exit (a library
		 * calling exit(), a sanitizer's report): the item in flight is
		 * the one that killed it. */
		char why[96];
		bool timeout = false;
		if (WIFSIGNALED(status)) {
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
		if (r > worst)
			worst = r;
		next = in_flight + 1;
	}
	return worst;
}
