/*
 * epoll_echo: the smallest fast echo server, the floor jsock and Netty are compared against.
 *
 * One thread, non-blocking sockets, one epoll instance. TCP: level-triggered by default, or
 * edge-triggered with --edge; each readable connection is read until EAGAIN and written back at
 * once; bytes the peer is not ready to take wait in a per-connection buffer (the connection then
 * waits for EPOLLOUT and is not read meanwhile, which is the back-pressure). UDP (--udp): each
 * datagram goes back to its sender, one recvfrom and one sendto each, or with --mmsg in batches:
 * one recvmmsg takes up to 64 queued datagrams and one sendmmsg sends their replies, as Netty's
 * epoll transport sends a read burst's replies.
 *
 *   gcc -O2 -o epoll_echo epoll_echo.c
 *   ./epoll_echo --host 127.0.0.1 --port 0 [--udp [--mmsg]] [--edge]
 *
 * Prints "Echo server listening on HOST:PORT" once it listens, as jsock echo does; runs until
 * SIGINT or SIGTERM.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#ifndef BUF_SIZE /* gcc -DBUF_SIZE=262144 for another size */
#define BUF_SIZE (64 * 1024)
#endif
#define MAX_EVENTS 256
#define BATCH 64 /* datagrams per recvmmsg and sendmmsg (--mmsg) */
#define DATAGRAM_SIZE 65536

/* What a connection still has to send back: bytes [off, len) of buf. */
struct conn {
  int fd;
  unsigned events; /* the interest set epoll has now, so it is changed only when it must */
  size_t off;
  size_t len;
  char buf[BUF_SIZE];
};

static volatile sig_atomic_t stopping = 0;
static void on_signal(int sig) { (void)sig; stopping = 1; }

static void die(const char *what) {
  perror(what);
  exit(1);
}

static void usage(void) {
  fprintf(stderr, "usage: epoll_echo [--host H] [--port P] [--udp [--mmsg]] [--edge]\n");
  exit(2);
}

static void close_conn(int ep, struct conn *c) {
  epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
  close(c->fd);
  free(c);
}

/* Sends what is pending; returns 1 if all went, 0 if the socket is full, -1 on error. */
static int flush_conn(struct conn *c) {
  while (c->off < c->len) {
    ssize_t n = send(c->fd, c->buf + c->off, c->len - c->off, MSG_NOSIGNAL);
    if (n > 0) {
      c->off += (size_t)n;
    } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      return 0;
    } else if (n < 0 && errno == EINTR) {
      continue;
    } else {
      return -1;
    }
  }
  c->off = c->len = 0;
  return 1;
}

static void want(int ep, struct conn *c, unsigned events) {
  if (c->events != events) {
    struct epoll_event ev = {.events = events, .data.ptr = c};
    epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
    c->events = events;
  }
}

/*
 * Reads and echoes. Edge-triggered, until the socket is drained (EAGAIN), as it must; level-
 * triggered, a short read means drained, so it returns without the extra recv that would only say
 * EAGAIN (epoll reports the socket again if more came).
 */
static void serve(int ep, struct conn *c, unsigned base_events) {
  for (;;) {
    if (c->len > 0) {
      int r = flush_conn(c);
      if (r < 0) {
        close_conn(ep, c);
        return;
      }
      if (r == 0) { /* wait until writable; stop reading meanwhile */
        want(ep, c, EPOLLOUT | base_events);
        return;
      }
    }
    ssize_t n = recv(c->fd, c->buf, BUF_SIZE, 0);
    if (n > 0) {
      c->off = 0;
      c->len = (size_t)n;
      if (!(base_events & EPOLLET) && n < BUF_SIZE) {
        int r = flush_conn(c);
        if (r < 0) {
          close_conn(ep, c);
        } else {
          want(ep, c, (r == 0 ? EPOLLOUT : EPOLLIN) | base_events);
        }
        return;
      }
      continue;
    }
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      want(ep, c, EPOLLIN | base_events);
      return;
    }
    close_conn(ep, c); /* end of stream or error */
    return;
  }
}

static int listen_on(const char *host, const char *port, int udp, struct sockaddr_storage *bound) {
  struct addrinfo hints = {0}, *res;
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = udp ? SOCK_DGRAM : SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE;
  int err = getaddrinfo(host, port, &hints, &res);
  if (err != 0) {
    fprintf(stderr, "epoll_echo: resolve %s:%s: %s\n", host, port, gai_strerror(err));
    exit(6);
  }
  int fd = socket(res->ai_family, res->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) die("socket");
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (bind(fd, res->ai_addr, res->ai_addrlen) < 0) die("bind");
  if (!udp && listen(fd, 1024) < 0) die("listen");
  socklen_t len = sizeof *bound;
  getsockname(fd, (struct sockaddr *)bound, &len);
  freeaddrinfo(res);
  return fd;
}

static int port_of(const struct sockaddr_storage *a) {
  return ntohs(a->ss_family == AF_INET6 ? ((const struct sockaddr_in6 *)a)->sin6_port
                                        : ((const struct sockaddr_in *)a)->sin_port);
}

