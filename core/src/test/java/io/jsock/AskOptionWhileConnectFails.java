package io.jsock;

import io.jsock.testing.Loopback;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;

/**
 * A child JVM's main, for {@link SocketTest}: {@code args[0]} rounds in which one thread asks a TCP
 * socket's {@code TCP_USER_TIMEOUT}, set before, over and over (a {@code getsockopt(2)} on its
 * descriptor on the epoll path) while another's blocking connect to a refusing loopback address
 * fails (the JDK closes the channel then, and jsock gives the socket a fresh one). Prints in how
 * many rounds every answer was the value set, and the first thing the asker met instead, if any.
 */
public final class AskOptionWhileConnectFails {
  private static final int USER_TIMEOUT = 1234;

  private AskOptionWhileConnectFails() {}

  public static void main(String[] args) throws Exception {
    int rounds = Integer.parseInt(args[0]);
    int answered = 0;
    String other = null;
    try (Loopback.Refusing refusing = Loopback.refusingAddress(Family.AF_INET)) {
      for (int round = 0; round < rounds; round++) {
        try (Socket connecting = Socket.create(Family.AF_INET, SocketKind.SOCK_STREAM)) {
          connecting.setSockOpt(Sockets.TCP_USER_TIMEOUT, USER_TIMEOUT);
          AtomicBoolean connectEnded = new AtomicBoolean();
          AtomicReference<Throwable> askerFailure = new AtomicReference<>();
          CountDownLatch asking = new CountDownLatch(1);
          Thread asker =
              Thread.ofPlatform()
                  .start(
                      () -> {
                        for (int i = 0; i < 1_000_000 && !connectEnded.get(); i++) {
                          asking.countDown();
                          try {
                            int timeout = connecting.getSockOpt(Sockets.TCP_USER_TIMEOUT);
                            if (timeout != USER_TIMEOUT) {
                              throw new AssertionError("TCP_USER_TIMEOUT " + timeout);
                            }
                          } catch (Throwable e) {
                            askerFailure.set(e);
                            return;
                          }
                        }
                      });
          asking.await();
          try {
            connecting.connect(refusing.address());
            other = other == null ? "round " + round + ": connected" : other;
          } catch (ConnectionRefusedException expected) {
            // as every round
          } finally {
            connectEnded.set(true);
          }
          asker.join();
          if (askerFailure.get() == null) {
            answered++;
          } else if (other == null) {
            other = "round " + round + ": asker " + askerFailure.get();
          }
        }
      }
    }
    System.out.println("answered in " + answered + " of " + rounds + " rounds");
    if (other != null) {
      System.out.println("first other: " + other);
    }
  }
}
