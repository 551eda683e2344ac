package io.jsock.cli;

import java.nio.ByteBuffer;

/**
 * The {@code -x} view of traffic on stderr: a header line per chunk ({@code > 5 bytes to
 * 127.0.0.1:9}) and {@code hexdump -C} rows, offset, sixteen bytes in hex, and their printable
 * characters.
 */
final class HexDump {
  private final Lines err;

  HexDump(Lines err) {
    this.err = err;
  }

  /** Dumps the bytes between {@code data}'s position and limit, leaving the buffer unchanged. */
  void dump(String header, ByteBuffer data) {
    StringBuilder text = new StringBuilder(header);
    int length = data.remaining();
    for (int row = 0; row < length; row += 16) {
      text.append('\n').append(String.format("%08x ", row));
      StringBuilder chars = new StringBuilder(16);
      for (int i = 0; i < 16; i++) {
        if (i == 8) {
          text.append(' ');
        }
        if (row + i < length) {
          int b = data.get(data.position() + row + i) & 0xff;
          text.append(' ')
              .append(Character.forDigit(b >> 4, 16))
              .append(Character.forDigit(b & 15, 16));
          chars.append(b >= 0x20 && b < 0x7f ? (char) b : '.');
        } else {
          text.append("   ");
        }
      }
      text.append("  |").append(chars).append('|');
    }
    err.line(text.toString());
  }
}
