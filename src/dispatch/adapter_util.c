/* adapter_util.c - helpers shared by the channel adapters: requests,
 * JSON answers, the common error classes (channels.md rule 0.3), carrier
 * tables, URL and base64 encoding. */
#include <ctype.h>
#include <gnutls/gnutls.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "dispatch/adapter_util.h"
#include "parse/carrier.h"

void adapter_request_clear(struct http_request *req)
{
	if (!req)
		return;
	free(req->url);
	free(req->body);
	memset(req, 0, sizeof(*req));
}

void adapter_request_set(struct http_request *req, const char *method,
			 char *url, char *body, const char *content_type)
{
	adapter_request_clear(req);
	req->method = method;
	req->url = url;
	req->body = body;
	adapter_request_header(req, "Accept", "application/json");
	if (body)
		adapter_request_header(req, "Content-Type",
				       content_type ? content_type
						    : "application/json");
}

void adapter_request_header(struct http_request *req, const char *name,
			    const char *value)
{
	size_t max = sizeof(req->headers) / sizeof(req->headers[0]);

	if (req->n_headers >= max)
		abort();
	req->headers[req->n_headers].name = name;
	req->headers[req->n_headers].value = value;
	req->n_headers++;
}

json_t *adapter_answer_json(const struct http_answer *answer)
{
	if (!answer || !answer->body || answer->body_len == 0)
		return NULL;
	return json_loadb(answer->body, answer->body_len, 0, NULL);
}

enum push_verdict adapter_outcome(struct push_outcome *out,
				  enum push_verdict verdict,
				  const char *fmt, ...)
{
	va_list ap;

	out->verdict = verdict;
	va_start(ap, fmt);
	vsnprintf(out->reason, sizeof(out->reason), fmt, ap);
	va_end(ap);
	return verdict;
}

enum push_verdict adapter_rule(struct push_outcome *out, const char *rule,
			       enum push_verdict v)
{
	out->rule = rule;
	return v;
}

long adapter_retry_after(const char *value)
{
	char *end;
	double d;

	if (!value || !*value)
		return 0;
	d = strtod(value, &end);
	if (end == value || d <= 0 || d > 86400.0 * 7)
		return 0;
	return (long)d + ((double)(long)d < d ? 1 : 0);
}

bool adapter_transient(const struct http_answer *answer, const char *what,
		       struct push_outcome *out)
{
	if (answer->status == 0) {
		adapter_outcome(out, PUSH_RETRY, "%s: no answer (%s)", what,
				answer->error ? answer->error : "transport");
		return true;
	}
	if (answer->status == 408 || answer->status == 429 ||
	    answer->status >= 500) {
		out->retry_after_s = adapter_retry_after(answer->retry_after);
		adapter_outcome(out, PUSH_RETRY, "%s: HTTP %ld%s", what,
				answer->status,
				answer->status == 429 ? " (throttled)" : "");
		return true;
	}
	return false;
}

const char *adapter_carrier_find(const struct adapter_carrier *table,
				 const char *id)
{
	if (!id)
		return NULL;
	for (; table->id; table++)
		if (strcmp(table->id, id) == 0)
			return table->code;
	return NULL;
}

char *adapter_urlencode(const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t n = strlen(s);
	char *out = xmalloc(n * 3 + 1), *p = out;

	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
			*p++ = (char)c;
		} else {
			*p++ = '%';
			*p++ = hex[c >> 4];
			*p++ = hex[c & 15];
		}
	}
	*p = 0;
	return out;
}

const char *adapter_json_str(const json_t *obj, const char *key)
{
	return json_string_value(json_object_get(obj, key));
}

const char *adapter_json_id(const json_t *obj, const char *key,
			    char *buf, size_t size)
{
	json_t *v = json_object_get(obj, key);

	if (json_is_string(v)) {
		snprintf(buf, size, "%s", json_string_value(v));
		return buf;
	}
	if (json_is_integer(v)) {
		snprintf(buf, size, "%lld", (long long)json_integer_value(v));
		return buf;
	}
	return NULL;
}

