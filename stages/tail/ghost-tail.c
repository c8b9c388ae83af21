/* ghost-tail.c -- the shipper: follows log files and pushes their lines to
 * ghost-ingest as GH_T_RAW batches.
 *
 * A short main over the follower (tail.c): options, signals, the wait loop.
 * The loop sleeps in poll() on the inotify descriptor (or just the poll
 * interval) and wakes early when a batch's linger runs out.  SIGTERM/SIGINT
 * only set a flag: reading stops, what was read is sent, the checkpoint is
 * saved, every endpoint gets a GH_T_EOS batch, and the process exits 0.
 * --once reads every file to its end (unterminated last lines included) and
 * ends the same way.
 */
#include "clock.h"
#include "log.h"
#include "metrics.h"
#include "opt.h"
#include "redis.h"
#include "eosack.h"
#include "tail/dedup.h"
#include "tail/tail.h"
#include "tail/tail_fs.h"
#include "tail/tail_out.h"
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static volatile sig_atomic_t s_stop;

static void on_signal(int sig) {
    (void)sig;
    s_stop = 1;
}

static struct {
    char *connect, *id, *redis, *prefix, *state_dir, *dedup_ns, *log_level, *metrics_addr;
    long metrics_port, batch_size, linger_ms, hwm, refresh_ms, poll_ms, rotate_wait_ms, checkpoint_ms, max_line, close_wait_ms;
    int from_head, from_tail, once, inotify;
} s_cfg;

static const gh_opt_t s_opts[] = {
    { "connect", GH_OPT_STR, &s_cfg.connect, "ipc:///tmp/ghost/ingest-0.sock",
      "ingest endpoints, comma-separated (one PUSH socket each; files sharded by file id)" },
    { "id", GH_OPT_STR, &s_cfg.id, "tail-0", "producer id: batch src and checkpoint name" },
    { "batch-size", GH_OPT_INT, &s_cfg.batch_size, "256", "lines per batch before it is sent" },
    { "linger-ms", GH_OPT_INT, &s_cfg.linger_ms, "5", "send a non-full batch after this long" },
    { "hwm", GH_OPT_INT, &s_cfg.hwm, "64", "batches queued per endpoint before sending blocks" },
    { "refresh-ms", GH_OPT_INT, &s_cfg.refresh_ms, "1000", "rescan the glob patterns this often" },
    { "poll-ms", GH_OPT_INT, &s_cfg.poll_ms, "250", "check files this often (also without inotify events)" },
    { "rotate-wait-ms", GH_OPT_INT, &s_cfg.rotate_wait_ms, "1000",
      "keep reading a rotated or deleted file until idle this long" },
    { "checkpoint-ms", GH_OPT_INT, &s_cfg.checkpoint_ms, "1000", "save checkpoints this often" },
    { "max-line", GH_OPT_INT, &s_cfg.max_line, "65536", "cut lines longer than this many bytes" },
    { "from-head", GH_OPT_BOOL, &s_cfg.from_head, "0",
      "read files found at the first start from their beginning (default with --once)" },
    { "from-tail", GH_OPT_BOOL, &s_cfg.from_tail, "0",
      "read files found at the first start from their end, also with --once" },
    { "once", GH_OPT_BOOL, &s_cfg.once, "0", "read every file to its end, then stop" },
    { "inotify", GH_OPT_BOOL, &s_cfg.inotify, "1", "use inotify (--no-inotify: poll only)" },
    { "redis", GH_OPT_STR, &s_cfg.redis, "", "Redis URL for checkpoints and receiver marks (empty: none)" },
    { "prefix", GH_OPT_STR, &s_cfg.prefix, "ghost:", "Redis key prefix" },
    { "state-dir", GH_OPT_STR, &s_cfg.state_dir, "", "directory for a local checkpoint file (empty: none)" },
    { "dedup-ns", GH_OPT_STR, &s_cfg.dedup_ns, GH_DEDUP_NS, "namespace of the receiver's dedup marks" },
    { "close-wait-ms", GH_OPT_INT, &s_cfg.close_wait_ms, "30000", "at exit, wait this long for queued batches" },
    { "metrics-port", GH_OPT_INT, &s_cfg.metrics_port, "-1",
      "Prometheus /metrics HTTP port (0: any free port, logged; -1: off)" },
    { "metrics-addr", GH_OPT_STR, &s_cfg.metrics_addr, "127.0.0.1", "address the metrics server binds" },
    { "log-level", GH_OPT_STR, &s_cfg.log_level, "info", "error|warn|info|debug" },
    { NULL, 0, NULL, NULL, NULL },
};

/* The follower's counters as Prometheus series (copied after each round). */
typedef struct {
    gh_metrics_t *m;
    gh_metric_t *lines, *bytes, *cut, *rotations, *files;
} s_metrics_t;

