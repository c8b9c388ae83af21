/* test_parse.c -- unit tests of ghost-ingest's line parser: one group per
 * format (timestamps with zones, syslog's missing year across the new year,
 * RFC 5424 fractions and structured data, JSON nesting/escapes/numbers/
 * booleans, logfmt quoting, access-log levels), the bad-input cases (binary,
 * invalid UTF-8, empty and huge lines), the --dump writer, and detection
 * accuracy on tests/data/ingest/mixed.log (expected format, TAB, line).
 */
#include "check.h"
#include "clock.h"
#include "ingest/parse.h"

#include <jansson.h>
#include <limits.h>

#define NOW 1704067200000LL  /* 2024-01-01T00:00:00Z */

static gh_parser_t *P;
static gh_record_t R;

static void parse(const char *line, int64_t now) {
    gh_parse_line(P, "test", 4, line, strlen(line), now, &R);
}

static void parse_src(const char *src, const char *line, int64_t now) {
    gh_parse_line(P, src, strlen(src), line, strlen(line), now, &R);
}

/* Year-less syslog dates follow their source's own sequence. */
static void test_syslog_year(void) {
    const int64_t now = 1795305600000LL;   /* 2026-11-22T00:00:00Z */
    /* an old file whose dates pass the receive time's month-day: Nov 20 is
     * closest to now in 2026, Nov 25 alone would be 2025 (2026 is in the
     * future), but in this file it follows Nov 20 */
    parse_src("old.log", "Nov 20 10:00:00 h app: a", now);
    CHECK_EQ(R.ts_ms, 1795168800000LL);    /* 2026-11-20T10:00:00Z */
    parse_src("old.log", "Nov 25 10:00:00 h app: b", now);
    CHECK_EQ(R.ts_ms, 1795600800000LL);    /* 2026-11-25T10:00:00Z */
    /* another source alone: closest to the receive time, not in the future */
    parse_src("other.log", "Nov 25 10:00:00 h app: b", now);
    CHECK_EQ(R.ts_ms, 1764064800000LL);    /* 2025-11-25T10:00:00Z */
    /* the new year within a file: Dec 31 -> Jan 1 is the next year, and a
     * line a little out of order stays in its year */
    parse_src("other.log", "Dec 31 23:59:59 h app: c", now);
    CHECK_EQ(R.ts_ms, 1767225599000LL);    /* 2025-12-31T23:59:59Z */
    parse_src("other.log", "Jan  1 00:00:01 h app: d", now);
    CHECK_EQ(R.ts_ms, 1767225601000LL);    /* 2026-01-01T00:00:01Z */
    parse_src("other.log", "Dec 31 23:59:58 h app: e", now);
    CHECK_EQ(R.ts_ms, 1767225598000LL);    /* 2025-12-31T23:59:58Z */
    /* a line in another format leaves the source's date memory alone */
    parse_src("other.log", "{\"msg\":\"x\"}", now);
    parse_src("other.log", "Jan  2 00:00:00 h app: f", now);
    CHECK_EQ(R.ts_ms, 1767312000000LL);    /* 2026-01-02T00:00:00Z */
}

static const char *field(const char *k) {
    static char buf[4096];
    for (uint32_t i = 0; i < R.nfields; i++)
        if (R.fields[2 * i].n == strlen(k) && !memcmp(R.fields[2 * i].p, k, strlen(k))) {
            snprintf(buf, sizeof buf, "%.*s", (int)R.fields[2 * i + 1].n, R.fields[2 * i + 1].p);
            return buf;
        }
    return "(none)";
}

static const char *str(gh_str_t s) {
    static char buf[4][4096];
    static int k;
    k = (k + 1) % 4;
    snprintf(buf[k], sizeof buf[k], "%.*s", (int)s.n, s.p ? s.p : "");
    return buf[k];
}

