/*
 * opcodes.h - the bytecode, one line per opcode (like Lua's lopcodes.h)
 *
 * An instruction is one 32-bit word: the opcode in the low 8 bits, a
 * signed 24-bit operand above it. Each line gives the opcode, the values
 * it pops and pushes (VAR when the operand or the callee decides) and its
 * operand kind, from which the enum, the names, the disassembler and the
 * verifier are made:
 *   -  none   i  immediate int   k  constant   l  local slot
 *   g  global slot   c  control   j  jump target   f  function
 *   s  intrinsic call site   n  count
 */
#ifndef MFL_OPCODES_H
#define MFL_OPCODES_H

#include <stdint.h>

#define VAR	99

#define OPCODES(X) \
	X(NOP,      0, 0,   '-') \
	X(PUSHINT,  0, 1,   'i') \
	X(PUSHK,    0, 1,   'k') \
	X(POP,      1, 0,   '-') \
	X(DUP,      1, 2,   '-') \
	X(GETL,     0, 1,   'l') \
	X(SETL,     1, 0,   'l') \
	X(GETG,     0, 1,   'g') \
	X(SETG,     1, 0,   'g') \
	X(GETC,     0, 1,   'c') \
	X(SETC,     1, 0,   'c') \
	X(ADD,      2, 1,   '-') \
	X(SUB,      2, 1,   '-') \
	X(MUL,      2, 1,   '-') \
	X(DIV,      2, 1,   '-') \
	X(MOD,      2, 1,   '-') \
	X(BAND,     2, 1,   '-') \
	X(BOR,      2, 1,   '-') \
	X(BXOR,     2, 1,   '-') \
	X(SHL,      2, 1,   '-') \
	X(SHR,      2, 1,   '-') \
	X(NEG,      1, 1,   '-') \
	X(NOT,      1, 1,   '-') \
	X(BNOT,     1, 1,   '-') \
	X(BOOL,     1, 1,   '-') \
	X(EQ,       2, 1,   '-') \
	X(NE,       2, 1,   '-') \
	X(LT,       2, 1,   '-') \
	X(LE,       2, 1,   '-') \
	X(GT,       2, 1,   '-') \
	X(GE,       2, 1,   '-') \
	X(SEQ,      2, 1,   '-') \
	X(SNE,      2, 1,   '-') \
	X(SLT,      2, 1,   '-') \
	X(SLE,      2, 1,   '-') \
	X(SGT,      2, 1,   '-') \
	X(SGE,      2, 1,   '-') \
	X(CONCAT,   2, 1,   '-') \
	X(JMP,      0, 0,   'j') \
	X(JZ,       1, 0,   'j') \
	X(JNZ,      1, 0,   'j') \
	X(CALL,     VAR, VAR, 'f') \
	X(RET,      0, 0,   '-') \
	X(RETV,     1, 0,   '-') \
	X(INTR,     VAR, VAR, 's') \
	X(NEWARR,   VAR, 1, 'n') \
	X(INDEX,    2, 1,   '-') \
	X(SETINDEX, 3, 1,   '-') \
	X(STOP,     0, 0,   '-') \
	X(GETMATCH, 0, 1,   'i')

enum opcode {
#define X(name, pops, pushes, operand) OP_##name,
	OPCODES(X)
#undef X
	OP__COUNT
};

#define INSN(op, arg)	((uint32_t) (op) | ((uint32_t) (arg) << 8))
#define INSN_OP(w)	((enum opcode) ((w) & 0xff))
#define INSN_ARG(w)	((int32_t) (w) >> 8)
#define INSN_ARG_MAX	((1 << 23) - 1)
#define INSN_ARG_MIN	(-(1 << 23))

extern const char *const opcode_names[];
extern const signed char opcode_pops[];
extern const signed char opcode_pushes[];
extern const char opcode_operands[];

#endif
