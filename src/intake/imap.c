/* imap.c - the IMAP poller (intake.h, docs/intake.md "IMAP").
 *
 * Per configured mailbox: a TCP connection we open, TLS through
 * libetpan's stream, the certificate chain and host name verified here
 * with GnuTLS BEFORE libetpan reads a single IMAP byte (Debian's libetpan
 * verifies nothing: LIBRARIES.md 2.7), then LOGIN or XOAUTH2, SELECT, the
 * UIDs above the last one stored (UIDVALIDITY and last UID in SQLite),
 * each message spooled durably (spool_deliver) and moved to `Processed`
 * (UID MOVE, else COPY + \Deleted + UID EXPUNGE). At each poll the
 * messages delivered earlier whose decision is a quarantine are copied
 * from `Processed` to `Quarantine`, found by Message-ID. IDLE where
 * offered, else a poll every poll_seconds. A failed session reconnects
 * with backoff. Each mailbox runs in its own child process, so one bad
 * mailbox (or a libetpan crash on a hostile server) never stops the
 * others; the parent restarts a child that dies. */
#include "intake/intake.h"

#include <errno.h>
#include <fcntl.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <libetpan/libetpan.h>
#include <netdb.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/config.h"
#include "core/log.h"
#include "core/util.h"
#include "intake/imap.h"
#include "intake/spool.h"
#include "store/store_accounts.h"

#define IMAP_TIMEOUT_S 30
#define IMAP_BACKOFF_MAX_S 300
#define IMAP_MESSAGE_MAX (64L * 1024 * 1024)
#define PROCESSED_FOLDER "Processed"
#define QUARANTINE_FOLDER "Quarantine"

static volatile sig_atomic_t stop_requested;

static void on_term(int sig)
{
	(void)sig;
	stop_requested = 1;
}

struct session {
	const struct config *cfg;
	const struct config_imap *mb;
	struct spool *spool;
	struct store *store;
	mailimap *imap;
	struct store_account account;
	char err[512];
};

/* ---- TLS, verified by us ------------------------------------------- */

static int tcp_connect(const char *host, long port, char *err, size_t len)
{
	char service[16];
	snprintf(service, sizeof(service), "%ld", port);
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM };
	struct addrinfo *res = NULL;
	int r = getaddrinfo(host, service, &hints, &res);
	if (r != 0) {
		snprintf(err, len, "cannot resolve %s: %s", host,
			 gai_strerror(r));
		return -EHOSTUNREACH;
	}
	int fd = -1;
	int saved = 0;
	for (struct addrinfo *a = res; a; a = a->ai_next) {
		fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC,
			    a->ai_protocol);
		if (fd < 0)
			continue;
		struct timeval tv = { .tv_sec = IMAP_TIMEOUT_S };
		setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
		if (connect(fd, a->ai_addr, a->ai_addrlen) == 0)
			break;
		saved = errno;
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	if (fd < 0) {
		snprintf(err, len, "cannot connect to %s:%ld: %s", host, port,
			 strerror(saved));
		return -(saved ? saved : ECONNREFUSED);
	}
	return fd;
}

static void set_sni(struct mailstream_ssl_context *ctx, void *host)
{
	mailstream_ssl_set_server_name(ctx, host);
}

