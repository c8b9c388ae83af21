/* classes.h -- failure classes: names what a log message is about
 * (auth_failure, timeout, oom, crash, ...) from a configurable rule set.
 *
 * Rules: one per line, "class_name  regex" (PCRE2, case-insensitive), '#'
 * comments and blank lines ignored; stages/classify/classes.conf ships the
 * defaults, which are also compiled in.  All rules are compiled into one
 * JIT-compiled alternation of named groups, so a message is scanned once
 * whatever the number of rules.
 */
#ifndef GH_CLASSES_H
#define GH_CLASSES_H
#include <stddef.h>
#include <stdint.h>
#include "classify/mask.h"

typedef struct gh_classes gh_classes_t;

/* Loads the rules from rules_path (NULL = built-in defaults).  NULL on error,
 * with a one-line reason (file, line, PCRE2 message) in err. */
gh_classes_t *gh_classes_new(const char *rules_path, char *err, size_t errlen);

/* Frees the rule set and sets *c to NULL; NULL-safe. */
void gh_classes_destroy(gh_classes_t **c);

/* The class of msg[0..n): the rule whose match starts first in the message
 * (ties: the rule listed first), or NULL when none matches.  The returned
 * name lives as long as c.  Not thread safe (one match buffer per set). */
const char *gh_classes_match(gh_classes_t *c, const char *msg, size_t n);

/* Number of rules. */
size_t gh_classes_count(const gh_classes_t *c);

/* ---- per-template cache ---------------------------------------------------
 *
 * Matching every record costs most of ghost-classify's time, and the records
 * of one template share all their constant text.  The cache remembers, per
 * template id (and text: a template that gains a "<*>" starts over), the
 * class of its records, so a record usually costs a scan of its variable
 * tokens only:
 *   - the first GH_CLSCACHE_VERIFY records of a template are matched whole;
 *     when they disagree, or a match touches a variable token ("killed process
 *     \d+", "HTTP <*>" holding 429), the template is matched per record from
 *     then on (exact);
 *   - otherwise the class lies in the constant text, and a later record gets
 *     it unless its variable tokens, scanned alone, match a rule: then the
 *     record is matched whole (exact again).
 * The result equals gh_classes_match() of the message except when a rule
 * matches across a constant and a variable token for some records of a
 * template but not for its first ones.  Decisions depend only on the order
 * of one template's records, so 1 or N classify workers agree. */
#define GH_CLSCACHE_VERIFY 3

typedef struct gh_clscache gh_clscache_t;

/* A cache over the rule set c (which must outlive it); NULL when out of
 * memory. */
gh_clscache_t *gh_clscache_new(gh_classes_t *c);

/* Frees the cache and sets *cc to NULL; NULL-safe. */
void gh_clscache_destroy(gh_clscache_t **cc);

/* The class of msg[0..n), whose template is tpl_id with text tpl[0..tpl_n)
 * (tokens joined by single spaces, variables "<*>"); as gh_classes_match().
 * tpl_rev, when not 0, is a revision of the text that changes whenever the
 * text does (gh_miner_hit_t.rev): while it stays the same the text is not
 * looked at again.  words / nwords, when words is not NULL and nwords is not
 * GH_MASK_WORDS_UNKNOWN, are msg's blank-separated words as
 * gh_mask_line_words() finds them, which saves walking msg again. */
const char *gh_clscache_match(gh_clscache_t *cc, uint64_t tpl_id, uint64_t tpl_rev, const char *tpl, size_t tpl_n,
                              const char *msg, size_t n, const gh_span_t *words, size_t nwords);

/* Records matched whole and records served from the cache, for metrics. */
void gh_clscache_stats(const gh_clscache_t *cc, uint64_t *full, uint64_t *cached);
#endif
