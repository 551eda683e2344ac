package io.jsock;

import java.util.Collections;
import java.util.EnumSet;
import java.util.Set;

/**
 * What a {@link SocketSelector} watches a socket for, as Python's {@code selectors.EVENT_READ} and
 * {@code selectors.EVENT_WRITE}; a set of them stands for Python's bit mask, so {@code EVENT_READ |
 * EVENT_WRITE} is {@code Set.of(EVENT_READ, EVENT_WRITE)}.
 */
public enum Event {
  /**
   * Readable: {@link Socket#recv} has data or the end of the stream to return at once; on a
   * listening socket, {@link Socket#accept} has a connection to return at once.
   */
  EVENT_READ,

  /**
   * Writable: {@link Socket#send} can take some bytes at once. On a socket whose non-blocking
   * {@link Socket#connect} is in progress it means the connection attempt has finished; calling
   * {@code connect} (or {@code connectEx}) with the same address then completes it at once, or
   * reports why it failed, as in Python. A connect that succeeded is complete by then, as in
   * Python: the socket reports {@link #EVENT_READ} once input comes, without that second call.
   */
  EVENT_WRITE;

  // The three possible sets, shared so that a Ready or SelectorKey never copies one.
  private static final Set<Event> READ = Collections.unmodifiableSet(EnumSet.of(EVENT_READ));
  private static final Set<Event> WRITE = Collections.unmodifiableSet(EnumSet.of(EVENT_WRITE));
  private static final Set<Event> BOTH = Collections.unmodifiableSet(EnumSet.allOf(Event.class));

  /**
   * An unmodifiable set with the same events, one of three shared instances.
   *
   * @throws IllegalArgumentException if {@code events} is null, empty or holds null, as Python's
   *     {@code ValueError("Invalid events")}
   */
  static Set<Event> setOf(Set<Event> events) {
    if (events == READ || events == WRITE || events == BOTH) {
      return events;
    }
    if (events == null || events.isEmpty()) {
      throw invalid(events);
    }
    boolean read = false;
    boolean write = false;
    for (Event event : events) {
      if (event == null) {
        throw invalid(events);
      }
      read |= event == EVENT_READ;
      write |= event == EVENT_WRITE;
    }
    return of(read, write);
  }

  /** The shared set of the given events; {@code null} if neither. */
  static Set<Event> of(boolean read, boolean write) {
    if (read) {
      return write ? BOTH : READ;
    }
    return write ? WRITE : null;
  }

  private static IllegalArgumentException invalid(Set<Event> events) {
    return new IllegalArgumentException(
        "events must be EVENT_READ, EVENT_WRITE or both: " + events);
  }
}
