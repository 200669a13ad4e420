/*
 * milter_drive - the MTA's side of the milter protocol, as fast as it
 * goes: THREADS threads each open a milter connection per transaction
 * (negotiate, connect, HELO, MAIL, RCPT, DATA, headers, body, end of
 * message, QUIT), honouring what the filter negotiated (stages it
 * switched off are not sent, stages without a reply are not waited
 * for). Prints transactions per second and latency percentiles, and
 * how the transactions ended.
 *
 *   milter_drive SOCKET COUNT THREADS CLIENT_IP SENDER RCPT BODY_BYTES
 *
 * CLIENT_IP may be a network, "192.0.2.0/24": transaction N then comes
 * from its Nth address (modulo its size); a "%n" in SENDER or RCPT is
 * the transaction's number: many clients, senders and recipients, so a
 * filter's caches see new ones (its cold path) rather than one triplet
 * over and over.
 *
 * SOCKET is unix:PATH or inet:PORT@ADDR. Exits 1 when a transaction
 * fails at the protocol level (a closed connection, a short reply).
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <libmilter/mfdef.h>

static const char *sock_spec, *client_ip, *sender, *rcpt;
static size_t body_bytes;
static char *body;
static long count, threads;
static double *lat;		/* per transaction, microseconds */
static long next_tx, failures, outcome[128];
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

static double
now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static int
dial(void)
{
	int fd;

	if (strncmp(sock_spec, "unix:", 5) == 0) {
		struct sockaddr_un sun = { .sun_family = AF_UNIX };

		snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", sock_spec + 5);
		if ((fd = socket(AF_UNIX, SOCK_STREAM, 0)) >= 0
		    && connect(fd, (struct sockaddr *) &sun, sizeof(sun)) == 0)
			return fd;
	} else {
		struct sockaddr_in sin = { .sin_family = AF_INET };
		const char *at = strchr(sock_spec, '@');

		sin.sin_port = htons((uint16_t) atoi(sock_spec + 5));
		inet_pton(AF_INET, at ? at + 1 : "127.0.0.1", &sin.sin_addr);
		int one = 1;

		if ((fd = socket(AF_INET, SOCK_STREAM, 0)) >= 0
		    && setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) == 0
		    && connect(fd, (struct sockaddr *) &sin, sizeof(sin)) == 0)
			return fd;
	}
	if (fd >= 0)
		close(fd);
	return -1;
}

static int
full_write(int fd, const void *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);

		if (w <= 0)
			return -1;
		p = (const char *) p + w;
		n -= (size_t) w;
	}
	return 0;
}

static int
full_read(int fd, void *p, size_t n)
{
	while (n > 0) {
		ssize_t r = read(fd, p, n);

		if (r <= 0)
			return -1;
		p = (char *) p + r;
		n -= (size_t) r;
	}
	return 0;
}

/* put - one command: CMD and LEN bytes of DATA, in one write (two
 * would meet Nagle's algorithm and a delayed ACK) */
static int
put(int fd, char cmd, const void *data, size_t len)
{
	unsigned char stack[2048], *p = len + 5 <= sizeof(stack) ? stack : malloc(len + 5);
	uint32_t n = htonl((uint32_t) len + 1);
	int rc;

	if (p == NULL)
		return -1;
	memcpy(p, &n, 4);
	p[4] = (unsigned char) cmd;
	if (len)
		memcpy(p + 5, data, len);
	rc = full_write(fd, p, len + 5);
	if (p != stack)
		free(p);
	return rc;
}

/* get - one reply's command byte; its first SIZE data bytes into OUT */
static int
get(int fd, unsigned char *out, size_t size)
{
	unsigned char head[5], buf[4096];
	uint32_t n;
	size_t at = 0;

	if (full_read(fd, head, 5) < 0)
		return -1;
	memcpy(&n, head, 4);
	n = ntohl(n);
	if (n == 0)
		return -1;
	for (n--; n > 0;) {
		size_t k = n > sizeof(buf) ? sizeof(buf) : n;

		if (full_read(fd, buf, k) < 0)
			return -1;
		for (size_t i = 0; i < k && out != NULL && at < size; i++)
			out[at++] = buf[i];
		n -= (uint32_t) k;
	}
	return head[4];
}

