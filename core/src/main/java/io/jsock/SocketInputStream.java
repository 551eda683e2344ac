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
 * <p>Made for {@link Socket#getInputStream()} and {@link Socket#makeFile(String)}'s readers; what
 * each may go on after is its {@link View}.
 */
final class SocketInputStream extends InputStream {
  /** Which view the stream is, which says after which failures it refuses every later read. */
  enum View {
    /** {@link Socket#getInputStream()}: may go on after a timeout, as the JDK's socket streams. */
    STREAM,
    /**
     * {@code makeFile("rb")}: after a timeout its buffer holds an unknown part of the data, so, as
     * Python's {@code SocketIO}, every later read fails. A read that would block loses nothing.
     */
    BINARY_FILE,
    /**
     * {@code makeFile("r")}: as {@link #BINARY_FILE}, and also after a read that would block (a
     * timeout of zero, as Python's {@code settimeout(0.0)}), where {@code BufferedReader.readLine}
     * drops the part of the line it had read (Python's {@code makefile} needs a blocking socket).
     */
    TEXT_FILE
  }

  private final Socket socket;
  private final View view;
  private volatile boolean timedOut;
  private volatile boolean closed;

  SocketInputStream(Socket socket, View view) {
    this.socket = socket;
    this.view = view;
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
    } catch (SocketTimeoutException e) {
      timedOut = view != View.STREAM;
      throw e;
    } catch (WouldBlockException e) {
      timedOut = view == View.TEXT_FILE;
      throw e;
    }
  }

  /** Closes the view, which refuses every later read; the socket stays open. */
  @Override
  public void close() {
    closed = true;
  }
}
