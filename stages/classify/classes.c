/* classes.c -- failure classes (see classes.h).
 *
 * The rules become one pattern "(?<r0>rule0)|(?<r1>rule1)|...", compiled
 * with PCRE2_CASELESS (byte semantics, no UTF check) and JIT-compiled; a
 * match reports which named group took part, which names the class.  Rules
 * may contain their own groups: group numbers are looked up by name.
 *
 * When every rule starts with a word boundary "\b" that covers the whole
 * rule (no top-level '|'), the boundary is written once in front:
 * "\b(?:(?<r0>rest0)|(?<r1>rest1)|...)".  Same matches, same order of
 * trial, same groups; but a start position inside a word fails on one test
 * instead of one per rule, and the class cache knows that a match can only
 * start at a word boundary (s_value_hits).
 */
#define PCRE2_CODE_UNIT_WIDTH 8
#include "classes.h"
#include "hash.h"
#include <ctype.h>
#include <pcre2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Keep in step with stages/classify/classes.conf. */
static const struct { const char *name, *rx; } s_defaults[] = {
    { "oom", "\\b(?:out of memory|OutOfMemoryError|oom[-_ ]?kill(?:er|ed)?|cannot allocate memory|memory allocation failed|killed process \\d+)" },
    { "disk_full", "\\b(?:no space left on device|disk (?:is )?full|quota exceeded|ENOSPC|filesystem (?:is )?full)" },
    { "crash", "\\b(?:segmentation fault|segfault|core dumped|kernel panic|panic[:!]|fatal error|SIGSEGV|SIGABRT|stack trace|uncaught exception|assertion .*failed|terminated abnormally)" },
    { "auth_failure", "\\b(?:authentication failure|auth(?:entication)? failed|failed password|invalid user|invalid credentials|login failed|access denied for user|unauthori[sz]ed|401 unauthorized|bad password|incorrect password)" },
    { "permission_denied", "\\b(?:permission denied|operation not permitted|EACCES|EPERM|forbidden|403 forbidden|access denied)" },
    { "connection_refused", "\\b(?:connection refused|ECONNREFUSED|connect(?:ion)? failed|failed to connect|unable to connect|could not connect)" },
    { "timeout", "\\b(?:timed? ?out|timeout|deadline exceeded|ETIMEDOUT|took too long)" },
    { "network_unreachable", "\\b(?:network (?:is )?unreachable|no route to host|host (?:is )?unreachable|ENETUNREACH|EHOSTUNREACH|connection reset|ECONNRESET|broken pipe|link (?:is )?down)" },
    { "dns_failure", "\\b(?:name or service not known|could not resolve|unknown host|NXDOMAIN|temporary failure in name resolution|UnknownHostException|getaddrinfo\\b.*fail|dns (?:lookup|resolution) failed)" },
    { "tls_error", "\\b(?:ssl|tls|x509|certificate|handshake)\\b.{0,40}\\b(?:error|fail\\w*|expired|invalid|unknown|bad|verify)" },
    { "rate_limited", "\\b(?:rate limit\\w*|too many requests|429\\b|throttl\\w+|slow down)" },
    { "service_restart", "\\b(?:restart(?:ing|ed)?|shutting down|shutdown|starting up|started|stopped|reboot(?:ing|ed)?|re-?spawn\\w*)" },
    { NULL, NULL }
};

struct gh_classes {
    char **names;
    char **rx;       /* each rule's regex */
    int wb;          /* every rule starts with a "\b" that was factored out */
    uint32_t *group; /* capture group number of each rule */
    size_t n, cap;
    pcre2_code *re;
    pcre2_match_data *md;
    char *pattern;
    size_t pat_n, pat_cap;
};

