/* parse_audit.c -- Linux auditd records ("type=... msg=audit(sec.ms:serial): ...").
 *
 * Field extraction and enrichment follow the reference go-libaudit parser
 * (auparse) so that its golden files can be matched field for field:
 *
 *   - key=value pairs: a key is [a-z0-9_-]+, a value is an unquoted run, a
 *     '...' or a "..." string; quotes and blanks are trimmed; values "", "?",
 *     "?," and "(null)" are dropped; the key "msg" (user records) is parsed
 *     again and its pairs become fields too (later keys win).
 *   - record quirks: SELinux "avc:  denied  { read } for" becomes seresult and
 *     seperms; LOGIN's "old auid="/"new auid=" become old_auid/new_auid; the
 *     "(hostname=?, addr=?, terminal=cron res=success)" form of PAM records is
 *     flattened.
 *   - auid, old-auid, ses: 4294967295 or -1 -> "unset"; subj (and PATH's obj)
 *     split into _user, _role, _domain, _level, _category; success=/res= ->
 *     result "success"/"fail"; a negative exit -> errno name; key= -> tags
 *     (hex keys hold several, separated by 0x01); arch -> name; syscall ->
 *     name for that arch; SECCOMP's sig -> signal name; SOCKADDR's saddr ->
 *     family, addr, port, path.
 *   - hex-encoded values decoded (only unquoted, even-length, upper-case hex,
 *     as the kernel writes them): cwd always; exe (SYSCALL, SECCOMP), proctitle
 *     (NULs become spaces), cmd (USER_CMD), data (TTY, USER_TTY), execve's
 *     aN (cut at the first NUL), PATH's name, USER_LOGIN's acct.
 *
 * "node=HOST " before "type=" sets the record's host.  The message is the
 * record body after the header.  With log_format=ENRICHED, the translations
 * auditd appends after a GS byte (0x1d) become fields under their own
 * upper-case names (AUID=root, SYSCALL=open, SADDR="saddr_fam=inet ...");
 * the kernel's part before it is what is parsed and enriched as above, and
 * the message stops at the GS.
 */
#include "ingest/parse_int.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define S_LIT(s) s, sizeof(s) - 1

/* Byte classes of the key=value scan: key bytes, blanks (isspace in the C
 * locale), and the bytes that end an unquoted value (quotes and blanks). */
#define S_KEY 1u
#define S_SPACE 2u
#define S_VEND 4u
static const unsigned char s_cls[256] = {
    ['a'] = S_KEY, ['b'] = S_KEY, ['c'] = S_KEY, ['d'] = S_KEY, ['e'] = S_KEY, ['f'] = S_KEY, ['g'] = S_KEY,
    ['h'] = S_KEY, ['i'] = S_KEY, ['j'] = S_KEY, ['k'] = S_KEY, ['l'] = S_KEY, ['m'] = S_KEY, ['n'] = S_KEY,
    ['o'] = S_KEY, ['p'] = S_KEY, ['q'] = S_KEY, ['r'] = S_KEY, ['s'] = S_KEY, ['t'] = S_KEY, ['u'] = S_KEY,
    ['v'] = S_KEY, ['w'] = S_KEY, ['x'] = S_KEY, ['y'] = S_KEY, ['z'] = S_KEY, ['0'] = S_KEY, ['1'] = S_KEY,
    ['2'] = S_KEY, ['3'] = S_KEY, ['4'] = S_KEY, ['5'] = S_KEY, ['6'] = S_KEY, ['7'] = S_KEY, ['8'] = S_KEY,
    ['9'] = S_KEY, ['_'] = S_KEY, ['-'] = S_KEY,
    [' '] = S_SPACE | S_VEND, ['\t'] = S_SPACE | S_VEND, ['\n'] = S_SPACE | S_VEND, ['\r'] = S_SPACE | S_VEND,
    ['\f'] = S_SPACE | S_VEND, ['\v'] = S_SPACE | S_VEND, ['"'] = S_VEND, ['\''] = S_VEND,
};

static inline int s_iskey(unsigned char c) { return s_cls[c] & S_KEY; }
static inline int s_isspace(unsigned char c) { return s_cls[c] & S_SPACE; }
static inline int s_istrim(char c) { return c == '\'' || c == '"' || c == ' '; }

