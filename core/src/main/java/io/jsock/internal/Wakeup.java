package io.jsock.internal;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.ref.WeakReference;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.spi.AbstractSelectableChannel;
import java.nio.channels.spi.AbstractSelector;
import java.nio.channels.spi.SelectorProvider;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * A platform thread's way out of a {@code poll(2)} on a socket (see {@link PolledChannel}): an
 * eventfd that the thread polls beside the socket, in the same call, and that another thread's
 * close of the socket signals, and an interrupt of the thread too. Without it nothing wakes a
 * {@code poll} at a close, and the file it holds keeps the connection open (no FIN, no reset) until
 * the poll returns; nor at an interrupt, which the thread would notice only when the poll returned.
 *
 * <p>One per platform thread, made at its first such wait and kept for the next ones, so that a
 * wait costs the one {@code poll} it did before. Never closed: a thread that ends leaves its wakeup
 * to the next thread that needs one, so threads that come and go hold no more eventfds than ever
 * waited at once. And a close that signals a wakeup just as its thread stops waiting (or ends)
 * writes to that eventfd still, never to another file that was given a closed number: the thread
 * that has it meets a stale wake, which it drains before it polls again.
 */
final class Wakeup {
  private static final ThreadLocal<Wakeup> MINE = new ThreadLocal<>();

  /** Every wakeup made, for threads to take over those of threads that ended. */
  private static final List<Wakeup> ALL = new ArrayList<>(); // guarded by itself

  /** What {@link #poll} returns when only the eventfd woke it. */
  static final int WOKEN = -2;

  private final int eventFd;

  /** {@code struct pollfd[2]}: the socket of the wait in progress, then {@link #eventFd}. */
  private final MemorySegment pollFds;

  /** Where {@link #poll} drains the eventfd's counter to. */
  private final MemorySegment scratch;

  /** What has an interrupt of the owner signal this wakeup while it polls. */
  private final InterruptHook interruptHook;

  private WeakReference<Thread> owner; // guarded by ALL

  private Wakeup(int eventFd, Thread owner) {
    this.eventFd = eventFd;
    this.owner = new WeakReference<>(owner);
    Arena arena = Arena.ofAuto(); // freed with this, which ALL keeps for the JVM's life
    this.pollFds = Epoll.pollFds(arena, 2);
    this.scratch = arena.allocate(8, 8);
    this.interruptHook = new InterruptHook(eventFd);
    Epoll.setPollFd(pollFds, 1, eventFd, Epoll.POLLIN);
  }

  /**
   * The calling platform thread's wakeup: its own, one that a thread which ended left, or a new
   * one; null when the kernel refuses an eventfd (at the limit of file descriptors), and the
   * caller's wait cannot be woken by a close.
   */
  static Wakeup current() {
    Wakeup mine = MINE.get();
    if (mine == null) {
      mine = takeOverOrMake(Thread.currentThread());
      if (mine != null) {
        MINE.set(mine);
      }
    }
    return mine;
  }

  /** Once per platform thread: a scan of every wakeup, as long as the most threads that waited. */
  private static Wakeup takeOverOrMake(Thread me) {
    synchronized (ALL) {
      for (Wakeup wakeup : ALL) {
        Thread previous = wakeup.owner.get();
        if (previous == null || !previous.isAlive()) {
          wakeup.owner = new WeakReference<>(me);
          return wakeup;
        }
      }
      int eventFd = Epoll.eventFd();
      if (eventFd < 0) {
        return null;
      }
      Wakeup made = new Wakeup(eventFd, me);
      ALL.add(made);
      return made;
    }
  }

  /**
   * Blocks in one {@code poll(2)} until {@code fd} is ready for {@code events}, has failed or hung
   * up, {@code timeoutMillis} have passed, a signal came, this wakeup was {@link #signal()
   * signalled}, or the thread is interrupted (or was already): returns 1 when {@code fd} reported,
   * 0 on timeout, -1 when poll failed (EINTR), or {@link #WOKEN} when only this wakeup did (which
   * it drains). Only by the owning thread.
   *
   * <p>An interrupt may signal this wakeup just after the poll returned (the JDK calls the hook
   * after it has let go of the thread's lock): the next poll meets a stale wake, as after a close.
   */
  int poll(int fd, short events, int timeoutMillis) {
    Epoll.setPollFd(pollFds, 0, fd, events);
    int n;
    interruptHook.enter();
    try {
      n = Epoll.poll(pollFds, 2, timeoutMillis);
    } finally {
      interruptHook.leave();
    }
    if (n <= 0) {
      return n;
    }
    if (Epoll.revents(pollFds, 1) != 0) {
      Epoll.drain(eventFd, scratch);
    }
    return Epoll.revents(pollFds, 0) != 0 ? 1 : WOKEN;
  }

  /** Wakes the owner's {@link #poll} in flight, or else its next one; from any thread. */
  void signal() {
    Epoll.signal(eventFd);
  }

  /**
   * A selector in name only, for {@link AbstractSelector#begin()} and {@link
   * AbstractSelector#end()}: the JDK's one public way to have {@link Thread#interrupt()} wake a
   * thread blocked in a system call, here by signalling the eventfd that its {@code poll} watches.
   * ({@code AbstractInterruptibleChannel}'s would close the channel.) Between the two, the thread's
   * interrupt calls {@link #wakeup()}, and {@code begin} calls it at once if the thread is already
   * interrupted. They cost the thread's interrupt lock twice (uncontended) and allocate nothing:
   * the JDK makes the hook once, with the selector. Nothing registers with it or selects on it.
   */
  private static final class InterruptHook extends AbstractSelector {
    private final int eventFd;

    InterruptHook(int eventFd) {
      super(SelectorProvider.provider());
      this.eventFd = eventFd;
    }

    void enter() {
      begin();
    }

    void leave() {
      end();
    }

    /** Called by the interrupting thread, or by {@link #enter} in an interrupted one. */
    @Override
    public Selector wakeup() {
      Epoll.signal(eventFd);
      return this;
    }

    @Override
    protected void implCloseSelector() {
      // never closed: the eventfd is the wakeup's, which lives as long as the JVM
    }

    @Override
    protected SelectionKey register(AbstractSelectableChannel ch, int ops, Object att) {
      throw new UnsupportedOperationException("register");
    }

    @Override
    public Set<SelectionKey> keys() {
      return Set.of();
    }

    @Override
    public Set<SelectionKey> selectedKeys() {
      return Set.of();
    }

    @Override
    public int selectNow() {
      throw new UnsupportedOperationException("selectNow");
    }

    @Override
    public int select(long timeout) {
      throw new UnsupportedOperationException("select");
    }

    @Override
    public int select() {
      throw new UnsupportedOperationException("select");
    }
  }
}
