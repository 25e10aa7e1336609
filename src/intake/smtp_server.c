/* smtp_server.c - the SMTP/LMTP engine; see smtp_server.h.
 *
 * One session per connection, an explicit mode (commands, DATA lines, BDAT
 * bytes, waiting for the application) and a command table, as Postfix's
 * smtpd and OpenSMTPD's smtp_session do. Input is read from a libevent
 * bufferevent (an OpenSSL filter on top of it after STARTTLS). Every bound
 * answers with its code and is logged once (docs/intake.md).
 *
 * DATA follows Postfix's smtpd_forbid_bare_newline=normalize: only
 * CRLF.CRLF ends the data, a line ending in a bare LF is stored with CRLF,
 * 8-bit bytes are taken as they are, a leading dot is removed. A dot next
 * to a bare LF or bare CR (what SMTP smuggling relies on) never ends the
 * data and makes the message refused when the real end comes. */
#include "intake/smtp_server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <grp.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include "core/buf.h"
#include "core/limits.h"
#include "core/log.h"
#include "core/util.h"

#define MAX_LISTENERS 16
#define ADDRESS_MAX 512 /* RFC 5321: path 256; SMTPUTF8 makes it longer */

enum mode { MODE_COMMAND, MODE_DATA, MODE_BDAT, MODE_WAIT };

struct rcpt {
	char *address;
	int64_t cookie;
	bool done;
	int code;
	char enhanced[16];
	char *text;
};

struct smtp_transaction {
	struct session *session; /* NULL once the client is gone */
	char session_id[32];
	char peer[80];
	enum smtp_protocol protocol;
	char *mail_from;
	struct rcpt *rcpts;
	size_t n_rcpts, cap_rcpts;
	size_t pending;
	struct buf data;
	bool submitted, used_bdat;
};

struct session {
	struct smtp_server *server;
	struct session *prev, *next;
	struct bufferevent *bev;
	struct event *deadline, *resume;
	char id[32];
	char peer[80];   /* address:port, or "unix" */
	char client[64]; /* address alone, for the per-client count */
	enum mode mode;
	bool helo, tls, closing, read_paused, expired;
	bool skip_line;      /* the rest of a too-long DATA line */
	bool prev_bare_lf;   /* last DATA line ended in LF without CR */
	bool too_big, long_line, smuggling, bdat_bad;
	bool rcpt_limit_logged;
	int bdat_error;      /* reply code to give after a refused chunk */
	size_t bdat_left;
	bool bdat_last;
	unsigned bad_commands;
	struct smtp_transaction *tx;
};

struct listener {
	struct evconnlistener *l;
	char *unix_path;
};

struct smtp_server {
	struct event_base *base;
	struct smtp_server_settings set;
	struct smtp_server_callbacks cb;
	void *ctx;
	struct listener listeners[MAX_LISTENERS];
	size_t n_listeners;
	struct session *sessions;
	unsigned n_sessions;
	unsigned long long next_id;
	bool shutting_down;
	void (*shutdown_done)(void *ctx);
	char *line; /* command line buffer, max_line + 1 */
};

void smtp_server_settings_default(struct smtp_server_settings *s,
				  enum smtp_protocol protocol)
{
	memset(s, 0, sizeof(*s));
	s->protocol = protocol;
	s->hostname = "localhost";
	s->max_line = LIMIT_SMTP_LINE;
	s->max_data_line = LIMIT_SMTP_DATA_LINE;
	s->max_message_size = LIMIT_MESSAGE_SIZE;
	s->max_recipients = LIMIT_SMTP_RECIPIENTS;
	s->max_bad_commands = LIMIT_SMTP_BAD_COMMANDS;
	s->max_sessions = LIMIT_SMTP_SESSIONS;
	s->max_sessions_per_client = LIMIT_SMTP_SESSIONS_PER_CLIENT;
	s->idle_timeout_s = LIMIT_SMTP_IDLE_S;
	s->total_timeout_s = LIMIT_SMTP_SESSION_S;
	s->max_output = LIMIT_SMTP_OUTPUT;
}

static const char *proto_name(enum smtp_protocol p)
{
	return p == SMTP_PROTOCOL_LMTP ? "lmtp" : "smtp";
}

/* ---- transactions ---- */

static void tx_free(struct smtp_transaction *tx)
{
	if (!tx)
		return;
	for (size_t i = 0; i < tx->n_rcpts; i++) {
		free(tx->rcpts[i].address);
		free(tx->rcpts[i].text);
	}
	free(tx->rcpts);
	free(tx->mail_from);
	buf_free(&tx->data);
	free(tx);
}

const char *smtp_transaction_session_id(const struct smtp_transaction *tx)
{
	return tx->session_id;
}

const char *smtp_transaction_peer(const struct smtp_transaction *tx)
{
	return tx->peer;
}

enum smtp_protocol smtp_transaction_protocol(const struct smtp_transaction *tx)
{
	return tx->protocol;
}

const char *smtp_transaction_mail_from(const struct smtp_transaction *tx)
{
	return tx->mail_from;
}

size_t smtp_transaction_rcpt_count(const struct smtp_transaction *tx)
{
	return tx->n_rcpts;
}

const char *smtp_transaction_rcpt(const struct smtp_transaction *tx, size_t i,
				  int64_t *cookie_r)
{
	if (cookie_r)
		*cookie_r = tx->rcpts[i].cookie;
	return tx->rcpts[i].address;
}

const char *smtp_transaction_data(const struct smtp_transaction *tx,
				  size_t *len_r)
{
	*len_r = tx->data.len;
	return buf_cstr(&tx->data);
}

/* ---- output and closing ---- */

