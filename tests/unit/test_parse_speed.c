/* test_parse_speed.c -- throughput of gh_parse_line per format, the cost the
 * ingest stage pays per line in the pipeline (no JSON output involved).
 *
 * For each format a set of realistic lines is synthesised in memory (numbers,
 * addresses and words vary from line to line so nothing is trivially cached)
 * and parsed GHOST_SPEED_LINES times (default 100000) with one parser and one
 * source name, as ingest does for a file.  Prints lines/s and MB/s per format
 * (CPU time of the process, so a busy machine does not skew it) and checks
 * that every line was detected as its format; the speed itself is
 * reported, not asserted (machines differ), except that a format slower than
 * GHOST_SPEED_MIN lines/s (default 0: off) fails the test.
 *
 * Fields are off, as ghost-ingest runs by default (no --fields);
 * GHOST_SPEED_FIELDS=1 measures with them on (what --fields and --dump pay).
 *
 * `GHOST_SPEED_FILE=path:format` parses a file instead (every line expected
 * in that format, "any" to skip the format check), for measuring real logs.
 */
#include "check.h"
#include "clock.h"
#include "ingest/parse.h"

#include <time.h>

typedef struct { const char *name; int fmt; } s_set_t;

/* CPU time of this process: the machine may be shared, wall time is noisy */
static double s_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Write line number i of format fmt into buf; returns its length. */
static int s_line(int fmt, unsigned i, char *buf, size_t cap) {
    static const char *const users[] = { "alice", "bob", "deploy", "carol" };
    static const char *const paths[] = { "/api/v1/orders", "/login", "/static/app.js", "/api/v1/users/42" };
    static const char *const lv[] = { "info", "warn", "error", "debug" };
    unsigned a = i * 2654435761u;
    int s = (int)(i % 60), m = (int)(i / 60 % 60);
    switch (fmt) {
    case GH_FMT_JSON:
        return snprintf(buf, cap,
                        "{\"ts\":\"2026-11-20T10:%02d:%02d.%03uZ\",\"level\":\"%s\",\"host\":\"app%u\","
                        "\"msg\":\"request completed for %s\",\"http\":{\"path\":\"%s\",\"status\":%u},"
                        "\"latency_ms\":%u,\"request_id\":\"%08x%08x\"}",
                        m, s, a % 1000, lv[i % 4], a % 5, users[i % 4], paths[a % 4], 200 + a % 300, a % 977, a,
                        ~a);
    case GH_FMT_AUDITD:
        if (i % 3 == 0)
            return snprintf(buf, cap,
                            "type=USER_AUTH msg=audit(1795169%03u.%03u:%u): pid=%u uid=0 auid=4294967295 "
                            "ses=4294967295 subj=system_u:system_r:sshd_t:s0-s0:c0.c1023 msg='op=PAM:authentication "
                            "grantors=? acct=\"%s\" exe=\"/usr/sbin/sshd\" hostname=10.0.%u.%u addr=10.0.%u.%u "
                            "terminal=ssh res=%s'",
                            i % 1000, a % 1000, i, a % 30000, users[i % 4], a % 256, a % 200, a % 256, a % 200,
                            i % 7 ? "success" : "failed");
        if (i % 3 == 1)
            return snprintf(buf, cap,
                            "node=db%u type=SYSCALL msg=audit(1795169%03u.%03u:%u): arch=c000003e syscall=59 "
                            "success=yes exit=0 a0=55d0 a1=55d1 a2=55d2 a3=0 items=2 ppid=%u pid=%u auid=1000 uid=0 "
                            "gid=0 euid=0 suid=0 fsuid=0 egid=0 sgid=0 fsgid=0 tty=pts0 ses=%u comm=\"systemctl\" "
                            "exe=\"/usr/bin/systemctl\" key=\"exec\"",
                            a % 4, i % 1000, a % 1000, i, a % 30000, a % 30000 + 1, i % 50);
        return snprintf(buf, cap,
                        "type=PROCTITLE msg=audit(1795169%03u.%03u:%u): "
                        "proctitle=2F7573722F62696E2F707974686F6E33002D6D00687474702E736572766572",
                        i % 1000, a % 1000, i);
    case GH_FMT_SYSLOG3164:
        return snprintf(buf, cap,
                        "Nov 20 10:%02d:%02d web%u sshd[%u]: Failed password for %s from 10.1.%u.%u port %u ssh2", m,
                        s, a % 5, a % 30000, users[i % 4], a % 256, a % 250, a % 65000);
    case GH_FMT_ACCESS:
        return snprintf(buf, cap,
                        "10.0.%u.%u - - [20/Nov/2026:10:%02d:%02d +0000] \"GET %s HTTP/1.1\" %u %u \"-\" "
                        "\"Mozilla/5.0 (X11; Linux x86_64)\"",
                        a % 256, a % 250, m, s, paths[a % 4], 200 + a % 320, a % 60000);
    case GH_FMT_LOGFMT:
        return snprintf(buf, cap,
                        "time=2026-11-20T10:%02d:%02d.%03uZ level=%s msg=\"handled request %s\" path=%s "
                        "status=%u duration=%ums caller=server.go:%u",
                        m, s, a % 1000, lv[i % 4], users[i % 4], paths[a % 4], 200 + a % 300, a % 977, a % 400);
    }
    return 0;
}

