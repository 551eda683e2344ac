package io.jsock.internal;

import java.util.PriorityQueue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;

/**
 * The timer behind a socket's timeout: a waiting thread parks untimed, and one daemon thread wakes
 * it when its deadline has passed.
 *
 * <p>Why: a timed park of a virtual thread schedules a timer task, and cancels it when the thread
 * is woken, and each of the two wakes the scheduler's timer thread: on a socket with a timeout
 * (every connection of a {@link io.jsock.server.TcpServer} has its idle timeout) that was three
 * futex calls and two context switches per received message, more than the receive itself. Here a
 * direction of a socket holds at most one pending timer entry at a time: a wait publishes its
 * deadline (a volatile write) and files an entry only when none is pending or the pending one is
 * later (which it supersedes: that one stays queued, dead, until its deadline or a purge). When an
 * entry falls due, the timer thread looks at the deadline of the wait in progress: passed, it wakes
 * the waiter; later (the socket kept receiving), it re-files the entry for that deadline; none, it
 * drops the entry. A socket that receives a message a millisecond under a five-minute timeout
 * touches the timer once every five minutes.
 *
 * <p>The waiting side never blocks on a lock: a wake that came while the waiter was filing its
 * entry must still find the thread's park permit unused (an edge's wakeup is nothing else). A
 * wakeup may come early or for a wait that has already ended; waiters retry and wait again, as for
 * any spurious wakeup. Dead entries (of closed sockets, or superseded) are dropped in bulk once
 * they are half of those filed (and at least {@link #PURGE_AT_LEAST}): the close or the wait that
 * makes them so wakes the timer thread for it, since a timer asleep until its next deadline
 * (minutes away, with a server's idle timeout) would otherwise keep every closed connection's
 * entry, and every idle-timeout entry superseded by a short look for more, until then.
 */
final class Deadlines {
  /** {@link Waiters#timerAt} when no entry is pending. */
  static final long NONE = Long.MIN_VALUE;

  private static final int PURGE_AT_LEAST = 1024;

  /** The timer once its thread has started (see {@link #started()}). */
  private static volatile Deadlines started;

  /** Entries filed by waiters, moved into {@link #queue} by the timer thread. */
  private final ConcurrentLinkedQueue<Entry> incoming = new ConcurrentLinkedQueue<>();

  private final PriorityQueue<Entry> queue = // the timer thread's own
      new PriorityQueue<>((a, b) -> Long.compare(a.at - b.at, 0));

  /**
   * Entries of closed sockets, and entries superseded by a sooner one, not yet dropped (an
   * estimate: see {@link #purgeIfDue}).
   */
  private final AtomicInteger dead = new AtomicInteger();

  /** Entries filed and not yet dropped, in {@link #incoming} or {@link #queue}. */
  private final AtomicInteger filed = new AtomicInteger();

  /** Set by the close or wait that makes a purge due and wakes the timer thread for it. */
  private final AtomicBoolean purgeDue = new AtomicBoolean();

  private Thread thread;

  /**
   * The direction whose entry the timer thread is queueing or firing, and the one left so by a
   * failure (see {@link #releaseFailed}): the timer thread's own.
   */
  private Waiters inHand;

  private Waiters failed;

  /** When the timer thread wakes next ({@code nanoTime}), if {@link #sleepingUntilSet}. */
  private volatile long sleepingUntil;

  private volatile boolean sleepingUntilSet;

  private Deadlines() {}

  /**
   * The timer, its thread started by the first call. A start can fail ({@code OutOfMemoryError}
   * "unable to create native thread"): the call throws it, and the next call starts the thread
   * afresh (started in a class initialiser, a failure would have failed every later timed wait of
   * the JVM with {@code NoClassDefFoundError}).
   */
  private static Deadlines started() {
    Deadlines timer = started;
    if (timer != null) {
      return timer;
    }
    synchronized (Deadlines.class) {
      if (started == null) {
        Deadlines deadlines = new Deadlines();
        deadlines.thread =
            Thread.ofPlatform().daemon().name("jsock-timeouts").start(deadlines::run);
        started = deadlines;
      }
      return started;
    }
  }

  /**
   * Parks the calling thread, the only one waiting in {@code waiters}, until it is unparked or
   * {@code deadline} (a {@link System#nanoTime()} value) has passed. Does not read the clock: every
   * caller has just computed the deadline or checked that it has not passed (one clock read per
   * wait, not two), and a deadline that passed since is already due, so the timer wakes the thread
   * as soon as it sees the entry.
   */
  static void park(Waiters waiters, long deadline, Object blocker) {
    waiters.deadline = deadline;
    try {
      while (true) {
        long pending = waiters.timerAt;
        if (pending != NONE && deadline - pending >= 0) {
          break; // an entry early enough is pending
        }
        // before the entry counts as pending: a timer that cannot start leaves none
        Deadlines timer = started();
        if (Waiters.TIMER_AT.compareAndSet(waiters, pending, deadline)) {
          timer.file(new Entry(waiters, deadline));
          if (pending != NONE) {
            timer.dead(); // the later entry it supersedes stays queued until its deadline
          }
          break;
        }
      }
      LockSupport.park(blocker);
    } finally {
      waiters.deadline = Long.MAX_VALUE;
    }
  }

