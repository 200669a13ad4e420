/*
 * run - one run of a program: its memory (an arena capped at the memory
 * limit), globals, controls, the message and envelope it looks at, and
 * the action list it collects. A host makes a run per message (mvmda) or
 * per connection (mvmtr), runs the top level and/or hooks, then reads
 * the actions.
 *
 * A runtime error stops the run; its actions are dropped and only the
 * implicit keep is left (RFC 5228 2.10.6), so the host files the message
 * where it would have gone without a script.
 *
 * DIAGNOSTICS: -1 from mfl_run_main()/mfl_run_hook() after a runtime
 * error, whose text mfl_run_error() gives ("file:line: runtime error:").
 */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "action.h"
#include "ast.h"
#include "env.h"
#include "msg/arena.h"
#include "msg/msg.h"
#include "prog.h"
#include "vm.h"

/* zero_value - 0, "" or a new empty array for TYPE */
static struct value
zero_value(struct mfl_run *run, int type)
{
	struct value v = value_int(0);

	if (type == TYPE_STRING) {
		v = value_str("", 0);
	} else if (TYPE_IS_ARRAY(type)) {
		v.type = V_ARR;
		v.u.a = arena_zalloc(run->arena, sizeof(struct marr));
		if (v.u.a == NULL)
			v = value_int(0);
	}
	return v;
}

/* mfl_run_new - a run of PROG with the env's control values */
struct mfl_run *
mfl_run_new(const struct mfl_prog *prog)
{
	const struct mfl_env *env = prog->env;
	struct mfl_run *run = calloc(1, sizeof(*run));

	if (run == NULL)
		return NULL;
	run->prog = prog;
	run->env = env;
	mfl_env_limits(env, &run->limits);
	run->budget = run->limits.instructions;
	run->imap_flags = value_str("", 0);
	action_list_init(&run->actions);
	if ((run->arena = arena_create(run->limits.memory)) == NULL
	    || (run->globals = arena_alloc(run->arena, (prog->nglobals + 1) * sizeof(struct value))) == NULL
	    || (run->controls = arena_alloc(run->arena, (env->ncontrols + 1) * sizeof(struct value))) == NULL) {
		mfl_run_free(run);
		return NULL;
	}
	for (size_t i = 0; i < prog->nglobals; i++)
		run->globals[i] = zero_value(run, prog->global_types[i]);
	for (size_t i = 0; i < env->ncontrols; i++) {
		const struct mfl_control *c = &env->controls[i];

		if (c->type == MFL_CONTROL_STRARR)
			run->controls[i] = zero_value(run, TYPE_ARRAY(TYPE_STRING));
		else
			run->controls[i] = c->type == MFL_CONTROL_INT ? value_int(c->i)
			    : value_str(c->s, strlen(c->s));
	}
	return run;
}

/* mfl_run_free - the run and all it made */
void
mfl_run_free(struct mfl_run *run)
{
	if (run == NULL)
		return;
	arena_free(run->arena);
	for (size_t i = 0; i < run->nown_msgs; i++)
		msg_free(run->own_msgs[i]);
	free(run->own_msgs);
	for (size_t i = 0; i < run->nenvironment; i++) {
		free(run->environment[i].name);
		free(run->environment[i].value);
	}
	free(run->stack);
	free(run->frames);
	buf_free(&run->error);
	free(run);
}

/* mfl_run_set_message - the message the tests look at */
void
mfl_run_set_message(struct mfl_run *run, struct msg *msg)
{
	run->msg = msg;
}

/* run_own_message - MSG (a filter's output) is the message from now on,
 * the run's to free; -1 when out of memory (MSG still the caller's) */
int
run_own_message(struct mfl_run *run, struct msg *msg)
{
	struct msg **more = realloc(run->own_msgs, (run->nown_msgs + 1) * sizeof(*more));

	if (more == NULL)
		return -1;
	run->own_msgs = more;
	run->own_msgs[run->nown_msgs++] = msg;
	run->msg = msg;
	return 0;
}

