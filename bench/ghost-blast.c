/* ghost-blast -- a benchmark source: pushes raw line batches, as ghost-tail
 * would, at full speed or at a fixed rate.
 *
 * The files are mapped into memory first, so disk reads are not measured.
 * Lines are cut into GH_T_RAW batches of --batch-size lines, one file after
 * the other in round robin (one batch per file per turn, like several
 * followed files), and pushed over the endpoints in --connect in turn.  Each
 * batch is encoded just before it is sent with "pt" = gh_wall_ns(), so a
 * sink downstream can measure per-record latency from the origin.  file_id
 * is 0, so ghost-ingest does no dedup (no Redis round trip).  At the end one
 * end-of-stream frame goes to every endpoint.
 *
 * Prints one JSON object on stdout: lines, batches, t0_ns (wall time of the
 * first send), t1_ns (after the last send), secs, lines_per_s.
 */
#include "clock.h"
#include "gh_proto.h"
#include "opt.h"
#include "out.h"
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>

static struct {
    char *connect, *id;
    long batch_size, hwm, repeat;
    double rate;
} s_cfg;

static const gh_opt_t s_opts[] = {
    { "connect", GH_OPT_STR, &s_cfg.connect, "ipc:///tmp/ghost/ingest-0.sock", "endpoints to PUSH to, comma-separated" },
    { "id", GH_OPT_STR, &s_cfg.id, "tail-0", "producer id carried as the batches' src" },
    { "batch-size", GH_OPT_INT, &s_cfg.batch_size, "256", "lines per batch" },
    { "hwm", GH_OPT_INT, &s_cfg.hwm, "64", "batches queued per endpoint before sending blocks" },
    { "rate", GH_OPT_DBL, &s_cfg.rate, "0", "lines per second (0: as fast as the receivers take them)" },
    { "repeat", GH_OPT_INT, &s_cfg.repeat, "1", "send the whole input this many times" },
    { NULL, 0, NULL, NULL, NULL },
};

typedef struct {
    const char *path;
    const char *base, *pos, *end;
    uint64_t offset_base;
} s_file_t;

/* Maps one file; returns 0, or -1 after printing why. */
static int s_map(s_file_t *f, const char *path) {
    memset(f, 0, sizeof *f);
    f->path = path;
    int fd = open(path, O_RDONLY);
    struct stat sb;
    if (fd < 0 || fstat(fd, &sb) < 0) {
        fprintf(stderr, "ghost-blast: %s: %s\n", path, strerror(errno));
        if (fd >= 0) close(fd);
        return -1;
    }
    if (sb.st_size > 0) {
        void *p = mmap(NULL, (size_t)sb.st_size, PROT_READ, MAP_PRIVATE | MAP_POPULATE, fd, 0);
        if (p == MAP_FAILED) {
            fprintf(stderr, "ghost-blast: mmap %s: %s\n", path, strerror(errno));
            close(fd);
            return -1;
        }
        f->base = p;
    }
    close(fd);
    f->pos = f->base;
    f->end = f->base + sb.st_size;
    return 0;
}

static void s_sleep_until(int64_t wall_ns) {
    struct timespec ts = { (time_t)(wall_ns / 1000000000), (long)(wall_ns % 1000000000) };
    while (clock_nanosleep(CLOCK_REALTIME, TIMER_ABSTIME, &ts, NULL) == EINTR) {}
}

static int s_send(void *sock, const gh_enc_t *e) {
    while (zmq_send(sock, e->sb.data, e->sb.size, 0) < 0) {
        if (errno == EINTR) continue;
        fprintf(stderr, "ghost-blast: send failed: %s\n", zmq_strerror(errno));
        return -1;
    }
    return 0;
}

int main(int argc, char **argv) {
    int nargs = 0, prc = gh_opt_parse(s_opts, "ghost-blast", "[OPTIONS] FILE...", argc, argv, &nargs);
    if (prc) return prc > 0 ? 0 : 2;
    if (nargs < 1) {
        fprintf(stderr, "ghost-blast: no input files (see --help)\n");
        return 2;
    }
    s_file_t *files = calloc((size_t)nargs, sizeof *files);
    for (int i = 0; i < nargs; i++)
        if (s_map(&files[i], argv[i + 1]) < 0) return 1;

    void *ctx = zmq_ctx_new();
    void *socks[64];
    int nsocks = 0, hwm = (int)s_cfg.hwm, linger = -1;
    char *list = strdup(s_cfg.connect), *save = NULL;
    for (char *ep = strtok_r(list, ",", &save); ep && nsocks < 64; ep = strtok_r(NULL, ",", &save)) {
        void *s = zmq_socket(ctx, ZMQ_PUSH);
        zmq_setsockopt(s, ZMQ_SNDHWM, &hwm, sizeof hwm);
        zmq_setsockopt(s, ZMQ_LINGER, &linger, sizeof linger);
        gh_out_reconnect_opts(s); /* as every ghost sender */
        if (zmq_connect(s, ep) != 0) {
            fprintf(stderr, "ghost-blast: cannot connect to %s: %s\n", ep, zmq_strerror(errno));
            return 1;
        }
        socks[nsocks++] = s;
    }
    free(list);
    if (!nsocks) return 2;

    gh_enc_t enc;
    gh_enc_init(&enc);
    uint64_t lines = 0, batches = 0;
    int64_t t0 = gh_wall_ns();
    for (long rep = 0; rep < s_cfg.repeat; rep++) {
        for (int i = 0; i < nargs; i++) files[i].pos = files[i].base;
        int live = nargs;
        while (live) {
            live = 0;
            for (int i = 0; i < nargs; i++) {
                s_file_t *f = &files[i];
                if (f->pos >= f->end) continue;
                live++;
                if (s_cfg.rate > 0) s_sleep_until(t0 + (int64_t)((double)lines * 1e9 / s_cfg.rate));
                gh_enc_begin(&enc, GH_T_RAW, s_cfg.id, ++batches, gh_wall_ns());
                for (long k = 0; k < s_cfg.batch_size && f->pos < f->end; k++) {
                    const char *nl = memchr(f->pos, '\n', (size_t)(f->end - f->pos));
                    const char *le = nl ? nl : f->end;
                    gh_raw_t r = { gh_cstr(f->path), gh_str(f->pos, (size_t)(le - f->pos)),
                                   (uint64_t)(le - f->base) + (nl ? 1 : 0), 0 };
                    gh_enc_raw(&enc, &r);
                    f->pos = nl ? nl + 1 : f->end;
                    lines++;
                }
                gh_enc_finish(&enc);
                if (s_send(socks[batches % (uint64_t)nsocks], &enc) < 0) return 1;
            }
        }
    }
    int64_t t1 = gh_wall_ns();
    for (int i = 0; i < nsocks; i++) {
        gh_enc_begin(&enc, GH_T_EOS, s_cfg.id, ++batches, gh_wall_ns());
        gh_enc_finish(&enc);
        if (s_send(socks[i], &enc) < 0) return 1;
        zmq_close(socks[i]);
    }
    zmq_ctx_term(ctx); /* waits until the queued batches are taken */
    double secs = (double)(t1 - t0) / 1e9;
    printf("{\"lines\": %llu, \"batches\": %llu, \"t0_ns\": %lld, \"t1_ns\": %lld, \"secs\": %.4f, "
           "\"lines_per_s\": %.0f}\n",
           (unsigned long long)lines, (unsigned long long)(batches - (uint64_t)nsocks), (long long)t0, (long long)t1,
           secs, secs > 0 ? (double)lines / secs : 0.0);
    gh_enc_free(&enc);
    free(files);
    return 0;
}
