package io.jsock.server;

import io.jsock.tls.TlsContext;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.UnixDomainSocketAddress;
import java.time.Duration;
import java.util.Objects;
import java.util.Optional;
import java.util.function.Consumer;

/**
 * Where a {@link TcpServer} or {@link UdpServer} listens, and its limits, each with a documented
 * default.
 *
 * <pre>{@code
 * ServerConfig config = ServerConfig.defaults()
 *     .withAddress("0.0.0.0", 8080)
 *     .withMaxConnections(1_000)
 *     .withIdleTimeout(Duration.ofSeconds(30));
 * }</pre>
 *
 * <p><b>Two timeouts for a connection.</b> A jsock {@link io.jsock.Socket} has one timeout, as
 * Python's does; the server gives its connections two, through an internal hook that leaves the
 * socket's public API alone: receives wait at most {@link #idleTimeout()} (a quiet client is fine
 * for that long), sends at most {@link #writeTimeout()} (a client that stops reading holds its
 * handler no longer than that). A handler that calls {@code conn.setTimeout(...)} or {@code
 * setBlocking(...)} takes over: from then on the one timeout it sets bounds both directions.
 *
 * @param address where to listen: an {@link InetSocketAddress} (an unresolved one is resolved when
 *     the server starts) or, for TCP, a {@link UnixDomainSocketAddress}. Default {@code
 *     127.0.0.1:0}: loopback only, any free port ({@code address()} tells which). A server listens
 *     on every interface only when given an address such as {@code 0.0.0.0} or {@code ::} (or the
 *     host {@code ""}, as in Python: every IPv4 interface).
 * @param maxConnections how many connections are served at once (UDP: datagrams handled at once).
 *     One more is accepted and reset at once, never queued (UDP: dropped; AF_UNIX, which has no
 *     reset: closed, so a client that has sent nothing reads end of stream), and counted as {@link
 *     ServerStats#refused()}. Default 10,000.
 * @param idleTimeout the timeout mode of a connection's socket: each recv of the handler waits at
 *     most this long (sends are bounded by {@code writeTimeout}), then throws {@link
 *     java.net.SocketTimeoutException}, which ends the connection and counts as {@link
 *     ServerStats#timedOut()}. Default 5 minutes. TCP only.
 * @param writeTimeout how long each send of the handler ({@code send}, {@code sendAll}, {@code
 *     sendFile}, TLS records included) may take as a whole, however long {@code idleTimeout} is; a
 *     send that cannot finish in time, because the client does not read, throws {@link
 *     java.net.SocketTimeoutException}, which ends the connection and counts as {@link
 *     ServerStats#timedOut()}; the connection is reset, not closed, so that the kernel does not go
 *     on sending the rest of the reply. Default 30 seconds. TCP only.
 * @param firstByteTimeout how long a new connection may take to send its first byte, counted from
 *     when it is accepted; a connection still silent then is reset and counted as timed out, even
 *     if its handler is busy elsewhere. Default 10 seconds. TCP only.
 * @param backlog how many connections the kernel queues before the server accepts them. Default
 *     1024, as Netty's and nginx's servers are commonly set (the kernel caps it at {@code
 *     net.core.somaxconn}): a burst of connections while the acceptor waits its turn is queued, not
 *     dropped (a dropped SYN costs the client a one-second retransmission). TCP only.
 * @param reusePort whether the server's socket sets {@code SO_REUSEPORT} before it binds, so that
 *     several servers, in this process or in others, may listen on the same address and port, and
 *     the kernel deals the new connections (UDP: the senders) out among them. Default false: a
 *     second server on a taken address fails with {@link io.jsock.AddressInUseException}. Inet
 *     addresses only (an AF_UNIX socket has no {@code SO_REUSEPORT}).
 * @param shutdownGrace how long {@code close()} lets running handlers finish before it resets their
 *     connections. Default 10 seconds.
 * @param tls the server context to speak TLS with ({@link #withTls}), or empty for plain TCP.
 *     Default empty. A connection whose handshake fails (a plain-TCP client, an untrusted or
 *     refused protocol version, a handshake that stalls) is closed without reaching the handler,
 *     logged at INFO naming the peer and counted as {@link ServerStats#tlsFailed()}; one that sends
 *     nothing at all is reset by the first-byte deadline and counted as timed out (unless the
 *     context's handshake timeout is the shorter: then the handshake times out first, and counts as
 *     failed). The handshake counts as the connection's first bytes. TCP only.
 * @param threadPerDatagram whether each datagram is handled on a virtual thread of its own, as by
 *     Python's {@code socketserver.ThreadingUDPServer} (the default), or on the receiving thread,
 *     one after another, as by its {@code UDPServer} ({@link #withThreadPerDatagram}). UDP only.
 * @param tcpNoDelay whether every connection has {@code TCP_NODELAY} ({@link #withTcpNoDelay}):
 *     each send goes out at once, not held back by Nagle's algorithm while earlier data is
 *     unacknowledged. Default false, as a socket's own default. TCP over inet addresses only.
 */
