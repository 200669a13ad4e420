/*
 * dns_test - the stub resolver and the DNSBL rules: nameserver specs,
 * DNSBL query names (IPv4, IPv6 nibbles), codes and masks, and
 * dns_resolve() against a responder thread on loopback that answers
 * the way broken and hostile servers do: a wrong id first, a truncated
 * answer (then TCP), SERVFAIL, NXDOMAIN, garbage, nothing at all; and
 * the answers cached by their TTL, asked again once the server is gone.
 * The answers of a real server are dns.sh's (unbound).
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dns.h"
#include "dnsbl.h"
#include "tap.h"

static void
test_server_parse(void)
{
	static const struct {
		const char *spec, *want;
	} cases[] = {
		{ "192.0.2.1", "192.0.2.1:53" },
		{ "192.0.2.1:5353", "192.0.2.1:5353" },
		{ "::1", "[::1]:53" },
		{ "[2001:db8::1]:5300", "[2001:db8::1]:5300" },
		{ "[::1]", "[::1]:53" },
		{ "192.0.2.1:0", NULL },
		{ "192.0.2.1:65536", NULL },
		{ "192.0.2.1:x", NULL },
		{ "ns.example.org", NULL },
		{ "[::1", NULL },
		{ "[::1]x", NULL },
		{ "192.0.2.1,[::1]:5300", "192.0.2.1:53,[::1]:5300" },
		{ "192.0.2.1,192.0.2.2,192.0.2.3", "192.0.2.1:53,192.0.2.2:53,192.0.2.3:53" },
		{ "192.0.2.1,192.0.2.2,192.0.2.3,192.0.2.4", NULL },
		{ "192.0.2.1,", NULL },
		{ "192.0.2.1,,192.0.2.2", NULL },
	};
	char out[128], err[256];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct dns_server ns;
		int rc = dns_server_parse(cases[i].spec, &ns, err, sizeof(err));

		if (cases[i].want == NULL) {
			tap_ok(rc == -1 && strstr(err, cases[i].spec) != NULL,
			       "nameserver \"%s\" is refused, named in the error", cases[i].spec);
			continue;
		}
		dns_server_format(&ns, out, sizeof(out));
		tap_ok(rc == 0, "nameserver \"%s\" parses", cases[i].spec);
		tap_is_str(out, cases[i].want, "nameserver \"%s\"", cases[i].spec);
	}
}

static void
test_dnsbl_name(void)
{
	static const struct {
		const char *addr, *zone, *want;
	} cases[] = {
		{ "192.0.2.10", "bl.example", "10.2.0.192.bl.example" },
		{ "192.0.2.10", "bl.example.", "10.2.0.192.bl.example" },
		{ "2001:db8::99", "bl.example",
		  "9.9.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.bl.example" },
		{ "192.0.2.10", ".bl.example", NULL },
		{ "192.0.2.10", "", NULL },
		{ "not-an-ip", "bl.example", NULL },
	};
	char out[NS_MAXDNAME];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int rc = dnsbl_name(cases[i].addr, cases[i].zone, out, sizeof(out));

		if (cases[i].want == NULL)
			tap_is_int(rc, -1, "dnsbl name of %s in \"%s\" is refused", cases[i].addr,
				   cases[i].zone);
		else
			tap_is_str(rc == 0 ? out : "(error)", cases[i].want, "dnsbl name of %s in %s",
				   cases[i].addr, cases[i].zone);
	}
}

static void
test_listed(void)
{
	static const char *const codes4[] = { "127.0.0.4" };
	static const char *const codes_net[] = { "127.0.1.0/24", "127.0.0.9" };
	static const struct {
		uint32_t a;
		const char *const *codes;
		size_t ncodes;
		uint32_t mask;
		int want;
		const char *what;
	} cases[] = {
		{ 0x7f000002, NULL, 0, 0, 1, "127.0.0.2 lists" },
		{ 0x7f0000ff, NULL, 0, 0, 1, "any 127/8 answer lists" },
		{ 0x0a000002, NULL, 0, 0, 0, "an answer outside 127/8 does not" },
		{ 0x7ffffffe, NULL, 0, 0, 0, "127.255.255.254 is a refusal" },
		{ 0x7f000002, codes4, 1, 0, 0, ":codes 127.0.0.4: 127.0.0.2 does not list" },
		{ 0x7f000004, codes4, 1, 0, 1, ":codes 127.0.0.4: 127.0.0.4 lists" },
		{ 0x7f000163, codes_net, 2, 0, 1, ":codes 127.0.1.0/24: 127.0.1.99 lists" },
		{ 0x7f000009, codes_net, 2, 0, 1, ":codes: the second one lists" },
		{ 0x7f00000a, NULL, 0, 2, 1, ":mask 2: 127.0.0.10 lists" },
		{ 0x7f00000a, NULL, 0, 4, 0, ":mask 4: 127.0.0.10 does not" },
		{ 0x7f000004, codes4, 1, 4, 1, ":codes and :mask both hold" },
		{ 0x7f000004, codes4, 1, 2, 0, ":codes holds, :mask does not" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct dnsbl_entry e = { .a_status = DNS_OK, .na = 1 };
		struct dnsbl_filter f = { cases[i].codes, cases[i].ncodes, cases[i].mask };

		e.a[0] = cases[i].a;
		tap_is_int(dnsbl_listed(&e, &f), cases[i].want, "%s", cases[i].what);
	}
	{
		struct dnsbl_entry e = { .a_status = DNS_TIMEOUT, .na = 0 };
		struct dnsbl_filter f = { NULL, 0, 0 };

		tap_is_int(dnsbl_listed(&e, &f), 0, "a zone that timed out lists nothing");
	}
	tap_ok(dnsbl_code_ok("127.0.0.2") && dnsbl_code_ok("127.0.0.0/24")
	       && !dnsbl_code_ok("::1") && !dnsbl_code_ok("x"), ":codes takes IPv4 and CIDRs only");
}

/* The responder: it answers each query by its first label. */
static int udp_fd, tcp_fd;

