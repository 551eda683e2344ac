package io.jsock.server;

import io.jsock.Accepted;
import io.jsock.ServerOptions;
import io.jsock.Socket;
import io.jsock.SocketKind;
import io.jsock.Sockets;
import io.jsock.internal.Addresses;
import io.jsock.internal.UnixSocketFiles;
import java.io.IOException;
import java.lang.System.Logger.Level;
import java.net.Inet6Address;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.StandardSocketOptions;
import java.net.UnixDomainSocketAddress;
import java.nio.file.Files;
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

/**
 * A TCP (or AF_UNIX stream) server: Python's {@code socketserver.ThreadingTCPServer} done with one
 * virtual thread per connection, explicit limits and a graceful shutdown.
 *
 * <pre>{@code
 * try (TcpServer server = TcpServer.start(ServerConfig.defaults().withAddress("localhost", 12345),
 *     conn -> {
 *       byte[] buf = new byte[64 * 1024];
 *       int n;
 *       while ((n = conn.recvInto(buf, 0)) > 0) {
 *         conn.sendAll(ByteBuffer.wrap(buf, 0, n));
 *       }
 *     })) {
 *   System.out.println("listening on " + server.address());
 *   server.awaitTermination(Duration.ofDays(365));
 * }
 * }</pre>
 *
 * <p><b>Threads.</b> One virtual thread accepts; each connection gets a virtual thread of its own
 * that runs the {@link ConnectionHandler} with blocking calls. Neither keeps the JVM alive: a
 * program whose main thread has nothing else to do waits in {@link #awaitTermination}.
 *
 * <p><b>Limits</b> ({@link ServerConfig}). At most {@code maxConnections} handlers run at once. The
 * server takes a permit as it accepts each connection; when none is free, the newcomer is accepted
 * and reset at once (SO_LINGER 0, then close), so it learns at once instead of waiting in a queue
 * that nothing bounds, and is counted as refused. A new connection must send its first byte within
 * {@code firstByteTimeout}; each recv of its handler may wait at most {@code idleTimeout}, and each
 * send may take at most {@code writeTimeout}, so that a client that stops reading cannot hold a
 * handler for longer.
 *
 * <p><b>TLS</b> ({@link ServerConfig#withTls}). Each accepted connection runs its TLS handshake on
 * its own virtual thread before the handler sees it, never on the accept loop, so a slow or hostile
 * client delays nobody else. The handshake must finish within {@code firstByteTimeout} or the
 * context's handshake timeout, whichever is shorter; one that fails is logged at INFO naming the
 * peer, counted as {@link ServerStats#tlsFailed()}, and never reaches the handler.
 *
 * <p><b>Running out of file descriptors.</b> When {@code accept} fails with EMFILE or ENFILE (or
 * any other error), the accept loop waits 10 ms, doubling up to 1 s while the failures go on, logs
 * the condition at most once a second, and accepts again as soon as descriptors are free: the
 * connections waiting meanwhile stay in the kernel's backlog. An {@link Error} as a connection is
 * accepted or handed over to its thread (an {@link OutOfMemoryError}) is handled the same way, the
 * connection reset, and so is one as a connection is refused at the limit (its log line failing):
 * the loop never ends while the server runs.
 *
 * <p><b>Shutdown.</b> {@link #shutdown(Duration)} closes the listener at once (new connections are
 * refused by the kernel), lets the running handlers finish within the grace period, then resets the
 * connections still open and interrupts their handlers, and returns within the grace period plus
 * about a second. An AF_UNIX server removes its socket file, unless the path holds another by then
 * (deleted and bound again by a newer server).
 *
 * <p><b>Errors.</b> An exception from a handler is logged once through {@link System.Logger} {@code
 * io.jsock.server}, naming the peer's address, and ends that connection only: WARNING with its
 * stack trace for the handler's own failures, INFO for the peer's (a reset or a broken pipe), DEBUG
 * for timeouts and for connections the server ended itself. An {@link Error} from a handler (a
 * {@link StackOverflowError}) is its own failure as well, as Python's {@code handle_error} takes a
 * {@code RecursionError}: logged at WARNING, and the server serves on.
 */
