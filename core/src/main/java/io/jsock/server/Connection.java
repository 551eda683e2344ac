package io.jsock.server;

import io.jsock.ClosedSocketException;
import io.jsock.ConnectionTimedOutException;
import io.jsock.Errno;
import io.jsock.Socket;
import io.jsock.SocketError;
import io.jsock.WouldBlockException;
import io.jsock.framing.FrameException;
import io.jsock.internal.Addresses;
import io.jsock.internal.Meter;
import io.jsock.internal.SocketAccess;
import io.jsock.internal.TlsEngine;
import io.jsock.tls.TlsContext;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.System.Logger.Level;
import java.net.SocketAddress;
import java.net.SocketTimeoutException;
import java.net.StandardSocketOptions;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicReference;

/**
 * One accepted connection of a {@link TcpServer}: its socket, the virtual thread that runs the
 * handler on it, and the two ways the server may end it early (the first-byte deadline and a forced
 * shutdown).
 */
final class Connection implements Lifecycle.Worker {
  private static final String THREAD_PREFIX = "jsock ";

  /** {@link #endedBy} once the handler has ended on its own. */
  private static final String HANDLER = "handler";

  /** {@link #endedBy} once the first-byte deadline has reset the connection. */
  private static final String FIRST_BYTE_DEADLINE_PASSED = "the first-byte deadline passed";

  /** The accepted socket, then (for TLS) the socket that wraps it once the handshake is done. */
  private volatile Socket socket;

  /** The thread's name, "jsock connection from PEER to LOCAL"; logs say it without "jsock ". */
  private final String name;

  private final Meter meter;
  private final Counters counters;

  /**
   * Why the server ended this connection on its own; null while the handler has it, {@link
   * #HANDLER} once the handler has ended (before its socket closes), so that neither the first-byte
   * deadline nor a shutdown takes a connection that has ended already.
   */
  private final AtomicReference<String> endedBy = new AtomicReference<>();

  private Thread thread;
  private volatile Future<?> firstByteDeadline;

  Connection(Socket socket, SocketAddress peer, SocketAddress local, Counters counters) {
    this.socket = socket;
    this.name =
        THREAD_PREFIX
            + "connection from "
            + Addresses.format(peer)
            + " to "
            + Addresses.format(local);
    this.meter = counters.meter();
    this.counters = counters;
    SocketAccess.get().attachMeter(socket, meter);
  }

  /** Creates the connection's virtual thread; {@link #thread()} is set before it starts. */
  Thread newThread(Runnable serve) {
    thread = Thread.ofVirtual().name(name).unstarted(serve); // one string per connection, not two
    return thread;
  }

  @Override
  public Thread thread() {
    return thread;
  }

  void setFirstByteDeadline(Future<?> deadline) {
    firstByteDeadline = deadline;
  }

  /**
   * Runs the handler on this connection's thread, then closes the socket. A failure is logged once:
   * a timeout or an end the server caused at DEBUG, the peer's doing (a reset, a broken pipe, a
   * peer the kernel gave up on: {@link ConnectionTimedOutException}) at INFO, anything else, the
   * handler's own failures ({@link Error}s included, a {@link StackOverflowError} or an {@link
   * OutOfMemoryError}), at WARNING with the stack trace.
   *
   * @param handlerEnded runs once, as soon as the handler has ended (or the connection ended before
   *     reaching it), and before the server closes the socket: so when the peer sees the close, the
   *     connection no longer counts as open or against {@code maxConnections}
   */
  void serve(ConnectionHandler handler, ServerConfig config, Runnable handlerEnded) {
    HandlerEnd end = new HandlerEnd(endedBy, handlerEnded);
    try {
      Optional<Socket> served =
          config.tls().isPresent()
              ? secure(config.tls().get(), config.firstByteTimeout())
              : Optional.of(socket);
      if (served.isPresent()) {
        // Resources close in reverse order: the handler's end is told before the socket closes.
        Socket conn = served.get();
        try (Owner owner = new Owner(conn, meter);
            end) {
          conn.setTimeout(config.idleTimeout());
          SocketAccess.get().setSendTimeout(conn, config.writeTimeout());
          handler.handle(conn);
        }
      }
    } catch (Throwable e) {
      // a VirtualMachineError too (a handler's stack overflow), as Python's handle_error takes a
      // RecursionError or MemoryError: thrown on, it reached only the thread's uncaught-exception
      // handler (System.err), out of the server's log; it ends this connection only either way
      report(e);
    } finally {
      end.close();
      Future<?> deadline = firstByteDeadline;
      if (deadline != null) {
        deadline.cancel(false);
      }
    }
  }