/* chain - the answer records of the CNAME and owner cases after the
 * question (whose name is at offset 12), into OUT; their size. foreign:
 * an A for another name only; cname: the name is a CNAME for
 * t.example, which has 127.0.0.3, and another name has 127.0.0.9;
 * cnameout: a CNAME for t.example, and an A for another name only */
static size_t
chain(const char *mode, unsigned char *out)
{
	static const unsigned char other[] = {	/* other.example A 127.0.0.9 */
		5, 'o', 't', 'h', 'e', 'r', 7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 0,
		0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 127, 0, 0, 9,
	};
	static const unsigned char cname[] = {	/* NAME CNAME t.example */
		0xc0, 12, 0, 5, 0, 1, 0, 0, 0, 60, 0, 11,
		1, 't', 7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 0,
	};
	static const unsigned char target[] = {	/* t.example A 127.0.0.3 */
		1, 't', 7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 0,
		0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 127, 0, 0, 3,
	};
	size_t n = 0;

	if (strcmp(mode, "foreign") != 0) {
		memcpy(out + n, cname, sizeof(cname));
		n += sizeof(cname);
	}
	if (strcmp(mode, "cname") == 0) {
		memcpy(out + n, target, sizeof(target));
		n += sizeof(target);
	}
	memcpy(out + n, other, sizeof(other));
	n += sizeof(other);
	return n;
}

/* answer - the reply to QUERY (LEN bytes) for MODE into OUT; its size */
static size_t
answer(const unsigned char *query, size_t len, const char *mode, unsigned char *out, int tcp)
{
	size_t qend = 12;

	while (qend < len && query[qend])
		qend += query[qend] + 1u;
	qend += 5;		/* root, type, class */
	if (qend > len)
		return 0;
	memcpy(out, query, qend);
	out[2] = 0x81;		/* QR, RD */
	out[3] = 0x80;		/* RA, NOERROR */
	memset(out + 6, 0, 6);	/* no answers yet, no OPT echoed */
	if (strcmp(mode, "servfail") == 0) {
		out[3] |= 2;
	} else if (strcmp(mode, "nx") == 0) {
		out[3] |= 3;
	} else if (strcmp(mode, "trunc") == 0 && !tcp) {
		out[2] |= 0x02;
	} else if (strcmp(mode, "garbage") == 0) {
		out[7] = 5;	/* five answers that are not there */
		memset(out + qend, 0xff, 7);
		return qend + 7;
	} else if (strcmp(mode, "foreign") == 0 || strcmp(mode, "cname") == 0
		   || strcmp(mode, "cnameout") == 0) {
		out[7] = strcmp(mode, "foreign") == 0 ? 1 : strcmp(mode, "cname") == 0 ? 3 : 2;
		return qend + chain(mode, out + qend);
	} else {		/* an A answer, 127.0.0.2, by a pointer to the name */
		static const unsigned char rr[] = {
			0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 127, 0, 0, 2,
		};

		out[7] = 1;
		memcpy(out + qend, rr, sizeof(rr));
		return qend + sizeof(rr);
	}
	return qend;
}

