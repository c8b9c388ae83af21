/* test_classes.c -- failure classes: built-in rules, a rule file, errors, and
 * the per-template cache against matching whole. */
#include "check.h"
#include "classify/classes.h"
#include "classify/miner.h"
#include <fcntl.h>
#include <unistd.h>

static const char *s_m(gh_classes_t *c, const char *msg) { return gh_classes_match(c, msg, strlen(msg)); }

/* The per-template cache against matching every record whole: fed the
 * miner's words and text revisions, or walking each message itself (the
 * fallback), it gives the same classes and the same counts, and on these
 * messages (no rule spans a constant and a variable token) the exact class.
 * The messages cover: a class in the constant text, a variable that holds a
 * class word, units folded into a number (tokens do not line up), a template
 * that generalises (new text, new revision), more tokens than the cache
 * follows, and a blank message. */
static void test_cache(void) {
    char err[256], line[1024];
    gh_classes_t *c = gh_classes_new(NULL, err, sizeof err);
    gh_clscache_t *fast = gh_clscache_new(c), *walk = gh_clscache_new(c);
    gh_miner_t *m = gh_miner_new(0);
    CHECK(c && fast && walk && m);
    if (!c || !fast || !walk || !m) return;
    static const char *users[] = { "root", "admin", "oracle", "bob" };
    for (int i = 0; i < 400; i++) {
        switch (i % 8) {
        case 0: snprintf(line, sizeof line, "Failed password for %s from 10.0.%d.%d port %d ssh2", users[i / 8 % 4], i % 7, i % 251, 1000 + i); break;
        case 1: snprintf(line, sizeof line, "cache lookup key=user:%d hit=%s", i % 5 == 1 ? 429 : i * 7, i % 3 ? "true" : "false"); break;
        case 2: snprintf(line, sizeof line, "slow query took %d ms after timeout of %d KB", i * 13, i); break;
        case 3: snprintf(line, sizeof line, "worker %d: Restarting service %s", i, i % 16 == 3 ? "timeout-429" : "nginx"); break;
        case 4: snprintf(line, sizeof line, "Invalid user %s from 1.2.3.%d", users[i / 8 % 4], i % 200); break;
        case 5: {
            size_t n = 0;
            for (int t = 0; t < 70; t++) n += (size_t)snprintf(line + n, sizeof line - n, "w%d ", t == 69 ? i : t);
            snprintf(line + n, sizeof line - n, "%s", i % 3 ? "done" : "timed out");
            break;
        }
        case 6: snprintf(line, sizeof line, "%s", i % 16 == 6 ? "   " : "request completed"); break;
        default: snprintf(line, sizeof line, "session %d: handshake failed (error %d)", i, i % 9); break;
        }
        size_t n = strlen(line);
        gh_miner_hit_t hit;
        uint64_t id = gh_miner_add_hit(m, line, n, &hit);
        CHECK(id != 0);
        const char *a = gh_clscache_match(fast, id, hit.rev, hit.tpl, hit.tpl_n, line, n, hit.words, hit.nwords);
        const char *b = gh_clscache_match(walk, id, 0, hit.tpl, hit.tpl_n, line, n, NULL, 0);
        const char *w = gh_classes_match(c, line, n);
        if (a != w || b != w)
            fprintf(stderr, "[%s] (template [%.*s]): cache %s, walk %s, whole %s\n", line, (int)hit.tpl_n, hit.tpl,
                    a ? a : "-", b ? b : "-", w ? w : "-");
        CHECK(a == w);
        CHECK(b == w);
    }
    uint64_t f1, c1, f2, c2;
    gh_clscache_stats(fast, &f1, &c1);
    gh_clscache_stats(walk, &f2, &c2);
    CHECK_EQ(f1, f2);
    CHECK_EQ(c1, c2);
    CHECK(c1 > 150); /* the cache served most records */
    CHECK(f1 > 50);  /* and matched whole where it had to */
    gh_miner_destroy(&m);
    gh_clscache_destroy(&fast);
    gh_clscache_destroy(&walk);
    gh_classes_destroy(&c);
}

