/* ghost-sink -- a benchmark receiver: counts items and measures latency.
 *
 * Binds one PULL endpoint and takes batches of any type until --producers
 * end-of-stream frames arrived.  For every batch it notes now - pt (the
 * origin processing time the stages carry along, see lib/stage.c), weighted
 * by the batch's item count: that is the per-record latency from the source
 * to this socket.  --skip-s ignores the first seconds (warm-up).
 *
 * Prints one JSON object on stdout: items, batches, first_ns/last_ns (wall
 * time of the first and last item batch), latency_p50_ms, latency_p99_ms,
 * latency_max_ms, bad_frames.
 */
#include "clock.h"
#include "gh_proto.h"
#include "opt.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

static struct {
    char *bind;
    long producers, hwm;
    double skip_s;
} s_cfg;

static const gh_opt_t s_opts[] = {
    { "bind", GH_OPT_STR, &s_cfg.bind, "ipc:///tmp/ghost/sink.sock", "PULL endpoint to bind" },
    { "producers", GH_OPT_INT, &s_cfg.producers, "1", "end-of-stream frames that end the run" },
    { "hwm", GH_OPT_INT, &s_cfg.hwm, "1000", "batches queued before senders wait" },
    { "skip-s", GH_OPT_DBL, &s_cfg.skip_s, "0", "leave out latencies of the first seconds" },
    { NULL, 0, NULL, NULL, NULL },
};

typedef struct { int64_t lat_ns; uint64_t n; } s_sample_t;

static int s_cmp(const void *a, const void *b) {
    int64_t x = ((const s_sample_t *)a)->lat_ns, y = ((const s_sample_t *)b)->lat_ns;
    return x < y ? -1 : x > y;
}

/* The latency below which a fraction q of the items lie (samples sorted). */
static double s_quantile_ms(const s_sample_t *s, size_t ns, uint64_t total, double q) {
    uint64_t want = (uint64_t)(q * (double)total), acc = 0;
    for (size_t i = 0; i < ns; i++) {
        acc += s[i].n;
        if (acc > want) return (double)s[i].lat_ns / 1e6;
    }
    return ns ? (double)s[ns - 1].lat_ns / 1e6 : 0.0;
}

int main(int argc, char **argv) {
    int nargs = 0, prc = gh_opt_parse(s_opts, "ghost-sink", "[OPTIONS]", argc, argv, &nargs);
    if (prc) return prc > 0 ? 0 : 2;
    void *ctx = zmq_ctx_new(), *pull = zmq_socket(ctx, ZMQ_PULL);
    int hwm = (int)s_cfg.hwm;
    zmq_setsockopt(pull, ZMQ_RCVHWM, &hwm, sizeof hwm);
    if (zmq_bind(pull, s_cfg.bind) != 0) {
        fprintf(stderr, "ghost-sink: cannot bind %s: %s\n", s_cfg.bind, zmq_strerror(errno));
        return 1;
    }
    gh_batch_t b;
    gh_batch_init(&b);
    zmq_msg_t msg;
    zmq_msg_init(&msg);
    size_t ns = 0, cap = 4096;
    s_sample_t *samples = malloc(cap * sizeof *samples);
    uint64_t items = 0, batches = 0, bad = 0, lat_items = 0, bytes = 0;
    int64_t first = 0, last = 0;
    long eos = 0;
    while (eos < s_cfg.producers) {
        if (zmq_msg_recv(&msg, pull, 0) < 0) {
            if (errno == EINTR) continue;
            fprintf(stderr, "ghost-sink: recv failed: %s\n", zmq_strerror(errno));
            return 1;
        }
        int64_t now = gh_wall_ns();
        if (gh_batch_decode(&b, zmq_msg_data(&msg), zmq_msg_size(&msg)) != GH_DEC_OK) {
            bad++;
            continue;
        }
        if (b.type == GH_T_EOS) {
            eos++;
            continue;
        }
        if (!first) first = now;
        last = now;
        items += b.n;
        batches++;
        bytes += zmq_msg_size(&msg);
        if (b.pt_ns && b.n && (double)(now - first) >= s_cfg.skip_s * 1e9) {
            if (ns == cap) samples = realloc(samples, (cap *= 2) * sizeof *samples);
            samples[ns++] = (s_sample_t){ now - b.pt_ns, b.n };
            lat_items += b.n;
        }
    }
    qsort(samples, ns, sizeof *samples, s_cmp);
    printf("{\"items\": %llu, \"batches\": %llu, \"first_ns\": %lld, \"last_ns\": %lld, \"latency_p50_ms\": %.3f, "
           "\"latency_p99_ms\": %.3f, \"latency_max_ms\": %.3f, \"bad_frames\": %llu, \"bytes\": %llu}\n",
           (unsigned long long)items, (unsigned long long)batches, (long long)first, (long long)last,
           s_quantile_ms(samples, ns, lat_items, 0.50), s_quantile_ms(samples, ns, lat_items, 0.99),
           ns ? (double)samples[ns - 1].lat_ns / 1e6 : 0.0, (unsigned long long)bad, (unsigned long long)bytes);
    free(samples);
    gh_batch_release(&b);
    zmq_msg_close(&msg);
    zmq_close(pull);
    zmq_ctx_term(ctx);
    return 0;
}
