/* config.c - the typed settings table; see config.h.
 *
 * One row per key: name, type, where it lives in struct config, default,
 * bounds, environment variable and a line of help. Loading a file, the
 * environment or an option all go through set_value(), so a value is
 * checked the same way wherever it comes from. */
#include "core/config.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "core/limits.h"
#include "core/util.h"

enum key_type { KEY_STRING, KEY_LONG, KEY_ENUM };

struct key {
	const char *name;
	enum key_type type;
	size_t offset;
	const char *dflt;
	long min, max;        /* KEY_LONG */
	const char *choices;  /* KEY_ENUM: "a|b|c" */
	const char *env;
	const char *help;
};

#define OFF(f) offsetof(struct config, f)

static const struct key keys[] = {
	{ "data_dir", KEY_STRING, OFF(data_dir), "./trackmail-data", 0, 0,
	  NULL, "TRACKMAIL_DATA_DIR",
	  "directory of the SQLite database and the quarantine Maildir" },
	{ "parsers_dir", KEY_STRING, OFF(parsers_dir), "", 0, 0, NULL,
	  "TRACKMAIL_PARSERS_DIR",
	  "parser files (empty: ./parsers if present, else the installed "
	  "ones)" },
	{ "domain", KEY_STRING, OFF(domain), "localhost", 0, 0, NULL,
	  "TRACKMAIL_DOMAIN",
	  "domain of the forwarding addresses t-<token>@<domain>" },
	{ "worker_cpu_ms", KEY_LONG, OFF(worker_cpu_ms), "10000", 1, 3600000,
	  NULL, "TRACKMAIL_WORKER_CPU_MS",
	  "CPU time one message may take in the decoder worker (ms)" },
	{ "worker_wall_ms", KEY_LONG, OFF(worker_wall_ms), "60000", 100,
	  3600000, NULL, "TRACKMAIL_WORKER_WALL_MS",
	  "wall-clock time one message may take in the decoder worker, "
	  "storing included (ms)" },
	{ "log_level", KEY_ENUM, OFF(log_level), "info", 0, 0,
	  "debug|info|warn|error", "TRACKMAIL_LOG_LEVEL",
	  "least important log lines written to stderr" },
	/* serve (issue 9) */
	{ "workers", KEY_LONG, OFF(workers), "0", 0, 256, NULL,
	  "TRACKMAIL_WORKERS",
	  "worker processes of `trackmail serve` deciding spooled mail "
	  "(0: the number of CPUs)" },
	{ "worker_nice", KEY_LONG, OFF(worker_nice), "10", 0, 19, NULL,
	  "TRACKMAIL_WORKER_NICE",
	  "how much lower the CPU priority of the deciding workers is than "
	  "the intake's (nice increment, 0: the same)" },
	{ "archive_days", KEY_LONG, OFF(archive_days), "180", 0, 36500, NULL,
	  "TRACKMAIL_ARCHIVE_DAYS",
	  "days the raw messages are kept in <data-dir>/archive for replay "
	  "(0: forever; 180 covers the longest marketplace dispute window)" },
	/* SMTP/LMTP intake (src/intake/intake_smtp.c, docs/intake.md) */
	{ "smtp_listen", KEY_STRING, OFF(smtp_listen), "127.0.0.1:2525", 0,
	  0, NULL, "TRACKMAIL_SMTP_LISTEN",
	  "SMTP listeners, comma-separated host:port, [v6]:port or "
	  "unix:PATH (empty: no SMTP)" },
	{ "lmtp_listen", KEY_STRING, OFF(lmtp_listen),
	  "unix:<data-dir>/lmtp.sock", 0, 0, NULL, "TRACKMAIL_LMTP_LISTEN",
	  "LMTP listeners like smtp_listen; <data-dir> is replaced by "
	  "data_dir (empty: no LMTP)" },
	{ "lmtp_socket_mode", KEY_STRING, OFF(lmtp_socket_mode), "0660", 0,
	  0, NULL, "TRACKMAIL_LMTP_SOCKET_MODE",
	  "permissions of a unix LMTP socket, in octal" },
	{ "lmtp_socket_group", KEY_STRING, OFF(lmtp_socket_group), "", 0, 0,
	  NULL, "TRACKMAIL_LMTP_SOCKET_GROUP",
	  "group of a unix LMTP socket, e.g. postfix (empty: unchanged)" },
	{ "tls_cert", KEY_STRING, OFF(tls_cert), "", 0, 0, NULL,
	  "TRACKMAIL_TLS_CERT",
	  "PEM certificate chain for SMTP STARTTLS (empty: no STARTTLS)" },
	{ "tls_key", KEY_STRING, OFF(tls_key), "", 0, 0, NULL,
	  "TRACKMAIL_TLS_KEY", "PEM private key of tls_cert" },
	{ "smtp_hostname", KEY_STRING, OFF(smtp_hostname), "", 0, 0, NULL,
	  "TRACKMAIL_SMTP_HOSTNAME",
	  "name in the SMTP/LMTP greeting (empty: the host name)" },
	{ "max_message_size", KEY_LONG, OFF(max_message_size), "52428800",
	  1024, 1073741824, NULL, "TRACKMAIL_MAX_MESSAGE_SIZE",
	  "largest message accepted over SMTP/LMTP, advertised with SIZE "
	  "(bytes)" },
	{ "smtp_max_recipients", KEY_LONG, OFF(smtp_max_recipients), "100",
	  1, 10000, NULL, "TRACKMAIL_SMTP_MAX_RECIPIENTS",
	  "recipients per SMTP/LMTP transaction (then 452 4.5.3)" },
	{ "smtp_max_sessions", KEY_LONG, OFF(smtp_max_sessions), "1000", 1,
	  100000, NULL, "TRACKMAIL_SMTP_MAX_SESSIONS",
	  "SMTP (and, separately, LMTP) sessions at once (then 421 4.7.0)" },
	{ "smtp_max_sessions_per_client", KEY_LONG,
	  OFF(smtp_max_sessions_per_client), "20", 0, 100000, NULL,
	  "TRACKMAIL_SMTP_MAX_SESSIONS_PER_CLIENT",
	  "sessions at once from one client address (0: no limit; then "
	  "421 4.7.0)" },
	{ "smtp_idle_timeout", KEY_LONG, OFF(smtp_idle_timeout), "300", 1,
	  3600, NULL, "TRACKMAIL_SMTP_IDLE_TIMEOUT",
	  "seconds without a command or data before 421 4.4.2" },
	{ "smtp_session_timeout", KEY_LONG, OFF(smtp_session_timeout),
	  "1800", 1, 86400, NULL, "TRACKMAIL_SMTP_SESSION_TIMEOUT",
	  "seconds a whole session may last before 421 4.4.2" },
	{ "smtp_max_bad_commands", KEY_LONG, OFF(smtp_max_bad_commands), "10",
	  1, 1000, NULL, "TRACKMAIL_SMTP_MAX_BAD_COMMANDS",
	  "refused commands in a session before 421 4.7.0" },
	{ "smtp_max_line", KEY_LONG, OFF(smtp_max_line), "2048", 512, 65536,
	  NULL, "TRACKMAIL_SMTP_MAX_LINE",
	  "longest command line, CRLF included (then 500 5.5.2, close)" },
	{ "smtp_max_data_line", KEY_LONG, OFF(smtp_max_data_line), "65536",
	  1000, 16777216, NULL, "TRACKMAIL_SMTP_MAX_DATA_LINE",
	  "longest line of a message in DATA (then 500 5.5.2 after the "
	  "data)" },
	{ "token_grace_days", KEY_LONG, OFF(token_grace_days), "14", 0, 365,
	  NULL, "TRACKMAIL_TOKEN_GRACE_DAYS",
	  "days an account's old address keeps working after accounts "
	  "rotate" },
	{ "dkim_query_file", KEY_STRING, OFF(dkim_query_file), "", 0, 0, NULL,
	  "TRACKMAIL_DKIM_QUERY_FILE",
	  "DKIM keys from this file of 'selector._domainkey.domain TXT' "
	  "lines instead of DNS (tests, offline)" },
};

