package io.jsock.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

import io.jsock.testing.ChildJvm;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The poller starts at a program's first socket, and needs file descriptors for it (on the epoll
 * path an epoll instance for the master and one per lane, on the portable path two per selector): a
 * first socket made at the process's limit fails with EMFILE, as a socket(2) there does, leaves no
 * descriptor of the failed start behind, and a socket made once descriptors are free again works.
 * Before, either poller started in its class's initialiser: the first socket threw
 * ExceptionInInitializerError, and every later one of the JVM NoClassDefFoundError. A child JVM
 * ({@link StartsAtTheFdLimit}) under {@code ulimit -n}, with two lanes (a socket, the master and
 * two lanes take four descriptors) or two selectors (and the readiness check's, opened with them).
 */
class PollerStartFailuresTest {
  @TempDir Path dir;

  @ParameterizedTest
  @CsvSource({
    "'', 1, no master", // the socket takes the one free descriptor
    "'', 2, no first lane",
    "'', 3, no second lane",
    "-Djsock.epollLanes=false, 1, no lane of the epoll thread",
    // a selector takes two descriptors (its epoll instance and an eventfd to wake it)
    "-Djsock.selectorPoller=true -Djsock.pollers=2, 1, no selector",
    "-Djsock.selectorPoller=true -Djsock.pollers=2, 3, no second selector",
    "-Djsock.selectorPoller=true -Djsock.pollers=2, 5, no selector of the readiness check"
  })
  void aFirstSocketAtTheDescriptorLimitFailsWithEmfileAndTheNextOneWorks(
      String option, int leftFree, String missing) throws Exception {
    // the child's path is the option's whichever run this is: once is enough
    assumeFalse(Boolean.getBoolean("jsock.selectorPoller"));
    List<String> options = new ArrayList<>(List.of("-Djdk.virtualThreadScheduler.parallelism=2"));
    if (!option.isEmpty()) {
      options.addAll(List.of(option.split(" ")));
    }
    List<String> command =
        new ArrayList<>(ChildJvm.command(StartsAtTheFdLimit.class, options.toArray(String[]::new)));
    command.add(String.valueOf(leftFree));
    List<String> lines = ChildJvm.runCommand(ChildJvm.underFdLimit(256, command), Map.of(), dir);

    assertThat(lines)
        .as(missing)
        .containsExactly(
            "FIRST ErrnoException: socket: too many open files",
            "FREE AFTERWARDS " + leftFree,
            "SECOND hello");
  }
}
