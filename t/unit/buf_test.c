/* buf_test - growable strings */
#include "config.h"

#include <string.h>

#include "msg/msg.h"
#include "tap.h"

int
main(void)
{
	struct buf b = BUF_INIT;

	tap_is_str(buf_cstr(&b), "", "empty buffer is \"\"");
	buf_puts(&b, "abc");
	buf_putc(&b, 'd');
	buf_append(&b, "e\0f", 3);
	tap_is_mem(b.data, b.len, "abcde\0f", 7, "append keeps NULs");
	buf_reset(&b);
	buf_printf(&b, "%d-%s", 42, "x");
	tap_is_str(buf_cstr(&b), "42-x", "printf");
	for (int i = 0; i < 100000; i++)
		buf_putc(&b, 'z');
	tap_is_int((long long) b.len, 100004, "grows past many doublings");
	tap_ok(!b.failed, "no failure");
	buf_free(&b);
	tap_ok(b.data == NULL && b.len == 0, "free empties");
	return tap_done();
}
