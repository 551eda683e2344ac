package io.jsock;

import io.jsock.internal.Addresses;
import io.jsock.internal.Errors;
import io.jsock.internal.NativeNames;
import io.jsock.testing.FdLimit;
import java.io.FileInputStream;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.concurrent.Callable;

/**
 * A child JVM's main, for {@link NameServerFailuresTest}: run in a {@link
 * io.jsock.testing.NetnsHost} under {@code ulimit -n}, it takes every free descriptor, then
 * resolves {@code localhost} (of {@code /etc/hosts}) and {@code one.test} (of the name server),
 * each failing as glibc's {@code EAI_SYSTEM} with EMFILE, and a literal, which needs no descriptor;
 * then frees them and resolves both names again at once, as python3 does. It prints what each gave.
 * With two names as arguments it compares the lookup made again with the JDK's (see {@link
 * #againOnceFreed}).
 */
public final class ForwardLookupAtTheFdLimit {
  private ForwardLookupAtTheFdLimit() {}

  public static void main(String[] args) throws Exception {
    warmUp();
    if (args.length == 2) {
      againOnceFreed(args[0], args[1]);
      return;
    }
    List<String> out = new ArrayList<>();
    Deque<FileInputStream> held = FdLimit.takeEveryDescriptor();
    out.add("localhost " + attempt(() -> resolve("localhost")));
    out.add("one.test " + attempt(() -> resolve("one.test")));
    out.add("127.0.0.1 " + attempt(() -> resolve("127.0.0.1")));
    out.add("getHostByName " + attempt(() -> Sockets.getHostByName("one.test")));
    out.add("one.test again " + attempt(() -> resolve("one.test")));
    FdLimit.release(held);
    out.add("freed localhost " + attempt(() -> resolve("localhost")));
    out.add("freed one.test " + attempt(() -> resolve("one.test")));
    out.add("freed getHostByName " + attempt(() -> Sockets.getHostByName("one.test")));
    out.forEach(System.out::println);
  }

  /**
   * Resolves {@code failed} out of descriptors, then again once they are free (libc's answer, the
   * JDK's negative cache holding the failure), and {@code twin}, a name with the same addresses,
   * which the JDK answers: prints every address each gave, in their order.
   */
  private static void againOnceFreed(String failed, String twin) throws Exception {
    List<String> out = new ArrayList<>();
    Deque<FileInputStream> held = FdLimit.takeEveryDescriptor();
    out.add(failed + " " + attempt(() -> resolveAll(failed)));
    FdLimit.release(held);
    out.add("freed " + failed + " " + attempt(() -> resolveAll(failed)));
    out.add(twin + " " + attempt(() -> resolveAll(twin)));
    out.forEach(System.out::println);
  }

  /** Every address getAddrInfo gives for port 80, in its order. */
  private static Object resolveAll(String host) throws Exception {
    return Sockets.getAddrInfo(host, 80, null, SocketKind.SOCK_STREAM).stream()
        .map(info -> Addresses.format(info.address()))
        .toList();
  }

  /** The first address getAddrInfo gives for port 80, as python3's first. */
  private static Object resolve(String host) throws Exception {
    return Addresses.format(
        Sockets.getAddrInfo(host, 80, null, SocketKind.SOCK_STREAM).getFirst().address());
  }

  /** Loads jsock's classes and libc's lookup while descriptors are free (as StartsAtTheFdLimit). */
  private static void warmUp() throws Exception {
    FdLimit.loadJsockClasses(ForwardLookupAtTheFdLimit.class.getClassLoader());
    NativeNames.isAvailable(); // and the epoll poller it needs
    Errors.of(Errno.EMFILE, "resolve", null);
    // glibc reads nsswitch.conf at its first lookup of a name: without it, a lookup out of
    // descriptors says EAI_NONAME, python3's too. A name that does not exist, so that the JDK's
    // cache keeps none of the names looked up later
    attempt(() -> resolve("nx.test"));
    new InetSocketAddress("127.0.0.1", 80);
  }

  private static String attempt(Callable<Object> lookup) {
    try {
      return "made " + lookup.call();
    } catch (Throwable e) {
      String errno = e instanceof SocketError error ? " " + error.errno() : "";
      return e.getClass().getSimpleName() + errno + ": " + e.getMessage();
    }
  }
}
