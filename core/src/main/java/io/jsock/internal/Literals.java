package io.jsock.internal;

import java.util.Arrays;
import java.util.Optional;

/**
 * IP address literals, parsed and written exactly as Linux's C library does for Python's {@code
 * inet_pton}, {@code inet_aton}, {@code inet_ntop} and {@code inet_ntoa}: text in, bytes out, and
 * never a name lookup.
 *
 * <p>The JDK has no strict parser of its own: {@code InetAddress.getByName} resolves anything that
 * is not a literal, so checking text with it may send a DNS query. Everything here is pure.
 */
public final class Literals {
  private Literals() {}

  /**
   * An IPv4 address as {@code inet_pton(AF_INET)} reads it: exactly four decimal parts from 0 to
   * 255, without leading zeros ({@code "01.2.3.4"} is ambiguous, so rejected) and nothing else.
   */
  public static Optional<byte[]> parseIpv4(String text) {
    return Optional.ofNullable(ipv4(text, 0, text.length()));
  }

  /**
   * An IPv6 address as {@code inet_pton(AF_INET6)} reads it: up to eight groups of one to four hex
   * digits, at most one {@code ::}, and optionally a dotted-quad IPv4 address as the last 32 bits
   * ({@code ::ffff:1.2.3.4}). A scope ({@code %eth0}) is not part of a literal.
   */
  public static Optional<byte[]> parseIpv6(String text) {
    return Optional.ofNullable(ipv6(text));
  }

  /**
   * A host name that OpenSSL, so Python's {@code ssl} module, takes for an IP address when it
   * checks a certificate ({@code a2i_IPADDRESS}): four decimal numbers from 0 to 255, leading zeros
   * and all ({@code 010.0.0.1} is 10.0.0.1), or an IPv6 literal without a scope. Anything else,
   * even what {@code inet_aton} reads as an address ({@code 127.1}, {@code 2130706433}), is a host
   * name there: sent as SNI and matched against the certificate's DNS names.
   */
  public static Optional<byte[]> parseCertificateAddress(String text) {
    Optional<byte[]> ipv6 = parseIpv6(text);
    if (ipv6.isPresent()) {
      return ipv6;
    }
    byte[] raw = new byte[4];
    int part = 0;
    int i = 0;
    while (true) {
      int start = i;
      int value = 0;
      while (i < text.length() && isDigit(text.charAt(i)) && value <= 255) {
        value = value * 10 + (text.charAt(i++) - '0');
      }
      if (i == start || value > 255) {
        return Optional.empty();
      }
      raw[part++] = (byte) value;
      if (part == 4) {
        return i == text.length() ? Optional.of(raw) : Optional.empty();
      }
      if (i >= text.length() || text.charAt(i++) != '.') {
        return Optional.empty();
      }
    }
  }

  /**
   * An IPv4 address as {@code inet_aton} reads it: {@code a.b.c.d}, {@code a.b.c} (c fills 16
   * bits), {@code a.b} (b fills 24 bits) or {@code a} (32 bits), each part decimal, octal with a
   * leading {@code 0}, or hex with a leading {@code 0x}. Unlike glibc, text after the address (even
   * after a space) is rejected.
   */
  public static Optional<byte[]> parseAton(String text) {
    long[] parts = new long[4];
    int count = 0;
    int i = 0;
    int n = text.length();
    while (true) {
      if (i >= n || !isDigit(text.charAt(i))) {
        return Optional.empty(); // every part starts with a digit: no sign, space or empty part
      }
      int radix = 10;
      if (text.charAt(i) == '0' && i + 1 < n && (text.charAt(i + 1) | 0x20) == 'x') {
        radix = 16;
        i += 2;
      } else if (text.charAt(i) == '0') {
        radix = 8; // the leading 0 itself is a digit of the octal number
      }
      int start = i;
      long value = 0;
      while (i < n && Character.digit(text.charAt(i), radix) >= 0 && text.charAt(i) < 0x80) {
        value = value * radix + Character.digit(text.charAt(i), radix);
        if (value > 0xFFFF_FFFFL) {
          return Optional.empty();
        }
        i++;
      }
      if (i == start) {
        return Optional.empty(); // "0x" without digits
      }
      parts[count++] = value;
      if (i == n) {
        break;
      }
      if (text.charAt(i) != '.' || count == 4) {
        return Optional.empty();
      }
      i++;
    }
    long address = 0;
    for (int p = 0; p < count - 1; p++) {
      if (parts[p] > 0xFF) {
        return Optional.empty();
      }
      address |= parts[p] << (24 - 8 * p);
    }
    long last = parts[count - 1];
    if (last > (0xFFFF_FFFFL >>> (8 * (count - 1)))) {
      return Optional.empty(); // the last part fills the remaining 32, 24, 16 or 8 bits
    }
    address |= last;
    return Optional.of(
        new byte[] {
          (byte) (address >>> 24), (byte) (address >>> 16), (byte) (address >>> 8), (byte) address
        });
  }

  /** An IPv4 address in dotted-quad text, as {@code inet_ntoa} writes it: {@code 127.0.0.1}. */
  public static String ipv4Text(byte[] raw) {
    checkLength(raw, 4);
    return (raw[0] & 0xFF) + "." + (raw[1] & 0xFF) + "." + (raw[2] & 0xFF) + "." + (raw[3] & 0xFF);
  }

