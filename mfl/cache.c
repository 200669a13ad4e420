/*
 * cache - a compiled program written beside its script as SCRIPT.mflc
 * (or, for a script root owns, in a cache folder the host names), and
 * read back instead of compiling when it is still good: same format
 * and mvmf version, same mode, every source file (the script and what
 * it includes) with the same size, mtime and inode, the controls its
 * code names still there, in their places. A 1,000-rule script then
 * costs a file read and a verify instead of a compile.
 *
 * Safety: the file is written to a temporary name and renamed over the
 * old one, so concurrent writers and readers only ever see a whole file;
 * it carries a checksum, so a torn or damaged file is a miss; it is
 * used (mapped read-only) only when it belongs to the user reading it
 * (or to root, for the system rc script) and no one else can write it;
 * and what is read goes through prog_verify() before it can run. The
 * program's code and strings are used where they are mapped: only
 * the file's owner could change them under the run, and that is the
 * user whose own delivery it is (or root).
 * Any doubt is a miss: the script is compiled as if there were no cache.
 *
 * DIAGNOSTICS: none; cache_load() returns NULL on any miss and
 * cache_save() -1 on any failure, and callers go on without the cache.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ast.h"
#include "cache.h"
#include "compile.h"
#include "env.h"
#include "intr/intr.h"
#include "msg/arena.h"
#include "msg/buf.h"
#include "prog.h"

#define CACHE_MAGIC	"MFLCACH8"
#define CACHE_MAX	(64u << 20)

/* --- writing --- */

static void
put32(struct buf *b, uint32_t v)
{
	buf_append(b, &v, sizeof(v));
}

static void
put64(struct buf *b, uint64_t v)
{
	buf_append(b, &v, sizeof(v));
}

static void
putstr(struct buf *b, const char *s, size_t len)
{
	put32(b, (uint32_t) len);
	buf_append(b, s, len);
}

/* checksum - a 64-bit hash of the body, in four lanes of eight bytes
 * a step (independent, so the processor runs them side by side), then
 * folded into one: it finds torn and damaged files, not forgeries
 * (map_cache's owner check and prog_verify() stand against those) */
static uint64_t
checksum(const char *p, size_t len)
{
	uint64_t lane[4] = { 14695981039346656037ull ^ len, 0x243f6a8885a308d3ull,
			     0x13198a2e03707344ull, 0xa4093822299f31d0ull }, h, w;
	size_t i = 0;

	for (; i + 32 <= len; i += 32)
		for (int k = 0; k < 4; k++) {
			memcpy(&w, p + i + 8 * k, 8);
			lane[k] = (lane[k] ^ w) * 0x9e3779b97f4a7c15ull;
			lane[k] ^= lane[k] >> 29;
		}
	h = lane[0];
	for (int k = 1; k < 4; k++) {
		h = (h ^ lane[k]) * 0x9e3779b97f4a7c15ull;
		h ^= h >> 29;
	}
	for (; i + 8 <= len; i += 8) {
		memcpy(&w, p + i, 8);
		h = (h ^ w) * 0x9e3779b97f4a7c15ull;
		h ^= h >> 29;
	}
	for (; i < len; i++)
		h = (h ^ (unsigned char) p[i]) * 1099511628211ull;
	return h;
}

/* put_consts - PROG's constants as the reader uses them in place (see
 * struct const_rec): 8-byte aligned records, then the constant lists
 * (made into values at load), then the strings the records point at */
