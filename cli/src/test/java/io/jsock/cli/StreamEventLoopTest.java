package io.jsock.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.jsock.Shutdown;
import io.jsock.Socket;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicReferenceArray;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The event loop of {@code jsock bench pipeline} where a window does not fit in the socket buffers:
 * its sends come back short and the loop finishes them on EVENT_WRITE while the echoes come back.
 * (On loopback with the kernel's default buffers, the largest window {@code jsock bench} allows is
 * taken whole, so the command's own tests never get there.)
 */
@Timeout(60)
class StreamEventLoopTest {
  private static final int SIZE = 16_384;
  private static final int IN_FLIGHT = 16;
  private static final int SMALL_BUFFER = 4_096;

  @Test
  void sendsTheSocketTakesInPartsAreFinishedAndEveryEchoIsChecked() throws Exception {
    try (Socket listener = Socket.create()) {
      listener.setSockOpt(StandardSocketOptions.SO_RCVBUF, SMALL_BUFFER); // accepted sockets too
      listener.bind("127.0.0.1", 0);
      listener.listen();
      InetSocketAddress server = (InetSocketAddress) listener.getSockName();
      Thread echo = Thread.ofVirtual().start(() -> echoOne(listener));
      LoadPlan plan =
          new LoadPlan(
              Scenario.PIPELINE,
              server,
              1,
              SIZE,
              IN_FLIGHT,
              1,
              Duration.ZERO,
              Duration.ofSeconds(1),
              0,
              Duration.ofSeconds(10),
              Duration.ofSeconds(1));
      EchoPattern pattern = new EchoPattern(plan.maxWindow());
      LoadRun run = new LoadRun(plan.connections());
      try (Socket client = Socket.create()) {
        client.setSockOpt(StandardSocketOptions.SO_SNDBUF, SMALL_BUFFER);
        client.connect(server);
        StreamEventLoop loop =
            new StreamEventLoop(
                new LoopShare(
                    new AtomicReferenceArray<>(new Socket[] {client}), 0, 1, plan, pattern, run));
        Thread looping = Thread.ofPlatform().start(loop);
        long windows = 4L * SIZE * IN_FLIGHT;
        await().atMost(Duration.ofSeconds(30)).until(() -> run.verifiedBytes() > windows);

        run.stop();
        assertThat(looping.join(Duration.ofSeconds(20))).as("the loop ends once stopped").isTrue();

        assertThat(run.errors()).isZero();
        assertThat(run.mismatch()).isNull();
        assertThat(run.verifiedBytes() % SIZE)
            .as("every message in flight at the stop received before the loop ended")
            .isZero();
        client.setBlocking(true);
        client.shutdown(Shutdown.SHUT_WR);
        assertThat(client.recv(1)).as("nothing was left unread on the way back").isEmpty();
      }
      echo.join();
    }
  }

  private static void echoOne(Socket listener) {
    try (Socket conn = listener.accept().conn()) {
      byte[] data;
      while ((data = conn.recv(SMALL_BUFFER)).length > 0) {
        conn.sendAll(data);
      }
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }
}
