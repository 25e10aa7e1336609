/* config.h - the settings: a typed table (name, type, default, min, max)
 * read from an optional YAML file, then the environment, then options.
 *
 * trackmail runs with no config file at all: every key has a built-in
 * default (the embedded default of DESIGN.md). A file only overrides. A
 * bad line is an error that names the file and the line; nothing is
 * guessed. docs/config.md lists the keys; `trackmail config show` prints
 * the effective values and where each came from. */
#ifndef TRACKMAIL_CONFIG_H
#define TRACKMAIL_CONFIG_H

#include <stdbool.h>

#include "core/buf.h"

/* One IMAP mailbox the poller reads (config file only: the `imap:` list;
 * docs/config.md "IMAP mailboxes"). Strings owned by the config. */
struct config_imap {
	char *name;     /* unique, names its state and log lines */
	char *host;
	long port;      /* implicit TLS; default 993 */
	char *user;
	char *password_file;        /* one line, or */
	char *oauth2_token_command; /* prints an XOAUTH2 access token */
	char *folder;   /* default INBOX */
	char *account;  /* trackmail account the mail belongs to */
	char *ca_file;  /* PEM CAs to trust instead of the system's */
	long poll_seconds; /* without IDLE, and IDLE's longest wait */
};

struct config {
	char *data_dir;      /* SQLite file, quarantine Maildir */
	char *parsers_dir;   /* parser files */
	char *domain;        /* domain of the t-<token>@ addresses */
	long worker_cpu_ms;  /* CPU time per message in the worker */
	long worker_wall_ms; /* wall-clock time per message in the worker */
	char *log_level;     /* debug, info, warn, error */
	long workers;        /* serve: worker processes, 0: CPUs */
	long worker_nice;    /* serve: workers' nice increment */
	long archive_days;   /* raw messages kept in archive/, 0: forever */
	/* SMTP/LMTP intake (docs/intake.md) */
	char *smtp_listen;   /* "host:port,...", "" off */
	char *lmtp_listen;   /* "unix:PATH" or host:port, "" off */
	char *lmtp_socket_mode;  /* octal, e.g. "0660" */
	char *lmtp_socket_group; /* "" keeps the process's group */
	char *tls_cert, *tls_key; /* PEM files; empty: no STARTTLS */
	char *smtp_hostname; /* greeting name; "" the host name */
	long max_message_size;
	long smtp_max_recipients;
	long smtp_max_sessions;
	long smtp_max_sessions_per_client;
	long smtp_idle_timeout;
	long smtp_session_timeout;
	long smtp_max_bad_commands;
	long smtp_max_line;
	long smtp_max_data_line;
	long token_grace_days; /* an old token works this long after rotate */
	char *dkim_query_file; /* DKIM keys from a file, "" = DNS */
	struct config_imap *imap; /* the `imap:` list (file only) */
	size_t n_imap;
	/* Where each value came from: "default", "FILE:LINE", "env NAME",
	 * "option"; indexed like the table (config_key_count()). */
	char **origin;
};

/* Fills cfg with the built-in defaults. */
void config_init(struct config *cfg);
void config_free(struct config *cfg);

/* Reads a YAML mapping of key: value from path over cfg. Unknown keys,
 * wrong types and values out of range are errors "PATH:LINE: ..."
 * appended to errors; returns 0, or -EINVAL (errors set) / -errno. */
int config_load_file(struct config *cfg, const char *path,
		     struct buf *errors);
/* Applies TRACKMAIL_DATA_DIR, TRACKMAIL_PARSERS_DIR, TRACKMAIL_DOMAIN,
 * TRACKMAIL_WORKER_CPU_MS, TRACKMAIL_WORKER_WALL_MS, TRACKMAIL_LOG_LEVEL. Errors like the file. */
int config_load_env(struct config *cfg, struct buf *errors);
/* Sets one key from a command-line option (value checked the same way). */
int config_set(struct config *cfg, const char *key, const char *value,
	       const char *origin, struct buf *errors);

size_t config_key_count(void);
/* Name, current value as text, origin and help of key i. *value_r is
 * malloc'ed. */
void config_describe(const struct config *cfg, size_t i, const char **name_r,
		     char **value_r, const char **origin_r,
		     const char **help_r);

#endif
