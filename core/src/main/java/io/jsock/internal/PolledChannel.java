package io.jsock.internal;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.channels.CancelledKeyException;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.SelectableChannel;
import java.nio.channels.SelectionKey;
import java.nio.channels.SocketChannel;
import java.util.concurrent.locks.LockSupport;

/**
 * One non-blocking channel and its place in the shared {@link Poller}: what a socket waits on when
 * an operation cannot complete yet.
 *
 * <p>Reads (and accepts) and writes (and connects) have their own waiters, so one thread may wait
 * to receive while another waits to send, and several may wait in {@code accept}, as Python allows.
 */
public final class PolledChannel {
  /**
   * The longest a platform thread blocks in {@code poll} before it looks again (see {@link
   * #awaitInKernel}): how late it may notice a close or an interrupt when it has no {@link Wakeup}
   * (with one, both wake it at once). {@code -Djsock.pollSliceMillis} sets it, for tests that make
   * it long so that a wakeup lost would show as a thread that never returns rather than one 100 ms
   * late.
   */
  private static final long POLL_SLICE_MILLIS = Long.getLong("jsock.pollSliceMillis", 100);

  /** What a wait for a connect arms on the selector poller (see {@link #await}). */
  private static final int CONNECT_OR_WRITE = SelectionKey.OP_CONNECT | SelectionKey.OP_WRITE;

  /** {@link #calls} once closing has begun: no call may start. */
  private static final int CLOSING = Integer.MIN_VALUE;

  private static final VarHandle CALLS;
  private static final VarHandle READERS_INSIDE;
  private static final VarHandle WRITERS_INSIDE;
  private static final VarHandle READ_STATE;
  private static final VarHandle WRITE_STATE;

  static {
    try {
      MethodHandles.Lookup lookup = MethodHandles.lookup();
      CALLS = lookup.findVarHandle(PolledChannel.class, "calls", int.class);
      READERS_INSIDE = lookup.findVarHandle(PolledChannel.class, "readersInside", int.class);
      WRITERS_INSIDE = lookup.findVarHandle(PolledChannel.class, "writersInside", int.class);
      READ_STATE = lookup.findVarHandle(PolledChannel.class, "readState", MemorySegment.class);
      WRITE_STATE = lookup.findVarHandle(PolledChannel.class, "writeState", MemorySegment.class);
    } catch (ReflectiveOperationException e) {
      throw new ExceptionInInitializerError(e);
    }
  }

  private final SelectableChannel channel;
  private final Poller poller; // null when the epoll poller serves this channel
  private final EpollPoller epoll; // null when the selector poller serves it
  private volatile SelectionKey key;

  /** The fd registered with {@link #epoll}, or -1; -2 once closed (never register again). */
  private volatile int registeredFd = -1; // written under this

  /**
   * Whether the registration includes room to write: from the first wait to write on (see {@link
   * EpollPoller#watchWrites}).
   */
  private volatile boolean watchingWrites; // written under this

  /**
   * A read of this stream came back short since the last wait for reading ended: the receive queue
   * was empty then (see {@link #isKnownEmpty()}).
   */
  private volatile boolean drained;

  /**
   * The file descriptor that reads and writes use through {@link StreamCalls}; -1 when they go
   * through the channel (those calls unavailable, or not a stream).
   */
  private final int streamFd;

  /**
   * The file descriptor of any kind of channel where {@link StreamCalls} are available, for the
   * calls of {@link #enterAnyCall()}; else -1.
   */
  private final int fd;

  /**
   * How many {@link StreamCalls} are in flight on the file descriptor (see {@link #enterCall()}),
   * plus {@link #CLOSING} once {@link #close()} has begun.
   */
  @SuppressWarnings("unused") // through CALLS
  private volatile int calls;

  /** How many threads are in a call that reads (see {@link #enterReading()}). */
  @SuppressWarnings("unused") // through READERS_INSIDE
  private volatile int readersInside;

  /** How many threads are in a call that writes (see {@link #enterWriting()}). */
  @SuppressWarnings("unused") // through WRITERS_INSIDE
  private volatile int writersInside;