static void reply(struct session *s, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void reply(struct session *s, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	struct evbuffer *out = bufferevent_get_output(s->bev);
	evbuffer_add_vprintf(out, fmt, ap);
	evbuffer_add(out, "\r\n", 2);
	va_end(ap);
}

static void session_free(struct session *s)
{
	struct smtp_server *srv = s->server;
	log_msg(LOG_INFO, "event=%s_disconnect session=%s peer=%s",
		proto_name(srv->set.protocol), s->id, s->peer);
	if (s->tx) {
		if (s->tx->submitted && s->tx->pending > 0)
			s->tx->session = NULL; /* freed by the last rcpt_done */
		else
			tx_free(s->tx);
	}
	if (s->prev)
		s->prev->next = s->next;
	else
		srv->sessions = s->next;
	if (s->next)
		s->next->prev = s->prev;
	srv->n_sessions--;
	if (s->bev)
		bufferevent_free(s->bev);
	if (s->deadline)
		event_free(s->deadline);
	if (s->resume)
		event_free(s->resume);
	free(s);
	if (srv->shutting_down && srv->n_sessions == 0 && srv->shutdown_done)
		srv->shutdown_done(srv->ctx);
}

/* Sends what is queued, then closes (from the write callback). */
static void session_close(struct session *s)
{
	s->closing = true;
	bufferevent_disable(s->bev, EV_READ);
	bufferevent_enable(s->bev, EV_WRITE);
	if (evbuffer_get_length(bufferevent_get_output(s->bev)) == 0)
		event_active(s->resume, EV_TIMEOUT, 1);
}

static void count_bad(struct session *s)
{
	s->bad_commands++;
	if (s->bad_commands >= s->server->set.max_bad_commands &&
	    !s->closing) {
		log_msg(LOG_WARN, "event=smtp_limit limit=bad_commands "
			"session=%s peer=%s count=%u", s->id, s->peer,
			s->bad_commands);
		reply(s, "421 4.7.0 %s Too many errors, closing",
		      s->server->set.hostname);
		session_close(s);
	}
}

static void tx_reset(struct session *s)
{
	tx_free(s->tx);
	s->tx = NULL;
	s->rcpt_limit_logged = false;
}

/* ---- the transaction's end ---- */

static void tx_finish(struct session *s)
{
	struct smtp_transaction *tx = s->tx;
	if (s->server->set.protocol == SMTP_PROTOCOL_LMTP) {
		for (size_t i = 0; i < tx->n_rcpts; i++) {
			struct rcpt *r = &tx->rcpts[i];
			reply(s, "%d %s <%s> %s", r->code, r->enhanced,
			      r->address, r->text);
		}
	} else {
		struct rcpt *fail = NULL;
		for (size_t i = 0; i < tx->n_rcpts && !fail; i++)
			if (tx->rcpts[i].code != 250)
				fail = &tx->rcpts[i];
		if (fail)
			reply(s, "%d %s %s", fail->code, fail->enhanced,
			      fail->text);
		else
			reply(s, "250 2.0.0 Ok: %s", tx->rcpts[0].text);
	}
	tx_reset(s);
	s->mode = MODE_COMMAND;
	if (s->expired || s->server->shutting_down) {
		reply(s, "421 4.3.2 %s Service closing",
		      s->server->set.hostname);
		session_close(s);
		return;
	}
	bufferevent_enable(s->bev, EV_READ);
	event_active(s->resume, EV_TIMEOUT, 1); /* input already buffered */
}

void smtp_transaction_rcpt_done(struct smtp_transaction *tx, size_t i,
				const struct smtp_reply *rep)
{
	struct rcpt *r = &tx->rcpts[i];
	if (r->done)
		return;
	r->done = true;
	if (rep->code == 0 || rep->code == 250) {
		r->code = 250;
		snprintf(r->enhanced, sizeof(r->enhanced), "2.0.0");
		r->text = xstrdup(rep->text ? rep->text : "Ok");
	} else {
		r->code = rep->code;
		snprintf(r->enhanced, sizeof(r->enhanced), "%s",
			 rep->enhanced ? rep->enhanced : "4.3.0");
		r->text = xstrdup(rep->text ? rep->text : "Error");
	}
	if (--tx->pending > 0)
		return;
	if (!tx->session) {
		tx_free(tx);
		return;
	}
	tx_finish(tx->session);
}

static void data_end(struct session *s)
{
	const char *why = NULL;
	if (s->smuggling)
		why = "550 5.5.2 Bare LF or CR next to the end-of-data dot "
		      "refused (SMTP smuggling)";
	else if (s->long_line)
		why = "500 5.5.2 Message line too long";
	else if (s->too_big)
		why = "552 5.3.4 Message size exceeds fixed maximum";
	else if (s->bdat_bad)
		why = "503 5.5.1 BDAT refused earlier in this transaction";
	if (why) {
		log_msg(LOG_WARN, "event=smtp_refused session=%s peer=%s "
			"reason=%s", s->id, s->peer,
			s->smuggling ? "smuggling" :
			s->long_line ? "data_line_too_long" :
			s->too_big ? "message_too_big" : "bdat_sequence");
		reply(s, "%s", why);
		tx_reset(s);
		s->mode = MODE_COMMAND;
		return;
	}
	struct smtp_transaction *tx = s->tx;
	tx->submitted = true;
	tx->pending = tx->n_rcpts;
	s->mode = MODE_WAIT;
	bufferevent_disable(s->bev, EV_READ);
	log_msg(LOG_INFO, "event=%s_data session=%s size=%zu rcpts=%zu",
		proto_name(tx->protocol), s->id, tx->data.len, tx->n_rcpts);
	s->server->cb.data(s->server->ctx, tx);
}

static void data_start(struct session *s)
{
	s->skip_line = s->prev_bare_lf = false;
	s->too_big = s->long_line = s->smuggling = false;
	buf_reset(&s->tx->data);
}

/* ---- DATA and BDAT input ---- */

static void data_line(struct session *s, const char *p, size_t content,
		      bool crlf)
{
	if (content >= 2 && p[0] == '.' && p[1] == '\r')
		s->smuggling = true; /* ".<CR>" */
	if (content >= 2 && p[content - 1] == '.' && p[content - 2] == '\r')
		s->smuggling = true; /* "<CR>." */
	if (content == 1 && p[0] == '.')
		s->smuggling = true; /* "." next to a bare LF */
	if (s->smuggling || s->too_big || s->long_line)
		return;
	if (content > 0 && p[0] == '.') {
		p++;
		content--;
	}
	struct buf *b = &s->tx->data;
	if (buf_append(b, p, content) < 0 || buf_append(b, "\r\n", 2) < 0)
		s->too_big = true;
	(void)crlf;
}

/* 1 progressed, 0 need more input. */
static int read_data(struct session *s)
{
	struct evbuffer *in = bufferevent_get_input(s->bev);
	size_t have = evbuffer_get_length(in);
	if (have == 0)
		return 0;
	size_t eol_len;
	struct evbuffer_ptr p = evbuffer_search_eol(in, NULL, &eol_len,
						    EVBUFFER_EOL_LF);
	size_t max = s->server->set.max_data_line;
	if (p.pos < 0) {
		if (have > max) { /* partial line already too long */
			if (!s->long_line)
				log_msg(LOG_WARN, "event=smtp_limit "
					"limit=data_line session=%s peer=%s",
					s->id, s->peer);
			s->long_line = s->skip_line = true;
			evbuffer_drain(in, have);
		}
		return 0;
	}
	size_t len = (size_t)p.pos + 1;
	const char *line = (const char *)evbuffer_pullup(in, (ssize_t)len);
	bool crlf = len >= 2 && line[len - 2] == '\r';
	size_t content = len - (crlf ? 2 : 1);
	if (s->skip_line) {
		s->skip_line = false;
	} else if (len > max) {
		if (!s->long_line)
			log_msg(LOG_WARN, "event=smtp_limit limit=data_line "
				"session=%s peer=%s", s->id, s->peer);
		s->long_line = true;
	} else if (content == 1 && line[0] == '.' && crlf &&
		   !s->prev_bare_lf) {
		evbuffer_drain(in, len);
		data_end(s);
		return 1;
	} else {
		bool was = s->smuggling;
		data_line(s, line, content, crlf);
		if (s->smuggling && !was)
			log_msg(LOG_WARN, "event=smtp_smuggling session=%s "
				"peer=%s", s->id, s->peer);
	}
	s->prev_bare_lf = !crlf;
	evbuffer_drain(in, len);
	return 1;
}

static int read_bdat(struct session *s)
{
	struct evbuffer *in = bufferevent_get_input(s->bev);
	size_t have = evbuffer_get_length(in);
	size_t n = have < s->bdat_left ? have : s->bdat_left;
	if (n > 0) {
		if (s->bdat_error == 0 && !s->too_big) {
			struct buf *b = &s->tx->data;
			if (b->len + n > b->max) {
				s->too_big = true;
			} else {
				if (buf_append(b, evbuffer_pullup(in,
					       (ssize_t)n), n) < 0)
					s->too_big = true;
			}
		}
		evbuffer_drain(in, n);
		s->bdat_left -= n;
	}
	if (s->bdat_left > 0)
		return 0;
	s->mode = MODE_COMMAND;
	if (s->bdat_error == 503) {
		reply(s, "503 5.5.1 Need MAIL and RCPT before BDAT");
		count_bad(s);
	} else if (s->bdat_error == 5031) {
		reply(s, "503 5.5.1 BDAT after DATA");
		count_bad(s);
	} else if (s->too_big && !s->bdat_last) {
		/* keep reading chunks; refuse once at LAST */
		reply(s, "552 5.3.4 Message size exceeds fixed maximum");
		log_msg(LOG_WARN, "event=smtp_refused session=%s peer=%s "
			"reason=message_too_big", s->id, s->peer);
		tx_reset(s);
	} else if (s->bdat_last) {
		data_end(s);
	} else {
		reply(s, "250 2.0.0 %zu octets received",
		      s->tx->data.len);
	}
	return 1;
}

/* ---- commands ---- */

struct command {
	const char *verb;
	void (*fn)(struct session *s, char *args);
};

static void bad(struct session *s, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void bad(struct session *s, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	struct evbuffer *out = bufferevent_get_output(s->bev);
	evbuffer_add_vprintf(out, fmt, ap);
	evbuffer_add(out, "\r\n", 2);
	va_end(ap);
	count_bad(s);
}

static bool need_args(struct session *s, const char *args, bool want)
{
	if (want && !*args) {
		bad(s, "501 5.5.4 Syntax error: argument required");
		return false;
	}
	if (!want && *args) {
		bad(s, "501 5.5.4 Syntax error: no arguments allowed");
		return false;
	}
	return true;
}

static void cmd_ehlo(struct session *s, char *args)
{
	if (!need_args(s, args, true))
		return;
	const struct smtp_server_settings *set = &s->server->set;
	tx_reset(s);
	s->helo = true;
	struct evbuffer *out = bufferevent_get_output(s->bev);
	evbuffer_add_printf(out, "250-%s\r\n", set->hostname);
	evbuffer_add_printf(out, "250-PIPELINING\r\n250-SIZE %zu\r\n"
			    "250-8BITMIME\r\n250-SMTPUTF8\r\n"
			    "250-CHUNKING\r\n", set->max_message_size);
	if (set->tls && !s->tls)
		evbuffer_add_printf(out, "250-STARTTLS\r\n");
	evbuffer_add_printf(out, "250 ENHANCEDSTATUSCODES\r\n");
}

static void cmd_helo(struct session *s, char *args)
{
	if (!need_args(s, args, true))
		return;
	tx_reset(s);
	s->helo = true;
	reply(s, "250 %s", s->server->set.hostname);
}

/* Parses "<address>" at *p (spaces before allowed), returns a malloc'ed
 * address or NULL; *p moves past it. */
static char *parse_path(char **p)
{
	char *q = *p;
	while (*q == ' ')
		q++;
	if (*q != '<')
		return NULL;
	char *end = strchr(q, '>');
	if (!end || end - q - 1 > ADDRESS_MAX)
		return NULL;
	for (char *c = q + 1; c < end; c++)
		if ((unsigned char)*c <= ' ' || *c == '<' || *c == 0x7f)
			return NULL;
	char *addr = xstrndup(q + 1, (size_t)(end - q - 1));
	/* source route "<@a,@b:user@d>" (RFC 5321 4.1.2): drop it */
	if (addr[0] == '@') {
		char *colon = strchr(addr, ':');
		if (!colon) {
			free(addr);
			return NULL;
		}
		memmove(addr, colon + 1, strlen(colon + 1) + 1);
	}
	*p = end + 1;
	return addr;
}

static void cmd_mail(struct session *s, char *args)
{
	if (!s->helo) {
		bad(s, "503 5.5.1 Send %s first",
		    s->server->set.protocol == SMTP_PROTOCOL_LMTP ? "LHLO"
								  : "EHLO");
		return;
	}
	if (s->tx) {
		bad(s, "503 5.5.1 Nested MAIL command");
		return;
	}
	if (strncasecmp(args, "FROM:", 5) != 0) {
		bad(s, "501 5.5.4 Syntax: MAIL FROM:<address>");
		return;
	}
	char *p = args + 5;
	char *from = parse_path(&p);
	if (!from) {
		bad(s, "501 5.1.7 Bad sender address syntax");
		return;
	}
	for (char *tok = strtok_r(p, " ", &p); tok; /* strtok_r: local */
	     tok = strtok_r(NULL, " ", &p)) {
		if (strncasecmp(tok, "SIZE=", 5) == 0) {
			long v;
			if (util_parse_long(tok + 5, 0, LONG_MAX, &v) < 0) {
				free(from);
				bad(s, "501 5.5.4 Bad SIZE parameter");
				return;
			}
			if ((size_t)v > s->server->set.max_message_size) {
				free(from);
				log_msg(LOG_WARN, "event=smtp_limit "
					"limit=message_size session=%s "
					"peer=%s declared=%ld", s->id,
					s->peer, v);
				reply(s, "552 5.3.4 Message size exceeds "
				      "fixed maximum");
				return;
			}
		} else if (strcasecmp(tok, "BODY=7BIT") == 0 ||
			   strcasecmp(tok, "BODY=8BITMIME") == 0 ||
			   strcasecmp(tok, "SMTPUTF8") == 0) {
			continue;
		} else {
			free(from);
			bad(s, "555 5.5.4 Unsupported MAIL parameter");
			return;
		}
	}
	struct smtp_transaction *tx = xcalloc(1, sizeof(*tx));
	tx->session = s;
	memcpy(tx->session_id, s->id, sizeof(tx->session_id));
	memcpy(tx->peer, s->peer, sizeof(tx->peer));
	tx->protocol = s->server->set.protocol;
	tx->mail_from = from;
	buf_init(&tx->data, s->server->set.max_message_size);
	s->tx = tx;
	reply(s, "250 2.1.0 Ok");
}

static void cmd_rcpt(struct session *s, char *args)
{
	if (!s->tx) {
		bad(s, "503 5.5.1 Need MAIL before RCPT");
		return;
	}
	if (strncasecmp(args, "TO:", 3) != 0) {
		bad(s, "501 5.5.4 Syntax: RCPT TO:<address>");
		return;
	}
	char *p = args + 3;
	char *to = parse_path(&p);
	if (!to || !*to) {
		free(to);
		bad(s, "501 5.1.3 Bad recipient address syntax");
		return;
	}
	while (*p == ' ')
		p++;
	if (*p) {
		free(to);
		bad(s, "555 5.5.4 Unsupported RCPT parameter");
		return;
	}
	struct smtp_transaction *tx = s->tx;
	if (tx->n_rcpts >= s->server->set.max_recipients) {
		free(to);
		if (!s->rcpt_limit_logged)
			log_msg(LOG_WARN, "event=smtp_limit limit=recipients "
				"session=%s peer=%s max=%u", s->id, s->peer,
				s->server->set.max_recipients);
		s->rcpt_limit_logged = true;
		reply(s, "452 4.5.3 Too many recipients");
		return;
	}
	struct smtp_reply rep = { 0, NULL, NULL };
	int64_t cookie = 0;
	s->server->cb.rcpt(s->server->ctx, s->id, s->peer, to, &cookie, &rep);
	if (rep.code != 0) {
		reply(s, "%d %s %s", rep.code, rep.enhanced ? rep.enhanced
							  : "5.0.0",
		      rep.text ? rep.text : "Recipient refused");
		free(to);
		return;
	}
	if (tx->n_rcpts == tx->cap_rcpts) {
		tx->cap_rcpts = tx->cap_rcpts ? tx->cap_rcpts * 2 : 4;
		tx->rcpts = xrealloc(tx->rcpts,
				     tx->cap_rcpts * sizeof(*tx->rcpts));
	}
	tx->rcpts[tx->n_rcpts++] = (struct rcpt){ .address = to,
						  .cookie = cookie };
	reply(s, "250 2.1.5 Ok");
}

static void cmd_data(struct session *s, char *args)
{
	if (!need_args(s, args, false))
		return;
	if (!s->tx) {
		bad(s, "503 5.5.1 Need MAIL before DATA");
		return;
	}
	if (s->tx->n_rcpts == 0) {
		bad(s, "554 5.5.1 No valid recipients");
		return;
	}
	if (s->tx->used_bdat) {
		bad(s, "503 5.5.1 DATA after BDAT");
		return;
	}
	data_start(s);
	s->mode = MODE_DATA;
	reply(s, "354 End data with <CR><LF>.<CR><LF>");
}

static void cmd_bdat(struct session *s, char *args)
{
	char *end;
	errno = 0;
	unsigned long long size = strtoull(args, &end, 10);
	bool last = false;
	if (end == args || errno || *args == '-' || *args == '+') {
		/* the chunk's length is unknown: the stream is lost */
		reply(s, "501 5.5.4 Syntax: BDAT size [LAST], closing");
		log_msg(LOG_WARN, "event=smtp_bad_bdat session=%s peer=%s",
			s->id, s->peer);
		session_close(s);
		return;
	}
	while (*end == ' ')
		end++;
	if (strcasecmp(end, "LAST") == 0)
		last = true;
	else if (*end) {
		reply(s, "501 5.5.4 Syntax: BDAT size [LAST], closing");
		session_close(s);
		return;
	}
	s->bdat_left = size;
	s->bdat_last = last;
	s->bdat_error = 0;
	s->mode = MODE_BDAT;
	if (!s->tx || s->tx->n_rcpts == 0) {
		s->bdat_error = 503;
		return;
	}
	if (s->tx->submitted) {
		s->bdat_error = 5031;
		return;
	}
	if (!s->tx->used_bdat) {
		data_start(s);
		s->tx->used_bdat = true;
	}
	if (size > s->server->set.max_message_size && !s->too_big) {
		s->too_big = true;
		log_msg(LOG_WARN, "event=smtp_limit limit=message_size "
			"session=%s peer=%s", s->id, s->peer);
	}
}

static void cmd_rset(struct session *s, char *args)
{
	if (!need_args(s, args, false))
		return;
	tx_reset(s);
	reply(s, "250 2.0.0 Ok");
}

static void cmd_noop(struct session *s, char *args)
{
	reply(s, "250 2.0.0 Ok");
}

static void cmd_quit(struct session *s, char *args)
{
	reply(s, "221 2.0.0 Bye");
	session_close(s);
}

static void cmd_vrfy(struct session *s, char *args)
{
	if (!need_args(s, args, true))
		return;
	reply(s, "252 2.5.2 Cannot VRFY user, but will accept message");
}

static void cmd_help(struct session *s, char *args)
{
	reply(s, "214 2.0.0 Commands: %s HELO MAIL RCPT DATA BDAT RSET "
	      "NOOP QUIT VRFY HELP%s",
	      s->server->set.protocol == SMTP_PROTOCOL_LMTP ? "LHLO" : "EHLO",
	      s->server->set.tls && !s->tls ? " STARTTLS" : "");
}

static void session_events(struct bufferevent *bev, short what, void *arg);
static void session_read(struct bufferevent *bev, void *arg);
static void session_write(struct bufferevent *bev, void *arg);

static void cmd_starttls(struct session *s, char *args)
{
	if (!s->server->set.tls) {
		bad(s, "502 5.5.1 STARTTLS not available");
		return;
	}
	if (s->tls) {
		bad(s, "503 5.5.1 TLS already active");
		return;
	}
	if (!need_args(s, args, false))
		return;
	struct evbuffer *in = bufferevent_get_input(s->bev);
	if (evbuffer_get_length(in) > 0) {
		/* CVE-2011-0411: nothing sent before the handshake may be
		 * taken as a command after it */
		log_msg(LOG_WARN, "event=smtp_starttls_pipelined session=%s "
			"peer=%s discarded=%zu", s->id, s->peer,
			evbuffer_get_length(in));
		evbuffer_drain(in, evbuffer_get_length(in));
	}
	SSL *ssl = SSL_new(s->server->set.tls);
	if (!ssl) {
		reply(s, "454 4.7.0 TLS not available");
		return;
	}
	reply(s, "220 2.0.0 Ready to start TLS");
	struct bufferevent *tb = bufferevent_openssl_filter_new(
		s->server->base, s->bev, ssl, BUFFEREVENT_SSL_ACCEPTING,
		BEV_OPT_CLOSE_ON_FREE);
	if (!tb) {
		SSL_free(ssl);
		session_close(s);
		return;
	}
	bufferevent_openssl_set_allow_dirty_shutdown(tb, 1);
	s->bev = tb;
	s->tls = true;
	s->helo = false;
	tx_reset(s);
	struct timeval idle = { (time_t)s->server->set.idle_timeout_s, 0 };
	bufferevent_setcb(tb, session_read, session_write, session_events, s);
	bufferevent_set_timeouts(tb, &idle, &idle);
	bufferevent_enable(tb, EV_READ | EV_WRITE);
	log_msg(LOG_INFO, "event=smtp_starttls session=%s", s->id);
}

static const struct command smtp_commands[] = {
	{ "EHLO", cmd_ehlo }, { "HELO", cmd_helo }, { "MAIL", cmd_mail },
	{ "RCPT", cmd_rcpt }, { "DATA", cmd_data }, { "BDAT", cmd_bdat },
	{ "RSET", cmd_rset }, { "NOOP", cmd_noop }, { "QUIT", cmd_quit },
	{ "VRFY", cmd_vrfy }, { "HELP", cmd_help },
	{ "STARTTLS", cmd_starttls },
};

static void dispatch(struct session *s, char *line)
{
	char *args = line;
	while (*args && *args != ' ')
		args++;
	size_t vlen = (size_t)(args - line);
	while (*args == ' ')
		args++;
	/* trailing spaces are common (and harmless) */
	size_t alen = strlen(args);
	while (alen > 0 && args[alen - 1] == ' ')
		args[--alen] = '\0';
	bool lmtp = s->server->set.protocol == SMTP_PROTOCOL_LMTP;
	if (vlen == 4 && strncasecmp(line, "LHLO", 4) == 0 && lmtp) {
		cmd_ehlo(s, args);
		return;
	}
	for (size_t i = 0; i < sizeof(smtp_commands) / sizeof(*smtp_commands);
	     i++) {
		const struct command *c = &smtp_commands[i];
		if (strlen(c->verb) != vlen ||
		    strncasecmp(line, c->verb, vlen) != 0)
			continue;
		if (lmtp && (c->fn == cmd_ehlo || c->fn == cmd_helo))
			break; /* LMTP has LHLO only (RFC 2033) */
		c->fn(s, args);
		return;
	}
	bad(s, "500 5.5.2 Error: command not recognized");
}

static int read_command(struct session *s)
{
	struct evbuffer *in = bufferevent_get_input(s->bev);
	size_t have = evbuffer_get_length(in);
	size_t max = s->server->set.max_line;
	size_t eol_len;
	struct evbuffer_ptr p = evbuffer_search_eol(in, NULL, &eol_len,
						    EVBUFFER_EOL_LF);
	if ((p.pos < 0 && have > max) || (p.pos >= 0 && (size_t)p.pos >= max)) {
		log_msg(LOG_WARN, "event=smtp_limit limit=line session=%s "
			"peer=%s", s->id, s->peer);
		reply(s, "500 5.5.2 Line too long, closing");
		session_close(s);
		return 0;
	}
	if (p.pos < 0)
		return 0;
	size_t len = (size_t)p.pos + 1;
	char *line = s->server->line;
	evbuffer_remove(in, line, len);
	len--;
	if (len > 0 && line[len - 1] == '\r')
		len--;
	line[len] = '\0';
	if (memchr(line, '\0', len) || memchr(line, '\r', len)) {
		bad(s, "500 5.5.2 Error: bad character in command");
		return 1;
	}
	dispatch(s, line);
	return 1;
}

static void process_input(struct session *s)
{
	struct evbuffer *out = bufferevent_get_output(s->bev);
	while (!s->closing && s->mode != MODE_WAIT) {
		if (evbuffer_get_length(out) > s->server->set.max_output) {
			/* a client that pipelines without reading */
			bufferevent_disable(s->bev, EV_READ);
			s->read_paused = true;
			return;
		}
		int r;
		switch (s->mode) {
		case MODE_DATA:
			r = read_data(s);
			break;
		case MODE_BDAT:
			r = read_bdat(s);
			break;
		default:
			r = read_command(s);
			break;
		}
		if (r == 0)
			return;
	}
}

/* ---- libevent callbacks ---- */

static void session_read(struct bufferevent *bev, void *arg)
{
	process_input(arg);
}

static void session_write(struct bufferevent *bev, void *arg)
{
	struct session *s = arg;
	if (s->closing) {
		session_free(s);
		return;
	}
	if (s->read_paused) {
		s->read_paused = false;
		bufferevent_enable(s->bev, EV_READ);
		process_input(s);
	}
}

static void session_resume(evutil_socket_t fd, short what, void *arg)
{
	struct session *s = arg;
	if (s->closing) {
		if (evbuffer_get_length(bufferevent_get_output(s->bev)) == 0)
			session_free(s);
		return;
	}
	process_input(s);
}

static void session_events(struct bufferevent *bev, short what, void *arg)
{
	struct session *s = arg;
	if (what & BEV_EVENT_TIMEOUT && !s->closing) {
		log_msg(LOG_INFO, "event=smtp_limit limit=idle_timeout "
			"session=%s peer=%s", s->id, s->peer);
		reply(s, "421 4.4.2 %s Idle timeout, closing",
		      s->server->set.hostname);
		session_close(s);
		return;
	}
	if (what & BEV_EVENT_ERROR) {
		unsigned long e = bufferevent_get_openssl_error(bev);
		if (e) {
			char msg[256];
			ERR_error_string_n(e, msg, sizeof(msg));
			log_msg(LOG_INFO, "event=smtp_tls_error session=%s "
				"error=\"%s\"", s->id, msg);
		}
	}
	if ((what & BEV_EVENT_EOF) && !(what & BEV_EVENT_ERROR) &&
	    !s->closing) {
		/* the client closed its side: its last replies still go out
		 * (a message waiting for the spool gets its answer first) */
		bufferevent_disable(s->bev, EV_READ);
		if (s->mode == MODE_WAIT) {
			s->expired = true;
			return;
		}
		if (evbuffer_get_length(bufferevent_get_output(s->bev)) > 0) {
			session_close(s);
			return;
		}
	}
	if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR | BEV_EVENT_TIMEOUT))
		session_free(s);
}

