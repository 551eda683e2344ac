package io.jsock.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code jsock completion}: the script, loaded by a real bash and asked as bash asks it. */
class CompletionCommandTest {
  @TempDir Path dir;

  @Test
  void afterTheVerboseFlagTheOptionsStillComplete() throws Exception {
    // -v (a boolean[] for -vv) went in the script as an option taking a value, so the word
    // after it completed nothing at all
    assertThat(complete("connect", "-v", "--")).contains("--udp", "--tls", "--wait");
    assertThat(complete("listen", "-v", "--")).contains("--keep-open", "--max-clients");
    assertThat(complete("broker", "-v", "--")).contains("--chat", "--slow");
    assertThat(complete("relay", "-v", "--")).contains("--latency", "--direction");
    assertThat(complete("relay", "-v", "--direction", "")).containsExactly("both", "up", "down");
  }

  /** What the script's completion function offers for the command line's last word. */
  private List<String> complete(String... words) throws Exception {
    StringWriter out = new StringWriter();
    assertThat(Main.commandLine().setOut(new PrintWriter(out, true)).execute("completion"))
        .isZero();
    Path script = Files.writeString(dir.resolve("jsock.bash"), out.toString());
    StringBuilder line = new StringBuilder("jsock");
    for (String word : words) {
      line.append(' ').append(word);
    }
    String driver =
        "source \"$1\"; shift; COMP_WORDS=(jsock \"$@\"); COMP_CWORD=$#; COMP_LINE=\"$LINE\";"
            + " COMP_POINT=${#COMP_LINE}; COMPREPLY=();"
            + " _complete_jsock jsock \"${COMP_WORDS[COMP_CWORD]}\""
            + " \"${COMP_WORDS[COMP_CWORD-1]}\" 2>/dev/null;"
            + " printf '%s\\n' \"${COMPREPLY[@]}\"";
    List<String> command =
        new ArrayList<>(List.of("bash", "-c", driver, "bash", script.toString()));
    command.addAll(Arrays.asList(words));
    ProcessBuilder builder = new ProcessBuilder(command).directory(dir.toFile());
    builder.environment().put("LINE", line.toString());
    builder.redirectError(ProcessBuilder.Redirect.DISCARD);
    Process bash = builder.start();
    String reply = new String(bash.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(bash.waitFor(30, TimeUnit.SECONDS)).isTrue();
    assertThat(bash.exitValue()).isZero();
    return reply.lines().filter(s -> !s.isEmpty()).toList();
  }
}
