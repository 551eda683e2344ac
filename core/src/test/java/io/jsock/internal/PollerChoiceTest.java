package io.jsock.internal;

import static org.assertj.core.api.Assertions.assertThat;

import io.jsock.Family;
import io.jsock.Socket;
import io.jsock.SocketKind;
import io.jsock.testing.ChildJvm;
import java.nio.file.Path;
import java.util.Map;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The build runs the tests on both readiness paths: check each run is on the one it means. */
class PollerChoiceTest {
  @TempDir Path dir;

  @Test
  void theEpollPollerServesWhenTheJvmAllowsIt() throws Exception {
    if (Boolean.getBoolean("jsock.selectorPoller")) {
      assertThat(EpollPoller.instance()).isNull();
      assertThat(Epoll.whyUnavailable()).isEqualTo("jsock.selectorPoller is set");
      assertThat(StreamCalls.isAvailable()).as("reads and writes through the channel").isFalse();
    } else {
      assertThat(Epoll.whyUnavailable()).isNull();
      assertThat(EpollPoller.instance()).isNotNull();
      assertThat(StreamCalls.isAvailable()).as("recv(2) and send(2) in place").isTrue();
    }
  }

  @Test
  void aProgramWithoutTheFlagsIsToldAtDebugWhichFlagToAdd() throws Exception {
    assertThat(ChildJvm.runBare(LogsTheChoice.class, Map.of(), dir))
        .containsExactly(
            "DEBUG readiness through java.nio.channels.Selector threads (the portable path):"
                + " native access is not enabled for unnamed module (add"
                + " --enable-native-access=ALL-UNNAMED)");
    assertThat(
            ChildJvm.runBare(
                LogsTheChoice.class, Map.of(), dir, "--enable-native-access=ALL-UNNAMED"))
        .containsExactly(
            "DEBUG readiness through java.nio.channels.Selector threads (the portable path):"
                + " java.base does not export sun.nio.ch to unnamed module (add --add-exports"
                + " java.base/sun.nio.ch=ALL-UNNAMED)");
  }

  @Test
  void aProgramWithTheFlagsLogsNothingAtItsFirstSocket() throws Exception {
    // the epoll path: no logger is set up for it (some 30 ms at the first socket)
    assertThat(ChildJvm.run(LogsTheChoice.class, Map.of(), dir)).isEmpty();
  }

  /** Creates a socket with {@code io.jsock}'s DEBUG lines printed, the module's own hash cut. */
  public static final class LogsTheChoice {
    public static void main(String[] args) throws Exception {
      Logger log = Logger.getLogger("io.jsock");
      log.setUseParentHandlers(false);
      log.setLevel(Level.FINE);
      log.addHandler(
          new Handler() {
            @Override
            public void publish(LogRecord line) {
              System.out.println(
                  (line.getLevel() == Level.FINE ? "DEBUG " : line.getLevel() + " ")
                      + line.getMessage().replaceAll("unnamed module @\\w+", "unnamed module"));
            }

            @Override
            public void flush() {}

            @Override
            public void close() {}
          });
      Socket.create(Family.AF_INET, SocketKind.SOCK_STREAM).close();
    }
  }
}
