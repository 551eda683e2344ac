package io.jsock.cli;

import io.jsock.AddrInfo;
import io.jsock.Errno;
import io.jsock.Family;
import io.jsock.Socket;
import io.jsock.SocketKind;
import io.jsock.Sockets;
import io.jsock.WouldBlockException;
import io.jsock.tls.TlsContext;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.SocketTimeoutException;
import java.net.StandardSocketOptions;
import java.net.UnixDomainSocketAddress;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/** Opens the sockets the netcat-class commands talk over: connected clients and listeners. */
final class Endpoints {
  /** The longest pause between two looks of {@link #connectWithinTimeout}, as the library's. */
  private static final long MAX_CONNECT_PAUSE_MILLIS = 50;

  private Endpoints() {}

  /**
   * The usage error for more positional arguments than a host and a port (picocli's {@code arity =
   * "0..2"} list takes every one): {@code label} is how the command's help writes them.
   */
  static String tooManyArguments(String label, List<String> given) {
    return label
        + ": one host and one port, not "
        + given.size()
        + " arguments: "
        + String.join(" ", given);
  }

  /**
   * A socket connected to {@code host:port} (or the AF_UNIX {@code path}), trying each address the
   * host resolves to in order, each attempt bounded by {@code timeout} ({@code null}: the system's
   * own). The socket is returned in blocking mode. UDP "connects" only fix the peer.
   */
  static Socket connect(
      String host, int port, Path unix, Family family, SocketKind kind, Duration timeout)
      throws IOException {
    return connect(host, port, unix, family, kind, timeout, failed -> {});
  }

  /**
   * The same, telling {@code tryingNext} of each attempt that failed with another address still to
   * try (as ncat's "Trying next address..."); when every one fails, the last one's error is thrown
   * (the earlier ones suppressed under it), as ncat reports it and Python's create_connection
   * raises it.
   */
  static Socket connect(
      String host,
      int port,
      Path unix,
      Family family,
      SocketKind kind,
      Duration timeout,
      Consumer<IOException> tryingNext)
      throws IOException {
    if (unix != null) {
      Socket socket = Socket.create(Family.AF_UNIX, SocketKind.SOCK_STREAM);
      return connect(socket, UnixDomainSocketAddress.of(unix), timeout);
    }
    return connect(
        Sockets.getAddrInfo(host, port, family, kind), ClientSource.KERNEL, timeout, tryingNext);
  }

  /**
   * A socket connected to the first of {@code targets} that accepts, tried in order as above, bound
   * first to {@code source} (unless the kernel is to pick it). A source that cannot be bound ends
   * the attempt at once: the next address would find it taken too.
   */
  static Socket connect(
      List<AddrInfo> targets,
      ClientSource source,
      Duration timeout,
      Consumer<IOException> tryingNext)
      throws IOException {
    List<IOException> errors = new ArrayList<>();
    for (AddrInfo info : targets) {
      if (!errors.isEmpty()) {
        tryingNext.accept(errors.getLast());
      }
      Socket socket = Socket.create(info.family(), info.kind());
      if (!source.isKernels()) {
        bindSource(socket, source.bindAddress(info.family()));
      }
      try {
        return connect(socket, info.address(), timeout);
      } catch (InterruptedIOException e) {
        if (!(e instanceof SocketTimeoutException)) {
          throw e; // interrupted: no next address
        }
        errors.add(e);
      } catch (IOException e) {
        errors.add(e);
      }
    }
    IOException last = errors.getLast();
    errors.stream().limit(errors.size() - 1L).forEach(last::addSuppressed);
    throw last;
  }

  private static void bindSource(Socket socket, SocketAddress source) throws IOException {
    try {
      socket.bind(source);
    } catch (IOException | RuntimeException e) {
      socket.close();
      throw e;
    }
  }

  /** {@code targets} with {@code port} in place of theirs, for trying one host's ports in turn. */
  static List<AddrInfo> withPort(List<AddrInfo> targets, int port) {
    return targets.stream()
        .map(
            info ->
                new AddrInfo(
                    info.family(),
                    info.kind(),
                    info.proto(),
                    info.canonName(),
                    new InetSocketAddress(((InetSocketAddress) info.address()).getAddress(), port)))
        .toList();
  }

  private static Socket connect(Socket socket, SocketAddress address, Duration timeout)
      throws IOException {
    try {
      socket.setTimeout(timeout);
      if (timeout != null && address instanceof UnixDomainSocketAddress) {
        connectWithinTimeout(socket, address, timeout);
      } else {
        socket.connect(address);
      }
      socket.setTimeout(null);
      return socket;
    } catch (IOException | RuntimeException e) {
      socket.close();
      throw e;
    }
  }