static int s_append(gh_classes_t *c, const char *s, size_t n) {
    if (c->pat_n + n + 1 > c->pat_cap) {
        size_t cap = (c->pat_n + n + 1) * 2;
        char *p = realloc(c->pattern, cap);
        if (!p) return -1;
        c->pattern = p;
        c->pat_cap = cap;
    }
    memcpy(c->pattern + c->pat_n, s, n);
    c->pat_n += n;
    c->pattern[c->pat_n] = 0;
    return 0;
}

/* Adds one rule; -1 with err set on a bad name or out of memory.  Each rule
 * is checked alone first, so a bad regex is reported against its own line. */
static int s_add_rule(gh_classes_t *c, const char *name, size_t name_n, const char *rx, char *err, size_t errlen,
                      const char *where) {
    for (size_t i = 0; i < name_n; i++)
        if (!isalnum((unsigned char)name[i]) && name[i] != '_' && name[i] != '-') {
            snprintf(err, errlen, "%s: bad class name", where);
            return -1;
        }
    int ec;
    PCRE2_SIZE eo;
    pcre2_code *one = pcre2_compile((PCRE2_SPTR)rx, PCRE2_ZERO_TERMINATED, PCRE2_CASELESS, &ec, &eo, NULL);
    if (!one) {
        PCRE2_UCHAR msg[160];
        pcre2_get_error_message(ec, msg, sizeof msg);
        snprintf(err, errlen, "%s: regex error at offset %zu: %s", where, (size_t)eo, (char *)msg);
        return -1;
    }
    pcre2_code_free(one);
    if (c->n == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 16;
        char **nn = realloc(c->names, cap * sizeof *nn);
        if (!nn) goto oom;
        c->names = nn;
        char **rr = realloc(c->rx, cap * sizeof *rr);
        if (!rr) goto oom;
        c->rx = rr;
        uint32_t *g = realloc(c->group, cap * sizeof *g);
        if (!g) goto oom;
        c->group = g;
        c->cap = cap;
    }
    if (!(c->names[c->n] = strndup(name, name_n))) goto oom;
    if (!(c->rx[c->n] = strdup(rx))) {
        free(c->names[c->n]);
        goto oom;
    }
    c->n++;
    return 0;
oom:
    snprintf(err, errlen, "out of memory");
    return -1;
}

/* Does rx start with a "\b" that applies to all of it?  Only when it has no
 * '|' outside parentheses and no construct this scan does not follow (\Q
 * quoting, inline options, verbs, comments, callouts): then "(?<g>\bX)"
 * and "\b(?:(?<g>X))" match the same.  Answers 0 when unsure. */
static int s_wb_leads(const char *rx) {
    if (rx[0] != '\\' || rx[1] != 'b' || (rx[2] && strchr("*+?{", rx[2]))) return 0;
    int depth = 0;
    for (const char *p = rx + 2; *p; p++) {
        switch (*p) {
        case '\\':
            if (!p[1] || p[1] == 'Q' || p[1] == 'E') return 0;
            p++;
            break;
        case '[': /* a class: ']' first is literal; escapes and [:posix:] inside */
            p++;
            if (*p == '^') p++;
            if (*p == ']') p++;
            for (; *p != ']'; p++) {
                if (!*p) return 0;
                if (*p == '\\') {
                    if (!p[1]) return 0;
                    p++;
                } else if (*p == '[' && p[1] == ':') {
                    const char *e = strstr(p + 2, ":]");
                    if (!e) return 0;
                    p = e + 1;
                }
            }
            break;
        case '(':
            if (p[1] == '*') return 0;
            if (p[1] == '?') {
                const char *q = p + 2; /* allowed: (?: (?= (?! (?> (?<= (?<! (?<name> */
                if (!(*q == ':' || *q == '=' || *q == '!' || *q == '>' ||
                      (*q == '<' && (q[1] == '=' || q[1] == '!' || isalpha((unsigned char)q[1]) || q[1] == '_'))))
                    return 0;
            }
            depth++;
            break;
        case ')':
            if (--depth < 0) return 0;
            break;
        case '|':
            if (!depth) return 0;
            break;
        default:
            break;
        }
    }
    return depth == 0;
}

