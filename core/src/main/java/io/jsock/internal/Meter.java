package io.jsock.internal;

import io.jsock.Socket;
import java.util.Objects;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.BiConsumer;

/**
 * Counts the bytes one socket receives and sends into totals shared by many sockets, for the server
 * framework's statistics ({@code io.jsock.server}), and remembers whether the socket has received
 * anything yet (its first-byte deadline).
 *
 * <p>The socket reports to its meter after each transfer of one or more bytes; a socket without a
 * meter pays one null check. The totals are {@link LongAdder}s, so that thousands of connections
 * counting at once do not contend on one memory location.
 */
public final class Meter {
  /**
   * Sets a socket's meter: installed by {@link Socket}'s static initialiser, so that the framework
   * reaches the socket's private field without a public method on {@code Socket} (the JDK's "shared
   * secrets" pattern). Any thread that holds a {@code Socket} sees it installed.
   */
  private static volatile BiConsumer<Socket, Meter> attacher;

  private final LongAdder received;
  private final LongAdder sent;
  private volatile boolean hasReceived;

  /** A meter that adds what its socket moves to the given totals. */
  public Meter(LongAdder received, LongAdder sent) {
    this.received = Objects.requireNonNull(received, "received");
    this.sent = Objects.requireNonNull(sent, "sent");
  }

  /** Makes {@code socket} report to {@code meter}; call before the socket is shared. */
  public static void attach(Socket socket, Meter meter) {
    Objects.requireNonNull(socket, "socket");
    attacher.accept(socket, Objects.requireNonNull(meter, "meter"));
  }

  /** Called once, by {@link Socket}'s static initialiser. */
  public static void install(BiConsumer<Socket, Meter> socketAttacher) {
    if (attacher != null) {
      throw new IllegalStateException("a meter attacher is installed already");
    }
    attacher = socketAttacher;
  }

  /** Counts bytes the socket received. */
  public void received(long bytes) {
    received.add(bytes);
    if (!hasReceived) {
      hasReceived = true; // a volatile write once per socket, then only reads
    }
  }

  /** Counts bytes the socket sent. */
  public void sent(long bytes) {
    sent.add(bytes);
  }

  /** Whether the socket has received at least one byte. */
  public boolean hasReceived() {
    return hasReceived;
  }
}
