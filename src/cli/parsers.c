/* parsers.c - `trackmail parsers list|test|check|table|stats`.
 *
 * test runs every parser's fixtures (fixtures/emails/<id>/NAME.eml with
 * its expected NAME.json) through the same pipeline as `parse` and
 * compares outcome, event, supplier, shipments (exactly: precision before
 * recall, an unexpected number fails), reason and notices. */
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "cli/cli.h"
#include "core/limits.h"
#include "core/term.h"
#include "core/util.h"
#include "pipeline/pipeline.h"

static const char usage[] =
	"usage: trackmail parsers list [--json]\n"
	"       trackmail parsers test [--fixtures DIR] [--verbose] [ID...]\n"
	"       trackmail parsers check FILE...\n"
	"       trackmail parsers table [--fixtures DIR] [--check README]\n"
	"       trackmail parsers stats [--days N] [--data-dir DIR]\n"
	"\n"
	"list   the loaded parsers: id, kind, countries, events, tracking\n"
	"       automation, file\n"
	"test   runs every fixture (FIXTURES/<id>/*.eml against *.json) and\n"
	"       prints a table per parser; exit 1 when any fails\n"
	"check  loads parser files and reports errors with file and line\n"
	"table  prints the README's \"Supported suppliers\" table; with\n"
	"       --check, exit 1 when README's copy is out of date\n"
	"stats  per supplier, the share of its mail in the last N days\n"
	"       (default 30) that shipped, was info, or was quarantined\n"
	"\n"
	"  --parsers DIR   parser files (default: $TRACKMAIL_PARSERS_DIR,\n"
	"                  ./parsers, or the installed ones)\n"
	"  --fixtures DIR  default: fixtures/emails beside the parsers dir\n";

static json_t *load_json(const char *path, char *err, size_t errlen)
{
	json_error_t je;
	json_t *j = json_load_file(path, 0, &je);
	if (!j)
		snprintf(err, errlen, "%s:%d: %s", path, je.line, je.text);
	return j;
}

static bool same_json(json_t *a, json_t *b)
{
	if (!a)
		a = json_null();
	if (!b)
		b = json_null();
	return json_equal(a, b);
}

/* Compares a shipment list ignoring order of entries. */
static bool same_set(json_t *want, json_t *got)
{
	if (!json_is_array(want) || !json_is_array(got))
		return same_json(want, got);
	if (json_array_size(want) != json_array_size(got))
		return false;
	size_t i;
	json_t *w;
	json_array_foreach(want, i, w) {
		bool found = false;
		size_t k;
		json_t *g;
		json_array_foreach(got, k, g) found |= json_equal(w, g);
		if (!found)
			return false;
	}
	return true;
}

struct test_totals {
	int fixtures, passed, failed;
};

static int compare(json_t *want, json_t *got, struct buf *why)
{
	static const char *const keys[] = { "outcome", "event", "supplier",
					    "reason", "order",
					    "awaiting_tracking", NULL };
	int bad = 0;
	for (size_t i = 0; keys[i]; i++) {
		json_t *w = json_object_get(want, keys[i]);
		if (!w && strcmp(keys[i], "outcome") != 0)
			continue;
		json_t *g = json_object_get(got, keys[i]);
		if (!same_json(w, g)) {
			char *ws = w ? json_dumps(w, JSON_ENCODE_ANY) : NULL;
			char *gs = g ? json_dumps(g, JSON_ENCODE_ANY) : NULL;
			buf_printf(why, "    %s: expected %s, got %s\n", keys[i],
				   ws ? ws : "(absent)", gs ? gs : "(absent)");
			free(ws);
			free(gs);
			bad++;
		}
	}
	static const char *const lists[] = { "shipments", "notices", NULL };
	for (size_t i = 0; lists[i]; i++) {
		json_t *w = json_object_get(want, lists[i]);
		json_t *g = json_object_get(got, lists[i]);
		if (!w && strcmp(lists[i], "shipments") != 0)
			continue;
		if (!w)
			w = json_array();
		else
			json_incref(w);
		if (!g)
			g = json_array();
		else
			json_incref(g);
		if (!same_set(w, g)) {
			char *ws = json_dumps(w, JSON_COMPACT);
			char *gs = json_dumps(g, JSON_COMPACT);
			buf_printf(why, "    %s: expected %s, got %s\n",
				   lists[i], ws, gs);
			free(ws);
			free(gs);
			bad++;
		}
		json_decref(w);
		json_decref(g);
	}
	return bad;
}

