/* parse.c - `trackmail parse` (dry run) and `trackmail ingest` (stored).
 *
 * Both run the same pipeline over every PATH, one message per file, in a
 * worker child process (src/pipeline/worker.c): a message that crashes or
 * stalls the decoder is reported as quarantined with reason decoder-crash
 * or decoder-timeout and the command goes on with the next file. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/stat.h>

#include "cli/cli.h"
#include "intake/spool.h"
#include "core/limits.h"
#include "core/log.h"
#include "core/term.h"
#include "core/util.h"
#include "pipeline/pipeline.h"
#include "pipeline/worker.h"

static const char parse_usage[] =
	"usage: trackmail parse [--json] [--explain] [--parsers DIR] PATH...\n"
	"\n"
	"Decodes and parses each message (a file, every mail file below a\n"
	"directory: *.eml and Maildir cur/ and new/ entries, or - for\n"
	"standard input) and prints what trackmail would decide. Nothing is\n"
	"stored. A broken parser file is reported and skipped.\n"
	"\n"
	"  --json          one JSON object per message per line\n"
	"  --explain       show which parser and rule matched which text\n"
	"  --parsers DIR   parser files (default: $TRACKMAIL_PARSERS_DIR,\n"
	"                  ./parsers, or the installed ones)\n"
	"  --no-isolate    decode in-process (debugging only)\n"
	"  -h, --help      this text\n"
	"\n"
	"Exit: 0 every message got a decision, 1 some input could not be\n"
	"read, 2 usage, 3 cannot start.\n";

static const char ingest_usage[] =
	"usage: trackmail ingest [--data-dir DIR] [--account NAME] [--json]\n"
	"                        [--explain] [--parsers DIR] PATH...\n"
	"\n"
	"Runs each message through the pipeline and stores the decision in\n"
	"the data dir: orders, shipments, events, or a quarantine copy with\n"
	"its reason. The same message twice changes nothing (duplicate).\n"
	"\n"
	"  --data-dir DIR  data dir (default: $TRACKMAIL_DATA_DIR, else\n"
	"                  ./trackmail-data)\n"
	"  --account NAME  file under this account (default: the account of\n"
	"                  the t-<token>@ recipient, else 'default')\n"
	"  --skip-broken-parsers  start even when a parser file is broken\n"
	"                  (its supplier's mail then falls to the fallback)\n"
	"  --json, --explain, --parsers, --no-isolate: as for parse\n"
	"\n"
	"A directory yields mail files only: *.eml and the entries of a\n"
	"Maildir's cur/ and new/; what it skips is named on stderr.\n"
	"\n"
	"Exit: 0 every message stored, 1 some input could not be read or\n"
	"stored (ingest stops at the first write the store refuses, e.g. a\n"
	"full disk), 2 usage, 3 cannot start (also: a broken parser file).\n";

struct run_ctx {
	struct cli_common common;
	struct cli_paths paths;
	struct pipeline pl;
	bool ingest;
	/* Standard input, read once in the parent so a crashed worker's
	 * message can still be quarantined. */
	char *stdin_data;
	size_t stdin_len;
	int stdin_err;
};

static int read_input(struct run_ctx *ctx, size_t i, char **data_r,
		      size_t *len_r)
{
	if (strcmp(ctx->paths.v[i], "-") == 0) {
		if (ctx->stdin_err)
			return ctx->stdin_err;
		*data_r = ctx->stdin_data;
		*len_r = ctx->stdin_len;
		return 1; /* borrowed */
	}
	return util_read_file(ctx->paths.v[i], LIMIT_MESSAGE_SIZE, data_r,
			      len_r);
}

