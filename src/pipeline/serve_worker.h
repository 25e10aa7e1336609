/* serve_worker.h - one worker process of `trackmail serve`: takes
 * messages from the spool's new/, decides them through pipeline_process()
 * in a limited child (worker.h), commits the decision and moves the raw
 * message to <data-dir>/archive/<day>/ (DESIGN.md "Processes").
 *
 * A message is taken with an flock on its spool file, held by this process
 * while its decoder child runs: a child that dies leaves it taken, and
 * the crash is recorded (decoder-crash/-timeout) by this process. A
 * worker killed outright releases it: another worker takes it again, and
 * the store's unique spool id makes a second commit a duplicate (decided
 * exactly once). */
#ifndef TRACKMAIL_SERVE_WORKER_H
#define TRACKMAIL_SERVE_WORKER_H

#include <signal.h>
#include <stdbool.h>
#include <sys/types.h>

#include "parse/parser.h"
#include "pipeline/worker.h"

struct serve_worker_opts {
	int index;                       /* for logs: worker=N */
	const char *data_dir;
	const struct parser_set *parsers;
	struct worker_limits limits;
	bool isolate;                    /* false: decide in-process */
	pid_t supervisor;                /* exit when the parent changes */
	/* Set from the SIGTERM handler: finish the message in hand, stop. */
	volatile sig_atomic_t *stop;
	/* DKIM keys from this file instead of DNS (config dkim_query_file;
	 * NULL or "" = DNS), as `ingest` does. */
	const char *dkim_query_file;
};

/* Runs until *stop or the supervisor is gone. Returns an exit code: 0
 * after a clean stop, 3 when the store or spool cannot be opened. */
int serve_worker_run(const struct serve_worker_opts *o);

#endif
