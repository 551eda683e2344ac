package io.jsock.cli;

import io.jsock.Family;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.util.Optional;

/**
 * Where a client's socket is bound before it connects: {@code connect -s ADDR} and {@code -p PORT}
 * (ncat's {@code --source} and {@code --source-port}). {@link #KERNEL} binds nothing: the kernel
 * picks both when the socket connects.
 *
 * @param address the local address, or empty for the wildcard of the target's family
 * @param port the local port, 0 for one the kernel picks
 */
record ClientSource(Optional<InetAddress> address, int port) {
  static final ClientSource KERNEL = new ClientSource(Optional.empty(), 0);

  /** Whether the kernel picks the address and port: no bind before the connect. */
  boolean isKernels() {
    return address.isEmpty() && port == 0;
  }

  /**
   * The family the target's addresses must have: the source address's, or {@code asked} ({@code
   * -4}, {@code -6}; null for any) when there is none.
   */
  Family family(Family asked) {
    return address
        .map(ip -> ip instanceof Inet6Address ? Family.AF_INET6 : Family.AF_INET)
        .orElse(asked);
  }

  /** The address to bind a socket of {@code family} to. */
  InetSocketAddress bindAddress(Family family) {
    if (address.isPresent()) {
      return new InetSocketAddress(address.get(), port);
    }
    try {
      // the wildcard, 0.0.0.0 or ::, as nc -p binds
      return new InetSocketAddress(
          InetAddress.getByAddress(new byte[family == Family.AF_INET6 ? 16 : 4]), port);
    } catch (UnknownHostException impossible) {
      throw new AssertionError(impossible); // thrown for a length other than 4 or 16 only
    }
  }
}
