/* qfile.c - per-account quarantine Maildirs; see qfile.h.
 *
 * Names follow the Maildir convention (time.M<usec>P<pid>Q<seq>R<random>
 * .host), so two processes never pick the same one; flags live after ':'
 * in cur/. Nothing here touches the database except qfile_migrate(),
 * which reads the quarantine rows to learn each old file's account. */
#include "pipeline/qfile.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/log.h"
#include "core/util.h"

static char *account_dir(const char *data_dir, int64_t account_id)
{
	return xasprintf("%s/quarantine/%lld", data_dir,
			 (long long)account_id);
}

static char *maildir_name(void)
{
	static unsigned long seq;
	unsigned char rnd[6];
	if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd))
		memset(rnd, 0, sizeof(rnd));
	char host[64];
	if (gethostname(host, sizeof(host)) < 0)
		snprintf(host, sizeof(host), "localhost");
	host[sizeof(host) - 1] = '\0';
	for (char *h = host; *h; h++)
		if (*h == '/' || *h == ':')
			*h = '_';
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return xasprintf("%lld.M%ldP%ldQ%luR%02x%02x%02x%02x%02x%02x.%s",
			 (long long)ts.tv_sec, ts.tv_nsec / 1000,
			 (long)getpid(), ++seq, rnd[0], rnd[1], rnd[2], rnd[3],
			 rnd[4], rnd[5], host);
}

/* Header values we write must stay one line of printable text. */
static void header_safe(struct buf *b, const char *s)
{
	for (; s && *s && b->len < 900; s++) {
		unsigned char c = (unsigned char)*s;
		buf_append_char(b, c < 0x20 || c == 0x7f ? ' ' : (char)c);
	}
}

static int make_maildir(const char *dir, char **failed_r)
{
	static const char *const sub[] = { "tmp", "new", "cur" };
	for (size_t i = 0; i < 3; i++) {
		char *p = xasprintf("%s/%s", dir, sub[i]);
		int r = util_mkdir_p(p);
		if (r < 0) {
			if (failed_r)
				*failed_r = p;
			else
				free(p);
			return r;
		}
		free(p);
	}
	return 0;
}

int qfile_write(const char *data_dir, int64_t account_id, const char *raw,
		size_t len, const char *reason, const char *detail,
		char **base_r, char **failed_path_r)
{
	*failed_path_r = NULL;
	_cleanup_free_ char *dir = account_dir(data_dir, account_id);
	int r = make_maildir(dir, failed_path_r);
	if (r < 0)
		return r;
	char *name = maildir_name();
	_cleanup_free_ char *tmp = xasprintf("%s/tmp/%s", dir, name);
	_cleanup_free_ char *final = xasprintf("%s/new/%s", dir, name);
	struct buf h;
	buf_init(&h, 4096);
	buf_append_str(&h, "X-Trackmail-Quarantine-Reason: ");
	header_safe(&h, reason);
	buf_append_str(&h, "\r\nX-Trackmail-Quarantine-Detail: ");
	header_safe(&h, detail ? detail : "");
	buf_append_str(&h, "\r\n");
	const struct util_chunk chunks[2] = { { h.data, h.len }, { raw, len } };
	r = util_write_durable(tmp, final, chunks, 2);
	buf_free(&h);
	if (r < 0) {
		*failed_path_r = steal_ptr(&tmp);
		free(name);
		return r;
	}
	*base_r = name;
	return 0;
}

static bool base_ok(const char *base)
{
	return base[0] && base[0] != '.' && !strchr(base, '/') &&
	       !strchr(base, ':');
}

int qfile_path(const char *data_dir, int64_t account_id, const char *base,
	       char **path_r)
{
	if (!base_ok(base))
		return -EINVAL;
	_cleanup_free_ char *dir = account_dir(data_dir, account_id);
	char *p = xasprintf("%s/new/%s", dir, base);
	struct stat st;
	if (stat(p, &st) == 0) {
		*path_r = p;
		return 0;
	}
	free(p);
	_cleanup_free_ char *cur = xasprintf("%s/cur", dir);
	DIR *d = opendir(cur);
	if (!d)
		return -ENOENT;
	size_t n = strlen(base);
	struct dirent *de;
	int r = -ENOENT;
	while ((de = readdir(d))) {
		if (strncmp(de->d_name, base, n) == 0 &&
		    (de->d_name[n] == ':' || de->d_name[n] == '\0')) {
			*path_r = xasprintf("%s/%s", cur, de->d_name);
			r = 0;
			break;
		}
	}
	closedir(d);
	return r;
}

