package io.jsock.internal;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

import io.jsock.Errno;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.nio.channels.SelectableChannel;

/**
 * Linux's epoll, called through the FFM API: the three system calls the {@link EpollPoller} needs,
 * the {@code poll(2)} and eventfd of a platform thread's wait (see {@link Wakeup}), and the file
 * descriptor behind a JDK channel.
 *
 * <p>Available only when the JVM lets this module call native code ({@code
 * --enable-native-access=io.jsock}, or {@code ALL-UNNAMED} on the class path) and read a channel's
 * file descriptor ({@code --add-exports java.base/sun.nio.ch=io.jsock}); {@link #isAvailable()}
 * says whether both hold, and jsock falls back to its portable {@link java.nio.channels.Selector}
 * poller otherwise.
 */
final class Epoll {
  static final int EPOLLIN = 0x001;
  static final int EPOLLPRI = 0x002;
  static final int EPOLLOUT = 0x004;
  static final int EPOLLERR = 0x008;
  static final int EPOLLHUP = 0x010;
  static final int EPOLLRDHUP = 0x2000;
  static final int EPOLLONESHOT = 1 << 30;
  static final int EPOLLET = 1 << 31;
  static final short POLLIN = 0x001;
  static final short POLLOUT = 0x004;
  static final int CTL_ADD = 1;
  static final int CTL_DEL = 2;
  static final int CTL_MOD = 3;
  private static final int EPOLL_CLOEXEC = 0x80000;
  private static final int EFD_CLOEXEC = 0x80000;
  private static final int EFD_NONBLOCK = 0x800;

  /** The eight bytes that {@link #signal} adds to an eventfd's counter: 1. */
  private static final MemorySegment ONE = Arena.global().allocateFrom(JAVA_LONG, 1L);

  /**
   * {@code struct epoll_event}: a 32-bit event mask and 64 bits of user data, which the x86-64
   * kernel ABI packs into 12 bytes (other architectures align the data to 8, making 16).
   */
  static final long EVENT_SIZE = "amd64".equals(System.getProperty("os.arch")) ? 12 : 16;

  private static final long DATA_OFFSET = EVENT_SIZE == 12 ? 4 : 8;
  private static final ValueLayout.OfLong DATA =
      ValueLayout.JAVA_LONG.withByteAlignment(EVENT_SIZE == 12 ? 4 : 8);

  private static final MethodHandle CREATE;
  private static final MethodHandle CTL;
  private static final MethodHandle WAIT;
  private static final MethodHandle POLL;
  private static final MethodHandle CLOSE;
  private static final MethodHandle EVENTFD;
  private static final MethodHandle READ;
  private static final MethodHandle WRITE;
  private static final MethodHandle FD_VAL;
  private static final StructLayout CALL_STATE = Linker.Option.captureStateLayout();
  private static final long ERRNO_OFFSET =
      CALL_STATE.byteOffset(java.lang.foreign.MemoryLayout.PathElement.groupElement("errno"));
  private static final String UNAVAILABLE;

