package io.jsock.fuzz;

import static io.jsock.Family.AF_INET;
import static io.jsock.Family.AF_INET6;
import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import io.jsock.Family;
import io.jsock.Sockets;

/**
 * {@link Sockets#inetPton} and {@link Sockets#inetNtop} against {@link LiteralReference}, and
 * {@link Sockets#inetAton} against glibc's own {@code inet_aton} ({@link GlibcAton}): every text is
 * a literal to both or to neither, with the same bytes, and every address's text is the one glibc
 * writes and parses back to the address.
 */
final class LiteralsFuzzTest {
  @FuzzTest(maxDuration = "2m")
  void parsesIpv4AsInetPton(FuzzedDataProvider data) {
    String text = data.consumeRemainingAsString();
    assertThat(pton(AF_INET, text))
        .as("inetPton(AF_INET, %s)", quoted(text))
        .isEqualTo(LiteralReference.ipv4(text));
  }

  @FuzzTest(maxDuration = "2m")
  void parsesIpv6AsInetPton(FuzzedDataProvider data) {
    String text = data.consumeRemainingAsString();
    assertThat(pton(AF_INET6, text))
        .as("inetPton(AF_INET6, %s)", quoted(text))
        .isEqualTo(LiteralReference.ipv6(text));
  }

  @FuzzTest(maxDuration = "2m")
  void parsesIpv4AsInetAton(FuzzedDataProvider data) {
    String text = data.consumeRemainingAsString();
    assertThat(aton(text)).as("inetAton(%s)", quoted(text)).isEqualTo(GlibcAton.inetAton(text));
  }

  @FuzzTest(maxDuration = "2m")
  void writesIpv6AsInetNtop(FuzzedDataProvider data) {
    byte[] raw = new byte[16];
    byte[] given = data.consumeBytes(16);
    System.arraycopy(given, 0, raw, 0, given.length);
    String text = Sockets.inetNtop(AF_INET6, raw);
    assertThat(text).as("inetNtop of %s", hex(raw)).isEqualTo(LiteralReference.ipv6Text(raw));
    assertThat(Sockets.inetPton(AF_INET6, text)).as("inetPton(AF_INET6, %s)", text).isEqualTo(raw);
  }

  /** The bytes, or null if the text is not a literal of the family. */
  private static byte[] pton(Family family, String text) {
    try {
      return Sockets.inetPton(family, text);
    } catch (IllegalArgumentException notALiteral) {
      assertThat(notALiteral).hasMessageContaining("inetPton");
      return null;
    }
  }

  /** The bytes, or null if the text is not an address in inet_aton's forms. */
  private static byte[] aton(String text) {
    try {
      return Sockets.inetAton(text);
    } catch (IllegalArgumentException notAnAddress) {
      assertThat(notAnAddress).hasMessageContaining("inetAton");
      return null;
    }
  }

  private static String quoted(String text) {
    StringBuilder out = new StringBuilder("\"");
    text.codePoints()
        .forEach(
            c ->
                out.append(c >= 0x20 && c < 0x7F ? Character.toString(c) : "\\u{%x}".formatted(c)));
    return out.append('"').toString();
  }

  private static String hex(byte[] raw) {
    return java.util.HexFormat.of().formatHex(raw);
  }
}