#define N_KEYS (sizeof(keys) / sizeof(*keys))

size_t config_key_count(void)
{
	return N_KEYS;
}

static bool in_choices(const char *choices, const char *v)
{
	size_t n = strlen(v);
	for (const char *c = choices; *c;) {
		const char *bar = strchr(c, '|');
		size_t len = bar ? (size_t)(bar - c) : strlen(c);
		if (len == n && strncmp(c, v, n) == 0)
			return true;
		c += len + (bar ? 1 : 0);
	}
	return false;
}

/* Checks and stores value for key k; on error writes the message (without
 * location) into errors and returns -EINVAL. */
static int set_value(struct config *cfg, size_t k, const char *value,
		     const char *origin, const char *where,
		     struct buf *errors)
{
	const struct key *key = &keys[k];
	char *field = (char *)cfg + key->offset;
	if (key->type == KEY_LONG) {
		long v;
		if (util_parse_long(value, key->min, key->max, &v) < 0) {
			buf_printf(errors, "%s: %s must be a whole number from "
				   "%ld to %ld, not '%s'\n", where, key->name,
				   key->min, key->max, value);
			return -EINVAL;
		}
		*(long *)field = v;
	} else {
		if (key->type == KEY_ENUM && !in_choices(key->choices, value)) {
			buf_printf(errors, "%s: %s must be one of %s, not "
				   "'%s'\n", where, key->name, key->choices,
				   value);
			return -EINVAL;
		}
		if (strlen(value) > 4096 || memchr(value, '\n', strlen(value))) {
			buf_printf(errors, "%s: %s is too long or has a line "
				   "break\n", where, key->name);
			return -EINVAL;
		}
		free(*(char **)field);
		*(char **)field = xstrdup(value);
	}
	free(cfg->origin[k]);
	cfg->origin[k] = xstrdup(origin);
	return 0;
}

