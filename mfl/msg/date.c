/*
 * date - dates for the Sieve date extension (RFC 5260): an RFC 5322
 * date-time read from a header (with the obsolete forms of its section
 * 4.3: two- and three-digit years, zone names, comments), moved to
 * another zone, and cut into the parts a script asks for.
 *
 * Calendar arithmetic is proleptic Gregorian on days since 1970-01-01
 * (the civil-from-days algorithm), independent of the C library's time
 * zone: the caller says which zone it wants.
 *
 * DIAGNOSTICS: date_parse() and date_zone_parse() return -1 for text
 * that is not a date or a zone; date_part() -1 for an unknown part.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "buf.h"
#include "date.h"
#include "str.h"

static const char *const month_names[] = {
	"jan", "feb", "mar", "apr", "may", "jun",
	"jul", "aug", "sep", "oct", "nov", "dec"
};

static const char *const day_names[] = {
	"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"
};

/* days_from_civil - days since 1970-01-01 of Y-M-D */
static int64_t
days_from_civil(int64_t y, int m, int d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

/* civil_from_days - Y-M-D of days since 1970-01-01 */
static void
civil_from_days(int64_t z, int *y, int *m, int *d)
{
	int64_t era, doe, yoe, doy, mp;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = (int) (doy - (153 * mp + 2) / 5 + 1);
	*m = (int) (mp < 10 ? mp + 3 : mp - 9);
	*y = (int) (yoe + era * 400 + (*m <= 2));
}

/* skip_cfws - past white space and (nested) comments */
static const char *
skip_cfws(const char *p, const char *end)
{
	int depth = 0;

	for (; p < end; p++) {
		if (*p == '(')
			depth++;
		else if (*p == ')' && depth > 0)
			depth--;
		else if (*p == '\\' && depth > 0 && p + 1 < end)
			p++;
		else if (depth == 0 && *p != ' ' && *p != '\t' && *p != '\r' && *p != '\n')
			break;
	}
	return p;
}

/* number - up to MAX digits at *P; -1 if none */
static int
number(const char **p, const char *end, int max, int *ndigits)
{
	int v = 0, n = 0;

	while (*p < end && n < max && ascii_isdigit(**p)) {
		v = v * 10 + (**p - '0');
		(*p)++;
		n++;
	}
	if (ndigits != NULL)
		*ndigits = n;
	return n ? v : -1;
}

/* zone_name - an obsolete zone (RFC 5322 4.3): its offset, or -1 */
static int
zone_name(const char *s, size_t len, int *zone, int *unknown)
{
	static const struct { const char *name; int hours; } names[] = {
		{ "UT", 0 }, { "GMT", 0 }, { "Z", 0 }, { "EST", -5 }, { "EDT", -4 },
		{ "CST", -6 }, { "CDT", -5 }, { "MST", -7 }, { "MDT", -6 },
		{ "PST", -8 }, { "PDT", -7 },
	};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (str_ieq_cstr(s, len, names[i].name)) {
			*zone = names[i].hours * 60;
			return 0;
		}
	/* military zones and the rest: "-0000", an unknown zone */
	*zone = 0;
	*unknown = 1;
	return len > 0 ? 0 : -1;
}

/* date_zone_parse - "+hhmm" / "-hhmm" as minutes east; -1 if not one */
int
date_zone_parse(const char *s, size_t len, int *zone_r)
{
	int h, m;

	if (len != 5 || (s[0] != '+' && s[0] != '-'))
		return -1;
	for (size_t i = 1; i < 5; i++)
		if (!ascii_isdigit(s[i]))
			return -1;
	h = (s[1] - '0') * 10 + (s[2] - '0');
	m = (s[3] - '0') * 10 + (s[4] - '0');
	if (h > 23 || m > 59)
		return -1;
	*zone_r = (s[0] == '-' ? -1 : 1) * (h * 60 + m);
	return 0;
}

/* date_parse - an RFC 5322 date-time in S; 0 or -1 */
int
date_parse(const char *s, size_t len, struct date_time *dt)
{
	const char *p = s, *end = s + len, *w;
	int nd;

	memset(dt, 0, sizeof(*dt));
	p = skip_cfws(p, end);
	/* [day-of-week ","] */
	for (w = p; w < end && ascii_isalpha(*w); w++)
		;
	if (w > p) {
		p = skip_cfws(w, end);
		if (p < end && *p == ',')
			p = skip_cfws(p + 1, end);
	}
	if ((dt->day = number(&p, end, 2, NULL)) < 1)
		return -1;
	p = skip_cfws(p, end);
	for (w = p; w < end && ascii_isalpha(*w); w++)
		;
	dt->month = 0;
	for (int i = 0; i < 12 && w - p == 3; i++)
		if (mem_ieq(p, month_names[i], 3))
			dt->month = i + 1;
	if (dt->month == 0)
		return -1;
	p = skip_cfws(w, end);
	if ((dt->year = number(&p, end, 4, &nd)) < 0)
		return -1;
	if (nd == 2)
		dt->year += dt->year < 50 ? 2000 : 1900;
	else if (nd == 3)
		dt->year += 1900;
	p = skip_cfws(p, end);
	if ((dt->hour = number(&p, end, 2, NULL)) < 0)
		return -1;
	p = skip_cfws(p, end);
	if (p >= end || *p != ':')
		return -1;
	p = skip_cfws(p + 1, end);
	if ((dt->minute = number(&p, end, 2, NULL)) < 0)
		return -1;
	p = skip_cfws(p, end);
	if (p < end && *p == ':') {
		p = skip_cfws(p + 1, end);
		if ((dt->second = number(&p, end, 2, NULL)) < 0)
			return -1;
		p = skip_cfws(p, end);
	}
	if (dt->day > 31 || dt->hour > 23 || dt->minute > 59 || dt->second > 60)
		return -1;
	if (p < end && (*p == '+' || *p == '-') && end - p >= 5) {
		if (date_zone_parse(p, 5, &dt->zone) < 0)
			return -1;
		dt->zone_unknown = strncmp(p, "-0000", 5) == 0;
		return 0;
	}
	for (w = p; w < end && ascii_isalpha(*w); w++)
		;
	return zone_name(p, (size_t) (w - p), &dt->zone, &dt->zone_unknown);
}

/* date_to_epoch - seconds since 1970 UTC of DT */
int64_t
date_to_epoch(const struct date_time *dt)
{
	int64_t days = days_from_civil(dt->year, dt->month, dt->day);

	return days * 86400 + dt->hour * 3600 + dt->minute * 60 + dt->second
	    - (int64_t) dt->zone * 60;
}

/* date_from_epoch - T seen in ZONE (minutes east) */
void
date_from_epoch(int64_t t, int zone, struct date_time *dt)
{
	int64_t local = t + (int64_t) zone * 60, days, secs;

	days = local >= 0 ? local / 86400 : -((-local + 86399) / 86400);
	secs = local - days * 86400;
	memset(dt, 0, sizeof(*dt));
	civil_from_days(days, &dt->year, &dt->month, &dt->day);
	dt->hour = (int) (secs / 3600);
	dt->minute = (int) (secs / 60 % 60);
	dt->second = (int) (secs % 60);
	dt->zone = zone;
}

/* date_part - part PART of DT as RFC 5260 4.2 writes it, onto OUT */
int
date_part(const struct date_time *dt, const char *part, size_t len, struct buf *out)
{
	int64_t days = days_from_civil(dt->year, dt->month, dt->day);
	int z = dt->zone < 0 ? -dt->zone : dt->zone;
	char sign = dt->zone < 0 || dt->zone_unknown ? '-' : '+';

	if (str_ieq_cstr(part, len, "year"))
		buf_printf(out, "%04d", dt->year);
	else if (str_ieq_cstr(part, len, "month"))
		buf_printf(out, "%02d", dt->month);
	else if (str_ieq_cstr(part, len, "day"))
		buf_printf(out, "%02d", dt->day);
	else if (str_ieq_cstr(part, len, "date"))
		buf_printf(out, "%04d-%02d-%02d", dt->year, dt->month, dt->day);
	else if (str_ieq_cstr(part, len, "julian"))	/* Modified Julian Day */
		buf_printf(out, "%lld", (long long) (days + 40587));
	else if (str_ieq_cstr(part, len, "hour"))
		buf_printf(out, "%02d", dt->hour);
	else if (str_ieq_cstr(part, len, "minute"))
		buf_printf(out, "%02d", dt->minute);
	else if (str_ieq_cstr(part, len, "second"))
		buf_printf(out, "%02d", dt->second);
	else if (str_ieq_cstr(part, len, "time"))
		buf_printf(out, "%02d:%02d:%02d", dt->hour, dt->minute, dt->second);
	else if (str_ieq_cstr(part, len, "iso8601") && z == 0 && !dt->zone_unknown)
		buf_printf(out, "%04d-%02d-%02dT%02d:%02d:%02dZ", dt->year, dt->month,
			   dt->day, dt->hour, dt->minute, dt->second);
	else if (str_ieq_cstr(part, len, "iso8601"))
		buf_printf(out, "%04d-%02d-%02dT%02d:%02d:%02d%c%02d:%02d", dt->year,
			   dt->month, dt->day, dt->hour, dt->minute, dt->second,
			   sign, z / 60, z % 60);
	else if (str_ieq_cstr(part, len, "std11"))
		buf_printf(out, "%s, %02d %c%c%c %04d %02d:%02d:%02d %c%02d%02d",
			   day_names[((days % 7) + 11) % 7], dt->day,
			   month_names[dt->month - 1][0] - 32, month_names[dt->month - 1][1],
			   month_names[dt->month - 1][2], dt->year, dt->hour, dt->minute,
			   dt->second, sign, z / 60, z % 60);
	else if (str_ieq_cstr(part, len, "zone"))
		buf_printf(out, "%c%02d%02d", sign, z / 60, z % 60);
	else if (str_ieq_cstr(part, len, "weekday"))
		buf_printf(out, "%d", (int) (((days % 7) + 11) % 7));
	else
		return -1;
	return 0;
}
