package io.jsock.internal;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

import io.jsock.Errno;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.lang.ref.Reference;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;

/**
 * {@code recv(2)} and {@code send(2)} on a stream socket's file descriptor, called through the FFM
 * API: what {@code SocketChannel.read} and {@code write} do, less what a non-blocking socket does
 * not need from them; {@code getpeername(2)}, which the channel answers from memory; and {@code
 * shutdown(2)}, {@code listen(2)}, {@code setsockopt(2)} and {@code getsockopt(2)} where the JDK's
 * channels refuse them (a socket that is not connected, a listener, a listener that a shutdown
 * stopped, {@code TCP_NODELAY} on a listener, {@code IPV6_V6ONLY}). The channel copies a heap
 * buffer into a temporary direct buffer before writing it (and reads into one before copying out),
 * and takes a lock and its state lock on every call; these calls read and write the caller's memory
 * in place, heap or direct, as CPython's do.
 *
 * <p>Both calls are made with {@code MSG_DONTWAIT}, so they never block, which is what lets them be
 * linked as critical functions that may touch the Java heap: the garbage collector waits for them
 * as it waits for any running Java code, and a call copies at most what the socket's kernel buffers
 * hold, so that wait is short. {@code send} adds {@code MSG_NOSIGNAL}: a reset peer gives {@code
 * EPIPE}, never a {@code SIGPIPE}.
 *
 * <p>Available where the epoll poller is ({@link Epoll#isAvailable()}) unless {@code
 * -Djsock.streamCalls=false} is set, which sends every read and write through the channel. Callers
 * hold the file descriptor open across a call with {@link PolledChannel#enterCall()}.
 */
public final class StreamCalls {
  private static final int MSG_DONTWAIT = 0x40;
  private static final int MSG_NOSIGNAL = 0x4000;

  /** What {@link #call} returns when the call would have had to wait. */
  private static final long WOULD_BLOCK = -1;

  /** A direct buffer's address when the caller does not know it (see {@link #recv}). */
  public static final long UNKNOWN_ADDRESS = 0;

  // recv and send of heap memory (a segment) and of native memory (an address): the address form
  // takes no segment, so a call on a buffer whose address is known allocates nothing however the
  // JIT inlines it
  private static final MethodHandle RECV;
  private static final MethodHandle SEND;
  private static final MethodHandle RECV_NATIVE;
  private static final MethodHandle SEND_NATIVE;
  private static final MethodHandle GETPEERNAME;
  private static final MethodHandle GETSOCKNAME;
  private static final MethodHandle SHUTDOWN;
  private static final MethodHandle LISTEN;
  private static final MethodHandle BIND;
  private static final MethodHandle SETSOCKOPT;
  private static final MethodHandle GETSOCKOPT;
  private static final MethodHandle IOCTL_INT;

  /** {@code SIOCOUTQ} (Linux's {@code TIOCOUTQ}): the bytes a socket's send queue holds. */
  private static final long SIOCOUTQ = 0x5411;

  /** {@code TCP_INFO} and its level {@code IPPROTO_TCP}, as Linux numbers them. */
  private static final int IPPROTO_TCP = 6;

  private static final int TCP_INFO = 11;

  /**
   * Where {@code struct tcp_info} has its {@code u64 tcpi_bytes_acked} (since Linux 4.1): the
   * structure is asked for up to its end, and a shorter answer is an older kernel's.
   */
  private static final int TCPI_BYTES_ACKED_OFFSET = 120;

  /** {@code FIONREAD} (Linux's {@code SIOCINQ}): the bytes a socket's receive queue holds. */
  private static final long FIONREAD = 0x541B;

  /** {@code AF_INET} and {@code AF_INET6} as Linux numbers them. */
  private static final short AF_INET = 2;

  private static final short AF_INET6 = 10;

