package io.jsock.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * The words {@code -e} runs ({@link Program#words}) against Ncat's own {@code cmdline_split}
 * ({@link NcatCmdlineSplit}): whatever the line, the program and its arguments are the bytes ncat
 * would hand to {@code execv}, word for word, the line being UTF-8 to ncat. Left out are a line
 * holding a NUL (C would end the line there) and one with a lone surrogate (which has no UTF-8): no
 * argument nor option file can carry either.
 */
final class ProgramWordsFuzzTest {
  private static final String[] PIECES = {
    "\\",
    "\\\\",
    " ",
    "  ",
    "\t",
    "\n",
    "\u000b",
    "\f",
    "\r",
    "a",
    "b",
    "\"",
    "'",
    "\\ ",
    "\\a",
    "\u001c",
    "\u0085",
    "\u00a0",
    "\u2028",
    "é",
    "\ud83d\ude00"
  };

  @FuzzTest(maxDuration = "2m")
  void splitsAsNcatCmdlineSplit(FuzzedDataProvider data) {
    StringBuilder built = new StringBuilder();
    int pieces = data.consumeInt(0, 10);
    for (int i = 0; i < pieces; i++) {
      built.append(
          data.consumeBoolean()
              ? data.pickValue(PIECES)
              : data.consumeString(data.consumeInt(0, 6)));
    }
    String line = built.toString();
    if (line.indexOf('\0') >= 0 || !isWellFormed(line)) {
      return;
    }
    List<String> words = Program.words(line);
    assertThat(utf8(words))
        .as("words of %s", quoted(line))
        .isEqualTo(NcatCmdlineSplit.split(line).stream().map(NcatCmdlineSplit::show).toList());
    if (words.isEmpty()) {
      return;
    }
    assertThat(Program.exec(line).command()).as("-e %s", quoted(line)).isEqualTo(words);
  }

  private static boolean isWellFormed(String line) {
    return new String(line.getBytes(StandardCharsets.UTF_8), StandardCharsets.UTF_8).equals(line);
  }

  private static List<String> utf8(List<String> words) {
    return words.stream()
        .map(word -> NcatCmdlineSplit.show(word.getBytes(StandardCharsets.UTF_8)))
        .toList();
  }

  static String quoted(String text) {
    StringBuilder out = new StringBuilder("\"");
    text.codePoints()
        .forEach(
            c ->
                out.append(c >= 0x20 && c < 0x7F ? Character.toString(c) : "\\u{%x}".formatted(c)));
    return out.append('"').toString();
  }
}
