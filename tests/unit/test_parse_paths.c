/* test_parse_paths.c -- the parser's fast paths give the records of its full
 * ones.
 *
 * Two pairs of paths must agree on every line:
 *   - JSON through yajl's events and through jansson's tree (parse_json.c):
 *     the whole record, fields included;
 *   - fields on and fields off (gh_parser_set_fields): format, level, event
 *     time, host and msg; with fields off no field is handed out.
 * Lines: the JSON and auditd cases below (the corner cases of both paths),
 * the .log files of tests/data/ingest, the auditd reference logs when present
 * (../shared/data/auditd, as test_parse_auditd), GHOST_PATHS_FILE if set, and
 * seeded random mutations of each (bytes replaced by JSON/auditd punctuation,
 * deleted, spans repeated).  Prints how many lines were compared and how many
 * of them were JSON, so a corpus that stopped reaching a path shows.
 */
#include "check.h"
#include "ingest/parse_int.h"

#include <dirent.h>
#include <limits.h>

#define NOW 1704067200000LL

static const char *const s_cases[] = {
    "{\"ts\":\"2023-11-14T22:13:20.027Z\",\"level\":\"info\",\"host\":\"app1\",\"msg\":\"request completed\","
    "\"http\":{\"path\":\"/api/v1/users\",\"status\":200},\"latency_ms\":329,\"request_id\":\"5f557203301850c5\"}",
    "{\"level\":\"warn\",\"level\":\"error\",\"msg\":\"dup\"}",
    "{\"http\":{\"status\":500},\"http\":{\"path\":\"/\"},\"msg\":\"dup object\"}",
    "{\"log.level\":\"debug\",\"log\":{\"level\":\"error\"},\"msg\":\"dotted and nested\"}",
    "{\"log\":{\"level\":\"error\"},\"log.level\":\"debug\"}",
    "{\"\":{\"msg\":\"under an empty key\",\"\":{\"level\":\"crit\"}}}",
    "{\"msg\":{},\"host\":{\"name\":\"h1\"},\"x\":{}}",
    "{\"msg\":[1,2,{\"a\":\"b\"}],\"tags\":[\"x\",\"y\"],\"level\":\"info\"}",
    "{\"tags\":[[[]],{\"level\":\"error\"}],\"msg\":\"array not kept\"}",
    "{\"msg\":\"esc \\\" \\\\ \\/ \\b \\f \\n \\r \\t end\\n\",\"level\":30}",
    "{\"msg\":\"unicode \\u00e9 \\ud83d\\ude00\",\"level\":\"info\"}",
    "{\"msg\":\"lone \\ud800 surrogate\"}",
    "{\"msg\":\"nul \\u0000 inside\"}",
    "{\"m\\u0000sg\":\"nul in key\"}",
    "{\"msg\":\"caf\xc3\xa9\",\"level\":\"info\"}",
    "{\"msg\":\"bad \xc3\x28 utf8\"}",
    "{\"msg\":\"overlong \xc0\xaf\"}",
    "{\"level\":9223372036854775807,\"n\":-9223372036854775808,\"msg\":\"int edges\"}",
    "{\"level\":9223372036854775808,\"msg\":\"too big\"}",
    "{\"t\":1.5e300,\"x\":1e400,\"msg\":\"real overflow\"}",
    "{\"t\":1e-400,\"y\":-0,\"z\":-0.0,\"w\":0.1,\"v\":1E2,\"msg\":\"reals\"}",
    "{\"time\":1700000000123,\"severity\":\"ERROR\",\"message\":\"epoch ms\"}",
    "{\"instant\":{\"epochSecond\":1700000000,\"nanoOfSecond\":123456789},\"level\":\"WARN\",\"message\":\"log4j2\"}",
    "{\"status\":503,\"msg\":\"status only\"}",
    "{\"http\":{\"response\":{\"status_code\":404}},\"msg\":\"ecs status\"}",
    "{\"log\":\"ERROR something broke\\n\",\"stream\":\"stderr\",\"time\":\"2024-01-01T00:00:00.5Z\"}",
    "{\"MESSAGE\":\"warning: disk\",\"PRIORITY\":\"4\",\"_HOSTNAME\":\"j1\",\"__REALTIME_TIMESTAMP\":\"1700000000000000\"}",
    "{\"a\":true,\"b\":false,\"c\":null,\"msg\":\"literals\"}",
    "{\"a\":1}{\"b\":2}",
    "{\"a\":1} x",
    "{\"a\":1}   ",
    "{\"a\":01}",
    "{\"a\":1,}",
    "{\"a\":\x0c" "1}",
    "{\"a\":\x0b" "1}",
    "{\"a\":\"tab\tin string\"}",
    "{\"a\":1\t}",
    "{\"a\":\"\\x\"}",
    "{}",
    "{ }",
    "  {\"msg\":\"leading blanks\"}",
    "{\"a\":{\"b\":{\"c\":{\"d\":{\"e\":{\"f\":{\"g\":{\"h\":{\"i\":{\"j\":{\"k\":{\"l\":{\"m\":{\"n\":{\"o\":{\"p\":"
    "{\"q\":{\"r\":{\"s\":{\"t\":{\"u\":{\"v\":{\"w\":{\"x\":{\"y\":{\"z\":{\"A\":{\"B\":{\"C\":{\"D\":{\"E\":{\"F\":"
    "{\"G\":{\"H\":{}}}}}}}}}}}}}}}}}}}}}}}}}}}}}}}}}}},\"msg\":\"deep\"}",
    "{\"k1\":1,\"k2\":2,\"k3\":3,\"k4\":4,\"k5\":5,\"k6\":6,\"k7\":7,\"k8\":8,\"k9\":9,\"k10\":10,\"k1x\":{\"k1\":1}}",
    "node=db1 type=SYSCALL msg=audit(1700000000.011:1001): arch=c000003e syscall=59 success=no exit=-13 a0=55d0 "
    "items=2 ppid=2003 pid=2004 auid=4294967295 uid=0 tty=pts0 ses=8 comm=\"systemctl\" exe=\"/usr/bin/x\" key=\"exec\"",
    "type=USER_AUTH msg=audit(1.000:9): pid=1 uid=0 msg='op=PAM:authentication acct=\"x\" res=failed'",
    "type=USER_END msg=audit(1.000:9): pid=1 msg='op=PAM:session_close (hostname=?, addr=?, terminal=cron res=failed)'",
    "type=LOGIN msg=audit(1.000:9): pid=1 old res=1 new res=0 res=1",
    "type=AVC msg=audit(1.000:9): avc:  denied  { read write } for  pid=1 comm=\"x\" tclass=file",
    "type=AVC msg=audit(1.000:9): apparmor=\"DENIED\" operation=\"open\"",
    "type=SYSCALL msg=audit(1.000:9): result=fail success=yes",
    "type=SYSCALL msg=audit(1.000:9): result=fail seresult=denied",
    "type=ANOM_ABEND msg=audit(1.000:9): pid=1",
    "type=SYSCALL msg=audit(1.000:9): success=yes\x1dRES=fail SUCCESS=no",
    "<34>1 2024-01-01T00:00:00Z host app 12 ID47 [ex@1 a=\"b\" c=\"d\\\"e\"] msg",
    "time=2024-01-01T00:00:00Z level=error msg=\"quoted \\\"x\\\"\" host=h1 a=1",
    "level=warn lvl=error msg=m t=1700000000 x=\"y\"",
};