static void print_human(const struct pipeline_result *res, const char *name)
{
	const struct parse_result *r = &res->parse;
	const char *supplier = r->parser ? parser_id(r->parser) : "-";
	/* Names and mail-derived text escaped for the terminal. */
	struct buf b;
	buf_init(&b, (size_t)-1);
	term_escape(&b, name);
	buf_printf(&b, ": %s event=%s parser=%s",
		   res->duplicate ? "duplicate" : parse_outcome_name(r->outcome),
		   parse_event_name(r->event), supplier);
	if (r->order) {
		buf_append_str(&b, " order=");
		term_escape(&b, r->order);
	}
	for (size_t i = 0; i < r->n_shipments; i++)
		buf_printf(&b, " tracking=%s/%s",
			   r->shipments[i].decision.check.normalized,
			   r->shipments[i].carrier_id);
	for (size_t i = 0; i < r->n_notices; i++) {
		buf_append_str(&b, " notice=");
		term_escape(&b, r->notices[i].number);
	}
	if (r->reason) {
		buf_printf(&b, " reason=%s (", r->reason);
		term_escape(&b, r->detail ? r->detail : "");
		buf_append_char(&b, ')');
	}
	if (res->quarantine_id)
		buf_printf(&b, " quarantine_id=%lld",
			   (long long)res->quarantine_id);
	puts(buf_cstr(&b));
	buf_free(&b);
	if (r->explain.len) {
		_cleanup_free_ char *safe = term_safe(buf_cstr(&r->explain));
		printf("%s", safe);
	}
}

static void report(struct run_ctx *ctx, const struct pipeline_result *res,
		   const char *name)
{
	if (ctx->common.json)
		cli_print_json(res->json, false);
	else
		print_human(res, name);
	fflush(stdout);
}

/* In the worker child: its own connection, opened after fork. */
static int ensure_store(struct run_ctx *ctx)
{
	if (!ctx->ingest || ctx->pl.store)
		return 0;
	return cli_open_store(&ctx->common, &ctx->pl.store);
}

/* After a store failure: stop taking input when the store refuses writes
 * (disk full, read-only, I/O error): every further message would fail
 * the same way, and nothing half-stored is left behind (each message is
 * one transaction). A busy database is transient. */
static int store_failed(struct run_ctx *ctx, const char *name, int r,
			const struct pipeline_result *res)
{
	_cleanup_free_ char *safe = term_safe(name);
	fprintf(stderr, "trackmail: %s: not stored: %s\n", safe,
		res->error ? res->error : strerror(-r));
	if (r == -EBUSY || !ctx->ingest)
		return EXIT_SOME_FAILED;
	fprintf(stderr, "trackmail: the store refuses writes: stopping\n");
	return EXIT_SOME_FAILED | WORKER_STOP;
}

static void print_read_error(const char *name, int r)
{
	_cleanup_free_ char *safe = term_safe(name);
	if (r == -EFBIG)
		fprintf(stderr, "trackmail: %s: larger than the message size "
			"limit of %u bytes; not processed, the file is left as "
			"it is\n", safe, LIMIT_MESSAGE_SIZE);
	else
		fprintf(stderr, "trackmail: %s: %s\n", safe, strerror(-r));
}

/* `ingest` keeps the raw message in <data-dir>/archive/<day>/ like the
 * service's workers (docs/intake.md "Spool"), so a replay sees every
 * stored message. Named by time and content hash. */
static void archive_ingested(struct run_ctx *ctx, const char *data,
			     size_t len)
{
	char hash[65];
	util_sha256_hex(data, len, hash);
	hash[16] = '\0';
	_cleanup_free_ char *name = xasprintf("%lld.I%s.ingest",
					      (long long)time(NULL), hash);
	char err[512];
	if (spool_archive_bytes(ctx->common.data_dir, name, data, len, err,
				sizeof(err)) < 0)
		fprintf(stderr, "trackmail: warning: %s\n", err);
}

