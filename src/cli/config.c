/* config.c - `trackmail config show|check`: the effective settings and
 * where each one came from; a config file checked line by line. */
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "core/util.h"

static const char usage[] =
	"usage: trackmail config show [--config FILE] [--json]\n"
	"       trackmail config check FILE\n"
	"\n"
	"show   every setting with its value and where it came from\n"
	"       (default, FILE:LINE, env NAME, option)\n"
	"check  reads FILE; errors name the file and line; exit 0 when it\n"
	"       is valid, 2 when not\n"
	"\n"
	"Settings come from the built-in defaults, then the config file\n"
	"(--config FILE or $TRACKMAIL_CONFIG), then the environment, then\n"
	"command-line options. docs/config.md lists them.\n";

int cli_config(int argc, char **argv)
{
	static const struct option opts[] = {
		CLI_OPTION_CONFIG,
		CLI_OPTION_JSON,
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct cli_common common = { 0 };
	int c;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
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
	if (verb && strcmp(verb, "check") == 0 && optind + 2 == argc) {
		struct config cfg;
		struct buf errors;
		config_init(&cfg);
		buf_init(&errors, 65536);
		int r = config_load_file(&cfg, argv[optind + 1], &errors);
		fputs(buf_cstr(&errors), stderr);
		if (r == 0)
			printf("%s: ok\n", argv[optind + 1]);
		buf_free(&errors);
		config_free(&cfg);
		return r == 0 ? EXIT_DONE : EXIT_USAGE;
	}
	if (!verb || strcmp(verb, "show") != 0 || optind + 1 != argc) {
		cli_usage(usage, true);
		return EXIT_USAGE;
	}
	if (cli_common_defaults(&common) != 0)
		return EXIT_USAGE;
	for (size_t i = 0; i < config_key_count(); i++) {
		const char *name, *origin, *help;
		char *value;
		config_describe(common.cfg, i, &name, &value, &origin, &help);
		if (common.json) {
			json_t *o = json_pack("{s:s, s:s, s:s}", "key", name,
					      "value", value, "origin", origin);
			char *s = json_dumps(o, JSON_COMPACT |
							JSON_PRESERVE_ORDER);
			printf("%s\n", s);
			free(s);
			json_decref(o);
		} else {
			printf("%-14s %-28s # %s (%s)\n", name, value, help,
			       origin);
		}
		free(value);
	}
	return EXIT_DONE;
}
