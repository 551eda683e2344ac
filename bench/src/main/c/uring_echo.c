/*
 * uring_echo: epoll_echo's twin on io_uring, to tell whether io_uring would lower the machine's floor.
 *
 * One thread, one ring (IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN), liburing. TCP: a
 * multishot accept; each connection has one operation in flight at a time, a recv into its buffer
 * and then the send of what came (again for the rest if the send was short), so that a slow reader
 * is back-pressure as in epoll_echo. UDP (--udp): RECVS recvmsg operations in flight, each datagram
 * sent back to its sender from its own buffer before that buffer takes the next one. Every
 * operation waiting to be submitted goes in the one io_uring_enter that also waits for completions:
 * where epoll_echo makes a read and a write system call per message, this makes one per batch.
 *
 *   gcc -O2 -o uring_echo uring_echo.c -luring      (Debian: apt-get install liburing-dev)
 *   ./uring_echo --host 127.0.0.1 --port 0 [--udp]
 *
 * Prints "Echo server listening on HOST:PORT" once it listens, as jsock echo does; runs until
 * SIGINT or SIGTERM.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <liburing.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define BUF_SIZE (64 * 1024)
#define RECVS 64

/* What an operation's user_data holds: a pointer (8-byte aligned) with the kind in its low bits. */
enum kind { ACCEPT = 1, RECV = 2, SEND = 3 };

/* A TCP connection: bytes [off, len) of buf still to send back. */
struct conn {
  int fd;
  size_t off;
  size_t len;
  char buf[BUF_SIZE];
};

/* A UDP receive slot: the datagram, its sender, and the header recvmsg and sendmsg share. */
struct slot {
  struct msghdr msg;
  struct iovec iov;
  struct sockaddr_storage from;
  char buf[BUF_SIZE];
};

static struct io_uring ring;
static volatile sig_atomic_t stopping = 0;
static void on_signal(int sig) { (void)sig; stopping = 1; }

static void die(const char *what, int err) {
  fprintf(stderr, "uring_echo: %s: %s\n", what, strerror(err));
  exit(1);
}

static void usage(void) {
  fprintf(stderr, "usage: uring_echo [--host H] [--port P] [--udp]\n");
  exit(2);
}

/* A free submission entry, submitting the full queue first if there is none. */
static struct io_uring_sqe *next_sqe(void *data, enum kind kind) {
  struct io_uring_sqe *sqe = io_uring_get_sqe(&ring);
  if (sqe == NULL) {
    io_uring_submit(&ring);
    sqe = io_uring_get_sqe(&ring);
  }
  io_uring_sqe_set_data(sqe, (void *)((unsigned long)data | kind));
  return sqe;
}

static void arm_accept(int lfd) {
  io_uring_prep_multishot_accept(next_sqe(NULL, ACCEPT), lfd, NULL, NULL, SOCK_CLOEXEC);
}

static void arm_recv(struct conn *c) { io_uring_prep_recv(next_sqe(c, RECV), c->fd, c->buf, BUF_SIZE, 0); }

static void arm_send(struct conn *c) {
  io_uring_prep_send(next_sqe(c, SEND), c->fd, c->buf + c->off, c->len - c->off, MSG_NOSIGNAL);
}

static void arm_recvmsg(int fd, struct slot *s) {
  s->iov.iov_base = s->buf;
  s->iov.iov_len = BUF_SIZE;
  s->msg.msg_name = &s->from;
  s->msg.msg_namelen = sizeof s->from;
  s->msg.msg_iov = &s->iov;
  s->msg.msg_iovlen = 1;
  io_uring_prep_recvmsg(next_sqe(s, RECV), fd, &s->msg, 0);
}

static void close_conn(struct conn *c) {
  close(c->fd);
  free(c);
}

