/*
 * milter_null - the floor of a libmilter filter: a thread per
 * connection, as mvmtr has, and nothing else; it accepts each message
 * at MAIL FROM, as the accept-all policy of milter_bench.sh does.
 *
 *   milter_null SOCKET
 */
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
	if (argc != 2) {
		fprintf(stderr, "usage: milter_null SOCKET\n");
		return 2;
	}
	if (smfi_setconn(argv[1]) == MI_FAILURE || smfi_register(desc) == MI_FAILURE)
		return 1;
	return smfi_main() == MI_SUCCESS ? 0 : 1;
}
