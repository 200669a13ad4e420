/*
 * qmail_ctl - the control files qmail-smtpd reads, read the way it reads
 * them, for mvmtr-smtpd: control/me, smtpgreeting (default me),
 * localiphost (default me), rcpthosts and morercpthosts.cdb, badmailfrom,
 * databytes, timeoutsmtpd (default 1200). A line file loses its
 * trailing spaces, tabs and newline; in a list, empty lines and lines
 * starting with '#' are skipped. A file that does not exist is the
 * default; one that cannot be read is an error, as qmail-smtpd's 421
 * "unable to read controls".
 *
 * rcpthosts: a recipient is allowed when its domain (after the last
 * '@'; none: allowed) or a suffix of it starting at a '.' is a line of
 * rcpthosts or a key of morercpthosts.cdb, compared without case; no
 * rcpthosts file at all allows everything (qmail's behaviour, which the
 * man page warns about). badmailfrom: the whole address, or "@domain".
 *
 * cdb: D. J. Bernstein's constant database (256 hash tables, the djb
 * hash), read with pread; a file cut short or with out-of-range
 * pointers is "not found" and logged by the caller as an error.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "qmail_ctl.h"

/* slurp - the file DIR/NAME, NUL-terminated in *OUT; 1 read, 0 absent,
 * -1 (ERR) unreadable */
static int
slurp(const char *dir, const char *name, char **out, char *err, size_t errsize)
{
	char path[4096];
	char *buf = NULL;
	size_t len = 0, cap = 0;
	ssize_t n;
	int fd;

	*out = NULL;
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
		if (errno == ENOENT)
			return 0;
		snprintf(err, errsize, "%s: %s", path, strerror(errno));
		return -1;
	}
	for (;;) {
		if (len + 4096 + 1 > cap) {
			char *more = realloc(buf, cap = 2 * cap + 8192);

			if (more == NULL) {
				snprintf(err, errsize, "%s: out of memory", path);
				goto fail;
			}
			buf = more;
		}
		if ((n = read(fd, buf + len, 4096)) < 0) {
			if (errno == EINTR)
				continue;
			snprintf(err, errsize, "%s: %s", path, strerror(errno));
			goto fail;
		}
		if (n == 0)
			break;
		len += (size_t) n;
		if (len > (16u << 20)) {
			snprintf(err, errsize, "%s: larger than 16 MB", path);
			goto fail;
		}
	}
	close(fd);
	buf[len] = 0;
	*out = buf;
	return 1;
fail:
	close(fd);
	free(buf);
	return -1;
}

/* strip - S without trailing spaces, tabs and newlines, in place */
static char *
strip(char *s)
{
	size_t n = strlen(s);

	while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\n'))
		s[--n] = 0;
	return s;
}

/* read_line - the first line of DIR/NAME into *OUT (NULL when absent) */
static int
read_line(const char *dir, const char *name, char **out, char *err, size_t errsize)
{
	int r = slurp(dir, name, out, err, errsize);

	if (r == 1) {
		(*out)[strcspn(*out, "\n")] = 0;
		strip(*out);
	}
	return r;
}

/* read_list - the lines of DIR/NAME, lowercased, into *V and *N */
static int
read_list(const char *dir, const char *name, char ***v, size_t *n, char *err, size_t errsize)
{
	char *text, *line, *save = NULL;
	int r = slurp(dir, name, &text, err, errsize);

	*v = NULL;
	*n = 0;
	if (r != 1)
		return r;
	for (line = strtok_r(text, "\n", &save); line != NULL; line = strtok_r(NULL, "\n", &save)) {
		char **more;

		strip(line);
		if (*line == 0 || *line == '#')
			continue;
		if ((more = realloc(*v, (*n + 1) * sizeof(**v))) == NULL
		    || (more[*n] = strdup(line)) == NULL) {
			if (more != NULL)
				*v = more;
			free(text);
			snprintf(err, errsize, "%s/%s: out of memory", dir, name);
			return -1;
		}
		*v = more;
		for (char *p = more[*n]; *p; p++)
			*p = (char) tolower((unsigned char) *p);
		(*n)++;
	}
	free(text);
	return 1;
}

/* read_ulong - the number on the first line of DIR/NAME (DEF absent) */
static int
read_ulong(const char *dir, const char *name, unsigned long *out, unsigned long def,
	   char *err, size_t errsize)
{
	char *s;
	int r = read_line(dir, name, &s, err, errsize);

	*out = def;
	if (r == 1) {
		char *end;
		unsigned long u = strtoul(s, &end, 10);

		if (end != s)
			*out = u;
	}
	free(s);
	return r < 0 ? -1 : 0;
}