/* mfl_run_message - the message the run looks at now */
struct msg *
mfl_run_message(const struct mfl_run *run)
{
	return run->msg;
}

/* mfl_run_take_message - the run's current message, when the run made
 * it (a filter's output), becomes the caller's; else NULL */
struct msg *
mfl_run_take_message(struct mfl_run *run)
{
	for (size_t i = 0; i < run->nown_msgs; i++)
		if (run->own_msgs[i] == run->msg) {
			run->own_msgs[i] = run->own_msgs[--run->nown_msgs];
			return run->msg;
		}
	return NULL;
}

/* set_copy - *FIELD is a copy of S in the run's memory, or NULL */
static int
set_copy(struct mfl_run *run, const char **field, const char *s)
{
	if (s == NULL) {
		*field = NULL;
		return 0;
	}
	return (*field = arena_memdup(run->arena, s, strlen(s))) == NULL ? -1 : 0;
}

/* mfl_run_set_orig_recipient - the recipient before any aliasing
 * (Postfix's ORIGINAL_RECIPIENT), or NULL */
int
mfl_run_set_orig_recipient(struct mfl_run *run, const char *to)
{
	return set_copy(run, &run->orig_to, to);
}

/* mfl_run_set_auth - who authenticated the session (SMTP AUTH), for the
 * envelope test's "auth" part; NULL for nobody */
int
mfl_run_set_auth(struct mfl_run *run, const char *user)
{
	return set_copy(run, &run->auth, user);
}

/* mfl_run_set_envelope - MAIL FROM and RCPT TO; NULL for unknown */
int
mfl_run_set_envelope(struct mfl_run *run, const char *from, const char *to)
{
	run->env_from = from ? arena_memdup(run->arena, from, strlen(from)) : NULL;
	run->n_env_to = 0;
	if (from && !run->env_from)
		return -1;
	return to ? mfl_run_add_recipient(run, to) : 0;
}

/* mfl_run_add_recipient - one more RCPT TO (mvmtr calls it per RCPT) */
int
mfl_run_add_recipient(struct mfl_run *run, const char *to)
{
	const char *copy = arena_memdup(run->arena, to, strlen(to));

	if (copy == NULL)
		return -1;
	if (run->n_env_to == run->cap_env_to) {
		size_t cap = run->cap_env_to ? run->cap_env_to * 2 : 4;
		const char **v = arena_alloc(run->arena, cap * sizeof(*v));

		if (v == NULL)
			return -1;
		if (run->n_env_to)
			memcpy(v, run->env_to, run->n_env_to * sizeof(*v));
		run->env_to = v;
		run->cap_env_to = cap;
	}
	run->env_to[run->n_env_to++] = copy;
	return 0;
}

/* run_where - the file and line of the call running now: vm_intr()
 * sets run->pc to its OP_INTR, whose line is the call's */
const char *
run_where(const struct mfl_run *run, int *line_r)
{
	const char *file;

	*line_r = (int) prog_where(run->prog, run->pc, &file);
	return file;
}

/* run_error - a runtime error raised by an intrinsic at SITE (the call
 * running now) */
int
run_error(struct mfl_run *run, const struct site *site, const char *fmt, ...)
{
	va_list ap;
	const char *file;
	int line;

	(void) site;
	if (run->failed)
		return -1;
	run->failed = 1;
	file = run_where(run, &line);
	buf_reset(&run->error);
	buf_printf(&run->error, "%s:%d: runtime error: ", file, line);
	va_start(ap, fmt);
	{
		char msg[400];

		vsnprintf(msg, sizeof(msg), fmt, ap);
		buf_puts(&run->error, msg);
	}
	va_end(ap);
	return -1;
}

/* run_str - a string value: a copy of PTR in the run's arena */
int
run_str(struct mfl_run *run, const char *ptr, size_t len, struct value *out)
{
	char *copy = arena_memdup(run->arena, ptr, len);

	if (copy == NULL)
		return -1;
	*out = value_str(copy, len);
	return 0;
}