static void
put_consts(struct buf *b, const struct mfl_prog *prog)
{
	size_t recs, narrays = 0;
	uint64_t strings = 0;

	put32(b, (uint32_t) prog->nconsts);
	while (b->len % 8 != 0)
		buf_append(b, "", 1);
	recs = b->len;
	for (size_t i = 0; i < prog->nconsts; i++) {
		struct value v = prog_const(prog, i);
		struct const_rec c = { (uint32_t) v.type, 0, 0 };

		if (v.type == V_INT)
			c.val = (uint64_t) v.u.i;
		else if (v.type == V_ARR)
			c.val = narrays++;
		buf_append(b, &c, sizeof(c));
	}
	put32(b, (uint32_t) narrays);
	for (size_t i = 0; i < prog->nconsts; i++) {
		struct value v = prog_const(prog, i);

		if (v.type == V_STR)
			strings += v.u.s.len;
		if (v.type != V_ARR)
			continue;
		put32(b, (uint32_t) v.u.a->len);
		for (size_t k = 0; k < v.u.a->len; k++)
			putstr(b, v.u.a->items[k].u.s.ptr, v.u.a->items[k].u.s.len);
	}
	put64(b, strings);
	for (size_t i = 0; i < prog->nconsts && !b->failed; i++) {
		struct value v = prog_const(prog, i);
		struct const_rec c;

		if (v.type != V_STR)
			continue;
		memcpy(&c, b->data + recs + i * sizeof(c), sizeof(c));
		c.len = (uint32_t) v.u.s.len;
		c.val = b->len;	/* from the body's start: the reader's kbase */
		memcpy(b->data + recs + i * sizeof(c), &c, sizeof(c));
		buf_append(b, v.u.s.ptr, v.u.s.len);
	}
}

/* controls_used - how many of the env's controls PROG's code reaches:
 * one past the highest that a GETC or SETC names. Only those are
 * recorded, so a cache made where the env has more controls (mvmda's,
 * after the language's) is read where it has fewer (mflc's), and back,
 * when the code names none of the others */
static size_t
controls_used(const struct mfl_prog *prog)
{
	size_t used = 0;

	for (size_t pc = 0; pc < prog->ncode; pc++) {
		enum opcode op = INSN_OP(prog->code[pc]);
		int32_t arg = INSN_ARG(prog->code[pc]);

		if ((op == OP_GETC || op == OP_SETC) && arg >= 0 && (size_t) arg >= used)
			used = (size_t) arg + 1;
	}
	return used;
}

/* serialise - the program as the cache file's body */
static int
serialise(const struct mfl_prog *prog, struct buf *b)
{
	size_t used;

	put32(b, (uint32_t) (prog->sieve | prog->sieve_sniffed << 1));
	put32(b, (uint32_t) prog->nfiles);
	for (size_t i = 0; i < prog->nfiles; i++) {
		struct stat st;

		if (stat(prog->files[i], &st) < 0)
			return -1;
		putstr(b, prog->files[i], strlen(prog->files[i]));
		put64(b, (uint64_t) st.st_size);
		put64(b, (uint64_t) st.st_mtim.tv_sec);
		put64(b, (uint64_t) st.st_mtim.tv_nsec);
		put64(b, (uint64_t) st.st_ino);
	}
	used = controls_used(prog);
	put32(b, (uint32_t) used);
	for (size_t i = 0; i < used; i++) {
		putstr(b, prog->env->controls[i].name, strlen(prog->env->controls[i].name));
		put32(b, (uint32_t) (prog->env->controls[i].type | prog->env->controls[i].var << 8));
	}
	put32(b, (uint32_t) prog->ncode);
	while (b->len % 4 != 0)	/* the code 4-byte aligned: used in place */
		buf_append(b, "", 1);
	buf_append(b, prog->code, prog->ncode * sizeof(*prog->code));
	putstr(b, (const char *) prog->linemap, prog->linemap_len);	/* linemap.c */
	put32(b, (uint32_t) prog->nlinemarks);
	buf_append(b, prog->linemarks, prog->nlinemarks * LINEMAP_MARK);
	put_consts(b, prog);
	put32(b, (uint32_t) prog->nglobals);
	for (size_t i = 0; i < prog->nglobals; i++)
		put32(b, (uint32_t) prog->global_types[i]);
	put32(b, (uint32_t) prog->nsites);
	for (size_t i = 0; i < prog->nsites; i++) {
		const struct site *s = &prog->sites[i];

		putstr(b, s->intr->name, strlen(s->intr->name));
		/* and its capability: two may share a name (notify) */
		putstr(b, s->intr->capability ? s->intr->capability : "",
		       s->intr->capability ? strlen(s->intr->capability) : 0);
		put32(b, (uint32_t) s->intr->kind);
		put32(b, (uint32_t) s->match);
		put32(b, (uint32_t) s->relop);
		put32(b, (uint32_t) s->pattern_list);
		put32(b, (uint32_t) s->aux);
		put32(b, (uint32_t) s->comparator);
		put32(b, (uint32_t) s->addrpart);
		put32(b, s->tags);
		buf_append(b, s->tag_arg, sizeof(s->tag_arg));
		put32(b, (uint32_t) s->npos);
		put32(b, (uint32_t) s->nargs);
		put32(b, s->pattern != NULL);
		if (s->pattern != NULL)
			putstr(b, s->pattern, s->pattern_len);
	}
	put32(b, (uint32_t) prog->nfuncs);
	for (size_t i = 0; i < prog->nfuncs; i++) {
		const struct func *f = &prog->funcs[i];

		putstr(b, f->name, strlen(f->name));
		put32(b, f->entry);
		put32(b, (uint32_t) f->nparams);
		put32(b, (uint32_t) f->nlocals);
		put32(b, (uint32_t) f->ret);
		for (int k = 0; k < f->nparams; k++)
			put32(b, (uint32_t) f->param_types[k]);
		put32(b, (uint32_t) f->line);
	}
	return b->failed ? -1 : 0;
}

