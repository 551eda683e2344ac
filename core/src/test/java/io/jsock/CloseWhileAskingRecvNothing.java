package io.jsock;

import io.jsock.testing.Loopback;
import java.net.StandardSocketOptions;
import java.nio.file.Path;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicReference;

/**
 * A child JVM's main, for {@link SocketTest}: {@code args[1]} rounds in which one thread asks a
 * non-blocking TCP stream's {@code recvFrom(0)} over and over while another closes the stream with
 * {@code SO_LINGER} 0, and the peer reads at once after the close. Prints how many rounds the peer
 * met the reset in, and the first thing it met instead, if any.
 */
public final class CloseWhileAskingRecvNothing {
  private CloseWhileAskingRecvNothing() {}

  public static void main(String[] args) throws Exception {
    Path dir = Path.of(args[0]);
    int rounds = Integer.parseInt(args[1]);
    int resets = 0;
    String other = null;
    for (int round = 0; round < rounds; round++) {
      try (Loopback.Pair pair = Loopback.pair(Family.AF_INET, dir)) {
        Socket closing = pair.server();
        closing.setSockOpt(StandardSocketOptions.SO_LINGER, 0);
        closing.setBlocking(false);
        CountDownLatch asking = new CountDownLatch(1);
        AtomicReference<Throwable> askerFailure = new AtomicReference<>();
        Thread asker =
            Thread.ofPlatform()
                .start(
                    () -> {
                      while (true) {
                        asking.countDown();
                        try {
                          closing.recvFrom(0);
                        } catch (ClosedSocketException e) {
                          return;
                        } catch (WouldBlockException e) {
                          continue;
                        } catch (Throwable e) {
                          askerFailure.set(e);
                          return;
                        }
                      }
                    });
        asking.await();
        closing.close();
        pair.client().setBlocking(false);
        try {
          pair.client().recv(1);
          other = other == null ? "round " + round + ": bytes or end of stream" : other;
        } catch (ConnectionResetException e) {
          resets++;
        } catch (Exception e) {
          other = other == null ? "round " + round + ": " + e : other;
        }
        asker.join();
        if (askerFailure.get() != null) {
          other = other == null ? "round " + round + ": asker " + askerFailure.get() : other;
        }
      }
    }
    System.out.println("resets in " + resets + " of " + rounds + " rounds");
    if (other != null) {
      System.out.println("first other: " + other);
    }
  }
}