/* Builds the combined pattern from the rules (see the top of this file). */
static int s_build_pattern(gh_classes_t *c) {
    c->wb = 1;
    for (size_t i = 0; i < c->n; i++)
        if (!s_wb_leads(c->rx[i])) c->wb = 0;
    if (c->wb && s_append(c, "\\b(?:", 5) < 0) return -1;
    for (size_t i = 0; i < c->n; i++) {
        char head[32];
        int hn = snprintf(head, sizeof head, "%s(?<r%zu>", i ? "|" : "", i);
        const char *rx = c->wb ? c->rx[i] + 2 : c->rx[i];
        if (s_append(c, head, (size_t)hn) < 0 || s_append(c, rx, strlen(rx)) < 0 || s_append(c, ")", 1) < 0)
            return -1;
    }
    if (c->wb && s_append(c, ")", 1) < 0) return -1;
    return 0;
}

static int s_load_file(gh_classes_t *c, const char *path, char *err, size_t errlen) {
    FILE *f = fopen(path, "r");
    if (!f) {
        snprintf(err, errlen, "%s: cannot open", path);
        return -1;
    }
    char *line = NULL;
    size_t lcap = 0;
    ssize_t len;
    int rc = 0, lineno = 0;
    while ((len = getline(&line, &lcap, f)) >= 0) {
        lineno++;
        while (len > 0 && isspace((unsigned char)line[len - 1])) line[--len] = 0;
        char *p = line;
        while (isspace((unsigned char)*p)) p++;
        if (!*p || *p == '#') continue;
        char *name = p;
        while (*p && !isspace((unsigned char)*p)) p++;
        size_t name_n = (size_t)(p - name);
        while (isspace((unsigned char)*p)) p++;
        char where[300];
        snprintf(where, sizeof where, "%s:%d", path, lineno);
        if (!*p) {
            snprintf(err, errlen, "%s: rule without a regex", where);
            rc = -1;
            break;
        }
        if (s_add_rule(c, name, name_n, p, err, errlen, where) < 0) {
            rc = -1;
            break;
        }
    }
    free(line);
    fclose(f);
    return rc;
}

gh_classes_t *gh_classes_new(const char *rules_path, char *err, size_t errlen) {
    char dummy[8];
    if (!err || !errlen) {
        err = dummy;
        errlen = sizeof dummy;
    }
    err[0] = 0;
    gh_classes_t *c = calloc(1, sizeof *c);
    if (!c) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    if (rules_path) {
        if (s_load_file(c, rules_path, err, errlen) < 0) goto fail;
    } else {
        for (size_t i = 0; s_defaults[i].name; i++)
            if (s_add_rule(c, s_defaults[i].name, strlen(s_defaults[i].name), s_defaults[i].rx, err, errlen,
                           "built-in rule") < 0)
                goto fail;
    }
    if (!c->n) return c; /* an empty rule file: nothing ever matches */
    if (s_build_pattern(c) < 0) {
        snprintf(err, errlen, "out of memory");
        goto fail;
    }
    int ec;
    PCRE2_SIZE eo;
    c->re = pcre2_compile((PCRE2_SPTR)c->pattern, c->pat_n, PCRE2_CASELESS, &ec, &eo, NULL);
    if (!c->re) {
        PCRE2_UCHAR msg[160];
        pcre2_get_error_message(ec, msg, sizeof msg);
        snprintf(err, errlen, "combined rules: %s", (char *)msg);
        goto fail;
    }
    pcre2_jit_compile(c->re, PCRE2_JIT_COMPLETE); /* falls back to the interpreter when JIT is unavailable */
    c->md = pcre2_match_data_create_from_pattern(c->re, NULL);
    if (!c->md) {
        snprintf(err, errlen, "out of memory");
        goto fail;
    }
    for (size_t i = 0; i < c->n; i++) {
        char gname[32];
        snprintf(gname, sizeof gname, "r%zu", i);
        int g = pcre2_substring_number_from_name(c->re, (PCRE2_SPTR)gname);
        if (g <= 0) {
            snprintf(err, errlen, "rule %zu: a rule may not define group names r<N>", i);
            goto fail;
        }
        c->group[i] = (uint32_t)g;
    }
    return c;
fail:
    gh_classes_destroy(&c);
    return NULL;
}

