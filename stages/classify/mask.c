/* mask.c -- variable masking for the template miner; rules in mask.h. */
#include "mask.h"
#include <string.h>

static int s_is_blank(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f'; }
static int s_is_digit(char c) { return c >= '0' && c <= '9'; }
static int s_is_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

static int s_is_delim(const char *t, size_t n, size_t i) {
    switch (t[i]) {
    case ':': case '=': case ',': case '(': case ')': case '[': case ']': case '{': case '}':
    case '"': case '\'': case '<': case '>': case ';': case '|':
        return 1;
    case '.': /* a dot leader ("instruction......0") separates, a single dot does not */
        return (i + 1 < n && t[i + 1] == '.') || (i > 0 && t[i - 1] == '.');
    default:
        return 0;
    }
}

/* A segment is a variable when it holds a digit, unless it is a name with one
 * embedded digit: two or more letters, one digit, then letters or '_' only. */
static int s_is_variable(const char *s, size_t n) {
    size_t i = 0, digits = 0;
    for (size_t k = 0; k < n; k++) digits += s_is_digit(s[k]);
    if (!digits) return 0;
    if (digits != 1) return 1;
    while (i < n && s_is_alpha(s[i])) i++;
    if (i < 2 || i >= n || !s_is_digit(s[i])) return 1;
    for (i++; i < n; i++)
        if (!s_is_alpha(s[i]) && s[i] != '_') return 1;
    return 0;
}

size_t gh_mask_token(const char *t, size_t n, char *out) {
    size_t o = 0, i = 0;
    /* URL: keep the scheme, the rest is one variable */
    if (n > 0 && s_is_alpha(t[0])) {
        while (i < n && (s_is_alpha(t[i]) || s_is_digit(t[i]) || t[i] == '.' || t[i] == '+' || t[i] == '-')) i++;
        if (i + 3 <= n && !memcmp(t + i, "://", 3)) {
            memcpy(out, t, i + 3);
            o = i + 3;
            if (i + 3 < n) { memcpy(out + o, "<*>", 3); o += 3; }
            return o;
        }
        i = 0;
    }
    if (n > 1 && t[0] == '/') {
        memcpy(out, "<*>", 3);
        return 3;
    }
    size_t seg = 0;
    for (i = 0; i <= n; i++) {
        if (i < n && !s_is_delim(t, n, i)) continue;
        if (i > seg) {
            if (s_is_variable(t + seg, i - seg)) { memcpy(out + o, "<*>", 3); o += 3; }
            else { memcpy(out + o, t + seg, i - seg); o += i - seg; }
        }
        if (i < n) out[o++] = t[i];
        seg = i + 1;
    }
    return o;
}

/* Units that follow a number and belong to it. */
static int s_is_unit(const char *s, size_t n) {
    /* lengths beside the words: this runs for every token */
    static const struct { const char *w; size_t n; } units[] = {
        { "B", 1 }, { "KB", 2 }, { "MB", 2 }, { "GB", 2 }, { "TB", 2 }, { "kB", 2 }, { "ms", 2 },
        { "us", 2 }, { "ns", 2 }, { "KiB", 3 }, { "MiB", 3 }, { "GiB", 3 },
    };
    if (n == 0 || n > 3) return 0;
    for (size_t k = 0; k < sizeof units / sizeof *units; k++)
        if (units[k].n == n && !memcmp(units[k].w, s, n)) return 1;
    return 0;
}

size_t gh_mask_line(const char *msg, size_t n, char *out, size_t cap, size_t *out_n, gh_span_t *toks) {
    size_t nt = 0, o = 0, i = 0;
    if (n > GH_MASK_MAX_INPUT) n = GH_MASK_MAX_INPUT;
    if (cap < GH_MASK_OUT_CAP) { *out_n = 0; return 0; }
    while (i < n) {
        while (i < n && s_is_blank(msg[i])) i++;
        if (i >= n) break;
        size_t s = i;
        while (i < n && !s_is_blank(msg[i])) i++;
        if (nt == GH_MASK_MAX_TOKENS - 1) { /* the rest of a very long message is one variable */
            if (nt) out[o++] = ' ';
            memcpy(out + o, "<*>", 3);
            toks[nt].off = (uint32_t)o;
            toks[nt++].len = 3;
            o += 3;
            break;
        }
        /* a unit right after a masked number is folded into it, keeping trailing punctuation */
        size_t core = i - s;
        while (core > 0 && (msg[s + core - 1] == ',' || msg[s + core - 1] == ';' || msg[s + core - 1] == '.' ||
                            msg[s + core - 1] == ')'))
            core--;
        if (nt && core && s_is_unit(msg + s, core) && toks[nt - 1].len >= 3 &&
            !memcmp(out + toks[nt - 1].off + toks[nt - 1].len - 3, "<*>", 3)) {
            memcpy(out + o, msg + s + core, i - s - core);
            o += i - s - core;
            toks[nt - 1].len += (uint32_t)(i - s - core);
            continue;
        }
        if (nt) out[o++] = ' ';
        toks[nt].off = (uint32_t)o;
        size_t l = gh_mask_token(msg + s, i - s, out + o);
        toks[nt++].len = (uint32_t)l;
        o += l;
    }
    *out_n = o;
    return nt;
}
