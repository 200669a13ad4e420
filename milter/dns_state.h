/* dns_state.h - what one connection asked of the DNS (dns_state.c) */
#ifndef MVMTR_DNS_STATE_H
#define MVMTR_DNS_STATE_H

#include "dns.h"
#include "spf.h"

struct dnsbl_cache;
struct spf_checker;

/* A session's SPF and DNSBL answers; intr_dns.c fills it on first use. */
struct dns_state {
	char *spec;			/* the resolver NS was parsed from */
	struct dns_server ns;
	struct dnsbl_cache *cache;
	struct spf_checker *spf;
	struct spf_result from, helo;
	char *from_for, *helo_for;	/* sender / HELO the results are for */
};

void dns_state_free(struct dns_state *st);

#endif
