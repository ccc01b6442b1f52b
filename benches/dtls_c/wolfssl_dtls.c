/* wolfSSL's DTLS in memory, one thread: the comparator of benches/bench_dtls.py.
 *
 *   wolfssl_dtls VERSION CERT KEY CA HOST      (VERSION: 12 or 13)
 *
 * Reads commands on stdin, one a line, and answers each with one line:
 *
 *   H n   n full handshakes (new client and server objects each), answered
 *         "ns <elapsed> c2s <bytes> s2c <bytes> datagrams <count>" (the last three
 *         for one handshake);
 *   D n   n 64-byte application datagrams client -> server over one connection
 *         (made once, on the first D), answered "ns <elapsed>";
 *   Q     quit.
 *
 * The handshake is what ferrotls' bench runs: ECDSA P-256 server certificate,
 * X25519, AES-128-GCM (ECDHE-ECDSA-AES128-GCM-SHA256 / TLS13-AES128-GCM-SHA256),
 * the client verifying the chain and the host name, the server's stateless cookie
 * exchange (wolfSSL always makes one: a HelloVerifyRequest in DTLS 1.2, a
 * HelloRetryRequest cookie in DTLS 1.3), no tickets.  Datagrams travel through
 * two in-memory queues set as wolfSSL's I/O callbacks; the cookie callback gives
 * a fixed peer identity, as there is no socket.  Timing: CLOCK_MONOTONIC around
 * the loop only.  Our own code, written against wolfSSL's public API (ssl.h).
 */
#include <wolfssl/options.h>
#include <wolfssl/ssl.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define SLOTS 128
#define SLOT_SIZE 2048

typedef struct {
    unsigned char data[SLOTS][SLOT_SIZE];
    int len[SLOTS];
    int head, count;
    long bytes, datagrams;
} Queue;

typedef struct {
    Queue *in, *out;
} Pipe;

static Queue c2s, s2c;
static Pipe client_pipe = {&s2c, &c2s}, server_pipe = {&c2s, &s2c};

static void reset(Queue *q) {
    q->head = q->count = 0;
    q->bytes = q->datagrams = 0;
}

static int io_send(WOLFSSL *ssl, char *buf, int sz, void *ctx) {
    (void)ssl;
    Queue *q = ((Pipe *)ctx)->out;
    if (q->count == SLOTS) return WOLFSSL_CBIO_ERR_WANT_WRITE;
    if (sz > SLOT_SIZE) sz = SLOT_SIZE; /* never: datagrams stay below the MTU */
    int at = (q->head + q->count) % SLOTS;
    memcpy(q->data[at], buf, (size_t)sz);
    q->len[at] = sz;
    q->count++;
    q->bytes += sz;
    q->datagrams++;
    return sz;
}

static int io_recv(WOLFSSL *ssl, char *buf, int sz, void *ctx) {
    (void)ssl;
    Queue *q = ((Pipe *)ctx)->in;
    if (q->count == 0) return WOLFSSL_CBIO_ERR_WANT_READ;
    int n = q->len[q->head];
    if (n > sz) n = sz; /* a datagram larger than the buffer is cut, as recvfrom does */
    memcpy(buf, q->data[q->head], (size_t)n);
    q->head = (q->head + 1) % SLOTS;
    q->count--;
    return n;
}

static int gen_cookie(WOLFSSL *ssl, unsigned char *buf, int sz, void *ctx) {
    (void)ssl;
    (void)ctx;
    memset(buf, 0x5a, (size_t)sz); /* the peer's identity: one fixed peer */
    return sz;
}

static double now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static void die(const char *what) {
    fprintf(stderr, "wolfssl_dtls: %s\n", what);
    exit(1);
}

static WOLFSSL_CTX *client_ctx, *server_ctx;
static const char *host;
static int dtls_version;

static void setup(int version, const char *cert, const char *key, const char *ca) {
    int groups[] = {WOLFSSL_ECC_X25519, WOLFSSL_ECC_SECP256R1};
    const char *suite = version == 13 ? "TLS13-AES128-GCM-SHA256" : "ECDHE-ECDSA-AES128-GCM-SHA256";
    client_ctx = wolfSSL_CTX_new(version == 13 ? wolfDTLSv1_3_client_method() : wolfDTLSv1_2_client_method());
    server_ctx = wolfSSL_CTX_new(version == 13 ? wolfDTLSv1_3_server_method() : wolfDTLSv1_2_server_method());
    if (!client_ctx || !server_ctx) die("CTX_new failed");
    if (wolfSSL_CTX_load_verify_locations(client_ctx, ca, NULL) != WOLFSSL_SUCCESS) die("load CA");
    wolfSSL_CTX_set_verify(client_ctx, WOLFSSL_VERIFY_PEER, NULL);
    if (wolfSSL_CTX_use_certificate_chain_file(server_ctx, cert) != WOLFSSL_SUCCESS) die("load cert");
    if (wolfSSL_CTX_use_PrivateKey_file(server_ctx, key, WOLFSSL_FILETYPE_PEM) != WOLFSSL_SUCCESS) die("load key");
    WOLFSSL_CTX *ctxs[2] = {client_ctx, server_ctx};
    for (int i = 0; i < 2; i++) {
        if (wolfSSL_CTX_set_cipher_list(ctxs[i], suite) != WOLFSSL_SUCCESS) die("cipher list");
        if (wolfSSL_CTX_set_groups(ctxs[i], groups, 2) != WOLFSSL_SUCCESS) die("groups");
        wolfSSL_CTX_SetIORecv(ctxs[i], io_recv);
        wolfSSL_CTX_SetIOSend(ctxs[i], io_send);
    }
    wolfSSL_CTX_SetGenCookie(server_ctx, gen_cookie);
}