void config_init(struct config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->origin = xcalloc(N_KEYS, sizeof(char *));
	struct buf ignore;
	buf_init(&ignore, 4096);
	for (size_t k = 0; k < N_KEYS; k++)
		set_value(cfg, k, keys[k].dflt, "default", "default",
			  &ignore);
	buf_free(&ignore);
}

static void imap_free(struct config *cfg)
{
	for (size_t i = 0; i < cfg->n_imap; i++) {
		struct config_imap *m = &cfg->imap[i];
		free(m->name);
		free(m->host);
		free(m->user);
		free(m->password_file);
		free(m->oauth2_token_command);
		free(m->folder);
		free(m->account);
		free(m->ca_file);
	}
	free(cfg->imap);
	cfg->imap = NULL;
	cfg->n_imap = 0;
}

void config_free(struct config *cfg)
{
	imap_free(cfg);
	for (size_t k = 0; k < N_KEYS; k++) {
		if (keys[k].type != KEY_LONG)
			free(*(char **)((char *)cfg + keys[k].offset));
		if (cfg->origin)
			free(cfg->origin[k]);
	}
	free(cfg->origin);
	memset(cfg, 0, sizeof(*cfg));
}

/* The `imap:` list: a sequence of mappings (config.h struct
 * config_imap). Replaces an earlier list. Errors name file:line. */
