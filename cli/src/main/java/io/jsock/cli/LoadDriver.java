package io.jsock.cli;

import io.jsock.Socket;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.atomic.AtomicReferenceArray;

/**
 * Runs one {@link LoadPlan}: opens the connections (before the clock starts), gives each its own
 * virtual thread running the scenario's loop as plain blocking code, measures, then stops them and
 * closes every socket it opened.
 */
final class LoadDriver {
  /** Connections opened at once while setting up: enough to be quick, few enough for a backlog. */
  private static final int CONNECTING_AT_ONCE = 64;

  /** How long connections get to end once their sockets are closed under them. */
  private static final Duration CLOSE_GRACE = Duration.ofSeconds(1);

  private LoadDriver() {}

  /** What a run measured, and what it cost to set up. */
  record Outcome(LoadPlan plan, LoadRun.Measured measured, double connectSeconds, LoadRun run) {}

  static Outcome run(LoadPlan plan, LoadRun.Phases phases)
      throws IOException, InterruptedException {
    LoadTarget target = new LoadTarget(plan.server(), plan.sourceIps(), plan.timeout());
    EchoPattern pattern = new EchoPattern(plan.maxWindow());
    LoadRun run = new LoadRun();
    AtomicReferenceArray<Socket> open = new AtomicReferenceArray<>(plan.connections());
    long setup = System.nanoTime();
    if (plan.scenario() != Scenario.CONNECT) {
      openAll(plan, target, open);
    }
    double connectSeconds = (System.nanoTime() - setup) / 1e9;
    List<Thread> loops = new ArrayList<>(plan.connections());
    try {
      for (int i = 0; i < plan.connections(); i++) {
        int index = i;
        loops.add(
            Thread.ofVirtual()
                .name("jsock bench " + index)
                .start(() -> runLoop(plan, target, index, pattern, run, open)));
      }
      LoadRun.Measured measured = run.measure(plan.warmup(), plan.duration(), phases);
      // The loops receive what is still in flight, then end; those still waiting after --timeout
      // (a server that stopped echoing) are ended by closing their sockets.
      joinAll(loops, plan.timeout());
      return new Outcome(plan, measured, connectSeconds, run);
    } finally {
      closeAll(open);
      joinAll(loops, CLOSE_GRACE);
    }
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
        case PINGPONG, PIPELINE -> StreamLoop.run(open.get(index), index, plan, pattern, run);
        case BULK -> BulkLoop.run(open.get(index), index, plan, pattern, run);
        case UDP -> UdpLoop.run(open.get(index), index, plan, pattern, run);
        case CONNECT -> ConnectLoop.run(target, index, plan, pattern, run, open);
      }
    } catch (IOException e) {
      run.error(e);
    }
  }

  /**
   * Opens every connection, a few at a time; if any fails, closes those opened and throws the first
   * failure (a refused connection keeps its type, so the exit code says so).
   */
  private static void openAll(LoadPlan plan, LoadTarget target, AtomicReferenceArray<Socket> open)
      throws IOException, InterruptedException {
    Semaphore connecting = new Semaphore(CONNECTING_AT_ONCE);
    AtomicReference<IOException> failure = new AtomicReference<>();
    List<Thread> openers = new ArrayList<>(plan.connections());
    for (int i = 0; i < plan.connections() && failure.get() == null; i++) {
      connecting.acquire();
      int index = i;
      openers.add(
          Thread.ofVirtual()
              .start(
                  () -> {
                    try {
                      open.set(
                          index,
                          plan.scenario() == Scenario.UDP
                              ? target.datagram(index, plan.udpWait())
                              : target.connect(index));
                    } catch (IOException e) {
                      failure.compareAndSet(null, e);
                    } finally {
                      connecting.release();
                    }
                  }));
    }
    for (Thread opener : openers) {
      opener.join();
    }
    if (failure.get() != null) {
      closeAll(open);
      throw failure.get();
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
}