void gh_classes_destroy(gh_classes_t **cp) {
    gh_classes_t *c = cp ? *cp : NULL;
    if (!c) return;
    for (size_t i = 0; i < c->n; i++) {
        free(c->names[i]);
        free(c->rx[i]);
    }
    free(c->names);
    free(c->rx);
    free(c->group);
    free(c->pattern);
    if (c->md) pcre2_match_data_free(c->md);
    if (c->re) pcre2_code_free(c->re);
    free(c);
    *cp = NULL;
}

/* The class of msg[0..n) and where its match lies ([*s, *e)); NULL when none. */
static const char *s_match(gh_classes_t *c, const char *msg, size_t n, size_t *s, size_t *e) {
    if (!c || !c->re) return NULL;
    int rc = pcre2_match(c->re, (PCRE2_SPTR)msg, n, 0, 0, c->md, NULL);
    if (rc <= 0) return NULL;
    PCRE2_SIZE *ov = pcre2_get_ovector_pointer(c->md);
    uint32_t pairs = pcre2_get_ovector_count(c->md);
    *s = ov[0];
    *e = ov[1];
    for (size_t i = 0; i < c->n; i++) {
        uint32_t g = c->group[i];
        if (g < pairs && g < (uint32_t)rc && ov[2 * g] != PCRE2_UNSET) return c->names[i];
    }
    return NULL;
}

const char *gh_classes_match(gh_classes_t *c, const char *msg, size_t n) {
    size_t s, e;
    return s_match(c, msg, n, &s, &e);
}

size_t gh_classes_count(const gh_classes_t *c) { return c ? c->n : 0; }

/* ---- per-template cache (see classes.h) ------------------------------------ */

#define S_MAX_TOK 64          /* templates with more tokens are matched per record */
#define S_CACHE_MAX 32768     /* entries; past this the cache starts over */
#define S_CLEAN 16384         /* memo of variable values known to match no rule */
#define S_SHORT 4096          /* memo of the same for values of at most 8 bytes, by their bytes */
#define S_STARTS 16384        /* memo of s_may_start's answers */

enum { S_VERIFY = 0, S_STABLE, S_PER_RECORD };
enum { S_B_WORD = 1, S_B_START = 2 };

/* PCRE2's \w in its default (ASCII) tables: letters, digits, '_'. */
static int s_word(unsigned char ch) {
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '_';
}

typedef struct {
    uint64_t id;              /* template id; 0 = empty slot */
    uint64_t text_h;          /* hash of the template text the entry was made for */
    uint64_t rev;             /* the caller's revision of that text; 0 = none yet */
    uint64_t varmask;         /* bit j: token j of the template holds a "<*>" */
    const char *cls;
    uint16_t ntok;
    uint8_t seen, mode;
    /* per variable token: bytes of constant text before its first "<*>" and
     * after its last one ("uid=<*>"), which a record's scan skips */
    uint8_t pre[S_MAX_TOK], suf[S_MAX_TOK];
} s_entry_t;

