package io.jsock.tls;

import io.jsock.Socket;
import io.jsock.internal.SocketAccess;
import java.util.Objects;
import javax.net.ssl.SSLSession;

/**
 * What a TLS socket negotiated, as Python's {@code SSLSocket.version()}, {@code cipher()} and
 * {@code getpeercert()} tell.
 *
 * <pre>{@code
 * SSLSession session = Tls.session(sock);
 * String version = session.getProtocol(); // "TLSv1.3"
 * }</pre>
 */
public final class Tls {
  private Tls() {}

  /**
   * The TLS session of a socket from {@link TlsContext#wrap}: protocol, cipher suite, the peer's
   * certificates, and on a server the names the client asked for (an {@link
   * javax.net.ssl.ExtendedSSLSession}'s {@code getRequestedServerNames()}).
   *
   * @throws IllegalArgumentException if the socket does not speak TLS
   */
  public static SSLSession session(Socket socket) {
    Objects.requireNonNull(socket, "socket");
    return SocketAccess.get()
        .tls(socket)
        .orElseThrow(() -> new IllegalArgumentException("socket: does not speak TLS: " + socket))
        .engine()
        .getSession();
  }

  /** Whether the socket speaks TLS (it came from {@link TlsContext#wrap}). */
  public static boolean isTls(Socket socket) {
    Objects.requireNonNull(socket, "socket");
    return SocketAccess.get().tls(socket).isPresent();
  }
}