/* run_buf_init - BUF empty, limited to what RUN may still allocate */
void
run_buf_init(const struct mfl_run *run, struct buf *buf)
{
	size_t used = arena_used(run->arena);

	buf_init(buf);
	/* 1, not 0 (no limit), when nothing is left */
	buf->limit = used < run->limits.memory ? run->limits.memory - used : 1;
}

/* run_cstr - string V as a C string in the run's memory; NULL when it
 * holds a NUL (or the memory limit is reached) */
const char *
run_cstr(struct mfl_run *run, const struct value *v)
{
	struct value c;

	if (memchr(v->u.s.ptr, 0, v->u.s.len) != NULL
	    || run_str(run, v->u.s.ptr, v->u.s.len, &c) < 0)
		return NULL;
	return c.u.s.ptr;
}

/* run_control_int - the run's value of int control NAME, 0 if none */
int64_t
run_control_int(const struct mfl_run *run, const char *name)
{
	struct value v;

	return mfl_run_get_control(run, name, &v) == 0 && v.type == V_INT ? v.u.i : 0;
}

/* run_arr_push - append V to array A, in the run's memory; -1 when the
 * memory limit is reached */
int
run_arr_push(struct mfl_run *run, struct marr *a, struct value v)
{
	if (a->len == a->cap) {
		size_t cap = a->cap ? a->cap * 2 : 8;
		struct value *items = arena_alloc(run->arena, cap * sizeof(*items));

		if (items == NULL)
			return -1;
		if (a->len)
			memcpy(items, a->items, a->len * sizeof(*items));
		a->items = items;
		a->cap = cap;
	}
	a->items[a->len++] = v;
	return 0;
}

/* run_strlist - a string or string[] argument as items */
int
run_strlist(struct mfl_run *run, const struct site *site, const struct value *v,
	    size_t *n_r, const struct value **items_r)
{
	(void) run;
	(void) site;
	if (v->type == V_STR) {
		*n_r = 1;
		*items_r = v;
	} else {
		*n_r = v->u.a->len;
		*items_r = v->u.a->items;
	}
	return 0;
}

/* vm_setcontrol - assign a control, within its range */
int
vm_setcontrol(struct mfl_run *run, int control, const struct value *v)
{
	const struct mfl_control *c = &run->env->controls[control];
	int want = c->type == MFL_CONTROL_INT ? V_INT : c->type == MFL_CONTROL_STRING ? V_STR : V_ARR;

	if (v->type != want) {		/* only a forged program gets here */
		buf_reset(&run->error);
		buf_printf(&run->error, "bad program: $%s given a value of the wrong type",
			   c->name);
		return -1;
	}
	if (c->type == MFL_CONTROL_STRARR)
		for (size_t i = 0; i < v->u.a->len; i++)
			if (v->u.a->items[i].type != V_STR) {
				buf_reset(&run->error);
				buf_printf(&run->error, "bad program: $%s given a value of the "
					   "wrong type", c->name);
				return -1;
			}
	if (c->type == MFL_CONTROL_INT && (v->u.i < c->min || v->u.i > c->max)) {
		buf_reset(&run->error);
		buf_printf(&run->error, "$%s must be between %lld and %lld", c->name,
			   (long long) c->min, (long long) c->max);
		return -1;
	}
	run->controls[control] = *v;
	return 0;
}

/* run_fallback - after an error: only the implicit keep is left */
static void
run_fallback(struct mfl_run *run)
{
	action_list_init(&run->actions);
	action_finish(run->arena, &run->actions);
}

