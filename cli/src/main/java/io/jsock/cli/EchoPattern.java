package io.jsock.cli;

import io.jsock.Socket;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.util.SplittableRandom;

/**
 * The bytes {@code jsock bench} sends, so that every byte echoed back can be checked: byte {@code
 * i} of a connection's stream is a fixed pseudo-random byte chosen by {@code (seed + i) mod
 * PERIOD}.
 *
 * <p>The pattern is held once, in a direct buffer, with its start repeated after its end: any
 * window of up to {@link #maxWindow()} bytes is contiguous, so a send is a view of it and a check
 * is one vectorised {@link ByteBuffer#mismatch} against it, neither allocating nor copying.
 */
final class EchoPattern {
  /** A prime, so that message sizes (powers of two) do not line up with the period. */
  static final int PERIOD = 65_521;

  private final ByteBuffer bytes;
  private final int maxWindow;

  EchoPattern(int maxWindow) {
    if (maxWindow < 1) {
      throw new IllegalArgumentException("maxWindow must be positive: " + maxWindow);
    }
    this.maxWindow = maxWindow;
    byte[] period = new byte[PERIOD];
    new SplittableRandom(0x6a736f636bL).nextBytes(period);
    ByteBuffer all = ByteBuffer.allocateDirect(PERIOD + maxWindow);
    while (all.hasRemaining()) {
      all.put(period, 0, Math.min(PERIOD, all.remaining()));
    }
    this.bytes = all.clear().asReadOnlyBuffer();
  }

  int maxWindow() {
    return maxWindow;
  }

  /** A view of the pattern for one thread's use; {@link #window} positions it. */
  ByteBuffer view() {
    return bytes.duplicate();
  }

  /**
   * Positions {@code view} on the {@code length} bytes of the stream that starts at {@code seed}
   * from its byte {@code offset}, and returns it.
   */
  ByteBuffer window(ByteBuffer view, long seed, long offset, int length) {
    if (length > maxWindow) {
      throw new IllegalArgumentException("window longer than " + maxWindow + ": " + length);
    }
    int start = (int) Math.floorMod(seed + offset, (long) PERIOD);
    return view.limit(start + length).position(start);
  }

  /** The byte at {@code offset} of the stream that starts at {@code seed}. */
  byte at(long seed, long offset) {
    return bytes.get((int) Math.floorMod(seed + offset, (long) PERIOD));
  }

  /**
   * Checks the bytes between {@code received}'s position and limit against the stream's bytes from
   * {@code offset}; returns the index (from the position) of the first that differs, or -1.
   */
  int mismatch(ByteBuffer received, ByteBuffer view, long seed, long offset) {
    return received.mismatch(window(view, seed, offset, received.remaining()));
  }

  /**
   * Receives once into {@code in} (cleared first, flipped after) and checks what came against the
   * stream from {@code seed} at {@code received}: the byte count, or an exception naming the
   * connection and the first wrong byte, or the server's early close.
   */
  int receiveChecked(
      Socket socket,
      ByteBuffer in,
      ByteBuffer expected,
      long seed,
      long received,
      int index,
      InetSocketAddress server)
      throws IOException {
    in.clear();
    int n = socket.recvInto(in);
    if (n == 0) {
      throw new IOException(
          "recv from " + Diagnostics.where(server) + ": the server closed connection " + index);
    }
    in.flip();
    int wrong = mismatch(in, expected, seed, received);
    if (wrong >= 0) {
      throw EchoMismatchException.inStream(
          index, received + wrong, at(seed, received + wrong), in.get(wrong), server);
    }
    return n;
  }
}
