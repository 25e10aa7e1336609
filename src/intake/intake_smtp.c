/* intake_smtp.c - the SMTP/LMTP intake process (intake.h): the engine of
 * smtp_server.c on the smtp_listen and lmtp_listen addresses, recipients
 * checked against the accounts in the store, every accepted message
 * written to the durable spool. A recipient gets 250 only from the spool's
 * done callback, once the message is fsync'd and renamed into new/.
 *
 * Recipients are t-<token>@<domain>: another domain is 550 5.7.1 (never a
 * relay), an unknown token 550 5.1.1, a disabled account's 550 5.2.1 (a
 * token rotated away still names its account in the grace period). The
 * account id travels with the message in the spool envelope, never taken
 * from the client's headers. */
#include "intake/intake.h"

#include <ctype.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <event2/event.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include "core/config.h"
#include "core/log.h"
#include "core/util.h"
#include "intake/smtp_server.h"
#include "intake/spool.h"
#include "store/store.h"
#include "store/store_accounts.h"

struct intake {
	const struct config *cfg;
	struct event_base *base;
	struct store *store;
	struct spool *spool;
	struct smtp_server *smtp, *lmtp;
	unsigned running; /* servers not yet shut down */
};

/* One message handed to the spool, per distinct account of a
 * transaction (two recipients of one account store one copy). */
struct delivery {
	struct smtp_transaction *tx;
	int64_t *accounts; /* per recipient, copied */
	size_t n_rcpts;
	size_t left;       /* spool submissions not yet done */
};

struct submission {
	struct delivery *d;
	int64_t account;
};

static void rcpt_cb(void *ctx, const char *session_id, const char *peer,
		    const char *address, int64_t *cookie_r,
		    struct smtp_reply *reply)
{
	struct intake *in = ctx;
	const char *at = strrchr(address, '@');
	if (!at || strcasecmp(at + 1, in->cfg->domain) != 0) {
		*reply = (struct smtp_reply){ 550, "5.7.1",
					      "Relay access denied" };
		return;
	}
	size_t local = (size_t)(at - address);
	if (local != 2 + STORE_TOKEN_LEN || strncasecmp(address, "t-", 2)) {
		*reply = (struct smtp_reply){ 550, "5.1.1",
					      "No such recipient" };
		return;
	}
	char token[STORE_TOKEN_LEN + 1];
	for (size_t k = 0; k < STORE_TOKEN_LEN; k++)
		token[k] = (char)tolower((unsigned char)address[2 + k]);
	token[STORE_TOKEN_LEN] = '\0';
	struct store_account acc;
	bool disabled = false;
	/* The current token, or an old one still in its grace period. */
	int r = store_account_lookup(in->store, token, &acc, &disabled);
	if (r == 0 && disabled) {
		*reply = (struct smtp_reply){ 550, "5.2.1",
					      "Mailbox disabled" };
		return;
	}
	if (r == -ENOENT) {
		*reply = (struct smtp_reply){ 550, "5.1.1",
					      "No such recipient" };
		return;
	}
	if (r < 0) {
		log_msg(LOG_ERROR, "event=smtp_store_error session=%s "
			"error=\"%s\"", session_id, strerror(-r));
		*reply = (struct smtp_reply){ 451, "4.3.0",
					      "Temporary lookup failure" };
		return;
	}
	*cookie_r = acc.id;
}

static void delivery_release(struct delivery *d)
{
	if (--d->left > 0)
		return;
	free(d->accounts);
	free(d);
}

static void spool_done(void *arg, int status, const char *id)
{
	struct submission *sub = arg;
	struct delivery *d = sub->d;
	struct smtp_transaction *tx = d->tx;
	char text[160];
	struct smtp_reply rep;
	if (status == 0) {
		snprintf(text, sizeof(text), "queued as %s", id);
		rep = (struct smtp_reply){ 250, "2.0.0", text };
		log_msg(LOG_INFO, "event=smtp_queued session=%s id=%s "
			"account=%lld", smtp_transaction_session_id(tx), id,
			(long long)sub->account);
	} else {
		rep = (struct smtp_reply){ 451, "4.3.0",
					   "Cannot store the message now" };
		log_msg(LOG_ERROR, "event=spool_failed session=%s "
			"error=\"%s\"", smtp_transaction_session_id(tx),
			strerror(-status));
	}
	/* the last rcpt_done may free tx: touch only our copy */
	int64_t account = sub->account;
	free(sub);
	for (size_t i = 0; i < d->n_rcpts; i++)
		if (d->accounts[i] == account)
			smtp_transaction_rcpt_done(tx, i, &rep);
	delivery_release(d);
}

