package io.jsock.internal;

import io.jsock.AddressResolutionException;
import io.jsock.Errno;
import java.net.IDN;
import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.NetworkInterface;
import java.net.SocketAddress;
import java.net.SocketException;
import java.net.UnixDomainSocketAddress;
import java.net.UnknownHostException;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/** Address checks, resolution honouring a socket's family, and the one way addresses print. */
public final class Addresses {
  private Addresses() {}

  /**
   * {@code (host, port)} as an unresolved address, for the {@code (String host, int port)} forms of
   * calls that resolve the host themselves; the host named if null, the port checked.
   */
  public static InetSocketAddress unresolved(String host, int port) {
    Objects.requireNonNull(host, "host");
    return InetSocketAddress.createUnresolved(host, checkPort(port));
  }

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
   * address (refused by an IPv6 socket), anything else the first address of that version the
   * resolver gives.
   */
  public static InetSocketAddress resolve(String host, int port, boolean ipv6, String operation)
      throws AddressResolutionException {
    Objects.requireNonNull(host, "host");
    checkPort(port);
    InetSocketAddress unresolved = InetSocketAddress.createUnresolved(host, port);
    if (host.equals("<broadcast>") && ipv6) {
      // as Python ("address family mismatched"), never a lookup that would ask DNS for it
      throw new AddressResolutionException(
          Errors.message(operation, unresolved, Errno.describe(Errno.EAI_ADDRFAMILY)),
          Errno.EAI_ADDRFAMILY,
          unresolved);
    }
    try {
      if (host.isEmpty()) {
        return new InetSocketAddress(anyLocal(ipv6), port);
      }
      if (host.equals("<broadcast>")) {
        return new InetSocketAddress(InetAddress.getByAddress(new byte[] {-1, -1, -1, -1}), port);
      }
      for (InetAddress found : lookup(host)) {
        InetAddress candidate = ipv6 ? found : unmapped(found);
        if ((candidate instanceof Inet6Address) == ipv6) {
          return new InetSocketAddress(candidate, port);
        }
      }
    } catch (UnknownHostException e) {
      int errno = resolverErrno(e);
      var failure =
          new AddressResolutionException(
              Errors.message(operation, unresolved, Errno.describe(errno)), errno, unresolved);
      failure.initCause(e);
      throw failure;
    }
    int errno = noAddressOfTheFamily(host, ipv6);
    throw new AddressResolutionException(
        Errors.message(operation, unresolved, Errno.describe(errno)), errno, unresolved);
  }

  /**
   * What {@code getaddrinfo} says when {@code host} has no address of the IP version asked for, as
   * glibc: a literal of the other family is {@link Errno#EAI_ADDRFAMILY}; a name that the name
   * server knows with addresses of the other version only has none ({@link Errno#EAI_NODATA}, as
   * libc says where the JDK resolves with it, see {@link NativeNames}), one of {@code /etc/hosts}
   * or of the JDK's own resolver is not known ({@link Errno#EAI_NONAME}).
   */
  public static int noAddressOfTheFamily(String host, boolean ipv6) {
    if (numericHost(host).isPresent()) {
      return Errno.EAI_ADDRFAMILY;
    }
    if (NativeNames.isAvailable()) {
      try {
        int code = NativeNames.addressError(asciiName(host), ipv6);
        if (code == Errno.EAI_NODATA || code == Errno.EAI_AGAIN) {
          return code;
        }
      } catch (UnknownHostException e) {
        // no IDNA encoding: the JDK's lookup would have failed first
      }
    }
    return Errno.EAI_NONAME;
  }

  /** The wildcard address of an IP version: {@code 0.0.0.0} or {@code ::}. */
  public static InetAddress anyLocal(boolean ipv6) {
    try {
      return InetAddress.getByAddress(new byte[ipv6 ? 16 : 4]);
    } catch (UnknownHostException e) {
      throw new AssertionError(e);
    }
  }

  /** The loopback address of an IP version: {@code 127.0.0.1} or {@code ::1}. */
  public static InetAddress loopback(boolean ipv6) {
    byte[] raw = new byte[ipv6 ? 16 : 4];
    raw[0] = (byte) (ipv6 ? 0 : 127);
    raw[raw.length - 1] = 1;
    try {
      return InetAddress.getByAddress(raw);
    } catch (UnknownHostException e) {
      throw new AssertionError(e);
    }
  }