int imap_verify_chain(carray *chain, const char *host, const char *ca_file,
		      char *err, size_t len)
{
	unsigned n = chain ? carray_count(chain) : 0;
	if (n == 0) {
		snprintf(err, len, "%s sent no certificate", host);
		return -EPROTO;
	}
	gnutls_x509_crt_t *crts = xcalloc(n, sizeof(*crts));
	gnutls_x509_trust_list_t tl = NULL;
	int r = 0;
	for (unsigned i = 0; i < n && r == 0; i++) {
		MMAPString *der = carray_get(chain, i);
		gnutls_datum_t d = { (unsigned char *)der->str,
				     (unsigned)der->len };
		if (gnutls_x509_crt_init(&crts[i]) < 0 ||
		    gnutls_x509_crt_import(crts[i], &d, GNUTLS_X509_FMT_DER) <
			    0) {
			snprintf(err, len, "%s: certificate %u unreadable",
				 host, i);
			r = -EPROTO;
		}
	}
	if (r == 0 && gnutls_x509_trust_list_init(&tl, 0) < 0)
		r = -ENOMEM;
	if (r == 0) {
		int added = ca_file && *ca_file
			? gnutls_x509_trust_list_add_trust_file(
				  tl, ca_file, NULL, GNUTLS_X509_FMT_PEM, 0, 0)
			: gnutls_x509_trust_list_add_system_trust(tl, 0, 0);
		if (added <= 0) {
			snprintf(err, len, "no trusted CA loaded from %s",
				 ca_file && *ca_file ? ca_file
						     : "the system store");
			r = -ENOENT;
		}
	}
	if (r == 0) {
		gnutls_typed_vdata_st vdata[2] = {
			{ .type = GNUTLS_DT_DNS_HOSTNAME,
			  .data = (unsigned char *)host },
			{ .type = GNUTLS_DT_KEY_PURPOSE_OID,
			  .data = (unsigned char *)GNUTLS_KP_TLS_WWW_SERVER },
		};
		unsigned status = 0;
		if (gnutls_x509_trust_list_verify_crt2(tl, crts, n, vdata, 2,
						       0, &status, NULL) < 0 ||
		    status != 0) {
			gnutls_datum_t why = { 0 };
			gnutls_certificate_verification_status_print(
				status, GNUTLS_CRT_X509, &why, 0);
			snprintf(err, len, "certificate of %s refused: %s",
				 host, why.data ? (char *)why.data : "invalid");
			gnutls_free(why.data);
			r = -EPERM;
		}
	}
	if (tl)
		gnutls_x509_trust_list_deinit(tl, 1);
	for (unsigned i = 0; i < n; i++)
		if (crts[i])
			gnutls_x509_crt_deinit(crts[i]);
	free(crts);
	return r;
}

/* Connects, verifies, then lets libetpan read the greeting. */
static int session_connect(struct session *s)
{
	const struct config_imap *mb = s->mb;
	int fd = tcp_connect(mb->host, mb->port, s->err, sizeof(s->err));
	if (fd < 0)
		return fd;
	mailstream *stream = mailstream_ssl_open_with_callback_timeout(
		fd, IMAP_TIMEOUT_S, set_sni, mb->host);
	if (!stream) {
		close(fd);
		snprintf(s->err, sizeof(s->err), "TLS handshake with %s:%ld "
			 "failed", mb->host, mb->port);
		return -EPROTO;
	}
	carray *chain = mailstream_get_certificate_chain(stream);
	int r = imap_verify_chain(chain, mb->host, mb->ca_file, s->err,
				  sizeof(s->err));
	if (chain)
		mailstream_certificate_chain_free(chain);
	if (r < 0) {
		mailstream_close(stream);
		return r;
	}
	s->imap = mailimap_new(0, NULL);
	mailimap_set_timeout(s->imap, IMAP_TIMEOUT_S);
	r = mailimap_connect(s->imap, stream);
	if (r != MAILIMAP_NO_ERROR_AUTHENTICATED &&
	    r != MAILIMAP_NO_ERROR_NON_AUTHENTICATED) {
		snprintf(s->err, sizeof(s->err), "no IMAP greeting from %s "
			 "(libetpan error %d)", mb->host, r);
		return -EPROTO;
	}
	return 0;
}

/* ---- login --------------------------------------------------------- */

static char *first_line(char *text)
{
	text[strcspn(text, "\r\n")] = '\0';
	return text;
}

/* Copies the server's words into out: printable ASCII only, no quote or
 * backslash (they end up in a quoted log value), nothing at all when they
 * echo the secret. */
static void server_words(char *out, size_t size, const char *text,
			 const char *secret)
{
	size_t n = 0;
	if (text && !(*secret && strstr(text, secret)))
		for (; *text && n + 1 < size; text++)
			if (*text >= 0x20 && *text < 0x7f && *text != '"' &&
			    *text != '\\')
				out[n++] = *text;
	out[n] = '\0';
}