static void test_syslog(void) {
    parse("<34>Oct 11 22:14:15 mymachine su: 'su root' failed", NOW - 86400000LL * 30);
    CHECK_EQ(R.format, GH_FMT_SYSLOG3164);
    CHECK_EQ(R.level, 2);
    CHECK_STR(str(R.host), "mymachine");
    CHECK_STR(str(R.msg), "'su root' failed");
    CHECK_STR(field("appname"), "su");
    CHECK_STR(field("facility"), "auth");
    CHECK_EQ(R.ts_ms, 1697062455000LL);           /* 2023-10-11T22:14:15Z */
    /* missing year across the new year: Dec 31 received Jan 1 -> last year */
    parse("Dec 31 23:59:58 h app[12]: bye", NOW + 5000);
    CHECK_EQ(R.ts_ms, NOW - 2000);
    CHECK_STR(field("pid"), "12");
    /* Jan 1 received Dec 31 (sender clock slightly ahead) -> next year */
    parse("Jan  1 00:00:01 h app: hi", NOW - 1000);
    CHECK_EQ(R.ts_ms, NOW + 1000);
    /* auth.log style, no PRI */
    parse("Mar  5 07:08:09 srv sshd[99]: Failed password for root from 1.2.3.4 port 22 ssh2", NOW);
    CHECK_EQ(R.format, GH_FMT_SYSLOG3164);
    CHECK_STR(str(R.host), "srv");
    CHECK_STR(field("appname"), "sshd");
    /* rsyslog high-precision timestamps */
    parse("2024-03-01T10:00:00.123456+01:00 host2 systemd[1]: Started.", NOW);
    CHECK_EQ(R.format, GH_FMT_SYSLOG3164);
    CHECK_EQ(R.ts_ms, 1709283600123LL);
    /* RFC 5424 with fraction, zone and structured data */
    parse("<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - ID47 "
          "[exampleSDID@32473 iut=\"3\" eventSource=\"App\\\"x\\]\" eventID=\"1011\"] \xef\xbb\xbf" "An entry", NOW);
    CHECK_EQ(R.format, GH_FMT_SYSLOG5424);
    CHECK_EQ(R.ts_ms, 1065910455003LL);
    CHECK_EQ(R.level, 5);
    CHECK_STR(str(R.host), "mymachine.example.com");
    CHECK_STR(str(R.msg), "An entry");
    CHECK_STR(field("exampleSDID@32473.eventSource"), "App\"x]");
    CHECK_STR(field("msgid"), "ID47");
    parse("<13>1 2019-01-01T00:00:00.123456-02:30 h app 42 - - hello", NOW);
    CHECK_EQ(R.ts_ms, 1546309800123LL);
    CHECK_STR(field("procid"), "42");
}

static void test_json(void) {
    parse("{\"time\":\"2024-01-02T03:04:05.678+01:00\",\"level\":\"ERROR\",\"msg\":\"disk \\\"full\\\"\\n\\u00e9\","
          "\"host\":\"db1\",\"req\":{\"id\":7,\"ok\":true,\"t\":{\"x\":null}},\"f\":1.5,\"a\":[1,2]}", NOW);
    CHECK_EQ(R.format, GH_FMT_JSON);
    CHECK_EQ(R.ts_ms, 1704161045678LL);
    CHECK_EQ(R.level, GH_LVL_ERR);
    CHECK_STR(str(R.msg), "disk \"full\"\n\xc3\xa9");
    CHECK_STR(str(R.host), "db1");
    CHECK_STR(field("req.id"), "7");
    CHECK_STR(field("req.ok"), "true");
    CHECK_STR(field("req.t.x"), "null");
    CHECK_STR(field("f"), "1.5");
    CHECK_STR(field("a"), "[1,2]");
    parse("{\"ts\":1700000000.5,\"lvl\":\"warn\",\"message\":\"slow\"}", NOW);
    CHECK_EQ(R.ts_ms, 1700000000500LL);
    CHECK_EQ(R.level, GH_LVL_WARNING);
    parse("{\"@timestamp\":1700000000123,\"severity\":\"critical\",\"log\":\"x\"}", NOW);
    CHECK_EQ(R.ts_ms, 1700000000123LL);
    CHECK_EQ(R.level, GH_LVL_CRIT);
    parse("{\"timestamp\":\"2024-01-02 03:04:05Z\",\"level\":50,\"msg\":\"pino\",\"neg\":-3,\"big\":1e300}", NOW);
    CHECK_EQ(R.ts_ms, 1704164645000LL);
    CHECK_EQ(R.level, GH_LVL_ERR);
    CHECK_STR(field("neg"), "-3");
    CHECK_STR(field("big"), "1e+300");
    parse("{\"datetime\":\"2024-01-02T03:04:05-0500\",\"level\":\"trace\"}", NOW);
    CHECK_EQ(R.ts_ms, 1704182645000LL);
    CHECK_EQ(R.level, GH_LVL_DEBUG);
    parse("{\"msg\":\"truncated\"", NOW);
    CHECK_EQ(R.format, GH_FMT_PLAIN);
}

