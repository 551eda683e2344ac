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
      String host =
          ip == null
              ? inet.getHostString()
              : ip instanceof Inet6Address ipv6 ? ipv6Text(ipv6) : ip.getHostAddress();
      boolean bracket = ip instanceof Inet6Address || (ip == null && host.contains(":"));
      return (bracket ? "[" + host + "]" : host) + ":" + inet.getPort();
    }
    if (address instanceof UnixDomainSocketAddress unix) {
      String path = unix.getPath().toString();
      return path.isEmpty() ? "(unnamed)" : path;
    }
    return String.valueOf(address);
  }

  /**
   * An IPv6 address in its canonical text (RFC 5952, as Python's {@code inet_ntop} writes it):
   * {@code ::1} rather than the JDK's {@code 0:0:0:0:0:0:0:1}. The longest run of two or more zero
   * groups (the first if tied) becomes {@code ::}; a scope stays as the JDK writes it.
   */
  private static String ipv6Text(Inet6Address ip) {
    byte[] raw = ip.getAddress();
    int[] groups = new int[8];
    for (int i = 0; i < 8; i++) {
      groups[i] = ((raw[2 * i] & 0xFF) << 8) | (raw[2 * i + 1] & 0xFF);
    }
    int bestStart = -1;
    int bestLength = 1; // a single zero group is not compressed
    for (int i = 0; i < 8; ) {
      int j = i;
      while (j < 8 && groups[j] == 0) {
        j++;
      }
      if (j - i > bestLength) {
        bestStart = i;
        bestLength = j - i;
      }
      i = j == i ? i + 1 : j;
    }
    StringBuilder text = new StringBuilder();
    for (int i = 0; i < 8; i++) {
      if (i == bestStart) {
        text.append("::");
        i += bestLength - 1;
        continue;
      }
      if (text.length() > 0 && text.charAt(text.length() - 1) != ':') {
        text.append(':');
      }
      text.append(Integer.toHexString(groups[i]));
    }
    String jdk = ip.getHostAddress();
    int scope = jdk.indexOf('%');
    return scope < 0 ? text.toString() : text + jdk.substring(scope);
  }

  /** Whether an IP address belongs to the given version; IPv4 addresses also fit IPv6 sockets. */
  public static boolean fits(InetAddress address, boolean ipv6) {
    return ipv6 || address instanceof Inet4Address;
  }
}
