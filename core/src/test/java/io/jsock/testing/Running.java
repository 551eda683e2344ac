package io.jsock.testing;

import static java.util.concurrent.TimeUnit.MILLISECONDS;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.FutureTask;

/**
 * A task running in its own virtual thread, for tests that need a second party: a peer, or a thread
 * blocked in a call that the test then wakes.
 *
 * <pre>{@code
 * Running<List<Ready>> selecting = Running.inVirtualThread(() -> selector.select(null));
 * selecting.awaitParked();
 * selector.wakeup();
 * assertThat(selecting.get()).isEmpty();
 * }</pre>
 *
 * @param thread the virtual thread
 * @param result the task's outcome
 */
public record Running<T>(Thread thread, FutureTask<T> result) {
  /** How long {@link #get()}, {@link #failure()} and {@link #awaitParked()} wait at most. */
  public static final Duration PROMPTLY = Duration.ofSeconds(10);

  /** Starts the task in a new virtual thread. */
  public static <T> Running<T> inVirtualThread(Callable<T> task) {
    FutureTask<T> result = new FutureTask<>(task);
    Thread thread = Thread.ofVirtual().name("test-peer").start(result);
    return new Running<>(thread, result);
  }

  /**
   * Waits until the thread parks, which a socket or selector call does when it has to wait; fails
   * after {@link #PROMPTLY}.
   */
  public void awaitParked() {
    await()
        .atMost(PROMPTLY)
        .pollDelay(Duration.ZERO)
        .pollInterval(Duration.ofMillis(1))
        .until(
            () ->
                thread.getState() == Thread.State.WAITING
                    || thread.getState() == Thread.State.TIMED_WAITING);
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
