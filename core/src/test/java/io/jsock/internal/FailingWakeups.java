package io.jsock.internal;

import io.jsock.Family;
import io.jsock.testing.Loopback;
import java.lang.reflect.Constructor;
import java.net.SocketTimeoutException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.FutureTask;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Predicate;

/**
 * The child JVM of {@link PollerFailuresTest}: makes one wakeup of the poller thread, then one of
 * the timeout timer, throw, then checks that both still serve, printing one line for each check.
 *
 * <p>The wakeup that throws is an unpark of a virtual thread whose scheduler throws {@link
 * RejectedExecutionException} once (after running the thread's task all the same, so the thread
 * itself goes on): the JDK's {@code VirtualThread.unpark} passes that exception to its caller. Such
 * a scheduler needs the JDK's internal builder ({@code --add-opens java.base/java.lang}).
 */
public final class FailingWakeups {
  /** How many connections check the poller afterwards: more than it has lanes or selectors. */
  private static final int CONNECTIONS = 16;

  /** How long a check waits for what must come at once before it reports a hang. */
  private static final long HANG_SECONDS = 10;

  private static final String TIMER = "jsock-timeouts";

  /** Which thread's next wakeup of a thread of {@link #rejectingOnceBuilder} throws, or null. */
  private static final AtomicReference<Predicate<String>> REJECT_FROM = new AtomicReference<>();

  private static final Predicate<String> POLLER =
      name -> name.startsWith("jsock-") && !name.equals(TIMER);

  private static final ExecutorService CARRIERS =
      Executors.newCachedThreadPool(Thread.ofPlatform().daemon().factory());

  private FailingWakeups() {}

  public static void main(String[] args) throws Exception {
    Thread.Builder.OfVirtual failing = rejectingOnceBuilder();
    System.out.println("POLLER " + poller());

    Loopback.Pair first = Loopback.pair(Family.AF_INET);
    FutureTask<byte[]> firstReceived = new FutureTask<>(() -> first.server().recv(1));
    awaitParked(failing.start(firstReceived));
    REJECT_FROM.set(POLLER);
    first.client().sendAll(new byte[] {1}); // the poller's wakeup of the receiver throws
    System.out.println("FIRST RECV " + outcome(firstReceived));
    closeAll(List.of(first));
    System.out.println("AFTER POLLER FAILURE " + receivesEach());

    Loopback.Pair timed = Loopback.pair(Family.AF_INET);
    timed.server().setTimeout(Duration.ofMillis(100));
    FutureTask<byte[]> timedReceived = new FutureTask<>(() -> timed.server().recv(1));
    REJECT_FROM.set(TIMER::equals); // the timer's wakeup of the receiver throws
    failing.start(timedReceived);
    System.out.println("FIRST TIMEOUT " + outcome(timedReceived));

    Loopback.Pair after = Loopback.pair(Family.AF_INET);
    after.server().setTimeout(Duration.ofMillis(100));
    FutureTask<byte[]> afterReceived = new FutureTask<>(() -> after.server().recv(1));
    Thread.ofVirtual().start(afterReceived);
    System.out.println("AFTER TIMER FAILURE " + outcome(afterReceived));
    closeAll(List.of(timed, after));
    System.out.println("DONE");
    System.out.flush();
    Runtime.getRuntime().halt(0); // a hung thread must not keep the child alive
  }

  private static String poller() throws Exception {
    if (EpollPoller.instance() == null) {
      return "selector";
    }
    return Boolean.parseBoolean(System.getProperty("jsock.epollLanes", "true"))
        ? "epoll lanes"
        : "epoll thread";
  }

  /**
   * Receives one byte on each of {@link #CONNECTIONS} new connections, each in a virtual thread
   * waiting before the byte is sent: "all" or how many hung.
   */
  private static String receivesEach() throws Exception {
    List<Loopback.Pair> pairs = new ArrayList<>();
    List<FutureTask<byte[]>> receives = new ArrayList<>();
    try {
      for (int i = 0; i < CONNECTIONS; i++) {
        Loopback.Pair pair = Loopback.pair(Family.AF_INET);
        pairs.add(pair);
        FutureTask<byte[]> received = new FutureTask<>(() -> pair.server().recv(1));
        awaitParked(Thread.ofVirtual().start(received));
        receives.add(received);
      }
      for (Loopback.Pair pair : pairs) {
        pair.client().sendAll(new byte[] {2});
      }
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(HANG_SECONDS);
      int hung = 0;
      for (FutureTask<byte[]> received : receives) {
        if (!outcome(received, deadline).equals("1 byte")) {
          hung++;
        }
      }
      return hung == 0 ? "all received" : hung + " of " + CONNECTIONS + " hung";
    } finally {
      closeAll(pairs);
    }
  }

  /** Closes each pair, each in a thread of its own, printing "CLOSE HUNG" if any close hangs. */
  private static void closeAll(List<Loopback.Pair> pairs) throws InterruptedException {
    List<FutureTask<Void>> closes = new ArrayList<>();
    for (Loopback.Pair pair : pairs) {
      FutureTask<Void> closed =
          new FutureTask<>(
              () -> {
                pair.close();
                return null;
              });
      Thread.ofPlatform().daemon().start(closed);
      closes.add(closed);
    }
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(HANG_SECONDS);
    for (FutureTask<Void> closed : closes) {
      try {
        closed.get(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
      } catch (TimeoutException e) {
        System.out.println("CLOSE HUNG");
        return;
      } catch (java.util.concurrent.ExecutionException e) {
        System.out.println("CLOSE FAILED " + e.getCause());
      }
    }
  }

  private static String outcome(FutureTask<byte[]> received) throws InterruptedException {
    return outcome(received, System.nanoTime() + TimeUnit.SECONDS.toNanos(HANG_SECONDS));
  }

  private static String outcome(FutureTask<byte[]> received, long deadline)
      throws InterruptedException {
    try {
      return received.get(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS).length
          + " byte";
    } catch (TimeoutException e) {
      return "hung";
    } catch (java.util.concurrent.ExecutionException e) {
      return e.getCause() instanceof SocketTimeoutException ? "timed out" : e.getCause().toString();
    }
  }

  private static void awaitParked(Thread thread) throws InterruptedException {
    for (int i = 0; i < 10_000 && thread.getState() != Thread.State.WAITING; i++) {
      Thread.sleep(1);
    }
    if (thread.getState() != Thread.State.WAITING) {
      throw new IllegalStateException("not parked: " + thread.getState());
    }
  }

  /** A builder of virtual threads whose scheduler throws as {@link #REJECT_FROM} says. */
  private static Thread.Builder.OfVirtual rejectingOnceBuilder() throws Exception {
    Class<?> builder = Class.forName("java.lang.ThreadBuilders$VirtualThreadBuilder");
    Constructor<?> withScheduler =
        builder.getDeclaredConstructor(java.util.concurrent.Executor.class);
    withScheduler.setAccessible(true);
    java.util.concurrent.Executor scheduler =
        task -> {
          CARRIERS.execute(task);
          Predicate<String> from = REJECT_FROM.get();
          if (from != null
              && from.test(Thread.currentThread().getName())
              && REJECT_FROM.compareAndSet(from, null)) {
            throw new RejectedExecutionException("FailingWakeups rejects this wakeup");
          }
        };
    return (Thread.Builder.OfVirtual) withScheduler.newInstance(scheduler);
  }
}