static void data_cb(void *ctx, struct smtp_transaction *tx)
{
	struct intake *in = ctx;
	size_t n = smtp_transaction_rcpt_count(tx);
	struct delivery *d = xcalloc(1, sizeof(*d));
	d->tx = tx;
	d->n_rcpts = n;
	d->accounts = xcalloc(n, sizeof(*d->accounts));
	for (size_t i = 0; i < n; i++)
		smtp_transaction_rcpt(tx, i, &d->accounts[i]);
	size_t *first = xcalloc(n > 0 ? n : 1, sizeof(*first)), n_first = 0;
	for (size_t i = 0; i < n; i++) {
		bool seen = false;
		for (size_t j = 0; j < i && !seen; j++)
			seen = d->accounts[j] == d->accounts[i];
		if (!seen)
			first[n_first++] = i;
	}
	d->left = n_first + 1; /* + 1: a done() called from spool_submit */
	size_t len;
	const char *data = smtp_transaction_data(tx, &len);
	bool lmtp = smtp_transaction_protocol(tx) == SMTP_PROTOCOL_LMTP;
	for (size_t k = 0; k < n_first; k++) {
		size_t i = first[k];
		struct submission *sub = xcalloc(1, sizeof(*sub));
		sub->d = d;
		sub->account = d->accounts[i];
		struct spool_envelope env = {
			.account_id = d->accounts[i],
			.source = lmtp ? SPOOL_SOURCE_LMTP : SPOOL_SOURCE_SMTP,
			.mail_from = smtp_transaction_mail_from(tx),
			.rcpt_to = smtp_transaction_rcpt(tx, i, NULL),
			.peer = smtp_transaction_peer(tx),
		};
		spool_submit(in->spool, &env, data, len, spool_done, sub);
	}
	free(first);
	delivery_release(d);
}

static void server_stopped(void *ctx)
{
	struct intake *in = ctx;
	if (in->running > 0 && --in->running == 0)
		event_base_loopbreak(in->base);
}

static void on_signal(evutil_socket_t sig, short what, void *arg)
{
	struct intake *in = arg;
	log_msg(LOG_INFO, "event=intake_smtp_stopping signal=%d", (int)sig);
	/* a client that never reads its answer cannot hold us for ever */
	struct timeval grace = { 30, 0 };
	event_base_loopexit(in->base, &grace);
	if (in->smtp)
		smtp_server_shutdown(in->smtp, server_stopped);
	if (in->lmtp)
		smtp_server_shutdown(in->lmtp, server_stopped);
	if (in->running == 0)
		event_base_loopbreak(in->base);
}

static SSL_CTX *tls_context(const struct config *cfg)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
	if (!ctx)
		return NULL;
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	if (SSL_CTX_use_certificate_chain_file(ctx, cfg->tls_cert) != 1 ||
	    SSL_CTX_use_PrivateKey_file(ctx, cfg->tls_key,
					SSL_FILETYPE_PEM) != 1 ||
	    SSL_CTX_check_private_key(ctx) != 1) {
		char msg[256];
		ERR_error_string_n(ERR_get_error(), msg, sizeof(msg));
		log_msg(LOG_ERROR, "event=tls_config_error cert=%s key=%s "
			"error=\"%s\"", cfg->tls_cert, cfg->tls_key, msg);
		SSL_CTX_free(ctx);
		return NULL;
	}
	return ctx;
}

/* Replaces "<data-dir>" in value by the data dir; malloc'ed. */
static char *expand(const char *value, const char *data_dir)
{
	const char *p = strstr(value, "<data-dir>");
	if (!p)
		return xstrdup(value);
	return xasprintf("%.*s%s%s", (int)(p - value), value, data_dir,
			 p + strlen("<data-dir>"));
}

static int listen_all(struct smtp_server *srv, const char *list,
		      const struct config *cfg, unsigned mode,
		      const char *group)
{
	char *copy = expand(list, cfg->data_dir);
	int r = 0;
	char *save = NULL;
	for (char *a = strtok_r(copy, ",", &save); a && r == 0;
	     a = strtok_r(NULL, ",", &save)) {
		while (*a == ' ')
			a++;
		char err[512];
		r = smtp_server_listen(srv, a, mode, group, err, sizeof(err));
		if (r < 0)
			log_msg(LOG_ERROR, "event=listen_failed error=\"%s\"",
				err);
	}
	free(copy);
	return r;
}