/* qctl_load - the controls under DIR (qmail's control directory) */
int
qctl_load(struct qctl *c, const char *dir, char *err, size_t errsize)
{
	char path[4096];
	unsigned long u;

	memset(c, 0, sizeof(*c));
	c->morercpthosts_fd = -1;
	if (read_line(dir, "me", &c->me, err, errsize) < 0
	    || read_line(dir, "smtpgreeting", &c->greeting, err, errsize) < 0
	    || read_line(dir, "localiphost", &c->localiphost, err, errsize) < 0)
		return -1;
	if (c->greeting == NULL && (c->greeting = strdup(c->me ? c->me : "unknown")) == NULL)
		return -1;
	if (c->localiphost == NULL && c->me != NULL && (c->localiphost = strdup(c->me)) == NULL)
		return -1;
	switch (read_list(dir, "rcpthosts", &c->rcpthosts, &c->nrcpthosts, err, errsize)) {
	case -1:
		return -1;
	case 1:
		c->have_rcpthosts = 1;
		snprintf(path, sizeof(path), "%s/morercpthosts.cdb", dir);
		if ((c->morercpthosts_fd = open(path, O_RDONLY | O_CLOEXEC)) < 0 && errno != ENOENT) {
			snprintf(err, errsize, "%s: %s", path, strerror(errno));
			return -1;
		}
	}
	if (read_list(dir, "badmailfrom", &c->bmf, &c->nbmf, err, errsize) < 0
	    || read_ulong(dir, "databytes", &c->databytes, 0, err, errsize) < 0
	    || read_ulong(dir, "timeoutsmtpd", &u, 1200, err, errsize) < 0)
		return -1;
	c->timeout = u == 0 ? 1 : u > 86400 ? 86400 : (int) u;
	return 0;
}

/* qctl_free - what qctl_load took */
void
qctl_free(struct qctl *c)
{
	for (size_t i = 0; i < c->nrcpthosts; i++)
		free(c->rcpthosts[i]);
	for (size_t i = 0; i < c->nbmf; i++)
		free(c->bmf[i]);
	free(c->rcpthosts);
	free(c->bmf);
	free(c->me);
	free(c->greeting);
	free(c->localiphost);
	if (c->morercpthosts_fd >= 0)
		close(c->morercpthosts_fd);
	memset(c, 0, sizeof(*c));
	c->morercpthosts_fd = -1;
}

/* uint32 - little-endian at P */
static uint32_t
uint32_at(const unsigned char *p)
{
	return (uint32_t) p[0] | (uint32_t) p[1] << 8 | (uint32_t) p[2] << 16 | (uint32_t) p[3] << 24;
}

/* preadn - exactly LEN bytes at OFF; 0, or -1 */
static int
preadn(int fd, void *buf, size_t len, uint32_t off)
{
	size_t got = 0;

	while (got < len) {
		ssize_t n = pread(fd, (char *) buf + got, len - got, (off_t) off + (off_t) got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		got += (size_t) n;
	}
	return 0;
}

/* qctl_cdb_find - KEY (LEN bytes) is in the cdb at FD: 1, 0, or -1 when
 * the file cannot be read as a cdb */
int
qctl_cdb_find(int fd, const char *key, size_t len)
{
	unsigned char slot[8], rec[8];
	uint32_t h = 5381, pos, nslots, start;
	char cmp[1024];

	if (len > sizeof(cmp))
		return 0;
	for (size_t i = 0; i < len; i++)
		h = ((h << 5) + h) ^ (unsigned char) key[i];
	if (preadn(fd, slot, 8, (h & 255) * 8) < 0)
		return -1;
	pos = uint32_at(slot);
	nslots = uint32_at(slot + 4);
	if (nslots == 0)
		return 0;
	if (nslots > (1u << 28))
		return -1;
	start = (h >> 8) % nslots;
	for (uint32_t i = 0; i < nslots; i++) {
		uint32_t at = pos + ((start + i) % nslots) * 8, hash, rpos;

		if (preadn(fd, slot, 8, at) < 0)
			return -1;
		hash = uint32_at(slot);
		rpos = uint32_at(slot + 4);
		if (rpos == 0)
			return 0;
		if (hash != h)
			continue;
		if (preadn(fd, rec, 8, rpos) < 0)
			return -1;
		if (uint32_at(rec) != len)
			continue;
		if (preadn(fd, cmp, len, rpos + 8) < 0)
			return -1;
		if (memcmp(cmp, key, len) == 0)
			return 1;
	}
	return 0;
}

/* qctl_rcpt_allowed - ADDR may be relayed to, as rcpthosts says: 1, 0,
 * or -1 when morercpthosts.cdb cannot be read */
int
qctl_rcpt_allowed(const struct qctl *c, const char *addr)
{
	const char *at = strrchr(addr, '@');
	char host[1024];
	size_t len;

	if (!c->have_rcpthosts || at == NULL)
		return 1;
	len = strlen(at + 1);
	if (len >= sizeof(host))
		return 0;
	for (size_t i = 0; i <= len; i++)
		host[i] = (char) tolower((unsigned char) at[1 + i]);
	for (size_t j = 0; j < len; j++) {
		if (j != 0 && host[j] != '.')
			continue;
		for (size_t k = 0; k < c->nrcpthosts; k++)
			if (strcmp(c->rcpthosts[k], host + j) == 0)
				return 1;
	}
	if (c->morercpthosts_fd >= 0)
		for (size_t j = 0; j < len; j++) {
			int r;

			if (j != 0 && host[j] != '.')
				continue;
			if ((r = qctl_cdb_find(c->morercpthosts_fd, host + j, len - j)) != 0)
				return r;
		}
	return 0;
}

/* qctl_badmailfrom - ADDR, or its "@domain", is in badmailfrom */
int
qctl_badmailfrom(const struct qctl *c, const char *addr)
{
	const char *at = strrchr(addr, '@');

	for (size_t k = 0; k < c->nbmf; k++)
		if (strcasecmp(c->bmf[k], addr) == 0 || (at != NULL && strcasecmp(c->bmf[k], at) == 0))
			return 1;
	return 0;
}
