package io.jsock;

import io.jsock.internal.Errors;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.util.Objects;

/**
 * A socket's sending side as an {@link OutputStream}: each write is one {@link Socket#sendAll}, in
 * the socket's mode. Closing the stream does not close the socket.
 */
final class SocketOutputStream extends OutputStream {
  private final Socket socket;
  private volatile boolean closed;

  SocketOutputStream(Socket socket) {
    this.socket = socket;
  }

  @Override
  public void write(int b) throws IOException {
    ensureOpen();
    socket.sendAll(new byte[] {(byte) b});
  }

  @Override
  public void write(byte[] b, int off, int len) throws IOException {
    Objects.checkFromIndexSize(off, len, b.length);
    write(ByteBuffer.wrap(b, off, len));
  }

  /**
   * Sends the buffer's remaining bytes, as one {@link Socket#sendAll}: its position ends past what
   * went, also when the send fails part way (for {@link SocketBufferedOutputStream}).
   */
  void write(ByteBuffer data) throws IOException {
    ensureOpen();
    socket.sendAll(data);
  }

  /** Closes the view, which refuses every later write; the socket stays open. */
  @Override
  public void close() {
    closed = true;
  }

  /** Refuses a closed view (for {@link SocketBufferedOutputStream}, closed with it). */
  void ensureOpen() throws IOException {
    if (closed) {
      throw new IOException(Errors.message("send to", null, "I/O operation on closed file"));
    }
  }
}