  /**
   * How jsock prints an address: {@code 127.0.0.1:80}, {@code [::1]:80}, {@code host:80} for an
   * unresolved one ({@code [host]:80} if its name has a colon, unless it has a bracket of its own:
   * {@code [::1]:80}, {@code [::1:80} for the names {@code [::1]}, {@code [::1}, never a pair
   * around them), the path for a Unix-domain socket.
   */
  public static String format(SocketAddress address) {
    if (address instanceof InetSocketAddress inet) {
      InetAddress ip = inet.getAddress();
      String host = ip == null ? inet.getHostString() : ipText(ip);
      boolean bracket =
          ip instanceof Inet6Address
              || (ip == null && host.contains(":") && !hasBracket(host)); // "[::1]" as a name
      return (bracket ? "[" + host + "]" : host) + ":" + inet.getPort();
    }
    if (address instanceof UnixDomainSocketAddress unix) {
      String path = unix.getPath().toString();
      return path.isEmpty() ? "(unnamed)" : path;
    }
    return String.valueOf(address);
  }

  private static boolean hasBracket(String host) {
    return host.indexOf('[') >= 0 || host.indexOf(']') >= 0;
  }

  /**
   * An IP address as jsock and Python write it, without any lookup: {@code 127.0.0.1}, or IPv6 in
   * RFC 5952 text ({@code ::1} rather than the JDK's {@code 0:0:0:0:0:0:0:1}) with a scope as the
   * JDK writes it ({@code fe80::1%eth0}), none for a scope id of 0.
   */
  public static String ipText(InetAddress ip) {
    if (!(ip instanceof Inet6Address v6)) {
      return ip.getHostAddress();
    }
    String jdk = ip.getHostAddress();
    int scope = jdk.indexOf('%');
    String text = Literals.ipv6Text(ip.getAddress());
    // a scope id of 0 is no scope, as glibc writes it; the JDK writes "%0" for one given as 0
    boolean scoped = scope >= 0 && (v6.getScopeId() != 0 || v6.getScopedInterface() != null);
    return scoped ? text + jdk.substring(scope) : text;
  }

  /**
   * An IP address as glibc's {@code getnameinfo} writes it with {@code NI_NUMERICHOST}: as {@link
   * #ipText}, but the scope of a link-local address ({@code fe80::/10}, or multicast {@code
   * ff02::}) as its interface's name ({@code fe80::1%eth0}), any other scope as a number ({@code
   * 2001:db8::1%4}).
   */
  public static String nameInfoText(InetAddress ip) {
    if (!(ip instanceof Inet6Address v6) || v6.getScopeId() == 0) {
      return ipText(ip);
    }
    String text = Literals.ipv6Text(v6.getAddress()) + "%";
    boolean linkLocal = v6.isLinkLocalAddress() || v6.isMCLinkLocal();
    try {
      NetworkInterface nif = linkLocal ? NetworkInterface.getByIndex(v6.getScopeId()) : null;
      return text + (nif == null ? Integer.toString(v6.getScopeId()) : nif.getName());
    } catch (SocketException e) {
      return text + v6.getScopeId(); // as glibc when if_indextoname fails
    }
  }

  /**
   * Every address of a host, in the resolver's order. A literal is parsed here and never looked up:
   * the {@code inet_aton} forms ({@code 127.0.0.1}, {@code 127.1}, {@code 0x7f.1}) and IPv6 with an
   * optional numeric or interface scope, IPv4-mapped ones staying IPv6 as in Python. Text that only
   * looks like a literal (digits and dots, or a colon) fails here without a lookup, since no host
   * name has that form; any other name goes to the JDK's resolver, encoded as Python's {@code idna}
   * codec does if it is not ASCII.
   *
   * @throws UnknownHostException if the name does not resolve, or is empty
   */
  public static List<InetAddress> lookup(String host) throws UnknownHostException {
    Optional<InetAddress> literal = numericHost(host);
    if (literal.isPresent()) {
      return List.of(literal.get());
    }
    if (host.isEmpty()) {
      throw new UnknownHostException("empty host name"); // the JDK would answer loopback
    }
    if (host.chars().allMatch(c -> c == '.' || (c >= '0' && c <= '9'))
        || host.indexOf(':') >= 0
        || host.indexOf('%') >= 0) {
      throw new UnknownHostException(host + ": not a valid IP address literal");
    }
    String ascii = asciiName(host);
    try {
      InetAddress[] found = InetAddress.getAllByName(ascii);
      if (!FAILURES.isEmpty()) {
        FAILURES.remove(ascii);
      }
      return List.of(found);
    } catch (UnknownHostException e) {
      int errno = resolverErrno(e);
      // a fresh failure carries glibc's reason, words with spaces; the JDK's cached one only the
      // name (or nothing, where jdk.includeInExceptions keeps host names out)
      if (errno != Errno.EAI_NONAME || e.getMessage() != null && e.getMessage().indexOf(' ') >= 0) {
        if (FAILURES.size() >= 256) {
          FAILURES.clear();
        }
        FAILURES.put(ascii, errno); // the JDK's negative cache gives this one again without it
        if (errno == Errno.EAI_SYSTEM) {
          return systemFailureAgain(ascii, e);
        }
        throw e;
      }
      Integer remembered = FAILURES.get(ascii);
      if (remembered == null || remembered == Errno.EAI_NONAME) {
        throw e;
      }
      if (remembered == Errno.EAI_SYSTEM) {
        // the JDK's negative cache keeps the failure of a system call (out of descriptors) for
        // 10 s; libc, asked again, resolves once there are some, as in Python
        return systemFailureAgain(ascii, e);
      }
      var again = new UnknownHostException(ascii + ": " + RESOLVER_REASONS.get(remembered));
      again.initCause(e);
      throw again;
    }
  }

