package io.jsock.internal;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The readiness mechanism on Linux when the JVM allows it (see {@link Epoll}): every socket
 * registered once, edge-triggered, for its whole life (room to write joins its interest at the
 * first wait to write), and the polling done by the carrier threads that run the virtual threads it
 * wakes.
 *
 * <p>Why registered once: the portable {@link Poller} (like the JDK's own poller for virtual
 * threads) changes the registration on every wait, so each wait costs the waiting thread a selector
 * wakeup and the poller thread two {@code epoll_ctl} calls. Registered once with {@code EPOLLET}, a
 * wait costs no system call at all: the waiting thread publishes itself and parks; an edge (data
 * arrived, room to write, connection accepted or closed) marks the direction signalled and unparks
 * whoever waits. The mark closes the race with an edge that fires after an operation found nothing
 * but before its thread published itself (see {@link Waiters#signal()}).
 *
 * <p>Why on the carriers: a poller of its own would hand every wakeup from its thread to a carrier
 * thread (a futex wake, a context switch, and back). Instead the sockets are spread over a few
 * <em>lanes</em>, one per carrier, each an epoll instance polled without blocking by a virtual
 * thread: it unparks the virtual threads that are ready, which go to its own carrier's queue, and
 * yields to them; only when a poll finds nothing does the lane park, handing its epoll instance to
 * one platform thread that blocks on all idle lanes (as the JDK's {@code VTHREAD_POLLERS} mode does
 * for its sub-pollers). Under load the lanes never park, and a wakeup is a push to a local queue.
 */
final class EpollPoller {
  /** Held while a poller starts, so that one starts at a time. */
  private static final ReentrantLock STARTING = new ReentrantLock();

  /** The poller once one has started (see {@link #instance()}). */
  private static volatile EpollPoller started;

  static {
    if (!Epoll.isAvailable()) {
      logPortablePath();
    }
  }

  /**
   * What a socket is registered for until a thread first waits to write: a socket has room to write
   * when it is registered, and with {@code EPOLLOUT} in its interest that edge would wake a lane
   * (and often the master thread) for nobody, once per connection; most connections never wait to
   * write.
   */
  private static final int READ_INTEREST =
      Epoll.EPOLLIN | Epoll.EPOLLPRI | Epoll.EPOLLRDHUP | Epoll.EPOLLET;

  /** What a socket is registered for from its first wait to write on (see {@link #watchWrites}). */
  private static final int INTEREST = READ_INTEREST | Epoll.EPOLLOUT;

  private static final int READABLE =
      Epoll.EPOLLIN | Epoll.EPOLLPRI | Epoll.EPOLLRDHUP | Epoll.EPOLLERR | Epoll.EPOLLHUP;
  private static final int UNUSUAL =
      Epoll.EPOLLRDHUP | Epoll.EPOLLERR | Epoll.EPOLLHUP | Epoll.EPOLLPRI;
  private static final int WRITABLE = Epoll.EPOLLOUT | Epoll.EPOLLERR | Epoll.EPOLLHUP;
  private static final int IDLE_LANE = Epoll.EPOLLIN | Epoll.EPOLLONESHOT;
  private static final int MAX_EVENTS = 1024;

  /**
   * How long a lane keeps yielding to the threads it wakes before its turn ends (see {@link
   * #turn}).
   */
  private static final long TURN_NANOS = 1_000_000;

  /**
   * Of a busy lane's turns, how many end through the master for each that hands over to a new
   * thread (see {@link #turn}): a power of two.
   */
  private static final int TURNS_PER_HANDOVER = 8;

  /** The epoll instance on which the parked lanes' epoll instances are registered (one-shot). */
  private final int masterEpfd;

  private final Lane[] lanes;

  private final FdTable byFd = new FdTable(1024);

  /**
   * Set when a start failed after it started some of the lanes' threads: they end instead of
   * polling (see {@link #turn}).
   */
  private volatile boolean abandoned;

  private EpollPoller(int masterEpfd, int[] laneEpfds) {
    this.masterEpfd = masterEpfd;
    this.lanes = new Lane[laneEpfds.length];
    for (int i = 0; i < lanes.length; i++) {
      lanes[i] = new Lane(i, laneEpfds[i]);
    }
  }

  /**
   * The poller if epoll is available, or {@code null}: then the reason was logged once at DEBUG
   * ({@link System.Logger} {@code io.jsock}), with the flag to add when a flag is missing, since
   * the portable path works the same, only slower, and nothing else tells a program why it took it.
   * Nothing is logged on the epoll path: a JVM's first logger costs it some 30 ms to set up, which
   * a program that never logs would pay at its first socket.
   *
   * <p>The first call starts the poller. A start can fail (its epoll instances are file
   * descriptors, EMFILE at the process's limit): it leaves no descriptor or thread of its own
   * behind, the call throws, and the next call starts the poller afresh; the portable path does not
   * take over, since the socket calls of the epoll path ({@link StreamCalls}) stay in use.
   *
   * @throws Failed when an epoll instance cannot be made or joined to the master, with the errno
   */
  static EpollPoller instance() throws Failed {
    EpollPoller poller = started;
    if (poller != null || !Epoll.isAvailable()) {
      return poller;
    }
    STARTING.lock();
    try {
      if (started == null) {
        started = start();
      }
      return started;
    } finally {
      STARTING.unlock();
    }
  }

  /** A start of the poller that failed with {@link #errno()}. */
  static final class Failed extends Exception {
    private final int errno;

    Failed(int errno) {
      super("errno " + errno, null, false, false);
      this.errno = errno;
    }

    int errno() {
      return errno;
    }
  }

  private static void logPortablePath() {
    try {
      System.getLogger("io.jsock")
          .log(
              System.Logger.Level.DEBUG,
              () ->
                  "readiness through java.nio.channels.Selector threads (the portable path): "
                      + Epoll.whyUnavailable());
    } catch (RuntimeException | Error lost) {
      // a logger that fails loses its line, not the JVM's sockets (this is a class initialiser)
    }
  }

  /**
   * Starts a poller: first its epoll instances, each lane's joined to the master, then (when all
   * are there) the lanes' threads and the master's. Whatever fails closes the instances made and
   * ends the lanes' threads started.
   */
  private static EpollPoller start() throws Failed {
    boolean blocking = !Boolean.parseBoolean(System.getProperty("jsock.epollLanes", "true"));
    int carriers =
        Integer.getInteger(
            "jdk.virtualThreadScheduler.parallelism", Runtime.getRuntime().availableProcessors());
    int[] laneEpfds = new int[blocking ? 1 : Math.max(1, carriers)];
    Arrays.fill(laneEpfds, -1);
    int masterEpfd = -1;
    EpollPoller poller = null;
    boolean done = false;
    try {
      if (!blocking) {
        masterEpfd = created(Epoll.createOrErrno());
      }
      for (int i = 0; i < laneEpfds.length; i++) {
        laneEpfds[i] = created(Epoll.createOrErrno());
        if (!blocking) {
          int errno = Epoll.ctl(masterEpfd, Epoll.CTL_ADD, laneEpfds[i], IDLE_LANE, i);
          if (errno != 0) {
            throw new Failed(errno);
          }
        }
      }
      poller = new EpollPoller(masterEpfd, laneEpfds);
      if (blocking) {
        Lane lane = poller.lanes[0];
        EpollPoller blocked = poller;
        Thread.ofPlatform().daemon().name("jsock-epoll").start(() -> blocked.runBlocking(lane));
      } else {
        for (Lane lane : poller.lanes) {
          if (!poller.startTurn(lane, true)) {
            throw new IllegalStateException("cannot start epoll lane " + lane.index);
          }
        }
        Thread.ofPlatform().daemon().name("jsock-epoll").start(poller::wakeIdleLanes);
      }
      done = true;
      return poller;
    } finally {
      if (!done) {
        if (poller != null) {
          poller.abandoned = true; // before the unparks: a lane's thread that wakes ends
          for (Lane lane : poller.lanes) {
            if (lane.thread != null) {
              LockSupport.unpark(lane.thread);
            }
          }
        }
        for (int epfd : laneEpfds) {
          if (epfd >= 0) {
            Epoll.close(epfd);
          }
        }
        if (masterEpfd >= 0) {
          Epoll.close(masterEpfd);
        }
      }
    }
  }

  /** The epoll instance {@link Epoll#createOrErrno()} returned, or the failure. */
  private static int created(int epfdOrErrno) throws Failed {
    if (epfdOrErrno < 0) {
      throw new Failed(-epfdOrErrno);
    }
    return epfdOrErrno;
  }

  /**
   * Registers {@code fd} for {@code polled} until {@link #deregister}, for room to write too when
   * {@code writes}; returns 0 or an errno. The caller guarantees the fd is open and stays its own
   * until it deregisters.
   */
  int register(int fd, PolledChannel polled, boolean writes) {
    byFd.put(fd, polled);
    int errno = ctl(Epoll.CTL_ADD, fd, writes ? INTEREST : READ_INTEREST);
    if (errno != 0) {
      byFd.remove(fd, polled);
    }
    return errno;
  }

  /**
   * Adds room to write to a registration made without it; returns 0 or an errno. As a registration
   * does, the change reports at once what is ready by then, so a writer that published itself first
   * loses no wakeup.
   */
  int watchWrites(int fd) {
    return ctl(Epoll.CTL_MOD, fd, INTEREST);
  }

  /**
   * Removes {@code fd}, before its channel is closed (after, the number may be another's). When
   * {@code fdOpen} is false the channel was closed already (the JDK closes a channel whose connect
   * failed): the kernel dropped the registration with the file, and only the table entry is left.
   */
  void deregister(int fd, PolledChannel polled, boolean fdOpen) {
    if (fdOpen) {
      ctl(Epoll.CTL_DEL, fd, 0);
    }
    byFd.remove(fd, polled);
  }

  /**
   * {@code epoll_ctl} of {@code fd} on its lane, the fd as the event's data, through one of the
   * {@link NativeCells} (the event, then the errno): once or twice in every connection's life, so
   * without the {@code malloc} and {@code free} of a confined arena.
   */
  private int ctl(int op, int fd, int events) {
    MemorySegment cell = NativeCells.take();
    try {
      return Epoll.ctl(
          lanes[fd % lanes.length].epfd, op, fd, events, fd, cell, cell.asSlice(Epoll.EVENT_SIZE));
    } finally {
      NativeCells.give(cell);
    }
  }

  /**
   * Starts a virtual thread for the lane's next turn, which first parks until the master wakes it
   * when {@code armed} (the lane's registration with the master is armed and nothing polls it).
   * Returns false, the lane's thread unchanged, when the JVM has no memory for a thread.
   */
  private boolean startTurn(Lane lane, boolean armed) {
    Thread current = lane.thread;
    try {
      Thread next = lane.turns.newThread(() -> turn(lane, armed));
      lane.thread = next; // before it runs: it may arm the lane, and the master unpark it, at once
      next.start();
      return true;
    } catch (OutOfMemoryError e) {
      lane.thread = current;
      return false;
    }
  }

  /**
   * A lane's turn, on a virtual thread of its own: poll without blocking, wake the ready, yield to
   * them; park when a poll finds nothing, after re-arming the lane's one-shot registration with the
   * master (an event already pending fires at once, and an unpark before the park is kept as its
   * permit). After {@link #TURN_NANOS} of events that keep coming, the turn ends: through the
   * master as an idle lane's would, and one time in {@link #TURNS_PER_HANDOVER} by starting the
   * next turn's thread and ending this one (with no memory for a thread, through the master
   * instead).
   *
   * <p>Why a turn ends: a carrier runs its local queue (where yields and wakeups from its own
   * threads go) before anything submitted from outside it, new virtual threads and wakeups from
   * platform threads among them; so a lane that always yielded would keep that queue full and the
   * new threads waiting. Ending the turn hands the carrier back to the queues outside it, but the
   * JDK's scheduler (JDK 25) does not make that fair by itself: a carrier that takes a task from
   * one outside queue keeps taking from that same queue while it finds one there. A lane that parks
   * through the master comes back through the master's queue; when it is there again before the
   * carrier looks (a matter of timing on a saturated CPU), the carrier serves the lane and its
   * wakeups and never the queue where the accepting thread starts the threads of new connections:
   * with only such turn ends, those connections waited for as long as the load lasted. A virtual
   * thread that starts another puts it in the outside queue its own probe (a per-thread number)
   * picks, so a turn handed over comes from a queue the turn before it did not take from: the
   * carrier finds the queue it took from empty and looks at the others. Why not every turn: with
   * two carriers, handing over at every turn's end raised ping-pong's 99th percentile by about half
   * (the same CPU per message); one turn in eight keeps it within a few percent and still reaches
   * the new threads within a few of the load's round trips (one in two, four or 32 measured the
   * same: only a lane that never ends a busy turn through the master widens the tail).
   * docs/benchmarks/FINDINGS.md, "100,000 connections", has the runs.
   */
  private void turn(Lane lane, boolean armed) {
    if (armed) {
      LockSupport.park(); // the master unparks the lane at its first event
      if (abandoned) {
        return; // the poller's start failed (see start): nothing polls or registers with it
      }
    }
    long turnEnds = System.nanoTime() + TURN_NANOS;
    while (true) {
      try {
        int n = Epoll.await(lane.epfd, lane.events, MAX_EVENTS, 0, lane.state);
        dispatch(lane.events, n);
        if (n > 0 && System.nanoTime() - turnEnds < 0) {
          Thread.yield();
        } else if (n > 0
            && (++lane.turnsEnded & (TURNS_PER_HANDOVER - 1)) == 0
            && startTurn(lane, false)) {
          return;
        } else {
          // Idle, a busy turn's end, or no memory for the next turn's thread: on, through the
          // master.
          int errno =
              Epoll.ctl(
                  masterEpfd,
                  Epoll.CTL_MOD,
                  lane.epfd,
                  IDLE_LANE,
                  lane.index,
                  lane.rearming,
                  lane.state);
          if (errno != 0) {
            throw new IllegalStateException("epoll_ctl MOD lane: errno " + errno);
          }
          LockSupport.park();
          turnEnds = System.nanoTime() + TURN_NANOS;
        }
      } catch (Throwable e) {
        // On, in this thread: it polls again, and re-arms the master's registration when idle.
        survive(lane, e);
        turnEnds = System.nanoTime() + TURN_NANOS;
      }
    }
  }

  /** A lane's loop on a platform thread of its own, blocking in {@code epoll_wait}. */
  private void runBlocking(Lane lane) {
    while (true) {
      try {
        dispatch(lane.events, Epoll.await(lane.epfd, lane.events, MAX_EVENTS, -1, lane.state));
      } catch (Throwable e) {
        survive(lane, e);
      }
    }
  }

  /**
   * After a failure in a lane's loop (see {@link LoopFailures}): the events of its last poll may
   * not all have been dispatched, and with edge-triggered registrations they do not come again, so
   * every socket on the lane is signalled: its waiting threads retry their calls.
   */
  private void survive(Lane lane, Throwable failure) {
    LoopFailures.reportAndPause(failure);
    for (int fd = lane.index; fd < byFd.capacity(); fd += lanes.length) {
      PolledChannel polled = byFd.get(fd);
      if (polled != null) {
        LoopFailures.signal(polled.readers);
        LoopFailures.signal(polled.writers);
      }
    }
  }

  private void dispatch(MemorySegment events, int n) {
    for (int i = 0; i < n; i++) {
      PolledChannel polled = byFd.get(Epoll.dataOf(events, i));
      if (polled == null) {
        continue; // deregistered meanwhile
      }
      int ready = Epoll.events(events, i);
      if ((ready & UNUSUAL) != 0) {
        polled.readers.markShortReadsInconclusive(); // before the signal: see isKnownEmpty
      }
      if ((ready & READABLE) != 0) {
        polled.readers.signal();
      }
      if ((ready & WRITABLE) != 0) {
        polled.writers.signal();
      }
    }
  }

  /** The master's loop, on a platform thread: block until a parked lane has events, unpark it. */
  private void wakeIdleLanes() {
    Arena arena = Arena.ofConfined();
    MemorySegment events = Epoll.eventBuffer(arena, lanes.length);
    MemorySegment state = Epoll.callState(arena);
    boolean failed = false;
    while (true) {
      try {
        if (failed) {
          // A failure may have lost a lane's wakeup (its one-shot registration already fired):
          // every lane polls once more, and re-arms its registration if it finds nothing.
          failed = false;
          for (Lane lane : lanes) {
            LockSupport.unpark(lane.thread);
          }
        }
        int n = Epoll.await(masterEpfd, events, lanes.length, -1, state);
        for (int i = 0; i < n; i++) {
          LockSupport.unpark(lanes[Epoll.dataOf(events, i)].thread);
        }
      } catch (Throwable e) {
        LoopFailures.reportAndPause(e);
        failed = true;
      }
    }
  }

  /**
   * One epoll instance, the memory its polls and re-arms use, and the thread of its current turn.
   * The memory is the global arena's (never freed, as the poller lives as long as the JVM): the
   * turns' threads take it over one from another, and the global arena checks nothing on each call.
   */
  private static final class Lane {
    final int index;
    final int epfd;
    final MemorySegment events = Epoll.eventBuffer(Arena.global(), MAX_EVENTS);
    final MemorySegment state = Epoll.callState(Arena.global());
    final MemorySegment rearming = Epoll.eventBuffer(Arena.global(), 1); // for each re-arm
    final ThreadFactory turns;
    volatile Thread thread;
    int turnsEnded; // by the thread of the current turn; the next one sees it (Thread.start)

    Lane(int index, int epfd) {
      this.index = index;
      this.epfd = epfd;
      this.turns = Thread.ofVirtual().name("jsock-epoll-lane-" + index).factory();
    }
  }
}
