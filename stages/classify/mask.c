/* mask.c -- variable masking for the template miner; rules in mask.h.
 *
 * The line masker (gh_mask_line_words) runs for every record ghost-classify
 * receives.  It works on a copy of the line followed by blanks and first
 * classifies it 64 bytes at a time (SSE2 where available) into bitmaps of
 * blanks, segment ends and digits (s_bits).  Words and segments are then
 * found with bit scans: a word is copied as it is except for the segments
 * that hold a digit, which are the only ones looked at (s_mask_win); a
 * segment with exactly one digit gets the name test of s_is_name.  Words of
 * 64 bytes or more, URLs, and gh_mask_token go through the byte-by-byte
 * masker s_mask_tok, which keeps bound checks and is the plain statement of
 * the rules.
 */
#include "mask.h"
#include <string.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif
#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define S_AVX2 1 /* s_bits_avx2, when the CPU has it */
#endif

/* Byte classes.  C_DIGIT must stay bit 0: it is added up as a digit count. */
enum {
    C_DIGIT = 1,
    C_ALPHA = 2,
    C_SCHEME = 4,   /* may appear in a URL scheme: letters, digits, '.', '+', '-' */
    C_BLANK = 8,    /* ends a token */
    C_DELIM = 16,   /* ends a segment: : = , ( ) [ ] { } " ' < > ; | */
    C_DOT = 32,     /* ends a segment when next to another dot */
    C_TRAIL = 64,   /* punctuation after a unit that stays with it: , ; . ) */
};

#define S_ISALPHA(c) (((c) >= 'a' && (c) <= 'z') || ((c) >= 'A' && (c) <= 'Z'))
#define S_ISDIGIT(c) ((c) >= '0' && (c) <= '9')
#define S_CLS(c)                                                                                                     \
    ((S_ISDIGIT(c) ? C_DIGIT | C_SCHEME : 0) | (S_ISALPHA(c) ? C_ALPHA | C_SCHEME : 0) |                             \
     ((c) == '+' || (c) == '-' ? C_SCHEME : 0) | ((c) == '.' ? C_SCHEME | C_DOT | C_TRAIL : 0) |                     \
     ((c) == ' ' || (c) == '\t' || (c) == '\r' || (c) == '\n' || (c) == '\v' || (c) == '\f' ? C_BLANK : 0) |         \
     ((c) == ':' || (c) == '=' || (c) == '(' || (c) == '[' || (c) == ']' || (c) == '{' || (c) == '}' ||             \
              (c) == '"' || (c) == '\'' || (c) == '<' || (c) == '>' || (c) == '|'                                    \
          ? C_DELIM                                                                                                  \
          : 0) |                                                                                                     \
     ((c) == ',' || (c) == ';' || (c) == ')' ? C_DELIM | C_TRAIL : 0))
#define S_R4(c) S_CLS(c), S_CLS((c) + 1), S_CLS((c) + 2), S_CLS((c) + 3)
#define S_R16(c) S_R4(c), S_R4((c) + 4), S_R4((c) + 8), S_R4((c) + 12)
#define S_R64(c) S_R16(c), S_R16((c) + 16), S_R16((c) + 32), S_R16((c) + 48)
static const unsigned char s_cls[256] = { S_R64(0), S_R64(64), S_R64(128), S_R64(192) };

#define S_C(p, i) s_cls[(unsigned char)(p)[i]]

/* A segment with one digit is still a name when it is two or more letters,
 * the digit, then letters or '_' only (ssh2, jk2_init, utf8). */
static int s_is_name(const char *s, size_t n) {
    size_t i = 0;
    while (i < n && (S_C(s, i) & C_ALPHA)) i++;
    if (i < 2 || i >= n || !(S_C(s, i) & C_DIGIT)) return 0;
    for (i++; i < n; i++)
        if (!(S_C(s, i) & C_ALPHA) && s[i] != '_') return 0;
    return 1;
}

/* Masks the token starting at msg[s] (not a blank), which ends at the next
 * blank or at n.  Writes to out; returns the output length and sets *end to
 * the index just past the token. */
