/* A TLS load generator for benches/gateway.py (OpenSSL, one thread per client).
 *
 *   loadgen new     PORT CLIENTS SECONDS      handshake + 64 B request/echo + close, in a loop
 *   loadgen resumed PORT CLIENTS SECONDS      the same, resuming the last session (TLS 1.3 ticket)
 *   loadgen bulk    PORT STREAMS BYTES        BYTES per stream through an echo, both ways at once
 *   loadgen idle    PORT COUNT               COUNT connections (handshake + 64 B echo), kept open
 *                                             until stdin closes, then closed with close_notify
 *
 * "Close" is a full close_notify exchange: SSL_shutdown, then read until the
 * peer's close_notify, so a connection is counted only when the gateway has
 * finished with it.  TLS 1.3 only, no certificate verification (the bench
 * measures the gateway, not chain building).  Prints one line:
 *   conns=N reused=R seconds=T errors=E lost=L bytes=B
 * where lost counts request/echo bytes that did not come back intact.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static SSL_CTX *ctx;
static int port;
static double seconds;
static long long bulk_bytes;
static atomic_long conns, reused, errors, lost, total_bytes;
static atomic_int stop_flag;
static pthread_barrier_t start_line; /* resumed: every client holds a session before the clock starts */

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int tcp_connect(void) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) return -1;
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
        close(fd);
        return -1;
    }
    return fd;
}

/* Handshake, 64 B out, 64 B back.  Returns the SSL (connected) or NULL. */
static SSL *open_one(SSL_SESSION *session, int *fd_out) {
    int fd = tcp_connect();
    if (fd < 0) return NULL;
    SSL *ssl = SSL_new(ctx);
    SSL_set_fd(ssl, fd);
    if (session) SSL_set_session(ssl, session);
    if (SSL_connect(ssl) != 1) goto fail;
    unsigned char req[64], rep[64];
    for (int i = 0; i < 64; i++) req[i] = (unsigned char)(i * 7 + 3);
    if (SSL_write(ssl, req, 64) != 64) goto fail;
    int got = 0;
    while (got < 64) {
        int n = SSL_read(ssl, rep + got, 64 - got);
        if (n <= 0) break;
        got += n;
    }
    if (got != 64 || memcmp(req, rep, 64) != 0) {
        atomic_fetch_add(&lost, 64 - (got == 64 ? 0 : got));
        goto fail;
    }
    *fd_out = fd;
    return ssl;
fail:
    SSL_free(ssl);
    close(fd);
    return NULL;
}

static void close_one(SSL *ssl, int fd) {
    if (SSL_shutdown(ssl) == 0) {
        char buf[256];
        while (SSL_read(ssl, buf, sizeof buf) > 0) {
        }
    }
    SSL_free(ssl);
    close(fd);
}

static void *conn_loop(void *arg) {
    int resume = *(int *)arg;
    SSL_SESSION *session = NULL;
    if (resume) {
        for (int tries = 0; tries < 10 && !session; tries++) {
            int fd;
            SSL *ssl = open_one(NULL, &fd);
            if (!ssl) continue;
            session = SSL_get1_session(ssl);
            close_one(ssl, fd);
        }
        pthread_barrier_wait(&start_line);
    }
    while (!atomic_load(&stop_flag)) {
        int fd;
        SSL *ssl = open_one(resume ? session : NULL, &fd);
        if (!ssl) {
            atomic_fetch_add(&errors, 1);
            ERR_clear_error();
            continue;
        }
        if (resume) {
            if (SSL_session_reused(ssl)) atomic_fetch_add(&reused, 1);
            SSL_SESSION *s = SSL_get1_session(ssl); /* the tickets came with the echo */
            if (s) {
                if (session) SSL_SESSION_free(session);
                session = s;
            }
        }
        close_one(ssl, fd);
        atomic_fetch_add(&conns, 1);
    }
    if (session) SSL_SESSION_free(session);
    return NULL;
}