/* run_function - call function F with ARGS; its result in RET */
static int
run_function(struct mfl_run *run, size_t f, const struct value *args,
	     int nargs, struct value *ret)
{
	const struct func *fn = &run->prog->funcs[f];
	int depth = run->nframes;

	if (run->failed)
		return -1;
	if (nargs != fn->nparams) {
		run->failed = 1;
		buf_reset(&run->error);
		buf_printf(&run->error, "%s:%d: runtime error: $%s takes %d argument%s, "
			   "the host gave %d", fn->file, fn->line, fn->name, fn->nparams,
			   fn->nparams == 1 ? "" : "s", nargs);
		return -1;
	}
	if (run->stack_cap < run->sp + (size_t) fn->nlocals + 16) {
		size_t cap = run->sp + (size_t) fn->nlocals + 32;	/* vm_grow() doubles it */
		struct value *v = realloc(run->stack, cap * sizeof(*v));

		if (v == NULL)
			return -1;
		run->stack = v;
		run->stack_cap = cap;
	}
	if (vm_frame_room(run) < 0)
		return -1;
	for (int i = 0; i < nargs; i++)
		run->stack[run->sp++] = args[i];
	for (int i = nargs; i < fn->nlocals; i++)
		run->stack[run->sp++] = value_int(0);
	run->frames[run->nframes].fn = fn;
	run->frames[run->nframes].ret_pc = 0;
	run->frames[run->nframes].base = run->sp - (size_t) fn->nlocals;
	run->nframes++;
	if (vm_exec(run, fn->entry, depth) < 0 || run->stopped) {
		run->nframes = depth;
		run->sp = depth ? run->frames[depth].base : 0;
		return run->failed ? -1 : 0;
	}
	if (ret != NULL)
		*ret = fn->ret != TYPE_VOID ? run->stack[run->sp - 1] : value_int(0);
	if (fn->ret != TYPE_VOID)
		run->sp--;
	return 0;
}

/* mfl_run_main - run the top level; then add the implicit keep */
int
mfl_run_main(struct mfl_run *run)
{
	if (run_function(run, 0, NULL, 0, NULL) < 0) {
		run_fallback(run);
		return -1;
	}
	/* RFC 5232 3: the implicit keep takes the internal variable's flags */
	run->actions.implicit_flags = run_flags(run, NULL, &run->imap_flags);
	if (action_finish(run->arena, &run->actions) < 0) {
		run->failed = 1;
		buf_puts(&run->error, "out of memory");
		run_fallback(run);
		return -1;
	}
	return 0;
}

/* mfl_run_hook - call $hook_NAME; 1 if called, 0 if not defined, -1 */
int
mfl_run_hook(struct mfl_run *run, const char *name, const struct value *args,
	     int nargs, struct value *ret)
{
	const struct mfl_prog *prog = run->prog;

	for (size_t f = 1; f < prog->nfuncs; f++) {
		if (strncmp(prog->funcs[f].name, "hook_", 5) == 0
		    && strcmp(prog->funcs[f].name + 5, name) == 0) {
			run->stopped = 0;
			return run_function(run, f, args, nargs, ret) < 0 ? -1 : 1;
		}
	}
	return 0;
}

/* Arrays already copied by value_copy(): shared arrays stay shared. */
struct copy_map {
	const struct marr **from;
	struct marr **to;
	size_t n, cap;
};

/* value_copy - V, with the strings and arrays it holds, into ARENA */
static int
value_copy(struct arena *arena, struct copy_map *map, struct value *v)
{
	struct marr *a;

	if (v->type == V_STR) {
		char *s = arena_memdup(arena, v->u.s.ptr, v->u.s.len);

		if (s == NULL)
			return -1;
		v->u.s.ptr = s;
		return 0;
	}
	if (v->type != V_ARR)
		return 0;
	for (size_t i = 0; i < map->n; i++)
		if (map->from[i] == v->u.a) {
			v->u.a = map->to[i];
			return 0;
		}
	if (map->n == map->cap) {
		size_t cap = map->cap ? map->cap * 2 : 16;
		const struct marr **from = realloc(map->from, cap * sizeof(*from));
		struct marr **to = from ? realloc(map->to, cap * sizeof(*to)) : NULL;

		if (from != NULL)
			map->from = from;
		if (to == NULL)
			return -1;
		map->to = to;
		map->cap = cap;
	}
	if ((a = arena_zalloc(arena, sizeof(*a))) == NULL
	    || (v->u.a->len && (a->items = arena_alloc(arena, v->u.a->len * sizeof(struct value))) == NULL))
		return -1;
	map->from[map->n] = v->u.a;
	map->to[map->n++] = a;
	a->len = a->cap = v->u.a->len;
	for (size_t i = 0; i < a->len; i++) {
		a->items[i] = v->u.a->items[i];
		if (value_copy(arena, map, &a->items[i]) < 0)
			return -1;
	}
	v->u.a = a;
	return 0;
}

