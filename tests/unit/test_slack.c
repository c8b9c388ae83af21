/* test_slack.c -- gh_alerter against a real redis-server and the loopback
 * Slack receiver (tests/slack_receiver.py), one scenario per contract of
 * issue 6: ok delivery, dedup, 429 + Retry-After, 500 with backoff,
 * invalid_payload to dead letters, connection refused then delivered, slow
 * answer timed out and retried, shared rate limit never exceeded (with a
 * digest), kill -9 and restart, Redis down then written back, silences,
 * grouping, and the webhook URL never in stderr.  Every child process is
 * started here and stopped by its PID; everything lives in a temp dir.
 * Skips (77) when redis-server or python3 is missing.
 */
#include "../check.h"
#include "alert/alerter.h"
#include "alert/slack.h"
#include "clock.h"
#include "log.h"
#include <arpa/inet.h>
#include <fcntl.h>
#include <hiredis/hiredis.h>
#include <jansson.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#define SECRET "s3cretTOKEN"
static char s_dir[64], s_src[1024];
static int s_redis_port;
static pid_t s_redis_pid;

static int s_free_port(void) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    socklen_t len = sizeof sa;
    bind(fd, (struct sockaddr *)&sa, sizeof sa);
    getsockname(fd, (struct sockaddr *)&sa, &len);
    close(fd);
    return ntohs(sa.sin_port);
}

static void s_sleep_ms(int ms) { usleep((useconds_t)ms * 1000); }

static redisReply *s_redis(const char *fmt, const char *arg) {
    redisContext *c = redisConnect("127.0.0.1", s_redis_port);
    if (!c || c->err) {
        if (c) redisFree(c);
        return NULL;
    }
    redisReply *r = arg ? redisCommand(c, fmt, arg) : redisCommand(c, fmt);
    redisFree(c);
    return r;
}

static long long s_redis_int(const char *fmt, const char *arg) {
    redisReply *r = s_redis(fmt, arg);
    long long v = r && r->type == REDIS_REPLY_INTEGER ? r->integer : -1;
    if (r) freeReplyObject(r);
    return v;
}

static pid_t s_start_redis(int port) {
    pid_t pid = fork();
    if (pid == 0) {
        char p[16];
        snprintf(p, sizeof p, "%d", port);
        int nul = open("/dev/null", O_WRONLY);
        dup2(nul, 1);
        execlp("redis-server", "redis-server", "--port", p, "--bind", "127.0.0.1", "--dir", s_dir, "--save", "",
               "--appendonly", "no", (char *)NULL);
        _exit(127);
    }
    s_redis_port = port;
    for (int i = 0; i < 100; i++) {
        redisReply *r = s_redis("PING", NULL);
        if (r) {
            freeReplyObject(r);
            return pid;
        }
        s_sleep_ms(50);
    }
    return pid;
}

static void s_stop(pid_t *pid) {
    if (*pid <= 0) return;
    kill(*pid, SIGTERM);
    waitpid(*pid, NULL, 0);
    *pid = 0;
}

/* Starts the receiver; port 0 = any.  Returns its pid, *port the bound port. */
static pid_t s_start_receiver(const char *script, int *port, const char *log) {
    char pf[128], pp[16];
    snprintf(pf, sizeof pf, "%s/port.%d", s_dir, (int)gh_mono_ms());
    snprintf(pp, sizeof pp, "%d", *port);
    pid_t pid = fork();
    if (pid == 0) {
        char py[1100];
        snprintf(py, sizeof py, "%s/tests/slack_receiver.py", s_src);
        execlp("python3", "python3", py, "--port", pp, "--port-file", pf, "--log", log, "--script", script,
               (char *)NULL);
        _exit(127);
    }
    for (int i = 0; i < 200; i++) {
        FILE *f = fopen(pf, "r");
        if (f) {
            int ok = fscanf(f, "%d", port) == 1;
            fclose(f);
            if (ok) return pid;
        }
        s_sleep_ms(25);
    }
    fprintf(stderr, "receiver did not start\n");
    return pid;
}

static json_t *s_read_log(const char *path) {
    json_t *arr = json_array();
    FILE *f = fopen(path, "r");
    char line[1 << 16];
    while (f && fgets(line, sizeof line, f)) {
        json_t *o = json_loads(line, 0, NULL);
        if (o) json_array_append_new(arr, o);
    }
    if (f) fclose(f);
    return arr;
}

static double s_t(json_t *log, size_t i) { return json_number_value(json_object_get(json_array_get(log, i), "t")); }
static const char *s_body(json_t *log, size_t i) {
    return json_string_value(json_object_get(json_array_get(log, i), "body"));
}