  /**
   * Where {@link StreamCalls} write errno, one per direction, reused from call to call (see {@link
   * #takeState}); null while one is in use, or before the first call.
   */
  @SuppressWarnings("unused") // through READ_STATE
  private volatile MemorySegment readState;

  @SuppressWarnings("unused") // through WRITE_STATE
  private volatile MemorySegment writeState;

  final Waiters readers = new Waiters();
  final Waiters writers = new Waiters();

  /**
   * The platform threads in {@link #awaitInKernel}, by direction: a close wakes both, {@link
   * #outputShut} the writers.
   */
  private final KernelWaiters readersInKernel = new KernelWaiters();

  private final KernelWaiters writersInKernel = new KernelWaiters();

  /**
   * Wraps a channel that is already in non-blocking mode.
   *
   * @throws IOException when the poller, which starts at the first channel, cannot start (as a
   *     socket's creation fails: {@code socket: too many open files}); a later channel starts it
   *     afresh
   */
  public PolledChannel(SelectableChannel channel) throws IOException {
    if (channel.isBlocking()) {
      throw new IllegalArgumentException("channel must be in non-blocking mode");
    }
    this.channel = channel;
    try {
      this.epoll = EpollPoller.instance();
      this.poller = epoll == null ? Poller.next() : null;
    } catch (EpollPoller.Failed e) {
      throw Errors.of(e.errno(), "socket", null);
    } catch (IOException e) {
      throw Errors.translate(e, "socket", null);
    }
    this.fd = StreamCalls.isAvailable() ? Epoll.fd(channel) : -1;
    this.streamFd = channel instanceof SocketChannel ? fd : -1;
  }

  /**
   * Starts a {@link StreamCalls} call: returns the file descriptor, which stays open until {@link
   * #exitCall()} (a close waits for calls in flight, so the number cannot meanwhile be closed and
   * given to another file); or -1, when those calls are not available or the channel is closing,
   * and the caller goes through the channel instead (which reports a close as the JDK does).
   */
  public int enterCall() {
    return streamFd < 0 ? -1 : enter();
  }

  /**
   * Starts a call on the file descriptor whatever the channel (a listener's, an unconnected
   * stream's), as {@link #enterCall()} does for the data calls: the descriptor, open until {@link
   * #exitCall()}, or -1 when {@link StreamCalls} are not available or the channel is closing.
   */
  public int enterAnyCall() {
    return fd < 0 ? -1 : enter();
  }

  private int enter() {
    return enterCounted() ? fd : -1;
  }

  /** Counts a call in {@link #calls}, which a close waits out; false once closing has begun. */
  private boolean enterCounted() {
    int current;
    do {
      current = calls;
      if (current < 0) {
        return false;
      }
    } while (!CALLS.weakCompareAndSet(this, current, current + 1));
    return true;
  }

  /**
   * Ends what {@link #enterCall()} or {@link #enterAnyCall()} started (only when it returned a file
   * descriptor).
   */
  public void exitCall() {
    CALLS.getAndAdd(this, -1);
  }

  /**
   * Where one {@link StreamCalls} call in one direction captures its errno, to give back with
   * {@link #giveState}: the channel's own cell (see {@link NativeCells}), so that a call allocates
   * nothing, or another while a call in the same direction holds that (two threads receiving at
   * once). Only between {@link #enterCall()} and {@link #exitCall()}.
   */
  public MemorySegment takeState(boolean write) {
    var state =
        (MemorySegment) (write ? WRITE_STATE : READ_STATE).getAndSet(this, (MemorySegment) null);
    return state != null ? state : NativeCells.take();
  }

  /** Gives back what {@link #takeState} returned, for the direction's next call. */
  public void giveState(boolean write, MemorySegment state) {
    var displaced = (MemorySegment) (write ? WRITE_STATE : READ_STATE).getAndSet(this, state);
    if (displaced != null) {
      NativeCells.give(displaced); // two calls in one direction at once: the channel keeps one
    }
  }

  /** Gives the errno cells back once no call can start or is in flight (see {@link #close()}). */
  private void releaseStates() {
    releaseState(READ_STATE);
    releaseState(WRITE_STATE);
  }

