/* tail_ckpt.h -- ghost-tail's checkpoints: which file identities it follows
 * and how far it has sent each.
 *
 * A checkpoint is a set of entries (file_id, device, inode, fingerprint,
 * start offset, sent offset, path).  It is written whole, to Redis (hash
 * <prefix>tail:<id>:files, one field per file_id plus "_saved", replaced in
 * one MULTI/EXEC) and/or to a local file <state-dir>/tail-<id>.ckpt (written
 * to a temporary file, fsync'ed and renamed over the old one).  Loading takes
 * whichever copy was saved last, so Redis being down for a while loses
 * nothing.  The sent offset is only a fallback: the resume point of a file
 * that has a receiver-side high-water mark (dedup.h) is that mark.
 */
#ifndef GH_TAIL_CKPT_H
#define GH_TAIL_CKPT_H
#include <stddef.h>
#include <stdint.h>
#include "redis.h"

typedef struct {
    uint64_t file_id, dev, ino, fp, start, off;
    uint32_t fp_len;
    char *path;
} gh_ckpt_entry_t;

typedef struct {
    gh_ckpt_entry_t *v;
    size_t n, cap;
    int64_t saved_ns;    /* wall time of the save this set was loaded from */
} gh_ckpt_set_t;

/* Appends a copy of e (its path is duplicated).  Returns 0 or -1. */
int gh_ckpt_add(gh_ckpt_set_t *s, const gh_ckpt_entry_t *e);
/* Frees the entries; the set is empty and reusable afterwards. */
void gh_ckpt_clear(gh_ckpt_set_t *s);

/* Formats one entry as a line without newline / parses one back.
 * gh_ckpt_parse returns 0, or -1 for a malformed line (e untouched). */
int gh_ckpt_format(const gh_ckpt_entry_t *e, char *buf, size_t len);
int gh_ckpt_parse(const char *line, gh_ckpt_entry_t *e);

/* Loads the newest checkpoint of producer id from Redis (r may be NULL) and
 * state_dir (may be NULL).  Returns 1 when one was found, 0 when none
 * exists anywhere, -1 when no store could be read at all. */
int gh_ckpt_load(gh_redis_t *r, const char *state_dir, const char *id, gh_ckpt_set_t *out);

/* Saves s to every configured store.  Returns 0 when at least one store took
 * it, -1 otherwise (each failure is logged, rate-limited by the caller). */
int gh_ckpt_save(gh_redis_t *r, const char *state_dir, const char *id, const gh_ckpt_set_t *s);
#endif
