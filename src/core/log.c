/* log.c - the log sink; see log.h. */
#include "core/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

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
	buf_append_char(b, '"');
	size_t n = 0;
	for (const unsigned char *p = (const unsigned char *)value; p && *p;
	     p++, n++) {
		if (n >= 200) {
			buf_append_str(b, "...");
			break;
		}
		if (*p == '"' || *p == '\\')
			buf_printf(b, "\\%c", *p);
		else if (*p < 0x20 || *p == 0x7f)
			buf_printf(b, "\\x%02x", *p);
		else
			buf_append_char(b, (char)*p);
	}
	buf_append_char(b, '"');
}