  private void releaseState(VarHandle direction) {
    var state = (MemorySegment) direction.getAndSet(this, (MemorySegment) null);
    if (state != null) {
      NativeCells.give(state);
    }
  }

  /**
   * Starts a call that reads (accepts, receives) in a loop of attempts and waits, which several
   * threads may make at once on one socket. Ended by {@link #exitReading()}, in a {@code finally}.
   *
   * <p>On the epoll path a wait parks unless an edge has come since the last wait ended, and each
   * wait clears that mark before its thread looks again. With two items queued by one edge (two
   * connections, two datagrams, bytes for two reads), a thread that found the queue empty just
   * before the edge, and publishes itself after another woken thread cleared the mark to take one
   * of them, would park with the other still queued: 1 round in ~170 of 16 threads accepting 16
   * connections that come at once, 2 in 1,000 of 16 threads each receiving one of 16 bytes. So a
   * thread that leaves such a call while others are in one marks the direction ready again: each of
   * them looks once more. Alone in the call, as nearly always, it costs two uncontended atomic
   * adds.
   */
  public void enterReading() {
    READERS_INSIDE.getAndAdd(this, 1);
  }

  /** Ends {@link #enterReading()}. */
  public void exitReading() {
    if ((int) READERS_INSIDE.getAndAdd(this, -1) > 1 && epoll != null) {
      readers.signal(); // only the epoll path clears marks: the selector poller's are level
    }
  }

  /**
   * Starts a call that writes in a loop of attempts and waits, as {@link #enterReading()}: with
   * several threads sending on one socket, one that found the send buffer full just before the edge
   * for room, and parked after another woken thread had cleared it and written less than the room,
   * would wait for an edge that comes only once a write fills the buffer again (16 threads each
   * sending 16 KiB with a 4 KiB send buffer hung within 2,000 rounds). Likewise the threads that
   * wait for a connect in progress (its completion is one edge), as a connect or as a send or
   * receive that waits for it first. Ended by {@link #exitWriting()}.
   */
  public void enterWriting() {
    WRITERS_INSIDE.getAndAdd(this, 1);
  }

  /** Ends {@link #enterWriting()}. */
  public void exitWriting() {
    if ((int) WRITERS_INSIDE.getAndAdd(this, -1) > 1 && epoll != null) {
      writers.signal();
    }
  }

  /** The channel. */
  public SelectableChannel channel() {
    return channel;
  }

  /**
   * Parks the calling thread until the channel may be ready for {@code op} (one of {@link
   * SelectionKey}'s), the deadline passes, the channel is closed, or the thread is interrupted.
   * Wakeups may be spurious: the caller retries its operation and calls again if it still cannot
   * proceed.
   *
   * <p>Returns whether readiness ended the wait (an edge, a selector's event or a {@code poll(2)}
   * that reported the channel; or the output shut, or a close, which the caller's retry reports)
   * rather than the deadline, an interrupt or a spurious wakeup: a caller whose deadline has passed
   * tries its operation once more only when readiness says so, as CPython's timeout-mode calls do
   * (a {@code poll} that reports the socket, then the call, however late the thread runs after it;
   * a {@code poll} that times out, then {@code TimeoutError}). Read from the mark the wait clears
   * anyway: nothing more per wait.
   *
   * @param deadline a {@link System#nanoTime()} value that the caller has just computed or found
   *     not passed, or {@link Long#MAX_VALUE} for none
   */
  public boolean await(int op, long deadline) {
    Waiters waiters =
        (op & (SelectionKey.OP_READ | SelectionKey.OP_ACCEPT)) != 0 ? readers : writers;
    Thread me = Thread.currentThread();
    if (epoll != null) {
      return me.isVirtual() ? awaitEdge(waiters, me, deadline) : awaitInKernel(waiters, deadline);
    }
    boolean first = waiters.add(me);
    try {
      // The waiter is published before the interest, so an event that fires before we park
      // unparks us and park returns at once: no wakeup is lost. A wait for a connect watches room
      // to write too: the JDK reports OP_CONNECT only while the connect is pending, and another
      // thread's finishConnect may complete it before the selector looks (see Poller.fire).
      poller.arm(key(), op == SelectionKey.OP_CONNECT ? CONNECT_OR_WRITE : op);
      if (!waiters.isSignalled()) { // by the event, or by outputShut, before we parked
        park(waiters, first, deadline);
      }
      return waiters.isSignalled();
    } catch (ClosedChannelException | CancelledKeyException e) {
      return true; // closed meanwhile: the caller's retry reports it
    } finally {
      waiters.remove(me);
      waiters.clear();
    }
  }

