/* stores.c - `trackmail stores|orders|outbox|dispatch` (issue 10,
 * docs/dispatch.md): stores on selling channels, seller orders linked to
 * supplier orders, the outbox of pushes and the dispatcher. Credentials
 * are read from a file, stored in the database, and never printed. */
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "core/util.h"
#include "dispatch/dispatch.h"
#include "dispatch/rules.h"
#include "store/store_orders.h"

static const char *const channels[] = {
	"shopify", "ebay", "woocommerce", "etsy", "amazon",
	"walmart", "bigcommerce", "wix", "tiktok",
};
/* Channels whose credentials are one token (else a JSON object). */
static const char *const token_channels[] = { "shopify", "bigcommerce",
					      "wix" };

static bool in(const char *s, const char *const *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(s, v[i]) == 0)
			return true;
	return false;
}

#define IN(s, v) in(s, v, sizeof(v) / sizeof(*(v)))

static void print_obj(json_t *o)
{
	char *s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
	cli_print_json(s, false);
	free(s);
	json_decref(o);
}

/* Reads the credentials file: one token (trimmed) or a JSON object. */
static char *read_credentials(const char *path, const char *channel)
{
	char *data = NULL;
	size_t len = 0;
	int r = util_read_file(path, 64 * 1024, &data, &len);
	if (r < 0) {
		fprintf(stderr, "trackmail: %s: %s\n", path, strerror(-r));
		return NULL;
	}
	while (len && (data[len - 1] == '\n' || data[len - 1] == '\r' ||
		       data[len - 1] == ' ' || data[len - 1] == '\t'))
		data[--len] = '\0';
	if (len == 0 || strlen(data) != len) {
		fprintf(stderr, "trackmail: %s: empty or not text\n", path);
		free(data);
		return NULL;
	}
	if (!IN(channel, token_channels)) {
		json_t *o = json_loads(data, 0, NULL);
		bool ok = json_is_object(o);
		json_decref(o);
		if (!ok) {
			fprintf(stderr, "trackmail: %s: %s credentials are a "
				"JSON object with the channel's fields "
				"(docs/dispatch.md)\n", path, channel);
			explicit_bzero(data, len);
			free(data);
			return NULL;
		}
	} else if (strpbrk(data, "\r\n\t ")) {
		fprintf(stderr, "trackmail: %s: a %s token is one word on "
			"one line\n", path, channel);
		explicit_bzero(data, len);
		free(data);
		return NULL;
	}
	return data;
}

static void free_secret(char *s)
{
	if (s) {
		explicit_bzero(s, strlen(s));
		free(s);
	}
}

static int account_id(struct store *store, const char *name, int64_t *id_r)
{
	struct store_account a;
	int r = strcmp(name, "default") == 0
			? store_account_default(store, &a)
			: store_account_by_name(store, name, &a);
	if (r == -ENOENT)
		fprintf(stderr, "trackmail: no account %s\n", name);
	else if (r < 0)
		fprintf(stderr, "trackmail: %s\n", store_error(store));
	else
		*id_r = a.id;
	return r;
}

/* ---- stores -------------------------------------------------------- */

static const char stores_usage[] =
	"usage: trackmail stores add NAME --channel CHANNEL --api-url URL\n"
	"                  --token-file FILE [--ca-file FILE] [--account NAME]\n"
	"       trackmail stores list [--json]\n"
	"       trackmail stores check NAME\n"
	"       trackmail stores set NAME KEY VALUE\n"
	"       trackmail stores set NAME credentials --token-file FILE\n"
	"\n"
	"Channels: shopify ebay woocommerce etsy amazon walmart bigcommerce\n"
	"wix tiktok. --api-url is the shop's base URL (https; http only to\n"
	"loopback). The token file holds the token (shopify, bigcommerce,\n"
	"wix) or a JSON object of the channel's fields; it is stored in the\n"
	"database and never printed. Settings: api_version, notify_customer,\n"
	"rules.<rule> (docs/dispatch.md \"Rules as data\"; an unknown rule or\n"
	"value is refused).\n";

static void list_store(const struct store_channel *c, void *vjson)
{
	if (*(bool *)vjson) {
		json_t *o = json_pack("{s:I, s:s, s:s, s:s, s:s*}", "id",
				      (json_int_t)c->id, "name", c->name,
				      "channel", c->channel, "api_url",
				      c->api_url, "ca_file", c->ca_file);
		json_t *s = json_loads(c->settings, 0, NULL);
		json_object_set_new(o, "settings", s ? s : json_object());
		print_obj(o);
	} else {
		printf("%-20s %-12s %s  %s\n", c->name, c->channel, c->api_url,
		       c->settings);
	}
}

