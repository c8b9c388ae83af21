/* mask.h -- turns a log message into the token sequence the template miner
 * works on, with variables replaced by "<*>".
 *
 * A message is split on blanks.  Inside a token, runs of characters between
 * delimiters (: = , ( ) [ ] { } " ' < > ; | and runs of two or more dots)
 * are "segments"; a segment that contains a digit is a variable (numbers,
 * hex ids, IPs, ports, UUIDs, timestamps, block ids, key=value values ...),
 * except a short word with one embedded digit (ssh2, jk2_init, utf8), which
 * is a name.  A token that is a path (starts with '/') is one variable; a URL
 * keeps its scheme ("hdfs://<*>").  A unit after a number ("5 KB", "3 ms")
 * is folded into the number, so "5 KB" and "5 B" give the same template.
 * Variables without digits (user names, host names) are not this module's
 * job: the miner finds them by merging templates position by position.
 */
#ifndef GH_MASK_H
#define GH_MASK_H
#include <stddef.h>
#include <stdint.h>

#define GH_MASK_MAX_TOKENS 256   /* tokens past this are folded into one last "<*>" */
#define GH_MASK_MAX_INPUT 16384  /* bytes of a message that are looked at */
#define GH_MASK_OUT_CAP (3 * GH_MASK_MAX_INPUT + 64) /* enough output for any input */

typedef struct { uint32_t off, len; } gh_span_t;

/* Masks msg[0..n) into out (cap >= GH_MASK_OUT_CAP), tokens joined by one
 * space, and fills toks[] (GH_MASK_MAX_TOKENS entries) with each token's
 * place in out.  *out_n gets the output length.  Returns the token count
 * (0 for a blank message).  Never allocates. */
size_t gh_mask_line(const char *msg, size_t n, char *out, size_t cap, size_t *out_n, gh_span_t *toks);

#define GH_MASK_WORDS_UNKNOWN ((size_t)-1)

/* As gh_mask_line, and also fills words[] (GH_MASK_MAX_TOKENS entries) with
 * the place in msg of each blank-separated word, which is what the failure
 * class cache walks; *nwords gets their number, or GH_MASK_WORDS_UNKNOWN
 * when the masker did not see them all (past GH_MASK_MAX_INPUT bytes or the
 * token limit, or more words than words[] holds).  words may be NULL. */
size_t gh_mask_line_words(const char *msg, size_t n, char *out, size_t cap, size_t *out_n, gh_span_t *toks,
                          gh_span_t *words, size_t *nwords);

/* Masks one blank-free token into out (room for 3*n+4 bytes); returns the
 * output length. */
size_t gh_mask_token(const char *tok, size_t n, char *out);
#endif
