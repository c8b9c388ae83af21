/* ctl.c -- ghostctl silence/dead commands, see ctl.h. */
#include "alert/ctl.h"
#include "alert/alert_json.h"
#include "clock.h"
#include "hash.h"
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

long gh_alert_parse_duration(const char *s) {
    if (!s || !*s) return -1;
    long total = 0;
    while (*s) {
        char *end;
        long v = strtol(s, &end, 10);
        if (end == s || v < 0) return -1;
        long mul = 1;
        switch (*end) {
        case 's': mul = 1; end++; break;
        case 'm': mul = 60; end++; break;
        case 'h': mul = 3600; end++; break;
        case 'd': mul = 86400; end++; break;
        case 0: break;
        default: return -1;
        }
        total += v * mul;
        s = end;
    }
    return total > 0 ? total : -1;
}

static redisContext *s_ctx(gh_redis_t *r) {
    redisContext *c = gh_redis_ctx(r);
    if (!c) fprintf(stderr, "ghostctl: redis is unreachable\n");
    return c;
}

static void s_fmt_time(int64_t ms, char *buf, size_t len) {
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(buf, len, "%Y-%m-%d %H:%M:%SZ", &tm);
}

static int s_silence(int argc, char **argv, gh_redis_t *r) {
    const char *sub = argc > 1 ? argv[1] : "";
    char key[256];
    if (!strcmp(sub, "add")) {
        const char *pattern = NULL, *comment = "", *dur = NULL;
        for (int i = 2; i < argc; i++) {
            if (!strcmp(argv[i], "--for") && i + 1 < argc) dur = argv[++i];
            else if (!strcmp(argv[i], "--comment") && i + 1 < argc) comment = argv[++i];
            else if (!pattern) pattern = argv[i];
            else return fprintf(stderr, "ghostctl: unexpected argument '%s'\n", argv[i]), 2;
        }
        long secs = gh_alert_parse_duration(dur ? dur : "2h");
        if (!pattern || secs < 0)
            return fprintf(stderr, "usage: ghostctl silence add PATTERN --for 2h [--comment TEXT]\n"), 2;
        redisContext *c = s_ctx(r);
        if (!c) return 1;
        int64_t now = gh_wall_ms();
        char id[20];
        snprintf(id, sizeof id, "%08llx",
                 (unsigned long long)(gh_hash(pattern, strlen(pattern), (uint64_t)gh_wall_ns() ^ (uint64_t)getpid()) &
                                      0xffffffffULL));
        json_t *v = json_pack("{s:s, s:s, s:s, s:I, s:I}", "id", id, "pattern", pattern, "comment", comment,
                              "created", (json_int_t)now, "expires", (json_int_t)(now + secs * 1000));
        char *txt = v ? json_dumps(v, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
        json_decref(v);
        if (!txt) return 1;
        gh_redis_key(r, key, sizeof key, "silence:%s", id);
        redisReply *rep = redisCommand(c, "SET %s %s EX %ld", key, txt, secs);
        free(txt);
        int ok = rep && rep->type != REDIS_REPLY_ERROR;
        if (rep) freeReplyObject(rep);
        if (!ok) return fprintf(stderr, "ghostctl: could not store the silence\n"), 1;
        printf("%s\n", id);
        return 0;
    }
    if (!strcmp(sub, "list")) {
        redisContext *c = s_ctx(r);
        if (!c) return 1;
        char pat[256], cursor[32] = "0";
        gh_redis_key(r, pat, sizeof pat, "silence:*");
        printf("%-10s %-30s %-21s %s\n", "ID", "PATTERN", "EXPIRES", "COMMENT");
        do {
            redisReply *rep = redisCommand(c, "SCAN %s MATCH %s COUNT 200", cursor, pat);
            if (!rep || rep->type != REDIS_REPLY_ARRAY || rep->elements != 2) {
                if (rep) freeReplyObject(rep);
                return 1;
            }
            snprintf(cursor, sizeof cursor, "%s", rep->element[0]->str);
            for (size_t i = 0; i < rep->element[1]->elements; i++) {
                redisReply *g = redisCommand(c, "GET %s", rep->element[1]->element[i]->str);
                json_t *v = g && g->type == REDIS_REPLY_STRING ? json_loads(g->str, 0, NULL) : NULL;
                if (v) {
                    char exp[32];
                    s_fmt_time(json_integer_value(json_object_get(v, "expires")), exp, sizeof exp);
                    printf("%-10s %-30s %-21s %s\n", json_string_value(json_object_get(v, "id")),
                           json_string_value(json_object_get(v, "pattern")), exp,
                           json_string_value(json_object_get(v, "comment")));
                }
                json_decref(v);
                if (g) freeReplyObject(g);
            }
            freeReplyObject(rep);
        } while (strcmp(cursor, "0"));
        return 0;
    }
    if (!strcmp(sub, "rm") && argc == 3) {
        redisContext *c = s_ctx(r);
        if (!c) return 1;
        gh_redis_key(r, key, sizeof key, "silence:%s", argv[2]);
        redisReply *rep = redisCommand(c, "DEL %s", key);
        long long n = rep && rep->type == REDIS_REPLY_INTEGER ? rep->integer : 0;
        if (rep) freeReplyObject(rep);
        if (!n) return fprintf(stderr, "ghostctl: no silence %s\n", argv[2]), 1;
        printf("removed %s\n", argv[2]);
        return 0;
    }
    fprintf(stderr, "usage: ghostctl silence add PATTERN --for 2h [--comment TEXT] | list | rm ID\n");
    return 2;
}

static int s_dead(int argc, char **argv, gh_redis_t *r) {
    const char *sub = argc > 1 ? argv[1] : "";
    int list = !strcmp(sub, "list"), replay = !strcmp(sub, "replay") && argc == 3;
    if (!list && !replay) {
        fprintf(stderr, "usage: ghostctl dead list | dead replay ID|all\n");
        return 2;
    }
    redisContext *c = s_ctx(r);
    if (!c) return 1;
    char key[256], rkey[256];
    gh_redis_key(r, key, sizeof key, "alert:dead");
    redisReply *rep = redisCommand(c, "LRANGE %s 0 -1", key);
    if (!rep || rep->type != REDIS_REPLY_ARRAY) {
        if (rep) freeReplyObject(rep);
        return 1;
    }
    if (list) printf("%-16s %-8s %-6s %-21s %-24s %s\n", "ID", "SINK", "HTTP", "AT", "REASON", "ALERTS");
    int matched = 0;
    for (size_t i = 0; i < rep->elements; i++) {
        json_t *d = json_loads(rep->element[i]->str, 0, NULL);
        if (!d) continue;
        const char *did = json_string_value(json_object_get(d, "dead_id"));
        const char *sink = json_string_value(json_object_get(d, "sink"));
        json_t *alerts = json_object_get(d, "alerts");
        if (list) {
            char at[32];
            s_fmt_time(json_integer_value(json_object_get(d, "at")), at, sizeof at);
            printf("%-16s %-8s %-6lld %-21s %-24s", did ? did : "?", sink ? sink : "?",
                   (long long)json_integer_value(json_object_get(d, "status")), at,
                   json_string_value(json_object_get(d, "reason")));
            for (size_t k = 0; k < json_array_size(alerts); k++)
                printf("%s%s", k ? "," : " ", json_string_value(json_object_get(json_array_get(alerts, k), "id")));
            printf("\n");
        } else if (did && sink && (!strcmp(argv[2], "all") || !strcmp(argv[2], did))) {
            gh_redis_key(r, rkey, sizeof rkey, "alert:replay:%s", sink);
            for (size_t k = 0; k < json_array_size(alerts); k++) {
                char uid[192];
                json_t *e = json_pack("{s:I, s:s, s:O}", "enq", (json_int_t)gh_wall_ms(), "uid",
                                      gh_alert_uid(json_array_get(alerts, k), uid, sizeof uid), "alert",
                                      json_array_get(alerts, k));
                char *v = e ? json_dumps(e, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
                json_decref(e);
                if (!v) continue;
                redisReply *p = redisCommand(c, "LPUSH %s %s", rkey, v);
                if (p) freeReplyObject(p);
                free(v);
            }
            redisReply *p = redisCommand(c, "LREM %s 1 %s", key, rep->element[i]->str);
            if (p) freeReplyObject(p);
            printf("replaying %s (%zu alerts)\n", did, json_array_size(alerts));
            matched++;
        }
        json_decref(d);
    }
    freeReplyObject(rep);
    if (replay && !matched) {
        fprintf(stderr, "ghostctl: no dead letter %s\n", argv[2]);
        return strcmp(argv[2], "all") ? 1 : 0;
    }
    return 0;
}

int gh_alert_ctl(int argc, char **argv, gh_redis_t *r) {
    if (argc < 1) return 2;
    if (!strcmp(argv[0], "silence")) return s_silence(argc, argv, r);
    if (!strcmp(argv[0], "dead")) return s_dead(argc, argv, r);
    fprintf(stderr, "ghostctl: unknown command '%s'\n", argv[0]);
    return 2;
}
