/* util.h - allocation that aborts on real OOM, cleanup helpers, files.
 *
 * xmalloc and friends are for small internal allocations only; anything
 * whose size the input decides goes through struct buf with a max. */
#ifndef TRACKMAIL_UTIL_H
#define TRACKMAIL_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>

/* Never NULL: a real out-of-memory aborts. */
void *xmalloc(size_t n) __attribute__((returns_nonnull));
void *xcalloc(size_t n, size_t size) __attribute__((returns_nonnull));
void *xrealloc(void *p, size_t n) __attribute__((returns_nonnull));
char *xstrdup(const char *s) __attribute__((returns_nonnull));
char *xstrndup(const char *s, size_t n) __attribute__((returns_nonnull));
char *xasprintf(const char *fmt, ...)
	__attribute__((format(printf, 1, 2), returns_nonnull));

/* Returns *pp and sets *pp to NULL: hands ownership on. */
static inline void *steal_ptr_impl(void **pp)
{
	void *p = *pp;
	*pp = NULL;
	return p;
}
#define steal_ptr(pp) steal_ptr_impl((void **)(pp))

static inline void freep(void *p)
{
	free(*(void **)p);
}
static inline void fclosep(FILE **f)
{
	if (*f)
		fclose(*f);
}
#define _cleanup_free_ __attribute__((cleanup(freep)))
#define _cleanup_fclose_ __attribute__((cleanup(fclosep)))

/* Reads a whole file (or stdin for "-") into a NUL-terminated malloc'ed
 * buffer with 16 zero bytes of padding after the data (libetpan's QP decoder
 * reads one byte past a part, LIBRARIES.md 2.6). Fails with -EFBIG past max
 * bytes, -EISDIR for a directory, or -errno. */
int util_read_file(const char *path, size_t max, char **data_r, size_t *len_r);

/* Writes all of data to fd, retrying short writes and EINTR. Returns 0
 * or -errno. */
int util_write_all(int fd, const void *data, size_t len);

/* Writes the chunks to tmp (created, must not exist), fsyncs it, renames
 * it to path and fsyncs path's directory: path then holds all of it or
 * does not exist, also after a crash (Maildir delivery: tmp/ then new/).
 * Returns 0 or -errno; tmp is removed on failure. */
struct util_chunk {
	const void *data;
	size_t len;
};
int util_write_durable(const char *tmp, const char *path,
		       const struct util_chunk *chunks, size_t n_chunks);

/* util_write_durable() of one buffer, through a temporary file beside
 * path. */
int util_write_file_durable(const char *path, const void *data, size_t len);
int util_fsync_dir(const char *dir);
/* mkdir -p with mode 0700 for created components. */
int util_mkdir_p(const char *path);

/* Lower-case hex SHA-256 of data into out[65]. */
void util_sha256_hex(const void *data, size_t len, char out[65]);

/* Case-insensitive search for needle in the first len bytes of hay. */
const char *util_memcasemem(const char *hay, size_t len, const char *needle);

/* Strict decimal parse of a whole string into a long within [min, max]. */
int util_parse_long(const char *s, long min, long max, long *out);

#endif
