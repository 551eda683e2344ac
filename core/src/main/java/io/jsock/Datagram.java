package io.jsock;

import java.net.SocketAddress;
import java.util.Objects;

/**
 * One datagram received by {@link Socket#recvFrom(int)}: its bytes and the sender's address, as
 * Python's {@code (data, address)} pair.
 *
 * <pre>{@code
 * Datagram d = udp.recvFrom(2048);
 * udp.sendTo(d.data(), d.address());   // echo it back
 * }</pre>
 *
 * @param data the datagram's bytes (an empty array for an empty datagram)
 * @param address the sender's address
 */
public record Datagram(byte[] data, SocketAddress address) {
  /** Checks that neither part is null. */
  public Datagram {
    Objects.requireNonNull(data, "data");
    Objects.requireNonNull(address, "address");
  }
}
