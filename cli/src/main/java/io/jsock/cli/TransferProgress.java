package io.jsock.cli;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

import java.io.Console;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.nio.file.Files;
import java.nio.file.Path;
import me.tongfei.progressbar.ConsoleProgressBarConsumer;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;

/**
 * A progress bar on stderr (percentage, bytes, rate, ETA) while a file goes over, drawn only when
 * stderr is a terminal; otherwise nothing, so that logs and pipes get no carriage returns.
 *
 * <p>The bar is drawn with a carriage return by a consumer of ours, which asks the terminal's width
 * of stderr itself ({@code ioctl(TIOCGWINSZ)}). progressbar's own consumer opens a JLine terminal
 * for the width, which runs {@code stty -a} at each redraw and, when it closes, {@code stty} again
 * to put back the modes it found: from a background job ({@code jsock receive PORT &}) whose shell
 * had changed them meanwhile, that stopped jsock with SIGTTOU ("Stopped (tty output)") as its
 * transfer ended, or, where SIGTTOU is ignored, set the foreground program's terminal back to the
 * modes of the bar's start.
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
            .setConsumer(new StderrConsumer())
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

  /** Draws the bar on stderr as wide as the terminal is at each redraw, without JLine. */
  private static final class StderrConsumer extends ConsoleProgressBarConsumer {
    StderrConsumer() {
      super(System.err, DEFAULT_COLUMNS - 1);
    }

    @Override
    public int getMaxRenderedLength() {
      return stderrColumns() - 1; // the last column left free, as progressbar's own consumer does
    }
  }

  private static final int DEFAULT_COLUMNS = 80;

  /** Linux's {@code TIOCGWINSZ}, the request for a terminal's size. */
  private static final long TIOCGWINSZ = 0x5413;

  private static final MethodHandle IOCTL = ioctl();

  private static MethodHandle ioctl() {
    if (!"Linux".equals(System.getProperty("os.name"))) {
      return null;
    }
    try {
      Linker linker = Linker.nativeLinker();
      return linker
          .defaultLookup()
          .find("ioctl")
          .map(
              ioctl ->
                  linker.downcallHandle(
                      ioctl,
                      FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_LONG, ADDRESS),
                      Linker.Option.firstVariadicArg(2)))
          .orElse(null);
    } catch (RuntimeException e) { // native access not allowed: the default width
      return null;
    }
  }

  /**
   * The columns of the terminal on stderr ({@code struct winsize}'s {@code ws_col}), or {@value
   * #DEFAULT_COLUMNS} when it does not say (not Linux, no native access, a size of 0). Asking does
   * not stop a background job, as changing the terminal's modes does.
   */
  static int stderrColumns() {
    if (IOCTL == null) {
      return DEFAULT_COLUMNS;
    }
    try (Arena arena = Arena.ofConfined()) {
      MemorySegment size = arena.allocate(8); // ws_row, ws_col, ws_xpixel, ws_ypixel
      int result = (int) IOCTL.invokeExact(2, TIOCGWINSZ, size);
      int columns = Short.toUnsignedInt(size.get(JAVA_SHORT, 2));
      return result == 0 && columns > 1 ? columns : DEFAULT_COLUMNS;
    } catch (Throwable e) {
      return DEFAULT_COLUMNS;
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
