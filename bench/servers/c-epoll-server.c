/*
 * The floor for `make bench`: the same servers as greenhub-server.js and node-net-server.js
 * (echo, hello, keepalive), written straight on epoll in C. One thread, edge-triggered,
 * non-blocking; every syscall the work needs and no other. What greenhub costs above this is
 * what is left to win.
 *
 * usage: c-epoll-server <echo|hello|keepalive>   prints "ready <port>" (127.0.0.1, a free port)
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

enum { ECHO, HELLO, KEEPALIVE };
static const char HELLO_10[] = "HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 13\r\n\r\nHello, world!";
static const char HELLO_11[] = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 13\r\n\r\nHello, world!";

struct conn {
  int fd;
  int matched;    /* keepalive/hello: how much of "\r\n\r\n" the bytes so far end with */
  char *out;      /* bytes the kernel did not take yet (a slow reader) */
  size_t out_len; /* and how many */
};

static int mode, epfd;
static char buf[64 * 1024];
static char reply[64 * 1024];

static void drop(struct conn *c) {
  close(c->fd); /* also leaves the epoll set */
  free(c->out);
  free(c);
}

/* Sends what is pending plus (data, n); keeps the rest for EPOLLOUT. 0, or -1 on error. */
static int send_all(struct conn *c, const char *data, size_t n) {
  if (c->out_len > 0) { /* still behind: queue in order */
    c->out = realloc(c->out, c->out_len + n);
    memcpy(c->out + c->out_len, data, n);
    c->out_len += n;
    data = c->out;
    n = c->out_len;
  }
  size_t done = 0;
  while (done < n) {
    ssize_t w = send(c->fd, data + done, n - done, MSG_NOSIGNAL);
    if (w < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN) break;
      return -1;
    }
    done += (size_t)w;
  }
  if (done == n) {
    c->out_len = 0;
  } else if (data == c->out) {
    memmove(c->out, c->out + done, n - done);
    c->out_len = n - done;
  } else {
    c->out = malloc(n - done);
    memcpy(c->out, data + done, n - done);
    c->out_len = n - done;
  }
  return 0;
}

/* Counts the request heads ("\r\n\r\n") in buf[0..n), carrying a partial match across reads. */
static int heads(struct conn *c, ssize_t n) {
  static const char end[] = "\r\n\r\n";
  int count = 0;
  for (ssize_t i = 0; i < n; i++) {
    if (buf[i] == end[c->matched]) {
      if (++c->matched == 4) { count++; c->matched = 0; }
    } else {
      c->matched = buf[i] == '\r' ? 1 : 0;
    }
  }
  return count;
}

static void on_readable(struct conn *c) {
  for (;;) {
    ssize_t n = read(c->fd, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN) return;
      drop(c);
      return;
    }
    if (n == 0) { drop(c); return; }
    if (mode == ECHO) {
      if (send_all(c, buf, (size_t)n) < 0) { drop(c); return; }
    } else {
      int k = heads(c, n);
      if (k > 0 && mode == HELLO) {
        send_all(c, HELLO_10, sizeof HELLO_10 - 1);
        drop(c); /* one request per connection: FIN after the answer */
        return;
      }
      size_t len = 0;
      for (int i = 0; i < k; i++) {
        if (len + sizeof HELLO_11 > sizeof reply) {
          if (send_all(c, reply, len) < 0) { drop(c); return; }
          len = 0;
        }
        memcpy(reply + len, HELLO_11, sizeof HELLO_11 - 1);
        len += sizeof HELLO_11 - 1;
      }
      if (len > 0 && send_all(c, reply, len) < 0) { drop(c); return; }
    }
    if ((size_t)n < sizeof buf) return; /* drained (TCP, no urgent data here) */
  }
}

int main(int argc, char **argv) {
  if (argc < 2) { fprintf(stderr, "usage: c-epoll-server <echo|hello|keepalive>\n"); return 2; }
  if (!strcmp(argv[1], "echo")) mode = ECHO;
  else if (!strcmp(argv[1], "hello")) mode = HELLO;
  else if (!strcmp(argv[1], "keepalive")) mode = KEEPALIVE;
  else { fprintf(stderr, "mode must be echo, hello or keepalive, got %s\n", argv[1]); return 2; }
  signal(SIGPIPE, SIG_IGN);

  int lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  int one = 1;
  setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  struct sockaddr_in a = {0};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK); /* loopback only, by construction */
  if (bind(lfd, (struct sockaddr *)&a, sizeof a) < 0 || listen(lfd, 4096) < 0) { perror("bind/listen"); return 1; }
  socklen_t alen = sizeof a;
  getsockname(lfd, (struct sockaddr *)&a, &alen);

  epfd = epoll_create1(EPOLL_CLOEXEC);
  struct epoll_event ev = {.events = EPOLLIN, .data.ptr = NULL}; /* NULL: the listening socket */
  epoll_ctl(epfd, EPOLL_CTL_ADD, lfd, &ev);
  printf("ready %d\n", ntohs(a.sin_port));
  fflush(stdout);

  struct epoll_event evs[512];
  for (;;) {
    int n = epoll_wait(epfd, evs, 512, -1);
    for (int i = 0; i < n; i++) {
      struct conn *c = evs[i].data.ptr;
      if (c == NULL) {
        for (;;) {
          int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
          if (fd < 0) break; /* EAGAIN, or a connection reset before we took it */
          setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
          c = calloc(1, sizeof *c);
          c->fd = fd;
          struct epoll_event cev = {.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET, .data.ptr = c};
          epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &cev);
        }
        continue;
      }
      if ((evs[i].events & EPOLLOUT) && c->out_len > 0 && send_all(c, "", 0) < 0) { drop(c); continue; }
      if (evs[i].events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) on_readable(c);
    }
  }
}
