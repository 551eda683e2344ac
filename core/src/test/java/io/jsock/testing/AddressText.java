package io.jsock.testing;

import java.net.Inet6Address;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.UnixDomainSocketAddress;

/**
 * How jsock's messages show an address, written out independently of the code under test, for tests
 * that assert a whole message: {@code 127.0.0.1:80}, {@code [::1]:80}, a path, or {@code
 * (unnamed)}.
 *
 * <pre>{@code
 * assertThat(e).hasMessage("connect to " + text(address) + ": connection refused");
 * }</pre>
 */
public final class AddressText {
  /**
   * How the JDK begins the text of an IPv6 address whose first seven groups are 0 ({@code ::},
   * {@code ::1}, {@code ::2}), which RFC 5952 writes without them.
   */
  private static final String ZEROS_BEFORE_LAST_GROUP = "0:0:0:0:0:0:0:";

  private AddressText() {}

  /** The address as jsock's messages name it. */
  public static String text(SocketAddress address) {
    if (address instanceof InetSocketAddress inet) {
      boolean ipv6 = inet.getAddress() instanceof Inet6Address;
      String host = inet.getAddress().getHostAddress(); // a literal, never a lookup
      if (ipv6 && host.startsWith(ZEROS_BEFORE_LAST_GROUP)) {
        String last = host.substring(ZEROS_BEFORE_LAST_GROUP.length());
        host = "::" + (last.equals("0") ? "" : last);
      }
      return (ipv6 ? "[" + host + "]" : host) + ":" + inet.getPort();
    }
    String path = ((UnixDomainSocketAddress) address).getPath().toString();
    return path.isEmpty() ? "(unnamed)" : path;
  }
}
