/* parse.c -- the parser object, format detection, the helpers every format
 * parser shares (arena, fields, levels, timestamps) and the --dump writer.
 *
 * Detection first tries the formats with an unambiguous signature (JSON:
 * '{', auditd: "type=", RFC 5424: "<PRI>1 "), then the format last detected
 * for the line's source (the common case: a file holds one format), then the
 * rest from the most to the least specific: RFC 3164, access log, logfmt;
 * plain text is what is left.  Each parser rejects a line cheaply on its
 * first bytes, so a miss costs little.
 *
 * The hot path does not allocate: the arena and field arrays grow to the
 * largest line seen and are reused (the JSON parser's own tree is the one
 * exception, jansson has no streaming interface).
 */
#include "ingest/parse_int.h"
#include "clock.h"
#include "hash.h"

#include <ctype.h>
#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>
#include <time.h>

/* ---- arena and fields --------------------------------------------------- */

void gh_ps_reset(gh_parser_t *p) {
    p->alen = 0;
    p->npf = 0;
    p->kbloom = 0;
    p->oom = 0;
    p->has_ts = 0;
    p->ts_ms = 0;
    p->yr_inferred = 0;
    p->level = GH_LVL_INFO;
    p->format = GH_FMT_PLAIN;
    p->host = gh_pref_ext(NULL, 0);
    p->msg = gh_pref_ext(NULL, 0);
}

size_t gh_ps_reserve(gh_parser_t *p, size_t n) {
    if (p->alen + n > p->acap) {
        size_t cap = p->acap ? p->acap : 4096;
        while (cap < p->alen + n) cap *= 2;
        char *a = realloc(p->arena, cap);
        if (!a) { p->oom = 1; return (size_t)-1; }
        p->arena = a;
        p->acap = cap;
    }
    size_t off = p->alen;
    p->alen += n;
    return off;
}

size_t gh_ps_put(gh_parser_t *p, const char *s, size_t n) {
    size_t off = gh_ps_reserve(p, n + 1);
    if (off == (size_t)-1) return 0;  /* the line degrades to plain (p->oom) */
    if (n) memcpy(p->arena + off, s, n);
    p->arena[off + n] = '\0';
    return off;
}

static inline uint64_t s_kbit(const char *k, size_t kn) {
    if (!kn) return 1;
    return (uint64_t)1 << (((unsigned char)k[0] * 31u + (unsigned char)k[kn - 1] * 7u + (unsigned)kn) & 63u);
}

static gh_pfield_t *s_new_field(gh_parser_t *p) {
    if (p->npf == p->pfcap) {
        size_t cap = p->pfcap ? p->pfcap * 2 : 64;
        gh_pfield_t *f = realloc(p->pf, cap * sizeof *f);
        if (!f) { p->oom = 1; return NULL; }
        p->pf = f;
        p->pfcap = cap;
    }
    return &p->pf[p->npf++];
}

void gh_ps_add_vo(gh_parser_t *p, const char *k, size_t kn, size_t vo, size_t vn) {
    size_t ko = gh_ps_put(p, k, kn);
    gh_pfield_t *f = s_new_field(p);
    if (!f || p->oom) return;
    p->kbloom |= s_kbit(k, kn);
    f->ko = ko; f->kn = kn; f->vo = vo; f->vn = vn; f->flags = 0;
}

void gh_ps_add(gh_parser_t *p, const char *k, size_t kn, const char *v, size_t vn, unsigned flags) {
    size_t ko = gh_ps_put(p, k, kn);
    size_t vo = gh_ps_put(p, v, vn);
    gh_pfield_t *f = s_new_field(p);
    if (!f || p->oom) return;
    p->kbloom |= s_kbit(k, kn);
    f->ko = ko; f->kn = kn; f->vo = vo; f->vn = vn; f->flags = flags;
}

long gh_ps_find(gh_parser_t *p, const char *k, size_t kn) {
    if (!(p->kbloom & s_kbit(k, kn))) return -1;
    for (size_t i = 0; i < p->npf; i++)
        if (p->pf[i].kn == kn && !memcmp(p->arena + p->pf[i].ko, k, kn)) return (long)i;
    return -1;
}

long gh_ps_find_first(gh_parser_t *p, const gh_pkey_t *keys) {
    for (; keys->k; keys++) {
        long i = gh_ps_find(p, keys->k, keys->n);
        if (i >= 0) return i;
    }
    return -1;
}

void gh_ps_set(gh_parser_t *p, const char *k, size_t kn, const char *v, size_t vn, unsigned flags) {
    long i = gh_ps_find(p, k, kn);
    if (i < 0) { gh_ps_add(p, k, kn, v, vn, flags); return; }
    size_t vo = gh_ps_put(p, v, vn);
    if (p->oom) return;
    p->pf[i].vo = vo; p->pf[i].vn = vn; p->pf[i].flags = flags;
}

void gh_ps_del(gh_parser_t *p, long idx) {
    if (idx < 0 || (size_t)idx >= p->npf) return;
    memmove(&p->pf[idx], &p->pf[idx + 1], (p->npf - (size_t)idx - 1) * sizeof *p->pf);
    p->npf--;
}

/* A key list's index, built on first use, one per list (the lists are static
 * tables; a few per parser):
 *   - a filter: bit (length & 63) of word [first byte] is set when the list
 *     holds a key of that first byte and length, so most keys that are not
 *     in the list are turned away on one load;
 *   - an open-addressing table of the list's keys (1 + position in the list,
 *     0 empty) by a hash of first byte, last byte, middle byte and length, so
 *     a key that passes the filter is compared with one or two keys of the
 *     list, not walked through all of them.  A list too long for the table
 *     is walked. */
#define S_KEYF_MAX 16
#define S_KEYF_SLOTS 256u
static _Thread_local struct {
    const gh_pkey_t *list;
    int indexed;
    uint64_t mask[256];
    unsigned char slot[S_KEYF_SLOTS];
} s_keyf[S_KEYF_MAX];

static inline unsigned s_key_slot(const char *k, size_t kn) {
    return ((unsigned char)k[0] * 31u + (unsigned char)k[kn - 1] * 7u + (unsigned char)k[kn / 2] * 3u +
            (unsigned)kn * 101u) & (S_KEYF_SLOTS - 1);
}

