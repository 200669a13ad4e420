/*
 * received - the "responsible IPs" of a message: the addresses that
 * handed it on, read from the "from" clause of each Received: field,
 * newest first (RFC 5321 4.4: "from domain (TCP-info)"). An address is
 * taken from qmail-smtpd's last comment, "(192.0.2.1)" or
 * "(info@192.0.2.1)", else from a bracketed literal, "[192.0.2.1]" or
 * "[IPv6:2001:db8::1]", the form Postfix, Sendmail and Exim write: the
 * one in a comment, where they put the address they saw, not a literal
 * the client gave as its HELO name.
 * Loopback, private, link-local and shared addresses are skipped: no
 * DNS block list lists them. Each address is given once.
 *
 * DIAGNOSTICS: none; a field without a usable address adds nothing.
 */
#include "config.h"

#include <arpa/inet.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>

#include "msg/msg.h"
#include "received.h"

/* ip_is_public - IP is a global unicast address */
int
ip_is_public(const char *ip)
{
	unsigned char a[16];

	if (inet_pton(AF_INET, ip, a) == 1)
		return !(a[0] == 0 || a[0] == 10 || a[0] == 127
			 || (a[0] == 100 && (a[1] & 0xc0) == 64)
			 || (a[0] == 169 && a[1] == 254)
			 || (a[0] == 172 && (a[1] & 0xf0) == 16)
			 || (a[0] == 192 && a[1] == 168) || a[0] >= 224);
	if (inet_pton(AF_INET6, ip, a) == 1) {
		static const unsigned char loop[16] = { [15] = 1 }, any[16];

		return !(memcmp(a, loop, 16) == 0 || memcmp(a, any, 16) == 0
			 || (a[0] & 0xfe) == 0xfc || (a[0] == 0xfe && (a[1] & 0xc0) == 0x80)
			 || a[0] == 0xff);
	}
	return 0;
}

/* from_clause - the part of VALUE before " by ", where the sender is */
static size_t
from_clause(const char *v, size_t len)
{
	for (size_t i = 0; i + 4 <= len; i++)
		if ((v[i] == ' ' || v[i] == '\t' || v[i] == '\n' || v[i] == ')')
		    && strncasecmp(v + i + 1, "by", 2) == 0 && i + 3 < len
		    && (v[i + 3] == ' ' || v[i + 3] == '\t' || v[i + 3] == '\r' || v[i + 3] == '\n'))
			return i;
	return len;
}

/* literal_at - the address literal "[...]" at V[I] (up to LEN), into
 * IP; 0 when it is not one */
static int
literal_at(const char *v, size_t len, size_t i, char *ip)
{
	unsigned char bin[16];
	const char *start = v + i + 1, *end = memchr(start, ']', len - i - 1);
	size_t n;

	if (end == NULL)
		return 0;
	if ((size_t) (end - start) > 5 && strncasecmp(start, "IPv6:", 5) == 0)
		start += 5;
	n = (size_t) (end - start);
	if (n == 0 || n >= RECEIVED_IP_MAX)
		return 0;
	memcpy(ip, start, n);
	ip[n] = 0;
	return inet_pton(AF_INET, ip, bin) == 1 || inet_pton(AF_INET6, ip, bin) == 1;
}

/* bracketed - the address literal of V that names the client, into IP;
 * 0 if none. The HELO name the client chose may be a literal too, and
 * each MTA puts it elsewhere: Postfix and Sendmail write "from HELO
 * (HOST [IP])", Exim "from HOST ([IP] helo=HELO)" or "from [IP]
 * (helo=HELO)". So a literal inside a comment wins over one outside,
 * and one right after "helo=" never counts; else the first. */
static int
bracketed(const char *v, size_t len, char *ip)
{
	char outside[RECEIVED_IP_MAX];
	int depth = 0, have_outside = 0;

	for (size_t i = 0; i < len; i++) {
		if (v[i] == '(')
			depth++;
		else if (v[i] == ')' && depth > 0)
			depth--;
		if (v[i] != '[')
			continue;
		if (i >= 5 && strncasecmp(v + i - 5, "helo=", 5) == 0)
			continue;
		if (depth > 0) {
			if (literal_at(v, len, i, ip))
				return 1;
		} else if (!have_outside && literal_at(v, len, i, outside)) {
			have_outside = 1;
		}
	}
	if (have_outside)
		memcpy(ip, outside, sizeof(outside));
	return have_outside;
}

/* qmail_form - the address of qmail-smtpd's form, "from HOST (HELO
 * NAME) (IP)" or "(INFO@IP)": the last comment of V, just before "by",
 * holding nothing but an address after the last '@', into IP; 0 if V is
 * not of that form. qmail-smtpd writes that comment itself from
 * tcpserver's TCPREMOTEIP, while the HELO comment before it may hold an
 * address literal the client chose */
static int
qmail_form(const char *v, size_t len, char *ip)
{
	unsigned char bin[16];
	const char *open, *start;
	size_t n;

	while (len > 0 && (v[len - 1] == ' ' || v[len - 1] == '\t' || v[len - 1] == '\r'
			   || v[len - 1] == '\n'))
		len--;
	if (len < 2 || v[len - 1] != ')')
		return 0;
	for (open = v + len - 1; open > v && open[-1] != '('; open--)
		if (open[-1] == ')')
			return 0;
	if (open == v)
		return 0;
	for (start = v + len - 1; start > open && start[-1] != '@'; start--)
		;
	n = (size_t) (v + len - 1 - start);
	if (n == 0 || n >= RECEIVED_IP_MAX)
		return 0;
	memcpy(ip, start, n);
	ip[n] = 0;
	return inet_pton(AF_INET, ip, bin) == 1 || inet_pton(AF_INET6, ip, bin) == 1;
}

/* received_ips - up to MAX public IPs of the Received: chain, newest first */
size_t
received_ips(const struct hdr_index *index, char (*ips)[RECEIVED_IP_MAX], size_t max)
{
	size_t n = 0;

	for (size_t i = 0; i < index->count && n < max; i++) {
		const struct hdr_field *f = &index->fields[i];
		char ip[RECEIVED_IP_MAX];
		const char *v = f->value;
		size_t len = f->value_len, dup;

		if (f->name_len != 8 || strncasecmp(f->name, "Received", 8) != 0)
			continue;
		while (len > 0 && (*v == ' ' || *v == '\t' || *v == '\r' || *v == '\n'))
			v++, len--;
		if (len < 5 || strncasecmp(v, "from", 4) != 0)
			continue;
		if (!qmail_form(v, from_clause(v, len), ip)
		    && !bracketed(v, from_clause(v, len), ip))
			continue;
		if (!ip_is_public(ip))
			continue;
		for (dup = 0; dup < n && strcmp(ips[dup], ip) != 0; dup++)
			;
		if (dup == n)
			strcpy(ips[n++], ip);
	}
	return n;
}
