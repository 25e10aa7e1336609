/* log.c - the log sink; see log.h. */
#include "core/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core/term.h"
#include "core/util.h"

static enum log_level min_level = LOG_INFO;

void log_set_level(enum log_level level)
{
	min_level = level;
}

void log_msg(enum log_level level, const char *fmt, ...)
{
	static const char *const names[] = { "debug", "info", "warn", "error" };
	if (level < min_level)
		return;
	struct buf b;
	buf_init(&b, 8192);
	buf_printf(&b, "trackmail: level=%s ", names[level]);
	va_list ap;
	va_start(ap, fmt);
	buf_vprintf(&b, fmt, ap);
	va_end(ap);
	buf_append_char(&b, '\n');
	fputs(buf_cstr(&b), stderr);
	buf_free(&b);
}

void log_escape(struct buf *b, const char *value)
{
	/* The terminal rules (core/term.h: C0, C1 and bidi controls, bytes
	 * that are not UTF-8, backslash), then the quote. */
	size_t n = value ? strlen(value) : 0;
	_cleanup_free_ char *cut = value ? xstrndup(value, n > 200 ? 200 : n)
					 : NULL;
	struct buf t;
	buf_init(&t, (size_t)-1);
	term_escape(&t, cut);
	buf_append_char(b, '"');
	for (const char *p = buf_cstr(&t); *p; p++) {
		if (*p == '"')
			buf_append_str(b, "\\\"");
		else
			buf_append_char(b, *p);
	}
	if (n > 200)
		buf_append_str(b, "...");
	buf_append_char(b, '"');
	buf_free(&t);
}
