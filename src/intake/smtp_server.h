/* smtp_server.h - one protocol engine for SMTP and LMTP on libevent (after
 * Dovecot's lib-smtp: a protocol flag, a settings struct, a callbacks
 * struct; the daemon, intake_smtp.c, is thin glue).
 *
 * The engine owns the sessions: it reads commands, enforces every bound
 * (docs/intake.md lists them with their reply codes), parses DATA and BDAT
 * into one message buffer and hands a finished transaction to the data
 * callback. The application answers each recipient later, from any event
 * callback, with smtp_transaction_rcpt_done(); the engine replies once all
 * are answered (SMTP: one reply, LMTP: one per recipient, in order). So a
 * 250 goes out only when the application says the message is durable. */
#ifndef TRACKMAIL_SMTP_SERVER_H
#define TRACKMAIL_SMTP_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct event_base;
struct smtp_server;
struct smtp_transaction;
typedef struct ssl_ctx_st SSL_CTX;

enum smtp_protocol { SMTP_PROTOCOL_SMTP, SMTP_PROTOCOL_LMTP };

struct smtp_server_settings {
	enum smtp_protocol protocol;
	const char *hostname;        /* in the greeting and EHLO reply */
	size_t max_line;             /* command line, CRLF included */
	size_t max_data_line;        /* one line of DATA, CRLF included */
	size_t max_message_size;     /* advertised with SIZE, enforced */
	unsigned max_recipients;     /* per transaction */
	unsigned max_bad_commands;   /* then 421 and close */
	unsigned max_sessions;       /* per server */
	unsigned max_sessions_per_client; /* per client address (0: none) */
	unsigned idle_timeout_s;     /* no command for this long: 421 */
	unsigned total_timeout_s;    /* whole session: 421 */
	size_t max_output;           /* pending replies before reading stops */
	SSL_CTX *tls;                /* NULL: no STARTTLS (not owned) */
};

/* Fills s with the defaults of src/core/limits.h. */
void smtp_server_settings_default(struct smtp_server_settings *s,
				  enum smtp_protocol protocol);

/* A reply the application gives: code 0 means "accept". */
struct smtp_reply {
	int code;                  /* 250, 451, 550 ... */
	const char *enhanced;      /* "5.1.1" */
	const char *text;          /* one line, no CRLF */
};

struct smtp_server_callbacks {
	/* RCPT TO:<address>: fill *reply to refuse (code != 0), or leave
	 * reply->code 0 and set *cookie_r to accept (the cookie comes back
	 * with the recipient in the transaction). session_id and peer for
	 * logs. */
	void (*rcpt)(void *ctx, const char *session_id, const char *peer,
		     const char *address, int64_t *cookie_r,
		     struct smtp_reply *reply);
	/* The message is complete (after CRLF.CRLF or BDAT LAST). The
	 * transaction stays valid until every recipient got
	 * smtp_transaction_rcpt_done(), even if the client disconnects. */
	void (*data)(void *ctx, struct smtp_transaction *tx);
};

/* Creates a server on base. settings and callbacks are copied; strings in
 * settings must outlive the server. Returns NULL and *error_r on error. */
struct smtp_server *smtp_server_new(struct event_base *base,
				    const struct smtp_server_settings *s,
				    const struct smtp_server_callbacks *cb,
				    void *ctx);
/* Listens on "host:port", "[v6]:port" or "unix:/path" (a stale socket
 * file is replaced; mode and group applied when mode != 0 / group set).
 * Several calls add listeners. 0 or -errno, err says why. */
int smtp_server_listen(struct smtp_server *server, const char *address,
		       unsigned mode, const char *group, char *err,
		       size_t errlen);
/* The TCP port listener i (in smtp_server_listen order) is bound to
 * (useful after port 0), or -ENOENT for a unix socket / no such one. */
int smtp_server_port(const struct smtp_server *server, size_t i);
/* Stops accepting; idle sessions get 421 and close; sessions waiting for
 * the application finish first. done(ctx) runs when no session is left. */
void smtp_server_shutdown(struct smtp_server *server,
			  void (*done)(void *ctx));
/* Frees the server and every session (in-flight transactions are
 * abandoned: only after shutdown's done, or at exit). NULL is fine. */
void smtp_server_free(struct smtp_server **server);
unsigned smtp_server_session_count(const struct smtp_server *server);

/* Transaction accessors (valid until the last rcpt_done). */
const char *smtp_transaction_session_id(const struct smtp_transaction *tx);
const char *smtp_transaction_peer(const struct smtp_transaction *tx);
enum smtp_protocol smtp_transaction_protocol(
	const struct smtp_transaction *tx);
const char *smtp_transaction_mail_from(const struct smtp_transaction *tx);
size_t smtp_transaction_rcpt_count(const struct smtp_transaction *tx);
const char *smtp_transaction_rcpt(const struct smtp_transaction *tx,
				  size_t i, int64_t *cookie_r);
/* The message as received: dot-stuffing undone, bare-LF lines ending in
 * CRLF. Owned by the transaction. */
const char *smtp_transaction_data(const struct smtp_transaction *tx,
				  size_t *len_r);
/* Answers recipient i: reply->code 0 or 250 means stored. */
void smtp_transaction_rcpt_done(struct smtp_transaction *tx, size_t i,
				const struct smtp_reply *reply);

#endif