static int str_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Runs the fixtures of one parser; prints failures; adds to totals. */
static void test_parser(struct pipeline *pl, const char *fixtures,
			const char *id, bool verbose, struct test_totals *t,
			struct buf *failures)
{
	_cleanup_free_ char *dir = xasprintf("%s/%s", fixtures, id);
	DIR *d = opendir(dir);
	if (!d)
		return;
	char **names = NULL;
	size_t n = 0;
	struct dirent *de;
	while ((de = readdir(d))) {
		size_t len = strlen(de->d_name);
		if (len > 4 && strcmp(de->d_name + len - 4, ".eml") == 0) {
			names = xrealloc(names, (n + 1) * sizeof(*names));
			names[n++] = xstrdup(de->d_name);
		}
	}
	closedir(d);
	if (n)
		qsort(names, n, sizeof(*names), str_cmp);
	for (size_t i = 0; i < n; i++) {
		_cleanup_free_ char *eml = xasprintf("%s/%s", dir, names[i]);
		_cleanup_free_ char *exp = xasprintf("%s/%.*s.json", dir,
						     (int)strlen(names[i]) - 4,
						     names[i]);
		t->fixtures++;
		char err[512];
		json_t *want = load_json(exp, err, sizeof(err));
		char *raw = NULL;
		size_t len = 0;
		int r = util_read_file(eml, LIMIT_MESSAGE_SIZE, &raw, &len);
		if (!want || r < 0) {
			t->failed++;
			buf_printf(failures, "FAIL %s\n    %s\n", eml,
				   want ? strerror(-r) : err);
			json_decref(want);
			free(raw);
			continue;
		}
		struct pipeline_result res;
		pipeline_result_init(&res);
		pipeline_process(pl, raw, len, eml, &res);
		json_t *got = json_loads(res.json, 0, NULL);
		struct buf why;
		buf_init(&why, 65536);
		int bad = compare(want, got, &why);
		if (!json_is_string(json_object_get(want, "modelled_on"))) {
			buf_append_str(&why, "    expected file lacks "
					     "\"modelled_on\" (which real mail "
					     "or public source it follows)\n");
			bad++;
		}
		if (bad) {
			t->failed++;
			buf_printf(failures, "FAIL %s\n%s    got: %s\n", eml,
				   buf_cstr(&why), res.json);
		} else {
			t->passed++;
			if (verbose)
				term_print_line("ok   ", eml);
		}
		buf_free(&why);
		json_decref(got);
		json_decref(want);
		pipeline_result_clear(&res);
		free(raw);
	}
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
}

static int cmd_test(const struct cli_common *c, const char *fixtures,
		    bool verbose, char **ids, size_t n_ids)
{
	struct parser_set *set = NULL;
	if (cli_load_parsers(c, &set) < 0)
		return EXIT_CANNOT_START;
	struct pipeline pl = { .parsers = set,
			       .matcher = parser_matcher_new() };
	struct buf failures;
	buf_init(&failures, 16 * 1024 * 1024);
	struct test_totals all = { 0 };
	int missing = 0;
	printf("%-16s %-9s %8s %8s %8s\n", "PARSER", "KIND", "FIXTURES",
	       "PASSED", "FAILED");
	for (size_t i = 0; i < parser_set_count(set); i++) {
		const struct parser *p = parser_set_at(set, i);
		bool wanted = n_ids == 0;
		for (size_t k = 0; k < n_ids; k++)
			wanted |= strcmp(ids[k], parser_id(p)) == 0;
		if (!wanted || parser_kind(p) == PARSER_RELAYS)
			continue;
		struct test_totals t = { 0 };
		test_parser(&pl, fixtures, parser_id(p), verbose, &t,
			    &failures);
		printf("%-16s %-9s %8d %8d %8d%s\n", parser_id(p),
		       parser_kind_name(parser_kind(p)),
		       t.fixtures, t.passed, t.failed,
		       t.fixtures ? "" : "  (no fixtures!)");
		missing += t.fixtures == 0;
		all.fixtures += t.fixtures;
		all.passed += t.passed;
		all.failed += t.failed;
	}
	printf("%-16s %-9s %8d %8d %8d\n", "TOTAL", "", all.fixtures,
	       all.passed, all.failed);
	if (failures.len)
		term_print_line("\n", buf_cstr(&failures));
	if (missing)
		printf("%d parser(s) have no fixtures in %s\n", missing,
		       fixtures);
	buf_free(&failures);
	parser_matcher_free(&pl.matcher);
	parser_set_free(&set);
	return all.failed || missing || all.fixtures == 0 ? EXIT_SOME_FAILED
							  : EXIT_DONE;
}