static gh_parser_t *s_p[4];   /* events+fields, tree+fields, events, tree */
static size_t s_lines, s_json, s_bad;

static int s_eq(gh_str_t a, gh_str_t b) { return a.n == b.n && (!a.n || !memcmp(a.p, b.p, a.n)); }

static void s_report(const char *what, const char *line, size_t n) {
    if (s_bad++ < 10) fprintf(stderr, "paths differ (%s): %.*s\n", what, (int)(n > 300 ? 300 : n), line);
}

static void s_compare(const char *line, size_t n) {
    gh_record_t r[4];
    for (int k = 0; k < 4; k++) gh_parse_line(s_p[k], "paths", 5, line, n, NOW, &r[k]);
    s_lines++;
    if (r[0].format == GH_FMT_JSON) s_json++;
    for (int k = 1; k < 4; k++) {
        int same = r[k].format == r[0].format && r[k].level == r[0].level && r[k].ts_ms == r[0].ts_ms &&
                   s_eq(r[k].host, r[0].host) && s_eq(r[k].msg, r[0].msg);
        if (k == 1) {
            same = same && r[1].nfields == r[0].nfields;
            for (uint32_t i = 0; same && i < 2 * r[0].nfields; i++) same = s_eq(r[1].fields[i], r[0].fields[i]);
        } else {
            same = same && r[k].nfields == 0;
        }
        CHECK(same);
        if (!same) s_report(k == 1 ? "events/tree" : k == 2 ? "fields off, events" : "fields off, tree", line, n);
    }
}

