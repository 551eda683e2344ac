package io.jsock;

import io.jsock.internal.Errors;
import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.Objects;

/**
 * A socket's receiving side as an {@link InputStream}: each read is one {@link Socket#recvInto}, in
 * the socket's mode; -1 at the end of the stream. Closing the stream does not close the socket.
 *
 * <p>Made for {@link Socket#getInputStream()} and {@link Socket#makeFile(String)}'s readers; what
 * each may go on after is its {@link View}.
 */
final class SocketInputStream extends InputStream {
  /**
   * Which view the stream is, which says after which failures it refuses every later read. Every
   * view refuses them after a {@code readNBytes}, {@code readAllBytes} or {@code skip} that a
   * timeout or an interrupt ended once it had taken bytes, which are lost to the caller.
   */
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
     * timeout of zero, as Python's {@code settimeout(0.0)}) or that an interrupt ended, where
     * {@code BufferedReader.readLine} drops the part of the line it had read (Python's {@code
     * makefile} needs a blocking socket).
     */
    TEXT_FILE
  }

  /**
   * The first array of {@link #readUpTo(InputStream, SocketInputStream, int)} and {@link #skip}, as
   * the JDK's.
   */
  private static final int CHUNK = 8192;

  /** The largest array the JVM gives, as the JDK's {@code ArraysSupport.SOFT_MAX_ARRAY_LENGTH}. */
  private static final int MAX_ARRAY = Integer.MAX_VALUE - 8;

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
    checkReadable("recv from");
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
    } catch (InterruptedIOException e) {
      timedOut = view == View.TEXT_FILE; // readLine drops its part of a line here too
      throw e;
    }
  }

  /**
   * The bytes a read could take now without blocking: those in the socket's receive queue ({@code
   * FIONREAD}, as the JDK's socket streams answer), 0 once they are read and at the end of the
   * stream; over TLS, the plaintext already decrypted and not yet read. After {@code
   * shutdown(SHUT_RD)}, what had arrived where a read still returns it (the epoll path), else 0.
   *
   * @throws IOException if the view is closed or refuses reads, as a read would
   * @throws ClosedSocketException if the socket is closed
   */
  @Override
  public int available() throws IOException {
    checkReadable("ioctl FIONREAD");
    return socket.unreadBytes();
  }

  /** Refuses a view that is closed, or that a failure left refusing every later read. */
  private void checkReadable(String operation) throws IOException {
    if (closed) {
      // as Python's SocketIO: the socket's data stays for the socket and its other views
      throw new IOException(Errors.message(operation, null, "I/O operation on closed file"));
    }
    if (timedOut) {
      throw new ErrnoException(
          Errors.message(operation, null, "cannot read from timed out object"), Errno.EIO, null);
    }
  }

  @Override
  public byte[] readAllBytes() throws IOException {
    return readUpTo(this, this, Integer.MAX_VALUE);
  }

  @Override
  public byte[] readNBytes(int len) throws IOException {
    return readUpTo(this, this, len);
  }

  @Override
  public int readNBytes(byte[] b, int off, int len) throws IOException {
    return readUpTo(this, this, b, off, len);
  }

  /**
   * Skips up to {@code n} bytes, as {@link InputStream#skip}; a read that would block in
   * non-blocking mode ends it with the count skipped (the JDK's would throw, the bytes it had
   * skipped uncounted), and throws {@link WouldBlockException} only if nothing had come.
   */
  @Override
  public long skip(long n) throws IOException {
    if (n <= 0) {
      return 0;
    }
    byte[] scratch = new byte[(int) Math.min(n, CHUNK)];
    long skipped = 0;
    while (skipped < n) {
      int read =
          readOrEnd(this, this, scratch, 0, (int) Math.min(scratch.length, n - skipped), skipped);
      if (read < 0) {
        break;
      }
      skipped += read;
    }
    return skipped;
  }

  /**
   * As {@link InputStream#readNBytes(int)}, except that a read that would block in non-blocking
   * mode ends it with the bytes that had come, as Python's {@code read(n)} and {@code readall()} on
   * a non-blocking socket; only a first read that would block throws {@link WouldBlockException}.
   * The JDK's would throw it having taken the bytes read so far, lost to the caller while the view
   * goes on. A read that times out or that an interrupt ends once bytes have come throws with their
   * count as its {@code bytesTransferred}, and {@code raw}, the view under {@code in}, refuses
   * every later read: the bytes are lost to the caller.
   */
  static byte[] readUpTo(InputStream in, SocketInputStream raw, int len) throws IOException {
    if (len < 0) {
      throw new IllegalArgumentException("len < 0");
    }
    byte[] got = new byte[Math.min(len, CHUNK)];
    int n = 0;
    while (n < len) {
      if (n == got.length) {
        if (n == MAX_ARRAY) {
          throw new OutOfMemoryError("Required array size too large");
        }
        got = Arrays.copyOf(got, (int) Math.min(Math.min(len, MAX_ARRAY), 2L * n));
      }
      int read = readOrEnd(in, raw, got, n, got.length - n, n);
      if (read < 0) {
        break;
      }
      n += read;
    }
    return n == got.length ? got : Arrays.copyOf(got, n);
  }

  /** As {@link #readUpTo(InputStream, SocketInputStream, int)}, into {@code b}: the count read. */
  static int readUpTo(InputStream in, SocketInputStream raw, byte[] b, int off, int len)
      throws IOException {
    Objects.checkFromIndexSize(off, len, b.length);
    int n = 0;
    while (n < len) {
      int read = readOrEnd(in, raw, b, off + n, len - n, n);
      if (read < 0) {
        break;
      }
      n += read;
    }
    return n;
  }

  /**
   * One read of a loop that has taken {@code taken} bytes so far: -1 at the end of the stream, and
   * also for a read that would block once bytes have come (the loop ends with them); a read that
   * would block before any throws {@link WouldBlockException}. A timeout or an interrupt once bytes
   * have come says how many in {@code bytesTransferred} and makes {@code raw} refuse every later
   * read, as after {@code readLine}'s: the loop's bytes are lost, and the view going on would give
   * the next ones as if those had never come.
   */
  private static int readOrEnd(
      InputStream in, SocketInputStream raw, byte[] b, int off, int len, long taken)
      throws IOException {
    try {
      return in.read(b, off, len);
    } catch (WouldBlockException e) {
      if (taken == 0) {
        throw e;
      }
      return -1;
    } catch (InterruptedIOException e) { // a SocketTimeoutException too
      if (taken > 0) {
        raw.timedOut = true;
        e.bytesTransferred = (int) Math.min(taken, Integer.MAX_VALUE);
      }
      throw e;
    }
  }

  /** Closes the view, which refuses every later read; the socket stays open. */
  @Override
  public void close() {
    closed = true;
  }
}
