/*
 * verify_test - prog_verify() refuses bytecode that would step outside
 * the VM's stack, constants, sites, locals or code: each case compiles a
 * good program, breaks one instruction, and must be refused; the good
 * program must pass.
 */
#include "config.h"

#include <string.h>

#include "mfl.h"
#include "opcodes.h"	/* white box: forged bytecode (t/sh/layers.sh) */
#include "prog.h"
#include "tap.h"

static const char script[] =
	"int $g = 1;\n"
	"int $f(int $a) { int $b = $a + 1; return $b; }\n"
	"if ($f($g) > 1 && header :is \"subject\" \"x\") { keep; }\n";

static const struct break_case {
	const char *what;
	int at;			/* code index; -1: the last word of main */
	uint32_t insn;
} cases[] = {
	{ "stack underflow (POP first)", 0, INSN(OP_POP, 0) },
	{ "constant out of range", 0, INSN(OP_PUSHK, 9999) },
	{ "global out of range", 1, INSN(OP_SETG, 50) },
	{ "site out of range", 0, INSN(OP_INTR, 4000) },
	{ "jump past the code", 0, INSN(OP_JMP, 1 << 22) },
	{ "negative jump", 0, INSN(OP_JMP, -5) },
	{ "call of function 0", 0, INSN(OP_CALL, 0) },
	{ "unknown opcode", 0, 0xfe },
	{ "falls off the end (RET replaced)", -1, INSN(OP_NOP, 0) },
	{ "RETV with an empty stack", 0, INSN(OP_RETV, 0) },
};

int
main(void)
{
	struct mfl_env *env = mfl_env_new();
	struct buf errors = BUF_INIT;
	struct mfl_prog *prog = mfl_compile_mem(env, "v.mfl", script,
						sizeof(script) - 1, 0, &errors);

	if (!tap_ok(prog != NULL, "the script compiles")) {
		tap_diag("%s", errors.data);
		return tap_done();
	}
	tap_is_int(prog_verify(prog, &errors), 0, "the compiled program verifies");
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t at = cases[i].at >= 0 ? (size_t) cases[i].at : prog->funcs[1].entry - 1;
		uint32_t saved = prog->code[at];

		buf_reset(&errors);
		prog->code[at] = cases[i].insn;
		tap_is_int(prog_verify(prog, &errors), -1, "refused: %s", cases[i].what);
		prog->code[at] = saved;
	}
	/* a local slot outside the function's frame */
	for (size_t pc = prog->funcs[1].entry; pc < prog->ncode; pc++)
		if (INSN_OP(prog->code[pc]) == OP_GETL) {
			uint32_t saved = prog->code[pc];

			prog->code[pc] = INSN(OP_GETL, 7);
			tap_is_int(prog_verify(prog, &errors), -1, "refused: local out of frame");
			prog->code[pc] = saved;
			break;
		}
	tap_is_int(prog_verify(prog, &errors), 0, "restored program verifies again");
	mfl_prog_free(prog);
	mfl_env_free(env);
	buf_free(&errors);
	return tap_done();
}