struct gh_clscache {
    gh_classes_t *c;
    s_entry_t *tab;
    size_t cap, count;
    uint64_t full, cached;
    int has_start;            /* start[] is valid: a match must begin with one of these bytes */
    int wb;                   /* has_start, and a match must begin at a word boundary */
    int pfx;                  /* has_start, and s_may_start may be asked (no lookbehind but \b, \B) */
    uint8_t byte[256];        /* per byte: S_B_WORD, S_B_START (in start[]) */
    uint8_t start[32];
    uint64_t clean[S_CLEAN];  /* hashes of variable values that match no rule alone */
    struct {
        uint64_t key;         /* s_short_key of the value */
        uint64_t n;           /* its length; 0 = empty slot */
    } shrt[S_SHORT];          /* values of 1..8 bytes that match no rule alone, exactly */
    uint64_t starts[S_STARTS]; /* s_may_start: its key, bit 40 the answer, bit 41 set (0 = empty) */
};

gh_clscache_t *gh_clscache_new(gh_classes_t *c) {
    gh_clscache_t *cc = calloc(1, sizeof *cc);
    if (!cc) return NULL;
    cc->c = c;
    /* PCRE2's start-byte bitmap: a value with none of these bytes cannot hold
     * the start of a match (only when no match can be empty) */
    const uint8_t *bm = NULL;
    uint32_t minlen = 0;
    if (c->re && pcre2_pattern_info(c->re, PCRE2_INFO_FIRSTBITMAP, &bm) == 0 && bm &&
        pcre2_pattern_info(c->re, PCRE2_INFO_MINLENGTH, &minlen) == 0 && minlen > 0) {
        memcpy(cc->start, bm, sizeof cc->start);
        cc->has_start = 1;
        cc->wb = c->wb;
        /* s_may_start shows PCRE2 one byte before a place: exact when no lookbehind looks further,
         * which "(?<=", "(?<!", verbs and callouts could (nested lookbehinds look further than
         * PCRE2_INFO_MAXLOOKBEHIND says) */
        uint32_t lb = 0;
        cc->pfx = pcre2_pattern_info(c->re, PCRE2_INFO_MAXLOOKBEHIND, &lb) == 0 && lb <= 1 &&
                  !strstr(c->pattern, "(?<=") && !strstr(c->pattern, "(?<!") && !strstr(c->pattern, "(*") &&
                  !strstr(c->pattern, "(?C");
        for (int b = 0; b < 256; b++)
            cc->byte[b] = (uint8_t)((s_word((unsigned char)b) ? S_B_WORD : 0) |
                                    (cc->start[b >> 3] & (1u << (b & 7)) ? S_B_START : 0));
    }
    cc->cap = 1024;
    cc->tab = calloc(cc->cap, sizeof *cc->tab);
    if (!cc->tab) {
        free(cc);
        return NULL;
    }
    return cc;
}

void gh_clscache_destroy(gh_clscache_t **ccp) {
    gh_clscache_t *cc = ccp ? *ccp : NULL;
    if (!cc) return;
    free(cc->tab);
    free(cc);
    *ccp = NULL;
}

void gh_clscache_stats(const gh_clscache_t *cc, uint64_t *full, uint64_t *cached) {
    *full = cc ? cc->full : 0;
    *cached = cc ? cc->cached : 0;
}

static size_t s_slot(const gh_clscache_t *cc, uint64_t id) {
    size_t i = (size_t)(id * 0x9e3779b97f4a7c15ull >> 17) & (cc->cap - 1);
    while (cc->tab[i].id && cc->tab[i].id != id) i = (i + 1) & (cc->cap - 1);
    return i;
}

/* The entry of id, made when missing; NULL when out of memory. */
static s_entry_t *s_entry(gh_clscache_t *cc, uint64_t id) {
    size_t i = s_slot(cc, id);
    if (cc->tab[i].id) return &cc->tab[i];
    if (cc->count + 1 > cc->cap / 2) {
        if (cc->count >= S_CACHE_MAX) { /* ids of evicted templates pile up: start over */
            memset(cc->tab, 0, cc->cap * sizeof *cc->tab);
            cc->count = 0;
        } else {
            size_t ocap = cc->cap;
            s_entry_t *old = cc->tab, *nt = calloc(2 * ocap, sizeof *nt);
            if (!nt) return NULL;
            cc->tab = nt;
            cc->cap = 2 * ocap;
            for (size_t k = 0; k < ocap; k++)
                if (old[k].id) cc->tab[s_slot(cc, old[k].id)] = old[k];
            free(old);
        }
        i = s_slot(cc, id);
    }
    cc->count++;
    memset(&cc->tab[i], 0, sizeof cc->tab[i]);
    cc->tab[i].id = id;
    return &cc->tab[i];
}

