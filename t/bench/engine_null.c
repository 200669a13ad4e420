/*
 * engine_null - the floor of mvmtr's own milter engine (milter/engine.c):
 * its threads and protocol handling and nothing else; it accepts each
 * message at MAIL FROM, as the accept-all policy of milter_bench.sh does,
 * and negotiates the other steps away as mvmtr does for that script.
 *
 *   engine_null SOCKET
 */
#include "config.h"

#include <signal.h>
#include <stdio.h>

#include "engine.h"

static enum eng_status
negotiate(struct eng_ctx *ctx, uint32_t actions, uint32_t steps, uint32_t *actions_r,
	  uint32_t *steps_r)
{
	(void) ctx;
	(void) actions;
	*actions_r = 0;
	*steps_r = steps & (ENG_NOHELO | ENG_NORCPT | ENG_NODATA | ENG_NOHDRS | ENG_NOEOH
			    | ENG_NOBODY | ENG_NOUNKNOWN | ENG_NR_CONN);
	return ENG_CONTINUE;
}

static enum eng_status
envfrom(struct eng_ctx *ctx, char **argv)
{
	(void) ctx;
	(void) argv;
	return ENG_ACCEPT;
}

static const struct eng_filter filter = {
	.negotiate = negotiate,
	.envfrom = envfrom,
};

int
main(int argc, char **argv)
{
	char err[256];

	if (argc != 2) {
		fprintf(stderr, "usage: engine_null SOCKET\n");
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	if (eng_open(argv[1], err, sizeof(err)) < 0) {
		fprintf(stderr, "engine_null: %s\n", err);
		return 1;
	}
	return eng_run(&filter, 0) == 0 ? 0 : 1;
}
