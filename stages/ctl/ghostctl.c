/* ghostctl -- the operator's command line.
 *
 *   ghostctl status [--json]        every registered stage process, probed in parallel; exit 1 when any is down
 *   ghostctl top                    the same table, refreshed every second (q or Ctrl-C quits)
 *   ghostctl keygen DIR [NAME]      a CURVE keypair: DIR/NAME.key (secret, 0600) and DIR/NAME.pub
 *   ghostctl clear-cache [PATTERN]  delete ghost keys by pattern (SCAN, never KEYS), in batches
 *   ghostctl silence add|list|rm    silences honoured by every ghost-alert process
 *   ghostctl dead list|replay       alerts Slack refused for good
 *
 * Redis is found through --redis / GHOST_REDIS (the same URL the stages use).
 * Health is decided in ctl/health.c.
 */
#include "alert/ctl.h"
#include "clock.h"
#include "ctl/health.h"
#include "curve.h"
#include "log.h"
#include "opt.h"
#include "redis.h"
#include <curl/curl.h>
#include <jansson.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

static char *s_redis, *s_prefix, *s_cache;
static int s_json;
static long s_stale_s, s_timeout_ms, s_sample_ms, s_interval_ms, s_count;

static const gh_opt_t s_opts[] = {
    { "redis", GH_OPT_STR, &s_redis, "redis://127.0.0.1:6379", "Redis URL the stages use" },
    { "prefix", GH_OPT_STR, &s_prefix, "ghost:", "Redis key prefix" },
    { "json", GH_OPT_BOOL, &s_json, "0", "status as JSON" },
    { "stale-s", GH_OPT_INT, &s_stale_s, "0",
      "a heartbeat older than this is late (0: 3 x the process's heartbeat interval)" },
    { "timeout-ms", GH_OPT_INT, &s_timeout_ms, "1000", "per-process /metrics probe timeout" },
    { "sample-ms", GH_OPT_INT, &s_sample_ms, "1000", "status: scrape twice this far apart for in/s and out/s (0: once)" },
    { "interval-ms", GH_OPT_INT, &s_interval_ms, "1000", "top: refresh interval" },
    { "count", GH_OPT_INT, &s_count, "0", "top: stop after this many refreshes (0: until q or Ctrl-C)" },
    { "cache", GH_OPT_STR, &s_cache, "",
      "last known registry, used while Redis is unreachable (default: /tmp/ghostctl-UID-HASH.json; 'off': none)" },
    { NULL, 0, NULL, NULL, NULL },
};

static const char *s_synopsis =
    "[OPTIONS] COMMAND\n\nCommands:\n"
    "  status [--json]              every registered process, probed in parallel: stage, host, pid, up, in/s,\n"
    "                               out/s, drops, p99 latency, RSS, state (ok/degraded/down); exit 1 when any is down\n"
    "  top                          the status table, refreshed live (q or Ctrl-C quits)\n"
    "  keygen DIR [NAME]            CURVE keypair DIR/NAME.key (secret, 0600) + DIR/NAME.pub (default NAME: ghost)\n"
    "  clear-cache [PATTERN...]     delete ghost keys matching PATTERN (default: dedup and template caches)\n"
    "  silence add PATTERN --for 2h --comment TEXT | silence list | silence rm ID\n"
    "  dead list | dead replay [ID|all]";

static volatile sig_atomic_t s_quit;
static void on_signal(int sig) {
    (void)sig;
    s_quit = 1;
}

/* The default cache file: one per user and registry (URL + prefix). */
static void s_default_cache(char *buf, size_t len) {
    unsigned long h = 5381;
    for (const char *c = s_redis; *c; c++) h = h * 33 + (unsigned char)*c;
    for (const char *c = s_prefix; *c; c++) h = h * 33 + (unsigned char)*c;
    const char *dir = getenv("TMPDIR");
    snprintf(buf, len, "%s/ghostctl-%d-%08lx.json", dir && *dir ? dir : "/tmp", (int)getuid(), h & 0xffffffffUL);
}

/* One round: registry (or cache), probes, judgement.  prev: the last round
 * (rates), or NULL to scrape twice sample_ms apart.  Returns the number of
 * processes down, or -1 when there is nothing to look at. */
