/* test_spool.c - the durable spool on a real directory: a delivered
 * message is in new/ with its envelope line and the client's bytes intact;
 * concurrent submissions on a libevent loop are all durable before their
 * callback, share directory fsyncs (group commit: fewer batches than
 * messages while the writer is busy) and keep every file's bytes intact
 * when a batch's files are synced together, and a failure reports -errno with
 * nothing left in new/; a taken message is locked against a second worker
 * and archived under archive/<day>/; stale tmp/ files are removed;
 * archive days older than archive_days are pruned. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/util.h"
#include "intake/spool.h"

static char *make_dir(void)
{
	char *dir = xstrdup("/tmp/tm-spool-XXXXXX");
	assert_non_null(mkdtemp(dir));
	return dir;
}

static void rm_rf(const char *dir)
{
	_cleanup_free_ char *cmd = xasprintf("rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
}

static size_t count_files(const char *dir)
{
	DIR *d = opendir(dir);
	assert_non_null(d);
	size_t n = 0;
	struct dirent *de;
	while ((de = readdir(d)))
		if (de->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

static const char sample[] = "From: a@example.com\r\nSubject: x\r\n\r\nbody\r\n";

static void deliver_and_read(void **state)
{
	_cleanup_free_ char *dir = make_dir();
	struct spool *s = NULL;
	char err[256];
	assert_int_equal(spool_open(&s, dir, err, sizeof(err)), 0);
	struct spool_envelope env = { .account_id = 7,
				      .source = SPOOL_SOURCE_LMTP,
				      .mail_from = "bad\r\nInjected: yes",
				      .rcpt_to = "t-abc@example.org",
				      .peer = "127.0.0.1" };
	char id[256];
	assert_int_equal(spool_deliver(s, &env, sample, strlen(sample), id,
				       sizeof(id), err, sizeof(err)),
			 0);
	assert_int_equal(count_files(spool_dir(s, "new")), 1);
	assert_int_equal(count_files(spool_dir(s, "tmp")), 0);

	struct spool_message m;
	assert_int_equal(spool_take(s, id, &m, err, sizeof(err)), 1);
	assert_int_equal(m.account_id, 7);
	assert_int_equal(m.source, SPOOL_SOURCE_LMTP);
	assert_string_equal(m.rcpt_to, "t-abc@example.org");
	/* the client's CR LF cannot start a line of its own */
	assert_null(strchr(m.mail_from, '\n'));
	assert_int_equal(m.raw_len, strlen(sample));
	assert_memory_equal(m.raw, sample, m.raw_len);

	/* a second worker cannot take it while the first holds it */
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct spool *s2 = NULL;
		struct spool_message m2;
		if (spool_open(&s2, dir, err, sizeof(err)) < 0)
			_exit(2);
		_exit(spool_take(s2, id, &m2, err, sizeof(err)) == 0 ? 0 : 1);
	}
	int status;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_int_equal(WEXITSTATUS(status), 0);

	assert_int_equal(spool_archive(s, &m, err, sizeof(err)), 0);
	assert_int_equal(count_files(spool_dir(s, "new")), 0);
	size_t n;
	long age;
	assert_int_equal(spool_depth(s, &n, &age), 0);
	assert_int_equal(n, 0);
	_cleanup_free_ char *archive = xasprintf("%s/archive", dir);
	assert_int_equal(count_files(archive), 1);
	spool_closep(&s);
	assert_null(s);
	rm_rf(dir);
}

struct counter {
	int ok, failed, expected;
	struct event_base *base;
	struct spool *spool;
};

static void on_done(void *arg, int status, const char *id)
{
	struct counter *c = arg;
	if (status == 0) {
		/* durable means: in new/ when we are told */
		_cleanup_free_ char *path =
			xasprintf("%s/%s", spool_dir(c->spool, "new"), id);
		struct stat st;
		assert_int_equal(stat(path, &st), 0);
		c->ok++;
	} else {
		c->failed++;
	}
	if (c->ok + c->failed == c->expected)
		event_base_loopbreak(c->base);
}

