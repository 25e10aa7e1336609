/* fuzz_smtp.c - libFuzzer target over the SMTP/LMTP engine's input side
 * (src/intake/smtp_server.c).
 *
 * One server per protocol (SMTP with STARTTLS offered, LMTP without),
 * created once, listening on a unix socket in a fresh temporary directory.
 * Each input is one session: the first byte picks the server and how the
 * bytes are cut into writes; the rest is what the client sends (commands,
 * DATA, BDAT, STARTTLS and whatever follows, pipelined). The target writes
 * it in chunks while running the event loop in-process, half-closes, and
 * runs the loop until the server closes the connection. Checked: no crash
 * or sanitizer report, every reply line is "NNN " or "NNN-" plus text and
 * CRLF, the first is a 220, the session is gone at the end (no hang, no
 * leaked session). Limits are small so that every bound is reached.
 * Messages are answered from a zero-delay timer, as the spool does later.
 *
 * Built as a real fuzzer with -Dfuzz=true (clang), else linked with
 * replay_main.c and run by `meson test --suite fuzz` over its corpus. */
#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <event2/event.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "core/log.h"
#include "intake/smtp_server.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct fuzz_state {
	struct event_base *base;
	struct smtp_server *srv[2];
	char path[2][128];
	SSL_CTX *tls;
	char dir[64];
};

static struct fuzz_state st;

static void rcpt_cb(void *ctx, const char *session_id, const char *peer,
		    const char *address, int64_t *cookie_r,
		    struct smtp_reply *reply)
{
	(void)ctx, (void)session_id, (void)peer;
	if (strstr(address, "refuse")) {
		reply->code = 550;
		reply->enhanced = "5.1.1";
		reply->text = "No such user";
		return;
	}
	*cookie_r = (int64_t)strlen(address);
}

static void answer(evutil_socket_t fd, short what, void *arg)
{
	struct smtp_transaction *tx = arg;
	size_t len;
	const char *msg = smtp_transaction_data(tx, &len);
	(void)fd, (void)what;
	if (msg[len] != '\0') /* a NUL-terminated copy is promised */
		abort();
	size_t n = smtp_transaction_rcpt_count(tx);
	if (n == 0)
		abort();
	for (size_t i = n; i-- > 0;) { /* last first: rcpt_done may free */
		int64_t cookie;
		const char *a = smtp_transaction_rcpt(tx, i, &cookie);
		struct smtp_reply r = { 0, NULL, "queued" };
		if (strstr(a, "tempfail")) {
			r.code = 451;
			r.enhanced = "4.3.0";
			r.text = "Try later";
		}
		smtp_transaction_rcpt_done(tx, i, &r);
	}
}

static void data_cb(void *ctx, struct smtp_transaction *tx)
{
	(void)ctx;
	struct timeval now = { 0, 0 };
	if (event_base_once(st.base, -1, EV_TIMEOUT, answer, tx, &now) < 0)
		abort();
}

/* A throwaway self-signed P-256 certificate, so STARTTLS is offered. */
static SSL_CTX *make_tls(void)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
	EVP_PKEY *key = EVP_EC_gen("P-256");
	X509 *x = X509_new();
	if (!ctx || !key || !x)
		abort();
	ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
	X509_gmtime_adj(X509_getm_notBefore(x), 0);
	X509_gmtime_adj(X509_getm_notAfter(x), 86400);
	X509_set_pubkey(x, key);
	X509_NAME *name = X509_get_subject_name(x);
	X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
				   (const unsigned char *)"fuzz", -1, -1, 0);
	X509_set_issuer_name(x, name);
	if (!X509_sign(x, key, EVP_sha256()) ||
	    SSL_CTX_use_certificate(ctx, x) != 1 ||
	    SSL_CTX_use_PrivateKey(ctx, key) != 1)
		abort();
	X509_free(x);
	EVP_PKEY_free(key);
	return ctx;
}

static void cleanup(void)
{
	for (int i = 0; i < 2; i++) {
		smtp_server_free(&st.srv[i]);
		unlink(st.path[i]);
	}
	rmdir(st.dir);
	SSL_CTX_free(st.tls);
	event_base_free(st.base);
}