/* Handles one completion of the TCP server. */
static void on_tcp(int lfd, struct io_uring_cqe *cqe) {
  unsigned long data = (unsigned long)io_uring_cqe_get_data(cqe);
  struct conn *c = (struct conn *)(data & ~7UL);
  int res = cqe->res;
  switch (data & 7) {
    case ACCEPT:
      if (res >= 0) {
        int one = 1;
        setsockopt(res, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        struct conn *nc = malloc(sizeof *nc);
        if (nc == NULL) {
          close(res);
        } else {
          nc->fd = res;
          nc->off = nc->len = 0;
          arm_recv(nc);
        }
      }
      if (!(cqe->flags & IORING_CQE_F_MORE)) arm_accept(lfd); /* the multishot ended: again */
      break;
    case RECV:
      if (res == -EINTR || res == -EAGAIN) {
        arm_recv(c);
      } else if (res <= 0) {
        close_conn(c); /* end of stream or error */
      } else {
        c->off = 0;
        c->len = (size_t)res;
        arm_send(c);
      }
      break;
    case SEND:
      if (res == -EINTR || res == -EAGAIN) {
        arm_send(c);
      } else if (res < 0) {
        close_conn(c);
      } else {
        c->off += (size_t)res;
        if (c->off < c->len) arm_send(c);
        else arm_recv(c);
      }
      break;
  }
}

/* Handles one completion of the UDP server: a datagram came (send it back) or went (receive again). */
static void on_udp(int fd, struct io_uring_cqe *cqe) {
  unsigned long data = (unsigned long)io_uring_cqe_get_data(cqe);
  struct slot *s = (struct slot *)(data & ~7UL);
  if ((data & 7) == RECV && cqe->res >= 0) {
    s->iov.iov_len = (size_t)cqe->res;
    io_uring_prep_sendmsg(next_sqe(s, SEND), fd, &s->msg, 0); /* a full buffer drops it, as UDP may */
  } else {
    arm_recvmsg(fd, s);
  }
}

static void run(int fd, int udp) {
  struct io_uring_params params = {0};
  params.flags = IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN | IORING_SETUP_CQSIZE;
  params.cq_entries = 65536;
  int err = io_uring_queue_init_params(4096, &ring, &params);
  if (err < 0) die("io_uring_queue_init_params", -err);
  if (udp) {
    static struct slot slots[RECVS];
    for (int i = 0; i < RECVS; i++) arm_recvmsg(fd, &slots[i]);
  } else {
    arm_accept(fd);
  }
  while (!stopping) {
    err = io_uring_submit_and_wait(&ring, 1);
    if (err < 0 && err != -EINTR) die("io_uring_submit_and_wait", -err);
    struct io_uring_cqe *cqe;
    unsigned head, seen = 0;
    io_uring_for_each_cqe(&ring, head, cqe) {
      seen++;
      if (udp) on_udp(fd, cqe);
      else on_tcp(fd, cqe);
    }
    io_uring_cq_advance(&ring, seen);
  }
}

static int listen_on(const char *host, const char *port, int udp, struct sockaddr_storage *bound) {
  struct addrinfo hints = {0}, *res;
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = udp ? SOCK_DGRAM : SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE;
  int err = getaddrinfo(host, port, &hints, &res);
  if (err != 0) {
    fprintf(stderr, "uring_echo: resolve %s:%s: %s\n", host, port, gai_strerror(err));
    exit(6);
  }
  int fd = socket(res->ai_family, res->ai_socktype | SOCK_CLOEXEC, 0);
  if (fd < 0) die("socket", errno);
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (bind(fd, res->ai_addr, res->ai_addrlen) < 0) die("bind", errno);
  if (!udp && listen(fd, 1024) < 0) die("listen", errno);
  socklen_t len = sizeof *bound;
  getsockname(fd, (struct sockaddr *)bound, &len);
  freeaddrinfo(res);
  return fd;
}

static int port_of(const struct sockaddr_storage *a) {
  return ntohs(a->ss_family == AF_INET6 ? ((const struct sockaddr_in6 *)a)->sin6_port
                                        : ((const struct sockaddr_in *)a)->sin_port);
}

int main(int argc, char **argv) {
  const char *host = "localhost", *port = "12345";
  int udp = 0;
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--host") == 0 && i + 1 < argc) host = argv[++i];
    else if (strcmp(argv[i], "--port") == 0 && i + 1 < argc) port = argv[++i];
    else if (strcmp(argv[i], "--udp") == 0) udp = 1;
    else usage();
  }
  struct sigaction sa = {0};
  sa.sa_handler = on_signal; /* no SA_RESTART: the wait returns -EINTR and the loop ends */
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGTERM, &sa, NULL);
  signal(SIGPIPE, SIG_IGN);
  struct sockaddr_storage bound;
  int fd = listen_on(host, port, udp, &bound);
  printf("Echo server listening on %s%s%s:%d\n", strchr(host, ':') ? "[" : "", host,
         strchr(host, ':') ? "]" : "", port_of(&bound));
  fflush(stdout);
  run(fd, udp);
  return 0;
}
