/* received.h - the responsible IPs of a message's Received: chain */
#ifndef MDA_RECEIVED_H
#define MDA_RECEIVED_H

#include <stddef.h>

#define RECEIVED_IP_MAX	46	/* INET6_ADDRSTRLEN */

struct hdr_index;

size_t received_ips(const struct hdr_index *index, char (*ips)[RECEIVED_IP_MAX],
		    size_t max);
int ip_is_public(const char *ip);

#endif