static int s_key_filter(const gh_pkey_t *keys) {
    for (int i = 0; i < S_KEYF_MAX; i++) {
        if (s_keyf[i].list == keys) return i;
        if (!s_keyf[i].list) {
            s_keyf[i].list = keys;
            size_t nk = 0;
            for (const gh_pkey_t *k = keys; k->k; k++, nk++)
                if (k->n) s_keyf[i].mask[(unsigned char)k->k[0]] |= 1ull << (k->n & 63);
            s_keyf[i].indexed = nk < S_KEYF_SLOTS / 2;
            if (s_keyf[i].indexed)
                for (size_t j = 0; j < nk; j++) {
                    if (!keys[j].n) continue;
                    unsigned h = s_key_slot(keys[j].k, keys[j].n);
                    while (s_keyf[i].slot[h]) h = (h + 1) & (S_KEYF_SLOTS - 1);
                    s_keyf[i].slot[h] = (unsigned char)(j + 1);
                }
            return i;
        }
    }
    return -1;   /* more lists than slots: no index */
}

int gh_ps_key_in(const char *k, size_t kn, const gh_pkey_t *keys) {
    if (!kn) {
        for (; keys->k; keys++)
            if (!keys->n) return 1;
        return 0;
    }
    int f = s_key_filter(keys);
    if (f >= 0) {
        if (!(s_keyf[f].mask[(unsigned char)k[0]] >> (kn & 63) & 1)) return 0;
        if (s_keyf[f].indexed) {
            for (unsigned h = s_key_slot(k, kn); s_keyf[f].slot[h]; h = (h + 1) & (S_KEYF_SLOTS - 1)) {
                const gh_pkey_t *c = &keys[s_keyf[f].slot[h] - 1];
                if (c->n == kn && !memcmp(c->k, k, kn)) return 1;
            }
            return 0;
        }
    }
    for (; keys->k; keys++)
        if (keys->n == kn && keys->k[0] == k[0] && !memcmp(keys->k, k, kn)) return 1;
    return 0;
}

int gh_ps_scratch(gh_parser_t *p, size_t n) {
    if (n <= p->scap) return 0;
    size_t cap = p->scap ? p->scap : 4096;
    while (cap < n) cap *= 2;
    char *s = realloc(p->scratch, cap);
    if (!s) return -1;
    p->scratch = s;
    p->scap = cap;
    return 0;
}

/* ---- levels ------------------------------------------------------------- */

/* A level word and its length: compared on the length first, then the bytes
 * (the words are lower case; what is compared was lower-cased first). */
typedef struct { const char *w; unsigned char n, lvl; } s_lword_t;
#define S_LW(s, l) { s, sizeof(s) - 1, l }

/* s[0..n) lower-cased (ASCII) into b; n <= 16. */
static void s_lower(const char *s, size_t n, char *b) {
    for (size_t i = 0; i < n; i++) b[i] = (char)(s[i] >= 'A' && s[i] <= 'Z' ? s[i] + 32 : s[i]);
}

static int s_lword(const s_lword_t *t, size_t nt, const char *b, size_t n) {
    for (size_t i = 0; i < nt; i++)
        if (t[i].n == n && t[i].w[0] == b[0] && !memcmp(t[i].w, b, n)) return t[i].lvl;
    return -1;
}

int gh_ps_level_word(const char *s, size_t n) {
    static const s_lword_t words[] = {
        S_LW("emerg", GH_LVL_EMERG), S_LW("emergency", GH_LVL_EMERG), S_LW("panic", GH_LVL_EMERG),
        S_LW("alert", GH_LVL_ALERT),
        S_LW("crit", GH_LVL_CRIT), S_LW("critical", GH_LVL_CRIT), S_LW("fatal", GH_LVL_CRIT),
        S_LW("err", GH_LVL_ERR), S_LW("error", GH_LVL_ERR), S_LW("severe", GH_LVL_ERR),
        S_LW("warn", GH_LVL_WARNING), S_LW("warning", GH_LVL_WARNING),
        S_LW("notice", GH_LVL_NOTICE),
        S_LW("info", GH_LVL_INFO), S_LW("information", GH_LVL_INFO), S_LW("informational", GH_LVL_INFO),
        S_LW("debug", GH_LVL_DEBUG), S_LW("trace", GH_LVL_DEBUG), S_LW("dbg", GH_LVL_DEBUG),
        S_LW("verbose", GH_LVL_DEBUG),
    };
    if (n == 0 || n > 13) return -1;
    char b[16];
    s_lower(s, n, b);
    int lvl = s_lword(words, sizeof words / sizeof *words, b, n);
    if (lvl >= 0) return lvl;
    if (n == 1 && s[0] >= '0' && s[0] <= '7') return s[0] - '0';
    return gh_level_parse(s, n);
}

int gh_ps_level_value(const char *v, size_t vn) {
    int lvl = gh_ps_level_word(v, vn);
    if (lvl >= 0) return lvl;
    /* log15's four-letter words, glog/klog's one-letter ones */
    static const s_lword_t more[] = {
        S_LW("dbug", GH_LVL_DEBUG), S_LW("eror", GH_LVL_ERR), S_LW("crt", GH_LVL_CRIT), S_LW("wrn", GH_LVL_WARNING),
        S_LW("inf", GH_LVL_INFO), S_LW("dbg", GH_LVL_DEBUG), S_LW("e", GH_LVL_ERR), S_LW("w", GH_LVL_WARNING),
        S_LW("i", GH_LVL_INFO), S_LW("d", GH_LVL_DEBUG), S_LW("f", GH_LVL_CRIT), S_LW("t", GH_LVL_DEBUG),
    };
    /* a number only when the whole value is one ("30", "3.0") */
    if (vn == 0 || vn > 8) return -1;
    char b[16];
    s_lower(v, vn, b);
    if ((lvl = s_lword(more, sizeof more / sizeof *more, b, vn)) >= 0) return lvl;
    char buf[16], *end;
    memcpy(buf, v, vn);
    buf[vn] = '\0';
    double d = strtod(buf, &end);
    return end == buf + vn ? gh_ps_level_num(d) : -1;
}

