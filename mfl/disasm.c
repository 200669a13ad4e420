/*
 * disasm - the opcode tables made from opcodes.h, and the disassembler
 * mflc -d prints: one function after another, one instruction a line
 * with its code index, source line, name, operand and what the operand
 * refers to.
 */
#include "config.h"

#include <stdio.h>

#include "env.h"
#include "msg/buf.h"
#include "opcodes.h"
#include "prog.h"

const char *const opcode_names[] = {
#define X(name, pops, pushes, operand) #name,
	OPCODES(X)
#undef X
};

const signed char opcode_pops[] = {
#define X(name, pops, pushes, operand) pops,
	OPCODES(X)
#undef X
};

const signed char opcode_pushes[] = {
#define X(name, pops, pushes, operand) pushes,
	OPCODES(X)
#undef X
};

const char opcode_operands[] = {
#define X(name, pops, pushes, operand) operand,
	OPCODES(X)
#undef X
};

/* disasm_const - a constant as MFL would write it */
static void disasm_const(const struct value *v, struct buf *out);

static void
disasm_const(const struct value *v, struct buf *out)
{
	if (v->type == V_INT) {
		buf_printf(out, "%lld", (long long) v->u.i);
		return;
	}
	if (v->type == V_ARR) {
		buf_putc(out, '[');
		for (size_t i = 0; i < v->u.a->len && i < 8; i++) {
			if (i > 0)
				buf_puts(out, ", ");
			disasm_const(&v->u.a->items[i], out);
		}
		buf_puts(out, v->u.a->len > 8 ? ", ...]" : "]");
		return;
	}
	buf_putc(out, '"');
	for (size_t i = 0; i < v->u.s.len && i < 40; i++) {
		unsigned char c = (unsigned char) v->u.s.ptr[i];

		if (c == '"' || c == '\\')
			buf_printf(out, "\\%c", c);
		else if (c < 0x20 || c >= 0x7f)
			buf_printf(out, "\\x%02x", c);
		else
			buf_putc(out, c);
	}
	buf_puts(out, v->u.s.len > 40 ? "\"..." : "\"");
}

/* names_ok - the operand ARG of OP, when it names a constant, control,
 * function or site, names one that is there */
static int
names_ok(const struct mfl_prog *prog, enum opcode op, int32_t arg)
{
	size_t n;

	switch (opcode_operands[op]) {
	case 'k': n = prog->nconsts; break;
	case 'c': n = prog->ncontrols; break;
	case 'f': n = prog->nfuncs; break;
	case 's': n = prog->nsites; break;
	default: return 1;
	}
	return arg >= 0 && (size_t) arg < n;
}

/* disasm_insn - one instruction, from source line LINE */
static void
disasm_insn(const struct mfl_prog *prog, size_t pc, uint32_t line, struct buf *out)
{
	uint32_t w = prog->code[pc];
	enum opcode op = INSN_OP(w);
	int32_t arg = INSN_ARG(w);

	if (op >= OP__COUNT) {	/* unreachable words of a forged program */
		buf_printf(out, "%5zu %4u  ? 0x%08x\n", pc, line, (unsigned) w);
		return;
	}
	buf_printf(out, "%5zu %4u  %-9s", pc, line, opcode_names[op]);
	if (!names_ok(prog, op, arg)) {	/* unreachable: the verifier never saw it */
		buf_printf(out, " %d\t; ? out of range\n", arg);
		return;
	}
	switch (opcode_operands[op]) {
	case '-':
		break;
	case 'k': {
		struct value v = prog_const(prog, (size_t) arg);

		buf_printf(out, " %d\t; ", arg);
		disasm_const(&v, out);
		break;
	}
	case 'c':
		buf_printf(out, " %d\t; $%s", arg, prog->env->controls[arg].name);
		break;
	case 'f':
		buf_printf(out, " %d\t; $%s", arg, prog->funcs[arg].name);
		break;
	case 's': {
		const struct site *s = &prog->sites[arg];

		buf_printf(out, " %d\t; %s/%d", arg, s->intr->name, s->nargs);
		break;
	}
	default:
		buf_printf(out, " %d", arg);
		break;
	}
	buf_putc(out, '\n');
}

/* mfl_prog_disasm - the whole program, function by function */
void
mfl_prog_disasm(const struct mfl_prog *prog, struct buf *out)
{
	struct linemap_iter lines;
	size_t read = 0;	/* words whose line LINES went past */

	linemap_begin(prog, &lines);
	for (size_t f = 0; f < prog->nfuncs; f++) {
		const struct func *fn = &prog->funcs[f];
		size_t end = f + 1 < prog->nfuncs ? prog->funcs[f + 1].entry : prog->ncode;

		buf_printf(out, "%s$%s: %d param%s, %d local%s\n", f ? "\n" : "",
			   fn->name, fn->nparams, fn->nparams == 1 ? "" : "s",
			   fn->nlocals, fn->nlocals == 1 ? "" : "s");
		for (size_t pc = fn->entry; pc < end; pc++) {
			/* functions come in code order (verify.c) */
			for (; read <= pc; read++)
				linemap_next(&lines);
			disasm_insn(prog, pc, lines.line, out);
		}
	}
}
