package io.jsock.internal;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

import io.jsock.Errno;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.NetworkInterface;
import java.net.UnknownHostException;
import java.net.spi.InetAddressResolverProvider;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.ServiceConfigurationError;
import java.util.ServiceLoader;
import java.util.Set;

/**
 * Reverse lookups with libc's {@code getnameinfo(3)}, called through the FFM API where the epoll
 * poller is ({@link Epoll#isAvailable()}) and the JDK's resolver is its own (see {@link
 * #jdkResolverIsLibcs()}): the name the resolver gives for an address, as Python's {@code
 * getnameinfo} and {@code gethostbyaddr} have it, without the JDK's check that the name resolves
 * back to the address, and with a name server's failure told apart from an address without a name;
 * and libc's {@code getaddrinfo(3)} for why a name the JDK resolved has no address of the IP
 * version asked for ({@code EAI_NODATA} from a name server, {@code EAI_NONAME} from {@code
 * /etc/hosts}), which the JDK's lookup of every address cannot tell. The call blocks for as long as
 * the resolver waits: on a virtual thread it runs on a platform thread of its own ({@link
 * OffCarrier}), so that no carrier waits with it.
 */
public final class NativeNames {
  /** glibc's {@code NI_NAMEREQD}. */
  private static final int NI_NAMEREQD = 8;

  /** glibc's {@code NI_MAXHOST}, room for any host name and its NUL. */
  private static final int NI_MAXHOST = 1025;

  private static final int EAI_NONAME = -2;
  private static final int EAI_AGAIN = -3;

  /** glibc's {@code EAI_SYSTEM}: a system call failed, and errno says why (EMFILE, …). */
  private static final int EAI_SYSTEM = -11;

  private static final long ERRNO_OFFSET =
      Linker.Option.captureStateLayout().byteOffset(MemoryLayout.PathElement.groupElement("errno"));

  private static final MethodHandle GETNAMEINFO;

  private static final MethodHandle GETADDRINFO;

  private static final MethodHandle FREEADDRINFO;