/* An epoll instance watching fd for input, for the UDP loops. */
static int epoll_readable(int fd) {
  int ep = epoll_create1(EPOLL_CLOEXEC);
  struct epoll_event ev = {.events = EPOLLIN, .data.fd = fd};
  if (ep < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) < 0) die("epoll");
  return ep;
}

/* Blocks until ep reports its socket readable: 1, or 0 if a signal came first. */
static int await_readable(int ep) {
  struct epoll_event events[1];
  if (epoll_wait(ep, events, 1, -1) >= 0) return 1;
  if (errno != EINTR) die("epoll_wait");
  return 0;
}

static void run_udp(int fd) {
  static char buf[BUF_SIZE];
  int ep = epoll_readable(fd);
  while (!stopping) {
    if (!await_readable(ep)) continue; /* a signal: check stopping */
    for (;;) {
      struct sockaddr_storage from;
      socklen_t len = sizeof from;
      ssize_t n = recvfrom(fd, buf, sizeof buf, 0, (struct sockaddr *)&from, &len);
      if (n < 0) break; /* EAGAIN: drained */
      sendto(fd, buf, (size_t)n, 0, (struct sockaddr *)&from, len); /* a full buffer drops it, as UDP may */
    }
  }
}

/* --mmsg: each recvmmsg takes what is queued, up to BATCH datagrams; one sendmmsg answers them. */
static void run_udp_batched(int fd) {
  static char bufs[BATCH][DATAGRAM_SIZE];
  static struct sockaddr_storage from[BATCH];
  static struct iovec iov[BATCH];
  static struct mmsghdr msgs[BATCH];
  int ep = epoll_readable(fd);
  while (!stopping) {
    if (!await_readable(ep)) continue; /* a signal: check stopping */
    for (;;) {
      for (int i = 0; i < BATCH; i++) {
        iov[i].iov_base = bufs[i];
        iov[i].iov_len = DATAGRAM_SIZE;
        memset(&msgs[i].msg_hdr, 0, sizeof msgs[i].msg_hdr);
        msgs[i].msg_hdr.msg_name = &from[i];
        msgs[i].msg_hdr.msg_namelen = sizeof from[i];
        msgs[i].msg_hdr.msg_iov = &iov[i];
        msgs[i].msg_hdr.msg_iovlen = 1;
      }
      int got = recvmmsg(fd, msgs, BATCH, MSG_DONTWAIT, NULL);
      if (got <= 0) break; /* EAGAIN: drained */
      for (int i = 0; i < got; i++) iov[i].iov_len = msgs[i].msg_len; /* reply with what came */
      for (int sent = 0; sent < got;) {
        int n = sendmmsg(fd, msgs + sent, (unsigned)(got - sent), 0);
        if (n <= 0) break; /* a full buffer drops the rest, as UDP may */
        sent += n;
      }
      if (got < BATCH) break;
    }
  }
}

static void run_tcp(int lfd, int edge) {
  unsigned base = edge ? EPOLLET : 0;
  int ep = epoll_create1(EPOLL_CLOEXEC);
  struct epoll_event ev = {.events = EPOLLIN, .data.ptr = NULL}; /* NULL marks the listener */
  epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev);
  struct epoll_event events[MAX_EVENTS];
  while (!stopping) {
    int ready = epoll_wait(ep, events, MAX_EVENTS, -1);
    if (ready < 0) {
      if (errno == EINTR) continue;
      die("epoll_wait");
    }
    for (int i = 0; i < ready; i++) {
      struct conn *c = events[i].data.ptr;
      if (c != NULL) {
        serve(ep, c, base);
        continue;
      }
      for (;;) { /* accept every pending connection */
        int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) break;
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        struct conn *nc = malloc(sizeof *nc);
        if (nc == NULL) {
          close(fd);
          continue;
        }
        nc->fd = fd;
        nc->events = EPOLLIN | base;
        nc->off = nc->len = 0;
        struct epoll_event cev = {.events = EPOLLIN | base, .data.ptr = nc};
        epoll_ctl(ep, EPOLL_CTL_ADD, fd, &cev);
      }
    }
  }
}

int main(int argc, char **argv) {
  const char *host = "localhost", *port = "12345";
  int udp = 0, edge = 0, mmsg = 0;
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--host") == 0 && i + 1 < argc) host = argv[++i];
    else if (strcmp(argv[i], "--port") == 0 && i + 1 < argc) port = argv[++i];
    else if (strcmp(argv[i], "--udp") == 0) udp = 1;
    else if (strcmp(argv[i], "--edge") == 0) edge = 1;
    else if (strcmp(argv[i], "--mmsg") == 0) mmsg = 1;
    else usage();
  }
  struct sigaction sa = {0};
  sa.sa_handler = on_signal;
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGTERM, &sa, NULL);
  signal(SIGPIPE, SIG_IGN);
  struct sockaddr_storage bound;
  int fd = listen_on(host, port, udp, &bound);
  printf("Echo server listening on %s%s%s:%d\n", strchr(host, ':') ? "[" : "", host,
         strchr(host, ':') ? "]" : "", port_of(&bound));
  fflush(stdout);
  if (udp && mmsg) run_udp_batched(fd);
  else if (udp) run_udp(fd);
  else run_tcp(fd, edge);
  return 0;
}
