package io.jsock.internal;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.concurrent.atomic.AtomicReferenceArray;

/**
 * The readiness mechanism on Linux when the JVM allows it (see {@link Epoll}): one epoll instance
 * and one daemon thread, with every socket registered once, edge-triggered, for its whole life.
 *
 * <p>Why: the portable {@link Poller} (like the JDK's own poller for virtual threads) changes the
 * registration on every wait, so each wait costs the waiting thread a selector wakeup and the
 * poller thread two {@code epoll_ctl} calls. Registered once with {@code EPOLLET}, a wait costs no
 * system call at all: the waiting thread publishes itself and parks; an edge (data arrived, room to
 * write, connection accepted or closed) marks the direction signalled and unparks whoever waits.
 * The mark closes the race with an edge that fires after an operation found nothing but before its
 * thread published itself (see {@link Waiters#signal()}).
 */
final class EpollPoller {
  /** The poller, or {@code null} when epoll is unavailable. */
  static final EpollPoller INSTANCE = Epoll.isAvailable() ? start() : null;

  private static final int INTEREST =
      Epoll.EPOLLIN | Epoll.EPOLLOUT | Epoll.EPOLLRDHUP | Epoll.EPOLLET;
  private static final int READABLE =
      Epoll.EPOLLIN | Epoll.EPOLLRDHUP | Epoll.EPOLLERR | Epoll.EPOLLHUP;
  private static final int WRITABLE = Epoll.EPOLLOUT | Epoll.EPOLLERR | Epoll.EPOLLHUP;
  private static final int MAX_EVENTS = 1024;

  private final int epfd;

  /**
   * The registered channels by file descriptor; replaced by a larger copy when an fd outgrows it.
   */
  private volatile AtomicReferenceArray<PolledChannel> byFd = new AtomicReferenceArray<>(1024);

  private EpollPoller(int epfd) {
    this.epfd = epfd;
  }

  private static EpollPoller start() {
    EpollPoller poller = new EpollPoller(Epoll.create());
    Thread.ofPlatform().daemon().name("jsock-epoll").start(poller::run);
    return poller;
  }

  /**
   * Registers {@code fd} for {@code polled} until {@link #deregister}; returns 0 or an errno. The
   * caller guarantees the fd is open and stays its own until it deregisters.
   */
  int register(int fd, PolledChannel polled) {
    table(fd).set(fd, polled);
    int errno = Epoll.ctl(epfd, Epoll.CTL_ADD, fd, INTEREST);
    if (errno != 0) {
      byFd.compareAndSet(fd, polled, null);
    }
    return errno;
  }

  /** Removes {@code fd}, before its channel is closed (after, the number may be another's). */
  void deregister(int fd, PolledChannel polled) {
    Epoll.ctl(epfd, Epoll.CTL_DEL, fd, 0);
    byFd.compareAndSet(fd, polled, null);
  }

  private AtomicReferenceArray<PolledChannel> table(int fd) {
    AtomicReferenceArray<PolledChannel> table = byFd;
    if (fd < table.length()) {
      return table;
    }
    synchronized (this) {
      table = byFd;
      if (fd >= table.length()) {
        AtomicReferenceArray<PolledChannel> larger =
            new AtomicReferenceArray<>(Math.max(fd + 1, table.length() * 2));
        for (int i = 0; i < table.length(); i++) {
          larger.set(i, table.get(i));
        }
        byFd = larger;
        table = larger;
      }
      return table;
    }
  }

  private void run() {
    Arena arena = Arena.ofConfined();
    MemorySegment events = Epoll.eventBuffer(arena, MAX_EVENTS);
    MemorySegment state = Epoll.callState(arena);
    while (true) {
      int n = Epoll.await(epfd, events, MAX_EVENTS, state);
      AtomicReferenceArray<PolledChannel> table = byFd;
      for (int i = 0; i < n; i++) {
        int fd = Epoll.fdOf(events, i);
        if (fd >= table.length()) {
          table = byFd; // registered after we read the table
        }
        PolledChannel polled = fd < table.length() ? table.get(fd) : null;
        if (polled == null) {
          continue; // deregistered meanwhile
        }
        int ready = Epoll.events(events, i);
        if ((ready & READABLE) != 0) {
          polled.readers.signal();
        }
        if ((ready & WRITABLE) != 0) {
          polled.writers.signal();
        }
      }
    }
  }
}