  /**
   * The wait on the epoll poller: publish, make sure the channel is registered (an edge already due
   * fires on registration), park unless an edge has come since the last wait ended.
   */
  private boolean awaitEdge(Waiters waiters, Thread me, long deadline) {
    boolean first = waiters.add(me);
    try {
      if (!registered(waiters == writers)) {
        // not registered (closed, or the kernel refused): poll gently rather than hang, and let
        // the caller's retry tell, since nothing watched the channel
        LockSupport.parkNanos(
            this, Math.min(10_000_000L, Math.max(0, deadline - System.nanoTime())));
        return true;
      }
      if (!waiters.isSignalled()) {
        park(waiters, first, deadline);
      }
      return waiters.isSignalled();
    } finally {
      waiters.remove(me);
      // Cleared before the caller retries: an edge after this is seen by the next wait.
      waiters.clear();
      if (waiters == readers) {
        drained = false;
      }
    }
  }

  /**
   * The wait of a platform thread on the epoll path: it blocks in {@code poll(2)} on this socket,
   * as a thread in a JDK blocking channel blocks in the kernel, and the kernel wakes it. Through
   * epoll it would be woken by a lane, on a carrier that the master thread may first have to wake:
   * two thread handoffs per wait, which made a round trip on a platform thread 1.2x a blocking
   * channel's (JMH {@code SocketCallBenchmark.roundTrip}; 1.06x this way).
   *
   * <p>A {@code poll} in flight holds the socket's file, so a close by another thread would leave
   * the connection open (no FIN, no reset) until it returned, and a poll that began after the close
   * would watch whatever file was given the number. So each {@code poll} is a counted call, which a
   * close waits out and which cannot begin once closing has begun; and the thread polls its {@link
   * Wakeup} in the same call, which the close signals first (the JDK's blocking channels signal the
   * thread likewise), as {@link #outputShut} does a writer's, and as an interrupt of this thread
   * does (the JDK's selectors are woken so). A wait still lasts at most {@link #POLL_SLICE_MILLIS},
   * after which it looks for an interrupt and a close (which only the slice ends when the thread
   * has no wakeup) and, finding neither, polls again. It returns only as a parked thread would
   * (readiness, the deadline, a close, an interrupt), not at the end of a slice: the caller's retry
   * would read the socket's mode anew, and so end with {@code EAGAIN} a blocking call whose socket
   * another thread has meanwhile made non-blocking, where Python's call, blocked in the kernel,
   * waits on.
   */
  private boolean awaitInKernel(Waiters waiters, long deadline) {
    KernelWaiters inKernel = waiters == readers ? readersInKernel : writersInKernel;
    Wakeup wakeup = Wakeup.current();
    if (wakeup != null) {
      // Published before any poll is counted: a close that begins after a count sees it (see close)
      inKernel.add(wakeup);
    }
    try {
      if (waiters.isSignalled()) {
        return true; // the output shut before this thread published its wakeup (see outputShut)
      }
      short events = waiters == readers ? Epoll.POLLIN : Epoll.POLLOUT;
      while (true) {
        long millis = POLL_SLICE_MILLIS;
        if (deadline != Long.MAX_VALUE) {
          // rounded up, so that a wait never ends before its deadline only to wait again at once
          millis =
              Math.min(millis, Math.max(0, (deadline - System.nanoTime() + 999_999) / 1_000_000));
        }
        int polled = pollSlice(wakeup, events, (int) millis);
        if (polled == Wakeup.WOKEN) {
          if (waiters.isSignalled()) {
            return true; // the output shut (see outputShut)
          }
          if (Thread.currentThread().isInterrupted()) {
            return false; // the interrupt signalled the wakeup (see Wakeup.poll)
          }
          continue; // a close (whose next slice cannot be counted) or a stale wake: look again
        }
        if (polled != 0 || !channel.isOpen() || waiters.isSignalled()) {
          // ready (or poll failed), closing, closed, or signalled (an edge for a registered
          // socket, or the output shut: see outputShut): the caller's retry tells which
          return true;
        }
        if (millis < POLL_SLICE_MILLIS || Thread.currentThread().isInterrupted()) {
          return false; // the deadline's last slice found nothing, or interrupted
        }
      }
    } finally {
      if (wakeup != null) {
        inKernel.remove(wakeup);
      }
      // as after an edge-triggered wait: what the lanes signalled meanwhile is stale now
      waiters.clear();
      if (waiters == readers) {
        drained = false;
      }
    }
  }

