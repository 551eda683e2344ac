package io.jsock;

import java.net.SocketAddress;
import java.net.UnknownHostException;

/**
 * A host or service name could not be resolved (Python's {@code socket.gaierror} and {@code
 * socket.herror}). {@link #errno()} is the {@code getaddrinfo} error code, negative as in Python
 * ({@link Errno#EAI_NONAME}, {@link Errno#EAI_ADDRFAMILY}, …).
 */
public final class AddressResolutionException extends UnknownHostException implements SocketError {
  private static final long serialVersionUID = 1L;

  private final int errno;
  private final transient SocketAddress address;

  /** An exception with a {@code getaddrinfo} error code and the address being resolved. */
  public AddressResolutionException(String message, int errno, SocketAddress address) {
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