static int stores_run(struct cli_common *common, char **args, int n,
		      const char *channel, const char *api_url,
		      const char *token_file, const char *ca_file,
		      const char *account)
{
	const char *cmd = args[0];
	if (strcmp(cmd, "add") == 0 && n == 2) {
		if (!channel || !api_url || !token_file) {
			cli_usage(stores_usage, true);
			return EXIT_USAGE;
		}
		if (strcmp(channel, "facebook") == 0 ||
		    strcmp(channel, "instagram") == 0) {
			fprintf(stderr, "trackmail: %s is not supported: Meta "
				"ended Facebook and Instagram checkout in 2025; "
				"orders are completed on the seller's own site "
				"(add that store instead)\n", channel);
			return EXIT_USAGE;
		}
		if (!IN(channel, channels)) {
			fprintf(stderr, "trackmail: unknown channel '%s'\n",
				channel);
			return EXIT_USAGE;
		}
		size_t ul = strlen(api_url);
		if (!dispatch_url_allowed(api_url) || api_url[ul - 1] == '/') {
			fprintf(stderr, "trackmail: --api-url %s: an https:// "
				"base URL without trailing slash (http:// only "
				"to a loopback address)\n", api_url);
			return EXIT_USAGE;
		}
		char *cred = read_credentials(token_file, channel);
		if (!cred)
			return EXIT_SOME_FAILED;
		struct store *store = NULL;
		if (cli_open_store(common, &store) < 0) {
			free_secret(cred);
			return EXIT_CANNOT_START;
		}
		int64_t aid = 0;
		int r = store_begin(store);
		if (r == 0)
			r = account_id(store, account, &aid);
		if (r == 0)
			r = store_channel_add(store, aid, args[1], channel,
					      api_url, ca_file, cred);
		if (r == 0)
			r = store_commit(store);
		else
			store_rollback(store);
		free_secret(cred);
		if (r == -EEXIST)
			fprintf(stderr, "trackmail: a store named %s exists\n",
				args[1]);
		else if (r < 0 && r != -ENOENT)
			fprintf(stderr, "trackmail: %s\n", store_error(store));
		else if (r == 0)
			printf("store %s added (%s, %s)\n", args[1], channel,
			       api_url);
		store_close(&store);
		return r == 0 ? EXIT_DONE : EXIT_SOME_FAILED;
	}
	struct store *store = NULL;
	if (strcmp(cmd, "list") == 0 && n == 1) {
		if (cli_open_store(common, &store) < 0)
			return EXIT_CANNOT_START;
		int r = store_channel_each(store, list_store, &common->json);
		if (r < 0)
			fprintf(stderr, "trackmail: %s\n", store_error(store));
		store_close(&store);
		return r < 0 ? EXIT_SOME_FAILED : EXIT_DONE;
	}
	if (strcmp(cmd, "check") == 0 && n == 2) {
		if (cli_open_store(common, &store) < 0)
			return EXIT_CANNOT_START;
		struct store_channel c;
		int r = store_channel_get(store, args[1], true, &c);
		store_close(&store);
		if (r < 0) {
			fprintf(stderr, "trackmail: no store %s\n", args[1]);
			return EXIT_SOME_FAILED;
		}
		char msg[512];
		r = dispatch_check(&c, msg, sizeof(msg));
		store_channel_clear(&c);
		fprintf(r == 0 ? stdout : stderr, "%s\n", msg);
		return r == 0 ? EXIT_DONE : EXIT_SOME_FAILED;
	}
	if (strcmp(cmd, "set") == 0 && n == 3 &&
	    strcmp(args[2], "credentials") == 0) {
		if (!token_file) {
			cli_usage(stores_usage, true);
			return EXIT_USAGE;
		}
		if (cli_open_store(common, &store) < 0)
			return EXIT_CANNOT_START;
		struct store_channel c;
		int r = store_channel_get(store, args[1], false, &c);
		char *cred = r == 0 ? read_credentials(token_file, c.channel)
				    : NULL;
		if (r == 0)
			store_channel_clear(&c);
		if (r == 0 && !cred)
			r = -EINVAL;
		else if (r == 0)
			r = store_channel_set_credentials(store, args[1], cred);
		free_secret(cred);
		if (r == -ENOENT)
			fprintf(stderr, "trackmail: no store %s\n", args[1]);
		else if (r == 0)
			printf("store %s: credentials replaced\n", args[1]);
		store_close(&store);
		return r == 0 ? EXIT_DONE : EXIT_SOME_FAILED;
	}
	if (strcmp(cmd, "set") == 0 && n == 4) {
		if (cli_open_store(common, &store) < 0)
			return EXIT_CANNOT_START;
		int r = 0;
		if (strncmp(args[2], "rules.", 6) == 0) {
			/* a rule: only the channel's names and values */
			struct store_channel c;
			char err[512];
			r = store_channel_get(store, args[1], false, &c);
			if (r == 0) {
				bool okr = rules_check_setting(c.channel,
							       args[2] + 6,
							       args[3], err,
							       sizeof(err));
				store_channel_clear(&c);
				if (!okr) {
					fprintf(stderr, "trackmail: store %s: "
						"%s (docs/dispatch.md "
						"\"Rules\")\n", args[1], err);
					store_close(&store);
					return EXIT_SOME_FAILED;
				}
			}
		}
		if (r == 0)
			r = store_channel_set(store, args[1], args[2], args[3]);
		if (r == -ENOENT)
			fprintf(stderr, "trackmail: no store %s\n", args[1]);
		else if (r < 0)
			fprintf(stderr, "trackmail: %s\n", store_error(store));
		else
			printf("store %s: %s set\n", args[1], args[2]);
		store_close(&store);
		return r == 0 ? EXIT_DONE : EXIT_SOME_FAILED;
	}
	cli_usage(stores_usage, true);
	return EXIT_USAGE;
}

