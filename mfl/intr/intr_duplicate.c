/*
 * intr_duplicate - RFC 7352 duplicate: was a message with this unique
 * id (the Message-ID, another field, or a string) seen before, within
 * :seconds, under this :handle? The memory of seen ids is the host's
 * (mfl_env_set_duplicate; mvmda keeps it in a per-user LMDB, state.c),
 * which must make the check and the record one atomic step so that two
 * deliveries of one message at once cannot both pass. Without such a
 * host nothing is a duplicate, as with sieve-test.
 *
 * DIAGNOSTICS: a runtime error when the host cannot say (its state
 * cannot be opened or written): the message is then kept, never lost.
 */
#include "config.h"

#include <string.h>

#include "env.h"
#include "mflapi.h"
#include "msg/buf.h"
#include "msg/hdr.h"
#include "msg/msg.h"
#include "prog.h"

enum { DUP_HANDLE, DUP_HEADER, DUP_UNIQUEID, DUP_SECONDS, DUP_LAST };

static const struct intr_tag duplicate_tags[] = {
	{ .name = "handle", .arg = TAGARG_STRING, .id = DUP_HANDLE },
	{ .name = "header", .arg = TAGARG_STRING, .group = TG_DUPID, .id = DUP_HEADER },
	{ .name = "uniqueid", .arg = TAGARG_STRING, .group = TG_DUPID, .id = DUP_UNIQUEID },
	{ .name = "seconds", .arg = TAGARG_NUMBER, .id = DUP_SECONDS },
	{ .name = "last", .id = DUP_LAST },
	{ .name = NULL }
};

/* mfl_env_set_duplicate - FN checks and records a duplicate id */
void
mfl_env_set_duplicate(struct mfl_env *env, mfl_duplicate_fn fn, void *ctx)
{
	env->duplicate = fn;
	env->duplicate_ctx = ctx;
}

/* field_value - the first field NAME's value, unfolded and trimmed */
static int
field_value(struct mfl_run *run, const char *name, size_t len, const char **v, size_t *vlen)
{
	struct hdr_index *idx = msg_headers(run->msg);
	struct hdr_field *f;

	if (idx == NULL || (f = hdr_find(idx, name, len, 0)) == NULL || hdr_unfolded(idx, f) < 0)
		return 0;
	*v = f->unfolded;
	*vlen = f->unfolded_len;
	while (*vlen > 0 && (**v == ' ' || **v == '\t'))
		(*v)++, (*vlen)--;
	while (*vlen > 0 && ((*v)[*vlen - 1] == ' ' || (*v)[*vlen - 1] == '\t'))
		(*vlen)--;
	return *vlen > 0;
}

/* duplicate: duplicate [":handle" h] [":header" name / ":uniqueid" id]
 *	[":seconds" n] [":last"] */
static int
duplicate_run(struct mfl_run *run, const struct site *site, struct value *args,
	      struct value *ret)
{
	struct value *tag;
	const char *id = NULL;
	size_t idlen = 0;
	int64_t seconds = run_control_int(run, "mfl_duplicate_period");
	int64_t max = run_control_int(run, "mfl_duplicate_max");
	struct buf key = BUF_INIT;
	int r;

	*ret = value_int(0);
	if (run->env->duplicate == NULL || run->msg == NULL)
		return 0;
	if (intr_tag_present(site, DUP_UNIQUEID, args, &tag) && tag != NULL) {
		id = tag->u.s.ptr;
		idlen = tag->u.s.len;
	} else if (intr_tag_present(site, DUP_HEADER, args, &tag) && tag != NULL) {
		if (!field_value(run, tag->u.s.ptr, tag->u.s.len, &id, &idlen))
			return 0;
	} else if (!field_value(run, "message-id", 10, &id, &idlen)) {
		return 0;	/* RFC 7352 3.1: no Message-ID, no duplicate */
	}
	if (intr_tag_present(site, DUP_SECONDS, args, &tag) && tag != NULL)
		seconds = tag->u.i < 0 ? 0 : tag->u.i;
	if (max > 0 && seconds > max)
		seconds = max;
	/* the key: handle NUL id, so handles never mix */
	if (intr_tag_present(site, DUP_HANDLE, args, &tag) && tag != NULL)
		buf_append(&key, tag->u.s.ptr, tag->u.s.len);
	buf_putc(&key, 0);
	buf_append(&key, id, idlen);
	r = key.failed ? -1
	    : run->env->duplicate(run->env->duplicate_ctx, run, key.data, key.len, seconds,
				  intr_tag_present(site, DUP_LAST, args, NULL));
	buf_free(&key);
	if (r < 0)
		return run_error(run, site, "duplicate: the record of seen messages cannot be used");
	*ret = value_int(r > 0);
	return 0;
}

const struct intrinsic intr_duplicate = {
	.name = "duplicate",
	.kind = INTR_TEST,
	.capability = "duplicate",
	.args = "",
	.tags = duplicate_tags,
	.run = duplicate_run,
};