int gh_ps_level_num(double v) {
    if (v >= 0 && v <= 7 && v == (int)v) return (int)v;
    /* pino / bunyan: 10 trace, 20 debug, 30 info, 40 warn, 50 error, 60 fatal */
    if (v >= 10 && v < 70) {
        static const int map[] = { GH_LVL_DEBUG, GH_LVL_DEBUG, GH_LVL_INFO, GH_LVL_WARNING, GH_LVL_ERR,
                                   GH_LVL_CRIT };
        return map[(int)v / 10 - 1];
    }
    return -1;
}

/* ASCII letters (isalpha/isupper in the C locale), without the locale tables. */
static inline int s_alpha(unsigned char c) { return (unsigned)((c | 0x20) - 'a') < 26u; }
static inline int s_upper(unsigned char c) { return (unsigned)(c - 'A') < 26u; }

/* Where gh_ps_guess_level looks next: the first byte in s[i..lim) that is an
 * upper-case letter, 'e', '[' or '<', or lim.  A level word is all upper
 * case, or "error" in any case, or in brackets; so a word that starts with
 * none of these (most words), and the blanks, digits and punctuation
 * between words, can be passed over without a look at each byte: eight
 * bytes at a time, A-Z and '[' (0x41..0x5b) as a range of the low seven bits
 * (no carry between bytes; bytes >= 0x80 masked out), 'e' and '<' as zero
 * bytes of w ^ c, whose lowest flag is always a true one. */
static size_t s_level_cand(const char *s, size_t i, size_t lim) {
    const uint64_t ones = 0x0101010101010101ull, high = 0x8080808080808080ull;
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__   /* the first byte is the lowest */
    for (; i + 8 <= lim; i += 8) {
        uint64_t w, lo, e, lt, m;
        memcpy(&w, s + i, 8);
        lo = w & ~high;
        m = (lo + ones * (0x80 - 0x41)) & ~(lo + ones * (0x7f - 0x5b)) & ~w & high;
        e = w ^ (ones * 'e');
        lt = w ^ (ones * '<');
        m |= ((e - ones) & ~e & high) | ((lt - ones) & ~lt & high);
        if (m) return i + (size_t)__builtin_ctzll(m) / 8;
    }
#endif
    for (; i < lim; i++) {
        unsigned char c = (unsigned char)s[i];
        if (s_upper(c) || c == 'e' || c == '[' || c == '<') return i;
    }
    return lim;
}

/* Level words recognised in free text: only these (not "err", "alert", "info"
 * that read as ordinary words), as whole words, upper case or in brackets.
 * A candidate word (3..8 letters) is compared upper-cased, as one 64-bit
 * word, with the table's words of its length. */
int gh_ps_guess_level(const char *s, size_t n) {
#define S_W8(a, b, c, d, e, f, g, h) ((uint64_t)(a) | (uint64_t)(b) << 8 | (uint64_t)(c) << 16 | (uint64_t)(d) << 24 | \
                                     (uint64_t)(e) << 32 | (uint64_t)(f) << 40 | (uint64_t)(g) << 48 | (uint64_t)(h) << 56)
    static const struct { uint64_t w; unsigned char n, lvl; } words[] = {
        { S_W8('F', 'A', 'T', 'A', 'L', 0, 0, 0), 5, GH_LVL_CRIT },
        { S_W8('C', 'R', 'I', 'T', 'I', 'C', 'A', 'L'), 8, GH_LVL_CRIT },
        { S_W8('C', 'R', 'I', 'T', 0, 0, 0, 0), 4, GH_LVL_CRIT },
        { S_W8('P', 'A', 'N', 'I', 'C', 0, 0, 0), 5, GH_LVL_EMERG },
        { S_W8('E', 'M', 'E', 'R', 'G', 0, 0, 0), 5, GH_LVL_EMERG },
        { S_W8('A', 'L', 'E', 'R', 'T', 0, 0, 0), 5, GH_LVL_ALERT },
        { S_W8('E', 'R', 'R', 'O', 'R', 0, 0, 0), 5, GH_LVL_ERR },
        { S_W8('E', 'R', 'R', 0, 0, 0, 0, 0), 3, GH_LVL_ERR },
        { S_W8('S', 'E', 'V', 'E', 'R', 'E', 0, 0), 6, GH_LVL_ERR },
        { S_W8('W', 'A', 'R', 'N', 0, 0, 0, 0), 4, GH_LVL_WARNING },
        { S_W8('W', 'A', 'R', 'N', 'I', 'N', 'G', 0), 7, GH_LVL_WARNING },
        { S_W8('N', 'O', 'T', 'I', 'C', 'E', 0, 0), 6, GH_LVL_NOTICE },
        { S_W8('I', 'N', 'F', 'O', 0, 0, 0, 0), 4, GH_LVL_INFO },
        { S_W8('D', 'E', 'B', 'U', 'G', 0, 0, 0), 5, GH_LVL_DEBUG },
        { S_W8('T', 'R', 'A', 'C', 'E', 0, 0, 0), 5, GH_LVL_DEBUG },
    };
    const uint64_t error = S_W8('E', 'R', 'R', 'O', 'R', 0, 0, 0);
#undef S_W8
    size_t lim = n < 512 ? n : 512;   /* the level sits near the start */
    for (size_t i = 0; (i = s_level_cand(s, i, lim)) < lim;) {
        unsigned char c = (unsigned char)s[i];
        if (c == '[' || c == '<') {   /* a word right after it may be a level in brackets */
            if (++i >= lim || !s_alpha((unsigned char)s[i])) continue;
        } else if (i > 0 && s_alpha((unsigned char)s[i - 1])) {
            i++;   /* inside a word: not where one starts */
            continue;
        }
        size_t j = i;
        int upper = 1;
        for (; j < n && s_alpha((unsigned char)s[j]); j++) upper &= s_upper((unsigned char)s[j]);
        size_t wn = j - i;
        if (wn >= 3 && wn <= 8) {
            int bracket = !upper && i > 0 && (s[i - 1] == '[' || s[i - 1] == '<') && j < n && (s[j] == ']' || s[j] == '>');
            if (!upper && !bracket && wn != 5) { i = j; continue; }   /* only "error" can match */
            uint64_t w = 0;   /* the word upper-cased, first letter in the low byte */
            for (size_t k = 0; k < wn; k++) w |= (uint64_t)(unsigned char)(s[i + k] & ~0x20) << (8 * k);
            if (upper || bracket) {
                for (size_t t = 0; t < sizeof words / sizeof *words; t++)
                    if (words[t].w == w && words[t].n == wn) return words[t].lvl;
            } else if (w == error) {
                return GH_LVL_ERR;
            }
        }
        i = j;
    }
    return GH_LVL_INFO;
}

