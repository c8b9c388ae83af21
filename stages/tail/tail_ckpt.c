/* tail_ckpt.c -- checkpoint store of ghost-tail, see tail_ckpt.h.
 *
 * Line format (also the Redis hash value, after the file_id field):
 *     <file_id hex> <dev> <ino> <fp hex> <fp_len> <start> <off> <path...>
 * The path is last so it may hold spaces; paths with a newline are not
 * followed (ghost-tail skips them).
 */
#include "tail/tail_ckpt.h"
#include "clock.h"
#include "log.h"
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int gh_ckpt_add(gh_ckpt_set_t *s, const gh_ckpt_entry_t *e) {
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 16;
        gh_ckpt_entry_t *v = realloc(s->v, cap * sizeof *v);
        if (!v) return -1;
        s->v = v;
        s->cap = cap;
    }
    s->v[s->n] = *e;
    if (!(s->v[s->n].path = strdup(e->path ? e->path : ""))) return -1;
    s->n++;
    return 0;
}

void gh_ckpt_clear(gh_ckpt_set_t *s) {
    for (size_t i = 0; i < s->n; i++) free(s->v[i].path);
    free(s->v);
    memset(s, 0, sizeof *s);
}

int gh_ckpt_format(const gh_ckpt_entry_t *e, char *buf, size_t len) {
    int n = snprintf(buf, len, "%016" PRIx64 " %" PRIu64 " %" PRIu64 " %016" PRIx64 " %" PRIu32 " %" PRIu64
                               " %" PRIu64 " %s",
                     e->file_id, e->dev, e->ino, e->fp, e->fp_len, e->start, e->off, e->path);
    return n < 0 || (size_t)n >= len ? -1 : 0;
}

int gh_ckpt_parse(const char *line, gh_ckpt_entry_t *e) {
    gh_ckpt_entry_t t = { 0 };
    int pos = 0;
    if (sscanf(line, "%" SCNx64 " %" SCNu64 " %" SCNu64 " %" SCNx64 " %" SCNu32 " %" SCNu64 " %" SCNu64 " %n",
               &t.file_id, &t.dev, &t.ino, &t.fp, &t.fp_len, &t.start, &t.off, &pos) != 7 || !pos || !line[pos])
        return -1;
    if (!t.file_id || t.off < t.start) return -1;
    size_t n = strcspn(line + pos, "\r\n");
    if (!(t.path = strndup(line + pos, n))) return -1;
    *e = t;
    return 0;
}

static void s_redis_key(gh_redis_t *r, const char *id, char *buf, size_t len) {
    gh_redis_key(r, buf, len, "tail:%s:files", id);
}

static int s_load_redis(gh_redis_t *r, const char *id, gh_ckpt_set_t *out) {
    redisContext *c = gh_redis_ctx(r);
    if (!c) return -1;
    char key[256];
    s_redis_key(r, id, key, sizeof key);
    redisReply *rep = redisCommand(c, "HGETALL %s", key);
    if (!rep) {
        gh_redis_failed(r);
        return -1;
    }
    int rc = rep->type == REDIS_REPLY_ARRAY ? 0 : -1;
    for (size_t i = 0; rc >= 0 && i + 1 < rep->elements; i += 2) {
        const char *f = rep->element[i]->str, *v = rep->element[i + 1]->str;
        if (!f || !v) continue;
        rc = 1;
        if (!strcmp(f, "_saved")) {
            out->saved_ns = strtoll(v, NULL, 10);
            continue;
        }
        char line[8192];
        gh_ckpt_entry_t e;
        snprintf(line, sizeof line, "%s %s", f, v);
        if (gh_ckpt_parse(line, &e) == 0) {
            if (gh_ckpt_add(out, &e) < 0) rc = -1;
            free(e.path);
        }
    }
    freeReplyObject(rep);
    return rc;
}

static void s_file_path(const char *dir, const char *id, char *buf, size_t len, int tmp) {
    snprintf(buf, len, "%s/tail-%s.ckpt%s", dir, id, tmp ? ".tmp" : "");
}

