package io.jsock;

import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.nio.ByteBuffer;
import java.util.Objects;

/**
 * The buffered writer of {@link Socket#makeFile(String)}'s {@code "wb"}: a {@link
 * BufferedOutputStream} whose buffer, when a flush fails part way (a timeout, or {@link
 * WouldBlockException} in non-blocking mode, once the peer stops reading), keeps only the bytes the
 * socket did not take, as Python's {@code BufferedWriter} does, so that a later {@code write} or
 * {@code flush} sends every byte once; so does a write larger than the buffer that fails part way,
 * whose rest it keeps (see {@link #write(byte[], int, int)}). The JDK's {@code
 * BufferedOutputStream} keeps its whole buffer when the stream under it fails, and would send again
 * the part that had gone.
 *
 * <p>Once closed it refuses writes and flushes, as Python's; the JDK's would buffer a small write
 * after {@code close} and drop it without a word.
 */
final class SocketBufferedOutputStream extends BufferedOutputStream {
  /** As Python's {@code io.DEFAULT_BUFFER_SIZE} and the JDK's largest buffer. */
  private static final int BUFFER_SIZE = 8192;

  private final SocketOutputStream socketOut;

  SocketBufferedOutputStream(SocketOutputStream out) {
    super(out, BUFFER_SIZE);
    this.socketOut = out;
  }

  @Override
  public synchronized void write(int b) throws IOException {
    socketOut.ensureOpen();
    if (count == buf.length) {
      flushBuffer();
    }
    buf[count++] = (byte) b;
  }

  /**
   * Buffers the bytes, sending the buffer first if they do not fit; as the JDK's, a write as large
   * as the buffer goes straight to the socket once the buffer is empty. If it throws, none of
   * {@code b} went or is buffered; if it returns, all of it went or is buffered. So a large write
   * that times out, would block or is interrupted once part of it has gone keeps the rest (the
   * buffer grows to hold it, until it has gone) and returns, as Python's {@code BufferedWriter}
   * buffers the rest of a write that would block: the failure is met again at the next flush (the
   * thread keeps its interrupt status).
   */
  @Override
  public synchronized void write(byte[] b, int off, int len) throws IOException {
    Objects.checkFromIndexSize(off, len, b.length);
    socketOut.ensureOpen();
    if (len >= BUFFER_SIZE) {
      flushBuffer();
      ByteBuffer data = ByteBuffer.wrap(b, off, len);
      try {
        socketOut.write(data);
      } catch (WouldBlockException | InterruptedIOException e) { // a timeout, or an interrupt
        if (data.position() == off) {
          throw e; // nothing went
        }
        int left = data.remaining(); // the buffer is empty: flushBuffer sent it all
        if (left > buf.length) {
          buf = new byte[left];
        }
        data.get(buf, 0, left);
        count = left;
      }
      return;
    }
    if (len > buf.length - count) {
      flushBuffer();
    }
    System.arraycopy(b, off, buf, count, len);
    count += len;
  }

  @Override
  public synchronized void flush() throws IOException {
    socketOut.ensureOpen();
    flushBuffer();
    socketOut.flush();
  }

  /** Refuses a closed writer, as every closed view (for {@link SocketTextWriter}). */
  void ensureOpen() throws IOException {
    socketOut.ensureOpen();
  }

  private void flushBuffer() throws IOException {
    if (count == 0) {
      return;
    }
    ByteBuffer pending = ByteBuffer.wrap(buf, 0, count);
    try {
      socketOut.write(pending);
    } finally {
      // what went is gone from the buffer, whether the send finished or not
      int left = pending.remaining();
      System.arraycopy(buf, pending.position(), buf, 0, left);
      count = left;
      if (left == 0 && buf.length > BUFFER_SIZE) { // grown by a large write: back to its size
        buf = new byte[BUFFER_SIZE];
      }
    }
  }
}
