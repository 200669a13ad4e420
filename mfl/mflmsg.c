/*
 * mflmsg - print how libmfl sees a message: headers (raw and decoded),
 * the addresses in address fields, and the MIME tree; with -b, the
 * decoded text of each leaf part too. For administrators checking why a
 * test matched or did not, and for developers of the parsers.
 *
 * DIAGNOSTICS: exit 0 on success, 1 when a file cannot be read or memory
 * runs out, 2 on usage errors; messages go to stderr.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mfl.h"
#include "msg/msg.h"

static const char *const address_fields[] = {
	"From", "Sender", "Reply-To", "To", "Cc", "Bcc", "Resent-From",
	"Resent-Sender", "Resent-To", "Resent-Cc", "Resent-Bcc", "Return-Path",
	"Delivered-To", "Disposition-Notification-To", "Errors-To",
};

/* print_escaped - bytes with controls and invalid UTF-8 made visible */
static void
print_escaped(const char *p, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char) p[i];
		size_t n;

		if (c == '\\')
			fputs("\\\\", stdout);
		else if (c >= 0x80 && (n = utf8_seq_len((const unsigned char *) p + i, len - i)) > 0) {
			fwrite(p + i, 1, n, stdout);
			i += n - 1;
		} else if (c < 0x20 || c >= 0x7f)
			printf("\\x%02x", c);
		else
			putchar(c);
	}
}

/* print_headers - each field, decoded */
static int
print_headers(struct hdr_index *hdrs, const char *indent)
{
	for (size_t i = 0; i < hdrs->count; i++) {
		struct hdr_field *f = &hdrs->fields[i];

		if (hdr_decoded(hdrs, f) < 0)
			return -1;
		printf("%s", indent);
		print_escaped(f->name, f->name_len);
		fputs(": ", stdout);
		print_escaped(f->decoded, f->decoded_len);
		putchar('\n');
	}
	return 0;
}

/* print_addresses - the parsed addresses of every address field */
static int
print_addresses(struct msg *msg, struct hdr_index *hdrs)
{
	struct buf spec = BUF_INIT;

	for (size_t k = 0; k < sizeof(address_fields) / sizeof(address_fields[0]); k++) {
		const char *name = address_fields[k];
		struct hdr_field *f;

		for (size_t nth = 0; (f = hdr_find(hdrs, name, strlen(name), nth)) != NULL; nth++) {
			struct addr *list;
			size_t count;

			if (hdr_unfolded(hdrs, f) < 0
			    || addr_parse_list(msg_arena(msg), f->unfolded,
					       f->unfolded_len, &list, &count) < 0)
				return -1;
			for (size_t i = 0; i < count; i++) {
				buf_reset(&spec);
				addr_spec(&list[i], &spec);
				printf("  %s: <", name);
				print_escaped(spec.data ? spec.data : "", spec.len);
				printf(">");
				if (list[i].name != NULL) {
					printf(" name=\"");
					print_escaped(list[i].name, strlen(list[i].name));
					printf("\"");
				}
				if (list[i].group != NULL)
					printf(" group=\"%s\"", list[i].group);
				if (list[i].flags & ADDR_F_INVALID)
					printf(" INVALID");
				if (list[i].flags & ADDR_F_NULL)
					printf(" null");
				if (list[i].domain == NULL && !(list[i].flags & ADDR_F_NULL))
					printf(" no-domain");
				putchar('\n');
			}
		}
	}
	buf_free(&spec);
	return 0;
}

/* print_part - one line for PART, then its children, indented */
static int
print_part(const char *base, struct mime_part *part, int bodies)
{
	const char *charset = mime_part_param(part, "charset");
	const char *boundary = mime_part_param(part, "boundary");

	printf("  %*s%u %s/%s", (int) part->depth * 2, "", part->index,
	       part->type, part->subtype);
	if (charset != NULL)
		printf(" charset=%s", charset);
	if (boundary != NULL) {
		printf(" boundary=\"");
		print_escaped(boundary, strlen(boundary));
		printf("\"");
	}
	printf(" %s offset=%zu length=%zu body=%zu", mime_cte_name(part->cte),
	       (size_t) (part->start - base), part->len, part->body_len);
	if (part->flags & MIME_F_DEFAULT_TYPE)
		printf(" default-type");
	if (part->flags & MIME_F_NO_END)
		printf(" no-close-delimiter");
	if (part->flags & MIME_F_NO_BOUNDARY)
		printf(" no-boundary");
	if (part->flags & MIME_F_CAPPED)
		printf(" capped");
	putchar('\n');
	if (bodies && part->child == NULL) {
		struct buf text = BUF_INIT;

		if (mime_part_text(part, &text) < 0)
			return -1;
		print_escaped(text.data ? text.data : "", text.len);
		putchar('\n');
		buf_free(&text);
	}
	for (struct mime_part *c = part->child; c != NULL; c = c->next)
		if (print_part(base, c, bodies) < 0)
			return -1;
	return 0;
}

/* show - everything about the message on FD */
static int
show(int fd, const char *name, int bodies)
{
	struct msg *msg = msg_read_fd(fd, 0, 0);
	struct hdr_index *hdrs;
	struct mime_part *root;
	const char *data, *env;
	size_t len, env_len;

	if (msg == NULL) {
		fprintf(stderr, "mflmsg: %s: %s\n", name, strerror(errno));
		return -1;
	}
	data = msg_data(msg, &len);
	printf("message %s: %zu bytes\n", name, len);
	if ((env = msg_envelope_line(msg, &env_len)) != NULL) {
		printf("envelope: ");
		print_escaped(env, env_len);
		putchar('\n');
	}
	if ((hdrs = msg_headers(msg)) == NULL || (root = msg_mime(msg)) == NULL)
		goto nomem;
	printf("headers: %zu, body at offset %zu\n", hdrs->count, hdrs->body_off);
	if (print_headers(hdrs, "  ") < 0)
		goto nomem;
	printf("addresses:\n");
	if (print_addresses(msg, hdrs) < 0)
		goto nomem;
	printf("mime:\n");
	if (print_part(data, root, bodies) < 0)
		goto nomem;
	msg_free(msg);
	return 0;
nomem:
	fprintf(stderr, "mflmsg: %s: out of memory\n", name);
	msg_free(msg);
	return -1;
}

/* usage - how to call it, on OUT; exits with CODE */
static void
usage(FILE *out, int code)
{
	fputs("usage: mflmsg [-b] [file ...]\n", out);
	exit(code);
}

int
main(int argc, char **argv)
{
	int bodies = 0, status = 0, ch;

	if (argc > 1 && strcmp(argv[1], "--help") == 0)
		usage(stdout, 0);
	if (argc > 1 && strcmp(argv[1], "--version") == 0)
		return printf("mflmsg %s\n", MFL_VERSION) < 0;
	while ((ch = getopt(argc, argv, "bv")) != -1) {
		switch (ch) {
		case 'b':
			bodies = 1;
			break;
		case 'v':
			printf("mflmsg (mvmf) %s\n", MFL_VERSION);
			return 0;
		default:
			usage(stderr, 2);
		}
	}
	if (optind == argc)
		return show(0, "-", bodies) < 0;
	for (int i = optind; i < argc; i++) {
		int fd = open(argv[i], O_RDONLY);

		if (fd < 0) {
			fprintf(stderr, "mflmsg: %s: %s\n", argv[i], strerror(errno));
			status = 1;
			continue;
		}
		if (show(fd, argv[i], bodies) < 0)
			status = 1;
		close(fd);
	}
	return status;
}
