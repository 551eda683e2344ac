package io.jsock.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;
import static org.awaitility.Awaitility.await;

import io.jsock.Family;
import io.jsock.Socket;
import io.jsock.Sockets;
import io.jsock.testing.Loopback;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.time.Duration;
import java.util.concurrent.FutureTask;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The timeout timer's bookkeeping under a connection rate: each connection's first timed wait files
 * an entry minutes away (a server's idle timeout), and the timer sleeps towards its earliest
 * deadline, so the entries of connections that have closed meanwhile must go without it waiting for
 * that deadline.
 */
@Timeout(120)
class DeadlinesTest {
  private static final int CONNECTIONS = 5_000;

  private static final int SUPERSEDED = 3_000;

  @Test
  void entriesOfClosedConnectionsGoWhileTheTimerSleepsTowardsTheirDeadlines() throws Exception {
    int before = Deadlines.filed();
    try (Socket listener =
        Sockets.createServer(new InetSocketAddress(Loopback.ip(Family.AF_INET), 0))) {
      for (int i = 0; i < CONNECTIONS; i++) {
        byte message = (byte) i;
        try (Socket client = Sockets.createConnection(listener.getSockName());
            Socket conn = listener.accept().conn()) {
          conn.setTimeout(Duration.ofMinutes(10));
          FutureTask<byte[]> received = new FutureTask<>(() -> conn.recv(1));
          Thread receiver = Thread.ofVirtual().start(received);
          // the receive waits with nothing to read: a timed wait, whose entry is ten minutes away
          while (receiver.getState() != Thread.State.WAITING && !received.isDone()) {
            Thread.onSpinWait();
          }
          if (i == 0) {
            // a timed wait: parked in the timer's park, which files the entry before parking
            await("the first receiver in the timer's park")
                .atMost(Duration.ofSeconds(10))
                .untilAsserted(
                    () ->
                        assertThat(receiver.getStackTrace())
                            .anyMatch(
                                frame ->
                                    frame.getClassName().equals(Deadlines.class.getName())
                                        && frame.getMethodName().equals("park")));
          }
          client.sendAll(new byte[] {message});
          assertThat(received.get()).containsExactly(message);
        }
      }
    }

    // every connection is closed; without the purge all 5,000 entries would stay ten minutes
    await()
        .atMost(Duration.ofSeconds(30))
        .untilAsserted(() -> assertThat(Deadlines.filed() - before).isLessThan(CONNECTIONS / 2));
  }

  @Tag("slow")
  @Test
  void entriesSupersededBySoonerDeadlinesGoWhileTheTimerSleepsTowardsThem() throws Exception {
    int before = Deadlines.filed();
    try (Loopback.Pair pair = Loopback.pair(Family.AF_INET);
        Loopback.Pair other = Loopback.pair(Family.AF_INET)) {
      Socket conn = pair.server();
      other.server().setTimeout(Duration.ofMillis(1));
      // on a virtual thread, whose timed waits go through the timer (a platform thread polls)
      FutureTask<Void> waits =
          new FutureTask<>(
              () -> {
                for (int i = 0; i < SUPERSEDED; i++) {
                  byte message = (byte) i;
                  // a wait for the next message, whose entry is ten minutes away (an idle
                  // timeout), while another socket's short timeout wakes the timer ...
                  conn.setTimeout(Duration.ofMinutes(10));
                  Thread sender =
                      Thread.ofVirtual()
                          .start(
                              () -> {
                                try {
                                  Thread.sleep(1);
                                  assertThat(catchThrowable(() -> other.server().recv(1)))
                                      .isExactlyInstanceOf(SocketTimeoutException.class);
                                  pair.client().sendAll(new byte[] {message});
                                } catch (IOException | InterruptedException e) {
                                  throw new IllegalStateException(e);
                                }
                              });
                  assertThat(conn.recv(1)).containsExactly(message);
                  sender.join();
                  // ... then a short look for more, which times out: its sooner entry
                  // supersedes that one
                  conn.setTimeout(Duration.ofMillis(1));
                  assertThat(catchThrowable(() -> conn.recv(1)))
                      .isExactlyInstanceOf(SocketTimeoutException.class);
                }
                return null;
              });
      Thread.ofVirtual().start(waits);
      waits.get();

      // both sockets are still open: without a purge every superseded entry would stay there
      // ten minutes, one per message
      await()
          .atMost(Duration.ofSeconds(30))
          .untilAsserted(() -> assertThat(Deadlines.filed() - before).isLessThan(SUPERSEDED / 2));
    }
  }
}