/* cache_path - SCRIPT.mflc, or in DIR (when not NULL) the script's
 * absolute path with '/' and anything unusual as %XX, then .mflc:
 * /etc/mvmf/mvmda-rc.mfl is DIR/%2Fetc%2Fmvmf%2Fmvmda-rc.mfl.mflc */
static char *
cache_path(const char *path, const char *dir)
{
	struct buf b = BUF_INIT;
	char *real = NULL;

	if (dir == NULL) {
		buf_append(&b, path, strlen(path));
	} else {
		/* an absolute path without "." or ".." parts is named as it is
		 * (a symlink on the way gives that spelling its own cache); any
		 * other is resolved first */
		if (*path == '/' && strstr(path, "/./") == NULL && strstr(path, "/../") == NULL
		    && strstr(path, "//") == NULL)
			real = strdup(path);
		else
			real = realpath(path, NULL);
		if (real == NULL)
			return NULL;
		buf_printf(&b, "%s/", dir);
		for (const unsigned char *p = (const unsigned char *) real; *p; p++)
			if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z')
			    || (*p >= '0' && *p <= '9') || *p == '.' || *p == '-' || *p == '_')
				buf_append(&b, p, 1);
			else
				buf_printf(&b, "%%%02X", *p);
		free(real);
	}
	buf_append(&b, ".mflc", 6);
	if (b.failed) {
		buf_free(&b);
		return NULL;
	}
	return b.data;
}

/* cache_save - write PROG's cache for PATH (beside it, or in DIR)
 * atomically; 0 or -1 */
int
cache_save(const struct mfl_prog *prog, const char *path, const char *dir)
{
	struct buf body = BUF_INIT, file = BUF_INIT;
	char *dst = cache_path(path, dir), *tmp = NULL;
	uint64_t sum;
	int fd = -1, ret = -1;

	if (dst == NULL || serialise(prog, &body) < 0 || body.len > CACHE_MAX)
		goto out;
	sum = checksum(body.data, body.len);
	buf_append(&file, CACHE_MAGIC, 8);
	buf_printf(&file, "%-16.16s", PACKAGE_VERSION);
	put64(&file, sum);
	put64(&file, body.len);
	buf_append(&file, body.data, body.len);
	if (file.failed || (tmp = malloc(strlen(dst) + 8)) == NULL)
		goto out;
	sprintf(tmp, "%s.XXXXXX", dst);
	if ((fd = mkstemp(tmp)) < 0)
		goto out;
	if (fchmod(fd, 0644) < 0 || write(fd, file.data, file.len) != (ssize_t) file.len)
		goto out;
	if (close(fd) < 0) {
		fd = -1;
		goto out;
	}
	fd = -1;
	if (rename(tmp, dst) < 0)
		goto out;
	ret = 0;
out:
	if (fd >= 0)
		close(fd);
	if (ret < 0 && tmp != NULL)
		unlink(tmp);
	free(tmp);
	free(dst);
	buf_free(&body);
	buf_free(&file);
	return ret;
}

/* --- reading --- */

struct reader {
	const char *p, *end;
	int bad;
	int sources;		/* compare the source files with the disk */
	const char *base;	/* the body's first byte (at 40 in the file) */
};

static uint32_t
get32(struct reader *r)
{
	uint32_t v = 0;

	if (r->end - r->p < 4) {
		r->bad = 1;
		return 0;
	}
	memcpy(&v, r->p, 4);
	r->p += 4;
	return v;
}