static void group_commit(void **state)
{
	_cleanup_free_ char *dir = make_dir();
	struct spool *s = NULL;
	char err[256];
	assert_int_equal(spool_open(&s, dir, err, sizeof(err)), 0);
	struct event_base *base = event_base_new();
	assert_int_equal(spool_attach(s, base), 0);
	struct counter c = { .expected = 500, .base = base, .spool = s };
	struct spool_envelope env = { .account_id = 1,
				      .source = SPOOL_SOURCE_SMTP };
	for (int i = 0; i < c.expected; i++) {
		char msg[128];
		int len = snprintf(msg, sizeof(msg),
				   "Subject: %d\r\n\r\nmessage %d\r\n", i, i);
		spool_submit(s, &env, msg, (size_t)len, on_done, &c);
	}
	event_base_dispatch(base);
	assert_int_equal(c.ok, c.expected);
	assert_int_equal(c.failed, 0);
	assert_int_equal(count_files(spool_dir(s, "new")), 500);
	assert_int_equal(count_files(spool_dir(s, "tmp")), 0);
	/* every submission had its own name */
	char **names;
	size_t n;
	assert_int_equal(spool_list_new(s, &names, &n), 0);
	assert_int_equal(n, 500);
	for (size_t i = 1; i < n; i++)
		assert_string_not_equal(names[i - 1], names[i]);
	spool_names_free(names, n);
	/* the batches: fewer directory fsyncs than messages */
	unsigned batches = spool_batches(s);
	assert_true(batches >= 1);
	assert_true(batches < 500);
	spool_closep(&s);
	event_base_free(base);
	rm_rf(dir);
}

/* Builds message i: a Subject with i, then i*997 % 300000 bytes of body
 * derived from i (so a mixed-up or short file shows). */
static char *batch_message(int i, size_t *len)
{
	size_t body = (size_t)i * 997 % 300000;
	char *m = xmalloc(body + 64);
	int h = snprintf(m, 64, "Subject: %d\r\n\r\n", i);
	for (size_t k = 0; k < body; k++)
		m[h + k] = (char)('a' + (k + (size_t)i) % 26);
	*len = (size_t)h + body;
	return m;
}

/* The files of a batch are synced together from several threads: every
 * file in new/ still holds exactly the bytes submitted for it. */
static void batch_files_intact(void **state)
{
	_cleanup_free_ char *dir = make_dir();
	struct spool *s = NULL;
	char err[256];
	assert_int_equal(spool_open(&s, dir, err, sizeof(err)), 0);
	struct event_base *base = event_base_new();
	assert_int_equal(spool_attach(s, base), 0);
	struct counter c = { .expected = 64, .base = base, .spool = s };
	struct spool_envelope env = { .account_id = 3,
				      .source = SPOOL_SOURCE_SMTP };
	for (int i = 0; i < c.expected; i++) {
		size_t len;
		_cleanup_free_ char *msg = batch_message(i, &len);
		spool_submit(s, &env, msg, len, on_done, &c);
	}
	event_base_dispatch(base);
	assert_int_equal(c.ok, c.expected);
	assert_int_equal(count_files(spool_dir(s, "tmp")), 0);
	char **names;
	size_t n;
	assert_int_equal(spool_list_new(s, &names, &n), 0);
	assert_int_equal(n, 64);
	bool seen[64] = { false };
	for (size_t f = 0; f < n; f++) {
		_cleanup_free_ char *path =
			xasprintf("%s/%s", spool_dir(s, "new"), names[f]);
		char *data;
		size_t dlen;
		assert_int_equal(util_read_file(path, 1 << 20, &data, &dlen), 0);
		struct spool_message m;
		assert_int_equal(spool_parse(data, dlen, &m), 0);
		assert_int_equal(m.account_id, 3);
		int i = (int)strtol(m.raw + strlen("Subject: "), NULL, 10);
		assert_true(i >= 0 && i < 64);
		assert_false(seen[i]);
		seen[i] = true;
		size_t len;
		_cleanup_free_ char *want = batch_message(i, &len);
		assert_int_equal(m.raw_len, len);
		assert_memory_equal(m.raw, want, len);
		free(data);
	}
	spool_names_free(names, n);
	spool_closep(&s);
	event_base_free(base);
	rm_rf(dir);
}

