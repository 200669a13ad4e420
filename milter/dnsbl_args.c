/*
 * dnsbl_args - what a dnsbl test (and $dnsbl_a, $dnsbl_txt) is given,
 * checked and read the same way in mvmtr and in mvmda: its tags (:codes
 * of IPv4 addresses or networks, :mask, :address), its zones, an
 * address to look up. The lookups and the rules of a listing are
 * dnsbl.c's; where the zones and addresses come from otherwise is each
 * host's (mvmtr: the client and the script's constant zones; mvmda: the
 * Received: chain and dnsbl.conf).
 *
 * DIAGNOSTICS: runtime errors naming the bad zone, code, mask or address.
 */
#include "config.h"

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "dnsbl_args.h"

const struct intr_tag dnsbl_tags[] = {
	{ .name = "codes", .arg = TAGARG_STRLIST, .id = DNSBL_TAG_CODES },
	{ .name = "mask", .arg = TAGARG_NUMBER, .id = DNSBL_TAG_MASK },
	{ .name = "address", .arg = TAGARG_STRING, .id = DNSBL_TAG_ADDRESS },
	{ .name = NULL },
};

/* dnsbl_args_filter - the :codes and :mask of a call into F (the codes
 * list, malloc'd, in *CODES_R for the caller to free); -1 after a
 * runtime error */
int
dnsbl_args_filter(struct mfl_run *run, const struct site *site, struct value *args,
		  struct dnsbl_filter *f, const char ***codes_r)
{
	struct value *codes, *mask;
	const struct value *items;
	const char **list;

	memset(f, 0, sizeof(*f));
	*codes_r = NULL;
	if (intr_tag_present(site, DNSBL_TAG_MASK, args, &mask)) {
		if (mask->u.i <= 0 || mask->u.i > 0xffffffffLL)
			return run_error(run, site, "dnsbl: :mask must be 1 to 0xffffffff");
		f->mask = (uint32_t) mask->u.i;
	}
	if (!intr_tag_present(site, DNSBL_TAG_CODES, args, &codes))
		return 0;
	run_strlist(run, site, codes, &f->ncodes, &items);
	if ((list = calloc(f->ncodes + 1, sizeof(*list))) == NULL)
		return run_error(run, site, "out of memory");
	for (size_t i = 0; i < f->ncodes; i++) {
		if ((list[i] = run_cstr(run, &items[i])) == NULL || !dnsbl_code_ok(list[i])) {
			free(list);
			return run_error(run, site,
					 "dnsbl: :codes \"%.*s\" is not an IPv4 address or network",
					 (int) (items[i].u.s.len > 60 ? 60 : items[i].u.s.len),
					 items[i].u.s.ptr);
		}
	}
	f->codes = list;
	*codes_r = list;
	return 0;
}

/* dnsbl_args_zones - the zones of string-list ARG, in a malloc'd list
 * with room for EXTRA more (*LIST_R, *N_R); -1 after a runtime error */
int
dnsbl_args_zones(struct mfl_run *run, const struct site *site, const struct value *arg,
		 size_t extra, const char ***list_r, size_t *n_r)
{
	const struct value *items;
	const char **list;
	size_t n;

	run_strlist(run, site, arg, &n, &items);
	if ((list = calloc(n + extra + 1, sizeof(*list))) == NULL)
		return run_error(run, site, "out of memory");
	for (size_t i = 0; i < n; i++) {
		const char *zone = run_cstr(run, &items[i]);

		if (zone == NULL || *zone == 0 || *zone == '.' || strlen(zone) > 200) {
			free(list);
			return run_error(run, site, "%s: \"%.*s\" is not a zone", site->intr->name,
					 (int) (items[i].u.s.len > 60 ? 60 : items[i].u.s.len),
					 items[i].u.s.ptr);
		}
		list[i] = zone;
	}
	*list_r = list;
	*n_r = n;
	return 0;
}

/* dnsbl_args_address - the IP address ARG holds, as a C string in the
 * run; NULL after a runtime error */
const char *
dnsbl_args_address(struct mfl_run *run, const struct site *site, const struct value *arg)
{
	const char *addr = run_cstr(run, arg);
	unsigned char bytes[16];

	if (addr == NULL || (inet_pton(AF_INET, addr, bytes) != 1
			     && inet_pton(AF_INET6, addr, bytes) != 1)) {
		run_error(run, site, "%s: \"%.*s\" is not an IP address", site->intr->name,
			  arg->u.s.len < 60 ? (int) arg->u.s.len : 60, arg->u.s.ptr);
		return NULL;
	}
	return addr;
}
