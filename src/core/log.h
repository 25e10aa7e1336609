/* log.h - one line per event, key=value, untrusted bytes escaped.
 *
 * The log sink is one of the two allowed globals (STYLE.md). Lines go to
 * stderr: "trackmail: level=warn event=... key=value". Values passed through
 * log_kv() are quoted and escaped so a hostile Subject cannot forge a line. */
#ifndef TRACKMAIL_LOG_H
#define TRACKMAIL_LOG_H

#include <stdbool.h>

#include "core/buf.h"

enum log_level { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR };

void log_set_level(enum log_level level);
/* fmt must produce key=value pairs; use log_escape for untrusted values. */
void log_msg(enum log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Appends value to b, quoted, escaped like terminal output (core/term.h:
 * C0/C1/bidi controls, invalid UTF-8, backslash) plus the quote, cut at
 * 200 bytes. */
void log_escape(struct buf *b, const char *value);

#endif
