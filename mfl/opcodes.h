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
 *   s  intrinsic call site   n  count   m  match variable ${0}..${9}
 * The comment on each line says what it does, as Lua's lopcodes.h does:
 * the stack before and after ("a b -> a+b", top on the right; "-" when
 * the stack is left alone), then what else happens. The operand is
 * named by its kind letter: K[k] is constant k, L[l] local l, G[g]
 * global g, C[c] control c, f function f, s the call site s (which
 * names the intrinsic and its argument count n). CALL leaves the
 * arguments as the callee's first locals; its RET or RETV drops the
 * frame, and RETV leaves the value for the caller. INTR pushes r for a
 * test or a $function with a value, nothing for a command. An "error"
 * is a runtime error of the run, never a crash: prog_verify() has
 * checked every operand's range before a program runs.
 */
#ifndef MFL_OPCODES_H
#define MFL_OPCODES_H

#include <stdint.h>

#define VAR	99

#define OPCODES(X) \
	X(NOP,      0,   0,   '-') /* -           nothing */ \
	X(PUSHINT,  0,   1,   'i') /* - -> i      the operand, an int */ \
	X(PUSHK,    0,   1,   'k') /* - -> K[k]   a string or string list */ \
	X(POP,      1,   0,   '-') /* v -> - */ \
	X(DUP,      1,   2,   '-') /* v -> v v */ \
	X(GETL,     0,   1,   'l') /* - -> L[l]   of the running function */ \
	X(SETL,     1,   0,   'l') /* v -> -      L[l] = v */ \
	X(GETG,     0,   1,   'g') /* - -> G[g] */ \
	X(SETG,     1,   0,   'g') /* v -> -      G[g] = v */ \
	X(GETC,     0,   1,   'c') /* - -> C[c]   as this run has it */ \
	X(SETC,     1,   0,   'c') /* v -> -      C[c] = v, or error */ \
	X(ADD,      2,   1,   '-') /* a b -> a+b  wraps (64 bits) */ \
	X(SUB,      2,   1,   '-') /* a b -> a-b  wraps */ \
	X(MUL,      2,   1,   '-') /* a b -> a*b  wraps */ \
	X(DIV,      2,   1,   '-') /* a b -> a/b  error if b is 0 */ \
	X(MOD,      2,   1,   '-') /* a b -> a%b  error if b is 0 */ \
	X(BAND,     2,   1,   '-') /* a b -> a&b */ \
	X(BOR,      2,   1,   '-') /* a b -> a|b */ \
	X(BXOR,     2,   1,   '-') /* a b -> a^b */ \
	X(SHL,      2,   1,   '-') /* a b -> a<<b error unless 0<=b<=63 */ \
	X(SHR,      2,   1,   '-') /* a b -> a>>b error unless 0<=b<=63 */ \
	X(NEG,      1,   1,   '-') /* a -> -a     wraps */ \
	X(NOT,      1,   1,   '-') /* a -> !a */ \
	X(BNOT,     1,   1,   '-') /* a -> ~a */ \
	X(BOOL,     1,   1,   '-') /* a -> a!=0   0 or 1 */ \
	X(EQ,       2,   1,   '-') /* a b -> a==b ints */ \
	X(NE,       2,   1,   '-') /* a b -> a!=b ints */ \
	X(LT,       2,   1,   '-') /* a b -> a<b  ints */ \
	X(LE,       2,   1,   '-') /* a b -> a<=b ints */ \
	X(GT,       2,   1,   '-') /* a b -> a>b  ints */ \
	X(GE,       2,   1,   '-') /* a b -> a>=b ints */ \
	X(SEQ,      2,   1,   '-') /* s t -> s==t strings, bytewise */ \
	X(SNE,      2,   1,   '-') /* s t -> s!=t strings, bytewise */ \
	X(SLT,      2,   1,   '-') /* s t -> s<t  strings, bytewise */ \
	X(SLE,      2,   1,   '-') /* s t -> s<=t strings, bytewise */ \
	X(SGT,      2,   1,   '-') /* s t -> s>t  strings, bytewise */ \
	X(SGE,      2,   1,   '-') /* s t -> s>=t strings, bytewise */ \
	X(CONCAT,   2,   1,   '-') /* s t -> st   error at memory limit */ \
	X(JMP,      0,   0,   'j') /* -           to j */ \
	X(JZ,       1,   0,   'j') /* a -> -      to j if a is 0 */ \
	X(JNZ,      1,   0,   'j') /* a -> -      to j unless a is 0 */ \
	X(CALL,     VAR, VAR, 'f') /* a1..an -> - enter function f */ \
	X(RET,      0,   0,   '-') /* -           return, no value */ \
	X(RETV,     1,   0,   '-') /* v -> v      return with v */ \
	X(INTR,     VAR, VAR, 's') /* a1..an -> r intrinsic of site s */ \
	X(NEWARR,   VAR, 1,   'n') /* v1..vn -> A array of the n values */ \
	X(INDEX,    2,   1,   '-') /* A i -> A[i] error out of range */ \
	X(SETINDEX, 3,   1,   '-') /* A i v -> v  A[i] = v; [len] appends */ \
	X(STOP,     0,   0,   '-') /* -           ends the run */ \
	X(GETMATCH, 0,   1,   'm') /* - -> ${m}   match m, or "" */

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