/* Runs oauth2_token_command: the token is its first line. */
static int read_token(struct session *s, char **token_r)
{
	const struct config_imap *mb = s->mb;
	FILE *p = popen(mb->oauth2_token_command, "r");
	if (!p) {
		snprintf(s->err, sizeof(s->err), "cannot run "
			 "oauth2_token_command of %s: %s", mb->name,
			 strerror(errno));
		return -EACCES;
	}
	char *token = xcalloc(1, 8192);
	size_t n = fread(token, 1, 8191, p);
	int st = pclose(p);
	first_line(token);
	/* The command's own stderr goes to our log; its status is ours to
	 * explain. */
	if (st != 0 || n == 0 || !*token) {
		if (st == -1)
			snprintf(s->err, sizeof(s->err), "oauth2_token_command "
				 "of %s: %s", mb->name, strerror(errno));
		else if (WIFSIGNALED(st))
			snprintf(s->err, sizeof(s->err), "oauth2_token_command "
				 "of %s killed by signal %d", mb->name,
				 WTERMSIG(st));
		else if (st != 0)
			snprintf(s->err, sizeof(s->err), "oauth2_token_command "
				 "of %s exited with status %d", mb->name,
				 WEXITSTATUS(st));
		else
			snprintf(s->err, sizeof(s->err), "oauth2_token_command "
				 "of %s printed no token", mb->name);
		explicit_bzero(token, 8192);
		free(token);
		return -EACCES;
	}
	*token_r = token;
	return 0;
}

static int session_login(struct session *s)
{
	const struct config_imap *mb = s->mb;
	const char *method = mb->password_file ? "LOGIN" : "XOAUTH2";
	char *secret = NULL;
	size_t len = 0;
	int r;
	if (mb->password_file) {
		r = util_read_file(mb->password_file, 4096, &secret, &len);
		if (r < 0) {
			snprintf(s->err, sizeof(s->err), "%s: %s",
				 mb->password_file, strerror(-r));
			return r;
		}
		first_line(secret);
	} else {
		r = read_token(s, &secret);
		if (r < 0)
			return r;
	}
	r = mb->password_file
		? mailimap_login(s->imap, mb->user, secret)
		: mailimap_oauth2_authenticate(s->imap, mb->user, secret);
	char said[200] = "";
	if (r == MAILIMAP_ERROR_LOGIN)
		server_words(said, sizeof(said), s->imap->imap_response,
			     secret);
	explicit_bzero(secret, strlen(secret));
	free(secret);
	/* The method, the user and the server's words: never the secret. */
	if (r == MAILIMAP_ERROR_LOGIN) {
		snprintf(s->err, sizeof(s->err), "%s login as %s refused by "
			 "%s:%ld: %s", method, mb->user, mb->host, mb->port,
			 *said ? said : "no reason given");
		return -EACCES;
	}
	if (r != MAILIMAP_NO_ERROR) {
		snprintf(s->err, sizeof(s->err), "%s login as %s at %s:%ld "
			 "failed: no answer (libetpan error %d)", method,
			 mb->user, mb->host, mb->port, r);
		return -EIO;
	}
	return 0;
}

/* ---- messages ------------------------------------------------------ */

/* The Message-ID header's value (first line only), or "". */
static void message_id_of(const char *raw, size_t len, char *out,
			  size_t size)
{
	out[0] = '\0';
	for (size_t i = 0; i < len;) {
		if (raw[i] == '\r' || raw[i] == '\n')
			return;
		if (len - i > 11 && strncasecmp(raw + i, "message-id:", 11) == 0) {
			size_t j = i + 11;
			while (j < len && (raw[j] == ' ' || raw[j] == '\t'))
				j++;
			size_t k = j;
			while (k < len && raw[k] != '\r' && raw[k] != '\n')
				k++;
			size_t n = k - j < size - 1 ? k - j : size - 1;
			memcpy(out, raw + j, n);
			out[n] = '\0';
			return;
		}
		const char *nl = memchr(raw + i, '\n', len - i);
		if (!nl)
			return;
		i = (size_t)(nl - raw) + 1;
	}
}

static void ensure_folder(struct session *s, const char *name)
{
	/* "already exists" is the usual answer: ignored. */
	(void)mailimap_create(s->imap, name);
}

