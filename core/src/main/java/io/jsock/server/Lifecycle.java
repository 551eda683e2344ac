package io.jsock.server;

import java.time.Duration;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The running and stopping of a server, the same for TCP and UDP: one intake thread (the accept or
 * receive loop), one virtual thread per worker (a connection or a datagram; or the intake thread
 * itself, for a UDP server that handles datagrams as it receives them), and the graceful stop that
 * ends the intake at once, lets the workers finish within a grace period and then forces the rest.
 */
final class Lifecycle {
  /** A running worker: its thread, and how to make it stop when the grace period is over. */
  interface Worker {
    Thread thread();

    /** Ends the worker's work at once (resets its connection, interrupts its thread). */
    void force();
  }

  /** How long the forced workers get to end before {@code shutdown} returns anyway. */
  private static final Duration AFTER_FORCE = Duration.ofSeconds(1);

  private final CountDownLatch stopping = new CountDownLatch(1);

  /** Counted down once a shutdown has released the server's resources (its socket closed). */
  private final CountDownLatch released = new CountDownLatch(1);

  private final AtomicBoolean intakeStopped = new AtomicBoolean();

  /**
   * The release of a shutdown that one of the workers called (a handler, or a UDP server's
   * receiving thread), left for that worker to run as it ends: it may still reply through the
   * server's socket, as Python's {@code shutdown()} leaves the socket to {@code server_close()}.
   */
  private final AtomicReference<LeftRelease> leftRelease = new AtomicReference<>();

  private record LeftRelease(Thread worker, Runnable release) {}

  private final Set<Worker> workers = ConcurrentHashMap.newKeySet();

  /** Set once a shutdown's grace period is over, before the workers still running are forced. */
  private volatile boolean forcing;

  private volatile Thread intake;

  /**
   * Starts the intake loop on a virtual thread, which hands the work to virtual threads; or, for an
   * intake that {@code handlesWork} itself (runs each handler as it takes the work in), on a
   * platform thread, which is then a worker for its whole life, given the grace period and forced
   * as the others are. That one is the server's only thread: on a virtual thread each of its waits
   * would go through the scheduler (a poller wakes it, a carrier runs it), where a platform thread
   * blocks in the kernel and the kernel wakes it, as a C server's does (measured for UDP echo: less
   * CPU per datagram than either a virtual thread or Netty; docs/benchmarks/FINDINGS.md, "UDP
   * echo").
   */
  void start(String name, Runnable loop, boolean handlesWork) {
    if (!handlesWork) {
      intake = Thread.ofVirtual().name(name).start(loop);
      return;
    }
    Thread thread = Thread.ofPlatform().daemon().name(name).unstarted(() -> runAsWorker(loop));
    intake = thread;
    workers.add(new Intake(thread));
    thread.start();
  }

  private void runAsWorker(Runnable loop) {
    try {
      loop.run();
    } finally {
      remove(new Intake(Thread.currentThread())); // a record: equal by its thread
    }
  }

  /** The intake as a worker: forced by an interrupt, which its handler or its receive sees. */
  private record Intake(Thread thread) implements Worker {
    @Override
    public void force() {
      thread.interrupt();
    }
  }

  /** Interrupts the intake loop, which stops it when it waits in a socket call. */
  void interruptIntake() {
    intake.interrupt();
  }

  boolean isStopping() {
    return stopping.getCount() == 0;
  }

  /**
   * Whether a shutdown has forced the workers: a failure from now on may be its doing; during the
   * grace period a handler's failure is still its own.
   */
  boolean isForcing() {
    return forcing;
  }

