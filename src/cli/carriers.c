/* carriers.c - `trackmail carriers`: check numbers against the carrier
 * table (one line, or one JSON object per line, per number), list the
 * table, and run the fallback scanner over a text file. */
#include "cli/carriers.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "core/limits.h"
#include "core/util.h"
#include "parse/carrier.h"

static const char usage_text[] =
	"usage: trackmail carriers check [--json] NUMBER...\n"
	"       trackmail carriers list [--json]\n"
	"       trackmail carriers scan [--json] [FILE|-]\n"
	"\n"
	"check  validates each NUMBER (spaces and dashes are ignored) by\n"
	"       format and check digit; prints its carrier, or null and the\n"
	"       candidates when several carriers fit. Exit 1 when some\n"
	"       number is invalid.\n"
	"list   prints the carrier table.\n"
	"scan   finds tracking numbers in decoded text the way the fallback\n"
	"       for unknown senders does (labels, links, check digits).\n"
	"--json one compact JSON object per line.\n";

static int print_json(json_t *o)
{
	char *s = json_dumps(o, JSON_COMPACT | JSON_ENSURE_ASCII);

	json_decref(o);
	if (!s)
		return -ENOMEM;
	puts(s);
	free(s);
	return 0;
}

static json_t *candidates_json(const struct carrier_check *c)
{
	json_t *a = json_array();

	for (size_t i = 0; i < c->n_candidates; i++)
		json_array_append_new(a,
			json_string(carrier_id(c->candidates[i])));
	return a;
}

static const char *url_of(const struct carrier *c, const char *number,
			  char *buf, size_t size)
{
	if (!c || carrier_tracking_url(c, number, buf, size) != 0)
		return NULL;
	return buf;
}

static int check_one(const char *arg, bool json)
{
	struct carrier_check c;
	char url[512];
	const char *u;

	carrier_check(arg, strlen(arg), &c);
	u = url_of(c.carrier, c.normalized, url, sizeof(url));
	if (json) {
		json_t *o = json_object();
		/* Not UTF-8: JSON cannot carry it as is. */
		json_t *in = json_string(c.input);

		json_object_set_new(o, "input", in ? in :
				    json_string(c.normalized));
		json_object_set_new(o, "normalized",
				    json_string(c.normalized));
		json_object_set_new(o, "valid", json_boolean(c.valid));
		json_object_set_new(o, "carrier", c.carrier ?
			json_string(carrier_id(c.carrier)) : json_null());
		json_object_set_new(o, "candidates", candidates_json(&c));
		json_object_set_new(o, "url", u ? json_string(u) :
						  json_null());
		json_object_set_new(o, "needs_evidence",
				    json_boolean(c.needs_evidence));
		print_json(o);
	} else if (!c.valid) {
		printf("%s\tinvalid\n", c.normalized[0] ? c.normalized : arg);
	} else if (c.carrier) {
		printf("%s\tvalid\t%s (%s)%s\t%s\n", c.normalized,
		       carrier_id(c.carrier), carrier_name(c.carrier),
		       c.needs_evidence ? ", no check digit" : "",
		       u ? u : "");
	} else {
		printf("%s\tvalid\tcarrier ambiguous:", c.normalized);
		for (size_t i = 0; i < c.n_candidates; i++)
			printf(" %s", carrier_id(c.candidates[i]));
		printf("\n");
	}
	return c.valid ? 0 : 1;
}

static json_t *str_or_null(const char *s)
{
	return s && s[0] ? json_string(s) : json_null();
}

static int list(bool json)
{
	for (size_t i = 0; i < carrier_count(); i++) {
		const struct carrier *c = carrier_at(i);

		if (json) {
			json_t *o = json_object();

			json_object_set_new(o, "id",
					    json_string(carrier_id(c)));
			json_object_set_new(o, "name",
					    json_string(carrier_name(c)));
			json_object_set_new(o, "formats",
				json_string(carrier_formats_text(c)));
			json_object_set_new(o, "check_digit",
				json_string(carrier_check_digit_text(c)));
			json_object_set_new(o, "url",
				str_or_null(carrier_url_template(c)));
			json_object_set_new(o, "hosts",
				str_or_null(carrier_link_hosts(c)));
			json_object_set_new(o, "s10_countries",
				str_or_null(carrier_s10_countries(c)));
			print_json(o);
		} else {
			printf("%-15s %-26s %s\n%15s %-26s check: %s\n",
			       carrier_id(c), carrier_name(c),
			       carrier_formats_text(c), "", "",
			       carrier_check_digit_text(c));
		}
	}
	return EXIT_DONE;
}