static int load_imap(struct config *cfg, yaml_document_t *doc,
		     yaml_node_t *list, const char *path, struct buf *errors)
{
	if (list->type != YAML_SEQUENCE_NODE) {
		buf_printf(errors, "%s:%zu: imap is a list of mailboxes "
			   "(- name: ...)\n", path, list->start_mark.line + 1);
		return -EINVAL;
	}
	imap_free(cfg);
	int r = 0;
	for (yaml_node_item_t *it = list->data.sequence.items.start;
	     it < list->data.sequence.items.top; it++) {
		yaml_node_t *mn = yaml_document_get_node(doc, *it);
		size_t line = mn->start_mark.line + 1;
		if (mn->type != YAML_MAPPING_NODE) {
			buf_printf(errors, "%s:%zu: an imap mailbox is a "
				   "mapping of key: value\n", path, line);
			r = -EINVAL;
			continue;
		}
		cfg->imap = xrealloc(cfg->imap, (cfg->n_imap + 1) *
						       sizeof(*cfg->imap));
		struct config_imap *m = &cfg->imap[cfg->n_imap++];
		memset(m, 0, sizeof(*m));
		m->port = 993;
		m->poll_seconds = 60;
		for (yaml_node_pair_t *p = mn->data.mapping.pairs.start;
		     p < mn->data.mapping.pairs.top; p++) {
			yaml_node_t *kn = yaml_document_get_node(doc, p->key);
			yaml_node_t *vn = yaml_document_get_node(doc, p->value);
			size_t kl = kn->start_mark.line + 1;
			if (kn->type != YAML_SCALAR_NODE ||
			    vn->type != YAML_SCALAR_NODE) {
				buf_printf(errors, "%s:%zu: imap: each key "
					   "takes a single value\n", path, kl);
				r = -EINVAL;
				continue;
			}
			const char *k = (const char *)kn->data.scalar.value;
			const char *v = (const char *)vn->data.scalar.value;
			char **str = NULL;
			long *num = NULL;
			long lo = 1, hi = 65535;
			if (strcmp(k, "name") == 0)
				str = &m->name;
			else if (strcmp(k, "host") == 0)
				str = &m->host;
			else if (strcmp(k, "user") == 0)
				str = &m->user;
			else if (strcmp(k, "password_file") == 0)
				str = &m->password_file;
			else if (strcmp(k, "oauth2_token_command") == 0)
				str = &m->oauth2_token_command;
			else if (strcmp(k, "folder") == 0)
				str = &m->folder;
			else if (strcmp(k, "account") == 0)
				str = &m->account;
			else if (strcmp(k, "ca_file") == 0)
				str = &m->ca_file;
			else if (strcmp(k, "port") == 0)
				num = &m->port;
			else if (strcmp(k, "poll_seconds") == 0) {
				num = &m->poll_seconds;
				lo = 1;
				hi = 1500; /* RFC 2177: re-IDLE within 29 min */
			}
			if (str) {
				free(*str);
				*str = xstrdup(v);
			} else if (num) {
				if (util_parse_long(v, lo, hi, num) < 0) {
					buf_printf(errors, "%s:%zu: imap: %s "
						   "must be a whole number "
						   "from %ld to %ld, not "
						   "'%s'\n", path, kl, k, lo,
						   hi, v);
					r = -EINVAL;
				}
			} else {
				buf_printf(errors, "%s:%zu: imap: unknown key "
					   "'%s' (docs/config.md)\n", path,
					   kl, k);
				r = -EINVAL;
			}
		}
		if (!m->folder)
			m->folder = xstrdup("INBOX");
		const char *missing = !m->name      ? "name"
				      : !m->host    ? "host"
				      : !m->user    ? "user"
				      : !m->account ? "account"
						    : NULL;
		if (missing) {
			buf_printf(errors, "%s:%zu: imap mailbox needs %s\n",
				   path, line, missing);
			r = -EINVAL;
		} else if (!m->password_file == !m->oauth2_token_command) {
			buf_printf(errors, "%s:%zu: imap mailbox %s needs "
				   "password_file or oauth2_token_command "
				   "(one of them)\n", path, line, m->name);
			r = -EINVAL;
		}
		for (size_t j = 0; m->name && j + 1 < cfg->n_imap; j++)
			if (cfg->imap[j].name &&
			    strcmp(cfg->imap[j].name, m->name) == 0) {
				buf_printf(errors, "%s:%zu: two imap mailboxes "
					   "named %s\n", path, line, m->name);
				r = -EINVAL;
			}
	}
	return r;
}

