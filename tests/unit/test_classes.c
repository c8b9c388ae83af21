/* test_classes.c -- failure classes: built-in rules, a rule file, errors. */
#include "check.h"
#include "classify/classes.h"
#include <fcntl.h>
#include <unistd.h>

static const char *s_m(gh_classes_t *c, const char *msg) { return gh_classes_match(c, msg, strlen(msg)); }

int main(void) {
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
