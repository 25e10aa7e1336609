/* carriers.h - `trackmail carriers check|list|scan`: the carrier table and
 * tracking-number validation from the command line (docs/carriers.md). */
#ifndef TRACKMAIL_CLI_CARRIERS_H
#define TRACKMAIL_CLI_CARRIERS_H

/* argv[0] is "carriers". Exit codes: 0 every number valid (or listed), 1
 * some number invalid or a file unreadable, 2 usage error. */
int cli_carriers(int argc, char **argv);

#endif
