package io.jsock.cli;

import java.io.IOException;
import java.net.InetSocketAddress;

/** An echo that did not give back the bytes sent: the run fails at once, naming where. */
final class EchoMismatchException extends IOException {
  private static final long serialVersionUID = 1L;

  EchoMismatchException(String message) {
    super(message);
  }

  /** A wrong byte in a connection's stream. */
  static EchoMismatchException inStream(
      int connection, long offset, byte sent, byte received, InetSocketAddress server) {
    return new EchoMismatchException(
        String.format(
            "echo mismatch on connection %d at byte %d of its stream: sent 0x%02x, received 0x%02x"
                + " (server %s)",
            connection, offset, sent & 0xFF, received & 0xFF, Diagnostics.where(server)));
  }

  /** A wrong byte, or a wrong length, in a datagram's echo. */
  static EchoMismatchException inDatagram(
      int socket, long sequence, String what, InetSocketAddress server) {
    return new EchoMismatchException(
        "echo mismatch on UDP socket "
            + socket
            + ", datagram "
            + sequence
            + ": "
            + what
            + " (server "
            + Diagnostics.where(server)
            + ")");
  }
}