/* mfl_run_end_message - forget the message: its view, envelope,
 * actions and match variables; a fresh instruction budget. Globals and
 * controls keep their values, which may still point into the message
 * the host holds until mfl_run_compact(). */
void
mfl_run_end_message(struct mfl_run *run)
{
	run->msg = NULL;
	run->orig_to = NULL;
	run->auth = NULL;
	run->env_from = NULL;
	run->env_to = NULL;
	run->n_env_to = run->cap_env_to = 0;
	action_list_init(&run->actions);
	run->stopped = run->failed = 0;
	run->n_match_vars = 0;
	run->nloops = 0;
	run->imap_flags = value_str("", 0);
	run->budget = run->limits.instructions;
	buf_reset(&run->error);
}

/* mfl_run_compact - the globals and controls, with what they hold,
 * copied into a fresh arena and the old one dropped: nothing of the
 * run points into an ended message any more (the host may free it),
 * and the memory limit counts from here. 0, or -1 when out of memory
 * (the run is as it was). */
int
mfl_run_compact(struct mfl_run *run)
{
	const struct mfl_prog *prog = run->prog;
	struct arena *arena = arena_create(run->limits.memory);
	struct copy_map map = { 0 };
	struct value *globals, *controls;
	size_t nc = run->env->ncontrols;
	int rc = -1;

	if (arena == NULL
	    || (globals = arena_alloc(arena, (prog->nglobals + 1) * sizeof(*globals))) == NULL
	    || (controls = arena_alloc(arena, (nc + 1) * sizeof(*controls))) == NULL)
		goto out;
	memcpy(globals, run->globals, prog->nglobals * sizeof(*globals));
	memcpy(controls, run->controls, nc * sizeof(*controls));
	for (size_t i = 0; i < prog->nglobals; i++)
		if (value_copy(arena, &map, &globals[i]) < 0)
			goto out;
	for (size_t i = 0; i < nc; i++) {
		const struct mfl_control *c = &run->env->controls[i];

		/* a setting as the host made it lives as long as the env */
		if (controls[i].type == V_STR && c->type == MFL_CONTROL_STRING
		    && controls[i].u.s.ptr == c->s)
			continue;
		if (value_copy(arena, &map, &controls[i]) < 0)
			goto out;
	}
	arena_free(run->arena);
	run->arena = arena;
	arena = NULL;
	run->globals = globals;
	run->controls = controls;
	rc = 0;
out:
	arena_free(arena);
	free(map.from);
	free(map.to);
	return rc;
}

/* mfl_run_clear_actions - forget the actions so far (mvmtr answers
 * each hook's decision, so one hook's reject does not conflict with
 * the next one's) */
void
mfl_run_clear_actions(struct mfl_run *run)
{
	action_list_init(&run->actions);
}

/* mfl_run_stop - end the running script, as Sieve's stop does (for a
 * host's command that decides, like mvmtr's accept) */
void
mfl_run_stop(struct mfl_run *run)
{
	run->stopped = 1;
}

/* mfl_run_host_data - what the host attached to the run */
void *
mfl_run_host_data(const struct mfl_run *run)
{
	return run->host_data;
}

/* mfl_run_set_host_data - attach the host's state (a connection) */
void
mfl_run_set_host_data(struct mfl_run *run, void *data)
{
	run->host_data = data;
}

/* mfl_run_set_var - give host variable NAME its value for this run;
 * strings and arrays must outlive the run (or be made by it) */
