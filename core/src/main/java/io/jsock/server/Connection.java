package io.jsock.server;

import io.jsock.Socket;
import io.jsock.SocketError;
import io.jsock.internal.Addresses;
import io.jsock.internal.Meter;
import io.jsock.internal.SocketAccess;
import java.io.IOException;
import java.lang.System.Logger;
import java.lang.System.Logger.Level;
import java.net.SocketAddress;
import java.net.SocketTimeoutException;
import java.net.StandardSocketOptions;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicReference;

/**
 * One accepted connection of a {@link TcpServer}: its socket, the virtual thread that runs the
 * handler on it, and the two ways the server may end it early (the first-byte deadline and a forced
 * shutdown).
 */
final class Connection implements Lifecycle.Worker {
  private static final Logger LOG = System.getLogger("io.jsock.server");

  private final Socket socket;
  private final String name;
  private final Meter meter;
  private final Counters counters;

  /** Why the server ended this connection on its own; null while the handler has it. */
  private final AtomicReference<String> endedBy = new AtomicReference<>();

  private Thread thread;
  private volatile Future<?> firstByteDeadline;

  Connection(Socket socket, SocketAddress peer, SocketAddress local, Counters counters) {
    this.socket = socket;
    this.name = "connection from " + Addresses.format(peer) + " to " + Addresses.format(local);
    this.meter = counters.meter();
    this.counters = counters;
    SocketAccess.get().attachMeter(socket, meter);
  }

  /** Creates the connection's virtual thread; {@link #thread()} is set before it starts. */
  Thread newThread(Runnable serve) {
    thread = Thread.ofVirtual().name("jsock " + name).unstarted(serve);
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
   * a timeout or an end the server caused at DEBUG, the peer's doing (a reset, a broken pipe) at
   * INFO, anything else, the handler's own failures, at WARNING with the stack trace.
   */
  void serve(ConnectionHandler handler, ServerConfig config) {
    try (socket) {
      socket.setTimeout(config.idleTimeout());
      SocketAccess.get().setSendTimeout(socket, config.writeTimeout());
      handler.handle(socket);
    } catch (Throwable e) {
      if (e instanceof VirtualMachineError fatal) {
        throw fatal;
      }
      report(e);
    } finally {
      endedBy.compareAndSet(null, "handler");
      Future<?> deadline = firstByteDeadline;
      if (deadline != null) {
        deadline.cancel(false);
      }
    }
  }

  /** The first-byte deadline has passed: a connection that has sent nothing yet is reset. */
  void firstByteDeadlinePassed() {
    if (!meter.hasReceived() && claim("the first-byte deadline passed")) {
      counters.timedOut.increment(); // counted before the peer can see the reset
      reset(socket);
    }
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
   * reset; they are closed.
   */
  static void reset(Socket socket) {
    try {
      socket.setSockOpt(StandardSocketOptions.SO_LINGER, 0);
    } catch (IOException | RuntimeException e) {
      // closed meanwhile, or an AF_UNIX socket: a plain close is all there is
    }
    try {
      socket.close();
    } catch (IOException e) {
      LOG.log(Level.DEBUG, () -> "close: " + e.getMessage());
    }
  }

  /** Takes the connection from its handler for {@code reason}; false if it has ended already. */
  private boolean claim(String reason) {
    return endedBy.compareAndSet(null, reason);
  }

  private void report(Throwable e) {
    String reason = endedBy.get();
    if (reason != null) {
      LOG.log(Level.DEBUG, () -> name + ": reset, " + reason + ": " + e);
    } else if (e instanceof SocketTimeoutException) {
      counters.timedOut.increment();
      LOG.log(Level.DEBUG, () -> name + ": " + e.getMessage());
    } else if (e instanceof SocketError) {
      LOG.log(Level.INFO, () -> name + ": " + e.getMessage());
    } else {
      LOG.log(Level.WARNING, name + ": handler failed: " + e, e);
    }
  }
}
