/* buf.h - growable byte buffer with a hard maximum (after curl's dynbuf).
 *
 * The buffer is always NUL-terminated (data[len] == 0) once anything was
 * appended, so it can be handed to C string APIs. Appending past `max` fails
 * with -E2BIG and leaves the content unchanged: sizes decided by input are
 * bounded here, never by the caller's hope. Small internal growth aborts on
 * real out-of-memory (STYLE.md rule 6). */
#ifndef TRACKMAIL_BUF_H
#define TRACKMAIL_BUF_H

#include <stdarg.h>
#include <stddef.h>
#include <string.h>

struct buf {
	char *data; /* owned; NULL until the first append */
	size_t len;
	size_t cap;
	size_t max; /* hard limit on len */
};

void buf_init(struct buf *b, size_t max);
/* Frees the storage and resets to an empty buffer with the same max. */
void buf_free(struct buf *b);
void buf_reset(struct buf *b); /* len = 0, keeps storage */
int buf_append_slow(struct buf *b, const void *data, size_t len);
/* Inline when the bytes fit: the HTML converter and the text cleaner
 * append word by word, and the call was a tenth of their time. */
static inline int buf_append(struct buf *b, const void *data, size_t len)
{
	if (b->cap - b->len > len && b->max - b->len >= len) {
		if (len)
			memcpy(b->data + b->len, data, len);
		b->len += len;
		b->data[b->len] = '\0';
		return 0;
	}
	return buf_append_slow(b, data, len);
}
int buf_append_str(struct buf *b, const char *s);
int buf_append_char(struct buf *b, char c);
int buf_printf(struct buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
int buf_vprintf(struct buf *b, const char *fmt, va_list ap)
	__attribute__((format(printf, 2, 0)));
/* Returns the string (never NULL: "" when empty). Still owned by b. */
const char *buf_cstr(const struct buf *b);
/* Hands the storage to the caller (free() it); b becomes empty. Never NULL. */
char *buf_steal(struct buf *b);

#endif
