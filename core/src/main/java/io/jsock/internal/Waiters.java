package io.jsock.internal;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.locks.LockSupport;

/**
 * The threads waiting for one direction of one channel. Nearly always there is one, which takes a
 * slot without allocating or locking; more (several threads in {@code accept} on one listener, as
 * Python allows) go to a list beside it.
 */
final class Waiters {
  private static final VarHandle FIRST;
  static final VarHandle TIMER_AT;

  static {
    try {
      FIRST = MethodHandles.lookup().findVarHandle(Waiters.class, "first", Thread.class);
      TIMER_AT = MethodHandles.lookup().findVarHandle(Waiters.class, "timerAt", long.class);
    } catch (ReflectiveOperationException e) {
      throw new ExceptionInInitializerError(e);
    }
  }

  private volatile Thread first;

  /**
   * Set by a poller when the direction became ready (and for writers when the output is shut: see
   * {@link PolledChannel#outputShut()}), cleared by {@link #clear()} after each wait: a waiter that
   * finds it set does not park, since the edge it waits for may have fired before it published
   * itself (the poller writes this before reading the waiters, the waiter publishes itself before
   * reading this, so one of them sees the other); and a wait that finds it set as it ends was ended
   * by readiness, not by its deadline (see {@link PolledChannel#await}).
   */
  private volatile boolean signalled;

  /**
   * The deadline of the timed wait in progress of the thread in the first slot ({@link
   * Long#MAX_VALUE} when none), and of this direction's pending entry in {@link Deadlines} ({@link
   * Deadlines#NONE} when none); see there.
   */
  volatile long deadline = Long.MAX_VALUE;

  volatile long timerAt = Deadlines.NONE;

  private volatile int othersCount;
  private List<Thread> others; // guarded by this; made when a second thread waits, which is rare

  /** Publishes {@code waiter}; returns whether it took the first slot (the usual case). */
  boolean add(Thread waiter) {
    if (FIRST.compareAndSet(this, null, waiter)) {
      return true;
    }
    synchronized (this) {
      if (others == null) {
        others = new ArrayList<>(2);
      }
      others.add(waiter);
      othersCount = others.size();
    }
    return false;
  }

  void remove(Thread waiter) {
    if (!FIRST.compareAndSet(this, waiter, null)) {
      synchronized (this) {
        if (others != null) {
          others.remove(waiter);
          othersCount = others.size();
        }
      }
    }
  }

  /** Whether no thread is waiting (or about to: a thread publishes itself before it looks). */
  boolean isEmpty() {
    return first == null && othersCount == 0;
  }

  /** Marks the direction ready and unparks every waiting thread. */
  void signal() {
    signalled = true;
    wake();
  }

  /**
   * Set for good by an edge-triggered poller once the peer hung up, the socket failed, or urgent
   * data came (an edge with {@code EPOLLRDHUP}, {@code EPOLLHUP}, {@code EPOLLERR} or {@code
   * EPOLLPRI}): from then on a short read no longer means an empty receive queue, since the end of
   * the stream, or the data after an urgent mark, may still be there to read.
   */
  private volatile boolean shortReadsInconclusive;

  void markShortReadsInconclusive() {
    shortReadsInconclusive = true;
  }

  boolean shortReadsInconclusive() {
    return shortReadsInconclusive;
  }

  boolean isSignalled() {
    return signalled;
  }

  void clear() {
    signalled = false;
  }

  /** Unparks every waiting thread; each retries its operation. */
  void wake() {
    Thread waiter = first;
    if (waiter != null) {
      LockSupport.unpark(waiter);
    }
    if (othersCount > 0) {
      synchronized (this) {
        others.forEach(LockSupport::unpark);
      }
    }
  }
}
