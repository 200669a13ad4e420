/* str.h - (pointer, length) string views and ASCII helpers */
#ifndef MFL_STR_H
#define MFL_STR_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

struct str {
	const char *ptr;
	size_t len;
};

#define STR_LIT(s)	((struct str) { (s), sizeof(s) - 1 })

#define STR_HASH_INIT	2166136261u

/* str_hash - FNV-1a of LEN bytes at DATA, going on from H (STR_HASH_INIT
 * to start): table slots for controls, DNS answers, SPF results */
static inline uint32_t
str_hash(uint32_t h, const void *data, size_t len)
{
	const unsigned char *p = data;

	for (size_t i = 0; i < len; i++)
		h = (h ^ p[i]) * 16777619u;
	return h;
}

/* ascii_lower - ASCII lower case of CH, other bytes unchanged */
static inline int
ascii_lower(int ch)
{
	return ch >= 'A' && ch <= 'Z' ? ch + ('a' - 'A') : ch;
}

/* ascii_upper - ASCII upper case of CH, other bytes unchanged */
static inline int
ascii_upper(int ch)
{
	return ch >= 'a' && ch <= 'z' ? ch - ('a' - 'A') : ch;
}

/* ascii_isalpha, ascii_isdigit - RFC 5234 ALPHA and DIGIT */
static inline int
ascii_isalpha(int ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z');
}

static inline int
ascii_isdigit(int ch)
{
	return ch >= '0' && ch <= '9';
}

/* is_wsp - RFC 5234 WSP */
static inline int
is_wsp(int ch)
{
	return ch == ' ' || ch == '\t';
}

/* mem_ieq - equal byte strings, ASCII letters compared without case */
static inline int
mem_ieq(const char *a, const char *b, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (ascii_lower((unsigned char) a[i])
		    != ascii_lower((unsigned char) b[i]))
			return 0;
	return 1;
}

/* str_ieq_cstr - view equal to C string S without case */
static inline int
str_ieq_cstr(const char *p, size_t len, const char *s)
{
	size_t slen = strlen(s);

	return len == slen && mem_ieq(p, s, len);
}

/* str_trim - view without leading and trailing WSP, CR and LF */
static inline struct str
str_trim(const char *p, size_t len)
{
	while (len > 0 && (is_wsp(*p) || *p == '\r' || *p == '\n'))
		p++, len--;
	while (len > 0 && (is_wsp(p[len - 1]) || p[len - 1] == '\r'
			   || p[len - 1] == '\n'))
		len--;
	return (struct str) { p, len };
}

#endif
