/* util.c - allocation, files and small string helpers; see util.h. */
#include "core/util.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <gnutls/crypto.h>
#include <limits.h>
#include <stdarg.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/buf.h"

static void __attribute__((noreturn)) oom(void)
{
	static const char msg[] = "trackmail: out of memory\n";
	if (write(2, msg, sizeof(msg) - 1) < 0) {
		/* nothing left to do */
	}
	abort();
}

void *xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);
	if (!p)
		oom();
	return p;
}

void *xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);
	if (!p)
		oom();
	return p;
}

void *xrealloc(void *p, size_t n)
{
	p = realloc(p, n ? n : 1);
	if (!p)
		oom();
	return p;
}

char *xstrdup(const char *s)
{
	char *p = strdup(s);
	if (!p)
		oom();
	return p;
}

char *xstrndup(const char *s, size_t n)
{
	char *p = strndup(s, n);
	if (!p)
		oom();
	return p;
}

char *xasprintf(const char *fmt, ...)
{
	va_list ap;
	char *p;
	va_start(ap, fmt);
	int n = vasprintf(&p, fmt, ap);
	va_end(ap);
	if (n < 0)
		oom();
	return p;
}

int util_read_file(const char *path, size_t max, char **data_r, size_t *len_r)
{
	enum { PAD = 16 };
	int fd;
	bool is_stdin = strcmp(path, "-") == 0;

	if (is_stdin) {
		fd = 0;
	} else {
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			return -errno;
	}
	struct stat st;
	if (fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
		if (!is_stdin)
			close(fd);
		return -EISDIR;
	}
	if (S_ISREG(st.st_mode) && (size_t)st.st_size > max) {
		if (!is_stdin)
			close(fd);
		return -EFBIG;
	}
	size_t cap = S_ISREG(st.st_mode) ? (size_t)st.st_size + PAD + 1 : 65536;
	char *data = xmalloc(cap);
	size_t len = 0;
	int r = 0;
	for (;;) {
		if (cap - len < PAD + 1 + 4096) {
			cap *= 2;
			data = xrealloc(data, cap);
		}
		ssize_t n = read(fd, data + len, cap - len - PAD - 1);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			r = -errno;
			break;
		}
		if (n == 0)
			break;
		len += (size_t)n;
		if (len > max) {
			r = -EFBIG;
			break;
		}
	}
	if (!is_stdin)
		close(fd);
	if (r < 0) {
		free(data);
		return r;
	}
	memset(data + len, 0, PAD + 1);
	*data_r = data;
	*len_r = len;
	return 0;
}

int util_fsync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	int r = fsync(fd) < 0 ? -errno : 0;
	close(fd);
	return r;
}

int util_write_all(int fd, const void *data, size_t len)
{
	const char *p = data;
	while (len) {
		ssize_t n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return -EIO;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int util_write_durable(const char *tmp, const char *path,
		       const struct util_chunk *chunks, size_t n_chunks)
{
	int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	int r = 0;
	for (size_t i = 0; i < n_chunks && r == 0; i++)
		r = util_write_all(fd, chunks[i].data, chunks[i].len);
	if (r == 0 && fsync(fd) < 0)
		r = -errno;
	if (close(fd) < 0 && r == 0)
		r = -errno;
	if (r == 0 && rename(tmp, path) < 0)
		r = -errno;
	if (r < 0) {
		unlink(tmp);
		return r;
	}
	/* The rename is durable once the directory holding path is. */
	_cleanup_free_ char *dir = xstrdup(path);
	char *slash = strrchr(dir, '/');
	if (slash == dir)
		slash[1] = '\0';
	else if (slash)
		*slash = '\0';
	return util_fsync_dir(slash ? dir : ".");
}

int util_write_file_durable(const char *path, const void *data, size_t len)
{
	_cleanup_free_ char *tmp = xasprintf("%s.tmp.%ld", path, (long)getpid());
	unlink(tmp); /* a leftover of a crashed run with the same pid */
	struct util_chunk chunk = { data, len };
	return util_write_durable(tmp, path, &chunk, 1);
}

int util_mkdir_p(const char *path)
{
	_cleanup_free_ char *p = xstrdup(path);
	for (char *s = p + 1; *s; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		if (mkdir(p, 0700) < 0 && errno != EEXIST)
			return -errno;
		*s = '/';
	}
	if (mkdir(p, 0700) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

void util_sha256_hex(const void *data, size_t len, char out[65])
{
	unsigned char digest[32];
	static const char hex[] = "0123456789abcdef";
	gnutls_hash_fast(GNUTLS_DIG_SHA256, data, len, digest);
	for (int i = 0; i < 32; i++) {
		out[2 * i] = hex[digest[i] >> 4];
		out[2 * i + 1] = hex[digest[i] & 15];
	}
	out[64] = '\0';
}

const char *util_memcasemem(const char *hay, size_t len, const char *needle)
{
	size_t n = strlen(needle);
	if (n == 0)
		return hay;
	if (n > len)
		return NULL;
	int first = tolower((unsigned char)needle[0]);
	for (size_t i = 0; i + n <= len; i++) {
		if (tolower((unsigned char)hay[i]) != first)
			continue;
		if (strncasecmp(hay + i, needle, n) == 0)
			return hay + i;
	}
	return NULL;
}

int util_parse_long(const char *s, long min, long max, long *out)
{
	if (!s || !*s)
		return -EINVAL;
	char *end;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (errno || *end || v < min || v > max)
		return -ERANGE;
	*out = v;
	return 0;
}
