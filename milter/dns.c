/*
 * dns - a stub resolver for SPF and DNSBL. Queries go to the
 * nameservers of mvmtr_resolver, else of /etc/resolv.conf (up to three,
 * as libc takes them) over UDP, all of a batch at once on their own
 * sockets, each retransmitted twice before one deadline; as libc does,
 * each retransmission goes to the next nameserver, and a server that
 * fails (SERVFAIL, REFUSED, a port unreachable) hands the query to the
 * next at once. An answer that arrives truncated is asked again over TCP
 * within the same deadline. Answers are read with libresolv's ns_*
 * parser; a record is taken only when its owner is the name asked or
 * the end of its CNAME chain in the answer.
 *
 * Answers are cached for the process, by name and type, for their TTL
 * (a negative answer for its SOA's minimum, RFC 2308 5), at most an
 * hour: a client that comes back, or a sender's SPF record, costs no
 * round trip. Failures and timeouts are not cached. The cache is the
 * only state shared between threads (under cache_lock); a batch
 * belongs to the thread that resolves it.
 *
 * DIAGNOSTICS: each query ends with a dns_status; an answer is taken
 * only from the nameserver's address, with the query's id and the
 * question asked, so a stray or spoofed datagram is ignored.
 */
#include "config.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <resolv.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "dns.h"
#include "mfl.h"
#include "msg/msg.h"

#define DNS_UDP_SIZE	1232	/* EDNS0 buffer size (the DNS flag day's) */
#define DNS_RETRIES	2	/* retransmissions before the deadline */
#define CACHE_SLOTS	4096	/* answers kept, one per slot */
#define CACHE_TTL_MAX	3600	/* seconds, whatever the TTL says */

/* One cached answer: the packet as it came. */
struct cache_slot {
	struct dns_server ns;	/* who said it */
	char *name;		/* lower case; NULL when empty */
	int type;
	enum dns_status status;	/* DNS_OK or DNS_NXDOMAIN */
	unsigned char *answer;
	size_t answer_len;
	int64_t expires;	/* dns_now_ms() */
};

static struct cache_slot cache[CACHE_SLOTS];
static pthread_mutex_t cache_lock = PTHREAD_MUTEX_INITIALIZER;

/* dns_now_ms - a monotonic clock in milliseconds */
int64_t
dns_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* dns_status_name - "timeout", for the log and the script */
const char *
dns_status_name(enum dns_status status)
{
	switch (status) {
	case DNS_OK:
		return "ok";
	case DNS_NXDOMAIN:
		return "nxdomain";
	case DNS_FAIL:
		return "server failure";
	case DNS_TIMEOUT:
		return "timeout";
	default:
		return "bad name";
	}
}

/* server_add - ADDR (numeric) and PORT as NS's next nameserver; -1 if
 * not an address or NS has all it takes */
static int
server_add(struct dns_server *ns, const char *addr, int port)
{
	struct sockaddr_in *sin;
	struct sockaddr_in6 *sin6;

	if (ns->count == DNS_MAXNS)
		return -1;
	sin = (struct sockaddr_in *) &ns->addr[ns->count];
	sin6 = (struct sockaddr_in6 *) &ns->addr[ns->count];
	if (inet_pton(AF_INET, addr, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons((uint16_t) port);
		ns->len[ns->count++] = sizeof(*sin);
		return 0;
	}
	if (inet_pton(AF_INET6, addr, &sin6->sin6_addr) == 1) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons((uint16_t) port);
		ns->len[ns->count++] = sizeof(*sin6);
		return 0;
	}
	memset(&ns->addr[ns->count], 0, sizeof(ns->addr[0]));
	return -1;
}

/* dns_server_resolv_conf - the nameservers of resolv.conf at PATH, up
 * to three in their order, else the local host (resolv.conf(5)) */
void
dns_server_resolv_conf(const char *path, struct dns_server *ns)
{
	FILE *fp = fopen(path, "r");
	char line[512], addr[128];

	memset(ns, 0, sizeof(*ns));
	while (fp != NULL && ns->count < DNS_MAXNS && fgets(line, sizeof(line), fp) != NULL)
		if (sscanf(line, " nameserver %127s", addr) == 1)
			(void) server_add(ns, addr, NS_DEFAULTPORT);
	if (fp != NULL)
		fclose(fp);
	if (ns->count == 0)
		server_add(ns, "127.0.0.1", NS_DEFAULTPORT);
}