static int s_blank(char ch) { return ch == ' ' || ch == '\t' || ch == '\r' || ch == '\n' || ch == '\v' || ch == '\f'; }

/* (Re)derives an entry from its template text: token count and which tokens
 * are variable.  A template the cache cannot follow is matched per record. */
/* The variable part of token k, at [b, e) in the message: the token less the
 * constant prefix and suffix the template writes around its <*>. */
static void s_var_span(const s_entry_t *en, unsigned k, size_t b, size_t e, uint32_t *vs, uint32_t *ve) {
    *vs = (uint32_t)b;
    *ve = (uint32_t)e;
    if (e - b > (size_t)en->pre[k] + en->suf[k]) {
        *vs += en->pre[k];
        *ve -= en->suf[k];
    }
}

static void s_entry_set(s_entry_t *en, uint64_t text_h, const char *tpl, size_t tpl_n) {
    en->text_h = text_h;
    en->varmask = 0;
    en->ntok = 0;
    en->seen = 0;
    en->cls = NULL;
    en->mode = S_VERIFY;
    size_t i = 0, ntok = 0;
    while (i < tpl_n) {
        while (i < tpl_n && tpl[i] == ' ') i++;
        if (i >= tpl_n) break;
        size_t b = i;
        while (i < tpl_n && tpl[i] != ' ') i++;
        if (ntok >= S_MAX_TOK) {
            en->mode = S_PER_RECORD;
            return;
        }
        const char *st = memmem(tpl + b, i - b, "<*>", 3);
        if (st) {
            const char *last = st;
            for (const char *x; (x = memmem(last + 3, (size_t)(tpl + i - last - 3), "<*>", 3)) != NULL;) last = x;
            size_t pre = (size_t)(st - (tpl + b)), suf = (size_t)(tpl + i - (last + 3));
            en->varmask |= 1ull << ntok;
            en->pre[ntok] = (uint8_t)(pre > 255 ? 255 : pre);
            en->suf[ntok] = (uint8_t)(suf > 255 ? 255 : suf);
        }
        ntok++;
    }
    en->ntok = (uint16_t)ntok;
}

/* The bytes of v[0..n), 1 <= n <= 8, as one number; with n, it gives the
 * bytes back (the two loads overlap, or repeat bytes, but cover all of
 * them), and no byte past v + n is read. */
static uint64_t s_short_key(const char *v, size_t n) {
    const unsigned char *u = (const unsigned char *)v;
    if (n >= 4) {
        uint32_t lo, hi;
        memcpy(&lo, u, 4);
        memcpy(&hi, u + n - 4, 4);
        return (uint64_t)hi << 32 | lo;
    }
    return (uint64_t)u[0] | (uint64_t)u[n >> 1] << 8 | (uint64_t)u[n - 1] << 16;
}

/* Can a match of some rule start at u[i] of the value u[0..n) (scanned
 * alone)?  0 only when none can: PCRE2 is asked, anchored with a hard
 * partial match, about the byte before u[i] (none at i = 0) and up to 3
 * bytes from u[i]; "no match" then means no subject with that beginning
 * matches there, whatever follows ("partial" answers yes).  The answer
 * depends on those bytes only (cc->pfx: no lookbehind past one byte), and
 * is remembered per those bytes. */