static size_t s_mask_tok(const char *msg, size_t s, size_t n, char *out, size_t *end) {
    size_t i = s, o = 0;
    if (S_C(msg, s) & C_ALPHA) { /* URL: keep the scheme, the rest is one variable */
        size_t j = s + 1;
        while (j < n && (S_C(msg, j) & C_SCHEME)) j++;
        if (j + 3 <= n && msg[j] == ':' && msg[j + 1] == '/' && msg[j + 2] == '/') {
            o = j + 3 - s;
            memcpy(out, msg + s, o);
            i = j + 3;
            if (i < n && !(S_C(msg, i) & C_BLANK)) {
                memcpy(out + o, "<*>", 3);
                o += 3;
                while (i < n && !(S_C(msg, i) & C_BLANK)) i++;
            }
            *end = i;
            return o;
        }
    } else if (msg[s] == '/' && s + 1 < n && !(S_C(msg, s + 1) & C_BLANK)) { /* a path */
        for (i = s + 2; i < n && !(S_C(msg, i) & C_BLANK); i++) {}
        memcpy(out, "<*>", 3);
        *end = i;
        return 3;
    }
    size_t seg = i, seg_o = 0, digits = 0;
    for (;;) {
        unsigned k = i < n ? S_C(msg, i) : C_BLANK;
        if (!(k & (C_BLANK | C_DELIM | C_DOT)) ||
            ((k & C_DOT) && !(i + 1 < n && msg[i + 1] == '.') && !(i > s && msg[i - 1] == '.'))) {
            out[o++] = msg[i++]; /* a segment byte (a lone dot is one) */
            digits += k & C_DIGIT;
            continue;
        }
        /* the segment [seg, i) ends here: a variable when it holds a digit, unless it is a name */
        if (digits && (digits > 1 || !s_is_name(msg + seg, i - seg))) {
            o = seg_o;
            memcpy(out + o, "<*>", 3);
            o += 3;
        }
        if (k & C_BLANK) break;
        out[o++] = msg[i++];
        seg = i;
        seg_o = o;
        digits = 0;
    }
    *end = i;
    return o;
}

size_t gh_mask_token(const char *t, size_t n, char *out) {
    size_t end;
    return n ? s_mask_tok(t, 0, n, out, &end) : 0;
}

/* Are msg[a..z) all URL scheme bytes? */
static int s_all_scheme(const char *msg, size_t a, size_t z) {
    for (; a < z; a++)
        if (!(S_C(msg, a) & C_SCHEME)) return 0;
    return 1;
}

/* ---- the line masker: bitmaps of byte classes ----------------------------
 *
 * The line is classified 64 bytes at a time into three bitmaps; tokens,
 * segments and digits are then found with bit scans, and only a segment that
 * holds a digit costs any work.  Positions from n on are blanks. */

#define S_WORDS (GH_MASK_MAX_INPUT / 64 + 2)

typedef struct {
    uint64_t bl[S_WORDS]; /* blanks: token ends */
    uint64_t st[S_WORDS]; /* segment ends: blanks, delimiters, and dots next to a dot */
    uint64_t dg[S_WORDS]; /* digits */
} s_bits_t;

#if defined(__SSE2__)
#define S_EQ(x, c) _mm_cmpeq_epi8((x), _mm_set1_epi8((char)(c)))
/* bytes in [lo, lo + len]: (x - lo) wraps above len for every other byte */
#define S_IN(x, lo, len)                                                                                             \
    _mm_cmpeq_epi8(_mm_max_epu8(_mm_sub_epi8((x), _mm_set1_epi8((char)(lo))), _mm_set1_epi8((char)(len))),          \
                   _mm_set1_epi8((char)(len)))
#define S_MM(v) ((uint64_t)(unsigned)_mm_movemask_epi8(v))

/* Bits of p[0..64) (p[64] readable): blanks, blanks and delimiters, digits,
 * and dot pairs (bit i: p[i] and p[i + 1] are dots). */
