/* smtp_harness.c - runs the SMTP/LMTP engine (src/intake/smtp_server.c)
 * with callbacks that write each accepted message to a directory, so the
 * protocol tests (tests/intake/smtp_protocol.sh) drive the engine with real
 * clients without the spool or the store.
 *
 * Recipients: t-<anything>@DOMAIN is accepted; t-fail...@DOMAIN is
 * accepted at RCPT and answered 451 after the data (LMTP per-recipient
 * replies); another local part 550 5.1.1, another domain 550 5.7.1. Each
 * message is written to DIR/<session>-<n>-<rcpt index>.eml, then answered
 * from the next loop iteration (the engine's asynchronous path).
 *
 * Usage: smtp_harness DIR DOMAIN [KEY=VALUE...] with keys smtp, lmtp
 * (listen addresses), cert, key, max_size, max_line, max_data_line,
 * max_rcpt, max_bad, max_sessions, max_per_client, idle, total. Prints
 * "smtp_port=N" and "ready" on stdout once listening; SIGTERM shuts down. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <event2/event.h>
#include <openssl/ssl.h>

#include "core/log.h"
#include "core/util.h"
#include "intake/smtp_server.h"

struct harness {
	struct event_base *base;
	const char *dir;
	const char *domain;
	unsigned long n;
	struct smtp_server *smtp, *lmtp;
};

struct pending {
	struct harness *h;
	struct smtp_transaction *tx;
	struct event *ev;
};

static void rcpt_cb(void *ctx, const char *session_id, const char *peer,
		    const char *address, int64_t *cookie_r,
		    struct smtp_reply *reply)
{
	struct harness *h = ctx;
	const char *at = strrchr(address, '@');
	if (!at || strcasecmp(at + 1, h->domain) != 0) {
		*reply = (struct smtp_reply){ 550, "5.7.1",
					      "Relay access denied" };
		return;
	}
	if (strncasecmp(address, "t-", 2) != 0) {
		*reply = (struct smtp_reply){ 550, "5.1.1",
					      "No such recipient" };
		return;
	}
	*cookie_r = strncasecmp(address, "t-fail", 6) == 0 ? 1 : 0;
}

static void answer(evutil_socket_t fd, short what, void *arg)
{
	struct pending *p = arg;
	size_t len;
	const char *data = smtp_transaction_data(p->tx, &len);
	unsigned long n = ++p->h->n;
	/* The last rcpt_done frees the transaction: count it first. */
	size_t n_rcpt = smtp_transaction_rcpt_count(p->tx);
	for (size_t i = 0; i < n_rcpt; i++) {
		int64_t fail;
		smtp_transaction_rcpt(p->tx, i, &fail);
		struct smtp_reply rep = { 250, "2.0.0", "queued" };
		if (fail) {
			rep = (struct smtp_reply){ 451, "4.3.0",
						   "Temporary failure" };
		} else {
			char *path = xasprintf("%s/%s-%lu-%zu.eml", p->h->dir,
					       smtp_transaction_session_id(
						       p->tx), n, i);
			if (util_write_file_durable(path, data, len) < 0)
				rep = (struct smtp_reply){ 451, "4.3.0",
							   "Cannot write" };
			free(path);
		}
		smtp_transaction_rcpt_done(p->tx, i, &rep);
	}
	event_free(p->ev);
	free(p);
}

static void data_cb(void *ctx, struct smtp_transaction *tx)
{
	struct harness *h = ctx;
	struct pending *p = xcalloc(1, sizeof(*p));
	p->h = h;
	p->tx = tx;
	p->ev = evtimer_new(h->base, answer, p);
	struct timeval now = { 0, 0 };
	evtimer_add(p->ev, &now);
}

static void on_term(evutil_socket_t fd, short what, void *arg)
{
	struct harness *h = arg;
	if (h->smtp)
		smtp_server_shutdown(h->smtp, NULL);
	if (h->lmtp)
		smtp_server_shutdown(h->lmtp, NULL);
	struct timeval t = { 2, 0 };
	event_base_loopexit(h->base, &t);
}

