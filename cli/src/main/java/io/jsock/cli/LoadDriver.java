package io.jsock.cli;

import io.jsock.Socket;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.atomic.AtomicReferenceArray;

/**
 * Runs one {@link LoadPlan}: one virtual thread per connection opens it (a few at a time) and runs
 * the scenario's loop as plain blocking code ({@code bulk}, {@code connect}), or hands it to one of
 * the event loops, one per CPU, that run {@code pingpong}, {@code pipeline} ({@link
 * StreamEventLoop}) and {@code udp} ({@link UdpEventLoop}) once all are open; the warm-up starts
 * then; then it measures, stops them, and closes every socket it opened.
 */
final class LoadDriver {
  /** Connections opened at once while setting up: enough to be quick, few enough for a backlog. */
  private static final int CONNECTING_AT_ONCE = 64;

  /** How long connections get to end once their sockets are closed under them. */
  private static final Duration CLOSE_GRACE = Duration.ofSeconds(1);

  /** How often the drain after the run looks whether echoed bytes still come. */
  private static final Duration DRAIN_LOOK = Duration.ofMillis(50);

  private LoadDriver() {}

  /** What a run measured, and what it cost to set up. */
  record Outcome(LoadPlan plan, LoadRun.Measured measured, double connectSeconds, LoadRun run) {}

  static Outcome run(LoadPlan plan, LoadRun.Phases phases)
      throws IOException, InterruptedException {
    LoadTarget target = new LoadTarget(plan.server(), plan.sourceIps(), plan.timeout());
    if (plan.scenario() == Scenario.CONNECT) {
      // The workers connect only once the run has started: one connection first, so that a server
      // that is not there is said as the other scenarios say it (exit 3), not after a whole run.
      target.connect(0).close();
    }
    EchoPattern pattern = new EchoPattern(plan.maxWindow());
    LoadRun run = new LoadRun(plan.connections());
    AtomicReferenceArray<Socket> open = new AtomicReferenceArray<>(plan.connections());
    Semaphore connecting = new Semaphore(CONNECTING_AT_ONCE);
    CountDownLatch opened = new CountDownLatch(plan.connections());
    AtomicReference<IOException> connectFailure = new AtomicReference<>();
    List<Thread> loops = new ArrayList<>(plan.connections());
    long setup = System.nanoTime();
    try {
      // Each connection's thread connects, then waits until all have: connections opened while
      // thousands of others already loop at full speed open slowly (the new threads wait their
      // turn behind the busy ones), which made 10,000 connections take minutes. The wait is short
      // (a server's first-byte deadline, ten seconds for jsock's, allows for it).
      for (int i = 0; i < plan.connections(); i++) {
        connecting.acquire();
        int index = i;
        loops.add(
            Thread.ofVirtual()
                .name("jsock bench " + index)
                .start(
                    () -> {
                      try {
                        if (plan.scenario() != Scenario.CONNECT && connectFailure.get() == null) {
                          open.set(index, openOne(plan, target, index));
                        }
                      } catch (IOException e) {
                        connectFailure.compareAndSet(null, e);
                      } finally {
                        connecting.release();
                        opened.countDown();
                      }
                      awaitQuietly(opened);
                      if (connectFailure.get() == null) {
                        runLoop(plan, target, index, pattern, run, open);
                      }
                    }));
      }
      opened.await();
      if (connectFailure.get() != null) {
        run.stop();
        throw connectFailure.get(); // a refused connection keeps its type: the exit code says so
      }
      double connectSeconds = (System.nanoTime() - setup) / 1e9;
      if (onEventLoops(plan)) {
        loops.addAll(startEventLoops(plan, pattern, run, open));
      }
      LoadRun.Measured measured = run.measure(plan.warmup(), plan.duration(), phases);
      if (plan.scenario() != Scenario.BULK) {
        measured = measured.byRoundTrips(plan.size()); // its counts as its latencies' count
      }
      // The loops receive what is still in flight, then end; across a slow link that takes as
      // long as the socket buffers' bytes take to come back, so the wait lasts while echoed bytes
      // keep coming. Those still waiting once none has come for --timeout (a server that stopped
      // echoing) are counted, and ended by closing their sockets. The event loops give up on
      // their silent connections on their own and count them; the grace lets them.
      if (onEventLoops(plan)) {
        drain(loops, run, plan.timeout().plus(CLOSE_GRACE));
      } else {
        drain(loops, run, plan.timeout());
        reportUnanswered(plan, loops, run);
      }
      return new Outcome(plan, measured, connectSeconds, run);
    } finally {
      run.closing();
      closeAll(open);
      joinAll(loops, CLOSE_GRACE);
    }
  }

