/* tail.h -- the follower: the set of files ghost-tail reads, and the policy
 * around them (discovery by glob, rotation, truncation, checkpoints, resume).
 *
 * Resume rule after a restart, per checkpointed identity: the file is looked
 * up at its path, or, if that path now holds another inode, among the other
 * files of its directory (a rename rotation while ghost-tail was down); its
 * fingerprint must still match.  Reading resumes at the receiver's committed
 * high-water mark for the file_id when Redis has one (exact: nothing lost,
 * nothing repeated), at the identity's start offset when Redis is up but has
 * no mark (nothing of it was handed on), and at the checkpointed sent offset
 * only when Redis cannot be asked.  New file identities (new files and
 * truncation generations) are checkpointed before their first line is sent,
 * so every file_id on the wire can be found again.
 */
#ifndef GH_TAIL_H
#define GH_TAIL_H
#include <signal.h>
#include <stdint.h>
#include "redis.h"
#include "tail/tail_fs.h"
#include "tail/tail_out.h"

typedef struct {
    const char *id;              /* producer id, also names the checkpoint */
    char **patterns;             /* paths or glob patterns */
    int npatterns;
    int from_head;               /* files found at the very first start: read from 0 */
    int once;                    /* read to EOF, send unterminated last lines */
    long max_line, refresh_ms, rotate_wait_ms;
    const char *state_dir;       /* local checkpoint directory, NULL/"" for none */
    const char *dedup_ns;        /* receiver's dedup namespace (dedup.h) */
    gh_redis_t *redis;           /* may be NULL */
    gh_tail_out_t *out;
    gh_tail_fs_t *fs;
    volatile sig_atomic_t *stop; /* set by the signal handler: stop reading */
} gh_tail_cfg_t;

typedef struct {
    uint64_t lines, bytes, truncated, rotations, files;
} gh_tail_stats_t;

typedef struct gh_tail gh_tail_t;

/* Copies the configuration (patterns are borrowed).  NULL when out of memory. */
gh_tail_t *gh_tail_new(const gh_tail_cfg_t *cfg);
void gh_tail_destroy(gh_tail_t **t);

/* Loads the checkpoint, reattaches the files it names, scans the patterns
 * and saves a checkpoint of what is followed.  Returns 0 or -1. */
int gh_tail_start(gh_tail_t *t);

/* One round: rescans when hint has GH_TAIL_FS_NAMES or refresh_ms passed,
 * handles truncation and rotation, reads each file up to a budget.  *more is
 * set when some file has more to read right away.  Returns 0, or -1 when
 * sending failed. */
int gh_tail_step(gh_tail_t *t, int hint, int *more);

/* --once: reads every file to its end, unterminated last lines included.
 * Returns 0 or -1. */
int gh_tail_drain(gh_tail_t *t);

/* Sends the open batches, then saves the checkpoint.  Returns 0 or -1. */
int gh_tail_checkpoint(gh_tail_t *t);

const gh_tail_stats_t *gh_tail_stats(const gh_tail_t *t);
#endif
