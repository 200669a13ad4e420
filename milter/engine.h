/* engine.h - the milter protocol: its packets, and the filter side
 * (engine.c) for callbacks.c and main.c */
#ifndef MVMTR_ENGINE_H
#define MVMTR_ENGINE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

/* protocol version 6: Sendmail 8.14+ and Postfix 2.6+ speak it */
#define ENG_VERSION		6

/* actions the filter may take at end of message (SMFIF_*) */
#define ENG_ADDHDRS		0x001
#define ENG_CHGBODY		0x002
#define ENG_ADDRCPT		0x004
#define ENG_DELRCPT		0x008
#define ENG_CHGHDRS		0x010
#define ENG_QUARANTINE		0x020
#define ENG_CHGFROM		0x040
#define ENG_ADDRCPT_PAR		0x080
#define ENG_SETSYMLIST		0x100

/* protocol steps: the MTA leaves out (NO*) or does not wait for (NR_*) */
#define ENG_NOCONNECT		0x000001
#define ENG_NOHELO		0x000002
#define ENG_NOMAIL		0x000004
#define ENG_NORCPT		0x000008
#define ENG_NOBODY		0x000010
#define ENG_NOHDRS		0x000020
#define ENG_NOEOH		0x000040
#define ENG_NR_HDR		0x000080
#define ENG_NOUNKNOWN		0x000100
#define ENG_NODATA		0x000200
#define ENG_SKIP		0x000400
#define ENG_RCPT_REJ		0x000800
#define ENG_NR_CONN		0x001000
#define ENG_NR_HELO		0x002000
#define ENG_NR_MAIL		0x004000
#define ENG_NR_RCPT		0x008000
#define ENG_NR_DATA		0x010000
#define ENG_NR_UNKN		0x020000
#define ENG_NR_EOH		0x040000
#define ENG_NR_BODY		0x080000
#define ENG_HDR_LEADSPC		0x100000

/* what the MTA sends (SMFIC_*) and what the filter answers (SMFIR_*):
 * engine.c reads the one and writes the other, milter_client.c (the MTA
 * side, for mvmtr-smtpd) the other way round */
enum {
	CMD_ABORT = 'A', CMD_BODY = 'B', CMD_CONNECT = 'C', CMD_MACRO = 'D',
	CMD_BODYEOB = 'E', CMD_HELO = 'H', CMD_QUIT_NC = 'K', CMD_HEADER = 'L',
	CMD_MAIL = 'M', CMD_EOH = 'N', CMD_OPTNEG = 'O', CMD_QUIT = 'Q',
	CMD_RCPT = 'R', CMD_DATA = 'T', CMD_UNKNOWN = 'U',
	REP_ADDRCPT = '+', REP_DELRCPT = '-', REP_ADDRCPT_PAR = '2',
	REP_ACCEPT = 'a', REP_REPLBODY = 'b', REP_CONTINUE = 'c',
	REP_DISCARD = 'd', REP_CHGFROM = 'e', REP_ADDHEADER = 'h',
	REP_INSHEADER = 'i', REP_CHGHEADER = 'm', REP_PROGRESS = 'p',
	REP_QUARANTINE = 'q', REP_REJECT = 'r', REP_SKIP = 's',
	REP_TEMPFAIL = 't', REP_REPLYCODE = 'y',
};

/* put_u32 - a 32-bit number in network order at P, as packets carry it */
static inline void
put_u32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char) (v >> 24);
	p[1] = (unsigned char) (v >> 16);
	p[2] = (unsigned char) (v >> 8);
	p[3] = (unsigned char) v;
}

/* get_u32 - a 32-bit number in network order at P */
static inline uint32_t
get_u32(const unsigned char *p)
{
	return (uint32_t) p[0] << 24 | (uint32_t) p[1] << 16 | (uint32_t) p[2] << 8 | p[3];
}

/* the stages macros are sent at, for eng_setsymlist (SMFIM_*) */
enum eng_stage {
	ENG_AT_CONNECT, ENG_AT_HELO, ENG_AT_MAIL, ENG_AT_RCPT, ENG_AT_DATA,
	ENG_AT_EOM, ENG_AT_EOH, ENG_STAGES
};

/* what a callback answers */
enum eng_status {
	ENG_CONTINUE, ENG_REJECT, ENG_DISCARD, ENG_ACCEPT, ENG_TEMPFAIL,
	ENG_NOREPLY
};

struct eng_ctx;

/*
 * The filter. negotiate runs once per MTA connection (and again after
 * a QUIT_NC, whose next connection keeps the protocol); it is given
 * what the MTA offers and returns what the filter takes. close runs
 * when the MTA connection ends, however it ends.
 */
struct eng_filter {
	enum eng_status (*negotiate)(struct eng_ctx *ctx, uint32_t actions,
				     uint32_t steps, uint32_t *actions_r,
				     uint32_t *steps_r);
	enum eng_status (*connect)(struct eng_ctx *ctx, const char *host,
				   const struct sockaddr *sa);
	enum eng_status (*helo)(struct eng_ctx *ctx, const char *helo);
	enum eng_status (*envfrom)(struct eng_ctx *ctx, char **argv);
	enum eng_status (*envrcpt)(struct eng_ctx *ctx, char **argv);
	enum eng_status (*data)(struct eng_ctx *ctx);
	enum eng_status (*header)(struct eng_ctx *ctx, const char *name,
				  const char *value);
	enum eng_status (*eoh)(struct eng_ctx *ctx);
	enum eng_status (*body)(struct eng_ctx *ctx, const unsigned char *data,
				size_t len);
	enum eng_status (*eom)(struct eng_ctx *ctx);
	void (*abort)(struct eng_ctx *ctx);
	void (*close)(struct eng_ctx *ctx);
	enum eng_status (*unknown)(struct eng_ctx *ctx, const char *cmd);
};

/* engine.c: the listener and its connection threads */
void eng_set_idle(int seconds);
int eng_open(const char *spec, char *err, size_t errsize);
int eng_run(const struct eng_filter *filter, int timeout);
void eng_stop(void);
void eng_serve(const struct eng_filter *filter, int fd);

/* engine.c: within a callback */
void eng_setpriv(struct eng_ctx *ctx, void *priv);
void *eng_getpriv(struct eng_ctx *ctx);
const char *eng_getsymval(struct eng_ctx *ctx, const char *name);
int eng_setsymlist(struct eng_ctx *ctx, enum eng_stage stage, const char *list);
int eng_setreply(struct eng_ctx *ctx, const char *code, const char *xcode,
		 const char *const *lines, size_t nlines);

/* engine.c: message changes, at end of message only (0, or -1 when not
 * negotiated, not at end of message, or the MTA is gone) */
int eng_addheader(struct eng_ctx *ctx, const char *name, const char *value);
int eng_insheader(struct eng_ctx *ctx, int index, const char *name,
		  const char *value);
int eng_chgheader(struct eng_ctx *ctx, const char *name, int index,
		  const char *value);
int eng_addrcpt(struct eng_ctx *ctx, const char *rcpt, const char *args);
int eng_delrcpt(struct eng_ctx *ctx, const char *rcpt);
int eng_chgfrom(struct eng_ctx *ctx, const char *from, const char *args);
int eng_replacebody(struct eng_ctx *ctx, const unsigned char *body, size_t len);
int eng_quarantine(struct eng_ctx *ctx, const char *reason);

#endif