/* server_parse - one nameserver of a spec (LEN bytes at SPEC) onto NS */
static int
server_parse(const char *spec, size_t len, struct dns_server *ns)
{
	char one[160], addr[160];
	const char *colon;
	long port = NS_DEFAULTPORT;
	char *end;

	if (len == 0 || len >= sizeof(one))
		return -1;
	memcpy(one, spec, len);
	one[len] = 0;
	spec = one;
	colon = strrchr(spec, ':');
	if (*spec == '[') {
		const char *close = strchr(spec, ']');

		if (close == NULL || (close[1] != 0 && close[1] != ':'))
			return -1;
		colon = close[1] == ':' ? close + 1 : NULL;
		snprintf(addr, sizeof(addr), "%.*s", (int) (close - spec - 1), spec + 1);
	} else if (colon != NULL && strchr(spec, ':') == colon) {
		snprintf(addr, sizeof(addr), "%.*s", (int) (colon - spec), spec);
	} else {
		colon = NULL;	/* a bare IPv6 address */
		snprintf(addr, sizeof(addr), "%s", spec);
	}
	if (colon != NULL) {
		errno = 0;
		port = strtol(colon + 1, &end, 10);
		if (errno || end == colon + 1 || *end || port < 1 || port > 65535)
			return -1;
	}
	return server_add(ns, addr, (int) port);
}

/* dns_server_parse - SPEC, up to three nameservers separated by commas
 * ("192.0.2.1", "192.0.2.1:5353", "::1", "[::1]:5353"), or "" for
 * resolv.conf's, into NS; -1 and ERR if bad */
int
dns_server_parse(const char *spec, struct dns_server *ns, char *err, size_t errsize)
{
	const char *p = spec, *comma;

	if (*spec == 0) {
		dns_server_resolv_conf("/etc/resolv.conf", ns);
		return 0;
	}
	memset(ns, 0, sizeof(*ns));
	for (;;) {
		comma = strchr(p, ',');
		if (server_parse(p, comma ? (size_t) (comma - p) : strlen(p), ns) < 0) {
			snprintf(err, errsize, "bad nameserver \"%s\" (want up to %d of an address, "
				 "address:port or [v6]:port, separated by commas)", spec, DNS_MAXNS);
			return -1;
		}
		if (comma == NULL)
			return 0;
		p = comma + 1;
	}
}

/* dns_server_format - NS as "addr:port" or "[v6]:port", comma-separated */
void
dns_server_format(const struct dns_server *ns, char *out, size_t size)
{
	size_t n = 0;

	*out = 0;
	for (int i = 0; i < ns->count && n < size; i++) {
		char a[INET6_ADDRSTRLEN] = "?";
		const char *sep = i ? "," : "";

		if (ns->addr[i].ss_family == AF_INET6) {
			const struct sockaddr_in6 *s6 = (const void *) &ns->addr[i];

			inet_ntop(AF_INET6, &s6->sin6_addr, a, sizeof(a));
			snprintf(out + n, size - n, "%s[%s]:%u", sep, a, ntohs(s6->sin6_port));
		} else {
			const struct sockaddr_in *s4 = (const void *) &ns->addr[i];

			inet_ntop(AF_INET, &s4->sin_addr, a, sizeof(a));
			snprintf(out + n, size - n, "%s%s:%u", sep, a, ntohs(s4->sin_port));
		}
		n += strlen(out + n);
	}
}

/* build - Q's query packet: header, question, EDNS0 OPT; -1 for a name
 * that cannot be asked (an empty label, one over 63 bytes, over 255) */
static int
build(struct dns_query *q)
{
	unsigned char *p = q->packet, *end = q->packet + sizeof(q->packet) - 16;
	const char *s = q->name, *dot;
	uint16_t id;
	size_t len = strlen(s);

	if (len > 0 && s[len - 1] == '.')
		len--;
	if (len == 0 || len > 253)
		return -1;
	if (getrandom(&id, sizeof(id), 0) != sizeof(id))
		id = (uint16_t) (dns_now_ms() ^ (uintptr_t) q);
	memset(p, 0, NS_HFIXEDSZ);
	NS_PUT16(id, p);
	NS_PUT16(0x0100, p);	/* a standard query, recursion desired */
	NS_PUT16(1, p);		/* one question */
	p += 4;			/* no answers, no authority */
	NS_PUT16(1, p);		/* one additional: the OPT */
	for (const char *label = s; label < s + len; label = dot + 1) {
		size_t n;

		dot = memchr(label, '.', (size_t) (s + len - label));
		if (dot == NULL)
			dot = s + len;
		n = (size_t) (dot - label);
		if (n == 0 || n > 63 || p + 1 + n >= end)
			return -1;
		*p++ = (unsigned char) n;
		memcpy(p, label, n);
		p += n;
	}
	*p++ = 0;
	NS_PUT16(q->type, p);
	NS_PUT16(ns_c_in, p);
	*p++ = 0;		/* OPT: the root name, RFC 6891 6.1.2 */
	NS_PUT16(ns_t_opt, p);
	NS_PUT16(DNS_UDP_SIZE, p);
	NS_PUT32(0, p);		/* extended rcode, version, flags */
	NS_PUT16(0, p);		/* no options */
	q->packet_len = (size_t) (p - q->packet);
	return 0;
}