/* Whether key k[0..kn) is one the record's level is read from (result comes
 * from success or res): all s_kv keeps when the parser's fields are off.
 * success, res, result, seresult, apparmor -- by length, then the bytes. */
static inline int s_level_key(const char *k, size_t kn) {
    switch (kn) {
    case 3: return !memcmp(k, "res", 3);
    case 6: return !memcmp(k, "result", 6);
    case 7: return !memcmp(k, "success", 7);
    case 8: return !memcmp(k, "seresult", 8) || !memcmp(k, "apparmor", 8);
    default: return 0;
    }
}

/* The quote c that closes a value whose text starts at s[j] (s[j - 1] is the
 * opening quote), or n: the first c that no backslash precedes.  A backslash
 * before a quote escapes it whatever comes before the backslash, so this is
 * the byte by byte walk that steps over "\\c" pairs, found with memchr. */
static size_t s_close_quote(const char *s, size_t j, size_t n, char c) {
    for (const char *q; j < n && (q = memchr(s + j, c, n - j)); j = (size_t)(q - s) + 1)
        if (q[-1] != '\\') return (size_t)(q - s);
    return n;
}

/* Extract key=value pairs from s[0..n) (see the file comment). */
static void s_kv(gh_parser_t *p, const char *s, size_t n, int depth) {
    size_t i = 0;
    while (i < n) {
        if (!s_iskey((unsigned char)s[i])) { i++; continue; }
        size_t ks = i;
        while (i < n && s_iskey((unsigned char)s[i])) i++;
        size_t ke = i;
        if (i >= n || s[i] != '=') continue;
        size_t vs = i + 1, ve;
        if (vs >= n) break;
        char c = s[vs];
        if (c == '\'' || c == '"') {
            size_t j = s_close_quote(s, vs + 1, n, c);
            if (j >= n) {
                /* unterminated: the reference regex may still close on an escaped quote */
                const char *q = memchr(s + vs + 1, c, n - vs - 1);
                if (!q) { i = vs; continue; }
                j = (size_t)(q - s);
            }
            ve = j + 1;
        } else if (s_isspace((unsigned char)c)) {
            i = vs;
            continue;
        } else {
            ve = vs;
            while (ve < n && !(s_cls[(unsigned char)s[ve]] & S_VEND)) ve++;
        }
        i = ve;
        const char *v = s + vs;
        size_t vn = ve - vs;
        size_t kn = ke - ks;
        /* with fields off only the level keys and msg (parsed again) matter */
        if (!p->fields && !s_level_key(s + ks, kn) && !(kn == 3 && depth < 4 && !memcmp(s + ks, "msg", 3))) continue;
        unsigned flags = (c == '\'' || c == '"') ? GH_FF_QUOTED : 0;
        while (vn && s_istrim(v[0])) { v++; vn--; }
        while (vn && s_istrim(v[vn - 1])) vn--;
        if (vn == 0 || (vn == 1 && v[0] == '?') || (vn == 2 && !memcmp(v, "?,", 2)) ||
            (vn == 6 && !memcmp(v, "(null)", 6)))
            continue;
        if (kn == 3 && !memcmp(s + ks, "msg", 3) && depth < 4) {
            s_kv(p, v, vn, depth + 1);
            continue;
        }
        gh_ps_set(p, s + ks, kn, v, vn, flags);
    }
}

static int s_isuphex(const char *s, size_t n) {
    if (n == 0 || n % 2) return 0;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'A' && s[i] <= 'F'))) return 0;
    return 1;
}
static int s_hexval(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
}

enum { S_HEX_JOIN, S_HEX_CUT };

/* Decode field idx in place when it is unquoted upper-case hex.  JOIN turns
 * NULs into spaces, CUT ends the value at the first NUL. */
