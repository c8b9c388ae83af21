/* test_stage_frames.c -- a real ghost-ingest process over real ZeroMQ
 * sockets takes garbage, truncated, wrongly typed and unknown-version frames
 * between valid batches: it keeps running, passes every valid line on as a
 * record, counts the bad frames, and on end of stream forwards it and exits 0.
 */
#include "check.h"
#include "gh_proto.h"
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zmq.h>

int main(void) {
    const char *bin = getenv("GHOST_BIN");
    if (!bin) {
        puts("skipped: GHOST_BIN not set");
        return TEST_SKIP;
    }
    char dir[] = "/tmp/ghost-frames.XXXXXX", exe[512], in[600], out[600], errlog[600];
    if (!mkdtemp(dir)) return 1;
    snprintf(exe, sizeof exe, "%s/ghost-ingest", bin);
    snprintf(in, sizeof in, "ipc://%s/in.sock", dir);
    snprintf(out, sizeof out, "ipc://%s/out.sock", dir);
    snprintf(errlog, sizeof errlog, "%s/ingest.log", dir);

    void *ctx = zmq_ctx_new();
    void *pull = zmq_socket(ctx, ZMQ_PULL), *push = zmq_socket(ctx, ZMQ_PUSH);
    CHECK_EQ(zmq_bind(pull, out), 0);
    pid_t pid = fork();
    if (pid == 0) {
        freopen(errlog, "w", stderr);
        execl(exe, exe, "--bind", in, "--connect", out, "--producers", "1", "--redis", "", (char *)NULL);
        _exit(127);
    }
    CHECK_EQ(zmq_connect(push, in), 0);

    gh_enc_t e;
    gh_enc_init(&e);
    /* garbage, a truncated valid frame, a wrong version, a wrong batch type */
    zmq_send(push, "\xc1\xc1garbage", 9, 0);
    gh_enc_begin(&e, GH_T_RAW, "test", 1, 0);
    gh_raw_t r = { gh_cstr("t.log"), gh_cstr("<34>Oct 11 22:14:15 mymachine su: 'su root' failed for lonvick"), 1, 0 };
    gh_enc_raw(&e, &r);
    gh_enc_finish(&e);
    zmq_send(push, e.sb.data, e.sb.size - 3, 0);
    const unsigned char v9[] = { 0x82, 0xa1, 'v', 0x09, 0xa1, 't', 0x01 };
    zmq_send(push, v9, sizeof v9, 0);
    gh_enc_begin(&e, GH_T_RATE, "test", 2, 0);
    gh_rate_t rt = { gh_cstr("k"), 0, 60, 1, 0, gh_cstr(""), gh_cstr(""), gh_cstr("") };
    gh_enc_rate(&e, &rt);
    gh_enc_finish(&e);
    zmq_send(push, e.sb.data, e.sb.size, 0);
    /* 3 valid batches of 100 lines, with garbage between them */
    char line[128];
    for (int b = 0; b < 3; b++) {
        gh_enc_begin(&e, GH_T_RAW, "test", 10 + (uint64_t)b, 0);
        for (int i = 0; i < 100; i++) {
            int n = snprintf(line, sizeof line, "{\"level\":\"error\",\"msg\":\"request %d failed\",\"n\":%d}", i, b);
            gh_raw_t ri = { gh_cstr("app.log"), gh_str(line, (size_t)n), 0, 0 };
            gh_enc_raw(&e, &ri);
        }
        gh_enc_finish(&e);
        zmq_send(push, e.sb.data, e.sb.size, 0);
        zmq_send(push, "", 0, 0);
    }
    gh_enc_begin(&e, GH_T_EOS, "test", 99, 0);
    gh_enc_finish(&e);
    zmq_send(push, e.sb.data, e.sb.size, 0);

    /* read records until the forwarded end of stream */
    int timeout = 10000, records = 0, eos = 0, errors = 0;
    zmq_setsockopt(pull, ZMQ_RCVTIMEO, &timeout, sizeof timeout);
    gh_batch_t b;
    gh_batch_init(&b);
    while (!eos) {
        zmq_msg_t m;
        zmq_msg_init(&m);
        if (zmq_msg_recv(&m, pull, 0) < 0) {
            zmq_msg_close(&m);
            break;
        }
        if (gh_batch_decode(&b, zmq_msg_data(&m), zmq_msg_size(&m)) != GH_DEC_OK) errors++;
        else if (b.type == GH_T_EOS) {
            eos = 1;
            CHECK_MEM(b.src.p, b.src.n, "ingest-0", 8);
        } else if (b.type == GH_T_RECORD) {
            for (size_t i = 0; i < b.n; i++)
                if (b.u.rec[i].format != GH_FMT_JSON || b.u.rec[i].level != GH_LVL_ERR) errors++;
            records += (int)b.n;
        }
        zmq_msg_close(&m);
    }
    CHECK_EQ(eos, 1);
    CHECK_EQ(records, 300);
    CHECK_EQ(errors, 0);
    int status = -1;
    for (int i = 0; i < 100; i++) {
        if (waitpid(pid, &status, WNOHANG) == pid) break;
        usleep(50000);
    }
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    if (!WIFEXITED(status)) kill(pid, SIGKILL), waitpid(pid, &status, 0);
    /* the stage said what it dropped */
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "grep -q 'dropped a frame' %s && grep -q '7 bad frames' %s", errlog, errlog);
    int grep_rc = system(cmd);
    CHECK_EQ(grep_rc, 0);
    if (grep_rc) {
        snprintf(cmd, sizeof cmd, "cat %s >&2", errlog);
        (void)!system(cmd);
    }
    gh_batch_release(&b);
    gh_enc_free(&e);
    zmq_close(pull);
    zmq_close(push);
    zmq_ctx_term(ctx);
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    (void)!system(cmd);
    TEST_MAIN_END();
}