static int process_one(size_t i, void *vctx)
{
	struct run_ctx *ctx = vctx;
	const char *name = ctx->paths.v[i];
	char *data = NULL;
	size_t len = 0;
	int r = read_input(ctx, i, &data, &len);
	if (r < 0) {
		print_read_error(name, r);
		return EXIT_SOME_FAILED;
	}
	bool borrowed = r == 1;
	if (ensure_store(ctx) < 0) {
		if (!borrowed)
			free(data);
		return EXIT_SOME_FAILED | WORKER_STOP;
	}
	struct pipeline_result res;
	pipeline_result_init(&res);
	r = pipeline_process(&ctx->pl, data, len, name, &res);
	int rc = EXIT_DONE;
	if (r < 0)
		rc = store_failed(ctx, name, r, &res);
	else
		report(ctx, &res, name);
	if (r == 0 && ctx->ingest && !res.duplicate)
		archive_ingested(ctx, data, len);
	pipeline_result_clear(&res);
	if (!borrowed)
		free(data);
	return rc;
}

static int crashed_one(size_t i, const char *why, bool timeout, void *vctx)
{
	struct run_ctx *ctx = vctx;
	const char *name = ctx->paths.v[i];
	char *data = NULL;
	size_t len = 0;
	/* Only a regular file (or stdin, read up front) is read again: a
	 * FIFO that blocked the worker would block the parent too. */
	struct stat st;
	int r = strcmp(name, "-") == 0 || (stat(name, &st) == 0 &&
					   S_ISREG(st.st_mode))
			? read_input(ctx, i, &data, &len)
			: -EINVAL;
	if (r < 0) {
		_cleanup_free_ char *safe = term_safe(name);
		fprintf(stderr, "trackmail: %s: decoder died (%s) and the file "
			"cannot be read again: %s\n", safe, why,
			r == -EINVAL ? "not a regular file" : strerror(-r));
		return EXIT_SOME_FAILED;
	}
	bool borrowed = r == 1;
	char *detail = xasprintf("the decoder worker died on this message: %s",
				 why);
	struct pipeline_result res;
	pipeline_result_init(&res);
	/* The parent's own connection, opened for this and closed again:
	 * no connection may cross the next fork(). */
	struct pipeline pl = ctx->pl;
	pl.store = NULL;
	r = ctx->ingest ? cli_open_store(&ctx->common, &pl.store) : 0;
	if (r == 0)
		r = pipeline_record_crash(&pl, data, len, name,
					  timeout ? "decoder-timeout"
						  : "decoder-crash",
					  detail, &res);
	store_close(&pl.store);
	int rc = EXIT_DONE;
	if (r < 0)
		rc = store_failed(ctx, name, r, &res);
	else
		report(ctx, &res, name);
	pipeline_result_clear(&res);
	free(detail);
	if (!borrowed)
		free(data);
	return rc;
}

static void child_done(void *vctx)
{
	struct run_ctx *ctx = vctx;
	store_close(&ctx->pl.store);
	fflush(stdout);
}

