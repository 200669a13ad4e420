/*
 * verify_test - prog_verify() refuses bytecode that would step outside
 * the VM's stack, constants, sites, locals or code, and call sites whose
 * fields would (a global slot, a tag's value, the argument count): each
 * case compiles a good program, breaks one instruction or site field,
 * and must be refused; the good program must pass.
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
	{ "match variable below ${0}", 0, INSN(OP_GETMATCH, -512) },
	{ "match variable past ${99}", 0, INSN(OP_GETMATCH, 100) },
	{ "falls off the end (RET replaced)", -1, INSN(OP_NOP, 0) },
	{ "RETV with an empty stack", 0, INSN(OP_RETV, 0) },
	/* where paths meet (verify.c keeps heights at jump targets only):
	 * keep made a push, the straight path reaches the RET that both
	 * JZs jump to one value higher */
	{ "paths disagree where one falls through", 11, INSN(OP_PUSHINT, 1) },
	/* the second JZ sent back to the header test, which the straight
	 * path reached with two values more */
	{ "a jump back into a straight run", 10, INSN(OP_JZ, 9) },
};

/* A Sieve script with sites that keep a global (set, setflag), tags
 * with values (vacation's :days and :subject) and required arguments. */
static const char sieve_script[] =
	"require [\"variables\", \"imap4flags\", \"vacation\"];\n"
	"set \"v\" \"x\";\n"
	"setflag \"f\" \"\\\\Seen\";\n"
	"addflag \"\\\\Flagged\";\n"
	"if header :is \"subject\" \"${v}\" {\n"
	"  vacation :days 3 :subject \"away\" \"I am away\";\n"
	"}\n";

/* site_of - the first site of intrinsic NAME */
static struct site *
site_of(struct mfl_prog *prog, const char *name)
{
	for (size_t i = 0; i < prog->nsites; i++)
		if (strcmp(prog->sites[i].intr->name, name) == 0)
			return &prog->sites[i];
	return NULL;
}

/* unknown_tag - a tag id INTR does not know */
static int
unknown_tag(const struct intrinsic *intr)
{
	uint32_t known = 0;

	for (const struct intr_tag *t = intr->tags; t != NULL && t->name != NULL; t++)
		known |= 1u << t->id;
	for (int id = 0; id < SITE_TAGS_MAX; id++)
		if (!(known & (1u << id)))
			return id;
	return SITE_TAGS_MAX;
}

/* refused - PROG with one field of a site changed must not verify */
static void
refused(struct mfl_prog *prog, const char *what)
{
	struct buf errors = BUF_INIT;

	tap_is_int(prog_verify(prog, &errors), -1, "refused: %s", what);
	buf_free(&errors);
}

/* sites - forged call sites, each refused, the program fine again after */
static void
sites(struct mfl_env *env)
{
	struct buf errors = BUF_INIT;
	struct mfl_prog *prog = mfl_compile_mem(env, "v.sieve", sieve_script,
						sizeof(sieve_script) - 1, 1, &errors);
	struct site *set, *setflag, *addflag, *vac, *hdr, saved;

	if (!tap_ok(prog != NULL, "the Sieve script compiles")) {
		tap_diag("%s", errors.data);
		buf_free(&errors);
		return;
	}
	set = site_of(prog, "set");
	setflag = site_of(prog, "setflag");
	addflag = site_of(prog, "addflag");
	vac = site_of(prog, "vacation");
	hdr = site_of(prog, "header");
	if (!tap_ok(set && setflag && addflag && vac && hdr, "it has the sites")) {
		mfl_prog_free(prog);
		buf_free(&errors);
		return;
	}
	tap_ok(vac->tag_arg[0] >= 0 || vac->tags != 0, "vacation has tags with values");
#define FORGE(site, change, what) \
	do { saved = *(site); change; refused(prog, what); *(site) = saved; } while (0)
	FORGE(set, set->aux = (int) prog->nglobals, "set's global slot past the globals");
	FORGE(set, set->aux = -1, "a negative global slot");
	FORGE(setflag, setflag->aux = (int) prog->nglobals + 1,
	      "setflag's variable past the globals (the write that crashed)");
	FORGE(addflag, addflag->aux = 1000, "addflag's variable far past them");
	FORGE(hdr, hdr->aux = 1, "an aux where the intrinsic keeps none");
	FORGE(hdr, hdr->npos = 1, "fewer positional arguments than header needs");
	FORGE(hdr, hdr->npos = 3, "more than it takes");
	FORGE(hdr, hdr->nargs = hdr->npos + 2, "values on the stack no tag takes");
	FORGE(hdr, hdr->tags |= 1u << unknown_tag(hdr->intr), "a tag header does not know");
	FORGE(hdr, hdr->match = 99, "an unknown match type");
	FORGE(hdr, hdr->comparator = -1, "an unknown comparator");
	for (int id = 0; id < SITE_TAGS_MAX; id++)
		if (vac->tag_arg[id] >= 0) {
			FORGE(vac, vac->tag_arg[id] = 0, "a tag value read from a positional argument");
			FORGE(vac, vac->tag_arg[id] = (signed char) vac->nargs,
			      "a tag value past the stack");
			FORGE(vac, vac->tags &= ~(1u << id), "a tag value with its tag absent");
			break;
		}
#undef FORGE
	tap_is_int(prog_verify(prog, &errors), 0, "the Sieve program verifies again");
	mfl_prog_free(prog);
	buf_free(&errors);
}

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
	/* an int function that returns without a value: its caller's next
	 * store would read below the stack */
	for (size_t pc = prog->funcs[1].entry; pc < prog->ncode; pc++)
		if (INSN_OP(prog->code[pc]) == OP_RETV) {
			uint32_t saved = prog->code[pc];

			prog->code[pc] = INSN(OP_RET, 0);
			tap_is_int(prog_verify(prog, &errors), -1,
				   "refused: RET in a function that returns an int");
			prog->code[pc] = saved;
			break;
		}
	tap_is_int(prog_verify(prog, &errors), 0, "restored program verifies again");
	/* the words after $f's first RETV are never reached, so the
	 * verifier passes whatever is there; the disassembler prints them,
	 * and must not look up a constant, function or site that is not */
	for (size_t pc = prog->funcs[1].entry; pc + 1 < prog->ncode; pc++)
		if (INSN_OP(prog->code[pc]) == OP_RETV) {
			static const uint32_t forged[] = { INSN(OP_PUSHK, 9999), INSN(OP_CALL, 77),
							   INSN(OP_INTR, 5000) };
			uint32_t saved = prog->code[pc + 1];

			for (size_t i = 0; i < 3; i++) {
				struct buf dis = BUF_INIT;

				prog->code[pc + 1] = forged[i];
				tap_is_int(prog_verify(prog, &errors), 0, "an unreachable word is not checked");
				mfl_prog_disasm(prog, &dis);
				tap_ok(dis.data != NULL && strstr(dis.data, "? out of range") != NULL,
				       "the disassembler shows an operand out of range as such (%s)",
				       opcode_names[INSN_OP(forged[i])]);
				buf_free(&dis);
			}
			prog->code[pc + 1] = saved;
			break;
		}
	mfl_prog_free(prog);
	sites(env);
	mfl_env_free(env);
	buf_free(&errors);
	return tap_done();
}