public final class TcpServer extends Server {

  private final ConnectionHandler handler;
  private final Socket listener;
  private final ScheduledThreadPoolExecutor firstByteDeadlines;
  private final ThrottledLog refusals = new ThrottledLog(Level.INFO);
  private final Backoff backoff; // made before the loop starts: see Backoff's constructor

  /** Once: a connection's deadline is scheduled in nanoseconds, which a Duration may overflow. */
  private final long firstByteNanos;

  /**
   * The identity (device and inode) of the AF_UNIX socket file the listener made, so that the
   * shutdown removes that file and not one a newer server bound at the path after it was deleted;
   * null for an inet address, or where the file system gives no file keys.
   */
  private final Object socketFileKey;

  private TcpServer(ServerConfig config, ConnectionHandler handler, Socket listener)
      throws IOException {
    super(config, listener.getSockName());
    this.handler = handler;
    this.listener = listener;
    this.firstByteNanos = ServerConfig.saturatedNanos(config.firstByteTimeout());
    this.socketFileKey =
        address instanceof UnixDomainSocketAddress unix
            ? UnixSocketFiles.identity(unix.getPath())
            : null;
    this.backoff =
        new Backoff(lifecycle, "accept on " + Addresses.format(address), "accepting again");
    this.firstByteDeadlines =
        new ScheduledThreadPoolExecutor(
            1, Thread.ofVirtual().name("jsock deadlines " + Addresses.format(address)).factory());
    firstByteDeadlines.setRemoveOnCancelPolicy(true); // a finished connection leaves no task
  }

  /**
   * Starts a server: listens on {@code config.address()} at once and serves every connection with
   * {@code handler} until closed.
   *
   * @throws io.jsock.AddressInUseException if the address is taken
   * @throws io.jsock.AddressResolutionException if the address's host cannot be resolved
   */
  public static TcpServer start(ServerConfig config, ConnectionHandler handler) throws IOException {
    Objects.requireNonNull(config, "config");
    Objects.requireNonNull(handler, "handler");
    SocketAddress address = resolved(config.address());
    ServerOptions options =
        ServerOptions.defaults().withBacklog(config.backlog()).withReusePort(config.reusePort());
    if (address instanceof InetSocketAddress inet
        && inet.getAddress() instanceof Inet6Address
        && Sockets.hasDualStackIpv6()) {
      // "::" is every interface, IPv4 included, as a Python socketserver on AF_INET6 listens;
      // createServer, as Python's create_server, would make it IPv6-only
      options = options.withDualStack(true);
    }
    Socket listener = Sockets.createServer(address, options);
    TcpServer server;
    try {
      listener.setTimeout(null); // accept waits, whatever Sockets.setDefaultTimeout says
      if (config.tcpNoDelay()) {
        listener.setSockOpt(StandardSocketOptions.TCP_NODELAY, true); // accepted sockets inherit it
      }
      server = new TcpServer(config, handler, listener);
    } catch (IOException | RuntimeException e) {
      listener.close();
      throw e;
    }
    ServerLog.log(Level.DEBUG, () -> "listening on " + Addresses.format(server.address));
    server.lifecycle.start(
        "jsock accept " + Addresses.format(server.address), server::acceptLoop, false);
    return server;
  }

  /**
   * The address to listen on, a name resolved as {@link Sockets#createServer(SocketAddress)}
   * resolves it (once, so that the family chosen for it is the one bound); the host {@code ""} is
   * left to {@code createServer}, which takes it as {@code 0.0.0.0}.
   */
  private static SocketAddress resolved(SocketAddress address) throws IOException {
    if (address instanceof InetSocketAddress inet
        && inet.isUnresolved()
        && !inet.getHostString().isEmpty()) {
      return Sockets.getAddrInfo(inet.getHostString(), inet.getPort(), null, SocketKind.SOCK_STREAM)
          .getFirst()
          .address();
    }
    return address;
  }

  /** {@inheritDoc} See the class description for what happens to running handlers. */
  @Override
  public void shutdown(Duration grace) {
    ServerConfig.notNegative(grace, "grace");
    lifecycle.shutdown(grace, this::closeListener, firstByteDeadlines::shutdownNow);
  }

