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
#endif
