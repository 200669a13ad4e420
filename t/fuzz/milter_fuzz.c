/*
 * milter_fuzz - libFuzzer target for mvmtr's milter engine: the input
 * is what an MTA sends on a connection (packets, whole or broken); the
 * engine serves it over a socketpair with a filter that asks for every
 * step, reads every macro it was sent and makes a change of each kind at
 * end of message. A crash, a hang or a sanitizer report is the finding.
 *
 * Built with --enable-fuzz (clang); without it, t/fuzz/replay.c links
 * the same entry point so make check replays the seed corpus.
 */
#include "config.h"

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "engine.h"

#define MAX_INPUT	65536	/* within a socket's buffer: no writer thread */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static enum eng_status
negotiate(struct eng_ctx *ctx, uint32_t actions, uint32_t steps, uint32_t *actions_r,
	  uint32_t *steps_r)
{
	*actions_r = actions;
	*steps_r = steps & ENG_NR_HDR;
	eng_setsymlist(ctx, ENG_AT_MAIL, "{i}");
	return ENG_CONTINUE;
}

/* macros - read the macros a callback may ask for */
static void
macros(struct eng_ctx *ctx)
{
	static const char *const names[] = { "i", "{i}", "j", "{auth_authen}", "" };

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		const char *v = eng_getsymval(ctx, names[i]);

		if (v != NULL && strlen(v) > MAX_INPUT)
			abort();
	}
}

static enum eng_status
connect_cb(struct eng_ctx *ctx, const char *host, const struct sockaddr *sa)
{
	macros(ctx);
	if (strlen(host) > MAX_INPUT || (sa != NULL && sa->sa_family != AF_INET
					 && sa->sa_family != AF_INET6))
		abort();
	return ENG_CONTINUE;
}

static enum eng_status
args_cb(struct eng_ctx *ctx, char **argv)
{
	static const char *const line[] = { "no" };

	macros(ctx);
	for (int i = 0; argv[i] != NULL; i++)
		if (strlen(argv[i]) > MAX_INPUT)
			abort();
	if (argv[0][0] == 'R') {
		eng_setreply(ctx, "550", "5.7.1", line, 1);
		return ENG_REJECT;
	}
	return ENG_CONTINUE;
}

static enum eng_status
header_cb(struct eng_ctx *ctx, const char *name, const char *value)
{
	macros(ctx);
	return strlen(name) + strlen(value) > MAX_INPUT ? abort(), ENG_CONTINUE : ENG_CONTINUE;
}

static enum eng_status
string_cb(struct eng_ctx *ctx, const char *s)
{
	macros(ctx);
	return strlen(s) > MAX_INPUT ? abort(), ENG_CONTINUE : ENG_CONTINUE;
}

static enum eng_status
step_cb(struct eng_ctx *ctx)
{
	macros(ctx);
	return ENG_CONTINUE;
}

static enum eng_status
body_cb(struct eng_ctx *ctx, const unsigned char *body, size_t len)
{
	(void) body;
	macros(ctx);
	return len > MAX_INPUT ? abort(), ENG_CONTINUE : ENG_CONTINUE;
}

static enum eng_status
eom_cb(struct eng_ctx *ctx)
{
	macros(ctx);
	eng_addheader(ctx, "X-A", "b");
	eng_insheader(ctx, 0, "X-B", "c");
	eng_chgheader(ctx, "Subject", 1, NULL);
	eng_addrcpt(ctx, "<a@b>", "NOTIFY=NEVER");
	eng_delrcpt(ctx, "<c@d>");
	eng_chgfrom(ctx, "<e@f>", NULL);
	eng_replacebody(ctx, (const unsigned char *) "new\r\n", 5);
	eng_quarantine(ctx, "held");
	return ENG_ACCEPT;
}

static void
end_cb(struct eng_ctx *ctx)
{
	macros(ctx);
}

static const struct eng_filter filter = {
	.negotiate = negotiate, .connect = connect_cb, .helo = string_cb,
	.envfrom = args_cb, .envrcpt = args_cb, .data = step_cb,
	.header = header_cb, .eoh = step_cb, .body = body_cb, .eom = eom_cb,
	.abort = end_cb, .close = end_cb, .unknown = string_cb,
};

/* drain - read the engine's replies, which may outgrow the socket's
 * buffer (end of message answers with a dozen packets) */
static void *
drain(void *arg)
{
	int fd = *(int *) arg;
	char buf[65536];

	while (read(fd, buf, sizeof(buf)) > 0)
		;
	return NULL;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int sv[2], reader_fd;
	size_t done = 0;
	pthread_t reader;

	if (size > MAX_INPUT || socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0)
		return 0;
	/* the input fits the socket's buffer: written before serving */
	while (done < size) {
		ssize_t n = write(sv[0], data + done, size - done);

		if (n <= 0)
			break;
		done += (size_t) n;
	}
	shutdown(sv[0], SHUT_WR);
	reader_fd = sv[0];
	if (pthread_create(&reader, NULL, drain, &reader_fd) != 0)
		abort();
	eng_serve(&filter, sv[1]);
	close(sv[1]);
	pthread_join(reader, NULL);
	close(sv[0]);
	return 0;
}