/* ---- time --------------------------------------------------------------- */

static int s_digits(const char *s, size_t n, size_t k, int *v) {
    if (n < k) return 0;
    int x = 0;
    for (size_t i = 0; i < k; i++) {
        if (s[i] < '0' || s[i] > '9') return 0;
        x = x * 10 + (s[i] - '0');
    }
    *v = x;
    return 1;
}

_Thread_local struct gh_ps_day_memo gh_ps_day_memo;

static int64_t s_civil_ms(int y, int mo, int d, int h, int mi, int sec, int ms) {
    return (gh_ps_days(y, (unsigned)mo, (unsigned)d) * 86400 + h * 3600 + mi * 60 + sec) * 1000 + ms;
}

size_t gh_ps_iso8601(const char *s, size_t n, int64_t *ms) {
    int y, mo, d, h, mi, sec = 0, frac = 0;
    if (n < 16 || !s_digits(s, n, 4, &y) || (s[4] != '-' && s[4] != '/') || !s_digits(s + 5, n - 5, 2, &mo) ||
        s[7] != s[4] ||
        !s_digits(s + 8, n - 8, 2, &d) || (s[10] != 'T' && s[10] != ' ' && s[10] != 't') ||
        !s_digits(s + 11, n - 11, 2, &h) || s[13] != ':' || !s_digits(s + 14, n - 14, 2, &mi))
        return 0;
    if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 24 || mi > 59) return 0;
    size_t i = 16;
    if (i < n && s[i] == ':') {
        if (!s_digits(s + i + 1, n - i - 1, 2, &sec) || sec > 60) return 0;
        i += 3;
        if (i < n && (s[i] == '.' || s[i] == ',') && i + 1 < n && isdigit((unsigned char)s[i + 1])) {
            i++;
            int k = 0;
            while (i < n && isdigit((unsigned char)s[i])) {
                if (k < 3) frac = frac * 10 + (s[i] - '0');
                k++; i++;
            }
            while (k++ < 3) frac *= 10;
        }
    }
    int64_t t = s_civil_ms(y, mo, d, h, mi, sec, frac);
    /* a zone may follow after one blank: "... 07:08:09 +0100", Go's
     * "... 07:08:09.123 +0000 UTC", "... 07:08:09 UTC" */
    size_t z = i;
    if (z + 2 < n && s[z] == ' ' && (s[z + 1] == '+' || s[z + 1] == '-') && isdigit((unsigned char)s[z + 2])) z++;
    if (z < n && (s[z] == 'Z' || s[z] == 'z')) {
        i = z + 1;
    } else if (z < n && (s[z] == '+' || s[z] == '-')) {
        int zh, zm = 0, sign = s[z] == '-' ? -1 : 1;
        size_t j = z + 3;
        if (s_digits(s + z + 1, n - z - 1, 2, &zh)) {
            if (j < n && s[j] == ':' && s_digits(s + j + 1, n - j - 1, 2, &zm)) j += 3;
            else if (s_digits(s + j, n - j, 2, &zm)) j += 2;
            else if (z > i) j = 0;   /* after a blank only a full +hhmm or +hh:mm is a zone */
            else zm = 0;
            if (j) {
                t -= sign * (int64_t)(zh * 60 + zm) * 60000;
                i = j;
            }
        }
    }
    /* a trailing " UTC" / " GMT" name of the zone already given (or none) */
    if (i + 4 <= n && s[i] == ' ' && (!memcmp(s + i + 1, "UTC", 3) || !memcmp(s + i + 1, "GMT", 3)) &&
        (i + 4 == n || s[i + 4] == ' '))
        i += 4;
    *ms = t;
    return i;
}

int gh_ps_month(const char *s, size_t n) {
    static const char months[] = "janfebmaraprmayjunjulaugsepoctnovdec";
    if (n < 3) return 0;
    char a = (char)tolower((unsigned char)s[0]), b = (char)tolower((unsigned char)s[1]),
         c = (char)tolower((unsigned char)s[2]);
    for (int m = 0; m < 12; m++)
        if (months[m * 3] == a && months[m * 3 + 1] == b && months[m * 3 + 2] == c) return m + 1;
    return 0;
}

int64_t gh_ps_infer_year_ms(int mon, int day, int hh, int mi, int ss, int msec, int64_t now_ms) {
    time_t now_s = (time_t)(now_ms / 1000);
    struct tm tm;
    gmtime_r(&now_s, &tm);
    int y0 = tm.tm_year + 1900;
    int64_t best = 0, best_d = INT64_MAX;
    for (int y = y0 - 1; y <= y0 + 1; y++) {
        int64_t t = s_civil_ms(y, mon, day, hh, mi, ss, msec);
        if (t > now_ms + 86400000) continue;   /* not far after the receive time */
        int64_t d = t > now_ms ? t - now_ms : now_ms - t;
        if (d < best_d) { best_d = d; best = t; }
    }
    return best;
}

int64_t gh_ps_year_ms(gh_parser_t *p, int mon, int day, int hh, int mi, int ss, int msec, int64_t now_ms) {
    const int64_t half_year = 183LL * 86400000;
    unsigned s = p->cur_slot;
    p->yr_inferred = 1;
    if (p->yr_hash[s] != p->cur_src || !p->yr_last[s]) return gh_ps_infer_year_ms(mon, day, hh, mi, ss, msec, now_ms);
    int64_t prev = p->yr_last[s];
    time_t prev_s = (time_t)(prev / 1000);
    int y;
    if (p->yr_hi && prev_s >= p->yr_lo && prev_s < p->yr_hi) {
        y = p->yr_y;   /* the same year as the last lookup: no gmtime */
    } else {
        struct tm tm;
        gmtime_r(&prev_s, &tm);
        y = tm.tm_year + 1900;
        p->yr_y = y;
        p->yr_lo = gh_days_from_civil(y, 1, 1) * 86400;
        p->yr_hi = gh_days_from_civil(y + 1, 1, 1) * 86400;
    }
    int64_t t = s_civil_ms(y, mon, day, hh, mi, ss, msec);
    if (t < prev - half_year) t = s_civil_ms(y + 1, mon, day, hh, mi, ss, msec);
    else if (t > prev + half_year) t = s_civil_ms(y - 1, mon, day, hh, mi, ss, msec);
    return t;
}

