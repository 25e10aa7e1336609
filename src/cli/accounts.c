/* accounts.c - `trackmail accounts add|list`: sellers and their unique
 * forwarding addresses (DESIGN.md "Accounts"); and accounts over their
 * life: disable, enable, rotate, delete, passwd (docs/accounts.md). Every
 * change that affects logins rewrites <data-dir>/dovecot-passwd, the
 * passwd-file Dovecot serves the quarantine folders with. */
#include <crypt.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <getopt.h>
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "cli/cli.h"
#include "core/buf.h"
#include "core/util.h"
#include "store/store_accounts.h"

static const char usage[] =
	"usage: trackmail accounts add NAME [--allow-sender ADDR]...\n"
	"       trackmail accounts list [--json]\n"
	"       trackmail accounts disable|enable|rotate|passwd NAME\n"
	"       trackmail accounts delete NAME --yes\n"
	"\n"
	"add    creates a seller account and prints its forwarding address\n"
	"       t-<token>@<domain>; forward supplier mail there. With\n"
	"       --allow-sender, only mail forwarded from those addresses is\n"
	"       accepted (others are quarantined as sender-not-allowed).\n"
	"       Adding senders to an existing account extends its list.\n"
	"list   prints every account with its address and allowed senders\n"
	"disable  refuses the account's mail at intake (550 5.2.1) and its\n"
	"       IMAP login; enable undoes it\n"
	"rotate gives the account a new address; the old one keeps working\n"
	"       for token_grace_days (default 14)\n"
	"delete removes the account, all its data and its quarantine files\n"
	"       (needs --yes)\n"
	"passwd sets the password of the account's quarantine folder over\n"
	"       IMAP (one line from standard input when it is not a\n"
	"       terminal) and rewrites <data-dir>/dovecot-passwd\n"
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

/* One passwd-file line per account that has a password and is enabled:
 * user:{SCHEME}hash:::::home::userdb_mail=maildir:DIR. uid and gid stay
 * empty: Dovecot's mail_uid/mail_gid (the trackmail user) apply, and
 * Dovecot refuses uid 0 in a passwd-file. A name that would break the
 * format (':', control characters) gets no line. */
struct passwd_ctx {
	struct buf out;
	const char *data_dir;
	int skipped;
};

static void passwd_line(const struct store_account *a, const char *hash,
			bool disabled, void *vctx)
{
	struct passwd_ctx *ctx = vctx;
	if (disabled || !*hash)
		return;
	for (const char *p = a->name; *p; p++)
		if (*p == ':' || (unsigned char)*p < 0x20 || *p == 0x7f) {
			fprintf(stderr, "trackmail: account %s has no IMAP "
				"login: its name holds ':' or a control "
				"character\n", a->name);
			ctx->skipped++;
			return;
		}
	char dir[PATH_MAX + 64];
	snprintf(dir, sizeof(dir), "%s/quarantine/%lld", ctx->data_dir,
		 (long long)a->id);
	buf_printf(&ctx->out, "%s:%s::::%s::userdb_mail=maildir:%s\n",
		   a->name, hash, dir, dir);
}

/* Rewrites <data-dir>/dovecot-passwd (mode 0640, written to a temporary
 * file, fsync'd, renamed). Returns 0 or -errno after printing why. */
static int write_dovecot_passwd(const char *data_dir, struct store *store)
{
	char abs[PATH_MAX];
	if (!realpath(data_dir, abs)) {
		fprintf(stderr, "trackmail: %s: %s\n", data_dir,
			strerror(errno));
		return -errno;
	}
	struct passwd_ctx ctx = { .data_dir = abs };
	buf_init(&ctx.out, 16 * 1024 * 1024);
	int r = store_account_each_login(store, passwd_line, &ctx);
	if (r < 0) {
		fprintf(stderr, "trackmail: %s\n", store_error(store));
		buf_free(&ctx.out);
		return r;
	}
	_cleanup_free_ char *path = xasprintf("%s/dovecot-passwd", abs);
	_cleanup_free_ char *tmp = xasprintf("%s/.dovecot-passwd.tmp", abs);
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
	if (fd < 0 || fchmod(fd, 0640) < 0 ||
	    util_write_all(fd, ctx.out.data ? ctx.out.data : "",
			   ctx.out.len) < 0 ||
	    fsync(fd) < 0) {
		r = -errno;
	} else if (rename(tmp, path) < 0) {
		r = -errno;
	} else {
		r = util_fsync_dir(abs);
	}
	if (fd >= 0)
		close(fd);
	if (r < 0) {
		unlink(tmp);
		fprintf(stderr, "trackmail: cannot write %s: %s\n", path,
			strerror(-r));
	}
	buf_free(&ctx.out);
	return r;
}

/* Reads the password: one line from stdin when it is not a terminal
 * (newline stripped), else asked for without echo. malloc'ed, or NULL
 * after printing why. */
static char *read_password(void)
{
	bool tty = isatty(STDIN_FILENO);
	struct termios old, quiet;
	if (tty) {
		fprintf(stderr, "New password: ");
		if (tcgetattr(STDIN_FILENO, &old) == 0) {
			quiet = old;
			quiet.c_lflag &= ~(tcflag_t)ECHO;
			tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
		}
	}
	char *line = NULL;
	size_t cap = 0;
	ssize_t n = getline(&line, &cap, stdin);
	if (tty) {
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
		fprintf(stderr, "\n");
	}
	if (n > 0 && line[n - 1] == '\n')
		line[--n] = '\0';
	if (n > 0 && line[n - 1] == '\r')
		line[--n] = '\0';
	if (n <= 0 || n > 1024 || strlen(line) != (size_t)n) {
		fprintf(stderr, "trackmail: the password must be one line of "
			"1 to 1024 characters on standard input\n");
		free(line);
		return NULL;
	}
	return line;
}

