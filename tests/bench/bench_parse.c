/* bench_parse.c - full parse throughput: decode + supplier selection +
 * extraction + carrier validation, one core, over a corpus built from the
 * fixture mails, with the real parser directory and with 5, 20 and 100
 * parser files (the extra ones are copies of real parsers under other ids
 * and sender keywords, so picking a parser has more to choose from but the
 * mail is the same).
 *
 * usage: bench_parse SOURCE_ROOT [SECONDS_PER_RUN [MAIL_DIR]]
 * MAIL_DIR (default SOURCE_ROOT/fixtures/emails) may be e.g.
 * ../shared/fixtures-upstream/emails for real, HTML-heavy mail.
 * Prints messages/s and MB/s per configuration. A benchmark, not a test:
 * it never fails on a figure.
 *
 * usage: bench_parse --corpus DIR SOURCE_ROOT [SECONDS]
 * One configuration (the real parsers) over every .eml under DIR, loaded
 * into memory first, repeated until SECONDS (default 5) of CPU time;
 * start-up and loading are not timed. Prints mails/s, MB/s, CPU seconds
 * (one core) and the process's peak RSS, also without the corpus it
 * holds in memory (what parsing needs; tests/bench/run_bench.sh). */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/limits.h"
#include "core/util.h"
#include "mail/mail.h"
#include "parse/parser.h"

struct corpus {
	char **data;
	size_t *len;
	size_t n;
	size_t bytes;
};

static void corpus_add_dir(struct corpus *c, const char *dir)
{
	DIR *d = opendir(dir);
	if (!d)
		return;
	struct dirent *de;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		char *path = xasprintf("%s/%s", dir, de->d_name);
		struct stat st;
		if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
			corpus_add_dir(c, path);
		} else if (strstr(de->d_name, ".eml")) {
			char *data;
			size_t len;
			if (util_read_file(path, LIMIT_MESSAGE_SIZE, &data,
					   &len) == 0) {
				c->data = xrealloc(c->data,
						   (c->n + 1) * sizeof(char *));
				c->len = xrealloc(c->len,
						  (c->n + 1) * sizeof(size_t));
				c->data[c->n] = data;
				c->len[c->n] = len;
				c->bytes += len;
				c->n++;
			}
		}
		free(path);
	}
	closedir(d);
}

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Copies the real parser files into dir, then adds synthetic parsers
 * (real files with their id and keywords renamed) up to `total`. */
static int make_parser_dir(const char *src, const char *dir, size_t total,
			   size_t *real_r)
{
	DIR *d = opendir(src);
	if (!d)
		return -errno;
	char **files = NULL;
	size_t n = 0;
	struct dirent *de;
	while ((de = readdir(d))) {
		if (strstr(de->d_name, ".yaml")) {
			files = xrealloc(files, (n + 1) * sizeof(char *));
			files[n++] = xasprintf("%s/%s", src, de->d_name);
		}
	}
	closedir(d);
	size_t made = 0;
	for (size_t i = 0; i < n && made < total; i++, made++) {
		char *cmd = xasprintf("cp '%s' '%s/'", files[i], dir);
		if (system(cmd) != 0)
			return -EIO;
		free(cmd);
	}
	*real_r = made;
	for (size_t k = 0; made < total; k++, made++) {
		char *cmd = xasprintf(
			"sed -e 's/^id: .*/id: synth%zu/' "
			"-e 's/keywords: \\[.*\\]/keywords: [synth%zu]/' "
			"'%s' > '%s/synth%zu.yaml'",
			k, k, files[k % n], dir, k);
		if (system(cmd) != 0)
			return -EIO;
		free(cmd);
	}
	for (size_t i = 0; i < n; i++)
		free(files[i]);
	free(files);
	return 0;
}

static void run(const char *label, const char *parsers_dir,
		const struct corpus *c, double seconds)
{
	struct parser_set *set = NULL;
	struct buf errors;
	buf_init(&errors, 1 << 20);
	if (parser_set_load_dir(parsers_dir, &set, &errors) < 0) {
		fprintf(stderr, "cannot load %s\n", parsers_dir);
		return;
	}
	struct parser_matcher *m = parser_matcher_new();
	size_t done = 0, bytes = 0, shipped = 0;
	double start = now(), elapsed = 0;
	while (elapsed < seconds) {
		for (size_t i = 0; i < c->n; i++) {
			struct decoded_message *msg = NULL;
			const char *reason;
			struct parse_result r;
			parse_result_init(&r);
			if (mail_decode(c->data[i], c->len[i], &msg, &reason) ==
			    0)
				parser_run(set, m, msg, false, &r);
			shipped += r.outcome == OUTCOME_SHIPPED;
			parse_result_clear(&r);
			mail_free(&msg);
			bytes += c->len[i];
		}
		done += c->n;
		elapsed = now() - start;
	}
	printf("%-28s parsers=%3zu  %8.0f messages/s  %6.1f MB/s  "
	       "(%zu messages, %.1f s, %zu shipped)\n",
	       label, parser_set_count(set), (double)done / elapsed,
	       (double)bytes / elapsed / 1e6, done, elapsed, shipped);
	parser_matcher_free(&m);
	parser_set_free(&set);
	buf_free(&errors);
}

