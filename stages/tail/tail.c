/* tail.c -- the follower's file set and its policy, see tail.h.
 *
 * Order of checks per file and round: truncation first (size below the read
 * position, or the fingerprinted first bytes changed), then rotation (the
 * path leads to another inode, or the file has no links left), then reading.
 * A rotated file is kept open and read until it stayed at its end for
 * rotate_wait_ms (writers may still append just after a rename); then its
 * unterminated last line, if any, is sent and it is closed.
 */
#include "tail/tail.h"
#include "clock.h"
#include "log.h"
#include "tail/dedup.h"
#include "tail/tail_ckpt.h"
#include "tail/tail_file.h"
#include <dirent.h>
#include <errno.h>
#include <glob.h>
#include <inttypes.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define S_BUDGET (1u << 20) /* bytes read from one file per round, for fairness */

struct gh_tail {
    gh_tail_cfg_t cfg;
    gh_tail_file_t **files;
    size_t n, cap;
    int started;        /* the first scan is done */
    int had_state;      /* a checkpoint existed at start */
    int need_save;      /* a new identity must be checkpointed before its lines go out */
    int send_failed;
    int64_t last_scan_ms;
    gh_tail_stats_t st;
    gh_ratelimit_t rl_cut, rl_ckpt;
};

gh_tail_t *gh_tail_new(const gh_tail_cfg_t *cfg) {
    gh_tail_t *t = calloc(1, sizeof *t);
    if (!t) return NULL;
    t->cfg = *cfg;
    if (t->cfg.max_line < 1) t->cfg.max_line = 64 * 1024;
    return t;
}

void gh_tail_destroy(gh_tail_t **tp) {
    gh_tail_t *t = *tp;
    if (!t) return;
    for (size_t i = 0; i < t->n; i++) gh_tail_file_close(&t->files[i]);
    free(t->files);
    free(t);
    *tp = NULL;
}

const gh_tail_stats_t *gh_tail_stats(const gh_tail_t *t) { return &t->st; }

static void s_on_line(void *ud, gh_tail_file_t *f, const char *line, size_t n, uint64_t end_off, int cut) {
    gh_tail_t *t = ud;
    t->st.lines++;
    t->st.bytes += n;
    if (cut) { /* counted by the reader */
        gh_log_ratelimited(&t->rl_cut, GH_LOG_WARN, 60000, "line in %s at offset %" PRIu64 " longer than %ld bytes: cut",
                           f->path, end_off, t->cfg.max_line);
    }
    if (gh_tail_out_line(t->cfg.out, f->path, line, n, end_off, f->file_id) < 0) t->send_failed = 1;
}

static int s_add(gh_tail_t *t, gh_tail_file_t *f) {
    if (t->n == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 16;
        gh_tail_file_t **v = realloc(t->files, cap * sizeof *v);
        if (!v) return -1;
        t->files = v;
        t->cap = cap;
    }
    t->files[t->n++] = f;
    t->st.files++;
    return 0;
}

static gh_tail_file_t *s_find(gh_tail_t *t, uint64_t dev, uint64_t ino) {
    for (size_t i = 0; i < t->n; i++)
        if (t->files[i]->dev == dev && t->files[i]->ino == ino) return t->files[i];
    return NULL;
}

/* Gives f a new identity starting at off (new file or truncation generation). */
static void s_new_identity(gh_tail_t *t, gh_tail_file_t *f, uint64_t off) {
    f->file_id = gh_tail_file_new_id(t->cfg.id, f->dev, f->ino);
    gh_tail_file_seek(f, off);
    t->need_save = 1;
}

/* Looks in the directory of path for a regular file with dev/ino. */
static gh_tail_file_t *s_find_sibling(const char *path, uint64_t dev, uint64_t ino) {
    char *copy = strdup(path);
    if (!copy) return NULL;
    const char *dir = dirname(copy);
    DIR *d = opendir(dir);
    gh_tail_file_t *f = NULL;
    struct dirent *de;
    while (d && !f && (de = readdir(d))) {
        char p[4096];
        struct stat st;
        snprintf(p, sizeof p, "%s/%s", dir, de->d_name);
        if (stat(p, &st) == 0 && S_ISREG(st.st_mode) && (uint64_t)st.st_dev == dev && (uint64_t)st.st_ino == ino)
            f = gh_tail_file_open(p, dev, ino);
    }
    if (d) closedir(d);
    free(copy);
    return f;
}

