/*
 * verify - check a program before it runs: every operand in range (from
 * the opcode table's operand kinds), every field of every intrinsic call
 * site in range (site_valid), every jump inside its function, and
 * the stack height at each instruction the same along every path, never
 * below the frame's locals, and enough for what each instruction pops.
 * The compiler's output always passes; the check is what lets a program
 * read back from the cache (cache.c) be trusted not to step outside the
 * VM's stack, constants, sites or code.
 *
 * Types are not checked: a cache file is only read when it belongs to
 * the user running it, who could as well run any code of theirs.
 *
 * DIAGNOSTICS: -1 and a line in ERRORS naming the bad instruction.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "ast.h"
#include "compile.h"
#include "env.h"
#include "msg/buf.h"
#include "opcodes.h"
#include "prog.h"

/* The range each opcode's operand must be in, [lo, hi): the opcode's
 * operand kind indexes the kind's range in the function being checked.
 * Tables, not a switch on the kind, whose indirect jump mispredicted on
 * nearly every word. RK_BAD is 0: a byte that is no opcode has it. */
enum { RK_BAD, RK_NONE, RK_CONST, RK_GLOBAL, RK_CONTROL, RK_JUMP, RK_FUNC, RK_SITE,
       RK_LOCAL, RK_COUNT, RK_MATCH, RK__N };
#define RK_OF(c) ((c) == 'k' ? RK_CONST : (c) == 'g' ? RK_GLOBAL : (c) == 'c' ? RK_CONTROL \
		  : (c) == 'j' ? RK_JUMP : (c) == 'f' ? RK_FUNC : (c) == 's' ? RK_SITE \
		  : (c) == 'l' ? RK_LOCAL : (c) == 'n' ? RK_COUNT : (c) == 'm' ? RK_MATCH : RK_NONE)
static const unsigned char operand_kind[256] = {
#define X(name, pops, pushes, operand) [OP_##name] = RK_OF(operand),
	OPCODES(X)
#undef X
};
struct ranges {
	unsigned char kind[256];	/* operand_kind, copied beside the ranges:
					 * one base for both lookups (3% of a
					 * big script's load) */
	int64_t lo[RK__N], hi[RK__N];
};

/* ranges_of - PROG's operand ranges inside function FN's code [LO, HI) */
static void
ranges_of(const struct mfl_prog *prog, const struct func *fn, size_t lo, size_t hi,
	  struct ranges *r)
{
	static const int64_t any_lo = INT64_MIN, any_hi = INT64_MAX;

	r->lo[RK_NONE] = any_lo, r->hi[RK_NONE] = any_hi;
	r->lo[RK_BAD] = 1, r->hi[RK_BAD] = 0;	/* nothing is in it */
	r->lo[RK_CONST] = 0, r->hi[RK_CONST] = (int64_t) prog->nconsts;
	r->lo[RK_GLOBAL] = 0, r->hi[RK_GLOBAL] = (int64_t) prog->nglobals;
	r->lo[RK_CONTROL] = 0, r->hi[RK_CONTROL] = (int64_t) prog->ncontrols;
	r->lo[RK_JUMP] = (int64_t) lo, r->hi[RK_JUMP] = (int64_t) hi;
	r->lo[RK_FUNC] = 1, r->hi[RK_FUNC] = (int64_t) prog->nfuncs;
	r->lo[RK_SITE] = 0, r->hi[RK_SITE] = (int64_t) prog->nsites;
	r->lo[RK_LOCAL] = 0, r->hi[RK_LOCAL] = fn->nlocals;
	r->lo[RK_COUNT] = 0, r->hi[RK_COUNT] = any_hi;
	r->lo[RK_MATCH] = 0, r->hi[RK_MATCH] = MATCH_CAPS;
}

/* effect_var - values an instruction whose count its operand or callee
 * decides pops and pushes (CALL, INTR, NEWARR); a site's from
 * SITE_EFFECT (two bytes a site) when not NULL */
