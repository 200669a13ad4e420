/* smtpd.h - mvmtr-smtpd's SMTP server, over I/O its caller gives */
#ifndef SMTPD_H
#define SMTPD_H

#include <stddef.h>
#include <sys/socket.h>
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

/* The content steps a policy wants sent after the message is in. */
#define SMTPD_WANT_HEADERS	0x1
#define SMTPD_WANT_EOH		0x2
#define SMTPD_WANT_BODY		0x4

/* What the server asks about the client and its mail, at the milter's
 * stages with the milter's arguments: a running mvmtr over the milter
 * protocol (milter_client.c, what mvmtr-smtpd uses), or mvmtr's session
 * in this process (smtpd_session.c, for the fuzz target). Each step returns the decision; reply() is the
 * reply that goes with a reject or tempfail, changes() what the end of
 * the message queued, wants() the content steps to send. smtpd_run
 * sets macro and macro_ctx: the values of the MTA's macros. */
struct smtpd_policy {
	enum decision (*connect)(struct smtpd_policy *p, const char *host,
				 const struct sockaddr *sa);
	enum decision (*helo)(struct smtpd_policy *p, const char *helo);
	enum decision (*envfrom)(struct smtpd_policy *p, char **argv);
	enum decision (*envrcpt)(struct smtpd_policy *p, char **argv);
	enum decision (*data)(struct smtpd_policy *p);
	enum decision (*header)(struct smtpd_policy *p, const char *name,
				const char *value);
	enum decision (*eoh)(struct smtpd_policy *p);
	enum decision (*body)(struct smtpd_policy *p, const unsigned char *data,
			      size_t len);
	enum decision (*eom)(struct smtpd_policy *p);
	enum decision (*unknown)(struct smtpd_policy *p, const char *cmd);
	void (*abort)(struct smtpd_policy *p);
	void (*message_done)(struct smtpd_policy *p);
	void (*close)(struct smtpd_policy *p);
	void (*free)(struct smtpd_policy *p);
	const struct reply *(*reply)(struct smtpd_policy *p);
	const struct change *(*changes)(struct smtpd_policy *p);
	unsigned (*wants)(struct smtpd_policy *p);
	const char *(*macro)(void *ctx, const char *name);
	void *macro_ctx;
};

/* smtpd_session.c: mvmtr's session in this process, with program PG
 * (the caller's reference) and STORE; NULL when memory runs out */
struct smtpd_policy *smtpd_session_policy(struct program *pg, struct store *store);

/* milter_client.c: a running mvmtr (or any milter) at SPEC over the
 * milter protocol, TIMEOUT seconds an answer may take; NULL and ERR
 * when it cannot be reached */
struct smtpd_policy *milter_client_policy(const char *spec, int timeout, char *err,
					  size_t errsize);

int smtpd_run(const struct smtpd_conf *conf, const struct smtpd_io *io,
	      struct smtpd_policy *policy);

#endif
