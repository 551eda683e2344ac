package io.jsock.internal;

import io.jsock.Family;
import io.jsock.Socket;
import io.jsock.SocketKind;
import io.jsock.testing.FdLimit;
import io.jsock.testing.Loopback;
import java.io.FileInputStream;
import java.io.IOException;
import java.nio.channels.SocketChannel;
import java.util.ArrayDeque;
import java.util.Deque;

/**
 * The child JVM of {@link PollerStartFailuresTest}: fills its file descriptors (its limit lowered
 * by the shell that starts it) but for {@code args[0]}, makes its first jsock socket, prints what
 * came of it and how many descriptors are free afterwards, then frees some and makes a socket
 * again, which must echo.
 */
public final class StartsAtTheFdLimit {
  private StartsAtTheFdLimit() {}

  public static void main(String[] args) throws Exception {
    int leftFree = Integer.parseInt(args[0]);
    warmUp();
    Deque<FileInputStream> held = FdLimit.takeEveryDescriptor();
    for (int i = 0; i < leftFree; i++) {
      held.pop().close();
    }
    System.out.println("FIRST " + attempt());
    System.out.println("FREE AFTERWARDS " + free(held));
    for (int i = 0; i < 16; i++) {
      held.pop().close();
    }
    System.out.println("SECOND " + echo());
    FdLimit.release(held);
  }

  /**
   * Loads what the first socket needs from files (jsock's classes, the JDK's native libraries)
   * while descriptors are free: the class loader opens each class file, which at the limit it could
   * not.
   */
  private static void warmUp() throws Exception {
    FdLimit.loadJsockClasses(StartsAtTheFdLimit.class.getClassLoader());
    SocketChannel.open().close();
    Epoll.isAvailable();
    StreamCalls.isAvailable();
    Errors.of(io.jsock.Errno.EMFILE, "socket", null);
    Thread.ofVirtual().start(() -> {}).join();
    Loopback.class.getName();
  }

  private static String attempt() {
    try {
      Socket.create(Family.AF_INET, SocketKind.SOCK_STREAM).close();
      return "made";
    } catch (Throwable e) {
      return e.getClass().getSimpleName() + ": " + e.getMessage();
    }
  }

  /** How many descriptors can be opened (up to 8), closed again. */
  private static int free(Deque<FileInputStream> held) throws IOException {
    Deque<FileInputStream> more = new ArrayDeque<>();
    try {
      for (int i = 0; i < 8; i++) {
        more.push(new FileInputStream("/dev/null"));
      }
    } catch (IOException full) {
      // as many as were free
    }
    int count = more.size();
    for (FileInputStream file : more) {
      file.close();
    }
    return count;
  }

  private static String echo() {
    try (Loopback.Pair pair = Loopback.pair(Family.AF_INET)) {
      pair.client().sendAll("hello".getBytes());
      return new String(pair.server().recv(5));
    } catch (Throwable e) {
      return e.getClass().getSimpleName() + ": " + e.getMessage();
    }
  }
}