static void s_hex_field(gh_parser_t *p, long idx, int mode) {
    if (idx < 0 || (p->pf[idx].flags & GH_FF_QUOTED)) return;
    size_t vn = p->pf[idx].vn;
    if (!s_isuphex(gh_ps_val(p, idx), vn)) return;
    size_t off = gh_ps_reserve(p, vn / 2 + 1);
    if (off == (size_t)-1) return;
    const char *v = gh_ps_val(p, idx);
    char *o = gh_ps_at(p, off);
    size_t k = 0;
    for (size_t i = 0; i < vn; i += 2) {
        char b = (char)(s_hexval(v[i]) << 4 | s_hexval(v[i + 1]));
        if (b == '\0') {
            if (mode == S_HEX_CUT) break;
            b = ' ';
        }
        o[k++] = b;
    }
    o[k] = '\0';
    p->pf[idx].vo = off;
    p->pf[idx].vn = k;
}

static void s_hex(gh_parser_t *p, const char *key, size_t kn, int mode) {
    s_hex_field(p, gh_ps_find(p, key, kn), mode);
}

static void s_unset(gh_parser_t *p, const char *key, size_t kn) {
    long i = gh_ps_find(p, key, kn);
    if (i < 0) return;
    const char *v = gh_ps_val(p, i);
    if (!strcmp(v, "4294967295") || !strcmp(v, "-1")) gh_ps_set(p, key, kn, S_LIT("unset"), 0);
}

/* user:role:domain:level:category -> key_user, key_role, ... */
static void s_selinux(gh_parser_t *p, const char *key, size_t kn) {
    static const char *const parts[] = { "_user", "_role", "_domain", "_level", "_category" };
    long i = gh_ps_find(p, key, kn);
    if (i < 0) return;
    size_t vo = p->pf[i].vo, vn = p->pf[i].vn;
    gh_ps_del(p, i);
    char k[64];
    if (kn > 40) return;
    size_t start = 0;
    for (int part = 0; part < 5; part++) {
        const char *v = gh_ps_at(p, vo);
        size_t end = start;
        if (part < 4) while (end < vn && v[end] != ':') end++;
        else end = vn;
        memcpy(k, key, kn);
        size_t pl = strlen(parts[part]);
        memcpy(k + kn, parts[part], pl);
        /* copy the value out first: gh_ps_set may move the arena */
        size_t len = end - start;
        size_t tmp = gh_ps_put(p, gh_ps_at(p, vo) + start, len);
        if (p->oom) return;
        long j = gh_ps_find(p, k, kn + pl);
        if (j >= 0) gh_ps_del(p, j);
        gh_ps_add_vo(p, k, kn + pl, tmp, len);
        if (end >= vn) break;
        start = end + 1;
    }
}

static int s_atol(const char *s, long *v) {
    char *end;
    if (!*s) return -1;
    long x = strtol(s, &end, 10);
    if (*end) return -1;
    *v = x;
    return 0;
}

static void s_result(gh_parser_t *p) {
    long i = gh_ps_find(p, S_LIT("success"));
    if (i < 0) i = gh_ps_find(p, S_LIT("res"));
    if (i < 0) return;
    const char *v = gh_ps_val(p, i);
    int ok = !strcasecmp(v, "yes") || !strcmp(v, "1") || !strncasecmp(v, "suc", 3);
    gh_ps_del(p, i);
    gh_ps_set(p, S_LIT("result"), ok ? "success" : "fail", ok ? 7 : 4, 0);
}

static void s_tags(gh_parser_t *p) {
    long i = gh_ps_find(p, S_LIT("key"));
    if (i < 0) return;
    size_t vo = p->pf[i].vo, vn = p->pf[i].vn;
    unsigned fl = p->pf[i].flags;
    gh_ps_del(p, i);
    const char *v = gh_ps_at(p, vo);
    if (!(fl & GH_FF_QUOTED) && s_isuphex(v, vn)) {
        /* several keys, hex encoded, separated by 0x01: tags joined by ',' */
        size_t off = gh_ps_reserve(p, vn / 2 + 1);
        if (off == (size_t)-1) return;
        v = gh_ps_at(p, vo);
        char *o = gh_ps_at(p, off);
        size_t k = 0;
        for (size_t j = 0; j < vn; j += 2) {
            char b = (char)(s_hexval(v[j]) << 4 | s_hexval(v[j + 1]));
            o[k++] = b == '\x01' ? ',' : b;
        }
        o[k] = '\0';
        gh_ps_add_vo(p, S_LIT("tags"), off, k);
        return;
    }
    const char *eq = memchr(v, '=', vn);
    if (eq) gh_ps_add_vo(p, S_LIT("tags"), vo + (size_t)(eq + 1 - v), vn - (size_t)(eq + 1 - v));
    else gh_ps_add_vo(p, S_LIT("tags"), vo, vn);
}

