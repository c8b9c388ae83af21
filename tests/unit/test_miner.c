/* test_miner.c -- masking, template ids, generalisation, eviction and the
 * partition key of the template miner (stages/classify/). */
#include "check.h"
#include "classify/mask.h"
#include "classify/miner.h"
#include <signal.h>
#include <stdint.h>
#include <unistd.h>

static char s_out[GH_MASK_OUT_CAP];
static gh_span_t s_toks[GH_MASK_MAX_TOKENS];

static const char *s_mask(const char *msg) {
    size_t n;
    gh_mask_line(msg, strlen(msg), s_out, sizeof s_out, &n, s_toks);
    s_out[n] = 0;
    return s_out;
}

static uint64_t s_add(gh_miner_t *m, const char *msg, const char **tpl, int *is_new) {
    size_t tn;
    return gh_miner_add(m, msg, strlen(msg), tpl, &tn, is_new);
}

static void test_mask(void) {
    CHECK_STR(s_mask("Received block blk_-1608999687919862906 of size 91178 from /10.250.10.6"),
              "Received block <*> of size <*> from <*>");
    CHECK_STR(s_mask("connect to 10.0.0.1:8080 failed"), "connect to <*>:<*> failed");
    CHECK_STR(s_mask("id 0x7f3a9c and uuid 123e4567-e89b-12d3-a456-426614174000"), "id <*> and uuid <*>");
    CHECK_STR(s_mask("Input split: hdfs://host:9000/user/a/b"), "Input split: hdfs://<*>");
    CHECK_STR(s_mask("Deleting /tmp/x/y.txt now"), "Deleting <*> now");
    CHECK_STR(s_mask("uid=0 euid=0 tty=ssh user=root"), "uid=<*> euid=<*> tty=ssh user=root");
    CHECK_STR(s_mask("Accepted password for a from 1.2.3.4 port 22 ssh2"), "Accepted password for a from <*> port <*> ssh2");
    CHECK_STR(s_mask("jk2_init() Found child 6725"), "jk2_init() Found child <*>");
    CHECK_STR(s_mask("estimated size 16.0 KB, free 317.5 KB)"), "estimated size <*>, free <*>)");
    CHECK_STR(s_mask("illegal instruction......0"), "illegal instruction......<*>");
    CHECK_STR(s_mask("  spaced\tout   words  "), "spaced out words");
    CHECK_STR(s_mask(""), "");
}

static void test_generalise_keeps_id(void) {
    gh_miner_t *m = gh_miner_new(0);
    const char *tpl;
    int is_new;
    uint64_t a = s_add(m, "Invalid user admin from 1.2.3.4", &tpl, &is_new);
    CHECK_EQ(is_new, 1);
    CHECK_STR(tpl, "Invalid user admin from <*>");
    uint64_t a2 = s_add(m, "Invalid user admin from 5.6.7.8", &tpl, &is_new);
    CHECK_EQ(a2, a);
    CHECK_EQ(is_new, 0);
    uint64_t b = s_add(m, "Invalid user oracle from 1.2.3.4", &tpl, &is_new);
    CHECK(b != a); /* two values are not yet evidence of a variable */
    uint64_t c = s_add(m, "Invalid user test from 1.2.3.4", &tpl, &is_new);
    CHECK_EQ(c, a); /* the third value makes the position a variable; the oldest id survives */
    CHECK_STR(tpl, "Invalid user <*> from <*>");
    CHECK_EQ(is_new, 0);
    CHECK_EQ(gh_miner_count(m), 1);
    CHECK_EQ(gh_miner_resolve(m, b, &tpl, NULL), a);
    CHECK_EQ(s_add(m, "Invalid user zed from 9.9.9.9", &tpl, &is_new), a);
    /* two distinct words stay two events */
    uint64_t p = s_add(m, "Failed password for x", &tpl, &is_new);
    uint64_t q = s_add(m, "Failed none for x", &tpl, &is_new);
    CHECK(p != q);
    /* key=value keeps its key when it generalises */
    s_add(m, "session opened user=root", &tpl, &is_new);
    s_add(m, "session opened user=bob", &tpl, &is_new);
    s_add(m, "session opened user=carl", &tpl, &is_new);
    CHECK_STR(tpl, "session opened user=<*>");
    gh_miner_destroy(&m);
    CHECK(m == NULL);
}

static void test_deterministic_ids(void) {
    const char *lines[] = { "a b 1", "Invalid user x from 1.1.1.1", "Invalid user y from 1.1.1.1",
                            "Invalid user z from 1.1.1.1", "disk full on /dev/sda1", "a b 2" };
    uint64_t ids[2][6];
    for (int r = 0; r < 2; r++) {
        gh_miner_t *m = gh_miner_new(0);
        for (int i = 0; i < 6; i++) ids[r][i] = gh_miner_resolve(m, s_add(m, lines[i], NULL, NULL), NULL, NULL);
        gh_miner_destroy(&m);
    }
    for (int i = 0; i < 6; i++) CHECK_EQ(ids[0][i], ids[1][i]);
    CHECK_EQ(ids[0][0], ids[0][5]);
}