/* Moves uid to folder: UID MOVE, else COPY + \Deleted + UID EXPUNGE. */
static int move_uid(struct session *s, uint32_t uid, const char *folder)
{
	struct mailimap_set *set = mailimap_set_new_single(uid);
	int r;
	if (mailimap_has_extension(s->imap, "MOVE")) {
		r = mailimap_uid_move(s->imap, set, folder);
	} else {
		r = mailimap_uid_copy(s->imap, set, folder);
		if (r == MAILIMAP_NO_ERROR) {
			struct mailimap_flag_list *fl =
				mailimap_flag_list_new_empty();
			mailimap_flag_list_add(fl, mailimap_flag_new_deleted());
			struct mailimap_store_att_flags *sa =
				mailimap_store_att_flags_new_add_flags_silent(
					fl);
			r = mailimap_uid_store(s->imap, set, sa);
			mailimap_store_att_flags_free(sa);
		}
		if (r == MAILIMAP_NO_ERROR)
			r = mailimap_has_extension(s->imap, "UIDPLUS")
				    ? mailimap_uid_expunge(s->imap, set)
				    : mailimap_expunge(s->imap);
	}
	mailimap_set_free(set);
	return r == MAILIMAP_NO_ERROR ? 0 : -EIO;
}

/* Fetches uid whole (BODY.PEEK[]), spools it, records it. 0 taken, 1
 * skipped (too large or no body: logged, stays in the folder), <0. */
static int take_message(struct session *s, uint32_t uid)
{
	struct mailimap_set *set = mailimap_set_new_single(uid);
	struct mailimap_fetch_type *ft =
		mailimap_fetch_type_new_fetch_att_list_empty();
	mailimap_fetch_type_new_fetch_att_list_add(ft,
		mailimap_fetch_att_new_rfc822_size());
	mailimap_fetch_type_new_fetch_att_list_add(ft,
		mailimap_fetch_att_new_body_peek_section(
			mailimap_section_new(NULL)));
	clist *res = NULL;
	int r = mailimap_uid_fetch(s->imap, set, ft, &res);
	mailimap_fetch_type_free(ft);
	mailimap_set_free(set);
	if (r != MAILIMAP_NO_ERROR) {
		snprintf(s->err, sizeof(s->err), "UID FETCH %u failed "
			 "(libetpan error %d)", uid, r);
		return -EIO;
	}
	const char *body = NULL;
	size_t len = 0;
	for (clistiter *c = clist_begin(res); c; c = clist_next(c)) {
		struct mailimap_msg_att *ma = clist_content(c);
		for (clistiter *i = clist_begin(ma->att_list); i;
		     i = clist_next(i)) {
			struct mailimap_msg_att_item *it = clist_content(i);
			if (it->att_type != MAILIMAP_MSG_ATT_ITEM_STATIC)
				continue;
			struct mailimap_msg_att_static *st =
				it->att_data.att_static;
			if (st->att_type == MAILIMAP_MSG_ATT_BODY_SECTION &&
			    st->att_data.att_body_section->sec_body_part) {
				body = st->att_data.att_body_section
					       ->sec_body_part;
				len = st->att_data.att_body_section->sec_length;
			}
		}
	}
	if (!body || len > (size_t)s->cfg->max_message_size) {
		log_msg(LOG_WARN, "event=imap-skip mailbox=%s uid=%u "
			"reason=%s", s->mb->name, uid,
			body ? "too-large" : "no-body");
		mailimap_fetch_list_free(res);
		return 1; /* left in the folder, never deleted */
	}
	struct spool_envelope env = {
		.account_id = s->account.id,
		.source = SPOOL_SOURCE_IMAP,
		.mail_from = "",
		.rcpt_to = "",
		.peer = s->mb->name,
	};
	char id[256];
	char err[256];
	r = spool_deliver(s->spool, &env, body, len, id, sizeof(id), err,
			  sizeof(err));
	if (r < 0) {
		snprintf(s->err, sizeof(s->err), "spool: %s", err);
		mailimap_fetch_list_free(res);
		return r;
	}
	char hash[65];
	util_sha256_hex(body, len, hash);
	char mid[512];
	message_id_of(body, len, mid, sizeof(mid));
	mailimap_fetch_list_free(res);
	log_msg(LOG_INFO, "event=imap-spooled mailbox=%s uid=%u spool_id=%s",
		s->mb->name, uid, id);
	return store_imap_delivered(s->store, s->mb->name, id, hash,
				    s->account.id, mid);
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return x < y ? -1 : x > y;
}