int64_t gh_ps_epoch_ms(double v) {
    double a = v < 0 ? -v : v;
    if (!(a < 9e24)) return 0;                      /* NaN, infinite or beyond any time: none */
    if (a >= 1e17) return (int64_t)(v / 1e6);      /* ns */
    if (a >= 1e14) return (int64_t)(v / 1e3);      /* us */
    if (a >= 1e11) return (int64_t)v;              /* ms */
    return (int64_t)(v * 1000.0 + (v < 0 ? -0.5 : 0.5)); /* s */
}

/* hh:mm:ss[.frac] at s; returns bytes consumed or 0. */
static size_t s_hms(const char *s, size_t n, int *h, int *mi, int *sec, int *msec) {
    if (!s_digits(s, n, 2, h) || n < 8 || s[2] != ':' || !s_digits(s + 3, n - 3, 2, mi) || s[5] != ':' ||
        !s_digits(s + 6, n - 6, 2, sec) || *h > 24 || *mi > 59 || *sec > 60)
        return 0;
    size_t i = 8;
    *msec = 0;
    if (i + 1 < n && (s[i] == '.' || s[i] == ',') && isdigit((unsigned char)s[i + 1])) {
        int k = 0;
        for (i++; i < n && isdigit((unsigned char)s[i]); i++, k++)
            if (k < 3) *msec = *msec * 10 + (s[i] - '0');
        while (k++ < 3) *msec *= 10;
    }
    return i;
}

/* Optional " +hhmm" / " GMT" / " UTC" / " Z" after a time; adjusts *t. */
static size_t s_zone_after(const char *s, size_t n, size_t i, int64_t *t) {
    int zh, zm;
    if (i + 5 < n && s[i] == ' ' && (s[i + 1] == '+' || s[i + 1] == '-') && s_digits(s + i + 2, n - i - 2, 2, &zh)) {
        size_t j = i + 4;
        if (j < n && s[j] == ':') j++;
        if (s_digits(s + j, n - j, 2, &zm)) {
            *t -= (s[i + 1] == '-' ? -1 : 1) * (int64_t)(zh * 60 + zm) * 60000;
            return j + 2;
        }
    }
    if (i + 4 <= n && s[i] == ' ' && (!memcmp(s + i + 1, "UTC", 3) || !memcmp(s + i + 1, "GMT", 3))) return i + 4;
    if (i + 2 <= n && s[i] == ' ' && s[i + 1] == 'Z') return i + 2;
    return i;
}

size_t gh_ps_time_words(const char *s, size_t n, int64_t *ms) {
    int d, y, h, mi, sec, msec, mon;
    size_t i = 0, k;
    /* CLF: dd/Mon/yyyy:hh:mm:ss +zzzz */
    if (n >= 20 && s_digits(s, n, 2, &d) && s[2] == '/' && (mon = gh_ps_month(s + 3, 3)) && s[6] == '/' &&
        s_digits(s + 7, n - 7, 4, &y) && s[11] == ':' && (k = s_hms(s + 12, n - 12, &h, &mi, &sec, &msec))) {
        int64_t t = s_civil_ms(y, mon, d, h, mi, sec, msec);
        i = s_zone_after(s, n, 12 + k, &t);
        *ms = t;
        return i;
    }
    /* skip a weekday ("Tue " or "Tue, ") */
    if (n > 4 && isalpha((unsigned char)s[0]) && isalpha((unsigned char)s[1]) && isalpha((unsigned char)s[2]) &&
        !gh_ps_month(s, 3)) {
        i = 3;
        if (i < n && s[i] == ',') i++;
        if (i >= n || s[i] != ' ') return 0;
        i++;
    }
    /* RFC 2822: dd Mon yyyy hh:mm:ss [zone] */
    if (i + 2 < n && isdigit((unsigned char)s[i])) {
        size_t j = i;
        d = 0;
        while (j < n && j < i + 2 && isdigit((unsigned char)s[j])) d = d * 10 + (s[j++] - '0');
        if (j + 13 < n && s[j] == ' ' && (mon = gh_ps_month(s + j + 1, 3)) && s[j + 4] == ' ' &&
            s_digits(s + j + 5, n - j - 5, 4, &y) && s[j + 9] == ' ' &&
            (k = s_hms(s + j + 10, n - j - 10, &h, &mi, &sec, &msec))) {
            int64_t t = s_civil_ms(y, mon, d, h, mi, sec, msec);
            i = s_zone_after(s, n, j + 10 + k, &t);
            *ms = t;
            return i;
        }
        return 0;
    }
    /* ctime / Apache error log: Mon dd hh:mm:ss[.frac] yyyy */
    if (i + 3 < n && (mon = gh_ps_month(s + i, 3)) && s[i + 3] == ' ') {
        size_t j = i + 4;
        if (j < n && s[j] == ' ') j++;
        d = 0;
        size_t d0 = j;
        while (j < n && j < d0 + 2 && isdigit((unsigned char)s[j])) d = d * 10 + (s[j++] - '0');
        if (j == d0 || j >= n || s[j] != ' ' || !(k = s_hms(s + j + 1, n - j - 1, &h, &mi, &sec, &msec))) return 0;
        j += 1 + k;
        if (j + 5 > n || s[j] != ' ' || !s_digits(s + j + 1, n - j - 1, 4, &y)) return 0;
        if (d < 1 || d > 31) return 0;
        *ms = s_civil_ms(y, mon, d, h, mi, sec, msec);
        return j + 5;
    }
    return 0;
}