  /**
   * An AF_UNIX connect that waits up to {@code timeout} for room in the listener's queue: with a
   * timeout, the library's connect to a full queue fails at once with {@code EAGAIN}, as CPython's
   * does, where {@code -w} (and relay's {@code --connect-timeout}) promise to wait that long, as a
   * blocking connect waits without one. Nothing can be polled for the room, so this looks again,
   * less often as it lasts, as the library's blocking connect does.
   */
  private static void connectWithinTimeout(Socket socket, SocketAddress address, Duration timeout)
      throws IOException {
    long start = System.nanoTime();
    long limit = saturatedNanos(timeout);
    long pauseMillis = 1;
    while (true) {
      try {
        socket.connect(address);
        return;
      } catch (WouldBlockException e) {
        long left = limit - (System.nanoTime() - start);
        if (e.errno() != Errno.EAGAIN) {
          throw e;
        }
        if (left <= 0) {
          throw new SocketTimeoutException("connect to " + address + ": timed out");
        }
        try {
          Thread.sleep(Math.max(1, Math.min(pauseMillis, TimeUnit.NANOSECONDS.toMillis(left))));
        } catch (InterruptedException interrupted) {
          Thread.currentThread().interrupt();
          throw new InterruptedIOException("connect to " + address + ": interrupted");
        }
        pauseMillis = Math.min(pauseMillis * 2, MAX_CONNECT_PAUSE_MILLIS);
      }
    }
  }

  private static long saturatedNanos(Duration duration) {
    try {
      return duration.toNanos();
    } catch (ArithmeticException tooLong) {
      return Long.MAX_VALUE;
    }
  }

  /** Wraps a connected socket in TLS as a client and completes the handshake. */
  static Socket tlsClient(Socket connected, TlsContext context, String expectedName)
      throws IOException {
    try {
      return context.wrap(connected, expectedName);
    } catch (IOException | RuntimeException e) {
      connected.close();
      throw e;
    }
  }

  /**
   * A socket bound to {@code host:port} (or the AF_UNIX {@code path}): listening for a stream kind,
   * ready to receive for UDP. The host's first address of the asked family is used. With {@code
   * family} AF_INET6 ({@code -6}) the socket is IPv6-only ({@code IPV6_V6ONLY}), as ncat's: {@code
   * ::} then takes no IPv4 peers; without it an IPv6 socket stays dual-stack.
   */
  static Socket bind(String host, int port, Path unix, Family family, SocketKind kind, int backlog)
      throws IOException {
    return bind(host, port, unix, family, kind, backlog, false);
  }

  /**
   * A UDP socket bound to {@code host:port} as {@link #bind} binds one, with {@code SO_REUSEADDR}
   * set first: {@code listen -u -k -e} binds a socket of each sender's own to the same address and
   * connects it to the sender (see {@link SenderPrograms}), as ncat does.
   */
  static Socket bindShared(String host, int port, Family family) throws IOException {
    return bind(host, port, null, family, SocketKind.SOCK_DGRAM, 0, true);
  }

  private static Socket bind(
      String host, int port, Path unix, Family family, SocketKind kind, int backlog, boolean shared)
      throws IOException {
    SocketAddress address;
    Family addressFamily;
    if (unix != null) {
      address = UnixDomainSocketAddress.of(unix);
      addressFamily = Family.AF_UNIX;
    } else {
      AddrInfo info = Sockets.getAddrInfo(host, port, family, kind).getFirst();
      address = info.address();
      addressFamily = info.family();
    }
    Socket socket = Socket.create(addressFamily, kind);
    try {
      if (family == Family.AF_INET6) {
        ipv6Only(socket);
      }
      if (shared) {
        socket.setSockOpt(StandardSocketOptions.SO_REUSEADDR, true);
      }
      socket.bind(address);
      if (kind == SocketKind.SOCK_STREAM) {
        socket.listen(backlog);
      }
      return socket;
    } catch (IOException | RuntimeException e) {
      socket.close();
      throw e;
    }
  }

  /**
   * Removes the AF_UNIX socket file {@code path}, which a bind has just made, when the JVM exits (a
   * signal too), and returns the removal for the caller's own end: only while the path still names
   * that file (its device and inode), so that a listener whose file was removed by hand and taken
   * by another listener since leaves the other's file (ncat never removes one).
   */
  static Runnable removeSocketFileOnExit(Path path) {
    Object made = fileKeyOrNull(path);
    Runnable remove =
        () -> {
          try {
            if (made != null && made.equals(fileKeyOrNull(path))) {
              Files.deleteIfExists(path);
            }
          } catch (IOException e) {
            // left for the next bind, which replaces a stale socket file
          }
        };
    Runtime.getRuntime().addShutdownHook(Thread.ofPlatform().unstarted(remove));
    return remove;
  }

  /**
   * The identity (device and inode) of the file at {@code path}, no link followed; null if it is
   * gone or cannot be read (a file that cannot be told from another's is left).
   */
  private static Object fileKeyOrNull(Path path) {
    try {
      return Files.readAttributes(path, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS)
          .fileKey();
    } catch (IOException e) {
      return null;
    }
  }

  /**
   * Sets {@code IPV6_V6ONLY}; where it cannot be set (the portable path) the socket stays
   * dual-stack.
   */
  private static void ipv6Only(Socket socket) throws IOException {
    try {
      socket.setSockOpt(Sockets.IPV6_V6ONLY, true);
    } catch (UnsupportedOperationException e) {
      // dual-stack, as the JDK makes every IPv6 socket (README: Sockets.IPV6_V6ONLY)
    }
  }
}