static WOLFSSL *new_ssl(WOLFSSL_CTX *ctx, Pipe *pipe, int client) {
    WOLFSSL *ssl = wolfSSL_new(ctx);
    if (!ssl) die("wolfSSL_new");
    wolfSSL_SetIOReadCtx(ssl, pipe);
    wolfSSL_SetIOWriteCtx(ssl, pipe);
    wolfSSL_dtls_set_using_nonblock(ssl, 1);
    if (client) {
        if (wolfSSL_check_domain_name(ssl, host) != WOLFSSL_SUCCESS) die("domain name");
        if (dtls_version == 13 && wolfSSL_UseKeyShare(ssl, WOLFSSL_ECC_X25519) != WOLFSSL_SUCCESS) die("key share");
    }
    return ssl;
}

static int pending(WOLFSSL *ssl, int rc) {
    if (rc == WOLFSSL_SUCCESS) return 0;
    int err = wolfSSL_get_error(ssl, rc);
    if (err == WOLFSSL_ERROR_WANT_READ || err == WOLFSSL_ERROR_WANT_WRITE) return 1;
    char text[WOLFSSL_MAX_ERROR_SZ];
    fprintf(stderr, "wolfssl_dtls: handshake error %d: %s\n", err, wolfSSL_ERR_error_string((unsigned long)err, text));
    exit(1);
}

static void handshake(WOLFSSL **c_out, WOLFSSL **s_out) {
    reset(&c2s);
    reset(&s2c);
    WOLFSSL *c = new_ssl(client_ctx, &client_pipe, 1), *s = new_ssl(server_ctx, &server_pipe, 0);
    int c_busy = 1, s_busy = 1;
    for (int round = 0; round < 64 && (c_busy || s_busy); round++) {
        if (c_busy) c_busy = pending(c, wolfSSL_connect(c));
        if (s_busy) s_busy = pending(s, wolfSSL_accept(s));
    }
    if (c_busy || s_busy) die("handshake did not complete in 64 rounds");
    /* the client's last flight may still be queued for the server (DTLS 1.3: the
       server's ACK, DTLS 1.2: nothing): let each side read what is left */
    unsigned char sink[64];
    for (int i = 0; i < 4 && (c2s.count || s2c.count); i++) {
        if (s2c.count) wolfSSL_read(c, sink, sizeof sink);
        if (c2s.count) wolfSSL_read(s, sink, sizeof sink);
    }
    *c_out = c;
    *s_out = s;
}

int main(int argc, char **argv) {
    if (argc != 6) {
        fprintf(stderr, "usage: %s 12|13 CERT KEY CA HOST\n", argv[0]);
        return 2;
    }
    int version = atoi(argv[1]);
    dtls_version = version;
    host = argv[5];
    wolfSSL_Init();
    setup(version, argv[2], argv[3], argv[4]);
    WOLFSSL *dc = NULL, *ds = NULL;
    unsigned char msg[64], buf[256];
    memset(msg, 0x42, sizeof msg);
    char line[64];
    while (fgets(line, sizeof line, stdin)) {
        long n = 0;
        char cmd = 0;
        if (sscanf(line, "%c %ld", &cmd, &n) < 1 || cmd == 'Q') break;
        if (cmd == 'H') {
            long c2s_bytes = 0, s2c_bytes = 0, datagrams = 0;
            double start = now_ns();
            for (long i = 0; i < n; i++) {
                WOLFSSL *c, *s;
                handshake(&c, &s);
                c2s_bytes = c2s.bytes;
                s2c_bytes = s2c.bytes;
                datagrams = c2s.datagrams + s2c.datagrams;
                wolfSSL_free(c);
                wolfSSL_free(s);
            }
            printf("ns %.0f c2s %ld s2c %ld datagrams %ld\n", now_ns() - start, c2s_bytes, s2c_bytes, datagrams);
        } else if (cmd == 'D') {
            if (!dc) handshake(&dc, &ds);
            double start = now_ns();
            for (long i = 0; i < n; i++) {
                if (wolfSSL_write(dc, msg, sizeof msg) != (int)sizeof msg) die("write");
                if (wolfSSL_read(ds, buf, sizeof buf) != (int)sizeof msg) die("read");
            }
            printf("ns %.0f\n", now_ns() - start);
        } else {
            die("unknown command");
        }
        fflush(stdout);
    }
    if (dc) {
        wolfSSL_free(dc);
        wolfSSL_free(ds);
    }
    wolfSSL_CTX_free(client_ctx);
    wolfSSL_CTX_free(server_ctx);
    wolfSSL_Cleanup();
    return 0;
}