static uint64_t
get64(struct reader *r)
{
	uint64_t v = 0;

	if (r->end - r->p < 8) {
		r->bad = 1;
		return 0;
	}
	memcpy(&v, r->p, 8);
	r->p += 8;
	return v;
}

/* getmem - N bytes copied into the arena, or NULL */
static void *
getmem(struct reader *r, struct arena *a, size_t n)
{
	void *m;

	if ((size_t) (r->end - r->p) < n || (m = arena_alloc(a, n + 1)) == NULL) {
		r->bad = 1;
		return NULL;
	}
	memcpy(m, r->p, n);
	((char *) m)[n] = 0;
	r->p += n;
	return m;
}

/* getstr - a length-prefixed string: a view into the file's bytes,
 * which live in the program's arena; written NUL-terminated in place by
 * overwriting the next length's byte is not possible, so names that C
 * code needs terminated come from getcstr() */
static char *
getstr(struct reader *r, struct arena *a, size_t *len_r)
{
	uint32_t len = get32(r);
	const char *s = r->p;

	(void) a;
	if (r->bad || (size_t) (r->end - r->p) < len) {
		r->bad = 1;
		return NULL;
	}
	r->p += len;
	if (len_r != NULL)
		*len_r = len;
	return (char *) s;
}

/* getcstr - a length-prefixed string copied NUL-terminated */
static char *
getcstr(struct reader *r, struct arena *a)
{
	uint32_t len = get32(r);

	return r->bad ? NULL : getmem(r, a, len);
}

/* get_count - a table size, bounded by what is left of the file */
static size_t
get_count(struct reader *r, size_t min_each)
{
	uint32_t n = get32(r);

	if ((uint64_t) n * min_each > (uint64_t) (r->end - r->p)) {
		r->bad = 1;
		return 0;
	}
	return n;
}

/* check_files - every source file as it was when the cache was made */
static int
check_files(struct reader *r, struct mfl_prog *prog)
{
	prog->nfiles = get_count(r, 36);
	if (r->bad || prog->nfiles == 0 || prog->nfiles > 65535
	    || (prog->files = arena_alloc(prog->arena, prog->nfiles * sizeof(char *))) == NULL)
		return -1;
	for (size_t i = 0; i < prog->nfiles; i++) {
		struct stat st;
		char *name = getcstr(r, prog->arena);
		uint64_t size = get64(r), sec = get64(r), nsec = get64(r), ino = get64(r);

		if (r->bad)
			return -1;
		if (r->sources && (stat(name, &st) < 0 || (uint64_t) st.st_size != size
				   || (uint64_t) st.st_mtim.tv_sec != sec
				   || (uint64_t) st.st_mtim.tv_nsec != nsec
				   || (uint64_t) st.st_ino != ino))
			return -1;
		prog->files[i] = name;
	}
	return 0;
}

/* check_controls - the controls the program was compiled against, as
 * far as its code names them, are the first of ENV's; their count into
 * PROG, for the verifier */
static int
check_controls(struct reader *r, struct mfl_prog *prog, const struct mfl_env *env)
{
	size_t n = get_count(r, 8);

	if (r->bad || n > env->ncontrols)
		return -1;
	prog->ncontrols = n;
	for (size_t i = 0; i < n; i++) {
		uint32_t len = get32(r);

		if (r->bad || (size_t) (r->end - r->p) < len + 4 || strlen(env->controls[i].name) != len
		    || memcmp(env->controls[i].name, r->p, len) != 0)
			return -1;
		r->p += len;
		if (get32(r) != (uint32_t) (env->controls[i].type | env->controls[i].var << 8))
			return -1;
	}
	return 0;
}

/* get_list - a constant list of strings into V, its strings views of
 * the file */
static int
get_list(struct reader *r, struct arena *a, struct value *v)
{
	size_t n = get_count(r, 4);
	struct marr *arr = arena_zalloc(a, sizeof(*arr));

	if (r->bad || arr == NULL || (n && (arr->items = arena_alloc(a, n * sizeof(*arr->items))) == NULL))
		return -1;
	for (size_t i = 0; i < n && !r->bad; i++) {
		arr->items[i].type = V_STR;
		arr->items[i].u.s.ptr = getstr(r, a, &arr->items[i].u.s.len);
	}
	arr->len = arr->cap = n;
	v->type = V_ARR;
	v->u.a = arr;
	return r->bad ? -1 : 0;
}

