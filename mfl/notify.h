/* notify.h - the mailto: URI of enotify's mailto method (notify.c),
 * for the notify intrinsics */
#ifndef MFL_NOTIFY_H
#define MFL_NOTIFY_H

#include <stddef.h>

struct arena;

#define MAILTO_HEADERS_MAX	16

/* a mailto: URI (RFC 6068), decoded; what the arena holds */
struct mailto {
	const char **to, **cc;	/* addr-specs, NULL-ended, no repeats */
	size_t nto, ncc;
	struct {
		const char *spec, *shown;	/* "Name <spec>", as the URI gave it */
	} *named;			/* the recipients given with a name */
	size_t nnamed;
	const char *subject, *body;	/* or NULL */
	struct {
		const char *name, *value;
	} headers[MAILTO_HEADERS_MAX];	/* the others, reserved ones left out */
	size_t nheaders;
};

int mailto_parse(struct arena *arena, const char *uri, size_t len, struct mailto *m,
		 char *err, size_t errsize);

#endif