int cli_stores(int argc, char **argv)
{
	enum { OPT_CHANNEL = 256, OPT_URL, OPT_TOKEN, OPT_CA, OPT_ACCOUNT };
	static const struct option opts[] = {
		CLI_OPTION_DATA_DIR,
		CLI_OPTION_CONFIG,
		CLI_OPTION_JSON,
		{ "channel", required_argument, NULL, OPT_CHANNEL },
		{ "api-url", required_argument, NULL, OPT_URL },
		{ "token-file", required_argument, NULL, OPT_TOKEN },
		{ "ca-file", required_argument, NULL, OPT_CA },
		{ "account", required_argument, NULL, OPT_ACCOUNT },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct cli_common common = { 0 };
	const char *channel = NULL, *url = NULL, *token = NULL, *ca = NULL,
		   *account = "default";
	int c;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case OPT_CHANNEL:
			channel = optarg;
			break;
		case OPT_URL:
			url = optarg;
			break;
		case OPT_TOKEN:
			token = optarg;
			break;
		case OPT_CA:
			ca = optarg;
			break;
		case OPT_ACCOUNT:
			account = optarg;
			break;
		case 'h':
			cli_usage(stores_usage, false);
			return EXIT_DONE;
		default:
			if (cli_common_option(&common, c, optarg))
				break;
			cli_usage(stores_usage, true);
			return EXIT_USAGE;
		}
	}
	if (optind >= argc) {
		cli_usage(stores_usage, true);
		return EXIT_USAGE;
	}
	if (cli_common_defaults(&common) != 0)
		return EXIT_USAGE;
	return stores_run(&common, argv + optind, argc - optind, channel, url,
			  token, ca, account);
}

/* ---- orders -------------------------------------------------------- */

static const char orders_usage[] =
	"usage: trackmail orders add --store NAME --channel-order ID\n"
	"                  --supplier SUPPLIER --supplier-order NUMBER\n"
	"                  [--line ID:QTY]...\n"
	"       trackmail orders import FILE.csv|FILE.json\n"
	"       trackmail orders list [--json] [--status S]\n"
	"       trackmail orders show ID [--json]\n"
	"       trackmail orders sync STORE\n"
	"\n"
	"A seller order on a store, linked to the supplier order that fills\n"
	"it (matched by supplier and normalized number: case, dashes, spaces\n"
	"and invisible marks ignored). Without --line a push fulfils every\n"
	"remaining line. Shipments already stored for that supplier order\n"
	"become due for dispatch. Import columns (CSV header, or JSON keys):\n"
	"store, channel_order, supplier, supplier_order, lines (\"ID:QTY\n"
	"ID:QTY\", optional). Statuses: ordered, awaiting_tracking, shipped,\n"
	"supplier_cancelled, supplier_refunded. sync reads the open orders\n"
	"of a Shopify store and their supplier order number from the note\n"
	"attribute or metafield of the store's `sync` setting.\n";