  /**
   * One {@code poll} of {@link #awaitInKernel}: what {@link Wakeup#poll} returns, or -1 when the
   * channel is closing or closed. Counted, with a wakeup to end it; without one (no eventfd to be
   * had), a close could not end it, and would wait a whole slice out, so it is not counted, and the
   * socket's number may be given to another file during it, as before wakeups.
   */
  private int pollSlice(Wakeup wakeup, short events, int millis) {
    boolean counted = wakeup != null;
    if (counted && !enterCounted()) {
      return -1;
    }
    try {
      int fd = kernelFd();
      return fd < 0
          ? -1
          : counted ? wakeup.poll(fd, events, millis) : Epoll.poll(fd, events, millis);
    } finally {
      if (counted) {
        exitCall();
      }
    }
  }

  /** The socket's descriptor for a {@code poll(2)}, or -1 once closed. */
  private int kernelFd() {
    return registeredFd >= 0 ? registeredFd : channel.isOpen() ? Epoll.fd(channel) : -1;
  }

  /**
   * Whether the channel is ready to read now: data queued, the end of the stream, or a reset, which
   * a reader meets as soon as it reads; false once it is closed. For the callers that cannot ask
   * through {@link StreamCalls} (not available, or closing), and asked without opening a
   * descriptor, as a {@code recv(2)} of no bytes needs none: on the selector poller, of a selector
   * kept for the question; on the epoll path, by {@code poll(2)} of the socket itself, looked up as
   * {@link #awaitInKernel} does. The channel still open after the {@code poll} means that its
   * number was not yet given to another file during it.
   *
   * @throws IOException if the selector poller's selector fails
   */
  public boolean isReadableNow() throws IOException {
    if (poller != null) {
      return poller.isReadableNow(channel);
    }
    // Counted as a call, which a close waits out: a poll(2) in flight holds the socket's file, so
    // a close(2) meanwhile would return with the connection still open (no FIN, no reset) until
    // the poll let the file go. Closing, the socket has nothing left for a reader.
    if (!enterCounted()) {
      return false;
    }
    try {
      int fd = kernelFd();
      return fd >= 0 && Epoll.poll(fd, Epoll.POLLIN, 0) > 0 && channel.isOpen();
    } finally {
      exitCall();
    }
  }

  /**
   * Notes that a read of a TCP stream returned fewer bytes than it asked for. Linux's TCP receive
   * copies from every queued segment until the request is met, so a short read leaves the queue
   * empty, and whatever arrives after it raises an edge.
   */
  public void readCameShort() {
    if (epoll != null) {
      drained = true;
    }
  }

  /**
   * Notes that this side's output has just been shut down, and wakes the threads waiting to write:
   * their retry fails with {@code EPIPE}, as a send blocked in Linux's kernel does; a platform
   * thread's {@code poll(2)} through its {@link Wakeup}. Nothing else wakes them on AF_UNIX, where
   * a socket shut for writing never reports room to write (to epoll, {@code poll} or a selector),
   * while its peer may never read.
   */
  public void outputShut() {
    writers.signal();
    // after the mark, which a writer reads after it publishes its wakeup: one of them sees the
    // other
    writersInKernel.signalAll();
  }

