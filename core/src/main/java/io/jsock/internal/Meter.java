package io.jsock.internal;

import java.util.Objects;
import java.util.concurrent.atomic.LongAdder;

/**
 * Counts the bytes one socket receives and sends into totals shared by many sockets, for the server
 * framework's statistics ({@code io.jsock.server}), and remembers whether the socket has received
 * anything yet (its first-byte deadline).
 *
 * <p>The socket reports to its meter after each transfer of one or more bytes; a socket without a
 * meter pays one null check. The totals are {@link LongAdder}s, so that thousands of connections
 * counting at once do not contend on one memory location. {@link SocketAccess#attachMeter} attaches
 * one to a socket.
 */
public final class Meter {
  private final LongAdder received;
  private final LongAdder sent;
  private volatile boolean hasReceived;
  private volatile boolean sendTimedOut;

  /** A meter that adds what its socket moves to the given totals. */
  public Meter(LongAdder received, LongAdder sent) {
    this.received = Objects.requireNonNull(received, "received");
    this.sent = Objects.requireNonNull(sent, "sent");
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
    if (sendTimedOut) {
      sendTimedOut = false; // a send moved bytes after one timed out: the peer reads again
    }
  }

  /** Notes that a send on the socket timed out: its peer has stopped reading. */
  public void sendTimedOut() {
    sendTimedOut = true;
  }

  /**
   * Whether a send on the socket has timed out, and no send has moved a byte since: an unknown part
   * of it went, the rest would wait behind it, so the server resets the connection rather than
   * leave the kernel sending it. A handler that caught the timeout and sent on has a peer that
   * reads again, and its reply is left to the kernel, as any other.
   */
  public boolean hasSendTimedOut() {
    return sendTimedOut;
  }

  /** Whether the socket has received at least one byte. */
  public boolean hasReceived() {
    return hasReceived;
  }
}