/* How many logged requests answered `status` carry "`id`" in a context
 * block of their body (where messages list their alerts' uids). */
static int s_count_id(json_t *log, const char *id, int status) {
    char pat[128];
    snprintf(pat, sizeof pat, "`%s`", id);
    int n = 0;
    for (size_t i = 0; i < json_array_size(log); i++) {
        json_t *e = json_array_get(log, i);
        if (status && json_integer_value(json_object_get(e, "status")) != status) continue;
        json_t *p = json_loads(s_body(log, i), 0, NULL), *blocks = json_object_get(p, "blocks");
        int found = 0;
        for (size_t b = 0; b < json_array_size(blocks) && !found; b++) {
            json_t *blk = json_array_get(blocks, b);
            if (strcmp(json_string_value(json_object_get(blk, "type")) ? json_string_value(json_object_get(blk, "type")) : "", "context")) continue;
            json_t *els = json_object_get(blk, "elements");
            for (size_t k = 0; k < json_array_size(els) && !found; k++) {
                const char *t = json_string_value(json_object_get(json_array_get(els, k), "text"));
                found = t && strstr(t, pat);
            }
        }
        json_decref(p);
        n += found;
    }
    return n;
}

static void s_alert(gh_alert_t *a, const char *id, const char *key) {
    static double series[8] = { 1, 2, 1, 3, 5, 8, 13, 21 };
    memset(a, 0, sizeof *a);
    a->id = gh_str(id, strlen(id));
    a->kind = gh_str("burst", 5);
    a->key = gh_str(key, strlen(key));
    a->state = gh_str("firing", 6);
    a->tpl = gh_str("sshd: Failed password for <*> from <*>", 38);
    a->cls = gh_str("auth", 4);
    a->host = gh_str("web-1", 5);
    a->start_ms = gh_wall_ms() - 180000;
    a->end_ms = gh_wall_ms();
    a->count = 420;
    a->rate = 7;
    a->baseline = 0.5;
    a->score = 9.5;
    a->nexamples = 1;
    a->examples[0] = gh_str("Failed password for root from 10.0.0.1 <b>&", 43);
    a->nseries = 8;
    memcpy(a->series, series, sizeof series);
}

typedef struct {
    char url[256], log[128], sink[128], prefix[32], outbox[96];
    int port;
    pid_t recv;
    gh_redis_t *r;
    gh_alerter_cfg_t cfg;
} s_env_t;

/* A scenario: receiver with script (port 0 = any; -1 = none yet, refused),
 * its own key prefix and files. */
static void s_env(s_env_t *e, const char *name, const char *script, int port) {
    memset(e, 0, sizeof *e);
    snprintf(e->log, sizeof e->log, "%s/%s.requests", s_dir, name);
    snprintf(e->sink, sizeof e->sink, "%s/%s.alerts", s_dir, name);
    snprintf(e->prefix, sizeof e->prefix, "ghost:%s:", name);
    snprintf(e->outbox, sizeof e->outbox, "%salert:outbox:%s:slack", e->prefix, name);
    e->port = port;
    if (port >= 0) e->recv = s_start_receiver(script, &e->port, e->log);
    else e->port = s_free_port();
    snprintf(e->url, sizeof e->url, "http://127.0.0.1:%d/services/T0GHOST/B0GHOST/" SECRET, e->port);
    char ru[64];
    snprintf(ru, sizeof ru, "127.0.0.1:%d", s_redis_port);
    e->r = gh_redis_new(ru, e->prefix);
    e->cfg = (gh_alerter_cfg_t){ .sink_path = e->sink, .webhook_url = e->url, .instance = name,
                                 .rate_per_s = 50, .burst = 50, .timeout_ms = 2000, .backoff_min_ms = 200,
                                 .backoff_max_ms = 2000 };
}

static void s_env_end(s_env_t *e) {
    s_stop(&e->recv);
    gh_redis_destroy(&e->r);
}

static void s_tick_for(gh_alerter_t *al, int ms) {
    int64_t end = gh_mono_ms() + ms;
    while (gh_mono_ms() < end) {
        gh_alerter_tick(al);
        s_sleep_ms(20);
    }
}

