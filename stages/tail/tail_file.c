/* tail_file.c -- identity and line reader of one followed file, see tail_file.h. */
#include "tail/tail_file.h"
#include "clock.h"
#include "hash.h"
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define S_CHUNK (64u * 1024u)

gh_tail_file_t *gh_tail_file_open(const char *path, uint64_t want_dev, uint64_t want_ino) {
    gh_tail_file_t *f = NULL;
    struct stat st;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return NULL;
    if (fstat(fd, &st) < 0) goto fail;
    if (!S_ISREG(st.st_mode)) {
        errno = EISDIR;
        goto fail;
    }
    if ((want_dev || want_ino) && ((uint64_t)st.st_dev != want_dev || (uint64_t)st.st_ino != want_ino)) {
        errno = ESTALE;
        goto fail;
    }
    f = calloc(1, sizeof *f);
    if (!f || !(f->path = strdup(path))) goto fail;
    f->fd = fd;
    f->dev = (uint64_t)st.st_dev;
    f->ino = (uint64_t)st.st_ino;
    if (gh_tail_fingerprint(fd, GH_TAIL_FP_MAX, &f->fp, &f->fp_len) < 0) goto fail;
    return f;
fail:
    if (f) free(f->path);
    free(f);
    close(fd);
    return NULL;
}

void gh_tail_file_close(gh_tail_file_t **fp) {
    gh_tail_file_t *f = *fp;
    if (!f) return;
    if (f->fd >= 0) close(f->fd);
    free(f->path);
    free(f->buf);
    free(f);
    *fp = NULL;
}

void gh_tail_file_seek(gh_tail_file_t *f, uint64_t off) {
    f->start = f->off = f->rpos = off;
    f->len = 0;
    f->cutting = 0;
    f->eof = 0;
}

int gh_tail_fingerprint(int fd, uint32_t limit, uint64_t *fp, uint32_t *len) {
    char buf[GH_TAIL_FP_MAX];
    if (limit > sizeof buf) limit = sizeof buf;
    size_t got = 0;
    while (got < limit) {
        ssize_t n = pread(fd, buf + got, limit - got, (off_t)got);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return -1;
        if (n == 0) break;
        got += (size_t)n;
    }
    *fp = gh_hash(buf, got, 0);
    *len = (uint32_t)got;
    return 0;
}

int gh_tail_file_verify(gh_tail_file_t *f) {
    uint64_t h;
    uint32_t n;
    if (gh_tail_fingerprint(f->fd, f->fp_len, &h, &n) < 0) return -1;
    if (n < f->fp_len || h != f->fp) return 0;
    if (f->fp_len < GH_TAIL_FP_MAX) {
        if (gh_tail_fingerprint(f->fd, GH_TAIL_FP_MAX, &h, &n) < 0) return -1;
        f->fp = h;
        f->fp_len = n;
    }
    return 1;
}

uint64_t gh_tail_file_new_id(const char *producer, uint64_t dev, uint64_t ino) {
    static uint64_t counter;
    uint64_t v[5] = { dev, ino, (uint64_t)gh_wall_ns(), (uint64_t)getpid(), ++counter };
    uint64_t seed = producer ? gh_hash(producer, strlen(producer), 0) : 0;
    uint64_t id = gh_hash(v, sizeof v, seed);
    return id ? id : 1;
}

/* Appends up to the line limit to the pending buffer; the excess marks the
 * line as cut and is dropped. */
static int s_append(gh_tail_file_t *f, const char *p, size_t n, size_t max_line) {
    size_t room = max_line > f->len ? max_line - f->len : 0;
    if (n > room) {
        f->cutting = 1;
        n = room;
    }
    if (!n) return 0;
    if (f->len + n > f->cap) {
        size_t cap = f->cap ? f->cap : 256;
        while (cap < f->len + n) cap *= 2;
        if (cap > max_line) cap = max_line;
        char *b = realloc(f->buf, cap);
        if (!b) return -1;
        f->buf = b;
        f->cap = cap;
    }
    memcpy(f->buf + f->len, p, n);
    f->len += n;
    return 0;
}

long gh_tail_file_read(gh_tail_file_t *f, size_t max_line, size_t budget, int flush_partial, gh_tail_line_fn fn,
                       void *ud, uint64_t *ncut) {
    char chunk[S_CHUNK];
    long total = 0;
    if (max_line < 1) max_line = 1;
    f->eof = 0;
    while ((size_t)total < budget) {
        ssize_t n = pread(f->fd, chunk, sizeof chunk, (off_t)f->rpos);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return -1;
        if (n == 0) {
            f->eof = 1;
            break;
        }
        const char *p = chunk, *end = chunk + n;
        while (p < end) {
            const char *nl = memchr(p, '\n', (size_t)(end - p));
            size_t seg = (size_t)((nl ? nl : end) - p);
            if (!nl) {
                if (s_append(f, p, seg, max_line) < 0) return -1;
                break;
            }
            uint64_t end_off = f->rpos + (uint64_t)(nl - chunk) + 1;
            if (!f->len && !f->cutting && seg <= max_line) {
                fn(ud, f, p, seg, end_off, 0); /* common case: the line is whole in the chunk */
            } else {
                if (s_append(f, p, seg, max_line) < 0) return -1;
                if (f->cutting) ++*ncut;
                fn(ud, f, f->buf, f->len, end_off, f->cutting);
                f->len = 0;
                f->cutting = 0;
            }
            f->off = end_off;
            p = nl + 1;
        }
        f->rpos += (uint64_t)n;
        total += n;
        if ((size_t)n < sizeof chunk) {
            f->eof = 1;
            break;
        }
    }
    if (f->eof && flush_partial && (f->len || f->cutting)) {
        if (f->cutting) ++*ncut;
        fn(ud, f, f->buf, f->len, f->rpos, f->cutting);
        f->off = f->rpos;
        f->len = 0;
        f->cutting = 0;
    }
    return total;
}
