/* ghostctl -- the operator's command line.
 *
 *   ghostctl status [--json]        every registered stage process, from the Redis registry
 *   ghostctl clear-cache [PATTERN]  delete ghost keys by pattern (SCAN, never KEYS), in batches
 *   ghostctl silence add|list|rm    silences honoured by every ghost-alert process
 *   ghostctl dead list|replay       alerts Slack refused for good
 *
 * Redis is found through --redis / GHOST_REDIS (the same URL the stages use).
 */
#include "alert/ctl.h"
#include "clock.h"
#include "opt.h"
#include "redis.h"
#include <jansson.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char *s_redis, *s_prefix;
static int s_json;
static long s_stale_s;

static const gh_opt_t s_opts[] = {
    { "redis", GH_OPT_STR, &s_redis, "redis://127.0.0.1:6379", "Redis URL the stages use" },
    { "prefix", GH_OPT_STR, &s_prefix, "ghost:", "Redis key prefix" },
    { "json", GH_OPT_BOOL, &s_json, "0", "status as JSON" },
    { "stale-s", GH_OPT_INT, &s_stale_s, "20", "a heartbeat older than this marks a process down" },
    { NULL, 0, NULL, NULL, NULL },
};

static const char *s_synopsis =
    "[OPTIONS] COMMAND\n\nCommands:\n"
    "  status                       one line per registered stage process; exit 1 when any is down\n"
    "  clear-cache [PATTERN...]     delete ghost keys matching PATTERN (default: dedup and template caches)\n"
    "  silence add PATTERN --for 2h --comment TEXT | silence list | silence rm ID\n"
    "  dead list | dead replay [ID|all]";

static const char *s_field(const redisReply *h, const char *name) {
    for (size_t i = 0; h && h->type == REDIS_REPLY_ARRAY && i + 1 < h->elements; i += 2)
        if (!strcmp(h->element[i]->str, name)) return h->element[i + 1]->str;
    return "";
}

/* Keeps one row per (host, worker id): a restarted worker replaces the entry
 * its dead predecessor left behind (which expires with its TTL). */
static void s_add_row(json_t *rows, json_t *row) {
    size_t i;
    json_t *old;
    json_array_foreach(rows, i, old) {
        if (strcmp(json_string_value(json_object_get(old, "host")), json_string_value(json_object_get(row, "host"))) ||
            strcmp(json_string_value(json_object_get(old, "id")), json_string_value(json_object_get(row, "id"))))
            continue;
        if (json_integer_value(json_object_get(row, "started")) > json_integer_value(json_object_get(old, "started")))
            json_array_set(rows, i, row);
        json_decref(row);
        return;
    }
    json_array_append_new(rows, row);
}