static void s_exit(gh_parser_t *p) {
    long i = gh_ps_find(p, S_LIT("exit")), v;
    if (i < 0 || s_atol(gh_ps_val(p, i), &v) || v >= 0) return;
    const char *name = gh_audit_errno_name(-v);
    if (name) gh_ps_set(p, S_LIT("exit"), name, strlen(name), 0);
}

static void s_arch_syscall(gh_parser_t *p) {
    long i = gh_ps_find(p, S_LIT("arch"));
    if (i < 0) return;
    char *end;
    unsigned long a = strtoul(gh_ps_val(p, i), &end, 16);
    if (*end) return;
    const char *name = NULL;
    char unk[32];
    for (const gh_audit_name_t *t = gh_audit_arches; t->name; t++)
        if (t->v == a) { name = t->name; break; }
    if (!name) { snprintf(unk, sizeof unk, "unknown[%lx]", a); name = unk; }
    gh_ps_set(p, S_LIT("arch"), name, strlen(name), 0);
    long nr, j = gh_ps_find(p, S_LIT("syscall"));
    if (j < 0 || s_atol(gh_ps_val(p, j), &nr)) return;
    const char *sc = gh_audit_syscall_name(name, nr);
    if (sc) gh_ps_set(p, S_LIT("syscall"), sc, strlen(sc), 0);
}

/* RFC 5952 text of a 16-byte address (what the reference parser prints). */
static void s_ip6(const unsigned char *b, char *out, size_t outn) {
    static const unsigned char v4mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
    if (!memcmp(b, v4mapped, 12)) { snprintf(out, outn, "%u.%u.%u.%u", b[12], b[13], b[14], b[15]); return; }
    unsigned w[8];
    for (int i = 0; i < 8; i++) w[i] = (unsigned)b[2 * i] << 8 | b[2 * i + 1];
    int best = -1, bestn = 1;
    for (int i = 0; i < 8;) {
        if (w[i]) { i++; continue; }
        int j = i;
        while (j < 8 && !w[j]) j++;
        if (j - i > bestn) { best = i; bestn = j - i; }
        i = j;
    }
    size_t k = 0;
    for (int i = 0; i < 8 && k < outn; i++) {
        if (i == best) {
            k += (size_t)snprintf(out + k, outn - k, "::");
            i += bestn - 1;
            continue;
        }
        k += (size_t)snprintf(out + k, outn - k, "%s%x", (i && i != best + bestn) ? ":" : "", w[i]);
    }
    if (k == 0) snprintf(out, outn, "::");
}

static int s_hexbytes(const char *s, size_t n, unsigned char *o) {
    for (size_t i = 0; i + 1 < n + 1 && i < n; i += 2) {
        int a = s_hexval(s[i]), b = i + 1 < n ? s_hexval(s[i + 1]) : -1;
        if (a < 0 || b < 0) return -1;
        o[i / 2] = (unsigned char)(a << 4 | b);
    }
    return 0;
}

