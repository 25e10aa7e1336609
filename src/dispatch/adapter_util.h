/* adapter_util.h - small helpers the channel adapters share (issue 10):
 * building struct http_request, reading answers as JSON, the common error
 * classes of channels.md rule 0.3, carrier tables and URL encoding.
 *
 * Ownership: a request's url and body are malloc'ed and owned by the
 * request until adapter_request_clear(); header values are borrowed and
 * must outlive the request (adapters keep them in their push state). */
#ifndef TRACKMAIL_ADAPTER_UTIL_H
#define TRACKMAIL_ADAPTER_UTIL_H

#include <jansson.h>
#include <stdarg.h>

#include "dispatch/adapter.h"

/* Frees url and body and empties the request. NULL-safe. */
void adapter_request_clear(struct http_request *req);

/* Clears req and sets method, url (taken over) and body (taken over,
 * NULL for none). Adds "Accept: application/json", and
 * "Content-Type: application/json" when there is a body unless
 * content_type says otherwise. */
void adapter_request_set(struct http_request *req, const char *method,
			 char *url, char *body, const char *content_type);

/* Appends a header (value borrowed). Aborts past the 8 slots: a
 * programming error, not input. */
void adapter_request_header(struct http_request *req, const char *name,
			    const char *value);

/* The answer's body as JSON, or NULL when absent or not JSON. */
json_t *adapter_answer_json(const struct http_answer *answer);

/* Sets out (verdict, reason from fmt) and returns the verdict. */
enum push_verdict adapter_outcome(struct push_outcome *out,
				  enum push_verdict verdict,
				  const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Tags out with the store rule (rules.h) of the situation, returns v:
 * return adapter_rule(out, "fba_orders", adapter_outcome(...)); */
enum push_verdict adapter_rule(struct push_outcome *out, const char *rule,
			       enum push_verdict v);

/* The answer to an OAuth refresh-token request: on 200 with an
 * access_token, *bearer becomes "Bearer <token>" and PUSH_CONTINUE is
 * returned; else out is filled (transient: retry; refused: dead, asking
 * to "authorize <reauthorize> again"; no token: retry). */
enum push_verdict adapter_bearer_from_refresh(const struct http_answer *a,
					      const char *reauthorize,
					      char **bearer,
					      struct push_outcome *out);

/* Rule 0.3's transient class: no answer, 408, 429, 5xx. Fills out with
 * PUSH_RETRY (Retry-After honoured) and returns true; else false. what
 * names the step for the reason. */
bool adapter_transient(const struct http_answer *answer, const char *what,
		       struct push_outcome *out);

/* Seconds from a Retry-After value (delta seconds, fractions rounded
 * up), or 0. */
long adapter_retry_after(const char *value);

/* One row of a channel's carrier table: our carrier id -> its code. */
struct adapter_carrier {
	const char *id;
	const char *code;
};

/* The code for id in a table ending with {NULL, NULL}, or NULL. */
const char *adapter_carrier_find(const struct adapter_carrier *table,
				 const char *id);

/* Percent-encodes s for a URL path segment or a query value. */
char *adapter_urlencode(const char *s);

/* A JSON object's string member, or NULL. */
const char *adapter_json_str(const json_t *obj, const char *key);

/* The string form of a member that may be a string or an integer
 * (channels mix them for ids), copied into buf (returned); NULL when
 * neither. */
const char *adapter_json_id(const json_t *obj, const char *key,
			    char *buf, size_t size);

/* Parses a JSON object (the credentials or settings text); NULL when
 * text is NULL, empty or not an object. */
json_t *adapter_json_object(const char *text);

/* Standard base64 of data (for Basic authorization). */
char *adapter_base64(const void *data, size_t len);

/* req's tracking URL, else the carrier table's for our carrier id
 * (malloc'ed either way), or NULL when there is none. */
char *adapter_tracking_url(const struct push_request *req);

/* The message of a JSON error body: the first string found among
 * "message", "error", "code" (top level) or NULL. */
const char *adapter_json_message(const json_t *j);

/* For check_request(), whose request outlives any state: sets a GET-style
 * request whose url (taken over) also stores a copy of header_value (NULL:
 * none), so adapter_request_clear() frees all of it. That value is the
 * request's secret_hint, and also a header when header_name is set (NULL:
 * a secret carried elsewhere, e.g. in the URL). */
void adapter_request_owned(struct http_request *req, const char *method,
			   char *url, const char *header_name,
			   const char *header_value);

/* adapter_request_owned() with a second owned header (not secret). */
void adapter_request_owned2(struct http_request *req, const char *method,
			    char *url, const char *name1, const char *value1,
			    const char *name2, const char *value2);

/* Hands the request built in the push state (*from) to the dispatcher
 * (*to), which frees its url and body with free_request() once answered
 * (dispatch.c does); *from is emptied. Header values stay borrowed from
 * the push state. */
void adapter_request_hand(struct http_request *from, struct http_request *to);

#endif
