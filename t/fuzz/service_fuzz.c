/*
 * service_fuzz - libFuzzer target for the questions mvmda -D reads
 * (mda/service.c, service_parse): the input is what an asker sends on
 * the service's socket, as far as the service has read it. A question
 * parsed must hold a phase of "rcpt" or "data", a recipient, at most
 * SERVICE_ARGS_MAX arguments, strings inside the input, and no more of
 * the message than its size says. A crash, a sanitizer report or an
 * abort() from those checks is the finding (the service runs as root:
 * a crash there stops every user's answers).
 *
 * Built with --enable-fuzz (clang); without it, t/fuzz/replay.c links
 * the same entry point so make check replays the seed corpus.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "service.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* inside - S is a string within BUF's LEN bytes */
static int
inside(const char *s, const char *buf, size_t len)
{
	return s != NULL && ((s >= buf && s < buf + len) || *s == 0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct service_request req;
	const char *err = NULL;
	size_t msg_size, head_len;
	char *buf = malloc(size + 1);
	int rc;

	if (buf == NULL)
		return 0;
	memcpy(buf, data, size);
	buf[size] = 0;
	rc = service_parse(buf, size, &req, &msg_size, &head_len, &err);
	if (rc < 0 && err == NULL)
		abort();
	if (rc == 0) {
		if ((strcmp(req.phase, "rcpt") != 0 && strcmp(req.phase, "data") != 0)
		    || !*req.recipient || req.nargs > SERVICE_ARGS_MAX
		    || head_len > size || size - head_len > msg_size
		    || msg_size > SERVICE_MESSAGE_MAX)
			abort();
		if (!inside(req.recipient, buf, size) || !inside(req.sender, buf, size)
		    || !inside(req.client, buf, size) || !inside(req.helo, buf, size)
		    || !inside(req.queue_id, buf, size) || !inside(req.client_name, buf, size))
			abort();
		for (size_t i = 0; i < req.nargs; i++)
			if (!inside(req.args[i], buf, size))
				abort();
	}
	free(buf);
	return 0;
}
