/* dedup.h -- ingest-side exactly-once filter for raw lines from ghost-tail.
 *
 * ghost-tail stamps every line with the identity of its file (file_id) and the
 * byte offset just past the line.  Within one file_id offsets only grow, so a
 * receiver can drop a replayed line by remembering, per file_id, the highest
 * offset it has handed on (the high-water mark, HWM).  The receiver calls
 * gh_dedup_accept() for each line and gh_dedup_commit() (ghost-ingest: every
 * ~50 ms tick) AFTER the lines it covers have been handed on; commit writes the marks to Redis (pipelined,
 * one key per file with a TTL: <prefix>dedup:<ns>:<file_id hex>, a decimal
 * offset, only ever raised).  ghost-tail reads the same keys on restart
 * (gh_dedup_load_hwm) and resumes exactly there, so a kill -9 of ghost-tail
 * neither loses nor repeats a line.  Without Redis the filter still works
 * inside one process lifetime and the marks are written on reconnect.
 */
#ifndef GH_DEDUP_H
#define GH_DEDUP_H
#include <stddef.h>
#include <stdint.h>
#include "redis.h"

#define GH_DEDUP_NS "raw"                 /* namespace ghost-ingest and ghost-tail agree on */
#define GH_DEDUP_TTL_S (7L * 24 * 3600)   /* a mark lives this long after its last commit */

typedef struct gh_dedup gh_dedup_t;

/* Creates a filter whose marks live under <prefix>dedup:<ns>: (ns NULL or ""
 * means GH_DEDUP_NS).  r may be NULL (memory only) and is borrowed, not owned.
 * Returns NULL when out of memory. */
gh_dedup_t *gh_dedup_new(gh_redis_t *r, const char *ns);

/* Frees the filter without committing and sets *d to NULL. */
void gh_dedup_destroy(gh_dedup_t **d);

/* Sets the TTL in seconds of the marks written by later commits (>= 1). */
void gh_dedup_set_ttl(gh_dedup_t *d, long ttl_s);

/* Returns 1 when the line (file_id, offset) is new and raises the mark to
 * offset, 0 when it is a duplicate (offset <= the mark for file_id).  The
 * first time a file_id is seen its mark is fetched from Redis (one GET; when
 * Redis is down the mark starts at 0 and is merged when Redis comes back).
 * Lines without identity (file_id 0 or offset 0) are always accepted. */
int gh_dedup_accept(gh_dedup_t *d, uint64_t file_id, uint64_t offset);

/* Persists every mark raised since the last successful commit, in one
 * pipeline of atomic "raise only" updates.  Call after the lines the marks
 * cover have been handed on (per batch, or per tick to save round trips).  Returns 0, or -1 when Redis is absent or failed
 * (the marks stay pending and go out with the next commit). */
int gh_dedup_commit(gh_dedup_t *d);

/* Counters: lines accepted, duplicates dropped, marks pending a commit. */
uint64_t gh_dedup_accepted(const gh_dedup_t *d);
uint64_t gh_dedup_dropped(const gh_dedup_t *d);
size_t gh_dedup_pending(const gh_dedup_t *d);

/* Reads the committed mark of file_id from Redis into *hwm.  Returns 1 when a
 * mark exists, 0 when there is none, -1 when Redis is absent or failed.  This
 * is what ghost-tail uses to resume exactly after a crash. */
int gh_dedup_load_hwm(gh_redis_t *r, const char *ns, uint64_t file_id, uint64_t *hwm);
#endif
