/* quarantine.c - `trackmail quarantine list|show|retry|drop`.
 *
 * The quarantine is a Maildir (<data-dir>/quarantine) that any mail client
 * can open, plus a row per message with its reason. retry runs the stored
 * message through the current parsers again; when it now gets a decision
 * the row is resolved and the file moves to cur/ flagged Seen. drop marks
 * the row dropped and flags the file Trashed: nothing is deleted. */
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cli/cli.h"
#include "core/limits.h"
#include "core/util.h"
#include "pipeline/pipeline.h"
#include "pipeline/worker.h"

static const char usage[] =
	"usage: trackmail quarantine list [--all] [--json]\n"
	"       trackmail quarantine show ID [--json]\n"
	"       trackmail quarantine retry ID|--all [--explain]\n"
	"       trackmail quarantine drop ID\n"
	"\n"
	"list   quarantined messages still open (--all: also resolved and\n"
	"       dropped ones), with their reason\n"
	"show   one entry: reason, detail, original sender and subject, the\n"
	"       Maildir file\n"
	"retry  runs the message through the current parsers again (after a\n"
	"       parser fix); resolved when it now gets a decision\n"
	"drop   marks the entry dropped (the file is flagged Trashed, kept)\n"
	"\n"
	"  --data-dir DIR, --parsers DIR: as for ingest\n";

static void print_json_row(const struct store_quarantine *q)
{
	json_t *o = json_object();
	json_object_set_new(o, "id", json_integer(q->id));
	json_object_set_new(o, "account", json_string(q->account));
	json_object_set_new(o, "reason", json_string(q->reason));
	json_object_set_new(o, "detail", json_string(q->detail));
	json_object_set_new(o, "from", json_string(q->orig_from));
	json_object_set_new(o, "subject", json_string(q->orig_subject));
	json_object_set_new(o, "state", json_string(q->state));
	json_object_set_new(o, "path", json_string(q->path));
	json_object_set_new(o, "created_at", json_integer(q->created_at));
	char *s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
	printf("%s\n", s);
	free(s);
	json_decref(o);
}

static void print_row(const struct store_quarantine *q, void *vjson)
{
	if (*(bool *)vjson) {
		print_json_row(q);
		return;
	}
	printf("%-6lld %-9s %-22s %-30.30s %.50s\n", (long long)q->id,
	       q->state, q->reason, q->orig_from, q->orig_subject);
}

/* Moves a Maildir file from new/ (or cur/) to cur/ with the given flags. */
static char *maildir_flag(const char *path, const char *flags)
{
	const char *slash = strrchr(path, '/');
	if (!slash || slash - path < 4)
		return NULL;
	_cleanup_free_ char *base = xstrdup(slash + 1);
	char *colon = strchr(base, ':');
	if (colon)
		*colon = '\0';
	_cleanup_free_ char *root = xstrndup(path, (size_t)(slash - path) - 4);
	char *dest = xasprintf("%s/cur/%s:2,%s", root, base, flags);
	if (strcmp(dest, path) != 0 && rename(path, dest) < 0) {
		free(dest);
		return NULL;
	}
	_cleanup_free_ char *curdir = xasprintf("%s/cur", root);
	util_fsync_dir(curdir);
	return dest;
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
	struct store *store; /* opened in the worker child */
	struct pipeline pl;
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
	int r = store_quarantine_get(ctx->store, id, &q);
	if (r < 0) {
		fprintf(stderr, "trackmail: no quarantine entry %lld\n",
			(long long)id);
		return EXIT_SOME_FAILED;
	}
	if (strcmp(q.state, "open") != 0) {
		fprintf(stderr, "trackmail: entry %lld is %s, not open\n",
			(long long)id, q.state);
		store_quarantine_clear(&q);
		return EXIT_SOME_FAILED;
	}
	char *raw;
	size_t len;
	r = util_read_file(q.path, LIMIT_MESSAGE_SIZE + 4096, &raw, &len);
	if (r < 0) {
		fprintf(stderr, "trackmail: entry %lld: %s: %s\n",
			(long long)id, q.path, strerror(-r));
		store_quarantine_clear(&q);
		return EXIT_SOME_FAILED;
	}
	size_t off = pipeline_quarantine_skip_headers(raw, len);
	/* Decide with the current parsers, without storing... */
	struct pipeline dry = ctx->pl;
	dry.store = NULL;
	struct pipeline_result res;
	pipeline_result_init(&res);
	pipeline_process(&dry, raw + off, len - off, q.path, &res);
	const struct parse_result *pr = &res.parse;
	int rc = EXIT_DONE;
	if (pr->outcome == OUTCOME_QUARANTINED || pr->needs_review) {
		printf("%lld: still quarantined: %s (%s)\n", (long long)id,
		       pr->reason ? pr->reason : "needs-review",
		       pr->detail ? pr->detail : "");
	} else {
		/* ...then record the decision on the original message row. */
		r = store_begin(ctx->store);
		if (r == 0 && q.message_row)
			r = store_record_result(ctx->store, q.account_id,
						q.message_row, pr, res.json);
		char *moved = NULL;
		if (r == 0)
			moved = maildir_flag(q.path, "S");
		if (r == 0)
			r = store_quarantine_set_state(ctx->store, id,
						       "resolved", moved);
		if (r == 0)
			r = store_commit(ctx->store);
		free(moved);
		if (r < 0) {
			store_rollback(ctx->store);
			fprintf(stderr, "trackmail: entry %lld: %s\n",
				(long long)id, store_error(ctx->store));
			rc = EXIT_SOME_FAILED;
		} else {
			printf("%lld: resolved: %s\n", (long long)id, res.json);
		}
	}
	if (ctx->pl.explain && pr->explain.len)
		printf("%s", buf_cstr(&pr->explain));
	pipeline_result_clear(&res);
	free(raw);
	store_quarantine_clear(&q);
	return rc;
}

