/*
 * hdr - index the header block of a message or MIME part in one pass
 *
 * A field starts with a name and a colon at the start of a line and runs
 * over the continuation lines that start with SP or HTAB (RFC 5322 2.2.3).
 * Line ends are LF or CRLF; a bare CR is an ordinary byte. White space
 * before the colon (RFC 5322 4.5 obsolete syntax) is allowed and not part
 * of the name. The block ends at an empty line, at the end of the data,
 * at a line that is not a field (no colon, or a name with white space or
 * control bytes: the body then starts at that line, as in Postfix), or at
 * a line the caller's stop function claims (a MIME boundary).
 *
 * The index holds spans into the message and a hash chain per name, so
 * lookups cost a hash and a short chain walk. Unfolded and RFC 2047-
 * decoded values are made on first use and kept in the arena.
 *
 * Limits: none of its own: the index grows with the block, whose size the
 * host bounds; field and line lengths are unlimited.
 *
 * DIAGNOSTICS: NULL or -1 with errno ENOMEM when the arena is full.
 */
#include "config.h"

#include <errno.h>
#include <string.h>

#include "arena.h"
#include "buf.h"
#include "hdr.h"
#include "rfc2047.h"
#include "str.h"

/* hdr_name_hash - FNV-1a of the lower-cased name */
unsigned
hdr_name_hash(const char *name, size_t len)
{
	unsigned h = 2166136261u;

	for (size_t i = 0; i < len; i++) {
		h ^= (unsigned) ascii_lower((unsigned char) name[i]);
		h *= 16777619u;
	}
	return h;
}

/* hdr_name_len - length of the field name on LINE, or 0 if not a field */
static size_t
hdr_name_len(const char *line, size_t len, size_t *colon_r)
{
	const char *colon = memchr(line, ':', len);
	size_t name_len, i;

	if (colon == NULL)
		return 0;
	name_len = (size_t) (colon - line);
	while (name_len > 0 && is_wsp(line[name_len - 1]))
		name_len--;
	for (i = 0; i < name_len; i++) {
		unsigned char c = (unsigned char) line[i];

		if (c <= ' ' || c == 127)
			return 0;
	}
	*colon_r = (size_t) (colon - line);
	return name_len;
}

/* hdr_push - room for one more field; -1 when out of memory */
static int
hdr_push(struct hdr_index *index, size_t *cap)
{
	struct hdr_field *fields;
	size_t newcap;

	if (index->count < *cap)
		return 0;
	newcap = *cap ? *cap * 2 : 32;
	if ((fields = arena_alloc(index->arena, newcap * sizeof(*fields))) == NULL)
		return -1;
	if (index->count > 0)
		memcpy(fields, index->fields, index->count * sizeof(*fields));
	index->fields = fields;
	*cap = newcap;
	return 0;
}

/* hdr_hash_all - build the name buckets once all fields are known */
static int
hdr_hash_all(struct hdr_index *index)
{
	size_t n = 16;

	int *buckets;

	while (n < index->count * 2)
		n *= 2;
	if (index->buckets != NULL && index->nbuckets >= n) {
		n = index->nbuckets;	/* big enough: chained anew in place */
	} else {
		if ((buckets = arena_alloc(index->arena, n * sizeof(int))) == NULL)
			return -1;
		index->buckets = buckets;
	}
	memset(index->buckets, 0xff, n * sizeof(int));
	index->nbuckets = n;
	/* Walk backwards so each chain lists fields in message order. */
	for (size_t i = index->count; i-- > 0;) {
		struct hdr_field *f = &index->fields[i];
		size_t b = f->hash & (n - 1);

		f->next = index->buckets[b];
		index->buckets[b] = (int) i;
	}
	return 0;
}