static void test_ok_and_dedup(void) {
    s_env_t e;
    s_env(&e, "ok", "ok", 0);
    gh_alerter_t *al = gh_alerter_new(&e.cfg, e.r);
    CHECK(al != NULL);
    gh_alert_t a;
    s_alert(&a, "ok-0001", "tpl:1");
    CHECK_EQ(gh_alerter_submit(al, &a), GH_ALERT_OK);
    CHECK_EQ(s_redis_int("HLEN %s", e.outbox), 1); /* outbox written before the first attempt */
    CHECK_EQ(gh_alerter_drain(al, 5000), 0);
    CHECK_EQ(s_redis_int("HLEN %s", e.outbox), 0);
    CHECK_EQ(gh_alerter_submit(al, &a), GH_ALERT_DROP); /* same id again */
    gh_alerter_destroy(&al);
    al = gh_alerter_new(&e.cfg, e.r); /* a restart: dedup comes from Redis */
    CHECK_EQ(gh_alerter_submit(al, &a), GH_ALERT_DROP);
    CHECK_EQ(gh_alerter_drain(al, 1000), 0);
    gh_alerter_destroy(&al);
    json_t *log = s_read_log(e.log);
    CHECK_EQ(json_array_size(log), 1);
    CHECK_EQ(s_count_id(log, "ok-0001", 200), 1);
    json_t *p = json_loads(s_body(log, 0), 0, NULL);
    CHECK(p && json_array_size(json_object_get(p, "blocks")) > 0 && json_is_string(json_object_get(p, "text")));
    CHECK(p && gh_slack_check_limits(p, NULL, 0) == 0);
    CHECK(strstr(s_body(log, 0), "\xe2\x96\x81") != NULL); /* sparkline */
    json_decref(p);
    json_decref(log);
    /* the sink: exactly one well-formed line */
    json_t *lines = s_read_log(e.sink);
    CHECK_EQ(json_array_size(lines), 1);
    json_t *l = json_array_get(lines, 0);
    CHECK_STR(json_string_value(json_object_get(l, "id")), "ok-0001");
    CHECK_STR(json_string_value(json_object_get(l, "kind")), "burst");
    CHECK(json_is_array(json_object_get(l, "examples")) && json_is_array(json_object_get(l, "series")));
    const char *st = json_string_value(json_object_get(l, "start"));
    CHECK(st && strlen(st) == 24 && st[23] == 'Z');
    json_decref(lines);
    s_env_end(&e);
}

static void test_429(void) {
    s_env_t e;
    s_env(&e, "r429", "429:2", 0);
    gh_alerter_t *al = gh_alerter_new(&e.cfg, e.r);
    gh_alert_t a;
    s_alert(&a, "r429-0001", "tpl:2");
    CHECK_EQ(gh_alerter_submit(al, &a), GH_ALERT_OK);
    CHECK_EQ(gh_alerter_drain(al, 8000), 0);
    gh_alerter_destroy(&al);
    json_t *log = s_read_log(e.log);
    CHECK_EQ(json_array_size(log), 2);
    if (json_array_size(log) == 2) CHECK(s_t(log, 1) - s_t(log, 0) >= 1.95); /* Retry-After: 2 honoured */
    CHECK_EQ(s_count_id(log, "r429-0001", 200), 1);
    json_decref(log);
    s_env_end(&e);
}

static void test_500_backoff(void) {
    s_env_t e;
    s_env(&e, "r500", "500,503,ok", 0);
    e.cfg.backoff_min_ms = 300;
    gh_alerter_t *al = gh_alerter_new(&e.cfg, e.r);
    gh_alert_t a;
    s_alert(&a, "r500-0001", "tpl:3");
    CHECK_EQ(gh_alerter_submit(al, &a), GH_ALERT_OK);
    CHECK_EQ(gh_alerter_drain(al, 8000), 0);
    gh_alerter_destroy(&al);
    json_t *log = s_read_log(e.log);
    CHECK_EQ(json_array_size(log), 3);
    if (json_array_size(log) == 3) {
        double g1 = s_t(log, 1) - s_t(log, 0), g2 = s_t(log, 2) - s_t(log, 1);
        CHECK(g1 >= 0.14); /* first backoff: 150..300 ms */
        CHECK(g2 >= 0.29); /* doubled: 300..600 ms */
        CHECK(g1 < 2 && g2 < 2);
    }
    CHECK_EQ(s_count_id(log, "r500-0001", 200), 1);
    json_decref(log);
    s_env_end(&e);
}

