/*
 * greenhub's load generator: N connections on one epoll thread, for a bounded time, against
 * 127.0.0.1 only. Workloads:
 *   echo       64-byte ping-pong (or --size) on persistent connections
 *   keepalive  HTTP/1.1 GET on persistent connections, response read by Content-Length
 *   hello      HTTP/1.0 GET, one connection per request: connect, send, read to EOF, close
 *   post       HTTP/1.1 POST of a --size byte body (default 4096 in this mode) on persistent
 *              connections, the echoed response read by Content-Length
 * Prints one JSON line: ops, seconds, ops_per_s, p50_us, p99_us, errors, and waiting_max_us:
 * the age of the oldest request still unanswered when the run ends, and stalled: how many had
 * waited over a second. The percentiles count
 * answered requests only; a server that leaves some connections waiting shows it there.
 *
 * usage: loadgen --port P --mode echo|keepalive|hello|post [--conns N] [--seconds S] [--size B]
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_CONNS 20000
#define HIST_US 2000000 /* latencies up to 2 s, 1 µs resolution */
#define BUF 8192

enum { ECHO, KEEPALIVE, HELLO, POST };

struct conn {
  int fd;
  int want;      /* echo: bytes still expected back */
  int got;       /* bytes of the current response */
  int body_left; /* keepalive: -1 until headers parsed */
  uint64_t t0;   /* when the current request was sent (ns) */
  char hdr[1024];
  int hdr_len;
};

static struct conn conns[MAX_CONNS];
static uint32_t *hist;
static uint64_t ops, errors, overflow;
static int mode, port, size = 64;
static char payload[65536];
static const char *get11 = "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
static const char *get10 = "GET / HTTP/1.0\r\n\r\n";
static char post[65536 + 128];
static int post_len;
static int epfd;

static uint64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

static void record(uint64_t t0) {
  uint64_t us = (now_ns() - t0) / 1000;
  if (us >= HIST_US) { overflow++; us = HIST_US - 1; }
  hist[us]++;
  ops++;
}

static int open_conn(struct conn *c) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  struct sockaddr_in a = {0};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK); /* loopback only, by construction */
  if (connect(fd, (struct sockaddr *)&a, sizeof a) < 0 && errno != EINPROGRESS) {
    close(fd);
    return -1;
  }
  c->fd = fd;
  c->got = 0;
  c->hdr_len = 0;
  c->body_left = -1;
  struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT | EPOLLET | EPOLLRDHUP, .data.ptr = c};
  epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev);
  return 0;
}

static int send_request(struct conn *c) {
  const char *p;
  int n;
  if (mode == ECHO) { p = payload; n = size; c->want = size; }
  else if (mode == KEEPALIVE) { p = get11; n = (int)strlen(get11); c->body_left = -1; c->hdr_len = 0; }
  else if (mode == POST) { p = post; n = post_len; c->body_left = -1; c->hdr_len = 0; }
  else { p = get10; n = (int)strlen(get10); }
  c->t0 = now_ns();
  ssize_t w = write(c->fd, p, n);
  return w == n ? 0 : -1; /* small requests: a short write would be an error here */
}

static void restart(struct conn *c) { /* hello: a new connection per request */
  epoll_ctl(epfd, EPOLL_CTL_DEL, c->fd, NULL);
  close(c->fd);
  if (open_conn(c) < 0) errors++;
}

/* keepalive: consume response bytes; returns 1 when a whole response has arrived */
static int http_consume(struct conn *c, const char *buf, int n) {
  int i = 0;
  while (c->body_left < 0 && i < n) {
    if (c->hdr_len < (int)sizeof c->hdr - 1) c->hdr[c->hdr_len++] = buf[i];
    i++;
    if (c->hdr_len >= 4 && memcmp(c->hdr + c->hdr_len - 4, "\r\n\r\n", 4) == 0) {
      c->hdr[c->hdr_len] = 0;
      char *cl = strcasestr(c->hdr, "content-length:");
      c->body_left = cl ? atoi(cl + 15) : 0;
    }
  }
  if (c->body_left >= 0) {
    c->body_left -= (n - i);
    if (c->body_left <= 0) return 1;
  }
  return 0;
}

