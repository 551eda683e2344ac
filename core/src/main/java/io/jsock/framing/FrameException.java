package io.jsock.framing;

import io.jsock.Errno;
import io.jsock.SocketError;
import java.net.ProtocolException;
import java.net.SocketAddress;

/**
 * The peer broke the framing: a frame larger than the maximum ({@link Errno#EMSGSIZE}), a malformed
 * length prefix or a stream that ended inside a frame ({@link Errno#EPROTO}).
 *
 * <pre>{@code
 * try {
 *   byte[] msg = framed.recvMsg();
 * } catch (FrameException e) {
 *   // "recv from 127.0.0.1:5000: frame of 2147483647 bytes exceeds the maximum 1048576"
 *   if (e.errno() == Errno.EMSGSIZE) { ... }
 * }
 * }</pre>
 *
 * <p>After a {@code FrameException} the {@link Framed} refuses to receive again: where the next
 * frame starts is unknown.
 */
public final class FrameException extends ProtocolException implements SocketError {
  private static final long serialVersionUID = 1L;

  private final int errno;
  private final transient SocketAddress address;

  /**
   * An exception with the given error number ({@link Errno#EPROTO} or {@link Errno#EMSGSIZE}) and
   * the peer's address (which may be null).
   */
  public FrameException(String message, int errno, SocketAddress address) {
    super(message);
    this.errno = errno;
    this.address = address;
  }

  @Override
  public int errno() {
    return errno;
  }

  @Override
  public SocketAddress address() {
    return address;
  }
}