static void test_logfmt_access(void) {
    parse("time=2024-01-02T03:04:05Z level=warning msg=\"user \\\"bob\\\" logged in\" user=alice empty=\"\"", NOW);
    CHECK_EQ(R.format, GH_FMT_LOGFMT);
    CHECK_EQ(R.ts_ms, 1704164645000LL);
    CHECK_EQ(R.level, GH_LVL_WARNING);
    CHECK_STR(str(R.msg), "user \"bob\" logged in");
    CHECK_STR(field("user"), "alice");
    CHECK_STR(field("empty"), "");
    parse("127.0.0.1 - frank [10/Oct/2000:13:55:36 -0700] \"GET /apache_pb.gif HTTP/1.0\" 200 2326", NOW);
    CHECK_EQ(R.format, GH_FMT_ACCESS);
    CHECK_EQ(R.ts_ms, 971211336000LL);
    CHECK_EQ(R.level, GH_LVL_INFO);
    CHECK_STR(field("user"), "frank");
    CHECK_STR(field("path"), "/apache_pb.gif");
    parse("10.0.0.2 - - [10/Oct/2000:13:55:36 +0000] \"POST /api HTTP/1.1\" 503 12 \"http://x/\" \"curl/8.0\"", NOW);
    CHECK_EQ(R.format, GH_FMT_ACCESS);
    CHECK_EQ(R.level, GH_LVL_ERR);
    CHECK_STR(field("user_agent"), "curl/8.0");
    CHECK_STR(field("status"), "503");
    parse("10.0.0.2 - - [10/Oct/2000:13:55:36 +0000] \"GET /x HTTP/1.1\" 404 -", NOW);
    CHECK_EQ(R.level, GH_LVL_WARNING);
}

static void test_auditd(void) {
    parse("node=web1 type=SYSCALL msg=audit(1490801406.273:512226): arch=40000003 syscall=102 success=no "
          "exit=-115 auid=4294967295 exe=2F7573722F62696E2F707974686F6E key=\"k1\"", NOW);
    CHECK_EQ(R.format, GH_FMT_AUDITD);
    CHECK_EQ(R.ts_ms, 1490801406273LL);
    CHECK_STR(str(R.host), "web1");
    CHECK_STR(field("arch"), "i386");
    CHECK_STR(field("syscall"), "socketcall");
    CHECK_STR(field("exit"), "EINPROGRESS");
    CHECK_STR(field("result"), "fail");
    CHECK_STR(field("auid"), "unset");
    CHECK_STR(field("exe"), "/usr/bin/python");
    CHECK_STR(field("tags"), "k1");
    CHECK_STR(field("sequence"), "512226");
    CHECK_EQ(R.level, GH_LVL_WARNING);
    parse("type=PROCTITLE msg=audit(1.000:2): proctitle=2F62696E2F7368002D63006C73", NOW);
    CHECK_STR(field("proctitle"), "/bin/sh -c ls");
    CHECK_EQ(R.level, GH_LVL_INFO);
}

static void test_bad_input(void) {
    static const char bin[] = "\x00\x01\xff\xfe garbage \x80\x81";
    gh_parse_line(P, "t", 1, bin, sizeof bin - 1, NOW, &R);
    CHECK_EQ(R.format, GH_FMT_PLAIN);
    CHECK_EQ(R.ts_ms, NOW);
    CHECK_EQ(R.msg.n, sizeof bin - 1);
    CHECK_EQ(R.raw.n, sizeof bin - 1);
    gh_parse_line(P, "t", 1, "", 0, NOW, &R);
    CHECK_EQ(R.format, GH_FMT_PLAIN);
    CHECK_EQ(R.msg.n, 0);
    CHECK_EQ(R.level, GH_LVL_INFO);
    parse("Something FATAL happened", NOW);
    CHECK_EQ(R.level, GH_LVL_CRIT);
    parse("2015-10-18 18:01:47,978 WARN [main] x: y", NOW);
    CHECK_EQ(R.ts_ms, 1445191307978LL);
    CHECK_EQ(R.level, GH_LVL_WARNING);
    /* huge lines, in every format's entry path */
    size_t n = 8u << 20;
    char *big = malloc(n + 64);
    memset(big, 'a', n);
    memcpy(big, "{\"msg\":\"", 8);
    gh_parse_line(P, "t", 1, big, n, NOW, &R);
    CHECK_EQ(R.format, GH_FMT_PLAIN);
    CHECK_EQ(R.raw.n, n);
    memcpy(big + n - 2, "\"}", 2);
    gh_parse_line(P, "t", 1, big, n, NOW, &R);
    CHECK_EQ(R.format, GH_FMT_JSON);
    CHECK_EQ(R.msg.n, n - 10);
    memcpy(big, "type=EXECVE msg=audit(1.1:1): argc=1 a0=", 40);
    gh_parse_line(P, "t", 1, big, n, NOW, &R);
    CHECK_EQ(R.format, GH_FMT_AUDITD);
    free(big);
    gh_parser_set_default_host(P, "me");
    parse("plain text", NOW);
    CHECK_STR(str(R.host), "me");
    gh_parser_set_default_host(P, NULL);
}