/* label - the first label of QUERY's name, as a C string */
static void
label(const unsigned char *query, size_t len, char *out, size_t size)
{
	size_t n = len > 12 ? query[12] : 0;

	if (n >= size || 13 + n > len)
		n = 0;
	memcpy(out, query + 13, n);
	out[n] = 0;
}

static void *
udp_responder(void *arg)
{
	unsigned char q[2048], a[2048];
	struct sockaddr_storage from;

	(void) arg;
	for (;;) {
		socklen_t flen = sizeof(from);
		ssize_t n = recvfrom(udp_fd, q, sizeof(q), 0, (struct sockaddr *) &from, &flen);
		char mode[64];
		size_t alen;

		if (n <= 0)
			return NULL;
		label(q, (size_t) n, mode, sizeof(mode));
		if (strcmp(mode, "silent") == 0)
			continue;
		if (strcmp(mode, "short") == 0) {
			sendto(udp_fd, q, 5, 0, (struct sockaddr *) &from, flen);
			continue;
		}
		alen = answer(q, (size_t) n, mode, a, 0);
		if (strcmp(mode, "badid") == 0) {	/* a stray answer first */
			a[0] ^= 0x55;
			sendto(udp_fd, a, alen, 0, (struct sockaddr *) &from, flen);
			a[0] ^= 0x55;
		}
		sendto(udp_fd, a, alen, 0, (struct sockaddr *) &from, flen);
	}
}

static void *
tcp_responder(void *arg)
{
	unsigned char q[2048], a[2048], len[2];

	(void) arg;
	for (;;) {
		int c = accept(tcp_fd, NULL, NULL);
		size_t n, alen;
		char mode[64];

		if (c < 0)
			return NULL;
		if (read(c, len, 2) == 2 && (n = (size_t) len[0] << 8 | len[1]) <= sizeof(q)
		    && read(c, q, n) == (ssize_t) n) {
			label(q, n, mode, sizeof(mode));
			alen = answer(q, n, mode, a, 1);
			len[0] = (unsigned char) (alen >> 8);
			len[1] = (unsigned char) alen;
			if (write(c, len, 2) != 2 || write(c, a, alen) != (ssize_t) alen)
				perror("dns_test: tcp responder");
		}
		close(c);
	}
}

/* one A answer's address, for dns_each */
static void
take(void *ctx, const ns_msg *msg, const ns_rr *rr)
{
	uint32_t *a = ctx;

	(void) msg;
	if (ns_rr_rdlen(*rr) == 4)
		memcpy(a, ns_rr_rdata(*rr), 4);
}

/* a responder that answers every query with 127.0.0.2 */
static int good_fd;

static void *
good_responder(void *arg)
{
	unsigned char q[2048], a[2048];
	struct sockaddr_storage from;

	(void) arg;
	for (;;) {
		socklen_t flen = sizeof(from);
		ssize_t n = recvfrom(good_fd, q, sizeof(q), 0, (struct sockaddr *) &from, &flen);
		size_t alen;

		if (n <= 0)
			return NULL;
		alen = answer(q, (size_t) n, "good", a, 0);
		sendto(good_fd, a, alen, 0, (struct sockaddr *) &from, flen);
	}
}

/* test_failover - several nameservers, as libc takes them: one that is
 * down, or that fails, hands the query to the next at once; one that is
 * silent, at the next try. SIN is the label responder's address. */