static void session_deadline(evutil_socket_t fd, short what, void *arg)
{
	struct session *s = arg;
	if (s->closing)
		return;
	log_msg(LOG_INFO, "event=smtp_limit limit=session_time session=%s "
		"peer=%s", s->id, s->peer);
	if (s->mode == MODE_WAIT) {
		s->expired = true; /* closes once the answer is out */
		return;
	}
	reply(s, "421 4.4.2 %s Session time limit exceeded, closing",
	      s->server->set.hostname);
	session_close(s);
}

static void refuse_now(evutil_socket_t fd, const char *line)
{
	ssize_t w = send(fd, line, strlen(line), MSG_NOSIGNAL | MSG_DONTWAIT);
	(void)w;
	evutil_closesocket(fd);
}

static void on_accept(struct evconnlistener *l, evutil_socket_t fd,
		      struct sockaddr *sa, int salen, void *arg)
{
	struct smtp_server *srv = arg;
	char client[64] = "unix", peer[80] = "unix";
	if (sa->sa_family == AF_INET || sa->sa_family == AF_INET6) {
		char host[INET6_ADDRSTRLEN], port[8];
		getnameinfo(sa, (socklen_t)salen, host, sizeof(host), port,
			    sizeof(port), NI_NUMERICHOST | NI_NUMERICSERV);
		snprintf(client, sizeof(client), "%s", host);
		snprintf(peer, sizeof(peer), "%s:%s", host, port);
	}
	if (srv->shutting_down) {
		refuse_now(fd, "421 4.3.2 Service shutting down\r\n");
		return;
	}
	if (srv->n_sessions >= srv->set.max_sessions) {
		log_msg(LOG_WARN, "event=smtp_limit limit=sessions peer=%s "
			"max=%u", peer, srv->set.max_sessions);
		refuse_now(fd, "421 4.7.0 Too many sessions, try later\r\n");
		return;
	}
	if (srv->set.max_sessions_per_client && strcmp(client, "unix") != 0) {
		unsigned same = 0;
		for (struct session *o = srv->sessions; o; o = o->next)
			if (strcmp(o->client, client) == 0)
				same++;
		if (same >= srv->set.max_sessions_per_client) {
			log_msg(LOG_WARN, "event=smtp_limit "
				"limit=sessions_per_client peer=%s max=%u",
				peer, srv->set.max_sessions_per_client);
			refuse_now(fd, "421 4.7.0 Too many sessions from "
				   "your address, try later\r\n");
			return;
		}
	}
	evutil_make_socket_nonblocking(fd);
	struct session *s = xcalloc(1, sizeof(*s));
	s->server = srv;
	snprintf(s->id, sizeof(s->id), "%c%x%llx",
		 srv->set.protocol == SMTP_PROTOCOL_LMTP ? 'l' : 's',
		 (unsigned)getpid(),
		 ++srv->next_id);
	memcpy(s->client, client, sizeof(client));
	memcpy(s->peer, peer, sizeof(peer));
	s->bev = bufferevent_socket_new(srv->base, fd, BEV_OPT_CLOSE_ON_FREE);
	s->resume = evtimer_new(srv->base, session_resume, s);
	s->deadline = evtimer_new(srv->base, session_deadline, s);
	s->next = srv->sessions;
	if (srv->sessions)
		srv->sessions->prev = s;
	srv->sessions = s;
	srv->n_sessions++;
	struct timeval idle = { (time_t)srv->set.idle_timeout_s, 0 };
	struct timeval total = { (time_t)srv->set.total_timeout_s, 0 };
	bufferevent_setcb(s->bev, session_read, session_write, session_events,
			  s);
	bufferevent_set_timeouts(s->bev, &idle, &idle);
	evtimer_add(s->deadline, &total);
	bufferevent_enable(s->bev, EV_READ | EV_WRITE);
	log_msg(LOG_INFO, "event=%s_connect session=%s peer=%s",
		proto_name(srv->set.protocol), s->id, s->peer);
	reply(s, "220 %s %s ready", srv->set.hostname,
	      srv->set.protocol == SMTP_PROTOCOL_LMTP ? "LMTP" : "ESMTP");
}