/* get_consts - the constants, used where the file is (put_consts):
 * each record checked to name a string inside the strings area, or a
 * list that was read; 0 or -1 */
static int
get_consts(struct reader *r, struct mfl_prog *prog)
{
	const struct const_rec *recs;
	size_t narrays, lo;
	uint64_t nbytes;

	prog->nconsts = get_count(r, sizeof(struct const_rec));
	while (!r->bad && (r->p - r->base) % 8 != 0)	/* zeros up to the records */
		if (r->p == r->end || *r->p++ != 0)
			r->bad = 1;
	if (r->bad || (size_t) (r->end - r->p) / sizeof(*recs) < prog->nconsts)
		return -1;
	if (((uintptr_t) r->p & 7) == 0) {
		recs = (const struct const_rec *) (const void *) r->p;
		r->p += prog->nconsts * sizeof(*recs);
	} else if ((recs = getmem(r, prog->arena, prog->nconsts * sizeof(*recs))) == NULL) {
		return -1;	/* a body handed over unaligned (cache_parse) */
	}
	narrays = get_count(r, 4);
	if (r->bad || (prog->karr = arena_alloc(prog->arena, (narrays + 1) * sizeof(struct value))) == NULL)
		return -1;
	for (size_t i = 0; i < narrays; i++)
		if (get_list(r, prog->arena, &prog->karr[i]) < 0)
			return -1;
	nbytes = get64(r);
	lo = (size_t) (r->p - r->base);
	if (r->bad || nbytes > (uint64_t) (r->end - r->p))
		return -1;
	r->p += nbytes;
	for (size_t i = 0; i < prog->nconsts; i++) {
		const struct const_rec *c = &recs[i];

		if (c->type == V_STR ? c->val < lo || c->val - lo > nbytes || c->len > nbytes - (c->val - lo)
		    : c->type == V_ARR ? c->val >= narrays || c->len != 0
		    : c->type != V_INT || c->len != 0)
			return -1;
	}
	prog->krec = recs;
	prog->kbase = r->base;
	prog->consts = NULL;
	return 0;
}

/* The intrinsics sites named so far: a script names a few, many times
 * over, and intr_find() walks the whole table. */
#define INTR_SEEN_MAX	16
struct intr_seen {
	const char *name, *cap;
	size_t len, cap_len;
	uint32_t kind;
	const struct intrinsic *in;
	struct intr_facts facts;	/* for site_valid_as() */
};

/* intr_again - the intrinsic NAME (LEN bytes) of KIND needing the
 * capability CAP (CAP_LEN bytes), from SEEN when it was found before,
 * else found and noted there with its facts (into FACTS_R either way);
 * NULL when none */
static const struct intrinsic *
intr_again(const struct mfl_env *env, struct intr_seen *seen, const char *name, size_t len,
	   const char *cap, size_t cap_len, uint32_t kind, struct intr_facts *facts_r)
{
	struct intr_seen *free_slot = NULL;
	const struct intrinsic *in;

	for (int i = 0; i < INTR_SEEN_MAX; i++) {
		if (seen[i].in == NULL) {
			free_slot = free_slot ? free_slot : &seen[i];
			continue;
		}
		if (seen[i].len == len && seen[i].kind == kind && seen[i].cap_len == cap_len
		    && memcmp(seen[i].name, name, len) == 0 && memcmp(seen[i].cap, cap, cap_len) == 0) {
			*facts_r = seen[i].facts;
			return seen[i].in;
		}
	}
	if ((in = intr_find_as(env, name, len, (enum intr_kind) kind, cap, cap_len)) == NULL)
		return NULL;
	intr_facts_of(in, facts_r);
	if (free_slot != NULL)
		*free_slot = (struct intr_seen) { name, cap, len, cap_len, kind, in, *facts_r };
	return in;
}

/* get_site - one intrinsic call site, its numbers checked; the
 * intrinsic is found again by name, the host's ones too */
static int
get_site(struct reader *r, struct mfl_prog *prog, struct site *s, struct intr_seen *seen,
	 struct intr_facts *facts_r)
{
	size_t nlen = 0, cap_len = 0;
	const char *name = getstr(r, prog->arena, &nlen), *cap = getstr(r, prog->arena, &cap_len);
	uint32_t kind = get32(r), has_pattern;
	const struct intrinsic *in;

