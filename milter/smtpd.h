/* smtpd.h - mvmtr-smtpd's SMTP server, over I/O its caller gives */
#ifndef SMTPD_H
#define SMTPD_H

#include <stddef.h>
#include <sys/types.h>

#include "mvmtr.h"
#include "qmail_ctl.h"

/* What the server reads from, writes to and queues with. read: up to
 * LEN bytes within TIMEOUT seconds; >0, 0 at the end, -1 an error, -2
 * the time ran out. write: all of it; 0, or -1. queue: the message
 * (LF line ends) with its envelope; 0 and *QP (qmail-queue's pid), or
 * -1 and ERR, qmail's way: "D..." permanent, "Z..." temporary. */
struct smtpd_io {
	ssize_t (*read)(void *ctx, void *buf, size_t len, int timeout);
	int (*write)(void *ctx, const void *buf, size_t len);
	int (*queue)(void *ctx, const char *msg, size_t len, const char *sender,
		     char *const *rcpts, size_t nrcpts, unsigned long *qp,
		     char *err, size_t errsize);
	void *ctx;
};

/* The connection as tcpserver describes it, and qmail's controls. */
struct smtpd_conf {
	const struct qctl *ctl;
	const char *remoteip;		/* TCPREMOTEIP, or "unknown" */
	const char *remotehost;		/* TCPREMOTEHOST, or "unknown" */
	const char *remoteinfo;		/* TCPREMOTEINFO, or NULL */
	const char *localip;		/* TCPLOCALIP, or NULL */
	const char *local;		/* TCPLOCALHOST, else TCPLOCALIP, else "unknown" */
	const char *relayclient;	/* RELAYCLIENT, or NULL */
	unsigned long databytes;	/* DATABYTES, else control/databytes; 0: none */
	int timeout;			/* seconds a read may wait */
	size_t max_rcpts;		/* recipients per message */
};

int smtpd_run(const struct smtpd_conf *conf, const struct smtpd_io *io,
	      struct program *pg, struct store *store);

#endif