int main(int argc, char **argv) {
  int nconns = 50, size_given = 0;
  double seconds = 5;
  const char *m = "echo";
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!strcmp(argv[i], "--port")) port = atoi(argv[i + 1]);
    else if (!strcmp(argv[i], "--conns")) nconns = atoi(argv[i + 1]);
    else if (!strcmp(argv[i], "--seconds")) seconds = atof(argv[i + 1]);
    else if (!strcmp(argv[i], "--mode")) m = argv[i + 1];
    else if (!strcmp(argv[i], "--size")) { size = atoi(argv[i + 1]); size_given = 1; }
  }
  if (port <= 0 || nconns <= 0 || nconns > MAX_CONNS || size <= 0 || size > (int)sizeof payload || seconds <= 0 || seconds > 600) {
    fprintf(stderr, "usage: loadgen --port P --mode echo|keepalive|hello|post [--conns N<=%d] [--seconds S<=600] [--size B]\n", MAX_CONNS);
    return 2;
  }
  mode = !strcmp(m, "echo") ? ECHO : !strcmp(m, "keepalive") ? KEEPALIVE : !strcmp(m, "hello") ? HELLO : !strcmp(m, "post") ? POST : -1;
  if (mode < 0) { fprintf(stderr, "unknown mode %s\n", m); return 2; }
  memset(payload, 'x', sizeof payload);
  if (mode == POST) {
    if (!size_given) size = 4096;
    post_len = snprintf(post, sizeof post, "POST /echo HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: %d\r\n\r\n", size);
    memcpy(post + post_len, payload, size);
    post_len += size;
  }
  hist = calloc(HIST_US, sizeof *hist);
  epfd = epoll_create1(EPOLL_CLOEXEC);
  for (int i = 0; i < nconns; i++) {
    if (open_conn(&conns[i]) < 0) { fprintf(stderr, "connect failed: %s\n", strerror(errno)); return 1; }
    conns[i].t0 = 0; /* request not sent yet: sent when writable */
    conns[i].want = -1;
  }
  struct epoll_event evs[512];
  char buf[BUF];
  uint64_t start = now_ns(), end = start + (uint64_t)(seconds * 1e9);
  while (now_ns() < end) {
    int n = epoll_wait(epfd, evs, 512, 100);
    for (int k = 0; k < n; k++) {
      struct conn *c = evs[k].data.ptr;
      uint32_t e = evs[k].events;
      if (c->want == -1 && (e & EPOLLOUT) && !(e & (EPOLLERR | EPOLLHUP))) { /* connected: first request */
        c->want = 0;
        if (send_request(c) < 0) { errors++; if (mode == HELLO) restart(c); continue; }
      }
      if (e & EPOLLERR) { errors++; if (mode == HELLO) { restart(c); c->want = -1; } continue; }
      for (;;) {
        ssize_t r = read(c->fd, buf, sizeof buf);
        if (r < 0) {
          if (errno == EAGAIN) break;
          errors++;
          if (mode == HELLO) { restart(c); c->want = -1; }
          break;
        }
        if (r == 0) {
          if (mode == HELLO) { record(c->t0); restart(c); c->want = -1; }
          else errors++;
          break;
        }
        if (mode == ECHO) {
          c->want -= (int)r;
          if (c->want <= 0) { record(c->t0); if (send_request(c) < 0) errors++; }
        } else if (mode == KEEPALIVE || mode == POST) {
          if (http_consume(c, buf, (int)r)) { record(c->t0); if (send_request(c) < 0) errors++; }
        }
        /* A short read drained the socket, unless the peer also closed (hello: data and FIN
           in one edge; no edge follows the FIN), so hello reads on to EOF. */
        if (r < (ssize_t)sizeof buf && mode != HELLO) break;
      }
    }
  }
  uint64_t stop = now_ns(), waiting_max = 0, stalled = 0;
  for (int i = 0; i < nconns; i++) {
    if (conns[i].want == -1 || !conns[i].t0) continue;
    uint64_t age = stop - conns[i].t0;
    if (age > waiting_max) waiting_max = age;
    if (age > 1000000000ull) stalled++;
  }
  double secs = (stop - start) / 1e9;
  uint64_t p50 = 0, p99 = 0, acc = 0;
  for (uint64_t us = 0; us < HIST_US && ops > 0; us++) {
    acc += hist[us];
    if (!p50 && acc * 2 >= ops) p50 = us ? us : 1;
    if (!p99 && acc * 100 >= ops * 99) { p99 = us ? us : 1; break; }
  }
  printf("{\"ops\":%llu,\"seconds\":%.3f,\"ops_per_s\":%.1f,\"p50_us\":%llu,\"p99_us\":%llu,\"errors\":%llu,\"waiting_max_us\":%llu,\"stalled\":%llu}\n",
         (unsigned long long)ops, secs, ops / secs, (unsigned long long)p50, (unsigned long long)p99,
         (unsigned long long)errors, (unsigned long long)(waiting_max / 1000), (unsigned long long)stalled);
  return 0;
}
