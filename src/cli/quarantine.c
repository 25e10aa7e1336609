/* quarantine.c - `trackmail quarantine list|show|retry|drop`.
 *
 * The quarantine is a Maildir per account (<data-dir>/quarantine/<account
 * id>, pipeline/qfile.h) that any mail client can open, plus a row per
 * message with its reason. retry re-decides the stored message through
 * the pipeline (pipeline_redecide(): allowlist and every other rule
 * apply, the message row is updated and its earlier decision kept); when
 * it now gets a decision the entry is resolved and the file flagged Seen.
 * drop marks the row dropped and flags the file Trashed: nothing is
 * deleted. Mail-derived text is escaped for the terminal (core/term.h). */
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cli/cli.h"
#include "core/limits.h"
#include "core/term.h"
#include "core/util.h"
#include "pipeline/pipeline.h"
#include "pipeline/qfile.h"
#include "pipeline/worker.h"

static const char usage[] =
	"usage: trackmail quarantine list [--all] [--json]\n"
	"       trackmail quarantine show ID [--json]\n"
	"       trackmail quarantine retry ID|--all [--explain]\n"
	"                                  [--skip-broken-parsers]\n"
	"       trackmail quarantine drop ID\n"
	"\n"
	"list   quarantined messages still open (--all: also resolved and\n"
	"       dropped ones), with their reason\n"
	"show   one entry: reason, detail, original sender and subject, the\n"
	"       Maildir file\n"
	"retry  re-decides the message with the current parsers (after a\n"
	"       parser fix) and every rule ingest applies; resolved when it\n"
	"       now gets a decision (the message's earlier decision is kept\n"
	"       in its history); refuses a broken parser file unless\n"
	"       --skip-broken-parsers\n"
	"drop   marks the entry dropped (the file is flagged Trashed, kept)\n"
	"\n"
	"  --data-dir DIR, --parsers DIR: as for ingest\n";

struct show_ctx {
	bool json;
	const char *data_dir;
};

/* The file of an entry, for display: its path, or the base name when the
 * file is gone. */
static char *entry_file(const char *data_dir, const struct store_quarantine *q)
{
	char *path = NULL;
	if (qfile_path(data_dir, q->account_id, q->path, &path) < 0)
		path = xasprintf("%s (file not found)", q->path);
	return path;
}

static void print_json_row(const struct store_quarantine *q,
			   const char *data_dir)
{
	_cleanup_free_ char *file = entry_file(data_dir, q);
	json_t *o = json_object();
	json_object_set_new(o, "id", json_integer(q->id));
	json_object_set_new(o, "account", json_string(q->account));
	json_object_set_new(o, "reason", json_string(q->reason));
	json_object_set_new(o, "detail", json_string(q->detail));
	json_object_set_new(o, "from", json_string(q->orig_from));
	json_object_set_new(o, "subject", json_string(q->orig_subject));
	json_object_set_new(o, "state", json_string(q->state));
	json_object_set_new(o, "path", json_string(file));
	json_object_set_new(o, "created_at", json_integer(q->created_at));
	/* ASCII only: \u escapes for C1 and bidi controls, also when the
	 * JSON goes to a terminal. */
	char *s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER |
					JSON_ENSURE_ASCII);
	printf("%s\n", s);
	free(s);
	json_decref(o);
}

/* Pads an escaped value to `width` bytes, cut at `max` (like %-W.Ms). */
static void print_cell(const char *raw, int width, int max)
{
	_cleanup_free_ char *safe = term_safe(raw);
	printf("%-*.*s", width, max, safe);
}

static void print_row(const struct store_quarantine *q, void *vctx)
{
	const struct show_ctx *ctx = vctx;
	if (ctx->json) {
		print_json_row(q, ctx->data_dir);
		return;
	}
	printf("%-6lld %-9s ", (long long)q->id, q->state);
	print_cell(q->reason, 22, 64);
	putchar(' ');
	print_cell(q->orig_from, 30, 30);
	putchar(' ');
	print_cell(q->orig_subject, 0, 50);
	putchar('\n');
}

static void print_show(const struct store_quarantine *q, const char *data_dir)
{
	_cleanup_free_ char *file = entry_file(data_dir, q);
	const char *labels[] = { "reason:   ", "detail:   ", "from:     ",
				 "subject:  ", "file:     " };
	const char *values[] = { q->reason, q->detail, q->orig_from,
				 q->orig_subject, file };
	printf("id:       %lld\naccount:  ", (long long)q->id);
	print_cell(q->account, 0, 1024);
	printf("\nstate:    %s\n", q->state);
	for (size_t i = 0; i < 5; i++) {
		_cleanup_free_ char *safe = term_safe(values[i]);
		printf("%s%s\n", labels[i], safe);
	}
}

static int parse_id(const char *s, int64_t *id)
{
	long v;
	if (util_parse_long(s, 1, 0x7fffffffL, &v) < 0) {
		fprintf(stderr, "trackmail: '%s' is not a quarantine id\n", s);
		return -EINVAL;
	}
	*id = v;
	return 0;
}