/* SELECT the folder, take every UID above the last stored one. */
static int take_new(struct session *s)
{
	int r = mailimap_select(s->imap, s->mb->folder);
	if (r != MAILIMAP_NO_ERROR) {
		snprintf(s->err, sizeof(s->err), "SELECT %s failed "
			 "(libetpan error %d)", s->mb->folder, r);
		return -EIO;
	}
	uint32_t validity = s->imap->imap_selection_info->sel_uidvalidity;
	uint32_t stored_validity = 0, last = 0;
	r = store_imap_state(s->store, s->mb->name, &stored_validity, &last);
	if (r < 0 && r != -ENOENT) {
		snprintf(s->err, sizeof(s->err), "%s", store_error(s->store));
		return r;
	}
	if (r == 0 && stored_validity != validity) {
		/* The folder was recreated: everything in it is new (the
		 * store's content hash keeps a message seen before from
		 * being decided twice). */
		log_msg(LOG_WARN, "event=imap-uidvalidity-changed mailbox=%s",
			s->mb->name);
		last = 0;
	}
	struct mailimap_search_key *key = mailimap_search_key_new_uid(
		mailimap_set_new_interval(last + 1, 0));
	clist *found = NULL;
	r = mailimap_uid_search(s->imap, NULL, key, &found);
	mailimap_search_key_free(key);
	if (r != MAILIMAP_NO_ERROR) {
		snprintf(s->err, sizeof(s->err), "UID SEARCH failed "
			 "(libetpan error %d)", r);
		return -EIO;
	}
	size_t n = 0;
	uint32_t *uids = xcalloc((size_t)clist_count(found) + 1,
				 sizeof(*uids));
	for (clistiter *c = clist_begin(found); c; c = clist_next(c)) {
		uint32_t u = *(uint32_t *)clist_content(c);
		if (u > last) /* "N:*" also returns the highest UID < N */
			uids[n++] = u;
	}
	mailimap_search_result_free(found);
	qsort(uids, n, sizeof(*uids), cmp_u32);
	if (n)
		ensure_folder(s, PROCESSED_FOLDER);
	r = 0;
	for (size_t i = 0; i < n && !stop_requested; i++) {
		r = take_message(s, uids[i]);
		bool skipped = r == 1;
		if (r >= 0)
			r = store_imap_set_state(s->store, s->mb->name,
						 validity, uids[i]);
		if (r < 0) {
			if (!*s->err)
				snprintf(s->err, sizeof(s->err), "%s",
					 store_error(s->store));
			break;
		}
		/* Durable in the spool and recorded: now it may leave. */
		if (!skipped && move_uid(s, uids[i], PROCESSED_FOLDER) < 0)
			log_msg(LOG_WARN, "event=imap-move-failed mailbox=%s "
				"uid=%u folder=" PROCESSED_FOLDER,
				s->mb->name, uids[i]);
	}
	if (r == 0 && n == 0 && (stored_validity != validity || last == 0))
		r = store_imap_set_state(s->store, s->mb->name, validity,
					 last);
	free(uids);
	return r;
}

struct pending {
	int64_t id;
	char message_id[512];
	int decided;
};
struct pending_list {
	struct pending *v;
	size_t n;
};

static void add_pending(int64_t id, const char *message_id, int decided,
			void *ctx)
{
	struct pending_list *l = ctx;
	if (!decided || l->n >= 1000)
		return;
	l->v = xrealloc(l->v, (l->n + 1) * sizeof(*l->v));
	l->v[l->n].id = id;
	snprintf(l->v[l->n].message_id, sizeof(l->v[l->n].message_id), "%s",
		 message_id);
	l->v[l->n].decided = decided;
	l->n++;
}

/* Copies the quarantined ones among the decided messages to Quarantine
 * (from Processed, found by Message-ID). */
