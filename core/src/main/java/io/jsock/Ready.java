package io.jsock;

import java.util.Objects;
import java.util.Set;

/**
 * A socket that {@link SocketSelector#select} found ready, as one of the {@code (key, events)}
 * pairs Python's {@code selector.select()} returns.
 *
 * <pre>{@code
 * for (Ready ready : selector.select()) {
 *   Socket socket = ready.key().socket();
 *   if (ready.events().contains(EVENT_READ)) {
 *     byte[] data = socket.recv(4096);
 *   }
 * }
 * }</pre>
 *
 * @param key the socket's registration, with the data given to {@code register} or {@code modify}
 * @param events the events that are ready now: never empty, and only events the key watches for
 */
public record Ready(SelectorKey key, Set<Event> events) {
  /**
   * Checks the key and keeps an unmodifiable copy of the events.
   *
   * @throws IllegalArgumentException if {@code events} is null, empty or holds null
   */
  public Ready {
    Objects.requireNonNull(key, "key");
    events = Event.setOf(events);
  }
}