/* "yes" when the parser file names at least one real upstream mail its
 * format was checked against (`real_mail:`), else "no": a fixture's
 * `modelled_on` text is a description, not evidence. */
static const char *verified(const struct parser *p)
{
	size_t n;
	parser_real_mail(p, &n);
	return n ? "yes" : "no";
}

static void table(const struct parser_set *set, struct buf *out)
{
	buf_append_str(out, "| supplier | name | countries | events | "
			    "tracking automation | real format verified |\n"
			    "|---|---|---|---|---|---|\n");
	for (size_t i = 0; i < parser_set_count(set); i++) {
		const struct parser *p = parser_set_at(set, i);
		if (parser_kind(p) != PARSER_SUPPLIER)
			continue;
		buf_printf(out, "| `%s` | %s | %s | %s | %s | %s |\n",
			   parser_id(p), parser_name(p), parser_countries(p),
			   parser_events(p),
			   parser_tracking_automation(p) ? "yes" : "no",
			   verified(p));
	}
}

static int cmd_table(const struct cli_common *c, const char *fixtures,
		     const char *readme)
{
	struct parser_set *set = NULL;
	if (cli_load_parsers(c, &set) < 0)
		return EXIT_CANNOT_START;
	struct buf t;
	buf_init(&t, 1024 * 1024);
	/* "verified" comes from each file's real_mail, not from fixtures:
	 * --fixtures is accepted for older scripts and has no effect. */
	(void)fixtures;
	table(set, &t);
	parser_set_free(&set);
	if (!readme) {
		fputs(buf_cstr(&t), stdout);
		buf_free(&t);
		return EXIT_DONE;
	}
	char *data;
	size_t len;
	int r = util_read_file(readme, 16 * 1024 * 1024, &data, &len);
	if (r < 0) {
		fprintf(stderr, "trackmail: %s: %s\n", readme, strerror(-r));
		buf_free(&t);
		return EXIT_SOME_FAILED;
	}
	static const char begin[] = "<!-- suppliers:begin -->\n";
	static const char end[] = "<!-- suppliers:end -->";
	const char *b = strstr(data, begin);
	const char *e = b ? strstr(b, end) : NULL;
	int rc = EXIT_DONE;
	if (!b || !e) {
		fprintf(stderr, "trackmail: %s: no '%.24s' ... '%s' section\n",
			readme, begin, end);
		rc = EXIT_SOME_FAILED;
	} else {
		b += sizeof(begin) - 1;
		if ((size_t)(e - b) != t.len || memcmp(b, t.data, t.len) != 0) {
			fprintf(stderr, "trackmail: %s: the supported "
				"suppliers table is out of date; regenerate "
				"it with: trackmail parsers table\n", readme);
			rc = EXIT_SOME_FAILED;
		}
	}
	free(data);
	buf_free(&t);
	return rc;
}

static void print_stats(const struct store_supplier_stats *s, void *unused)
{
	long total = s->shipped + s->info + s->quarantined;
	double pct = total ? 100.0 / (double)total : 0;
	printf("%-16s %7ld %7ld %5.1f%% %7ld %5.1f%% %7ld %5.1f%%%s\n",
	       s->supplier, total, s->shipped, (double)s->shipped * pct,
	       s->info, (double)s->info * pct, s->quarantined,
	       (double)s->quarantined * pct,
	       total >= 5 && s->quarantined * 5 >= total
		       ? "  <- many quarantined: template changed?"
		       : "");
}

