/* common.c - shared plumbing of the command groups; see cli.h. */
#include "cli/cli.h"

#include <dirent.h>
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/log.h"
#include "core/term.h"
#include "core/util.h"
#include "pipeline/qfile.h"

#ifndef TRACKMAIL_PARSERS_INSTALL_DIR
#define TRACKMAIL_PARSERS_INSTALL_DIR "/usr/local/share/trackmail/parsers"
#endif

bool cli_common_option(struct cli_common *c, int opt, const char *arg)
{
	switch (opt) {
	case CLI_OPT_CONFIG:
		c->config_path = arg;
		return true;
	case CLI_OPT_JSON:
		c->json = true;
		return true;
	case CLI_OPT_DATA_DIR:
		c->data_dir = arg;
		return true;
	case CLI_OPT_PARSERS:
		c->parsers_dir = arg;
		return true;
	case CLI_OPT_DOMAIN:
		c->domain = arg;
		return true;
	default:
		return false;
	}
}

static struct config loaded_config;

int cli_common_defaults(struct cli_common *c)
{
	struct buf errors;
	buf_init(&errors, 65536);
	config_free(&loaded_config);
	config_init(&loaded_config);
	struct config *cfg = &loaded_config;
	c->cfg = cfg;
	const char *path = c->config_path ? c->config_path
					  : getenv("TRACKMAIL_CONFIG");
	int r = 0;
	if (path && *path)
		r |= config_load_file(cfg, path, &errors);
	r |= config_load_env(cfg, &errors);
	if (c->data_dir)
		r |= config_set(cfg, "data_dir", c->data_dir,
				"option --data-dir", &errors);
	if (c->parsers_dir)
		r |= config_set(cfg, "parsers_dir", c->parsers_dir,
				"option --parsers", &errors);
	if (c->domain)
		r |= config_set(cfg, "domain", c->domain,
				"option --domain", &errors);
	if (r) {
		fprintf(stderr, "%s", buf_cstr(&errors));
		buf_free(&errors);
		return EXIT_USAGE;
	}
	buf_free(&errors);
	c->data_dir = cfg->data_dir;
	c->domain = cfg->domain;
	c->parsers_dir = cfg->parsers_dir;
	if (!*c->parsers_dir) {
		struct stat st;
		if (stat("parsers", &st) == 0 && S_ISDIR(st.st_mode))
			c->parsers_dir = "parsers";
		else
			c->parsers_dir = TRACKMAIL_PARSERS_INSTALL_DIR;
	}
	static const char *const levels[] = { "debug", "info", "warn",
					       "error" };
	for (int i = 0; i < 4; i++)
		if (strcmp(cfg->log_level, levels[i]) == 0)
			log_set_level((enum log_level)i);
	return 0;
}



int cli_load_parsers(const struct cli_common *c, struct parser_set **set_r)
{
	struct buf errors;
	buf_init(&errors, 1024 * 1024);
	int r = parser_set_load_dir(c->parsers_dir, set_r, &errors);
	if (r < 0) {
		fprintf(stderr, "trackmail: cannot read parser directory %s: "
			"%s (set --parsers or TRACKMAIL_PARSERS_DIR)\n",
			c->parsers_dir, strerror(-r));
	} else if (errors.len) {
		fprintf(stderr, "%s", buf_cstr(&errors));
		fprintf(stderr, "trackmail: the parser files above were "
			"skipped; the others are loaded\n");
	}
	buf_free(&errors);
	return r;
}

int cli_load_parsers_checked(const struct cli_common *c, bool skip_broken,
			     struct parser_set **set_r)
{
	if (skip_broken)
		return cli_load_parsers(c, set_r);
	struct buf errors;
	buf_init(&errors, 1024 * 1024);
	int r = parser_set_load_dir(c->parsers_dir, set_r, &errors);
	if (r < 0) {
		fprintf(stderr, "trackmail: cannot read parser directory %s: "
			"%s (set --parsers or TRACKMAIL_PARSERS_DIR)\n",
			c->parsers_dir, strerror(-r));
	} else if (errors.len) {
		fprintf(stderr, "%s", buf_cstr(&errors));
		fprintf(stderr, "trackmail: refusing to start with a broken "
			"parser file (its supplier's mail would fall to the "
			"fallback): fix the file above, or pass "
			"--skip-broken-parsers\n");
		parser_set_free(set_r);
		r = -EINVAL;
	}
	buf_free(&errors);
	return r;
}

int cli_open_store(const struct cli_common *c, struct store **store_r)
{
	int r = util_mkdir_p(c->data_dir);
	if (r < 0) {
		fprintf(stderr, "trackmail: cannot create data dir %s: %s\n",
			c->data_dir, strerror(-r));
		return r;
	}
	/* The data dir holds account tokens and mail: the service user's
	 * only (also one an older version or a person created 0755). */
	struct stat st;
	if (stat(c->data_dir, &st) == 0 && (st.st_mode & 077) &&
	    st.st_uid == geteuid() && chmod(c->data_dir, 0700) < 0)
		fprintf(stderr, "trackmail: warning: cannot make data dir %s "
			"private: %s\n", c->data_dir, strerror(errno));
	_cleanup_free_ char *path = xasprintf("%s/trackmail.db", c->data_dir);
	const char *error = NULL;
	r = store_open(path, store_r, &error);
	if (r < 0) {
		fprintf(stderr, "trackmail: cannot open database %s\n",
			error ? error : path);
		return r;
	}
	/* Schema 2 moved the quarantine to one Maildir per account. */
	r = qfile_migrate(c->data_dir, *store_r);
	if (r < 0) {
		fprintf(stderr, "trackmail: cannot move %s/quarantine to the "
			"per-account folders: %s\n", c->data_dir,
			strerror(-r));
		store_close(store_r);
	}
	return r;
}