  /** A port as {@code struct sockaddr_in} holds it: in network order. */
  private static final ValueLayout.OfShort JAVA_SHORT_BIG_ENDIAN =
      JAVA_SHORT.withOrder(ByteOrder.BIG_ENDIAN);

  /** Room for any socket address ({@code struct sockaddr_storage}). */
  private static final long SOCKADDR_STORAGE = 128;

  private static final long ERRNO_OFFSET =
      Linker.Option.captureStateLayout().byteOffset(MemoryLayout.PathElement.groupElement("errno"));

  static {
    MethodHandle recv = null;
    MethodHandle send = null;
    MethodHandle recvNative = null;
    MethodHandle sendNative = null;
    MethodHandle getPeerName = null;
    MethodHandle getSockName = null;
    MethodHandle shutdown = null;
    MethodHandle listen = null;
    MethodHandle bind = null;
    MethodHandle setSockOpt = null;
    MethodHandle getSockOpt = null;
    MethodHandle ioctlInt = null;
    if (Epoll.isAvailable()
        && ADDRESS.byteSize() == Long.BYTES
        && Boolean.parseBoolean(System.getProperty("jsock.streamCalls", "true"))) {
      Linker linker = Linker.nativeLinker();
      var libc = linker.defaultLookup();
      MemorySegment recvSymbol = libc.find("recv").orElseThrow();
      MemorySegment sendSymbol = libc.find("send").orElseThrow();
      // ssize_t recv(int fd, void *buf, size_t len, int flags), and send alike
      var ofSegment = FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG, JAVA_INT);
      // the same with the pointer as a 64-bit integer, which the C calling convention passes alike
      var ofAddress = FunctionDescriptor.of(JAVA_LONG, JAVA_INT, JAVA_LONG, JAVA_LONG, JAVA_INT);
      Linker.Option errno = Linker.Option.captureCallState("errno");
      Linker.Option critical = Linker.Option.critical(true);
      recv = linker.downcallHandle(recvSymbol, ofSegment, errno, critical);
      send = linker.downcallHandle(sendSymbol, ofSegment, errno, critical);
      recvNative = linker.downcallHandle(recvSymbol, ofAddress, errno, critical);
      sendNative = linker.downcallHandle(sendSymbol, ofAddress, errno, critical);
      // int getpeername(int fd, struct sockaddr *addr, socklen_t *addrlen): not a hot path
      getPeerName =
          linker.downcallHandle(
              libc.find("getpeername").orElseThrow(),
              FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, ADDRESS),
              errno);
      getSockName =
          linker.downcallHandle(
              libc.find("getsockname").orElseThrow(),
              FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, ADDRESS),
              errno);
      // int shutdown(int fd, int how), int listen(int fd, int backlog): not hot paths either
      var intInt = FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT);
      shutdown = linker.downcallHandle(libc.find("shutdown").orElseThrow(), intInt, errno);
      listen = linker.downcallHandle(libc.find("listen").orElseThrow(), intInt, errno);
      // int bind(int fd, const struct sockaddr *addr, socklen_t addrlen)
      bind =
          linker.downcallHandle(
              libc.find("bind").orElseThrow(),
              FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT),
              errno);
      // int setsockopt(int fd, int level, int optname, const void *optval, socklen_t optlen)
      setSockOpt =
          linker.downcallHandle(
              libc.find("setsockopt").orElseThrow(),
              FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT),
              errno);
      // int getsockopt(int fd, int level, int optname, void *optval, socklen_t *optlen)
      getSockOpt =
          linker.downcallHandle(
              libc.find("getsockopt").orElseThrow(),
              FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS, ADDRESS),
              errno);
      // int ioctl(int fd, unsigned long request, ...), here with an int * as its one variadic
      ioctlInt =
          linker.downcallHandle(
              libc.find("ioctl").orElseThrow(),
              FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_LONG, ADDRESS),
              errno,
              Linker.Option.firstVariadicArg(2));
    }
    RECV = recv;
    SEND = send;
    RECV_NATIVE = recvNative;
    SEND_NATIVE = sendNative;
    GETPEERNAME = getPeerName;
    GETSOCKNAME = getSockName;
    SHUTDOWN = shutdown;
    LISTEN = listen;
    BIND = bind;
    SETSOCKOPT = setSockOpt;
    GETSOCKOPT = getSockOpt;
    IOCTL_INT = ioctlInt;
  }

  private StreamCalls() {}

  /** Whether reads and writes go through these calls rather than the channel. */
  public static boolean isAvailable() {
    return RECV != null;
  }

  /**
   * Reads into the buffer's remaining space, advancing its position; as {@code SocketChannel.read}
   * on a non-blocking channel, returns the count, 0 when nothing is there, -1 at the end of the
   * stream.
   *
   * @param address a direct buffer's base address where the caller keeps it (a {@link
   *     ScratchBuffers} buffer), else {@link #UNKNOWN_ADDRESS}
   * @param state where the call captures errno, one call at a time ({@link
   *     PolledChannel#takeState})
   * @throws Failed with the error number of a failed call
   */
  public static int recv(int fd, ByteBuffer buffer, long address, MemorySegment state)
      throws Failed {
    if (!buffer.hasRemaining()) {
      return 0;
    }
    long n = call(true, fd, buffer, address, MSG_DONTWAIT, state);
    return n == WOULD_BLOCK ? 0 : n == 0 ? -1 : (int) n;
  }

  /**
   * Writes from the buffer's remaining bytes, advancing its position; returns how many went, 0 when
   * the send buffer is full.
   *
   * @param address as for {@link #recv}
   * @param state as for {@link #recv}
   * @throws Failed with the error number of a failed call
   */
  public static int send(int fd, ByteBuffer buffer, long address, MemorySegment state)
      throws Failed {
    if (!buffer.hasRemaining()) {
      return 0;
    }
    long n = call(false, fd, buffer, address, MSG_DONTWAIT | MSG_NOSIGNAL, state);
    return n == WOULD_BLOCK ? 0 : (int) n;
  }

  /**
   * A {@code send(2)} of no bytes, which the JDK's channels never make (their {@code write} returns
   * 0 for an empty buffer without a call): on a connected datagram socket it sends an empty
   * datagram, on a stream it reports the connection's error, as Linux's send does ({@code EPIPE}
   * after {@code shutdown(SHUT_WR)}, a reset not yet reported). False when the send buffer is full.
   *
   * @param state as for {@link #recv}
   * @throws Failed with the error number of a failed call
   */
  public static boolean sendEmpty(int fd, MemorySegment state) throws Failed {
    ByteBuffer empty = ByteBuffer.allocate(0);
    return call(false, fd, empty, UNKNOWN_ADDRESS, MSG_DONTWAIT | MSG_NOSIGNAL, state)
        != WOULD_BLOCK;
  }

  /**
   * A {@code recv(2)} of no bytes, which the JDK's channels never make (their {@code read} returns
   * 0 for a buffer with no room without a call): on a stream it returns at once, taking nothing,
   * when data is queued or the stream has ended, reports the connection's error (a reset not yet
   * reported), and would block otherwise, as Python's {@code recvfrom(0)} does. False when it would
   * block.
   *
   * @param state as for {@link #recv}
   * @throws Failed with the error number of a failed call
   */
  public static boolean recvEmpty(int fd, MemorySegment state) throws Failed {
    ByteBuffer empty = ByteBuffer.allocate(0);
    return call(true, fd, empty, UNKNOWN_ADDRESS, MSG_DONTWAIT, state) != WOULD_BLOCK;
  }

  /**
   * Asks the kernel whether the socket still has a peer, as {@code getpeername(2)} answers: a
   * connection that a reset or a completed close has ended has none ({@code ENOTCONN}), though the
   * channel still knows the address it was connected to; the address itself is not needed.
   *
   * @throws Failed with the error number of a failed call
   */
  public static void checkPeer(int fd) throws Failed {
    socketName("getpeername", GETPEERNAME, fd);
  }

  /**
   * {@code getpeername(2)} of an AF_UNIX socket: the peer's path as the kernel has it now, which is
   * the one it bound after it connected (an accept gave it unnamed), as bytes; empty for a peer
   * without a name, and an abstract name begins with a 0 byte.
   *
   * @throws Failed with the error number of a failed call
   */
  public static byte[] peerUnixPath(int fd) throws Failed {
    byte[][] path = new byte[1][];
    zeroOrFailed(
        "getpeername",
        (arena, state) -> {
          MemorySegment address = arena.allocate(SOCKADDR_STORAGE, 8);
          MemorySegment length = arena.allocate(JAVA_INT);
          length.set(JAVA_INT, 0, (int) SOCKADDR_STORAGE);
          int result = (int) GETPEERNAME.invokeExact(state, fd, address, length);
          // struct sockaddr_un: sun_family, then sun_path (a file's ends with a NUL, counted)
          int size = Math.max(0, Math.min(length.get(JAVA_INT, 0), (int) SOCKADDR_STORAGE) - 2);
          byte[] bytes = address.asSlice(2, size).toArray(JAVA_BYTE);
          int end = 0;
          while (end < size && bytes[end] != 0) {
            end++;
          }
          path[0] = size > 0 && bytes[0] == 0 ? bytes : Arrays.copyOf(bytes, end);
          return result;
        });
    return path[0];
  }

  /**
   * {@code getsockname(2)} of an IP socket: the address and port the kernel has bound it to, which
   * it chooses at a connect's start, before the JDK's channel knows them (it asks once the connect
   * completes).
   *
   * @return the address, or null for a socket of another family
   * @throws Failed with the error number of a failed call
   */
  public static InetSocketAddress localAddress(int fd) throws Failed {
    return socketName("getsockname", GETSOCKNAME, fd);
  }

  /**
   * {@code getsockname(2)} or {@code getpeername(2)} (the same signature): the IP address it gives,
   * or null for another family.
   */
  private static InetSocketAddress socketName(String name, MethodHandle call, int fd)
      throws Failed {
    byte[][] raw = new byte[1][];
    int[] portAndScope = new int[2];
    zeroOrFailed(
        name,
        (arena, state) -> {
          MemorySegment address = arena.allocate(SOCKADDR_STORAGE, 8);
          MemorySegment length = arena.allocate(JAVA_INT);
          length.set(JAVA_INT, 0, (int) SOCKADDR_STORAGE);
          int result = (int) call.invokeExact(state, fd, address, length);
          // struct sockaddr_in / sockaddr_in6: the family in the machine's order, the port in
          // network order, then the IPv4 address, or the flow label, IPv6 address and scope id
          short family = address.get(JAVA_SHORT, 0);
          portAndScope[0] = Short.toUnsignedInt(address.get(JAVA_SHORT_BIG_ENDIAN, 2));
          if (family == AF_INET) {
            raw[0] = address.asSlice(4, 4).toArray(JAVA_BYTE);
          } else if (family == AF_INET6) {
            raw[0] = address.asSlice(8, 16).toArray(JAVA_BYTE);
            portAndScope[1] = address.get(JAVA_INT, 24);
          }
          return result;
        });
    if (raw[0] == null) {
      return null;
    }
    try {
      InetAddress ip =
          raw[0].length == 16 && portAndScope[1] != 0
              ? Inet6Address.getByAddress(null, raw[0], portAndScope[1])
              : InetAddress.getByAddress(raw[0]); // an IPv4-mapped one as IPv4, as the JDK gives
      return new InetSocketAddress(ip, portAndScope[0]);
    } catch (UnknownHostException e) {
      throw new IllegalStateException(name, e); // 4 or 16 bytes: cannot happen
    }
  }

  /**
   * {@code shutdown(2)}: shuts down one or both directions of any stream socket, as Linux does it,
   * connected or not (see {@code Socket.shutdown}).
   *
   * @param how {@code SHUT_RD} 0, {@code SHUT_WR} 1 or {@code SHUT_RDWR} 2
   * @throws Failed with the error number of a failed call (such as {@code ENOTCONN})
   */
  public static void shutdown(int fd, int how) throws Failed {
    zeroOrFailed("shutdown", (arena, state) -> (int) SHUTDOWN.invokeExact(state, fd, how));
  }

  /**
   * {@code listen(2)}: makes a bound stream socket listen, as a listener that a {@code shutdown}
   * stopped must be told again.
   *
   * @throws Failed with the error number of a failed call
   */
  public static void listen(int fd, int backlog) throws Failed {
    zeroOrFailed("listen", (arena, state) -> (int) LISTEN.invokeExact(state, fd, backlog));
  }

  /**
   * {@code bind(2)} of an AF_UNIX socket to a path given as the bytes the file system takes, where
   * the JDK's channel refuses (a connected socket, which Linux lets bind). The empty path is
   * Linux's autobind: the kernel gives the socket an abstract name of its own.
   *
   * @throws Failed with the error number of a failed call (such as {@code EADDRINUSE})
   */
  public static void bindUnix(int fd, byte[] path) throws Failed {
    zeroOrFailed(
        "bind",
        (arena, state) -> {
          // struct sockaddr_un: sa_family_t sun_family (AF_UNIX, 1), char sun_path[108]. A path
          // ends with its NUL, counted; the empty path passes the family alone, which asks for
          // autobind, where its NUL would name the one empty abstract address (a second socket's
          // bind to it is EADDRINUSE)
          long length = path.length == 0 ? 2 : 2 + path.length + 1L;
          MemorySegment address = arena.allocate(length, 2); // sun_family aligned
          address.set(JAVA_SHORT, 0, (short) 1);
          MemorySegment.copy(path, 0, address, JAVA_BYTE, 2, path.length);
          return (int) BIND.invokeExact(state, fd, address, (int) length);
        });
  }

  /**
   * {@code bind(2)} of an IP socket, where the JDK's channel refuses: a connected TCP socket, which
   * Linux lets bind once a reset has closed its connection and given back the port it had picked.
   *
   * @param ipv6 whether the socket is {@code AF_INET6} (an IPv4 address then goes IPv4-mapped)
   * @throws Failed with the error number of a failed call ({@code EINVAL} while the connection
   *     lives or holds a port bound by hand, {@code EADDRINUSE})
   */
  public static void bindInet(int fd, InetSocketAddress local, boolean ipv6) throws Failed {
    byte[] ip = local.getAddress().getAddress();
    int scope = local.getAddress() instanceof Inet6Address v6 ? v6.getScopeId() : 0;
    zeroOrFailed(
        "bind",
        (arena, state) -> {
          // struct sockaddr_in (16 bytes) or sockaddr_in6 (28): the family in the machine's order,
          // the port in network order, then the IPv4 address, or the flow label (0), IPv6 address
          // and scope id
          MemorySegment address = arena.allocate(ipv6 ? 28 : 16, 4);
          address.set(JAVA_SHORT, 0, ipv6 ? AF_INET6 : AF_INET);
          address.set(JAVA_SHORT_BIG_ENDIAN, 2, (short) local.getPort());
          if (!ipv6) {
            MemorySegment.copy(ip, 0, address, JAVA_BYTE, 4, 4);
          } else if (ip.length == 4) {
            address.set(JAVA_BYTE, 18, (byte) 0xff); // ::ffff:a.b.c.d
            address.set(JAVA_BYTE, 19, (byte) 0xff);
            MemorySegment.copy(ip, 0, address, JAVA_BYTE, 20, 4);
          } else {
            MemorySegment.copy(ip, 0, address, JAVA_BYTE, 8, 16);
            address.set(JAVA_INT, 24, scope);
          }
          return (int) BIND.invokeExact(state, fd, address, (int) address.byteSize());
        });
  }

  /**
   * {@code setsockopt(2)} of an option whose value is an {@code int}, where the JDK's channel
   * refuses the option ({@code TCP_NODELAY} on a listener).
   *
   * @throws Failed with the error number of a failed call
   */
  public static void setIntOption(int fd, int level, int name, int value) throws Failed {
    zeroOrFailed(
        "setsockopt",
        (arena, state) -> {
          MemorySegment optionValue = arena.allocate(JAVA_INT);
          optionValue.set(JAVA_INT, 0, value);
          return (int)
              SETSOCKOPT.invokeExact(
                  state, fd, level, name, optionValue, (int) JAVA_INT.byteSize());
        });
  }

  /**
   * {@code getsockopt(2)} of an option whose value is an {@code int}, where the JDK's channels do
   * not know the option ({@code IPV6_V6ONLY}).
   *
   * @throws Failed with the error number of a failed call
   */
  public static int getIntOption(int fd, int level, int name) throws Failed {
    int[] value = new int[1];
    zeroOrFailed(
        "getsockopt",
        (arena, state) -> {
          MemorySegment optionValue = arena.allocate(JAVA_INT);
          MemorySegment length = arena.allocate(JAVA_INT);
          length.set(JAVA_INT, 0, (int) JAVA_INT.byteSize());
          int result = (int) GETSOCKOPT.invokeExact(state, fd, level, name, optionValue, length);
          value[0] = optionValue.get(JAVA_INT, 0);
          return result;
        });
    return value[0];
  }

  /**
   * {@code ioctl(fd, SIOCOUTQ)}: the bytes in the socket's send queue, for TCP those sent but not
   * yet acknowledged by the peer and those not sent yet.
   *
   * @throws Failed with the error number of a failed call ({@code EINVAL} for a listener)
   */
  public static int unsentBytes(int fd) throws Failed {
    return queuedBytes(fd, SIOCOUTQ);
  }

  /**
   * {@code tcpi_bytes_acked} of {@code getsockopt(fd, IPPROTO_TCP, TCP_INFO)}: how much of what the
   * socket sent its peer has acknowledged, the SYN of a connection it opened and a FIN included.
   *
   * @throws Failed with the error number of a failed call (for a socket that is not TCP, {@code
   *     EOPNOTSUPP}, or {@code ENOPROTOOPT} for an AF_INET6 UDP one)
   * @throws UnsupportedOperationException on a kernel older than 4.1, which does not count it
   */
  public static long bytesAcknowledged(int fd) throws Failed {
    long[] value = new long[1];
    int[] filled = new int[1];
    zeroOrFailed(
        "getsockopt",
        (arena, state) -> {
          int size = TCPI_BYTES_ACKED_OFFSET + (int) JAVA_LONG.byteSize();
          MemorySegment info = arena.allocate(size, JAVA_LONG.byteAlignment());
          MemorySegment length = arena.allocate(JAVA_INT);
          length.set(JAVA_INT, 0, size);
          int result = (int) GETSOCKOPT.invokeExact(state, fd, IPPROTO_TCP, TCP_INFO, info, length);
          filled[0] = length.get(JAVA_INT, 0);
          value[0] = filled[0] == size ? info.get(JAVA_LONG, TCPI_BYTES_ACKED_OFFSET) : 0;
          return result;
        });
    if (filled[0] < TCPI_BYTES_ACKED_OFFSET + JAVA_LONG.byteSize()) {
      throw new UnsupportedOperationException(
          "bytesAcknowledged needs Linux 4.1 or later: this kernel's tcp_info has "
              + filled[0]
              + " bytes, no tcpi_bytes_acked");
    }
    return value[0];
  }

  /**
   * {@code ioctl(fd, FIONREAD)}: the bytes in the socket's receive queue, which a {@code recv}
   * takes without waiting (on a datagram socket, the size of the next datagram); 0 at the end of
   * the stream.
   *
   * @throws Failed with the error number of a failed call ({@code EINVAL} for a listener)
   */
  public static int unreadBytes(int fd) throws Failed {
    return queuedBytes(fd, FIONREAD);
  }

  /** An {@code ioctl} that answers a count of bytes through an {@code int *}. */
  private static int queuedBytes(int fd, long request) throws Failed {
    int[] value = new int[1];
    zeroOrFailed(
        "ioctl",
        (arena, state) -> {
          MemorySegment count = arena.allocate(JAVA_INT);
          int result = (int) IOCTL_INT.invokeExact(state, fd, request, count);
          value[0] = count.get(JAVA_INT, 0);
          return result;
        });
    return value[0];
  }

  /** One call of a C function made with the arena it may allocate in and its errno capture. */
  @FunctionalInterface
  private interface IntCall {
    int invoke(Arena arena, MemorySegment state) throws Throwable;
  }

  /**
   * Makes a call that returns 0 on success, -1 and errno on failure (not a hot path: an arena per
   * call), and throws {@link Failed} with the errno of a failure.
   */
  private static void zeroOrFailed(String name, IntCall call) throws Failed {
    int result;
    int errno;
    try (Arena arena = Arena.ofConfined()) {
      MemorySegment state = arena.allocate(Linker.Option.captureStateLayout());
      result = call.invoke(arena, state);
      errno = state.get(JAVA_INT, ERRNO_OFFSET);
    } catch (Throwable e) {
      throw new IllegalStateException(name, e);
    }
    if (result != 0) {
      throw new Failed(errno);
    }
  }

  /**
   * One {@code recv} or {@code send} of the buffer's remaining bytes, retried when a signal
   * interrupted it: the count (the buffer's position advanced by it), or {@link #WOULD_BLOCK}.
   */
  private static long call(
      boolean recv, int fd, ByteBuffer buffer, long address, int flags, MemorySegment state)
      throws Failed {
    int position = buffer.position();
    long length = buffer.limit() - position;
    try {
      while (true) {
        long n;
        try {
          // A heap buffer goes as a segment (position to limit), a direct one as its address; each
          // segment made and used in its own branch, which is what lets the JIT elide it, and each
          // handle a constant at its call site, so that the JIT links the call directly.
          if (buffer.isDirect()) {
            long at =
                address != UNKNOWN_ADDRESS
                    ? address + position
                    : MemorySegment.ofBuffer(buffer).address();
            n =
                recv
                    ? (long) RECV_NATIVE.invokeExact(state, fd, at, length, flags)
                    : (long) SEND_NATIVE.invokeExact(state, fd, at, length, flags);
          } else {
            MemorySegment heap = MemorySegment.ofBuffer(buffer);
            n =
                recv
                    ? (long) RECV.invokeExact(state, fd, heap, length, flags)
                    : (long) SEND.invokeExact(state, fd, heap, length, flags);
          }
        } catch (Throwable e) {
          throw new IllegalStateException(recv ? "recv" : "send", e);
        }
        if (n >= 0) {
          buffer.position(position + (int) n);
          return n;
        }
        int errno = state.get(JAVA_INT, ERRNO_OFFSET);
        if (errno == Errno.EAGAIN) {
          return WOULD_BLOCK;
        }
        if (errno != Errno.EINTR) {
          throw new Failed(errno);
        }
      }
    } finally {
      Reference.reachabilityFence(buffer); // a direct buffer's memory, known only by its address
    }
  }

  /** A failed call, with its error number; the caller words it for its operation. */
  public static final class Failed extends Exception {
    private static final long serialVersionUID = 1L;

    private final int errno;

    Failed(int errno) {
      super("errno " + errno, null, false, false);
      this.errno = errno;
    }

    /** The error number. */
    public int errno() {
      return errno;
    }
  }
}
