/*
 * peer_gmime - the same work done by GMime 3, the C MIME library a
 * developer would otherwise pick: parse a header block into a message
 * object, and parse an address list. Built only when configure finds
 * gmime-3.0 (make bench then prints the comparison).
 */
#include "config.h"

#include <gmime/gmime.h>

#include "peer_gmime.h"

/* peer_gmime_init - once, before anything else */
void
peer_gmime_init(void)
{
	g_mime_init();
}

/* peer_gmime_headers - header count of the message GMime parses */
size_t
peer_gmime_headers(const char *data, size_t len)
{
	GMimeStream *stream = g_mime_stream_mem_new_with_buffer(data, len);
	GMimeParser *parser = g_mime_parser_new_with_stream(stream);
	GMimeMessage *msg = g_mime_parser_construct_message(parser, NULL);
	size_t n = 0;

	if (msg != NULL) {
		n = (size_t) g_mime_header_list_get_count(
			g_mime_object_get_header_list(GMIME_OBJECT(msg)));
		g_object_unref(msg);
	}
	g_object_unref(parser);
	g_object_unref(stream);
	return n;
}

/* peer_gmime_addresses - addresses GMime finds in VALUE */
size_t
peer_gmime_addresses(const char *value)
{
	InternetAddressList *list = internet_address_list_parse(NULL, value);
	size_t n = 0;

	if (list != NULL) {
		n = (size_t) internet_address_list_length(list);
		g_object_unref(list);
	}
	return n;
}