int gh_ps_time_text(const char *s, size_t n, int64_t now_ms, int64_t *ms) {
    (void)now_ms;
    if (n == 0) return -1;
    if (gh_ps_iso8601(s, n, ms) == n) return 0;
    if (gh_ps_time_words(s, n, ms) == n) return 0;
    /* all digits, optional fraction: epoch */
    size_t i = 0;
    int dot = 0;
    for (; i < n; i++) {
        if (s[i] == '.' && !dot) { dot = 1; continue; }
        if (!isdigit((unsigned char)s[i])) break;
    }
    if (i == n && n < 32) {
        char buf[32];
        memcpy(buf, s, n);
        buf[n] = '\0';
        *ms = gh_ps_epoch_ms(strtod(buf, NULL));
        return 0;
    }
    return -1;
}

/* ---- the parser --------------------------------------------------------- */

gh_parser_t *gh_parser_new(int force_format) {
    if (force_format < -1 || force_format >= GH_FMT__COUNT) return NULL;
    gh_parser_t *p = calloc(1, sizeof *p);
    if (!p) return NULL;
    p->force = force_format;
    p->fields = 1;
    memset(p->src_fmt, -1, sizeof p->src_fmt);
    gh_ps_reset(p);
    return p;
}

void gh_parser_destroy(gh_parser_t **pp) {
    if (!pp || !*pp) return;
    gh_parser_t *p = *pp;
    free(p->host_default);
    free(p->arena);
    free(p->pf);
    free(p->out_fields);
    free(p->scratch);
    free(p->src_last);
    free(p);
    *pp = NULL;
}

void gh_parser_set_fields(gh_parser_t *p, int on) { p->fields = on != 0; }

void gh_parser_set_default_host(gh_parser_t *p, const char *host) {
    char *h = host && *host ? strdup(host) : NULL;
    free(p->host_default);
    p->host_default = h;
    p->host_default_n = h ? (uint32_t)strlen(h) : 0;
}

/* Try one format; 0 when the line is in it. */
static int s_try(gh_parser_t *p, int fmt, const char *line, size_t n, int64_t now_ms) {
    int rc = -1;
    switch (fmt) {
    case GH_FMT_AUDITD: rc = gh_ps_auditd(p, line, n); break;
    case GH_FMT_SYSLOG5424: rc = gh_ps_syslog5424(p, line, n); break;
    case GH_FMT_SYSLOG3164: rc = gh_ps_syslog3164(p, line, n, now_ms); break;
    case GH_FMT_JSON: rc = gh_ps_json(p, line, n, now_ms); break;
    case GH_FMT_LOGFMT: rc = gh_ps_logfmt(p, line, n, now_ms); break;
    case GH_FMT_ACCESS: rc = gh_ps_access(p, line, n); break;
    default: return -1;
    }
    if (rc == 0 && !p->oom) { p->format = fmt; return 0; }
    gh_ps_reset(p);
    return -1;
}

#define S_NSTRONG 3   /* the first S_NSTRONG of s_order reject on their first bytes */
static const int s_order[] = { GH_FMT_JSON, GH_FMT_AUDITD, GH_FMT_SYSLOG5424, GH_FMT_SYSLOG3164,
                               GH_FMT_ACCESS, GH_FMT_LOGFMT };

/* Whether a line starting with byte c can be in strong format fmt: the
 * first bytes each of their parsers rejects on before anything else (JSON:
 * blanks then '{'; auditd: "node=" or "type="; RFC 5424: "<PRI>"), so a
 * line of another format does not pay for the calls and the resets. */
static inline int s_may_be(int fmt, unsigned char c) {
    switch (fmt) {
    case GH_FMT_JSON: return c == '{' || c == ' ' || c == '\t';
    case GH_FMT_AUDITD: return c == 'n' || c == 't';
    case GH_FMT_SYSLOG5424: return c == '<';
    default: return 1;
    }
}

static const char *s_resolve(gh_parser_t *p, gh_pref_t r, uint32_t *len) {
    *len = (uint32_t)r.n;
    if (r.p) return r.p;
    if (r.n == 0 && r.off == 0) return "";
    return p->arena + r.off;
}

static void s_src_remember(gh_parser_t *p, const char *source, size_t source_n, unsigned slot, uint64_t h) {
    if (source_n + 1 > p->src_last_cap) {
        char *b = realloc(p->src_last, source_n + 1);
        if (!b) { free(p->src_last); p->src_last = NULL; p->src_last_cap = 0; return; }   /* no memory: no memo */
        p->src_last = b;
        p->src_last_cap = source_n + 1;
    }
    memcpy(p->src_last, source, source_n);
    p->src_last_n = source_n;
    p->src_last_slot = slot;
    p->src_last_h = h;
}

