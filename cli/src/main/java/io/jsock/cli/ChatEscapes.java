package io.jsock.cli;

import static java.nio.charset.StandardCharsets.UTF_8;

import java.io.ByteArrayOutputStream;

/**
 * A chat line as the broker passes it on: control characters written as {@code ncat --chat} writes
 * them, a backslash and three octal digits per byte ({@code \033}), so that no client can send the
 * others' terminals escape sequences, or a carriage return that writes another name over its own.
 * Tabs pass, and so does UTF-8 text (ncat writes every byte over 0x7e as {@code \ooo}); a byte that
 * is not part of a well-formed UTF-8 character is written {@code \ooo}, and so is a C1 control
 * (U+0080 to U+009F: U+009B is a terminal's CSI). A backslash that three octal digits follow is
 * written {@code \134}: ncat passes it on, and the text {@code \033} a client typed then read as
 * the byte 0x1b. So each {@code \ooo} the others read is one byte of the line, every other byte is
 * itself, and any other backslash passes as it is.
 */
final class ChatEscapes {
  private ChatEscapes() {}

  /** Writes {@code text[0, length)} to {@code out}, escaped. */
  static void write(byte[] text, int length, ByteArrayOutputStream out) {
    int i = 0;
    while (i < length) {
      int lead = text[i] & 0xff;
      if (lead < 0x80) {
        if (lead == '\t'
            || lead >= 0x20 && lead != 0x7f && !(lead == '\\' && looksEscaped(text, i, length))) {
          out.write(lead);
        } else {
          escape(lead, out);
        }
        i++;
        continue;
      }
      int size = utf8Size(text, i, length);
      if (size > 0) {
        out.write(text, i, size);
        i += size;
      } else {
        escape(lead, out);
        i++;
      }
    }
  }

  /** Whether three octal digits follow the backslash at {@code i}, as in an escape. */
  private static boolean looksEscaped(byte[] text, int i, int length) {
    if (i + 3 >= length) {
      return false;
    }
    for (int j = i + 1; j <= i + 3; j++) {
      if (text[j] < '0' || text[j] > '7') {
        return false;
      }
    }
    return true;
  }

  /**
   * The length of the well-formed UTF-8 character of a printable code point at {@code i} (a lead
   * byte at least 0x80), or 0: a byte that starts no such character.
   */
  private static int utf8Size(byte[] text, int i, int length) {
    int lead = text[i] & 0xff;
    int size = lead >= 0xc2 && lead <= 0xdf ? 2 : lead >= 0xe0 && lead <= 0xef ? 3 : 4;
    if (lead < 0xc2 || lead > 0xf4 || i + size > length) {
      return 0;
    }
    // the JDK's decoder judges the form: an overlong form, a surrogate or a stray byte decodes to
    // U+FFFD, or to more than one character
    String decoded = new String(text, i, size, UTF_8);
    int codePoint = decoded.codePointAt(0);
    boolean one = decoded.length() == Character.charCount(codePoint);
    return one && codePoint != 0xfffd && codePoint > 0x9f ? size : 0;
  }

  private static void escape(int b, ByteArrayOutputStream out) {
    out.write('\\');
    out.write('0' + (b >> 6));
    out.write('0' + (b >> 3 & 7));
    out.write('0' + (b & 7));
  }
}