static int scan(const char *path, bool json)
{
	struct carrier_found found[LIMIT_SHIPMENTS];
	char *data = NULL;
	size_t len = 0, n;
	int r;

	r = util_read_file(path, LIMIT_DECODED_TEXT, &data, &len);
	if (r < 0) {
		fprintf(stderr, "trackmail carriers scan: %s: %s\n", path,
			strerror(-r));
		return EXIT_SOME_FAILED;
	}
	n = carrier_scan(data, len, NULL, 0, found, LIMIT_SHIPMENTS);
	for (size_t i = 0; i < n; i++) {
		const struct carrier_decision *d = &found[i].decision;

		if (json) {
			json_t *o = json_object();

			json_object_set_new(o, "tracking",
				json_string(d->check.normalized));
			json_object_set_new(o, "carrier", d->carrier ?
				json_string(carrier_id(d->carrier)) :
				json_null());
			json_object_set_new(o, "candidates",
					    candidates_json(&d->check));
			json_object_set_new(o, "how",
					    json_string(found[i].how));
			json_object_set_new(o, "evidence",
					    str_or_null(d->evidence));
			json_object_set_new(o, "reason",
					    str_or_null(d->reason));
			json_object_set_new(o, "offset",
				found[i].offset == SIZE_MAX ? json_null() :
				json_integer((json_int_t)found[i].offset));
			print_json(o);
		} else {
			printf("%s\t%s\t%s\t%s\n", d->check.normalized,
			       d->carrier ? carrier_id(d->carrier) : "-",
			       found[i].how,
			       d->reason ? d->reason : d->evidence);
		}
	}
	free(data);
	return EXIT_DONE;
}

int cli_carriers(int argc, char **argv)
{
	bool json = false;
	const char *cmd;
	int first = 2, bad = 0;

	if (argc < 2 || strcmp(argv[1], "--help") == 0 ||
	    strcmp(argv[1], "-h") == 0) {
		cli_usage(usage_text, argc < 2);
		return argc < 2 ? EXIT_USAGE : EXIT_DONE;
	}
	cmd = argv[1];
	for (; first < argc && argv[first][0] == '-' && argv[first][1];
	     first++) {
		if (strcmp(argv[first], "--json") == 0) {
			json = true;
		} else if (strcmp(argv[first], "--") == 0) {
			first++;
			break;
		} else if (strcmp(argv[first], "--help") == 0) {
			cli_usage(usage_text, false);
			return EXIT_DONE;
		} else {
			fprintf(stderr, "trackmail carriers: unknown option "
				"'%s'\n", argv[first]);
			cli_usage(usage_text, true);
			return EXIT_USAGE;
		}
	}
	if (strcmp(cmd, "list") == 0) {
		if (first != argc) {
			cli_usage(usage_text, true);
			return EXIT_USAGE;
		}
		return list(json);
	}
	if (strcmp(cmd, "scan") == 0) {
		if (argc - first > 1) {
			cli_usage(usage_text, true);
			return EXIT_USAGE;
		}
		return scan(first < argc ? argv[first] : "-", json);
	}
	if (strcmp(cmd, "check") != 0 || first >= argc) {
		if (strcmp(cmd, "check") != 0)
			fprintf(stderr, "trackmail carriers: unknown command "
				"'%s'\n", cmd);
		cli_usage(usage_text, true);
		return EXIT_USAGE;
	}
	for (int i = first; i < argc; i++)
		bad |= check_one(argv[i], json);
	fflush(stdout);
	return bad ? EXIT_SOME_FAILED : EXIT_DONE;
}
