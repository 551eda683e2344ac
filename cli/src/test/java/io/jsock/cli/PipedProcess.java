package io.jsock.cli;

import static java.nio.charset.StandardCharsets.UTF_8;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.awaitility.Awaitility;

/**
 * A real process of the integration tests whose stdin and stdout carry data (files or pipes, bytes
 * not lines), while its stderr is collected as it comes, so that a test can wait for a diagnostic
 * ({@code jsock: listening on 127.0.0.1:40123}). Closing it kills the process if it still runs.
 */
final class PipedProcess implements AutoCloseable {
  private static final Duration LIMIT = Duration.ofSeconds(60);

  private final Process process;
  private final StringBuffer err = new StringBuffer();
  private final Thread errReader;

  private PipedProcess(Process process) {
    this.process = process;
    this.errReader =
        Thread.ofVirtual()
            .start(
                () -> {
                  try (InputStream in = process.getErrorStream()) {
                    byte[] buf = new byte[8192];
                    int n;
                    while ((n = in.read(buf)) > 0) {
                      err.append(new String(buf, 0, n, UTF_8));
                    }
                  } catch (IOException e) {
                    // the process ended
                  }
                });
  }

  /** {@code ./jsock} with these arguments, as a command line. */
  static List<String> jsock(String... args) {
    List<String> command = new ArrayList<>();
    command.add(RunningProcess.REPO.resolve("jsock").toString());
    command.addAll(List.of(args));
    return command;
  }

  /** Starts {@code command} from the repository's root with stdin and stdout as given. */
  static PipedProcess start(
      List<String> command,
      Map<String, String> env,
      ProcessBuilder.Redirect in,
      ProcessBuilder.Redirect out) {
    ProcessBuilder builder =
        new ProcessBuilder(command)
            .directory(RunningProcess.REPO.toFile())
            .redirectInput(in)
            .redirectOutput(out);
    String jar = System.getProperty("jsock.jar");
    if (jar != null) {
      builder.environment().put("JSOCK_JAR", jar);
    }
    builder.environment().putAll(env);
    try {
      return new PipedProcess(builder.start());
    } catch (IOException e) {
      throw new UncheckedIOException("cannot start " + command, e);
    }
  }

  /** The process's stdin, when it was started with a pipe there. */
  OutputStream stdin() {
    return process.getOutputStream();
  }

  /** The process's stdout, when it was started with a pipe there. */
  InputStream stdout() {
    return process.getInputStream();
  }

  /** Waits (a minute at most) until stderr matches {@code regex} somewhere; returns the match. */
  Matcher awaitStderr(String regex) {
    Pattern pattern = Pattern.compile(regex);
    Matcher[] found = new Matcher[1];
    Awaitility.await()
        .atMost(LIMIT)
        .pollInterval(Duration.ofMillis(20))
        .failFast("process ended; stderr: " + err, () -> !process.isAlive() && !matches(pattern))
        .until(
            () -> {
              Matcher m = pattern.matcher(err);
              if (m.find()) {
                found[0] = m;
                return true;
              }
              return false;
            });
    return found[0];
  }

  private boolean matches(Pattern pattern) {
    return pattern.matcher(err).find();
  }

  /** Waits for {@code jsock listen}'s line and returns the port it names. */
  int listeningPort() {
    return Integer.parseInt(awaitStderr("listening on \\S*:(\\d+)").group(1));
  }

  /** Waits for the process to end (a minute at most) and returns its exit code. */
  int exitCode() throws InterruptedException {
    if (!process.waitFor(LIMIT.toSeconds(), TimeUnit.SECONDS)) {
      process.destroyForcibly();
      throw new AssertionError("process did not end; stderr: " + err);
    }
    errReader.join(LIMIT);
    return process.exitValue();
  }

  /** Everything written to stderr so far. */
  String stderr() {
    return err.toString();
  }

  boolean isAlive() {
    return process.isAlive();
  }

  /** The process's id: the JVM's once the launcher has exec'd it. */
  long pid() {
    return process.pid();
  }

  @Override
  public void close() {
    if (process.isAlive()) {
      process.destroyForcibly();
    }
  }
}
