package io.jsock.testing;

import static java.util.concurrent.TimeUnit.MILLISECONDS;
import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.FutureTask;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;

/**
 * A task running in its own thread (virtual, or platform where that matters), for tests that need a
 * second party: a peer, or a thread blocked in a call that the test then wakes.
 *
 * <pre>{@code
 * Running<List<Ready>> selecting = Running.inVirtualThread(() -> selector.select(null));
 * selecting.awaitBlocked();
 * selector.wakeup();
 * assertThat(selecting.get()).isEmpty();
 * }</pre>
 *
 * @param thread the thread
 * @param result the task's outcome
 */
public record Running<T>(Thread thread, FutureTask<T> result) {
  /** How long {@link #get()}, {@link #failure()} and {@link #awaitBlocked()} wait at most. */
  public static final Duration PROMPTLY = Duration.ofSeconds(10);

  /** Starts the task in a new virtual thread. */
  public static <T> Running<T> inVirtualThread(Callable<T> task) {
    FutureTask<T> result = new FutureTask<>(task);
    Thread thread = Thread.ofVirtual().name("test-peer").start(result);
    return new Running<>(thread, result);
  }

  /**
   * Starts the task in a new platform thread, named so that {@link #awaitBlocked()} can find it
   * among the process's native threads.
   */
  public static <T> Running<T> inPlatformThread(Callable<T> task) {
    FutureTask<T> result = new FutureTask<>(task);
    String name = "test-pt-" + PLATFORM_THREADS.incrementAndGet(); // within Linux's 15 characters
    Thread thread = Thread.ofPlatform().name(name).daemon().start(result);
    return new Running<>(thread, result);
  }

  private static final AtomicInteger PLATFORM_THREADS = new AtomicInteger();

  /**
   * {@code poll} and {@code ppoll} on x86-64, {@code ppoll} on arm64 ({@code poll} goes there), and
   * {@code epoll_wait} and {@code epoll_pwait}, where a {@code SocketSelector}'s select waits.
   */
  private static final Set<String> POLL_CALLS =
      "aarch64".equals(System.getProperty("os.arch"))
          ? Set.of("73", "22")
          : Set.of("7", "271", "232", "281");

  /**
   * Waits until the thread waits: parked (a virtual thread's socket wait, or a platform thread's on
   * the selector poller), or, for a platform thread, blocked in the kernel's {@code poll} or {@code
   * epoll_wait} (as {@code /proc/self/task/TID/syscall} shows); fails after {@link #PROMPTLY}.
   */
  public void awaitBlocked() {
    await()
        .atMost(PROMPTLY)
        .pollDelay(Duration.ZERO)
        .pollInterval(Duration.ofMillis(1))
        .until(() -> isParked() || (!thread.isVirtual() && isInPoll()));
  }

  private boolean isParked() {
    return thread.getState() == Thread.State.WAITING
        || thread.getState() == Thread.State.TIMED_WAITING;
  }

  private boolean isInPoll() throws IOException {
    try (Stream<Path> tasks = Files.list(Path.of("/proc/self/task"))) {
      for (Path task : tasks.toList()) {
        try {
          if (Files.readString(task.resolve("comm")).strip().equals(thread.getName())) {
            return POLL_CALLS.contains(Files.readString(task.resolve("syscall")).split(" ")[0]);
          }
        } catch (IOException ended) {
          // a thread that ended while we looked (NoSuchFileException), or was exiting: Linux then
          // answers its files with ESRCH, a plain IOException "No such process" (seen in
          // SocketTest)
        }
      }
    }
    return false;
  }

  /** What the task returned; rethrows what it threw; fails after {@link #PROMPTLY}. */
  public T get() throws Exception {
    try {
      return result.get(PROMPTLY.toMillis(), MILLISECONDS);
    } catch (ExecutionException e) {
      throw e.getCause() instanceof Exception cause ? cause : e;
    }
  }

  /** What the task threw; fails the test if it returned instead, or after {@link #PROMPTLY}. */
  public Throwable failure() throws Exception {
    try {
      T value = result.get(PROMPTLY.toMillis(), MILLISECONDS);
      throw new AssertionError("expected a failure, got " + value);
    } catch (ExecutionException e) {
      return e.getCause();
    }
  }
}
