/* miner.h -- the online template miner of ghost-classify (design in miner.c).
 *
 * One miner holds the templates of one partition of the message space; a
 * message's partition is gh_miner_partition(), so N classify processes fed
 * by that key produce the same grouping as one.  Not thread safe: one miner
 * per thread.
 */
#ifndef GH_MINER_H
#define GH_MINER_H
#include <stddef.h>
#include <stdint.h>
#include "classify/mask.h"
#include "redis.h"

#define GH_MINER_DEFAULT_MAX 20000   /* templates kept when max_templates is 0 */

typedef struct gh_miner gh_miner_t;

/* A new, empty miner holding at most max_templates templates (0 = default);
 * NULL when out of memory. */
gh_miner_t *gh_miner_new(size_t max_templates);

/* Frees the miner and sets *m to NULL; NULL-safe. */
void gh_miner_destroy(gh_miner_t **m);

/* Mines one message and returns its template id (never 0).  *tpl / *tpl_n
 * get the current template text (variables "<*>"), valid until the next call
 * on this miner; *is_new is 1 when this message created the template.  Any
 * of tpl, tpl_n, is_new may be NULL.  No allocation unless a new template is
 * made.  Returns 0 only when out of memory. */
uint64_t gh_miner_add(gh_miner_t *m, const char *msg, size_t n, const char **tpl, size_t *tpl_n, int *is_new);

/* What gh_miner_add_hit tells about a message besides its template id. */
typedef struct {
    const char *tpl;        /* the current template text (variables "<*>"), valid until the next call */
    size_t tpl_n;
    uint64_t rev;           /* the text's revision: never the same for two texts of one miner, so an
                             * unchanged rev means an unchanged text (never 0) */
    int is_new;             /* 1 when this message created the template */
    const gh_span_t *words; /* the message's blank-separated words (offset, length in msg), valid until
                             * the next call; see gh_mask_line_words */
    size_t nwords;          /* their number, or GH_MASK_WORDS_UNKNOWN */
} gh_miner_hit_t;

/* As gh_miner_add, with everything in *hit (not NULL). */
uint64_t gh_miner_add_hit(gh_miner_t *m, const char *msg, size_t n, gh_miner_hit_t *hit);

/* The partition key of a message: hash of its token count and first token
 * after masking (the miner's first split).  Pure function, no allocation. */
uint64_t gh_miner_partition(const char *msg, size_t n);

/* The current id of a template that had id `id` (templates absorbed by a
 * merge live on in the survivor), with its text in *tpl / *tpl_n (valid until
 * the next call on this miner).  0 when unknown or evicted. */
uint64_t gh_miner_resolve(gh_miner_t *m, uint64_t id, const char **tpl, size_t *tpl_n);

/* Writes templates changed since the last successful save (and deletes merged
 * or evicted ones) into the hash <prefix>templates, in one pipelined batch.
 * 0 ok (also when nothing changed), -1 Redis down or disabled: the changes
 * are kept and written by a later call. */
int gh_miner_save(gh_miner_t *m, gh_redis_t *r);

/* Restores templates saved by gh_miner_save (up to the miner's bound); 0 ok
 * (also when none are stored or Redis is disabled), -1 Redis error. */
int gh_miner_load(gh_miner_t *m, gh_redis_t *r);

/* Number of live templates. */
size_t gh_miner_count(const gh_miner_t *m);
#endif
