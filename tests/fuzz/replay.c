/* replay: run a libFuzzer harness once per file, for gcc builds and CI.
 *
 * Arguments are files or directories (every regular file in them, in name
 * order). Each input is handed to LLVMFuzzerTestOneInput from an exactly
 * sized heap buffer, as libFuzzer does, so sanitizers see overreads. A
 * crash or abort() is the failure; an unreadable argument exits 1. */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int run_file(const char *path, unsigned *count)
{
	FILE *f = fopen(path, "rb");
	struct stat st;
	uint8_t *buf;
	size_t n;

	if (!f || fstat(fileno(f), &st) < 0) {
		perror(path);
		if (f)
			fclose(f);
		return -1;
	}
	buf = malloc(st.st_size ? (size_t)st.st_size : 1);
	n = fread(buf, 1, (size_t)st.st_size, f);
	fclose(f);
	if (!buf || n != (size_t)st.st_size) {
		fprintf(stderr, "%s: short read\n", path);
		free(buf);
		return -1;
	}
	LLVMFuzzerTestOneInput(buf, n);
	free(buf);
	(*count)++;
	return 0;
}

static int run_dir(const char *dir, unsigned *count)
{
	struct dirent **ents;
	char path[4096];
	struct stat st;
	int n = scandir(dir, &ents, NULL, alphasort), err = 0;

	if (n < 0) {
		perror(dir);
		return -1;
	}
	for (int i = 0; i < n; i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, ents[i]->d_name);
		if (ents[i]->d_name[0] != '.' && stat(path, &st) == 0 && S_ISREG(st.st_mode))
			err |= run_file(path, count);
		free(ents[i]);
	}
	free(ents);
	return err;
}

int main(int argc, char **argv)
{
	unsigned count = 0;
	struct stat st;
	int err = 0;

	if (argc < 2) {
		fprintf(stderr, "usage: %s FILE|DIR...\n", argv[0]);
		return 2;
	}
	for (int i = 1; i < argc; i++) {
		if (stat(argv[i], &st) == 0 && S_ISDIR(st.st_mode))
			err |= run_dir(argv[i], &count);
		else
			err |= run_file(argv[i], &count);
	}
	printf("replay: %u inputs ran\n", count);
	return err ? 1 : 0;
}