static void init(void)
{
	struct smtp_server_callbacks cb = { rcpt_cb, data_cb };
	char err[256];
	const char *tmp = getenv("TMPDIR");
	log_set_level(LOG_ERROR);
	snprintf(st.dir, sizeof(st.dir), "%s/fuzz_smtp.XXXXXX",
		 tmp && strlen(tmp) < 40 ? tmp : "/tmp");
	if (!mkdtemp(st.dir))
		abort();
	st.base = event_base_new();
	st.tls = make_tls();
	for (int i = 0; i < 2; i++) {
		struct smtp_server_settings set;
		smtp_server_settings_default(&set, i ? SMTP_PROTOCOL_LMTP
						     : SMTP_PROTOCOL_SMTP);
		set.hostname = "fuzz.test";
		set.max_line = 512;
		set.max_data_line = 200;
		set.max_message_size = 3000;
		set.max_recipients = 4;
		set.max_bad_commands = 8;
		set.max_output = 2048;
		set.tls = i ? NULL : st.tls;
		st.srv[i] = smtp_server_new(st.base, &set, &cb, NULL);
		snprintf(st.path[i], sizeof(st.path[i]), "%s/%d.sock", st.dir,
			 i);
		char addr[160];
		snprintf(addr, sizeof(addr), "unix:%s", st.path[i]);
		if (!st.srv[i] ||
		    smtp_server_listen(st.srv[i], addr, 0, NULL, err,
				       sizeof(err)) < 0) {
			fprintf(stderr, "fuzz_smtp: listen %s: %s\n", addr,
				err);
			abort();
		}
	}
	atexit(cleanup);
}

/* Checks the complete reply lines at the start of out[0..*len) and drops
 * them; a partial last line stays. */
static void check_replies(char *out, size_t *len, int *lines, bool *tls)
{
	size_t start = 0;
	while (!*tls) {
		char *nl = memchr(out + start, '\n', *len - start);
		if (!nl)
			break;
		size_t l = (size_t)(nl - (out + start)) + 1;
		const char *p = out + start;
		if (l < 6 || p[l - 2] != '\r' || p[0] < '2' || p[0] > '5' ||
		    p[1] < '0' || p[1] > '9' || p[2] < '0' || p[2] > '9' ||
		    (p[3] != ' ' && p[3] != '-') ||
		    memchr(p, '\r', l - 2) || memchr(p, '\0', l)) {
			fprintf(stderr, "fuzz_smtp: bad reply line: %.*s\n",
				(int)l, p);
			abort();
		}
		if (*lines == 0 && strncmp(p, "220 ", 4) != 0)
			abort();
		if (getenv("FUZZ_SMTP_TRACE")) /* to see what a seed does */
			fprintf(stderr, "S: %.*s", (int)l, p);
		(*lines)++;
		start += l;
		/* after this the server speaks TLS: no more lines */
		*tls = strncmp(p, "220 2.0.0 Ready to start TLS", 28) == 0;
	}
	if (*tls)
		start = *len;
	memmove(out, out + start, *len - start);
	*len -= start;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!st.base)
		init();
	if (size < 1)
		return 0;
	int which = data[0] & 1;
	size_t chunk = (data[0] >> 1) ? (size_t)(data[0] >> 1) * 7 : 65536;
	data++, size--;

	int fd = socket(AF_UNIX, SOCK_STREAM, 0);
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", st.path[which]);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		abort();
	fcntl(fd, F_SETFL, O_NONBLOCK);

	char out[8192];
	size_t out_len = 0, sent = 0;
	int lines = 0, idle = 0;
	bool half_closed = false, tls = false;
	for (;;) {
		bool progress = false;
		if (sent < size) {
			size_t n = size - sent < chunk ? size - sent : chunk;
			ssize_t w = send(fd, data + sent, n, MSG_NOSIGNAL);
			if (w > 0) {
				sent += (size_t)w;
				progress = true;
			}
			else if (w < 0 && errno != EAGAIN)
				sent = size; /* server closed: stop writing */
		} else if (!half_closed) {
			shutdown(fd, SHUT_WR);
			half_closed = true;
		}
		event_base_loop(st.base, EVLOOP_NONBLOCK);
		ssize_t r = recv(fd, out + out_len, sizeof(out) - out_len - 1,
				 0);
		if (r == 0)
			break;
		if (r < 0 && errno != EAGAIN) {
			if (errno == ECONNRESET)
				break;
			abort();
		}
		if (r > 0) {
			out_len += (size_t)r;
			check_replies(out, &out_len, &lines, &tls);
			if (out_len > 1024) { /* a reply line that never ends */
				fprintf(stderr, "fuzz_smtp: reply too long\n");
				abort();
			}
			progress = true;
		}
		if (progress) {
			idle = 0;
		} else if (++idle > 5000) {
			fprintf(stderr, "fuzz_smtp: session never closed\n");
			abort();
		}
	}
	close(fd);
	/* let the server see the close and free the session */
	for (int i = 0; i < 100 && smtp_server_session_count(st.srv[which]);
	     i++)
		event_base_loop(st.base, EVLOOP_NONBLOCK);
	if (smtp_server_session_count(st.srv[which]) != 0) {
		fprintf(stderr, "fuzz_smtp: session left after close\n");
		abort();
	}
	if (!tls && out_len > 0) { /* a last reply without its CRLF */
		fprintf(stderr, "fuzz_smtp: unterminated reply at close\n");
		abort();
	}
	return 0;
}
