package io.jsock;

/**
 * Socket types, spelt as in Python's {@code socket} module ({@code socket.SOCK_STREAM}).
 *
 * <pre>{@code
 * import static io.jsock.Family.*;
 * import static io.jsock.SocketKind.*;
 *
 * Socket udp = Socket.create(AF_INET, SOCK_DGRAM);
 * }</pre>
 */
public enum SocketKind {
  /** A reliable, ordered byte stream: TCP, or a Unix-domain stream. */
  SOCK_STREAM,
  /** Unreliable, message-oriented datagrams: UDP. */
  SOCK_DGRAM
}