  /**
   * Closes the socket that holds the connection when the handler ends: the handler's own, or the
   * TLS socket the handler made of it (a STARTTLS handler's {@code wrap} detaches its connection),
   * which the server closes as it would the handler's, as Python's socketserver drops it. A
   * connection whose last send timed out (its client stopped reading) is reset instead: a close
   * would queue its end behind the unsent reply, which the kernel would go on sending, and over TLS
   * a close_notify would wait behind it too.
   */
  private record Owner(Socket conn, Meter meter) implements AutoCloseable {
    @Override
    public void close() throws IOException {
      if (meter.hasSendTimedOut()) {
        reset(conn);
      } else {
        SocketAccess.get().owner(conn).close(); // a TLS socket is never wrapped again
      }
    }
  }

  /**
   * On the first close only, claims the connection for its handler's end (unless the server has
   * ended it already) and runs its action; used on the connection's own thread. The claim comes
   * first: a first-byte deadline that passes as the socket closes would otherwise count a
   * connection whose handler had ended as timed out, and reset it.
   */
  private static final class HandlerEnd implements AutoCloseable {
    private final AtomicReference<String> endedBy;
    private Runnable action;

    HandlerEnd(AtomicReference<String> endedBy, Runnable action) {
      this.endedBy = endedBy;
      this.action = action;
    }

    @Override
    public void close() {
      Runnable once = action;
      action = null;
      if (once != null) {
        endedBy.compareAndSet(null, HANDLER);
        once.run();
      }
    }
  }

  /**
   * Runs the TLS handshake on this connection's own thread, within {@code firstByteTimeout} or the
   * context's handshake timeout, whichever is shorter (the wrap takes the shorter of its own bound
   * and the socket's timeout). A failure is counted and logged here, once, and the connection ends
   * without reaching the handler; the wrap has closed it. An {@link Error} in the handshake (a
   * stack overflow) is logged at WARNING with its trace, not as the handler's failure.
   */
  private Optional<Socket> secure(TlsContext context, Duration firstByteTimeout) {
    Socket plain = socket;
    try {
      Duration handshakeTimeout = context.handshakeTimeout();
      plain.setTimeout(
          firstByteTimeout.compareTo(handshakeTimeout) < 0 ? firstByteTimeout : handshakeTimeout);
      Socket wrapped = context.wrap(plain);
      socket = wrapped; // from now on a reset (shutdown, first-byte deadline) ends the TLS socket
      return Optional.of(wrapped);
    } catch (IOException | RuntimeException e) {
      reset(plain); // closed by a failed wrap already, unless it failed before the handshake
      if (claim("the TLS handshake failed")) {
        counters.tlsFailed.increment();
        ServerLog.log(Level.INFO, () -> label() + ": TLS handshake failed: " + e.getMessage());
      } else {
        ServerLog.log(
            Level.DEBUG, () -> label() + ": TLS handshake ended, " + endedBy.get() + ": " + e);
      }
      return Optional.empty();
    } catch (Error e) {
      reset(plain); // as after an exception: nothing else would ever close it
      if (claim("the TLS handshake failed")) {
        counters.tlsFailed.increment(); // the handshake's, not the handler's: it never ran
      }
      ServerLog.log(Level.WARNING, () -> label() + ": TLS handshake failed: " + e, e);
      return Optional.empty();
    }
  }

  private String label() {
    return name.substring(THREAD_PREFIX.length());
  }

  /** The first-byte deadline has passed: a connection that has sent nothing yet is reset. */
  void firstByteDeadlinePassed() {
    if (!meter.hasReceived()
        && !SocketAccess.get().hasUnreadData(socket)
        && claim(FIRST_BYTE_DEADLINE_PASSED)) {
      counters.timedOut.increment(); // counted before the peer can see the reset
      reset(socket);
    }
  }