/* Reattaches one checkpointed identity; drops it (logged) when it is gone. */
static void s_reattach(gh_tail_t *t, const gh_ckpt_entry_t *e) {
    int moved = 0;
    gh_tail_file_t *f = gh_tail_file_open(e->path, e->dev, e->ino);
    if (!f && (f = s_find_sibling(e->path, e->dev, e->ino))) moved = 1;
    if (!f) {
        gh_info("%s (file %016" PRIx64 ") is gone since the checkpoint; lines written after offset %" PRIu64
                " and before it vanished are lost",
                e->path, e->file_id, e->off);
        return;
    }
    uint64_t fp;
    uint32_t fp_len;
    if (gh_tail_fingerprint(f->fd, e->fp_len, &fp, &fp_len) < 0 || fp_len != e->fp_len || fp != e->fp) {
        gh_info("%s: inode %" PRIu64 " now holds another file (fingerprint differs); treating it as new", f->path,
                e->ino);
        gh_tail_file_close(&f);
        return;
    }
    if (moved) { /* keep the original path as the source name */
        gh_info("%s was rotated to %s while stopped; reading it to its end", e->path, f->path);
        free(f->path);
        f->path = strdup(e->path);
        f->rotated = 1;
        t->st.rotations++;
    }
    uint64_t hwm = 0, resume;
    int rc = gh_dedup_load_hwm(t->cfg.redis, t->cfg.dedup_ns, e->file_id, &hwm);
    if (rc == 1) resume = hwm > e->start ? hwm : e->start;
    else if (rc == 0) resume = e->start;
    else resume = e->off;
    struct stat st;
    f->file_id = e->file_id;
    if (fstat(f->fd, &st) == 0 && (uint64_t)st.st_size < resume) {
        gh_info("%s was truncated while stopped; reading it again from 0", f->path);
        t->st.rotations++;
        s_new_identity(t, f, 0);
    } else {
        gh_tail_file_seek(f, resume);
        f->start = e->start;
        gh_debug("%s: resuming at %" PRIu64 " (%s)", f->path, resume,
                 rc == 1 ? "receiver mark" : rc == 0 ? "nothing delivered" : "checkpoint, redis down");
    }
    if (!f->path || s_add(t, f) < 0) gh_tail_file_close(&f);
}

static void s_scan(gh_tail_t *t) {
    t->last_scan_ms = gh_mono_ms();
    for (int i = 0; i < t->cfg.npatterns; i++) {
        const char *pat = t->cfg.patterns[i];
        if (t->cfg.fs && !strpbrk(pat, "*?[{")) {
            char *copy = strdup(pat);
            if (copy) gh_tail_fs_watch(t->cfg.fs, dirname(copy));
            free(copy);
        } else if (t->cfg.fs) {
            char *copy = strdup(pat);
            if (copy) {
                const char *dir = dirname(copy);
                if (!strpbrk(dir, "*?[{")) gh_tail_fs_watch(t->cfg.fs, dir);
            }
            free(copy);
        }
        glob_t g;
        if (glob(pat, GLOB_NOSORT | GLOB_BRACE, NULL, &g) != 0) continue;
        for (size_t k = 0; k < g.gl_pathc; k++) {
            const char *p = g.gl_pathv[k];
            struct stat st;
            if (strchr(p, '\n') || stat(p, &st) < 0 || !S_ISREG(st.st_mode)) continue;
            if (s_find(t, (uint64_t)st.st_dev, (uint64_t)st.st_ino)) continue;
            gh_tail_file_t *f = gh_tail_file_open(p, (uint64_t)st.st_dev, (uint64_t)st.st_ino);
            if (!f) continue;
            /* Only files already there at the very first start may be skipped to their end;
             * anything that appears later is new content and is read from its first byte. */
            uint64_t off = 0;
            if (!t->started && !t->had_state && !t->cfg.from_head && !t->cfg.once)
                off = (uint64_t)st.st_size;
            s_new_identity(t, f, off);
            gh_info("following %s from offset %" PRIu64, p, off);
            if (s_add(t, f) < 0) gh_tail_file_close(&f);
        }
        globfree(&g);
    }
}

int gh_tail_checkpoint(gh_tail_t *t) {
    if (gh_tail_out_flush(t->cfg.out) < 0) t->send_failed = 1;
    gh_ckpt_set_t s = { 0 };
    int rc = 0;
    for (size_t i = 0; i < t->n && rc == 0; i++) {
        gh_tail_file_t *f = t->files[i];
        gh_ckpt_entry_t e = { f->file_id, f->dev, f->ino, f->fp, f->start, f->off, f->fp_len, f->path };
        rc = gh_ckpt_add(&s, &e);
    }
    int stores = t->cfg.redis || (t->cfg.state_dir && *t->cfg.state_dir);
    if (rc == 0 && stores) rc = gh_ckpt_save(t->cfg.redis, t->cfg.state_dir, t->cfg.id, &s);
    gh_ckpt_clear(&s);
    if (rc < 0)
        gh_log_ratelimited(&t->rl_ckpt, GH_LOG_WARN, 10000, "checkpoint not saved (no store reachable); will retry");
    else t->need_save = 0;
    return t->send_failed ? -1 : rc;
}