void gh_parse_line(gh_parser_t *p, const char *source, size_t source_n, const char *line, size_t n,
                   int64_t now_ms, gh_record_t *out) {
    if (!source) { source = ""; source_n = 0; }
    if (!line) { line = ""; n = 0; }
    gh_ps_reset(p);
    int done = 0;
    /* lines come in runs of one source: hash its name once per run */
    unsigned slot;
    uint64_t h;
    if (p->src_last && source_n == p->src_last_n && !memcmp(source, p->src_last, source_n)) {
        slot = p->src_last_slot;
        h = p->src_last_h;
    } else {
        slot = (unsigned)(gh_hash(source, source_n, 0) % GH_SRC_SLOTS);
        h = gh_hash(source, source_n, 1);
        s_src_remember(p, source, source_n, slot, h);
    }
    p->cur_slot = slot;
    p->cur_src = h;
    if (p->force >= 0) {
        done = p->force != GH_FMT_PLAIN && s_try(p, p->force, line, n, now_ms) == 0;
    } else if (n > 0) {
        int remembered = p->src_hash[slot] == h ? p->src_fmt[slot] : -1;
        /* formats with an unambiguous signature first, then the source's last
         * format, then the rest */
        for (size_t i = 0; !done && i < S_NSTRONG; i++)
            if (s_may_be(s_order[i], (unsigned char)line[0])) done = s_try(p, s_order[i], line, n, now_ms) == 0;
        if (!done && remembered > GH_FMT_PLAIN && remembered != GH_FMT_JSON && remembered != GH_FMT_AUDITD &&
            remembered != GH_FMT_SYSLOG5424)
            done = s_try(p, remembered, line, n, now_ms) == 0;
        for (size_t i = S_NSTRONG; !done && i < sizeof s_order / sizeof *s_order; i++)
            if (s_order[i] != remembered) done = s_try(p, s_order[i], line, n, now_ms) == 0;
        p->src_hash[slot] = h;
        p->src_fmt[slot] = (signed char)(done ? p->format : GH_FMT_PLAIN);
    }
    if (!done) {
        gh_ps_reset(p);
        gh_ps_plain(p, line, n, now_ms);
        if (p->oom) { gh_ps_reset(p); p->msg = gh_pref_ext(line, n); }
        p->format = GH_FMT_PLAIN;
    }

    if (done && p->yr_inferred && p->has_ts) { /* this source's latest year-less date */
        p->yr_hash[slot] = h;
        p->yr_last[slot] = p->ts_ms;
    }
    uint32_t hn, mn;
    const char *hs = s_resolve(p, p->host, &hn), *ms = s_resolve(p, p->msg, &mn);
    if (hn == 0 && p->host_default) { hs = p->host_default; hn = p->host_default_n; }
    /* member by member: clearing the whole record first costs more than the rest */
    out->ts_ms = p->has_ts ? p->ts_ms : now_ms;
    out->host.p = hs; out->host.n = hn;
    out->source = gh_str(source, source_n);
    out->msg.p = ms; out->msg.n = mn;
    out->raw = gh_str(line, n);
    out->format = (uint8_t)p->format;
    out->level = (uint8_t)(p->level >= 0 && p->level <= GH_LVL_DEBUG ? p->level : GH_LVL_INFO);
    out->nfields = 0;
    out->fields = NULL;

    if (!p->fields) return;   /* what was extracted served ts/level/msg/host only */
    if (p->npf * 2 > p->out_cap) {
        size_t cap = p->npf * 2 + 32;
        gh_str_t *f = realloc(p->out_fields, cap * sizeof *f);
        if (!f) { p->npf = 0; }
        else { p->out_fields = f; p->out_cap = cap; }
    }
    for (size_t i = 0; i < p->npf; i++) {
        p->out_fields[2 * i] = gh_str(p->arena + p->pf[i].ko, p->pf[i].kn);
        p->out_fields[2 * i + 1] = gh_str(p->arena + p->pf[i].vo, p->pf[i].vn);
    }
    out->nfields = (uint32_t)p->npf;
    out->fields = p->npf ? p->out_fields : NULL;
}

/* ---- --dump ------------------------------------------------------------- */

/* The writer appends to one reused buffer and never builds a jansson tree:
 * the record's layout ({"ts":..,"fields":{..}}) is fixed, and only the
 * strings need JSON encoding.  That encoding is jansson's (json_dumpb of a
 * reused string value).  A string made only of printable ASCII other than '"'
 * and '\\' encodes to itself between quotes -- jansson would write exactly
 * those bytes -- so it is copied as is; that is most log text and what makes
 * --dump fast.  Duplicate field keys (logfmt "a=1 a=2", JSON "a.b" next to
 * {"a":{"b":..}}) are written once, at the first position with the last
 * value, as a JSON object holding them would be. */

typedef struct {
    char *b;
    size_t n, cap;
    json_t *js;          /* reused string for the slow path */
    char *fix;           /* U+FFFD repair buffer */
    size_t fcap;
    uint32_t *last, *tab; /* duplicate keys (s_out_dups) */
    char ts[40];          /* the last second written, RFC 3339 */
    size_t tsn;
    int64_t ts_sec;
    size_t lcap, tcap;
    int oom;
} s_out_t;

static int s_out_grow(s_out_t *o, size_t need) {
    if (o->n + need <= o->cap) return 0;
    size_t cap = o->cap ? o->cap : 65536;
    while (cap < o->n + need) cap *= 2;
    char *b = realloc(o->b, cap);
    if (!b) { o->oom = 1; return -1; }
    o->b = b;
    o->cap = cap;
    return 0;
}

static void s_out_raw(s_out_t *o, const char *s, size_t n) {
    if (s_out_grow(o, n) != 0) return;
    memcpy(o->b + o->n, s, n);
    o->n += n;
}

/* Length of the UTF-8 sequence at s[i], 0 when it is not valid as jansson
 * defines it (no overlongs, surrogates or code points above U+10FFFF). */