static void
test_failover(const struct sockaddr_in *sin)
{
	struct sockaddr_in good = { .sin_family = AF_INET }, gone = { .sin_family = AF_INET };
	socklen_t len = sizeof(good);
	struct dns_query q;
	struct dns_server ns;
	char spec[160], err[128], conf[] = "/tmp/dns_test.XXXXXX", out[160];
	pthread_t t;
	int gone_fd, fd;
	int64_t start;
	FILE *fp;

	good.sin_addr.s_addr = gone.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	good_fd = socket(AF_INET, SOCK_DGRAM, 0);
	gone_fd = socket(AF_INET, SOCK_DGRAM, 0);
	if (bind(good_fd, (struct sockaddr *) &good, sizeof(good)) < 0
	    || getsockname(good_fd, (struct sockaddr *) &good, &len) < 0
	    || bind(gone_fd, (struct sockaddr *) &gone, sizeof(gone)) < 0
	    || getsockname(gone_fd, (struct sockaddr *) &gone, &len) < 0) {
		tap_ok(0, "responders for the failover: %s", strerror(errno));
		return;
	}
	close(gone_fd);		/* a port nobody listens on: the server is down */
	pthread_create(&t, NULL, good_responder, NULL);
	memset(&q, 0, sizeof(q));
	q.type = ns_t_a;

	snprintf(spec, sizeof(spec), "127.0.0.1:%u,127.0.0.1:%u", ntohs(gone.sin_port),
		 ntohs(good.sin_port));
	dns_server_parse(spec, &ns, err, sizeof(err));
	snprintf(q.name, sizeof(q.name), "failover1.example");
	start = dns_now_ms();
	dns_resolve(&ns, &q, 1, start + 3000);
	tap_is_str(dns_status_name(q.status), "ok", "the first nameserver down: the second answers");
	tap_ok(dns_now_ms() - start < 900, "at once, not at the next try");
	dns_query_done(&q);

	snprintf(spec, sizeof(spec), "127.0.0.1:%u,127.0.0.1:%u", ntohs(sin->sin_port),
		 ntohs(good.sin_port));
	dns_server_parse(spec, &ns, err, sizeof(err));
	snprintf(q.name, sizeof(q.name), "servfail.example");
	dns_resolve(&ns, &q, 1, dns_now_ms() + 3000);
	tap_is_str(dns_status_name(q.status), "ok", "the first says SERVFAIL: the second answers");
	dns_query_done(&q);
	snprintf(q.name, sizeof(q.name), "silent.example");
	start = dns_now_ms();
	dns_resolve(&ns, &q, 1, start + 3000);
	tap_is_str(dns_status_name(q.status), "ok", "the first is silent: the next try asks the second");
	dns_query_done(&q);

	/* resolv.conf: up to three nameservers, in their order */
	if ((fd = mkstemp(conf)) >= 0 && (fp = fdopen(fd, "w")) != NULL) {
		fprintf(fp, "# comment\nsearch example.org\nnameserver 192.0.2.1\n"
			"nameserver bogus\nnameserver ::1\nnameserver 192.0.2.3\n"
			"nameserver 192.0.2.4\n");
		fclose(fp);
		dns_server_resolv_conf(conf, &ns);
		dns_server_format(&ns, out, sizeof(out));
		tap_is_str(out, "192.0.2.1:53,[::1]:53,192.0.2.3:53",
			   "resolv.conf: the first three nameservers, not the first only");
		unlink(conf);
	}
	dns_server_resolv_conf("/nonexistent/resolv.conf", &ns);
	dns_server_format(&ns, out, sizeof(out));
	tap_is_str(out, "127.0.0.1:53", "no resolv.conf: the local host");
	shutdown(good_fd, SHUT_RDWR);
	pthread_join(t, NULL);
	close(good_fd);
}