/* {SHA512-CRYPT}$6$... via crypt(3) with a random salt. */
static char *hash_password(const char *password)
{
	char *salt = crypt_gensalt_ra("$6$", 0, NULL, 0);
	if (!salt)
		return NULL;
	void *data = NULL;
	int size = 0;
	char *h = crypt_ra(password, salt, &data, &size);
	char *out = h && h[0] == '$' ? xasprintf("{SHA512-CRYPT}%s", h) : NULL;
	if (data)
		explicit_bzero(data, (size_t)size);
	free(data);
	free(salt);
	return out;
}

static int rm_entry(const char *path, const struct stat *st, int flag,
		    struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	int r = flag == FTW_DP ? rmdir(path) : unlink(path);
	if (r < 0)
		fprintf(stderr, "trackmail: cannot remove %s: %s\n", path,
			strerror(errno));
	return 0;
}

/* disable, enable, rotate, delete, passwd on an existing account. */
static int account_verb(const char *verb, const char *name,
			const struct cli_common *common, bool yes)
{
	if (strcmp(verb, "delete") == 0 && !yes) {
		fprintf(stderr, "trackmail: accounts delete removes %s and "
			"all its data; add --yes to confirm\n", name);
		return EXIT_USAGE;
	}
	_cleanup_free_ char *password = NULL;
	_cleanup_free_ char *hash = NULL;
	if (strcmp(verb, "passwd") == 0) {
		password = read_password();
		if (!password)
			return EXIT_USAGE;
		hash = hash_password(password);
		explicit_bzero(password, strlen(password));
		if (!hash) {
			fprintf(stderr, "trackmail: crypt(3) cannot make a "
				"SHA512-CRYPT hash: %s\n", strerror(errno));
			return EXIT_SOME_FAILED;
		}
	}
	struct store *store = NULL;
	if (cli_open_store(common, &store) < 0)
		return EXIT_CANNOT_START;
	struct store_account a;
	int r = store_begin(store);
	if (r == 0)
		r = store_account_by_name(store, name, &a);
	if (r == -ENOENT) {
		store_rollback(store);
		store_close(&store);
		fprintf(stderr, "trackmail: no account named %s (trackmail "
			"accounts list)\n", name);
		return EXIT_USAGE;
	}
	if (r < 0) {
	} else if (strcmp(verb, "disable") == 0 ||
		   strcmp(verb, "enable") == 0) {
		r = store_account_set_disabled(store, a.id,
					       verb[0] == 'd');
	} else if (strcmp(verb, "rotate") == 0) {
		r = store_account_rotate(store, a.id,
					 common->cfg->token_grace_days, &a);
	} else if (strcmp(verb, "delete") == 0) {
		r = store_account_delete(store, a.id);
	} else {
		r = store_account_set_password(store, a.id, hash);
	}
	if (r == 0)
		r = store_commit(store);
	if (r < 0) {
		fprintf(stderr, "trackmail: cannot %s account %s: %s\n", verb,
			name, store_error(store));
		store_rollback(store);
		store_close(&store);
		return EXIT_SOME_FAILED;
	}
	int rc = EXIT_DONE;
	if (strcmp(verb, "rotate") == 0) {
		printf("%-20s t-%s@%s\n", a.name, a.token, common->domain);
		fprintf(stderr, "trackmail: the old address of %s keeps "
			"working for %ld days\n", name,
			common->cfg->token_grace_days);
	} else if (strcmp(verb, "delete") == 0) {
		_cleanup_free_ char *dir = xasprintf(
			"%s/quarantine/%lld", common->data_dir,
			(long long)a.id);
		if (access(dir, F_OK) == 0)
			nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
		if (access(dir, F_OK) == 0)
			rc = EXIT_SOME_FAILED;
		fprintf(stderr, "trackmail: account %s deleted\n", name);
	}
	if (strcmp(verb, "rotate") != 0 &&
	    write_dovecot_passwd(common->data_dir, store) < 0)
		rc = EXIT_SOME_FAILED;
	store_close(&store);
	return rc;
}

int cli_accounts(int argc, char **argv)
{
	enum { OPT_ALLOW = 256, OPT_YES };
	static const struct option opts[] = {
		CLI_OPTION_DATA_DIR,
		CLI_OPTION_CONFIG,
		CLI_OPTION_DOMAIN,
		CLI_OPTION_JSON,
		{ "allow-sender", required_argument, NULL, OPT_ALLOW },
		{ "yes", no_argument, NULL, OPT_YES },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct cli_common common = { 0 };
	const char *allow[64];
	size_t n_allow = 0;
	struct list_ctx lctx = { 0 };
	bool yes = false;
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
		case OPT_YES:
			yes = true;
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
	static const char *const verbs[] = { "disable", "enable", "rotate",
					     "delete", "passwd" };
	for (size_t i = 0; verb && i < sizeof(verbs) / sizeof(*verbs); i++) {
		if (strcmp(verb, verbs[i]) != 0)
			continue;
		if (optind + 2 != argc || n_allow) {
			cli_usage(usage, true);
			return EXIT_USAGE;
		}
		if (cli_common_defaults(&common) != 0)
			return EXIT_USAGE;
		return account_verb(verb, argv[optind + 1], &common, yes);
	}
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
