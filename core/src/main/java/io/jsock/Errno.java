package io.jsock;

import java.util.Map;

/**
 * POSIX error numbers as Linux defines them, as in Python's {@code errno} module, with their
 * standard descriptions.
 *
 * <pre>{@code
 * int err = sock.connectEx("localhost", 9);   // Errno.ECONNREFUSED
 * System.out.println(Errno.describe(err));     // "connection refused"
 * }</pre>
 */
public final class Errno {
  /** Operation not permitted. */
  public static final int EPERM = 1;

  /** No such file or directory (a Unix-domain socket path). */
  public static final int ENOENT = 2;

  /** Interrupted system call. */
  public static final int EINTR = 4;

  /** Input/output error. */
  public static final int EIO = 5;

  /** Bad file descriptor: the socket is closed. */
  public static final int EBADF = 9;

  /** Resource temporarily unavailable: the operation would block. */
  public static final int EAGAIN = 11;

  /** Cannot allocate memory. */
  public static final int ENOMEM = 12;

  /** Permission denied. */
  public static final int EACCES = 13;

  /** No such device: an IPv6 scope (interface index) that names no interface. */
  public static final int ENODEV = 19;

  /** Not a directory (a Unix-domain socket path through a file that is not one). */
  public static final int ENOTDIR = 20;

  /** Invalid argument. */
  public static final int EINVAL = 22;

  /** Too many open files in the system. */
  public static final int ENFILE = 23;

  /** Too many open files in this process. */
  public static final int EMFILE = 24;

  /** Broken pipe. */
  public static final int EPIPE = 32;

  /** File name too long (a Unix-domain socket path). */
  public static final int ENAMETOOLONG = 36;

  /** Too many levels of symbolic links (a Unix-domain socket path). */
  public static final int ELOOP = 40;

  /** Protocol error: the peer broke the framing or protocol agreed on. */
  public static final int EPROTO = 71;

  /** Destination address required: sending on an unconnected datagram socket. */
  public static final int EDESTADDRREQ = 89;

  /** Message too long. */
  public static final int EMSGSIZE = 90;

  /** Protocol wrong type for socket: a stream socket's connect to the path of a datagram socket. */
  public static final int EPROTOTYPE = 91;

  /** Protocol not available (an option that does not fit the socket). */
  public static final int ENOPROTOOPT = 92;

  /** Operation not supported. */
  public static final int EOPNOTSUPP = 95;

  /** Address family not supported by protocol. */
  public static final int EAFNOSUPPORT = 97;

  /** Address already in use. */
  public static final int EADDRINUSE = 98;

  /** Cannot assign requested address. */
  public static final int EADDRNOTAVAIL = 99;

  /** Network is down. */
  public static final int ENETDOWN = 100;

  /** Network is unreachable. */
  public static final int ENETUNREACH = 101;

  /** Software caused connection abort. */
  public static final int ECONNABORTED = 103;

  /** Connection reset by peer. */
  public static final int ECONNRESET = 104;

  /** No buffer space available. */
  public static final int ENOBUFS = 105;

  /** Transport endpoint is already connected. */
  public static final int EISCONN = 106;

  /** Transport endpoint is not connected. */
  public static final int ENOTCONN = 107;

  /** Connection timed out. */
  public static final int ETIMEDOUT = 110;

  /** Connection refused. */
  public static final int ECONNREFUSED = 111;

  /** No route to host. */
  public static final int EHOSTUNREACH = 113;

  /** Operation already in progress. */
  public static final int EALREADY = 114;

  /** Operation now in progress: a non-blocking connect has started. */
  public static final int EINPROGRESS = 115;

  /** {@code getaddrinfo}: address family for host name not supported. */
  public static final int EAI_ADDRFAMILY = -9;

  /** {@code getaddrinfo}: name or service not known. */
  public static final int EAI_NONAME = -2;

  /** {@code getaddrinfo}: temporary failure in name resolution. */
  public static final int EAI_AGAIN = -3;

