package io.jsock;

/**
 * How {@link Sockets#createServer(java.net.SocketAddress, ServerOptions)} listens: the keyword
 * arguments of Python's {@code create_server}.
 *
 * <pre>{@code
 * Socket server = Sockets.createServer(
 *     new InetSocketAddress("::", 0), ServerOptions.defaults().withDualStack(true));
 * }</pre>
 *
 * @param backlog how many connections the kernel queues before {@code accept} takes them
 * @param reusePort set {@code SO_REUSEPORT}, so that several sockets may listen on the port and the
 *     kernel spreads connections over them
 * @param dualStack accept IPv4 clients on an IPv6 socket too (needs an AF_INET6 address); without
 *     it an IPv6 server takes IPv6 clients only ({@link Sockets#IPV6_V6ONLY}), as in Python
 */
public record ServerOptions(int backlog, boolean reusePort, boolean dualStack) {
  /** Checks the backlog. */
  public ServerOptions {
    if (backlog < 0) {
      throw new IllegalArgumentException("backlog must not be negative: " + backlog);
    }
  }

  /** A backlog of 128, no {@code SO_REUSEPORT}, no dual stack: Python's defaults. */
  public static ServerOptions defaults() {
    return new ServerOptions(128, false, false);
  }

  /** These options with another backlog. */
  public ServerOptions withBacklog(int backlog) {
    return new ServerOptions(backlog, reusePort, dualStack);
  }

  /** These options with or without {@code SO_REUSEPORT}. */
  public ServerOptions withReusePort(boolean reusePort) {
    return new ServerOptions(backlog, reusePort, dualStack);
  }

  /** These options with or without dual stack. */
  public ServerOptions withDualStack(boolean dualStack) {
    return new ServerOptions(backlog, reusePort, dualStack);
  }
}