static void s_block(const unsigned char *p, uint64_t *bl, uint64_t *st, uint64_t *dg, uint64_t *dd) {
    uint64_t b = 0, s = 0, d = 0, e = 0;
    for (int j = 0; j < 64; j += 16) {
        __m128i x = _mm_loadu_si128((const __m128i *)(p + j)), x1 = _mm_loadu_si128((const __m128i *)(p + j + 1));
        __m128i blank = _mm_or_si128(S_IN(x, '\t', 4), S_EQ(x, ' '));           /* \t \n \v \f \r and ' ' */
        __m128i delim = _mm_or_si128(_mm_or_si128(S_EQ(x, '"'), S_IN(x, '\'', 2)), /* " ' ( ) */
                                     _mm_or_si128(S_EQ(x, ','), S_IN(x, ':', 4)));  /* , : ; < = > */
        delim = _mm_or_si128(delim, _mm_or_si128(_mm_or_si128(S_EQ(x, '['), S_EQ(x, ']')), S_IN(x, '{', 2))); /* [ ] { | } */
        b |= S_MM(blank) << j;
        s |= S_MM(_mm_or_si128(blank, delim)) << j;
        d |= S_MM(S_IN(x, '0', 9)) << j;
        e |= S_MM(_mm_and_si128(S_EQ(x, '.'), S_EQ(x1, '.'))) << j;
    }
    *bl = b;
    *st = s;
    *dg = d;
    *dd = e;
}
#else
static void s_block(const unsigned char *p, uint64_t *bl, uint64_t *st, uint64_t *dg, uint64_t *dd) {
    uint64_t b = 0, s = 0, d = 0, e = 0;
    for (int i = 0; i < 64; i++) {
        unsigned k = s_cls[p[i]];
        b |= (uint64_t)((k & C_BLANK) != 0) << i;
        s |= (uint64_t)((k & (C_BLANK | C_DELIM)) != 0) << i;
        d |= (uint64_t)(k & C_DIGIT) << i;
        e |= (uint64_t)(p[i] == '.' && p[i + 1] == '.') << i;
    }
    *bl = b;
    *st = s;
    *dg = d;
    *dd = e;
}
#endif

/* Fills b for the line t[0..n), which is followed by at least 65 blanks;
 * the word past the one that holds bit n is all blanks too, so that s_win
 * may read it. */
static void s_bits(const char *t, size_t n, s_bits_t *b) {
    uint64_t prev = 0;
    size_t w;
    for (w = 0; w <= n / 64; w++) {
        uint64_t dd;
        s_block((const unsigned char *)t + 64 * w, &b->bl[w], &b->st[w], &b->dg[w], &dd);
        b->st[w] |= dd | dd << 1 | prev >> 63; /* both dots of a pair end a segment; a lone dot does not */
        prev = dd;
    }
    b->bl[w] = b->st[w] = ~0ull;
    b->dg[w] = 0;
}

#if defined(S_AVX2)
/* s_bits, 32 bytes a step: each byte's class from two 16-entry tables
 * indexed by its high and low nibble (a bit of the AND of both entries
 * stands for one high nibble and a set of low nibbles):
 *   1: \t \n \v \f \r  2: ' '  4: " ' ( ) ,  8: : ; < = >  16: 0-9
 *   32: [ ]  64: { | }
 * Blanks are 1|2, segment ends every bit but 16 (blanks and the delimiters
 * of s_block), digits 16.  Same bits as s_bits. */
