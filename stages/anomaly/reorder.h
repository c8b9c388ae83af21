/* reorder.h -- puts each source's classified items back in event-time order
 * before the anomaly logic sees them.
 *
 * With N classify workers, the lines of one file reach ghost-anomaly through
 * N paths that run at different speeds; in a replay the paths can be hours of
 * event time apart.  Items are held per source in a heap ordered by (event
 * time, template id, a hash of the line -- or of the host, for a line sent
 * without its raw text) and released when the pipeline's watermark for that
 * source passes them (lib/wm.h: upstream has sent every item of the source up
 * to it).  The anomaly logic then sees the same ordered
 * stream whether 1 or N workers ran classify, so the alerts are the same.
 * Memory is bounded: past max_items held, the oldest items of the fullest
 * source are released early (counted).
 */
#ifndef GH_REORDER_H
#define GH_REORDER_H
#include "gh_proto.h"
#include <stddef.h>
#include <stdint.h>

typedef struct gh_reorder gh_reorder_t;
typedef void (*gh_reorder_fn)(void *ud, const gh_cls_t *c);

gh_reorder_t *gh_reorder_new(size_t max_items);
void gh_reorder_destroy(gh_reorder_t **r);
/* Holds a copy of c (released through fn when its source's watermark passes
 * it; items of a source already past its watermark go to fn at once).
 * Returns -1 when out of memory (c went to fn instead). */
int gh_reorder_push(gh_reorder_t *r, const gh_cls_t *c, gh_reorder_fn fn, void *ud);
/* The watermark of src reached wm: releases its items up to wm, in order. */
void gh_reorder_release(gh_reorder_t *r, uint64_t src, int64_t wm, gh_reorder_fn fn, void *ud);
/* End of input: releases everything, source by source, in order. */
void gh_reorder_release_all(gh_reorder_t *r, gh_reorder_fn fn, void *ud);
size_t gh_reorder_held(const gh_reorder_t *r);
uint64_t gh_reorder_forced(const gh_reorder_t *r);  /* items released early by the bound */
#endif
