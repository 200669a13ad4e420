/*
 * replay - run a fuzz target's entry point over files, for make check:
 * each file named on the command line, or each file in a named folder,
 * is one input. Prints TAP, one line per input; a crash or sanitizer
 * report fails the test.
 */
#include "config.h"

#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "../unit/tap.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* replay_file - one input */
static void
replay_file(const char *path)
{
	FILE *fp = fopen(path, "rb");
	char *data = NULL;
	size_t len = 0, cap = 0, n;

	if (fp == NULL) {
		tap_ok(0, "%s: cannot open", path);
		return;
	}
	do {
		if (len == cap) {
			cap = cap ? cap * 2 : 65536;
			data = realloc(data, cap);
		}
		n = fread(data + len, 1, cap - len, fp);
		len += n;
	} while (n > 0);
	fclose(fp);
	LLVMFuzzerTestOneInput((const uint8_t *) data, len);
	free(data);
	tap_ok(1, "%s", path);
}

int
main(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		struct stat st;
		DIR *d;
		struct dirent *e;

		if (stat(argv[i], &st) == 0 && S_ISDIR(st.st_mode)
		    && (d = opendir(argv[i])) != NULL) {
			while ((e = readdir(d)) != NULL) {
				char path[4096];

				if (e->d_name[0] == '.')
					continue;
				snprintf(path, sizeof(path), "%s/%s", argv[i], e->d_name);
				replay_file(path);
			}
			closedir(d);
		} else {
			replay_file(argv[i]);
		}
	}
	return tap_done();
}