int gh_tail_start(gh_tail_t *t) {
    gh_ckpt_set_t s = { 0 };
    int rc = gh_ckpt_load(t->cfg.redis, t->cfg.state_dir, t->cfg.id, &s);
    t->had_state = rc == 1;
    for (size_t i = 0; i < s.n; i++) s_reattach(t, &s.v[i]);
    if (rc == 1) gh_info("checkpoint loaded: %zu file(s), %zu reattached", s.n, t->n);
    gh_ckpt_clear(&s);
    s_scan(t);
    t->started = 1;
    return gh_tail_checkpoint(t);
}

/* Removes files[i], keeping the order of the others. */
static void s_remove(gh_tail_t *t, size_t i) {
    gh_tail_file_close(&t->files[i]);
    memmove(&t->files[i], &t->files[i + 1], (t->n - i - 1) * sizeof *t->files);
    t->n--;
    t->need_save = 1;
}

/* Truncation and rotation checks of one file; returns 1 when its identity changed. */
static int s_check(gh_tail_t *t, gh_tail_file_t *f) {
    struct stat fst, pst;
    if (fstat(f->fd, &fst) < 0) return 0;
    int replaced = (uint64_t)fst.st_size < f->rpos;
    if (!replaced && f->fp_len < GH_TAIL_FP_MAX && (uint64_t)fst.st_size > f->fp_len)
        replaced = gh_tail_file_verify(f) == 0;
    if (replaced) {
        gh_info("%s truncated (size %lld < offset %" PRIu64 " or first bytes changed): reading from 0", f->path,
                (long long)fst.st_size, f->rpos);
        t->st.rotations++;
        gh_tail_fingerprint(f->fd, GH_TAIL_FP_MAX, &f->fp, &f->fp_len);
        s_new_identity(t, f, 0);
        return 1;
    }
    if (!f->rotated) {
        int found = stat(f->path, &pst) == 0, gone = !found && errno == ENOENT;
        if (gone || fst.st_nlink == 0 || (found && ((uint64_t)pst.st_dev != f->dev || (uint64_t)pst.st_ino != f->ino))) {
            gh_info("%s %s: reading the old file to its end", f->path,
                    fst.st_nlink == 0 ? "deleted" : "rotated");
            f->rotated = 1;
            f->idle_ms = 0;
            t->st.rotations++;
            t->last_scan_ms = 0; /* its successor may be there already */
        }
    }
    return 0;
}

int gh_tail_step(gh_tail_t *t, int hint, int *more) {
    *more = 0;
    int64_t now = gh_mono_ms();
    if ((hint & GH_TAIL_FS_NAMES) || now - t->last_scan_ms >= t->cfg.refresh_ms) s_scan(t);
    for (size_t i = 0; i < t->n; i++) s_check(t, t->files[i]);
    if (t->need_save && gh_tail_checkpoint(t) < 0 && t->send_failed) return -1;
    for (size_t i = 0; i < t->n && !*t->cfg.stop;) {
        gh_tail_file_t *f = t->files[i];
        long got = gh_tail_file_read(f, (size_t)t->cfg.max_line, S_BUDGET, 0, s_on_line, t, &t->st.truncated);
        if (got < 0) gh_warn("read %s: %s", f->path, strerror(errno));
        if (!f->eof) *more = 1;
        if (f->rotated && f->eof && got == 0) {
            if (!f->idle_ms) f->idle_ms = now;
            if (now - f->idle_ms >= t->cfg.rotate_wait_ms) {
                gh_tail_file_read(f, (size_t)t->cfg.max_line, S_BUDGET, 1, s_on_line, t, &t->st.truncated);
                gh_debug("%s: old file done at offset %" PRIu64 ", closed", f->path, f->off);
                s_remove(t, i);
                continue;
            }
        } else if (got > 0) f->idle_ms = 0;
        i++;
    }
    return t->send_failed ? -1 : 0;
}

int gh_tail_drain(gh_tail_t *t) {
    for (size_t i = 0; i < t->n; i++) s_check(t, t->files[i]);
    if (t->need_save) gh_tail_checkpoint(t);
    for (size_t i = 0; i < t->n && !*t->cfg.stop; i++) {
        gh_tail_file_t *f = t->files[i];
        do {
            if (gh_tail_file_read(f, (size_t)t->cfg.max_line, S_BUDGET, 1, s_on_line, t, &t->st.truncated) < 0) {
                gh_warn("read %s: %s", f->path, strerror(errno));
                break;
            }
        } while (!f->eof && !*t->cfg.stop);
    }
    return t->send_failed ? -1 : 0;
}