/* question_len - bytes of Q's question section */
static size_t
question_len(const struct dns_query *q)
{
	return q->packet_len - NS_HFIXEDSZ - 11;	/* less header and OPT */
}

/* accept_answer - PKT is the answer to Q (same id and question): take
 * it and say 1; 0 to keep waiting */
static int
accept_answer(struct dns_query *q, const unsigned char *pkt, size_t len)
{
	size_t qlen = question_len(q);
	ns_msg msg;

	if (len < NS_HFIXEDSZ + qlen || memcmp(pkt, q->packet, 2) != 0
	    || !(pkt[2] & 0x80) || (pkt[2] & 0x78) || pkt[4] != 0 || pkt[5] != 1)
		return 0;
	for (size_t i = 0; i < qlen; i++)	/* names compare without case */
		if (tolower(pkt[NS_HFIXEDSZ + i]) != tolower(q->packet[NS_HFIXEDSZ + i]))
			return 0;
	if (pkt[2] & 0x02) {	/* TC: ask again over TCP */
		q->truncated = 1;
		return 1;
	}
	switch (pkt[3] & 0x0f) {
	case ns_r_noerror:
		q->status = DNS_OK;
		break;
	case ns_r_nxdomain:
		q->status = DNS_NXDOMAIN;
		break;
	default:
		q->status = DNS_FAIL;
		return 1;
	}
	if (ns_initparse(pkt, (int) len, &msg) < 0 || (q->answer = malloc(len)) == NULL) {
		q->status = DNS_FAIL;
		return 1;
	}
	memcpy(q->answer, pkt, len);
	q->answer_len = len;
	return 1;
}

/* cache_slot_of - the slot for NS, NAME (lower-cased into KEY) and TYPE */
static struct cache_slot *
cache_slot_of(const struct dns_server *ns, const char *name, int type, char *key, size_t size)
{
	size_t i;

	for (i = 0; name[i] && i + 1 < size; i++)
		key[i] = (char) tolower((unsigned char) name[i]);
	key[i] = 0;
	return &cache[str_hash(str_hash(STR_HASH_INIT ^ (uint32_t) type, &ns->addr[0], ns->len[0]),
			       key, i) % CACHE_SLOTS];
}

/* cache_get - Q answered from the cache of NS's answers: 1, else 0 */
static int
cache_get(const struct dns_server *ns, struct dns_query *q)
{
	char key[NS_MAXDNAME];
	struct cache_slot *c = cache_slot_of(ns, q->name, q->type, key, sizeof(key));
	int hit = 0;

	pthread_mutex_lock(&cache_lock);
	if (c->name != NULL && c->type == q->type && c->expires > dns_now_ms()
	    && memcmp(&c->ns, ns, sizeof(*ns)) == 0
	    && strcmp(c->name, key) == 0 && (q->answer = malloc(c->answer_len)) != NULL) {
		memcpy(q->answer, c->answer, c->answer_len);
		q->answer_len = c->answer_len;
		q->status = c->status;
		q->expires_ms = c->expires;
		hit = 1;
	}
	pthread_mutex_unlock(&cache_lock);
	return hit;
}

/* ttl_of - seconds Q's answer may be kept: the least TTL of its
 * answers, or for a negative answer the SOA's (RFC 2308 5); 0 if none */