static int parse_line(const char *s, struct store_line *out, char **id_r)
{
	const char *colon = strrchr(s, ':');
	long q = 0;
	if (!colon || colon == s ||
	    util_parse_long(colon + 1, 1, 1000000, &q) < 0)
		return -EINVAL;
	*id_r = xstrndup(s, (size_t)(colon - s));
	out->line_id = *id_r;
	out->quantity = (int)q;
	return 0;
}

/* Adds one order inside the caller's transaction. Prints the error. */
static int add_order(struct store *store, const char *where,
		     const char *store_name, const char *channel_order,
		     const char *supplier, const char *supplier_order,
		     const struct store_line *lines, size_t n_lines,
		     int64_t *id_r)
{
	struct store_channel c;
	int r = store_channel_get(store, store_name, false, &c);
	if (r < 0) {
		fprintf(stderr, "trackmail: %sno store %s\n", where,
			store_name);
		return r;
	}
	int64_t sid = c.id;
	store_channel_clear(&c);
	r = store_order_add(store, sid, channel_order, supplier,
			    supplier_order, lines, n_lines, id_r);
	if (r < 0)
		fprintf(stderr, "trackmail: %s%s\n", where, store_error(store));
	return r;
}

static void free_lines(char **ids, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(ids[i]);
}

/* Splits "ID:QTY ID:QTY" into lines. */
static int split_lines(const char *s, struct store_line *lines,
		       char **ids, size_t max, size_t *n_r)
{
	*n_r = 0;
	char *copy = xstrdup(s ? s : "");
	char *save = NULL;
	int r = 0;
	for (char *t = strtok_r(copy, " ;,", &save); t;
	     t = strtok_r(NULL, " ;,", &save)) {
		if (*n_r == max ||
		    parse_line(t, &lines[*n_r], &ids[*n_r]) < 0) {
			r = -EINVAL;
			break;
		}
		(*n_r)++;
	}
	free(copy);
	return r;
}

static const char *const import_cols[] = { "store", "channel_order",
					   "supplier", "supplier_order",
					   "lines" };

static int import_row(struct store *store, const char *where,
		      const char *const v[5], long *added)
{
	for (int i = 0; i < 4; i++)
		if (!v[i] || !*v[i]) {
			fprintf(stderr, "trackmail: %smissing %s\n", where,
				import_cols[i]);
			return -EINVAL;
		}
	struct store_line lines[64];
	char *ids[64];
	size_t n = 0;
	if (split_lines(v[4], lines, ids, 64, &n) < 0) {
		fprintf(stderr, "trackmail: %slines: ID:QTY separated by "
			"spaces\n", where);
		free_lines(ids, n);
		return -EINVAL;
	}
	int64_t id;
	int r = add_order(store, where, v[0], v[1], v[2], v[3], lines, n, &id);
	free_lines(ids, n);
	if (r > 0)
		(*added)++;
	return r < 0 ? r : 0;
}

/* Simple CSV: comma separated, fields may be double-quoted. */
static size_t csv_split(char *line, char **f, size_t max)
{
	size_t n = 0;
	char *p = line;
	while (n < max) {
		char *out = p, *start = p;
		if (*p == '"') {
			p++;
			for (;;) {
				if (*p == '"' && p[1] == '"') {
					*out++ = '"';
					p += 2;
				} else if (*p == '"' || !*p) {
					if (*p)
						p++;
					break;
				} else {
					*out++ = *p++;
				}
			}
			while (*p && *p != ',')
				p++;
		} else {
			while (*p && *p != ',')
				*out++ = *p++;
		}
		char end = *p;
		*out = '\0';
		f[n++] = start;
		if (!end)
			break;
		p++;
	}
	return n;
}