	if (r->bad || kind > INTR_FUNCTION
	    || (in = intr_again(prog->env, seen, name, nlen, cap, cap_len, kind, facts_r)) == NULL)
		return -1;
	/* every field is set below: no memset (its rep stos, 100 bytes a
	 * site, was a tenth of a big script's load) */
	s->data = NULL;
	s->pattern = NULL;
	s->pattern_len = 0;
	s->intr = in;
	s->match = (int) get32(r);
	s->relop = (int) get32(r);
	s->pattern_list = (int) get32(r);
	s->aux = (int) get32(r);
	s->comparator = (int) get32(r);
	s->addrpart = (int) get32(r);
	s->tags = get32(r);
	if ((size_t) (r->end - r->p) < sizeof(s->tag_arg))
		return -1;
	memcpy(s->tag_arg, r->p, sizeof(s->tag_arg));	/* site_valid_as checks them */
	r->p += sizeof(s->tag_arg);
	s->npos = (int) get32(r);
	s->nargs = (int) get32(r);
	has_pattern = get32(r);
	if (r->bad || s->match < 0 || s->match > MATCH_LIST
	    || s->relop < 0 || s->relop > REL_NE
	    || s->comparator < 0 || s->comparator > CMP_UNICODE_CASEMAP || s->addrpart < 0 || s->addrpart > 4
	    || s->npos < 0 || s->nargs < s->npos || s->nargs > 64)
		return -1;
	if (has_pattern && (s->pattern = getstr(r, prog->arena, &s->pattern_len)) == NULL)
		return -1;
	return r->bad ? -1 : 0;
}

/* get_funcs - the function table */
static int
get_funcs(struct reader *r, struct mfl_prog *prog)
{
	prog->nfuncs = get_count(r, 24);
	if (r->bad || prog->nfuncs == 0
	    || (prog->funcs = arena_zalloc(prog->arena, prog->nfuncs * sizeof(struct func))) == NULL)
		return -1;
	for (size_t i = 0; i < prog->nfuncs; i++) {
		struct func *f = &prog->funcs[i];

		f->name = getcstr(r, prog->arena);
		f->entry = get32(r);
		f->nparams = (int) get32(r);
		f->nlocals = (int) get32(r);
		f->ret = (int) get32(r);
		if (r->bad || f->nparams < 0 || f->nparams > 1000 || f->nlocals < f->nparams
		    || f->nlocals > (1 << 20))
			return -1;
		f->param_types = arena_alloc(prog->arena, ((size_t) f->nparams + 1) * sizeof(int));
		for (int k = 0; f->param_types && k < f->nparams; k++)
			f->param_types[k] = (int) get32(r);
		f->line = (int) get32(r);
		f->file = prog->files[0];
		if (f->param_types == NULL || r->bad)
			return -1;
	}
	return 0;
}

