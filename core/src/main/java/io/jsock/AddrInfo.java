package io.jsock;

import java.net.SocketAddress;
import java.util.Objects;

/**
 * One result of {@link Sockets#getAddrInfo}: everything needed to create a socket and connect it,
 * as one of the 5-tuples Python's {@code getaddrinfo} returns.
 *
 * <pre>{@code
 * for (AddrInfo info : Sockets.getAddrInfo("localhost", 80, null, SOCK_STREAM)) {
 *   Socket s = Socket.create(info.family(), info.kind());
 *   s.connect(info.address());
 * }
 * }</pre>
 *
 * @param family the address family of {@code address}
 * @param kind the socket kind
 * @param proto the IP protocol number: 6 for TCP, 17 for UDP
 * @param canonName the canonical host name, or {@code ""} as Python gives without {@code
 *     AI_CANONNAME}
 * @param address the resolved address and port
 */
public record AddrInfo(
    Family family, SocketKind kind, int proto, String canonName, SocketAddress address) {
  /** Checks that no part is null. */
  public AddrInfo {
    Objects.requireNonNull(family, "family");
    Objects.requireNonNull(kind, "kind");
    Objects.requireNonNull(canonName, "canonName");
    Objects.requireNonNull(address, "address");
  }
}
