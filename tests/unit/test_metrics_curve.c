/* test_metrics_curve.c -- CURVE keys and the ZAP allow list over real
 * tcp:// sockets on loopback (no root needed): keygen writes readable key
 * files, an allowed client's messages arrive, an unknown key is refused. */
#include "check.h"
#include "curve.h"
#include <sys/stat.h>
#include <unistd.h>
#include <zmq.h>

static int s_recv(void *sock, int timeout_ms, char *buf, size_t len) {
    zmq_setsockopt(sock, ZMQ_RCVTIMEO, &timeout_ms, sizeof timeout_ms);
    int n = zmq_recv(sock, buf, len - 1, 0);
    if (n >= 0) buf[n < (int)len - 1 ? n : (int)len - 1] = 0;
    return n;
}

static void *s_client(void *ctx, const char *keyfile, const char *server_pub, const char *ep) {
    gh_curve_t c;
    char err[256];
    void *s = zmq_socket(ctx, ZMQ_PUSH);
    int linger = 0;
    zmq_setsockopt(s, ZMQ_LINGER, &linger, sizeof linger);
    if (keyfile) {
        CHECK_EQ(gh_curve_load(&c, keyfile, server_pub, err, sizeof err), 0);
        CHECK_EQ(gh_curve_client(s, &c), 0);
    }
    CHECK_EQ(zmq_connect(s, ep), 0);
    return s;
}

int main(void) {
    char dir[] = "/tmp/ghost-curve.XXXXXX", path[256], path2[256], err[256];
    CHECK(mkdtemp(dir) != NULL);
    snprintf(path, sizeof path, "%s/keys", dir);
    CHECK_EQ(gh_curve_keygen(path, "server", err, sizeof err), 0);
    CHECK_EQ(gh_curve_keygen(path, "good", err, sizeof err), 0);
    CHECK_EQ(gh_curve_keygen(path, "good", err, sizeof err), -1); /* never overwrites */
    snprintf(path2, sizeof path2, "%s/rogue", dir);
    CHECK_EQ(gh_curve_keygen(path2, "bad", err, sizeof err), 0);
    struct stat sb;
    snprintf(path2, sizeof path2, "%s/keys/good.key", dir);
    CHECK(stat(path2, &sb) == 0 && (sb.st_mode & 0777) == 0600);
    char pub[41], sec[41], pub2[41];
    CHECK_EQ(gh_curve_read(path2, pub, sec, err, sizeof err), 0);
    snprintf(path2, sizeof path2, "%s/keys/good.pub", dir);
    CHECK_EQ(gh_curve_read(path2, pub2, NULL, err, sizeof err), 0);
    CHECK_STR(pub, pub2);
    CHECK_EQ(gh_curve_read(path2, pub2, sec, err, sizeof err), -1); /* a .pub holds no secret */
    CHECK(gh_curve_applies("tcp://1.2.3.4:5") && !gh_curve_applies("ipc:///x") && !gh_curve_applies("inproc://x"));
    gh_curve_t none;
    CHECK_EQ(gh_curve_load(&none, "", path2, err, sizeof err), -1); /* server key without a secret */

    /* allow list: only good.pub */
    char allow[256], cmd[600];
    snprintf(allow, sizeof allow, "%s/allow", dir);
    mkdir(allow, 0700);
    snprintf(cmd, sizeof cmd, "cp %s/keys/good.pub %s/", dir, allow);
    CHECK_EQ(system(cmd), 0);
    void *ctx = zmq_ctx_new();
    gh_zap_t *zap = gh_zap_start(ctx, allow);
    CHECK(zap != NULL);
    gh_curve_t srv;
    char keyfile[256], srvpub[256], badkey[256], goodkey[256];
    snprintf(keyfile, sizeof keyfile, "%s/keys/server.key", dir);
    snprintf(srvpub, sizeof srvpub, "%s/keys/server.pub", dir);
    snprintf(goodkey, sizeof goodkey, "%s/keys/good.key", dir);
    snprintf(badkey, sizeof badkey, "%s/rogue/bad.key", dir);
    CHECK_EQ(gh_curve_load(&srv, keyfile, NULL, err, sizeof err), 0);
    void *pull = zmq_socket(ctx, ZMQ_PULL);
    CHECK_EQ(gh_curve_server(pull, &srv), 0);
    CHECK_EQ(zmq_bind(pull, "tcp://127.0.0.1:*"), 0);
    char ep[128];
    size_t eplen = sizeof ep;
    zmq_getsockopt(pull, ZMQ_LAST_ENDPOINT, ep, &eplen);

    void *bad = s_client(ctx, badkey, srvpub, ep), *plain = s_client(ctx, NULL, NULL, ep);
    zmq_send(bad, "rogue", 5, ZMQ_DONTWAIT);
    zmq_send(plain, "plain", 5, ZMQ_DONTWAIT);
    void *good = s_client(ctx, goodkey, srvpub, ep);
    CHECK(zmq_send(good, "hello", 5, 0) == 5);
    char buf[64];
    CHECK(s_recv(pull, 3000, buf, sizeof buf) == 5);
    CHECK_STR(buf, "hello");
    CHECK(s_recv(pull, 500, buf, sizeof buf) < 0); /* nothing from the others */
    CHECK(gh_zap_refused(zap) >= 1);
    zmq_close(bad);
    zmq_close(plain);
    zmq_close(good);
    zmq_close(pull);
    zmq_ctx_term(ctx);
    gh_zap_join(&zap);
    CHECK(zap == NULL);
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    CHECK_EQ(system(cmd), 0);
    TEST_MAIN_END();
}