/* deserialise - the body back into PROG; 0 or -1 */
static int
deserialise(struct reader *r, struct mfl_prog *prog, int sieve)
{
	char err[300];
	struct buf errors = BUF_INIT;
	struct intr_seen seen[INTR_SEEN_MAX] = { { 0 } };
	unsigned char *effect;
	uint32_t mode = get32(r);
	int ok;

	/* SIEVE < 0: the mode its first line or name gave when it was
	 * compiled (bit 1), the file being unchanged (check_files) */
	if (mode > 3 || (sieve >= 0 ? (int) (mode & 1) != sieve : !(mode & 2))
	    || check_files(r, prog) < 0 || check_controls(r, prog, prog->env) < 0)
		return -1;
	prog->sieve = (int) (mode & 1);
	prog->sieve_sniffed = (int) (mode >> 1);
	prog->ncode = get_count(r, 4);
	while (!r->bad && (r->p - r->base) % 4 != 0)	/* zeros up to the code */
		if (r->p == r->end || *r->p++ != 0)
			r->bad = 1;
	if (r->bad || prog->ncode == 0 || (size_t) (r->end - r->p) / 4 < prog->ncode)
		return -1;
	if (((uintptr_t) r->p & 3) == 0) {
		/* used where it is mapped, read-only: no copy, no fresh
		 * pages (at 10,000 rules, 270 KB); the file is the user's own
		 * or root's and writable by no one else (map_cache) */
		prog->code = (uint32_t *) (uintptr_t) r->p;
		r->p += prog->ncode * 4;
	} else if ((prog->code = getmem(r, prog->arena, prog->ncode * 4)) == NULL) {
		return -1;	/* a body handed over unaligned (cache_parse) */
	}
	/* the line map, where it is too: read only on an error, and then
	 * read with care (linemap.c), so not checked here */
	prog->linemap = (const unsigned char *) getstr(r, prog->arena, &prog->linemap_len);
	prog->nlinemarks = get_count(r, LINEMAP_MARK);
	prog->linemarks = (const unsigned char *) r->p;
	if (r->bad)
		return -1;
	r->p += prog->nlinemarks * LINEMAP_MARK;
	if (get_consts(r, prog) < 0)
		return -1;
	prog->nglobals = get_count(r, 4);
	if (r->bad || (prog->global_types = arena_alloc(prog->arena, (prog->nglobals + 1) * sizeof(int))) == NULL)
		return -1;
	for (size_t i = 0; i < prog->nglobals; i++)
		prog->global_types[i] = (int) get32(r);
	/* each site checked as it is read, while it is in the processor's
	 * cache, and its stack effect noted for the code's check: the
	 * table (100 bytes a site) is not walked again */
	prog->nsites = get_count(r, 64);
	if (r->bad || (prog->sites = arena_alloc(prog->arena, (prog->nsites + 1) * sizeof(struct site))) == NULL
	    || (effect = malloc(2 * prog->nsites + 1)) == NULL)
		return -1;
	for (size_t i = 0; i < prog->nsites; i++) {
		struct site *s = &prog->sites[i];
		struct intr_facts facts;

		if (get_site(r, prog, s, seen, &facts) < 0 || !site_valid_as(s, prog->nglobals, &facts)
		    || intr_site_compile(prog, s, err, sizeof(err)) < 0) {
			free(effect);
			return -1;
		}
		effect[2 * i] = (unsigned char) s->nargs;	/* at most 64 */
		effect[2 * i + 1] = (unsigned char) site_pushes(s->intr);
	}
	if (get_funcs(r, prog) < 0 || r->bad || r->p != r->end) {
		free(effect);
		return -1;
	}
	ok = prog_verify_code(prog, effect, &errors);
	free(effect);
	buf_free(&errors);
	return ok;
}

/* A cache file's mapping, unmapped when its program is freed. */
struct mapping {
	void *p;
	size_t len;
};

static void
unmap(void *ptr)
{
	struct mapping *m = ptr;

	munmap(m->p, m->len);
}

/* map_cache - the cache file's bytes, mapped read-only for as long as
 * PROG lives (its strings are views into them), if it is ours and safe
 * to trust: mapped, not read, the pages come from the page cache as
 * they are, with no copy to make and no memory to clear first */
static char *
map_cache(const char *path, struct mfl_prog *prog, size_t *len_r)
{
	/* O_NONBLOCK: a FIFO planted as the cache must not hang us */
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	struct mapping *m = NULL;
	struct stat st;
	void *p;

	if (fd < 0)
		return NULL;
	/* only the user's own file, writable by no one else */
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || (st.st_uid != geteuid() && st.st_uid != 0)
	    || (st.st_mode & 022) || st.st_size < 40 || (uint64_t) st.st_size > CACHE_MAX
	    || (m = arena_alloc(prog->arena, sizeof(*m))) == NULL
	    || (p = mmap(NULL, (size_t) st.st_size, PROT_READ, MAP_PRIVATE, fd, 0)) == MAP_FAILED) {
		close(fd);
		return NULL;
	}
	close(fd);
	m->p = p;
	m->len = (size_t) st.st_size;
	if (prog_on_free(prog, unmap, m) < 0) {
		munmap(p, m->len);
		return NULL;
	}
	*len_r = m->len;
	return p;
}

/* load - the program in BODY (LEN bytes in PROG's arena, which owns
 * it), verified; 0 or -1 */
static int
load(struct mfl_prog *prog, const char *body, size_t len, int sieve, int sources)
{
	struct reader r = { body, body + len, 0, sources, body };

	return deserialise(&r, prog, sieve);
}

/* cache_load - the cached program for PATH (beside it, or in DIR), or
 * NULL on any miss */
