/*
 * engine_null - the floor of mvmtr's own milter engine (milter/engine.c):
 * its threads and protocol handling and nothing else. By default it
 * accepts each message at MAIL FROM, as the accept-all policy of
 * milter_bench.sh does, and negotiates the other steps away as mvmtr
 * does for that script, asking for the macro i alone as mvmtr does for
 * a script without $macro. With "data" it takes the steps mvmtr takes for
 * the bench's greylist + SPF + DNSBL policy (HELO and MAIL without a
 * reply, RCPT answered "continue", the message accepted at DATA). With
 * "eom" it carries the message to its end instead (DATA without a
 * reply, end of message answered "continue"), as mvmtr does for a
 * script with an end-of-message hook: so the MTA keeps the milter for
 * the whole message.
 *
 *   engine_null SOCKET [data|eom]
 */
#include "config.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "engine.h"

static enum { AT_MAIL, AT_DATA, AT_EOM } mode;

static enum eng_status
negotiate(struct eng_ctx *ctx, uint32_t actions, uint32_t steps, uint32_t *actions_r,
	  uint32_t *steps_r)
{
	/* the macros mvmtr asks for a script without $macro: the queue id */
	*actions_r = actions & ENG_SETSYMLIST;
	for (int stage = 0; stage < ENG_STAGES && *actions_r; stage++)
		eng_setsymlist(ctx, stage, "i");
	if (mode != AT_MAIL) {
		/* what mvmtr asks for the policy: every change action too */
		*actions_r |= actions & (ENG_ADDHDRS | ENG_CHGHDRS | ENG_CHGBODY | ENG_ADDRCPT
					 | ENG_ADDRCPT_PAR | ENG_DELRCPT | ENG_QUARANTINE
					 | ENG_CHGFROM);
		*steps_r = steps & (ENG_NOHDRS | ENG_NOEOH | ENG_NOBODY | ENG_NOUNKNOWN
				    | ENG_NR_CONN | ENG_NR_HELO | ENG_NR_MAIL
				    | (mode == AT_EOM ? ENG_NODATA : 0));
	} else
		*steps_r = steps & (ENG_NOHELO | ENG_NORCPT | ENG_NODATA | ENG_NOHDRS
				    | ENG_NOEOH | ENG_NOBODY | ENG_NOUNKNOWN | ENG_NR_CONN);
	return ENG_CONTINUE;
}

static enum eng_status
envfrom(struct eng_ctx *ctx, char **argv)
{
	(void) ctx;
	(void) argv;
	return mode == AT_MAIL ? ENG_ACCEPT : ENG_NOREPLY;
}

static enum eng_status
data(struct eng_ctx *ctx)
{
	(void) ctx;
	return ENG_ACCEPT;
}

static const struct eng_filter filter = {
	.negotiate = negotiate,
	.envfrom = envfrom,
	.data = data,
};

int
main(int argc, char **argv)
{
	char err[256];

	if (argc == 3 && strcmp(argv[2], "data") == 0)
		mode = AT_DATA;
	else if (argc == 3 && strcmp(argv[2], "eom") == 0)
		mode = AT_EOM;
	else if (argc != 2) {
		fprintf(stderr, "usage: engine_null SOCKET [data|eom]\n");
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	if (eng_open(argv[1], err, sizeof(err)) < 0) {
		fprintf(stderr, "engine_null: %s\n", err);
		return 1;
	}
	return eng_run(&filter, 0) == 0 ? 0 : 1;
}
