/**
 * jsock: Python's {@code socket} model for Java. Start with {@link io.jsock.Socket}; servers are in
 * {@link io.jsock.server}.
 *
 * <p>The module needs nothing beyond the JDK: {@code java.base}, and {@code jdk.net} for the
 * extended socket options ({@code TCP_KEEPIDLE}, {@code SO_PEERCRED}, …) that {@code setSockOpt}
 * takes. {@code io.jsock.internal} is not exported.
 */
module io.jsock {
  requires transitive jdk.net;

  exports io.jsock;
  exports io.jsock.framing;
  exports io.jsock.server;
  exports io.jsock.tls;

  // to see whether the JDK's resolver is replaced (reverse lookups then stay with it)
  uses java.net.spi.InetAddressResolverProvider;
}
