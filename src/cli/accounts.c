/* accounts.c - `trackmail accounts add|list`: sellers and their unique
 * forwarding addresses (DESIGN.md "Accounts"). */
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "core/util.h"

static const char usage[] =
	"usage: trackmail accounts add NAME [--allow-sender ADDR]...\n"
	"       trackmail accounts list [--json]\n"
	"\n"
	"add    creates a seller account and prints its forwarding address\n"
	"       t-<token>@<domain>; forward supplier mail there. With\n"
	"       --allow-sender, only mail forwarded from those addresses is\n"
	"       accepted (others are quarantined as sender-not-allowed).\n"
	"       Adding senders to an existing account extends its list.\n"
	"list   prints every account with its address and allowed senders\n"
	"\n"
	"  --data-dir DIR  data dir (default $TRACKMAIL_DATA_DIR or\n"
	"                  ./trackmail-data)\n"
	"  --domain NAME   domain of the addresses (default\n"
	"                  $TRACKMAIL_DOMAIN or localhost)\n";

struct list_ctx {
	const char *domain;
	bool json;
};

static void print_account(const struct store_account *a, const char *senders,
			  void *vctx)
{
	struct list_ctx *ctx = vctx;
	if (ctx->json) {
		json_t *o = json_object();
		json_object_set_new(o, "name", json_string(a->name));
		char *addr = xasprintf("t-%s@%s", a->token, ctx->domain);
		json_object_set_new(o, "address", json_string(addr));
		free(addr);
		json_object_set_new(o, "allowed_senders", json_string(senders));
		char *s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
		printf("%s\n", s);
		free(s);
		json_decref(o);
	} else {
		printf("%-20s t-%s@%s%s%s\n", a->name, a->token, ctx->domain,
		       *senders ? "  allowed: " : "", senders);
	}
}

int cli_accounts(int argc, char **argv)
{
	enum { OPT_ALLOW = 256 };
	static const struct option opts[] = {
		CLI_OPTION_DATA_DIR,
		CLI_OPTION_CONFIG,
		CLI_OPTION_DOMAIN,
		CLI_OPTION_JSON,
		{ "allow-sender", required_argument, NULL, OPT_ALLOW },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct cli_common common = { 0 };
	const char *allow[64];
	size_t n_allow = 0;
	struct list_ctx lctx = { 0 };
	int c;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case OPT_ALLOW:
			if (n_allow == 64 || !strchr(optarg, '@')) {
				fprintf(stderr, "trackmail: --allow-sender "
					"takes an address (at most 64)\n");
				return EXIT_USAGE;
			}
			allow[n_allow++] = optarg;
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
	lctx.json = common.json;
	const char *verb = optind < argc ? argv[optind] : NULL;
	bool add = verb && strcmp(verb, "add") == 0;
	bool list = verb && strcmp(verb, "list") == 0;
	if ((!add && !list) || (add && optind + 2 != argc) ||
	    (list && optind + 1 != argc) || (list && n_allow)) {
		cli_usage(usage, true);
		return EXIT_USAGE;
	}
	if (cli_common_defaults(&common) != 0)
		return EXIT_USAGE;
	lctx.domain = common.domain;
	struct store *store = NULL;
	if (cli_open_store(&common, &store) < 0)
		return EXIT_CANNOT_START;
	int rc = EXIT_DONE;
	if (list) {
		if (store_account_each(store, print_account, &lctx) < 0) {
			fprintf(stderr, "trackmail: %s\n", store_error(store));
			rc = EXIT_SOME_FAILED;
		}
		store_close(&store);
		return rc;
	}
	const char *name = argv[optind + 1];
	if (!*name || strlen(name) > 100) {
		fprintf(stderr, "trackmail: account name must be 1 to 100 "
			"characters\n");
		store_close(&store);
		return EXIT_USAGE;
	}
	struct store_account a;
	int r = store_begin(store);
	bool existed = false;
	if (r == 0) {
		r = store_account_by_name(store, name, &a);
		existed = r == 0;
		if (r == -ENOENT)
			r = store_account_add(store, name, &a);
	}
	for (size_t i = 0; r == 0 && i < n_allow; i++)
		r = store_account_allow_sender(store, a.id, allow[i]);
	if (r == 0)
		r = store_commit(store);
	if (r < 0) {
		fprintf(stderr, "trackmail: cannot add account %s: %s\n", name,
			store_error(store));
		store_rollback(store);
		store_close(&store);
		return EXIT_SOME_FAILED;
	}
	if (existed && n_allow == 0)
		fprintf(stderr, "trackmail: account %s already exists\n", name);
	print_account(&a, "", &lctx);
	store_close(&store);
	return EXIT_DONE;
}
