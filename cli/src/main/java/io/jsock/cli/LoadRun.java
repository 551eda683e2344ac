package io.jsock.cli;

import java.io.IOException;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.atomic.LongAdder;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.Recorder;

/**
 * What the connections of one run share: the latency recorder and counters they add to, the flag
 * that tells them to stop, and the first failure. The measuring thread runs the warm-up and the
 * measured period and samples the message count once a second.
 *
 * <p>Counters are {@link LongAdder}s and the latency recorder is HdrHistogram's {@link Recorder},
 * so that thousands of connections record without contending on one cache line or allocating.
 */
final class LoadRun {
  private static final long SECOND = TimeUnit.SECONDS.toNanos(1);

  private final Recorder latency = new Recorder(3);
  private final LongAdder messages = new LongAdder();
  private final LongAdder bytes = new LongAdder();
  private final LongAdder losses = new LongAdder();
  private final LongAdder errors = new LongAdder();
  private final AtomicReference<IOException> firstError = new AtomicReference<>();
  private final AtomicLong fewestEchoes = new AtomicLong(Long.MAX_VALUE);
  private final AtomicReference<EchoMismatchException> mismatch = new AtomicReference<>();
  private final CountDownLatch failed = new CountDownLatch(1); // a wrong echo, or all failed
  private final int connections;
  private volatile boolean stopping;
  private volatile boolean closing;

  /** A run of {@code connections} connections (or UDP sockets), each ending at its first error. */
  LoadRun(int connections) {
    this.connections = connections;
  }

  /** Told when the measured period starts and ends, as it happens. */
  @FunctionalInterface
  interface Phases {
    Phases NONE = phase -> {};

    /** {@code "measuring"} when the warm-up ends, {@code "stopped"} when measuring ends. */
    void entered(String phase);
  }

  /** What the measured period (after the warm-up) saw. */
  record Measured(
      Histogram latency, long messages, long bytes, long losses, double seconds, long[] perSecond) {

    /**
     * The period as its round trips counted it, for the scenarios that time every message (all but
     * bulk): the messages are the latency histogram's count and the bytes their size each. The
     * histogram and the counters cannot be sampled at one instant, and the round trips recorded
     * between the two (hundreds, pipelined, as the histogram's first reset allocates) made the
     * histogram count more messages than the period had.
     */
    Measured byRoundTrips(int size) {
      long count = latency.getTotalCount();
      return new Measured(latency, count, count * size, losses, seconds, perSecond);
    }
  }

  boolean isStopping() {
    return stopping;
  }

  /** Tells the connections to stop (they finish what is in flight). */
  void stop() {
    stopping = true;
  }

  /**
   * Tells the run that the sockets are being closed under the connections still running (the run is
   * over, or they waited past {@code --timeout}): their failures from now on are that.
   */
  void closing() {
    stopping = true;
    closing = true;
  }

  /** Records one message's round trip, in nanoseconds. */
  void latency(long nanos) {
    latency.recordValue(Math.max(0, nanos));
  }

  /** Counts messages whose echo came back whole and intact, and the echoed bytes checked. */
  void completed(int messageCount, long echoedBytes) {
    if (messageCount > 0) {
      messages.add(messageCount);
    }
    bytes.add(echoedBytes);
  }

  void lost() {
    losses.increment();
  }

  /**
   * A connection failed. A wrong echo always counts; other failures once the sockets are being
   * closed do not (they are that close), while those in the drain, after the run stopped and before
   * then, do: an echo still owed that never came (a close, a reset, {@code --timeout}) is the
   * server's fault.
   */
  void error(IOException e) {
    if (e instanceof EchoMismatchException wrong) {
      mismatch.compareAndSet(null, wrong);
      failed.countDown();
      return;
    }
    if (closing) {
      return;
    }
    errors.increment();
    firstError.compareAndSet(null, e);
    if (errors.sum() >= connections) {
      failed.countDown(); // every connection has ended: nothing is left to measure
    }
  }

  /** One connection's count of messages echoed over the whole run, told as its loop ends. */
  void echoesOfOneConnection(long count) {
    fewestEchoes.accumulateAndGet(count, Math::min);
  }

  /**
   * The fewest messages any one connection had echoed over the whole run (warm-up included), or -1
   * when no loop told its connections' counts (the scenarios other than pingpong and pipeline).
   * Above 0, every connection was served.
   */
  long fewestEchoes() {
    long fewest = fewestEchoes.get();
    return fewest == Long.MAX_VALUE ? -1 : fewest;
  }

  /** Every echoed byte checked, over the whole run (warm-up included). */
  long verifiedBytes() {
    return bytes.sum();
  }

  long errors() {
    return errors.sum();
  }

  IOException firstError() {
    return firstError.get();
  }

  /** The first echo that came back wrong, or {@code null} if none did. */
  EchoMismatchException mismatch() {
    return mismatch.get();
  }

  /**
   * Lets the connections run for the warm-up, then measures for {@code duration}, then tells them
   * to stop; ends early if an echo comes back wrong, or once every connection has failed (a UDP
   * server that is not there: each socket's first receive is refused).
   */
  Measured measure(Duration warmup, Duration duration, Phases phases) throws InterruptedException {
    if (failed.await(warmup.toNanos(), TimeUnit.NANOSECONDS)) {
      stopping = true;
      return new Measured(new Histogram(3), 0, 0, 0, 0, new long[0]);
    }
    latency.reset();
    long startMessages = messages.sum();
    long startBytes = bytes.sum();
    long startLosses = losses.sum();
    long start = System.nanoTime();
    phases.entered("measuring");
    long end = start + duration.toNanos();
    long[] perSecond = new long[(int) (duration.toNanos() / SECOND)];
    long lastCount = startMessages;
    int second = 0;
    long now = start;
    while (now < end) {
      long tick = start + (second + 1) * SECOND;
      if (failed.await(Math.min(tick, end) - now, TimeUnit.NANOSECONDS)) {
        break;
      }
      now = System.nanoTime();
      if (now >= tick && second < perSecond.length) {
        long count = messages.sum();
        perSecond[second++] = count - lastCount;
        lastCount = count;
      }
    }
    stopping = true;
    long stop = System.nanoTime();
    phases.entered("stopped");
    Histogram measured = latency.getIntervalHistogram();
    return new Measured(
        measured,
        messages.sum() - startMessages,
        bytes.sum() - startBytes,
        losses.sum() - startLosses,
        (stop - start) / 1e9,
        java.util.Arrays.copyOf(perSecond, second));
  }
}
