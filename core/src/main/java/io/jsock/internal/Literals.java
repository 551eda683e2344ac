package io.jsock.internal;

import java.net.IDN;
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
   * A server host name that Python's {@code ssl} module takes for an IP address, and then checks
   * against the certificate's IP entries only, without SNI: the name after Python's {@code idna}
   * codec (IDNA 2003, which maps fullwidth digits and dots to ASCII), read as OpenSSL 3.0's {@code
   * a2i_IPADDRESS} reads it. IPv4 is {@code sscanf("%d.%d.%d.%d")}: each number decimal, leading
   * zeros and all ({@code 010.0.0.1} is 10.0.0.1), after optional spaces and a sign, stored in an
   * {@code int} ({@code 4294967297} is 1), from 0 to 255, and then the end or a space (after which
   * anything goes). Anything with a colon is IPv6, groups of 1 to 4 hex digits, {@code ::} once, an
   * IPv4 address as above last; no scope ({@code fe80::1%lo}). The rest is a name, even what {@code
   * inet_aton} reads as an address ({@code 127.1}, {@code 2130706433}): sent as SNI and matched
   * against the certificate's DNS names.
   */
  public static Optional<byte[]> parseCertificateAddress(String text) {
    String ascii;
    try {
      ascii = IDN.toASCII(text, IDN.ALLOW_UNASSIGNED);
    } catch (IllegalArgumentException notIdna) {
      return Optional.empty(); // which Python's idna codec refuses before OpenSSL sees it
    }
    return Optional.ofNullable(
        ascii.indexOf(':') >= 0 ? opensslIpv6(ascii) : opensslIpv4(ascii, 0));
  }

  /**
   * OpenSSL's {@code ipv4_from_asc}: {@code sscanf(in, "%d.%d.%d.%d%n")} as glibc runs it, then
   * each number in 0..255 and the end of the text or a space after the last.
   */
  private static byte[] opensslIpv4(String text, int from) {
    byte[] raw = new byte[4];
    int i = from;
    for (int part = 0; part < 4; part++) {
      if (part > 0) {
        if (i >= text.length() || text.charAt(i) != '.') {
          return null;
        }
        i++;
      }
      while (i < text.length() && isCSpace(text.charAt(i))) {
        i++;
      }
      boolean negative = i < text.length() && text.charAt(i) == '-';
      if (i < text.length() && (text.charAt(i) == '-' || text.charAt(i) == '+')) {
        i++;
      }
      int digits = i;
      long magnitude = 0; // strtol's: saturated at the long's limits
      boolean overflow = false;
      while (i < text.length() && isDigit(text.charAt(i))) {
        int digit = text.charAt(i++) - '0';
        if (overflow || magnitude > (Long.MAX_VALUE - digit) / 10) {
          overflow = true;
        } else {
          magnitude = magnitude * 10 + digit;
        }
      }
      if (i == digits) {
        return null;
      }
      long scanned =
          overflow
              ? (negative ? Long.MIN_VALUE : Long.MAX_VALUE)
              : negative ? -magnitude : magnitude;
      int value = (int) scanned; // %d stores strtol's long in an int
      if (value < 0 || value > 255) {
        return null;
      }
      raw[part] = (byte) value;
    }
    return i == text.length() || isCSpace(text.charAt(i)) ? raw : null;
  }

  /**
   * OpenSSL's {@code ipv6_from_asc}: the text split at every colon, an empty element standing for
   * {@code ::} (two at the start or end, three for {@code ::} alone), the others 1 to 4 hex digits
   * or, when longer and last, an IPv4 address as {@link #opensslIpv4} reads it.
   */
  private static byte[] opensslIpv6(String text) {
    byte[] parsed = new byte[16];
    int total = 0;
    int zeroAt = -1;
    int zeros = 0;
    int start = 0;
    while (true) {
      if (total == 16) {
        return null;
      }
      int colon = text.indexOf(':', start);
      int end = colon < 0 ? text.length() : colon;
      int length = end - start;
      if (length == 0) {
        if (zeroAt == -1) {
          zeroAt = total;
        } else if (zeroAt != total) {
          return null; // a second "::"
        }
        zeros++;
      } else if (length > 4) {
        byte[] ipv4 = colon < 0 && total <= 12 ? opensslIpv4(text, start) : null;
        if (ipv4 == null) {
          return null;
        }
        System.arraycopy(ipv4, 0, parsed, total, 4);
        total += 4;
      } else {
        int value = 0;
        for (int i = start; i < end; i++) {
          int digit = text.charAt(i) < 0x80 ? Character.digit(text.charAt(i), 16) : -1;
          if (digit < 0) {
            return null;
          }
          value = (value << 4) | digit;
        }
        parsed[total++] = (byte) (value >>> 8);
        parsed[total++] = (byte) value;
      }
      if (colon < 0) {
        break;
      }
      start = colon + 1;
    }
    if (zeroAt == -1) {
      return total == 16 ? parsed : null;
    }
    boolean zerosFit =
        switch (zeros) {
          case 1 -> zeroAt != 0 && zeroAt != total; // "a::b"
          case 2 -> zeroAt == 0 || zeroAt == total; // "::a" or "a::"
          case 3 -> total == 0; // "::"
          default -> false;
        };
    if (total == 16 || !zerosFit) {
      return null;
    }
    byte[] raw = new byte[16];
    System.arraycopy(parsed, 0, raw, 0, zeroAt);
    System.arraycopy(parsed, zeroAt, raw, 16 - (total - zeroAt), total - zeroAt);
    return raw;
  }

  /** C's {@code isspace} in the C locale. */
  private static boolean isCSpace(char c) {
    return c == ' ' || c >= '\t' && c <= '\r';
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