static void test_invalid_payload(void) {
    s_env_t e;
    s_env(&e, "dead", "invalid_payload", 0);
    gh_alerter_t *al = gh_alerter_new(&e.cfg, e.r);
    gh_alert_t a;
    s_alert(&a, "dead-0001", "tpl:4");
    CHECK_EQ(gh_alerter_submit(al, &a), GH_ALERT_OK);
    CHECK_EQ(gh_alerter_drain(al, 3000), 0);
    s_tick_for(al, 1500); /* a retry would show up now */
    gh_alerter_stats_t st;
    gh_alerter_stats(al, &st);
    CHECK_EQ(st.dead_letters, 1);
    gh_alerter_destroy(&al);
    json_t *log = s_read_log(e.log);
    CHECK_EQ(json_array_size(log), 1); /* not retried */
    json_decref(log);
    CHECK_EQ(s_redis_int("HLEN %s", e.outbox), 0);
    CHECK_EQ(s_redis_int("LLEN %s", "ghost:dead:alert:dead"), 1);
    redisReply *r = s_redis("LINDEX %s 0", "ghost:dead:alert:dead");
    json_t *d = r && r->type == REDIS_REPLY_STRING ? json_loads(r->str, 0, NULL) : NULL;
    CHECK_STR(json_string_value(json_object_get(d, "reason")), "invalid_payload");
    CHECK_STR(json_string_value(json_object_get(json_array_get(json_object_get(d, "alerts"), 0), "id")), "dead-0001");
    json_decref(d);
    if (r) freeReplyObject(r);
    s_env_end(&e);
}

static void test_refused_then_up(void) {
    s_env_t e;
    s_env(&e, "refused", NULL, -1);
    gh_alerter_t *al = gh_alerter_new(&e.cfg, e.r);
    gh_alert_t a;
    s_alert(&a, "refused-0001", "tpl:5");
    CHECK_EQ(gh_alerter_submit(al, &a), GH_ALERT_OK);
    s_tick_for(al, 1200);
    gh_alerter_stats_t st;
    gh_alerter_stats(al, &st);
    CHECK(st.retries >= 2);
    CHECK_EQ(st.queued, 1);
    e.recv = s_start_receiver("ok", &e.port, e.log);
    CHECK_EQ(gh_alerter_drain(al, 10000), 0);
    gh_alerter_destroy(&al);
    json_t *log = s_read_log(e.log);
    CHECK_EQ(json_array_size(log), 1);
    CHECK_EQ(s_count_id(log, "refused-0001", 200), 1);
    json_decref(log);
    s_env_end(&e);
}

static void test_slow_timeout(void) {
    s_env_t e;
    s_env(&e, "slow", "slow:4", 0);
    e.cfg.timeout_ms = 1000;
    gh_alerter_t *al = gh_alerter_new(&e.cfg, e.r);
    gh_alert_t a;
    s_alert(&a, "slow-0001", "tpl:6");
    CHECK_EQ(gh_alerter_submit(al, &a), GH_ALERT_OK);
    CHECK_EQ(gh_alerter_drain(al, 8000), 0);
    gh_alerter_destroy(&al);
    json_t *log = s_read_log(e.log);
    CHECK(json_array_size(log) >= 2);
    if (json_array_size(log) >= 2) {
        double g = s_t(log, 1) - s_t(log, 0);
        CHECK(g >= 0.9 && g < 3.5); /* timed out at 1 s, retried before the slow answer */
    }
    json_decref(log);
    s_env_end(&e);
}

