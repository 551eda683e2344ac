package io.jsock;

import java.net.SocketAddress;

/**
 * What every jsock exception carries besides its message: the POSIX error number and the address
 * involved, as Python's {@code OSError} carries {@code errno}.
 *
 * <p>jsock's exceptions extend the JDK classes that Java code already catches ({@code
 * ConnectException}, {@code BindException}, …), so they cannot share a superclass; this interface
 * is what they have in common.
 *
 * <pre>{@code
 * try {
 *   sock.connect("localhost", 9);
 * } catch (IOException e) {
 *   if (e instanceof SocketError err && err.errno() == Errno.ECONNREFUSED) { ... }
 * }
 * }</pre>
 */
public interface SocketError {
  /** The POSIX error number (Linux values, see {@link Errno}); 0 where none applies. */
  int errno();

  /** The address involved, or {@code null} where the error concerns none. */
  SocketAddress address();
}
