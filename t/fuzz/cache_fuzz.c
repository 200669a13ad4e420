/*
 * cache_fuzz - libFuzzer target for the compiled-script cache: the input
 * is a cache file's body (what follows its 40-byte header, so no
 * checksum stands in the fuzzer's way), read back as mvmda would read a
 * forged or damaged .mflc (cache_parse: every table, every operand of
 * every instruction and call site through prog_verify), and a program
 * that is accepted is run over a small message with small limits. The
 * body's first word is its mode (0 MFL, 1 Sieve). Seeds are the bodies
 * of real caches and forgeries of them (t/fuzz/seeds/cache, made by
 * t/fuzz/cache_seeds.py with mflc -C, again when the format changes). Without
 * --enable-fuzz the same entry point is linked into a replay program
 * for make check.
 */
#include "config.h"

#include <stdint.h>
#include <string.h>

#include "cache.h"	/* white box: the cache's reader (t/sh/layers.sh) */
#include "mfl.h"
#include "msg/msg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char message[] =
	"From: Alice <alice@example.org>\r\nTo: bob@example.net\r\n"
	"Subject: =?utf-8?q?caf=C3=A9?= report\r\nX-Spam-Score: 7\r\n\r\nbody\r\n";

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct mfl_env *env;
	struct mfl_prog *prog;
	uint32_t sieve;

	if (size < 4)
		return 0;
	memcpy(&sieve, data, 4);
	if (env == NULL) {
		/* the controls mflc -C compiles against (the seeds'): else
		 * every seed stops at the reader's control check */
		env = mfl_env_new();
		mfl_env_add_programs(env);
		mfl_env_set_int(env, "mfl_limit_instructions", 100000);
		mfl_env_set_int(env, "mfl_limit_memory", 1 << 20);
	}
	if ((prog = cache_parse(env, data, size, sieve == 1)) != NULL) {
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
	return 0;
}