static int copy_quarantined(struct session *s)
{
	struct pending_list l = { 0 };
	int r = store_imap_pending(s->store, s->mb->name, add_pending, &l);
	if (r < 0 || l.n == 0) {
		free(l.v);
		return r;
	}
	bool selected = false;
	for (size_t i = 0; i < l.n && r == 0; i++) {
		struct pending *p = &l.v[i];
		const char *state = "done";
		if (p->decided == 2 && p->message_id[0]) {
			if (!selected) {
				ensure_folder(s, QUARANTINE_FOLDER);
				if (mailimap_select(s->imap, PROCESSED_FOLDER) !=
				    MAILIMAP_NO_ERROR) {
					snprintf(s->err, sizeof(s->err),
						 "SELECT " PROCESSED_FOLDER
						 " failed");
					r = -EIO;
					break;
				}
				selected = true;
			}
			struct mailimap_search_key *key =
				mailimap_search_key_new_header(
					xstrdup("Message-ID"),
					xstrdup(p->message_id));
			clist *found = NULL;
			int e = mailimap_uid_search(s->imap, NULL, key, &found);
			mailimap_search_key_free(key);
			if (e != MAILIMAP_NO_ERROR) {
				r = -EIO;
				break;
			}
			for (clistiter *c = clist_begin(found); c;
			     c = clist_next(c)) {
				struct mailimap_set *set =
					mailimap_set_new_single(
						*(uint32_t *)clist_content(c));
				e = mailimap_uid_copy(s->imap, set,
						      QUARANTINE_FOLDER);
				mailimap_set_free(set);
			}
			mailimap_search_result_free(found);
			if (e != MAILIMAP_NO_ERROR) {
				r = -EIO;
				break;
			}
			state = "quarantine-copied";
			log_msg(LOG_INFO, "event=imap-quarantine-copy "
				"mailbox=%s row=%lld", s->mb->name,
				(long long)p->id);
		} else if (p->decided == 2) {
			log_msg(LOG_WARN, "event=imap-quarantine-copy-skipped "
				"mailbox=%s row=%lld reason=no-message-id",
				s->mb->name, (long long)p->id);
		}
		r = store_imap_set_delivered_state(s->store, p->id, state);
	}
	if (r == -EIO && !*s->err)
		snprintf(s->err, sizeof(s->err), "copy to " QUARANTINE_FOLDER
			 " failed");
	free(l.v);
	return r;
}

/* ---- the loop ------------------------------------------------------ */

static void session_close(struct session *s)
{
	if (s->imap) {
		mailimap_logout(s->imap);
		mailimap_free(s->imap);
		s->imap = NULL;
	}
}

/* Waits for new mail: IDLE where offered (at most poll_seconds), else
 * sleeps poll_seconds. <0: the connection broke. */
static int wait_for_mail(struct session *s)
{
	int timeout_ms = (int)s->mb->poll_seconds * 1000;
	if (!mailimap_has_idle(s->imap)) {
		struct pollfd none = { .fd = -1 };
		poll(&none, 0, timeout_ms);
		return 0;
	}
	if (mailimap_select(s->imap, s->mb->folder) != MAILIMAP_NO_ERROR ||
	    mailimap_idle(s->imap) != MAILIMAP_NO_ERROR) {
		snprintf(s->err, sizeof(s->err), "IDLE failed");
		return -EIO;
	}
	if (s->imap->imap_stream->read_buffer_len == 0) {
		struct pollfd p = { .fd = mailimap_idle_get_fd(s->imap),
				    .events = POLLIN };
		poll(&p, 1, timeout_ms);
	}
	if (mailimap_idle_done(s->imap) != MAILIMAP_NO_ERROR) {
		snprintf(s->err, sizeof(s->err), "IDLE DONE failed");
		return -EIO;
	}
	return 0;
}

/* One session: connect, login, then take new mail and copy quarantined
 * mail until stopped (once: a single pass). */
static int run_session(struct session *s, bool once)
{
	s->err[0] = '\0';
	int r = session_connect(s);
	if (r == 0)
		r = session_login(s);
	if (r == 0)
		log_msg(LOG_INFO, "event=imap-connected mailbox=%s idle=%s",
			s->mb->name,
			mailimap_has_idle(s->imap) ? "yes" : "no");
	while (r == 0 && !stop_requested) {
		r = copy_quarantined(s);
		if (r == 0)
			r = take_new(s);
		if (r < 0 || once)
			break;
		r = wait_for_mail(s);
	}
	session_close(s);
	if (r < 0)
		log_msg(LOG_ERROR, "event=imap-error mailbox=%s error=\"%s\"",
			s->mb->name, s->err);
	return r;
}

