/* adapter_drive.c - runs one channel adapter's step() loop against a
 * server with libcurl easy, the way the dispatcher would, and prints the
 * verdict: the test program the adapter tests drive fakes with.
 *
 *   adapter_drive CHANNEL --api-url URL --credentials-file FILE
 *       [--settings JSON] --order ID --tracking N --carrier ID
 *       [--carrier-name NAME] [--url URL] [--previous N] [--ref REF]
 *       [--line ID:QTY]... [--timeout-ms N] [--check]
 *
 * Output, one line: verdict=done|retry|manual|dead retry_after=N
 * remote_ref=R reason=... ; each request goes to stderr as "> METHOD URL"
 * (no header values: they hold secrets). Exit 0 when a verdict was
 * reached, 2 on usage errors. */
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/buf.h"
#include "core/util.h"
#include "dispatch/adapter.h"
#include "parse/carrier.h"

static size_t drive_write(char *p, size_t size, size_t n, void *ud)
{
	if (buf_append(ud, p, size * n) < 0)
		return 0;
	return size * n;
}

struct drive_headers {
	char retry_after[64];
};

static size_t drive_header(char *p, size_t size, size_t n, void *ud)
{
	struct drive_headers *h = ud;
	size_t len = size * n;
	static const char ra[] = "retry-after:";

	if (len > sizeof(ra) && strncasecmp(p, ra, sizeof(ra) - 1) == 0) {
		size_t v = sizeof(ra) - 1, e = len;

		while (v < len && p[v] == ' ')
			v++;
		while (e > v && (p[e - 1] == '\r' || p[e - 1] == '\n'))
			e--;
		if (e - v < sizeof(h->retry_after)) {
			memcpy(h->retry_after, p + v, e - v);
			h->retry_after[e - v] = 0;
		}
	}
	return len;
}

/* "> METHOD URL" on stderr with the secret masked, as the dispatcher
 * logs it. */
static void drive_trace(const struct http_request *req)
{
	const char *u = req->url, *hit;
	size_t sl = req->secret_hint ? strlen(req->secret_hint) : 0;

	fprintf(stderr, "> %s ", req->method);
	while (sl && (hit = strstr(u, req->secret_hint))) {
		fprintf(stderr, "%.*s***", (int)(hit - u), u);
		u = hit + sl;
	}
	fprintf(stderr, "%s\n", u);
}

/* Sends req, fills answer (body in *body). */
static void drive_send(const struct http_request *req, long timeout_ms,
		       struct buf *body, struct drive_headers *hdr,
		       char *errbuf, struct http_answer *answer)
{
	CURL *c = curl_easy_init();
	struct curl_slist *list = NULL;
	CURLcode rc;

	buf_reset(body);
	hdr->retry_after[0] = 0;
	errbuf[0] = 0;
	for (size_t i = 0; i < req->n_headers; i++) {
		char *line = xasprintf("%s: %s", req->headers[i].name,
				       req->headers[i].value);
		list = curl_slist_append(list, line);
		free(line);
	}
	list = curl_slist_append(list, "Expect:");
	curl_easy_setopt(c, CURLOPT_URL, req->url);
	curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, req->method);
	if (req->body)
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, req->body);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, list);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, drive_write);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, body);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, drive_header);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, hdr);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, timeout_ms);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	drive_trace(req);
	rc = curl_easy_perform(c);
	memset(answer, 0, sizeof(*answer));
	if (rc != CURLE_OK) {
		answer->status = 0;
		answer->error = errbuf[0] ? errbuf : curl_easy_strerror(rc);
	} else {
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &answer->status);
		answer->body = buf_cstr(body);
		answer->body_len = body->len;
		answer->retry_after = hdr->retry_after[0] ? hdr->retry_after
							  : NULL;
	}
	fprintf(stderr, "< %ld\n", answer->status);
	curl_slist_free_all(list);
	curl_easy_cleanup(c);
}

static int drive_usage(void)
{
	fprintf(stderr, "usage: adapter_drive CHANNEL --api-url URL "
		"--credentials-file FILE --order ID --tracking N --carrier ID "
		"[--settings JSON] [--carrier-name NAME] [--url URL] "
		"[--previous N] [--ref REF] [--line ID:QTY]... "
		"[--timeout-ms N] [--check]\n");
	return 2;
}

static const char *const verdict_names[] = {
	[PUSH_CONTINUE] = "continue", [PUSH_DONE] = "done",
	[PUSH_RETRY] = "retry", [PUSH_MANUAL] = "manual",
	[PUSH_DEAD] = "dead",
};