static void *bulk_stream(void *arg) {
    (void)arg;
    int fd = tcp_connect();
    if (fd < 0) { atomic_fetch_add(&errors, 1); return NULL; }
    SSL *ssl = SSL_new(ctx);
    SSL_set_fd(ssl, fd);
    if (SSL_connect(ssl) != 1) { atomic_fetch_add(&errors, 1); SSL_free(ssl); close(fd); return NULL; }
    SSL_set_mode(ssl, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    static unsigned char out[16384];
    unsigned char in[65536];
    for (int i = 0; i < (int)sizeof out; i++) out[i] = (unsigned char)(i * 13 + 1);
    long long sent = 0, received = 0, bad = 0;
    while (received < bulk_bytes) {
        struct pollfd p = {.fd = fd, .events = POLLIN | (sent < bulk_bytes ? POLLOUT : 0)};
        if (SSL_pending(ssl) == 0 && poll(&p, 1, 10000) <= 0) break;
        for (;;) {
            int n = SSL_read(ssl, in, sizeof in);
            if (n > 0) {
                for (int i = 0; i < n; i++)
                    if (in[i] != out[(received + i) % sizeof out]) bad++;
                received += n;
                continue;
            }
            int e = SSL_get_error(ssl, n);
            if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) break;
            goto done;
        }
        while (sent < bulk_bytes) {
            long long left = bulk_bytes - sent;
            int off = (int)(sent % sizeof out);
            int len = (int)sizeof out - off;
            if (len > left) len = (int)left;
            int n = SSL_write(ssl, out + off, len);
            if (n > 0) { sent += n; continue; }
            int e = SSL_get_error(ssl, n);
            if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) break;
            goto done;
        }
    }
done:
    atomic_fetch_add(&total_bytes, received);
    atomic_fetch_add(&lost, (bulk_bytes - received) + bad);
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
    close_one(ssl, fd);
    atomic_fetch_add(&conns, 1);
    return NULL;
}

int main(int argc, char **argv) {
    if (argc < 4) {
        fprintf(stderr, "usage: loadgen new|resumed|bulk|idle PORT N [SECONDS|BYTES]\n");
        return 2;
    }
    const char *mode = argv[1];
    port = atoi(argv[2]);
    int n = atoi(argv[3]);
    struct rlimit rl;
    getrlimit(RLIMIT_NOFILE, &rl);
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
    ctx = SSL_CTX_new(TLS_client_method());
    SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION);
    SSL_CTX_set_max_proto_version(ctx, TLS1_3_VERSION);
    SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL);
    pthread_t *threads = calloc(n, sizeof *threads);
    double t0 = now();
    if (!strcmp(mode, "new") || !strcmp(mode, "resumed")) {
        seconds = argc > 4 ? atof(argv[4]) : 2.0;
        static int resume;
        resume = !strcmp(mode, "resumed");
        if (resume) pthread_barrier_init(&start_line, NULL, n + 1);
        for (int i = 0; i < n; i++) pthread_create(&threads[i], NULL, conn_loop, &resume);
        if (resume) pthread_barrier_wait(&start_line);
        t0 = now();
        struct timespec ts = {(time_t)seconds, (long)((seconds - (time_t)seconds) * 1e9)};
        nanosleep(&ts, NULL);
        atomic_store(&stop_flag, 1);
        for (int i = 0; i < n; i++) pthread_join(threads[i], NULL);
    } else if (!strcmp(mode, "bulk")) {
        bulk_bytes = argc > 4 ? atoll(argv[4]) : 64LL << 20;
        for (int i = 0; i < n; i++) pthread_create(&threads[i], NULL, bulk_stream, NULL);
        for (int i = 0; i < n; i++) pthread_join(threads[i], NULL);
    } else if (!strcmp(mode, "idle")) {
        SSL **ssls = calloc(n, sizeof *ssls);
        int *fds = calloc(n, sizeof *fds);
        for (int i = 0; i < n; i++) {
            ssls[i] = open_one(NULL, &fds[i]);
            if (!ssls[i]) atomic_fetch_add(&errors, 1);
            else atomic_fetch_add(&conns, 1);
        }
        printf("ready %ld\n", (long)atomic_load(&conns));
        fflush(stdout);
        char c;
        while (read(0, &c, 1) > 0) {
        }
        t0 = now();
        for (int i = 0; i < n; i++)
            if (ssls[i]) close_one(ssls[i], fds[i]);
    } else {
        fprintf(stderr, "unknown mode %s\n", mode);
        return 2;
    }
    double elapsed = now() - t0;
    printf("conns=%ld reused=%ld seconds=%.4f errors=%ld lost=%ld bytes=%ld\n", (long)conns,
           (long)reused, elapsed, (long)errors, (long)lost, (long)total_bytes);
    return 0;
}