int
mfl_run_set_var(struct mfl_run *run, const char *name,
		const struct value *value)
{
	int i = env_control_find(run->env, name, strlen(name));
	static const int vtype[] = { 0, V_INT, V_STR, V_ARR };

	if (i < 0 || !run->env->controls[i].var
	    || value->type != vtype[run->env->controls[i].type]) {
		errno = EINVAL;
		return -1;
	}
	run->controls[i] = *value;
	return 0;
}

/* mfl_run_strarr - a string[] of the run holding copies of ITEMS */
int
mfl_run_strarr(struct mfl_run *run, const char *const *items, size_t n,
	       struct value *out)
{
	*out = zero_value(run, TYPE_ARRAY(TYPE_STRING));
	if (out->type != V_ARR)
		return -1;
	for (size_t i = 0; i < n; i++) {
		struct value v;

		if (run_str(run, items[i], strlen(items[i]), &v) < 0
		    || run_arr_push(run, out->u.a, v) < 0)
			return -1;
	}
	return 0;
}

/* mfl_run_get_control - a control's value in this run (scripts may
 * have set it), or -1 when there is no such control */
int
mfl_run_get_control(const struct mfl_run *run, const char *name,
		    struct value *value_r)
{
	int i = env_control_find(run->env, name, strlen(name));

	if (i < 0)
		return -1;
	*value_r = run->controls[i];
	return 0;
}

/* mfl_run_inherit_controls - RUN starts with the controls FROM (a run of
 * the same env: the host's own script, whose settings a script it runs
 * is to follow) has now; their strings copied; -1 when memory runs out */
int
mfl_run_inherit_controls(struct mfl_run *run, const struct mfl_run *from)
{
	if (run->env != from->env)
		return -1;
	for (size_t i = 0; i < run->env->ncontrols; i++) {
		const struct mfl_control *c = &run->env->controls[i];
		struct value v = from->controls[i];

		if (c->var || c->type == MFL_CONTROL_STRARR)
			continue;	/* host variables: the host gives them */
		if (v.type == V_STR && run_str(run, v.u.s.ptr, v.u.s.len, &v) < 0)
			return -1;
		run->controls[i] = v;
	}
	return 0;
}

/* mfl_run_print_controls - the run's controls as MFL, as
 * mfl_env_print_controls() prints the env's (strings here may hold
 * NULs only if a script put them there; they print up to the first) */
void
mfl_run_print_controls(const struct mfl_run *run, struct buf *out)
{
	struct buf s = BUF_INIT;

	for (size_t i = 0; i < run->env->ncontrols; i++) {
		const struct mfl_control *c = &run->env->controls[i];
		const struct value *v = &run->controls[i];

		if (c->var)
			continue;
		buf_reset(&s);
		if (c->type == MFL_CONTROL_STRING)
			buf_append(&s, v->u.s.ptr, v->u.s.len);
		env_print_control(out, c, v->u.i, c->type == MFL_CONTROL_STRING ? buf_cstr(&s) : NULL);
	}
	buf_free(&s);
}

/* mfl_run_error - the runtime error's text, or NULL */
const char *
mfl_run_error(const struct mfl_run *run)
{
	return run->failed ? run->error.data : NULL;
}

/* mfl_run_actions - the action list */
const struct action_list *
mfl_run_actions(struct mfl_run *run)
{
	return &run->actions;
}

/* mfl_run_json - actions as JSON lines, then the status line */
void
mfl_run_json(struct mfl_run *run, struct buf *out)
{
	for (size_t i = 0; i < run->actions.n; i++) {
		action_json(&run->actions.v[i], out);
		buf_putc(out, '\n');
	}
	if (run->failed) {
		buf_puts(out, "{\"status\":\"error\",\"phase\":\"runtime\",\"message\":");
		json_string(out, run->error.data, run->error.len);
		buf_puts(out, "}\n");
	} else {
		buf_puts(out, "{\"status\":\"ok\"}\n");
	}
}
