/* ghost-ingest -- parses raw line batches into records.
 *
 * Input: GH_T_RAW batches (from ghost-tail or any program that PUSHes them to
 * this worker's endpoint).  Output: GH_T_RECORD batches, sharded over the
 * classify workers by the miner's first split (gh_miner_partition), so that
 * N classify workers group templates exactly as one would.  Lines ghost-tail
 * re-sends after a restart are dropped by the per-file high-water marks in
 * Redis (stages/tail/dedup.h).  `--dump` parses files or stdin with no
 * sockets and prints one JSON object per record.
 */
#include "classify/miner.h"
#include "clock.h"
#include "hash.h"
#include "ingest/parse.h"
#include "log.h"
#include "sig.h"
#include "stage.h"
#include "tail/dedup.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static gh_stage_cfg_t s_cfg;
static char *s_format, *s_host;
static int s_dump, s_dedup, s_fields;

static const gh_opt_t s_opts[] = {
    GH_STAGE_OPTIONS(s_cfg, "ipc://RUN_DIR/classify-0.sock"),
    { "format", GH_OPT_STR, &s_format, "auto", "auto, auditd, syslog3164, syslog5424, json, logfmt, access, plain" },
    { "host", GH_OPT_STR, &s_host, "", "host name for lines that carry none (default: this machine's)" },
    { "dedup", GH_OPT_BOOL, &s_dedup, "1", "drop lines ghost-tail sends again after a restart (needs Redis)" },
    { "fields", GH_OPT_BOOL, &s_fields, "0", "send each record's parsed fields on (no later stage reads them yet)" },
    { "dump", GH_OPT_BOOL, &s_dump, "0", "parse FILE... (or stdin) and print one JSON record per line; no sockets" },
    { NULL, 0, NULL, NULL, NULL },
};

typedef struct {
    gh_parser_t *parser;
    gh_dedup_t *dedup;
} s_ctx_t;

/* The first event time of each source seen (where its history starts); the
 * watermarks carry it so every downstream worker agrees on it. */
static struct { uint64_t src; int64_t first; } *s_firsts;
static size_t s_nfirsts, s_capfirsts;

static int64_t s_first_of(uint64_t src, int64_t ts) {
    for (size_t i = 0; i < s_nfirsts; i++)
        if (s_firsts[i].src == src) return s_firsts[i].first > ts ? (s_firsts[i].first = ts) : s_firsts[i].first;
    if (s_nfirsts == s_capfirsts) {
        size_t cap = s_capfirsts ? 2 * s_capfirsts : 64;
        void *n = realloc(s_firsts, cap * sizeof *s_firsts);
        if (!n) return ts;
        s_firsts = n;
        s_capfirsts = cap;
    }
    s_firsts[s_nfirsts].src = src;
    s_firsts[s_nfirsts++].first = ts;
    return ts;
}

static void on_batch(gh_stage_t *st, const gh_batch_t *b) {
    s_ctx_t *c = gh_stage_ctx(st);
    gh_out_t *out = gh_stage_out(st, 0);
    unsigned nshards = gh_out_n(out);
    int64_t now = gh_wall_ms();
    uint64_t dups = 0;
    /* per source, the event times in this batch: the watermark sent on */
    struct { uint64_t src; int64_t ts, lo; } wm[16];
    int nwm = 0;
    gh_str_t last = { NULL, 0 }; /* a batch holds runs of one file: hash its name once per run */
    uint64_t src = 0;
    for (size_t i = 0; i < b->n; i++) {
        const gh_raw_t *r = &b->u.raw[i];
        if (c->dedup && r->file_id && !gh_dedup_accept(c->dedup, r->file_id, r->offset)) {
            dups++;
            continue;
        }
        gh_record_t rec;
        gh_parse_line(c->parser, r->source.p, r->source.n, r->line.p, r->line.n, now, &rec);
        /* the partition key costs a full mask of the message: only when there is a choice */
        unsigned shard = nshards > 1 ? gh_shard(gh_miner_partition(rec.msg.p, rec.msg.n), nshards) : 0;
        gh_enc_record(gh_out_enc(out, shard), &rec);
        gh_out_commit(out, shard);
        if (rec.ts_ms == now) continue; /* no time of its own (receive time): says nothing of the source */
        if (rec.source.n != last.n || (rec.source.p != last.p && memcmp(rec.source.p, last.p, last.n))) {
            last = rec.source;
            src = gh_hash(rec.source.p, rec.source.n, 0);
        }
        int k = 0;
        while (k < nwm && wm[k].src != src) k++;
        if (k == nwm) {
            if (nwm == 16) { /* many sources in one batch: pass the oldest on now */
                gh_stage_watermark(st, wm[0].src, wm[0].ts, s_first_of(wm[0].src, wm[0].lo));
                memmove(wm, wm + 1, 15 * sizeof *wm);
                k = nwm = 15;
            }
            wm[k].src = src;
            wm[k].ts = wm[k].lo = rec.ts_ms;
            nwm++;
        } else {
            if (rec.ts_ms > wm[k].ts) wm[k].ts = rec.ts_ms;
            if (rec.ts_ms < wm[k].lo) wm[k].lo = rec.ts_ms;
        }
    }
    for (int k = 0; k < nwm; k++) gh_stage_watermark(st, wm[k].src, wm[k].ts, s_first_of(wm[k].src, wm[k].lo));
    if (dups) gh_stage_drop(st, "duplicate", dups);
    /* high-water marks go to Redis on the next tick (on_tick) */
}

