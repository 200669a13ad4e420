/* value.h - what the VM holds: ints, string views, arrays */
#ifndef MFL_VALUE_H
#define MFL_VALUE_H

#include <stddef.h>
#include <stdint.h>

/* Types: a base and a number of array dimensions, in one int. */
#define TYPE_VOID	0
#define TYPE_INT	1
#define TYPE_STRING	2
#define TYPE_ANY	3	/* intrinsics only: any type */
#define TYPE_ARRAY(t)	((t) + 4)
#define TYPE_ELEM(t)	((t) - 4)
#define TYPE_IS_ARRAY(t) ((t) >= 4)

#define V_INT	1
#define V_STR	2
#define V_ARR	3

struct marr;

struct value {
	int type;
	union {
		int64_t i;
		struct {
			const char *ptr;	/* into the message, program */
			size_t len;		/* or run arena; immutable */
		} s;
		struct marr *a;
	} u;
};

/* Arrays are shared by reference, like Lua tables. */
struct marr {
	size_t len, cap;
	struct value *items;
};

static inline struct value
value_int(int64_t i)
{
	struct value v;

	v.type = V_INT;
	v.u.i = i;
	return v;
}

static inline struct value
value_str(const char *ptr, size_t len)
{
	struct value v;

	v.type = V_STR;
	v.u.s.ptr = ptr;
	v.u.s.len = len;
	return v;
}

#endif
