package io.jsock.internal;

import io.jsock.Family;
import io.jsock.Socket;
import io.jsock.testing.Loopback;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.FutureTask;

/**
 * The child JVM of {@link DeadlinesStartFailureTest}: makes its first timed receive (the one that
 * starts the timer's thread) while its address space is limited to what it uses plus 256 KiB, so
 * that no thread's stack can be mapped, prints what came of it, lifts the limit and receives with a
 * timeout again, twice, and closes the sockets. A receive still waiting after 10 s is told as such
 * (it would wait for ever).
 */
public final class TimesOutWithoutTimerThread {
  private static final int RLIMIT_AS = 9;

  private TimesOutWithoutTimerThread() {}

  public static void main(String[] args) throws Throwable {
    try (Loopback.Pair pair = Loopback.pair(Family.AF_INET)) {
      Socket conn = pair.server();
      pair.client().sendAll(new byte[] {1});
      System.out.println("WARM-UP " + receive(conn)); // starts the poller and the carrier
      conn.setTimeout(Duration.ofMillis(50));
      long[] limit = limit();
      setLimit(vmSize() + 256 * 1024, limit[1]);
      String first = receive(conn);
      setLimit(limit[0], limit[1]);
      System.out.println("FIRST " + first);
      System.out.println("SECOND " + receive(conn));
      System.out.println("THIRD " + receive(conn));
    } catch (Throwable e) {
      System.out.println("CLOSE " + e.getClass().getSimpleName() + ": " + e.getMessage());
      return;
    }
    System.out.println("CLOSED");
  }

  /** One receive of a byte with the socket's timeout, on a virtual thread (as a server's). */
  private static String receive(Socket conn) throws Exception {
    FutureTask<String> received =
        new FutureTask<>(
            () -> {
              try {
                return "received " + conn.recv(1).length;
              } catch (Throwable e) {
                return e.getClass().getSimpleName() + ": " + e.getMessage();
              }
            });
    Thread receiver = Thread.ofVirtual().start(received);
    if (!receiver.join(Duration.ofSeconds(10))) {
      return "still waiting after 10 s";
    }
    return received.get();
  }

  private static long vmSize() throws Exception {
    for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
      if (line.startsWith("VmSize:")) {
        return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
      }
    }
    throw new IllegalStateException("no VmSize");
  }

  private static final Linker LINKER = Linker.nativeLinker();

  private static final MethodHandle GETRLIMIT =
      LINKER.downcallHandle(
          LINKER.defaultLookup().find("getrlimit").orElseThrow(),
          FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.ADDRESS));

  private static final MethodHandle SETRLIMIT =
      LINKER.downcallHandle(
          LINKER.defaultLookup().find("setrlimit").orElseThrow(),
          FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.ADDRESS));

  /** The address-space limit: soft, hard. */
  private static long[] limit() throws Throwable {
    try (Arena arena = Arena.ofConfined()) {
      MemorySegment rlimit = arena.allocate(16, 8);
      if ((int) GETRLIMIT.invokeExact(RLIMIT_AS, rlimit) != 0) {
        throw new IllegalStateException("getrlimit");
      }
      return new long[] {
        rlimit.get(ValueLayout.JAVA_LONG, 0), rlimit.get(ValueLayout.JAVA_LONG, 8)
      };
    }
  }

  /** Sets the soft limit only (the hard one as it was), so that it can be lifted again. */
  private static void setLimit(long soft, long hard) throws Throwable {
    try (Arena arena = Arena.ofConfined()) {
      MemorySegment rlimit = arena.allocate(16, 8);
      rlimit.set(ValueLayout.JAVA_LONG, 0, soft);
      rlimit.set(ValueLayout.JAVA_LONG, 8, hard);
      if ((int) SETRLIMIT.invokeExact(RLIMIT_AS, rlimit) != 0) {
        throw new IllegalStateException("setrlimit");
      }
    }
  }
}