static int open_mailbox(struct session *s, const struct config *cfg,
			const struct config_imap *mb)
{
	memset(s, 0, sizeof(*s));
	s->cfg = cfg;
	s->mb = mb;
	char err[256];
	if (spool_open(&s->spool, cfg->data_dir, err, sizeof(err)) < 0) {
		log_msg(LOG_ERROR, "event=imap-error mailbox=%s error=\"spool: "
			"%s\"", mb->name, err);
		return -EIO;
	}
	char *path = xasprintf("%s/trackmail.db", cfg->data_dir);
	const char *error = NULL;
	int r = store_open(path, &s->store, &error);
	free(path);
	if (r == 0) {
		r = store_account_by_name(s->store, mb->account, &s->account);
		if (r == -ENOENT)
			error = "no such account (trackmail accounts add)";
	}
	if (r < 0) {
		log_msg(LOG_ERROR, "event=imap-error mailbox=%s account=%s "
			"error=\"%s\"", mb->name, mb->account,
			error ? error : store_error(s->store));
		return r;
	}
	return 0;
}

static void close_mailbox(struct session *s)
{
	if (s->store)
		store_close(&s->store);
	if (s->spool)
		spool_close(s->spool);
	s->spool = NULL;
}

/* A mailbox's process: sessions with backoff until SIGTERM. */
static int mailbox_loop(const struct config *cfg,
			const struct config_imap *mb)
{
	struct session s;
	if (open_mailbox(&s, cfg, mb) < 0) {
		close_mailbox(&s);
		return 1;
	}
	unsigned backoff = 1;
	while (!stop_requested) {
		time_t start = time(NULL);
		run_session(&s, false);
		if (stop_requested)
			break;
		if (time(NULL) - start > 60)
			backoff = 1;
		log_msg(LOG_INFO, "event=imap-reconnect mailbox=%s in=%us",
			mb->name, backoff);
		struct pollfd none = { .fd = -1 };
		poll(&none, 0, (int)backoff * 1000);
		backoff = backoff * 2 > IMAP_BACKOFF_MAX_S ? IMAP_BACKOFF_MAX_S
							   : backoff * 2;
	}
	close_mailbox(&s);
	return 0;
}

int imap_poll_once(const struct config *cfg)
{
	int failed = 0;
	for (size_t i = 0; i < cfg->n_imap; i++) {
		struct session s;
		int r = open_mailbox(&s, cfg, &cfg->imap[i]);
		if (r == 0)
			r = run_session(&s, true);
		close_mailbox(&s);
		if (r < 0)
			failed++;
	}
	return failed;
}

static void ready(int ready_fd)
{
	if (ready_fd >= 0) {
		(void)!write(ready_fd, "r", 1);
		close(ready_fd);
	}
}

int intake_imap_run(const struct config *cfg, int ready_fd)
{
	struct sigaction sa = { .sa_handler = on_term };
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	ready(ready_fd);
	if (cfg->n_imap == 0)
		return 0;
	pid_t *pids = xcalloc(cfg->n_imap, sizeof(*pids));
	time_t *restart_at = xcalloc(cfg->n_imap, sizeof(*restart_at));
	while (!stop_requested) {
		time_t now = time(NULL);
		for (size_t i = 0; i < cfg->n_imap; i++) {
			if (pids[i] || restart_at[i] > now)
				continue;
			pid_t p = fork();
			if (p == 0) {
				/* Dies with the poller (serve kills it). */
				prctl(PR_SET_PDEATHSIG, SIGTERM);
				if (getppid() == 1)
					_exit(0);
				free(pids);
				_exit(mailbox_loop(cfg, &cfg->imap[i]));
			}
			if (p > 0)
				pids[i] = p;
		}
		int status;
		pid_t p = waitpid(-1, &status, 0);
		for (size_t i = 0; p > 0 && i < cfg->n_imap; i++)
			if (pids[i] == p) {
				pids[i] = 0;
				restart_at[i] = time(NULL) + 5;
				log_msg(LOG_WARN, "event=imap-child-exit "
					"mailbox=%s status=%d",
					cfg->imap[i].name, status);
			}
		if (p < 0 && errno == ECHILD) {
			struct pollfd none = { .fd = -1 };
			poll(&none, 0, 1000);
		}
	}
	for (size_t i = 0; i < cfg->n_imap; i++)
		if (pids[i])
			kill(pids[i], SIGTERM);
	for (size_t i = 0; i < cfg->n_imap; i++)
		if (pids[i])
			waitpid(pids[i], NULL, 0);
	free(pids);
	free(restart_at);
	return 0;
}