  /**
   * The server could not start this connection's thread: its first-byte deadline is cancelled and
   * the connection reset, unless something else has ended it already; returns whether that was its
   * first-byte deadline, which counted it as timed out (a shutdown's {@link #force} counts
   * nothing).
   */
  boolean abandon() {
    Future<?> deadline = firstByteDeadline;
    if (deadline != null) {
      deadline.cancel(false);
    }
    if (claim("the server could not start its thread")) {
      reset(socket);
      return false;
    }
    return endedBy.get() == FIRST_BYTE_DEADLINE_PASSED;
  }

  /** The shutdown's grace period is over: reset the connection and interrupt the handler. */
  @Override
  public void force() {
    if (claim("the server shut down")) {
      reset(socket);
      thread.interrupt();
    }
  }

  /**
   * Resets a connection the server ends on its own: SO_LINGER 0 makes close send RST at once, so
   * the peer learns at once and the server keeps no TIME_WAIT state for it. AF_UNIX sockets have no
   * reset; they are closed. A TLS connection sends no close_notify first: its peer must not take
   * the reset for an orderly end, and a shutdown that resets many connections must not wait up to
   * 200 ms for each whose client has stopped reading. A connection in its TLS handshake is reset
   * through the TLS socket that has taken over its channel (the accepted one is detached then).
   */
  static void reset(Socket accepted) {
    Socket socket = SocketAccess.get().owner(accepted);
    resetOwner(socket);
    Socket owner = SocketAccess.get().owner(accepted);
    if (owner != socket) {
      resetOwner(owner); // the wrap took the channel over as the accepted socket was reset
    }
  }

  private static void resetOwner(Socket socket) {
    SocketAccess.get().tls(socket).ifPresent(TlsEngine::abort);
    try {
      socket.setSockOpt(StandardSocketOptions.SO_LINGER, 0);
    } catch (IOException | RuntimeException e) {
      // closed meanwhile, or an AF_UNIX socket: a plain close is all there is
    }
    try {
      socket.close();
    } catch (IOException e) {
      ServerLog.log(Level.DEBUG, () -> "close: " + e.getMessage());
    }
  }

  /** Takes the connection from its handler for {@code reason}; false if it has ended already. */
  private boolean claim(String reason) {
    return endedBy.compareAndSet(null, reason);
  }

  /**
   * Whether a socket error is the handler's own doing and never the peer's: using its socket after
   * closing it, or a receive that would block after the handler made the socket non-blocking (a
   * close or reset by the server itself has claimed the connection before these are reported).
   */
  private static boolean handlersOwn(Throwable e) {
    return e instanceof ClosedSocketException || e instanceof WouldBlockException;
  }

  private void report(Throwable thrown) {
    Throwable e = unwrapped(thrown);
    String reason = endedBy.get();
    if (reason != null && !reason.equals(HANDLER)) {
      ServerLog.log(Level.DEBUG, () -> label() + ": reset, " + reason + ": " + e);
    } else if (e instanceof SocketTimeoutException && !(e instanceof ConnectionTimedOutException)) {
      counters.timedOut.increment();
      ServerLog.log(Level.DEBUG, () -> label() + ": " + e.getMessage());
    } else if (e instanceof FrameException frame && frame.errno() == Errno.EMSGSIZE) {
      counters.oversized.increment(); // a message over its framing's maximum: the peer's doing
      ServerLog.log(Level.INFO, () -> label() + ": " + e.getMessage());
    } else if (e instanceof SocketError && !handlersOwn(e)) {
      ServerLog.log(Level.INFO, () -> label() + ": " + e.getMessage());
    } else {
      ServerLog.log(Level.WARNING, () -> label() + ": handler failed: " + thrown, thrown);
    }
  }

  /**
   * The {@link IOException} an {@link UncheckedIOException} carries, which the JDK's streams of
   * lines ({@code BufferedReader.lines()}) and a handler's own lambdas wrap a recv's failure in:
   * told as the failure itself (the peer's reset at INFO, a timeout counted), not as a handler bug;
   * by {@link UdpServer} too.
   */
  static Throwable unwrapped(Throwable e) {
    return e instanceof UncheckedIOException unchecked ? unchecked.getCause() : e;
  }
}