/* hdr_index_build - index the fields of BLOCK; NULL when out of memory */
struct hdr_index *
hdr_index_build(struct arena *arena, const char *block, size_t len,
		hdr_stop_fn stop, void *stop_ctx)
{
	struct hdr_index *index = arena_zalloc(arena, sizeof(*index));
	const char *p = block, *end = block + len;
	struct hdr_field *cur = NULL;
	size_t cap = 0;

	if (index == NULL)
		return NULL;
	index->arena = arena;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t) (end - p));
		const char *next = nl != NULL ? nl + 1 : end;
		const char *eol = nl != NULL ? nl : end;
		size_t name_len, colon;

		if (eol > p && eol[-1] == '\r')
			eol--;
		if (eol == p) {			/* empty line: end of header */
			p = next;
			break;
		}
		if (is_wsp(*p)) {		/* continuation */
			if (cur != NULL) {
				cur->raw_len = (size_t) (eol - cur->raw);
				cur->value_len = (size_t) (eol - cur->value);
			}
			p = next;
			continue;
		}
		if (*p == '-' && stop != NULL && stop(stop_ctx, p, (size_t) (eol - p)))
			break;
		if ((name_len = hdr_name_len(p, (size_t) (eol - p), &colon)) == 0)
			break;			/* not a field: the body starts */
		if (hdr_push(index, &cap) < 0)
			return NULL;
		cur = &index->fields[index->count++];
		memset(cur, 0, sizeof(*cur));
		cur->name = p;
		cur->name_len = name_len;
		cur->raw = p;
		cur->raw_len = (size_t) (eol - p);
		cur->value = p + colon + 1;
		cur->value_len = (size_t) (eol - cur->value);
		cur->hash = hdr_name_hash(p, name_len);
		cur->orig = index->count;	/* 1-based: 0 marks added fields */
		p = next;
	}
	index->body_off = (size_t) (p - block);
	if (hdr_hash_all(index) < 0)
		return NULL;
	return index;
}

/* edit_begin - before the first edit, set the fields as they came
 * aside (orig_fields) and work on a copy; -1 when out of memory */
static int
edit_begin(struct hdr_index *index)
{
	struct hdr_field *copy;

	if (index->edited)
		return 0;
	if ((copy = arena_alloc(index->arena, (index->count + 1) * sizeof(*copy))) == NULL)
		return -1;
	if (index->count > 0)	/* an empty header has no fields to copy (NULL) */
		memcpy(copy, index->fields, index->count * sizeof(*copy));
	index->orig_fields = index->fields;
	index->orig_count = index->count;
	index->fields = copy;
	index->edited = 1;
	return 0;
}

/* hdr_insert - a new field RAW ("Name: value", folded, no final line
 * end, kept by the caller) at position POS; -1 when RAW is no field or
 * memory runs out (editheader, RFC 5293) */
int
hdr_insert(struct hdr_index *index, size_t pos, const char *raw, size_t len)
{
	struct hdr_field *fields, *f;
	size_t name_len, colon;

	if (pos > index->count || (name_len = hdr_name_len(raw, len, &colon)) == 0
	    || edit_begin(index) < 0)
		return -1;
	if ((fields = arena_alloc(index->arena, (index->count + 1) * sizeof(*fields))) == NULL)
		return -1;
	memcpy(fields, index->fields, pos * sizeof(*fields));
	memcpy(fields + pos + 1, index->fields + pos, (index->count - pos) * sizeof(*fields));
	f = &fields[pos];
	memset(f, 0, sizeof(*f));
	f->name = raw;
	f->name_len = name_len;
	f->raw = raw;
	f->raw_len = len;
	f->value = raw + colon + 1;
	f->value_len = len - colon - 1;
	f->hash = hdr_name_hash(raw, name_len);
	index->fields = fields;
	index->count++;
	return hdr_hash_all(index);
}

/* hdr_remove - field I is no longer in the header; -1 when out of memory */
int
hdr_remove(struct hdr_index *index, size_t i)
{
	if (i >= index->count)
		return 0;
	if (edit_begin(index) < 0)
		return -1;
	memmove(index->fields + i, index->fields + i + 1,
		(index->count - i - 1) * sizeof(*index->fields));
	index->count--;
	return hdr_hash_all(index);	/* fewer fields: reuses its buckets */
}

