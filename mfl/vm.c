/*
 * vm - the bytecode interpreter: one dispatch loop over the program's
 * code, a value stack, call frames. Each case is a few lines; anything
 * slower (strings, arrays, intrinsics) is a helper.
 *
 * Every instruction is charged to the run's budget; ints wrap as two's
 * complement; division by zero, bad shifts, array bounds, the memory
 * limit and the call depth are runtime errors that stop the run with
 * "file:line: runtime error: ..." in run->error.
 *
 * Values carry their type, and nothing reaches memory through a value
 * of the wrong one: string and array instructions, and every argument
 * an intrinsic gets (its kind in the intrinsic's spec), check the type
 * first, and the int operators make whole int values. The compiler's programs always pass; a program read back from
 * a forged cache that does not is stopped with "bad program" rather
 * than read or write where a pointer was never stored (the verifier
 * checks operands and stack heights, not types).
 *
 * DIAGNOSTICS: vm_exec() returns 0 when the code returned or stopped,
 * -1 after a runtime error.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "env.h"
#include "intr/intr.h"
#include "msg/arena.h"
#include "opcodes.h"
#include "prog.h"
#include "testsuite.h"
#include "vm.h"

#define STACK_MAX	(1 << 20)	/* values; far above any sane script */

/* vm_fail - a runtime error at the current instruction */
static int
vm_fail(struct mfl_run *run, uint32_t pc, const char *fmt, ...)
{
	const char *file;
	char msg[300];
	va_list ap;
	int line;

	if (run->failed)
		return -1;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	run->failed = 1;
	run->pc = pc;
	file = run_where(run, &line);
	buf_reset(&run->error);
	buf_printf(&run->error, "%s:%d: runtime error: %s", file, line, msg);
	return -1;
}

/* vm_grow - room for N more values on the stack */
static int
vm_grow(struct mfl_run *run, size_t n)
{
	size_t cap = run->stack_cap ? run->stack_cap : 32;
	struct value *v;

	if (run->sp + n <= run->stack_cap)
		return 0;
	while (cap < run->sp + n)
		cap *= 2;
	if (cap > STACK_MAX || (v = realloc(run->stack, cap * sizeof(*v))) == NULL)
		return -1;
	run->stack = v;
	run->stack_cap = cap;
	return 0;
}

/* vm_frame_room - room for one more call frame, within the call depth
 * limit (frames grow as calls nest: most runs never go past a few);
 * -1 when out of memory */
int
vm_frame_room(struct mfl_run *run)
{
	int cap = run->frames_cap ? run->frames_cap * 2 : 8;
	struct frame *f;

	if (run->nframes < run->frames_cap)
		return 0;
	if (cap > run->limits.call_depth + 1)
		cap = run->limits.call_depth + 1;
	if (cap <= run->nframes)
		return -1;	/* callers check the depth first */
	if ((f = realloc(run->frames, (size_t) cap * sizeof(*f))) == NULL)
		return -1;
	run->frames = f;
	run->frames_cap = cap;
	return 0;
}

/* vm_concat - a new string A + B in the run's arena */
static int
vm_concat(struct mfl_run *run, struct value *a, const struct value *b)
{
	char *s;

	if (b->u.s.len == 0)
		return 0;
	if (a->u.s.len == 0) {
		*a = *b;
		return 0;
	}
	if ((s = arena_alloc(run->arena, a->u.s.len + b->u.s.len + 1)) == NULL)
		return -1;
	memcpy(s, a->u.s.ptr, a->u.s.len);
	memcpy(s + a->u.s.len, b->u.s.ptr, b->u.s.len);
	s[a->u.s.len + b->u.s.len] = 0;
	a->u.s.ptr = s;
	a->u.s.len += b->u.s.len;
	return 0;
}

/* vm_strcmp - bytewise comparison, shorter first on a common prefix */
static int
vm_strcmp(const struct value *a, const struct value *b)
{
	size_t n = a->u.s.len < b->u.s.len ? a->u.s.len : b->u.s.len;
	int c = n ? memcmp(a->u.s.ptr, b->u.s.ptr, n) : 0;

	if (c != 0)
		return c;
	return a->u.s.len < b->u.s.len ? -1 : a->u.s.len > b->u.s.len;
}