public record ServerConfig(
    SocketAddress address,
    int maxConnections,
    Duration idleTimeout,
    Duration writeTimeout,
    Duration firstByteTimeout,
    int backlog,
    boolean reusePort,
    Duration shutdownGrace,
    Optional<TlsContext> tls,
    boolean threadPerDatagram,
    boolean tcpNoDelay) {

  /**
   * Checks every field: an address, positive limits and durations, a backlog of 0 or more. An
   * unresolved address with the empty host becomes {@code 0.0.0.0}, as Python binds {@code ""}.
   */
  public ServerConfig {
    Objects.requireNonNull(address, "address");
    if (!(address instanceof InetSocketAddress || address instanceof UnixDomainSocketAddress)) {
      throw new IllegalArgumentException("address: not an inet or AF_UNIX address: " + address);
    }
    if (address instanceof InetSocketAddress inet
        && inet.isUnresolved()
        && inet.getHostString().isEmpty()) { // Python binds "" to INADDR_ANY; no resolver does
      address = new InetSocketAddress("0.0.0.0", inet.getPort()); // a literal: never looked up
    }
    if (maxConnections < 1) {
      throw new IllegalArgumentException("maxConnections must be positive: " + maxConnections);
    }
    positive(idleTimeout, "idleTimeout");
    positive(writeTimeout, "writeTimeout");
    positive(firstByteTimeout, "firstByteTimeout");
    if (backlog < 0) {
      throw new IllegalArgumentException("backlog must not be negative: " + backlog);
    }
    if (reusePort && address instanceof UnixDomainSocketAddress) {
      throw new IllegalArgumentException(
          "reusePort: an AF_UNIX socket has no SO_REUSEPORT: " + address);
    }
    if (tcpNoDelay && address instanceof UnixDomainSocketAddress) {
      throw new IllegalArgumentException(
          "tcpNoDelay: an AF_UNIX socket has no TCP_NODELAY: " + address);
    }
    notNegative(shutdownGrace, "shutdownGrace");
    Objects.requireNonNull(tls, "tls");
    if (tls.isPresent() && tls.get().isClient()) {
      throw new IllegalArgumentException(
          "tls: a server needs a server context (Tls.server(key)), not " + tls.get());
    }
  }

  /**
   * Loopback {@code 127.0.0.1} on any free port, 10,000 connections, idle timeout 5 minutes, write
   * timeout 30 seconds, first-byte deadline 10 seconds, backlog 1024, no {@code SO_REUSEPORT},
   * shutdown grace 10 seconds, no TLS, a thread per datagram, no {@code TCP_NODELAY}.
   */
  public static ServerConfig defaults() {
    return new ServerConfig(
        new InetSocketAddress("127.0.0.1", 0), // a literal: parsed, never looked up
        10_000,
        Duration.ofMinutes(5),
        Duration.ofSeconds(30),
        Duration.ofSeconds(10),
        1024,
        false,
        Duration.ofSeconds(10),
        Optional.empty(),
        true,
        false);
  }

  /** This config listening on {@code address} instead. */
  public ServerConfig withAddress(SocketAddress address) {
    return edit(copy -> copy.address = address);
  }

  /**
   * This config listening on {@code (host, port)}: {@code "0.0.0.0"} or {@code "::"} for every
   * interface, {@code ""} for every IPv4 interface (as in Python's {@code socketserver} address
   * tuples), a name resolved when the server starts.
   */
  public ServerConfig withAddress(String host, int port) {
    Objects.requireNonNull(host, "host");
    if (port < 0 || port > 0xFFFF) {
      throw new IllegalArgumentException("port out of range 0..65535: " + port);
    }
    return withAddress(InetSocketAddress.createUnresolved(host, port));
  }

  /** This config with another connection limit. */
  public ServerConfig withMaxConnections(int maxConnections) {
    return edit(copy -> copy.maxConnections = maxConnections);
  }

  /** This config with another idle timeout. */
  public ServerConfig withIdleTimeout(Duration idleTimeout) {
    return edit(copy -> copy.idleTimeout = idleTimeout);
  }

  /** This config with another write timeout: the bound of each send of a handler. */
  public ServerConfig withWriteTimeout(Duration writeTimeout) {
    return edit(copy -> copy.writeTimeout = writeTimeout);
  }

  /** This config with another first-byte deadline. */
  public ServerConfig withFirstByteTimeout(Duration firstByteTimeout) {
    return edit(copy -> copy.firstByteTimeout = firstByteTimeout);
  }

  /** This config with another backlog. */
  public ServerConfig withBacklog(int backlog) {
    return edit(copy -> copy.backlog = backlog);
  }

  /**
   * This config with or without {@code SO_REUSEPORT}: with it, several servers may listen on one
   * address and port, and the kernel spreads the new connections over them, for instance one server
   * process per CPU, or more processes than one may hold connections for (each has its limit of
   * open files).
   *
   * <pre>{@code
   * ServerConfig config = ServerConfig.defaults().withAddress("0.0.0.0", 8080).withReusePort(true);
   * }</pre>
   */
  public ServerConfig withReusePort(boolean reusePort) {
    return edit(copy -> copy.reusePort = reusePort);
  }

  /** This config with another grace period for {@code close()}. */
  public ServerConfig withShutdownGrace(Duration shutdownGrace) {
    return edit(copy -> copy.shutdownGrace = shutdownGrace);
  }

  /**
   * This config speaking TLS with {@code serverContext}: each accepted connection runs the
   * handshake on its own virtual thread before the handler sees it (never on the accept loop),
   * within {@code firstByteTimeout} or the context's handshake timeout, whichever is shorter. The
   * handler gets the TLS socket. TCP only.
   *
   * <pre>{@code
   * ServerConfig config = ServerConfig.defaults()
   *     .withTls(Tls.server(KeyMaterial.fromPem(chainPem, keyPem)));
   * }</pre>
   */
  public ServerConfig withTls(TlsContext serverContext) {
    Objects.requireNonNull(serverContext, "serverContext");
    return edit(copy -> copy.tls = Optional.of(serverContext));
  }

  /**
   * This config handling datagrams on a virtual thread each ({@code true}, the default) or on the
   * receiving thread, one after another ({@code false}; the server's one thread, then a platform
   * thread). A handler that only replies (a UDP send does not wait for the peer) is fastest on the
   * receiving thread: no thread is started per datagram, and a datagram that comes while one is
   * handled waits in the socket's receive buffer rather than being dropped. A handler that blocks
   * stops the receiving for as long, so {@code maxConnections} does not apply (one is handled at a
   * time). Shutdown is the same: the running handler gets the grace period, then is interrupted.
   * UDP only.
   *
   * <pre>{@code
   * UdpServer.start(ServerConfig.defaults().withThreadPerDatagram(false),
   *     (datagram, socket) -> socket.sendTo(datagram.data(), datagram.address()));
   * }</pre>
   */
  public ServerConfig withThreadPerDatagram(boolean threadPerDatagram) {
    return edit(copy -> copy.threadPerDatagram = threadPerDatagram);
  }

  /**
   * This config with or without {@code TCP_NODELAY} on every connection, for request-response
   * protocols, where a reply held back by Nagle's algorithm waits for the peer's delayed
   * acknowledgement. The server sets it once, on its listening socket, and Linux gives it to every
   * connection accepted there: no system call per connection (as Python's {@code setsockopt} on a
   * listening socket). A handler may still change it on its own connection. TCP only.
   *
   * <pre>{@code
   * TcpServer.start(ServerConfig.defaults().withTcpNoDelay(true), handler);
   * }</pre>
   */
  public ServerConfig withTcpNoDelay(boolean tcpNoDelay) {
    return edit(copy -> copy.tcpNoDelay = tcpNoDelay);
  }

  /** This config with what {@code change} sets on a copy of its fields, checked as any config. */
  private ServerConfig edit(Consumer<Fields> change) {
    Fields copy = new Fields(this);
    change.accept(copy);
    return copy.build();
  }

  /** The fields of a config being changed by one of the {@code with} methods. */
  private static final class Fields {
    SocketAddress address;
    int maxConnections;
    Duration idleTimeout;
    Duration writeTimeout;
    Duration firstByteTimeout;
    int backlog;
    boolean reusePort;
    Duration shutdownGrace;
    Optional<TlsContext> tls;
    boolean threadPerDatagram;
    boolean tcpNoDelay;

    Fields(ServerConfig config) {
      address = config.address;
      maxConnections = config.maxConnections;
      idleTimeout = config.idleTimeout;
      writeTimeout = config.writeTimeout;
      firstByteTimeout = config.firstByteTimeout;
      backlog = config.backlog;
      reusePort = config.reusePort;
      shutdownGrace = config.shutdownGrace;
      tls = config.tls;
      threadPerDatagram = config.threadPerDatagram;
      tcpNoDelay = config.tcpNoDelay;
    }

    ServerConfig build() {
      return new ServerConfig(
          address,
          maxConnections,
          idleTimeout,
          writeTimeout,
          firstByteTimeout,
          backlog,
          reusePort,
          shutdownGrace,
          tls,
          threadPerDatagram,
          tcpNoDelay);
    }
  }

  /** Checks a grace period: here, and the one given to {@link Server#shutdown(Duration)}. */
  static void notNegative(Duration duration, String name) {
    Objects.requireNonNull(duration, name);
    if (duration.isNegative()) {
      throw new IllegalArgumentException(name + " must not be negative: " + duration);
    }
  }

  /**
   * {@code duration} in nanoseconds, or {@link Long#MAX_VALUE} (some 292 years) for one longer than
   * a {@code long} holds, such as {@code ChronoUnit.FOREVER.getDuration()}: as good as none.
   */
  static long saturatedNanos(Duration duration) {
    try {
      return duration.toNanos();
    } catch (ArithmeticException tooLong) {
      return Long.MAX_VALUE;
    }
  }

  private static void positive(Duration duration, String name) {
    Objects.requireNonNull(duration, name);
    if (duration.isNegative() || duration.isZero()) {
      throw new IllegalArgumentException(name + " must be positive: " + duration);
    }
  }
}