/* Every tick (~50 ms) the high-water marks accepted since the last one go to
 * Redis in one pipeline, and only after the records they cover were handed
 * on (flushed first): a mark never runs ahead of the data.  A mark that lags
 * by a tick only means a restarted ghost-tail re-sends those lines, and this
 * process, which still holds the newer mark in memory, drops them.  After
 * Redis trouble the same call retries. */
static void on_tick(gh_stage_t *st) {
    s_ctx_t *c = gh_stage_ctx(st);
    if (c->dedup && gh_dedup_pending(c->dedup)) {
        gh_out_flush(gh_stage_out(st, 0));
        gh_dedup_commit(c->dedup);
    }
}

static void on_drain(gh_stage_t *st) {
    s_ctx_t *c = gh_stage_ctx(st);
    gh_out_flush(gh_stage_out(st, 0));
    if (c->dedup) gh_dedup_commit(c->dedup);
}

static int s_dump_files(gh_parser_t *p, int nargs, char **argv) {
    if (!nargs) return gh_parse_dump(p, stdin, "stdin", stdout) < 0 ? 1 : 0;
    int rc = 0;
    for (int i = 1; i <= nargs; i++) {
        FILE *f = !strcmp(argv[i], "-") ? stdin : fopen(argv[i], "r");
        if (!f) {
            fprintf(stderr, "ghost-ingest: cannot open %s: %s\n", argv[i], strerror(errno));
            rc = 1;
            continue;
        }
        if (gh_parse_dump(p, f, argv[i], stdout) < 0) rc = 1;
        if (f != stdin) fclose(f);
    }
    return rc;
}

int main(int argc, char **argv) {
    int nargs = gh_stage_parse_args(s_opts, "ghost-ingest", "[OPTIONS] [--dump [FILE...]]\n\nParses raw line batches (auditd, syslog, JSON, logfmt, access logs, text) into records\nand passes them to ghost-classify. --dump parses FILEs (or stdin) and prints JSON records.", argc, argv);
    int fmt = -1;
    if (strcmp(s_format, "auto") && (fmt = gh_format_parse(s_format)) < 0) {
        fprintf(stderr, "ghost-ingest: unknown --format '%s' (see --help)\n", s_format);
        return 2;
    }
    s_ctx_t c = { gh_parser_new(fmt), NULL };
    if (!c.parser) return 1;
    char host[256] = "";
    if (*s_host) snprintf(host, sizeof host, "%s", s_host);
    else gethostname(host, sizeof host);
    gh_parser_set_default_host(c.parser, host);
    if (s_dump) {   /* --dump prints every field */
        int rc = s_dump_files(c.parser, nargs, argv);
        gh_parser_destroy(&c.parser);
        return rc;
    }
    /* records go on without fields unless asked: the parser then extracts
     * only what ts, level, msg and host need */
    gh_parser_set_fields(c.parser, s_fields);
    gh_sig_install();
    gh_stage_ops_t ops = { "ingest", GH_T_RAW, &c, on_batch, on_tick, on_drain };
    gh_stage_t *st = gh_stage_new(&s_cfg, &ops, GH_T_RECORD, "classify", 0, NULL);
    if (!st) return 1;
    if (s_dedup && *s_cfg.redis) c.dedup = gh_dedup_new(gh_stage_redis(st), GH_DEDUP_NS);
    int rc = gh_stage_run(st);
    if (c.dedup)
        gh_info("dedup: %llu lines accepted, %llu duplicates dropped", (unsigned long long)gh_dedup_accepted(c.dedup),
                (unsigned long long)gh_dedup_dropped(c.dedup));
    gh_dedup_destroy(&c.dedup);
    gh_stage_destroy(&st);
    gh_parser_destroy(&c.parser);
    return rc ? 1 : 0;
}
