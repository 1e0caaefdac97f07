/* Load generator and backend for bench/stream.sh (plain C so neither proxy waits on it).
 *
 *   streamload backend PORT DOWN_BYTES
 *       Per connection: send DOWN_BYTES then shutdown(SHUT_WR), and read to EOF at the same time
 *       (a thread for big transfers), then close. Runs until killed.
 *   streamload bulk HOST PORT UP_BYTES EXPECT_DOWN
 *       One connection: send UP_BYTES then SHUT_WR while reading to EOF. Prints
 *       "bulk up=N down=N seconds=S".
 *   streamload short HOST PORT THREADS SECONDS
 *       THREADS loops of: connect, send "ping", SHUT_WR, read to EOF, close. Prints
 *       "short conns=N errors=N seconds=S".
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define CHUNK (256 * 1024)

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static long long send_bytes(int fd, long long total) {
    static char buf[CHUNK];
    long long sent = 0;
    while (sent < total) {
        long long want = total - sent < CHUNK ? total - sent : CHUNK;
        ssize_t n = send(fd, buf, (size_t)want, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        sent += n;
    }
    shutdown(fd, SHUT_WR);
    return sent;
}

static long long read_to_end(int fd, int *error) {
    char buf[CHUNK];
    long long got = 0;
    for (;;) {
        ssize_t n = recv(fd, buf, sizeof buf, 0);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) { *error = errno; return got; }
        if (n == 0) return got;
        got += n;
    }
}

struct sender { int fd; long long total; long long sent; };

static void *sender_main(void *arg) {
    struct sender *s = arg;
    s->sent = send_bytes(s->fd, s->total);
    return NULL;
}

/* Sends `up` bytes and reads to EOF at the same time; returns bytes read. */
static long long exchange(int fd, long long up, int *error) {
    if (up <= 65536) {
        send_bytes(fd, up);
        return read_to_end(fd, error);
    }
    struct sender s = { fd, up, 0 };
    pthread_t t;
    pthread_create(&t, NULL, sender_main, &s);
    long long got = read_to_end(fd, error);
    pthread_join(t, NULL);
    return got;
}

static int dial(const char *host, int port) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port) };
    inet_pton(AF_INET, host, &a.sin_addr);
    if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0) { close(fd); return -1; }
    return fd;
}

/* ---- backend ---- */
static long long backend_down;

static void *backend_conn(void *arg) {
    int fd = (int)(long)arg, error = 0;
    exchange(fd, backend_down, &error);
    close(fd);
    return NULL;
}

static void *backend_acceptor(void *arg) {
    int lfd = (int)(long)arg;
    for (;;) {
        int fd = accept(lfd, NULL, NULL);
        if (fd < 0) { if (errno == EINTR || errno == ECONNABORTED) continue; return NULL; }
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        if (backend_down > 65536) {
            pthread_t t;
            pthread_create(&t, NULL, backend_conn, (void *)(long)fd);
            pthread_detach(t);
        } else {
            backend_conn((void *)(long)fd);
        }
    }
}

static int run_backend(int port, long long down) {
    backend_down = down;
    int lfd = socket(AF_INET, SOCK_STREAM, 0), one = 1;
    setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port) };
    inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
    if (bind(lfd, (struct sockaddr *)&a, sizeof a) != 0 || listen(lfd, 4096) != 0) { perror("backend"); return 1; }
    /* Several blocking acceptors: short connections are served inline, one at a time each. */
    pthread_t t;
    for (int i = 0; i < 15; i++) pthread_create(&t, NULL, backend_acceptor, (void *)(long)lfd);
    backend_acceptor((void *)(long)lfd);
    return 0;
}

/* ---- short connections ---- */
static const char *short_host;
static int short_port;
static double short_end;
static atomic_long short_conns, short_errors;

static void *short_main(void *arg) {
    (void)arg;
    while (now() < short_end) {
        int fd = dial(short_host, short_port), error = 0;
        if (fd < 0) { atomic_fetch_add(&short_errors, 1); continue; }
        long long got = exchange(fd, 4, &error);
        close(fd);
        if (error || got != 4) atomic_fetch_add(&short_errors, 1);
        else atomic_fetch_add(&short_conns, 1);
    }
    return NULL;
}

int main(int argc, char **argv) {
    signal(SIGPIPE, SIG_IGN);
    if (argc == 4 && strcmp(argv[1], "backend") == 0) return run_backend(atoi(argv[2]), atoll(argv[3]));
    if (argc == 6 && strcmp(argv[1], "bulk") == 0) {
        int fd = dial(argv[2], atoi(argv[3])), error = 0;
        if (fd < 0) { perror("connect"); return 1; }
        double t0 = now();
        long long got = exchange(fd, atoll(argv[4]), &error);
        double t1 = now();
        close(fd);
        printf("bulk up=%s down=%lld seconds=%.3f error=%d\n", argv[4], got, t1 - t0, error);
        return got == atoll(argv[5]) && !error ? 0 : 1;
    }
    if (argc == 6 && strcmp(argv[1], "short") == 0) {
        short_host = argv[2];
        short_port = atoi(argv[3]);
        int threads = atoi(argv[4]);
        double t0 = now();
        short_end = t0 + atof(argv[5]);
        pthread_t *ts = calloc((size_t)threads, sizeof *ts);
        for (int i = 0; i < threads; i++) pthread_create(&ts[i], NULL, short_main, NULL);
        for (int i = 0; i < threads; i++) pthread_join(ts[i], NULL);
        printf("short conns=%ld errors=%ld seconds=%.3f\n", atomic_load(&short_conns), atomic_load(&short_errors), now() - t0);
        return 0;
    }
    fprintf(stderr, "usage: see the comment at the top of streamload.c\n");
    return 2;
}
