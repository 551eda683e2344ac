package io.jsock;

import io.jsock.internal.Addresses;
import io.jsock.internal.Errors;
import io.jsock.internal.Literals;
import io.jsock.internal.NativeNames;
import io.jsock.internal.Services;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.SocketOption;
import java.net.SocketTimeoutException;
import java.net.StandardProtocolFamily;
import java.net.StandardSocketOptions;
import java.net.UnixDomainSocketAddress;
import java.net.UnknownHostException;
import java.nio.ByteOrder;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;

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

  /** Whether host byte order is network byte order, so that htons and the others change nothing. */
  private static final boolean BIG_ENDIAN = ByteOrder.nativeOrder() == ByteOrder.BIG_ENDIAN;

  /**
   * Port text that glibc's {@code getaddrinfo} reads as a number ({@code strtoul} to the end): C's
   * white space first, then a {@code +}, or a {@code -} before zeros only (any other negative
   * number is looked up as a service name, and fails), then ASCII digits.
   */
  private static final Pattern DECIMAL_PORT =
      Pattern.compile("[ \\t\\n\\x0B\\f\\r]*(\\+?[0-9]+|-0+)");

  /**
   * Python's {@code IPV6_V6ONLY} (level {@code IPPROTO_IPV6}), which the JDK has no option for: an
   * AF_INET6 socket with it on takes IPv6 only, and leaves IPv4 on its port to an AF_INET socket.
   * Set before {@code bind}, as on Linux (a bound socket gives {@link Errno#EINVAL}).
   *
   * <pre>{@code
   * Socket s = Socket.create(Family.AF_INET6, SocketKind.SOCK_STREAM);
   * s.setSockOpt(Sockets.IPV6_V6ONLY, true);
   * s.bind("::", 8080);   // an AF_INET socket may bind 0.0.0.0:8080 too
   * }</pre>
   *
   * <p>jsock's IPv6 sockets start dual-stack, as the JDK makes them. The option is set and read
   * through the FFM calls of the epoll path; on the portable path (see README's Readiness) the
   * sockets stay dual-stack, {@code getSockOpt} gives {@code false}, and setting it {@code true}
   * throws {@link UnsupportedOperationException}. A socket of another family throws {@link
   * IllegalArgumentException}, as for any option that does not apply.
   */
  public static final SocketOption<Boolean> IPV6_V6ONLY =
      new OwnOption<>("IPV6_V6ONLY", Boolean.class);

  /**
   * Python's {@code TCP_USER_TIMEOUT} (level {@code IPPROTO_TCP}, Linux), which the JDK has no
   * option for: how long, in milliseconds, data sent may stay unacknowledged (or a zero window
   * unprobed) before the kernel drops the connection, and the call waiting on it fails with {@link
   * ConnectionTimedOutException} ({@link Errno#ETIMEDOUT}); 0, the initial value, leaves it to the
   * kernel's retransmissions ({@code tcp_retries2}: some 15 minutes for a peer that vanished). A
   * negative value gives {@link Errno#EINVAL}, as Linux.
   *
   * <pre>{@code
   * s.setSockOpt(Sockets.TCP_USER_TIMEOUT, 10_000);   // sendAll to a vanished peer fails in ~10 s
   * }</pre>
   *
   * <p>TCP sockets only (others throw {@link IllegalArgumentException}, as for any option that does
   * not apply); a listener's value goes to the sockets it accepts, as Linux's. Set and read through
   * the FFM calls of the epoll path; on the portable path (see README's Readiness) {@code
   * getSockOpt} gives 0 and setting anything else throws {@link UnsupportedOperationException}.
   */
  public static final SocketOption<Integer> TCP_USER_TIMEOUT =
      new OwnOption<>("TCP_USER_TIMEOUT", Integer.class);

  /**
   * Python's {@code TCP_SYNCNT} (level {@code IPPROTO_TCP}, Linux), which the JDK has no option
   * for: how many times a connect retransmits its SYN before it fails with {@link
   * ConnectionTimedOutException} ({@link Errno#ETIMEDOUT}), from 1 to 127 (others give {@link
   * Errno#EINVAL}, as Linux); it reads as the {@code net.ipv4.tcp_syn_retries} sysctl (6, some 127
   * s against a host that drops) until set.
   *
   * <pre>{@code
   * s.setSockOpt(Sockets.TCP_SYNCNT, 2);   // a dropped connect fails after ~7 s
   * }</pre>
   *
   * <p>TCP sockets only (others throw {@link IllegalArgumentException}); a listener's value goes to
   * the sockets it accepts, as Linux's. Set and read through the FFM calls of the epoll path; on
   * the portable path (see README's Readiness) both throw {@link UnsupportedOperationException}.
   */
  public static final SocketOption<Integer> TCP_SYNCNT =
      new OwnOption<>("TCP_SYNCNT", Integer.class);

  /**
   * A socket option of jsock's own, where the JDK has none: named as Python names it, of type
   * {@code type}.
   */
  private record OwnOption<T>(String name, Class<T> type) implements SocketOption<T> {
    @Override
    public String toString() {
      return name;
    }
  }

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
   * <p>A timeout longer than a {@code long} of nanoseconds holds (some 292 years) is kept as that
   * longest one, where Python raises {@code OverflowError}.
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
   * List<AddrInfo> infos = Sockets.getAddrInfo("localhost", "http", null, SOCK_STREAM);
   * }</pre>
   *
   * <p>A literal ({@code 127.0.0.1}, {@code 127.1}, {@code ::1}, {@code fe80::1%2}) is parsed,
   * never looked up; text that only looks like one ({@code 1.2.3.4.5}, {@code ::1q}) fails without
   * a lookup. A service name is resolved before the host, from jsock's built-in table (see {@link
   * #getServByName}), and gives results only for the kinds it is defined for: {@code "ntp"} is UDP
   * only, so it gives {@code SOCK_DGRAM} results, and fails with {@code SOCK_STREAM}.
   *
   * @param host a name or a literal; {@code null} means the loopback addresses ({@code ::1}, then
   *     {@code 127.0.0.1}), as in Python without {@code AI_PASSIVE}
   * @param port an {@link Integer} from 0 to 65535, a decimal {@link String} (read as glibc does:
   *     {@code " +0080"} is 80), a service name such as {@code "http"}, or {@code null} or {@code
   *     ""} for 0
   * @param family {@code AF_INET} or {@code AF_INET6} to keep only that family, {@code null} for
   *     any; as glibc, {@code AF_INET} takes an IPv4-mapped literal ({@code ::ffff:127.0.0.1}) as
   *     its IPv4 address
   * @param kind the socket kind to return results for, {@code null} for both
   * @throws AddressResolutionException if the name does not resolve, or host and port are both
   *     {@code null}, as in Python ({@link Errno#EAI_NONAME}; {@link Errno#EAI_AGAIN} if the name
   *     server failed or did not answer, as glibc; a name without an address of that family too, as
   *     glibc, {@link Errno#EAI_NODATA} if a name server gave it addresses of the other family or
   *     none), a literal of the other family ({@link Errno#EAI_ADDRFAMILY}), the service is unknown
   *     for the kind ({@link Errno#EAI_SERVICE}), or a system call of the lookup failed (as
   *     Python's {@code OSError}, its errno: {@link Errno#EMFILE} when out of descriptors; on the
   *     portable path {@link Errno#EAI_SYSTEM})
   */
  public static List<AddrInfo> getAddrInfo(String host, Object port, Family family, SocketKind kind)
      throws AddressResolutionException {
    if (family == Family.AF_UNIX) {
      throw new IllegalArgumentException("family: getAddrInfo resolves AF_INET and AF_INET6 only");
    }
    if (host == null && port == null) { // as glibc's getaddrinfo: nothing to resolve
      throw new AddressResolutionException(
          "resolve: no host and no port: " + Errno.describe(Errno.EAI_NONAME),
          Errno.EAI_NONAME,
          null);
    }
    Map<SocketKind, Integer> ports = portsOf(host, port, kind);
    int firstPort = ports.values().iterator().next();
    List<InetAddress> addresses;
    if (host == null) {
      addresses = new ArrayList<>();
      if (family != Family.AF_INET) {
        addresses.add(Addresses.loopback(true));
      }
      if (family != Family.AF_INET6) {
        addresses.add(Addresses.loopback(false));
      }
    } else {
      try {
        addresses = Addresses.lookup(host);
      } catch (UnknownHostException e) {
        var unresolved = InetSocketAddress.createUnresolved(host, firstPort);
        throw resolutionFailure("resolve", unresolved, Addresses.resolverErrno(e), e);
      }
    }
    List<AddrInfo> infos = new ArrayList<>();
    for (InetAddress resolved : addresses) {
      InetAddress address = family == Family.AF_INET ? Addresses.unmapped(resolved) : resolved;
      Family found = address instanceof Inet6Address ? Family.AF_INET6 : Family.AF_INET;
      if (family != null && found != family) {
        continue;
      }
      ports.forEach(
          (each, number) ->
              infos.add(
                  new AddrInfo(
                      found, each, protoOf(each), "", new InetSocketAddress(address, number))));
    }
    if (infos.isEmpty()) {
      var unresolved = InetSocketAddress.createUnresolved(String.valueOf(host), firstPort);
      int errno =
          host == null
              ? Errno.EAI_NONAME
              : Addresses.noAddressOfTheFamily(host, family == Family.AF_INET6);
      throw resolutionFailure("resolve", unresolved, errno, null);
    }
    return List.copyOf(infos);
  }

  /**
   * Finds the host name and service name of a socket address, as Python's {@code
   * getnameinfo(sockaddr, flags)}: a reverse lookup of the address (unless {@link
   * NameInfoFlag#NI_NUMERICHOST}) and the port's service in jsock's built-in table. An address
   * without a name gives its literal (a link-local scope as its interface's name, {@code
   * fe80::1%eth0}, any other as a number, as glibc), a port without a service its number.
   *
   * <pre>{@code
   * Sockets.getNameInfo(new InetSocketAddress("127.0.0.1", 80));                   // localhost, http
   * Sockets.getNameInfo(new InetSocketAddress("127.0.0.1", 80), NI_NUMERICHOST);   // 127.0.0.1, http
   * }</pre>
   *
   * @param address an {@link InetSocketAddress}: resolved, or unresolved with a literal host (as in
   *     Python, a name is not looked up here)
   * @param flags any of {@link NameInfoFlag}
   * @throws AddressResolutionException if the host is an unresolved name, or with {@link
   *     NameInfoFlag#NI_NAMEREQD} the address has no name or {@link NameInfoFlag#NI_NUMERICHOST}
   *     forbids looking it up, as glibc ({@link Errno#EAI_NONAME}), or the name server failed or
   *     did not answer ({@link Errno#EAI_AGAIN}, with or without {@code NI_NAMEREQD}, as glibc; on
   *     the epoll path only: the JDK's lookup of the portable path gives the literal)
   * @throws IOException for errno if a system call of the lookup failed (glibc's {@code
   *     EAI_SYSTEM}: {@link ErrnoException} {@code EMFILE} when out of descriptors), as Python's
   *     {@code OSError}; epoll path only
   */
  public static NameInfo getNameInfo(SocketAddress address, NameInfoFlag... flags)
      throws IOException {
    Objects.requireNonNull(address, "address");
    Set<NameInfoFlag> set = EnumSet.noneOf(NameInfoFlag.class);
    for (NameInfoFlag flag : Objects.requireNonNull(flags, "flags")) {
      set.add(Objects.requireNonNull(flag, "flags: null flag"));
    }
    if (!(address instanceof InetSocketAddress inet)) {
      throw new IllegalArgumentException(
          "address: getNameInfo takes an InetSocketAddress, not " + address);
    }
    InetAddress ip = inet.getAddress();
    if (ip == null) {
      ip =
          Addresses.numericHost(inet.getHostString())
              .orElseThrow(() -> resolutionFailure("getNameInfo", inet, Errno.EAI_NONAME, null));
    }
    // as glibc: with NI_NUMERICHOST there is no name, so NI_NAMEREQD fails even if there is one
    Optional<String> name;
    try {
      name = set.contains(NameInfoFlag.NI_NUMERICHOST) ? Optional.empty() : reverseName(ip);
    } catch (NativeNames.Failed e) {
      if (e.errno() != 0) {
        throw Errors.of(e.errno(), "getNameInfo", inet);
      }
      throw resolutionFailure("getNameInfo", inet, e.code(), null);
    }
    if (name.isEmpty() && set.contains(NameInfoFlag.NI_NAMEREQD)) {
      throw resolutionFailure("getNameInfo", inet, Errno.EAI_NONAME, null);
    }
    String host = name.orElse(Addresses.nameInfoText(ip));
    int port = inet.getPort();
    String service = Integer.toString(port);
    if (!set.contains(NameInfoFlag.NI_NUMERICSERV)) {
      String proto = set.contains(NameInfoFlag.NI_DGRAM) ? "udp" : "tcp";
      service = Services.byPort(port, proto).map(Services.Service::name).orElse(service);
    }
    return new NameInfo(host, service);
  }

  /** {@link #getNameInfo(SocketAddress, NameInfoFlag...)} of {@code (host, port)}. */
  public static NameInfo getNameInfo(String host, int port, NameInfoFlag... flags)
      throws IOException {
    return getNameInfo(Addresses.unresolved(host, port), flags);
  }

  /**
   * The IPv4 address of a host as text, as Python's {@code gethostbyname}: the first IPv4 address
   * the resolver gives, a literal as it is, {@code "0.0.0.0"} for {@code ""} and {@code
   * "255.255.255.255"} for {@code "<broadcast>"}.
   *
   * <pre>{@code
   * String ip = Sockets.getHostByName("localhost");   // "127.0.0.1"
   * }</pre>
   *
   * @throws AddressResolutionException if the name does not resolve or has no IPv4 address ({@link
   *     Errno#EAI_NONAME}, as glibc; {@link Errno#EAI_NODATA} if a name server gave it IPv6 ones
   *     only), or is an IPv6 literal ({@link Errno#EAI_ADDRFAMILY})
   */
  public static String getHostByName(String hostname) throws AddressResolutionException {
    Objects.requireNonNull(hostname, "hostname");
    return switch (hostname) {
      case "" -> "0.0.0.0";
      case "<broadcast>" -> "255.255.255.255";
      default -> ipv4Addresses(hostname, "getHostByName").getFirst();
    };
  }

  /**
   * A host's name and every IPv4 address, as Python's {@code gethostbyname_ex}. The name is the one
   * asked for and the aliases are empty: the JDK's resolver reports neither canonical names nor
   * aliases.
   *
   * <pre>{@code
   * Sockets.getHostByNameEx("localhost");   // HostEntry[hostName=localhost, aliases=[], addresses=[127.0.0.1]]
   * }</pre>
   *
   * @throws AddressResolutionException if the name does not resolve or has no IPv4 address ({@link
   *     Errno#EAI_NONAME}, as glibc; {@link Errno#EAI_NODATA} if a name server gave it IPv6 ones
   *     only), or is an IPv6 literal ({@link Errno#EAI_ADDRFAMILY})
   */
  public static HostEntry getHostByNameEx(String hostname) throws AddressResolutionException {
    Objects.requireNonNull(hostname, "hostname");
    return new HostEntry(hostname, List.of(), ipv4Addresses(hostname, "getHostByNameEx"));
  }

  /**
   * The name of the host at an address, by reverse lookup, as Python's {@code gethostbyaddr}. As in
   * Python, a name is accepted too and resolved first.
   *
   * <pre>{@code
   * Sockets.getHostByAddr("127.0.0.1").hostName();   // "localhost"
   * }</pre>
   *
   * @param ipAddress an IPv4 or IPv6 literal, or a name
   * @throws AddressResolutionException if the address has no name, or the name does not resolve
   *     ({@link Errno#EAI_NONAME}), or the name server failed or did not answer ({@link
   *     Errno#EAI_AGAIN}, Python's {@code herror} "Host name lookup failure"; on the epoll path:
   *     the JDK's lookup of the portable path says {@code EAI_NONAME})
   * @throws IOException for errno if a system call of the lookup failed ({@link ErrnoException}
   *     {@code EMFILE} when out of descriptors), as Python's {@code OSError}; epoll path only
   */
  public static HostEntry getHostByAddr(String ipAddress) throws IOException {
    Objects.requireNonNull(ipAddress, "ipAddress");
    InetAddress ip = lookup(ipAddress, "getHostByAddr").getFirst();
    int errno = Errno.EAI_NONAME;
    Optional<String> found;
    try {
      found = reverseName(ip);
    } catch (NativeNames.Failed e) {
      if (e.errno() != 0) {
        throw Errors.of(e.errno(), "getHostByAddr " + ipAddress, null);
      }
      found = Optional.empty();
      errno = e.code();
    }
    if (found.isEmpty()) {
      throw new AddressResolutionException(
          "getHostByAddr " + ipAddress + ": " + Errno.describe(errno), errno, null);
    }
    String name = found.get();
    return new HostEntry(name, List.of(), List.of(Addresses.ipText(ip)));
  }

  /**
   * This machine's host name, as Python's {@code gethostname}: the kernel's name for it, which is
   * not looked up.
   *
   * <pre>{@code
   * String me = Sockets.getHostName();   // "vm"
   * }</pre>
   *
   * @throws IOException if the system does not say (where there is no {@code
   *     /proc/sys/kernel/hostname}, jsock asks the JDK, which also resolves the name)
   */
  public static String getHostName() throws IOException {
    Path kernel = Path.of("/proc/sys/kernel/hostname");
    try {
      if (Files.isReadable(kernel)) {
        return Files.readString(kernel).strip();
      }
      return InetAddress.getLocalHost().getHostName();
    } catch (IOException e) {
      throw Errors.translate(e, "getHostName", null);
    }
  }

  /**
   * A fully qualified name for {@code name}, as Python's {@code getfqdn}: the first of the names
   * {@link #getHostByAddr} finds that contains a dot, else the host name found, else {@code name}
   * itself. An empty name (or {@code 0.0.0.0}, {@code ::}) means this machine's {@link
   * #getHostName}.
   *
   * <pre>{@code
   * Sockets.getFqdn("");   // this machine, e.g. "vm.example.com"
   * }</pre>
   *
   * @throws IOException only if {@code name} is empty and the machine's host name is unknown
   */
  public static String getFqdn(String name) throws IOException {
    String wanted = pythonStrip(Objects.requireNonNull(name, "name"));
    if (wanted.isEmpty() || wanted.equals("0.0.0.0") || wanted.equals("::")) {
      wanted = getHostName();
    }
    HostEntry entry;
    try {
      entry = getHostByAddr(wanted);
    } catch (IOException e) {
      return wanted; // as Python (any OSError): a name that does not resolve is as qualified as it
      // gets
    }
    List<String> names = new ArrayList<>(List.of(entry.hostName()));
    names.addAll(entry.aliases());
    return names.stream().filter(each -> each.contains(".")).findFirst().orElse(entry.hostName());
  }

  /**
   * The port of a service by name, from jsock's built-in table of well-known services, as Python's
   * {@code getservbyname}. The table holds the common entries of {@code /etc/services} (Debian's
   * netbase, IANA's numbers) with their aliases, so it means the same on every platform.
   *
   * <pre>{@code
   * int port = Sockets.getServByName("https", "tcp");   // 443
   * }</pre>
   *
   * @param name the service's name or an alias, such as {@code "http"} or {@code "www"}
   * @param proto {@code "tcp"} or {@code "udp"}, or {@code null} for any
   * @throws AddressResolutionException if there is no such service for {@code proto}, with {@link
   *     Errno#EAI_SERVICE} (Python raises a plain {@code OSError})
   */
  public static int getServByName(String name, String proto) throws AddressResolutionException {
    Objects.requireNonNull(name, "name");
    return Services.byName(name, proto)
        .orElseThrow(
            () -> serviceFailure("getServByName " + name, proto, "service/proto not found"))
        .port();
  }

  /**
   * The name of the service on a port, from jsock's built-in table (see {@link #getServByName}), as
   * Python's {@code getservbyport}.
   *
   * <pre>{@code
   * String name = Sockets.getServByPort(22, null);   // "ssh"
   * }</pre>
   *
   * @param port from 0 to 65535
   * @param proto {@code "tcp"} or {@code "udp"}, or {@code null} for any
   * @throws AddressResolutionException if no service is known on that port for {@code proto}, with
   *     {@link Errno#EAI_SERVICE} (Python raises a plain {@code OSError})
   */
  public static String getServByPort(int port, String proto) throws AddressResolutionException {
    Addresses.checkPort(port);
    return Services.byPort(port, proto)
        .orElseThrow(() -> serviceFailure("getServByPort " + port, proto, "port/proto not found"))
        .name();
  }

  /**
   * The packed bytes of an IP address literal, as Python's {@code inet_pton}: strict, never a
   * lookup. {@code AF_INET} takes exactly a dotted quad of decimal numbers without leading zeros;
   * {@code AF_INET6} takes any RFC 4291 text, an embedded IPv4 address included ({@code
   * ::ffff:1.2.3.4}), but no scope.
   *
   * <pre>{@code
   * byte[] packed = Sockets.inetPton(AF_INET6, "::1");   // 15 zero bytes, then 1
   * }</pre>
   *
   * @return 4 bytes for {@code AF_INET}, 16 for {@code AF_INET6}, in network byte order
   * @throws IllegalArgumentException if {@code ipString} is not a literal of that family, or the
   *     family is {@code AF_UNIX}
   */
  public static byte[] inetPton(Family family, String ipString) {
    Objects.requireNonNull(family, "family");
    Objects.requireNonNull(ipString, "ipString");
    Optional<byte[]> packed =
        switch (family) {
          case AF_INET -> Literals.parseIpv4(ipString);
          case AF_INET6 -> Literals.parseIpv6(ipString);
          case AF_UNIX -> throw notInet("inetPton", family);
        };
    return packed.orElseThrow(() -> illegalLiteral("inetPton", ipString));
  }

  /**
   * The text of a packed IP address, as Python's {@code inet_ntop}: a dotted quad, or RFC 5952 IPv6
   * text as Linux writes it ({@code ::1}, {@code 2001:db8::1}, {@code ::ffff:1.2.3.4}).
   *
   * <pre>{@code
   * String text = Sockets.inetNtop(AF_INET6, packed);   // "::1"
   * }</pre>
   *
   * @param packedIp 4 bytes for {@code AF_INET}, 16 for {@code AF_INET6}
   * @throws IllegalArgumentException if {@code packedIp} has the wrong length for the family, or
   *     the family is {@code AF_UNIX}
   */
  public static String inetNtop(Family family, byte[] packedIp) {
    Objects.requireNonNull(family, "family");
    Objects.requireNonNull(packedIp, "packedIp");
    int length =
        switch (family) {
          case AF_INET -> 4;
          case AF_INET6 -> 16;
          case AF_UNIX -> throw notInet("inetNtop", family);
        };
    if (packedIp.length != length) {
      throw new IllegalArgumentException(
          "packedIp: inetNtop(" + family + ") takes " + length + " bytes, not " + packedIp.length);
    }
    return length == 4 ? Literals.ipv4Text(packedIp) : Literals.ipv6Text(packedIp);
  }

  /**
   * The packed bytes of an IPv4 address in any of the classic forms, as Python's {@code inet_aton}:
   * {@code a.b.c.d}, {@code a.b.c}, {@code a.b} or {@code a}, each part decimal, octal ({@code
   * 017}) or hex ({@code 0x7f}); the last part fills the remaining bytes. Never a lookup.
   *
   * <pre>{@code
   * byte[] packed = Sockets.inetAton("127.1");   // {127, 0, 0, 1}
   * }</pre>
   *
   * @throws IllegalArgumentException if {@code ipString} is not such an address; unlike glibc, text
   *     after it ({@code "1.2.3.4 junk"}) is not ignored
   */
  public static byte[] inetAton(String ipString) {
    Objects.requireNonNull(ipString, "ipString");
    return Literals.parseAton(ipString).orElseThrow(() -> illegalLiteral("inetAton", ipString));
  }

  /**
   * The dotted-quad text of a packed IPv4 address, as Python's {@code inet_ntoa}.
   *
   * <pre>{@code
   * Sockets.inetNtoa(new byte[] {127, 0, 0, 1});   // "127.0.0.1"
   * }</pre>
   *
   * @throws IllegalArgumentException if {@code packedIp} is not 4 bytes long
   */
  public static String inetNtoa(byte[] packedIp) {
    Objects.requireNonNull(packedIp, "packedIp");
    if (packedIp.length != 4) {
      throw new IllegalArgumentException(
          "packedIp: inetNtoa takes 4 bytes, not " + packedIp.length);
    }
    return Literals.ipv4Text(packedIp);
  }

  /**
   * A 16-bit number from host to network byte order, as Python's {@code htons}: its two bytes
   * swapped on a little-endian machine, unchanged on a big-endian one.
   *
   * <pre>{@code
   * Sockets.htons(0x1234);   // 0x3412 on x86 and ARM
   * }</pre>
   *
   * @param x from 0 to 65535
   * @throws IllegalArgumentException if {@code x} is out of range (Python's {@code OverflowError})
   */
  public static int htons(int x) {
    return swap16("htons", x);
  }

  /**
   * A 16-bit number from network to host byte order, as Python's {@code ntohs}; the same swap as
   * {@link #htons}.
   *
   * @param x from 0 to 65535
   * @throws IllegalArgumentException if {@code x} is out of range
   */
  public static int ntohs(int x) {
    return swap16("ntohs", x);
  }

  /**
   * A 32-bit number from host to network byte order, as Python's {@code htonl}: its four bytes
   * reversed on a little-endian machine, unchanged on a big-endian one. It takes and returns a
   * {@code long}, since the values are unsigned.
   *
   * <pre>{@code
   * Sockets.htonl(0x12345678L);   // 0x78563412L on x86 and ARM
   * }</pre>
   *
   * @param x from 0 to 4294967295
   * @throws IllegalArgumentException if {@code x} is out of range (Python's {@code OverflowError})
   */
  public static long htonl(long x) {
    return swap32("htonl", x);
  }

  /**
   * A 32-bit number from network to host byte order, as Python's {@code ntohl}; the same swap as
   * {@link #htonl}.
   *
   * @param x from 0 to 4294967295
   * @throws IllegalArgumentException if {@code x} is out of range
   */
  public static long ntohl(long x) {
    return swap32("ntohl", x);
  }

  /**
   * Connects a TCP socket to {@code address} with {@link ConnectOptions#defaults()}, as Python's
   * {@code create_connection(address)}: in the default timeout mode, or blocking if that is
   * non-blocking; see {@link #createConnection(SocketAddress, Duration)}.
   */
  public static Socket createConnection(SocketAddress address) throws IOException {
    return createConnection(address, ConnectOptions.defaults());
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
   * @throws IOException the last attempt's error, as Python's, with the earlier attempts' errors
   *     suppressed in it
   * @throws java.io.InterruptedIOException if the thread is interrupted while an attempt waits (the
   *     interrupt status stays set): the next addresses are not tried, as Python lets a {@code
   *     KeyboardInterrupt} through
   */
  public static Socket createConnection(SocketAddress address, Duration timeout)
      throws IOException {
    return createConnection(address, ConnectOptions.defaults().withTimeout(timeout));
  }

  /**
   * {@link #createConnection(SocketAddress)} to {@code (host, port)}, as Python's {@code
   * create_connection((host, port))}:
   *
   * <pre>{@code
   * try (Socket s = Sockets.createConnection("localhost", 12345)) {
   *   s.sendAll(data);
   * }
   * }</pre>
   */
  public static Socket createConnection(String host, int port) throws IOException {
    return createConnection(Addresses.unresolved(host, port), ConnectOptions.defaults());
  }

  /** {@link #createConnection(SocketAddress, Duration)} to {@code (host, port)}. */
  public static Socket createConnection(String host, int port, Duration timeout)
      throws IOException {
    return createConnection(Addresses.unresolved(host, port), timeout);
  }

  /** {@link #createConnection(SocketAddress, ConnectOptions)} to {@code (host, port)}. */
  public static Socket createConnection(String host, int port, ConnectOptions options)
      throws IOException {
    return createConnection(Addresses.unresolved(host, port), options);
  }

  /**
   * Connects as {@link #createConnection(SocketAddress, Duration)} does, with Python's other
   * keyword arguments: a source address to bind first, and whether to report every attempt's error.
   */
  public static Socket createConnection(SocketAddress address, ConnectOptions options)
      throws IOException {
    Objects.requireNonNull(address, "address");
    Objects.requireNonNull(options, "options");
    if (!(address instanceof InetSocketAddress inet)) {
      throw new IllegalArgumentException(
          "address: createConnection takes an InetSocketAddress, not " + address);
    }
    String host = inet.isUnresolved() ? inet.getHostString() : Addresses.ipText(inet.getAddress());
    // a resolved address is tried as it is: as text, a scope by interface (::1%lo) would not
    // resolve again, since getAddrInfo takes an interface name only for a link-local scope
    List<AddrInfo> infos =
        inet.isUnresolved()
            ? getAddrInfo(host, inet.getPort(), null, SocketKind.SOCK_STREAM)
            : List.of(
                new AddrInfo(
                    inet.getAddress() instanceof Inet6Address ? Family.AF_INET6 : Family.AF_INET,
                    SocketKind.SOCK_STREAM,
                    protoOf(SocketKind.SOCK_STREAM),
                    "",
                    inet));
    List<IOException> errors = new ArrayList<>();
    for (AddrInfo info : infos) {
      if (options.sourceAddress() instanceof InetSocketAddress source
          && !source.isUnresolved()
          && (source.getAddress() instanceof Inet6Address) != (info.family() == Family.AF_INET6)) {
        continue; // a source address of the other family cannot reach this one
      }
      Socket socket = Socket.create(info.family(), info.kind());
      try {
        socket.setTimeout(options.timeout());
        if (options.sourceAddress() != null) {
          socket.bind(options.sourceAddress());
        }
        socket.connect(info.address());
        return socket;
      } catch (InterruptedIOException e) {
        socket.close();
        if (e instanceof SocketTimeoutException) {
          errors.add(e); // Python's TimeoutError, an OSError: the next address is tried
          continue;
        }
        // an interrupt ends the call as it is, as Python lets a KeyboardInterrupt through: the
        // other addresses are not tried, and allErrors does not turn it into an attempt's error
        errors.forEach(e::addSuppressed);
        throw e;
      } catch (IOException e) {
        socket.close();
        errors.add(e);
      }
    }
    if (errors.isEmpty()) {
      // every attempt was skipped: Python's bind of the source address raises gaierror so
      SocketAddress source = options.sourceAddress();
      throw new AddressResolutionException(
          Errors.message("bind to", source, Errno.describe(Errno.EAI_ADDRFAMILY)),
          Errno.EAI_ADDRFAMILY,
          source);
    }
    if (options.allErrors()) {
      IOException first = errors.getFirst();
      StringBuilder message = new StringBuilder("create_connection: all attempts failed: ");
      for (IOException e : errors) {
        message.append(e == first ? "" : "; ").append(e.getMessage());
      }
      // an attempt that timed out carries no errno of its own: a timeout's is ETIMEDOUT (Python's
      // TimeoutError), not EIO
      int errno =
          first instanceof SocketError error
              ? error.errno()
              : first instanceof SocketTimeoutException ? Errno.ETIMEDOUT : Errno.EIO;
      ErrnoException all = new ErrnoException(message.toString(), errno, address);
      errors.forEach(all::addSuppressed);
      throw all;
    }
    // the last attempt's, as Python's create_connection raises it (and ncat reports it)
    IOException last = errors.getLast();
    errors.stream().limit(errors.size() - 1L).forEach(last::addSuppressed);
    throw last;
  }

  /**
   * A listening TCP socket (or AF_UNIX stream socket) bound to {@code address} with {@code
   * SO_REUSEADDR} and a backlog of 128, as Python's {@code create_server(address)}. An unresolved
   * address is resolved, its host {@code ""} meaning the wildcard address ({@code 0.0.0.0}, or
   * {@code ::} with dual stack), as in Python. An IPv6 server takes IPv6 clients only ({@link
   * #IPV6_V6ONLY} on), so that an IPv4 server may listen on the same port, unless {@link
   * ServerOptions#withDualStack dual stack} is asked for, as in Python.
   *
   * <pre>{@code
   * try (Socket server = Sockets.createServer(new InetSocketAddress("localhost", 0))) {
   *   Accepted a = server.accept();
   * }
   * }</pre>
   */
  public static Socket createServer(SocketAddress address) throws IOException {
    return createServer(address, ServerOptions.defaults());
  }

  /**
   * {@link #createServer(SocketAddress)} on {@code (host, port)}, as Python's {@code
   * create_server((host, port))}: {@code ""} for every interface, port 0 for a free one.
   */
  public static Socket createServer(String host, int port) throws IOException {
    return createServer(Addresses.unresolved(host, port), ServerOptions.defaults());
  }

  /** {@link #createServer(SocketAddress, ServerOptions)} on {@code (host, port)}. */
  public static Socket createServer(String host, int port, ServerOptions options)
      throws IOException {
    return createServer(Addresses.unresolved(host, port), options);
  }

  /**
   * A listening socket as {@link #createServer(SocketAddress)} makes, with Python's other keyword
   * arguments: backlog, {@code SO_REUSEPORT} and dual stack. With dual stack, an unresolved name is
   * resolved for IPv6 only, as Python's {@code family=AF_INET6}.
   *
   * @throws IllegalArgumentException for dual stack on an address that is not IPv6, or when {@link
   *     #hasDualStackIpv6()} is false
   * @throws AddressResolutionException for dual stack on a name without an IPv6 address ({@link
   *     Errno#EAI_NONAME}, as glibc)
   */
  public static Socket createServer(SocketAddress address, ServerOptions options)
      throws IOException {
    Objects.requireNonNull(address, "address");
    Objects.requireNonNull(options, "options");
    SocketAddress local = address;
    Family family;
    if (address instanceof UnixDomainSocketAddress) {
      family = Family.AF_UNIX;
    } else if (address instanceof InetSocketAddress inet) {
      if (inet.isUnresolved() && inet.getHostString().isEmpty()) {
        // Python's create_server(("", port)): bind takes "" as the wildcard address
        local = new InetSocketAddress(Addresses.anyLocal(options.dualStack()), inet.getPort());
      } else if (inet.isUnresolved()) {
        // dual stack wants the name's IPv6 address, as Python's family=AF_INET6 asks for
        Family wanted = options.dualStack() ? Family.AF_INET6 : null;
        AddrInfo info =
            getAddrInfo(inet.getHostString(), inet.getPort(), wanted, SocketKind.SOCK_STREAM)
                .getFirst();
        local = info.address();
      }
      family =
          ((InetSocketAddress) local).getAddress() instanceof Inet6Address
              ? Family.AF_INET6
              : Family.AF_INET;
    } else {
      throw new IllegalArgumentException("address: not an inet or AF_UNIX address: " + address);
    }
    if (options.dualStack() && (family != Family.AF_INET6 || !hasDualStackIpv6())) {
      throw new IllegalArgumentException(
          "dualStack needs an IPv6 address: " + Addresses.format(address));
    }
    Socket server = Socket.create(family, SocketKind.SOCK_STREAM);
    try {
      if (family.isInet()) {
        server.setSockOpt(StandardSocketOptions.SO_REUSEADDR, true);
      }
      if (options.reusePort()) {
        server.setSockOpt(StandardSocketOptions.SO_REUSEPORT, true);
      }
      if (family == Family.AF_INET6) {
        setV6Only(server, !options.dualStack());
      }
      server.bind(local);
      server.listen(options.backlog());
      return server;
    } catch (IOException | RuntimeException e) {
      server.close();
      throw e;
    }
  }

  /**
   * {@code IPV6_V6ONLY} as Python's {@code create_server} sets it: on, unless dual stack is asked
   * for; where it cannot be set (the portable path), the socket stays dual-stack, as Python goes on
   * where the system refuses it.
   */
  private static void setV6Only(Socket server, boolean on) throws IOException {
    try {
      server.setSockOpt(IPV6_V6ONLY, on);
    } catch (UnsupportedOperationException e) {
      // dual-stack, as the JDK makes every IPv6 socket (see IPV6_V6ONLY)
    }
  }

  /**
   * Whether an IPv6 socket can also accept IPv4 clients, as Python's {@code has_dualstack_ipv6()}:
   * true when the JVM has IPv6 (the JDK's IPv6 sockets are dual-stack unless {@link #IPV6_V6ONLY}
   * is set).
   */
  public static boolean hasDualStackIpv6() {
    if (Boolean.getBoolean("java.net.preferIPv4Stack")) {
      return false;
    }
    try (var probe = SocketChannel.open(StandardProtocolFamily.INET6)) {
      return true;
    } catch (IOException | UnsupportedOperationException e) {
      return false;
    }
  }

  /**
   * Two connected AF_UNIX stream sockets, as Python's {@code socketpair()}: what one sends, the
   * other receives. The JDK has no {@code socketpair(2)}, so, as CPython does where the system
   * lacks it, a listener in a private temporary directory accepts the one connection and goes;
   * neither end names its path ({@code getSockName} and {@code getPeerName} give the unnamed
   * address, as Python's {@code ''}).
   *
   * <pre>{@code
   * Socket[] pair = Sockets.socketPair();
   * pair[0].sendAll(data);
   * byte[] got = pair[1].recv(1024);
   * }</pre>
   */
  public static Socket[] socketPair() throws IOException {
    Path dir = pairDirectory();
    Path path = dir.resolve("s");
    try (Socket listener = Socket.create(Family.AF_UNIX, SocketKind.SOCK_STREAM)) {
      listener.bind(UnixDomainSocketAddress.of(path));
      listener.listen(1);
      Socket a = Socket.create(Family.AF_UNIX, SocketKind.SOCK_STREAM);
      try {
        a.connect(UnixDomainSocketAddress.of(path));
        Socket b = listener.accept().conn();
        a.unname();
        b.unname();
        return new Socket[] {a, b};
      } catch (IOException | RuntimeException e) {
        a.close();
        throw e;
      }
    } finally {
      removeQuietly(path);
      removeQuietly(dir);
    }
  }

  /**
   * Removes the pair's listener file or directory; a failure (a file another process of this user
   * put in the directory) leaves it, rather than losing the connected pair or the call's own error.
   */
  private static void removeQuietly(Path path) {
    try {
      Files.deleteIfExists(path);
    } catch (IOException e) {
      // left in the temporary directory
    }
  }

  /**
   * A new directory for {@link #socketPair()}'s listener, rwx------ so that only this user can
   * connect: in {@code java.io.tmpdir}, or in {@code /tmp} where that directory's path is too long
   * to leave room for the socket's within AF_UNIX's limit (a deep build directory).
   */
  private static Path pairDirectory() throws IOException {
    Path dir =
        Files.createTempDirectory(Path.of(System.getProperty("java.io.tmpdir")), "jsock-pair");
    Path shorter = Path.of("/tmp");
    if (Socket.fitsUnixPath(dir.resolve("s")) || !Files.isDirectory(shorter)) {
      return dir; // (without /tmp, the bind says the path is too long)
    }
    Files.delete(dir);
    return Files.createTempDirectory(shorter, "jsock-pair");
  }

  /**
   * The port of each kind to return results for, in the order Python gives them (stream first). A
   * service name counts for the kinds it is defined for; it fails if that leaves none.
   */
  private static Map<SocketKind, Integer> portsOf(String host, Object port, SocketKind kind)
      throws AddressResolutionException {
    List<SocketKind> kinds = kind == null ? List.of(SocketKind.values()) : List.of(kind);
    Map<SocketKind, Integer> ports = new EnumMap<>(SocketKind.class);
    switch (port) {
      case null -> kinds.forEach(each -> ports.put(each, 0));
      case Integer number -> {
        Addresses.checkPort(number);
        kinds.forEach(each -> ports.put(each, number));
      }
      case String text when text.isEmpty() -> kinds.forEach(each -> ports.put(each, 0));
      case String text when DECIMAL_PORT.matcher(text).matches() -> {
        int number = decimalPort(text);
        kinds.forEach(each -> ports.put(each, number));
      }
      case String service -> {
        for (SocketKind each : kinds) {
          Services.byName(service, protoName(each)).ifPresent(s -> ports.put(each, s.port()));
        }
        if (ports.isEmpty()) {
          String where =
              host == null
                  ? service
                  : (host.contains(":") ? "[" + host + "]" : host) + ":" + service;
          throw new AddressResolutionException(
              "resolve " + where + ": " + Errno.describe(Errno.EAI_SERVICE),
              Errno.EAI_SERVICE,
              null);
        }
      }
      default ->
          throw new IllegalArgumentException(
              "port: an Integer or a String, not " + port.getClass().getName());
    }
    return ports;
  }

  /**
   * A port number from decimal text as glibc's {@code getaddrinfo} reads it with {@code strtoul},
   * after the text has matched {@link #DECIMAL_PORT}: white space, a sign and leading zeros are
   * taken; a number over 65535 is refused rather than cut to 16 bits as glibc does.
   */
  private static int decimalPort(String text) {
    String digits = text.strip().replaceFirst("^[+-]?0*", "");
    if (digits.length() > 5) {
      throw new IllegalArgumentException("port out of range 0..65535: " + digits);
    }
    return digits.isEmpty() ? 0 : Addresses.checkPort(Integer.parseInt(digits));
  }

  /**
   * Text without the white space at its ends that Python's {@code str.strip()} removes: what {@link
   * String#strip()} removes, and the no-break spaces (U+00A0, U+2007, U+202F) and NEL (U+0085),
   * which Java does not count as white space.
   */
  private static String pythonStrip(String text) {
    int start = 0;
    int end = text.length();
    while (start < end && isPythonSpace(text.charAt(start))) {
      start++;
    }
    while (end > start && isPythonSpace(text.charAt(end - 1))) {
      end--;
    }
    return text.substring(start, end);
  }

  private static boolean isPythonSpace(char c) {
    return Character.isWhitespace(c)
        || c == '\u0085'
        || c == '\u00A0'
        || c == '\u2007'
        || c == '\u202F';
  }

  private static int protoOf(SocketKind kind) {
    return kind == SocketKind.SOCK_STREAM ? 6 : 17;
  }

  private static String protoName(SocketKind kind) {
    return kind == SocketKind.SOCK_STREAM ? "tcp" : "udp";
  }

  /** Every address of a host, or the failure that names {@code operation}. */
  private static List<InetAddress> lookup(String host, String operation)
      throws AddressResolutionException {
    try {
      return Addresses.lookup(host);
    } catch (UnknownHostException e) {
      int errno = Addresses.resolverErrno(e);
      var failure =
          new AddressResolutionException(
              operation + " " + host + ": " + Errno.describe(errno), errno, null);
      failure.initCause(e);
      throw failure;
    }
  }

  /** The distinct IPv4 addresses of a host as text, in the resolver's order. */
  private static List<String> ipv4Addresses(String host, String operation)
      throws AddressResolutionException {
    List<String> found =
        lookup(host, operation).stream()
            .map(Addresses::unmapped) // as getaddrinfo for AF_INET, which Python asks here
            .filter(Inet4Address.class::isInstance)
            .map(Addresses::ipText)
            .distinct()
            .toList();
    if (found.isEmpty()) {
      int errno = Addresses.noAddressOfTheFamily(host, false);
      throw new AddressResolutionException(
          operation + " " + host + ": " + Errno.describe(errno), errno, null);
    }
    return found;
  }

  /**
   * The name of an address by reverse lookup, if it has one. On the epoll path libc's {@code
   * getnameinfo} answers, as in Python: the name the resolver gives, unchecked, and a name server's
   * failure is one ({@code EAI_AGAIN}). On the portable path the JDK answers: it gives the literal
   * when there is no name, and also when the name does not resolve back to the address, or the name
   * server failed.
   *
   * @throws NativeNames.Failed if libc's lookup failed other than for want of a name
   */
  private static Optional<String> reverseName(InetAddress ip) throws NativeNames.Failed {
    if (NativeNames.isAvailable()) {
      return NativeNames.hostName(ip);
    }
    InetAddress fresh; // without a cached name, so that the JDK asks its resolver
    try {
      fresh = InetAddress.getByAddress(ip.getAddress());
    } catch (UnknownHostException e) {
      throw new AssertionError(e); // 4 or 16 bytes, always
    }
    String name = fresh.getHostName();
    return name.equals(fresh.getHostAddress()) ? Optional.empty() : Optional.of(name);
  }

  private static AddressResolutionException resolutionFailure(
      String operation, InetSocketAddress address, int errno, UnknownHostException cause) {
    var failure =
        new AddressResolutionException(
            Errors.message(operation, address, Errno.describe(errno)), errno, address);
    if (cause != null) {
      failure.initCause(cause);
    }
    return failure;
  }

  private static AddressResolutionException serviceFailure(
      String operation, String proto, String reason) {
    String message = operation + (proto == null ? "" : "/" + proto) + ": " + reason;
    return new AddressResolutionException(message, Errno.EAI_SERVICE, null);
  }

  private static IllegalArgumentException illegalLiteral(String function, String ipString) {
    return new IllegalArgumentException(
        "ipString: illegal IP address string passed to " + function + ": \"" + ipString + "\"");
  }

  private static IllegalArgumentException notInet(String function, Family family) {
    return new IllegalArgumentException(
        "family: " + function + " takes AF_INET or AF_INET6, not " + family);
  }

  private static int swap16(String function, int x) {
    if (x < 0 || x > 0xFFFF) {
      throw new IllegalArgumentException(function + ": value out of range 0..65535: " + x);
    }
    return BIG_ENDIAN ? x : Integer.reverseBytes(x) >>> 16;
  }

  private static long swap32(String function, long x) {
    if (x < 0 || x > 0xFFFF_FFFFL) {
      throw new IllegalArgumentException(function + ": value out of range 0..4294967295: " + x);
    }
    return BIG_ENDIAN ? x : Integer.toUnsignedLong(Integer.reverseBytes((int) x));
  }

  static long defaultTimeoutNanos() {
    return defaultTimeoutNanos;
  }
}