static void test_rate_limit(void) {
    s_env_t e;
    s_env(&e, "rate", "ok", 0);
    e.cfg.rate_per_s = 2;
    e.cfg.burst = 2;
    gh_alerter_cfg_t c2 = e.cfg;
    c2.instance = "rate-b";
    char ru[64];
    snprintf(ru, sizeof ru, "127.0.0.1:%d", s_redis_port);
    gh_redis_t *r2 = gh_redis_new(ru, e.prefix);
    gh_alerter_t *al = gh_alerter_new(&e.cfg, e.r), *bl = gh_alerter_new(&c2, r2);
    char ids[24][24], key[24];
    gh_alert_t a;
    int64_t end = gh_mono_ms() + 15000;
    for (int i = 0; i < 24; i++) { /* two processes' worth, sharing one bucket */
        snprintf(ids[i], sizeof ids[i], "rate-%04d", i);
        snprintf(key, sizeof key, "tpl:r%d", i);
        s_alert(&a, ids[i], key);
        CHECK_EQ(gh_alerter_submit(i % 2 ? bl : al, &a), GH_ALERT_OK);
        gh_alerter_tick(al);
        gh_alerter_tick(bl);
        s_sleep_ms(100);
    }
    gh_alerter_stats_t sa, sb;
    do {
        gh_alerter_tick(al);
        gh_alerter_tick(bl);
        gh_alerter_stats(al, &sa);
        gh_alerter_stats(bl, &sb);
        s_sleep_ms(20);
    } while ((sa.queued || sb.queued) && gh_mono_ms() < end);
    CHECK_EQ(sa.queued + sb.queued, 0);
    CHECK(sa.digests + sb.digests >= 1);
    gh_alerter_destroy(&al);
    gh_alerter_destroy(&bl);
    gh_redis_destroy(&r2);
    json_t *log = s_read_log(e.log);
    size_t n = json_array_size(log);
    for (int i = 0; i < 24; i++) CHECK_EQ(s_count_id(log, ids[i], 200), 1);
    int over = 0;
    for (size_t i = 0; i < n; i++) /* never more than burst + rate * span */
        for (size_t j = i + 1; j < n; j++)
            /* 0.25 s of arrival-time jitter allowed (0.5 token at 2/s); one
             * message too many still shows as an excess of >= 1 */
            if ((double)(j - i + 1) > 2 + 2 * (s_t(log, j) - s_t(log, i) + 0.25)) {
                over++;
                fprintf(stderr, "rate: requests %zu..%zu within %.3f s\n", i, j, s_t(log, j) - s_t(log, i));
            }
    CHECK_EQ(over, 0);
    for (size_t i = 0; i < n; i++) {
        json_t *p = json_loads(s_body(log, i), 0, NULL);
        char why[128] = "";
        CHECK(p && gh_slack_check_limits(p, why, sizeof why) == 0);
        json_decref(p);
    }
    CHECK(n < 24); /* folded, not one message per alert */
    json_decref(log);
    s_env_end(&e);
}

static void test_kill9_restart(void) {
    s_env_t e;
    s_env(&e, "kill", "ok,slow:3", 0);
    e.cfg.timeout_ms = 5000;
    char ids[4][24], key[24];
    pid_t child = fork();
    if (child == 0) {
        char ru[64];
        snprintf(ru, sizeof ru, "127.0.0.1:%d", s_redis_port);
        gh_redis_t *r = gh_redis_new(ru, e.prefix);
        gh_alerter_t *al = gh_alerter_new(&e.cfg, r);
        gh_alert_t a;
        for (int i = 0; i < 4; i++) {
            snprintf(ids[i], sizeof ids[i], "kill-%04d", i);
            snprintf(key, sizeof key, "tpl:k%d", i);
            s_alert(&a, ids[i], key);
            gh_alerter_submit(al, &a);
        }
        for (;;) {
            gh_alerter_tick(al);
            s_sleep_ms(10);
        }
    }
    for (int i = 0; i < 4; i++) snprintf(ids[i], sizeof ids[i], "kill-%04d", i);
    int64_t end = gh_mono_ms() + 8000;
    json_t *log = NULL;
    do { /* kill while the second message is in flight */
        json_decref(log);
        s_sleep_ms(20);
        log = s_read_log(e.log);
    } while (json_array_size(log) < 2 && gh_mono_ms() < end);
    s_sleep_ms(200);
    kill(child, SIGKILL);
    waitpid(child, NULL, 0);
    json_decref(log);
    CHECK_EQ(s_redis_int("HLEN %s", e.outbox), 3);
    gh_alerter_t *al = gh_alerter_new(&e.cfg, e.r); /* the restart */
    CHECK_EQ(gh_alerter_drain(al, 15000), 0);
    gh_alerter_destroy(&al);
    CHECK_EQ(s_redis_int("HLEN %s", e.outbox), 0);
    log = s_read_log(e.log);
    CHECK_EQ(s_count_id(log, ids[0], 200), 1);
    CHECK(s_count_id(log, ids[1], 200) >= 1); /* in flight at the kill: at least once */
    CHECK_EQ(s_count_id(log, ids[2], 200), 1);
    CHECK_EQ(s_count_id(log, ids[3], 200), 1);
    json_decref(log);
    s_env_end(&e);
}