/* ---- the server ---- */

struct smtp_server *smtp_server_new(struct event_base *base,
				    const struct smtp_server_settings *set,
				    const struct smtp_server_callbacks *cb,
				    void *ctx)
{
	struct smtp_server *srv = xcalloc(1, sizeof(*srv));
	srv->base = base;
	srv->set = *set;
	if (srv->set.max_line < 512)
		srv->set.max_line = 512;
	srv->cb = *cb;
	srv->ctx = ctx;
	srv->line = xmalloc(srv->set.max_line + 1);
	return srv;
}

unsigned smtp_server_session_count(const struct smtp_server *srv)
{
	return srv->n_sessions;
}

static int listen_unix(const char *path, unsigned mode, const char *group,
		       char *err, size_t errlen)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	if (strlen(path) >= sizeof(sun.sun_path)) {
		snprintf(err, errlen, "%s: socket path too long", path);
		return -ENAMETOOLONG;
	}
	memcpy(sun.sun_path, path, strlen(path) + 1);
	struct stat st;
	if (lstat(path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode)) {
			snprintf(err, errlen, "%s exists and is not a socket",
				 path);
			return -EEXIST;
		}
		int probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (probe >= 0 && connect(probe, (struct sockaddr *)&sun,
					  sizeof(sun)) == 0) {
			close(probe);
			snprintf(err, errlen, "%s: another server is "
				 "listening on it", path);
			return -EADDRINUSE;
		}
		if (probe >= 0)
			close(probe);
		unlink(path); /* stale, left by a crash */
	}
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK,
			0);
	if (fd < 0)
		goto fail;
	if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0)
		goto fail;
	if (mode && chmod(path, mode) < 0)
		goto fail;
	if (group && *group) {
		struct group *gr = getgrnam(group);
		if (!gr) {
			snprintf(err, errlen, "%s: no group '%s'", path,
				 group);
			close(fd);
			return -ENOENT;
		}
		if (chown(path, (uid_t)-1, gr->gr_gid) < 0)
			goto fail;
	}
	return fd;
