/*
 * opcodes.h - the bytecode, one line per opcode (like Lua's lopcodes.h)
 *
 * An instruction is one 32-bit word: the opcode in the low 8 bits, a
 * signed 24-bit operand above it. Each line gives the opcode, its stack
 * effect (VAR when it depends on the operand or the callee) and its
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
	X(NOP,      0,   '-') \
	X(PUSHINT,  1,   'i') \
	X(PUSHK,    1,   'k') \
	X(POP,     -1,   '-') \
	X(DUP,      1,   '-') \
	X(GETL,     1,   'l') \
	X(SETL,    -1,   'l') \
	X(GETG,     1,   'g') \
	X(SETG,    -1,   'g') \
	X(GETC,     1,   'c') \
	X(SETC,    -1,   'c') \
	X(ADD,     -1,   '-') \
	X(SUB,     -1,   '-') \
	X(MUL,     -1,   '-') \
	X(DIV,     -1,   '-') \
	X(MOD,     -1,   '-') \
	X(BAND,    -1,   '-') \
	X(BOR,     -1,   '-') \
	X(BXOR,    -1,   '-') \
	X(SHL,     -1,   '-') \
	X(SHR,     -1,   '-') \
	X(NEG,      0,   '-') \
	X(NOT,      0,   '-') \
	X(BNOT,     0,   '-') \
	X(BOOL,     0,   '-') \
	X(EQ,      -1,   '-') \
	X(NE,      -1,   '-') \
	X(LT,      -1,   '-') \
	X(LE,      -1,   '-') \
	X(GT,      -1,   '-') \
	X(GE,      -1,   '-') \
	X(SEQ,     -1,   '-') \
	X(SNE,     -1,   '-') \
	X(SLT,     -1,   '-') \
	X(SLE,     -1,   '-') \
	X(SGT,     -1,   '-') \
	X(SGE,     -1,   '-') \
	X(CONCAT,  -1,   '-') \
	X(JMP,      0,   'j') \
	X(JZ,      -1,   'j') \
	X(JNZ,     -1,   'j') \
	X(CALL,    VAR,  'f') \
	X(RET,     VAR,  '-') \
	X(RETV,    VAR,  '-') \
	X(INTR,    VAR,  's') \
	X(NEWARR,  VAR,  'n') \
	X(INDEX,   -1,   '-') \
	X(SETINDEX, -3,  '-') \
	X(STOP,     0,   '-')

enum opcode {
#define X(name, effect, operand) OP_##name,
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
extern const int opcode_effects[];
extern const char opcode_operands[];

#endif
