package io.jsock;

import io.jsock.internal.Addresses;
import io.jsock.internal.Errors;
import java.io.IOException;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * Python's {@code socket} module functions, as static methods (as {@code java.nio.file.Files} is
 * for files).
 *
 * <pre>{@code
 * Sockets.setDefaultTimeout(Duration.ofSeconds(5));   // every new socket starts in timeout mode
 * }</pre>
 */
public final class Sockets {
  /** The default timeout in nanoseconds, in {@link Socket}'s encoding (-1 for blocking). */
  private static volatile long defaultTimeoutNanos = Timeouts.BLOCKING;

  private Sockets() {}

  /**
   * The timeout new sockets start with: {@code null} for blocking (the initial value), {@link
   * Duration#ZERO} for non-blocking, or a positive duration.
   */
  public static Duration getDefaultTimeout() {
    return Timeouts.toDuration(defaultTimeoutNanos);
  }

  /**
   * Sets the timeout that sockets created from now on start with, including the sockets {@link
   * Socket#accept()} returns, as Python's {@code socket.setdefaulttimeout}.
   *
   * @param timeout {@code null} for blocking, {@link Duration#ZERO} for non-blocking, or positive
   * @throws IllegalArgumentException if the timeout is negative
   */
  public static void setDefaultTimeout(Duration timeout) {
    defaultTimeoutNanos = Timeouts.toNanos(timeout);
  }

  /**
   * Resolves a host and port into the addresses to create and connect sockets with, as Python's
   * {@code getaddrinfo(host, port, family, type)}, in the resolver's order.
   *
   * <pre>{@code
   * List<AddrInfo> infos = Sockets.getAddrInfo("localhost", 12345, null, SOCK_STREAM);
   * }</pre>
   *
   * @param host a name or a literal; {@code null} means the loopback addresses, as in Python
   * @param port an {@link Integer} from 0 to 65535, a decimal {@link String}, or {@code null} for 0
   * @param family {@code AF_INET} or {@code AF_INET6} to keep only that family, {@code null} for
   *     any
   * @param kind the socket kind to return results for, {@code null} for both
   * @throws AddressResolutionException if the name does not resolve, or not for that family
   */
  public static List<AddrInfo> getAddrInfo(String host, Object port, Family family, SocketKind kind)
      throws AddressResolutionException {
    if (family == Family.AF_UNIX) {
      throw new IllegalArgumentException("family: getAddrInfo resolves AF_INET and AF_INET6 only");
    }
    int portNumber = portOf(port);
    InetAddress[] addresses;
    try {
      addresses =
          host == null
              ? new InetAddress[] {InetAddress.getLoopbackAddress()}
              : InetAddress.getAllByName(host);
    } catch (UnknownHostException e) {
      var unresolved = InetSocketAddress.createUnresolved(host, portNumber);
      var failure =
          new AddressResolutionException(
              Errors.message("resolve", unresolved, Errno.describe(Errno.EAI_NONAME)),
              Errno.EAI_NONAME,
              unresolved);
      failure.initCause(e);
      throw failure;
    }
    List<AddrInfo> infos = new ArrayList<>();
    for (InetAddress address : addresses) {
      Family found = address instanceof Inet6Address ? Family.AF_INET6 : Family.AF_INET;
      if (family != null && found != family) {
        continue;
      }
      for (SocketKind each : SocketKind.values()) {
        if (kind == null || kind == each) {
          int proto = each == SocketKind.SOCK_STREAM ? 6 : 17;
          infos.add(
              new AddrInfo(found, each, proto, "", new InetSocketAddress(address, portNumber)));
        }
      }
    }
    if (infos.isEmpty()) {
      var unresolved = InetSocketAddress.createUnresolved(String.valueOf(host), portNumber);
      throw new AddressResolutionException(
          Errors.message("resolve", unresolved, Errno.describe(Errno.EAI_ADDRFAMILY)),
          Errno.EAI_ADDRFAMILY,
          unresolved);
    }
    return List.copyOf(infos);
  }

  /**
   * Connects a TCP socket to {@code address} in the default timeout mode, as Python's {@code
   * create_connection(address)}; see {@link #createConnection(SocketAddress, Duration)}.
   */
  public static Socket createConnection(SocketAddress address) throws IOException {
    return createConnection(address, getDefaultTimeout());
  }

  /**
   * Connects a TCP socket to {@code address}, trying every address the host resolves to in order
   * until one accepts, as Python's {@code create_connection(address, timeout)}. The timeout bounds
   * each attempt and stays set on the returned socket.
   *
   * <pre>{@code
   * try (Socket s = Sockets.createConnection(
   *     InetSocketAddress.createUnresolved("localhost", 12345), Duration.ofSeconds(5))) {
   *   s.sendAll(data);
   * }
   * }</pre>
   *
   * @param address an {@link InetSocketAddress}, resolved or not
   * @param timeout {@code null} for blocking, or a positive duration
   * @throws IOException the first attempt's error, with the later attempts' errors suppressed in it
   */
  public static Socket createConnection(SocketAddress address, Duration timeout)
      throws IOException {
    Objects.requireNonNull(address, "address");
    if (!(address instanceof InetSocketAddress inet)) {
      throw new IllegalArgumentException(
          "address: createConnection takes an InetSocketAddress, not " + address);
    }
    Timeouts.toNanos(timeout); // checks it before any connection is tried
    String host = inet.isUnresolved() ? inet.getHostString() : inet.getAddress().getHostAddress();
    IOException first = null;
    for (AddrInfo info : getAddrInfo(host, inet.getPort(), null, SocketKind.SOCK_STREAM)) {
      Socket socket = Socket.create(info.family(), info.kind());
      try {
        socket.setTimeout(timeout);
        socket.connect(info.address());
        return socket;
      } catch (IOException e) {
        socket.close();
        if (first == null) {
          first = e;
        } else {
          first.addSuppressed(e);
        }
      }
    }
    throw first;
  }

  private static int portOf(Object port) {
    return switch (port) {
      case null -> 0;
      case Integer number -> Addresses.checkPort(number);
      case String text when text.matches("[0-9]{1,5}") ->
          Addresses.checkPort(Integer.parseInt(text));
      case String text -> throw new IllegalArgumentException("port: not a port number: " + text);
      default ->
          throw new IllegalArgumentException(
              "port: an Integer or a String, not " + port.getClass().getName());
    };
  }

  static long defaultTimeoutNanos() {
    return defaultTimeoutNanos;
  }
}