static void s_bench(gh_parser_t *p, const char *name, int fmt, char **lines, size_t *lens, size_t nl, double min) {
    gh_record_t r;
    size_t bytes = 0, wrong = 0;
    double t0 = s_now();
    for (size_t i = 0; i < nl; i++) {
        gh_parse_line(p, name, strlen(name), lines[i], lens[i], 1795169999000LL, &r);
        bytes += lens[i];
        if (fmt >= 0 && r.format != fmt) {
            if (!wrong) fprintf(stderr, "%s: line %zu detected as %d: %.*s\n", name, i, r.format, (int)lens[i], lines[i]);
            wrong++;
        }
    }
    double dt = s_now() - t0;
    double lps = (double)nl / (dt > 0 ? dt : 1e-9);
    printf("%-8s %8zu lines  %10.0f lines/s  %7.1f MB/s  %6.3f us/line CPU\n", name, nl, lps,
           (double)bytes / 1e6 / (dt > 0 ? dt : 1e-9), dt * 1e6 / (double)(nl ? nl : 1));
    CHECK_EQ(wrong, 0);
    if (min > 0) CHECK(lps >= min);
}

int main(void) {
    gh_parser_t *p = gh_parser_new(-1);
    CHECK(p != NULL);
    if (!p) TEST_MAIN_END();
    const char *fv = getenv("GHOST_SPEED_FIELDS");
    gh_parser_set_fields(p, fv && atoi(fv));
    printf("fields %s\n", fv && atoi(fv) ? "on" : "off");
    const char *ev = getenv("GHOST_SPEED_MIN");
    double min = ev ? atof(ev) : 0;
    const char *file = getenv("GHOST_SPEED_FILE");
    if (file) {
        char path[4096];
        snprintf(path, sizeof path, "%s", file);
        char *colon = strrchr(path, ':');
        int fmt = -1;
        if (colon) { *colon = '\0'; fmt = strcmp(colon + 1, "any") ? gh_format_parse(colon + 1) : -1; }
        FILE *f = fopen(path, "r");
        if (!f) { perror(path); return 1; }
        size_t cap = 1024, nl = 0;
        char **lines = malloc(cap * sizeof *lines);
        size_t *lens = malloc(cap * sizeof *lens);
        char *l = NULL;
        size_t lc = 0;
        ssize_t r;
        while ((r = getline(&l, &lc, f)) >= 0) {
            if (nl == cap) { cap *= 2; lines = realloc(lines, cap * sizeof *lines); lens = realloc(lens, cap * sizeof *lens); }
            size_t n = (size_t)r;
            if (n && l[n - 1] == '\n') n--;
            lines[nl] = malloc(n + 1);
            memcpy(lines[nl], l, n);
            lens[nl++] = n;
        }
        fclose(f);
        free(l);
        s_bench(p, "file", fmt, lines, lens, nl, min);
        for (size_t i = 0; i < nl; i++) free(lines[i]);
        free(lines);
        free(lens);
        gh_parser_destroy(&p);
        TEST_MAIN_END();
    }
    const char *en = getenv("GHOST_SPEED_LINES");
    size_t nl = en ? (size_t)atol(en) : 100000;
    static const s_set_t sets[] = {
        { "json", GH_FMT_JSON }, { "auditd", GH_FMT_AUDITD }, { "syslog", GH_FMT_SYSLOG3164 },
        { "access", GH_FMT_ACCESS }, { "logfmt", GH_FMT_LOGFMT },
    };
    char **lines = malloc(nl * sizeof *lines);
    size_t *lens = malloc(nl * sizeof *lens);
    CHECK(lines && lens);
    char buf[2048];
    for (size_t s = 0; s < sizeof sets / sizeof *sets; s++) {
        for (size_t i = 0; i < nl; i++) {
            int n = s_line(sets[s].fmt, (unsigned)i, buf, sizeof buf);
            lines[i] = malloc((size_t)n + 1);
            memcpy(lines[i], buf, (size_t)n + 1);
            lens[i] = (size_t)n;
        }
        s_bench(p, sets[s].name, sets[s].fmt, lines, lens, nl, min);
        for (size_t i = 0; i < nl; i++) free(lines[i]);
    }
    free(lines);
    free(lens);
    gh_parser_destroy(&p);
    TEST_MAIN_END();
}