  /**
   * Notes that a TCP connection has just been accepted and nothing read from it yet. Its peer's
   * first bytes usually come after the handshake that completed the accept, so, as after a short
   * read, a virtual thread's first receive waits at once (the wait registers the socket, and the
   * registration's first edge reports whatever has come by then) instead of spending a read that
   * finds nothing: Netty and a C epoll server read an accepted connection only once epoll says so.
   */
  public void acceptedUnread() {
    readCameShort();
  }

  /**
   * Whether a read would find nothing, so a blocking receive may wait at once instead of spending a
   * system call to learn it. A read came back short since the last wait ended, the peer has neither
   * hung up nor sent urgent data (a short read may have stopped at the end of the stream or at an
   * urgent mark, whose edge came before the wait ended), and:
   *
   * <ul>
   *   <li>on a registered socket, no edge has come since (edges are recorded from registration on).
   *       As Netty's edge-triggered transport does, this saves one {@code read} per message;
   *   <li>on a socket not registered yet, the caller is a virtual thread: its wait registers the
   *       socket, and the registration's first edge reports whatever is readable by then. This
   *       saves the {@code read} before a connection's first wait. A platform thread's wait is a
   *       {@code poll(2)}, which would tell it as much, but nothing tells it whether data came
   *       after the short read: a stream that keeps coming would pay a {@code poll} before every
   *       read, so it reads.
   * </ul>
   */
  public boolean isKnownEmpty() {
    if (!drained || readers.shortReadsInconclusive()) {
      return false;
    }
    int registered = registeredFd;
    if (registered >= 0) {
      return !readers.isSignalled();
    }
    return registered == -1 && Thread.currentThread().isVirtual();
  }

  /**
   * Parks until unparked or {@code deadline}: untimed when there is none; through {@link Deadlines}
   * for the thread in the first slot (no timer task per wait); timed for any other.
   */
  private void park(Waiters waiters, boolean first, long deadline) {
    if (deadline == Long.MAX_VALUE) {
      LockSupport.park(this);
    } else if (first) {
      Deadlines.park(waiters, deadline, this);
    } else {
      long remaining = deadline - System.nanoTime();
      if (remaining > 0) {
        LockSupport.parkNanos(this, remaining);
      }
    }
  }

  /** A step of a stream channel's connect: the JDK's {@code connect} or {@code finishConnect}. */
  @FunctionalInterface
  public interface ConnectStep {
    boolean run(SocketChannel channel) throws IOException;
  }

  /**
   * Runs a step of the channel's connect under this monitor, as {@link #register} runs: the JDK
   * closes the channel when its connect fails, and the kernel gives the number to the next socket
   * opened; a registration that read the number just before the close would add that other socket's
   * descriptor to the epoll poller under this channel. Once or twice a connect, never on a
   * transfer's path.
   *
   * <p>A step that leaves the channel closed begins its closing as {@link #close()} does: no call
   * gets the descriptor's number after it (the caller runs the steps under the lock that the calls
   * which may meet a connect in progress take, so none can get it during one either).
   */
  public synchronized boolean connectStep(ConnectStep step) throws IOException {
    try {
      return step.run((SocketChannel) channel);
    } finally {
      if (!channel.isOpen()) {
        CALLS.getAndBitwiseOr(this, CLOSING);
        // a platform thread waiting for the connect may poll the number, which another file may
        // have by now: wake it, as close does (it cannot be waited out, the JDK closed already)
        readersInKernel.signalAll();
        writersInKernel.signalAll();
      }
    }
  }

  private boolean registered(boolean writes) {
    // Registered once for the socket's life (and changed once, at the first wait to write): after
    // that, no lock on the way to park, and a wait to read reads one volatile field, as before.
    return registeredFd >= 0 && (!writes || watchingWrites) || register(writes);
  }

