package io.jsock;

import io.jsock.internal.Errors;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.nio.channels.CancelledKeyException;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.ClosedSelectorException;
import java.nio.channels.SelectableChannel;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Consumer;

/**
 * Waits for any of many sockets to become ready, as Python's {@code selectors.DefaultSelector}: the
 * heart of an event loop that serves many connections from one thread.
 *
 * <p>Register each socket with the {@link Event}s to watch for and any object of yours ({@code
 * data}); {@link #select} then returns the sockets that are ready, with their keys. A tiny echo
 * server, as in Python's {@code selectors} documentation:
 *
 * <pre>{@code
 * import static io.jsock.Event.*;
 *
 * try (SocketSelector selector = SocketSelector.open();
 *     Socket server = Socket.create()) {
 *   server.bind("localhost", 12345);
 *   server.listen();
 *   server.setBlocking(false);
 *   selector.register(server, Set.of(EVENT_READ));
 *   while (true) {
 *     for (Ready ready : selector.select()) {
 *       Socket socket = ready.key().socket();
 *       if (socket == server) {
 *         Socket conn = server.accept().conn();
 *         conn.setBlocking(false);
 *         selector.register(conn, Set.of(EVENT_READ));
 *       } else {
 *         byte[] data = socket.recv(1000);
 *         if (data.length > 0) {
 *           socket.send(data); // may take less: a real server keeps the rest for EVENT_WRITE
 *         } else {
 *           selector.unregister(socket);
 *           socket.close();
 *         }
 *       }
 *     }
 *   }
 * }
 * }</pre>
 *
 * <p><b>Readiness.</b> As in Python, readiness is level-triggered: a socket is reported on every
 * select for as long as it stays ready, so a handler may do part of the work and leave the rest for
 * the next round. Sockets given to a selector are normally in non-blocking mode ({@code
 * setBlocking(false)}), so that a handler never waits; a registered socket keeps working in every
 * mode, and its own waits in blocking and timeout mode do not disturb the selector. A socket in
 * non-blocking mode is watched by its selectors alone: the poller behind jsock's blocking calls
 * lets it go until it waits again, so that a loop pays one poll per round of ready sockets and
 * nothing per packet. {@link Event#EVENT_READ} on a listening socket means a connection is waiting
 * for {@code accept}; {@link Event#EVENT_WRITE} on a socket whose non-blocking connect is in
 * progress means the attempt has finished, and calling {@code connect} or {@code connectEx} again
 * completes it at once.
 *
 * <p><b>TLS sockets.</b> A TLS socket may hold input that its connection no longer shows: bytes
 * decrypted but not yet taken by a short {@code recv}, or a record read along with an earlier one.
 * Python's selectors miss these (its documentation tells programs to drain an {@code SSLSocket}
 * before selecting); this one checks its TLS sockets before every poll and reports one holding
 * input ready for {@link Event#EVENT_READ} at once. Such readiness may now and then be spurious (a
 * record that carried no application data, such as a TLS 1.3 session ticket): the {@code recv} then
 * throws {@link WouldBlockException} in non-blocking mode, as after any spurious readiness.
 *
 * <p><b>Sockets that change or close.</b> A socket registered before {@link Socket#listen} is
 * watched as a listener from the next select on (the JDK gives a listening socket a new channel,
 * which the selector follows). Unregister a socket before closing it, as Python requires; a socket
 * closed while registered closes at once all the same, as with Python's epoll selector (its close
 * makes every selector let its channel go first, waking a select in progress, which then waits on),
 * is never reported ready, and the next select drops it from the map.
 *
 * <p><b>Threads.</b> Every method may be called from any thread. {@code register}, {@code modify}
 * and {@code unregister} take effect at once, also in a select that another thread is waiting in.
 * Selects themselves take turns: a second thread calling {@code select} waits until the first has
 * returned, or until its own timeout has passed (then it returns an empty list, at once for a zero
 * timeout: the other thread's select reports what is ready). {@link #wakeup()}, which Python's
 * selectors lack, lets another thread end a select, for example to stop the loop; it is also how to
 * make a waiting select notice a {@code listen} that another thread has just called on a registered
 * socket.
 *
 * <p><b>Errors.</b> As in Python, registering a socket twice, and {@code modify}, {@code
 * unregister} or {@code getKey} for a socket that is not registered, throw {@link
 * IllegalArgumentException} (Python's {@code KeyError}); events that are null or empty throw {@link
 * IllegalArgumentException} (Python's {@code ValueError}); registering or modifying a closed socket
 * throws {@link ClosedSocketException}. After {@link #close()}, every method but {@code close},
 * {@code wakeup} and {@code getMap} (then empty) throws the JDK's {@link ClosedSelectorException},
 * an {@link IllegalStateException}; a select in progress when another thread closes the selector
 * throws it too.
 */
