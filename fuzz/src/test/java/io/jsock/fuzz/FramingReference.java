package io.jsock.fuzz;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * What {@link io.jsock.framing.Framed} must make of a whole stream, written from its documentation
 * alone and as plainly as possible: the stream is known in full, so nothing here buffers, grows,
 * compacts or resumes, which is where the real decoder can go wrong.
 */
final class FramingReference {
  /** How a framing ends its messages. */
  enum Kind {
    U16,
    U32,
    VARINT,
    LINES,
    DELIMITED
  }

  /** How decoding a stream ends, after the messages before it. */
  enum End {
    /** The stream ended cleanly between two messages. */
    EOF,
    /** The stream ended inside a message, or a varint prefix was malformed. */
    EPROTO,
    /** A message was larger than the maximum. */
    EMSGSIZE
  }

  /** The messages a stream holds, then how it ends. */
  record Decoded(List<byte[]> messages, End end) {}

  private static final byte LF = '\n';
  private static final byte CR = '\r';

  private final Kind kind;
  private final int maxSize;
  private final byte[] delimiter; // LINES: "\n"; DELIMITED: the delimiter; prefixes: null

  FramingReference(Kind kind, int maxSize, byte[] delimiter) {
    this.kind = kind;
    this.maxSize = maxSize;
    this.delimiter =
        switch (kind) {
          case LINES -> new byte[] {LF};
          case DELIMITED -> delimiter.clone();
          default -> null;
        };
  }

  Kind kind() {
    return kind;
  }

  /** What ends a message (a copy), or null for a length prefix. */
  byte[] delimiter() {
    return delimiter == null ? null : delimiter.clone();
  }

  /** Every message in {@code stream}, and how the stream ends. */
  Decoded decode(byte[] stream) {
    List<byte[]> messages = new ArrayList<>();
    int at = 0;
    while (true) {
      if (at == stream.length) {
        return new Decoded(messages, End.EOF);
      }
      int[] frame = delimiter == null ? prefixed(stream, at) : delimited(stream, at);
      if (frame.length == 1) {
        return new Decoded(messages, End.values()[frame[0]]);
      }
      messages.add(Arrays.copyOfRange(stream, frame[0], frame[0] + frame[1]));
      at = frame[2];
    }
  }

  /** {payload start, payload length, next message's start}, or {an End's ordinal}. */
  private int[] prefixed(byte[] s, int at) {
    long length = 0;
    int header;
    switch (kind) {
      case U16, U32 -> {
        header = kind == Kind.U16 ? 2 : 4;
        if (s.length - at < header) {
          return end(End.EPROTO);
        }
        for (int i = 0; i < header; i++) {
          length = (length << 8) | (s[at + i] & 0xFF);
        }
      }
      default -> {
        header = 0;
        while (true) {
          if (header == 5) {
            return end(End.EPROTO); // five bytes, each saying another follows
          }
          if (at + header == s.length) {
            return end(End.EPROTO);
          }
          int b = s[at + header] & 0xFF;
          length |= (long) (b & 0x7F) << (7 * header);
          header++;
          if ((b & 0x80) == 0) {
            if (header > 1 && b == 0) {
              return end(End.EPROTO); // overlong: a needless last byte of zero
            }
            if (header == 5 && b > 0x0F) {
              return end(End.EPROTO); // wider than 32 bits
            }
            break;
          }
        }
      }
    }
    if (length > maxSize) {
      return end(End.EMSGSIZE); // known from the prefix, before any payload
    }
    if (s.length - at - header < length) {
      return end(End.EPROTO);
    }
    return new int[] {at + header, (int) length, at + header + (int) length};
  }

  private int[] delimited(byte[] s, int at) {
    int found = indexOf(s, at, delimiter);
    if (found >= 0) {
      int length = found - at;
      if (kind == Kind.LINES && length > 0 && s[found - 1] == CR) {
        length--;
      }
      if (length > maxSize) {
        return end(End.EMSGSIZE);
      }
      return new int[] {at, length, found + delimiter.length};
    }
    int rest = s.length - at;
    return end(couldStillEndInTime(s, at, rest) ? End.EPROTO : End.EMSGSIZE);
  }

  /**
   * Whether the {@code rest} bytes at {@code at}, which hold no whole delimiter, could still have
   * become a message within the maximum had the stream gone on: they are short enough, or they end
   * with the start of a delimiter (or, for lines, a {@code '\r'}) that begins by offset maxSize.
   */
  private boolean couldStillEndInTime(byte[] s, int at, int rest) {
    if (rest <= maxSize) {
      return true;
    }
    if (kind == Kind.LINES) {
      return rest == maxSize + 1 && s[at + maxSize] == CR;
    }
    for (int p = 0; p <= maxSize; p++) {
      int tail = rest - p;
      if (tail < delimiter.length && Arrays.equals(s, at + p, at + rest, delimiter, 0, tail)) {
        return true;
      }
    }
    return false;
  }

  /** Whether {@code message} can be sent in this framing so that the peer receives it intact. */
  boolean sendable(byte[] message) {
    if (message.length > maxSize) {
      return false;
    }
    return switch (kind) {
      case LINES ->
          indexOf(message, 0, delimiter) < 0
              && (message.length == 0 || message[message.length - 1] != CR);
      case DELIMITED -> {
        byte[] frame = Arrays.copyOf(message, message.length + delimiter.length);
        System.arraycopy(delimiter, 0, frame, message.length, delimiter.length);
        yield indexOf(frame, 0, delimiter) == message.length;
      }
      default -> true;
    };
  }

  private static int[] end(End end) {
    return new int[] {end.ordinal()};
  }

  private static int indexOf(byte[] s, int from, byte[] what) {
    for (int p = from; p + what.length <= s.length; p++) {
      if (Arrays.equals(s, p, p + what.length, what, 0, what.length)) {
        return p;
      }
    }
    return -1;
  }

  @Override
  public String toString() {
    return kind
        + " max "
        + maxSize
        + (kind == Kind.DELIMITED ? " delimiter " + Arrays.toString(delimiter) : "");
  }
}