static void s_saddr(gh_parser_t *p) {
    long i = gh_ps_find(p, S_LIT("saddr"));
    if (i < 0) return;
    size_t vn = p->pf[i].vn;
    if (vn < 4) return;
    char s[160];
    unsigned char b[64];
    size_t sn = vn < sizeof s - 1 ? vn : sizeof s - 1;
    memcpy(s, gh_ps_val(p, i), sn);
    s[sn] = '\0';
    if (s_hexbytes(s, 4, b)) return;
    unsigned fam = b[0] | (unsigned)b[1] << 8;   /* host order (little endian) */
    char buf[64];
    if (fam == 1) {
        size_t full = vn - 4;
        size_t off = gh_ps_reserve(p, full / 2 + 1);
        if (off == (size_t)-1) return;
        const char *v = gh_ps_val(p, i) + 4;
        char *o = gh_ps_at(p, off);
        size_t k = 0;
        for (size_t j = 0; j + 1 < full; j += 2) {
            int hi = s_hexval(v[j]), lo = s_hexval(v[j + 1]);
            if (hi < 0 || lo < 0) break;
            char c = (char)(hi << 4 | lo);
            if (!c) break;
            o[k++] = c;
        }
        o[k] = '\0';
        gh_ps_del(p, i);
        gh_ps_set(p, S_LIT("family"), S_LIT("unix"), 0);
        gh_ps_add_vo(p, S_LIT("path"), off, k);
    } else if (fam == 2 && vn >= 16 && !s_hexbytes(s + 4, 12, b + 2)) {
        gh_ps_del(p, i);
        gh_ps_set(p, S_LIT("family"), S_LIT("ipv4"), 0);
        int len = snprintf(buf, sizeof buf, "%u.%u.%u.%u", b[4], b[5], b[6], b[7]);
        gh_ps_set(p, S_LIT("addr"), buf, (size_t)len, 0);
        len = snprintf(buf, sizeof buf, "%u", (unsigned)b[2] << 8 | b[3]);
        gh_ps_set(p, S_LIT("port"), buf, (size_t)len, 0);
    } else if (fam == 10 && vn >= 48 && !s_hexbytes(s + 4, 44, b + 2)) {
        gh_ps_del(p, i);
        gh_ps_set(p, S_LIT("family"), S_LIT("ipv6"), 0);
        s_ip6(b + 8, buf, sizeof buf);
        gh_ps_set(p, S_LIT("addr"), buf, strlen(buf), 0);
        int len = snprintf(buf, sizeof buf, "%u", (unsigned)b[2] << 8 | b[3]);
        gh_ps_set(p, S_LIT("port"), buf, (size_t)len, 0);
        unsigned long flow = (unsigned long)b[4] << 24 | (unsigned long)b[5] << 16 | (unsigned)b[6] << 8 | b[7];
        if (flow > 0 && flow < 0x80000000ul) {
            len = snprintf(buf, sizeof buf, "%lu", flow);
            gh_ps_set(p, S_LIT("flow"), buf, (size_t)len, 0);
        }
    } else if (fam == 16) {
        gh_ps_set(p, S_LIT("family"), S_LIT("netlink"), 0);
    } else {
        int len = snprintf(buf, sizeof buf, "%u", fam);
        gh_ps_set(p, S_LIT("family"), buf, (size_t)len, 0);
    }
}

static void s_execve(gh_parser_t *p) {
    long argc;
    long i = gh_ps_find(p, S_LIT("argc"));
    if (i < 0 || s_atol(gh_ps_val(p, i), &argc) || argc < 0) return;
    char k[32];
    for (long a = 0; a < argc && a < 100000; a++) {
        int kn = snprintf(k, sizeof k, "a%ld", a);
        s_hex(p, k, (size_t)kn, S_HEX_CUT);
    }
}

/* ENRICHED translations: KEY=value, KEY="value", KEY={ ... } (SADDR). */
static void s_enriched(gh_parser_t *p, const char *s, size_t n) {
    size_t i = 0;
    while (i < n) {
        while (i < n && s_isspace((unsigned char)s[i])) i++;
        size_t ks = i;
        while (i < n && (isupper((unsigned char)s[i]) || isdigit((unsigned char)s[i]) || s[i] == '_' || s[i] == '-'))
            i++;
        size_t kn = i - ks;
        if (!kn || i >= n || s[i] != '=') {
            while (i < n && !s_isspace((unsigned char)s[i])) i++;
            continue;
        }
        size_t vs = ++i, ve;
        if (i < n && (s[i] == '"' || s[i] == '{')) {
            char close = s[i] == '"' ? '"' : '}';
            const char *e = memchr(s + i + 1, close, n - i - 1);
            ve = e ? (size_t)(e - s) + 1 : n;
        } else {
            ve = i;
            while (ve < n && !s_isspace((unsigned char)s[ve])) ve++;
        }
        i = ve;
        const char *v = s + vs;
        size_t vn = ve - vs;
        if (vn >= 2 && v[0] == '"' && v[vn - 1] == '"') { v++; vn -= 2; }
        if (vn >= 2 && v[0] == '{' && v[vn - 1] == '}') {
            v++; vn -= 2;
            while (vn && v[0] == ' ') { v++; vn--; }
            while (vn && v[vn - 1] == ' ') vn--;
        }
        if (vn) gh_ps_set(p, s + ks, kn, v, vn, GH_FF_QUOTED);
    }
}

