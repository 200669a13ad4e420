/* dnsbl_args.h - the dnsbl test's arguments, read the same way by both
 * hosts (mvmtr's intr_dns.c, mvmda's intr_dnsbl.c) */
#ifndef MVMTR_DNSBL_ARGS_H
#define MVMTR_DNSBL_ARGS_H

#include <stddef.h>

#include "dnsbl.h"
#include "mfl.h"

/* dnsbl's tags, by id: :codes list, :mask n, :address ip */
enum { DNSBL_TAG_CODES, DNSBL_TAG_MASK, DNSBL_TAG_ADDRESS };
extern const struct intr_tag dnsbl_tags[];

int dnsbl_args_filter(struct mfl_run *run, const struct site *site, struct value *args,
		      struct dnsbl_filter *f, const char ***codes_r);
int dnsbl_args_zones(struct mfl_run *run, const struct site *site, const struct value *arg,
		     size_t extra, const char ***list_r, size_t *n_r);
const char *dnsbl_args_address(struct mfl_run *run, const struct site *site,
			       const struct value *arg);

#endif