fail:;
	int e = errno;
	snprintf(err, errlen, "%s: %s", path, strerror(e));
	if (fd >= 0)
		close(fd);
	return -e;
}

static int listen_tcp(const char *address, char *err, size_t errlen,
		      char *bound, size_t boundlen)
{
	char host[256];
	const char *port;
	if (address[0] == '[') {
		const char *close_b = strchr(address, ']');
		if (!close_b || close_b[1] != ':' ||
		    (size_t)(close_b - address) >= sizeof(host)) {
			snprintf(err, errlen, "'%s': expected [v6]:port",
				 address);
			return -EINVAL;
		}
		memcpy(host, address + 1, (size_t)(close_b - address - 1));
		host[close_b - address - 1] = '\0';
		port = close_b + 2;
	} else {
		const char *colon = strrchr(address, ':');
		if (!colon || (size_t)(colon - address) >= sizeof(host)) {
			snprintf(err, errlen, "'%s': expected host:port, "
				 "[v6]:port or unix:/path", address);
			return -EINVAL;
		}
		memcpy(host, address, (size_t)(colon - address));
		host[colon - address] = '\0';
		port = colon + 1;
	}
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM,
				  .ai_flags = AI_PASSIVE | AI_NUMERICSERV };
	struct addrinfo *ai;
	int r = getaddrinfo(*host ? host : NULL, port, &hints, &ai);
	if (r != 0) {
		snprintf(err, errlen, "'%s': %s", address, gai_strerror(r));
		return -EINVAL;
	}
	int fd = socket(ai->ai_family,
			SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	int one = 1;
	if (fd < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    bind(fd, ai->ai_addr, ai->ai_addrlen) < 0) {
		int e = errno;
		snprintf(err, errlen, "'%s': %s", address, strerror(e));
		if (fd >= 0)
			close(fd);
		freeaddrinfo(ai);
		return -e;
	}
	freeaddrinfo(ai);
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	char h[INET6_ADDRSTRLEN] = "?", p[8] = "?";
	if (getsockname(fd, (struct sockaddr *)&ss, &sl) == 0)
		getnameinfo((struct sockaddr *)&ss, sl, h, sizeof(h), p,
			    sizeof(p), NI_NUMERICHOST | NI_NUMERICSERV);
	snprintf(bound, boundlen, ss.ss_family == AF_INET6 ? "[%s]:%s"
							   : "%s:%s", h, p);
	return fd;
}