static size_t s_utf8_len(const char *s, size_t n, size_t i) {
    unsigned char c = (unsigned char)s[i];
    size_t len = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
    if (!len || i + len > n) return 0;
    for (size_t t = 1; t < len; t++)
        if (((unsigned char)s[i + t] >> 6) != 2) return 0;
    if (len > 1) {
        uint32_t cp = len == 2 ? (c & 0x1fu) : len == 3 ? (c & 0x0fu) : (c & 0x07u);
        for (size_t t = 1; t < len; t++) cp = (cp << 6) | ((unsigned char)s[i + t] & 0x3fu);
        if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
            (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
            return 0;
    }
    return len;
}

/* Append s[0..n) as a JSON string; invalid UTF-8 bytes become U+FFFD. */
static void s_out_str(s_out_t *o, const char *s, size_t n) {
    size_t i = 0;
    while (i < n && (unsigned char)s[i] >= 0x20 && (unsigned char)s[i] < 0x80 && s[i] != '"' && s[i] != '\\') i++;
    if (i == n) {   /* encodes to itself (see above) */
        if (s_out_grow(o, n + 2) != 0) return;
        o->b[o->n++] = '"';
        memcpy(o->b + o->n, s, n);
        o->n += n;
        o->b[o->n++] = '"';
        return;
    }
    /* repair invalid UTF-8 into o->fix first */
    int valid = 1;
    for (size_t k = i; k < n;) {
        size_t l = s_utf8_len(s, n, k);
        if (!l) { valid = 0; break; }
        k += l;
    }
    if (!valid) {
        if (o->fcap < n * 3 + 1) {
            char *f = realloc(o->fix, n * 3 + 1);
            if (!f) { o->oom = 1; return; }
            o->fix = f;
            o->fcap = n * 3 + 1;
        }
        size_t k = 0;
        for (size_t j = 0; j < n;) {
            size_t l = s_utf8_len(s, n, j);
            if (l) { memcpy(o->fix + k, s + j, l); k += l; j += l; }
            else { memcpy(o->fix + k, "\xef\xbf\xbd", 3); k += 3; j++; }
        }
        s = o->fix;
        n = k;
    }
    if (!o->js) o->js = json_string("");
    if (!o->js || json_string_setn_nocheck(o->js, s, n) != 0) { o->oom = 1; return; }
    /* escaping at most sextuples a byte ("\u00XX"), plus the quotes */
    if (s_out_grow(o, n * 6 + 2) != 0) return;
    size_t w = json_dumpb(o->js, o->b + o->n, o->cap - o->n, JSON_COMPACT | JSON_ENCODE_ANY);
    if (w == 0 || w > o->cap - o->n) { o->oom = 1; return; }
    o->n += w;
}

#define S_OUT_LIT(o, s) s_out_raw(o, s, sizeof(s) - 1)

static int s_key_eq(const gh_str_t *a, const gh_str_t *b) {
    return a->n == b->n && !memcmp(a->p, b->p, a->n);
}

/* For each field, the index of the last field with the same key (in
 * o->last) or UINT32_MAX when an earlier field has the key: a hash table of
 * keys, so that a line with thousands of pairs stays linear. */
static int s_out_dups(s_out_t *o, const gh_record_t *rec) {
    uint32_t nf = rec->nfields;
    size_t slots = 64;
    while (slots < (size_t)nf * 2) slots *= 2;
    if (o->lcap < nf || o->tcap < slots) {
        uint32_t *l = realloc(o->last, (nf > o->lcap ? nf : o->lcap) * sizeof *l);
        if (l) { o->last = l; o->lcap = nf > o->lcap ? nf : o->lcap; }
        uint32_t *t = realloc(o->tab, (slots > o->tcap ? slots : o->tcap) * sizeof *t);
        if (t) { o->tab = t; o->tcap = slots > o->tcap ? slots : o->tcap; }
        if (!l || !t) { o->oom = 1; return -1; }
    }
    memset(o->tab, 0xff, slots * sizeof *o->tab);
    for (uint32_t i = 0; i < nf; i++) {
        const gh_str_t *k = &rec->fields[2 * i];
        size_t h = (size_t)gh_hash(k->p, k->n, 0) & (slots - 1);
        while (o->tab[h] != UINT32_MAX && !s_key_eq(&rec->fields[2 * o->tab[h]], k)) h = (h + 1) & (slots - 1);
        if (o->tab[h] == UINT32_MAX) {
            o->tab[h] = i;
            o->last[i] = i;
        } else {
            o->last[o->tab[h]] = i;
            o->last[i] = UINT32_MAX;
        }
    }
    return 0;
}

/* Append the record as one JSON line. */
static void s_out_record(s_out_t *o, const gh_record_t *rec) {
    /* consecutive records mostly share the second: format it once, then
     * patch the milliseconds ("...:ss.mmmZ") */
    int64_t sec = rec->ts_ms >= 0 ? rec->ts_ms / 1000 : (rec->ts_ms - 999) / 1000;
    if (!o->tsn || sec != o->ts_sec) {
        gh_rfc3339_ms(sec * 1000, o->ts, sizeof o->ts);
        o->tsn = strlen(o->ts);
        o->ts_sec = sec;
    }
    int frac = (int)(rec->ts_ms - sec * 1000);
    if (o->tsn >= 5) {
        o->ts[o->tsn - 4] = (char)('0' + frac / 100);
        o->ts[o->tsn - 3] = (char)('0' + frac / 10 % 10);
        o->ts[o->tsn - 2] = (char)('0' + frac % 10);
    }
    S_OUT_LIT(o, "{\"ts\":");
    s_out_str(o, o->ts, o->tsn);
    S_OUT_LIT(o, ",\"host\":");
    s_out_str(o, rec->host.p, rec->host.n);
    S_OUT_LIT(o, ",\"source\":");
    s_out_str(o, rec->source.p, rec->source.n);
    S_OUT_LIT(o, ",\"format\":");
    const char *f = gh_format_name(rec->format);
    s_out_str(o, f, strlen(f));
    S_OUT_LIT(o, ",\"level\":");
    f = gh_level_name(rec->level);
    s_out_str(o, f, strlen(f));
    S_OUT_LIT(o, ",\"msg\":");
    s_out_str(o, rec->msg.p, rec->msg.n);
    S_OUT_LIT(o, ",\"fields\":{");
    int first = 1;
    if (rec->nfields && s_out_dups(o, rec) != 0) return;
    for (uint32_t i = 0; i < rec->nfields; i++) {
        const gh_str_t *k = &rec->fields[2 * i];
        uint32_t last = o->last[i];
        if (last == UINT32_MAX) continue;   /* written at its first position */
        if (!first) s_out_raw(o, ",", 1);
        first = 0;
        s_out_str(o, k->p, k->n);
        s_out_raw(o, ":", 1);
        s_out_str(o, rec->fields[2 * last + 1].p, rec->fields[2 * last + 1].n);
    }
    S_OUT_LIT(o, "}}\n");
}

long gh_parse_dump(gh_parser_t *p, FILE *in, const char *source, FILE *out) {
    char *line = NULL;
    size_t lcap = 0;
    long count = 0;
    int err = 0;
    size_t source_n = source ? strlen(source) : 0;
    ssize_t r;
    gh_record_t rec;
    s_out_t o = { 0 };
    int64_t now = gh_wall_ms();

    while ((r = getline(&line, &lcap, in)) >= 0) {
        size_t n = (size_t)r;
        if (n && line[n - 1] == '\n') n--;
        if (n && line[n - 1] == '\r') n--;
        /* the receive time moves on every 4096 lines, not per line */
        if (++count % 4096 == 0) now = gh_wall_ms();
        gh_parse_line(p, source, source_n, line, n, now, &rec);
        s_out_record(&o, &rec);
        if (o.oom) { err = 1; break; }
        if (o.n >= 65536) {
            if (fwrite(o.b, 1, o.n, out) != o.n) { err = 1; break; }
            o.n = 0;
        }
    }
    if (!err && o.n && fwrite(o.b, 1, o.n, out) != o.n) err = 1;
    if (ferror(in)) err = 1;
    free(line);
    free(o.b);
    free(o.fix);
    free(o.last);
    free(o.tab);
    json_decref(o.js);
    if (fflush(out) != 0) err = 1;
    return err ? -1 : count;
}
