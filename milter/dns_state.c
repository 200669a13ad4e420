/*
 * dns_state - what one connection asked of the DNS: the resolver its
 * script names, the DNSBL answers per zone and address, the SPF results
 * for the sender and the HELO name. Kept with the session, so a script
 * may ask in every hook and pay for one lookup; filled by the language's
 * side (intr_dns.c), freed with the session (session.c), so neither
 * calls into the other.
 */
#include "config.h"

#include <stdlib.h>

#include "dns_state.h"
#include "dnsbl.h"
#include "spf.h"

/* dns_state_free - a connection's DNS state */
void
dns_state_free(struct dns_state *st)
{
	if (st == NULL)
		return;
	free(st->spec);
	dnsbl_cache_free(st->cache);
	spf_free(st->spf);
	spf_result_free(&st->from);
	spf_result_free(&st->helo);
	free(st->from_for);
	free(st->helo_for);
	free(st);
}
