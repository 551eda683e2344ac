package io.jsock;

import java.net.SocketAddress;
import java.util.Objects;

/**
 * What {@link Socket#accept()} returns: the connected socket and the peer's address, as Python's
 * {@code (conn, address)} pair.
 *
 * <pre>{@code
 * var accepted = server.accept();
 * try (Socket conn = accepted.conn()) {
 *   System.out.println("connection from " + accepted.address());
 * }
 * }</pre>
 *
 * @param conn the new socket, connected to the peer; the caller closes it
 * @param address the peer's address
 */
public record Accepted(Socket conn, SocketAddress address) {
  /** Checks that neither part is null. */
  public Accepted {
    Objects.requireNonNull(conn, "conn");
    Objects.requireNonNull(address, "address");
  }
}
