/* date.h - RFC 5322 date-time parsing and the date parts of RFC 5260 */
#ifndef MFL_DATE_H
#define MFL_DATE_H

#include <stddef.h>
#include <stdint.h>

struct buf;

struct date_time {
	int year, month, day;		/* month 1..12 */
	int hour, minute, second;
	int zone;			/* minutes east of UTC */
	int zone_unknown;		/* "-0000" or an unknown zone name */
};

int date_parse(const char *s, size_t len, struct date_time *dt);
int date_zone_parse(const char *s, size_t len, int *zone_r);
int64_t date_to_epoch(const struct date_time *dt);
void date_from_epoch(int64_t t, int zone, struct date_time *dt);
int date_part(const struct date_time *dt, const char *part, size_t len,
	      struct buf *out);

#endif
