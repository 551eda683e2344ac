package io.jsock.internal;

import java.io.IOException;
import java.nio.channels.CancelledKeyException;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.ClosedSelectorException;
import java.nio.channels.SelectableChannel;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The readiness mechanism shared by every socket in the JVM: a few daemon threads, each running one
 * {@link Selector}, that unpark the threads waiting for their sockets to become readable or
 * writable.
 *
 * <p>A waiting thread, virtual or platform, adds its interest to its channel's key and parks; the
 * poller thread clears the interest when the event fires (the selector is level-triggered, so a
 * lasting interest would spin) and unparks the waiter, which then retries its non-blocking
 * operation. There is never a selector per socket or per call, and an idle socket costs one
 * registered key, so 100,000 waiting sockets cost 100,000 keys and no threads.
 */
public final class Poller {
  /** Held while the pollers start, so that they start once. */
  private static final ReentrantLock STARTING = new ReentrantLock();

  /** The pollers once started (see {@link #next()}). */
  private static volatile Poller[] pollers;

  /** Opened with the pollers, before {@link #pollers} is set (see {@link #isReadableNow}). */
  private static ReadinessCheck readiness;

  private static final AtomicInteger NEXT = new AtomicInteger();
  private static final int READS = SelectionKey.OP_READ | SelectionKey.OP_ACCEPT;
  private static final int WRITES = SelectionKey.OP_WRITE | SelectionKey.OP_CONNECT;

  private final Selector selector;

  /** Threads waiting in {@link #deregister} for the selector to finish its current select. */
  private final Queue<Thread> deregistering = new ConcurrentLinkedQueue<>();

  private Poller(Selector selector) {
    this.selector = selector;
  }

  /**
   * The poller for a newly created channel: the pollers take channels in turn. The first call
   * starts them, and opens the selector of {@link #isReadableNow}; a start that fails (a selector
   * is two file descriptors, EMFILE at the process's limit) closes the selectors it opened, which
   * ends the threads it started, and throws, and the next call starts them afresh.
   *
   * @throws IOException when a selector cannot be opened
   */
  static Poller next() throws IOException {
    Poller[] started = pollers;
    if (started == null) {
      STARTING.lock();
      try {
        if (pollers == null) {
          pollers = start(pollerCount()); // volatile: publishes readiness too
        }
        started = pollers;
      } finally {
        STARTING.unlock();
      }
    }
    return started[Math.floorMod(NEXT.getAndIncrement(), started.length)];
  }

  SelectionKey register(SelectableChannel channel, PolledChannel attachment)
      throws ClosedChannelException {
    return channel.register(selector, 0, attachment);
  }

  /**
   * Adds interest in {@code ops} and lets the selector apply it now: a change of interest takes
   * effect at the selector's next select, so the one in progress must be woken.
   */
  void arm(SelectionKey key, int ops) {
    key.interestOpsOr(ops);
    selector.wakeup();
  }

  /**
   * Whether {@code channel} is ready to read now (see {@link ReadinessCheck}), asked without a new
   * descriptor: of a selector opened with the pollers, shared by every channel.
   */
  boolean isReadableNow(SelectableChannel channel) throws IOException {
    return readiness.isReadable(channel);
  }

  /**
   * Waits until a question of {@link #isReadableNow} about {@code channel}, just closed, has let it
   * go, so that its descriptor is closed (see {@link ReadinessCheck#awaitAnswered}).
   */
  void awaitReadinessAnswered(SelectableChannel channel) {
    readiness.awaitAnswered(channel);
  }

  /** Lets the selector flush cancelled keys now, which is when the JDK really closes their fds. */
  void flush() {
    selector.wakeup();
  }

  /**
   * Cancels a key and waits until the selector has dropped it, so that closing the channel closes
   * its file descriptor at once (unless another selector, such as a {@code SocketSelector}, still
   * holds the channel). The selector drops cancelled keys before and after each poll, so this takes
   * at most the select in progress and the next one.
   */
  void deregister(SelectionKey key) {
    key.cancel();
    // Not isRegistered(): that stays true while another selector holds the channel, which would
    // make this loop spin for as long as that registration lasts.
    while (key.channel().keyFor(selector) != null) {
      // Queued before the wakeup, so the select it ends unparks us: no wakeup is lost.
      deregistering.add(Thread.currentThread());
      selector.wakeup();
      LockSupport.park(this);
    }
  }

  private void run() {
    boolean failed = false;
    while (selector.isOpen()) {
      try {
        if (failed) {
          failed = false;
          wakeEveryWaiter();
        }
        selector.select(Poller::fire);
        for (Thread waiter; (waiter = deregistering.poll()) != null; ) {
          LockSupport.unpark(waiter);
        }
      } catch (ClosedSelectorException e) {
        return; // the JVM is shutting down
      } catch (Throwable e) {
        LoopFailures.reportAndPause(e);
        failed = true;
      }
    }
  }

  /**
   * After a failure (see {@link LoopFailures}): the key being fired may have lost its interest
   * without its waiters being woken, and the threads waiting in {@link #deregister} may not have
   * been unparked, so every thread waiting on this selector is woken to retry.
   */
  private void wakeEveryWaiter() {
    for (SelectionKey key : selector.keys()) {
      PolledChannel polled = (PolledChannel) key.attachment();
      LoopFailures.signal(polled.readers);
      LoopFailures.signal(polled.writers);
    }
    for (Thread waiter; (waiter = deregistering.poll()) != null; ) {
      LockSupport.unpark(waiter);
    }
  }

  private static void fire(SelectionKey key) {
    PolledChannel polled = (PolledChannel) key.attachment();
    try {
      int ready = key.readyOps();
      // A direction's interest goes as a whole: an OP_CONNECT left on a channel whose connect has
      // ended (the OP_WRITE armed beside it fired) would keep the selector's poll returning at once
      // for an event the JDK no longer reports, a thread spinning.
      int done = 0;
      if ((ready & READS) != 0) {
        done |= READS;
      }
      if ((ready & WRITES) != 0) {
        done |= WRITES;
      }
      key.interestOpsAnd(~done);
      // signalled, not only woken: the waiter learns that readiness ended its wait (see
      // PolledChannel.await), and one about to park does not
      if ((ready & READS) != 0) {
        polled.readers.signal();
      }
      if ((ready & WRITES) != 0) {
        polled.writers.signal();
      }
    } catch (CancelledKeyException e) {
      polled.wakeAll();
    }
  }

  private static int pollerCount() {
    String configured = System.getProperty("jsock.pollers");
    if (configured != null) {
      int count = Integer.parseInt(configured);
      if (count < 1) {
        throw new IllegalArgumentException("jsock.pollers must be at least 1: " + count);
      }
      return count;
    }
    return Math.max(1, Runtime.getRuntime().availableProcessors() / 4);
  }

  /**
   * Opens every selector, then the one of {@link #readiness}, then starts their threads; whatever
   * fails closes the selectors.
   */
  private static Poller[] start(int count) throws IOException {
    Poller[] started = new Poller[count];
    boolean done = false;
    try {
      for (int i = 0; i < count; i++) {
        started[i] = new Poller(Selector.open());
      }
      readiness = ReadinessCheck.open();
      for (int i = 0; i < count; i++) {
        Thread.ofPlatform().daemon().name("jsock-poller-" + i).start(started[i]::run);
      }
      done = true;
      return started;
    } finally {
      if (!done) {
        if (readiness != null) {
          readiness.close();
          readiness = null;
        }
        for (Poller poller : started) {
          if (poller != null) {
            poller.selector.close(); // a thread started on it ends (see run)
          }
        }
      }
    }
  }
}