static int s_may_start(gh_clscache_t *cc, const unsigned char *u, size_t n, size_t i) {
    size_t k = n - i < 3 ? n - i : 3, off = i ? 1 : 0;
    unsigned char s[4] = { 0, 0, 0, 0 };
    if (off) s[0] = u[i - 1];
    memcpy(s + off, u + i, k);
    uint64_t key = (uint64_t)s[0] | (uint64_t)s[1] << 8 | (uint64_t)s[2] << 16 | (uint64_t)s[3] << 24 |
                   (uint64_t)k << 32 | (uint64_t)off << 34;
    uint64_t *slot = &cc->starts[(size_t)(key * 0x9e3779b97f4a7c15ull >> 50) & (S_STARTS - 1)];
    if ((*slot & ~(1ull << 40)) == (key | 1ull << 41)) return (int)(*slot >> 40 & 1);
    int rc = pcre2_match(cc->c->re, s, off + k, off, PCRE2_ANCHORED | PCRE2_PARTIAL_HARD, cc->c->md, NULL);
    int may = rc != PCRE2_ERROR_NOMATCH; /* a match, a partial one, or an error: maybe */
    *slot = key | 1ull << 41 | (uint64_t)may << 40;
    return may;
}

/* Does a rule match inside the variable value v[0..n), scanned alone?  Pure
 * function of the bytes; the memos only save repeated work.  A match must
 * start at a byte of the start bitmap, and (cc->wb) at a word boundary, the
 * start of v counting as a non-word byte before it: a value without such a
 * place ("946699", a hex id) is answered without PCRE2, and so is one where
 * no such place passes s_may_start ("45557", "SHA256:1f...").  Inlined into
 * both loops of gh_clscache_match (called, it costs more than it saves). */
static inline __attribute__((always_inline)) int s_value_hits(gh_clscache_t *cc, const char *v, size_t n) {
    if (!n) return 0;
    const unsigned char *u = (const unsigned char *)v;
    size_t i = 0; /* the first place a match may start */
    if (cc->has_start) {
        if (cc->wb) {
            /* the byte before is looked at only at a start byte (the start of v: a non-word byte) */
            for (; i < n; i++)
                if ((cc->byte[u[i]] & S_B_START) && ((cc->byte[u[i]] ^ (i ? cc->byte[u[i - 1]] : 0)) & S_B_WORD))
                    break;
        } else {
            while (i < n && !(cc->start[u[i] >> 3] & (1u << (u[i] & 7)))) i++;
        }
        if (i == n) return 0;
    }
    uint64_t key = 0, h = 0, *slot = NULL;
    size_t si = 0;
    if (n <= 8) { /* a short value is its own key: no hash, no collision */
        key = s_short_key(v, n);
        si = (size_t)((key + n) * 0x9e3779b97f4a7c15ull >> 52) & (S_SHORT - 1);
        if (cc->shrt[si].n == n && cc->shrt[si].key == key) return 0;
    } else {
        h = gh_hash_fast(v, n, 0x636c6173u) | 1; /* a memo key only: the faster hash */
        slot = &cc->clean[h % S_CLEAN];
        if (*slot == h) return 0;
    }
    int may = 1;
    if (cc->pfx) { /* every place a match may start, from i on, asked of s_may_start */
        may = s_may_start(cc, u, n, i);
        while (!may && ++i < n) {
            unsigned k = cc->byte[u[i]];
            if ((k & S_B_START) && (!cc->wb || ((k ^ cc->byte[u[i - 1]]) & S_B_WORD))) may = s_may_start(cc, u, n, i);
        }
    }
    if (may && pcre2_match(cc->c->re, (PCRE2_SPTR)v, n, 0, 0, cc->c->md, NULL) > 0) return 1;
    if (slot) {
        *slot = h;
    } else {
        cc->shrt[si].key = key;
        cc->shrt[si].n = n;
    }
    return 0;
}

