/* cli.h - what the command groups share: finding the data dir and the
 * parser files, expanding PATH arguments, opening the store.
 *
 * Exit codes of every command (docs/cli.md):
 *   0  done; every input got a decision (quarantine is a decision)
 *   1  some input could not be read or stored, or a check failed
 *   2  usage error
 *   3  cannot start: database, parser directory or data dir unusable */
#ifndef TRACKMAIL_CLI_H
#define TRACKMAIL_CLI_H

#include <stdbool.h>
#include <stddef.h>

#include "core/config.h"
#include "parse/parser.h"
#include "store/store.h"

enum {
	EXIT_DONE = 0,
	EXIT_SOME_FAILED = 1,
	EXIT_USAGE = 2,
	EXIT_CANNOT_START = 3,
};

/* What every command shares. Set the option fields from getopt, then call
 * cli_common_defaults(): it builds cfg from the built-in defaults, the
 * config file (--config or $TRACKMAIL_CONFIG), the environment and the
 * options, in that order, and points data_dir and parsers_dir at the
 * result. */
struct cli_common {
	const char *config_path; /* --config */
	const char *data_dir;    /* --data-dir, then the effective value */
	const char *parsers_dir; /* --parsers, then the effective value */
	const char *domain;      /* --domain */
	bool json;
	/* The loaded settings: immutable once loaded, alive until exit (one
	 * of the two globals STYLE.md allows). */
	const struct config *cfg;
};

/* Returns 0, or EXIT_USAGE after printing config errors (file:line). */
int cli_common_defaults(struct cli_common *c);

/* Options shared by the command groups: their getopt_long codes and table
 * entries. Each command lists the ones it takes. */
enum cli_option {
	CLI_OPT_CONFIG = 'C',
	CLI_OPT_JSON = 'j',
	CLI_OPT_DATA_DIR = 1000,
	CLI_OPT_PARSERS,
	CLI_OPT_DOMAIN,
};
#define CLI_OPTION_CONFIG { "config", required_argument, NULL, CLI_OPT_CONFIG }
#define CLI_OPTION_JSON { "json", no_argument, NULL, CLI_OPT_JSON }
#define CLI_OPTION_DATA_DIR \
	{ "data-dir", required_argument, NULL, CLI_OPT_DATA_DIR }
#define CLI_OPTION_PARSERS \
	{ "parsers", required_argument, NULL, CLI_OPT_PARSERS }
#define CLI_OPTION_DOMAIN { "domain", required_argument, NULL, CLI_OPT_DOMAIN }

/* Stores a shared option's value in c. Returns false when opt is not a
 * shared option (the caller handles it or reports a usage error). */
bool cli_common_option(struct cli_common *c, int opt, const char *arg);

/* Loads the parser directory; prints broken files to stderr (they are
 * skipped). Returns 0, or -errno when the directory is unusable. */
int cli_load_parsers(const struct cli_common *c, struct parser_set **set_r);
/* The same for commands that store decisions (ingest, quarantine retry,
 * serve): a broken parser file would silently send its supplier's mail to
 * the fallback, so unless skip_broken it is an error: prints the broken
 * files (file:line) and returns -EINVAL, set_r left NULL. */
int cli_load_parsers_checked(const struct cli_common *c, bool skip_broken,
			     struct parser_set **set_r);

/* Creates the data dir and opens <data_dir>/trackmail.db. Prints the
 * error and returns <0 on failure. */
int cli_open_store(const struct cli_common *c, struct store **store_r);

/* Expands PATH arguments: a file, "-" (stdin), or a directory (every mail
 * file below it, sorted: *.eml, and every entry of a Maildir's cur/ or
 * new/; hidden files skipped). Other files in a directory (a fixture's
 * .json, a README) are not mail: skipped, and named on stderr with their
 * count. Prints unreadable paths to stderr and counts them in *errors. */
struct cli_paths {
	char **v;
	size_t n;
};
void cli_paths_expand(struct cli_paths *paths, char **args, size_t n_args,
		      int *errors);
void cli_paths_free(struct cli_paths *paths);

/* Prints a JSON line and a newline to stdout. On a terminal as ASCII-only
 * JSON (the same value: C1 and bidi controls from mail become \u
 * escapes, core/term.h); to a pipe or file unchanged. ascii forces the
 * terminal form. */
void cli_print_json(const char *json, bool ascii);

/* Prints a command's usage text to stdout (--help) or stderr. */
void cli_usage(const char *text, bool to_stderr);

int cli_parse(int argc, char **argv);
int cli_ingest(int argc, char **argv);
int cli_accounts(int argc, char **argv);
int cli_quarantine(int argc, char **argv);
int cli_parsers(int argc, char **argv);
int cli_config(int argc, char **argv);
int cli_tracking(int argc, char **argv);
/* serve.c (issue 9) */
int cli_serve(int argc, char **argv);
int cli_spool(int argc, char **argv);
int cli_messages(int argc, char **argv);
int cli_status(int argc, char **argv);

#endif
