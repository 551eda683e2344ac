package io.jsock.cli;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * Ncat 7.93's {@code cmdline_split} ({@code ncat/ncat_posix.c}), step for step on the bytes C sees:
 * the line's UTF-8, ended at its first NUL, each byte tested with {@code isspace} of the C locale.
 * Words are handed back as the bytes {@code execv} would receive.
 */
final class NcatCmdlineSplit {
  private NcatCmdlineSplit() {}

  static List<byte[]> split(String line) {
    byte[] text = line.getBytes(StandardCharsets.UTF_8);
    int end = 0;
    while (end < text.length && text[end] != 0) {
      end++;
    }
    List<byte[]> args = new ArrayList<>();
    ByteArrayOutputStream arg = new ByteArrayOutputStream();
    int ptr = 0;
    while (ptr < end) {
      while (ptr < end && isspace(text[ptr])) {
        ptr++;
      }
      if (ptr == end) {
        break;
      }
      while (ptr < end && !isspace(text[ptr])) {
        if (text[ptr] == '\\') {
          ptr++;
          if (ptr == end) {
            break;
          }
          arg.write(text[ptr]);
          ptr++;
          if (text[ptr - 1] != '\\') {
            while (ptr < end && isspace(text[ptr])) {
              ptr++;
            }
          }
        } else {
          arg.write(text[ptr]);
          ptr++;
        }
      }
      args.add(arg.toByteArray());
      arg.reset();
    }
    return args;
  }

  /** {@code word}'s bytes in hex, for a comparison that shows where two words differ. */
  static String show(byte[] word) {
    StringBuilder out = new StringBuilder();
    for (byte b : word) {
      out.append(b >= 0x20 && b < 0x7f && b != '%' ? Character.toString(b) : "%%%02x".formatted(b));
    }
    return out.toString();
  }

  /** {@code isspace((unsigned char) c)} in the C locale. */
  private static boolean isspace(byte c) {
    return c == ' ' || c == '\t' || c == '\n' || c == 0x0b || c == '\f' || c == '\r';
  }
}