  static {
    MethodHandle getNameInfo = null;
    MethodHandle getAddrInfo = null;
    MethodHandle freeAddrInfo = null;
    if (Epoll.isAvailable() && ADDRESS.byteSize() == Long.BYTES && jdkResolverIsLibcs()) {
      Linker linker = Linker.nativeLinker();
      // int getnameinfo(const struct sockaddr *sa, socklen_t salen, char *host, socklen_t hostlen,
      //                 char *serv, socklen_t servlen, int flags)
      getNameInfo =
          linker.downcallHandle(
              linker.defaultLookup().find("getnameinfo").orElseThrow(),
              FunctionDescriptor.of(
                  JAVA_INT, ADDRESS, JAVA_INT, ADDRESS, JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT),
              Linker.Option.captureCallState("errno")); // for EAI_SYSTEM
      // int getaddrinfo(const char *node, const char *service, const struct addrinfo *hints,
      //                 struct addrinfo **res), and void freeaddrinfo(struct addrinfo *res)
      getAddrInfo =
          linker.downcallHandle(
              linker.defaultLookup().find("getaddrinfo").orElseThrow(),
              FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, ADDRESS, ADDRESS),
              Linker.Option.captureCallState("errno")); // for EAI_SYSTEM
      freeAddrInfo =
          linker.downcallHandle(
              linker.defaultLookup().find("freeaddrinfo").orElseThrow(),
              FunctionDescriptor.ofVoid(ADDRESS));
    }
    GETNAMEINFO = getNameInfo;
    GETADDRINFO = getAddrInfo;
    FREEADDRINFO = freeAddrInfo;
  }

  private NativeNames() {}

  /**
   * Whether the JDK resolves names with libc, as it does unless {@code jdk.net.hosts.file} or an
   * {@link InetAddressResolverProvider} replaces it: then reverse lookups stay with the JDK too, so
   * that they answer from what forward lookups answer from.
   */
  private static boolean jdkResolverIsLibcs() {
    if (System.getProperty("jdk.net.hosts.file") != null) {
      return false;
    }
    try {
      return ServiceLoader.load(InetAddressResolverProvider.class).findFirst().isEmpty();
    } catch (ServiceConfigurationError e) {
      return false;
    }
  }

  /** Whether {@link #hostName} can be called. */
  public static boolean isAvailable() {
    return GETNAMEINFO != null;
  }

  /**
   * The name of an address, as glibc's {@code getnameinfo} with {@code NI_NAMEREQD}: empty if the
   * address has no name.
   *
   * @throws Failed with {@link Errno#EAI_AGAIN} if the name server failed or did not answer (which
   *     glibc reports with or without {@code NI_NAMEREQD}), or another {@code EAI_*} code
   */
  public static Optional<String> hostName(InetAddress ip) throws Failed {
    return OffCarrier.call("jsock-reverse-lookup", () -> lookUp(ip));
  }

  private static Optional<String> lookUp(InetAddress ip) throws Failed {
    int result;
    int errno;
    String name;
    try (Arena arena = Arena.ofConfined()) {
      MemorySegment state = arena.allocate(Linker.Option.captureStateLayout());
      MemorySegment sockaddr = sockaddr(arena, ip);
      MemorySegment host = arena.allocate(NI_MAXHOST);
      try {
        result =
            (int)
                GETNAMEINFO.invokeExact(
                    state,
                    sockaddr,
                    (int) sockaddr.byteSize(),
                    host,
                    NI_MAXHOST,
                    MemorySegment.NULL,
                    0,
                    NI_NAMEREQD);
      } catch (Throwable e) {
        throw new IllegalStateException("getnameinfo", e);
      }
      errno = state.get(JAVA_INT, ERRNO_OFFSET);
      name = result == 0 ? host.getString(0) : null;
    }
    return switch (result) {
      case 0 -> Optional.of(name);
      case EAI_NONAME -> Optional.empty();
      case EAI_SYSTEM -> throw new Failed(result, errno);
      default -> throw new Failed(result == EAI_AGAIN ? Errno.EAI_AGAIN : result, 0);
    };
  }

  /**
   * Why libc's {@code getaddrinfo} finds no address of one IP version for {@code name} (ASCII), as
   * Python asks it for a socket of that family: {@link Errno#EAI_NODATA} for a name the name server
   * knows with addresses of the other version only, {@link Errno#EAI_NONAME} for one of {@code
   * /etc/hosts} (glibc says so), {@link Errno#EAI_AGAIN} for a name server that failed; 0 if it
   * finds one after all.
   */
  public static int addressError(String name, boolean ipv6) {
    return OffCarrier.call("jsock-lookup", () -> askAddresses(name, ipv6));
  }

  private static int askAddresses(String name, boolean ipv6) {
    try {
      askAddresses(name, ipv6 ? 10 : 2);
      return 0;
    } catch (Failed e) {
      return e.code();
    }
  }

  /**
   * Every address libc's {@code getaddrinfo} gives for {@code name} (ASCII), once each, as the
   * JDK's lookup gives them: IPv4 only with {@code java.net.preferIPv4Stack=true}, else in the
   * order of {@code java.net.preferIPv6Addresses} as the JDK reads it (case ignored): IPv4 first
   * unless it says {@code true}, or {@code system} for libc's order. For a lookup the JDK cannot
   * make again, its failure cached.
   *
   * @throws Failed with the {@code EAI_*} code, and for {@code EAI_SYSTEM} the errno
   */
  public static List<InetAddress> addresses(String name) throws Failed {
    // read as the JDK's InetAddress reads them, once
    boolean ipv4Only = "true".equals(PREFER_IPV4_STACK);
    List<InetAddress> found =
        OffCarrier.call("jsock-lookup", () -> askAddresses(name, ipv4Only ? 2 : 0));
    if (ipv4Only || "system".equalsIgnoreCase(PREFER_IPV6_ADDRESSES)) {
      return found;
    }
    boolean v6First = "true".equalsIgnoreCase(PREFER_IPV6_ADDRESSES);
    List<InetAddress> ordered = new ArrayList<>(found.size());
    for (InetAddress each : found) {
      if ((each instanceof Inet6Address) == v6First) {
        ordered.add(each);
      }
    }
    for (InetAddress each : found) {
      if ((each instanceof Inet6Address) != v6First) {
        ordered.add(each);
      }
    }
    return ordered;
  }

  private static final String PREFER_IPV4_STACK = System.getProperty("java.net.preferIPv4Stack");

  private static final String PREFER_IPV6_ADDRESSES =
      System.getProperty("java.net.preferIPv6Addresses");

  private static List<InetAddress> askAddresses(String name, int family) throws Failed {
    try (Arena arena = Arena.ofConfined()) {
      MemorySegment state = arena.allocate(Linker.Option.captureStateLayout());
      // struct addrinfo: ai_flags, ai_family, ai_socktype, ai_protocol, ai_addrlen, (padding),
      // ai_addr, ai_canonname, ai_next; zeroed but for the family and SOCK_STREAM (each address
      // once)
      MemorySegment hints = arena.allocate(ADDRINFO_SIZE, 8);
      hints.set(JAVA_INT, 4, family);
      hints.set(JAVA_INT, 8, 1);
      MemorySegment result = arena.allocate(ADDRESS);
      int code;
      try {
        code =
            (int)
                GETADDRINFO.invokeExact(
                    state, arena.allocateFrom(name), MemorySegment.NULL, hints, result);
      } catch (Throwable e) {
        throw new IllegalStateException("getaddrinfo", e);
      }
      if (code != 0) {
        throw new Failed(code, code == EAI_SYSTEM ? state.get(JAVA_INT, ERRNO_OFFSET) : 0);
      }
      MemorySegment first = result.get(ADDRESS, 0);
      try {
        return addressesOf(first);
      } finally {
        try {
          FREEADDRINFO.invokeExact(first);
        } catch (Throwable e) {
          throw new IllegalStateException("freeaddrinfo", e);
        }
      }
    }
  }

  private static final long ADDRINFO_SIZE = 48;

  /** The addresses of a list of {@code struct addrinfo}, each once, in its order. */
  private static List<InetAddress> addressesOf(MemorySegment first) {
    Set<InetAddress> found = new LinkedHashSet<>();
    for (MemorySegment at = first;
        !at.equals(MemorySegment.NULL);
        at = at.reinterpret(ADDRINFO_SIZE).get(ADDRESS, 40)) {
      MemorySegment info = at.reinterpret(ADDRINFO_SIZE);
      int family = info.get(JAVA_INT, 4);
      MemorySegment sockaddr = info.get(ADDRESS, 24).reinterpret(28);
      try {
        if (family == 2) { // sockaddr_in: sin_addr at 4
          byte[] ip = new byte[4];
          MemorySegment.copy(sockaddr, JAVA_BYTE, 4, ip, 0, 4);
          found.add(InetAddress.getByAddress(ip));
        } else if (family == 10) { // sockaddr_in6: sin6_addr at 8, sin6_scope_id at 24
          byte[] ip = new byte[16];
          MemorySegment.copy(sockaddr, JAVA_BYTE, 8, ip, 0, 16);
          int scope = sockaddr.get(JAVA_INT, 24);
          found.add(
              scope == 0
                  ? Inet6Address.getByAddress(null, ip, (NetworkInterface) null)
                  : Inet6Address.getByAddress(null, ip, scope));
        }
      } catch (UnknownHostException e) {
        throw new AssertionError(e); // 4 or 16 bytes, always
      }
    }
    return List.copyOf(found);
  }

  /** A {@code struct sockaddr_in} or {@code sockaddr_in6} of the address, port 0. */
  private static MemorySegment sockaddr(Arena arena, InetAddress ip) {
    byte[] bytes = ip.getAddress();
    if (ip instanceof Inet6Address v6) {
      // sin6_family, sin6_port, sin6_flowinfo, sin6_addr[16], sin6_scope_id
      MemorySegment segment = arena.allocate(28, 4);
      segment.set(JAVA_SHORT, 0, (short) 10);
      MemorySegment.copy(bytes, 0, segment, JAVA_BYTE, 8, 16);
      segment.set(JAVA_INT, 24, v6.getScopeId());
      return segment;
    }
    // sin_family, sin_port, sin_addr[4], sin_zero[8]
    MemorySegment segment = arena.allocate(16, 4);
    segment.set(JAVA_SHORT, 0, (short) 2);
    MemorySegment.copy(bytes, 0, segment, JAVA_BYTE, 4, 4);
    return segment;
  }

  /**
   * A failed lookup: its {@code EAI_*} code, as Python's {@code gaierror} numbers them, and for
   * {@code EAI_SYSTEM} the errno of the system call that failed (Python raises {@code OSError} of
   * it).
   */
  public static final class Failed extends Exception {
    private static final long serialVersionUID = 1L;

    private final int code;
    private final int errno;

    Failed(int code, int errno) {
      super(null, null, false, false);
      this.code = code;
      this.errno = errno;
    }

    /** The {@code EAI_*} code (glibc's, which are Python's). */
    public int code() {
      return code;
    }

    /**
     * For {@code EAI_SYSTEM}, the errno that says which system call's failure it was, as Python's
     * {@code OSError} has it ({@code EMFILE}, …); else 0.
     */
    public int errno() {
      return errno;
    }
  }
}
