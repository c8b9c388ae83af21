/* log.c -- stderr logging, see log.h. */
#include "log.h"
#include "clock.h"
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

int gh_log_level = GH_LOG_INFO;
static char s_name[64] = "ghost";
static const char *s_levels[] = { "error", "warn", "info", "debug" };

void gh_log_init(const char *name, const char *level) {
    if (name) snprintf(s_name, sizeof s_name, "%s", name);
    for (int i = 0; level && i < 4; i++)
        if (!strcasecmp(level, s_levels[i])) gh_log_level = i;
}

static void s_vwrite(int level, const char *fmt, va_list ap, uint64_t suppressed) {
    char msg[2048], ts[32];
    struct timespec now;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &now);
    gmtime_r(&now.tv_sec, &tm);
    strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%S", &tm);
    vsnprintf(msg, sizeof msg, fmt, ap);
    if (suppressed)
        fprintf(stderr, "%s.%03ldZ %s[%d] %s: %s (%llu similar suppressed)\n", ts, now.tv_nsec / 1000000,
                s_name, (int)getpid(), s_levels[level], msg, (unsigned long long)suppressed);
    else
        fprintf(stderr, "%s.%03ldZ %s[%d] %s: %s\n", ts, now.tv_nsec / 1000000, s_name, (int)getpid(),
                s_levels[level], msg);
}

void gh_log_write(int level, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    s_vwrite(level, fmt, ap, 0);
    va_end(ap);
}

void gh_log_ratelimited(gh_ratelimit_t *rl, int level, int interval_ms, const char *fmt, ...) {
    if (level > gh_log_level) return;
    int64_t now = gh_mono_ms();
    if (rl->last_ms && now - rl->last_ms < interval_ms) {
        rl->suppressed++;
        return;
    }
    va_list ap;
    va_start(ap, fmt);
    s_vwrite(level, fmt, ap, rl->suppressed);
    va_end(ap);
    rl->last_ms = now;
    rl->suppressed = 0;
}