__attribute__((target("avx2"))) static void s_bits_avx2(const char *t, size_t n, s_bits_t *b) {
    const __m256i hi_tab = _mm256_setr_epi8(1, 0, 2 | 4, 8 | 16, 0, 32, 0, 64, 0, 0, 0, 0, 0, 0, 0, 0, /**/
                                            1, 0, 2 | 4, 8 | 16, 0, 32, 0, 64, 0, 0, 0, 0, 0, 0, 0, 0);
#define S_LO(l)                                                                                                      \
    (((l) >= 9 && (l) <= 13 ? 1 : 0) | ((l) == 0 ? 2 : 0) |                                                          \
     ((l) == 2 || (l) == 7 || (l) == 8 || (l) == 9 || (l) == 12 ? 4 : 0) | ((l) >= 10 && (l) <= 14 ? 8 : 0) |       \
     ((l) <= 9 ? 16 : 0) | ((l) == 11 || (l) == 13 ? 32 : 0) | ((l) >= 11 && (l) <= 13 ? 64 : 0))
#define S_LO16 S_LO(0), S_LO(1), S_LO(2), S_LO(3), S_LO(4), S_LO(5), S_LO(6), S_LO(7), S_LO(8), S_LO(9), S_LO(10),   \
               S_LO(11), S_LO(12), S_LO(13), S_LO(14), S_LO(15)
    const __m256i lo_tab = _mm256_setr_epi8(S_LO16, S_LO16);
#undef S_LO16
#undef S_LO
    const __m256i nib = _mm256_set1_epi8(0x0f), zero = _mm256_setzero_si256(), dig = _mm256_set1_epi8(16),
                  blank = _mm256_set1_epi8(1 | 2), end = _mm256_set1_epi8((char)~16), dot = _mm256_set1_epi8('.');
    uint64_t prev = 0;
    size_t w;
    for (w = 0; w <= n / 64; w++) {
        const unsigned char *p = (const unsigned char *)t + 64 * w;
        uint64_t nb = 0, ns = 0, d = 0, e = 0; /* nb, ns: not a blank, not a segment end */
        for (int j = 0; j < 64; j += 32) {
            __m256i x = _mm256_loadu_si256((const __m256i *)(p + j)),
                    x1 = _mm256_loadu_si256((const __m256i *)(p + j + 1));
            __m256i c = _mm256_and_si256(_mm256_shuffle_epi8(hi_tab, _mm256_and_si256(_mm256_srli_epi16(x, 4), nib)),
                                         _mm256_shuffle_epi8(lo_tab, _mm256_and_si256(x, nib)));
            nb |= (uint64_t)(uint32_t)_mm256_movemask_epi8(_mm256_cmpeq_epi8(_mm256_and_si256(c, blank), zero)) << j;
            ns |= (uint64_t)(uint32_t)_mm256_movemask_epi8(_mm256_cmpeq_epi8(_mm256_and_si256(c, end), zero)) << j;
            d |= (uint64_t)(uint32_t)_mm256_movemask_epi8(_mm256_cmpeq_epi8(_mm256_and_si256(c, dig), dig)) << j;
            e |= (uint64_t)(uint32_t)_mm256_movemask_epi8(
                     _mm256_and_si256(_mm256_cmpeq_epi8(x, dot), _mm256_cmpeq_epi8(x1, dot)))
                 << j;
        }
        b->bl[w] = ~nb;
        b->st[w] = ~ns | e | e << 1 | prev >> 63; /* as s_bits */
        b->dg[w] = d;
        prev = e;
    }
    b->bl[w] = b->st[w] = ~0ull;
    b->dg[w] = 0;
}
#endif

/* The 64 bits of m from bit i on (i below n). */
static inline uint64_t s_win(const uint64_t *m, size_t i) {
    size_t w = i >> 6;
    unsigned sh = (unsigned)(i & 63);
    return m[w] >> sh | (m[w + 1] << 1) << (63 - sh);
}

/* At least the 57 bits of m from bit i on (i below n), the rest 0: one
 * unaligned load where the byte order allows it, else s_win. */
static inline uint64_t s_win57(const uint64_t *m, size_t i) {
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    uint64_t x;
    memcpy(&x, (const unsigned char *)m + (i >> 3), 8); /* bit k of m is bit k % 8 of byte k / 8 */
    return x >> (i & 7);
#else
    return s_win(m, i);
#endif
}

/* The first set bit of m at or after i, which must exist (a blank). */
static inline size_t s_next(const uint64_t *m, size_t i) {
    size_t w = i >> 6;
    uint64_t x = m[w] & (~0ull << (i & 63));
    while (!x) x = m[++w];
    return (w << 6) + (size_t)__builtin_ctzll(x);
}

/* Copies len bytes in 16-byte steps: may write up to 15 bytes past q + len
 * and read as far past p + len (both buffers have that room). */
static inline char *s_copy(char *q, const char *p, size_t len) {
    for (size_t k = 0; k < len; k += 16) memcpy(q + k, p + k, 16);
    return q + len;
}

/* The token t[s..s+len) (len < 64, no path, t[s+len] a blank) of the line
 * t[0..n) into out, as s_mask_tok; st and dg are the segment-end and digit
 * bits from s on (s_win).  The bytes between digit-holding segments are
 * copied as they are.  Returns the output length.
 *
 * A URL is recognised at the token's first delimiter: scheme bytes are no
 * delimiters, so in "scheme://rest" the ':' is the first one; the token then
 * goes to s_mask_tok, which writes it. */
