/* test_miner.c -- masking (against a plain reference masker), template ids, generalisation, eviction and the
 * partition key of the template miner (stages/classify/). */
#include "check.h"
#include "classify/mask.h"
#include "classify/miner.h"
#include <signal.h>
#include <stdint.h>
#include <unistd.h>

static char s_out[GH_MASK_OUT_CAP];
static gh_span_t s_toks[GH_MASK_MAX_TOKENS];

static const char *s_mask(const char *msg) {
    size_t n;
    gh_mask_line(msg, strlen(msg), s_out, sizeof s_out, &n, s_toks);
    s_out[n] = 0;
    return s_out;
}

static uint64_t s_add(gh_miner_t *m, const char *msg, const char **tpl, int *is_new) {
    size_t tn;
    return gh_miner_add(m, msg, strlen(msg), tpl, &tn, is_new);
}

static void test_mask(void) {
    CHECK_STR(s_mask("Received block blk_-1608999687919862906 of size 91178 from /10.250.10.6"),
              "Received block <*> of size <*> from <*>");
    CHECK_STR(s_mask("connect to 10.0.0.1:8080 failed"), "connect to <*>:<*> failed");
    CHECK_STR(s_mask("id 0x7f3a9c and uuid 123e4567-e89b-12d3-a456-426614174000"), "id <*> and uuid <*>");
    CHECK_STR(s_mask("Input split: hdfs://host:9000/user/a/b"), "Input split: hdfs://<*>");
    CHECK_STR(s_mask("Deleting /tmp/x/y.txt now"), "Deleting <*> now");
    CHECK_STR(s_mask("uid=0 euid=0 tty=ssh user=root"), "uid=<*> euid=<*> tty=ssh user=root");
    CHECK_STR(s_mask("Accepted password for a from 1.2.3.4 port 22 ssh2"), "Accepted password for a from <*> port <*> ssh2");
    CHECK_STR(s_mask("jk2_init() Found child 6725"), "jk2_init() Found child <*>");
    CHECK_STR(s_mask("estimated size 16.0 KB, free 317.5 KB)"), "estimated size <*>, free <*>)");
    CHECK_STR(s_mask("illegal instruction......0"), "illegal instruction......<*>");
    CHECK_STR(s_mask("  spaced\tout   words  "), "spaced out words");
    CHECK_STR(s_mask(""), "");
    CHECK_STR(s_mask("took 5 ms.) and 7 KiB, 9 MBx ok"), "took <*>.) and <*>, <*> MBx ok");
    CHECK_STR(s_mask("v1.2 utf8 ab1c ab12 a1b"), "<*> utf8 ab1c <*> <*>");
    CHECK_STR(s_mask("a.b+c-d://x / /x x//y"), "a.b+c-d://<*> / <*> x//y");
}

/* ---- reference masker: the rules of mask.h written plainly, one test per
 * byte and per token, to check the table-driven single pass against. */

