package io.jsock.internal;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * A poller thread (an epoll lane, the epoll thread, a selector's thread) and the timeout timer
 * survive a wakeup that throws: they report it and go on, and the sockets they serve still receive
 * and time out. Before, the thread ended, and every thread waiting on its sockets (or, for the
 * timer, every timed wait) waited for good; on the selector path a close hung too. A child JVM
 * ({@link FailingWakeups}) per readiness path, where a wakeup is made to throw and a failure can
 * spoil no other test.
 */
class PollerFailuresTest {
  @TempDir Path dir;

  @ParameterizedTest
  @CsvSource({
    "'', epoll lanes, jsock-epoll-lane-",
    "-Djsock.epollLanes=false, epoll thread, jsock-epoll",
    "-Djsock.selectorPoller=true, selector, jsock-poller-"
  })
  void pollerAndTimerThreadsSurviveAWakeupThatThrows(
      String option, String poller, String pollerThread) throws Exception {
    Path stdout = dir.resolve("stdout.txt");
    Path stderr = dir.resolve("stderr.txt");
    List<String> command = new ArrayList<>();
    command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    command.addAll(
        List.of(
            "--enable-native-access=ALL-UNNAMED",
            "--add-exports",
            "java.base/sun.nio.ch=ALL-UNNAMED",
            "--add-opens",
            "java.base/java.lang=ALL-UNNAMED"));
    if (!option.isEmpty()) {
      command.add(option);
    }
    command.addAll(
        List.of(
            "-cp",
            Path.of("target/classes") + File.pathSeparator + Path.of("target/test-classes"),
            FailingWakeups.class.getName()));
    Process child =
        new ProcessBuilder(command)
            .redirectOutput(stdout.toFile())
            .redirectError(stderr.toFile())
            .start();
    try {
      assertThat(child.waitFor(120, TimeUnit.SECONDS)).as("child ended").isTrue();
    } finally {
      child.destroyForcibly();
    }

    assertThat(Files.readAllLines(stdout, UTF_8))
        .as(Files.readString(stderr, UTF_8))
        .containsExactly(
            "POLLER " + poller,
            "FIRST RECV 1 byte",
            "AFTER POLLER FAILURE all received",
            "FIRST TIMEOUT timed out",
            "AFTER TIMER FAILURE timed out",
            "DONE");
    String rejected =
        " java.util.concurrent.RejectedExecutionException: FailingWakeups rejects this wakeup";
    assertThat(Files.readString(stderr, UTF_8))
        .as("each failure reported, not silent")
        .contains("Exception in thread \"" + pollerThread)
        .contains("Exception in thread \"jsock-timeouts\"" + rejected);
  }
}