public final class SocketSelector implements AutoCloseable {
  private final Selector selector;

  /**
   * Guards the registrations and their channels' keys. Never held while the selector polls, so that
   * other threads can change registrations meanwhile; the JDK queues key changes for the selector's
   * next poll, which is why a change wakes a poll in progress.
   */
  private final Object lock = new Object();

  /**
   * Held for the whole of a select: selects take turns (they share the list of found keys), and
   * unregister() can tell whether one is in progress.
   */
  private final ReentrantLock selecting = new ReentrantLock();

  private final Map<Socket, Registration> registrations = new HashMap<>(); // guarded by lock

  /** The public view of the registrations, readable without the lock. */
  private final Map<Socket, SelectorKey> keys = new ConcurrentHashMap<>();

  private final Map<Socket, SelectorKey> map = Collections.unmodifiableMap(keys);

  /**
   * Registrations whose socket may still get a new channel, checked before every poll: stream
   * sockets that are not connected yet ({@code listen} or a {@code connect} after a failed one
   * replaces their channel). Connected and listening sockets keep theirs, so the check costs
   * nothing per select for them (guarded by lock).
   */
  private final List<Registration> unsettled = new ArrayList<>();

  /**
   * How many registrations hold a selection key (guarded by lock). When the selector has fewer
   * keys, a channel was closed under a registration, and the registrations are checked: this
   * notices sockets closed while registered without a check per socket per select.
   */
  private int attached;

  /**
   * Registrations of TLS sockets (guarded by lock): checked before every poll for input that their
   * channel's readiness cannot show (decrypted bytes not yet taken, a whole record received), which
   * makes the select return at once with them ready to read.
   */
  private final List<Registration> tlsRegistrations = new ArrayList<>();

  /** The keys the current poll found ready (guarded by selecting), reused by every select. */
  private final List<SelectionKey> selected = new ArrayList<>();

  private final Consumer<SelectionKey> collect = selected::add;

  /** Whether a poll is in progress, so that a change of registrations needs to wake it. */
  private volatile boolean polling;

  private final AtomicBoolean wakeupRequested = new AtomicBoolean();

  /**
   * The most ready keys the JDK's poll takes from epoll at a time (its buffer holds 1,024 events,
   * one of which may be its own wakeup): a poll that finds as many may have left some behind.
   */
  private static final int FULL_POLL = 1024;

  private volatile boolean closed;

  /**
   * Whether {@link #close()} has closed the JDK's selector, which lets every channel go (guarded by
   * lock): awaitDeregistered waits for it once {@link #closed} is set.
   */
  private boolean channelsReleased;

  private SocketSelector(Selector selector) {
    this.selector = selector;
  }

  /** A new selector with nothing registered, as Python's {@code selectors.DefaultSelector()}. */
  public static SocketSelector open() throws IOException {
    return new SocketSelector(Selector.open());
  }

  /**
   * Watches a socket for events with no data of yours, as Python's {@code register(fileobj,
   * events)}: {@code register(socket, events, null)}.
   *
   * @param events {@link Event#EVENT_READ}, {@link Event#EVENT_WRITE} or both
   * @return the socket's new key, whose {@link SelectorKey#data()} is null
   * @throws IllegalArgumentException as {@link #register(Socket, Set, Object)}
   * @throws ClosedSocketException if the socket is closed
   */
  public SelectorKey register(Socket socket, Set<Event> events) throws IOException {
    return register(socket, events, null);
  }

