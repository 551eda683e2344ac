package io.jsock.internal;

import static org.assertj.core.api.Assertions.assertThat;

import io.jsock.testing.ChildJvm;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The timeout timer's thread starts at a program's first timed wait, and a start can fail (no
 * memory for a thread's stack: {@code OutOfMemoryError} "unable to create native thread"): that
 * wait fails with it, and the next one starts the thread afresh. Before, the thread started in a
 * class initialiser, so the failed wait left its direction's entry counted as pending, and the next
 * timed wait on it waited for ever, and the socket's close (any other timed wait) threw {@code
 * NoClassDefFoundError}. A child JVM ({@link TimesOutWithoutTimerThread}) under an address-space
 * limit.
 */
class DeadlinesStartFailureTest {
  @TempDir Path dir;

  @Test
  void aTimedWaitWhoseTimerThreadCannotStartFailsAndTheNextStartsIt() throws Exception {
    List<String> output =
        ChildJvm.run(
            TimesOutWithoutTimerThread.class,
            Map.of(),
            dir,
            "-Xint",
            "-XX:+UseSerialGC",
            "-Xmx64m",
            "-Djdk.virtualThreadScheduler.parallelism=1",
            "-Djdk.virtualThreadScheduler.maxPoolSize=1");

    // the JVM's own warnings ([0.928s][warning][os,thread] Failed to start thread ...) aside
    List<String> lines = output.stream().filter(line -> !line.startsWith("[")).toList();
    assertThat(lines).hasSize(5);
    assertThat(lines.get(0)).isEqualTo("WARM-UP received 1");
    assertThat(lines.get(1)).startsWith("FIRST OutOfMemoryError: unable to create native thread");
    assertThat(lines.subList(2, 4))
        .allSatisfy(
            line ->
                assertThat(line)
                    .matches(
                        "(SECOND|THIRD) SocketTimeoutException: recv from 127\\.0\\.0\\.1:\\d+: timed out"));
    assertThat(lines.get(4)).isEqualTo("CLOSED");
  }
}
