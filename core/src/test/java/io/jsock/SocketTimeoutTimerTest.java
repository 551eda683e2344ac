package io.jsock;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import io.jsock.testing.Loopback;
import io.jsock.testing.Loopback.Pair;
import java.io.IOException;
import java.net.SocketTimeoutException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The paths of jsock's timeout timer (internal {@code Deadlines}) that a plain "nothing arrives"
 * test does not take: a socket holds one pending timer entry per direction, which a later wait with
 * a sooner deadline must supersede, and which a socket that kept receiving must re-file rather than
 * fire. Bounds here are generous upper limits (a missed deadline would show as minutes), never
 * timing assertions.
 */
@Timeout(60)
class SocketTimeoutTimerTest {
  @Test
  void aShorterTimeoutAfterALongWaitStillTimesOut() throws IOException {
    try (Pair pair = Loopback.pair(Family.AF_INET)) {
      pair.server().setTimeout(Duration.ofMinutes(10));
      // a wait that ends when data comes, leaving the socket's timer entry ten minutes away
      sendLater(pair.client(), "first".getBytes(UTF_8));
      assertThat(new String(pair.server().recv(5), UTF_8)).isEqualTo("first");

      pair.server().setTimeout(Duration.ofMillis(200));
      long start = System.nanoTime();
      Throwable e = catchThrowable(() -> pair.server().recv(10));

      assertThat(e)
          .isExactlyInstanceOf(SocketTimeoutException.class)
          .hasMessageEndingWith(": timed out");
      assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofMinutes(1));
    }
  }

  @Test
  void aSocketThatKeepsReceivingPastItsTimeoutTimesOutOnceItFallsSilent() throws Exception {
    try (Pair pair = Loopback.pair(Family.AF_INET)) {
      // a second: each gap of about 100 ms must stay within it on a loaded machine too
      pair.server().setTimeout(Duration.ofSeconds(1));
      Thread sender =
          Thread.ofVirtual()
              .start(
                  () -> {
                    try {
                      for (int i = 0; i < 12; i++) { // at least 1.2 s in all
                        Thread.sleep(100);
                        pair.client().sendAll(new byte[] {(byte) i});
                      }
                    } catch (IOException | InterruptedException e) {
                      throw new IllegalStateException(e);
                    }
                  });
      // twelve receives over at least 1.2 s, each within the 1 s timeout: the first wait's timer
      // entry falls due while the socket is still receiving, and must be re-filed, not fired
      List<Byte> received = new ArrayList<>();
      while (received.size() < 12) {
        for (byte b : pair.server().recv(10)) {
          received.add(b);
        }
      }
      sender.join();

      Throwable e = catchThrowable(() -> pair.server().recv(10));

      assertThat(received)
          .containsExactly(
              (byte) 0, (byte) 1, (byte) 2, (byte) 3, (byte) 4, (byte) 5, (byte) 6, (byte) 7,
              (byte) 8, (byte) 9, (byte) 10, (byte) 11);
      assertThat(e).isExactlyInstanceOf(SocketTimeoutException.class);
    }
  }

  @Tag("slow")
  @Test
  void thousandsOfTimedSocketsClosedUnderAPendingTimerLeaveNothingWaiting() throws IOException {
    for (int i = 0; i < 3_000; i++) {
      try (Pair pair = Loopback.pair(Family.AF_INET)) {
        pair.server().setTimeout(Duration.ofMinutes(5));
        sendLater(pair.client(), new byte[] {1});
        assertThat(pair.server().recv(1)).containsExactly(1);
      }
    }
    // the timer still serves a new socket on time after purging the closed ones' entries
    try (Pair pair = Loopback.pair(Family.AF_INET)) {
      pair.server().setTimeout(Duration.ofMillis(100));
      assertThat(catchThrowable(() -> pair.server().recv(1)))
          .isExactlyInstanceOf(SocketTimeoutException.class);
    }
  }

  @Test
  void aDeadlineThatPassesBeforeTheThreadParksStillTimesOut() throws Exception {
    // A nanosecond's timeout has passed by the time the wait files its timer entry: the timer,
    // not the waiter, must notice, on a virtual thread as on this platform thread.
    try (Pair pair = Loopback.pair(Family.AF_INET)) {
      pair.server().setTimeout(Duration.ofNanos(1));
      for (int i = 0; i < 50; i++) {
        assertThat(catchThrowable(() -> pair.server().recv(1)))
            .isExactlyInstanceOf(SocketTimeoutException.class)
            .hasMessageEndingWith(": timed out");
      }
      List<Throwable> onVirtual = new ArrayList<>();
      Thread.ofVirtual()
          .start(
              () -> {
                for (int i = 0; i < 50; i++) {
                  onVirtual.add(catchThrowable(() -> pair.server().recv(1)));
                }
              })
          .join();
      assertThat(onVirtual)
          .hasSize(50)
          .allSatisfy(e -> assertThat(e).isExactlyInstanceOf(SocketTimeoutException.class));
      pair.client().sendAll(new byte[] {7});
      pair.server().setTimeout(Duration.ofSeconds(30));
      assertThat(pair.server().recv(1)).containsExactly(7); // the socket still works
    }
  }

  /** Sends {@code data} from another thread once this one has had time to start waiting. */
  private static void sendLater(Socket client, byte[] data) {
    Thread.ofVirtual()
        .start(
            () -> {
              try {
                Thread.sleep(1);
                client.sendAll(data);
              } catch (IOException | InterruptedException e) {
                throw new IllegalStateException(e);
              }
            });
  }
}
