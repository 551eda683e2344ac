package io.jsock;

import java.io.BufferedInputStream;
import java.io.IOException;

/**
 * The buffered reader of {@link Socket#makeFile(String)}'s {@code "rb"}: a {@link
 * BufferedInputStream} whose {@link #readAllBytes()} and {@code readNBytes} return the bytes that
 * had come when a read would block in non-blocking mode, as Python's {@code read()} and {@code
 * read(n)} do, instead of throwing {@link WouldBlockException} and dropping them (see {@link
 * SocketInputStream#readUpTo(java.io.InputStream, SocketInputStream, int)}).
 */
final class SocketBufferedInputStream extends BufferedInputStream {
  private final SocketInputStream raw;

  SocketBufferedInputStream(SocketInputStream in) {
    super(in);
    this.raw = in;
  }

  @Override
  public byte[] readAllBytes() throws IOException {
    return SocketInputStream.readUpTo(this, raw, Integer.MAX_VALUE);
  }

  @Override
  public byte[] readNBytes(int len) throws IOException {
    return SocketInputStream.readUpTo(this, raw, len);
  }

  @Override
  public int readNBytes(byte[] b, int off, int len) throws IOException {
    return SocketInputStream.readUpTo(this, raw, b, off, len);
  }
}
