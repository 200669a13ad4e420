/* qmail_ctl.h - qmail-smtpd's control files, read as it reads them */
#ifndef QMAIL_CTL_H
#define QMAIL_CTL_H

#include <stddef.h>

struct qctl {
	char *me;		/* control/me, or NULL */
	char *greeting;		/* control/smtpgreeting, else me, else "unknown" */
	char *localiphost;	/* control/localiphost, else me, or NULL */
	int have_rcpthosts;	/* control/rcpthosts exists */
	char **rcpthosts;	/* its lines, lowercased */
	size_t nrcpthosts;
	int morercpthosts_fd;	/* control/morercpthosts.cdb, or -1 */
	char **bmf;		/* control/badmailfrom, lowercased */
	size_t nbmf;
	unsigned long databytes;	/* control/databytes; 0: no limit */
	int timeout;		/* control/timeoutsmtpd, seconds (1200) */
};

int qctl_load(struct qctl *c, const char *dir, char *err, size_t errsize);
void qctl_free(struct qctl *c);
int qctl_rcpt_allowed(const struct qctl *c, const char *addr);
int qctl_badmailfrom(const struct qctl *c, const char *addr);
int qctl_cdb_find(int fd, const char *key, size_t len);

#endif