  /**
   * A lookup the JDK failed for a system call's failure (glibc's {@code EAI_SYSTEM}, without its
   * errno), made again by libc where jsock can call it: its addresses if it resolves now, else a
   * failure that says why, a {@link SystemFailure} with errno ({@code EMFILE}) for {@code
   * EAI_SYSTEM}. Elsewhere the JDK's failure, {@code EAI_SYSTEM}.
   */
  private static List<InetAddress> systemFailureAgain(String ascii, UnknownHostException e)
      throws UnknownHostException {
    if (!NativeNames.isAvailable()) {
      if (resolverErrno(e) == Errno.EAI_SYSTEM) {
        throw e;
      }
      var again = new UnknownHostException(ascii + ": " + RESOLVER_REASONS.get(Errno.EAI_SYSTEM));
      again.initCause(e);
      throw again;
    }
    UnknownHostException failure;
    try {
      return NativeNames.addresses(ascii);
    } catch (NativeNames.Failed libc) {
      String reason = RESOLVER_REASONS.get(libc.code());
      failure =
          libc.errno() != 0
              ? new SystemFailure(ascii, libc.errno())
              : new UnknownHostException(
                  ascii + ": " + (reason == null ? "Name or service not known" : reason));
    }
    failure.initCause(e);
    throw failure;
  }

  /**
   * A lookup that a system call failed, with its errno ({@code EMFILE}, …), as Python's OSError.
   */
  private static final class SystemFailure extends UnknownHostException {
    private static final long serialVersionUID = 1L;

    private final int errno;

    SystemFailure(String host, int errno) {
      super(host + ": " + Errno.describe(errno));
      this.errno = errno;
    }
  }

  /**
   * The {@code getaddrinfo} error behind the JDK's failure to resolve a name, as Python reports it:
   * the JDK words it as glibc's {@code gai_strerror} after the name ({@code "a.test: Temporary
   * failure in name resolution"}, or {@code " Temporary failure in name resolution"} where {@code
   * jdk.includeInExceptions} keeps host names out), a server that failed or did not answer being
   * {@link Errno#EAI_AGAIN}, a name without addresses {@link Errno#EAI_NODATA}; anything else, a
   * name that does not exist included, is {@link Errno#EAI_NONAME}. A system call's failure is
   * {@link Errno#EAI_SYSTEM}, or its errno where libc could be asked ({@link Errno#EMFILE}, …).
   */
  public static int resolverErrno(UnknownHostException e) {
    if (e instanceof SystemFailure failure) {
      return failure.errno;
    }
    String message = e.getMessage();
    if (message != null) {
      for (var reason : RESOLVER_REASONS.entrySet()) {
        if (message.endsWith(" " + reason.getValue())) {
          return reason.getKey();
        }
      }
    }
    return Errno.EAI_NONAME;
  }

  /** glibc's {@code gai_strerror} texts, as the JDK's failures carry them. */
  private static final Map<Integer, String> RESOLVER_REASONS =
      Map.of(
          Errno.EAI_AGAIN, "Temporary failure in name resolution",
          Errno.EAI_NODATA, "No address associated with hostname",
          Errno.EAI_NONAME, "Name or service not known",
          Errno.EAI_SYSTEM, "System error");

