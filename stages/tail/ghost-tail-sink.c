/* ghost-tail-sink.c -- a test receiver for ghost-tail: what ghost-ingest does
 * with raw batches, minus the parsing.
 *
 * Binds one PULL endpoint, decodes each frame with gh_batch_decode, passes
 * every GH_T_RAW line through the ingest-side dedup (dedup.h), appends each
 * accepted line plus a newline to the output file, flushes it, and only then
 * commits the dedup marks, in the same order ghost-ingest must keep (hand on,
 * then commit).  Exits 0 after --eos GH_T_EOS batches.  Prints its counters
 * (accepted, duplicates dropped, bad frames) on stderr at exit.
 */
#include "gh_proto.h"
#include "log.h"
#include "opt.h"
#include "redis.h"
#include "eosack.h"
#include "tail/dedup.h"
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

static volatile sig_atomic_t s_stop;
static void on_signal(int sig) {
    (void)sig;
    s_stop = 1;
}

static struct {
    char *bind, *out, *redis, *prefix, *dedup_ns, *log_level;
    long eos;
    int dedup;
} s_cfg;

static const gh_opt_t s_opts[] = {
    { "bind", GH_OPT_STR, &s_cfg.bind, "ipc:///tmp/ghost/ingest-0.sock", "PULL endpoint to bind" },
    { "out", GH_OPT_STR, &s_cfg.out, "-", "file the accepted lines are appended to (- for stdout)" },
    { "redis", GH_OPT_STR, &s_cfg.redis, "", "Redis URL for the dedup marks (empty: memory only)" },
    { "prefix", GH_OPT_STR, &s_cfg.prefix, "ghost:", "Redis key prefix" },
    { "dedup-ns", GH_OPT_STR, &s_cfg.dedup_ns, GH_DEDUP_NS, "dedup namespace" },
    { "dedup", GH_OPT_BOOL, &s_cfg.dedup, "1", "drop lines at or below the file's mark (--no-dedup: keep all)" },
    { "eos", GH_OPT_INT, &s_cfg.eos, "1", "exit after this many end-of-stream batches" },
    { "log-level", GH_OPT_STR, &s_cfg.log_level, "info", "error|warn|info|debug" },
    { NULL, 0, NULL, NULL, NULL },
};

int main(int argc, char **argv) {
    int nargs = 0;
    int prc = gh_opt_parse(s_opts, "ghost-tail-sink", "[OPTIONS]", argc, argv, &nargs);
    if (prc != 0) return prc > 0 ? 0 : 2;
    gh_log_init("ghost-tail-sink", s_cfg.log_level);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);

    FILE *out = strcmp(s_cfg.out, "-") ? fopen(s_cfg.out, "a") : stdout;
    if (!out) {
        gh_error("cannot open %s: %s", s_cfg.out, strerror(errno));
        return 1;
    }
    gh_redis_t *r = *s_cfg.redis ? gh_redis_new(s_cfg.redis, s_cfg.prefix) : NULL;
    gh_dedup_t *d = gh_dedup_new(r, s_cfg.dedup_ns);
    void *ctx = zmq_ctx_new(), *sock = zmq_socket(ctx, ZMQ_PULL);
    if (!d || !sock || zmq_bind(sock, s_cfg.bind) < 0) {
        gh_error("cannot bind %s: %s", s_cfg.bind, zmq_strerror(zmq_errno()));
        return 1;
    }
    uint64_t bad = 0, batches = 0, kept_all = 0;
    long eos = 0;
    gh_ratelimit_t rl = { 0, 0 };
    zmq_msg_t msg;
    zmq_msg_init(&msg);
    while (!s_stop && eos < s_cfg.eos) {
        if (zmq_msg_recv(&msg, sock, 0) < 0) {
            if (zmq_errno() == EINTR) continue;
            gh_error("recv: %s", zmq_strerror(zmq_errno()));
            break;
        }
        gh_batch_t b;
        gh_batch_init(&b);
        gh_decode_err_t e = gh_batch_decode(&b, zmq_msg_data(&msg), zmq_msg_size(&msg));
        if (e != GH_DEC_OK) {
            bad++;
            gh_log_ratelimited(&rl, GH_LOG_WARN, 5000, "bad frame: %s (%s)", gh_decode_strerror(e), b.errstr);
            continue;
        }
        batches++;
        if (b.type == GH_T_EOS) {
            gh_eos_ack(r, b.src, b.seq); /* the sender waits for this before it closes */
            eos++;
            gh_info("end of stream from %.*s (%ld of %ld)", (int)b.src.n, b.src.p, eos, s_cfg.eos);
        } else if (b.type == GH_T_RAW) {
            for (size_t i = 0; i < b.n; i++) {
                const gh_raw_t *it = &b.u.raw[i];
                if (s_cfg.dedup ? !gh_dedup_accept(d, it->file_id, it->offset) : (kept_all++, 0)) continue;
                fwrite(it->line.p, 1, it->line.n, out);
                fputc('\n', out);
            }
            fflush(out); /* handed on ... */
            gh_dedup_commit(d); /* ... and only then the marks move */
        }
        gh_batch_release(&b);
    }
    zmq_msg_close(&msg);
    gh_info("exit: batches=%" PRIu64 " accepted=%" PRIu64 " duplicates=%" PRIu64 " bad=%" PRIu64 " unfiltered=%" PRIu64,
            batches, gh_dedup_accepted(d), gh_dedup_dropped(d), bad, kept_all);
    if (out != stdout) fclose(out);
    zmq_close(sock);
    zmq_ctx_term(ctx);
    gh_dedup_destroy(&d);
    gh_redis_destroy(&r);
    return 0;
}
