/* mask.c -- variable masking for the template miner; rules in mask.h.
 *
 * One pass over the line, driven by a byte-class table: each byte is looked
 * up once, copied to the output as it is read, and a segment that turns out
 * to be a variable is rewound and replaced by "<*>" when its end is reached.
 * Only a segment with exactly one digit needs a second look (the name test
 * of s_is_name).  This runs for every record ghost-classify receives.
 *
 * gh_mask_line works on a copy of the line followed by blanks (at most
 * GH_MASK_MAX_INPUT + 16 bytes on the stack), so the byte loops of a token
 * stop at a blank and need no bound check (s_mask_segs); gh_mask_token, for
 * a token of any length, keeps the bound checks (s_mask_tok).
 */
#include "mask.h"
#include <string.h>

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

/* The token starting at t[s] (no path) of the line t[0..n) into out, as
 * s_mask_tok.  t must hold a blank at or after the token's end (the line
 * masker's padded copy), so no byte is compared with a bound.  Returns the
 * output length; *end gets the index of the blank that ends the token.
 *
 * A URL is recognised at the token's first delimiter: scheme bytes are no
 * delimiters, so in "scheme://rest" the ':' is the first one; the token then
 * goes to s_mask_tok, which writes it. */
static size_t s_mask_segs(const char *msg, size_t s, size_t n, char *out, size_t *end) {
    const unsigned char *t = (const unsigned char *)msg, *p = t + s, *seg = p;
    char *q = out, *segq = out;
    unsigned digits = 0;
    int url = (s_cls[*p] & C_ALPHA) != 0; /* the first delimiter may still open a URL */
    for (;;) {
        unsigned k = s_cls[*p];
        if (!(k & (C_BLANK | C_DELIM | C_DOT))) {
            *q++ = (char)*p++;
            digits += k & C_DIGIT;
            continue;
        }
        if ((k & C_DOT) && p[1] != '.' && !(p > t + s && p[-1] == '.')) { /* a lone dot is a segment byte */
            *q++ = '.';
            p++;
            continue;
        }
        if (url && (k & C_DELIM)) {
            url = 0;
            if (*p == ':' && p[1] == '/' && p[2] == '/' && s_all_scheme(msg, s, (size_t)(p - t)))
                return s_mask_tok(msg, s, n, out, end);
        }
        /* the segment [seg, p) ends here: a variable when it holds a digit, unless it is a name */
        if (digits && (digits > 1 || !s_is_name((const char *)seg, (size_t)(p - seg)))) {
            q = segq;
            memcpy(q, "<*>", 3);
            q += 3;
        }
        if (k & C_BLANK) break;
        *q++ = (char)*p++;
        seg = p;
        segq = q;
        digits = 0;
    }
    *end = (size_t)(p - t);
    return (size_t)(q - out);
}

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

size_t gh_mask_line_words(const char *msg, size_t n, char *out, size_t cap, size_t *out_n, gh_span_t *toks,
                          gh_span_t *words, size_t *nwords) {
    size_t nt = 0, o = 0, i = 0, nw = 0;
    int all = n <= GH_MASK_MAX_INPUT; /* every word is seen */
    if (!all) n = GH_MASK_MAX_INPUT;
    if (cap < GH_MASK_OUT_CAP) {
        *out_n = 0;
        if (nwords) *nwords = GH_MASK_WORDS_UNKNOWN;
        return 0;
    }
    /* a copy ending in blanks: token scans stop at a blank without a bound check */
    char buf[GH_MASK_MAX_INPUT + 16];
    if (n) memcpy(buf, msg, n);
    memset(buf + n, ' ', 16);
    msg = buf;
    for (;; nw++) {
        while (i < n && (S_C(msg, i) & C_BLANK)) i++;
        if (i >= n) break;
        size_t w = i; /* this word's start; its span is recorded once its end is known */
        if (nt == GH_MASK_MAX_TOKENS - 1) { /* the rest of a very long message is one variable */
            all = 0;
            if (nt) out[o++] = ' ';
            memcpy(out + o, "<*>", 3);
            toks[nt].off = (uint32_t)o;
            toks[nt++].len = 3;
            o += 3;
            break;
        }
        /* a unit right after a masked number is folded into it, keeping trailing punctuation */
        size_t ul;
        const char *pe = nt ? out + toks[nt - 1].off + toks[nt - 1].len : NULL; /* end of the last token */
        if (nt && toks[nt - 1].len >= 3 && pe[-3] == '<' && pe[-2] == '*' && pe[-1] == '>' &&
            (ul = s_unit(msg, i, n)) != 0) {
            size_t s = i + ul;
            for (i = s; i < n && !(S_C(msg, i) & C_BLANK); i++) out[o++] = msg[i];
            toks[nt - 1].len += (uint32_t)(i - s);
        } else {
            if (nt) out[o++] = ' ';
            toks[nt].off = (uint32_t)o;
            size_t l;
            if (msg[i] == '/' && !(S_C(msg, i + 1) & C_BLANK)) { /* a path */
                memcpy(out + o, "<*>", 3);
                l = 3;
                for (i += 2; !(S_C(msg, i) & C_BLANK); i++) {}
            } else {
                l = s_mask_segs(msg, i, n, out + o, &i);
            }
            toks[nt++].len = (uint32_t)l;
            o += l;
        }
        if (words && nw < GH_MASK_MAX_TOKENS) {
            words[nw].off = (uint32_t)w;
            words[nw].len = (uint32_t)(i - w);
        }
    }
    *out_n = o;
    if (nwords) *nwords = all && nw <= GH_MASK_MAX_TOKENS ? nw : GH_MASK_WORDS_UNKNOWN;
    return nt;
}

size_t gh_mask_line(const char *msg, size_t n, char *out, size_t cap, size_t *out_n, gh_span_t *toks) {
    return gh_mask_line_words(msg, n, out, cap, out_n, toks, NULL, NULL);
}
