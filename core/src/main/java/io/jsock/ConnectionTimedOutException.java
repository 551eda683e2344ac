package io.jsock;

import java.net.SocketAddress;
import java.net.SocketTimeoutException;

/**
 * The kernel gave up on a connection ({@link Errno#ETIMEDOUT}): its keepalive probes or its
 * retransmissions went unanswered, or a connect's SYNs did, as Python's {@code TimeoutError} with
 * {@code errno} 110 ({@code [Errno 110] Connection timed out}). A timeout of jsock's own, in
 * timeout mode, is a plain {@link SocketTimeoutException} ({@code timed out}), whose {@code errno}
 * Python leaves {@code None}.
 */
public final class ConnectionTimedOutException extends SocketTimeoutException
    implements SocketError {
  private static final long serialVersionUID = 1L;

  private final transient SocketAddress address;

  /** An exception with {@link Errno#ETIMEDOUT} and the address involved (which may be null). */
  public ConnectionTimedOutException(String message, SocketAddress address) {
    super(message);
    this.address = address;
  }

  @Override
  public int errno() {
    return Errno.ETIMEDOUT;
  }

  @Override
  public SocketAddress address() {
    return address;
  }
}