/* stage - send a stage unless switched off; its reply unless none */
static int
stage(int fd, uint32_t proto, uint32_t off, uint32_t noreply, char cmd, const void *data,
      size_t len)
{
	if (proto & off)
		return SMFIR_CONTINUE;
	if (put(fd, cmd, data, len) < 0)
		return -1;
	return proto & noreply ? SMFIR_CONTINUE : get(fd, NULL, 0);
}

/* final - after end of message: skip changes, give the decision */
static int
final(int fd)
{
	for (;;) {
		int r = get(fd, NULL, 0);

		if (r != SMFIR_ADDHEADER && r != SMFIR_INSHEADER && r != SMFIR_CHGHEADER
		    && r != SMFIR_ADDRCPT && r != SMFIR_ADDRCPT_PAR && r != SMFIR_DELRCPT
		    && r != SMFIR_CHGFROM && r != SMFIR_REPLBODY && r != SMFIR_PROGRESS
		    && r != SMFIR_QUARANTINE)
			return r;
	}
}

/* decided - a reply that ends the message's milter stages */
static int
decided(int r)
{
	return r != SMFIR_CONTINUE;
}

/* expand - TMPL with its first "%n" replaced by SEQ, into OUT */
static void
expand(const char *tmpl, long seq, char *out, size_t size)
{
	const char *p = strstr(tmpl, "%n");

	if (p == NULL)
		snprintf(out, size, "%s", tmpl);
	else
		snprintf(out, size, "%.*s%ld%s", (int) (p - tmpl), tmpl, seq, p + 2);
}

/* client_of - the client address of transaction SEQ into OUT */
static void
client_of(long seq, char *out, size_t size)
{
	const char *slash = strchr(client_ip, '/');
	char base[64];
	struct in_addr a;
	int bits;

	snprintf(out, size, "%s", client_ip);
	if (slash == NULL || (size_t) (slash - client_ip) >= sizeof(base))
		return;
	memcpy(base, client_ip, (size_t) (slash - client_ip));
	base[slash - client_ip] = 0;
	bits = atoi(slash + 1);
	if (inet_pton(AF_INET, base, &a) != 1 || bits < 8 || bits > 32)
		return;
	a.s_addr = htonl(ntohl(a.s_addr) + (uint32_t) (seq % (1L << (32 - bits))));
	inet_ntop(AF_INET, &a, out, (socklen_t) size);
}

/* transaction - one connection, one message; its outcome or -1 */
static int
transaction(long seq)
{
	unsigned char neg[12], got[12];
	uint32_t v[3] = { htonl(6), htonl(SMFI_CURR_ACTS), htonl(SMFI_CURR_PROT) }, proto;
	char buf[1024], who[256];
	int fd = dial(), r = -1;
	size_t n;

	if (fd < 0)
		return -1;
	client_of(seq, who, sizeof(who));
	memcpy(neg, v, 12);
	if (put(fd, SMFIC_OPTNEG, neg, 12) < 0 || get(fd, got, 12) != SMFIC_OPTNEG)
		goto out;
	memcpy(&proto, got + 8, 4);
	proto = ntohl(proto);
	n = (size_t) snprintf(buf, sizeof(buf), "client.example%c4%c%c%s", 0, 0x63, 0xdd, who) + 1;
	if ((r = stage(fd, proto, SMFIP_NOCONNECT, SMFIP_NR_CONN, SMFIC_CONNECT, buf, n)) < 0
	    || decided(r))
		goto quit;
	n = (size_t) snprintf(buf, sizeof(buf), "client.example") + 1;
	if ((r = stage(fd, proto, SMFIP_NOHELO, SMFIP_NR_HELO, SMFIC_HELO, buf, n)) < 0
	    || decided(r))
		goto quit;
	n = (size_t) snprintf(buf, sizeof(buf), "Mi%cQ%08lX", 0, seq) + 1;
	if (put(fd, SMFIC_MACRO, buf, n) < 0)
		goto fail;
	expand(sender, seq, who, sizeof(who));
	n = (size_t) snprintf(buf, sizeof(buf), "<%s>", who) + 1;
	if ((r = stage(fd, proto, SMFIP_NOMAIL, SMFIP_NR_MAIL, SMFIC_MAIL, buf, n)) < 0
	    || decided(r))
		goto quit;
	expand(rcpt, seq, who, sizeof(who));
	n = (size_t) snprintf(buf, sizeof(buf), "<%s>", who) + 1;
	if ((r = stage(fd, proto, SMFIP_NORCPT, SMFIP_NR_RCPT, SMFIC_RCPT, buf, n)) < 0
	    || decided(r))
		goto quit;
	if ((r = stage(fd, proto, SMFIP_NODATA, SMFIP_NR_DATA, SMFIC_DATA, NULL, 0)) < 0
	    || decided(r))
		goto quit;
	{
		static const char *const hdrs[][2] = {
			{ "From", "<sender@pass.test>" }, { "To", "<user@test.example>" },
			{ "Subject", "bench" }, { "Message-ID", "<bench@pass.test>" },
		};

		for (size_t i = 0; i < 4; i++) {
			n = (size_t) snprintf(buf, sizeof(buf), "%s%c %s", hdrs[i][0], 0, hdrs[i][1]) + 1;
			if ((r = stage(fd, proto, SMFIP_NOHDRS, SMFIP_NR_HDR, SMFIC_HEADER, buf, n)) < 0
			    || decided(r))
				goto quit;
		}
	}
	if ((r = stage(fd, proto, SMFIP_NOEOH, SMFIP_NR_EOH, SMFIC_EOH, NULL, 0)) < 0 || decided(r))
		goto quit;
	if ((r = stage(fd, proto, SMFIP_NOBODY, SMFIP_NR_BODY, SMFIC_BODY, body, body_bytes)) < 0
	    || decided(r))
		goto quit;
	if (put(fd, SMFIC_BODYEOB, NULL, 0) < 0)
		goto fail;
	r = final(fd);
quit:
	if (r >= 0 && put(fd, SMFIC_QUIT, NULL, 0) < 0)
		r = -1;
	goto out;
fail:
	r = -1;
out:
	close(fd);
	return r;
}