static void failure_reported(void **state)
{
	if (geteuid() == 0)
		skip(); /* root writes into a read-only directory */
	_cleanup_free_ char *dir = make_dir();
	struct spool *s = NULL;
	char err[256];
	assert_int_equal(spool_open(&s, dir, err, sizeof(err)), 0);
	assert_int_equal(chmod(spool_dir(s, "tmp"), 0500), 0);
	struct spool_envelope env = { .account_id = 1 };
	int r = spool_deliver(s, &env, sample, strlen(sample), NULL, 0, err,
			      sizeof(err));
	assert_int_equal(r, -EACCES);
	assert_non_null(strstr(err, "spool"));
	assert_int_equal(count_files(spool_dir(s, "new")), 0);
	chmod(spool_dir(s, "tmp"), 0700);
	spool_closep(&s);
	rm_rf(dir);
}

static void close_with_pending_fails_nothing(void **state)
{
	_cleanup_free_ char *dir = make_dir();
	struct spool *s = NULL;
	char err[256];
	assert_int_equal(spool_open(&s, dir, err, sizeof(err)), 0);
	struct event_base *base = event_base_new();
	assert_int_equal(spool_attach(s, base), 0);
	struct counter c = { .expected = 50, .base = base, .spool = s };
	struct spool_envelope env = { .account_id = 1 };
	for (int i = 0; i < c.expected; i++)
		spool_submit(s, &env, sample, strlen(sample), on_done, &c);
	/* closing runs every callback: all written, none lost */
	spool_close(s);
	assert_int_equal(c.ok, 50);
	event_base_free(base);
	rm_rf(dir);
}

static void stale_tmp_removed(void **state)
{
	_cleanup_free_ char *dir = make_dir();
	struct spool *s = NULL;
	char err[256];
	assert_int_equal(spool_open(&s, dir, err, sizeof(err)), 0);
	/* a writer that is gone (pid 0 is never a process of ours), and
	 * one of this live process */
	_cleanup_free_ char *dead = xasprintf("%s/1.M000001P999999999Q1.h",
					      spool_dir(s, "tmp"));
	_cleanup_free_ char *live = xasprintf("%s/1.M000001P%ldQ1.h",
					      spool_dir(s, "tmp"),
					      (long)getpid());
	int fd = open(dead, O_WRONLY | O_CREAT, 0600);
	close(fd);
	fd = open(live, O_WRONLY | O_CREAT, 0600);
	close(fd);
	assert_int_equal(spool_remove_stale_tmp(s), 1);
	assert_int_equal(count_files(spool_dir(s, "tmp")), 1);
	spool_closep(&s);
	rm_rf(dir);
}

static void archive_pruned_by_age(void **state)
{
	_cleanup_free_ char *dir = make_dir();
	char day[16];
	time_t now = time(NULL);
	struct tm tm;
	gmtime_r(&now, &tm);
	strftime(day, sizeof(day), "%Y-%m-%d", &tm);
	_cleanup_free_ char *old = xasprintf("%s/archive/2000-01-01", dir);
	_cleanup_free_ char *today = xasprintf("%s/archive/%s", dir, day);
	assert_int_equal(util_mkdir_p(old), 0);
	assert_int_equal(util_mkdir_p(today), 0);
	_cleanup_free_ char *f = xasprintf("%s/1.M1P1Q1.h", old);
	int fd = open(f, O_WRONLY | O_CREAT, 0600);
	close(fd);
	/* 0 keeps everything */
	assert_int_equal(spool_archive_prune(dir, 0), 0);
	assert_int_equal(access(old, F_OK), 0);
	assert_int_equal(spool_archive_prune(dir, 180), 1);
	assert_int_not_equal(access(old, F_OK), 0);
	assert_int_equal(access(today, F_OK), 0);
	rm_rf(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(deliver_and_read),
		cmocka_unit_test(group_commit),
		cmocka_unit_test(batch_files_intact),
		cmocka_unit_test(failure_reported),
		cmocka_unit_test(close_with_pending_fails_nothing),
		cmocka_unit_test(stale_tmp_removed),
		cmocka_unit_test(archive_pruned_by_age),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