static const char *opt(int argc, char **argv, const char *key,
		       const char *dflt)
{
	size_t n = strlen(key);
	for (int i = 3; i < argc; i++)
		if (strncmp(argv[i], key, n) == 0 && argv[i][n] == '=')
			return argv[i] + n + 1;
	return dflt;
}

static unsigned long num(int argc, char **argv, const char *key,
			 unsigned long dflt)
{
	const char *v = opt(argc, argv, key, NULL);
	long r;
	if (!v)
		return dflt;
	if (util_parse_long(v, 0, 1L << 40, &r) < 0) {
		fprintf(stderr, "bad %s\n", key);
		exit(2);
	}
	return (unsigned long)r;
}

static void settings(struct smtp_server_settings *s, int argc, char **argv,
		     enum smtp_protocol proto, SSL_CTX *tls)
{
	smtp_server_settings_default(s, proto);
	s->hostname = "harness.test";
	s->max_message_size = num(argc, argv, "max_size",
				  s->max_message_size);
	s->max_line = num(argc, argv, "max_line", s->max_line);
	s->max_data_line = num(argc, argv, "max_data_line",
			       s->max_data_line);
	s->max_recipients = (unsigned)num(argc, argv, "max_rcpt",
					  s->max_recipients);
	s->max_bad_commands = (unsigned)num(argc, argv, "max_bad",
					    s->max_bad_commands);
	s->max_sessions = (unsigned)num(argc, argv, "max_sessions",
					s->max_sessions);
	s->max_sessions_per_client = (unsigned)num(
		argc, argv, "max_per_client", s->max_sessions_per_client);
	s->idle_timeout_s = (unsigned)num(argc, argv, "idle",
					  s->idle_timeout_s);
	s->total_timeout_s = (unsigned)num(argc, argv, "total",
					   s->total_timeout_s);
	s->tls = proto == SMTP_PROTOCOL_SMTP ? tls : NULL;
}

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: smtp_harness DIR DOMAIN [K=V...]\n");
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	struct harness h = { .dir = argv[1], .domain = argv[2] };
	h.base = event_base_new();
	SSL_CTX *tls = NULL;
	const char *cert = opt(argc, argv, "cert", NULL);
	if (cert) {
		tls = SSL_CTX_new(TLS_server_method());
		if (SSL_CTX_use_certificate_chain_file(tls, cert) != 1 ||
		    SSL_CTX_use_PrivateKey_file(tls, opt(argc, argv, "key",
							 ""),
						SSL_FILETYPE_PEM) != 1) {
			fprintf(stderr, "cannot load %s\n", cert);
			return 1;
		}
	}
	struct smtp_server_callbacks cb = { rcpt_cb, data_cb };
	char err[512];
	const char *smtp = opt(argc, argv, "smtp", "127.0.0.1:0");
	const char *lmtp = opt(argc, argv, "lmtp", "");
	struct smtp_server_settings set;
	if (*smtp) {
		settings(&set, argc, argv, SMTP_PROTOCOL_SMTP, tls);
		h.smtp = smtp_server_new(h.base, &set, &cb, &h);
		if (smtp_server_listen(h.smtp, smtp, 0, NULL, err,
				       sizeof(err)) < 0) {
			fprintf(stderr, "%s\n", err);
			return 1;
		}
		printf("smtp_port=%d\n", smtp_server_port(h.smtp, 0));
	}
	if (*lmtp) {
		settings(&set, argc, argv, SMTP_PROTOCOL_LMTP, NULL);
		h.lmtp = smtp_server_new(h.base, &set, &cb, &h);
		if (smtp_server_listen(h.lmtp, lmtp, 0600, NULL, err,
				       sizeof(err)) < 0) {
			fprintf(stderr, "%s\n", err);
			return 1;
		}
	}
	printf("ready\n");
	fflush(stdout);
	struct event *term = evsignal_new(h.base, SIGTERM, on_term, &h);
	event_add(term, NULL);
	event_base_dispatch(h.base);
	event_free(term);
	smtp_server_free(&h.smtp);
	smtp_server_free(&h.lmtp);
	event_base_free(h.base);
	SSL_CTX_free(tls);
	return 0;
}
