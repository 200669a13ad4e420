/* namespace.h - folder names to storage, never outside a root */
#ifndef MDA_NAMESPACE_H
#define MDA_NAMESPACE_H

#include <limits.h>
#include <stddef.h>

enum ns_layout { NS_FS, NS_MAILDIRPP };
enum store_type { STORE_MAILDIR = 1, STORE_MBOX };

#define NS_MAX	16

struct ns {
	char *prefix;		/* "" or e.g. "INBOX." */
	enum ns_layout layout;
	char *root;		/* no folder may leave it */
	enum store_type type;	/* for folders that do not exist yet */
	char sep;		/* hierarchy separator in folder names */
	char *inbox;		/* where INBOX is when not in the root */
	int utf8;		/* names on disk in UTF-8, not modified UTF-7 */
};

struct ns_table {
	struct ns v[NS_MAX];
	size_t n;
};

/* A folder name resolved: where it is and what it is. */
struct folder {
	const struct ns *ns;
	char path[PATH_MAX];	/* absolute, for logs and -n */
	char rel[PATH_MAX];	/* below the root ("" = the root) */
	int absolute;		/* path is the namespace's inbox */
	int exists;
	enum store_type type;
	int maildirpp;		/* a Maildir++ subfolder */
};

int ns_add(struct ns_table *table, const char *prefix, const char *layout,
	   const char *root, const char *type, const char *sep,
	   const char *inbox, char *err, size_t errsize);
void ns_clear(struct ns_table *table);
int ns_resolve(const struct ns_table *table, const char *name, size_t len,
	       struct folder *folder, char *err, size_t errsize);
int folder_open(const struct folder *folder, int create, char *leaf,
		char *err, size_t errsize);
int folder_maildir_dirs(int fd, const struct folder *folder, char *err, size_t errsize);
const char *store_type_name(enum store_type type);

#endif