static void test_dump(void) {
    const char *in_text = "{\"level\":\"info\",\"msg\":\"a\\u0000b\",\"n\":{\"k\":1}}\nbad \xff utf8\r\n";
    FILE *in = fmemopen((void *)in_text, strlen(in_text), "r");
    char *obuf = NULL;
    size_t on = 0;
    FILE *out = open_memstream(&obuf, &on);
    CHECK_EQ(gh_parse_dump(P, in, "src", out), 2);
    fclose(in);
    fclose(out);
    char *nl = strchr(obuf, '\n');
    CHECK(nl != NULL);
    json_error_t e;
    json_t *a = json_loadb(obuf, (size_t)(nl - obuf), JSON_ALLOW_NUL, &e);
    json_t *b = json_loads(nl + 1, JSON_DISABLE_EOF_CHECK, &e);
    CHECK(a && b);
    if (a && b) {
        CHECK_STR(json_string_value(json_object_get(a, "format")), "json");
        CHECK_STR(json_string_value(json_object_get(a, "source")), "src");
        CHECK_EQ(json_string_length(json_object_get(a, "msg")), 3);
        CHECK_STR(json_string_value(json_object_get(json_object_get(a, "fields"), "n.k")), "1");
        CHECK_EQ(strlen(json_string_value(json_object_get(a, "ts"))), 24);
        CHECK_STR(json_string_value(json_object_get(b, "msg")), "bad \xef\xbf\xbd utf8");
        CHECK_STR(json_string_value(json_object_get(b, "format")), "plain");
    }
    json_decref(a);
    json_decref(b);
    free(obuf);
}

static void test_detection(void) {
    char path[PATH_MAX];
    const char *src = getenv("GHOST_SRC");
    snprintf(path, sizeof path, "%s/tests/data/ingest/mixed.log", src ? src : ".");
    FILE *f = fopen(path, "r");
    CHECK(f != NULL);
    if (!f) return;
    char *line = NULL;
    size_t cap = 0, total = 0, right = 0;
    ssize_t r;
    gh_parser_t *p = gh_parser_new(-1);
    while ((r = getline(&line, &cap, f)) > 0) {
        if (line[r - 1] == '\n') line[--r] = '\0';
        char *tab = strchr(line, '\t');
        if (!tab) continue;
        *tab = '\0';
        gh_parse_line(p, "mixed", 5, tab + 1, strlen(tab + 1), NOW, &R);
        total++;
        if (!strcmp(gh_format_name(R.format), line)) right++;
        else fprintf(stderr, "detected %s, expected %s: %s\n", gh_format_name(R.format), line, tab + 1);
    }
    printf("detection: %zu/%zu lines right\n", right, total);
    CHECK(total > 0 && right == total);
    /* forced format: a line that does not fit becomes plain */
    gh_parser_t *q = gh_parser_new(GH_FMT_LOGFMT);
    gh_parse_line(q, "x", 1, "a=1 b=2", 7, NOW, &R);
    CHECK_EQ(R.format, GH_FMT_LOGFMT);
    gh_parse_line(q, "x", 1, "{\"a\":1}", 7, NOW, &R);
    CHECK_EQ(R.format, GH_FMT_PLAIN);
    gh_parser_destroy(&q);
    CHECK(q == NULL);
    CHECK(gh_parser_new(GH_FMT__COUNT) == NULL);
    gh_parser_destroy(&p);
    free(line);
    fclose(f);
}

/* tests/data/ingest/variants.log: one line per format variant seen in the
 * wild (syslog with and without PRI or year, rsyslog/journald RFC 3339
 * stamps, nginx and Apache error logs, vhost access logs, docker json-file,
 * journald JSON, epoch s/ms/ns, log4j2, Serilog, Python, logrus, go-kit,
 * log15, slog, ENRICHED auditd), each with its expected format, level and
 * event time.  Each line is parsed by a fresh parser, so no source memory
 * helps. */