int main(void) {
    test_cache();
    char err[256];
    gh_classes_t *c = gh_classes_new(NULL, err, sizeof err);
    CHECK(c != NULL);
    if (!c) { fprintf(stderr, "%s\n", err); TEST_MAIN_END(); }
    CHECK(gh_classes_count(c) >= 12);
    CHECK_STR(s_m(c, "pam_unix(sshd:auth): authentication failure; logname= uid=0"), "auth_failure");
    CHECK_STR(s_m(c, "Failed password for root from 1.2.3.4 port 22 ssh2"), "auth_failure");
    CHECK_STR(s_m(c, "read timed out after 30s"), "timeout");
    CHECK_STR(s_m(c, "connect() failed: Connection refused"), "connection_refused");
    CHECK_STR(s_m(c, "java.lang.OutOfMemoryError: Java heap space"), "oom");
    CHECK_STR(s_m(c, "write failed: No space left on device"), "disk_full");
    CHECK_STR(s_m(c, "open /etc/shadow: Permission denied"), "permission_denied");
    CHECK_STR(s_m(c, "worker 3 exited: Segmentation fault (core dumped)"), "crash");
    CHECK_STR(s_m(c, "rts panic! - stopping execution"), "crash");
    CHECK_STR(s_m(c, "sendto: Network is unreachable"), "network_unreachable");
    CHECK_STR(s_m(c, "getaddrinfo: Name or service not known"), "dns_failure");
    CHECK_STR(s_m(c, "SSL handshake failed: certificate verify failed"), "tls_error");
    CHECK_STR(s_m(c, "HTTP 429 Too Many Requests"), "rate_limited");
    CHECK_STR(s_m(c, "Restarting service nginx"), "service_restart");
    CHECK(s_m(c, "Received block blk_1 of size 5 from /1.2.3.4") == NULL);
    CHECK(gh_classes_match(c, "", 0) == NULL);
    gh_classes_destroy(&c);
    CHECK(c == NULL);

    char path[] = "/tmp/ghost-classes-XXXXXX";
    int fd = mkstemp(path);
    const char *rules = "# custom\n\nmine_a   foo(bar|baz)\nmine_b  ^start\\s+(?<x>\\d+)\n";
    CHECK(fd >= 0 && write(fd, rules, strlen(rules)) == (ssize_t)strlen(rules));
    close(fd);
    c = gh_classes_new(path, err, sizeof err);
    CHECK(c != NULL);
    CHECK_EQ(gh_classes_count(c), 2);
    CHECK_STR(s_m(c, "xx FOOBAZ yy"), "mine_a");
    CHECK_STR(s_m(c, "start 12 then foobar"), "mine_b"); /* the earliest match wins */
    CHECK(s_m(c, "nothing") == NULL);
    gh_classes_destroy(&c);

    /* a leading \b is shared only when it covers the whole rule: "\bfoo|bar" still finds "xbar" */
    static const struct { const char *rules, *msg, *want; } wb[] = {
        { "a  \\bfoo\nb  \\bbar\n", "xfoo xbar", NULL },
        { "a  \\bfoo\nb  \\bbar\n", "xfoo bar", "b" },
        { "a  \\bfoo|bar\nb  \\bqux\n", "xbar", "a" },
        { "a  \\b(?:foo)|bar\nb  \\bqux\n", "xbar", "a" },
        { "a  \\b[|]foo\nb  \\bqux\n", "x|foo", "a" },
        { "a  \\b[|]foo\nb  \\bqux\n", "x |foo", NULL },
        { "a  \\b(?x) foo | bar\n", "xbar", "a" },
        { "a  \\b\\Qx|\\Ebar\nb  baz\n", "zbaz", "b" },
        /* the value scan's start test (s_may_start): bytes around a place, lookbehinds turn it off */
        { "a  \\bfoo\\b\n", "x.foo", "a" },
        { "a  \\bfoo\\b\n", "x.foox", NULL },
        { "a  429\\b\n", "x:429", "a" },
        { "a  429\\b\n", "x:4291", NULL },
        { "a  (?<=x)foo\n", "xfoo", "a" },
        { "a  (?<!x)foo\n", "xfoo", NULL },
        { "a  (?<!x)foo\n", "yfoo", "a" },
        { "a  (?m)^foo\n", "x\nfoo", "a" },
    };
    for (size_t i = 0; i < sizeof wb / sizeof *wb; i++) {
        fd = open(path, O_WRONLY | O_TRUNC);
        CHECK(fd >= 0 && write(fd, wb[i].rules, strlen(wb[i].rules)) == (ssize_t)strlen(wb[i].rules));
        close(fd);
        c = gh_classes_new(path, err, sizeof err);
        CHECK(c != NULL);
        if (!c) continue;
        const char *got = s_m(c, wb[i].msg);
        if (!wb[i].want) CHECK(got == NULL);
        else CHECK_STR(got ? got : "(none)", wb[i].want);
        /* the cache's value scan agrees: a template whose only token is a variable */
        gh_clscache_t *cc = gh_clscache_new(c);
        gh_span_t w = { 0, (uint32_t)strlen(wb[i].msg) };
        for (int k = 0; k < GH_CLSCACHE_VERIFY + 2; k++) {
            const char *other = k < GH_CLSCACHE_VERIFY ? "zzz" : wb[i].msg;
            w.len = (uint32_t)strlen(other);
            const char *g = gh_clscache_match(cc, 7, 1, "<*>", 3, other, strlen(other), strchr(other, ' ') ? NULL : &w, 1);
            CHECK(g == s_m(c, other));
        }
        gh_clscache_destroy(&cc);
        gh_classes_destroy(&c);
    }

    /* the default rules: values scanned alone (short ones, long ones, starts that need 3 bytes to rule
     * out) get the class a whole match gives */
    static const char *vals[] = { "429", "4291", "x:429", "45557", "42", "402", "sh", "shutdown", "SHA256:de9d",
                                  "deadline", "de9", "a.oom", "oomx", "15/Nov/2023:01:49:46",
                                  "/api/v1/items/42338", "10.3.42.153", "x=timeout", "SHA256:a10FB2dBEdaDcdEF",
                                  "ECONNREFUSED", "econnrefused1", "started", "restarting;" };
    c = gh_classes_new(NULL, err, sizeof err);
    CHECK(c != NULL);
    gh_clscache_t *dc = gh_clscache_new(c);
    for (size_t i = 0; c && dc && i < sizeof vals / sizeof *vals; i++)
        for (int k = 0; k < GH_CLSCACHE_VERIFY + 2; k++) { /* twice after the verify records: memos agree */
            const char *v = k < GH_CLSCACHE_VERIFY ? "zzz" : vals[i];
            gh_span_t w = { 0, (uint32_t)strlen(v) };
            const char *g = gh_clscache_match(dc, 100 + i, 1, "<*>", 3, v, strlen(v), &w, 1);
            CHECK(g == s_m(c, v));
        }
    gh_clscache_destroy(&dc);
    gh_classes_destroy(&c);

    fd = open(path, O_WRONLY | O_TRUNC);
    const char *bad = "ok_rule  fine\nbroken  (unclosed\n";
    CHECK(fd >= 0 && write(fd, bad, strlen(bad)) == (ssize_t)strlen(bad));
    close(fd);
    c = gh_classes_new(path, err, sizeof err);
    CHECK(c == NULL);
    CHECK(strstr(err, ":2:") != NULL);
    unlink(path);
    CHECK(gh_classes_new("/nonexistent/rules", err, sizeof err) == NULL);

    /* the shipped file and the compiled-in defaults agree */
    const char *src = getenv("GHOST_SRC");
    char conf[4096];
    snprintf(conf, sizeof conf, "%s/stages/classify/classes.conf", src ? src : ".");
    gh_classes_t *f = gh_classes_new(conf, err, sizeof err), *d = gh_classes_new(NULL, err, sizeof err);
    CHECK(f != NULL && d != NULL);
    CHECK_EQ(gh_classes_count(f), gh_classes_count(d));
    gh_classes_destroy(&f);
    gh_classes_destroy(&d);
    TEST_MAIN_END();
}