static long find_key(const char *name)
{
	for (size_t k = 0; k < N_KEYS; k++)
		if (strcmp(keys[k].name, name) == 0)
			return (long)k;
	return -1;
}

int config_set(struct config *cfg, const char *key, const char *value,
	       const char *origin, struct buf *errors)
{
	long k = find_key(key);
	if (k < 0) {
		buf_printf(errors, "%s: unknown setting '%s'\n", origin, key);
		return -EINVAL;
	}
	return set_value(cfg, (size_t)k, value, origin, origin, errors);
}

int config_load_env(struct config *cfg, struct buf *errors)
{
	int r = 0;
	for (size_t k = 0; k < N_KEYS; k++) {
		const char *v = getenv(keys[k].env);
		if (!v || !*v)
			continue;
		char *origin = xasprintf("env %s", keys[k].env);
		if (set_value(cfg, k, v, origin, origin, errors) < 0)
			r = -EINVAL;
		free(origin);
	}
	return r;
}

int config_load_file(struct config *cfg, const char *path,
		     struct buf *errors)
{
	char *data;
	size_t len;
	int r = util_read_file(path, 1024 * 1024, &data, &len);
	if (r < 0) {
		buf_printf(errors, "%s: cannot read: %s\n", path, strerror(-r));
		return r;
	}
	yaml_parser_t yp;
	yaml_document_t doc;
	yaml_parser_initialize(&yp);
	yaml_parser_set_input_string(&yp, (const unsigned char *)data, len);
	if (!yaml_parser_load(&yp, &doc)) {
		buf_printf(errors, "%s:%zu: YAML error: %s\n", path,
			   yp.problem_mark.line + 1,
			   yp.problem ? yp.problem : "syntax error");
		yaml_parser_delete(&yp);
		free(data);
		return -EINVAL;
	}
	r = 0;
	yaml_node_t *root = yaml_document_get_root_node(&doc);
	if (root && root->type != YAML_MAPPING_NODE) {
		buf_printf(errors, "%s:%zu: a config file is a mapping of "
			   "key: value lines\n", path,
			   root->start_mark.line + 1);
		r = -EINVAL;
	}
	for (yaml_node_pair_t *p = root && r == 0
					   ? root->data.mapping.pairs.start
					   : NULL;
	     p && p < root->data.mapping.pairs.top; p++) {
		yaml_node_t *kn = yaml_document_get_node(&doc, p->key);
		yaml_node_t *vn = yaml_document_get_node(&doc, p->value);
		char *where = xasprintf("%s:%zu", path,
					kn->start_mark.line + 1);
		const char *key = kn->type == YAML_SCALAR_NODE
					  ? (const char *)kn->data.scalar.value
					  : "?";
		long k = find_key(key);
		if (strcmp(key, "imap") == 0) {
			if (load_imap(cfg, &doc, vn, path, errors) < 0)
				r = -EINVAL;
		} else if (k < 0) {
			buf_printf(errors, "%s: unknown setting '%s' (known: "
				   "see trackmail config show)\n", where, key);
			r = -EINVAL;
		} else if (vn->type != YAML_SCALAR_NODE) {
			buf_printf(errors, "%s: %s takes a single value\n",
				   where, key);
			r = -EINVAL;
		} else if (set_value(cfg, (size_t)k,
				     (const char *)vn->data.scalar.value,
				     where, where, errors) < 0) {
			r = -EINVAL;
		}
		free(where);
	}
	yaml_document_delete(&doc);
	yaml_parser_delete(&yp);
	free(data);
	return r;
}

void config_describe(const struct config *cfg, size_t i, const char **name_r,
		     char **value_r, const char **origin_r,
		     const char **help_r)
{
	const struct key *key = &keys[i];
	const char *field = (const char *)cfg + key->offset;
	*name_r = key->name;
	*value_r = key->type == KEY_LONG
			   ? xasprintf("%ld", *(const long *)field)
			   : xstrdup(*(char *const *)field);
	*origin_r = cfg->origin[i];
	*help_r = key->help;
}