struct retry_ctx {
	const struct cli_common *common;
	struct pipeline pl; /* pl.store opened in the worker child */
	int64_t *ids;
	size_t n_ids;
};

static void collect_open(const struct store_quarantine *q, void *vctx)
{
	struct retry_ctx *ctx = vctx;
	ctx->ids = xrealloc(ctx->ids, (ctx->n_ids + 1) * sizeof(*ctx->ids));
	ctx->ids[ctx->n_ids++] = q->id;
}

static int retry_one(struct retry_ctx *ctx, int64_t id)
{
	struct store_quarantine q;
	int r = store_quarantine_get(ctx->pl.store, id, &q);
	if (r < 0) {
		fprintf(stderr, "trackmail: no quarantine entry %lld\n",
			(long long)id);
		return EXIT_SOME_FAILED;
	}
	if (strcmp(q.state, "open") != 0 || !q.message_row) {
		fprintf(stderr, "trackmail: entry %lld is %s, not open\n",
			(long long)id, q.message_row ? q.state : "without a message");
		store_quarantine_clear(&q);
		return EXIT_SOME_FAILED;
	}
	char *path = NULL, *raw = NULL;
	size_t len = 0;
	r = qfile_path(ctx->common->data_dir, q.account_id, q.path, &path);
	if (r == 0)
		r = util_read_file(path, LIMIT_MESSAGE_SIZE + 4096, &raw, &len);
	if (r < 0) {
		_cleanup_free_ char *safe = term_safe(path ? path : q.path);
		fprintf(stderr, "trackmail: entry %lld: %s: %s\n",
			(long long)id, safe, strerror(-r));
		free(path);
		store_quarantine_clear(&q);
		return EXIT_SOME_FAILED;
	}
	size_t off = qfile_skip_headers(raw, len);
	struct pipeline_result res;
	pipeline_result_init(&res);
	/* One code path: the pipeline decides and stores, with every rule
	 * ingest applies (the allowlist among them). */
	r = pipeline_redecide(&ctx->pl, q.message_row, raw + off, len - off,
			      path, &res);
	const struct parse_result *pr = &res.parse;
	int rc = EXIT_DONE;
	if (r < 0) {
		fprintf(stderr, "trackmail: entry %lld: not stored: %s\n",
			(long long)id, res.error ? res.error : strerror(-r));
		rc = EXIT_SOME_FAILED;
		/* Like ingest: after a write the store refuses, stop. */
		if (r != -EBUSY) {
			fprintf(stderr, "trackmail: the store refuses writes: "
				"stopping\n");
			rc |= WORKER_STOP;
		}
	} else if (pr->outcome == OUTCOME_QUARANTINED || pr->needs_review) {
		_cleanup_free_ char *detail = term_safe(pr->detail);
		printf("%lld: still quarantined: %s (%s)\n", (long long)id,
		       pr->reason ? pr->reason : "needs-review", detail);
	} else {
		printf("%lld: resolved: ", (long long)id);
		cli_print_json(res.json, true);
	}
	if (ctx->pl.explain && pr->explain.len) {
		_cleanup_free_ char *safe = term_safe(buf_cstr(&pr->explain));
		printf("%s", safe);
	}
	pipeline_result_clear(&res);
	free(raw);
	free(path);
	store_quarantine_clear(&q);
	return rc;
}

static int retry_in_worker(size_t i, void *vctx)
{
	struct retry_ctx *ctx = vctx;
	if (!ctx->pl.store && cli_open_store(ctx->common, &ctx->pl.store) < 0)
		return EXIT_SOME_FAILED;
	int r = retry_one(ctx, ctx->ids[i]);
	fflush(stdout);
	return r;
}

static int retry_crashed(size_t i, const char *why, bool timeout, void *vctx)
{
	struct retry_ctx *ctx = vctx;
	printf("%lld: still quarantined: the decoder worker died on it "
	       "(%s%s)\n", (long long)ctx->ids[i], why,
	       timeout ? ", timeout" : "");
	fflush(stdout);
	return EXIT_DONE;
}

static void retry_done(void *vctx)
{
	struct retry_ctx *ctx = vctx;
	store_close(&ctx->pl.store);
}

