/*
 * engine_null - the floor of mvmtr's own milter engine (milter/engine.c):
 * its threads and protocol handling and nothing else. By default it
 * accepts each message at MAIL FROM, as the accept-all policy of
 * milter_bench.sh does, and negotiates the other steps away as mvmtr
 * does for that script. With "eom" it takes the steps mvmtr takes for
 * the bench's greylist + SPF + DNSBL policy (HELO and MAIL without a
 * reply, RCPT and end of message answered "continue"), so the MTA
 * carries the milter through the whole message, as it does for mvmtr.
 *
 *   engine_null SOCKET [eom]
 */
#include "config.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "engine.h"

static int to_eom;

static enum eng_status
negotiate(struct eng_ctx *ctx, uint32_t actions, uint32_t steps, uint32_t *actions_r,
	  uint32_t *steps_r)
{
	(void) ctx;
	*actions_r = 0;
	if (to_eom) {
		/* what mvmtr asks for the policy: every change action too */
		*actions_r = actions & (ENG_ADDHDRS | ENG_CHGHDRS | ENG_CHGBODY | ENG_ADDRCPT
					| ENG_ADDRCPT_PAR | ENG_DELRCPT | ENG_QUARANTINE
					| ENG_CHGFROM);
		*steps_r = steps & (ENG_NODATA | ENG_NOHDRS | ENG_NOEOH | ENG_NOBODY
				    | ENG_NOUNKNOWN | ENG_NR_CONN | ENG_NR_HELO | ENG_NR_MAIL);
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
	return to_eom ? ENG_NOREPLY : ENG_ACCEPT;
}

static const struct eng_filter filter = {
	.negotiate = negotiate,
	.envfrom = envfrom,
};

int
main(int argc, char **argv)
{
	char err[256];

	if (argc < 2 || argc > 3 || (argc == 3 && strcmp(argv[2], "eom") != 0)) {
		fprintf(stderr, "usage: engine_null SOCKET [eom]\n");
		return 2;
	}
	to_eom = argc == 3;
	signal(SIGPIPE, SIG_IGN);
	if (eng_open(argv[1], err, sizeof(err)) < 0) {
		fprintf(stderr, "engine_null: %s\n", err);
		return 1;
	}
	return eng_run(&filter, 0) == 0 ? 0 : 1;
}
