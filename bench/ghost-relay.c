/* ghost-relay -- a stage that does no stage work: the transport ceiling.
 *
 * Runs the same loop as every ghost stage (lib/stage.c: PULL, gh_batch_decode,
 * outputs with batching, linger and backpressure, end-of-stream) and
 * re-encodes every item of every batch, unchanged, with the same codec into
 * its output.  A chain ghost-blast -> ghost-relay x N -> ghost-sink passes the
 * pipeline's own batches through the same number of processes with nothing
 * but decoding and encoding, so a stage's cost can be read against it.
 */
#include "sig.h"
#include "stage.h"
#include <stdio.h>
#include <string.h>

static gh_stage_cfg_t s_cfg;
static char *s_type;

static const gh_opt_t s_opts[] = {
    GH_STAGE_OPTIONS(s_cfg, "ipc://RUN_DIR/relay-1.sock"),
    { "type", GH_OPT_STR, &s_type, "raw", "batch type relayed: raw, record or classified" },
    { NULL, 0, NULL, NULL, NULL },
};

static void on_batch(gh_stage_t *st, const gh_batch_t *b) {
    gh_out_t *out = gh_stage_out(st, 0);
    unsigned shard = gh_out_next(out);
    for (size_t i = 0; i < b->n; i++) {
        gh_enc_t *e = gh_out_enc(out, shard);
        switch (b->type) {
        case GH_T_RAW: gh_enc_raw(e, &b->u.raw[i]); break;
        case GH_T_RECORD: gh_enc_record(e, &b->u.rec[i]); break;
        case GH_T_CLASSIFIED: gh_enc_cls(e, &b->u.cls[i]); break;
        default: return;
        }
        gh_out_commit(out, shard);
    }
}

static void on_drain(gh_stage_t *st) { gh_out_flush(gh_stage_out(st, 0)); }

int main(int argc, char **argv) {
    gh_stage_parse_args(s_opts, "ghost-relay", "[OPTIONS]", argc, argv);
    int type = !strcmp(s_type, "raw") ? GH_T_RAW : !strcmp(s_type, "record") ? GH_T_RECORD
             : !strcmp(s_type, "classified") ? GH_T_CLASSIFIED : 0;
    if (!type) {
        fprintf(stderr, "ghost-relay: unknown --type '%s'\n", s_type);
        return 2;
    }
    gh_sig_install();
    gh_stage_ops_t ops = { "relay", type, NULL, on_batch, NULL, on_drain };
    gh_stage_t *st = gh_stage_new(&s_cfg, &ops, type, "relay", 0, NULL);
    if (!st) return 1;
    int rc = gh_stage_run(st);
    gh_stage_destroy(&st);
    return rc ? 1 : 0;
}