int smtp_server_listen(struct smtp_server *srv, const char *address,
		       unsigned mode, const char *group, char *err,
		       size_t errlen)
{
	if (srv->n_listeners == MAX_LISTENERS) {
		snprintf(err, errlen, "too many listeners");
		return -E2BIG;
	}
	char bound[300];
	bool is_unix = strncmp(address, "unix:", 5) == 0;
	int fd;
	if (is_unix) {
		fd = listen_unix(address + 5, mode, group, err, errlen);
		snprintf(bound, sizeof(bound), "%s", address);
	} else {
		fd = listen_tcp(address, err, errlen, bound, sizeof(bound));
	}
	if (fd < 0)
		return fd;
	struct evconnlistener *l = evconnlistener_new(
		srv->base, on_accept, srv,
		LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC, 128, fd);
	if (!l) {
		int e = errno ? errno : EIO;
		snprintf(err, errlen, "%s: cannot listen: %s", address,
			 strerror(e));
		close(fd);
		return -e;
	}
	struct listener *li = &srv->listeners[srv->n_listeners++];
	li->l = l;
	li->unix_path = is_unix ? xstrdup(address + 5) : NULL;
	log_msg(LOG_INFO, "event=%s_listen address=%s",
		proto_name(srv->set.protocol), bound);
	return 0;
}