static int s_load_file(const char *dir, const char *id, gh_ckpt_set_t *out) {
    char path[4096], line[8192];
    s_file_path(dir, id, path, sizeof path, 0);
    FILE *f = fopen(path, "r");
    if (!f) return errno == ENOENT ? 0 : -1;
    int rc = 1;
    while (fgets(line, sizeof line, f)) {
        long long saved;
        if (sscanf(line, "# ghost-tail checkpoint saved %lld", &saved) == 1) {
            out->saved_ns = saved;
            continue;
        }
        gh_ckpt_entry_t e;
        if (line[0] == '#' || gh_ckpt_parse(line, &e) < 0) continue;
        if (gh_ckpt_add(out, &e) < 0) rc = -1;
        free(e.path);
    }
    fclose(f);
    return rc;
}

int gh_ckpt_load(gh_redis_t *r, const char *state_dir, const char *id, gh_ckpt_set_t *out) {
    gh_ckpt_set_t a = { 0 }, b = { 0 };
    int ra = r ? s_load_redis(r, id, &a) : -1;
    int rb = state_dir && *state_dir ? s_load_file(state_dir, id, &b) : -1;
    if (ra < 0 && rb < 0) {
        gh_ckpt_clear(&a);
        gh_ckpt_clear(&b);
        return -1;
    }
    int use_a = ra == 1 && (rb != 1 || a.saved_ns >= b.saved_ns);
    gh_ckpt_clear(out);
    if (use_a) {
        *out = a;
        gh_ckpt_clear(&b);
    } else {
        *out = b;
        gh_ckpt_clear(&a);
    }
    return ra == 1 || rb == 1 ? 1 : 0;
}

static int s_save_redis(gh_redis_t *r, const char *id, const gh_ckpt_set_t *s, int64_t now) {
    redisContext *c = gh_redis_ctx(r);
    if (!c) return -1;
    char key[256], fid[32], line[8192], saved[32];
    s_redis_key(r, id, key, sizeof key);
    snprintf(saved, sizeof saved, "%" PRId64, now);
    int cmds = 0;
    redisAppendCommand(c, "MULTI");
    redisAppendCommand(c, "DEL %s", key);
    redisAppendCommand(c, "HSET %s _saved %s", key, saved);
    cmds += 3;
    for (size_t i = 0; i < s->n; i++) {
        if (gh_ckpt_format(&s->v[i], line, sizeof line) < 0) continue;
        memcpy(fid, line, 16);
        fid[16] = 0;
        redisAppendCommand(c, "HSET %s %s %s", key, fid, line + 17);
        cmds++;
    }
    redisAppendCommand(c, "EXEC");
    cmds++;
    int ok = 1;
    for (int i = 0; i < cmds; i++) {
        redisReply *rep = NULL;
        if (redisGetReply(c, (void **)&rep) != REDIS_OK || !rep) {
            gh_redis_failed(r);
            return -1;
        }
        if (rep->type == REDIS_REPLY_ERROR || (i == cmds - 1 && rep->type != REDIS_REPLY_ARRAY)) ok = 0;
        freeReplyObject(rep);
    }
    return ok ? 0 : -1;
}

static int s_save_file(const char *dir, const char *id, const gh_ckpt_set_t *s, int64_t now) {
    char path[4096], tmp[4096], line[8192];
    s_file_path(dir, id, path, sizeof path, 0);
    s_file_path(dir, id, tmp, sizeof tmp, 1);
    FILE *f = fopen(tmp, "w");
    if (!f) return -1;
    fprintf(f, "# ghost-tail checkpoint saved %" PRId64 "\n", now);
    for (size_t i = 0; i < s->n; i++)
        if (gh_ckpt_format(&s->v[i], line, sizeof line) == 0) fprintf(f, "%s\n", line);
    int rc = fflush(f) == 0 && fsync(fileno(f)) == 0 ? 0 : -1;
    if (fclose(f) != 0) rc = -1;
    if (rc == 0 && rename(tmp, path) < 0) rc = -1;
    if (rc < 0) unlink(tmp);
    return rc;
}

int gh_ckpt_save(gh_redis_t *r, const char *state_dir, const char *id, const gh_ckpt_set_t *s) {
    int64_t now = gh_wall_ns();
    int any = 0, rc;
    if (r && gh_redis_ctx(r)) {
        if ((rc = s_save_redis(r, id, s, now)) == 0) any = 1;
    }
    if (state_dir && *state_dir) {
        if ((rc = s_save_file(state_dir, id, s, now)) == 0) any = 1;
        else gh_debug("checkpoint file in %s not written: %s", state_dir, strerror(errno));
    }
    return any ? 0 : -1;
}