static void paths_add(struct cli_paths *p, const char *path)
{
	p->v = xrealloc(p->v, (p->n + 1) * sizeof(*p->v));
	p->v[p->n++] = xstrdup(path);
}

static int str_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Mail in a directory: *.eml, or anything in a Maildir's cur/ or new/. */
static bool is_mail_file(const char *dir, const char *name)
{
	size_t n = strlen(name);
	if (n > 4 && strcasecmp(name + n - 4, ".eml") == 0)
		return true;
	const char *slash = strrchr(dir, '/');
	const char *last = slash ? slash + 1 : dir;
	return strcmp(last, "cur") == 0 || strcmp(last, "new") == 0;
}

struct skipped {
	size_t n;
	char *first;
};

static void expand_dir(struct cli_paths *p, const char *dir, int *errors,
		       int depth, struct skipped *sk)
{
	if (depth > 32) {
		_cleanup_free_ char *safe = term_safe(dir);
		fprintf(stderr, "trackmail: %s: directories nested too deep, "
			"skipped\n", safe);
		(*errors)++;
		return;
	}
	DIR *d = opendir(dir);
	if (!d) {
		_cleanup_free_ char *safe = term_safe(dir);
		fprintf(stderr, "trackmail: %s: %s\n", safe, strerror(errno));
		(*errors)++;
		return;
	}
	struct cli_paths local = { 0 };
	struct dirent *de;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		char *child = xasprintf("%s/%s", dir, de->d_name);
		paths_add(&local, child);
		free(child);
	}
	closedir(d);
	if (local.n) /* qsort's pointer must not be NULL */
		qsort(local.v, local.n, sizeof(*local.v), str_cmp);
	for (size_t i = 0; i < local.n; i++) {
		struct stat st, lst;
		if (stat(local.v[i], &st) < 0)
			continue;
		/* Symlinked directories are not followed: two links to
		 * "." would make the walk exponential. */
		bool link = lstat(local.v[i], &lst) == 0 && S_ISLNK(lst.st_mode);
		if (S_ISDIR(st.st_mode) && !link) {
			expand_dir(p, local.v[i], errors, depth + 1, sk);
		} else if (S_ISREG(st.st_mode)) {
			const char *base = strrchr(local.v[i], '/') + 1;
			if (is_mail_file(dir, base)) {
				paths_add(p, local.v[i]);
			} else {
				if (sk->n++ == 0)
					sk->first = xstrdup(local.v[i]);
			}
		}
	}
	cli_paths_free(&local);
}

void cli_paths_expand(struct cli_paths *paths, char **args, size_t n_args,
		      int *errors)
{
	for (size_t i = 0; i < n_args; i++) {
		struct stat st;
		if (strcmp(args[i], "-") == 0) {
			paths_add(paths, "-");
		} else if (stat(args[i], &st) < 0) {
			_cleanup_free_ char *safe = term_safe(args[i]);
			fprintf(stderr, "trackmail: %s: %s\n", safe,
				strerror(errno));
			(*errors)++;
		} else if (S_ISDIR(st.st_mode)) {
			struct skipped sk = { 0 };
			expand_dir(paths, args[i], errors, 0, &sk);
			if (sk.n) {
				_cleanup_free_ char *d = term_safe(args[i]);
				_cleanup_free_ char *f = term_safe(sk.first);
				fprintf(stderr, "trackmail: %s: skipped %zu "
					"file%s that %s not mail (not *.eml, "
					"not in a Maildir cur/ or new/), e.g. "
					"%s\n", d, sk.n, sk.n == 1 ? "" : "s",
					sk.n == 1 ? "is" : "are", f);
			}
			free(sk.first);
		} else {
			paths_add(paths, args[i]);
		}
	}
}

void cli_paths_free(struct cli_paths *paths)
{
	for (size_t i = 0; i < paths->n; i++)
		free(paths->v[i]);
	free(paths->v);
	paths->v = NULL;
	paths->n = 0;
}

void cli_print_json(const char *json, bool ascii)
{
	if (!ascii && !isatty(STDOUT_FILENO)) {
		printf("%s\n", json);
		return;
	}
	json_t *j = json_loads(json, 0, NULL);
	char *out = j ? json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER |
					      JSON_ENSURE_ASCII)
		      : NULL;
	json_decref(j);
	if (out)
		printf("%s\n", out);
	else /* not JSON after all: escape it as text */
		term_print_line("", json);
	free(out);
}

void cli_usage(const char *text, bool to_stderr)
{
	fputs(text, to_stderr ? stderr : stdout);
}