int smtp_server_port(const struct smtp_server *srv, size_t i)
{
	if (i >= srv->n_listeners || srv->listeners[i].unix_path)
		return -ENOENT;
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	if (getsockname(evconnlistener_get_fd(srv->listeners[i].l),
			(struct sockaddr *)&ss, &sl) < 0)
		return -errno;
	if (ss.ss_family == AF_INET)
		return ntohs(((struct sockaddr_in *)&ss)->sin_port);
	return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
}

static void close_listeners(struct smtp_server *srv)
{
	for (size_t i = 0; i < srv->n_listeners; i++) {
		evconnlistener_free(srv->listeners[i].l);
		if (srv->listeners[i].unix_path) {
			unlink(srv->listeners[i].unix_path);
			free(srv->listeners[i].unix_path);
		}
	}
	srv->n_listeners = 0;
}

void smtp_server_shutdown(struct smtp_server *srv, void (*done)(void *ctx))
{
	srv->shutting_down = true;
	srv->shutdown_done = done;
	close_listeners(srv);
	for (struct session *s = srv->sessions; s; s = s->next) {
		if (s->mode == MODE_WAIT || s->closing)
			continue; /* answered first, then closed */
		reply(s, "421 4.3.2 %s Service shutting down",
		      srv->set.hostname);
		session_close(s);
	}
	if (srv->n_sessions == 0 && done)
		done(srv->ctx);
}

void smtp_server_free(struct smtp_server **srvp)
{
	struct smtp_server *srv = *srvp;
	if (!srv)
		return;
	srv->shutdown_done = NULL;
	close_listeners(srv);
	while (srv->sessions)
		session_free(srv->sessions);
	free(srv->line);
	free(srv);
	*srvp = NULL;
}
