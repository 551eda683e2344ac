package io.jsock;

import io.jsock.internal.Errors;
import java.io.IOException;
import java.io.InputStream;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.util.Objects;

/**
 * A socket's receiving side as an {@link InputStream}: each read is one {@link Socket#recvInto}, in
 * the socket's mode; -1 at the end of the stream. Closing the stream does not close the socket.
 *
 * <p>Made for {@link Socket#getInputStream()}, which may go on after a timeout as the JDK's socket
 * streams do, and for {@link Socket#makeFile(String)}, whose buffered readers may not: after a
 * timeout their buffer holds an unknown part of the data, so, as Python's {@code SocketIO}, every
 * later read fails. So it does after a read that would block in non-blocking mode (a timeout of
 * zero, as Python's {@code settimeout(0.0)}), which Python's {@code makefile} does not allow:
 * {@code BufferedReader.readLine} would drop the part of the line it had read.
 */
final class SocketInputStream extends InputStream {
  private final Socket socket;
  private final boolean refuseAfterTimeout;
  private volatile boolean timedOut;
  private volatile boolean closed;

  SocketInputStream(Socket socket, boolean refuseAfterTimeout) {
    this.socket = socket;
    this.refuseAfterTimeout = refuseAfterTimeout;
  }

  @Override
  public int read() throws IOException {
    byte[] one = new byte[1];
    return read(one, 0, 1) == -1 ? -1 : one[0] & 0xFF;
  }

  @Override
  public int read(byte[] b, int off, int len) throws IOException {
    Objects.checkFromIndexSize(off, len, b.length);
    if (closed) {
      // as Python's SocketIO: the socket's data stays for the socket and its other views
      throw new IOException(Errors.message("recv from", null, "I/O operation on closed file"));
    }
    if (timedOut) {
      throw new ErrnoException(
          Errors.message("recv from", null, "cannot read from timed out object"), Errno.EIO, null);
    }
    if (len == 0) {
      return 0;
    }
    try {
      int n = socket.recvInto(ByteBuffer.wrap(b, off, len));
      return n == 0 ? -1 : n;
    } catch (SocketTimeoutException | WouldBlockException e) {
      timedOut = refuseAfterTimeout;
      throw e;
    }
  }

  /** Closes the view, which refuses every later read; the socket stays open. */
  @Override
  public void close() {
    closed = true;
  }
}