static uint64_t s_rng = 88172645463325252ull;
static uint64_t s_rand(void) {
    s_rng ^= s_rng << 13;
    s_rng ^= s_rng >> 7;
    s_rng ^= s_rng << 17;
    return s_rng;
}

/* The line, then `rounds` random mutations of it. */
static void s_line_and_mutations(const char *line, size_t n, int rounds) {
    static const char punct[] = "{}[]\":,\\u0123456789.eE-+ \t'=()?abn\x01\x1d\xc3\xa9\x0c";
    char buf[8192];
    s_compare(line, n);
    if (n == 0 || n > sizeof buf / 2) return;
    for (int r = 0; r < rounds; r++) {
        memcpy(buf, line, n);
        size_t m = n;
        int edits = 1 + (int)(s_rand() % 3);
        for (int e = 0; e < edits && m > 0; e++) {
            size_t at = (size_t)(s_rand() % m);
            switch (s_rand() % 4) {
            case 0: buf[at] = punct[s_rand() % (sizeof punct - 1)]; break;
            case 1: memmove(buf + at, buf + at + 1, m - at - 1); m--; break;
            case 2: {   /* repeat a span: duplicate keys, deeper nesting */
                size_t len = 1 + (size_t)(s_rand() % 24);
                if (at + len > m) len = m - at;
                if (m + len > sizeof buf) break;
                memmove(buf + at + len, buf + at, m - at);
                m += len;
                break;
            }
            default:
                if (m < sizeof buf) {
                    memmove(buf + at + 1, buf + at, m - at);
                    buf[at] = punct[s_rand() % (sizeof punct - 1)];
                    m++;
                }
            }
        }
        s_compare(buf, m);
    }
}

static void s_file(const char *path, int rounds, size_t max_lines) {
    FILE *f = fopen(path, "r");
    if (!f) return;
    char *line = NULL;
    size_t cap = 0, k = 0;
    ssize_t r;
    while (k++ < max_lines && (r = getline(&line, &cap, f)) >= 0) {
        size_t n = (size_t)r;
        if (n && line[n - 1] == '\n') n--;
        /* the data files hold "format TAB [level TAB ts TAB] line": the
         * whole line, and what follows the first and the third TAB */
        s_line_and_mutations(line, n, rounds);
        const char *l = line;
        for (int tab = 1; tab <= 3; tab++) {
            const char *t = memchr(l, '\t', n - (size_t)(l - line));
            if (!t) break;
            l = t + 1;
            if (tab != 2) s_line_and_mutations(l, n - (size_t)(l - line), rounds);
        }
    }
    free(line);
    fclose(f);
}

static void s_dir(const char *dir, const char *suffix, int rounds, size_t max_lines) {
    DIR *d = opendir(dir);
    if (!d) return;
    struct dirent *e;
    char path[PATH_MAX];
    while ((e = readdir(d))) {
        size_t l = strlen(e->d_name), sl = strlen(suffix);
        if (l <= sl || strcmp(e->d_name + l - sl, suffix)) continue;
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        s_file(path, rounds, max_lines);
    }
    closedir(d);
}

int main(void) {
    for (int k = 0; k < 4; k++) {
        s_p[k] = gh_parser_new(-1);
        CHECK(s_p[k] != NULL);
        if (!s_p[k]) TEST_MAIN_END();
        gh_parser_set_fields(s_p[k], k < 2);
        s_p[k]->json_dom = k & 1;
    }
    for (size_t i = 0; i < sizeof s_cases / sizeof *s_cases; i++)
        s_line_and_mutations(s_cases[i], strlen(s_cases[i]), 3000);
    const char *src = getenv("GHOST_SRC");
    char dir[PATH_MAX];
    snprintf(dir, sizeof dir, "%s/tests/data/ingest", src ? src : ".");
    s_dir(dir, ".log", 200, 1000);
    snprintf(dir, sizeof dir, "%s/../shared/data/auditd", src ? src : ".");
    s_dir(dir, ".log", 5, 2000);
    const char *extra = getenv("GHOST_PATHS_FILE");
    if (extra) s_file(extra, 0, (size_t)-1);
    printf("paths: %zu lines compared, %zu of them JSON, %zu differ\n", s_lines, s_json, s_bad);
    CHECK(s_json > 10000);   /* the mutations keep reaching the JSON paths */
    for (int k = 0; k < 4; k++) gh_parser_destroy(&s_p[k]);
    TEST_MAIN_END();
}
