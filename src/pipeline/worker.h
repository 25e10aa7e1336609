/* worker.h - runs a batch of messages in a child process under limits.
 *
 * Decoding hostile mail with Debian's libetpan can crash or stall
 * (LIBRARIES.md 2.6). worker_run() forks one child that handles items
 * start..n-1 in order, reporting each finished index over a pipe. If the
 * child dies (signal, CPU time, memory), the parent learns which item was
 * in flight, calls `crashed` for it (the caller quarantines it as
 * decoder-crash) and starts a new child at the next item. One fork per
 * batch, not per message, so the isolation costs almost nothing.
 *
 * The child must not use anything the parent opened that is not fork-safe
 * (a SQLite connection): open such things inside `process`, and in
 * `crashed` open and close the parent's own (store.c refuses a
 * connection used by a process that did not open it). */
#ifndef TRACKMAIL_WORKER_H
#define TRACKMAIL_WORKER_H

#include <stdbool.h>
#include <stddef.h>

struct worker_limits {
	unsigned cpu_ms;        /* CPU time per item (ITIMER_PROF); 0: none */
	unsigned wall_ms;       /* wall-clock time per item, enforced by the
				 * parent (SIGKILL); 0: none */
	size_t memory_bytes;    /* RLIMIT_AS; 0: none (ASan builds) */
	size_t stack_bytes;     /* RLIMIT_STACK; 0: unchanged */
};

/* Or'ed into process()'s return: stop the batch after this item (the
 * store refuses writes: every further item would fail the same way). */
#define WORKER_STOP 0x100

struct worker_ops {
	/* In the child: handle item i; returns an exit-code contribution
	 * (0 fine, >0 some error worth a non-zero exit), | WORKER_STOP to
	 * end the batch here. */
	int (*process)(size_t i, void *ctx);
	/* In the parent: item i killed its worker; why is e.g. "signal 11
	 * (Segmentation fault)" or "cpu time limit"; timeout is true for the
	 * CPU and the wall-clock limit. Returns like process (WORKER_STOP
	 * ends the batch). */
	int (*crashed)(size_t i, const char *why, bool timeout, void *ctx);
	/* In the child, once when it ends: flush, close. May be NULL. */
	void (*child_done)(void *ctx);
};

/* In a worker child: stops the CPU timer for work that must not be cut
 * by it, the commit of a decided message, keeping the time left in
 * *left; worker_resume_cpu_limit() re-arms it with that time. No-ops where
 * no timer runs (the parent, --no-isolate). The parent's wall-clock limit
 * still applies; a message stored before the worker died is never stored
 * twice anyway (pipeline.h). */
struct worker_cpu_pause {
	long left_us; /* 0: no timer was running */
};
void worker_pause_cpu_limit(struct worker_cpu_pause *left);
void worker_resume_cpu_limit(struct worker_cpu_pause *left);

/* Default limits from core/limits.h (the CPU time is also the config key
 * worker_cpu_ms), the memory limit dropped when built with
 * AddressSanitizer (it reserves terabytes of address space). */
void worker_default_limits(struct worker_limits *lim);

/* Runs items 0..n-1. Returns the largest exit-code contribution, or <0
 * when no child could be started (fork failed, or the child could not set
 * its limits: -EPERM). With isolate false, runs in-process (for debugging
 * with gdb).
 *
 * The child sets PR_SET_PDEATHSIG and then checks that its parent is
 * still the one that forked it (it may have died in between); the parent
 * kills a child that reports nothing for wall_ms. */
int worker_run(size_t n, const struct worker_ops *ops, void *ctx,
	       const struct worker_limits *lim, bool isolate);
/* worker_run() that also tells, in *stopped_r, how many items were left
 * unprocessed after a WORKER_STOP (0 when none). */
int worker_run_stoppable(size_t n, const struct worker_ops *ops, void *ctx,
			 const struct worker_limits *lim, bool isolate,
			 size_t *stopped_r);

#endif
