/* cidr.h - IP networks as text and bytes (cidr.c) */
#ifndef MVMTR_CIDR_H
#define MVMTR_CIDR_H

#include <stddef.h>

/* A network: address bytes (IPv4 in the first 4) and prefix length. */
struct cidr {
	int family;		/* AF_INET or AF_INET6 */
	unsigned char addr[16];
	int len;
};

int cidr_parse(const char *text, struct cidr *c);
void cidr_mask(struct cidr *c);
int cidr_of(const char *addr, int len4, int len6, struct cidr *c);
void cidr_format(const struct cidr *c, char *out, size_t size);
size_t ip4_format(const unsigned char *a, int reverse, char *out);

#endif