static int s_metrics_start(s_metrics_t *sm) {
    memset(sm, 0, sizeof *sm);
    if (s_cfg.metrics_port < 0) return 0;
    if (!(sm->m = gh_metrics_new())) return -1;
    sm->lines = gh_metrics_series(sm->m, GH_METRIC_COUNTER, "ghost_tail_lines_total", "lines read and sent", NULL);
    sm->bytes = gh_metrics_series(sm->m, GH_METRIC_COUNTER, "ghost_tail_bytes_total", "bytes read", NULL);
    sm->cut = gh_metrics_series(sm->m, GH_METRIC_COUNTER, "ghost_tail_lines_cut_total",
                                "lines longer than --max-line, cut", NULL);
    sm->rotations = gh_metrics_series(sm->m, GH_METRIC_COUNTER, "ghost_tail_rotations_total",
                                      "rotations and truncations followed", NULL);
    sm->files = gh_metrics_series(sm->m, GH_METRIC_COUNTER, "ghost_tail_files_opened_total", "files opened", NULL);
    int port = gh_metrics_serve(sm->m, s_cfg.metrics_addr, (int)s_cfg.metrics_port);
    if (port < 0) return -1;
    gh_info("metrics on http://%s:%d/metrics", s_cfg.metrics_addr, port);
    return 0;
}

static void s_metrics_update(s_metrics_t *sm, const gh_tail_stats_t *st) {
    if (!sm->m) return;
    gh_metric_set(sm->lines, (double)st->lines);
    gh_metric_set(sm->bytes, (double)st->bytes);
    gh_metric_set(sm->cut, (double)st->truncated);
    gh_metric_set(sm->rotations, (double)st->rotations);
    gh_metric_set(sm->files, (double)st->files);
}

int main(int argc, char **argv) {
    int nargs = 0, rc = 1;
    int prc = gh_opt_parse(s_opts, "ghost-tail", "[OPTIONS] FILE|GLOB...", argc, argv, &nargs);
    if (prc != 0) return prc > 0 ? 0 : 2;
    gh_log_init("ghost-tail", s_cfg.log_level);
    if (nargs < 1) {
        fprintf(stderr, "ghost-tail: no file or pattern given (see --help)\n");
        return 2;
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal; /* no SA_RESTART: poll() and blocked sends return EINTR */
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);

    s_metrics_t sm;
    if (s_metrics_start(&sm) < 0) {
        gh_metrics_destroy(&sm.m);
        return 1;
    }
    gh_redis_t *redis = *s_cfg.redis ? gh_redis_new(s_cfg.redis, s_cfg.prefix) : NULL;
    gh_tail_out_t *out = gh_tail_out_new(s_cfg.connect, s_cfg.id, s_cfg.batch_size, s_cfg.linger_ms, s_cfg.hwm);
    gh_tail_fs_t *fs = gh_tail_fs_new(s_cfg.inotify && !s_cfg.once);
    gh_tail_t *t = NULL;
    if (!out || !fs) goto done;
    gh_tail_cfg_t tc = {
        .id = s_cfg.id, .patterns = argv + 1, .npatterns = nargs,
        .from_head = s_cfg.from_tail ? 0 : (s_cfg.from_head || s_cfg.once), .once = s_cfg.once,
        .max_line = s_cfg.max_line, .refresh_ms = s_cfg.refresh_ms, .rotate_wait_ms = s_cfg.rotate_wait_ms,
        .state_dir = s_cfg.state_dir, .dedup_ns = s_cfg.dedup_ns, .redis = redis, .out = out, .fs = fs,
        .stop = &s_stop,
    };
    if (!(t = gh_tail_new(&tc))) goto done;
    if (gh_tail_start(t) < 0) gh_warn("start: checkpoint not saved; continuing (it is retried)");

    int failed = 0;
    if (s_cfg.once) {
        failed = gh_tail_drain(t) < 0;
    } else {
        int64_t next_ckpt = gh_mono_ms() + s_cfg.checkpoint_ms;
        int more = 0;
        while (!s_stop && !failed) {
            long timeout = more ? 0 : s_cfg.poll_ms, due = gh_tail_out_tick(out);
            if (due == -2) {
                failed = 1;
                break;
            }
            if (due >= 0 && due < timeout) timeout = due;
            struct pollfd pfd = { gh_tail_fs_fd(fs), POLLIN, 0 };
            if (poll(&pfd, pfd.fd >= 0 ? 1 : 0, (int)timeout) < 0 && errno != EINTR) break;
            if (s_stop) break;
            int hint = gh_tail_fs_drain(fs);
            if (gh_tail_step(t, hint, &more) < 0) failed = 1;
            s_metrics_update(&sm, gh_tail_stats(t));
            if (gh_mono_ms() >= next_ckpt) {
                gh_tail_checkpoint(t);
                next_ckpt = gh_mono_ms() + s_cfg.checkpoint_ms;
            }
        }
    }
    if (gh_tail_checkpoint(t) < 0 && failed) gh_warn("stopping after a send failure");
    if (gh_tail_out_eos(out) < 0) failed = 1;
    /* hold the sockets open until every ingest worker has the end of stream */
    else gh_eos_wait(redis, s_cfg.id, gh_tail_out_eos_nonce(out), gh_tail_out_count(out), (int)s_cfg.close_wait_ms);
    const gh_tail_stats_t *st = gh_tail_stats(t);
    s_metrics_update(&sm, st);
    gh_info("exit: lines=%" PRIu64 " bytes=%" PRIu64 " truncated=%" PRIu64 " rotations=%" PRIu64 " files=%" PRIu64,
            st->lines, st->bytes, st->truncated, st->rotations, st->files);
    rc = failed ? 1 : 0;
done:
    gh_tail_destroy(&t);
    gh_tail_out_destroy(&out, s_cfg.close_wait_ms);
    gh_tail_fs_destroy(&fs);
    gh_redis_destroy(&redis);
    gh_metrics_destroy(&sm.m);
    return rc;
}
