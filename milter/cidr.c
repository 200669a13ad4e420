/*
 * cidr - IP networks as text and bytes: "192.0.2.0/24" parsed and
 * formatted, an address's network at a prefix length, and IPv4 bytes
 * formatted without printf (for DNSBL names, reversed). Shared by
 * mvmtr's store and lists (assess.c) and the DNSBL code of both hosts.
 *
 * DIAGNOSTICS: -1 for text that is not an address or network.
 */
#include "config.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "cidr.h"

/* cidr_mask - zero the host bits of C */
void
cidr_mask(struct cidr *c)
{
	int bytes = c->family == AF_INET ? 4 : 16;

	for (int i = 0; i < bytes; i++) {
		int keep = c->len - 8 * i;

		if (keep <= 0)
			c->addr[i] = 0;
		else if (keep < 8)
			c->addr[i] &= (unsigned char) (0xff << (8 - keep));
	}
}

/* cidr_parse - "192.0.2.0/24", "2001:db8::/32" or an address; 0 or -1 */
int
cidr_parse(const char *text, struct cidr *c)
{
	char addr[INET6_ADDRSTRLEN + 8];
	const char *slash = strchr(text, '/');
	size_t n = slash ? (size_t) (slash - text) : strlen(text);

	memset(c, 0, sizeof(*c));
	if (n == 0 || n >= sizeof(addr))
		return -1;
	memcpy(addr, text, n);
	addr[n] = 0;
	if (inet_pton(AF_INET, addr, c->addr) == 1) {
		c->family = AF_INET;
		c->len = 32;
	} else if (inet_pton(AF_INET6, addr, c->addr) == 1) {
		c->family = AF_INET6;
		c->len = 128;
	} else {
		return -1;
	}
	if (slash != NULL) {
		char *end;
		long len = strtol(slash + 1, &end, 10);

		if (slash[1] == 0 || *end != 0 || len < 0 || len > c->len)
			return -1;
		c->len = (int) len;
	}
	cidr_mask(c);
	return 0;
}

/* cidr_of - the network of ADDR at LEN4 / LEN6 bits; 0 or -1 */
int
cidr_of(const char *addr, int len4, int len6, struct cidr *c)
{
	if (strchr(addr, '/') != NULL || cidr_parse(addr, c) < 0)
		return -1;
	c->len = c->family == AF_INET ? len4 : len6;
	cidr_mask(c);
	return 0;
}

/* ip4_format - the IPv4 address A as "192.0.2.1" in OUT (16 bytes),
 * its bytes last to first when REVERSE (a DNSBL name); its length.
 * (inet_ntop formats with printf: a tenth of a check's work.) */
size_t
ip4_format(const unsigned char *a, int reverse, char *out)
{
	size_t n = 0;

	for (int i = 0; i < 4; i++) {
		unsigned v = a[reverse ? 3 - i : i];

		if (i > 0)
			out[n++] = '.';
		if (v >= 100)
			out[n++] = (char) ('0' + v / 100);
		if (v >= 10)
			out[n++] = (char) ('0' + v / 10 % 10);
		out[n++] = (char) ('0' + v % 10);
	}
	out[n] = 0;
	return n;
}

/* cidr_format - "192.0.2.0/24" */
void
cidr_format(const struct cidr *c, char *out, size_t size)
{
	char a[INET6_ADDRSTRLEN];

	if (c->family == AF_INET)
		ip4_format(c->addr, 0, a);
	else
		inet_ntop(c->family, c->addr, a, sizeof(a));
	snprintf(out, size, "%s/%d", a, c->len);
}
