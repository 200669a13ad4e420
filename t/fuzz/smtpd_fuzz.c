/*
 * smtpd_fuzz - libFuzzer target for mvmtr-smtpd's SMTP server
 * (milter/smtpd.c): the input is what a client sends on a connection
 * (its first byte sets how it is cut into reads); the server runs it
 * with a policy that has every hook, rejects some recipients and makes
 * a change of each kind at the end of the message, qmail's controls
 * held in memory, and a queue that checks what it is given. Every reply
 * must be "ddd" then ' ' or '-' and end in CRLF; a queued message must
 * have an envelope with a recipient and the server's Received: field.
 * A crash, a hang, a sanitizer report or an abort()
 * from those checks is the finding.
 *
 * Built with --enable-fuzz and --enable-qmail-smtpd (clang); without
 * --enable-fuzz, t/fuzz/replay.c links the same entry point so make
 * check replays the seed corpus.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "mvmtr.h"
#include "smtpd.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char policy[] =
	"void $hook_connect(string $h, string $a, int $p) { if ($h == \"x\") reject \"go\"; }\n"
	"void $hook_helo(string $h) { if ($h == \"bad\") tempfail :code \"421\" \"no\"; }\n"
	"void $hook_envfrom(string $f, string[] $a) { if ($f == \"<r@x>\") reject \"r\"; }\n"
	"void $hook_envrcpt(string $r, string[] $a) {\n"
	"  if ($regmatch($r, \"^no\")) reject :code \"550\" :xcode \"5.1.1\" \"no\\nsuch\";\n"
	"  if ($regmatch($r, \"^later\")) tempfail;\n"
	"  if ($regmatch($r, \"^all\")) accept;\n"
	"  if ($regmatch($r, \"^drop\")) discard;\n"
	"}\n"
	"void $hook_data() { $log($macro(\"i\")); }\n"
	"void $hook_header(string $n, string $v) { if ($n == \"X-Bad\") reject \"bad\"; }\n"
	"void $hook_eoh() { }\n"
	"void $hook_body(string $b) { if ($regmatch($b, \"REJECT\")) reject \"body\"; }\n"
	"void $hook_eom() {\n"
	"  $header_add(\"X-A\", \"1\");\n"
	"  $header_insert(0, \"X-I\", \"2\");\n"
	"  $header_change(\"Subject\", 1, \"new\");\n"
	"  $rcpt_add(\"<added@x>\");\n"
	"  $rcpt_delete(\"<gone@x>\");\n"
	"  if (header :contains \"Subject\" \"body\") $body_replace(\"new body\\r\\n\");\n"
	"  if (header :contains \"Subject\" \"sender\") $sender_change(\"<s@x>\");\n"
	"  if (header :contains \"Subject\" \"hold\") quarantine \"q\";\n"
	"}\n"
	"void $hook_unknown(string $c) { if ($regmatch($c, \"^XREJ\")) reject \"cmd\"; }\n";

static struct program *pg;
static struct qctl ctl;

struct input {
	const uint8_t *data;
	size_t size, pos, cut;
};

static ssize_t
in_read(void *ctx, void *buf, size_t len, int timeout)
{
	struct input *in = ctx;
	size_t n = in->size - in->pos;

	(void) timeout;
	if (n == 0)
		return 0;
	if (n > len)
		n = len;
	if (n > in->cut)
		n = in->cut;
	memcpy(buf, in->data + in->pos, n);
	in->pos += n;
	return (ssize_t) n;
}

/* out_write - every reply line well formed */
static int
out_write(void *ctx, const void *buf, size_t len)
{
	const char *p = buf, *end = p + len;

	(void) ctx;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t) (end - p));

		if (nl == NULL || nl - p < 5 || nl[-1] != '\r'
		    || p[0] < '2' || p[0] > '5' || p[1] < '0' || p[1] > '9' || p[2] < '0' || p[2] > '9'
		    || (p[3] != ' ' && p[3] != '-'))
			abort();
		for (const char *c = p; c < nl - 1; c++)
			if ((unsigned char) *c < 32)
				abort();
		p = nl + 1;
	}
	return 0;
}

static int
queue(void *ctx, const char *msg, size_t len, const char *sender, char *const *rcpts,
      size_t n, unsigned long *qp, char *err, size_t errsize)
{
	(void) ctx, (void) err, (void) errsize;
	/* the server's Received: field is in the header (a script may
	 * insert fields above it); the client's bytes, NULs among them,
	 * pass as qmail-smtpd passes them */
	if (n == 0 || sender == NULL || memmem(msg, len, "Received: from ", 15) == NULL)
		abort();
	for (size_t i = 0; i < n; i++)
		if (rcpts[i] == NULL)
			abort();
	*qp = 1;
	return 0;
}

static void
init(void)
{
	char path[] = "/tmp/smtpd_fuzzXXXXXX";
	struct buf errors = BUF_INIT;
	int fd = mkstemp(path);
	static char *hosts[] = { "mx.test", ".relay.test" }, *bmf[] = { "@bad.test" };

	log_open("smtpd_fuzz", 0, LOG_EMERG);
	if (fd < 0 || write(fd, policy, sizeof(policy) - 1) != (ssize_t) sizeof(policy) - 1)
		abort();
	close(fd);
	if ((pg = program_compile(path, &errors)) == NULL) {
		fputs(buf_cstr(&errors), stderr);
		abort();
	}
	unlink(path);
	program_install(pg);
	ctl.me = "mx.test";
	ctl.greeting = "mx.test";
	ctl.localiphost = "mx.test";
	ctl.have_rcpthosts = 1;
	ctl.rcpthosts = hosts;
	ctl.nrcpthosts = 2;
	ctl.morercpthosts_fd = -1;
	ctl.bmf = bmf;
	ctl.nbmf = 1;
	ctl.databytes = 100000;
	ctl.timeout = 1;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct input in = { .data = data, .size = size };
	struct smtpd_io io = { .read = in_read, .write = out_write, .queue = queue, .ctx = &in };
	struct smtpd_conf conf = {
		.ctl = &ctl, .remoteip = "192.0.2.1", .remotehost = "client.test",
		.localip = "192.0.2.2", .local = "mx.test", .databytes = 100000,
		.timeout = 1, .max_rcpts = 50,
	};

	if (pg == NULL)
		init();
	if (size > 0) {
		in.cut = data[0] % 16 == 0 ? SIZE_MAX : (size_t) (data[0] % 16) * 7;
		in.pos = 1;
	}
	if (size > 1 && data[1] == 'R')
		conf.relayclient = "";
	smtpd_run(&conf, &io, smtpd_session_policy(pg, NULL));
	return 0;
}
