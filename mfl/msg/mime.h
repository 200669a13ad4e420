/* mime.h - the MIME tree of a message, decoded on demand */
#ifndef MFL_MIME_H
#define MFL_MIME_H

#include <stddef.h>

struct arena;
struct buf;
struct hdr_index;
struct mime_param;

#define MIME_MAX_DEPTH	100	/* deeper parts are kept whole, as leaves */
#define MIME_MAX_PARTS	10000	/* later parts stay in their parent's body */

enum mime_cte {
	MIME_CTE_7BIT, MIME_CTE_8BIT, MIME_CTE_BINARY,
	MIME_CTE_QP, MIME_CTE_BASE64, MIME_CTE_UNKNOWN
};

#define MIME_F_DEFAULT_TYPE	0x01	/* no usable Content-Type */
#define MIME_F_NO_END		0x02	/* multipart without close delimiter */
#define MIME_F_NO_BOUNDARY	0x04	/* multipart without boundary: a leaf */
#define MIME_F_CAPPED		0x08	/* a limit kept it from being split */

struct mime_part {
	struct mime_part *parent;
	struct mime_part *child;	/* first child */
	struct mime_part *next;		/* next sibling */
	size_t nchildren;
	unsigned depth;			/* 0 for the message itself */
	unsigned index;			/* 0, 1, 2 ... in document order */
	const char *start;		/* the entity: headers and body */
	size_t len;
	const char *body;
	size_t body_len;
	struct hdr_index *hdrs;
	const char *type;		/* lower case: "text" */
	const char *subtype;		/* lower case: "plain" */
	struct mime_param *params;
	size_t nparams;
	enum mime_cte cte;
	int flags;
};

struct mime_part *mime_parse(struct arena *arena, const char *data,
			     size_t len, struct hdr_index *hdrs);
const char *mime_part_param(const struct mime_part *part, const char *name);
int mime_part_decode(const struct mime_part *part, struct buf *out);
int mime_part_text(const struct mime_part *part, struct buf *out);
int mime_part_text_view(const struct mime_part *part, struct buf *scratch,
			const char **text_r, size_t *len_r);
const char *mime_cte_name(enum mime_cte cte);
int mime_is_multipart(const struct mime_part *part);

#endif
