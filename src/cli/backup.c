/* backup.c - `trackmail backup FILE`: a consistent copy of the database
 * with SQLite's online backup API, safe while `trackmail serve` writes
 * (docs/accounts.md "Backup and restore"). */
#include <getopt.h>
#include <stdio.h>

#include "cli/cli.h"
#include "store/store_accounts.h"

static const char usage[] =
	"usage: trackmail backup FILE [--data-dir DIR]\n"
	"\n"
	"Writes a consistent copy of <data-dir>/trackmail.db to FILE (which\n"
	"must not exist), also while the service runs. docs/accounts.md says\n"
	"how to restore it.\n";

int cli_backup(int argc, char **argv)
{
	static const struct option opts[] = {
		CLI_OPTION_DATA_DIR,
		CLI_OPTION_CONFIG,
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct cli_common common = { 0 };
	int c;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (c == 'h') {
			cli_usage(usage, false);
			return EXIT_DONE;
		}
		if (!cli_common_option(&common, c, optarg)) {
			cli_usage(usage, true);
			return EXIT_USAGE;
		}
	}
	if (optind + 1 != argc) {
		cli_usage(usage, true);
		return EXIT_USAGE;
	}
	if (cli_common_defaults(&common) != 0)
		return EXIT_USAGE;
	struct store *store = NULL;
	if (cli_open_store(&common, &store) < 0)
		return EXIT_CANNOT_START;
	int rc = EXIT_DONE;
	if (store_backup(store, argv[optind]) < 0) {
		fprintf(stderr, "trackmail: backup: %s\n", store_error(store));
		rc = EXIT_SOME_FAILED;
	} else {
		fprintf(stderr, "trackmail: database copied to %s\n",
			argv[optind]);
	}
	store_close(&store);
	return rc;
}
