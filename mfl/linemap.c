/*
 * linemap - where each code word of a program came from (line, file),
 * kept small: a byte string with one entry a code word, the change of
 * line from the word before as a zigzag varint, its low bit saying that
 * a varint file index follows. Most words take one byte, against the
 * six (a line and a file a word) kept before: at 10,000 rules the cache
 * file lost 340 KB that every delivery mapped and checksummed, though
 * the table is read only to name where a runtime error happened and by
 * the disassembler.
 *
 * Every action records its line, so a lookup must not read the map
 * from the start: a mark every LINEMAP_STEP words (LINEMAP_MARK bytes: the map's
 * offset, line and file before that word) lets it start at most that
 * many words before. Neither is trusted: a map cut short, a mark out
 * of place or a file the program has not gives line 0 of the first
 * file, so a cache file's map needs no check at load.
 */
#include "config.h"

#include <string.h>

#include "msg/arena.h"
#include "msg/buf.h"
#include "prog.h"

/* put_varint - V to B, seven bits a byte, low ones first */
static void
put_varint(struct buf *b, uint64_t v)
{
	unsigned char out[10];
	size_t n = 0;

	do {
		out[n] = (unsigned char) (v & 0x7f);
		v >>= 7;
		out[n] |= v ? 0x80 : 0;
		n++;
	} while (v);
	buf_append(b, out, n);
}

/* get_varint - the varint at *P (before END) into *V; -1 when cut
 * short or longer than 64 bits */
static int
get_varint(const unsigned char **p, const unsigned char *end, uint64_t *v)
{
	*v = 0;
	for (int shift = 0; shift < 64; shift += 7) {
		if (*p == end)
			return -1;
		*v |= (uint64_t) (**p & 0x7f) << shift;
		if (!(*(*p)++ & 0x80))
			return 0;
	}
	return -1;
}

/* linemap_encode - the map of N words whose lines and files are LINES
 * and FILES, appended to B, and its marks to MARKS (their failed flags
 * set when memory ran out) */
static void
linemap_encode(struct buf *b, struct buf *marks, const uint32_t *lines, const uint16_t *files,
	       size_t n)
{
	uint32_t line = 0, file = 0;

	for (size_t pc = 0; pc < n; pc++) {
		int64_t d = (int64_t) lines[pc] - (int64_t) line;
		uint64_t z = d < 0 ? ((uint64_t) -d << 1) - 1 : (uint64_t) d << 1;

		if (pc % LINEMAP_STEP == 0) {
			uint32_t mark[3] = { (uint32_t) b->len, line, file };

			buf_append(marks, mark, LINEMAP_MARK);
		}
		put_varint(b, z << 1 | (files[pc] != file));
		if (files[pc] != file)
			put_varint(b, files[pc]);
		line = lines[pc];
		file = files[pc];
	}
}

/* linemap_make - PROG's map and marks (in arena A) for its N words,
 * whose lines and files are LINES and FILES; 0, or -1 when memory runs
 * out */
int
linemap_make(struct mfl_prog *prog, struct arena *a, const uint32_t *lines,
	     const uint16_t *files, size_t n)
{
	struct buf map = BUF_INIT, marks = BUF_INIT;
	unsigned char *copy = NULL, *mcopy = NULL;

	linemap_encode(&map, &marks, lines, files, n);
	if (!map.failed && !marks.failed && (copy = arena_alloc(a, map.len + 1)) != NULL
	    && (mcopy = arena_alloc(a, marks.len + 1)) != NULL) {
		memcpy(copy, map.data, map.len);
		memcpy(mcopy, marks.data, marks.len);
		prog->linemap = copy;
		prog->linemap_len = map.len;
		prog->linemarks = mcopy;
		prog->nlinemarks = marks.len / LINEMAP_MARK;
	}
	buf_free(&map);
	buf_free(&marks);
	return mcopy != NULL ? 0 : -1;
}

/* linemap_begin - I at the map's start, before word 0 */
void
linemap_begin(const struct mfl_prog *prog, struct linemap_iter *i)
{
	i->p = prog->linemap;
	i->end = prog->linemap + prog->linemap_len;
	i->nfiles = prog->nfiles;
	i->line = 0;
	i->file = 0;
	i->bad = 0;
}

/* linemap_next - I at the next word's entry: its line and file in
 * I->line and I->file; 0, or -1 (and line 0 of file 0 from then on)
 * when the map is damaged */
int
linemap_next(struct linemap_iter *i)
{
	uint64_t v, f = i->file, z;

	if (!i->bad && get_varint(&i->p, i->end, &v) == 0
	    && ((v & 1) == 0 || get_varint(&i->p, i->end, &f) == 0) && f < i->nfiles) {
		z = v >> 1;
		/* zigzag: even is up, odd is down */
		i->line += (uint32_t) ((z & 1) ? ~(z >> 1) : (z >> 1));
		i->file = (uint32_t) f;
		return 0;
	}
	i->bad = 1;
	i->line = 0;
	i->file = 0;
	return -1;
}

/* prog_where - the line of PROG's word PC, its file in *FILE_R */
uint32_t
prog_where(const struct mfl_prog *prog, size_t pc, const char **file_r)
{
	struct linemap_iter i;
	size_t k = 0;
	uint32_t mark[3];

	linemap_begin(prog, &i);
	if (pc / LINEMAP_STEP < prog->nlinemarks) {
		memcpy(mark, prog->linemarks + pc / LINEMAP_STEP * LINEMAP_MARK, LINEMAP_MARK);
		if (mark[0] <= prog->linemap_len && mark[2] < prog->nfiles) {
			i.p = prog->linemap + mark[0];
			i.line = mark[1];
			i.file = mark[2];
			k = pc / LINEMAP_STEP * LINEMAP_STEP;
		} else {
			i.bad = 1;
		}
	}
	for (; k <= pc; k++)
		if (linemap_next(&i) < 0)
			break;
	*file_r = prog->nfiles > 0 ? prog->files[i.file] : "?";
	return i.line;
}
