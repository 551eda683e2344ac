package io.jsock;

import java.util.Objects;

/**
 * What {@link Sockets#getNameInfo} finds for a socket address, as the {@code (host, port)} pair
 * Python's {@code getnameinfo} returns: both are text, a name or a literal.
 *
 * <pre>{@code
 * NameInfo info = Sockets.getNameInfo(new InetSocketAddress(InetAddress.getLoopbackAddress(), 80));
 * info.host();      // "localhost"
 * info.service();   // "http"
 * }</pre>
 *
 * @param host the host name, or the address literal with {@link NameInfoFlag#NI_NUMERICHOST} or
 *     when the address has no name
 * @param service the service name, or the port number in decimal with {@link
 *     NameInfoFlag#NI_NUMERICSERV} or when the port has no well-known service
 */
public record NameInfo(String host, String service) {
  /** Checks that no part is null. */
  public NameInfo {
    Objects.requireNonNull(host, "host");
    Objects.requireNonNull(service, "service");
  }
}