static int import_file(struct store *store, const char *path, long *added)
{
	char *data = NULL;
	size_t len = 0;
	int r = util_read_file(path, 64u << 20, &data, &len);
	if (r < 0) {
		fprintf(stderr, "trackmail: %s: %s\n", path, strerror(-r));
		return r;
	}
	size_t pl = strlen(path);
	char where[600];
	if (pl > 5 && strcmp(path + pl - 5, ".json") == 0) {
		json_error_t e;
		json_t *root = json_loadb(data, len, 0, &e);
		free(data);
		if (!json_is_array(root)) {
			fprintf(stderr, "trackmail: %s:%d: %s\n", path, e.line,
				root ? "not an array of orders" : e.text);
			json_decref(root);
			return -EINVAL;
		}
		size_t i;
		json_t *o;
		json_array_foreach(root, i, o) {
			snprintf(where, sizeof(where), "%s: order %zu: ", path,
				 i + 1);
			const char *v[5];
			for (int k = 0; k < 5; k++)
				v[k] = json_string_value(
					json_object_get(o, import_cols[k]));
			if ((r = import_row(store, where, v, added)) < 0)
				break;
		}
		json_decref(root);
		return r;
	}
	/* CSV with a header naming the columns */
	char *save = NULL;
	int col_of[5] = { -1, -1, -1, -1, -1 };
	long lineno = 0;
	r = 0;
	for (char *line = strtok_r(data, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		lineno++;
		size_t ll = strlen(line);
		if (ll && line[ll - 1] == '\r')
			line[--ll] = '\0';
		if (!ll)
			continue;
		char *f[16];
		size_t nf = csv_split(line, f, 16);
		snprintf(where, sizeof(where), "%s:%ld: ", path, lineno);
		if (col_of[0] < 0 && lineno == 1) {
			for (size_t k = 0; k < nf; k++)
				for (int c = 0; c < 5; c++)
					if (strcmp(f[k], import_cols[c]) == 0)
						col_of[c] = (int)k;
			if (col_of[0] < 0 || col_of[1] < 0 || col_of[2] < 0 ||
			    col_of[3] < 0) {
				fprintf(stderr, "trackmail: %sheader needs "
					"store,channel_order,supplier,"
					"supplier_order[,lines]\n", where);
				r = -EINVAL;
				break;
			}
			continue;
		}
		const char *v[5];
		for (int c = 0; c < 5; c++)
			v[c] = col_of[c] >= 0 && (size_t)col_of[c] < nf
				       ? f[col_of[c]]
				       : NULL;
		if ((r = import_row(store, where, v, added)) < 0)
			break;
	}
	free(data);
	return r;
}

static void print_order(const struct store_order_row *o, void *vjson)
{
	if (*(bool *)vjson) {
		print_obj(json_pack("{s:I, s:s, s:s, s:s, s:s, s:s, s:s, s:s}",
				    "id", (json_int_t)o->id, "store", o->store,
				    "channel", o->channel, "channel_order",
				    o->channel_order, "supplier", o->supplier,
				    "supplier_order", o->supplier_order,
				    "status", o->status, "tracking",
				    o->tracking));
	} else {
		printf("%-6lld %-16s %-14s %-12s %-22s %-18s %s\n",
		       (long long)o->id, o->store, o->channel_order,
		       o->supplier, o->supplier_order, o->status, o->tracking);
	}
}

static void print_push(const struct store_push *p, void *vjson);

struct sync_ctx {
	struct store *store;
	int64_t store_id;
	long added, seen;
	int failed;
};

static void sync_one(const char *channel_order, const char *supplier,
		     const char *supplier_order, void *vctx)
{
	struct sync_ctx *sc = vctx;
	int64_t oid;
	sc->seen++;
	if (sc->failed)
		return;
	int r = store_order_add(sc->store, sc->store_id, channel_order,
				supplier, supplier_order, NULL, 0, &oid);
	if (r < 0)
		sc->failed = r;
	else
		sc->added += r;
}

/* `orders sync STORE`: seller orders from the channel (Shopify: a note
 * attribute or metafield named by the store's `sync` setting). */
static int orders_sync(struct cli_common *common, const char *name)
{
	struct store *store = NULL;
	if (cli_open_store(common, &store) < 0)
		return EXIT_CANNOT_START;
	struct store_channel c;
	if (store_channel_get(store, name, true, &c) < 0) {
		fprintf(stderr, "trackmail: no store %s\n", name);
		store_close(&store);
		return EXIT_SOME_FAILED;
	}
	int rc = EXIT_DONE;
	if (strcmp(c.channel, "shopify") != 0) {
		fprintf(stderr, "trackmail: orders sync: only shopify stores "
			"so far (%s is %s)\n", name, c.channel);
		rc = EXIT_SOME_FAILED;
	} else {
		struct channel_store cs;
		dispatch_channel_store(&c, &cs);
		struct sync_ctx sc = { .store = store, .store_id = c.id };
		char msg[400] = "";
		int r = store_begin(store);
		if (r == 0)
			r = shopify_sync(&cs, sync_one, &sc, msg, sizeof(msg));
		if (r >= 0 && sc.failed == 0)
			r = store_commit(store);
		else
			store_rollback(store);
		if (r < 0 || sc.failed) {
			fprintf(stderr, "trackmail: %s\n",
				msg[0] ? msg : store_error(store));
			rc = EXIT_SOME_FAILED;
		} else {
			printf("%s: %ld orders with a supplier order number, "
			       "%ld new links\n", name, sc.seen, sc.added);
		}
	}
	store_channel_clear(&c);
	store_close(&store);
	return rc;
}

struct show_ctx {
	int64_t seller_order;
	bool json;
};

static void show_push(const struct store_push *p, void *vctx)
{
	struct show_ctx *sc = vctx;
	if (p->seller_order_id == sc->seller_order)
		print_push(p, &sc->json);
}

int cli_orders(int argc, char **argv)
{
	enum { OPT_STORE = 256, OPT_CORDER, OPT_SUPPLIER, OPT_SORDER, OPT_LINE,
	       OPT_STATUS };
	static const struct option opts[] = {
		CLI_OPTION_DATA_DIR,
		CLI_OPTION_CONFIG,
		CLI_OPTION_JSON,
		{ "store", required_argument, NULL, OPT_STORE },
		{ "channel-order", required_argument, NULL, OPT_CORDER },
		{ "supplier", required_argument, NULL, OPT_SUPPLIER },
		{ "supplier-order", required_argument, NULL, OPT_SORDER },
		{ "line", required_argument, NULL, OPT_LINE },
		{ "status", required_argument, NULL, OPT_STATUS },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct cli_common common = { 0 };
	const char *sname = NULL, *corder = NULL, *supplier = NULL,
		   *sorder = NULL, *status = NULL;
	struct store_line lines[64];
	char *ids[64];
	size_t n_lines = 0;
	int c, rc = EXIT_USAGE;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case OPT_STORE:
			sname = optarg;
			break;
		case OPT_CORDER:
			corder = optarg;
			break;
		case OPT_SUPPLIER:
			supplier = optarg;
			break;
		case OPT_SORDER:
			sorder = optarg;
			break;
		case OPT_STATUS:
			status = optarg;
			break;
		case OPT_LINE:
			if (n_lines == 64 || parse_line(optarg, &lines[n_lines],
							&ids[n_lines]) < 0) {
				fprintf(stderr, "trackmail: --line ID:QTY "
					"(at most 64)\n");
				goto out;
			}
			n_lines++;
			break;
		case 'h':
			cli_usage(orders_usage, false);
			rc = EXIT_DONE;
			goto out;
		default:
			if (cli_common_option(&common, c, optarg))
				break;
			cli_usage(orders_usage, true);
			goto out;
		}
	}
	int n = argc - optind;
	char **args = argv + optind;
	if (n < 1 || cli_common_defaults(&common) != 0) {
		cli_usage(orders_usage, true);
		goto out;
	}
	static const char *const statuses[] = {
		"ordered", "awaiting_tracking", "shipped",
		"supplier_cancelled", "supplier_refunded",
	};
	if (status && !IN(status, statuses)) {
		fprintf(stderr, "trackmail: --status: one of ordered, "
			"awaiting_tracking, shipped, supplier_cancelled, "
			"supplier_refunded\n");
		goto out;
	}
	bool add = strcmp(args[0], "add") == 0 && n == 1;
	bool import = strcmp(args[0], "import") == 0 && n == 2;
	bool list = strcmp(args[0], "list") == 0 && n == 1;
	bool show = strcmp(args[0], "show") == 0 && n == 2;
	bool sync = strcmp(args[0], "sync") == 0 && n == 2;
	long id = 0;
	if (sync) {
		rc = orders_sync(&common, args[1]);
		goto out;
	}
	if ((!add && !import && !list && !show) ||
	    (add && (!sname || !corder || !supplier || !sorder)) ||
	    (show && util_parse_long(args[1], 1, INT64_MAX, &id) < 0)) {
		cli_usage(orders_usage, true);
		goto out;
	}
	struct store *store = NULL;
	if (cli_open_store(&common, &store) < 0) {
		rc = EXIT_CANNOT_START;
		goto out;
	}
	rc = EXIT_DONE;
	if (add || import) {
		int64_t oid = 0;
		long added = 0;
		int r = store_begin(store);
		if (r == 0 && add)
			r = add_order(store, "", sname, corder, supplier,
				      sorder, lines, n_lines, &oid);
		else if (r == 0)
			r = import_file(store, args[1], &added);
		if (r >= 0)
			r = store_commit(store);
		else
			store_rollback(store);
		if (r < 0) {
			rc = EXIT_SOME_FAILED;
		} else if (add) {
			printf("order %lld: %s %s <- %s %s\n", (long long)oid,
			       sname, corder, supplier, sorder);
		} else {
			printf("%ld order links added from %s\n", added,
			       args[1]);
		}
	} else {
		int r = store_order_each(store, list ? status : NULL,
					 (int64_t)id, print_order,
					 &common.json);
		if (r < 0) {
			fprintf(stderr, "trackmail: %s\n", store_error(store));
			rc = EXIT_SOME_FAILED;
		}
		if (show && r == 0) {
			struct show_ctx sc = { .seller_order = id,
					       .json = common.json };
			r = store_push_each(store, NULL, show_push, &sc);
		}
	}
	store_close(&store);
out:
	free_lines(ids, n_lines);
	return rc;
}