static int64_t
ttl_of(const struct dns_query *q)
{
	ns_msg msg;
	ns_rr rr;
	int64_t ttl = -1;

	if (ns_initparse(q->answer, (int) q->answer_len, &msg) < 0)
		return 0;
	for (int i = 0; i < ns_msg_count(msg, ns_s_an); i++)
		if (ns_parserr(&msg, ns_s_an, i, &rr) == 0 && (ttl < 0 || ns_rr_ttl(rr) < ttl))
			ttl = ns_rr_ttl(rr);
	if (ttl >= 0)
		return ttl;
	for (int i = 0; i < ns_msg_count(msg, ns_s_ns); i++) {
		if (ns_parserr(&msg, ns_s_ns, i, &rr) < 0 || ns_rr_type(rr) != ns_t_soa
		    || ns_rr_rdlen(rr) < 20)
			continue;
		ttl = ns_get32(ns_rr_rdata(rr) + ns_rr_rdlen(rr) - 4);	/* MINIMUM */
		return ttl < (int64_t) ns_rr_ttl(rr) ? ttl : (int64_t) ns_rr_ttl(rr);
	}
	return 0;
}

/* cache_put - keep NS's answer to Q for its TTL (Q's expires_ms) */
static void
cache_put(const struct dns_server *ns, struct dns_query *q)
{
	char key[NS_MAXDNAME];
	struct cache_slot *c;
	int64_t ttl;
	unsigned char *copy;
	char *name;

	if ((q->status != DNS_OK && q->status != DNS_NXDOMAIN) || q->answer == NULL
	    || (ttl = ttl_of(q)) <= 0)
		return;
	q->expires_ms = dns_now_ms() + (ttl > CACHE_TTL_MAX ? CACHE_TTL_MAX : ttl) * 1000;
	c = cache_slot_of(ns, q->name, q->type, key, sizeof(key));
	if ((copy = malloc(q->answer_len)) == NULL || (name = strdup(key)) == NULL) {
		free(copy);
		return;
	}
	memcpy(copy, q->answer, q->answer_len);
	pthread_mutex_lock(&cache_lock);
	free(c->name);
	free(c->answer);
	c->ns = *ns;
	c->name = name;
	c->type = q->type;
	c->status = q->status;
	c->answer = copy;
	c->answer_len = q->answer_len;
	c->expires = q->expires_ms;
	pthread_mutex_unlock(&cache_lock);
}

/* udp_connect - Q's socket, connected to its nameserver in NS, and a
 * send; -1 when that fails (the socket closed) */
