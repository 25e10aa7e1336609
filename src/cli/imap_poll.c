/* imap_poll.c - `trackmail imap-poll [--once]`: the IMAP poller on its
 * own, as `serve` runs it (docs/intake.md "IMAP"). */
#include <getopt.h>
#include <stdio.h>

#include "cli/cli.h"
#include "intake/imap.h"
#include "intake/intake.h"

static const char usage[] =
	"usage: trackmail imap-poll [--once] [--config FILE] [--data-dir DIR]\n"
	"\n"
	"Reads the mailboxes of the config file's imap: list into the spool\n"
	"(moved to Processed; quarantined ones also copied to Quarantine at\n"
	"the next poll), as `trackmail serve` does. --once: one pass over\n"
	"every mailbox, then exit (1 when a mailbox failed); without it,\n"
	"runs until SIGTERM (IDLE where offered, else polling).\n";

int cli_imap_poll(int argc, char **argv)
{
	enum { OPT_ONCE = 256 };
	static const struct option opts[] = {
		CLI_OPTION_DATA_DIR,
		CLI_OPTION_CONFIG,
		{ "once", no_argument, NULL, OPT_ONCE },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct cli_common common = { 0 };
	bool once = false;
	int c;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (c == 'h') {
			cli_usage(usage, false);
			return EXIT_DONE;
		}
		if (c == OPT_ONCE) {
			once = true;
			continue;
		}
		if (!cli_common_option(&common, c, optarg)) {
			cli_usage(usage, true);
			return EXIT_USAGE;
		}
	}
	if (optind != argc) {
		cli_usage(usage, true);
		return EXIT_USAGE;
	}
	if (cli_common_defaults(&common) != 0)
		return EXIT_USAGE;
	if (common.cfg->n_imap == 0) {
		fprintf(stderr, "trackmail: imap-poll: no imap: mailboxes in "
			"the config file (docs/config.md)\n");
		return EXIT_USAGE;
	}
	/* The store and spool exist before the poller's children open
	 * them. */
	struct store *store = NULL;
	if (cli_open_store(&common, &store) < 0)
		return EXIT_CANNOT_START;
	store_close(&store);
	if (once)
		return imap_poll_once(common.cfg) ? EXIT_SOME_FAILED
						  : EXIT_DONE;
	return intake_imap_run(common.cfg, -1);
}