/* ---- outbox -------------------------------------------------------- */

static const char outbox_usage[] =
	"usage: trackmail outbox list [--json] [--manual] [--dead]\n"
	"       trackmail outbox retry ID|--all\n"
	"\n"
	"The pushes of shipments to selling channels: awaiting_order (the\n"
	"seller order is not known yet), due, sent, done, manual (a person\n"
	"must update the channel: the reason says why), dead (gave up or a\n"
	"fix is needed). retry makes manual and dead pushes due again.\n";

static void print_push(const struct store_push *p, void *vjson)
{
	if (*(bool *)vjson) {
		json_t *o = json_pack(
			"{s:I, s:s, s:s*, s:s*, s:s*, s:s, s:s, s:s*, s:s*, "
			"s:i, s:I, s:s*, s:s*}",
			"id", (json_int_t)p->id, "state", p->state, "store",
			p->store, "channel", p->channel, "channel_order",
			p->channel_order, "tracking", p->tracking, "carrier",
			p->carrier, "supplier", p->supplier, "supplier_order",
			p->supplier_order, "attempts", p->attempts, "next_at",
			(json_int_t)p->next_at, "last_error", p->last_error,
			"remote_ref", p->remote_ref);
		print_obj(o);
	} else {
		printf("%-6lld %-14s %-14s %-14s %-24s %-10s %s\n",
		       (long long)p->id, p->state, p->store ? p->store : "-",
		       p->channel_order ? p->channel_order : "-", p->tracking,
		       p->carrier, p->last_error ? p->last_error : "");
	}
}