static int run(int argc, char **argv, bool ingest)
{
	enum { OPT_ACCOUNT = 256, OPT_NO_ISOLATE, OPT_SKIP_BROKEN };
	static const struct option opts[] = {
		CLI_OPTION_JSON,
		CLI_OPTION_PARSERS,
		CLI_OPTION_DATA_DIR,
		CLI_OPTION_CONFIG,
		{ "explain", no_argument, NULL, 'e' },
		{ "account", required_argument, NULL, OPT_ACCOUNT },
		{ "no-isolate", no_argument, NULL, OPT_NO_ISOLATE },
		{ "skip-broken-parsers", no_argument, NULL, OPT_SKIP_BROKEN },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	const char *usage = ingest ? ingest_usage : parse_usage;
	struct run_ctx ctx = { .ingest = ingest };
	bool isolate = true, skip_broken = false;
	int c;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'e':
			ctx.pl.explain = true;
			break;
		case CLI_OPT_DATA_DIR:
		case OPT_ACCOUNT:
			if (!ingest)
				goto bad; /* parse stores nothing */
			if (c == OPT_ACCOUNT)
				ctx.pl.account_name = optarg;
			else
				ctx.common.data_dir = optarg;
			break;
		case OPT_NO_ISOLATE:
			isolate = false;
			break;
		case OPT_SKIP_BROKEN:
			skip_broken = true;
			break;
		case 'h':
			cli_usage(usage, false);
			return EXIT_DONE;
		default:
			if (cli_common_option(&ctx.common, c, optarg))
				break;
			goto bad;
		}
	}
	if (optind >= argc) {
		fprintf(stderr, "trackmail: %s: no PATH given\n", argv[0]);
		goto bad;
	}
	if (cli_common_defaults(&ctx.common) != 0)
		return EXIT_USAGE;
	ctx.pl.data_dir = ctx.common.data_dir;
	ctx.pl.dkim_query_file = ctx.common.cfg->dkim_query_file;

	struct parser_set *set = NULL;
	/* ingest stores decisions: a broken parser file would send its
	 * supplier's mail to the fallback unnoticed. parse only warns. */
	if (cli_load_parsers_checked(&ctx.common, !ingest || skip_broken,
				     &set) < 0)
		return EXIT_CANNOT_START;
	ctx.pl.parsers = set;
	ctx.pl.matcher = parser_matcher_new();

	int worst = EXIT_DONE;
	if (ingest) {
		/* Check the database and the account once, up front. */
		struct store *store = NULL;
		if (cli_open_store(&ctx.common, &store) < 0) {
			worst = EXIT_CANNOT_START;
			goto out;
		}
		struct store_account a;
		if (ctx.pl.account_name &&
		    strcmp(ctx.pl.account_name, "default") != 0 &&
		    store_account_by_name(store, ctx.pl.account_name, &a) < 0) {
			fprintf(stderr, "trackmail: no account named '%s' "
				"(create it with: trackmail accounts add %s)\n",
				ctx.pl.account_name, ctx.pl.account_name);
			store_close(&store);
			worst = EXIT_USAGE;
			goto out;
		}
		store_close(&store);
	}

	int errors = 0;
	cli_paths_expand(&ctx.paths, argv + optind, (size_t)(argc - optind),
			 &errors);
	for (size_t i = 0; i < ctx.paths.n; i++) {
		if (strcmp(ctx.paths.v[i], "-") == 0 && !ctx.stdin_data &&
		    !ctx.stdin_err) {
			int r = util_read_file("-", LIMIT_MESSAGE_SIZE,
					       &ctx.stdin_data, &ctx.stdin_len);
			ctx.stdin_err = r < 0 ? r : 0;
		}
	}
	if (errors)
		worst = EXIT_SOME_FAILED;

	struct worker_limits lim;
	worker_default_limits(&lim);
	lim.cpu_ms = (unsigned)ctx.common.cfg->worker_cpu_ms;
	lim.wall_ms = (unsigned)ctx.common.cfg->worker_wall_ms;
	static const struct worker_ops ops = {
		.process = process_one,
		.crashed = crashed_one,
		.child_done = child_done,
	};
	size_t left = 0;
	int r = worker_run_stoppable(ctx.paths.n, &ops, &ctx, &lim, isolate,
				     &left);
	if (left)
		fprintf(stderr, "trackmail: %zu file%s not processed (run "
			"ingest again once the store takes writes: stored "
			"messages are duplicates)\n", left, left == 1 ? "" : "s");
	if (r < 0) {
		fprintf(stderr, "trackmail: cannot start a worker: %s\n",
			strerror(-r));
		worst = EXIT_CANNOT_START;
	} else if (r > worst) {
		worst = r;
	}
out:
	store_close(&ctx.pl.store);
	cli_paths_free(&ctx.paths);
	free(ctx.stdin_data);
	parser_matcher_free(&ctx.pl.matcher);
	parser_set_free(&set);
	return worst;
bad:
	cli_usage(usage, true);
	return EXIT_USAGE;
}

int cli_parse(int argc, char **argv)
{
	return run(argc, argv, false);
}

int cli_ingest(int argc, char **argv)
{
	return run(argc, argv, true);
}
