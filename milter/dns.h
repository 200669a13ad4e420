/* dns.h - a stub resolver for SPF and DNSBL: up to three nameservers
 * in turn, many queries at once, a deadline */
#ifndef MVMTR_DNS_H
#define MVMTR_DNS_H

#include <arpa/nameser.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

struct buf;

/* How a query ended. DNS_FAIL: SERVFAIL, REFUSED, a malformed answer,
 * or the server refused the connection (down). */
enum dns_status {
	DNS_OK, DNS_NXDOMAIN, DNS_FAIL, DNS_TIMEOUT, DNS_BADNAME
};

#define DNS_MAXNS	3	/* nameservers tried in turn, as libc's MAXNS */

/* The nameservers queries go to, the first first. */
struct dns_server {
	struct sockaddr_storage addr[DNS_MAXNS];
	socklen_t len[DNS_MAXNS];
	int count;
};

/* One question and, once resolved, its answer. */
struct dns_query {
	char name[NS_MAXDNAME];		/* in: the name asked for */
	int type;			/* in: ns_t_a, ns_t_txt, ... */
	enum dns_status status;		/* out */
	unsigned char *answer;		/* out: the packet (malloc'd) */
	size_t answer_len;
	int64_t expires_ms;		/* out: until when the answer holds
					 * (its TTL, capped); 0: not to be kept */
	/* private to dns.c */
	unsigned char packet[NS_MAXDNAME + 32];
	size_t packet_len;
	int fd;
	int truncated;
	int cached;			/* answered from the cache */
	int server;			/* the nameserver asked now */
	int tried;			/* how many were asked */
};

int dns_server_parse(const char *spec, struct dns_server *ns, char *err,
		     size_t errsize);
void dns_server_resolv_conf(const char *path, struct dns_server *ns);
void dns_server_format(const struct dns_server *ns, char *out, size_t size);
void dns_resolve(const struct dns_server *ns, struct dns_query *q, size_t n,
		 int64_t deadline_ms);
void dns_query_done(struct dns_query *q);
const char *dns_status_name(enum dns_status status);
int64_t dns_now_ms(void);

/* Reading an answer: each record of TYPE in the answer section. */
size_t dns_each(const struct dns_query *q, int type,
		void (*fn)(void *ctx, const ns_msg *msg, const ns_rr *rr),
		void *ctx);
void dns_txt(const ns_rr *rr, struct buf *out);
int dns_rr_name(const ns_msg *msg, const unsigned char *at, char *out,
		size_t size);

#endif