static int s_ref_is_blank(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f'; }
static int s_ref_is_digit(char c) { return c >= '0' && c <= '9'; }
static int s_ref_is_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

static int s_ref_is_delim(const char *t, size_t n, size_t i) {
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
static int s_ref_is_variable(const char *s, size_t n) {
    size_t i = 0, digits = 0;
    for (size_t k = 0; k < n; k++) digits += s_ref_is_digit(s[k]);
    if (!digits) return 0;
    if (digits != 1) return 1;
    while (i < n && s_ref_is_alpha(s[i])) i++;
    if (i < 2 || i >= n || !s_ref_is_digit(s[i])) return 1;
    for (i++; i < n; i++)
        if (!s_ref_is_alpha(s[i]) && s[i] != '_') return 1;
    return 0;
}

static size_t s_ref_mask_token(const char *t, size_t n, char *out) {
    size_t o = 0, i = 0;
    /* URL: keep the scheme, the rest is one variable */
    if (n > 0 && s_ref_is_alpha(t[0])) {
        while (i < n && (s_ref_is_alpha(t[i]) || s_ref_is_digit(t[i]) || t[i] == '.' || t[i] == '+' || t[i] == '-')) i++;
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
        if (i < n && !s_ref_is_delim(t, n, i)) continue;
        if (i > seg) {
            if (s_ref_is_variable(t + seg, i - seg)) { memcpy(out + o, "<*>", 3); o += 3; }
            else { memcpy(out + o, t + seg, i - seg); o += i - seg; }
        }
        if (i < n) out[o++] = t[i];
        seg = i + 1;
    }
    return o;
}

/* Units that follow a number and belong to it. */
static int s_ref_is_unit(const char *s, size_t n) {
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

static size_t s_ref_mask_line(const char *msg, size_t n, char *out, size_t cap, size_t *out_n, gh_span_t *toks) {
    size_t nt = 0, o = 0, i = 0;
    if (n > GH_MASK_MAX_INPUT) n = GH_MASK_MAX_INPUT;
    if (cap < GH_MASK_OUT_CAP) { *out_n = 0; return 0; }
    while (i < n) {
        while (i < n && s_ref_is_blank(msg[i])) i++;
        if (i >= n) break;
        size_t s = i;
        while (i < n && !s_ref_is_blank(msg[i])) i++;
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
        if (nt && core && s_ref_is_unit(msg + s, core) && toks[nt - 1].len >= 3 &&
            !memcmp(out + toks[nt - 1].off + toks[nt - 1].len - 3, "<*>", 3)) {
            memcpy(out + o, msg + s + core, i - s - core);
            o += i - s - core;
            toks[nt - 1].len += (uint32_t)(i - s - core);
            continue;
        }
        if (nt) out[o++] = ' ';
        toks[nt].off = (uint32_t)o;
        size_t l = s_ref_mask_token(msg + s, i - s, out + o);
        toks[nt++].len = (uint32_t)l;
        o += l;
    }
    *out_n = o;
    return nt;
}

/* The fast masker and the reference agree on generated lines made of the
 * pieces every rule looks at (digits, names with one digit, units with
 * trailing punctuation, URLs, paths, dot leaders, delimiters, blanks, bytes
 * above 0x7f), and on a line past the token limit. */
static void test_mask_reference(void) {
    static const char *frag[] = { "ssh2", "jk2_init", "ab1c", "a1", "abc12", "x_y", "KB", "B", "ms", "MiB", "kB",
                                  "us", "GB", "http://", "hdfs://h:9/x", "a.b+c-d://", "/", "/tmp/x", "..", "...",
                                  "0x1f", "12", "7", " 5 KB,", " 3 ms).", "=", ":", "\t", "'", "Ab", "zz9_",
                                  "\xc3\xa9", "<*>", "uid=0", "1.2.3.4:80", "user=root" };
    static const char alpha[] = "aZb09_.:=,()[]{}\"'<>;|/+-  \t\r\n\v\f\xff" "0123456789KBMGiBmsunxyz";
    static char line[4096], ref[GH_MASK_OUT_CAP];
    static gh_span_t rtoks[GH_MASK_MAX_TOKENS];
    uint64_t s = 88172645463325252ull;
    size_t bad = 0;
    for (int k = 0; k < 200000; k++) {
        size_t want = (k % 500 == 0) ? 4000 : 1 + k % 97, n = 0;
        while (n < want) {
            s ^= s << 13; s ^= s >> 7; s ^= s << 17;
            if (s % 3 == 0) {
                const char *f = frag[(s >> 8) % (sizeof frag / sizeof *frag)];
                size_t fl = strlen(f);
                if (n + fl > want) break;
                memcpy(line + n, f, fl);
                n += fl;
            } else {
                line[n++] = alpha[(s >> 8) % (sizeof alpha - 1)];
            }
        }
        size_t on, rn;
        size_t nt = gh_mask_line(line, n, s_out, sizeof s_out, &on, s_toks);
        size_t rt = s_ref_mask_line(line, n, ref, sizeof ref, &rn, rtoks);
        int same = nt == rt && on == rn && !memcmp(s_out, ref, on);
        for (size_t t = 0; same && t < nt; t++) same = s_toks[t].off == rtoks[t].off && s_toks[t].len == rtoks[t].len;
        if (!same && bad++ < 3) fprintf(stderr, "mask differs on [%.*s]:\n  got [%.*s]\n want [%.*s]\n", (int)n, line, (int)on, s_out, (int)rn, ref);
        char tok[64];
        size_t tn = n < sizeof tok ? n : sizeof tok;
        memcpy(tok, line, tn);
        for (size_t t = 0; t < tn; t++) if (tok[t] == ' ' || tok[t] == '\t' || tok[t] == '\r' || tok[t] == '\n' || tok[t] == '\v' || tok[t] == '\f') tok[t] = 'q';
        char a[3 * 64 + 4], b[3 * 64 + 4];
        size_t an = gh_mask_token(tok, tn, a), bn = s_ref_mask_token(tok, tn, b);
        if ((an != bn || memcmp(a, b, an)) && bad++ < 3) fprintf(stderr, "token mask differs on [%.*s]\n", (int)tn, tok);
    }
    CHECK_EQ(bad, 0);
    /* past the token limit: the rest is one variable */
    size_t n = 0;
    for (int t = 0; t < 300; t++) n += (size_t)snprintf(line + n, sizeof line - n, "w%c ", 'a' + t % 26);
    size_t on, rn;
    size_t nt = gh_mask_line(line, n, s_out, sizeof s_out, &on, s_toks);
    CHECK_EQ(nt, GH_MASK_MAX_TOKENS);
    CHECK_EQ(nt, s_ref_mask_line(line, n, ref, sizeof ref, &rn, rtoks));
    CHECK(on == rn && !memcmp(s_out, ref, on));
}

static void test_generalise_keeps_id(void) {
    gh_miner_t *m = gh_miner_new(0);
    const char *tpl;
    int is_new;
    uint64_t a = s_add(m, "Invalid user admin from 1.2.3.4", &tpl, &is_new);
    CHECK_EQ(is_new, 1);
    CHECK_STR(tpl, "Invalid user admin from <*>");
    uint64_t a2 = s_add(m, "Invalid user admin from 5.6.7.8", &tpl, &is_new);
    CHECK_EQ(a2, a);
    CHECK_EQ(is_new, 0);
    uint64_t b = s_add(m, "Invalid user oracle from 1.2.3.4", &tpl, &is_new);
    CHECK(b != a); /* two values are not yet evidence of a variable */
    uint64_t c = s_add(m, "Invalid user test from 1.2.3.4", &tpl, &is_new);
    CHECK_EQ(c, a); /* the third value makes the position a variable; the oldest id survives */
    CHECK_STR(tpl, "Invalid user <*> from <*>");
    CHECK_EQ(is_new, 0);
    CHECK_EQ(gh_miner_count(m), 1);
    CHECK_EQ(gh_miner_resolve(m, b, &tpl, NULL), a);
    CHECK_EQ(s_add(m, "Invalid user zed from 9.9.9.9", &tpl, &is_new), a);
    /* two distinct words stay two events */
    uint64_t p = s_add(m, "Failed password for x", &tpl, &is_new);
    uint64_t q = s_add(m, "Failed none for x", &tpl, &is_new);
    CHECK(p != q);
    /* key=value keeps its key when it generalises */
    s_add(m, "session opened user=root", &tpl, &is_new);
    s_add(m, "session opened user=bob", &tpl, &is_new);
    s_add(m, "session opened user=carl", &tpl, &is_new);
    CHECK_STR(tpl, "session opened user=<*>");
    gh_miner_destroy(&m);
    CHECK(m == NULL);
}

static void test_deterministic_ids(void) {
    const char *lines[] = { "a b 1", "Invalid user x from 1.1.1.1", "Invalid user y from 1.1.1.1",
                            "Invalid user z from 1.1.1.1", "disk full on /dev/sda1", "a b 2" };
    uint64_t ids[2][6];
    for (int r = 0; r < 2; r++) {
        gh_miner_t *m = gh_miner_new(0);
        for (int i = 0; i < 6; i++) ids[r][i] = gh_miner_resolve(m, s_add(m, lines[i], NULL, NULL), NULL, NULL);
        gh_miner_destroy(&m);
    }
    for (int i = 0; i < 6; i++) CHECK_EQ(ids[0][i], ids[1][i]);
    CHECK_EQ(ids[0][0], ids[0][5]);
}

static void test_eviction(void) {
    gh_miner_t *m = gh_miner_new(4);
    char line[64];
    const char *words[] = { "alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta" };
    uint64_t hot = s_add(m, "hot event here", NULL, NULL);
    for (int i = 0; i < 8; i++) {
        snprintf(line, sizeof line, "%s event number %d", words[i], i);
        s_add(m, line, NULL, NULL);
        s_add(m, "hot event here", NULL, NULL); /* keep it recently used */
        CHECK(gh_miner_count(m) <= 4);
    }
    CHECK_EQ(gh_miner_count(m), 4);
    CHECK_EQ(gh_miner_resolve(m, hot, NULL, NULL), hot);
    int is_new;
    s_add(m, "alpha event number 99", NULL, &is_new);
    CHECK_EQ(is_new, 1); /* evicted long ago: comes back as new */
    gh_miner_destroy(&m);
}

static void test_partition(void) {
    const char *a = "Received block blk_1 of size 5 from /1.2.3.4";
    const char *b = "Received block blk_2 of size 77 from /9.8.7.6";
    CHECK_EQ(gh_miner_partition(a, strlen(a)), gh_miner_partition(b, strlen(b)));
    const char *c = "Received block blk_1 of size 5";
    CHECK(gh_miner_partition(a, strlen(a)) != gh_miner_partition(c, strlen(c)));
    const char *d = "Sent block blk_1 of size 5 from /1.2.3.4";
    CHECK(gh_miner_partition(a, strlen(a)) != gh_miner_partition(d, strlen(d)));
    const char *e = "42 things";
    const char *f = "43 things";
    CHECK_EQ(gh_miner_partition(e, strlen(e)), gh_miner_partition(f, strlen(f)));
}

static void test_long_and_odd_input(void) {
    gh_miner_t *m = gh_miner_new(0);
    size_t n = 200000;
    char *big = malloc(n);
    for (size_t i = 0; i < n; i++) big[i] = (i % 7 == 6) ? ' ' : (char)('a' + i % 26);
    const char *tpl;
    size_t tn;
    CHECK(gh_miner_add(m, big, n, &tpl, &tn, NULL) != 0);
    CHECK(gh_miner_add(m, "", 0, &tpl, &tn, NULL) != 0);
    CHECK_EQ(tn, 0);
    CHECK(gh_miner_add(m, "\xff\xfe\x00zz", 5, &tpl, &tn, NULL) != 0);
    free(big);
    gh_miner_destroy(&m);
}

/* Save to a throwaway redis-server (unix socket in a temp dir), restore into
 * a fresh miner: same ids and templates; only changed templates are rewritten. */
static void test_persistence(void) {
    if (system("command -v redis-server >/dev/null 2>&1") != 0) {
        fprintf(stderr, "redis-server absent: persistence not tested\n");
        return;
    }
    char dir[] = "/tmp/ghost-miner-XXXXXX", cmd[1024], sock[64], pidf[64];
    if (!mkdtemp(dir)) return;
    snprintf(sock, sizeof sock, "%s/redis.sock", dir);
    snprintf(pidf, sizeof pidf, "%s/redis.pid", dir);
    snprintf(cmd, sizeof cmd, "redis-server --port 0 --unixsocket %s --save '' --appendonly no --daemonize yes "
             "--pidfile %s --dir %s >/dev/null", sock, pidf, dir);
    CHECK(system(cmd) == 0);
    char url[300];
    snprintf(url, sizeof url, "unix:%s", sock);
    gh_redis_t *r = NULL;
    for (int i = 0; i < 50 && !r; i++) {
        usleep(100000);
        if (access(sock, F_OK) == 0) r = gh_redis_new(url, "ghosttest:");
    }
    CHECK(r != NULL);
    gh_miner_t *m = gh_miner_new(0), *m2 = gh_miner_new(0);
    const char *lines[] = { "user a logged in 1", "user b logged in 2", "user c logged in 3", "disk 7 is full" };
    uint64_t ids[4];
    for (int i = 0; i < 4; i++) ids[i] = s_add(m, lines[i], NULL, NULL);
    int rc = -1;
    for (int i = 0; i < 30 && rc != 0; i++) { rc = gh_miner_save(m, r); if (rc) usleep(100000); }
    CHECK_EQ(rc, 0);
    CHECK_EQ(gh_miner_save(m, r), 0); /* nothing changed: nothing sent */
    CHECK_EQ(gh_miner_load(m2, r), 0);
    CHECK_EQ(gh_miner_count(m2), gh_miner_count(m));
    const char *tpl;
    int is_new;
    CHECK_EQ(s_add(m2, "user zz logged in 9", &tpl, &is_new), ids[0]);
    CHECK_STR(tpl, "user <*> logged in <*>");
    CHECK_EQ(is_new, 0);
    CHECK_EQ(s_add(m2, "disk 9 is full", NULL, NULL), ids[3]);
    gh_miner_destroy(&m);
    gh_miner_destroy(&m2);
    gh_redis_destroy(&r);
    FILE *f = fopen(pidf, "r");
    long pid = 0;
    if (f) { if (fscanf(f, "%ld", &pid) != 1) pid = 0; fclose(f); }
    if (pid > 0) kill((pid_t)pid, SIGTERM);
    usleep(200000);
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", dir);
}

int main(void) {
    test_mask();
    test_mask_reference();
    test_generalise_keeps_id();
    test_deterministic_ids();
    test_eviction();
    test_partition();
    test_long_and_odd_input();
    test_persistence();
    TEST_MAIN_END();
}
