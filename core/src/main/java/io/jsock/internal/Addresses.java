package io.jsock.internal;

import io.jsock.AddressResolutionException;
import io.jsock.Errno;
import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.UnixDomainSocketAddress;
import java.net.UnknownHostException;
import java.util.Objects;

/** Address checks, resolution honouring a socket's family, and the one way addresses print. */
public final class Addresses {
  private Addresses() {}

  /** Checks a port number: {@code port out of range 0..65535: 65536}. */
  public static int checkPort(int port) {
    if (port < 0 || port > 0xFFFF) {
      throw new IllegalArgumentException("port out of range 0..65535: " + port);
    }
    return port;
  }

  /**
   * Resolves {@code host} for a socket of the given IP version, as Python does when an address
   * tuple is passed: {@code ""} is the wildcard address, {@code "<broadcast>"} the IPv4 broadcast
   * address, anything else the first address of that version the resolver gives.
   */
  public static InetSocketAddress resolve(String host, int port, boolean ipv6, String operation)
      throws AddressResolutionException {
    Objects.requireNonNull(host, "host");
    checkPort(port);
    InetSocketAddress unresolved = InetSocketAddress.createUnresolved(host, port);
    try {
      if (host.isEmpty()) {
        return new InetSocketAddress(anyLocal(ipv6), port);
      }
      if (host.equals("<broadcast>") && !ipv6) {
        return new InetSocketAddress(InetAddress.getByAddress(new byte[] {-1, -1, -1, -1}), port);
      }
      for (InetAddress candidate : InetAddress.getAllByName(host)) {
        if ((candidate instanceof Inet6Address) == ipv6) {
          return new InetSocketAddress(candidate, port);
        }
      }
    } catch (UnknownHostException e) {
      var failure =
          new AddressResolutionException(
              Errors.message(operation, unresolved, Errno.describe(Errno.EAI_NONAME)),
              Errno.EAI_NONAME,
              unresolved);
      failure.initCause(e);
      throw failure;
    }
    throw new AddressResolutionException(
        Errors.message(operation, unresolved, Errno.describe(Errno.EAI_ADDRFAMILY)),
        Errno.EAI_ADDRFAMILY,
        unresolved);
  }

  /** The wildcard address of an IP version: {@code 0.0.0.0} or {@code ::}. */
  public static InetAddress anyLocal(boolean ipv6) {
    try {
      return InetAddress.getByAddress(new byte[ipv6 ? 16 : 4]);
    } catch (UnknownHostException e) {
      throw new AssertionError(e);
    }
  }

  /**
   * How jsock prints an address: {@code 127.0.0.1:80}, {@code [::1]:80}, {@code host:80} for an
   * unresolved one, the path for a Unix-domain socket.
   */
  public static String format(SocketAddress address) {
    if (address instanceof InetSocketAddress inet) {
      InetAddress ip = inet.getAddress();
      String host = ip == null ? inet.getHostString() : ip.getHostAddress();
      boolean bracket = ip instanceof Inet6Address || (ip == null && host.contains(":"));
      return (bracket ? "[" + host + "]" : host) + ":" + inet.getPort();
    }
    if (address instanceof UnixDomainSocketAddress unix) {
      String path = unix.getPath().toString();
      return path.isEmpty() ? "(unnamed)" : path;
    }
    return String.valueOf(address);
  }

  /** Whether an IP address belongs to the given version; IPv4 addresses also fit IPv6 sockets. */
  public static boolean fits(InetAddress address, boolean ipv6) {
    return ipv6 || address instanceof Inet4Address;
  }
}
