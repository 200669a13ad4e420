/*
 * milter_null - the floor of a libmilter filter: a thread per
 * connection, as mvmtr has, and nothing else; it accepts each message
 * at MAIL FROM, as the accept-all policy of milter_bench.sh does. Its
 * threads get 1 MB stacks, as mvmtr's do (see thread_stacks() in
 * milter/main.c), so the floor is libmilter's, not glibc's stack cache.
 *
 *   milter_null SOCKET
 */
#include "config.h"

#include <pthread.h>
#include <stdio.h>

#include <libmilter/mfapi.h>

static sfsistat
envfrom(SMFICTX *ctx, char **argv)
{
	(void) ctx;
	(void) argv;
	return SMFIS_ACCEPT;
}

static struct smfiDesc desc = {
	.xxfi_name = "milter_null",
	.xxfi_version = SMFI_VERSION,
	.xxfi_envfrom = envfrom,
};

int
main(int argc, char **argv)
{
	pthread_attr_t attr;

	if (argc != 2) {
		fprintf(stderr, "usage: milter_null SOCKET\n");
		return 2;
	}
	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, (size_t) 1 << 20);
	pthread_setattr_default_np(&attr);
	if (smfi_setconn(argv[1]) == MI_FAILURE || smfi_register(desc) == MI_FAILURE)
		return 1;
	return smfi_main() == MI_SUCCESS ? 0 : 1;
}