  /**
   * Watches a socket for events, as Python's {@code register(fileobj, events, data)}.
   *
   * @param events {@link Event#EVENT_READ}, {@link Event#EVENT_WRITE} or both
   * @param data any object of yours, returned in the key; may be null
   * @return the socket's new key
   * @throws IllegalArgumentException if the socket is already registered, or its connection is
   *     through another socket (a TLS socket and the plain one it wrapped), or the events are null
   *     or empty
   * @throws ClosedSocketException if the socket is closed
   */
  public SelectorKey register(Socket socket, Set<Event> events, Object data) throws IOException {
    Objects.requireNonNull(socket, "socket");
    SelectorKey key = new SelectorKey(socket, events, data);
    synchronized (lock) {
      ensureOpen();
      SelectableChannel channel = socket.selectableChannel();
      checkUnregistered(socket);
      SelectionKey held = channel.keyFor(selector);
      if (held != null && held.isValid()) {
        // a TLS socket and the plain one it wrapped share one descriptor (Python: KeyError), and
        // one JDK key, which the second registration would take over from the first
        throw new IllegalArgumentException(
            "socket: its connection is already registered through another socket"
                + " (unregister that one first): "
                + socket);
      }
      if (held != null) {
        // the key of a registration dropped with this connection (the plain socket a wrap
        // detached): the JDK refuses the channel until a poll lets that key go, and a select
        // would wait without it; the wait lets go of the lock, so another thread may meanwhile
        // have registered the socket or closed the selector
        awaitDeregistered(held);
        ensureOpen();
        checkUnregistered(socket);
      }
      // So that its close() makes this selector let it go at once, and a listen moves it. A listen
      // since the channel was read above has replaced it without knowing this selector: the
      // registration takes the channel the socket has as it is noted (a new one holds no key).
      channel = socket.registeredWith(this);
      Registration registration = new Registration(socket, key);
      registrations.put(socket, registration);
      keys.put(socket, key);
      if (socket.isTls()) {
        tlsRegistrations.add(registration);
      }
      attach(registration, channel);
    }
    wakeupIfPolling();
    return key;
  }

  private void checkUnregistered(Socket socket) {
    if (registrations.containsKey(socket)) {
      throw new IllegalArgumentException("socket is already registered: " + socket);
    }
  }

  /**
   * Changes what a registered socket is watched for and its data, as Python's {@code
   * modify(fileobj, events, data)}.
   *
   * @return the socket's new key
   * @throws IllegalArgumentException if the socket is not registered, or the events are null or
   *     empty
   * @throws ClosedSocketException if the socket is closed and the events change; it is
   *     unregistered, as Python does when {@code modify} fails (a change of the data alone is kept,
   *     as in Python)
   */
  public SelectorKey modify(Socket socket, Set<Event> events, Object data) throws IOException {
    Objects.requireNonNull(socket, "socket");
    SelectorKey key = new SelectorKey(socket, events, data);
    boolean changed;
    synchronized (lock) {
      ensureOpen();
      Registration registration = registered(socket);
      changed = !key.events().equals(registration.key.events());
      SelectableChannel channel = null;
      if (changed) { // only then is the kernel asked, as Python's modify asks it
        try {
          channel = socket.selectableChannel();
        } catch (IOException closedSocket) {
          drop(registration);
          throw closedSocket;
        }
      }
      registration.key = key;
      keys.put(socket, key);
      if (changed) {
        watch(registration, channel);
      }
    }
    if (changed) {
      wakeupIfPolling();
    }
    return key;
  }

  /**
   * Stops watching a socket, as Python's {@code unregister(fileobj)}; the socket stays open. When
   * this returns, the selector has let the socket's channel go, so closing the socket next releases
   * it at once. The JDK lets a channel go only while its selector polls, so this polls once more,
   * and a poll costs as much as the sockets it finds ready (up to 1,024 at a time): with thousands
   * of sockets ready, each unregister took about half a millisecond of CPU. A loop that stops with
   * thousands of sockets it will not close may rather leave them registered, or close the selector.
   *
   * @return the socket's last key
   * @throws IllegalArgumentException if the socket is not registered
   */
  public SelectorKey unregister(Socket socket) throws IOException {
    Objects.requireNonNull(socket, "socket");
    synchronized (lock) {
      ensureOpen();
      Registration registration = registered(socket);
      SelectionKey selectionKey = registration.selectionKey;
      drop(registration);
      if (selectionKey != null) {
        awaitDeregistered(selectionKey);
      }
      return registration.key;
    }
  }

  /**
   * Waits until a socket is ready (or {@link #wakeup()} is called), as Python's {@code select()}
   * with no timeout: {@code select(null)}.
   *
   * @return every ready socket, each once; an empty list if {@link #wakeup()} ended the wait
   * @throws InterruptedIOException if the thread is interrupted while waiting
   * @throws ClosedSelectorException if the selector is closed, also by another thread meanwhile
   */
  public List<Ready> select() throws IOException {
    return select(null);
  }