static inline __attribute__((always_inline)) size_t s_mask_win(const char *t, size_t s, size_t len, size_t n,
                                                               uint64_t st, uint64_t dg, char *out) {
    const char *p = t + s;
    if (S_C(p, 0) & C_ALPHA)
        for (uint64_t x = st;; x &= x - 1) {
            unsigned f = (unsigned)__builtin_ctzll(x); /* a bit below len is a delimiter or a dot of a pair */
            if (f >= len) break;
            if (p[f] == '.') continue;
            if (p[f] == ':' && p[f + 1] == '/' && p[f + 2] == '/' && s_all_scheme(p, 0, f)) {
                size_t end;
                return s_mask_tok(t, s, n, out, &end);
            }
            break;
        }
    char *q = out;
    size_t c = 0; /* p[c..) is not written yet */
    for (dg &= (1ull << len) - 1; dg;) {
        /* the segment [a, z) holds the digit at d: a variable unless it is a name with that one digit */
        unsigned d = (unsigned)__builtin_ctzll(dg);
        uint64_t below = st & ((1ull << d) - 1), seg;
        unsigned a = below ? 64 - (unsigned)__builtin_clzll(below) : 0;
        unsigned z = (unsigned)__builtin_ctzll(st & (~0ull << d)); /* st has the bit of the blank at len */
        seg = dg & ((1ull << z) - 1);
        if ((seg & (seg - 1)) || !s_is_name(p + a, z - a)) {
            q = s_copy(q, p + c, a - c);
            memcpy(q, "<*>", 3);
            q += 3;
            c = z;
        }
        dg &= ~0ull << z;
    }
    q = s_copy(q, p + c, len - c);
    return (size_t)(q - out);
}

/* Can byte c start a unit (B K M G T k m u n)?  A cheap test before s_unit. */
#define S_UNIT_FIRST(c)                                                                                              \
    ((unsigned char)((c) - 'B') < 64 &&                                                                              \
     ((1ull << 0 | 1ull << ('K' - 'B') | 1ull << ('M' - 'B') | 1ull << ('G' - 'B') | 1ull << ('T' - 'B') |            \
       1ull << ('k' - 'B') | 1ull << ('m' - 'B') | 1ull << ('u' - 'B') | 1ull << ('n' - 'B')) >>                      \
      (unsigned char)((c) - 'B') & 1))

/* Length of the unit (mask.h) that the token at msg[s] consists of, followed
 * only by trailing punctuation up to the next blank or n; 0 when it is not
 * such a token. */
static size_t s_unit(const char *msg, size_t s, size_t n) {
    size_t k = 0;
    char a = msg[s], b = s + 1 < n ? msg[s + 1] : 0, c = s + 2 < n ? msg[s + 2] : 0;
    if (a == 'B') k = 1;
    else if (b == 'B' && (a == 'K' || a == 'M' || a == 'G' || a == 'T' || a == 'k')) k = 2;
    else if (b == 's' && (a == 'm' || a == 'u' || a == 'n')) k = 2;
    else if (b == 'i' && c == 'B' && (a == 'K' || a == 'M' || a == 'G')) k = 3;
    if (!k) return 0;
    for (size_t i = s + k; i < n && !(S_C(msg, i) & C_BLANK); i++)
        if (!(S_C(msg, i) & C_TRAIL)) return 0;
    return k;
}

