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
 * connection used by a process that did not open it).
 *
 * `trackmail serve` keeps its child instead (worker_keep_*, issue 9): a
 * child costs 25-30 ms of CPU (page faults and malloc after fork, opening
 * its SQLite connection), and under light load mail comes one message per
 * batch. The kept child opens its connection once and keeps it, its
 * parser set and matcher across batches; the parent hands it one item at
 * a time (a short descriptor, the spool id, over a socket) and reads
 * each result as worker_run() does. The limits are the same per item:
 * the CPU timer armed for each item, the wall-clock limit while an item
 * is in hand, RLIMIT_AS/stack on the child. A child that dies with an
 * item in hand is handled as in worker_run() (`crashed`, a new child for
 * the next item); one found dead while idle blames nothing. After
 * WORKER_KEEP_ITEMS items the child is replaced, so leaks and heap
 * fragmentation stay bounded. The parser set is fixed at fork: a reload
 * replaces the serve worker process, and its child with it. */
#ifndef TRACKMAIL_WORKER_H
#define TRACKMAIL_WORKER_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

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

	/* For worker_keep_* only (NULL for worker_run): */
	/* In the parent: writes what the child needs to find item i into
	 * out[0..cap) (e.g. its spool id); returns the length, or <0 to end
	 * the batch before item i (it stays unprocessed: SIGTERM). */
	int (*describe)(size_t i, void *ctx, char *out, size_t cap);
	/* In the kept child: handle item i, described by desc[0..len)
	 * (desc[len] is 0); returns like process. The child's copy of the
	 * parent's state dates from the fork: use desc, not i, to find the
	 * item. */
	int (*process_desc)(size_t i, const char *desc, size_t len,
			    void *ctx);
	/* In the kept child, once when it starts: drop what it inherited
	 * and must not hold (the parent's taken spool files: a flock lasts
	 * while any process has the file open), open what it keeps. May be
	 * NULL. */
	void (*child_start)(void *ctx);
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


/* A child kept across batches (serve); see the top of this file. */
#define WORKER_KEEP_ITEMS 1000u /* items per child before a new one */
#define WORKER_DESC_MAX 1024    /* describe()'s cap */

struct worker_keep {
	const struct worker_ops *ops;
	void *ctx;
	const struct worker_limits *lim;
	bool isolate;      /* false: in-process, as worker_run() */
	unsigned recycle;  /* WORKER_KEEP_ITEMS unless changed */
	pid_t pid;         /* the child; 0: none */
	int fd;            /* the parent's end of the socket; -1 */
	unsigned items;    /* items handed to this child */
};

/* ops needs describe and process_desc (and crashed); ops, ctx and lim
 * must outlive w. Starts no child. */
void worker_keep_init(struct worker_keep *w, const struct worker_ops *ops,
		      void *ctx, const struct worker_limits *lim,
		      bool isolate);
/* Starts the child now if none runs (so that the next item does not wait
 * for the fork and the child's setup). <0: -errno. */
int worker_keep_start(struct worker_keep *w);
/* Runs items 0..n-1 like worker_run_stoppable(), through the kept child
 * (started when none runs). */
int worker_keep_run(struct worker_keep *w, size_t n, size_t *stopped_r);
/* Ends the child: it sees end of input, runs child_done and exits (killed
 * after wall_ms). In-process, calls child_done. */
void worker_keep_end(struct worker_keep *w);

#endif