  /**
   * {@code getaddrinfo}: no address associated with host name (a name server knows the name, with
   * no address of the family asked, or none at all).
   */
  public static final int EAI_NODATA = -5;

  /** {@code getaddrinfo}: servname not supported for the socket type. */
  public static final int EAI_SERVICE = -8;

  /**
   * {@code getaddrinfo}: system error, a system call of the lookup failed (out of descriptors, …);
   * where jsock can ask libc which, it reports that errno instead ({@link #EMFILE}, …), as Python's
   * {@code OSError}.
   */
  public static final int EAI_SYSTEM = -11;

  private static final Map<Integer, String> DESCRIPTIONS =
      Map.ofEntries(
          Map.entry(EPERM, "operation not permitted"),
          Map.entry(ENOENT, "no such file or directory"),
          Map.entry(EINTR, "interrupted system call"),
          Map.entry(EIO, "input/output error"),
          Map.entry(EBADF, "bad file descriptor"),
          Map.entry(EAGAIN, "resource temporarily unavailable"),
          Map.entry(ENOMEM, "cannot allocate memory"),
          Map.entry(EACCES, "permission denied"),
          Map.entry(ENODEV, "no such device"),
          Map.entry(ENOTDIR, "not a directory"),
          Map.entry(EINVAL, "invalid argument"),
          Map.entry(ENFILE, "too many open files in system"),
          Map.entry(EMFILE, "too many open files"),
          Map.entry(EPIPE, "broken pipe"),
          Map.entry(ENAMETOOLONG, "file name too long"),
          Map.entry(ELOOP, "too many levels of symbolic links"),
          Map.entry(EPROTO, "protocol error"),
          Map.entry(EDESTADDRREQ, "destination address required"),
          Map.entry(EMSGSIZE, "message too long"),
          Map.entry(EPROTOTYPE, "protocol wrong type for socket"),
          Map.entry(ENOPROTOOPT, "protocol not available"),
          Map.entry(EOPNOTSUPP, "operation not supported"),
          Map.entry(EAFNOSUPPORT, "address family not supported by protocol"),
          Map.entry(EADDRINUSE, "address already in use"),
          Map.entry(EADDRNOTAVAIL, "cannot assign requested address"),
          Map.entry(ENETDOWN, "network is down"),
          Map.entry(ENETUNREACH, "network is unreachable"),
          Map.entry(ECONNABORTED, "software caused connection abort"),
          Map.entry(ECONNRESET, "connection reset by peer"),
          Map.entry(ENOBUFS, "no buffer space available"),
          Map.entry(EISCONN, "transport endpoint is already connected"),
          Map.entry(ENOTCONN, "transport endpoint is not connected"),
          Map.entry(ETIMEDOUT, "connection timed out"),
          Map.entry(ECONNREFUSED, "connection refused"),
          Map.entry(EHOSTUNREACH, "no route to host"),
          Map.entry(EALREADY, "operation already in progress"),
          Map.entry(EINPROGRESS, "operation now in progress"),
          Map.entry(EAI_ADDRFAMILY, "address family for hostname not supported"),
          Map.entry(EAI_NONAME, "name or service not known"),
          Map.entry(EAI_AGAIN, "temporary failure in name resolution"),
          Map.entry(EAI_NODATA, "no address associated with hostname"),
          Map.entry(EAI_SERVICE, "servname not supported for ai_socktype"),
          Map.entry(EAI_SYSTEM, "system error"));

  private Errno() {}

  /**
   * The standard description of an error number, lower-cased as jsock's messages use it ({@code
   * "connection refused"}), {@code "success"} for 0, or {@code "unknown error N"} for a number this
   * table does not know, as the C library's {@code strerror} (Python's {@code os.strerror}) words
   * them.
   */
  public static String describe(int errno) {
    return errno == 0 ? "success" : DESCRIPTIONS.getOrDefault(errno, "unknown error " + errno);
  }
}
