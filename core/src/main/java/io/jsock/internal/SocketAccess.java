package io.jsock.internal;

import io.jsock.Socket;
import java.io.IOException;

/**
 * What {@code io.jsock.tls}, {@code io.jsock.server} and {@code io.jsock.framing} may do to a
 * {@link Socket} beyond its public API: the "shared secrets" pattern of the JDK. {@code Socket}'s
 * static initializer installs the one implementation, so these packages can reach into a socket
 * without {@code Socket} exposing a public hook. Any code that holds a {@code Socket} finds it
 * installed.
 */
public interface SocketAccess {
  /**
   * Detaches {@code plain} (any later use of it throws {@code ClosedSocketException}) and returns a
   * new socket on the same connected channel whose data methods go through {@code engine}, in the
   * same timeout mode. The handshake has not run yet.
   *
   * @throws IOException if {@code plain} is closed, not connected, or not a stream socket
   */
  Socket attachTls(Socket plain, TlsEngine engine) throws IOException;

  /**
   * The socket that owns {@code socket}'s channel: the TLS socket that {@link #attachTls} made of
   * it, from the moment it did (its handshake may still be running), or else {@code socket}.
   */
  Socket owner(Socket socket);

  /** The TLS layer of a socket, if it has one. */
  java.util.Optional<TlsEngine> tls(Socket socket);

  /** The peer's address of a connected socket, for messages and the engine's peer port. */
  java.net.SocketAddress peer(Socket socket);

  /**
   * Runs the TLS handshake of a socket from {@link #attachTls}, until {@code deadline} (a {@link
   * System#nanoTime()} value) or the socket's own timeout, whichever comes first; closes the socket
   * if the handshake fails.
   */
  void handshake(Socket socket, long deadline) throws IOException;

  /**
   * Makes {@code socket} report the bytes it moves to {@code meter}, for the server framework's
   * statistics; call before the socket is shared.
   */
  void attachMeter(Socket socket, Meter meter);

  /**
   * Bounds each send of {@code socket} ({@code send}, {@code sendAll}, {@code sendFile}, TLS
   * records and close_notify included) by {@code timeout} instead of the socket's timeout, which
   * keeps bounding its receives; the next {@code setTimeout} or {@code setBlocking} on the socket
   * ends the override (one timeout for both directions again). For the server framework's write
   * timeout; call before the socket is shared.
   *
   * @throws IllegalArgumentException if {@code timeout} is not positive
   * @throws IllegalStateException if the socket is in non-blocking mode
   */
  void setSendTimeout(Socket socket, java.time.Duration timeout);

  /**
   * The mode of {@code socket}'s sends, as {@link Socket#getTimeout()} gives a mode: the timeout
   * {@link #setSendTimeout} set, or else the socket's.
   */
  java.time.Duration sendTimeout(Socket socket);

  /**
   * Whether bytes are waiting in the kernel for {@code socket} that nobody has received yet: the
   * server's first-byte deadline asks it before it resets a connection whose handler has not read
   * yet (under load a handler may start late; its client is not at fault). {@code FIONREAD} on the
   * socket's channel, TCP and AF_UNIX, both paths: the raw bytes under TLS, and none at the end of
   * the stream; false for a socket that is no stream or whose channel is closed.
   */
  boolean hasUnreadData(Socket socket);

  /** Installs the implementation; called once, by {@code Socket}'s static initializer. */
  static void set(SocketAccess access) {
    Holder.access = access;
  }

  /** The implementation. */
  static SocketAccess get() {
    SocketAccess access = Holder.access;
    if (access == null) {
      throw new IllegalStateException("io.jsock.Socket is not initialized");
    }
    return access;
  }

  /** Holds the one implementation (an interface cannot have a private static field). */
  final class Holder {
    private static volatile SocketAccess access;

    private Holder() {}
  }
}
