/* clock.h -- monotonic and wall clocks, and RFC 3339 formatting of event time. */
#ifndef GH_CLOCK_H
#define GH_CLOCK_H
#include <stddef.h>
#include <stdint.h>
int64_t gh_mono_ms(void);
int64_t gh_mono_ns(void);
int64_t gh_wall_ms(void);
int64_t gh_wall_ns(void);
/* Writes "2024-01-02T03:04:05.678Z" (24 chars + NUL) into buf (>= 32 bytes). */
char *gh_rfc3339_ms(int64_t ms, char *buf, size_t len);
/* Days since 1970-01-01 for a proleptic Gregorian date (no time zone). */
int64_t gh_days_from_civil(int64_t y, unsigned m, unsigned d);
#endif