struct mfl_prog *
cache_load(const struct mfl_env *env, const char *path, const char *dir, int sieve)
{
	char *file = cache_path(path, dir), *data, version[17];
	struct mfl_prog *prog = NULL;
	struct arena *arena = NULL;
	uint64_t sum, len;
	size_t size = 0;

	if (file == NULL || (arena = arena_create(0)) == NULL
	    || (prog = arena_zalloc(arena, sizeof(*prog))) == NULL)
		goto miss;
	prog->arena = arena;
	prog->env = env;
	if ((data = map_cache(file, prog, &size)) == NULL)
		goto miss;
	snprintf(version, sizeof(version), "%-16.16s", PACKAGE_VERSION);
	if (memcmp(data, CACHE_MAGIC, 8) != 0 || memcmp(data + 8, version, 16) != 0)
		goto miss;
	memcpy(&sum, data + 24, 8);
	memcpy(&len, data + 32, 8);
	if (len != size - 40 || checksum(data + 40, size - 40) != sum
	    || load(prog, data + 40, size - 40, sieve, 1) < 0)
		goto miss;
	free(file);
	return prog;
miss:
	if (prog != NULL && prog->arena != NULL)
		mfl_prog_free(prog);	/* runs the cleanups of compiled patterns */
	else
		arena_free(arena);
	free(file);
	return NULL;
}

/* cache_parse - the program in a cache file's body (what follows the
 * 40-byte header: magic, version, checksum, length), verified, with the
 * source files it names taken as they are: for the fuzz target, which
 * hands it forged bodies (t/fuzz/cache_fuzz.c); NULL on any doubt */
struct mfl_prog *
cache_parse(const struct mfl_env *env, const void *body, size_t len, int sieve)
{
	struct arena *arena = arena_create(0);
	struct mfl_prog *prog = arena ? arena_zalloc(arena, sizeof(*prog)) : NULL;
	char *copy = prog ? arena_memdup(arena, body, len) : NULL;

	if (copy == NULL) {
		arena_free(arena);
		return NULL;
	}
	prog->arena = arena;
	prog->env = env;
	if (load(prog, copy, len, sieve, 0) < 0) {
		mfl_prog_free(prog);
		return NULL;
	}
	return prog;
}

/* mfl_compile_cached_in - PATH's program from its cache, or compiled
 * (and then cached when the folder lets us write); the cache is beside
 * the script, or in DIR when DIR is not NULL and root owns the script
 * (a system script under /usr or /etc, whose folder is not for caches) */
struct mfl_prog *
mfl_compile_cached_in(const struct mfl_env *env, const char *path, int sieve,
		      const char *dir, struct buf *errors)
{
	struct mfl_prog *prog;
	struct stat owner;
	int sniffed = 0;

	if (dir != NULL && (stat(path, &owner) < 0 || owner.st_uid != 0))
		dir = NULL;

	if (sieve < 0 && mfl_env_get_int(env, "mfl_mode_sieve"))
		sieve = 1;
	/* the mode unknown: the cache's is the one the unchanged file had */
	if ((prog = cache_load(env, path, dir, sieve)) != NULL)
		return prog;
	if (sieve < 0) {
		/* the mode needs the first line: cheap next to a compile;
		 * what is not a regular file is left to the compiler to refuse */
		int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
		struct stat st;
		char head[64];
		ssize_t n = fd >= 0 && fstat(fd, &st) == 0 && S_ISREG(st.st_mode)
		    ? read(fd, head, sizeof(head)) : -1;

		if (fd >= 0)
			close(fd);
		sieve = mfl_file_is_sieve(path, head, n > 0 ? (size_t) n : 0);
		sniffed = 1;
	}
	/* a decision run writes nothing; the delivery will */
	if ((prog = mfl_compile_file(env, path, sieve, errors)) != NULL && env->uncertain == NULL) {
		prog->sieve_sniffed = sniffed;
		cache_save(prog, path, dir);	/* a failure only costs speed */
	}
	return prog;
}

/* mfl_compile_cached - PATH's program, its cache beside it */
struct mfl_prog *
mfl_compile_cached(const struct mfl_env *env, const char *path, int sieve,
		   struct buf *errors)
{
	return mfl_compile_cached_in(env, path, sieve, NULL, errors);
}