static int s_status(gh_redis_t *r) {
    redisContext *c = gh_redis_ctx(r);
    if (!c) {
        fprintf(stderr, "ghostctl: redis unreachable at %s\n", s_redis);
        return 2;
    }
    char pattern[256];
    gh_redis_key(r, pattern, sizeof pattern, "session:*");
    json_t *rows = json_array();
    char cursor[32] = "0";
    do {
        redisReply *rep = redisCommand(c, "SCAN %s MATCH %s COUNT 500", cursor, pattern);
        if (!rep || rep->type != REDIS_REPLY_ARRAY || rep->elements != 2) {
            fprintf(stderr, "ghostctl: SCAN failed\n");
            if (rep) freeReplyObject(rep);
            json_decref(rows);
            return 2;
        }
        snprintf(cursor, sizeof cursor, "%s", rep->element[0]->str);
        for (size_t i = 0; i < rep->element[1]->elements; i++) {
            redisReply *h = redisCommand(c, "HGETALL %s", rep->element[1]->element[i]->str);
            if (!h) continue;
            int64_t now = gh_wall_ms(), hb = atoll(s_field(h, "heartbeat")), started = atoll(s_field(h, "started"));
            double age = (double)(now - hb) / 1000.0;
            json_t *row = json_pack("{s:s, s:s, s:s, s:i, s:s, s:f, s:f, s:I, s:I, s:I, s:s, s:s}", "stage",
                                    s_field(h, "stage"), "id", s_field(h, "id"), "host", s_field(h, "host"), "pid",
                                    atoi(s_field(h, "pid")), "endpoint", s_field(h, "endpoint"), "up_s",
                                    (double)(now - started) / 1000.0, "heartbeat_age_s", age, "in",
                                    (json_int_t)atoll(s_field(h, "in")), "out", (json_int_t)atoll(s_field(h, "out")),
                                    "decode_errors", (json_int_t)atoll(s_field(h, "decode_errors")), "drops",
                                    s_field(h, "drops"), "state", age > s_stale_s ? "down" : "ok");
            /* a process of this host that no longer exists is down at once */
            char me[256] = "";
            gethostname(me, sizeof me);
            int pid = atoi(s_field(h, "pid"));
            if (!strcmp(me, s_field(h, "host")) && pid > 0 && kill(pid, 0) < 0 && errno == ESRCH)
                json_object_set_new(row, "state", json_string("down"));
            json_object_set_new(row, "started", json_integer((json_int_t)started));
            s_add_row(rows, row);
            freeReplyObject(h);
        }
        freeReplyObject(rep);
    } while (strcmp(cursor, "0"));
    int down = 0;
    size_t i;
    json_t *row;
    json_array_foreach(rows, i, row) down += !strcmp(json_string_value(json_object_get(row, "state")), "down");
    if (s_json) {
        json_dumpf(rows, stdout, JSON_INDENT(1));
        putchar('\n');
    } else {
        printf("%-10s %-12s %-14s %-8s %8s %10s %10s %6s %-24s %s\n", "STAGE", "ID", "HOST", "PID", "UP", "IN", "OUT",
               "BAD", "DROPS", "STATE");
        json_array_foreach(rows, i, row) {
            printf("%-10s %-12s %-14.14s %-8lld %7.0fs %10lld %10lld %6lld %-24.24s %s\n",
                   json_string_value(json_object_get(row, "stage")), json_string_value(json_object_get(row, "id")),
                   json_string_value(json_object_get(row, "host")), json_integer_value(json_object_get(row, "pid")),
                   json_real_value(json_object_get(row, "up_s")), json_integer_value(json_object_get(row, "in")),
                   json_integer_value(json_object_get(row, "out")),
                   json_integer_value(json_object_get(row, "decode_errors")),
                   *json_string_value(json_object_get(row, "drops")) ? json_string_value(json_object_get(row, "drops")) : "-",
                   json_string_value(json_object_get(row, "state")));
        }
        if (!json_array_size(rows)) printf("(no stage registered under %s)\n", pattern);
    }
    json_decref(rows);
    return down ? 1 : 0;
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
    int rc = gh_opt_parse(s_opts, "ghostctl", s_synopsis, k, argv, &nargs);
    if (rc) return rc == 1 ? 0 : 2;
    if (!sub_argc) {
        gh_opt_usage(s_opts, "ghostctl", s_synopsis);
        return 2;
    }
    const char *cmd = sub[0];
    for (int i = 1; i < sub_argc; i++) /* status --json */
        if (!strcmp(cmd, "status") && !strcmp(sub[i], "--json")) s_json = 1;
    gh_redis_t *r = gh_redis_new(s_redis, s_prefix);
    if (!strcmp(cmd, "status")) rc = s_status(r);
    else if (!strcmp(cmd, "clear-cache")) rc = s_clear_cache(r, sub_argc - 1, sub + 1);
    else if (!strcmp(cmd, "silence") || !strcmp(cmd, "dead")) rc = gh_alert_ctl(sub_argc, sub, r);
    else {
        fprintf(stderr, "ghostctl: unknown command '%s' (see --help)\n", cmd);
        rc = 2;
    }
    gh_redis_destroy(&r);
    return rc;
}