  /** Whether the scenario runs on event loops rather than a virtual thread per connection. */
  private static boolean onEventLoops(LoadPlan plan) {
    return switch (plan.scenario()) {
      case PINGPONG, PIPELINE, UDP -> true;
      case BULK, CONNECT -> false;
    };
  }

  /**
   * Deals the connections out to one event loop per CPU this process may run on (as {@code taskset}
   * leaves them), each on a platform thread of its own.
   */
  private static List<Thread> startEventLoops(
      LoadPlan plan, EchoPattern pattern, LoadRun run, AtomicReferenceArray<Socket> open) {
    int count = Math.min(plan.connections(), Runtime.getRuntime().availableProcessors());
    List<Thread> threads = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      LoopShare share = new LoopShare(open, i, count, plan, pattern, run);
      Runnable loop =
          plan.scenario() == Scenario.UDP ? new UdpEventLoop(share) : new StreamEventLoop(share);
      threads.add(Thread.ofPlatform().daemon().name("jsock bench loop " + i).start(loop));
    }
    return threads;
  }

  /**
   * Counts each connection of {@code bulk} or {@code connect} still waiting for its echo when none
   * had come for {@code --timeout}: its thread is the one at its index.
   */
  private static void reportUnanswered(LoadPlan plan, List<Thread> loops, LoadRun run) {
    for (int i = 0; i < plan.connections(); i++) {
      if (loops.get(i).isAlive()) {
        run.error(new EchoTimeoutException(i, "its echo", plan));
      }
    }
  }

  private static Socket openOne(LoadPlan plan, LoadTarget target, int index) throws IOException {
    return plan.scenario() == Scenario.UDP
        ? target.datagram(index, plan.lossTimeout())
        : target.connect(index);
  }

  private static void runLoop(
      LoadPlan plan,
      LoadTarget target,
      int index,
      EchoPattern pattern,
      LoadRun run,
      AtomicReferenceArray<Socket> open) {
    try {
      switch (plan.scenario()) {
        case PINGPONG, PIPELINE, UDP -> {} // the event loops take these once all are open
        case BULK -> BulkLoop.run(open.get(index), index, plan, pattern, run);
        case CONNECT -> ConnectLoop.run(target, index, plan, pattern, run, open);
      }
    } catch (IOException e) {
      run.error(e);
    }
  }

  private static void closeAll(AtomicReferenceArray<Socket> open) {
    for (int i = 0; i < open.length(); i++) {
      Socket socket = open.getAndSet(i, null);
      if (socket != null) {
        try {
          socket.close();
        } catch (IOException e) {
          // closing at the end of a run: nothing left to tell
        }
      }
    }
  }

  private static void joinAll(List<Thread> threads, Duration limit) throws InterruptedException {
    long deadline = System.nanoTime() + limit.toNanos();
    for (Thread thread : threads) {
      long left = deadline - System.nanoTime();
      if (left <= 0 || !thread.join(Duration.ofNanos(left))) {
        return;
      }
    }
  }

  /**
   * Waits for {@code threads} to end while the run's echoed bytes keep coming: until they have all
   * ended, or none has come for {@code silence}.
   */
  private static void drain(List<Thread> threads, LoadRun run, Duration silence)
      throws InterruptedException {
    long bytes = run.verifiedBytes();
    long deadline = System.nanoTime() + silence.toNanos();
    for (Thread thread : threads) {
      while (!thread.join(DRAIN_LOOK)) {
        long now = System.nanoTime();
        long seen = run.verifiedBytes();
        if (seen != bytes) {
          bytes = seen;
          deadline = now + silence.toNanos();
        } else if (now - deadline >= 0) {
          return;
        }
      }
    }
  }

  /** Waits for {@code latch}; an interrupt (the run is being stopped) ends the wait early. */
  private static void awaitQuietly(CountDownLatch latch) {
    try {
      latch.await();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