int cli_quarantine(int argc, char **argv)
{
	enum { OPT_ALL = 256, OPT_SKIP_BROKEN };
	static const struct option opts[] = {
		CLI_OPTION_DATA_DIR,
		CLI_OPTION_CONFIG,
		CLI_OPTION_PARSERS,
		CLI_OPTION_JSON,
		{ "all", no_argument, NULL, OPT_ALL },
		{ "skip-broken-parsers", no_argument, NULL, OPT_SKIP_BROKEN },
		{ "explain", no_argument, NULL, 'e' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct cli_common common = { 0 };
	bool all = false, explain = false, skip_broken = false;
	int c;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case OPT_ALL:
			all = true;
			break;
		case 'e':
			explain = true;
			break;
		case OPT_SKIP_BROKEN:
			skip_broken = true;
			break;
		case 'h':
			cli_usage(usage, false);
			return EXIT_DONE;
		default:
			if (cli_common_option(&common, c, optarg))
				break;
			cli_usage(usage, true);
			return EXIT_USAGE;
		}
	}
	const char *verb = optind < argc ? argv[optind] : NULL;
	int nargs = argc - optind - 1;
	bool ok = verb && ((strcmp(verb, "list") == 0 && nargs == 0) ||
			   (strcmp(verb, "show") == 0 && nargs == 1) ||
			   (strcmp(verb, "drop") == 0 && nargs == 1) ||
			   (strcmp(verb, "retry") == 0 &&
			    nargs == (all ? 0 : 1)));
	if (!ok) {
		cli_usage(usage, true);
		return EXIT_USAGE;
	}
	int64_t id = 0;
	if (nargs == 1 && parse_id(argv[optind + 1], &id) < 0)
		return EXIT_USAGE;
	if (cli_common_defaults(&common) != 0)
		return EXIT_USAGE;
	struct store *store = NULL;
	if (cli_open_store(&common, &store) < 0)
		return EXIT_CANNOT_START;
	int rc = EXIT_DONE;
	struct show_ctx show = { .json = common.json,
				 .data_dir = common.data_dir };
	if (strcmp(verb, "list") == 0) {
		if (!common.json)
			printf("%-6s %-9s %-22s %-30s %s\n", "ID", "STATE",
			       "REASON", "FROM", "SUBJECT");
		if (store_quarantine_each(store, all ? NULL : "open", print_row,
					  &show) < 0)
			rc = EXIT_SOME_FAILED;
	} else if (strcmp(verb, "show") == 0) {
		struct store_quarantine q;
		if (store_quarantine_get(store, id, &q) < 0) {
			fprintf(stderr, "trackmail: no quarantine entry %lld\n",
				(long long)id);
			rc = EXIT_SOME_FAILED;
		} else {
			if (common.json)
				print_json_row(&q, common.data_dir);
			else
				print_show(&q, common.data_dir);
			store_quarantine_clear(&q);
		}
	} else if (strcmp(verb, "drop") == 0) {
		struct store_quarantine q;
		if (store_quarantine_get(store, id, &q) < 0) {
			fprintf(stderr, "trackmail: no quarantine entry %lld\n",
				(long long)id);
			rc = EXIT_SOME_FAILED;
		} else {
			/* The row first, then the rename: the row names the
			 * file by base name and finds it either way. */
			if (store_quarantine_set_state(store, id, "dropped",
						       NULL) < 0) {
				fprintf(stderr, "trackmail: entry %lld: %s\n",
					(long long)id, store_error(store));
				rc = EXIT_SOME_FAILED;
			} else {
				qfile_flag(common.data_dir, q.account_id,
					   q.path, "T");
				printf("%lld: dropped\n", (long long)id);
			}
			store_quarantine_clear(&q);
		}
	} else {
		/* Retry decodes the message again: like ingest, in a worker
		 * child, so a message that crashes the decoder stays in the
		 * quarantine instead of taking the command down. */
		struct retry_ctx ctx = { .common = &common };
		struct parser_set *set = NULL;
		if (cli_load_parsers_checked(&common, skip_broken, &set) < 0) {
			store_close(&store);
			return EXIT_CANNOT_START;
		}
		ctx.pl.parsers = set;
		ctx.pl.matcher = parser_matcher_new();
		ctx.pl.data_dir = common.data_dir;
		ctx.pl.dkim_query_file = common.cfg->dkim_query_file;
		ctx.pl.explain = explain;
		ctx.pl.redecide_by = "quarantine retry";
		if (all)
			store_quarantine_each(store, "open", collect_open, &ctx);
		else
			collect_open(&(struct store_quarantine){ .id = id },
				     &ctx);
		store_close(&store);
		static const struct worker_ops ops = {
			.process = retry_in_worker,
			.crashed = retry_crashed,
			.child_done = retry_done,
		};
		struct worker_limits lim;
		worker_default_limits(&lim);
		lim.cpu_ms = (unsigned)common.cfg->worker_cpu_ms;
		lim.wall_ms = (unsigned)common.cfg->worker_wall_ms;
		size_t left = 0;
		int r = worker_run_stoppable(ctx.n_ids, &ops, &ctx, &lim, true,
					     &left);
		if (left)
			fprintf(stderr, "trackmail: %zu entr%s not retried\n",
				left, left == 1 ? "y" : "ies");
		rc = r < 0 ? EXIT_CANNOT_START : r;
		free(ctx.ids);
		parser_matcher_free(&ctx.pl.matcher);
		parser_set_free(&set);
	}
	store_close(&store);
	return rc;
}
