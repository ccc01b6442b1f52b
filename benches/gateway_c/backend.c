/* A plaintext echo backend for benches/gateway.py: epoll, one thread, non-blocking.
 *   backend PORT      prints "listening PORT" (PORT 0: a free one); echoes every byte;
 *                     a FIN from the peer is answered with a FIN once everything is echoed.
 * A connection whose peer does not take the echo fast enough keeps the rest in its
 * own buffer and stops reading until the buffer is written (EPOLLOUT): nobody waits.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#define BUF (256 * 1024)

struct conn {
    int fd;
    int eof;       /* the peer sent its FIN */
    size_t off, len;
    char *pending; /* echo not yet written (NULL: none) */
};

static int ep;

static void finish(struct conn *c) {
    epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
    close(c->fd);
    free(c->pending);
    free(c);
}

static void watch(struct conn *c, unsigned events) {
    struct epoll_event e = {.events = events, .data.ptr = c};
    epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &e);
}

/* Write what is pending; 1 if all of it went out. */
static int flush(struct conn *c) {
    while (c->off < c->len) {
        ssize_t w = write(c->fd, c->pending + c->off, c->len - c->off);
        if (w > 0) {
            c->off += (size_t)w;
        } else if (w < 0 && errno == EAGAIN) {
            return 0;
        } else {
            return -1;
        }
    }
    c->off = c->len = 0;
    return 1;
}

static void on_ready(struct conn *c, char *buf) {
    if (c->len) {
        int r = flush(c);
        if (r < 0) { finish(c); return; }
        if (r == 0) return; /* still waiting for EPOLLOUT */
        if (c->eof) { shutdown(c->fd, SHUT_WR); finish(c); return; }
        watch(c, EPOLLIN);
    }
    for (;;) {
        ssize_t n = read(c->fd, buf, BUF);
        if (n > 0) {
            ssize_t off = 0;
            while (off < n) {
                ssize_t w = write(c->fd, buf + off, (size_t)(n - off));
                if (w > 0) { off += w; continue; }
                if (w < 0 && errno == EAGAIN) break;
                finish(c);
                return;
            }
            if (off < n) { /* keep the rest, stop reading until it is out */
                if (!c->pending) c->pending = malloc(BUF);
                memcpy(c->pending, buf + off, (size_t)(n - off));
                c->off = 0;
                c->len = (size_t)(n - off);
                watch(c, EPOLLOUT);
                return;
            }
            continue;
        }
        if (n == 0) { /* FIN: answer with ours once the echo is out */
            shutdown(c->fd, SHUT_WR);
            finish(c);
        } else if (errno != EAGAIN) {
            finish(c);
        }
        return;
    }
}

int main(int argc, char **argv) {
    struct rlimit rl;
    getrlimit(RLIMIT_NOFILE, &rl);
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
    int ls = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    int one = 1;
    setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(argc > 1 ? atoi(argv[1]) : 0)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(ls, (struct sockaddr *)&sa, sizeof sa) < 0 || listen(ls, 4096) < 0) {
        perror("backend");
        return 1;
    }
    socklen_t len = sizeof sa;
    getsockname(ls, (struct sockaddr *)&sa, &len);
    printf("listening %d\n", ntohs(sa.sin_port));
    fflush(stdout);
    ep = epoll_create1(0);
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = NULL};
    epoll_ctl(ep, EPOLL_CTL_ADD, ls, &ev);
    static char buf[BUF];
    struct epoll_event evs[256];
    for (;;) {
        int n = epoll_wait(ep, evs, 256, -1);
        for (int i = 0; i < n; i++) {
            struct conn *c = evs[i].data.ptr;
            if (c == NULL) {
                int fd;
                while ((fd = accept4(ls, NULL, NULL, SOCK_NONBLOCK)) >= 0) {
                    struct conn *nc = calloc(1, sizeof *nc);
                    nc->fd = fd;
                    struct epoll_event e = {.events = EPOLLIN, .data.ptr = nc};
                    epoll_ctl(ep, EPOLL_CTL_ADD, fd, &e);
                }
                continue;
            }
            on_ready(c, buf);
        }
    }
}