/* vm_newarr - an array of the N values on top of the stack */
static int
vm_newarr(struct mfl_run *run, int32_t n)
{
	struct marr *a = arena_zalloc(run->arena, sizeof(*a));

	if (a == NULL)
		return -1;
	if (n > 0) {
		if ((a->items = arena_alloc(run->arena, (size_t) n * sizeof(*a->items))) == NULL)
			return -1;
		memcpy(a->items, &run->stack[run->sp - (size_t) n], (size_t) n * sizeof(*a->items));
	}
	a->len = a->cap = (size_t) n;
	run->sp -= (size_t) n;
	run->stack[run->sp].type = V_ARR;
	run->stack[run->sp].u.a = a;
	run->sp++;
	return 0;
}

/* vm_setindex - a[i] = v; i == length appends */
static int
vm_setindex(struct mfl_run *run, uint32_t pc)
{
	struct value *top = &run->stack[run->sp - 3];
	struct marr *a = top[0].u.a;
	int64_t i = top[1].u.i;

	if (top[0].type != V_ARR || top[1].type != V_INT)
		return vm_fail(run, pc, "bad program: not an array and an index");
	if (i < 0 || (uint64_t) i > a->len)
		return vm_fail(run, pc, "index %lld out of range (length %zu)",
			       (long long) i, a->len);
	if ((size_t) i == a->len) {
		if (run_arr_push(run, a, top[2]) < 0)
			return vm_fail(run, pc, "memory limit reached");
	} else {
		a->items[i] = top[2];
	}
	top[0] = top[2];
	run->sp -= 2;
	return 0;
}

/* vm_call - enter function F, whose arguments are on the stack */
static int
vm_call(struct mfl_run *run, uint32_t *pc, int32_t f)
{
	const struct func *fn = &run->prog->funcs[f];
	struct frame *fr;

	if (run->nframes >= run->limits.call_depth)
		return vm_fail(run, *pc - 1, "calls nested deeper than %d",
			       run->limits.call_depth);
	if (vm_grow(run, (size_t) (fn->nlocals - fn->nparams) + 16) < 0)
		return vm_fail(run, *pc - 1, "stack limit reached");
	if (vm_frame_room(run) < 0)
		return vm_fail(run, *pc - 1, "out of memory");
	fr = &run->frames[run->nframes++];
	fr->fn = fn;
	fr->ret_pc = *pc;
	fr->base = run->sp - (size_t) fn->nparams;
	for (int i = fn->nparams; i < fn->nlocals; i++)
		run->stack[run->sp++] = value_int(0);
	*pc = fn->entry;
	return 0;
}

/* kind_ok - V may be passed as an argument of KIND (intr.h) */
static int
kind_ok(int kind, const struct value *v)
{
	switch (kind) {
	case 's':
		return v->type == V_STR;
	case 'i':
		return v->type == V_INT;
	case 'l':
		if (v->type == V_ARR)
			for (size_t i = 0; i < v->u.a->len; i++)
				if (v->u.a->items[i].type != V_STR)
					return 0;
		return v->type == V_STR || v->type == V_ARR;
	case 'A':
		return v->type == V_ARR;
	case 'x':
		return v->type == V_STR || v->type == V_ARR;
	default:
		return v->type == V_INT || v->type == V_STR || v->type == V_ARR;
	}
}

/* args_ok - ARGS of SITE are of the kinds its intrinsic reads them as:
 * one pass along the spec ("s?a*": a string, then any number of any) */
static int
args_ok(const struct site *site, const struct value *args)
{
	const char *spec = site->intr->args;
	int kind = 'a';

	for (int i = 0; i < site->npos; i++) {
		while (*spec == '?')
			spec++;
		if (*spec != 0 && *spec != '*')
			kind = *spec++;
		if (!kind_ok(kind, &args[i]))
			return 0;
	}
	if (site->nargs > site->npos)
		for (int id = 0; id < SITE_TAGS_MAX; id++)
			if (site->tag_arg[id] >= 0
			    && !kind_ok(intr_tag_kind(site->intr, id), &args[site->tag_arg[id]]))
				return 0;
	return 1;
}

