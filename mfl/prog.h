/* prog.h - a compiled program and the state of one run (libmfl inside) */
#ifndef MFL_PROG_H
#define MFL_PROG_H

#include <stddef.h>
#include <stdint.h>

#include "action.h"
#include "env.h"
#include "intr/intr.h"
#include "match.h"
#include "mflapi.h"
#include "msg/buf.h"
#include "value.h"

struct arena;
struct mime_part;
struct msg;

struct func {
	const char *name;	/* without '$'; "main" for the top level */
	uint32_t entry;
	int nparams;
	int nlocals;		/* parameters included */
	int ret;		/* return type */
	int *param_types;
	const char *file;
	int line;
};

/* A constant as a cached program's file holds it, used where the file
 * is mapped: no table of values is made at load (at 10,000 rules it was
 * 480 KB of fresh pages for each delivery). */
struct const_rec {
	uint32_t type;		/* V_INT, V_STR or V_ARR */
	uint32_t len;		/* a string's length */
	uint64_t val;		/* the int; the string's offset from kbase;
				 * the array's index in karr */
};

struct mfl_prog {
	struct arena *arena;	/* everything below lives here */
	uint32_t *code;
	size_t ncode;
	const unsigned char *linemap;	/* each code word's line and file
					 * (linemap.c), read on errors only */
	size_t linemap_len;
	const unsigned char *linemarks;	/* where to start reading it */
	size_t nlinemarks;
	const char **files;
	size_t nfiles;
	size_t ncontrols;	/* the env's controls the code may name: the
				 * first ncontrols (a cached program's, those
				 * it uses, checked at load) */
	struct value *consts;	/* compiled: the constants; NULL when read
				 * from the cache, which has krec instead */
	size_t nconsts;
	const struct const_rec *krec;	/* cached: each constant (prog_const) */
	const char *kbase;	/* what krec's offsets count from */
	struct value *karr;	/* cached: its constant lists, made at load */
	struct site *sites;
	size_t nsites;
	struct func *funcs;	/* funcs[0] is the top level */
	size_t nfuncs;
	int *global_types;
	const char **global_names;
	size_t nglobals;
	int sieve;		/* the main file was read in Sieve mode */
	int sieve_sniffed;	/* that mode came from its first line or name */
	const struct mfl_env *env;
	struct prog_cleanup *cleanups;	/* run by mfl_prog_free() */
};

struct prog_cleanup {
	struct prog_cleanup *next;
	void (*fn)(void *ptr);
	void *ptr;
};

#define MIME_LOOPS_MAX	4	/* nested foreverypart (as Pigeonhole) */

/* One foreverypart loop: the part it walks below, the part it is at. */
struct mime_loop {
	struct mime_part *scope, *cur;
	int started;
};

struct frame {
	const struct func *fn;
	uint32_t ret_pc;
	size_t base;		/* stack index of local 0 */
};

struct mfl_run {
	const struct mfl_prog *prog;
	const struct mfl_env *env;
	struct arena *arena;	/* what the run makes; the memory limit */
	struct value *stack;
	size_t sp, stack_cap;
	struct frame *frames;	/* grown as calls nest (vm_frame_room) */
	int nframes, frames_cap;
	struct value *globals;
	struct value *controls;
	uint64_t budget;
	struct mfl_limits limits;
	struct msg *msg;
	struct msg **own_msgs;	/* what filter made: the run frees them */
	size_t nown_msgs;
	const char *orig_to;	/* the original recipient, or NULL */
	const char *auth;	/* the SMTP AUTH user, or NULL */
	const char *env_from;	/* envelope; NULL when unknown */
	const char **env_to;	/* the recipients, in the run's arena */
	size_t n_env_to, cap_env_to;
	struct action_list actions;
	int stopped;
	int test_skip;		/* test_fail: on to the test block's end */
	int failed;
	uint32_t pc;		/* of the failing instruction */
	struct buf error;	/* "file:line: ..." of a runtime error */
	void *host_data;
	struct value match_vars[MATCH_CAPS];	/* ${0}..${99} (RFC 5229) */
	int n_match_vars;
	struct value imap_flags;	/* RFC 5232's internal variable */
	struct env_item environment[ENV_ITEMS_MAX];	/* RFC 5183, this run's */
	size_t nenvironment;
	struct mime_loop loops[MIME_LOOPS_MAX];	/* RFC 5703 foreverypart */
	int nloops;
};

/* prog_const - constant K of PROG (in range: prog_verify) */
static inline struct value
prog_const(const struct mfl_prog *prog, size_t k)
{
	const struct const_rec *c;

	if (prog->consts != NULL)
		return prog->consts[k];
	c = &prog->krec[k];
	if (c->type == V_STR)
		return value_str(prog->kbase + c->val, c->len);
	if (c->type == V_INT)
		return value_int((int64_t) c->val);
	return prog->karr[c->val];	/* checked at load: cache.c */
}

/* Reading a program's line map (linemap.c), a word at a time. */
struct linemap_iter {
	const unsigned char *p, *end;
	size_t nfiles;
	uint32_t line, file;	/* the word's, after linemap_next() */
	int bad;
};

#define LINEMAP_STEP	256	/* words from one mark to the next */
#define LINEMAP_MARK	12	/* a mark's bytes: offset, line, file (u32) */

int linemap_make(struct mfl_prog *prog, struct arena *a, const uint32_t *lines,
		 const uint16_t *files, size_t n);
void linemap_begin(const struct mfl_prog *prog, struct linemap_iter *i);
int linemap_next(struct linemap_iter *i);
uint32_t prog_where(const struct mfl_prog *prog, size_t pc, const char **file_r);

int run_own_message(struct mfl_run *run, struct msg *msg);
int prog_verify(const struct mfl_prog *prog, struct buf *errors);
int prog_verify_code(const struct mfl_prog *prog, const unsigned char *site_effect,
		     struct buf *errors);
int site_pushes(const struct intrinsic *in);
int prog_on_free(struct mfl_prog *prog, void (*fn)(void *), void *ptr);

#endif
