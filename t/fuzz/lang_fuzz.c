/*
 * lang_fuzz - libFuzzer targets for the language: the input is a script.
 * Built three times: FUZZ_MODE 0 reads it in MFL mode, 1 in Sieve mode,
 * 2 only lexes it, in both modes. A script that compiles is also run
 * over a small message with small limits, so the VM and intrinsics are
 * fuzzed through the compiler's checks. Without --enable-fuzz the same
 * entry point is linked into replay programs for make check.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "diag.h"	/* white box: the lexer alone (t/sh/layers.sh) */
#include "lex.h"
#include "mfl.h"
#include "msg/msg.h"

#ifndef FUZZ_MODE
#define FUZZ_MODE 0
#endif

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char message[] =
	"From: Alice <alice@example.org>\r\nTo: bob@example.net\r\n"
	"Subject: =?utf-8?q?caf=C3=A9?= report\r\nX-Spam-Score: 7\r\n\r\nbody\r\n";

/* lex_all - every token of DATA in one mode */
static void
lex_all(const uint8_t *data, size_t size, int sieve)
{
	struct arena *arena = arena_create(64u << 20);
	struct diag diag;
	struct lexer lx;
	struct token tok;

	diag_init(&diag);
	lex_init(&lx, "fuzz", (const char *) data, size, sieve, arena, &diag);
	do
		lex_next(&lx, &tok);
	while (tok.kind != T_EOF);
	diag_free(&diag);
	arena_free(arena);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct mfl_env *env;
	struct buf errors = BUF_INIT;
	struct mfl_prog *prog;

	if (FUZZ_MODE == 2) {
		lex_all(data, size, 0);
		lex_all(data, size, 1);
		return 0;
	}
	if (env == NULL) {
		env = mfl_env_new();
		mfl_env_set_int(env, "mfl_limit_instructions", 100000);
		mfl_env_set_int(env, "mfl_limit_memory", 1 << 20);
	}
	prog = mfl_compile_mem(env, FUZZ_MODE ? "fuzz.sieve" : "fuzz.mfl",
			       (const char *) data, size, FUZZ_MODE, &errors);
	if (prog != NULL) {
		struct msg *msg = msg_from_mem(message, sizeof(message) - 1, 0);
		struct mfl_run *run = mfl_run_new(prog);
		struct buf out = BUF_INIT;

		if (run != NULL && msg != NULL) {
			mfl_run_set_envelope(run, "sender@example.org", "bob@example.net");
			mfl_run_set_message(run, msg);
			mfl_run_main(run);
			mfl_run_json(run, &out);
		}
		buf_free(&out);
		mfl_run_free(run);
		msg_free(msg);
		mfl_prog_free(prog);
	}
	buf_free(&errors);
	return 0;
}
