/* dnsbl.h - DNS block lists (RFC 5782): answers per connection */
#ifndef MVMTR_DNSBL_H
#define MVMTR_DNSBL_H

#include <stddef.h>
#include <stdint.h>

#include "dns.h"

#define DNSBL_MAX_A	16	/* A answers kept per zone */

/* What one zone said about one address. */
struct dnsbl_entry {
	char *zone, *addr;
	enum dns_status a_status;	/* DNS_NXDOMAIN: not listed */
	uint32_t a[DNSBL_MAX_A];	/* host order */
	size_t na;
	int have_txt;
	enum dns_status txt_status;
	char *txt;			/* the TXT answers, each NUL-ended */
	size_t txt_len, ntxt;
	int logged;			/* its trouble was logged */
	struct dnsbl_entry *next;
};

/* What a zone's answer must be to list: one of CODES (addresses or
 * CIDRs; none given: in 127/8), with a bit of MASK when MASK is set. */
struct dnsbl_filter {
	const char *const *codes;
	size_t ncodes;
	uint32_t mask;			/* 0: none */
};

struct dnsbl_cache;

struct dnsbl_cache *dnsbl_cache_new(void);
void dnsbl_cache_free(struct dnsbl_cache *cache);
int dnsbl_name(const char *addr, const char *zone, char *out, size_t size);
int dnsbl_fetch(struct dnsbl_cache *cache, const struct dns_server *ns,
		const char *addr, const char *const *zones, size_t n, int txt,
		int64_t deadline_ms);
struct dnsbl_entry *dnsbl_get(struct dnsbl_cache *cache, const char *addr,
			      const char *zone);
int dnsbl_listed(const struct dnsbl_entry *e, const struct dnsbl_filter *f);
int dnsbl_refused(const struct dnsbl_entry *e);
int dnsbl_code_ok(const char *code);

#endif
