/* addr.h - RFC 5322 address lists, obsolete syntax included */
#ifndef MFL_ADDR_H
#define MFL_ADDR_H

#include <stddef.h>

struct arena;
struct buf;

#define ADDR_F_INVALID	0x01	/* not an address: see raw */
#define ADDR_F_NULL	0x02	/* "<>", the null reverse-path */
#define ADDR_F_UNCLOSED	0x04	/* "<" without its ">" */
#define ADDR_F_ROUTE	0x08	/* had an obsolete source route */

struct addr {
	const char *local;	/* unquoted local part; "" for <> */
	const char *domain;	/* NULL when there was no "@" */
	const char *name;	/* display name, decoded to UTF-8, or NULL */
	const char *group;	/* display name of its group, or NULL */
	const char *raw;	/* the text it was parsed from */
	size_t raw_len;
	int flags;
};

int addr_parse_list(struct arena *arena, const char *text, size_t len,
		    struct addr **list_r, size_t *count_r);
void addr_spec(const struct addr *addr, struct buf *out);
int addr_parse_path(struct arena *arena, const char *s, size_t len, struct addr *out);
const char *rfc822_skip_comment(const char *p, const char *end);
int addr_detail(const char *local, size_t len, const char *separators,
		size_t *user_len_r, const char **detail_r, size_t *detail_len_r);

#endif
