/* dkim.c - verifies the DKIM signatures of a message with libopendkim and
 * reports the one that concerns the author's domain (dkim.h). Mail
 * without a DKIM-Signature header never reaches the library. */
#include "mail/dkim.h"

#include <errno.h>
#include <opendkim/dkim.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "core/util.h"

/* Seconds one key lookup may take (DNS). */
#define DKIM_TIMEOUT_S 5
/* Only the header block is searched for a signature. */
#define DKIM_HEADER_SCAN_MAX (256 * 1024)

const char *dkim_outcome_name(enum dkim_outcome outcome)
{
	switch (outcome) {
	case DKIM_NONE:
		return "none";
	case DKIM_UNALIGNED:
		return "unaligned";
	case DKIM_PASS:
		return "pass";
	case DKIM_FAIL:
		return "fail";
	case DKIM_TEMPERROR:
		return "temperror";
	case DKIM_PERMERROR:
		return "permerror";
	}
	return "none";
}

/* A DKIM-Signature field at the start of a line of the header block. */
static bool has_signature(const char *raw, size_t len)
{
	if (len > DKIM_HEADER_SCAN_MAX)
		len = DKIM_HEADER_SCAN_MAX;
	static const char name[] = "dkim-signature:";
	size_t n = sizeof(name) - 1;
	for (size_t i = 0; i + n <= len;) {
		if (raw[i] == '\r' || raw[i] == '\n')
			return false; /* the empty line: end of the header */
		if (strncasecmp(raw + i, name, n) == 0)
			return true;
		const char *nl = memchr(raw + i, '\n', len - i);
		if (!nl)
			break;
		i = (size_t)(nl - raw) + 1;
	}
	return false;
}

/* d= is domain or a parent of it. */
static bool aligned(const char *d, const char *domain)
{
	if (!domain || !*domain || !d || !*d)
		return false;
	size_t dl = strlen(d), ml = strlen(domain);
	if (dl > ml)
		return false;
	return strcasecmp(domain + ml - dl, d) == 0 &&
	       (dl == ml || domain[ml - dl - 1] == '.');
}

static enum dkim_outcome sig_outcome(DKIM_SIGINFO *sig)
{
	unsigned int flags = dkim_sig_getflags(sig);
	int bh = dkim_sig_getbh(sig);
	int err = dkim_sig_geterror(sig);
	if ((flags & DKIM_SIGFLAG_PASSED) && bh == DKIM_SIGBH_MATCH)
		return DKIM_PASS;
	if (err == DKIM_SIGERROR_KEYFAIL)
		return DKIM_TEMPERROR;
	if (bh == DKIM_SIGBH_MISMATCH || err == DKIM_SIGERROR_BADSIG ||
	    ((flags & DKIM_SIGFLAG_PROCESSED) && err == DKIM_SIGERROR_OK))
		return DKIM_FAIL;
	return DKIM_PERMERROR;
}

/* Which outcome wins among aligned signatures: a pass proves the mail;
 * a fail is only reported when nothing passed. */
static int rank(enum dkim_outcome o)
{
	switch (o) {
	case DKIM_PASS:
		return 4;
	case DKIM_FAIL:
		return 3;
	case DKIM_TEMPERROR:
		return 2;
	case DKIM_PERMERROR:
		return 1;
	default:
		return 0;
	}
}

int dkim_check(const char *raw, size_t len, const char *author_domain,
	       const char *query_file, struct dkim_verdict *out)
{
	memset(out, 0, sizeof(*out));
	out->outcome = DKIM_NONE;
	if (!has_signature(raw, len))
		return 0;
	DKIM_LIB *lib = dkim_init(NULL, NULL);
	if (!lib)
		return -ENOMEM;
	unsigned int timeout = DKIM_TIMEOUT_S;
	dkim_options(lib, DKIM_OP_SETOPT, DKIM_OPTS_TIMEOUT, &timeout,
		     sizeof(timeout));
	if (query_file && *query_file) {
		dkim_query_t method = DKIM_QUERY_FILE;
		dkim_options(lib, DKIM_OP_SETOPT, DKIM_OPTS_QUERYMETHOD,
			     &method, sizeof(method));
		dkim_options(lib, DKIM_OP_SETOPT, DKIM_OPTS_QUERYINFO,
			     (void *)query_file, strlen(query_file));
	}
	DKIM_STAT status;
	DKIM *d = dkim_verify(lib, (const unsigned char *)"trackmail", NULL,
			      &status);
	if (!d) {
		dkim_close(lib);
		out->outcome = DKIM_PERMERROR;
		snprintf(out->detail, sizeof(out->detail), "%s",
			 dkim_getresultstr(status));
		return 0;
	}
	status = dkim_chunk(d, (unsigned char *)raw, len);
	if (status == DKIM_STAT_OK)
		status = dkim_chunk(d, NULL, 0);
	if (status == DKIM_STAT_OK)
		(void)dkim_eom(d, NULL);
	DKIM_SIGINFO **sigs = NULL;
	int nsigs = 0;
	int best = -1;
	if (dkim_getsiglist(d, &sigs, &nsigs) == DKIM_STAT_OK) {
		for (int i = 0; i < nsigs; i++) {
			const char *dom =
				(const char *)dkim_sig_getdomain(sigs[i]);
			enum dkim_outcome o = sig_outcome(sigs[i]);
			if (!aligned(dom, author_domain)) {
				if (best < 0 && out->outcome == DKIM_NONE) {
					out->outcome = DKIM_UNALIGNED;
					snprintf(out->domain,
						 sizeof(out->domain), "%s",
						 dom ? dom : "");
				}
				continue;
			}
			if (rank(o) <= best)
				continue;
			best = rank(o);
			out->outcome = o;
			snprintf(out->domain, sizeof(out->domain), "%s", dom);
			const char *why = o == DKIM_PASS
				? ""
				: dkim_sig_geterrorstr(
					  dkim_sig_geterror(sigs[i]));
			if (o != DKIM_PASS &&
			    dkim_sig_getbh(sigs[i]) == DKIM_SIGBH_MISMATCH)
				why = "body hash mismatch";
			snprintf(out->detail, sizeof(out->detail), "%s",
				 why ? why : "");
		}
	} else if (status != DKIM_STAT_OK) {
		out->outcome = DKIM_PERMERROR;
		snprintf(out->detail, sizeof(out->detail), "%s",
			 dkim_getresultstr(status));
	}
	dkim_free(d);
	dkim_close(lib);
	return 0;
}
