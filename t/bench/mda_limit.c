/*
 * mda_limit - the physical limit of a delivery, for make bench: read a
 * message on stdin, write it to MAILDIR/tmp as it comes (any size, in
 * 64 KB of memory), fsync, rename into new/, fsync new/. Nothing else:
 * no filtering, no parsing, no locking.
 * Usage: mda_limit MAILDIR < message
 */
#include "config.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/time.h>
#include <unistd.h>

int
main(int argc, char **argv)
{
	static char buf[1 << 16];
	char tmp[4096], new[4096];
	struct timeval tv;
	ssize_t n;
	int fd, dfd;

	if (argc != 2)
		return 64;
	gettimeofday(&tv, NULL);
	snprintf(tmp, sizeof(tmp), "%s/tmp/%ld.M%06ldP%ld.limit", argv[1], (long) tv.tv_sec,
		 (long) tv.tv_usec, (long) getpid());
	snprintf(new, sizeof(new), "%s/new/%ld.M%06ldP%ld.limit", argv[1], (long) tv.tv_sec,
		 (long) tv.tv_usec, (long) getpid());
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL, 0600)) < 0)
		return 75;
	while ((n = read(0, buf, sizeof(buf))) > 0)
		if (write(fd, buf, (size_t) n) != n)
			return 75;
	if (n < 0 || fsync(fd) < 0 || close(fd) < 0 || rename(tmp, new) < 0)
		return 75;
	snprintf(tmp, sizeof(tmp), "%s/new", argv[1]);
	if ((dfd = open(tmp, O_RDONLY | O_DIRECTORY)) < 0 || fsync(dfd) < 0)
		return 75;
	return 0;
}