static void test_eviction(void) {
    gh_miner_t *m = gh_miner_new(4);
    char line[64];
    const char *words[] = { "alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta" };
    uint64_t hot = s_add(m, "hot event here", NULL, NULL);
    for (int i = 0; i < 8; i++) {
        snprintf(line, sizeof line, "%s event number %d", words[i], i);
        s_add(m, line, NULL, NULL);
        s_add(m, "hot event here", NULL, NULL); /* keep it recently used */
        CHECK(gh_miner_count(m) <= 4);
    }
    CHECK_EQ(gh_miner_count(m), 4);
    CHECK_EQ(gh_miner_resolve(m, hot, NULL, NULL), hot);
    int is_new;
    s_add(m, "alpha event number 99", NULL, &is_new);
    CHECK_EQ(is_new, 1); /* evicted long ago: comes back as new */
    gh_miner_destroy(&m);
}

static void test_partition(void) {
    const char *a = "Received block blk_1 of size 5 from /1.2.3.4";
    const char *b = "Received block blk_2 of size 77 from /9.8.7.6";
    CHECK_EQ(gh_miner_partition(a, strlen(a)), gh_miner_partition(b, strlen(b)));
    const char *c = "Received block blk_1 of size 5";
    CHECK(gh_miner_partition(a, strlen(a)) != gh_miner_partition(c, strlen(c)));
    const char *d = "Sent block blk_1 of size 5 from /1.2.3.4";
    CHECK(gh_miner_partition(a, strlen(a)) != gh_miner_partition(d, strlen(d)));
    const char *e = "42 things";
    const char *f = "43 things";
    CHECK_EQ(gh_miner_partition(e, strlen(e)), gh_miner_partition(f, strlen(f)));
}

static void test_long_and_odd_input(void) {
    gh_miner_t *m = gh_miner_new(0);
    size_t n = 200000;
    char *big = malloc(n);
    for (size_t i = 0; i < n; i++) big[i] = (i % 7 == 6) ? ' ' : (char)('a' + i % 26);
    const char *tpl;
    size_t tn;
    CHECK(gh_miner_add(m, big, n, &tpl, &tn, NULL) != 0);
    CHECK(gh_miner_add(m, "", 0, &tpl, &tn, NULL) != 0);
    CHECK_EQ(tn, 0);
    CHECK(gh_miner_add(m, "\xff\xfe\x00zz", 5, &tpl, &tn, NULL) != 0);
    free(big);
    gh_miner_destroy(&m);
}

/* Save to a throwaway redis-server (unix socket in a temp dir), restore into
 * a fresh miner: same ids and templates; only changed templates are rewritten. */
static void test_persistence(void) {
    if (system("command -v redis-server >/dev/null 2>&1") != 0) {
        fprintf(stderr, "redis-server absent: persistence not tested\n");
        return;
    }
    char dir[] = "/tmp/ghost-miner-XXXXXX", cmd[1024], sock[64], pidf[64];
    if (!mkdtemp(dir)) return;
    snprintf(sock, sizeof sock, "%s/redis.sock", dir);
    snprintf(pidf, sizeof pidf, "%s/redis.pid", dir);
    snprintf(cmd, sizeof cmd, "redis-server --port 0 --unixsocket %s --save '' --appendonly no --daemonize yes "
             "--pidfile %s --dir %s >/dev/null", sock, pidf, dir);
    CHECK(system(cmd) == 0);
    char url[300];
    snprintf(url, sizeof url, "unix:%s", sock);
    gh_redis_t *r = NULL;
    for (int i = 0; i < 50 && !r; i++) {
        usleep(100000);
        if (access(sock, F_OK) == 0) r = gh_redis_new(url, "ghosttest:");
    }
    CHECK(r != NULL);
    gh_miner_t *m = gh_miner_new(0), *m2 = gh_miner_new(0);
    const char *lines[] = { "user a logged in 1", "user b logged in 2", "user c logged in 3", "disk 7 is full" };
    uint64_t ids[4];
    for (int i = 0; i < 4; i++) ids[i] = s_add(m, lines[i], NULL, NULL);
    int rc = -1;
    for (int i = 0; i < 30 && rc != 0; i++) { rc = gh_miner_save(m, r); if (rc) usleep(100000); }
    CHECK_EQ(rc, 0);
    CHECK_EQ(gh_miner_save(m, r), 0); /* nothing changed: nothing sent */
    CHECK_EQ(gh_miner_load(m2, r), 0);
    CHECK_EQ(gh_miner_count(m2), gh_miner_count(m));
    const char *tpl;
    int is_new;
    CHECK_EQ(s_add(m2, "user zz logged in 9", &tpl, &is_new), ids[0]);
    CHECK_STR(tpl, "user <*> logged in <*>");
    CHECK_EQ(is_new, 0);
    CHECK_EQ(s_add(m2, "disk 9 is full", NULL, NULL), ids[3]);
    gh_miner_destroy(&m);
    gh_miner_destroy(&m2);
    gh_redis_destroy(&r);
    FILE *f = fopen(pidf, "r");
    long pid = 0;
    if (f) { if (fscanf(f, "%ld", &pid) != 1) pid = 0; fclose(f); }
    if (pid > 0) kill((pid_t)pid, SIGTERM);
    usleep(200000);
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", dir);
}

int main(void) {
    test_mask();
    test_generalise_keeps_id();
    test_deterministic_ids();
    test_eviction();
    test_partition();
    test_long_and_odd_input();
    test_persistence();
    TEST_MAIN_END();
}
