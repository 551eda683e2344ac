package io.jsock.server;

import java.net.SocketAddress;
import java.time.Duration;

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
public sealed interface Server extends AutoCloseable permits TcpServer, UdpServer {
  /** The address the server listens on, with the port it got when asked for port 0. */
  SocketAddress address();

  /** The server's counters now; see {@link ServerStats}. */
  ServerStats stats();

  /** Whether {@link #shutdown(Duration)} or {@link #close()} has been called. */
  boolean isShutdown();

  /**
   * Stops the server: stops taking connections (or datagrams) at once, lets running handlers finish
   * within {@code grace}, then resets or interrupts the rest, and returns within {@code grace} plus
   * about a second. Calling it again does no harm. Called from a handler, it neither waits for nor
   * stops that handler.
   */
  void shutdown(Duration grace);

  /** {@link #shutdown(Duration)} with {@link ServerConfig#shutdownGrace()}. */
  @Override
  void close();

  /**
   * Waits until the server has been shut down and every handler has ended, or the timeout passes.
   *
   * @return whether the server has terminated
   */
  boolean awaitTermination(Duration timeout) throws InterruptedException;
}