int cli_parsers(int argc, char **argv)
{
	enum { OPT_FIXTURES = 256, OPT_CHECK, OPT_DAYS };
	static const struct option opts[] = {
		CLI_OPTION_PARSERS,
		CLI_OPTION_DATA_DIR,
		CLI_OPTION_CONFIG,
		CLI_OPTION_JSON,
		{ "fixtures", required_argument, NULL, OPT_FIXTURES },
		{ "check", required_argument, NULL, OPT_CHECK },
		{ "days", required_argument, NULL, OPT_DAYS },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct cli_common common = { 0 };
	const char *fixtures = NULL, *readme = NULL;
	bool verbose = false;
	long days = 30;
	int c;
	while ((c = getopt_long(argc, argv, "hv", opts, NULL)) != -1) {
		switch (c) {
		case OPT_FIXTURES:
			fixtures = optarg;
			break;
		case OPT_CHECK:
			readme = optarg;
			break;
		case OPT_DAYS:
			if (util_parse_long(optarg, 1, 36500, &days) < 0) {
				fprintf(stderr, "trackmail: --days takes a "
					"number of days (1-36500)\n");
				return EXIT_USAGE;
			}
			break;
		case 'v':
			verbose = true;
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
	if (!verb) {
		cli_usage(usage, true);
		return EXIT_USAGE;
	}
	if (cli_common_defaults(&common) != 0)
		return EXIT_USAGE;
	/* Fixtures live beside the parsers: <parsers>/../fixtures/emails. */
	_cleanup_free_ char *dflt = xasprintf("%s/../fixtures/emails",
					      common.parsers_dir);
	if (!fixtures)
		fixtures = dflt;
	char **rest = argv + optind + 1;
	size_t n_rest = (size_t)(argc - optind - 1);
	if (strcmp(verb, "test") == 0)
		return cmd_test(&common, fixtures, verbose, rest, n_rest);
	if (strcmp(verb, "table") == 0 && n_rest == 0)
		return cmd_table(&common, fixtures, readme);
	if (strcmp(verb, "check") == 0 && n_rest > 0) {
		struct parser_set *set = parser_set_new();
		struct buf errors;
		buf_init(&errors, 1024 * 1024);
		int bad = 0;
		for (size_t i = 0; i < n_rest; i++) {
			if (parser_set_add_file(set, rest[i], &errors) < 0)
				bad++;
			else
				printf("%s: ok\n", rest[i]);
		}
		fputs(buf_cstr(&errors), stderr);
		buf_free(&errors);
		parser_set_free(&set);
		return bad ? EXIT_SOME_FAILED : EXIT_DONE;
	}
	if (strcmp(verb, "stats") == 0 && n_rest == 0) {
		struct store *store = NULL;
		if (cli_open_store(&common, &store) < 0)
			return EXIT_CANNOT_START;
		printf("last %ld days\n%-16s %7s %15s %15s %15s\n", days,
		       "SUPPLIER", "MAIL", "SHIPPED", "INFO", "QUARANTINED");
		int r = store_supplier_stats(store, (int)days, print_stats,
					     NULL);
		store_close(&store);
		return r < 0 ? EXIT_SOME_FAILED : EXIT_DONE;
	}
	if (strcmp(verb, "list") == 0 && n_rest == 0) {
		struct parser_set *set = NULL;
		if (cli_load_parsers(&common, &set) < 0)
			return EXIT_CANNOT_START;
		for (size_t i = 0; i < parser_set_count(set); i++) {
			const struct parser *p = parser_set_at(set, i);
			if (parser_kind(p) == PARSER_RELAYS)
				continue;
			const char *kind = parser_kind_name(parser_kind(p));
			if (common.json) {
				json_t *o = json_pack(
					"{s:s, s:s, s:s, s:s, s:s, s:b, s:s}",
					"id", parser_id(p), "name",
					parser_name(p), "kind", kind,
					"countries", parser_countries(p),
					"events", parser_events(p),
					"tracking_automation",
					parser_tracking_automation(p), "file",
					parser_file(p));
				char *s = json_dumps(o, JSON_COMPACT |
								JSON_PRESERVE_ORDER);
				printf("%s\n", s);
				free(s);
				json_decref(o);
			} else {
				printf("%-16s %-9s %-24s %-3s %s\n",
				       parser_id(p), kind, parser_countries(p),
				       parser_tracking_automation(p) ? "yes"
								     : "no",
				       parser_file(p));
			}
		}
		parser_set_free(&set);
		return EXIT_DONE;
	}
	cli_usage(usage, true);
	return EXIT_USAGE;
}
