package io.jsock;

import io.jsock.internal.Addresses;
import java.net.SocketAddress;
import java.util.Arrays;
import java.util.Objects;

/**
 * One datagram received by {@link Socket#recvFrom(int)}: its bytes and the sender's address, as
 * Python's {@code (data, address)} pair.
 *
 * <pre>{@code
 * Datagram d = udp.recvFrom(2048);
 * udp.sendTo(d.data(), d.address());   // echo it back
 * }</pre>
 *
 * <p>A value, as Python's pair: two datagrams are equal when their bytes and addresses are, and
 * {@link #toString()} writes the bytes as Python's {@code repr} does: {@code Datagram[data=b'hi',
 * address=127.0.0.1:5000]}.
 *
 * @param data the datagram's bytes (an empty array for an empty datagram)
 * @param address the sender's address
 */
public record Datagram(byte[] data, SocketAddress address) {
  /** Checks that neither part is null. */
  public Datagram {
    Objects.requireNonNull(data, "data");
    Objects.requireNonNull(address, "address");
  }

  /** Equal bytes (not the same array) and an equal address, as Python's pairs compare. */
  @Override
  public boolean equals(Object other) {
    return other instanceof Datagram that
        && Arrays.equals(data, that.data)
        && address.equals(that.address);
  }

  @Override
  public int hashCode() {
    return 31 * Arrays.hashCode(data) + address.hashCode();
  }

  /** {@code Datagram[data=b'hi\n', address=127.0.0.1:5000]}: the bytes as Python's repr. */
  @Override
  public String toString() {
    return "Datagram[data=" + bytesRepr(data) + ", address=" + Addresses.format(address) + "]";
  }

  /** Python's {@code repr} of bytes: {@code b'...'}, or {@code b"..."} for a ' without a ". */
  private static String bytesRepr(byte[] bytes) {
    boolean hasSingle = false;
    boolean hasDouble = false;
    for (byte b : bytes) {
      hasSingle |= b == '\'';
      hasDouble |= b == '"';
    }
    char quote = hasSingle && !hasDouble ? '"' : '\'';
    StringBuilder text = new StringBuilder(bytes.length + 3).append('b').append(quote);
    for (byte b : bytes) {
      int c = b & 0xff;
      switch (c) {
        case '\t' -> text.append("\\t");
        case '\n' -> text.append("\\n");
        case '\r' -> text.append("\\r");
        default -> {
          if (c == quote || c == '\\') {
            text.append('\\').append((char) c);
          } else if (c < ' ' || c >= 0x7f) {
            text.append("\\x")
                .append(Character.forDigit(c >> 4, 16))
                .append(Character.forDigit(c & 0xf, 16));
          } else {
            text.append((char) c);
          }
        }
      }
    }
    return text.append(quote).toString();
  }
}