  /** Drops the pending entry of a direction whose socket has closed. */
  static void cancel(Waiters waiters) {
    if (waiters.timerAt != NONE && (long) Waiters.TIMER_AT.getAndSet(waiters, NONE) != NONE) {
      started.dead(); // an entry was pending: the timer has started
    }
  }

  /** How many entries are filed and not yet dropped, pending or dead. */
  static int filed() {
    Deadlines timer = started;
    return timer == null ? 0 : timer.filed.get();
  }

  /** Counts an entry that is no longer pending but still filed, and wakes the timer to purge. */
  private void dead() {
    if (isPurgeDue(dead.incrementAndGet())
        && !purgeDue.get()
        && purgeDue.compareAndSet(false, true)) {
      LockSupport.unpark(thread);
    }
  }

  private boolean isPurgeDue(int dead) {
    return dead >= PURGE_AT_LEAST && dead * 2 >= filed.get();
  }

  private void file(Entry entry) {
    filed.incrementAndGet();
    incoming.add(entry);
    // The timer thread publishes when it will wake and then looks at incoming; this adds to
    // incoming and then reads when it will wake: one of the two sees the other.
    if (!sleepingUntilSet || entry.at - sleepingUntil < 0) {
      LockSupport.unpark(thread);
    }
  }

  private void run() {
    while (true) {
      try {
        releaseFailed();
        runUntilFailure();
      } catch (Throwable e) {
        failed = inHand;
        inHand = null;
        LoopFailures.reportAndPause(e);
      }
    }
  }

  /**
   * After a failure (see {@link LoopFailures}) with an entry in hand, which was neither queued nor
   * fired, or whose waiters' wakeup failed: its direction is left with no entry pending, and its
   * waiters woken, so that a wait still in progress files a new one (a direction whose pending
   * entry is lost would never time out again, since a later wait files none while one is pending).
   */
  private void releaseFailed() {
    Waiters released = failed;
    if (released != null) {
      failed = null; // before the wakeup: one that fails again is not retried for ever
      Waiters.TIMER_AT.setVolatile(released, NONE);
      released.wake();
    }
  }

  private void runUntilFailure() {
    while (true) {
      for (Entry entry; (entry = incoming.poll()) != null; ) {
        if (entry.isPending()) {
          inHand = entry.waiters;
          queue.add(entry);
        } else {
          filed.decrementAndGet(); // superseded, or its socket closed, before it got here
        }
      }
      inHand = null;
      long now = System.nanoTime();
      for (Entry head; (head = queue.peek()) != null && head.at - now <= 0; ) {
        queue.poll();
        filed.decrementAndGet();
        inHand = head.waiters;
        fire(head, now);
      }
      inHand = null;
      purgeIfDue();
      Entry head = queue.peek();
      if (head != null) {
        sleepingUntil = head.at;
      }
      sleepingUntilSet = head != null;
      if (!incoming.isEmpty()) {
        continue;
      }
      if (head == null) {
        LockSupport.park(this);
      } else {
        LockSupport.parkNanos(this, head.at - now);
      }
      sleepingUntilSet = false;
    }
  }

  /** An entry fell due: wake, re-file, or drop (see the class comment). */
  private void fire(Entry entry, long now) {
    Waiters waiters = entry.waiters;
    if (!Waiters.TIMER_AT.compareAndSet(waiters, entry.at, NONE)) {
      return; // superseded by a sooner entry, or the socket closed
    }
    // The waiter writes its deadline and then reads timerAt; this wrote timerAt and now reads the
    // deadline: one of the two sees the other, so a wait never goes without an entry.
    long deadline = waiters.deadline;
    if (deadline == Long.MAX_VALUE) {
      return;
    }
    if (deadline - now <= 0) {
      waiters.wake();
    } else if (Waiters.TIMER_AT.compareAndSet(waiters, NONE, deadline)) {
      filed.incrementAndGet();
      queue.add(new Entry(waiters, deadline));
    }
  }

  /**
   * Drops the dead entries once they are half of the filed ones. {@link #dead} counts closes and
   * supersessions, some of whose entries were already dropped on their way in: an estimate on the
   * high side, which costs at most an early look through the queue.
   */
  private void purgeIfDue() {
    purgeDue.set(false); // before the look: a death after it wakes the thread again
    int counted = dead.get();
    if (!isPurgeDue(counted)) {
      return;
    }
    dead.addAndGet(-counted);
    int before = queue.size();
    queue.removeIf(entry -> !entry.isPending());
    filed.addAndGet(queue.size() - before);
  }

  /** A pending wakeup for one direction of one socket. */
  private record Entry(Waiters waiters, long at) {
    /** Whether this is its direction's pending entry: not superseded, fired or closed. */
    boolean isPending() {
      return waiters.timerAt == at;
    }
  }
}