static int s_type_is(const char *t, size_t tn, const char *name) {
    return strlen(name) == tn && !memcmp(t, name, tn);
}

/* The first " (hostname=" in o[0..k), or NULL: memmem's answer, found from
 * the '(' (rare in a record body) with memchr. */
static char *s_find_hostname(char *o, size_t k) {
    for (char *q = k > 1 ? memchr(o + 1, '(', k - 1) : NULL; q; q = memchr(q + 1, '(', k - (size_t)(q + 1 - o))) {
        if ((size_t)(q - o) + 10 > k) return NULL;
        if (q[-1] == ' ' && !memcmp(q + 1, "hostname=", 9)) return q - 1;
    }
    return NULL;
}

/* Rewrite the quirky bodies into plain key=value text (into p->scratch);
 * *out is where the text is: p->scratch, or b itself when nothing is
 * rewritten (most records: no copy). */
static size_t s_normalise(gh_parser_t *p, const char *t, size_t tn, const char *b, size_t bn, const char **out) {
    if (gh_ps_scratch(p, bn + 64) != 0) return (size_t)-1;
    *out = p->scratch;
    char *o = p->scratch;
    size_t k = 0;
    if (s_type_is(t, tn, "AVC")) {
        /* avc:\s+(\w+)\s+\{\s*(.*)\s*\}\s+for\s+ */
        for (size_t i = 0; i + 4 <= bn; i++) {
            if (memcmp(b + i, "avc:", 4)) continue;
            size_t j = i + 4, ws = j;
            while (j < bn && s_isspace((unsigned char)b[j])) j++;
            if (j == ws) continue;
            size_t rs = j;
            while (j < bn && (isalnum((unsigned char)b[j]) || b[j] == '_')) j++;
            size_t re = j;
            if (re == rs) continue;
            ws = j;
            while (j < bn && s_isspace((unsigned char)b[j])) j++;
            if (j == ws || j >= bn || b[j] != '{') continue;
            size_t ps = j + 1, end = 0, close = 0;
            /* greedy: the last '}' followed by \s+for\s+ */
            for (size_t c = ps; c < bn; c++) {
                if (b[c] != '}') continue;
                size_t d = c + 1, w0 = d;
                while (d < bn && s_isspace((unsigned char)b[d])) d++;
                if (d == w0 || d + 3 > bn || memcmp(b + d, "for", 3)) continue;
                d += 3;
                w0 = d;
                while (d < bn && s_isspace((unsigned char)b[d])) d++;
                if (d == w0) continue;
                close = c; end = d;
            }
            if (!end) continue;
            if (gh_ps_scratch(p, bn + (close - ps) + 64) != 0) return (size_t)-1;
            o = p->scratch;
            *out = o;
            k += (size_t)sprintf(o, "seresult=%.*s seperms=", (int)(re - rs), b + rs);
            int first = 1;
            for (size_t c = ps; c < close;) {
                while (c < close && s_isspace((unsigned char)b[c])) c++;
                size_t ws2 = c;
                while (c < close && !s_isspace((unsigned char)b[c])) c++;
                if (c > ws2) {
                    if (!first) o[k++] = ',';
                    memcpy(o + k, b + ws2, c - ws2);
                    k += c - ws2;
                    first = 0;
                }
            }
            o[k++] = ' ';
            memcpy(o + k, b + end, bn - end);
            return k + bn - end;
        }
    }
    int login = s_type_is(t, tn, "LOGIN");
    if (!login && !s_find_hostname((char *)b, bn)) {   /* it only reads */
        *out = b;
        return bn;
    }
    memcpy(o, b, bn);
    k = bn;
    if (login) {
        static const char *const pre[] = { "old ", "new " };
        for (int w = 0; w < 2; w++)
            for (int rep = 0; rep < 2; rep++) {
                char *hit = memmem(o, k, pre[w], 4);
                if (!hit) break;
                hit[3] = '_';
            }
    }
    /* PAM: "... (hostname=?, addr=?, terminal=cron res=success)'" */
    char *h = s_find_hostname(o, k);
    if (h) {
        for (int rep = 0; rep < 2 && h; rep++) {
            memmove(h + 1, h + 2, k - (size_t)(h + 2 - o));
            k--;
            h = s_find_hostname(o, k);
        }
        while (k && (o[k - 1] == ')' || o[k - 1] == '\'')) k--;
    }
    return k;
}

