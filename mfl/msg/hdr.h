/* hdr.h - the header index of a message or MIME part */
#ifndef MFL_HDR_H
#define MFL_HDR_H

#include <stddef.h>

struct arena;

/* One header field; every pointer refers into the message. */
struct hdr_field {
	const char *name;	/* as written, without trailing white space */
	size_t name_len;
	const char *raw;	/* "Name: value" with folds, no final line end */
	size_t raw_len;
	const char *value;	/* after the colon, folds kept */
	size_t value_len;
	unsigned hash;		/* of the lower-cased name */
	int next;		/* next field in the same bucket, or -1 */
	const char *unfolded;	/* made by hdr_unfolded(), else NULL */
	size_t unfolded_len;
	const char *decoded;	/* made by hdr_decoded(), else NULL */
	size_t decoded_len;
	void *addrs;		/* its parsed address list, cached by users */
	size_t naddrs;
	size_t orig;		/* position in the message as it came, from
				 * 1; 0 for a field editheader added */
};

struct hdr_index {
	struct hdr_field *fields;
	size_t count;
	size_t body_off;	/* where the body starts, from the block */
	int *buckets;
	size_t nbuckets;	/* a power of two */
	struct arena *arena;
	int edited;		/* fields were added or removed: */
	struct hdr_field *orig_fields;	/* then these are the fields */
	size_t orig_count;		/* as the message came */
};

/* Says whether a line that starts with '-' ends the header block. */
typedef int (*hdr_stop_fn)(void *ctx, const char *line, size_t len);

struct hdr_index *hdr_index_build(struct arena *arena, const char *block,
				  size_t len, hdr_stop_fn stop, void *stop_ctx);
struct hdr_field *hdr_find(const struct hdr_index *index, const char *name,
			   size_t name_len, size_t nth);
size_t hdr_count(const struct hdr_index *index, const char *name,
		 size_t name_len);
int hdr_unfolded(const struct hdr_index *index, struct hdr_field *field);
int hdr_decoded(const struct hdr_index *index, struct hdr_field *field);
unsigned hdr_name_hash(const char *name, size_t len);
int hdr_insert(struct hdr_index *index, size_t pos, const char *raw, size_t len);
int hdr_remove(struct hdr_index *index, size_t i);
struct buf;
void hdr_format_field(struct buf *out, const char *name, size_t nlen,
		      const char *value, size_t vlen, const char *eol);

#endif
