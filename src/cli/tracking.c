/* tracking.c - `trackmail tracking set`: a person enters the tracking
 * number of a supplier order by hand (a shipped mail came without one, or
 * a needs-review number from an unknown sender was confirmed). The number
 * goes through the same carrier check as a parsed one: a number that fails
 * its check digit, or whose carrier stays ambiguous, is refused. */
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "core/util.h"
#include "parse/carrier.h"

static const char usage[] =
	"usage: trackmail tracking set [--account NAME] [--supplier ID]\n"
	"                              [--json] ORDER NUMBER [CARRIER]\n"
	"\n"
	"Records NUMBER as the tracking number of supplier order ORDER: the\n"
	"order becomes Shipped with that shipment, exactly as if a supplier\n"
	"mail had carried it. The number must pass its carrier's format and\n"
	"check digit. CARRIER (an id such as ups, or a name such as \"Royal\n"
	"Mail\") decides between carriers that fit the same number, and must\n"
	"fit the number. A number whose formats have no check digit (GLS\n"
	"11 digits, Evri 16 ...) is refused unless CARRIER names it\n"
	"(carrier-unconfirmed). Entering the same number again changes\n"
	"nothing. A new number for an order whose shipment was already\n"
	"pushed to a selling channel is a correction: the push updates\n"
	"that fulfilment with the new number, never adds a second one\n"
	"(docs/dispatch.md \"Corrected numbers\").\n"
	"\n"
	"  --account NAME  the seller account (default: default)\n"
	"  --supplier ID   needed when several suppliers have order ORDER\n"
	"  --data-dir DIR, --config FILE, --json: as for the other commands\n"
	"\n"
	"Exit: 0 recorded (or already recorded), 1 refused (invalid number,\n"
	"unknown order, ambiguous carrier), 2 usage, 3 cannot start.\n";

static void print_result(bool json, const char *order, const char *supplier,
			 const char *number, const char *carrier, bool again)
{
	if (json) {
		json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:s}", "order",
				      order, "supplier", supplier, "tracking",
				      number, "carrier", carrier, "result",
				      again ? "already recorded" : "recorded");
		char *s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
		printf("%s\n", s);
		free(s);
		json_decref(o);
	} else {
		printf("%s (%s): shipped, %s (%s)%s\n", order, supplier, number,
		       carrier, again ? ", already recorded" : "");
	}
}

static int tracking_set(struct cli_common *common, const char *account,
			const char *supplier, const char *order,
			const char *input, const char *carrier_text)
{
	/* A carrier id is turned into its name: carrier_decide reads names. */
	const char *named = carrier_text;
	if (carrier_text) {
		const struct carrier *byid = carrier_find(carrier_text);
		if (byid)
			named = carrier_name(byid);
		else if (!carrier_from_name(carrier_text, strlen(carrier_text))) {
			fprintf(stderr, "trackmail: unknown carrier '%s' "
				"(trackmail carriers list)\n", carrier_text);
			return EXIT_USAGE;
		}
	}
	struct carrier_evidence ev = {
		.named = named,
		.named_len = named ? strlen(named) : 0,
		.parser_names_carrier = named != NULL,
	};
	struct carrier_decision d;
	int rc = carrier_decide(input, strlen(input), &ev, &d);
	if (rc < 0) {
		fprintf(stderr, "trackmail: %s is not a valid tracking number "
			"(%s)\n", input, d.reason ? d.reason : "format");
		return EXIT_SOME_FAILED;
	}
	if (rc == 0 && d.reason && strcmp(d.reason, "carrier-unconfirmed") == 0) {
		/* The same rule as for mail: a format without a check digit
		 * never decides alone (docs/decisions.md). */
		fprintf(stderr, "trackmail: %s fits only formats without a "
			"check digit (carrier-unconfirmed); candidates:",
			d.check.normalized);
		for (size_t i = 0; i < d.check.n_candidates; i++)
			fprintf(stderr, " %s",
				carrier_id(d.check.candidates[i]));
		fprintf(stderr, "; name one as CARRIER\n");
		return EXIT_SOME_FAILED;
	}
	if (rc == 0) {
		fprintf(stderr, "trackmail: the carrier of %s is not certain "
			"(%s); candidates:", d.check.normalized,
			d.reason ? d.reason : "ambiguous");
		for (size_t i = 0; i < d.check.n_candidates; i++)
			fprintf(stderr, " %s",
				carrier_id(d.check.candidates[i]));
		fprintf(stderr, "; name one as CARRIER\n");
		return EXIT_SOME_FAILED;
	}

	struct store *store = NULL;
	if (cli_open_store(common, &store) < 0)
		return EXIT_CANNOT_START;
	struct store_account a;
	int r = store_begin(store);
	if (r == 0)
		r = strcmp(account, "default") == 0
			    ? store_account_default(store, &a)
			    : store_account_by_name(store, account, &a);
	char found_supplier[64] = "";
	if (r == 0)
		r = store_manual_shipment(store, a.id, supplier, order,
					  d.check.normalized,
					  carrier_id(d.carrier), found_supplier,
					  sizeof(found_supplier));
	int exit_code = EXIT_DONE;
	if (r >= 0) {
		int c = store_commit(store);
		if (c < 0) {
			fprintf(stderr, "trackmail: %s\n", store_error(store));
			exit_code = EXIT_SOME_FAILED;
		} else {
			print_result(common->json, order, found_supplier,
				     d.check.normalized, carrier_id(d.carrier),
				     r == 0);
		}
	} else {
		store_rollback(store);
		if (r == -ENOENT)
			fprintf(stderr, "trackmail: no supplier order %s%s%s "
				"in account %s\n", order,
				supplier ? " of " : "", supplier ? supplier : "",
				account);
		else if (r == -EEXIST)
			fprintf(stderr, "trackmail: several suppliers have an "
				"order %s: give one with --supplier\n", order);
		else
			fprintf(stderr, "trackmail: %s\n", store_error(store));
		exit_code = EXIT_SOME_FAILED;
	}
	store_close(&store);
	return exit_code;
}

int cli_tracking(int argc, char **argv)
{
	enum { OPT_ACCOUNT = 256, OPT_SUPPLIER };
	static const struct option opts[] = {
		CLI_OPTION_DATA_DIR,
		CLI_OPTION_CONFIG,
		CLI_OPTION_JSON,
		{ "account", required_argument, NULL, OPT_ACCOUNT },
		{ "supplier", required_argument, NULL, OPT_SUPPLIER },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct cli_common common = { 0 };
	const char *account = "default", *supplier = NULL;
	int c;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case OPT_ACCOUNT:
			account = optarg;
			break;
		case OPT_SUPPLIER:
			supplier = optarg;
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
	int nargs = argc - optind;
	if (nargs < 3 || nargs > 4 || strcmp(argv[optind], "set") != 0) {
		cli_usage(usage, true);
		return EXIT_USAGE;
	}
	if (cli_common_defaults(&common) != 0)
		return EXIT_USAGE;
	return tracking_set(&common, account, supplier, argv[optind + 1],
			    argv[optind + 2],
			    nargs == 4 ? argv[optind + 3] : NULL);
}
