package io.jsock.cli;

import java.io.Console;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;

/**
 * A progress bar on stderr (percentage, bytes, rate, ETA) while a file goes over, drawn only when
 * stderr is a terminal; otherwise nothing, so that logs and pipes get no carriage returns.
 */
final class TransferProgress implements AutoCloseable {
  private final ProgressBar bar;

  private TransferProgress(ProgressBar bar) {
    this.bar = bar;
  }

  /**
   * A bar for {@code size} bytes, already at {@code start} (a resumed transfer), if stderr is a
   * terminal.
   */
  static TransferProgress start(String task, long size, long start) {
    if (!stderrIsTerminal()) {
      return new TransferProgress(null);
    }
    ProgressBar bar =
        new ProgressBarBuilder()
            .setTaskName(task)
            .setInitialMax(size)
            .setUnit("MiB", 1024 * 1024)
            .showSpeed()
            .setStyle(ProgressBarStyle.ASCII)
            .setUpdateIntervalMillis(200)
            .startsFrom(start, java.time.Duration.ZERO)
            .build();
    return new TransferProgress(bar);
  }

  /** Moves the bar to {@code done} bytes. */
  void stepTo(long done) {
    if (bar != null) {
      bar.stepTo(done);
    }
  }

  @Override
  public void close() {
    if (bar != null) {
      bar.close();
    }
  }

  /**
   * Whether stderr (not stdin or stdout, which is what {@link Console#isTerminal()} looks at) is a
   * terminal: on Linux its descriptor links to a tty; elsewhere the console is the best guess.
   */
  static boolean stderrIsTerminal() {
    if ("dumb".equals(System.getenv("TERM"))) {
      return false;
    }
    try {
      String target = Files.readSymbolicLink(Path.of("/proc/self/fd/2")).toString();
      return target.startsWith("/dev/pts/") || target.startsWith("/dev/tty");
    } catch (IOException | UnsupportedOperationException | SecurityException e) {
      Console console = System.console();
      return console != null && console.isTerminal();
    }
  }
}
