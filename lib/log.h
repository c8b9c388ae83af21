/* log.h -- one line per event on stderr, with time, level and process name.
 *
 * The level is checked before anything is formatted.  gh_log_ratelimited()
 * is for events that can repeat per record (bad frames, garbage lines): it
 * prints at most one line per key per interval and says how many it held
 * back.  Never call these from a signal handler.
 */
#ifndef GH_LOG_H
#define GH_LOG_H
#include <stdarg.h>
#include <stdint.h>

enum { GH_LOG_ERROR = 0, GH_LOG_WARN, GH_LOG_INFO, GH_LOG_DEBUG };

extern int gh_log_level;
void gh_log_init(const char *name, const char *level); /* level: error|warn|info|debug */
void gh_log_write(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define gh_log(lvl, ...) do { if ((lvl) <= gh_log_level) gh_log_write((lvl), __VA_ARGS__); } while (0)
#define gh_error(...) gh_log(GH_LOG_ERROR, __VA_ARGS__)
#define gh_warn(...)  gh_log(GH_LOG_WARN, __VA_ARGS__)
#define gh_info(...)  gh_log(GH_LOG_INFO, __VA_ARGS__)
#define gh_debug(...) gh_log(GH_LOG_DEBUG, __VA_ARGS__)

/* A rate limit for one kind of repeated event: prints at most once per
 * interval_ms; the next printed line reports how many were suppressed. */
typedef struct { int64_t last_ms; uint64_t suppressed; } gh_ratelimit_t;
void gh_log_ratelimited(gh_ratelimit_t *rl, int level, int interval_ms, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
#endif
