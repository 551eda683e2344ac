package io.jsock;

import java.io.BufferedWriter;
import java.io.IOException;
import java.io.Writer;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharsetEncoder;
import java.nio.charset.MalformedInputException;
import java.nio.charset.StandardCharsets;
import java.util.Objects;

/**
 * The text writer of {@link Socket#makeFile(String)}'s {@code "w"}: a {@link BufferedWriter} that
 * encodes each write to UTF-8 at once, strictly (a lone surrogate throws {@link
 * java.nio.charset.MalformedInputException} and writes nothing of that call), and hands the bytes
 * to a {@link SocketBufferedOutputStream}, so that a flush that fails part way (a timeout, or
 * {@link WouldBlockException}) keeps only the bytes that did not go, as Python's {@code
 * TextIOWrapper} over its {@code BufferedWriter}.
 *
 * <p>The JDK's {@code BufferedWriter} over an {@code OutputStreamWriter} keeps its characters, and
 * the encoder its bytes, when the stream under them fails: the encoder then wrote the next bytes
 * over the unsent ones and a later flush encoded the characters again, so the peer received a
 * stretch of the text twice or not at all. None of the superclass's buffer is used here.
 */
final class SocketTextWriter extends BufferedWriter {
  /** Bytes encoded at a time, fewer than the buffer below holds, so each chunk is buffered. */
  private static final int CHUNK = 4096;

  private final SocketBufferedOutputStream out;
  private final CharsetEncoder encoder = StandardCharsets.UTF_8.newEncoder();
  private ByteBuffer chunk; // made by the first write: a writer never used holds none

  /** A high surrogate that ended a write, waiting for the low one the next write begins with. */
  private char highSurrogate;

  private boolean haveHighSurrogate;
  private boolean closed;

  SocketTextWriter(SocketBufferedOutputStream out) {
    super(Writer.nullWriter(), 1);
    this.out = out;
  }

  @Override
  public void write(int c) throws IOException {
    write(new char[] {(char) c}, 0, 1);
  }

  @Override
  public void write(char[] cbuf, int off, int len) throws IOException {
    Objects.checkFromIndexSize(off, len, cbuf.length);
    synchronized (lock) {
      send(CharBuffer.wrap(cbuf, off, len));
    }
  }

  /**
   * As {@link BufferedWriter#write(String, int, int)}, a negative {@code len} writes nothing (a
   * closed writer refuses it still).
   */
  @Override
  public void write(String s, int off, int len) throws IOException {
    if (len < 0) {
      synchronized (lock) {
        ensureOpen();
      }
      return;
    }
    Objects.checkFromIndexSize(off, len, s.length());
    synchronized (lock) {
      send(CharBuffer.wrap(s, off, off + len));
    }
  }

  @Override
  public void newLine() throws IOException {
    write(System.lineSeparator());
  }

  @Override
  public void flush() throws IOException {
    synchronized (lock) {
      ensureOpen();
      out.flush();
    }
  }

  /**
   * Sends what is buffered and closes the view, the socket left open; a high surrogate that no low
   * one followed is malformed then, as the JDK's encoder finds it at its end.
   */
  @Override
  public void close() throws IOException {
    synchronized (lock) {
      if (closed) {
        return;
      }
      closed = true;
      try (out) {
        if (haveHighSurrogate) {
          haveHighSurrogate = false;
          throw new MalformedInputException(1);
        }
      }
    }
  }

  private void ensureOpen() throws IOException {
    if (closed) {
      out.ensureOpen();
    }
  }

  /**
   * Encodes the chars into the byte buffer below, a chunk at a time (a large write needs no array
   * of its size); the check first means no chunk goes before a malformed char is found.
   */
  private void send(CharBuffer chars) throws IOException {
    ensureOpen();
    checkSurrogates(chars);
    if (chunk == null) {
      chunk = ByteBuffer.allocate(CHUNK);
    }
    encoder.reset();
    chunk.clear();
    try {
      if (haveHighSurrogate && chars.hasRemaining()) { // checked: a low surrogate follows
        haveHighSurrogate = false;
        encode(CharBuffer.wrap(new char[] {highSurrogate, chars.get()}));
      }
      encode(chars);
      if (chars.hasRemaining()) { // a high surrogate at the end: its pair may come next
        highSurrogate = chars.get();
        haveHighSurrogate = true;
      }
      if (chunk.position() > 0) {
        out.write(chunk.array(), 0, chunk.position());
      }
    } finally {
      chunk.clear(); // what did not reach the buffer below is dropped, as Python drops it
    }
  }

  /** Encodes into the chunk, handing each full chunk to the buffer below. */
  private void encode(CharBuffer chars) throws IOException {
    while (encoder.encode(chars, chunk, false).isOverflow()) {
      out.write(chunk.array(), 0, chunk.position());
      chunk.clear();
    }
  }

  /**
   * Throws {@link MalformedInputException} for a lone surrogate, with a high one waiting from the
   * last write (which is dropped), as the strict encoder would; a high surrogate at the end may be
   * paired by the next write.
   */
  private void checkSurrogates(CharBuffer chars) throws MalformedInputException {
    int at = chars.position();
    int end = chars.limit();
    boolean afterHigh = haveHighSurrogate;
    for (int i = at; i < end; i++) {
      char c = chars.get(i);
      if (afterHigh != Character.isLowSurrogate(c)) {
        haveHighSurrogate = false;
        throw new MalformedInputException(1);
      }
      afterHigh = !afterHigh && Character.isHighSurrogate(c);
    }
  }
}