static void
test_resolve(void)
{
	static const struct {
		const char *name;
		enum dns_status want;
		int answers;
	} cases[] = {
		{ "good.example", DNS_OK, 1 },
		{ "badid.example", DNS_OK, 1 },
		{ "trunc.example", DNS_OK, 1 },
		{ "servfail.example", DNS_FAIL, 0 },
		{ "nx.example", DNS_NXDOMAIN, 0 },
		{ "garbage.example", DNS_FAIL, 0 },
		{ "short.example", DNS_TIMEOUT, 0 },
		{ "silent.example", DNS_TIMEOUT, 0 },
		{ "foreign.example", DNS_OK, 0 },
		{ "cnameout.example", DNS_OK, 0 },
		{ "a..b", DNS_BADNAME, 0 },
		{ "x.0123456789012345678901234567890123456789012345678901234567890123", DNS_BADNAME, 0 },
	};
	enum { N = sizeof(cases) / sizeof(cases[0]) };
	struct sockaddr_in sin = { .sin_family = AF_INET };
	socklen_t slen = sizeof(sin);
	struct dns_query *q = calloc(N, sizeof(*q));
	struct dns_server ns;
	pthread_t t1, t2;
	char spec[64], err[128];
	int64_t start;
	int one = 1;

	/*
	 * The kernel picks a free UDP port; the same TCP port may be taken
	 * by another test's connection (make -j), so try a few ports.
	 */
	for (int tries = 0;; tries++) {
		int ok;

		sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		sin.sin_port = 0;
		slen = sizeof(sin);
		udp_fd = socket(AF_INET, SOCK_DGRAM, 0);
		tcp_fd = socket(AF_INET, SOCK_STREAM, 0);
		setsockopt(tcp_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		ok = q != NULL && bind(udp_fd, (struct sockaddr *) &sin, sizeof(sin)) == 0
		     && getsockname(udp_fd, (struct sockaddr *) &sin, &slen) == 0
		     && bind(tcp_fd, (struct sockaddr *) &sin, sizeof(sin)) == 0
		     && listen(tcp_fd, 8) == 0;
		if (ok)
			break;
		close(udp_fd);
		close(tcp_fd);
		if (q == NULL || tries == 50) {
			tap_ok(0, "a responder on loopback (UDP and TCP on one port): %s",
			       strerror(errno));
			free(q);
			return;
		}
	}
	pthread_create(&t1, NULL, udp_responder, NULL);
	pthread_create(&t2, NULL, tcp_responder, NULL);
	snprintf(spec, sizeof(spec), "127.0.0.1:%u", ntohs(sin.sin_port));
	tap_ok(dns_server_parse(spec, &ns, err, sizeof(err)) == 0, "the responder's address");
	for (size_t i = 0; i < N; i++) {
		snprintf(q[i].name, sizeof(q[i].name), "%s", cases[i].name);
		q[i].type = ns_t_a;
	}
	start = dns_now_ms();
	dns_resolve(&ns, q, N, start + 900);
	tap_ok(dns_now_ms() - start < 2000, "the batch ends by its deadline");
	for (size_t i = 0; i < N; i++) {
		uint32_t a = 0;
		size_t n = dns_each(&q[i], ns_t_a, take, &a);

		tap_is_str(dns_status_name(q[i].status), dns_status_name(cases[i].want), "%s",
			   cases[i].name);
		tap_is_int((long long) n, cases[i].answers, "%s: answers", cases[i].name);
		if (n > 0)
			tap_is_int(ntohl(a), 0x7f000002, "%s: 127.0.0.2", cases[i].name);
		dns_query_done(&q[i]);
	}
	{
		/* the owner of a record must be the name asked, or the end of
		 * its CNAME chain: a listing never comes from another name */
		uint32_t a = 0;

		snprintf(q[0].name, sizeof(q[0].name), "cname.example");
		dns_resolve(&ns, q, 1, dns_now_ms() + 900);
		tap_is_int((long long) dns_each(&q[0], ns_t_a, take, &a), 1,
			   "a CNAME chain: the A of its end only, not another name's");
		tap_is_int(ntohl(a), 0x7f000003, "cname.example: 127.0.0.3 from t.example");
		dns_query_done(&q[0]);
	}
	test_failover(&sin);
	/* a closed port: the server is down, known at once */
	shutdown(udp_fd, SHUT_RDWR);
	shutdown(tcp_fd, SHUT_RDWR);
	pthread_join(t1, NULL);
	pthread_join(t2, NULL);
	close(udp_fd);
	close(tcp_fd);
	snprintf(q[0].name, sizeof(q[0].name), "GOOD.example");
	dns_resolve(&ns, q, 1, dns_now_ms() + 1000);
	tap_ok(q[0].status == DNS_OK && q[0].cached && dns_each(&q[0], ns_t_a, NULL, NULL) == 1,
	       "an answer with a TTL comes from the cache (names without case)");
	dns_query_done(&q[0]);
	snprintf(q[0].name, sizeof(q[0].name), "nx.example");
	dns_resolve(&ns, q, 1, dns_now_ms() + 1000);
	tap_ok(q[0].status != DNS_NXDOMAIN, "a negative answer without an SOA is not cached");
	dns_query_done(&q[0]);
	snprintf(q[0].name, sizeof(q[0].name), "good2.example");
	start = dns_now_ms();
	dns_resolve(&ns, q, 1, start + 5000);
	tap_is_str(dns_status_name(q[0].status), "server failure", "a closed port fails");
	tap_ok(dns_now_ms() - start < 2500, "without waiting for the deadline");
	dns_query_done(&q[0]);
	free(q);
}

int
main(void)
{
	test_server_parse();
	test_dnsbl_name();
	test_listed();
	test_resolve();
	return tap_done();
}
