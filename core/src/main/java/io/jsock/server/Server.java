package io.jsock.server;

import io.jsock.internal.Addresses;
import java.net.SocketAddress;
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.Semaphore;

/**
 * A running server, TCP or UDP: where it listens, its counters, and its shutdown. Made by {@link
 * TcpServer#start} or {@link UdpServer#start}.
 *
 * <pre>{@code
 * Server server = udp
 *     ? UdpServer.start(config, (datagram, socket) -> socket.sendTo(datagram.data(), datagram.address()))
 *     : TcpServer.start(config, conn -> conn.sendAll(conn.recv(1024)));
 * Runtime.getRuntime().addShutdownHook(new Thread(server::close));
 * }</pre>
 */
public abstract sealed class Server implements AutoCloseable permits TcpServer, UdpServer {
  final ServerConfig config;
  final SocketAddress address;
  final Semaphore permits;
  final Counters counters = new Counters();
  final Lifecycle lifecycle = new Lifecycle();

  Server(ServerConfig config, SocketAddress address) {
    this.config = config;
    this.address = address;
    this.permits = new Semaphore(config.maxConnections());
  }

  /** The address the server listens on, with the port it got when asked for port 0. */
  public SocketAddress address() {
    return address;
  }

  /** The server's counters now; see {@link ServerStats}. */
  public ServerStats stats() {
    return counters.stats();
  }

  /** Whether {@link #shutdown(Duration)} or {@link #close()} has been called. */
  public boolean isShutdown() {
    return lifecycle.isStopping();
  }

  /**
   * Stops the server: stops taking connections (or datagrams) at once, lets running handlers finish
   * within {@code grace}, then resets or interrupts the rest, and returns within {@code grace} plus
   * about a second. Calling it again does no harm. Called from a handler, it neither waits for nor
   * stops that handler, and a UDP server's socket stays open for that handler's replies until it
   * ends. An interrupt of the calling thread ends the grace period at once: the handlers still
   * running are forced as when it is over, and the interrupt status stays set.
   *
   * @throws IllegalArgumentException if {@code grace} is negative
   */
  public abstract void shutdown(Duration grace);

  /** {@link #shutdown(Duration)} with {@link ServerConfig#shutdownGrace()}. */
  @Override
  public void close() {
    shutdown(config.shutdownGrace());
  }

  /**
   * Waits until the server has been shut down, every handler has ended and its socket is closed
   * (its address free to listen on again), or the timeout passes.
   *
   * @return whether the server has terminated
   */
  public boolean awaitTermination(Duration timeout) throws InterruptedException {
    Objects.requireNonNull(timeout, "timeout");
    return lifecycle.awaitTermination(timeout);
  }

  @Override
  public String toString() {
    return getClass().getSimpleName() + "[" + Addresses.format(address) + ", " + stats() + "]";
  }
}