int main(int argc, char **argv)
{
	struct channel_store store = { .id = 1, .name = "test" };
	struct push_request req = { .outbox_id = 1 };
	struct push_line lines[16];
	char *lines_ids[16] = { 0 };
	const char *cred_file = NULL;
	_cleanup_free_ char *creds = NULL;
	size_t creds_len;
	long timeout_ms = 5000;
	bool check = false;
	const struct channel_adapter *ad;
	struct push_state *st;
	struct http_request next;
	struct push_outcome out;
	struct http_answer answer;
	struct buf body;
	struct drive_headers hdr;
	char errbuf[CURL_ERROR_SIZE];
	enum push_verdict v;
	int steps = 0;

	if (argc < 2)
		return drive_usage();
	store.channel = argv[1];
	for (int i = 2; i < argc; i++) {
		const char *a = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;

		if (strcmp(a, "--check") == 0) {
			check = true;
			continue;
		}
		if (!val)
			return drive_usage();
		i++;
		if (strcmp(a, "--api-url") == 0)
			store.api_url = val;
		else if (strcmp(a, "--credentials-file") == 0)
			cred_file = val;
		else if (strcmp(a, "--settings") == 0)
			store.settings_json = val;
		else if (strcmp(a, "--order") == 0)
			req.channel_order = val;
		else if (strcmp(a, "--tracking") == 0)
			req.tracking = val;
		else if (strcmp(a, "--carrier") == 0)
			req.carrier = val;
		else if (strcmp(a, "--carrier-name") == 0)
			req.carrier_name = val;
		else if (strcmp(a, "--url") == 0)
			req.tracking_url = val;
		else if (strcmp(a, "--previous") == 0)
			req.previous_tracking = val;
		else if (strcmp(a, "--ref") == 0)
			req.remote_ref = val;
		else if (strcmp(a, "--timeout-ms") == 0)
			timeout_ms = strtol(val, NULL, 10);
		else if (strcmp(a, "--line") == 0) {
			const char *colon = strchr(val, ':');

			if (!colon || req.n_lines >= 16)
				return drive_usage();
			lines_ids[req.n_lines] = xstrndup(val, (size_t)(colon - val));
			lines[req.n_lines].line_id = lines_ids[req.n_lines];
			lines[req.n_lines].quantity = (int)strtol(colon + 1, NULL, 10);
			req.n_lines++;
		} else
			return drive_usage();
	}
	req.lines = lines;
	ad = adapter_find(store.channel);
	if (!ad || !store.api_url || !cred_file) {
		fprintf(stderr, "adapter_drive: unknown channel or missing option\n");
		return 2;
	}
	if (util_read_file(cred_file, 65536, &creds, &creds_len) < 0) {
		fprintf(stderr, "adapter_drive: cannot read %s\n", cred_file);
		return 2;
	}
	while (creds_len && (creds[creds_len - 1] == '\n'))
		creds[--creds_len] = 0;
	store.credentials = creds;
	if (req.carrier && !req.carrier_name) {
		const struct carrier *c = carrier_find(req.carrier);

		req.carrier_name = c ? carrier_name(c) : req.carrier;
	}
	curl_global_init(CURL_GLOBAL_DEFAULT);
	buf_init(&body, 16 << 20);
	memset(&next, 0, sizeof(next));
	if (check) {
		int rc = ad->check_request(&store, &next);

		if (rc < 0) {
			printf("check=refused\n");
			return 0;
		}
		drive_send(&next, timeout_ms, &body, &hdr, errbuf, &answer);
		printf("check=%ld\n", answer.status);
		ad->free_request(&next);
		buf_free(&body);
		curl_global_cleanup();
		return 0;
	}
	if (!req.channel_order || !req.tracking || !req.carrier)
		return drive_usage();
	memset(&out, 0, sizeof(out));
	st = ad->start_push(&store, &req);
	if (!st) {
		printf("verdict=dead retry_after=0 remote_ref= reason=start_push refused\n");
		return 0;
	}
	v = ad->step(st, NULL, &next, &out);
	while (v == PUSH_CONTINUE && steps++ < 64) {
		drive_send(&next, timeout_ms, &body, &hdr, errbuf, &answer);
		/* As dispatch.c: the request is freed once answered. */
		ad->free_request(&next);
		v = ad->step(st, &answer, &next, &out);
	}
	if (v == PUSH_CONTINUE)
		printf("verdict=loop retry_after=0 remote_ref= reason=too many steps\n");
	else
		printf("verdict=%s retry_after=%ld remote_ref=%s reason=%s\n",
		       verdict_names[v], out.retry_after_s, out.remote_ref,
		       out.reason);
	ad->free_push(st);
	buf_free(&body);
	for (size_t i = 0; i < 16; i++)
		free(lines_ids[i]);
	curl_global_cleanup();
	return 0;
}