static void test_redis_down(void) {
    int saved = s_redis_port;
    int rport = s_free_port();
    s_redis_port = rport;
    s_env_t e;
    s_env(&e, "rdown", NULL, -1);
    gh_alerter_t *al = gh_alerter_new(&e.cfg, e.r);
    gh_alert_t a;
    s_alert(&a, "rdown-0001", "tpl:d1");
    CHECK_EQ(gh_alerter_submit(al, &a), GH_ALERT_OK);
    s_alert(&a, "rdown-0002", "tpl:d2");
    CHECK_EQ(gh_alerter_submit(al, &a), GH_ALERT_OK);
    CHECK_EQ(gh_alerter_submit(al, &a), GH_ALERT_DROP); /* local dedup while Redis is down */
    pid_t rp = s_start_redis(rport);
    s_tick_for(al, 1500);
    CHECK_EQ(s_redis_int("HLEN %s", e.outbox), 2); /* written back */
    e.recv = s_start_receiver("ok", &e.port, e.log);
    CHECK_EQ(gh_alerter_drain(al, 10000), 0);
    gh_alerter_destroy(&al);
    CHECK_EQ(s_redis_int("HLEN %s", e.outbox), 0);
    json_t *log = s_read_log(e.log);
    CHECK_EQ(s_count_id(log, "rdown-0001", 200), 1);
    CHECK_EQ(s_count_id(log, "rdown-0002", 200), 1);
    json_decref(log);
    s_env_end(&e);
    s_stop(&rp);
    s_redis_port = saved;
}

static void test_silence_and_group(void) {
    s_env_t e;
    s_env(&e, "sil", "ok", 0);
    e.cfg.group_window_s = 1;
    redisReply *r = s_redis("SET ghost:sil:silence:abc %s EX 60", "{\"pattern\":\"quiet:*\",\"comment\":\"t\"}");
    if (r) freeReplyObject(r);
    gh_alerter_t *al = gh_alerter_new(&e.cfg, e.r);
    gh_alert_t a;
    s_alert(&a, "sil-0001", "quiet:1");
    CHECK_EQ(gh_alerter_submit(al, &a), GH_ALERT_DROP);
    s_alert(&a, "grp-0001", "tpl:g");
    CHECK_EQ(gh_alerter_submit(al, &a), GH_ALERT_OK);
    s_alert(&a, "grp-0002", "tpl:g");
    CHECK_EQ(gh_alerter_submit(al, &a), GH_ALERT_OK);
    s_alert(&a, "grp-0003", "tpl:g");
    CHECK_EQ(gh_alerter_submit(al, &a), GH_ALERT_OK);
    CHECK_EQ(gh_alerter_drain(al, 5000), 0);
    gh_alerter_destroy(&al);
    json_t *log = s_read_log(e.log);
    CHECK_EQ(json_array_size(log), 1); /* three alerts, one message */
    CHECK_EQ(s_count_id(log, "grp-0001", 200) + s_count_id(log, "grp-0002", 200) + s_count_id(log, "grp-0003", 200), 3);
    CHECK_EQ(s_count_id(log, "sil-0001", 0), 0);
    json_decref(log);
    json_t *lines = s_read_log(e.sink);
    CHECK_EQ(json_array_size(lines), 4);
    CHECK(json_is_true(json_object_get(json_array_get(lines, 0), "silenced")));
    json_decref(lines);
    s_env_end(&e);
}

/* The generic webhook: same retry contract (500 then ok), payload
 * {"source","status","key","uids","alerts"}, any 2xx is success. */
static void test_generic(void) {
    s_env_t e;
    s_env(&e, "generic", "500,ok", 0);
    char url[256];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/hook/" SECRET, e.port);
    e.cfg.webhook_url = NULL;
    e.cfg.generic_webhook_url = url;
    gh_alerter_t *al = gh_alerter_new(&e.cfg, e.r);
    gh_alert_t a;
    s_alert(&a, "gen-0001", "tpl:g1");
    CHECK_EQ(gh_alerter_submit(al, &a), GH_ALERT_OK);
    CHECK_EQ(s_redis_int("HLEN %s", "ghost:generic:alert:outbox:generic:generic"), 1);
    CHECK_EQ(gh_alerter_drain(al, 8000), 0);
    gh_alerter_stats_t st;
    gh_alerter_stats(al, &st);
    CHECK_EQ(st.retries, 1);
    gh_alerter_destroy(&al);
    json_t *log = s_read_log(e.log);
    CHECK_EQ(json_array_size(log), 2);
    json_t *p = json_loads(s_body(log, json_array_size(log) - 1), 0, NULL);
    CHECK_STR(json_string_value(json_object_get(p, "source")), "ghost");
    CHECK_STR(json_string_value(json_object_get(p, "status")), "firing");
    CHECK_STR(json_string_value(json_object_get(p, "key")), "tpl:g1");
    CHECK_STR(json_string_value(json_array_get(json_object_get(p, "uids"), 0)), "gen-0001");
    CHECK_STR(json_string_value(json_object_get(json_array_get(json_object_get(p, "alerts"), 0), "id")), "gen-0001");
    json_decref(p);
    json_decref(log);
    CHECK_EQ(s_redis_int("HLEN %s", "ghost:generic:alert:outbox:generic:generic"), 0);
    s_env_end(&e);
}

