/* rdns.h - reverse DNS names that look generic (rdns.c) */
#ifndef MVMTR_RDNS_H
#define MVMTR_RDNS_H

const char *rdns_generic(const char *name, const char *addr);

#endif
