package io.jsock.cli;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import org.junit.jupiter.api.Test;

/** How {@code jsock broker --chat} writes a line's bytes ({@link ChatEscapes}). */
class ChatEscapesTest {
  @Test
  void aBackslashBeforeThreeOctalDigitsIsEscapedSoThatNoTextPassesForAnEscapedByte() {
    // passed as it was, the text \202 read as the byte 0x82 (and \033 as ESC): a client could
    // make its line say it had sent bytes it had not
    assertThat(escaped("A%\0\0\0\\202")).isEqualTo("A%\\000\\000\\000\\134202");
    assertThat(escaped("C:\\033 \\\u001b")).isEqualTo("C:\\134033 \\\\033");
  }

  @Test
  void anyOtherBackslashPassesAsNcatPassesIt() {
    assertThat(escaped("C:\\temp\\x \\12 \\1a7 \\")).isEqualTo("C:\\temp\\x \\12 \\1a7 \\");
    assertThat(escaped("\\\\")).isEqualTo("\\\\");
  }

  private static String escaped(String line) {
    byte[] bytes = line.getBytes(UTF_8);
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ChatEscapes.write(bytes, bytes.length, out);
    return out.toString(UTF_8);
  }
}