  /** Waits before the intake tries again after a failure; returns true if the server stops. */
  boolean stopsWithin(Duration wait) {
    try {
      return stopping.await(wait.toNanos(), TimeUnit.NANOSECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return true;
    }
  }

  void add(Worker worker) {
    workers.add(worker);
  }

  void remove(Worker worker) {
    workers.remove(worker);
    LeftRelease left = leftRelease.get(); // null but when a worker has shut its server down
    if (left != null && left.worker() == worker.thread() && leftRelease.compareAndSet(left, null)) {
      release(left.release());
    }
  }

  /**
   * Stops the server: {@code stopIntake} at once (no new work; only on the first call), then waits
   * for the workers until {@code grace} has passed, forces the rest and gives them a second more,
   * then runs {@code release}, or, called by a worker, leaves it for that worker to run as it ends.
   * Returns within {@code grace} plus about a second, whatever the workers do. An interrupt ends
   * the grace period at once (the workers are forced) and stays set.
   */
  void shutdown(Duration grace, Runnable stopIntake, Runnable release) {
    long graceEnd = deadline(grace);
    long hardEnd = graceEnd + AFTER_FORCE.toNanos();
    stopping.countDown();
    if (intakeStopped.compareAndSet(false, true)) {
      // Once: a second shutdown (a close() after shutdown()) must not remove an AF_UNIX socket
      // file that another server may have bound at the same path since.
      stopIntake.run();
    }
    boolean interrupted = false;
    try {
      // The intake ends at once (its listener closed, or its wait interrupted) unless it is
      // running a handler itself (a UDP server without a thread per datagram): then it is a
      // worker like the others, and gets the grace period as they do.
      join(intake, graceEnd);
      awaitWorkers(graceEnd);
    } catch (InterruptedException e) {
      interrupted = true;
    }
    forceWorkers();
    long forcedEnd = interrupted ? deadline(AFTER_FORCE) : hardEnd;
    try {
      join(intake, forcedEnd);
      forceWorkers(); // any the intake handed work to after the first sweep; forcing is idempotent
      awaitWorkers(forcedEnd);
    } catch (InterruptedException e) {
      interrupted = true;
    }
    Thread caller = Thread.currentThread();
    if (workers.stream().anyMatch(worker -> worker.thread() == caller)) {
      leftRelease.set(new LeftRelease(caller, release));
    } else {
      release(release);
    }
    if (interrupted) {
      Thread.currentThread().interrupt();
    }
  }

  private void release(Runnable release) {
    try {
      release.run();
    } finally {
      released.countDown();
    }
  }

  /**
   * Waits until a shutdown has released the server (closed its socket, so its port is free) and
   * every worker has ended; false if the timeout passed. The release comes after the workers end,
   * on the shutdown's thread, which a caller woken by the same end could otherwise overtake.
   */
  boolean awaitTermination(Duration timeout) throws InterruptedException {
    long deadline = deadline(timeout);
    return join(intake, deadline)
        && awaitWorkers(deadline)
        && released.await(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
  }

  /**
   * Joins every worker until the deadline; true if none is left. A handler that shuts its own
   * server down is not waited for (it would wait for itself), nor forced.
   */
  private boolean awaitWorkers(long deadline) throws InterruptedException {
    Thread caller = Thread.currentThread();
    for (Worker worker : workers) {
      if (worker.thread() != caller && !join(worker.thread(), deadline)) {
        return false;
      }
    }
    return workers.stream().allMatch(worker -> worker.thread() == caller);
  }

  /** A handler that shuts its own server down is neither forced nor waited for. */
  private void forceWorkers() {
    forcing = true; // before the interrupts, so that a forced worker sees it
    Thread caller = Thread.currentThread();
    workers.stream().filter(worker -> worker.thread() != caller).forEach(Worker::force);
  }

  /**
   * Joins {@code thread} until the deadline, unless it is the caller (it would wait for itself).
   */
  private static boolean join(Thread thread, long deadline) throws InterruptedException {
    long left = deadline - System.nanoTime();
    if (left > 0 && thread != Thread.currentThread()) {
      thread.join(Duration.ofNanos(left));
    }
    return !thread.isAlive();
  }

  private static long deadline(Duration timeout) {
    long nanos = ServerConfig.saturatedNanos(timeout);
    // Capped so that the sum cannot wrap around: deadlines are compared by subtraction.
    return System.nanoTime() + Math.min(Math.max(nanos, 0), Long.MAX_VALUE / 4);
  }
}