static void s_add_type(gh_parser_t *p, const char *t, size_t tn) {
    char tl[64];
    size_t tln = tn < sizeof tl ? tn : sizeof tl;
    for (size_t k = 0; k < tln; k++) tl[k] = (char)tolower((unsigned char)t[k]);
    gh_ps_add(p, S_LIT("record_type"), tl, tln, 0);
}

/* The enrichment of a parsed record (see the file comment); enr[0..enrn) is
 * the ENRICHED part after the GS byte, or NULL. */
static void s_enrich(gh_parser_t *p, const char *t, size_t tn, const char *enr, size_t enrn) {
    if (enr) s_enriched(p, enr, enrn);
    s_unset(p, S_LIT("auid"));
    s_unset(p, S_LIT("old-auid"));
    s_unset(p, S_LIT("ses"));
    s_selinux(p, S_LIT("subj"));
    s_result(p);
    s_exit(p);
    s_tags(p);
    s_hex(p, S_LIT("cwd"), S_HEX_JOIN);

    if (s_type_is(t, tn, "SECCOMP") || s_type_is(t, tn, "SYSCALL")) {
        long sig, si = gh_ps_find(p, S_LIT("sig"));
        if (s_type_is(t, tn, "SECCOMP") && si >= 0 && !s_atol(gh_ps_val(p, si), &sig)) {
            const char *sn = gh_audit_signal_name(sig);
            if (sn) gh_ps_set(p, S_LIT("sig"), sn, strlen(sn), 0);
        }
        s_arch_syscall(p);
        s_hex(p, S_LIT("exe"), S_HEX_JOIN);
    } else if (s_type_is(t, tn, "SOCKADDR")) {
        s_saddr(p);
    } else if (s_type_is(t, tn, "PROCTITLE")) {
        s_hex(p, S_LIT("proctitle"), S_HEX_JOIN);
    } else if (s_type_is(t, tn, "USER_CMD")) {
        s_hex(p, S_LIT("cmd"), S_HEX_JOIN);
    } else if (s_type_is(t, tn, "TTY") || s_type_is(t, tn, "USER_TTY")) {
        s_hex(p, S_LIT("data"), S_HEX_JOIN);
    } else if (s_type_is(t, tn, "EXECVE")) {
        s_execve(p);
    } else if (s_type_is(t, tn, "PATH")) {
        s_selinux(p, S_LIT("obj"));
        s_hex(p, S_LIT("name"), S_HEX_JOIN);
    } else if (s_type_is(t, tn, "USER_LOGIN")) {
        s_hex(p, S_LIT("acct"), S_HEX_JOIN);
    }
}

