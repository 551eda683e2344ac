package io.jsock.cli;

import static io.jsock.Family.AF_INET;
import static org.awaitility.Awaitility.await;

import com.sun.management.HotSpotDiagnosticMXBean;
import com.sun.management.HotSpotDiagnosticMXBean.ThreadDumpFormat;
import io.jsock.testing.Loopback;
import io.jsock.testing.Loopback.Pair;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link RelayPipe} in-process, between loopback pairs: what becomes of its virtual threads when
 * the connection ends. Virtual threads are seen in a thread dump, as {@code jcmd} would show them.
 */
class RelayPipeTest {
  private static final Duration LIMIT = Duration.ofSeconds(30);

  @Tag("slow")
  @Test
  void aResetWhileTheLatencyQueueIsFullEndsTheReader(@TempDir Path dir) throws Exception {
    // 40 rounds: the reader could also fill the queue again from what the target still held
    // between the reset and the target's close, after the delaying thread had gone (about one
    // round in 20 waited for ever)
    for (int round = 0; round < 40; round++) {
      resetWhileTheLatencyQueueIsFull(Files.createDirectories(dir.resolve("round-" + round)));
    }
  }

  private static void resetWhileTheLatencyQueueIsFull(Path dir) throws Exception {
    try (Pair client = Loopback.pair(AF_INET);
        Pair target = Loopback.pair(AF_INET)) {
      FaultOptions faults = new FaultOptions();
      faults.direction = FaultOptions.Direction.both;
      faults.latency = new Jitter(Duration.ofMillis(1).toNanos(), 0);
      RelayLog log = new RelayLog(new Lines(new PrintWriter(new StringWriter())), 0, false);
      RelayConnection connection =
          new RelayConnection(client.server(), target.client(), "#1 pipe", log);
      new RelayPipe(connection, FaultOptions.Direction.down, faults, log).start();
      // The target sends more than the client, which never reads, can take: the writer blocks on
      // the full client, the queue fills, and the reader waits to queue the next chunk.
      Thread.ofVirtual()
          .start(
              () -> {
                try {
                  while (true) {
                    target.server().sendAll(new byte[64 * 1024]);
                  }
                } catch (IOException e) {
                  // reset by the relay, as the test wants
                }
              });
      int[] dumps = {0};
      await()
          .atMost(LIMIT)
          .until(() -> threadDump(dir, ++dumps[0]).contains("ArrayBlockingQueue.offer"));

      connection.reset("test");

      await()
          .atMost(LIMIT)
          .until(() -> !threadDump(dir, ++dumps[0]).contains("\"relay #1 pipe <\""));
    }
  }

  private static String threadDump(Path dir, int n) throws IOException {
    Path file = dir.resolve("threads-" + n + ".json");
    ManagementFactory.getPlatformMXBean(HotSpotDiagnosticMXBean.class)
        .dumpThreads(file.toString(), ThreadDumpFormat.JSON);
    return Files.readString(file);
  }
}