int cli_outbox(int argc, char **argv)
{
	enum { OPT_MANUAL = 256, OPT_DEAD, OPT_ALL };
	static const struct option opts[] = {
		CLI_OPTION_DATA_DIR,
		CLI_OPTION_CONFIG,
		CLI_OPTION_JSON,
		{ "manual", no_argument, NULL, OPT_MANUAL },
		{ "dead", no_argument, NULL, OPT_DEAD },
		{ "all", no_argument, NULL, OPT_ALL },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct cli_common common = { 0 };
	bool manual = false, dead = false, all = false;
	int c;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case OPT_MANUAL:
			manual = true;
			break;
		case OPT_DEAD:
			dead = true;
			break;
		case OPT_ALL:
			all = true;
			break;
		case 'h':
			cli_usage(outbox_usage, false);
			return EXIT_DONE;
		default:
			if (cli_common_option(&common, c, optarg))
				break;
			cli_usage(outbox_usage, true);
			return EXIT_USAGE;
		}
	}
	int n = argc - optind;
	char **args = argv + optind;
	long id = 0;
	bool list = n == 1 && strcmp(args[0], "list") == 0;
	bool retry = strcmp(n ? args[0] : "", "retry") == 0 &&
		     ((n == 1 && all) ||
		      (n == 2 && !all &&
		       util_parse_long(args[1], 1, INT64_MAX, &id) == 0));
	if ((!list && !retry) || cli_common_defaults(&common) != 0) {
		cli_usage(outbox_usage, true);
		return EXIT_USAGE;
	}
	struct store *store = NULL;
	if (cli_open_store(&common, &store) < 0)
		return EXIT_CANNOT_START;
	int r = 0;
	if (list) {
		if (manual)
			r = store_push_each(store, "manual", print_push,
					    &common.json);
		if (dead && r == 0)
			r = store_push_each(store, "dead", print_push,
					    &common.json);
		if (!manual && !dead)
			r = store_push_each(store, NULL, print_push,
					    &common.json);
	} else {
		r = store_begin(store);
		int changed = 0;
		if (r == 0)
			r = changed = store_push_retry(store, id);
		if (r >= 0)
			r = store_commit(store);
		else
			store_rollback(store);
		/* A retry of one push that is not manual or dead is an
		 * error: said on stderr only, no count on stdout. */
		if (r == 0 && changed == 0 && id) {
			fprintf(stderr, "trackmail: push %ld is not manual or "
				"dead\n", id);
			r = -ENOENT;
		} else if (r == 0) {
			printf("%d push%s due again\n", changed,
			       changed == 1 ? "" : "es");
		}
	}
	if (r < 0 && r != -ENOENT)
		fprintf(stderr, "trackmail: %s\n", store_error(store));
	store_close(&store);
	return r < 0 ? EXIT_SOME_FAILED : EXIT_DONE;
}