static void test_variants(void) {
    char path[PATH_MAX];
    const char *src = getenv("GHOST_SRC");
    snprintf(path, sizeof path, "%s/tests/data/ingest/variants.log", src ? src : ".");
    FILE *f = fopen(path, "r");
    CHECK(f != NULL);
    if (!f) return;
    char *line = NULL, ts[40];
    size_t cap = 0, total = 0, right = 0;
    ssize_t r;
    while ((r = getline(&line, &cap, f)) > 0) {
        if (line[r - 1] == '\n') line[--r] = '\0';
        if (line[0] == '#') continue;
        char *t1 = strchr(line, '\t'), *t2 = t1 ? strchr(t1 + 1, '\t') : NULL, *t3 = t2 ? strchr(t2 + 1, '\t') : NULL;
        if (!t3) continue;
        *t1 = *t2 = *t3 = '\0';
        gh_parser_t *p = gh_parser_new(-1);
        gh_parse_line(p, "variants", 8, t3 + 1, (size_t)(line + r - t3 - 1), NOW, &R);
        gh_rfc3339_ms(R.ts_ms, ts, sizeof ts);
        int ok = !strcmp(gh_format_name(R.format), line) && !strcmp(gh_level_name(R.level), t1 + 1) &&
                 (!strcmp(t2 + 1, "-") ? R.ts_ms == NOW : !strcmp(ts, t2 + 1));
        total++;
        if (ok) right++;
        else fprintf(stderr, "variant: got %s %s %s, expected %s %s %s: %s\n", gh_format_name(R.format),
                     gh_level_name(R.level), ts, line, t1 + 1, t2 + 1, t3 + 1);
        gh_parser_destroy(&p);
    }
    printf("variants: %zu/%zu lines right\n", right, total);
    CHECK(total > 30 && right == total);
    free(line);
    fclose(f);
}

/* ENRICHED auditd: the translations after GS are fields, the raw part is
 * parsed as without them; SELinux AVC and AppArmor denials are warnings. */
static void test_auditd_more(void) {
    const char enr[] = "type=SYSCALL msg=audit(1605865139.610:3866): arch=c000003e syscall=46 success=yes exit=60 "
                       "auid=4294967295 ses=4294967295 key=(null)\x1d" "ARCH=x86_64 SYSCALL=sendmsg AUID=\"unset\" UID=\"root\"";
    parse(enr, NOW);
    CHECK_EQ(R.format, GH_FMT_AUDITD);
    CHECK_STR(field("syscall"), "sendmsg");
    CHECK_STR(field("UID"), "root");
    CHECK_STR(field("key"), "(none)");
    CHECK_STR(field("tags"), "(none)");
    CHECK_STR(field("auid"), "unset");
    CHECK(memchr(R.msg.p, 0x1d, R.msg.n) == NULL);
    CHECK_EQ(R.level, GH_LVL_INFO);
    parse("type=SOCKADDR msg=audit(1666825569.818:23260118): saddr=02000050080808080000000000000000\x1d"
          "SADDR={ saddr_fam=inet laddr=8.8.8.8 lport=80 }", NOW);
    CHECK_STR(field("family"), "ipv4");
    CHECK_STR(field("addr"), "8.8.8.8");
    CHECK_STR(field("port"), "80");
    CHECK_STR(field("SADDR"), "saddr_fam=inet laddr=8.8.8.8 lport=80");
    parse("type=AVC msg=audit(1524662933.080:61207): apparmor=\"DENIED\" operation=\"ptrace\" "
          "profile=\"docker-default\" pid=5571 comm=\"metricbeat\"", NOW);
    CHECK_EQ(R.level, GH_LVL_WARNING);
    CHECK_STR(field("apparmor"), "DENIED");
    parse("type=USER_AUTH msg=audit(1.000:9): pid=1 uid=0 msg='op=PAM:authentication acct=\"x\" res=success'", NOW);
    CHECK_EQ(R.level, GH_LVL_INFO);
    CHECK_STR(field("result"), "success");
    /* a level field that is not a level word and not wholly a number is ignored */
    parse("{\"level\":\"verbose-ish\",\"msg\":\"x\"}", NOW);
    CHECK_EQ(R.level, GH_LVL_INFO);
}

int main(void) {
    P = gh_parser_new(-1);
    CHECK(P != NULL);
    if (!P) TEST_MAIN_END();
    test_syslog();
    test_syslog_year();
    test_json();
    test_logfmt_access();
    test_auditd();
    test_bad_input();
    test_dump();
    test_detection();
    test_variants();
    test_auditd_more();
    gh_parser_destroy(&P);
    TEST_MAIN_END();
}