/* Slack answering 200 with something other than "ok": not success, not
 * retried (it may have been posted), dead letter with the answer. */
static void test_2xx_not_ok(void) {
    s_env_t e;
    s_env(&e, "notok", "2xx:accepted", 0);
    gh_alerter_t *al = gh_alerter_new(&e.cfg, e.r);
    gh_alert_t a;
    s_alert(&a, "notok-0001", "tpl:n1");
    CHECK_EQ(gh_alerter_submit(al, &a), GH_ALERT_OK);
    CHECK_EQ(gh_alerter_drain(al, 3000), 0);
    s_tick_for(al, 800);
    gh_alerter_stats_t st;
    gh_alerter_stats(al, &st);
    CHECK_EQ(st.dead_letters, 1);
    CHECK_EQ(st.msgs_sent, 0);
    gh_alerter_destroy(&al);
    json_t *log = s_read_log(e.log);
    CHECK_EQ(json_array_size(log), 1);
    json_decref(log);
    redisReply *r = s_redis("LINDEX %s 0", "ghost:notok:alert:dead");
    json_t *d = r && r->type == REDIS_REPLY_STRING ? json_loads(r->str, 0, NULL) : NULL;
    CHECK_STR(json_string_value(json_object_get(d, "reason")), "200 answer without \"ok\": accepted");
    json_decref(d);
    if (r) freeReplyObject(r);
    s_env_end(&e);
}

/* An instance dies for good with alerts in its outbox (the webhook was
 * down); another instance takes the outbox over once the lease expired and
 * delivers every alert exactly once; while the lease lives it does not. */
static void test_takeover(void) {
    s_env_t e;
    s_env(&e, "take", NULL, -1); /* instance "take": webhook refused */
    e.cfg.lease_ttl_s = 2;
    gh_alerter_t *a1 = gh_alerter_new(&e.cfg, e.r);
    gh_alert_t a;
    char id[32], key[32];
    for (int i = 0; i < 5; i++) {
        snprintf(id, sizeof id, "take-%04d", i);
        snprintf(key, sizeof key, "tpl:t%d", i);
        s_alert(&a, id, key);
        CHECK_EQ(gh_alerter_submit(a1, &a), GH_ALERT_OK);
    }
    s_tick_for(a1, 300);
    gh_alerter_destroy(&a1); /* gone, never restarted */
    CHECK_EQ(s_redis_int("HLEN %s", e.outbox), 5);
    e.recv = s_start_receiver("ok", &e.port, e.log);
    char url[256];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/services/T0GHOST/B0GHOST/" SECRET, e.port);
    gh_alerter_cfg_t c2 = e.cfg;
    c2.instance = "take-b";
    c2.webhook_url = url;
    gh_alerter_t *b = gh_alerter_new(&c2, e.r);
    s_tick_for(b, 500);
    gh_alerter_stats_t st;
    gh_alerter_stats(b, &st);
    CHECK_EQ(st.taken_over, 0); /* the lease still lives */
    s_tick_for(b, 3000);
    gh_alerter_stats(b, &st);
    CHECK_EQ(st.taken_over, 5);
    CHECK_EQ(gh_alerter_drain(b, 5000), 0);
    gh_alerter_destroy(&b);
    CHECK_EQ(s_redis_int("EXISTS %s", e.outbox), 0);
    CHECK_EQ(s_redis_int("HLEN %s", "ghost:take:alert:outbox:take-b:slack"), 0);
    json_t *log = s_read_log(e.log);
    for (int i = 0; i < 5; i++) {
        snprintf(id, sizeof id, "take-%04d", i);
        CHECK_EQ(s_count_id(log, id, 200), 1);
    }
    json_decref(log);
    s_env_end(&e);
}

/* Flap damping and resolve messages: a key that fires, resolves and fires
 * again gets one message per incident until it is flapping (3 firings in
 * the flap window); then its alerts are held for the repeat interval and
 * summarised in one message.  Every uid is delivered exactly once. */
