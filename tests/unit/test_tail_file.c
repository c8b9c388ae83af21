/* test_tail_file.c -- ghost-tail's reader, file identity, checkpoint lines
 * and the in-memory side of the ingest dedup. */
#include "check.h"
#include "tail/dedup.h"
#include "tail/tail_ckpt.h"
#include "tail/tail_file.h"
#include <fcntl.h>
#include <unistd.h>

typedef struct { char lines[16][128]; uint64_t offs[16]; int cut[16]; int n; } s_got_t;

static void on_line(void *ud, gh_tail_file_t *f, const char *line, size_t n, uint64_t end_off, int cut) {
    (void)f;
    s_got_t *g = ud;
    if (g->n >= 16) return;
    snprintf(g->lines[g->n], sizeof g->lines[0], "%.*s", (int)n, line);
    g->offs[g->n] = end_off;
    g->cut[g->n++] = cut;
}

static void s_append(const char *path, const char *s) {
    int fd = open(path, O_WRONLY | O_APPEND | O_CREAT, 0600);
    if (fd >= 0) {
        CHECK(write(fd, s, strlen(s)) == (ssize_t)strlen(s));
        close(fd);
    }
}

int main(void) {
    char dir[] = "/tmp/test_tail_file.XXXXXX", path[256];
    CHECK(mkdtemp(dir) != NULL);
    snprintf(path, sizeof path, "%s/a.log", dir);
    s_append(path, "one\ntwo\nthr");

    /* lines, offsets past the newline, the unfinished line stays pending */
    gh_tail_file_t *f = gh_tail_file_open(path, 0, 0);
    CHECK(f != NULL);
    if (!f) TEST_MAIN_END();
    s_got_t g = { 0 };
    uint64_t ncut = 0;
    CHECK_EQ(gh_tail_file_read(f, 100, 1 << 20, 0, on_line, &g, &ncut), 11);
    CHECK_EQ(g.n, 2);
    CHECK_STR(g.lines[0], "one");
    CHECK_EQ(g.offs[0], 4);
    CHECK_STR(g.lines[1], "two");
    CHECK_EQ(g.offs[1], 8);
    CHECK_EQ(f->off, 8);
    CHECK(f->eof);
    /* the rest of the pending line arrives later */
    s_append(path, "ee\nbinary\xff\xfez\n");
    gh_tail_file_read(f, 100, 1 << 20, 0, on_line, &g, &ncut);
    CHECK_EQ(g.n, 4);
    CHECK_STR(g.lines[2], "three");
    CHECK_EQ(g.offs[2], 14);
    CHECK_EQ(g.offs[3], 24); /* invalid UTF-8 passes as data */

    /* a long line is cut to max_line, its offset still points past its newline */
    s_append(path, "0123456789abcdef\nok\nunterminated");
    gh_tail_file_read(f, 8, 1 << 20, 0, on_line, &g, &ncut);
    CHECK_EQ(g.n, 6);
    CHECK_STR(g.lines[4], "01234567");
    CHECK(g.cut[4]);
    CHECK_EQ(g.offs[4], 41);
    CHECK_EQ(ncut, 1);
    CHECK_STR(g.lines[5], "ok");
    CHECK(!g.cut[5]);
    /* flush_partial hands out the unterminated last line at end of file */
    gh_tail_file_read(f, 100, 1 << 20, 1, on_line, &g, &ncut);
    CHECK_EQ(g.n, 7);
    CHECK_STR(g.lines[6], "untermin"); /* it was pending under the 8-byte limit */
    CHECK(g.cut[6]);
    CHECK_EQ(g.offs[6], f->rpos);

    /* fingerprint: grows with the file, notices rewritten first bytes */
    CHECK_EQ(f->fp_len, 11);
    CHECK_EQ(gh_tail_file_verify(f), 1);
    CHECK_EQ(f->fp_len, 56);
    gh_tail_file_t *same = gh_tail_file_open(path, f->dev, f->ino);
    CHECK(same != NULL);
    gh_tail_file_close(&same);
    CHECK(gh_tail_file_open(path, f->dev, f->ino + 1) == NULL); /* another inode is refused */
    CHECK_EQ(truncate(path, 0), 0);
    s_append(path, "ONE\ntwo\nthree\nbinary\xff\xfez\n0123456789abcdef\nok\nunterminated");
    CHECK_EQ(gh_tail_file_verify(f), 0);

    /* seek resets the reader; ids are never 0 and never repeat */
    gh_tail_file_seek(f, 4);
    g.n = 0;
    gh_tail_file_read(f, 100, 1 << 20, 0, on_line, &g, &ncut);
    CHECK_STR(g.lines[0], "two");
    uint64_t a = gh_tail_file_new_id("tail-0", 1, 2), b = gh_tail_file_new_id("tail-0", 1, 2);
    CHECK(a && b && a != b);
    gh_tail_file_close(&f);
    CHECK(f == NULL);

    /* checkpoint lines round-trip, paths with spaces included */
    gh_ckpt_entry_t e = { 0xabcdefull, 65024, 123456, 0x1234ull, 10, 20, 1024, (char *)"/var/log/my app.log" }, p;
    char line[512];
    CHECK_EQ(gh_ckpt_format(&e, line, sizeof line), 0);
    CHECK_EQ(gh_ckpt_parse(line, &p), 0);
    CHECK_EQ(p.file_id, e.file_id);
    CHECK_EQ(p.ino, e.ino);
    CHECK_EQ(p.off, 20);
    CHECK_EQ(p.fp_len, 1024);
    CHECK_STR(p.path, "/var/log/my app.log");
    free(p.path);
    CHECK_EQ(gh_ckpt_parse("0 1 2 3 4 5 6 /x", &p), -1);   /* file_id 0 */
    CHECK_EQ(gh_ckpt_parse("garbage", &p), -1);
    /* local store: save, load */
    gh_ckpt_set_t s = { 0 }, l = { 0 };
    CHECK_EQ(gh_ckpt_add(&s, &e), 0);
    CHECK_EQ(gh_ckpt_save(NULL, dir, "t", &s), 0);
    CHECK_EQ(gh_ckpt_load(NULL, dir, "t", &l), 1);
    CHECK_EQ(l.n, 1);
    if (l.n) CHECK_STR(l.v[0].path, "/var/log/my app.log");
    gh_ckpt_clear(&s);
    gh_ckpt_clear(&l);

    /* dedup without Redis: per-file marks, replays dropped, no identity always passes */
    gh_dedup_t *d = gh_dedup_new(NULL, NULL);
    CHECK(d != NULL);
    CHECK_EQ(gh_dedup_accept(d, 7, 10), 1);
    CHECK_EQ(gh_dedup_accept(d, 7, 20), 1);
    CHECK_EQ(gh_dedup_accept(d, 7, 20), 0);
    CHECK_EQ(gh_dedup_accept(d, 7, 10), 0);
    CHECK_EQ(gh_dedup_accept(d, 8, 10), 1); /* another file */
    CHECK_EQ(gh_dedup_accept(d, 0, 5), 1);
    CHECK_EQ(gh_dedup_accept(d, 0, 5), 1);
    for (uint64_t id = 100; id < 1100; id++) CHECK(gh_dedup_accept(d, id, 1)); /* table growth */
    CHECK_EQ(gh_dedup_accept(d, 7, 30), 1);
    CHECK_EQ(gh_dedup_accept(d, 500, 1), 0);
    CHECK_EQ(gh_dedup_dropped(d), 3);
    CHECK_EQ(gh_dedup_commit(d), -1); /* no Redis: the marks stay pending */
    CHECK(gh_dedup_pending(d) > 0);
    gh_dedup_destroy(&d);
    CHECK(d == NULL);

    snprintf(line, sizeof line, "%s/a.log", dir);
    unlink(line);
    snprintf(line, sizeof line, "%s/tail-t.ckpt", dir);
    unlink(line);
    rmdir(dir);
    TEST_MAIN_END();
}