/* encode_word - one RFC 2047 encoded-word of S (LEN) onto OUT */
static void
encode_word(struct buf *out, const unsigned char *s, size_t len)
{
	static const char b64[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

	buf_puts(out, "=?UTF-8?B?");
	for (size_t i = 0; i < len; i += 3) {
		unsigned v = (unsigned) s[i] << 16 | (i + 1 < len ? (unsigned) s[i + 1] << 8 : 0)
		    | (i + 2 < len ? s[i + 2] : 0);

		buf_putc(out, b64[v >> 18 & 63]);
		buf_putc(out, b64[v >> 12 & 63]);
		buf_putc(out, i + 1 < len ? b64[v >> 6 & 63] : '=');
		buf_putc(out, i + 2 < len ? b64[v & 63] : '=');
	}
	buf_puts(out, "?=");
}

/* hdr_format_field - "Name: value" onto OUT, VALUE unfolded, RFC 2047-
 * encoded (UTF-8, "B") when it is not ASCII, folded at white space near
 * 78 columns with EOL and a space (editheader, vacation replies) */
void
hdr_format_field(struct buf *out, const char *name, size_t nlen, const char *value,
	   size_t vlen, const char *eol)
{
	struct buf flat = BUF_INIT;
	int ascii = 1;
	size_t line_start = out->len, last_space = 0;

	for (size_t i = 0; i < vlen; i++) {
		unsigned char c = (unsigned char) value[i];

		if (c == '\r' || c == '\n')
			continue;	/* unfolded (RFC 5322 2.2.3) */
		ascii &= c < 0x80;
		buf_putc(&flat, c);
	}
	buf_append(out, name, nlen);
	buf_puts(out, ": ");
	if (!ascii) {
		/* 45 octets a word (60 in base64), cut only before a UTF-8
		 * lead byte, words folded onto lines of their own */
		for (size_t i = 0; i < flat.len;) {
			size_t n = flat.len - i < 45 ? flat.len - i : 45;

			while (i + n < flat.len && n > 1
			       && ((unsigned char) flat.data[i + n] & 0xc0) == 0x80)
				n--;
			if (i > 0) {
				buf_puts(out, eol);
				buf_putc(out, ' ');
			}
			encode_word(out, (const unsigned char *) flat.data + i, n);
			i += n;
		}
		buf_free(&flat);
		return;
	}
	for (size_t i = 0; i < flat.len; i++) {
		if (flat.data[i] == ' ' && out->len - line_start > 0)
			last_space = out->len;
		buf_putc(out, flat.data[i]);
		if (out->len - line_start > 78 && last_space > line_start) {
			/* fold before the last space: it starts the next line */
			struct buf rest = BUF_INIT;

			buf_append(&rest, out->data + last_space, out->len - last_space);
			out->len = last_space;
			buf_puts(out, eol);
			line_start = out->len;
			buf_append(out, rest.data, rest.len);
			buf_free(&rest);
			last_space = 0;
		}
	}
	buf_free(&flat);
}

/* hdr_find - the NTH (from 0) field named NAME, or NULL */
struct hdr_field *
hdr_find(const struct hdr_index *index, const char *name, size_t name_len,
	 size_t nth)
{
	unsigned h = hdr_name_hash(name, name_len);
	int i = index->buckets[h & (index->nbuckets - 1)];

	for (; i >= 0; i = index->fields[i].next) {
		struct hdr_field *f = &index->fields[i];

		if (f->hash == h && f->name_len == name_len
		    && mem_ieq(f->name, name, name_len) && nth-- == 0)
			return f;
	}
	return NULL;
}

/* hdr_count - how many fields are named NAME */
size_t
hdr_count(const struct hdr_index *index, const char *name, size_t name_len)
{
	unsigned h = hdr_name_hash(name, name_len);
	int i = index->buckets[h & (index->nbuckets - 1)];
	size_t n = 0;

	for (; i >= 0; i = index->fields[i].next) {
		const struct hdr_field *f = &index->fields[i];

		if (f->hash == h && f->name_len == name_len
		    && mem_ieq(f->name, name, name_len))
			n++;
	}
	return n;
}

/* hdr_unfolded - make FIELD's value unfolded and trimmed (RFC 5322 2.2.3) */
int
hdr_unfolded(const struct hdr_index *index, struct hdr_field *field)
{
	struct str v = str_trim(field->value, field->value_len);
	char *out, *q;

	if (field->unfolded != NULL)
		return 0;
	if (memchr(v.ptr, '\n', v.len) == NULL) {
		field->unfolded = v.ptr;	/* not folded: a view will do */
		field->unfolded_len = v.len;
		return 0;
	}
	if ((out = arena_alloc(index->arena, v.len + 1)) == NULL)
		return -1;
	q = out;
	/* Folding is a CRLF (or LF) before WSP: drop the line end only. */
	for (size_t i = 0; i < v.len; i++) {
		if (v.ptr[i] == '\r' && i + 1 < v.len && v.ptr[i + 1] == '\n')
			continue;
		if (v.ptr[i] == '\n')
			continue;
		*q++ = v.ptr[i];
	}
	*q = 0;
	field->unfolded = out;
	field->unfolded_len = (size_t) (q - out);
	return 0;
}

/* hdr_decoded - make FIELD's unfolded value RFC 2047-decoded, in UTF-8 */
int
hdr_decoded(const struct hdr_index *index, struct hdr_field *field)
{
	struct buf out = BUF_INIT;
	char *copy;

	if (field->decoded != NULL)
		return 0;
	if (hdr_unfolded(index, field) < 0)
		return -1;
	rfc2047_decode(field->unfolded, field->unfolded_len, &out);
	copy = out.failed ? NULL : arena_memdup(index->arena, out.data ? out.data : "", out.len);
	if (copy != NULL) {
		field->decoded = copy;
		field->decoded_len = out.len;
	}
	buf_free(&out);
	if (copy == NULL) {
		errno = ENOMEM;
		return -1;
	}
	return 0;
}