const char *gh_clscache_match(gh_clscache_t *cc, uint64_t tpl_id, uint64_t tpl_rev, const char *tpl, size_t tpl_n,
                              const char *msg, size_t n, const gh_span_t *words, size_t nwords) {
    if (!cc->c->re) return NULL;
    s_entry_t *en = tpl_id ? s_entry(cc, tpl_id) : NULL;
    if (!en) {
        cc->full++;
        return gh_classes_match(cc->c, msg, n);
    }
    if (!tpl_rev || en->rev != tpl_rev) { /* the text may have changed: its hash says whether it did */
        uint64_t h = gh_hash(tpl, tpl_n, 0);
        if (en->text_h != h || !en->ntok) s_entry_set(en, h, tpl, tpl_n);
        en->rev = tpl_rev;
    }
    /* no tokens to follow: a blank template, or one with more than S_MAX_TOK */
    if (en->mode == S_PER_RECORD || !en->ntok) {
        cc->full++;
        return gh_classes_match(cc->c, msg, n);
    }
    /* the message's tokens: spans of the variable ones */
    uint32_t vs[S_MAX_TOK], ve[S_MAX_TOK];
    size_t nv = 0, ntok = 0, i = 0;
    if (words && nwords != GH_MASK_WORDS_UNKNOWN) {
        ntok = nwords;
        /* stable, and the words line up: what the code below does, each value checked as its span
         * is found (no span arrays; s_value_hits is inlined into this loop too) */
        if (ntok == en->ntok && en->mode == S_STABLE && n <= UINT32_MAX) {
            for (uint64_t vm = en->varmask; vm; vm &= vm - 1) {
                unsigned k = (unsigned)__builtin_ctzll(vm);
                uint32_t a, z;
                s_var_span(en, k, words[k].off, words[k].off + words[k].len, &a, &z);
                if (s_value_hits(cc, msg + a, z - a)) {
                    cc->full++;
                    return gh_classes_match(cc->c, msg, n);
                }
            }
            cc->cached++;
            return en->cls;
        }
        if (ntok == en->ntok)
            for (uint64_t vm = en->varmask; vm; vm &= vm - 1) {
                unsigned k = (unsigned)__builtin_ctzll(vm);
                s_var_span(en, k, words[k].off, words[k].off + words[k].len, &vs[nv], &ve[nv]);
                nv++;
            }
    } else {
        while (i < n) {
            while (i < n && s_blank(msg[i])) i++;
            if (i >= n) break;
            size_t b = i;
            while (i < n && !s_blank(msg[i])) i++;
            if (ntok >= en->ntok) {
                ntok++;
                break;
            }
            if (en->varmask >> ntok & 1) {
                s_var_span(en, (unsigned)ntok, b, i, &vs[nv], &ve[nv]);
                nv++;
            }
            ntok++;
        }
    }
    if (ntok != en->ntok || n > UINT32_MAX) { /* the tokens do not line up (units folded, cut lines) */
        cc->full++;
        return gh_classes_match(cc->c, msg, n);
    }
    if (en->mode == S_VERIFY) {
        size_t s = 0, e = 0;
        const char *cls = s_match(cc->c, msg, n, &s, &e);
        cc->full++;
        int touches = 0;
        for (size_t k = 0; cls && k < nv; k++)
            if (s < ve[k] && vs[k] < e) touches = 1;
        if (touches || (en->seen && cls != en->cls)) en->mode = S_PER_RECORD;
        else if (++en->seen >= GH_CLSCACHE_VERIFY) en->mode = S_STABLE;
        en->cls = cls;
        return cls;
    }
    /* stable: the class is in the constant text unless a variable says more */
    for (size_t k = 0; k < nv; k++)
        if (s_value_hits(cc, msg + vs[k], ve[k] - vs[k])) {
            cc->full++;
            return gh_classes_match(cc->c, msg, n);
        }
    cc->cached++;
    return en->cls;
}
