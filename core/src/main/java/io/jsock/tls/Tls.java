package io.jsock.tls;

import io.jsock.Socket;
import io.jsock.internal.SocketAccess;
import java.util.Objects;
import javax.net.ssl.SSLSession;

/**
 * TLS for jsock sockets, as Python's {@code ssl} module: contexts that verify by default, and what
 * a TLS socket negotiated.
 *
 * <pre>{@code
 * Socket tls = Tls.client().wrap(Sockets.createConnection(address), "example.org");
 * SSLSession session = Tls.session(tls);
 * String version = session.getProtocol(); // "TLSv1.3"
 * }</pre>
 */
public final class Tls {
  private Tls() {}

  /**
   * A client context that trusts the system's certificate authorities and checks the server's host
   * name, TLS 1.2 at least and 1.3 preferred, as Python's {@code ssl.create_default_context()}.
   */
  public static TlsContext client() {
    return TlsContext.client();
  }

  /** A server context that presents {@code key} to clients. */
  public static TlsContext server(KeyMaterial key) {
    return TlsContext.server(key);
  }

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
