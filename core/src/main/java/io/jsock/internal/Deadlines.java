package io.jsock.internal;

import java.util.ArrayList;
import java.util.List;
import java.util.PriorityQueue;
import java.util.concurrent.ConcurrentLinkedQueue;
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
 * direction of a socket holds at most one timer entry at a time: a wait publishes its deadline (a
 * volatile write) and files an entry only when none is pending or the pending one is later. When an
 * entry falls due, the timer thread looks at the deadline of the wait in progress: passed, it wakes
 * the waiter; later (the socket kept receiving), it re-files the entry for that deadline; none, it
 * drops the entry. A socket that receives a message a millisecond under a five-minute timeout
 * touches the timer once every five minutes.
 *
 * <p>The waiting side never blocks on a lock: a wake that came while the waiter was filing its
 * entry must still find the thread's park permit unused (an edge's wakeup is nothing else). A
 * wakeup may come early or for a wait that has already ended; waiters retry and wait again, as for
 * any spurious wakeup. Entries of closed sockets are dropped in bulk once they are half of the
 * queue, so a high connection rate does not fill it with dead ones.
 */
final class Deadlines {
  /** {@link Waiters#timerAt} when no entry is pending. */
  static final long NONE = Long.MIN_VALUE;

  private static final int PURGE_AT_LEAST = 1024;

  private static final class Holder {
    static final Deadlines INSTANCE = start();
  }

  /** Entries filed by waiters, moved into {@link #queue} by the timer thread. */
  private final ConcurrentLinkedQueue<Entry> incoming = new ConcurrentLinkedQueue<>();

  private final PriorityQueue<Entry> queue = // the timer thread's own
      new PriorityQueue<>((a, b) -> Long.compare(a.at - b.at, 0));
  private final AtomicInteger cancelled = new AtomicInteger();
  private Thread thread;

  /** When the timer thread wakes next ({@code nanoTime}), if {@link #sleepingUntilSet}. */
  private volatile long sleepingUntil;

  private volatile boolean sleepingUntilSet;

  private Deadlines() {}

  private static Deadlines start() {
    Deadlines deadlines = new Deadlines();
    deadlines.thread = Thread.ofPlatform().daemon().name("jsock-timeouts").start(deadlines::run);
    return deadlines;
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
        if (Waiters.TIMER_AT.compareAndSet(waiters, pending, deadline)) {
          Holder.INSTANCE.file(new Entry(waiters, deadline));
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
      Holder.INSTANCE.cancelled.incrementAndGet();
    }
  }

  private void file(Entry entry) {
    incoming.add(entry);
    // The timer thread publishes when it will wake and then looks at incoming; this adds to
    // incoming and then reads when it will wake: one of the two sees the other.
    if (!sleepingUntilSet || entry.at - sleepingUntil < 0) {
      LockSupport.unpark(thread);
    }
  }

  private void run() {
    while (true) {
      for (Entry entry; (entry = incoming.poll()) != null; ) {
        queue.add(entry);
      }
      long now = System.nanoTime();
      for (Entry head; (head = queue.peek()) != null && head.at - now <= 0; ) {
        queue.poll();
        fire(head, now);
      }
      purgeIfMostlyCancelled();
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
      queue.add(new Entry(waiters, deadline));
    }
  }

  private void purgeIfMostlyCancelled() {
    int dead = cancelled.get();
    if (dead < PURGE_AT_LEAST || dead * 2 < queue.size()) {
      return;
    }
    cancelled.addAndGet(-dead);
    List<Entry> live = new ArrayList<>();
    for (Entry entry : queue) {
      if (entry.waiters.timerAt == entry.at) {
        live.add(entry);
      }
    }
    queue.clear();
    queue.addAll(live);
  }

  /** A pending wakeup for one direction of one socket. */
  private record Entry(Waiters waiters, long at) {}
}
