/* peer_gmime.h - GMime as the benchmark's peer */
#ifndef T_PEER_GMIME_H
#define T_PEER_GMIME_H

#include <stddef.h>

void peer_gmime_init(void);
size_t peer_gmime_headers(const char *data, size_t len);
size_t peer_gmime_addresses(const char *value);

#endif