  /**
   * Waits until a socket is ready, as Python's {@code select(timeout)}, and returns the ready
   * sockets with the events each is ready for.
   *
   * @param timeout {@code null} to wait until a socket is ready (or {@link #wakeup()} is called);
   *     zero (or negative, as in Python) to return at once with what is ready now; positive to wait
   *     at most that long
   * @return every ready socket, each once (also thousands at a time); an empty list if the timeout
   *     passed or {@link #wakeup()} ended the wait first
   * @throws InterruptedIOException if the thread is interrupted while waiting, also for a select in
   *     another thread to return; the interrupt status stays set
   * @throws ClosedSelectorException if the selector is closed, also by another thread meanwhile
   */
  public List<Ready> select(Duration timeout) throws IOException {
    boolean wait = timeout == null || timeout.isPositive();
    long deadline = wait ? Timeouts.deadline(Timeouts.toNanos(timeout)) : Long.MAX_VALUE;
    if (!takeTurn(wait, deadline)) {
      ensureOpen();
      return List.of(); // the timeout passed while another thread selected
    }
    try {
      while (true) {
        List<Registration> buffered;
        synchronized (lock) {
          ensureOpen();
          followUnsettled();
          buffered = buffered();
        }
        boolean now = !wait || wakeupRequested.get();
        if (!now && Thread.currentThread().isInterrupted()) {
          throw Errors.interrupted("select", null, null);
        }
        polling = true;
        try {
          poll(now || !buffered.isEmpty(), deadline);
        } finally {
          polling = false;
        }
        if (selected.size() >= FULL_POLL - 1) { // a compare per select; more only when it is full
          pollTheRest();
        }
        List<Ready> ready;
        synchronized (lock) {
          lock.notifyAll(); // for awaitDeregistered: this poll has let cancelled keys go
          ensureOpen();
          ready = readyOf(selected, buffered);
        }
        selected.clear();
        if (!ready.isEmpty() || now || Timeouts.hasPassed(deadline)) {
          wakeupRequested.set(false);
          return ready;
        }
        if (wakeupRequested.getAndSet(false)) {
          return ready;
        }
        // Woken by a change of registrations, or early: poll again until the deadline.
      }
    } finally {
      selected.clear();
      selecting.unlock();
      synchronized (lock) {
        lock.notifyAll(); // for awaitDeregistered: the selector is free to flush cancelled keys
      }
    }
  }

  /**
   * Makes a select in progress in another thread return at once, with what is ready by then (often
   * nothing); if no select is in progress, the next one returns at once. Calls before a select
   * returns count as one. Python's selectors have no such method (Python programs write to a
   * self-pipe); it is {@link Selector#wakeup()}'s counterpart. Does nothing after {@link #close()}.
   */
  public void wakeup() {
    wakeupRequested.set(true);
    selector.wakeup();
  }

  /**
   * The key of a registered socket, as Python's {@code get_key(fileobj)}.
   *
   * @throws IllegalArgumentException if the socket is not registered
   * @throws ClosedSelectorException if the selector is closed
   */
  public SelectorKey getKey(Socket socket) {
    Objects.requireNonNull(socket, "socket");
    ensureOpen();
    SelectorKey key = keys.get(socket);
    if (key == null) {
      throw notRegistered(socket);
    }
    return key;
  }

  /**
   * Every registered socket and its key, as Python's {@code get_map()}: a read-only view that
   * follows later changes, which may be read and iterated while other threads change registrations.
   * Empty after {@link #close()}.
   */
  public Map<Socket, SelectorKey> getMap() {
    return map;
  }

  /**
   * Closes the selector, as Python's {@code close()}: every socket is unregistered and stays open.
   * A select in progress in another thread ends with {@link ClosedSelectorException}. Closing twice
   * does nothing.
   */
  @Override
  public void close() throws IOException {
    List<Socket> registered;
    synchronized (lock) {
      if (closed) {
        return;
      }
      closed = true;
      registered = List.copyOf(registrations.keySet());
      registrations.clear();
      keys.clear();
      unsettled.clear();
      tlsRegistrations.clear();
      attached = 0;
      lock.notifyAll();
    }
    try {
      selector.close(); // wakes a select in progress and lets every channel go
    } finally {
      synchronized (lock) {
        channelsReleased = true;
        lock.notifyAll(); // for awaitDeregistered: a socket closed meanwhile is released now
      }
      // only now: a socket closed before this line waits in release() for the selector's close
      for (Socket socket : registered) {
        socket.unregisteredFrom(this);
      }
    }
  }