  // The accept loop stays small: accept, take a permit or refuse, hand over to a virtual thread.
  private void acceptLoop() {
    try {
      while (!lifecycle.isStopping()) {
        Accepted accepted;
        try {
          accepted = listener.accept();
        } catch (IOException | RuntimeException e) {
          if (lifecycle.isStopping() || backoff.waitAfter(e)) {
            return;
          }
          continue;
        } catch (Error e) {
          if (lifecycle.isStopping() || backoff.waitAfterError(e)) {
            return;
          }
          continue;
        }
        backoff.succeeded();
        Throwable failure = permits.tryAcquire() ? serve(accepted) : refuse(accepted.conn());
        if (failure != null && backoff.waitAfterError(failure)) {
          return;
        }
      }
    } finally {
      backoff.flush(); // what the once-a-second lines left untold
      refusals.flush();
    }
  }

  /**
   * Hands a connection, its permit taken, over to a virtual thread of its own; returns null, or
   * what failed (an {@link OutOfMemoryError} making or starting the thread): the connection is then
   * reset, its permit given back and nothing counted (unless its first-byte deadline had passed and
   * counted it, accepted and timed out), and the accept loop goes on after a backoff, as after a
   * failed accept, rather than end while the server still says it runs (as Netty's acceptor logs
   * and closes the child, and goes on).
   */
  private Throwable serve(Accepted accepted) {
    Connection connection = null;
    boolean counted = false;
    try {
      connection = new Connection(accepted.conn(), accepted.address(), address, counters);
      Connection started = connection;
      Thread thread = connection.newThread(() -> run(started));
      counters.accepted.increment();
      counters.open.increment();
      counted = true;
      lifecycle.add(connection);
      connection.setFirstByteDeadline(
          firstByteDeadlines.schedule(
              connection::firstByteDeadlinePassed, firstByteNanos, TimeUnit.NANOSECONDS));
      thread.start();
      return null;
    } catch (RuntimeException | Error e) {
      boolean timedOut = false;
      if (connection != null) {
        timedOut = connection.abandon(); // its thread never ran: nothing else will end it
        lifecycle.remove(connection);
      } else {
        Connection.reset(accepted.conn());
      }
      if (counted) {
        if (!timedOut) {
          // one the deadline reset (before the failure) stays accepted: it counted as timed out
          counters.accepted.decrement();
        }
        counters.open.decrement();
      }
      permits.release();
      return e;
    }
  }

  private void run(Connection connection) {
    try {
      connection.serve(handler, config, this::handlerEnded);
    } finally {
      lifecycle.remove(connection);
    }
  }

  /**
   * A handler has ended: its place is free, before its socket closes, so a client that sees the
   * close and connects again is not refused for a handler that has already ended.
   */
  private void handlerEnded() {
    counters.open.decrement();
    permits.release();
  }

  /**
   * Resets a connection that found no permit free; returns null, or what failed (an {@link
   * OutOfMemoryError} building or writing the log line, or the logger's own failure): the accept
   * loop then goes on after a backoff, as after a failed hand-over, rather than end while the
   * server still says it runs.
   */
  private Throwable refuse(Socket conn) {
    try {
      counters.refused.increment();
      Connection.reset(conn);
      refusals.log(
          "accept on "
              + Addresses.format(address)
              + ": "
              + config.maxConnections()
              + (config.maxConnections() == 1 ? " connection" : " connections")
              + " open (maxConnections), refusing more");
      return null;
    } catch (RuntimeException | Error e) {
      Connection.reset(conn); // closed already unless the reset itself failed: a second is harmless
      return e;
    }
  }

  private void closeListener() {
    try {
      listener.close();
      if (address instanceof UnixDomainSocketAddress unix
          && Objects.equals(UnixSocketFiles.identity(unix.getPath()), socketFileKey)) {
        Files.deleteIfExists(unix.getPath());
      }
    } catch (IOException e) {
      ServerLog.log(
          Level.WARNING, () -> "close " + Addresses.format(address) + ": " + e.getMessage(), e);
    }
  }
}
