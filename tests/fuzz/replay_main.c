/* replay_main.c - runs a libFuzzer target over files and directories
 * without libFuzzer (gcc builds, `meson test --suite fuzz`): every corpus
 * entry and every former crash input is replayed as a regression test. */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int replay_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	if (f == NULL) {
		perror(path);
		return -1;
	}
	size_t cap = 4096, len = 0;
	uint8_t *buf = malloc(cap);
	size_t n;
	while (buf && (n = fread(buf + len, 1, cap - len, f)) > 0) {
		len += n;
		if (len == cap) {
			uint8_t *nb = realloc(buf, cap * 2);
			if (nb == NULL)
				break;
			buf = nb;
			cap *= 2;
		}
	}
	fclose(f);
	if (buf == NULL)
		return -1;
	/* An exact-size copy, as libFuzzer passes it. */
	uint8_t *exact = malloc(len ? len : 1);
	if (exact == NULL) {
		free(buf);
		return -1;
	}
	memcpy(exact, buf, len);
	free(buf);
	LLVMFuzzerTestOneInput(exact, len);
	free(exact);
	return 0;
}

static int replay(const char *path, int *count)
{
	struct stat st;
	if (stat(path, &st) < 0) {
		perror(path);
		return -1;
	}
	if (!S_ISDIR(st.st_mode)) {
		(*count)++;
		return replay_file(path);
	}
	DIR *d = opendir(path);
	if (d == NULL)
		return -1;
	struct dirent *e;
	int r = 0;
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		size_t l = strlen(path) + strlen(e->d_name) + 2;
		char *p = malloc(l);
		if (p == NULL)
			break;
		snprintf(p, l, "%s/%s", path, e->d_name);
		if (replay(p, count) < 0)
			r = -1;
		free(p);
	}
	closedir(d);
	return r;
}

/* An argument starting with '?' is optional: ../shared/fixtures-upstream
 * may be absent, and then that part is skipped, loudly. */
int main(int argc, char **argv)
{
	int count = 0, r = 0;
	for (int i = 1; i < argc; i++) {
		const char *path = argv[i];
		if (path[0] == '?') {
			struct stat st;
			path++;
			if (stat(path, &st) < 0) {
				printf("SKIPPED (absent): %s\n", path);
				continue;
			}
		}
		if (replay(path, &count) < 0)
			r = 1;
	}
	printf("replayed %d inputs\n", count);
	return r;
}