/* vm_intr - call an intrinsic: its arguments off, its result on */
static int
vm_intr(struct mfl_run *run, uint32_t pc, int32_t s)
{
	const struct site *site = &run->prog->sites[s];
	struct value ret = value_int(0);
	struct value *args = &run->stack[run->sp - (size_t) site->nargs];

	if (!args_ok(site, args))
		return vm_fail(run, pc, "bad program: %s given a value of the wrong type",
			       site->intr->name);
	run->pc = pc;
	if (site->intr->run(run, site, args, &ret) < 0) {
		if (!run->failed)
			vm_fail(run, pc, "%s failed", site->intr->name);
		return -1;
	}
	if (run->budget == 0)
		return vm_fail(run, pc, "instruction limit (%llu) reached",
			       (unsigned long long) run->limits.instructions);
	run->sp -= (size_t) site->nargs;
	if (site->intr->kind == INTR_TEST
	    || (site->intr->kind == INTR_FUNCTION && site->intr->ret != 0))
		run->stack[run->sp++] = ret;
	return 0;
}

/* vm_arith - the int operators that can fail */
static int
vm_arith(struct mfl_run *run, uint32_t pc, enum opcode op, int64_t *a, int64_t b)
{
	switch (op) {
	case OP_DIV:
	case OP_MOD:
		if (b == 0)
			return vm_fail(run, pc, "division by zero");
		if (b == -1) {		/* INT64_MIN / -1 overflows */
			*a = op == OP_DIV ? (int64_t) (0 - (uint64_t) *a) : 0;
			return 0;
		}
		*a = op == OP_DIV ? *a / b : *a % b;
		return 0;
	default:		/* SHL, SHR */
		if (b < 0 || b > 63)
			return vm_fail(run, pc, "shift count %lld out of range", (long long) b);
		*a = op == OP_SHL ? (int64_t) ((uint64_t) *a << b) : *a >> b;
		return 0;
	}
}

#define TOP	(run->stack[run->sp - 1])
#define SECOND	(run->stack[run->sp - 2])
#define PUSH(v)	(run->stack[run->sp++] = (v))
/* an int operator's result replaces both operands: a whole value, so
 * its type is int whatever the operands were */
#define BINOP(e)	do { SECOND = value_int(e); run->sp--; } while (0)

