/*
 * mda_run - run a delivery agent once per message, as an MTA does, and
 * measure it: wall time of the whole run, user + system CPU of the
 * children, their largest peak RSS, how many did not exit 0. Each
 * message reaches the agent through a pipe, as Postfix's local(8) and
 * pipe(8) give it (a regular file would let an agent mmap it). This
 * runner is small, so what a child inherits before exec does not
 * inflate its RSS (t/mda/big.sh uses it for that).
 * Usage: mda_run [-f] LISTFILE COMMAND [ARG...]   (LISTFILE: one message
 * path a line; -f: the message file itself on standard input, as a
 * regular file, not a pipe)
 * Prints: "wall cpu maxrss_kb failures"
 */
#include "config.h"

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

int
main(int argc, char **argv)
{
	char path[4096];
	struct timespec t0, t1;
	double cpu = 0;
	long maxrss = 0;
	int bad = 0, as_file = argc > 1 && strcmp(argv[1], "-f") == 0;
	FILE *list;

	argv += as_file;
	argc -= as_file;
	if (argc < 3 || (list = fopen(argv[1], "r")) == NULL)
		return 64;
	signal(SIGPIPE, SIG_IGN);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (fgets(path, sizeof(path), list) != NULL) {
		static char buf[1 << 16];
		struct rusage ru;
		int status, fd, p[2];
		ssize_t n;
		pid_t pid;

		path[strcspn(path, "\n")] = 0;
		if ((fd = open(path, O_RDONLY)) < 0 || pipe(p) < 0)
			return 66;
		if ((pid = fork()) == 0) {
			int null = open("/dev/null", O_WRONLY);

			dup2(as_file ? fd : p[0], 0);
			dup2(null, 1);
			dup2(null, 2);
			close(p[0]);
			close(p[1]);
			close(fd);
			execv(argv[2], argv + 2);
			_exit(127);
		}
		close(p[0]);
		while (!as_file && (n = read(fd, buf, sizeof(buf))) > 0)
			if (write(p[1], buf, (size_t) n) != n)
				break;	/* the agent stopped reading: its business */
		close(p[1]);
		close(fd);
		if (pid < 0 || wait4(pid, &status, 0, &ru) < 0)
			return 71;
		cpu += ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + ru.ru_stime.tv_sec
		    + ru.ru_stime.tv_usec / 1e6;
		if (ru.ru_maxrss > maxrss)
			maxrss = ru.ru_maxrss;
		bad += !WIFEXITED(status) || WEXITSTATUS(status) != 0;
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	printf("%.6f %.6f %ld %d\n", (double) (t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9,
	       cpu, maxrss, bad);
	return 0;
}