static void *
worker(void *arg)
{
	(void) arg;
	for (;;) {
		long seq;
		double t0;
		int r;

		pthread_mutex_lock(&lock);
		seq = next_tx < count ? next_tx++ : -1;
		pthread_mutex_unlock(&lock);
		if (seq < 0)
			return NULL;
		t0 = now_us();
		r = transaction(seq);
		lat[seq] = now_us() - t0;
		pthread_mutex_lock(&lock);
		if (r < 0)
			failures++;
		else
			outcome[r & 127]++;
		pthread_mutex_unlock(&lock);
	}
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *) a, y = *(const double *) b;

	return x < y ? -1 : x > y;
}

int
main(int argc, char **argv)
{
	pthread_t *tids;
	double t0, secs;

	if (argc != 8) {
		fprintf(stderr, "usage: milter_drive SOCKET COUNT THREADS CLIENT_IP SENDER RCPT BODY_BYTES\n");
		return 2;
	}
	sock_spec = argv[1];
	count = atol(argv[2]);
	threads = atol(argv[3]);
	client_ip = argv[4];
	sender = argv[5];
	rcpt = argv[6];
	body_bytes = (size_t) atol(argv[7]);
	if (count < 1 || threads < 1 || body_bytes > 65535)
		return 2;
	body = malloc(body_bytes + 1);
	lat = calloc((size_t) count, sizeof(*lat));
	tids = calloc((size_t) threads, sizeof(*tids));
	if (body == NULL || lat == NULL || tids == NULL)
		return 2;
	for (size_t i = 0; i < body_bytes; i++)	/* 72-character lines */
		body[i] = (i % 74 == 72) ? '\r' : (i % 74 == 73) ? '\n' : 'a' + (char) (i % 26);
	t0 = now_us();
	for (long i = 0; i < threads; i++)
		pthread_create(&tids[i], NULL, worker, NULL);
	for (long i = 0; i < threads; i++)
		pthread_join(tids[i], NULL);
	secs = (now_us() - t0) / 1e6;
	qsort(lat, (size_t) count, sizeof(*lat), cmp_double);
	printf("transactions %ld threads %ld seconds %.3f tx/s %.0f p50_ms %.3f p99_ms %.3f"
	       " max_ms %.3f failures %ld", count, threads, secs, count / secs,
	       lat[count / 2] / 1e3, lat[(long) (count * 0.99)] / 1e3, lat[count - 1] / 1e3,
	       failures);
	for (int c = 0; c < 128; c++)
		if (outcome[c])
			printf(" '%c' %ld", c, outcome[c]);
	printf("\n");
	free(tids);
	free(lat);
	free(body);
	return failures ? 1 : 0;
}
