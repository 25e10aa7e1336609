/* prescan.c - see prescan.h.
 *
 * Header lines are recognised anywhere (a nested part's header is just a
 * line in the outer body); a Content-Type value may be folded over the
 * following lines. Boundaries are compared the way libetpan does: "--"
 * plus the boundary at the start of a line. A message/rfc822 level is
 * attached to the multipart level it appears in and ends with it. */
#include "mail/prescan.h"

#include <ctype.h>
#include <errno.h>
#include <string.h>
#include <strings.h>

#include "core/limits.h"
#include "core/util.h"

#define PRESCAN_BOUNDARY_MAX 200 /* RFC 2046: 70; be generous */

struct level {
	char boundary[PRESCAN_BOUNDARY_MAX + 1];
	size_t blen;   /* 0: a message/rfc822 level (no boundary) */
};

struct scan {
	struct level stack[LIMIT_MIME_DEPTH + 2];
	unsigned depth;
	unsigned containers;
	size_t last_delim_end; /* end of "--B" of the last delimiter line */
	unsigned last_delim_level; /* its level + 1; 0 = none */
	size_t last_delim_start; /* start of that line */
	size_t last_content;   /* start of the last non-blank line */
};

/* Extracts the boundary parameter from a Content-Type value. */
static size_t get_boundary(const char *v, size_t n, char *out)
{
	const char *b = util_memcasemem(v, n, "boundary");
	if (b == NULL)
		return 0;
	size_t i = (size_t)(b - v) + 8;
	while (i < n && (v[i] == ' ' || v[i] == '\t'))
		i++;
	if (i >= n || v[i] != '=')
		return 0;
	i++;
	while (i < n && (v[i] == ' ' || v[i] == '\t'))
		i++;
	size_t len = 0;
	if (i < n && v[i] == '"') {
		i++;
		while (i < n && v[i] != '"' && len < PRESCAN_BOUNDARY_MAX) {
			if (v[i] == '\\' && i + 1 < n)
				i++;
			out[len++] = v[i++];
		}
	} else {
		while (i < n && v[i] != ';' && v[i] != ' ' && v[i] != '\t' &&
		       v[i] != '\r' && v[i] != '\n' &&
		       len < PRESCAN_BOUNDARY_MAX)
			out[len++] = v[i++];
	}
	out[len] = '\0';
	return len;
}

static int push(struct scan *s, const char *b, size_t blen,
		unsigned max_depth, const char **reason_r)
{
	if (++s->containers > LIMIT_MIME_PARTS) {
		*reason_r = "limit:mime-parts";
		return -E2BIG;
	}
	if (s->depth >= max_depth) {
		*reason_r = "limit:mime-depth";
		return -ELOOP;
	}
	struct level *l = &s->stack[s->depth++];
	memcpy(l->boundary, b, blen);
	l->boundary[blen] = '\0';
	l->blen = blen;
	return 0;
}

/* A line "--B" or "--B--" for a boundary on the stack: pops the levels it
 * encloses (and itself on "--B--"). */
static void boundary_line(struct scan *s, const char *line, size_t n,
			  size_t pos)
{
	if (n < 3 || line[0] != '-' || line[1] != '-')
		return;
	for (unsigned i = s->depth; i-- > 0;) {
		struct level *l = &s->stack[i];
		if (l->blen == 0 || n - 2 < l->blen ||
		    memcmp(line + 2, l->boundary, l->blen) != 0)
			continue;
		const char *rest = line + 2 + l->blen;
		size_t rn = n - 2 - l->blen;
		bool close = rn >= 2 && rest[0] == '-' && rest[1] == '-';
		s->depth = close ? i : i + 1;
		s->last_delim_level = close ? 0 : i + 1;
		s->last_delim_end = pos + 2 + l->blen;
		s->last_delim_start = pos;
		return;
	}
}

int prescan_check(const char *raw, size_t len, unsigned max_depth,
		  struct buf *fix, size_t *keep_r, const char **reason_r)
{
	struct scan s;
	size_t pos = 0;
	int r;

	s.depth = 0;
	s.containers = 0;
	s.last_delim_level = 0;
	s.last_delim_end = 0;
	s.last_content = 0;
	s.last_delim_start = 0;
	if (keep_r)
		*keep_r = len;
	if (max_depth > LIMIT_MIME_DEPTH + 1)
		max_depth = LIMIT_MIME_DEPTH + 1;
	while (pos < len) {
		const char *line = raw + pos;
		const char *nl = memchr(line, '\n', len - pos);
		size_t n = nl ? (size_t)(nl - line) : len - pos;
		size_t next = pos + n + 1;
		if (n > 0 && line[n - 1] == '\r')
			n--;
		bool blank = true;
		for (size_t i = 0; i < n && blank; i++)
			blank = line[i] == ' ' || line[i] == '\t';
		if (!blank)
			s.last_content = pos;
		if (n > 13 && (line[0] | 0x20) == 'c' &&
		    strncasecmp(line, "content-type", 12) == 0) {
			/* Unfold the value over continuation lines. */
			size_t vend = n;
			size_t p2 = next;
			while (p2 < len &&
			       (raw[p2] == ' ' || raw[p2] == '\t') &&
			       p2 - pos < 8192) {
				const char *nl2 = memchr(raw + p2, '\n',
							 len - p2);
				size_t e2 = nl2 ? (size_t)(nl2 - raw) : len;
				vend = e2 - pos;
				p2 = e2 + 1;
			}
			const char *v = line + 12;
			size_t vn = vend - 12;
			const char *mp = util_memcasemem(v, vn < 64 ? vn : 64,
							 "multipart");
			char b[PRESCAN_BOUNDARY_MAX + 1];
			size_t blen;
			if (mp && (blen = get_boundary(v, vn, b)) > 0) {
				r = push(&s, b, blen, max_depth, reason_r);
				if (r < 0)
					return r;
			} else if (util_memcasemem(v, vn < 64 ? vn : 64,
						   "message/rfc822") ||
				   util_memcasemem(v, vn < 64 ? vn : 64,
						   "message/global")) {
				r = push(&s, "", 0, max_depth, reason_r);
				if (r < 0)
					return r;
			}
		} else if (n >= 3 && line[0] == '-' && line[1] == '-') {
			boundary_line(&s, line, n, pos);
		}
		pos = next;
	}
	if (fix == NULL)
		return 0;
	/* Close what is still open, innermost first. */
	bool open = false;
	for (unsigned i = 0; i < s.depth; i++)
		open = open || s.stack[i].blen > 0;
	if (!open)
		return 0;
	unsigned top = s.depth;
	if (s.last_delim_level == s.depth &&
	    s.last_delim_start == s.last_content && s.last_delim_end <= len) {
		/* The body ends with "--B": make it "--B--". */
		*keep_r = s.last_delim_end;
		buf_append_str(fix, "--\n");
		top--;
	} else {
		buf_append_str(fix, "\n");
	}
	for (unsigned i = top; i-- > 0;) {
		if (s.stack[i].blen == 0)
			continue;
		buf_append_str(fix, "--");
		buf_append(fix, s.stack[i].boundary, s.stack[i].blen);
		buf_append_str(fix, "--\n");
	}
	return 0;
}