  static {
    MethodHandle create = null;
    MethodHandle ctl = null;
    MethodHandle wait = null;
    MethodHandle poll = null;
    MethodHandle close = null;
    MethodHandle eventFd = null;
    MethodHandle read = null;
    MethodHandle write = null;
    MethodHandle fdVal = null;
    String unavailable = null;
    try {
      if (!System.getProperty("os.name", "").equals("Linux")) {
        unavailable = "not Linux";
      } else if (Boolean.getBoolean("jsock.selectorPoller")) {
        unavailable = "jsock.selectorPoller is set";
      } else if (!Epoll.class.getModule().isNativeAccessEnabled()) {
        unavailable =
            "native access is not enabled for "
                + Epoll.class.getModule()
                + " (add --enable-native-access="
                + moduleFlagName()
                + ")";
      } else if (!Object.class.getModule().isExported("sun.nio.ch", Epoll.class.getModule())) {
        unavailable =
            "java.base does not export sun.nio.ch to "
                + Epoll.class.getModule()
                + " (add --add-exports java.base/sun.nio.ch="
                + moduleFlagName()
                + ")";
      } else {
        Class<?> selectable = Class.forName("sun.nio.ch.SelChImpl");
        fdVal =
            MethodHandles.lookup()
                .findVirtual(selectable, "getFDVal", MethodType.methodType(int.class))
                .asType(MethodType.methodType(int.class, SelectableChannel.class));
        Linker linker = Linker.nativeLinker();
        var libc = linker.defaultLookup();
        Linker.Option errno = Linker.Option.captureCallState("errno");
        create =
            linker.downcallHandle(
                libc.find("epoll_create1").orElseThrow(),
                FunctionDescriptor.of(JAVA_INT, JAVA_INT),
                errno);
        ctl =
            linker.downcallHandle(
                libc.find("epoll_ctl").orElseThrow(),
                FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS),
                errno);
        wait =
            linker.downcallHandle(
                libc.find("epoll_wait").orElseThrow(),
                FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT),
                errno);
        poll =
            linker.downcallHandle(
                libc.find("poll").orElseThrow(),
                FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG, JAVA_INT));
        close =
            linker.downcallHandle(
                libc.find("close").orElseThrow(), FunctionDescriptor.of(JAVA_INT, JAVA_INT));
        eventFd =
            linker.downcallHandle(
                libc.find("eventfd").orElseThrow(),
                FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT));
        read =
            linker.downcallHandle(
                libc.find("read").orElseThrow(),
                FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG));
        write =
            linker.downcallHandle(
                libc.find("write").orElseThrow(),
                FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG));
      }
    } catch (ReflectiveOperationException | RuntimeException e) {
      // IllegalAccessException when sun.nio.ch is not exported to us; anything else alike
      unavailable = e.toString();
      create = ctl = wait = poll = close = eventFd = read = write = fdVal = null;
    }
    CREATE = create;
    CTL = ctl;
    WAIT = wait;
    POLL = poll;
    CLOSE = close;
    EVENTFD = eventFd;
    READ = read;
    WRITE = write;
    FD_VAL = fdVal;
    UNAVAILABLE = unavailable;
  }

  private Epoll() {}

  /**
   * This module's name as the JVM's flags take it: {@code io.jsock}, or on the class path {@code
   * ALL-UNNAMED}.
   */
  private static String moduleFlagName() {
    Module module = Epoll.class.getModule();
    return module.isNamed() ? module.getName() : "ALL-UNNAMED";
  }

  /** Whether epoll can be used; see the class comment. */
  static boolean isAvailable() {
    return UNAVAILABLE == null;
  }

  /** Why epoll cannot be used, or {@code null} when it can. */
  static String whyUnavailable() {
    return UNAVAILABLE;
  }

  /** The file descriptor of a JDK socket channel (valid until the channel is closed). */
  static int fd(SelectableChannel channel) {
    try {
      return (int) FD_VAL.invokeExact(channel);
    } catch (Throwable e) {
      throw new IllegalStateException("file descriptor of " + channel, e);
    }
  }

  /** A new epoll instance (close-on-exec). */
  static int create() {
    int epfd = createOrErrno();
    if (epfd < 0) {
      throw new IllegalStateException("epoll_create1: errno " + -epfd);
    }
    return epfd;
  }

  /**
   * A new epoll instance (close-on-exec), or the negated errno of a failure (EMFILE at the
   * process's limit of file descriptors).
   */
  static int createOrErrno() {
    try (Arena arena = Arena.ofConfined()) {
      MemorySegment state = arena.allocate(CALL_STATE);
      int epfd = (int) CREATE.invokeExact(state, EPOLL_CLOEXEC);
      return epfd >= 0 ? epfd : -errno(state);
    } catch (Throwable e) {
      throw e instanceof RuntimeException r ? r : new IllegalStateException("epoll_create1", e);
    }
  }

  /** Closes an epoll instance of {@link #createOrErrno()} that nothing uses. */
  static void close(int epfd) {
    try {
      int ignored = (int) CLOSE.invokeExact(epfd);
    } catch (Throwable e) {
      throw new IllegalStateException("close", e);
    }
  }

  /** {@code epoll_ctl(epfd, op, fd, {events, data})}; returns 0, or the errno of a failure. */
  static int ctl(int epfd, int op, int fd, int events, long data) {
    try (Arena arena = Arena.ofConfined()) {
      return ctl(epfd, op, fd, events, data, eventBuffer(arena, 1), callState(arena));
    }
  }

  /**
   * {@link #ctl(int, int, int, int, long)} through memory the caller keeps for it, an {@link
   * #eventBuffer} of one event and a {@link #callState}: for a loop that calls it often, which then
   * allocates nothing (a confined arena per call costs a malloc and a free of each segment).
   */
  static int ctl(
      int epfd,
      int op,
      int fd,
      int events,
      long data,
      MemorySegment eventMemory,
      MemorySegment state) {
    eventMemory.set(JAVA_INT, 0, events);
    eventMemory.set(DATA, DATA_OFFSET, data);
    try {
      int result = (int) CTL.invokeExact(state, epfd, op, fd, eventMemory);
      return result == 0 ? 0 : errno(state);
    } catch (Throwable e) {
      throw new IllegalStateException("epoll_ctl", e);
    }
  }

  /**
   * Waits for events: {@code epoll_wait(epfd, events, max, timeoutMillis)}, retried on EINTR; a
   * timeout of 0 returns at once, -1 waits for an event.
   *
   * @return the number of events written to {@code events}
   */
  static int await(
      int epfd, MemorySegment events, int max, int timeoutMillis, MemorySegment state) {
    try {
      while (true) {
        int n = (int) WAIT.invokeExact(state, epfd, events, max, timeoutMillis);
        if (n >= 0) {
          return n;
        }
        int errno = errno(state);
        if (errno != Errno.EINTR) {
          throw new IllegalStateException("epoll_wait: errno " + errno);
        }
      }
    } catch (Throwable e) {
      throw e instanceof RuntimeException r ? r : new IllegalStateException("epoll_wait", e);
    }
  }

  /**
   * Blocks in {@code poll(2)} until {@code fd} is ready for {@code events} ({@link #POLLIN}, {@link
   * #POLLOUT}), has failed or hung up, {@code timeoutMillis} have passed, or a signal came; returns
   * poll's result (1, 0 on timeout, -1 on a failure such as EINTR), which callers need not read:
   * they retry their operation, which tells what happened.
   */
  static int poll(int fd, short events, int timeoutMillis) {
    try (Arena arena = Arena.ofConfined()) {
      MemorySegment pollfd = arena.allocate(8, 4); // struct pollfd {int fd; short events, revents;}
      pollfd.set(JAVA_INT, 0, fd);
      pollfd.set(JAVA_SHORT, 4, events);
      return (int) POLL.invokeExact(pollfd, 1L, timeoutMillis);
    } catch (Throwable e) {
      throw new IllegalStateException("poll", e);
    }
  }

  /**
   * {@code poll(2)} of {@code count} {@code struct pollfd} in {@code pollFds} (see {@link
   * #pollFds}), through memory the caller keeps for it, so that the call allocates nothing; returns
   * poll's result, as {@link #poll(int, short, int)} does.
   */
  static int poll(MemorySegment pollFds, int count, int timeoutMillis) {
    try {
      return (int) POLL.invokeExact(pollFds, (long) count, timeoutMillis);
    } catch (Throwable e) {
      throw new IllegalStateException("poll", e);
    }
  }

  /** Memory for {@code count} {@code struct pollfd {int fd; short events, revents;}}. */
  static MemorySegment pollFds(Arena arena, int count) {
    return arena.allocate(8L * count, 4);
  }

  /** Sets the {@code i}th {@code struct pollfd} of {@code pollFds} to watch {@code events}. */
  static void setPollFd(MemorySegment pollFds, int i, int fd, short events) {
    pollFds.set(JAVA_INT, 8L * i, fd);
    pollFds.set(JAVA_SHORT, 8L * i + 4, events);
  }

  /** What the last {@code poll} reported for the {@code i}th {@code struct pollfd}: its revents. */
  static short revents(MemorySegment pollFds, int i) {
    return pollFds.get(JAVA_SHORT, 8L * i + 6);
  }

  /**
   * A new eventfd, non-blocking and close-on-exec, with its counter at 0; or -1 when the kernel
   * refuses one (EMFILE at the process's limit of file descriptors).
   */
  static int eventFd() {
    try {
      return (int) EVENTFD.invokeExact(0, EFD_CLOEXEC | EFD_NONBLOCK);
    } catch (Throwable e) {
      throw new IllegalStateException("eventfd", e);
    }
  }

  /**
   * Adds 1 to an eventfd's counter, which makes it readable to {@code poll} until {@link #drain}
   * reads it. Never blocks: the counter would have to reach 2^64 - 2 first.
   */
  static void signal(int eventFd) {
    try {
      long ignored = (long) WRITE.invokeExact(eventFd, ONE, 8L);
    } catch (Throwable e) {
      throw new IllegalStateException("write", e);
    }
  }

  /** Resets an eventfd's counter to 0, reading it into {@code scratch} (eight bytes). */
  static void drain(int eventFd, MemorySegment scratch) {
    try {
      long ignored = (long) READ.invokeExact(eventFd, scratch, 8L);
    } catch (Throwable e) {
      throw new IllegalStateException("read", e);
    }
  }

  /** The event mask of the {@code i}th event in {@code events}. */
  static int events(MemorySegment events, int i) {
    return events.get(JAVA_INT, i * EVENT_SIZE);
  }

  /** The {@code i}th event's data (what {@link #ctl} registered: a file descriptor, an index). */
  static int dataOf(MemorySegment events, int i) {
    return (int) events.get(DATA, i * EVENT_SIZE + DATA_OFFSET);
  }

  /** Memory for {@code count} events, from {@code arena}. */
  static MemorySegment eventBuffer(Arena arena, int count) {
    return arena.allocate(EVENT_SIZE * count, 8);
  }

  /** Memory for a call's captured state (errno), from {@code arena}. */
  static MemorySegment callState(Arena arena) {
    return arena.allocate(CALL_STATE);
  }

  private static int errno(MemorySegment state) {
    return state.get(JAVA_INT, ERRNO_OFFSET);
  }
}
