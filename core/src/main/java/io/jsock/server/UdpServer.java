package io.jsock.server;

import io.jsock.AddrInfo;
import io.jsock.ClosedSocketException;
import io.jsock.Datagram;
import io.jsock.Family;
import io.jsock.Socket;
import io.jsock.SocketError;
import io.jsock.SocketKind;
import io.jsock.Sockets;
import io.jsock.WouldBlockException;
import io.jsock.internal.Addresses;
import io.jsock.internal.SocketAccess;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.lang.System.Logger.Level;
import java.net.Inet6Address;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.net.StandardSocketOptions;
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * A UDP server: Python's {@code socketserver.ThreadingUDPServer} with a virtual thread per
 * datagram, a limit on how many are handled at once, the same statistics and graceful shutdown as
 * {@link TcpServer}.
 *
 * <pre>{@code
 * try (UdpServer server = UdpServer.start(ServerConfig.defaults().withAddress("localhost", 12345),
 *     (datagram, socket) -> socket.sendTo(datagram.data(), datagram.address()))) {
 *   server.awaitTermination(Duration.ofDays(365));
 * }
 * }</pre>
 *
 * <p>One virtual thread receives; each datagram (up to 64 KiB) goes to the {@link DatagramHandler}
 * on a virtual thread of its own, with the server's socket to reply through. At most {@link
 * ServerConfig#maxConnections()} datagrams are handled at once; one that arrives while that many
 * are, is dropped at once (UDP may drop anyway; a queue would only grow) and counted as refused. Of
 * the config, the address, {@code maxConnections}, {@code reusePort}, {@code shutdownGrace} and
 * {@code threadPerDatagram} apply; the timeouts, the backlog and {@code tcpNoDelay} are for TCP.
 * The socket is in blocking mode: a UDP send does not wait for the peer. AF_UNIX datagram sockets
 * are outside the JDK.
 *
 * <p>With {@link ServerConfig#withThreadPerDatagram withThreadPerDatagram(false)} the receiving
 * thread runs the handler itself, one datagram after another, as Python's {@code
 * socketserver.UDPServer} does: the fastest way for a handler that only replies (no thread is
 * started per datagram), and one that blocks holds up the receiving for as long. That thread, the
 * server's only one, is a platform thread, which waits for datagrams in the kernel.
 *
 * <p>{@link #shutdown(Duration)} stops receiving at once, lets running handlers reply within the
 * grace period, then interrupts the rest and closes the socket (their sends fail), and returns
 * within the grace period plus about a second. A handler that closes the socket it was given shuts
 * the server down in the same way (logged once at WARNING), since a closed socket cannot receive
 * again.
 */
public final class UdpServer extends Server {

  /** Makes each datagram's virtual thread: one factory, not a builder per datagram. */
  private static final ThreadFactory DATAGRAM_THREADS =
      Thread.ofVirtual().name("jsock datagram").factory();

  /** Larger than any UDP datagram (65,507 bytes over IPv4, 65,527 over IPv6). */
  private static final int MAX_DATAGRAM = 64 * 1024;

  private final DatagramHandler handler;
  private final Socket socket;
  private final ThrottledLog refusals = new ThrottledLog(Level.INFO);
  private final Backoff backoff; // made before the loop starts: see Backoff's constructor

  /**
   * Set while the receive loop is in (or about to enter) {@code recvFrom}, where an interrupt stops
   * it; cleared by whichever comes first, the datagram or the shutdown. So the shutdown interrupts
   * the receiving only, never a handler that the receiving thread runs itself.
   */
  private final AtomicBoolean receiving = new AtomicBoolean();

  private UdpServer(ServerConfig config, DatagramHandler handler, Socket socket)
      throws IOException {
    super(config, socket.getSockName());
    this.handler = handler;
    this.socket = socket;
    this.backoff =
        new Backoff(lifecycle, "recv from " + Addresses.format(address), "receiving again");
  }

  /**
   * Starts a server: binds {@code config.address()} at once and hands every datagram to {@code
   * handler} until closed.
   *
   * @throws IllegalArgumentException if the address is not an inet address, or the config asks for
   *     TLS
   * @throws io.jsock.AddressInUseException if the address is taken
   * @throws io.jsock.AddressResolutionException if the address's host cannot be resolved
   */
  public static UdpServer start(ServerConfig config, DatagramHandler handler) throws IOException {
    Objects.requireNonNull(config, "config");
    Objects.requireNonNull(handler, "handler");
    if (config.tls().isPresent()) {
      throw new IllegalArgumentException("tls: a UDP server cannot speak TLS (that is DTLS)");
    }
    if (!(config.address() instanceof InetSocketAddress inet)) {
      throw new IllegalArgumentException(
          "address: a UDP server needs an inet address (the JDK has no AF_UNIX datagram sockets): "
              + config.address());
    }
    InetSocketAddress local = inet;
    if (inet.isUnresolved()) {
      AddrInfo info =
          Sockets.getAddrInfo(inet.getHostString(), inet.getPort(), null, SocketKind.SOCK_DGRAM)
              .getFirst();
      local = (InetSocketAddress) info.address();
    }
    Family family = local.getAddress() instanceof Inet6Address ? Family.AF_INET6 : Family.AF_INET;
    Socket socket = Socket.create(family, SocketKind.SOCK_DGRAM);
    UdpServer server;
    try {
      socket.setTimeout(null); // receive waits, whatever Sockets.setDefaultTimeout says
      if (config.reusePort()) {
        socket.setSockOpt(StandardSocketOptions.SO_REUSEPORT, true);
      }
      socket.bind(local);
      server = new UdpServer(config, handler, socket);
      SocketAccess.get().attachMeter(socket, server.counters.meter());
    } catch (IOException | RuntimeException e) {
      socket.close();
      throw e;
    }
    ServerLog.log(Level.DEBUG, () -> "receiving on " + Addresses.format(server.address));
    server.lifecycle.start(
        "jsock receive " + Addresses.format(server.address),
        server::receiveLoop,
        !config.threadPerDatagram());
    return server;
  }

  /** {@inheritDoc} See the class description for what happens to running handlers. */
  @Override
  public void shutdown(Duration grace) {
    ServerConfig.notNegative(grace, "grace");
    lifecycle.shutdown(grace, this::stopReceiving, this::closeSocket);
  }

  private void stopReceiving() {
    if (receiving.compareAndSet(true, false)) {
      lifecycle.interruptIntake();
    }
  }

  // As TcpServer's accept loop: receive, take a permit or drop, hand over to a virtual thread (or
  // handle here, without a thread per datagram).
  private void receiveLoop() {
    try {
      receive();
    } finally {
      backoff.flush(); // what the once-a-second lines left untold
      refusals.flush();
    }
  }

  private void receive() {
    while (true) {
      receiving.set(true); // before the check: a shutdown from now on interrupts the receiving
      if (lifecycle.isStopping()) {
        return;
      }
      Datagram datagram;
      try {
        datagram = socket.recvFrom(MAX_DATAGRAM);
      } catch (IOException | RuntimeException e) {
        if (e instanceof SocketTimeoutException && !lifecycle.isStopping()) {
          continue; // a handler put the shared socket in timeout mode: a quiet spell, no more
        }
        if (e instanceof WouldBlockException && !lifecycle.isStopping() && waitsAgain()) {
          continue; // a handler made the shared socket non-blocking: it blocks again
        }
        if (lifecycle.isStopping() || e instanceof InterruptedIOException) {
          return;
        }
        if (e instanceof ClosedSocketException) {
          closedByAHandler();
          return;
        }
        if (backoff.waitAfter(e)) {
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
      if (!receiving.compareAndSet(true, false) || lifecycle.isStopping()) {
        return; // received as the shutdown began: dropped, as later ones are
      }
      if (!config.threadPerDatagram()) {
        handleHere(datagram);
      } else if (permits.tryAcquire()) {
        Throwable failure = handle(datagram);
        if (failure != null && backoff.waitAfterError(failure)) {
          return;
        }
      } else {
        Throwable failure = drop();
        if (failure != null && backoff.waitAfterError(failure)) {
          return;
        }
      }
    }
  }

  /**
   * Counts and logs a datagram dropped at the limit; returns null, or what failed (an {@link
   * OutOfMemoryError} building or writing the log line, or the logger's own failure): the receiving
   * then goes on after a backoff, as after a failed hand-over, rather than end while the server
   * still says it runs.
   */
  private Throwable drop() {
    try {
      counters.refused.increment();
      refusals.log(
          "recv from "
              + Addresses.format(address)
              + ": "
              + config.maxConnections()
              + (config.maxConnections() == 1 ? " datagram" : " datagrams")
              + " being handled (maxConnections), dropping more");
      return null;
    } catch (RuntimeException | Error e) {
      return e;
    }
  }

  /**
   * Puts the socket back in blocking mode, which a handler took it out of (as {@code
   * setBlocking(false)} on the socket it replies through), so that the receiving waits for the next
   * datagram rather than retrying as after a failure; false if that fails (the socket closed).
   * Python's {@code UDPServer} selects before each receive, so any mode serves it as well.
   */
  private boolean waitsAgain() {
    try {
      socket.setTimeout(null);
      return true;
    } catch (IOException | RuntimeException closed) {
      return false;
    }
  }

  /**
   * The socket was closed under the receiving, and not by the server, which closes it only once it
   * stops: a handler closed the socket it was given to reply through. A closed socket never opens
   * again, so rather than retry it for ever, the server shuts down, letting running handlers
   * finish. Called on the receiving thread, which the shutdown then neither interrupts nor waits
   * for.
   */
  private void closedByAHandler() {
    ServerLog.log(
        Level.WARNING,
        "recv from "
            + Addresses.format(address)
            + ": the server's socket was closed, not by the server; shutting down");
    receiving.set(false);
    shutdown(config.shutdownGrace());
  }

  /**
   * Hands a datagram, its permit taken, over to a virtual thread of its own; returns null, or what
   * failed (an {@link OutOfMemoryError} making or starting the thread): the datagram is then
   * dropped, its permit given back and nothing counted, and the receiving goes on after a backoff,
   * rather than end while the server still says it runs.
   */
  private Throwable handle(Datagram datagram) {
    Handling handling = null;
    try {
      handling = new Handling(datagram);
      counters.accepted.increment();
      counters.open.increment();
      lifecycle.add(handling);
      handling.thread.start();
      return null;
    } catch (RuntimeException | Error e) {
      if (handling != null) {
        lifecycle.remove(handling);
        counters.accepted.decrement();
        counters.open.decrement();
      }
      permits.release();
      return e;
    }
  }

  /**
   * Handles a datagram on the receiving thread, which the lifecycle counts as the one worker (and
   * interrupts when the grace period is over): nothing is allocated per datagram beyond it. Every
   * failure of the handler is reported and the receiving goes on, a {@link VirtualMachineError} (a
   * handler's stack overflow, an array too large) included, as Python's {@code UDPServer} goes on
   * after a {@code RecursionError} or {@code MemoryError}: this thread is the server's only one,
   * and ending it would leave the port bound and nothing receiving.
   */
  private void handleHere(Datagram datagram) {
    counters.accepted.increment();
    counters.open.increment();
    try {
      Throwable failure = runHandler(datagram);
      if (failure != null) {
        report(datagram, failure, lifecycle.isForcing()); // forced only by a shutdown
      }
    } finally {
      counters.open.decrement();
      Thread.interrupted(); // the handler's own, not a shutdown's (that one ends the loop anyway)
    }
  }

  /** Runs the handler; returns what it threw, or null. */
  private Throwable runHandler(Datagram datagram) {
    try {
      handler.handle(datagram, socket);
      return null;
    } catch (Throwable e) {
      return e;
    }
  }

  /** Logs a handler's failure once, naming the sender; at DEBUG when the shutdown forced it. */
  private void report(Datagram datagram, Throwable e, boolean forced) {
    String name =
        "datagram from "
            + Addresses.format(datagram.address())
            + " to "
            + Addresses.format(address);
    Throwable failure = Connection.unwrapped(e);
    if (forced) {
      ServerLog.log(Level.DEBUG, () -> name + ": stopped, the server shut down: " + e);
    } else if (failure instanceof SocketError) {
      ServerLog.log(Level.INFO, () -> name + ": " + failure.getMessage());
    } else {
      ServerLog.log(Level.WARNING, () -> name + ": handler failed: " + e, e);
    }
  }

  private void closeSocket() {
    try {
      socket.close();
    } catch (IOException e) {
      ServerLog.log(
          Level.WARNING, () -> "close " + Addresses.format(address) + ": " + e.getMessage(), e);
    }
  }

  /** One datagram being handled, on its own virtual thread. */
  private final class Handling implements Lifecycle.Worker {
    private final Datagram datagram;
    private final Thread thread;
    private volatile boolean forced;

    Handling(Datagram datagram) {
      this.datagram = datagram;
      this.thread = DATAGRAM_THREADS.newThread(this::run);
    }

    @Override
    public Thread thread() {
      return thread;
    }

    @Override
    public void force() {
      forced = true;
      thread.interrupt();
    }

    private void run() {
      try {
        Throwable failure = runHandler(datagram);
        if (failure != null) { // a VirtualMachineError too, as without a thread per datagram
          report(datagram, failure, forced);
        }
      } finally {
        counters.open.decrement();
        permits.release();
        lifecycle.remove(this); // last: it may run the release a shutdown left to this handler
      }
    }
  }
}