  /**
   * An IPv6 address in the canonical text Python's {@code inet_ntop} writes on Linux (RFC 5952):
   * lower-case hex without leading zeros, the longest run of two or more zero groups (the first if
   * tied) written {@code ::}, and the last 32 bits as a dotted quad for IPv4-mapped ({@code
   * ::ffff:1.2.3.4}) and IPv4-compatible ({@code ::1.2.3.4}) addresses, as glibc does.
   */
  public static String ipv6Text(byte[] raw) {
    checkLength(raw, 16);
    int[] groups = new int[8];
    for (int i = 0; i < 8; i++) {
      groups[i] = ((raw[2 * i] & 0xFF) << 8) | (raw[2 * i + 1] & 0xFF);
    }
    int bestStart = -1;
    int bestLength = 1; // a single zero group is not compressed
    for (int i = 0; i < 8; ) {
      int j = i;
      while (j < 8 && groups[j] == 0) {
        j++;
      }
      if (j - i > bestLength) {
        bestStart = i;
        bestLength = j - i;
      }
      i = j == i ? i + 1 : j;
    }
    // glibc's rule: six zero groups, or five and then ffff, put an IPv4 address in the last 32 bits
    boolean embedsIpv4 =
        bestStart == 0 && (bestLength == 6 || (bestLength == 5 && groups[5] == 0xFFFF));
    StringBuilder text = new StringBuilder();
    for (int i = 0; i < 8; i++) {
      if (i == bestStart) {
        text.append("::");
        i += bestLength - 1;
        continue;
      }
      if (text.length() > 0 && text.charAt(text.length() - 1) != ':') {
        text.append(':');
      }
      if (i == 6 && embedsIpv4) {
        text.append(ipv4Text(new byte[] {raw[12], raw[13], raw[14], raw[15]}));
        break;
      }
      text.append(Integer.toHexString(groups[i]));
    }
    return text.toString();
  }

  /** inet_pton4 on {@code text[from, to)}: the bytes, or null if it is not a dotted quad. */
  private static byte[] ipv4(String text, int from, int to) {
    byte[] raw = new byte[4];
    int octets = 0;
    int value = 0;
    boolean sawDigit = false;
    for (int i = from; i < to; i++) {
      char c = text.charAt(i);
      if (isDigit(c)) {
        if (sawDigit && value == 0) {
          return null; // a leading zero
        }
        value = value * 10 + (c - '0');
        if (value > 255) {
          return null;
        }
        if (!sawDigit) {
          if (++octets > 4) {
            return null;
          }
          sawDigit = true;
        }
      } else if (c == '.' && sawDigit && octets < 4) {
        raw[octets - 1] = (byte) value;
        value = 0;
        sawDigit = false;
      } else {
        return null;
      }
    }
    if (octets < 4 || !sawDigit) {
      return null;
    }
    raw[3] = (byte) value;
    return raw;
  }

  /** inet_pton6, following glibc step by step: the bytes, or null if it is not a literal. */
  private static byte[] ipv6(String text) {
    int n = text.length();
    int i = 0;
    if (n == 0) {
      return null;
    }
    if (text.charAt(0) == ':') {
      if (n < 2 || text.charAt(1) != ':') {
        return null; // a leading colon must be the start of "::"
      }
      i = 1;
    }
    byte[] raw = new byte[16];
    int filled = 0; // bytes written to raw
    int gap = -1; // where "::" stands, as a byte offset
    int token = i; // the start of the current group, for an embedded IPv4 address
    int digits = 0;
    int value = 0;
    while (i < n) {
      char c = text.charAt(i++);
      int digit = c < 0x80 ? Character.digit(c, 16) : -1;
      if (digit >= 0) {
        if (digits == 4) {
          return null;
        }
        value = (value << 4) | digit;
        digits++;
        continue;
      }
      if (c == ':') {
        token = i;
        if (digits == 0) {
          if (gap >= 0) {
            return null; // a second "::"
          }
          gap = filled;
          continue;
        }
        if (i == n || filled + 2 > 16) {
          return null; // a trailing single colon, or a ninth group
        }
        raw[filled++] = (byte) (value >>> 8);
        raw[filled++] = (byte) value;
        digits = 0;
        value = 0;
        continue;
      }
      if (c == '.' && filled + 4 <= 16) {
        byte[] ipv4 = ipv4(text, token, n);
        if (ipv4 == null) {
          return null;
        }
        System.arraycopy(ipv4, 0, raw, filled, 4);
        filled += 4;
        digits = 0;
        break;
      }
      return null;
    }
    if (digits > 0) {
      if (filled + 2 > 16) {
        return null;
      }
      raw[filled++] = (byte) (value >>> 8);
      raw[filled++] = (byte) value;
    }
    if (gap >= 0) {
      if (filled == 16) {
        return null; // "::" must stand for at least one zero group
      }
      int tail = filled - gap;
      System.arraycopy(raw, gap, raw, 16 - tail, tail);
      Arrays.fill(raw, gap, 16 - tail, (byte) 0);
      filled = 16;
    }
    return filled == 16 ? raw : null;
  }

  private static boolean isDigit(char c) {
    return c >= '0' && c <= '9';
  }

  private static void checkLength(byte[] raw, int length) {
    if (raw.length != length) {
      throw new IllegalArgumentException(
          "packed IP address must be " + length + " bytes, not " + raw.length);
    }
  }
}