int gh_ps_auditd(gh_parser_t *p, const char *line, size_t n) {
    size_t i = 0;
    const char *node = NULL;
    size_t node_n = 0;
    if (n >= 5 && !memcmp(line, "node=", 5)) {
        node = line + 5;
        i = 5;
        while (i < n && line[i] != ' ') i++;
        node_n = (size_t)(line + i - node);
        while (i < n && line[i] == ' ') i++;
    }
    if (n - i < 5 || memcmp(line + i, "type=", 5)) return -1;
    const char *t = line + i + 5;
    i += 5;
    while (i < n && line[i] != ' ') i++;
    size_t tn = (size_t)(line + i - t);
    while (i < n && line[i] == ' ') i++;
    if (tn == 0 || n - i < 4 || memcmp(line + i, "msg=", 4)) return -1;
    if (n - i < 10 || memcmp(line + i, "msg=audit(", 10)) {
        /* "type=X msg=<no header>": still an audit record, with no time */
        for (size_t k = 0; k < tn; k++)
            if (!isupper((unsigned char)t[k]) && !isdigit((unsigned char)t[k]) && !strchr("_[]", t[k])) return -1;
        if (p->fields) s_add_type(p, t, tn);
        p->msg = gh_pref_ext(line + i + 4, n - i - 4);
        return 0;
    }
    i += 10;
    int64_t sec = 0, msec = 0;
    uint64_t seq = 0;
    size_t d0 = i;
    /* digits past what a time can hold are read but not accumulated (no overflow on hostile input) */
    while (i < n && isdigit((unsigned char)line[i])) {
        if (sec < 100000000000LL) sec = sec * 10 + (line[i] - '0');
        i++;
    }
    if (i == d0 || i >= n || line[i] != '.') return -1;
    d0 = ++i;
    for (int nd = 0; i < n && isdigit((unsigned char)line[i]); nd++, i++) /* a fraction: first 3 digits are ms */
        if (nd < 3) msec = msec * 10 + (line[i] - '0');
    if (i - d0 < 3) for (size_t k = i - d0; k < 3; k++) msec *= 10;
    if (i == d0 || i >= n || line[i] != ':') return -1;
    d0 = ++i;
    while (i < n && isdigit((unsigned char)line[i])) seq = seq * 10 + (uint64_t)(line[i++] - '0');
    if (i == d0 || i >= n || line[i] != ')') return -1;
    i++;
    if (i < n && line[i] == ':') i++;
    const char *body = line + i;
    size_t bn = n - i;
    /* log_format=ENRICHED: the kernel's record, then GS (0x1d), then
     * auditd's translations ("AUID=\"root\" SYSCALL=open ...").  The raw part
     * is parsed as usual; the translations are kept under their upper-case
     * names after it. */
    const char *gs = memchr(body, 0x1d, bn);
    const char *enr = NULL;
    size_t enrn = 0;
    if (gs) {
        enr = gs + 1;
        enrn = (size_t)(body + bn - enr);
        bn = (size_t)(gs - body);
    }

    p->ts_ms = sec * 1000 + msec;
    p->has_ts = 1;
    if (node) p->host = gh_pref_ext(node, node_n);
    {
        size_t ms = 0, me = bn;
        while (ms < me && s_isspace((unsigned char)body[ms])) ms++;
        while (me > ms && s_isspace((unsigned char)body[me - 1])) me--;
        p->msg = gh_pref_ext(body + ms, me - ms);
    }

    if (p->fields) {
        s_add_type(p, t, tn);
        char sq[24];
        int sqn = snprintf(sq, sizeof sq, "%llu", (unsigned long long)seq);
        gh_ps_add(p, S_LIT("sequence"), sq, (size_t)sqn, 0);
    }

    const char *nb;
    size_t nn = s_normalise(p, t, tn, body, bn, &nb);
    if (nn == (size_t)-1) { p->oom = 1; return -1; }
    s_kv(p, nb, nn, 0);
    if (p->fields) {
        s_enrich(p, t, tn, enr, enrn);
    } else {
        /* only the level keys were kept, and of the enrichment only
         * s_result concerns them (the translations' keys are upper case) */
        s_result(p);
    }

    /* level: failures, anomalies and denials are warnings */
    long r = gh_ps_find(p, S_LIT("result"));
    long sr = gh_ps_find(p, S_LIT("seresult"));
    long aa = gh_ps_find(p, S_LIT("apparmor"));
    if ((r >= 0 && !strcmp(gh_ps_val(p, r), "fail")) || (tn > 5 && !memcmp(t, "ANOM_", 5)) ||
        (sr >= 0 && !strcmp(gh_ps_val(p, sr), "denied")) || (aa >= 0 && !strcasecmp(gh_ps_val(p, aa), "DENIED")))
        p->level = GH_LVL_WARNING;
    else
        p->level = GH_LVL_INFO;
    return p->oom ? -1 : 0;
}
