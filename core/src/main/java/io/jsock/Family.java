package io.jsock;

import java.net.ProtocolFamily;
import java.net.StandardProtocolFamily;

/**
 * Address families, spelt as in Python's {@code socket} module.
 *
 * <pre>{@code
 * import static io.jsock.Family.*;
 * import static io.jsock.SocketKind.*;
 *
 * Socket s = Socket.create(AF_INET6, SOCK_STREAM);
 * }</pre>
 */
public enum Family {
  /** IPv4: addresses are {@link java.net.InetSocketAddress} with an {@code Inet4Address}. */
  AF_INET(StandardProtocolFamily.INET),
  /** IPv6: addresses are {@link java.net.InetSocketAddress} with an {@code Inet6Address}. */
  AF_INET6(StandardProtocolFamily.INET6),
  /** Unix-domain sockets: addresses are {@link java.net.UnixDomainSocketAddress} paths. */
  AF_UNIX(StandardProtocolFamily.UNIX);

  private final ProtocolFamily protocolFamily;

  Family(ProtocolFamily protocolFamily) {
    this.protocolFamily = protocolFamily;
  }

  ProtocolFamily protocolFamily() {
    return protocolFamily;
  }

  /** Whether addresses of this family are IP addresses (AF_INET or AF_INET6). */
  public boolean isInet() {
    return this != AF_UNIX;
  }
}