static int retry_in_worker(size_t i, void *vctx)
{
	struct retry_ctx *ctx = vctx;
	if (!ctx->store && cli_open_store(ctx->common, &ctx->store) < 0)
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
	store_close(&ctx->store);
}

int cli_quarantine(int argc, char **argv)
{
	enum { OPT_ALL = 256 };
	static const struct option opts[] = {
		CLI_OPTION_DATA_DIR,
		CLI_OPTION_CONFIG,
		CLI_OPTION_PARSERS,
		CLI_OPTION_JSON,
		{ "all", no_argument, NULL, OPT_ALL },
		{ "explain", no_argument, NULL, 'e' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct cli_common common = { 0 };
	bool all = false, explain = false;
	int c;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case OPT_ALL:
			all = true;
			break;
		case 'e':
			explain = true;
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
	if (strcmp(verb, "list") == 0) {
		if (!common.json)
			printf("%-6s %-9s %-22s %-30s %s\n", "ID", "STATE",
			       "REASON", "FROM", "SUBJECT");
		if (store_quarantine_each(store, all ? NULL : "open", print_row,
					  &common.json) < 0)
			rc = EXIT_SOME_FAILED;
	} else if (strcmp(verb, "show") == 0) {
		struct store_quarantine q;
		if (store_quarantine_get(store, id, &q) < 0) {
			fprintf(stderr, "trackmail: no quarantine entry %lld\n",
				(long long)id);
			rc = EXIT_SOME_FAILED;
		} else if (common.json) {
			print_json_row(&q);
			store_quarantine_clear(&q);
		} else {
			printf("id:       %lld\naccount:  %s\nstate:    %s\n"
			       "reason:   %s\ndetail:   %s\nfrom:     %s\n"
			       "subject:  %s\nfile:     %s\n",
			       (long long)q.id, q.account, q.state, q.reason,
			       q.detail, q.orig_from, q.orig_subject, q.path);
			store_quarantine_clear(&q);
		}
	} else if (strcmp(verb, "drop") == 0) {
		struct store_quarantine q;
		if (store_quarantine_get(store, id, &q) < 0) {
			fprintf(stderr, "trackmail: no quarantine entry %lld\n",
				(long long)id);
			rc = EXIT_SOME_FAILED;
		} else {
			char *moved = maildir_flag(q.path, "T");
			if (store_quarantine_set_state(store, id, "dropped",
						       moved) < 0)
				rc = EXIT_SOME_FAILED;
			else
				printf("%lld: dropped\n", (long long)id);
			free(moved);
			store_quarantine_clear(&q);
		}
	} else {
		/* Retry decodes the message again: like ingest, in a worker
		 * child, so a message that crashes the decoder stays in the
		 * quarantine instead of taking the command down. */
		struct retry_ctx ctx = { .common = &common };
		struct parser_set *set = NULL;
		if (cli_load_parsers(&common, &set) < 0) {
			store_close(&store);
			return EXIT_CANNOT_START;
		}
		ctx.pl.parsers = set;
		ctx.pl.matcher = parser_matcher_new();
		ctx.pl.data_dir = common.data_dir;
		ctx.pl.explain = explain;
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
		int r = worker_run(ctx.n_ids, &ops, &ctx, &lim, true);
		rc = r < 0 ? EXIT_CANNOT_START : r;
		free(ctx.ids);
		parser_matcher_free(&ctx.pl.matcher);
		parser_set_free(&set);
	}
	store_close(&store);
	return rc;
}