static void test_flap(void) {
    s_env_t e;
    s_env(&e, "flap", "ok", 0);
    e.cfg.group_window_s = 0;
    e.cfg.repeat_interval_s = 3;
    gh_alerter_t *al = gh_alerter_new(&e.cfg, e.r);
    gh_alert_t a;
    int64_t t0 = gh_wall_ms() - 3600000;
    char id[32];
    const char *uids[12];
    char ubuf[12][48];
    int nu = 0;
    for (int i = 0; i < 5; i++) {
        snprintf(id, sizeof id, "flap-%04d", i);
        for (int r = 0; r < 2; r++) {
            s_alert(&a, id, "tpl:flappy");
            a.start_ms = t0 + i * 120000LL;
            a.end_ms = a.start_ms + 60000;
            a.state = gh_cstr(r ? "resolved" : "firing");
            CHECK_EQ(gh_alerter_submit(al, &a), GH_ALERT_OK);
            snprintf(ubuf[nu], sizeof ubuf[nu], r ? "%s/resolved" : "%s", id);
            uids[nu] = ubuf[nu];
            nu++;
            s_tick_for(al, 300); /* not flapping yet: sent at once */
        }
    }
    json_t *log = s_read_log(e.log);
    /* incidents 0 and 1 (4 messages); from the third firing on: held */
    CHECK_EQ(json_array_size(log), 4);
    if (json_array_size(log) >= 2) CHECK(strstr(s_body(log, 1), "Resolves alert `flap-0000`") != NULL);
    json_decref(log);
    s_tick_for(al, 2500);
    gh_alerter_stats_t st;
    gh_alerter_stats(al, &st);
    CHECK_EQ(st.flap_held, 1);
    CHECK_EQ(gh_alerter_drain(al, 5000), 0);
    gh_alerter_destroy(&al);
    log = s_read_log(e.log);
    CHECK_EQ(json_array_size(log), 5);
    if (json_array_size(log) == 5) CHECK(strstr(s_body(log, 4), "Flapping") != NULL);
    for (int i = 0; i < nu; i++) CHECK_EQ(s_count_id(log, uids[i], 200), 1);
    json_decref(log);
    s_env_end(&e);
}

int main(void) {
    if (system("command -v redis-server >/dev/null && command -v python3 >/dev/null") != 0) {
        printf("redis-server or python3 missing\n");
        return TEST_SKIP;
    }
    snprintf(s_src, sizeof s_src, "%s", getenv("GHOST_SRC") ? getenv("GHOST_SRC") : ".");
    snprintf(s_dir, sizeof s_dir, "/tmp/ghost-slack.XXXXXX");
    if (!mkdtemp(s_dir)) return 1;
    signal(SIGPIPE, SIG_IGN);
    srand((unsigned)getpid());
    /* capture stderr to check the secret never appears in it */
    char errpath[128];
    snprintf(errpath, sizeof errpath, "%s/stderr.log", s_dir);
    int saved_err = dup(2), fd = open(errpath, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    dup2(fd, 2);
    close(fd);
    gh_log_init("test_slack", "debug");
    s_redis_pid = s_start_redis(s_free_port());
    struct { const char *name; void (*fn)(void); } tests[] = {
        { "ok_and_dedup", test_ok_and_dedup }, { "429", test_429 }, { "500_backoff", test_500_backoff },
        { "invalid_payload", test_invalid_payload }, { "refused_then_up", test_refused_then_up },
        { "slow_timeout", test_slow_timeout }, { "rate_limit", test_rate_limit },
        { "kill9_restart", test_kill9_restart }, { "redis_down", test_redis_down },
        { "silence_and_group", test_silence_and_group }, { "generic", test_generic },
        { "2xx_not_ok", test_2xx_not_ok }, { "takeover", test_takeover }, { "flap", test_flap },
    };
    for (size_t i = 0; i < sizeof tests / sizeof tests[0]; i++) {
        int before = check_failed;
        int64_t t0 = gh_mono_ms();
        tests[i].fn();
        dprintf(saved_err, "%s %-20s %5.1fs\n", check_failed == before ? "ok  " : "FAIL", tests[i].name,
                (double)(gh_mono_ms() - t0) / 1000.0);
    }
    s_stop(&s_redis_pid);
    fflush(stderr);
    dup2(saved_err, 2);
    /* the secret must not be in anything the alerters logged */
    FILE *f = fopen(errpath, "r");
    char line[4096];
    int leaks = 0, lines = 0;
    while (f && fgets(line, sizeof line, f)) {
        lines++;
        if (strstr(line, SECRET) || strstr(line, "T0GHOST")) leaks++;
        fputs(line, stderr);
    }
    if (f) fclose(f);
    CHECK(lines > 0); /* the alerters did log (retries, dead letters) */
    CHECK_EQ(leaks, 0);
    char cmd[200];
    snprintf(cmd, sizeof cmd, "rm -rf %s", s_dir);
    if (!check_failed && system(cmd) != 0) fprintf(stderr, "could not remove %s\n", s_dir);
    TEST_MAIN_END();
}