static int s_round(gh_redis_t *r, const char *cache, gh_health_t *h, const gh_health_t *prev) {
    if (gh_health_collect(h, r, cache) < 0) return -1;
    if (!prev && s_sample_ms > 0) {
        gh_health_t first;
        gh_health_probe(h, NULL, s_timeout_ms);
        first = *h;
        first.p = malloc(h->n * sizeof *h->p + 1);
        if (first.p) memcpy(first.p, h->p, h->n * sizeof *h->p);
        usleep((useconds_t)s_sample_ms * 1000);
        gh_health_probe(h, first.p ? &first : NULL, s_timeout_ms);
        free(first.p);
    } else {
        gh_health_probe(h, prev, s_timeout_ms);
    }
    return gh_health_judge(h, s_stale_s);
}

static int s_status(gh_redis_t *r, const char *cache) {
    gh_health_t h;
    int down = s_round(r, cache, &h, NULL);
    if (down < 0) return 2;
    if (s_json) {
        json_t *j = gh_health_json(&h);
        json_dumpf(j, stdout, JSON_INDENT(1));
        putchar('\n');
        json_decref(j);
    } else {
        gh_health_print(&h, stdout);
    }
    gh_health_free(&h);
    return down ? 1 : 0;
}

/* A live view: clears the screen and redraws every interval until q, Ctrl-C
 * or --count refreshes.  The terminal is put in non-canonical mode so q
 * works without Enter, and restored on the way out. */
static int s_top(gh_redis_t *r, const char *cache) {
    struct termios saved, raw;
    int tty = isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &saved) == 0;
    if (tty) {
        raw = saved;
        raw.c_lflag &= ~(tcflag_t)(ICANON | ECHO);
        raw.c_cc[VMIN] = 0;
        raw.c_cc[VTIME] = 0;
        tcsetattr(STDIN_FILENO, TCSANOW, &raw);
    }
    gh_health_t prev = { 0 }, cur;
    int rc = 0;
    for (long n = 0; !s_quit && (!s_count || n < s_count); n++) {
        int down = s_round(r, cache, &cur, n ? &prev : NULL);
        char ts[32];
        gh_rfc3339_ms(gh_wall_ms(), ts, sizeof ts);
        printf("\033[H\033[2J"); /* home + clear */
        printf("ghost top  %s  every %ldms  (q quits)\n\n", ts, s_interval_ms);
        if (down < 0) printf("(no registry: redis unreachable and no cache)\n");
        else gh_health_print(&cur, stdout);
        fflush(stdout);
        rc = down > 0 ? 1 : 0;
        gh_health_free(&prev);
        if (down >= 0) prev = cur;
        if (s_count && n + 1 >= s_count) break;
        int64_t until = gh_mono_ms() + s_interval_ms;
        while (!s_quit && gh_mono_ms() < until) {
            struct pollfd pfd = { STDIN_FILENO, POLLIN, 0 };
            int wait = (int)(until - gh_mono_ms());
            if (poll(&pfd, tty ? 1 : 0, wait > 0 ? wait : 0) > 0) {
                char ch;
                if (read(STDIN_FILENO, &ch, 1) == 1 && (ch == 'q' || ch == 'Q')) s_quit = 1;
            }
        }
    }
    gh_health_free(&prev);
    if (tty) tcsetattr(STDIN_FILENO, TCSANOW, &saved);
    return rc;
}

static int s_keygen(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: ghostctl keygen DIR [NAME]\n");
        return 2;
    }
    const char *name = argc > 2 ? argv[2] : "ghost";
    char err[512];
    if (gh_curve_keygen(argv[1], name, err, sizeof err) < 0) {
        fprintf(stderr, "ghostctl: %s\n", err);
        return 1;
    }
    printf("%s/%s.key  secret + public key (mode 0600): --curve-secret on this process\n"
           "%s/%s.pub  public key: --curve-server-key on its clients, or into a server's --curve-allow DIR\n",
           argv[1], name, argv[1], name);
    return 0;
}