static void
effect_var(const struct mfl_prog *prog, const unsigned char *site_effect, uint32_t w,
	   int *pops, int *pushes)
{
	enum opcode op = INSN_OP(w);
	int32_t arg = INSN_ARG(w);

	*pops = opcode_pops[op];
	*pushes = opcode_pushes[op];
	switch (op) {
	case OP_CALL:
		*pops = prog->funcs[arg].nparams;
		*pushes = prog->funcs[arg].ret != TYPE_VOID;
		break;
	case OP_INTR:
		if (site_effect != NULL) {
			*pops = site_effect[2 * arg];
			*pushes = site_effect[2 * arg + 1];
		} else {
			*pops = prog->sites[arg].nargs;
			*pushes = site_pushes(prog->sites[arg].intr);
		}
		break;
	case OP_NEWARR:
		*pops = arg;
		break;
	default:
		break;
	}
}

/* Where paths meet: only at a jump's target or a function's entry (an
 * instruction with neither is reached from the one before it alone),
 * so only those get a height: a bit per code word marks them, and a
 * target's height is at its rank among the marked words. A big script
 * has a jump every few words; a height per word was most of the check's
 * memory (280 KB at 10,000 rules) and its writes most of its time. */
struct targets {
	uint64_t *bits;		/* bit pc: a target */
	uint32_t *rank;		/* targets before each 64 words */
	int *height;		/* each target's stack height, -1 until reached */
	size_t n;
};

/* popcount - the set bits of W (no libgcc call: the build targets no
 * particular processor, and the call was a tenth of the check) */
static inline int
popcount(uint64_t w)
{
	w = w - ((w >> 1) & 0x5555555555555555ull);
	w = (w & 0x3333333333333333ull) + ((w >> 2) & 0x3333333333333333ull);
	w = (w + (w >> 4)) & 0x0f0f0f0f0f0f0f0full;
	return (int) ((w * 0x0101010101010101ull) >> 56);
}

/* targets_mark - every function entry and jump target of PROG marked
 * in T, and counted; an operand out of the code's range is left for
 * ranges_of's check to refuse */
static void
targets_mark(const struct mfl_prog *prog, struct targets *t)
{
	size_t words = prog->ncode / 64 + 1;

	for (size_t f = 0; f < prog->nfuncs; f++)
		if (prog->funcs[f].entry < prog->ncode)
			t->bits[prog->funcs[f].entry >> 6] |= 1ull << (prog->funcs[f].entry & 63);
	for (size_t pc = 0; pc < prog->ncode; pc++) {
		uint32_t w = prog->code[pc];
		enum opcode op = INSN_OP(w);

		if ((op == OP_JMP || op == OP_JZ || op == OP_JNZ) && INSN_ARG(w) >= 0
		    && (size_t) INSN_ARG(w) < prog->ncode)
			t->bits[(size_t) INSN_ARG(w) >> 6] |= 1ull << (INSN_ARG(w) & 63);
	}
	t->n = 0;
	for (size_t k = 0; k < words; k++) {
		t->rank[k] = (uint32_t) t->n;
		t->n += (size_t) popcount(t->bits[k]);
	}
}

/* target_index - PC's index among the targets, or -1 when it is none */
static inline long
target_index(const struct targets *t, size_t pc)
{
	uint64_t word = t->bits[pc >> 6], bit = 1ull << (pc & 63);

	if (!(word & bit))
		return -1;
	return (long) t->rank[pc >> 6] + popcount(word & (bit - 1));
}

/* verify_func - stack heights through function F's code [LO, HI) */
static int
verify_func(const struct mfl_prog *prog, const unsigned char *site_effect,
	    const struct func *fn, size_t lo, size_t hi, struct targets *t, uint32_t *work,
	    struct ranges *r, struct buf *errors)
{
	size_t nwork = 0, pc = lo;