static int
udp_connect(const struct dns_server *ns, struct dns_query *q)
{
	int i = q->server;

	q->fd = socket(ns->addr[i].ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (q->fd < 0)
		return -1;
	if (connect(q->fd, (const struct sockaddr *) &ns->addr[i], ns->len[i]) < 0
	    || send(q->fd, q->packet, q->packet_len, 0) < 0) {
		close(q->fd);
		q->fd = -1;
		return -1;
	}
	return 0;
}

/* udp_open - Q built and sent to NS's first nameserver; -1 when the
 * query is over already (bad name, no socket) */
static int
udp_open(const struct dns_server *ns, struct dns_query *q)
{
	q->fd = -1;
	q->server = 0;
	q->tried = 1;
	if (build(q) < 0) {
		q->status = DNS_BADNAME;
		return -1;
	}
	q->status = DNS_FAIL;
	return udp_connect(ns, q);
}

/* udp_next - Q asked of NS's next nameserver (resolv.conf(5): each try
 * goes to the next); -1 when that fails */
static int
udp_next(const struct dns_server *ns, struct dns_query *q)
{
	if (q->fd >= 0)
		close(q->fd);
	q->fd = -1;
	q->server = (q->server + 1) % ns->count;
	q->tried++;
	q->status = DNS_FAIL;
	return udp_connect(ns, q);
}

/* udp_read - what Q's socket holds; 1 when Q is over: answered, or
 * failed with no nameserver of NS left to ask */
static int
udp_read(const struct dns_server *ns, struct dns_query *q)
{
	unsigned char pkt[65536];
	ssize_t n;

	for (;;) {
		if ((n = recv(q->fd, pkt, sizeof(pkt), 0)) < 0) {
			if (errno == EAGAIN || errno == EINTR)
				return 0;
			/* ECONNREFUSED: an ICMP port unreachable, the
			 * server is down: the next one, if any */
			break;
		}
		if (accept_answer(q, pkt, (size_t) n)) {
			if (q->status != DNS_FAIL || q->truncated)
				return 1;
			break;	/* SERVFAIL, REFUSED: libc asks the next */
		}
	}
	return q->tried < ns->count && udp_next(ns, q) == 0 ? 0 : 1;
}

/* io_wait - FD ready for EVENTS before DEADLINE */
static int
io_wait(int fd, short events, int64_t deadline)
{
	struct pollfd p = { .fd = fd, .events = events };
	int64_t left;

	while ((left = deadline - dns_now_ms()) > 0) {
		int rc = poll(&p, 1, (int) left);

		if (rc > 0)
			return 0;
		if (rc < 0 && errno != EINTR)
			return -1;
	}
	return -1;
}

/* io_full - all LEN bytes written (WRITING) or read before DEADLINE */
static int
io_full(int fd, unsigned char *data, size_t len, int writing, int64_t deadline)
{
	while (len > 0) {
		ssize_t n = writing ? send(fd, data, len, MSG_NOSIGNAL) : recv(fd, data, len, 0);

		if (n > 0) {
			data += n;
			len -= (size_t) n;
		} else if (n == 0 || (errno != EAGAIN && errno != EINTR)
			   || io_wait(fd, writing ? POLLOUT : POLLIN, deadline) < 0) {
			return -1;
		}
	}
	return 0;
}

/* tcp_query - Q asked again over TCP (RFC 7766) before DEADLINE */
static void
tcp_query(const struct dns_server *ns, struct dns_query *q, int64_t deadline)
{
	unsigned char len[2], *pkt = NULL;
	int fd = socket(ns->addr[q->server].ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	size_t n;

	q->status = DNS_FAIL;
	if (fd < 0)
		return;
	if (connect(fd, (const struct sockaddr *) &ns->addr[q->server], ns->len[q->server]) < 0
	    && errno != EINPROGRESS)
		goto out;
	len[0] = (unsigned char) (q->packet_len >> 8);
	len[1] = (unsigned char) q->packet_len;
	if (io_wait(fd, POLLOUT, deadline) < 0 || io_full(fd, len, 2, 1, deadline) < 0
	    || io_full(fd, q->packet, q->packet_len, 1, deadline) < 0
	    || io_full(fd, len, 2, 0, deadline) < 0) {
		q->status = dns_now_ms() >= deadline ? DNS_TIMEOUT : DNS_FAIL;
		goto out;
	}
	n = (size_t) len[0] << 8 | len[1];
	if ((pkt = malloc(n ? n : 1)) == NULL)
		goto out;
	if (io_full(fd, pkt, n, 0, deadline) < 0) {
		q->status = dns_now_ms() >= deadline ? DNS_TIMEOUT : DNS_FAIL;
		goto out;
	}
	q->truncated = 0;
	if (!accept_answer(q, pkt, n) || q->truncated)
		q->status = DNS_FAIL;
out:
	free(pkt);
	close(fd);
}

/* dns_resolve - the N queries of Q asked at once; each ends with a
 * status (and an answer when DNS_OK or DNS_NXDOMAIN) by DEADLINE_MS
 * (dns_now_ms()'s clock) */
void
dns_resolve(const struct dns_server *ns, struct dns_query *q, size_t n, int64_t deadline_ms)
{
	struct pollfd pfd[64];
	int64_t start = dns_now_ms(), step = (deadline_ms - start) / (DNS_RETRIES + 1);
	int64_t resend = start + (step > 0 ? step : 1);
	size_t pending = 0;

	for (size_t i = 0; i < n; i++) {
		q[i].answer = NULL;
		q[i].answer_len = 0;
		q[i].truncated = 0;
		q[i].cached = 0;
		q[i].expires_ms = 0;
		if (i >= sizeof(pfd) / sizeof(pfd[0])) {
			q[i].fd = -1;
			q[i].status = DNS_FAIL;	/* callers ask for fewer */
		} else if (cache_get(ns, &q[i])) {
			q[i].fd = -1;
			q[i].cached = 1;
		} else if (udp_open(ns, &q[i]) == 0) {
			pending++;
		}
	}
	while (pending > 0) {
		int64_t now = dns_now_ms(), wait;
		size_t np = 0;

		if (now >= deadline_ms)
			break;
		if (now >= resend) {
			/* a retransmission goes to the next nameserver */
			for (size_t i = 0; i < n; i++)
				if (q[i].fd >= 0 && ns->count > 1 && udp_next(ns, &q[i]) < 0)
					pending--;	/* no socket: over, failed */
				else if (q[i].fd >= 0)
					(void) send(q[i].fd, q[i].packet, q[i].packet_len, 0);
			resend += step > 0 ? step : 1;
		}
		wait = (resend < deadline_ms ? resend : deadline_ms) - now;
		for (size_t i = 0; i < n; i++)
			if (q[i].fd >= 0)
				pfd[np++] = (struct pollfd) { .fd = q[i].fd, .events = POLLIN };
		if (poll(pfd, np, (int) (wait > 0 ? wait : 0)) <= 0)
			continue;
		for (size_t i = 0, j = 0; i < n; i++) {
			if (q[i].fd < 0)
				continue;
			if (pfd[j++].revents && udp_read(ns, &q[i])) {
				close(q[i].fd);
				q[i].fd = -1;
				pending--;
				/* at once: the batch may wait for others
				 * until the deadline */
				if (q[i].truncated)
					tcp_query(ns, &q[i], deadline_ms);
			}
		}
	}
	for (size_t i = 0; i < n; i++) {
		if (q[i].fd >= 0) {
			close(q[i].fd);
			q[i].fd = -1;
			q[i].status = DNS_TIMEOUT;
		} else if (!q[i].cached) {
			cache_put(ns, &q[i]);
		}
	}
}

/* dns_query_done - free Q's answer */
void
dns_query_done(struct dns_query *q)
{
	free(q->answer);
	q->answer = NULL;
	q->answer_len = 0;
}

/* same_name - A and B name the same node: case aside, and a final dot */
static int
same_name(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);

	if (la > 0 && a[la - 1] == '.')
		la--;
	if (lb > 0 && b[lb - 1] == '.')
		lb--;
	return la == lb && strncasecmp(a, b, la) == 0;
}

/* owner - the name a query's records must be owned by: the name asked,
 * or where the CNAME chain from it in MSG's answer ends (RFC 1034
 * 3.6.2; at most 8 links, so a loop ends), into OUT */
static void
owner(const struct dns_query *q, ns_msg *msg, char *out, size_t size)
{
	ns_rr rr;

	snprintf(out, size, "%s", q->name);
	for (int hops = 0; hops < 8; hops++) {
		int moved = 0;

		for (int i = 0; i < ns_msg_count(*msg, ns_s_an) && !moved; i++)
			if (ns_parserr(msg, ns_s_an, i, &rr) == 0 && ns_rr_type(rr) == ns_t_cname
			    && ns_rr_class(rr) == ns_c_in && same_name(ns_rr_name(rr), out)
			    && ns_name_uncompress(ns_msg_base(*msg), ns_msg_end(*msg),
						  ns_rr_rdata(rr), out, size) >= 0)
				moved = 1;
		if (!moved)
			return;
	}
}

/* dns_each - FN for each record of TYPE in Q's answer section owned by
 * the name asked, or by the end of its CNAME chain: a record for any
 * other name (a hostile or broken server's extra) is not taken; how
 * many */
size_t
dns_each(const struct dns_query *q, int type,
	 void (*fn)(void *ctx, const ns_msg *msg, const ns_rr *rr), void *ctx)
{
	char name[NS_MAXDNAME];
	ns_msg msg;
	ns_rr rr;
	size_t count = 0;

	if (q->status != DNS_OK || q->answer == NULL
	    || ns_initparse(q->answer, (int) q->answer_len, &msg) < 0)
		return 0;
	owner(q, &msg, name, sizeof(name));
	for (int i = 0; i < ns_msg_count(msg, ns_s_an); i++) {
		if (ns_parserr(&msg, ns_s_an, i, &rr) < 0)
			break;
		if ((int) ns_rr_type(rr) != type || ns_rr_class(rr) != ns_c_in
		    || !same_name(ns_rr_name(rr), name))
			continue;
		count++;
		if (fn != NULL)
			fn(ctx, &msg, &rr);
	}
	return count;
}

/* dns_txt - a TXT record's strings, joined (RFC 7208 3.3), into OUT */
void
dns_txt(const ns_rr *rr, struct buf *out)
{
	const unsigned char *p = ns_rr_rdata(*rr), *end = p + ns_rr_rdlen(*rr);

	while (p < end) {
		size_t n = *p++;

		if (n > (size_t) (end - p))
			n = (size_t) (end - p);
		buf_append(out, p, n);
		p += n;
	}
}

/* dns_rr_name - the (compressed) name at AT in MSG's packet, into OUT */
int
dns_rr_name(const ns_msg *msg, const unsigned char *at, char *out, size_t size)
{
	return ns_name_uncompress(ns_msg_base(*msg), ns_msg_end(*msg), at, out, size) < 0 ? -1 : 0;
}
