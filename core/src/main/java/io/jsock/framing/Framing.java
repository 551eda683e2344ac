package io.jsock.framing;

import io.jsock.Socket;
import io.jsock.SocketKind;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.Objects;

/**
 * How messages are cut out of a byte stream: a length prefix, a line end or a delimiter, with a
 * maximum message size that is checked before anything is allocated for a message.
 *
 * <p>A framing is an immutable value; {@link #on(Socket)} puts it to work on a connected stream
 * socket. A length-prefixed request and response:
 *
 * <pre>{@code
 * Framing framing = Framing.lengthPrefixed(Prefix.U32, 1 << 20); // at most 1 MiB a message
 * Framed framed = framing.on(sock);
 * framed.sendMsg(request);
 * byte[] response = framed.recvMsg();
 * }</pre>
 *
 * <p>A line protocol, reading until the peer closes:
 *
 * <pre>{@code
 * Framed lines = Framing.lines(8192).on(conn);
 * try {
 *   while (true) {
 *     String line = new String(lines.recvMsg(), UTF_8);
 *     lines.sendMsg(line.toUpperCase().getBytes(UTF_8));
 *   }
 * } catch (EOFException peerClosed) {
 *   // the peer closed between two lines: done
 * }
 * }</pre>
 */
public final class Framing {
  /**
   * The largest array the JVM allocates on every platform (the JDK's own soft limit), and so the
   * largest message: a larger maximum could never be honoured.
   */
  static final int MAX_ARRAY = Integer.MAX_VALUE - 8;

  /** How a length prefix is written. */
  public enum Prefix {
    /** Two bytes, unsigned, big-endian (network order): messages of at most 65,535 bytes. */
    U16,
    /**
     * Four bytes, unsigned, big-endian (network order). A value of 2<sup>31</sup> or more is taken
     * as the unsigned number it is, and so as too large, never as a negative length.
     */
    U32,
    /**
     * An unsigned LEB128 varint as protobuf writes lengths: seven bits a byte, least significant
     * first, the high bit set on every byte but the last; at most five bytes for a 32-bit length.
     * Longer, overlong (a needless trailing zero byte, such as {@code 80 00} for 0) or wider than
     * 32 bits encodings are rejected.
     */
    VARINT
  }

  /** The shape of a framing, for {@link Framed} to switch on. */
  sealed interface Shape {}

  /** A length prefix, then exactly that many bytes. */
  record Prefixed(Prefix prefix) implements Shape {}

  /** Bytes up to a {@code '\n'}, with a {@code '\r'} before it stripped. */
  record Lines() implements Shape {}

  /** Bytes up to a delimiter (a copy that is never handed out). */
  record Delimited(byte[] delimiter) implements Shape {}

  private final Shape shape;
  private final int maxSize;

  private Framing(Shape shape, int maxSize) {
    this.shape = shape;
    this.maxSize = maxSize;
  }

  /**
   * Messages preceded by their length: {@code U16} or {@code U32} in network order, or a protobuf
   * {@code VARINT}.
   *
   * <pre>{@code
   * Framing.lengthPrefixed(Prefix.VARINT, 64 * 1024)
   * }</pre>
   *
   * @param maxSize the largest message, in bytes: 1 to 65,535 for {@code U16}, 1 to 2,147,483,639
   *     (the largest Java array) otherwise
   * @throws IllegalArgumentException naming {@code maxSize} if it is out of range
   */
  public static Framing lengthPrefixed(Prefix prefix, int maxSize) {
    Objects.requireNonNull(prefix, "prefix");
    int limit = prefix == Prefix.U16 ? 0xFFFF : MAX_ARRAY;
    checkMaxSize(maxSize, limit, "a " + prefix + " prefix");
    return new Framing(new Prefixed(prefix), maxSize);
  }

  /**
   * Lines: a message ends at {@code '\n'}, and a {@code '\r'} just before it is stripped, so both
   * {@code "\n"} and {@code "\r\n"} end a line; neither is part of the message. {@link
   * Framed#sendMsg} ends each message with {@code '\n'}.
   *
   * @param maxSize the longest line, in bytes, without its line end: 1 to 2,147,483,637
   * @throws IllegalArgumentException naming {@code maxSize} if it is out of range
   */
  public static Framing lines(int maxSize) {
    checkMaxSize(maxSize, MAX_ARRAY - 2, "lines");
    return new Framing(new Lines(), maxSize);
  }

  /**
   * Messages ended by a delimiter, such as a NUL byte or {@code "\r\n\r\n"}; the delimiter is not
   * part of the message.
   *
   * <pre>{@code
   * Framing.delimited(new byte[] {0}, 4096)
   * }</pre>
   *
   * @param delimiter one or more bytes (copied)
   * @param maxSize the longest message, in bytes, without the delimiter: at least 1, and small
   *     enough that a message and its delimiter fit in one Java array
   * @throws IllegalArgumentException if the delimiter is empty, or naming {@code maxSize} if it is
   *     out of range
   */
  public static Framing delimited(byte[] delimiter, int maxSize) {
    Objects.requireNonNull(delimiter, "delimiter");
    if (delimiter.length == 0) {
      throw new IllegalArgumentException("delimiter must not be empty");
    }
    checkMaxSize(maxSize, MAX_ARRAY - delimiter.length, "this delimiter");
    return new Framing(new Delimited(delimiter.clone()), maxSize);
  }

  /** The largest message this framing sends or accepts, in bytes. */
  public int maxSize() {
    return maxSize;
  }

  /**
   * This framing on a stream socket: {@link Framed#sendMsg} and {@link Framed#recvMsg} for it. The
   * socket stays the caller's to configure and close; use one {@code Framed} per socket, since it
   * keeps bytes received past a message for the next one.
   *
   * @throws IllegalArgumentException if the socket is not {@link SocketKind#SOCK_STREAM}
   */
  public Framed on(Socket socket) {
    Objects.requireNonNull(socket, "socket");
    if (socket.kind() != SocketKind.SOCK_STREAM) {
      throw new IllegalArgumentException(
          "socket: framing needs a SOCK_STREAM socket, not " + socket.kind());
    }
    return new Framed(socket, this);
  }

  Shape shape() {
    return shape;
  }

  @Override
  public boolean equals(Object other) {
    if (!(other instanceof Framing that) || maxSize != that.maxSize) {
      return false;
    }
    return switch (shape) {
      case Delimited(byte[] delimiter) ->
          that.shape instanceof Delimited(byte[] theirs) && Arrays.equals(delimiter, theirs);
      default -> shape.equals(that.shape);
    };
  }

  @Override
  public int hashCode() {
    int hash =
        switch (shape) {
          case Delimited(byte[] delimiter) -> Arrays.hashCode(delimiter);
          default -> shape.hashCode();
        };
    return 31 * hash + maxSize;
  }

  /** The factory call that makes this framing: {@code lengthPrefixed(U32, 1048576)}. */
  @Override
  public String toString() {
    return switch (shape) {
      case Prefixed(Prefix prefix) -> "lengthPrefixed(" + prefix + ", " + maxSize + ")";
      case Lines() -> "lines(" + maxSize + ")";
      case Delimited(byte[] delimiter) ->
          "delimited([" + HexFormat.ofDelimiter(" ").formatHex(delimiter) + "], " + maxSize + ")";
    };
  }

  private static void checkMaxSize(int maxSize, int limit, String what) {
    if (maxSize < 1 || maxSize > limit) {
      throw new IllegalArgumentException(
          "maxSize must be 1.." + limit + " for " + what + ": " + maxSize);
    }
  }
}
