package io.jsock.tls;

import io.jsock.SocketError;
import java.net.SocketAddress;
import javax.net.ssl.SSLException;

/**
 * A TLS failure (Python's {@code ssl.SSLError}): a handshake that failed, a certificate that was
 * rejected, an alert from the peer, or a connection cut short without close_notify. The message
 * names the operation, the address and the reason:
 *
 * <pre>{@code
 * tls handshake with 127.0.0.1:8443: certificate for 'localhost' does not match host name 'wrong.example'
 * tls handshake with 127.0.0.1:8443: unknown certificate authority
 * recv from 127.0.0.1:8443: connection truncated: the peer closed without close_notify
 * }</pre>
 *
 * <p>It extends {@link SSLException}, which code that handles TLS errors already catches, and
 * implements {@link SocketError} as every jsock exception does; its {@link #errno()} is 0.
 */
public final class TlsException extends SSLException implements SocketError {
  private static final long serialVersionUID = 1L;

  private final transient SocketAddress address;

  /** An exception with its message, the peer's address (which may be null) and the JDK's cause. */
  public TlsException(String message, SocketAddress address, Throwable cause) {
    super(message, cause);
    this.address = address;
  }

  /** 0: TLS errors have no POSIX error number. */
  @Override
  public int errno() {
    return 0;
  }

  @Override
  public SocketAddress address() {
    return address;
  }
}
