package io.jsock.cli;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.util.Arrays;
import java.util.HexFormat;

/**
 * What {@code jsock broker --chat} passes on of a client's line ({@link ChatEscapes}): whatever
 * bytes the line holds, what the others receive is UTF-8 without a control character but the tab
 * (no C0 control, no DEL, no C1 control), and the line's bytes can be read back from it, each
 * {@code \ooo} being one byte.
 */
final class ChatEscapesFuzzTest {
  /** Bytes after the line's end in the buffer, which must not be read as part of it. */
  private static final byte[] AFTER = {(byte) 0x80, (byte) 0xbf, (byte) 0x8f};

  @FuzzTest(maxDuration = "2m")
  void writesNoControlAndKeepsEveryByte(FuzzedDataProvider data) {
    byte[] line = data.consumeRemainingAsBytes();
    byte[] buffer = Arrays.copyOf(line, line.length + AFTER.length);
    System.arraycopy(AFTER, 0, buffer, line.length, AFTER.length);
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ChatEscapes.write(buffer, line.length, out);
    byte[] written = out.toByteArray();
    String shown = HexFormat.of().formatHex(line);

    for (byte b : written) {
      int value = b & 0xff;
      assertThat(value == '\t' || value >= 0x20 && value != 0x7f)
          .as("byte %02x written for %s", value, shown)
          .isTrue();
    }
    String text = strictUtf8(written, shown);
    text.codePoints()
        .forEach(
            c ->
                assertThat(c >= 0x80 && c <= 0x9f)
                    .as("C1 control U+%04X written for %s", c, shown)
                    .isFalse());
    assertThat(unescaped(written))
        .as("read back from %s, written for %s", HexFormat.of().formatHex(written), shown)
        .isEqualTo(line);
  }

  private static String strictUtf8(byte[] written, String shown) {
    try {
      CharBuffer chars =
          UTF_8
              .newDecoder()
              .onMalformedInput(CodingErrorAction.REPORT)
              .onUnmappableCharacter(CodingErrorAction.REPORT)
              .decode(ByteBuffer.wrap(written));
      return chars.toString();
    } catch (CharacterCodingException e) {
      throw new AssertionError("not UTF-8, written for " + shown, e);
    }
  }

  /** A backslash and three octal digits is the byte they name; every other byte is itself. */
  private static byte[] unescaped(byte[] written) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    int i = 0;
    while (i < written.length) {
      if (written[i] == '\\'
          && i + 3 < written.length
          && isOctal(written[i + 1])
          && isOctal(written[i + 2])
          && isOctal(written[i + 3])) {
        out.write((written[i + 1] - '0') << 6 | (written[i + 2] - '0') << 3 | written[i + 3] - '0');
        i += 4;
      } else {
        out.write(written[i]);
        i++;
      }
    }
    return out.toByteArray();
  }

  private static boolean isOctal(byte b) {
    return b >= '0' && b <= '7';
  }
}
