/* spf.h - SPF (RFC 7208) checks with libspf2 over mvmtr's resolver */
#ifndef MVMTR_SPF_H
#define MVMTR_SPF_H

#include <stdint.h>

#include "dns.h"

/* What a check found; the strings are malloc'd. */
struct spf_result {
	const char *result;	/* "pass", "fail", ... "permerror" */
	char *explanation;	/* for a fail: the domain's exp=, or ours */
	char *comment;		/* "host: domain of x designates ..." */
	char *header;		/* the Received-SPF field body */
};

/* Where and how long: the nameserver, a deadline for each query and
 * one for the whole check (dns_now_ms()'s clock). */
struct spf_limits {
	const struct dns_server *ns;
	int query_ms;
	int64_t deadline_ms;
};

struct spf_checker;

struct spf_checker *spf_new(void);
void spf_free(struct spf_checker *spf);
int spf_check(struct spf_checker *spf, const struct spf_limits *limits,
	      const char *client_addr, const char *helo, const char *sender,
	      const char *receiver, struct spf_result *out);
void spf_result_free(struct spf_result *r);

/* spf_cache.c: results kept across connections while their answers hold */
int spf_cache_get(const struct spf_limits *lim, const char *client_addr,
		  const char *helo, const char *sender, const char *receiver,
		  struct spf_result *out);
void spf_cache_put(const struct spf_limits *lim, const char *client_addr,
		   const char *helo, const char *sender, const char *receiver,
		   const struct spf_result *r, int64_t expires_ms);

#endif