static void settings_from(struct smtp_server_settings *s,
			  const struct config *cfg, enum smtp_protocol p,
			  const char *hostname, SSL_CTX *tls)
{
	smtp_server_settings_default(s, p);
	s->hostname = hostname;
	s->max_line = (size_t)cfg->smtp_max_line;
	s->max_data_line = (size_t)cfg->smtp_max_data_line;
	s->max_message_size = (size_t)cfg->max_message_size;
	s->max_recipients = (unsigned)cfg->smtp_max_recipients;
	s->max_bad_commands = (unsigned)cfg->smtp_max_bad_commands;
	s->max_sessions = (unsigned)cfg->smtp_max_sessions;
	s->max_sessions_per_client =
		(unsigned)cfg->smtp_max_sessions_per_client;
	s->idle_timeout_s = (unsigned)cfg->smtp_idle_timeout;
	s->total_timeout_s = (unsigned)cfg->smtp_session_timeout;
	s->tls = p == SMTP_PROTOCOL_SMTP ? tls : NULL;
}

int intake_smtp_run(const struct config *cfg, int ready_fd)
{
	signal(SIGPIPE, SIG_IGN);
	int rc = 1;
	struct intake in = { .cfg = cfg };
	SSL_CTX *tls = NULL;
	struct event *sigterm = NULL, *sigint = NULL;
	char hostname[256] = "localhost";
	if (*cfg->smtp_hostname)
		snprintf(hostname, sizeof(hostname), "%s",
			 cfg->smtp_hostname);
	else if (gethostname(hostname, sizeof(hostname) - 1) < 0)
		snprintf(hostname, sizeof(hostname), "localhost");
	char *end;
	unsigned long mode = strtoul(cfg->lmtp_socket_mode, &end, 8);
	if (*end || end == cfg->lmtp_socket_mode || mode > 07777) {
		log_msg(LOG_ERROR, "event=config_error key=lmtp_socket_mode "
			"error=\"not an octal mode\"");
		return 1;
	}
	if ((*cfg->tls_cert != 0) != (*cfg->tls_key != 0)) {
		log_msg(LOG_ERROR, "event=config_error key=tls_cert "
			"error=\"tls_cert and tls_key go together\"");
		return 1;
	}
	in.base = event_base_new();
	char *db = xasprintf("%s/trackmail.db", cfg->data_dir);
	const char *error = NULL;
	char err[512];
	if (util_mkdir_p(cfg->data_dir) < 0 ||
	    store_open(db, &in.store, &error) < 0) {
		log_msg(LOG_ERROR, "event=store_open_failed path=%s "
			"error=\"%s\"", db, error ? error : strerror(errno));
		free(db);
		goto out;
	}
	free(db);
	if (spool_open(&in.spool, cfg->data_dir, err, sizeof(err)) < 0 ||
	    spool_attach(in.spool, in.base) < 0) {
		log_msg(LOG_ERROR, "event=spool_open_failed error=\"%s\"", err);
		goto out;
	}
	if (*cfg->tls_cert && !(tls = tls_context(cfg)))
		goto out;
	struct smtp_server_callbacks cb = { rcpt_cb, data_cb };
	struct smtp_server_settings set;
	if (*cfg->smtp_listen) {
		settings_from(&set, cfg, SMTP_PROTOCOL_SMTP, hostname, tls);
		in.smtp = smtp_server_new(in.base, &set, &cb, &in);
		in.running++;
		if (listen_all(in.smtp, cfg->smtp_listen, cfg, 0, NULL) < 0)
			goto out;
	}
	if (*cfg->lmtp_listen) {
		settings_from(&set, cfg, SMTP_PROTOCOL_LMTP, hostname, NULL);
		in.lmtp = smtp_server_new(in.base, &set, &cb, &in);
		in.running++;
		if (listen_all(in.lmtp, cfg->lmtp_listen, cfg, (unsigned)mode,
			       cfg->lmtp_socket_group) < 0)
			goto out;
	}
	if (!in.smtp && !in.lmtp)
		log_msg(LOG_INFO, "event=intake_smtp_off reason=\"smtp_listen "
			"and lmtp_listen are empty\"");
	sigterm = evsignal_new(in.base, SIGTERM, on_signal, &in);
	sigint = evsignal_new(in.base, SIGINT, on_signal, &in);
	event_add(sigterm, NULL);
	event_add(sigint, NULL);
	if (ready_fd >= 0) {
		util_write_all(ready_fd, "1", 1);
		close(ready_fd);
		ready_fd = -1;
	}
	event_base_dispatch(in.base);
	rc = 0;
out:
	if (ready_fd >= 0)
		close(ready_fd);
	if (sigterm)
		event_free(sigterm);
	if (sigint)
		event_free(sigint);
	/* answers still owed go out with the spool's last done calls */
	spool_closep(&in.spool);
	smtp_server_free(&in.smtp);
	smtp_server_free(&in.lmtp);
	store_close(&in.store);
	SSL_CTX_free(tls);
	event_base_free(in.base);
	log_msg(LOG_INFO, "event=intake_smtp_exit rc=%d", rc);
	return rc;
}