  // ---------------------------------------------------------------- internals

  /** What the selector keeps for one socket (guarded by lock). */
  private static final class Registration {
    final Socket socket;
    SelectorKey key;

    /** The socket's channel when it was last looked at, and its key in the selector, if any. */
    SelectableChannel channel;

    SelectionKey selectionKey;
    boolean registered = true;
    boolean inUnsettled;

    Registration(Socket socket, SelectorKey key) {
      this.socket = socket;
      this.key = key;
    }
  }

  /**
   * Waits until no other thread selects (selects share the list of found keys), at most until the
   * deadline, as Python's select returns once its timeout has passed whatever other threads do; a
   * select that may wait can be interrupted meanwhile, as in its poll: another select may wait for
   * ever.
   *
   * @return whether this select has its turn; false if the deadline passed first
   */
  private boolean takeTurn(boolean wait, long deadline) throws InterruptedIOException {
    if (selecting.tryLock()) {
      return true;
    }
    if (!wait) {
      // Not always another select's: a close's or an unregister's flush (awaitDeregistered) holds
      // it too, reporting nothing, and holds lock throughout; under lock, only a select holds it.
      synchronized (lock) {
        return selecting.tryLock();
      }
    }
    try {
      if (deadline == Long.MAX_VALUE) {
        selecting.lockInterruptibly();
        return true;
      }
      long remaining = deadline - System.nanoTime();
      return remaining > 0 && selecting.tryLock(remaining, TimeUnit.NANOSECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt(); // the status stays set, as after an interrupted poll
      throw Errors.interrupted("select", null, e);
    }
  }

  private void poll(boolean now, long deadline) throws IOException {
    if (now) {
      selector.selectNow(collect);
    } else if (deadline == Long.MAX_VALUE) {
      selector.select(collect);
    } else {
      long remaining = deadline - System.nanoTime();
      if (remaining <= 0) {
        selector.selectNow(collect);
      } else {
        // Rounded up: rounding down would poll early and spin through the last millisecond.
        selector.select(collect, Math.ceilDiv(remaining, 1_000_000L));
      }
    }
  }

  /**
   * Polls again at once after a poll that may have been cut short, until a poll finds fewer keys or
   * comes round to keys already found (epoll hands ready keys out in turn), so that a select
   * returns every ready socket, as Python's does (its epoll buffer is as large as its map). Only
   * with a thousand sockets ready at once, so the set of found keys costs nothing per ordinary
   * select.
   */
  private void pollTheRest() throws IOException {
    Set<SelectionKey> found = new HashSet<>(selected);
    int batch = selected.size();
    boolean cameRound = false;
    while (batch >= FULL_POLL - 1 && !cameRound) {
      int from = selected.size();
      selector.selectNow(collect);
      int kept = from;
      for (int i = from; i < selected.size(); i++) {
        SelectionKey selectionKey = selected.get(i);
        if (found.add(selectionKey)) {
          selected.set(kept++, selectionKey);
        } else {
          cameRound = true;
        }
      }
      batch = selected.size() - from;
      selected.subList(kept, selected.size()).clear();
    }
  }

  /**
   * The registrations watching EVENT_READ whose socket holds input its channel cannot show (under
   * lock): a TLS socket's decrypted bytes, a UDP socket's datagrams kept by a connect (looked for
   * only while some socket holds any, which is seldom).
   */
  private List<Registration> buffered() {
    List<Registration> buffered = List.of();
    for (Registration registration : tlsRegistrations) {
      if (registration.socket.hasBufferedTlsInput()) {
        buffered = addIfReading(buffered, registration);
      }
    }
    if (Socket.anyHoldsDatagrams()) {
      for (Registration registration : registrations.values()) {
        if (registration.socket.holdsDatagrams()) {
          buffered = addIfReading(buffered, registration);
        }
      }
    }
    return buffered;
  }

  private static List<Registration> addIfReading(
      List<Registration> buffered, Registration registration) {
    if (!registration.key.events().contains(Event.EVENT_READ)) {
      return buffered;
    }
    List<Registration> more = buffered.isEmpty() ? new ArrayList<>() : buffered;
    more.add(registration);
    return more;
  }

  /**
   * The ready sockets among the keys a poll found, and the sockets found holding input before it,
   * ready to read whatever their channel says (under lock).
   */
  private List<Ready> readyOf(List<SelectionKey> found, List<Registration> buffered) {
    if (selector.keys().size() < attached) {
      recheckAll();
    }
    if (found.isEmpty() && buffered.isEmpty()) {
      return List.of();
    }
    List<Registration> unreported = buffered.isEmpty() ? buffered : new ArrayList<>(buffered);
    List<Ready> ready = new ArrayList<>(found.size() + buffered.size());
    Map<Registration, Boolean> connected = null; // completed by this select, watched for input
    for (SelectionKey selectionKey : found) {
      Registration registration = (Registration) selectionKey.attachment();
      if (!registration.registered || registration.selectionKey != selectionKey) {
        continue; // unregistered, or moved to a new channel, while the poll ran
      }
      if (registration.socket.isClosed()) {
        drop(registration);
        continue;
      }
      int ops;
      try {
        ops = selectionKey.readyOps();
      } catch (CancelledKeyException closedMeanwhile) {
        continue; // the next select drops it
      }
      if (ops == SelectionKey.OP_CONNECT
          && registration.channel instanceof SocketChannel stream
          && stream.isConnectionPending()) {
        // the connect succeeded (an error or a hang-up would have set every interest op, as
        // interestOps() always adds another): Linux's socket is connected now, and the JDK's
        // channel reports input only once finishConnect says so; as in Python, no second
        // connect is needed for EVENT_READ
        registration.socket.completeConnect();
        if (stream.isConnected() && registration.key.events().contains(Event.EVENT_READ)) {
          // the poll could not see its input (the JDK reports none before finishConnect): asked
          // below, once every found key is read, as Python's select reports both at once
          if (connected == null) {
            connected = new HashMap<>();
          }
          if (!unreported.isEmpty()) {
            unreported.remove(registration);
          }
          connected.put(registration, registration.key.events().contains(Event.EVENT_WRITE));
          continue;
        }
      }
      boolean inputBuffered = !unreported.isEmpty() && unreported.remove(registration);
      Set<Event> watched = registration.key.events();
      Set<Event> events =
          Event.of(
              ((ops & (SelectionKey.OP_READ | SelectionKey.OP_ACCEPT)) != 0 || inputBuffered)
                  && watched.contains(Event.EVENT_READ),
              (ops & (SelectionKey.OP_WRITE | SelectionKey.OP_CONNECT)) != 0
                  && watched.contains(Event.EVENT_WRITE));
      if (events != null) {
        ready.add(new Ready(registration.key, events));
      }
    }
    if (connected != null) {
      addInputAfterConnect(ready, connected);
    }
    for (Registration registration : unreported) {
      // not found by the poll: ready to read from what it holds, if still watched for that
      if (registration.registered
          && !registration.socket.isClosed()
          && registration.key.events().contains(Event.EVENT_READ)) {
        ready.add(new Ready(registration.key, Event.of(true, false)));
      }
    }
    return ready.isEmpty() ? List.of() : Collections.unmodifiableList(ready);
  }

  /**
   * Reports the sockets whose connect this select completed (readyOf), each with EVENT_WRITE if
   * watched (the value) and EVENT_READ if input, the end of the stream or an error is already
   * there, as Python's select does in the same call: a second poll, now that the JDK's channels are
   * connected and watched for input (under lock). Only in a select that completes a connect.
   */
  private void addInputAfterConnect(List<Ready> ready, Map<Registration, Boolean> connected) {
    Map<SelectionKey, Registration> byKey = new HashMap<>();
    for (Registration registration : connected.keySet()) {
      refreshInterest(registration);
      if (registration.selectionKey != null) {
        byKey.put(registration.selectionKey, registration);
      }
    }
    Set<Registration> readable = new HashSet<>();
    try {
      // Other keys the poll finds are left alone: readiness is level-triggered, the next select
      // finds them again.
      selector.selectNow(
          selectionKey -> {
            Registration registration = byKey.get(selectionKey);
            if (registration != null && (selectionKey.readyOps() & SelectionKey.OP_READ) != 0) {
              readable.add(registration);
            }
          });
    } catch (IOException | CancelledKeyException e) {
      // reported as found: the next select looks again
    }
    for (Map.Entry<Registration, Boolean> entry : connected.entrySet()) {
      Set<Event> events = Event.of(readable.contains(entry.getKey()), entry.getValue());
      if (events != null) {
        ready.add(new Ready(entry.getKey().key, events));
      }
    }
  }

  /** Follows the sockets that may have a new channel since the last select (under lock). */
  private void followUnsettled() {
    // Backwards, so that removing by swapping in the last element skips nothing.
    for (int i = unsettled.size() - 1; i >= 0; i--) {
      Registration registration = unsettled.get(i);
      if (registration.registered) {
        follow(registration);
      }
      if (registration.registered) {
        refreshInterest(registration); // a connect started or completed since the last select
      }
      if (!registration.registered || isSettled(registration)) {
        registration.inUnsettled = false;
        unsettled.set(i, unsettled.getLast());
        unsettled.removeLast();
      }
    }
  }

  /** Applies the registration's events to its key as its channel's state now asks (under lock). */
  private static void refreshInterest(Registration registration) {
    SelectionKey current = registration.selectionKey;
    if (current == null) {
      return;
    }
    try {
      current.interestOps(interestOps(registration.channel, registration.key.events()));
    } catch (CancelledKeyException closedMeanwhile) {
      // the next select drops it
    }
  }

  /** Checks every registration: some channel was closed under one (under lock). */
  private void recheckAll() {
    for (Registration registration : List.copyOf(registrations.values())) {
      follow(registration);
    }
  }

  /**
   * Drops a registration whose socket was closed, and moves one whose socket has a new channel
   * (after {@code listen}, or a {@code connect} after a failed one) to that channel (under lock).
   */
  private void follow(Registration registration) {
    SelectableChannel channel;
    try {
      channel = registration.socket.selectableChannel();
    } catch (IOException closedSocket) {
      drop(registration);
      return;
    }
    SelectionKey current = registration.selectionKey;
    if (channel != registration.channel || current == null || !current.isValid()) {
      attach(registration, channel);
    }
  }

  /** Applies the registration's events to its channel's key (under lock). */
  private void watch(Registration registration, SelectableChannel channel) {
    SelectionKey current = registration.selectionKey;
    if (channel == registration.channel && current != null) {
      try {
        current.interestOps(interestOps(channel, registration.key.events()));
        return;
      } catch (CancelledKeyException closedMeanwhile) {
        // attach below sorts it out
      }
    }
    attach(registration, channel);
  }

  /**
   * Registers the socket's current channel with the selector, in place of the channel it had (under
   * lock).
   */
  private void attach(Registration registration, SelectableChannel channel) {
    detach(registration);
    registration.channel = channel;
    // A closed channel here was closed by the JDK after a failed connect, not by the socket's
    // close(): the socket's next connect brings a new channel, which followUnsettled() picks up.
    if (channel.isOpen()) {
      try {
        registration.selectionKey =
            channel.register(
                selector, interestOps(channel, registration.key.events()), registration);
        attached++;
      } catch (ClosedChannelException | CancelledKeyException closedMeanwhile) {
        // as above, or the socket was closed meanwhile: followUnsettled() drops it
      }
    }
    if (!isSettled(registration) && !registration.inUnsettled) {
      registration.inUnsettled = true;
      unsettled.add(registration);
    }
  }

  private void detach(Registration registration) {
    SelectionKey old = registration.selectionKey;
    if (old != null) {
      old.cancel();
      registration.selectionKey = null;
      attached--;
    }
  }

  /** Forgets a registration (under lock). */
  private void drop(Registration registration) {
    registration.socket.unregisteredFrom(this);
    registration.registered = false;
    registrations.remove(registration.socket);
    keys.remove(registration.socket);
    if (registration.socket.isTls()) {
      tlsRegistrations.remove(registration);
    }
    detach(registration);
  }

  /**
   * Lets go of the channel of a socket that {@link Socket#close()} is closing while registered,
   * before it closes the channel: the JDK closes a channel that a selector holds only when the
   * selector lets it go, here at the next select (its file descriptor, the port, the peer's reset
   * for SO_LINGER 0 or input unread: until then the JDK sends a FIN instead), where Python's close
   * is immediate. A select in progress lets it go and waits on. The registration stays, for {@code
   * unregister}, until the next select drops it, as for a channel closed otherwise.
   */
  void release(SelectableChannel channel) {
    synchronized (lock) {
      SelectionKey held = channel.keyFor(selector);
      if (held != null) {
        held.cancel();
        awaitDeregistered(held);
      }
    }
  }

  /**
   * Moves a socket's registration to the channel that has taken the place of {@code old} ({@link
   * Socket#listen}, or a bind of a listener a shutdown stopped), and lets {@code old} go before the
   * socket closes it, as {@link #release} does: Python's socket stays one descriptor, watched
   * throughout, and closing it right after frees its port. A select in progress watches the new
   * channel once woken (the wait for its poll wakes it).
   */
  void moved(Socket socket, SelectableChannel old) {
    synchronized (lock) {
      Registration registration = registrations.get(socket); // none once closed
      if (registration != null) {
        follow(registration);
      }
      SelectionKey held = old.keyFor(selector); // cancelled by follow, until a poll lets it go
      if (held != null) {
        held.cancel();
        awaitDeregistered(held);
      }
    }
    wakeupIfPolling();
  }

  /**
   * Waits until the selector has let a cancelled key go (under lock). Until then the JDK would
   * defer closing the channel, so the socket's close() would not release its file descriptor, and
   * registering the socket again would fail. Not cut short by an interrupt (the status stays set):
   * a close must close, and the wait is for a poll that is woken, or for close() to finish.
   */
  private void awaitDeregistered(SelectionKey cancelled) {
    SelectableChannel channel = cancelled.channel();
    boolean interrupted = false;
    try {
      while (channel.keyFor(selector) == cancelled && !channelsReleased) {
        if (!closed && selecting.tryLock()) {
          try {
            // Lets cancelled keys go. The ready keys it finds are left for the next select, which
            // finds them again: readiness is level-triggered (a wakeup() in between is kept by
            // wakeupRequested). Under lock, not closed: close() cannot have closed the selector.
            selector.selectNow(key -> {});
          } catch (IOException e) {
            return; // the next select lets the key go
          } finally {
            selecting.unlock();
          }
          continue;
        }
        if (!closed) {
          // A select is in progress: it lets the key go when its poll ends, then notifies.
          selector.wakeup();
        } // else close() is closing the selector, which lets every key go, then notifies
        try {
          lock.wait();
        } catch (InterruptedException e) {
          interrupted = true;
        }
      }
    } finally {
      if (interrupted) {
        Thread.currentThread().interrupt();
      }
    }
  }

  /**
   * Connected and listening sockets keep their channel for good; a socket without a key is retried.
   */
  private static boolean isSettled(Registration registration) {
    return registration.selectionKey != null
        && (registration.channel instanceof ServerSocketChannel
            || (registration.channel instanceof SocketChannel stream && stream.isConnected()));
  }

  /**
   * The selection operations for Python's events on this kind of channel: a listener's EVENT_READ
   * is OP_ACCEPT; a stream's EVENT_WRITE is OP_WRITE once connected and OP_CONNECT while a connect
   * is in progress (the JDK reports each only in its state). A stream whose connect is in progress
   * is watched for OP_CONNECT whatever the events, so that the select that sees the connect succeed
   * completes it (see readyOf): the JDK reports no input before.
   */
  private static int interestOps(SelectableChannel channel, Set<Event> events) {
    int ops =
        channel instanceof SocketChannel stream && stream.isConnectionPending()
            ? SelectionKey.OP_CONNECT
            : 0;
    if (events.contains(Event.EVENT_READ)) {
      ops |= SelectionKey.OP_READ | SelectionKey.OP_ACCEPT;
    }
    if (events.contains(Event.EVENT_WRITE)) {
      ops |= SelectionKey.OP_WRITE | SelectionKey.OP_CONNECT;
    }
    return ops & channel.validOps();
  }

  private Registration registered(Socket socket) {
    Registration registration = registrations.get(socket);
    if (registration == null) {
      throw notRegistered(socket);
    }
    return registration;
  }

  private static IllegalArgumentException notRegistered(Socket socket) {
    return new IllegalArgumentException("socket is not registered: " + socket);
  }

  private void wakeupIfPolling() {
    // A poll that starts after the change applies it itself: the JDK queues the change before
    // the volatile read of polling, and the poll takes the queue after its volatile write.
    if (polling) {
      selector.wakeup();
    }
  }

  private void ensureOpen() {
    if (closed) {
      throw new ClosedSelectorException();
    }
  }
}