json_t *adapter_json_object(const char *text)
{
	json_t *j;

	if (!text || !*text)
		return NULL;
	j = json_loads(text, 0, NULL);
	if (j && !json_is_object(j)) {
		json_decref(j);
		return NULL;
	}
	return j;
}

char *adapter_base64(const void *data, size_t len)
{
	gnutls_datum_t in = { (unsigned char *)(uintptr_t)data,
			      (unsigned int)len };
	gnutls_datum_t out = { NULL, 0 };
	char *s;

	if (gnutls_base64_encode2(&in, &out) < 0)
		abort();
	s = xstrndup((const char *)out.data, out.size);
	gnutls_free(out.data);
	return s;
}

char *adapter_tracking_url(const struct push_request *req)
{
	const struct carrier *c;
	char url[1024];

	if (req->tracking_url && *req->tracking_url)
		return xstrdup(req->tracking_url);
	c = req->carrier ? carrier_find(req->carrier) : NULL;
	if (!c || carrier_tracking_url(c, req->tracking, url, sizeof(url)) < 0)
		return NULL;
	return xstrdup(url);
}

const char *adapter_json_message(const json_t *j)
{
	static const char *const keys[] = { "message", "error", "code" };

	for (size_t i = 0; i < 3; i++)
		if (adapter_json_str(j, keys[i]))
			return adapter_json_str(j, keys[i]);
	return NULL;
}

void adapter_request_owned(struct http_request *req, const char *method,
			   char *url, const char *header_name,
			   const char *header_value)
{
	size_t ul = strlen(url);
	size_t vl = header_value ? strlen(header_value) : 0;
	char *block = xmalloc(ul + 1 + vl + 1);

	memcpy(block, url, ul + 1);
	free(url);
	adapter_request_set(req, method, block, NULL, NULL);
	if (header_value) {
		memcpy(block + ul + 1, header_value, vl + 1);
		if (header_name)
			adapter_request_header(req, header_name,
					       block + ul + 1);
		req->secret_hint = block + ul + 1;
	}
}

void adapter_request_owned2(struct http_request *req, const char *method,
			    char *url, const char *name1, const char *value1,
			    const char *name2, const char *value2)
{
	size_t ul = strlen(url), l1 = strlen(value1), l2 = strlen(value2);
	char *block = xmalloc(ul + l1 + l2 + 3);

	memcpy(block, url, ul + 1);
	memcpy(block + ul + 1, value1, l1 + 1);
	memcpy(block + ul + l1 + 2, value2, l2 + 1);
	free(url);
	adapter_request_set(req, method, block, NULL, NULL);
	adapter_request_header(req, name1, block + ul + 1);
	adapter_request_header(req, name2, block + ul + l1 + 2);
	req->secret_hint = block + ul + 1;
}

void adapter_request_hand(struct http_request *from, struct http_request *to)
{
	*to = *from;
	memset(from, 0, sizeof(*from));
}

enum push_verdict adapter_bearer_from_refresh(const struct http_answer *a,
					      const char *reauthorize,
					      char **bearer,
					      struct push_outcome *out)
{
	if (a->status != 200) {
		if (adapter_transient(a, "refresh token", out))
			return PUSH_RETRY;
		return adapter_outcome(out, PUSH_DEAD, "refresh token refused "
				       "(HTTP %ld): authorize %s again",
				       a->status, reauthorize);
	}
	json_t *j = adapter_answer_json(a);
	const char *tok = adapter_json_str(j, "access_token");
	if (tok) {
		free(*bearer);
		*bearer = xasprintf("Bearer %s", tok);
	}
	json_decref(j);
	if (!tok)
		return adapter_outcome(out, PUSH_RETRY, "refresh token: "
				       "no access_token in the answer");
	return PUSH_CONTINUE;
}
