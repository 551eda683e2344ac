/**
 * jsock: Python's {@code socket} model for Java. Start with {@link io.jsock.Socket}; servers are in
 * {@link io.jsock.server}.
 *
 * <p>The module has no dependencies beyond {@code java.base}; {@code io.jsock.internal} is not
 * exported.
 */
module io.jsock {
  requires transitive jdk.net; // ExtendedSocketOptions (TCP_KEEPIDLE, SO_PEERCRED, …) for

  // setSockOpt

  exports io.jsock;
  exports io.jsock.server;
}