	ranges_of(prog, fn, lo, hi, r);
	t->height[target_index(t, lo)] = 0;	/* an entry is marked */
	work[nwork++] = (uint32_t) lo;
	while (nwork > 0) {
		/* straight on from a target until the path ends or meets
		 * one: each target is walked from once, so the work stack
		 * holds at most all of them */
		int h;

		pc = work[--nwork];
		h = t->height[target_index(t, pc)];
		for (;;) {
			uint32_t w = prog->code[pc];
			enum opcode op = INSN_OP(w);
			int pops, pushes;
			long at;
			size_t to;

			if (INSN_ARG(w) < r->lo[r->kind[op]] || INSN_ARG(w) >= r->hi[r->kind[op]])
				goto bad;	/* an unknown opcode too */
			pops = opcode_pops[op];
			pushes = opcode_pushes[op];
			/* the caller counts on a value exactly when the function
			 * has a type (effect_var() of CALL): a RET there would
			 * leave it short */
			if ((op == OP_RET && fn->ret != TYPE_VOID) || (op == OP_RETV && fn->ret == TYPE_VOID))
				goto bad;
			if (pops == VAR || pushes == VAR)
				effect_var(prog, site_effect, w, &pops, &pushes);
			if (pops < 0 || h < pops || h - pops + pushes > 65536)
				goto bad;
			h = h - pops + pushes;
			if (op == OP_RET || op == OP_RETV || op == OP_STOP)
				break;
			if (op == OP_JMP || op == OP_JZ || op == OP_JNZ) {
				at = target_index(t, (size_t) INSN_ARG(w));	/* in [lo, hi): ranges */
				if (t->height[at] < 0) {
					t->height[at] = h;
					work[nwork++] = (uint32_t) INSN_ARG(w);
				} else if (t->height[at] != h) {
					goto bad;	/* paths disagree */
				}
				if (op == OP_JMP)
					break;
			}
			if ((to = pc + 1) >= hi)
				goto bad;	/* falls off the function's end */
			if ((at = target_index(t, to)) >= 0) {
				if (t->height[at] >= 0) {
					if (t->height[at] != h)
						goto bad;
					break;
				}
				t->height[at] = h;
			}
			pc = to;
		}
	}
	return 0;
bad:
	buf_printf(errors, "mfl: bad program: instruction %zu of $%s\n", pc, fn->name);
	return -1;
}

/* site_pushes - values a call of IN leaves on the stack */
int
site_pushes(const struct intrinsic *in)
{
	return in->kind == INTR_TEST || (in->kind == INTR_FUNCTION && in->ret != 0);
}

/* prog_verify_code - PROG's functions and code, its sites already
 * checked (site_valid); SITE_EFFECT, when not NULL, holds each site's
 * pops and pushes (two bytes a site), so that a big program read from
 * the cache is checked without walking its site table a second time;
 * 0 when it is safe to run */
int
prog_verify_code(const struct mfl_prog *prog, const unsigned char *site_effect,
		 struct buf *errors)
{
	size_t words = prog->ncode / 64 + 1;
	struct targets t = { calloc(words, sizeof(*t.bits)), malloc(words * sizeof(*t.rank)), NULL, 0 };
	uint32_t *work = NULL;
	struct ranges ranges;
	int ret = 0;

	if (t.bits == NULL || t.rank == NULL || prog->ncode > UINT32_MAX) {
		ret = -1;
	} else {
		memcpy(ranges.kind, operand_kind, sizeof(ranges.kind));
		targets_mark(prog, &t);
		if ((t.height = malloc((t.n + 1) * sizeof(*t.height))) == NULL
		    || (work = malloc((t.n + 1) * sizeof(*work))) == NULL)
			ret = -1;
		for (size_t i = 0; ret == 0 && i < t.n; i++)
			t.height[i] = -1;
	}
	if (ret < 0)
		buf_puts(errors, "mfl: out of memory\n");
	for (size_t f = 0; ret == 0 && f < prog->nfuncs; f++) {
		const struct func *fn = &prog->funcs[f];
		size_t hi = f + 1 < prog->nfuncs ? prog->funcs[f + 1].entry : prog->ncode;

		if (fn->entry >= hi || hi > prog->ncode || fn->nparams < 0
		    || fn->nlocals < fn->nparams || (f == 0 && fn->nparams != 0)
		    || (f > 0 && fn->entry < prog->funcs[f - 1].entry)) {
			buf_printf(errors, "mfl: bad program: function %zu\n", f);
			ret = -1;
			break;
		}
		ret = verify_func(prog, site_effect, fn, fn->entry, hi, &t, work, &ranges, errors);
	}
	free(t.bits);
	free(t.rank);
	free(t.height);
	free(work);
	return ret;
}

/* prog_verify - the whole program; 0 when it is safe to run */
int
prog_verify(const struct mfl_prog *prog, struct buf *errors)
{
	/* every site's operands, before any instruction can name one */
	for (size_t s = 0; s < prog->nsites; s++)
		if (!site_valid(&prog->sites[s], prog->nglobals)) {
			buf_printf(errors, "mfl: bad program: call site %zu (%s)\n", s,
				   prog->sites[s].intr ? prog->sites[s].intr->name : "?");
			return -1;
		}
	return prog_verify_code(prog, NULL, errors);
}