/* vm_exec - run from PC until the frame at depth STOP_DEPTH returns */
int
vm_exec(struct mfl_run *run, uint32_t pc, int stop_depth)
{
	const struct mfl_prog *prog = run->prog;
	const uint32_t *code = prog->code;

	for (;;) {
		uint32_t w = code[pc++];
		int32_t arg = INSN_ARG(w);

		if (run->budget-- == 0) {
			run->budget = 0;
			return vm_fail(run, pc - 1, "instruction limit (%llu) reached",
				       (unsigned long long) run->limits.instructions);
		}
		if (run->sp + 4 > run->stack_cap && vm_grow(run, 4) < 0)
			return vm_fail(run, pc - 1, "stack limit reached");
		switch (INSN_OP(w)) {
		case OP_NOP:
			break;
		case OP_PUSHINT:
			PUSH(value_int(arg));
			break;
		case OP_PUSHK:
			PUSH(prog_const(prog, (size_t) arg));
			break;
		case OP_POP:
			run->sp--;
			break;
		case OP_DUP:
			run->stack[run->sp] = TOP;
			run->sp++;
			break;
		case OP_GETL:
			PUSH(run->stack[run->frames[run->nframes - 1].base + (size_t) arg]);
			break;
		case OP_SETL:
			run->stack[run->frames[run->nframes - 1].base + (size_t) arg] = TOP;
			run->sp--;
			break;
		case OP_GETG:
			PUSH(run->globals[arg]);
			break;
		case OP_GETMATCH:
			/* the verifier keeps ARG within the ten; fewer may be set */
			PUSH(arg < run->n_match_vars ? run->match_vars[arg] : value_str("", 0));
			break;
		case OP_SETG:
			run->globals[arg] = TOP;
			run->sp--;
			break;
		case OP_GETC:
			PUSH(run->controls[arg]);
			break;
		case OP_SETC:
			if (vm_setcontrol(run, arg, &TOP) < 0)
				return vm_fail(run, pc - 1, "%s", run->error.data);
			run->sp--;
			break;
		case OP_ADD:
			BINOP((int64_t) ((uint64_t) SECOND.u.i + (uint64_t) TOP.u.i));
			break;
		case OP_SUB:
			BINOP((int64_t) ((uint64_t) SECOND.u.i - (uint64_t) TOP.u.i));
			break;
		case OP_MUL:
			BINOP((int64_t) ((uint64_t) SECOND.u.i * (uint64_t) TOP.u.i));
			break;
		case OP_DIV:
		case OP_MOD:
		case OP_SHL:
		case OP_SHR:
			if (vm_arith(run, pc - 1, INSN_OP(w), &SECOND.u.i, TOP.u.i) < 0)
				return -1;
			SECOND.type = V_INT;
			run->sp--;
			break;
		case OP_BAND:
			BINOP(SECOND.u.i & TOP.u.i);
			break;
		case OP_BOR:
			BINOP(SECOND.u.i | TOP.u.i);
			break;
		case OP_BXOR:
			BINOP(SECOND.u.i ^ TOP.u.i);
			break;
		case OP_NEG:
			TOP = value_int((int64_t) (0 - (uint64_t) TOP.u.i));
			break;
		case OP_NOT:
			TOP = value_int(TOP.u.i == 0);
			break;
		case OP_BNOT:
			TOP = value_int(~TOP.u.i);
			break;
		case OP_BOOL:
			TOP = value_int(TOP.u.i != 0);
			break;
		case OP_EQ: BINOP(SECOND.u.i == TOP.u.i); break;
		case OP_NE: BINOP(SECOND.u.i != TOP.u.i); break;
		case OP_LT: BINOP(SECOND.u.i < TOP.u.i); break;
		case OP_LE: BINOP(SECOND.u.i <= TOP.u.i); break;
		case OP_GT: BINOP(SECOND.u.i > TOP.u.i); break;
		case OP_GE: BINOP(SECOND.u.i >= TOP.u.i); break;
		case OP_SEQ:
		case OP_SNE:
		case OP_SLT:
		case OP_SLE:
		case OP_SGT:
		case OP_SGE: {
			int c;
			enum opcode op = INSN_OP(w);

			if (SECOND.type != V_STR || TOP.type != V_STR)
				return vm_fail(run, pc - 1, "bad program: not strings");
			c = vm_strcmp(&SECOND, &TOP);
			int r = op == OP_SEQ ? c == 0 : op == OP_SNE ? c != 0
			    : op == OP_SLT ? c < 0 : op == OP_SLE ? c <= 0
			    : op == OP_SGT ? c > 0 : c >= 0;

			run->sp--;
			TOP = value_int(r);
			break;
		}
		case OP_CONCAT:
			if (SECOND.type != V_STR || TOP.type != V_STR)
				return vm_fail(run, pc - 1, "bad program: not strings");
			if (vm_concat(run, &SECOND, &TOP) < 0)
				return vm_fail(run, pc - 1, "memory limit reached");
			run->sp--;
			break;
		case OP_JMP:
			pc = (uint32_t) arg;
			break;
		case OP_JZ:
			if (TOP.u.i == 0)
				pc = (uint32_t) arg;
			run->sp--;
			break;
		case OP_JNZ:
			if (TOP.u.i != 0)
				pc = (uint32_t) arg;
			run->sp--;
			break;
		case OP_CALL:
			if (vm_call(run, &pc, arg) < 0)
				return -1;
			break;
		case OP_RET:
		case OP_RETV: {
			struct frame *fr = &run->frames[--run->nframes];
			int with_value = INSN_OP(w) == OP_RETV;
			struct value v = with_value ? TOP : value_int(0);

			run->sp = fr->base;
			if (with_value)
				PUSH(v);
			if (run->nframes == stop_depth)
				return 0;
			pc = fr->ret_pc;
			break;
		}
		case OP_INTR:
			if (vm_intr(run, pc - 1, arg) < 0)
				return -1;
			if (run->stopped)	/* a host's deciding command */
				return 0;
			if (run->test_skip && testsuite_skip(run, &pc) < 0)
				return -1;
			break;
		case OP_NEWARR:
			if (vm_newarr(run, arg) < 0)
				return vm_fail(run, pc - 1, "memory limit reached");
			break;
		case OP_INDEX: {
			struct marr *a = SECOND.u.a;
			int64_t i = TOP.u.i;

			if (SECOND.type != V_ARR || TOP.type != V_INT)
				return vm_fail(run, pc - 1, "bad program: not an array and an index");
			if (i < 0 || (uint64_t) i >= a->len)
				return vm_fail(run, pc - 1, "index %lld out of range (length %zu)",
					       (long long) i, a->len);
			run->sp--;
			TOP = a->items[i];
			break;
		}
		case OP_SETINDEX:
			if (vm_setindex(run, pc - 1) < 0)
				return -1;
			break;
		case OP_STOP:
			run->stopped = 1;
			return 0;
		default:
			return vm_fail(run, pc - 1, "bad opcode %d", (int) INSN_OP(w));
		}
	}
}