/* ---- dispatch ------------------------------------------------------ */

static const char dispatch_usage[] =
	"usage: trackmail dispatch [--once] [--timeout SECONDS]\n"
	"                          [--concurrency N]\n"
	"\n"
	"Sends due pushes to their selling channels (docs/dispatch.md). With\n"
	"--once: sends everything due, waits for the answers (and for retries\n"
	"due within a minute), then exits: 0, or 1 if any push ended dead or\n"
	"manual. Without: runs until killed. One dispatcher per data dir.\n";

int cli_dispatch(int argc, char **argv)
{
	enum { OPT_ONCE = 256, OPT_TIMEOUT, OPT_CONC };
	static const struct option opts[] = {
		CLI_OPTION_DATA_DIR,
		CLI_OPTION_CONFIG,
		{ "once", no_argument, NULL, OPT_ONCE },
		{ "timeout", required_argument, NULL, OPT_TIMEOUT },
		{ "concurrency", required_argument, NULL, OPT_CONC },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct cli_common common = { 0 };
	struct dispatch_opts o = {
		.timeout_ms = 30000,
		.concurrency = 16,
		.max_attempts = 8,
		.once_horizon_s = 60,
	};
	long v;
	int c;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case OPT_ONCE:
			o.once = true;
			break;
		case OPT_TIMEOUT:
			if (util_parse_long(optarg, 1, 600, &v) < 0) {
				fprintf(stderr, "trackmail: --timeout: 1..600 "
					"seconds\n");
				return EXIT_USAGE;
			}
			o.timeout_ms = v * 1000;
			break;
		case OPT_CONC:
			if (util_parse_long(optarg, 1, 200, &v) < 0) {
				fprintf(stderr, "trackmail: --concurrency: "
					"1..200\n");
				return EXIT_USAGE;
			}
			o.concurrency = (int)v;
			break;
		case 'h':
			cli_usage(dispatch_usage, false);
			return EXIT_DONE;
		default:
			if (cli_common_option(&common, c, optarg))
				break;
			cli_usage(dispatch_usage, true);
			return EXIT_USAGE;
		}
	}
	if (optind != argc || cli_common_defaults(&common) != 0) {
		cli_usage(dispatch_usage, true);
		return EXIT_USAGE;
	}
	struct store *store = NULL;
	if (cli_open_store(&common, &store) < 0)
		return EXIT_CANNOT_START;
	struct dispatch_stats st = { 0 };
	int r = dispatch_run(store, common.data_dir, &o, &st);
	store_close(&store);
	if (r < 0)
		return r == -EBUSY ? EXIT_CANNOT_START : EXIT_SOME_FAILED;
	printf("dispatch: %ld done, %ld manual, %ld dead, %ld retried\n",
	       st.done, st.manual, st.dead, st.retry);
	return st.manual || st.dead ? EXIT_SOME_FAILED : EXIT_DONE;
}