int qfile_flag(const char *data_dir, int64_t account_id, const char *base,
	       const char *flags)
{
	_cleanup_free_ char *from = NULL;
	int r = qfile_path(data_dir, account_id, base, &from);
	if (r < 0)
		return r;
	_cleanup_free_ char *dir = account_dir(data_dir, account_id);
	_cleanup_free_ char *to = xasprintf("%s/cur/%s:2,%s", dir, base, flags);
	if (strcmp(from, to) != 0 && rename(from, to) < 0)
		return -errno;
	_cleanup_free_ char *cur = xasprintf("%s/cur", dir);
	return util_fsync_dir(cur);
}

void qfile_remove(const char *data_dir, int64_t account_id, const char *base)
{
	_cleanup_free_ char *path = NULL;
	if (qfile_path(data_dir, account_id, base, &path) == 0)
		unlink(path);
}

size_t qfile_skip_headers(const char *raw, size_t len)
{
	static const char prefix[] = "X-Trackmail-Quarantine-";
	size_t off = 0;
	while (len - off > sizeof(prefix) &&
	       strncasecmp(raw + off, prefix, sizeof(prefix) - 1) == 0) {
		const char *nl = memchr(raw + off, '\n', len - off);
		if (!nl)
			break;
		off = (size_t)(nl - raw) + 1;
	}
	return off;
}

struct owners {
	char **base;
	int64_t *account;
	size_t n;
};

static void collect_owner(const struct store_quarantine *q, void *vctx)
{
	struct owners *o = vctx;
	o->base = xrealloc(o->base, (o->n + 1) * sizeof(*o->base));
	o->account = xrealloc(o->account, (o->n + 1) * sizeof(*o->account));
	o->base[o->n] = xstrdup(q->path);
	o->account[o->n] = q->account_id;
	o->n++;
}

static int migrate_sub(const char *data_dir, const char *sub,
		       const struct owners *o)
{
	_cleanup_free_ char *old = xasprintf("%s/quarantine/%s", data_dir, sub);
	DIR *d = opendir(old);
	if (!d)
		return 0;
	int r = 0;
	struct dirent *de;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		size_t n = strcspn(de->d_name, ":");
		size_t k = 0;
		while (k < o->n && (strlen(o->base[k]) != n ||
				    strncmp(o->base[k], de->d_name, n) != 0))
			k++;
		if (k == o->n) {
			struct buf b;
			buf_init(&b, 4096);
			log_escape(&b, de->d_name);
			log_msg(LOG_WARN, "event=quarantine-migrate "
				"file=%s/%s note=\"no row names it, left in "
				"place\"", sub, buf_cstr(&b));
			buf_free(&b);
			continue;
		}
		_cleanup_free_ char *dir = account_dir(data_dir, o->account[k]);
		_cleanup_free_ char *failed = NULL;
		r = make_maildir(dir, &failed);
		if (r < 0)
			break;
		_cleanup_free_ char *from = xasprintf("%s/%s", old, de->d_name);
		_cleanup_free_ char *to = xasprintf("%s/%s/%s", dir, sub,
						    de->d_name);
		if (rename(from, to) < 0) {
			if (errno == ENOENT)
				continue; /* another process moved it */
			r = -errno;
			break;
		}
		_cleanup_free_ char *todir = xasprintf("%s/%s", dir, sub);
		util_fsync_dir(todir);
	}
	closedir(d);
	if (r == 0)
		rmdir(old); /* only when empty */
	return r;
}

int qfile_migrate(const char *data_dir, struct store *store)
{
	_cleanup_free_ char *newdir = xasprintf("%s/quarantine/new", data_dir);
	_cleanup_free_ char *curdir = xasprintf("%s/quarantine/cur", data_dir);
	struct stat st;
	if (stat(newdir, &st) < 0 && stat(curdir, &st) < 0)
		return 0;
	struct owners o = { 0 };
	int r = store_quarantine_each(store, NULL, collect_owner, &o);
	if (r == 0)
		r = migrate_sub(data_dir, "new", &o);
	if (r == 0)
		r = migrate_sub(data_dir, "cur", &o);
	if (r == 0) {
		_cleanup_free_ char *tmpdir =
			xasprintf("%s/quarantine/tmp", data_dir);
		rmdir(tmpdir);
	}
	for (size_t i = 0; i < o.n; i++)
		free(o.base[i]);
	free(o.base);
	free(o.account);
	return r;
}
