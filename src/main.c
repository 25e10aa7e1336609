/* main.c - dispatches `trackmail COMMAND ...` to src/cli/, after the
 * process-wide settings every command shares. */
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "cli/carriers.h"
#include "cli/cli.h"

static const struct command {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *summary;
} commands[] = {
	{ "parse", cli_parse, "decode and parse mail, print the decision" },
	{ "ingest", cli_ingest, "parse mail and store the decision" },
	{ "accounts", cli_accounts, "seller accounts and their addresses" },
	{ "quarantine", cli_quarantine, "list, show, retry, drop" },
	{ "parsers", cli_parsers, "list, test, check supplier parsers" },
	{ "carriers", cli_carriers, "check tracking numbers, list carriers" },
	{ "tracking", cli_tracking, "enter a tracking number by hand" },
	{ "config", cli_config, "show the settings, check a config file" },
	{ "serve", cli_serve, "run the service: intake, spool, workers" },
	{ "spool", cli_spool, "put a message into the service's spool" },
	{ "messages", cli_messages, "list and show stored messages" },
	{ "status", cli_status, "spool depth, workers, last decision" },
	{ "backup", cli_backup, "copy the database while the service runs" },
	{ "imap-poll", cli_imap_poll, "read the configured IMAP mailboxes" },
	{ "stores", cli_stores, "stores on selling channels" },
	{ "orders", cli_orders, "seller orders and their supplier orders" },
	{ "outbox", cli_outbox, "pushes to selling channels: list, retry" },
	{ "dispatch", cli_dispatch, "push shipments to selling channels" },
};

static void usage(FILE *out)
{
	fprintf(out, "usage: trackmail COMMAND [OPTIONS] [ARGS]\n\n"
		     "commands:\n");
	for (size_t i = 0; i < sizeof(commands) / sizeof(*commands); i++)
		fprintf(out, "  %-12s %s\n", commands[i].name,
			commands[i].summary);
	fprintf(out, "\n'trackmail COMMAND --help' tells more; "
		     "docs/cli.md has them all.\n");
}

int main(int argc, char **argv)
{
	/* libetpan and libcurl write to sockets with plain send(). */
	signal(SIGPIPE, SIG_IGN);
	/* Everything trackmail creates (the database and its -wal/-shm, the
	 * quarantine, the spool) is the service user's alone: it holds
	 * account tokens and customers' mail. What another daemon must reach
	 * sets its own mode explicitly. */
	umask(077);
	/* Keep freed heap for the next message instead of handing it back
	 * to the kernel after each one. With glibc's defaults a decoder
	 * child trimmed the top of its heap after nearly every message
	 * (SQLite's page cache, a mail's buffers) and grew it again for the
	 * next, paying a page fault per 4 KiB each time: fixing the two
	 * thresholds took one worker from 249-306 to 427-518 decided msg/s
	 * of a spooled backlog (docs/intake.md "serve"). Up to 8 MiB of
	 * free heap is kept per process; blocks of 4 MiB and more are still
	 * mmap'ed and returned when freed. (Fixing them also turns off
	 * glibc's sliding mmap threshold, which is why both are set.) */
	mallopt(M_TRIM_THRESHOLD, 8 << 20);
	mallopt(M_MMAP_THRESHOLD, 4 << 20);
	if (argc < 2) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		usage(stdout);
		return EXIT_DONE;
	}
	if (strcmp(argv[1], "--version") == 0) {
		printf("trackmail %s\n", TRACKMAIL_VERSION);
		return EXIT_DONE;
	}
	for (size_t i = 0; i < sizeof(commands) / sizeof(*commands); i++)
		if (strcmp(argv[1], commands[i].name) == 0)
			return commands[i].run(argc - 1, argv + 1);
	fprintf(stderr, "trackmail: unknown command '%s'\n\n", argv[1]);
	usage(stderr);
	return EXIT_USAGE;
}
