package io.jsock;

import java.util.Objects;
import java.util.Set;

/**
 * A socket's registration with a {@link SocketSelector}, as Python's {@code selectors.SelectorKey}:
 * what {@link SocketSelector#register} returns and what every {@link Ready} carries.
 *
 * <pre>{@code
 * SelectorKey key = selector.register(conn, Set.of(EVENT_READ), new Connection(conn));
 * ...
 * for (Ready ready : selector.select()) {
 *   ((Connection) ready.key().data()).handle(ready.events());
 * }
 * }</pre>
 *
 * @param socket the registered socket (Python's {@code fileobj})
 * @param events what the selector watches it for: {@link Event#EVENT_READ}, {@link
 *     Event#EVENT_WRITE} or both, as an unmodifiable set
 * @param data the caller's object for this socket, such as a handler or a connection's state; may
 *     be null, as Python's {@code data=None}
 */
public record SelectorKey(Socket socket, Set<Event> events, Object data) {
  /**
   * Checks the socket and keeps an unmodifiable copy of the events.
   *
   * @throws IllegalArgumentException if {@code events} is null, empty or holds null
   */
  public SelectorKey {
    Objects.requireNonNull(socket, "socket");
    events = Event.setOf(events);
  }
}