/* Deletes keys matching each pattern (within ghost's prefix) with SCAN + UNLINK in batches. */
static int s_clear_cache(gh_redis_t *r, int n, char **pats) {
    static const char *defaults[] = { "dedup:*", "raw:*" };
    redisContext *c = gh_redis_ctx(r);
    if (!c) {
        fprintf(stderr, "ghostctl: redis unreachable at %s\n", s_redis);
        return 2;
    }
    if (!n) {
        n = 2;
        pats = (char **)defaults;
    }
    const char *prefix = gh_redis_prefix(r);
    for (int p = 0; p < n; p++) {
        char pattern[512];
        /* a pattern is always confined to ghost's namespace: the prefix is added unless it is there */
        if (!strncmp(pats[p], prefix, strlen(prefix))) snprintf(pattern, sizeof pattern, "%s", pats[p]);
        else snprintf(pattern, sizeof pattern, "%s%s", prefix, pats[p]);
        unsigned long long removed = 0;
        char cursor[32] = "0";
        do {
            redisReply *rep = redisCommand(c, "SCAN %s MATCH %s COUNT 1000", cursor, pattern);
            if (!rep || rep->type != REDIS_REPLY_ARRAY || rep->elements != 2) {
                if (rep) freeReplyObject(rep);
                fprintf(stderr, "ghostctl: SCAN failed\n");
                return 2;
            }
            snprintf(cursor, sizeof cursor, "%s", rep->element[0]->str);
            redisReply *keys = rep->element[1];
            if (keys->elements) {
                const char **argv = malloc((keys->elements + 1) * sizeof *argv);
                size_t *lens = malloc((keys->elements + 1) * sizeof *lens);
                argv[0] = "UNLINK";
                lens[0] = 6;
                for (size_t i = 0; i < keys->elements; i++) {
                    argv[i + 1] = keys->element[i]->str;
                    lens[i + 1] = keys->element[i]->len;
                }
                redisReply *d = redisCommandArgv(c, (int)keys->elements + 1, argv, lens);
                if (d && d->type == REDIS_REPLY_INTEGER) removed += (unsigned long long)d->integer;
                if (d) freeReplyObject(d);
                free(argv);
                free(lens);
            }
            freeReplyObject(rep);
        } while (strcmp(cursor, "0"));
        printf("%-40s %llu keys removed\n", pattern, removed);
    }
    return 0;
}

/* Index of the command word: options before it are ghostctl's own, what
 * follows belongs to the command (silence add ... --for 2h). */
static int s_command_index(int argc, char **argv) {
    for (int i = 1; i < argc; i++) {
        if (strncmp(argv[i], "--", 2) || !argv[i][2]) return i;
        if (strchr(argv[i], '=')) continue;
        for (const gh_opt_t *o = s_opts; o->name; o++)
            if (!strcmp(argv[i] + 2, o->name) && o->type != GH_OPT_BOOL) i++;
    }
    return argc;
}

int main(int argc, char **argv) {
    int k = s_command_index(argc, argv), nargs = 0;
    int sub_argc = argc - k;
    char **sub = argv + k;
    const char *cmd = sub_argc ? sub[0] : "";
    /* status, top and keygen take ghostctl's own options after the command
     * word too (status --json, top --count 3): parse both parts as one line */
    int own = !strcmp(cmd, "status") || !strcmp(cmd, "top") || !strcmp(cmd, "keygen");
    char **all = calloc((size_t)argc + 1, sizeof *all);
    if (!all) return 2;
    int nall = 0;
    for (int i = 0; i < k; i++) all[nall++] = argv[i];
    for (int i = 1; own && i < sub_argc; i++) all[nall++] = sub[i];
    int rc = gh_opt_parse(s_opts, "ghostctl", s_synopsis, nall, all, &nargs);
    if (rc) {
        free(all);
        return rc == 1 ? 0 : 2;
    }
    if (!sub_argc) {
        free(all);
        gh_opt_usage(s_opts, "ghostctl", s_synopsis);
        return 2;
    }
    if (own) { /* the command's positional arguments (keygen DIR NAME) */
        sub_argc = 1 + nargs;
        for (int i = 0; i < nargs; i++) sub[1 + i] = all[1 + i];
    }
    free(all);
    if (!strcmp(cmd, "keygen")) return s_keygen(sub_argc, sub);
    char cache[4096] = "";
    if (!*s_cache) s_default_cache(cache, sizeof cache);
    else if (strcmp(s_cache, "off")) snprintf(cache, sizeof cache, "%s", s_cache);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    curl_global_init(CURL_GLOBAL_DEFAULT);
    gh_log_init("ghostctl", "error"); /* an unreachable Redis is reported in the output, not as a log line */
    gh_redis_t *r = gh_redis_new(s_redis, s_prefix);
    if (!strcmp(cmd, "status")) rc = s_status(r, cache);
    else if (!strcmp(cmd, "top")) rc = s_top(r, cache);
    else if (!strcmp(cmd, "clear-cache")) rc = s_clear_cache(r, sub_argc - 1, sub + 1);
    else if (!strcmp(cmd, "silence") || !strcmp(cmd, "dead")) rc = gh_alert_ctl(sub_argc, sub, r);
    else {
        fprintf(stderr, "ghostctl: unknown command '%s' (see --help)\n", cmd);
        rc = 2;
    }
    gh_redis_destroy(&r);
    curl_global_cleanup();
    return rc;
}
