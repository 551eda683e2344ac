package io.jsock.internal;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.ArrayList;
import java.util.List;

/**
 * The platform threads waiting in {@code poll(2)} on one channel, by their {@link Wakeup}, for a
 * close to wake. As in {@link Waiters}, the usual one takes a slot without allocating or locking;
 * more (a thread receiving while another sends, several accepting) go to a list beside it.
 */
final class KernelWaiters {
  private static final VarHandle FIRST;

  static {
    try {
      FIRST = MethodHandles.lookup().findVarHandle(KernelWaiters.class, "first", Wakeup.class);
    } catch (ReflectiveOperationException e) {
      throw new ExceptionInInitializerError(e);
    }
  }

  private volatile Wakeup first; // set and cleared through FIRST

  private volatile int othersCount;
  private List<Wakeup> others; // guarded by this; made when a second thread waits, which is rare

  void add(Wakeup waiter) {
    if (FIRST.compareAndSet(this, null, waiter)) {
      return;
    }
    synchronized (this) {
      if (others == null) {
        others = new ArrayList<>(2);
      }
      others.add(waiter);
      othersCount = others.size();
    }
  }

  void remove(Wakeup waiter) {
    if (!FIRST.compareAndSet(this, waiter, null)) {
      synchronized (this) {
        others.remove(waiter);
        othersCount = others.size();
      }
    }
  }

  /** Signals every waiter's wakeup: one {@code write(2)} each, none when nobody waits. */
  void signalAll() {
    Wakeup waiter = first;
    if (waiter != null) {
      waiter.signal();
    }
    if (othersCount > 0) {
      synchronized (this) {
        others.forEach(Wakeup::signal);
      }
    }
  }
}