  private synchronized boolean register(boolean writes) {
    // Before the registration in place too: the JDK closes a channel whose connect failed (under
    // this monitor, see connectStep) and leaves registeredFd as it was, and the number may be
    // another socket's by now. No wait reaches the epoll_ctl MOD below on such a channel (every
    // wait before a connect completes is one to write, which registers writes at once), but this
    // keeps that from resting on the callers.
    if (registeredFd == -2 || !channel.isOpen()) {
      return false;
    }
    if (registeredFd >= 0) {
      if (writes && !watchingWrites) {
        if (epoll.watchWrites(registeredFd) != 0) {
          return false;
        }
        watchingWrites = true;
      }
      return true;
    }
    int fd = Epoll.fd(channel);
    if (fd < 0 || epoll.register(fd, this, writes) != 0) {
      return false;
    }
    watchingWrites = writes;
    registeredFd = fd;
    return true;
  }

  /**
   * Takes the channel out of the epoll poller, for a socket that stops waiting on it (non-blocking
   * mode, where a {@code SocketSelector} or the caller's own loop watches it instead). Registered,
   * every packet that arrives raises an edge that wakes a lane, and often its master thread and a
   * carrier, for nobody. The next wait registers the channel again, and a registration's first edge
   * reports what is ready by then, so no wakeup is lost; a thread still waiting (another thread's
   * call that began in blocking mode and goes on waiting, as in Python) has it registered again at
   * once for the same reason.
   */
  public void stopWatching() {
    if (epoll == null || registeredFd < 0) {
      return;
    }
    synchronized (this) {
      if (registeredFd < 0) {
        return;
      }
      leaveEpoll();
      registeredFd = -1;
      // A waiter publishes itself, then looks at registeredFd: one that looked before the line
      // above is seen here; one that looks after it registers the channel itself.
      if (!readers.isEmpty() || !writers.isEmpty()) {
        register(!writers.isEmpty());
      }
    }
  }

  /**
   * Takes the registration out of the epoll poller, under this monitor. The JDK closes a channel
   * itself when its connect fails (in {@code finishConnect}, before jsock sees the failure), and
   * the kernel then drops the closed file's registration and gives its number to the next socket
   * opened, which may register at once: an {@code epoll_ctl} DEL of the number would take that
   * socket's registration away, and its waiting threads would never wake.
   */
  private void leaveEpoll() {
    epoll.deregister(registeredFd, this, channel.isOpen());
  }

  /**
   * Closes the channel, releasing its file descriptor before returning, and wakes every waiting
   * thread.
   *
   * <p>The JDK defers closing a channel that is registered with a selector until the selector next
   * runs, which would leave the address bound (and the peer without its FIN or RST, and an {@code
   * SO_LINGER} timeout ignored) for a while after {@code close} returned; so the channel leaves the
   * poller first, and a question of {@link #isReadableNow} in flight is waited for. A channel that
   * is also registered with another selector (a {@code SocketSelector}) is released when that
   * selector lets it go, which the socket's close asks of it next.
   */
  public void close() throws IOException {
    try {
      // No call starts after this; those in flight are non-blocking system calls, soon over, or
      // the polls of platform threads waiting, which their wakeups end. A thread publishes its
      // wakeup before it counts a poll, so one counted before this is signalled below.
      CALLS.getAndBitwiseOr(this, CLOSING);
      readersInKernel.signalAll();
      writersInKernel.signalAll();
      while (calls != CLOSING) {
        Thread.yield();
      }
      releaseStates();
      if (epoll != null) {
        synchronized (this) {
          if (registeredFd >= 0) {
            leaveEpoll(); // while the fd number is still ours
          }
          registeredFd = -2;
        }
      }
      SelectionKey registered = key;
      if (registered != null) {
        poller.deregister(registered);
      }
      channel.close();
      if (poller != null) {
        poller.awaitReadinessAnswered(channel); // another thread's isReadableNow may hold it
      }
    } finally {
      wakeAll();
    }
  }

  /** Wakes every waiting thread; called after closing the channel. */
  public void wakeAll() {
    readers.wake();
    writers.wake();
    Deadlines.cancel(readers);
    Deadlines.cancel(writers);
    if (key != null && poller != null) {
      poller.flush();
    }
  }

  private SelectionKey key() throws ClosedChannelException {
    SelectionKey current = key;
    if (current == null) {
      synchronized (this) {
        current = key;
        if (current == null) {
          current = poller.register(channel, this);
          key = current;
        }
      }
    }
    return current;
  }
}