static double cpu_seconds(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
	       (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

/* --corpus DIR SOURCE_ROOT [SECONDS]: one machine-readable line. */
static int corpus_mode(const char *dir, const char *root, double seconds)
{
	struct corpus c = { 0 };
	corpus_add_dir(&c, dir);
	if (c.n == 0) {
		fprintf(stderr, "bench_parse: no .eml under %s\n", dir);
		return 1;
	}
	char *parsers = xasprintf("%s/parsers", root);
	struct parser_set *set = NULL;
	struct buf errors;
	buf_init(&errors, 1 << 20);
	if (parser_set_load_dir(parsers, &set, &errors) < 0) {
		fprintf(stderr, "bench_parse: cannot load %s\n", parsers);
		return 1;
	}
	struct parser_matcher *m = parser_matcher_new();
	size_t done = 0, bytes = 0, shipped = 0;
	/* Runs for SECONDS of CPU time, not wall time: on a shared machine
	 * the wall clock mostly measures waiting for a core. */
	double cpu0 = cpu_seconds(), start = now(), cpu = 0;
	while (cpu < seconds) {
		for (size_t i = 0; i < c.n; i++) {
			struct decoded_message *msg = NULL;
			const char *reason;
			struct parse_result r;
			parse_result_init(&r);
			if (mail_decode(c.data[i], c.len[i], &msg, &reason) ==
			    0)
				parser_run(set, m, msg, false, &r);
			shipped += r.outcome == OUTCOME_SHIPPED;
			parse_result_clear(&r);
			mail_free(&msg);
			bytes += c.len[i];
		}
		done += c.n;
		cpu = cpu_seconds() - cpu0;
	}
	double elapsed = now() - start;
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	printf("corpus=%s mails=%zu mean_kb=%.1f  %.0f mails/s  %.1f MB/s  "
	       "cpu=%.2fs wall=%.2fs passes=%zu shipped/pass=%zu "
	       "peak_rss=%.1fMB corpus=%.1fMB "
	       "peak_rss_without_corpus=%.1fMB\n",
	       dir, c.n, (double)c.bytes / (double)c.n / 1024,
	       (double)done / cpu, (double)bytes / cpu / 1e6, cpu, elapsed,
	       done / c.n, shipped / (done / c.n),
	       (double)ru.ru_maxrss / 1024, (double)c.bytes / 1048576,
	       ((double)ru.ru_maxrss * 1024 - (double)c.bytes) / 1048576);
	parser_matcher_free(&m);
	parser_set_free(&set);
	buf_free(&errors);
	free(parsers);
	for (size_t i = 0; i < c.n; i++)
		free(c.data[i]);
	free(c.data);
	free(c.len);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc >= 4 && strcmp(argv[1], "--corpus") == 0)
		return corpus_mode(argv[2], argv[3],
				   argc > 4 ? strtod(argv[4], NULL) : 5.0);
	if (argc < 2) {
		fprintf(stderr, "usage: bench_parse SOURCE_ROOT [SECONDS]\n");
		return 2;
	}
	double seconds = argc > 2 ? strtod(argv[2], NULL) : 3.0;
	struct corpus c = { 0 };
	char *fixtures = argc > 3 ? xstrdup(argv[3])
				  : xasprintf("%s/fixtures/emails", argv[1]);
	corpus_add_dir(&c, fixtures);
	free(fixtures);
	if (c.n == 0) {
		fprintf(stderr, "no fixture mails found\n");
		return 1;
	}
	printf("corpus: %zu messages, %.1f KB average; one core\n",
	       c.n, (double)c.bytes / (double)c.n / 1024);
	char *parsers = xasprintf("%s/parsers", argv[1]);
	run("all real parsers", parsers, &c, seconds);
	static const size_t sizes[] = { 5, 20, 100 };
	for (size_t i = 0; i < 3; i++) {
		char dir[] = "/tmp/tm-bench-XXXXXX";
		if (!mkdtemp(dir))
			return 1;
		size_t real = 0;
		if (make_parser_dir(parsers, dir, sizes[i], &real) == 0) {
			char label[64];
			snprintf(label, sizeof(label), "%zu files (%zu real)",
				 sizes[i], real);
			run(label, dir, &c, seconds);
		}
		char *cmd = xasprintf("rm -rf '%s'", dir);
		if (system(cmd) != 0)
			fprintf(stderr, "cannot remove %s\n", dir);
		free(cmd);
	}
	free(parsers);
	for (size_t i = 0; i < c.n; i++)
		free(c.data[i]);
	free(c.data);
	free(c.len);
	return 0;
}