  /**
   * The reason of the last fresh failure for a name (a few hundred names at most), for the JDK's
   * cached failure, which comes without one.
   */
  private static final Map<String, Integer> FAILURES = new ConcurrentHashMap<>();

  /**
   * A host name as Python hands it to the resolver: a name with a character outside ASCII encoded
   * by the {@code idna} codec ({@code bücher.test} is looked up as {@code xn--bcher-kva.test}),
   * which is IDNA 2003 as {@link IDN#toASCII} is; an ASCII name as it is.
   *
   * @throws UnknownHostException if the name has no IDNA encoding (Python's {@code UnicodeError})
   */
  private static String asciiName(String host) throws UnknownHostException {
    if (host.chars().allMatch(c -> c < 0x80)) {
      return host;
    }
    try {
      return IDN.toASCII(host);
    } catch (IllegalArgumentException e) {
      var failure = new UnknownHostException(host + ": not a valid internationalized domain name");
      failure.initCause(e);
      throw failure;
    }
  }

  /**
   * A host given as a literal, as {@code getaddrinfo} with {@code AI_NUMERICHOST} reads it (see
   * {@link #lookup}); empty if {@code host} is not one.
   */
  public static Optional<InetAddress> numericHost(String host) {
    try {
      Optional<byte[]> ipv4 = Literals.parseAton(host);
      if (ipv4.isPresent()) {
        return Optional.of(InetAddress.getByAddress(ipv4.get()));
      }
      int percent = host.indexOf('%');
      String literal = percent < 0 ? host : host.substring(0, percent);
      Optional<byte[]> ipv6 = Literals.parseIpv6(literal);
      if (ipv6.isEmpty()) {
        return Optional.empty();
      }
      if (percent < 0) {
        // Inet6Address.getByAddress keeps an IPv4-mapped address IPv6, as Python does
        return Optional.of(Inet6Address.getByAddress(null, ipv6.get(), (NetworkInterface) null));
      }
      String scope = host.substring(percent + 1);
      if (!scope.isEmpty() && scope.chars().allMatch(c -> c >= '0' && c <= '9')) {
        return Optional.of(Inet6Address.getByAddress(null, ipv6.get(), Integer.parseInt(scope)));
      }
      // an interface's index, as if_nametoindex gives it to getaddrinfo: the JDK's own scoping by
      // interface refuses one without an address of the literal's scope (lo has no link-local one);
      // glibc names interfaces only for link-local scopes
      // (as __inet6_scopeid_pton: link-local unicast, node- or link-local multicast)
      InetAddress unscoped = InetAddress.getByAddress(ipv6.get());
      if (!(unscoped.isLinkLocalAddress()
          || unscoped.isMCLinkLocal()
          || unscoped.isMCNodeLocal())) {
        return Optional.empty();
      }
      NetworkInterface nif = scope.isEmpty() ? null : NetworkInterface.getByName(scope);
      return nif == null || nif.getIndex() < 0
          ? Optional.empty()
          : Optional.of(Inet6Address.getByAddress(null, ipv6.get(), nif.getIndex()));
    } catch (UnknownHostException | SocketException | NumberFormatException e) {
      return Optional.empty(); // a scope the JDK cannot attach: not a literal it can use
    }
  }

  /**
   * An address as glibc's {@code getaddrinfo} gives it for {@code AF_INET}: an IPv4-mapped IPv6
   * address ({@code ::ffff:127.0.0.1}) as its IPv4 address, any other as it is (an IPv4-compatible
   * {@code ::1.2.3.4} stays IPv6).
   */
  public static InetAddress unmapped(InetAddress address) {
    if (!(address instanceof Inet6Address)) {
      return address;
    }
    byte[] raw = address.getAddress();
    for (int i = 0; i < 10; i++) {
      if (raw[i] != 0) {
        return address;
      }
    }
    if (raw[10] != (byte) 0xFF || raw[11] != (byte) 0xFF) {
      return address;
    }
    try {
      return InetAddress.getByAddress(new byte[] {raw[12], raw[13], raw[14], raw[15]});
    } catch (UnknownHostException e) {
      throw new AssertionError(e); // 4 bytes, always
    }
  }

  /** Whether an IP address belongs to the given version; IPv4 addresses also fit IPv6 sockets. */
  public static boolean fits(InetAddress address, boolean ipv6) {
    return ipv6 || address instanceof Inet4Address;
  }
}
