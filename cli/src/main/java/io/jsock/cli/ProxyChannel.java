package io.jsock.cli;

import io.jsock.Socket;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Optional;

/**
 * The connection to a proxy while the tunnel is negotiated. Reads take exactly the bytes the
 * proxy's reply has and never one more: what follows is the target's (for stdout, or the TLS
 * handshake), so it stays in the socket for whoever reads next. Every call is bounded by what is
 * left of {@code -w}, counted from before the proxy was connected.
 */
final class ProxyChannel {
  private final Socket conn;
  private final String operation;
  private final Optional<Duration> timeout;
  private final long startNanos;

  /**
   * @param operation what the messages name: {@code connect to localhost:80 through socks5 proxy
   *     127.0.0.1:1080}
   * @param timeout {@code -w}, if given
   * @param startNanos when the proxy's connect began ({@link System#nanoTime})
   */
  ProxyChannel(Socket conn, String operation, Optional<Duration> timeout, long startNanos) {
    this.conn = conn;
    this.operation = operation;
    this.timeout = timeout;
    this.startNanos = startNanos;
  }

  /** Sends all of {@code data}. */
  void send(byte[] data, String what) throws IOException {
    boundByWhatIsLeft(what);
    try {
      conn.sendAll(data);
    } catch (SocketTimeoutException e) {
      throw timedOut(what, e);
    }
  }

  /** Exactly {@code count} bytes of the reply; a reply cut short is an error. */
  byte[] recvExactly(int count, String what) throws IOException {
    ByteBuffer buffer = ByteBuffer.allocate(count);
    while (buffer.hasRemaining()) {
      boundByWhatIsLeft(what);
      int n;
      try {
        n = conn.recvInto(buffer);
      } catch (SocketTimeoutException e) {
        throw timedOut(what, e);
      }
      if (n == 0) {
        throw failed(
            "the proxy closed the connection in its "
                + what
                + " ("
                + buffer.position()
                + " of "
                + count
                + " bytes)");
      }
    }
    return buffer.array();
  }

  /**
   * One line of an HTTP reply, without its line end (CRLF, or a bare LF as RFC 9112 lets a
   * recipient take), read a byte at a time so that none past the header is taken; a line of {@code
   * limit} bytes or more with its line end fails with {@code tooLong} as the reason.
   */
  String recvLine(int limit, String what, String tooLong) throws IOException {
    ByteArrayOutputStream line = new ByteArrayOutputStream();
    while (true) {
      byte b = recvExactly(1, what)[0];
      if (b == '\n') {
        byte[] bytes = line.toByteArray();
        int end =
            bytes.length > 0 && bytes[bytes.length - 1] == '\r' ? bytes.length - 1 : bytes.length;
        return new String(bytes, 0, end, StandardCharsets.ISO_8859_1);
      }
      if (line.size() + 1 >= limit) {
        throw failed(tooLong);
      }
      line.write(b);
    }
  }

  /** Leaves the socket as the rest of {@code connect} expects it: blocking, no timeout. */
  void finish() throws IOException {
    conn.setTimeout(null);
  }

  /** A failure of the proxy's: {@code OPERATION: reason}, exit code 1. */
  ProxyException failed(String reason) {
    return new ProxyException(operation + ": " + reason);
  }

  /** {@code OPERATION: reason}: for the exceptions of other kinds the handshakes throw. */
  String message(String reason) {
    return operation + ": " + reason;
  }

  private void boundByWhatIsLeft(String what) throws IOException {
    if (timeout.isEmpty()) {
      return;
    }
    Duration left = timeout.get().minusNanos(System.nanoTime() - startNanos);
    if (left.isNegative() || left.isZero()) {
      throw timedOut(what, null);
    }
    conn.setTimeout(left);
  }

  private SocketTimeoutException timedOut(String what, SocketTimeoutException cause) {
    SocketTimeoutException e =
        new SocketTimeoutException(
            message(
                "timed out waiting for the proxy's "
                    + what
                    + " (-w "
                    + ShortDuration.format(timeout.orElseThrow())
                    + ")"));
    e.initCause(cause);
    return e;
  }
}