/* gh_mask_line_words' body; fast: s_bits_avx2 (and the caller compiled with BMI2's shifts). */
static inline __attribute__((always_inline)) size_t s_line_words(const char *msg, size_t n, char *out, size_t cap,
                                                                 size_t *out_n, gh_span_t *toks, gh_span_t *words,
                                                                 size_t *nwords, int fast) {
    size_t nt = 0, o = 0, i = 0, nw = 0;
    int all = n <= GH_MASK_MAX_INPUT; /* every word is seen */
    if (!all) n = GH_MASK_MAX_INPUT;
    if (cap < GH_MASK_OUT_CAP) {
        *out_n = 0;
        if (nwords) *nwords = GH_MASK_WORDS_UNKNOWN;
        return 0;
    }
    /* a copy ending in blanks: the block scans and 16-byte copies stay inside it */
    char buf[GH_MASK_MAX_INPUT + 80];
    s_bits_t bits;
    if (n) memcpy(buf, msg, n);
    memset(buf + n, ' ', 80);
    msg = buf;
#if defined(S_AVX2)
    if (fast) s_bits_avx2(msg, n, &bits);
    else
#endif
        s_bits(msg, n, &bits);
    for (uint64_t x; i < n; i += 64) /* to the first word */
        if ((x = ~s_win(bits.bl, i)) != 0) {
            i += (size_t)__builtin_ctzll(x);
            break;
        }
    uint64_t x;
    while (i < n) {
        if (nt == GH_MASK_MAX_TOKENS - 1) { /* the rest of a very long message is one variable */
            all = 0;
            if (nt) out[o++] = ' ';
            memcpy(out + o, "<*>", 3);
            toks[nt].off = (uint32_t)o;
            toks[nt++].len = 3;
            o += 3;
            break;
        }
        uint64_t wb = s_win57(bits.bl, i); /* bit 0 clear: msg[i] starts a word; bits past 56 may be 0 */
        size_t len = wb ? (size_t)__builtin_ctzll(wb) : s_next(bits.bl, i) - i, e = i + len;
        /* a unit right after a masked number is folded into it, keeping trailing punctuation (the
         * output ends with the last token, and one shorter than 3 bytes cannot end in "<*>") */
        size_t ul;
        if (S_UNIT_FIRST(msg[i]) && o >= 3 && !memcmp(out + o - 3, "<*>", 3) && (ul = s_unit(msg, i, n)) != 0) {
            size_t s = i + ul;
            memcpy(out + o, msg + s, e - s);
            o += e - s;
            toks[nt - 1].len += (uint32_t)(e - s);
        } else {
            if (nt) out[o++] = ' ';
            size_t l;
            if (msg[i] == '/' && len > 1) { /* a path */
                memcpy(out + o, "<*>", 3);
                l = 3;
            } else if (len < 64) { /* s_mask_win looks at bits 0..len */
                int w57 = len < 56;
                l = s_mask_win(msg, i, len, n, w57 ? s_win57(bits.st, i) : s_win(bits.st, i),
                               w57 ? s_win57(bits.dg, i) : s_win(bits.dg, i), out + o);
            } else { /* a long word: byte by byte */
                size_t end;
                l = s_mask_tok(msg, i, n, out + o, &end);
            }
            toks[nt].off = (uint32_t)o;
            toks[nt++].len = (uint32_t)l;
            o += l;
        }
        if (words && nw < GH_MASK_MAX_TOKENS) {
            words[nw].off = (uint32_t)i;
            words[nw].len = (uint32_t)len;
        }
        nw++;
        if (len < 55 && !(wb >> len & 2)) { /* one blank, then the next word (bit len + 1 of wb is valid) */
            i = e + 1;
            continue;
        }
        for (i = e; i < n; i += 64)
            if ((x = ~s_win(bits.bl, i)) != 0) {
                i += (size_t)__builtin_ctzll(x);
                break;
            }
    }
    *out_n = o;
    if (nwords) *nwords = all && nw <= GH_MASK_MAX_TOKENS ? nw : GH_MASK_WORDS_UNKNOWN;
    return nt;
}

#if defined(S_AVX2)
/* The word loop's variable shifts and bit scans take one instruction each with BMI1/2 (shrx, shlx,
 * blsr, tzcnt), not a move to %cl and a shift. */
__attribute__((target("avx2,bmi,bmi2,lzcnt"))) static size_t s_line_words_bmi2(const char *msg, size_t n, char *out,
                                                                               size_t cap, size_t *out_n,
                                                                               gh_span_t *toks, gh_span_t *words,
                                                                               size_t *nwords) {
    return s_line_words(msg, n, out, cap, out_n, toks, words, nwords, 1);
}
#endif

size_t gh_mask_line_words(const char *msg, size_t n, char *out, size_t cap, size_t *out_n, gh_span_t *toks,
                          gh_span_t *words, size_t *nwords) {
#if defined(S_AVX2)
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("bmi") && __builtin_cpu_supports("bmi2") &&
        __builtin_cpu_supports("lzcnt"))
        return s_line_words_bmi2(msg, n, out, cap, out_n, toks, words, nwords);
#endif
    return s_line_words(msg, n, out, cap, out_n, toks, words, nwords, 0);
}

size_t gh_mask_line(const char *msg, size_t n, char *out, size_t cap, size_t *out_n, gh_span_t *toks) {
    return gh_mask_line_words(msg, n, out, cap, out_n, toks, NULL, NULL);
}
