package io.jsock;

import io.jsock.internal.Errors;
import io.jsock.internal.NativeNames;
import io.jsock.testing.FdLimit;
import java.io.FileInputStream;
import java.net.InetSocketAddress;
import java.util.Deque;

/**
 * A child JVM's main, for {@link ReverseLookupTest}: run in a {@link io.jsock.testing.NetnsHost}
 * under {@code ulimit -n}, it takes every free descriptor, then looks up the address in {@code
 * args[0]} with getNameInfo and getHostByAddr (glibc's lookup fails to open its files: {@code
 * EAI_SYSTEM} with EMFILE), and prints what each threw.
 */
public final class ReverseLookupAtTheFdLimit {
  private ReverseLookupAtTheFdLimit() {}

  public static void main(String[] args) throws Exception {
    String ip = args[0];
    warmUp(ip);
    Deque<FileInputStream> held = FdLimit.takeEveryDescriptor();
    String nameInfo = attempt(() -> Sockets.getNameInfo(new InetSocketAddress(ip, 80)));
    String hostByAddr = attempt(() -> Sockets.getHostByAddr(ip));
    FdLimit.release(held);
    System.out.println("NAMEINFO " + nameInfo);
    System.out.println("HOSTBYADDR " + hostByAddr);
  }

  /** Loads jsock's classes and libc's lookup while descriptors are free (as StartsAtTheFdLimit). */
  private static void warmUp(String ip) throws Exception {
    FdLimit.loadJsockClasses(ReverseLookupAtTheFdLimit.class.getClassLoader());
    NativeNames.isAvailable(); // and the epoll poller it needs
    Errors.of(Errno.EMFILE, "getNameInfo", null);
    // no lookup: glibc reads nsswitch.conf at its first, and a later one out of descriptors is
    // EAI_AGAIN (a name server's socket failed), python3's too
    attempt(() -> "loaded");
    new InetSocketAddress(
        ip, 80); // a literal: InetAddress set up (it reads java.security), no lookup
  }

  private interface Lookup {
    Object run() throws Exception;
  }

  private static String attempt(Lookup lookup) {
    try {
      return "made " + lookup.run();
    } catch (Throwable e) {
      String errno = e instanceof SocketError error ? " " + error.errno() : "";
      return e.getClass().getSimpleName() + errno + ": " + e.getMessage();
    }
  }
}
