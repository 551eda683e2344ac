package io.jsock.cli;

import static java.nio.charset.StandardCharsets.UTF_8;

import java.io.BufferedReader;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A real process of the integration tests ({@code ./jsock}, {@code python3}, {@code java}) whose
 * output lines are collected as they come, so a test can wait for a line (a server's banner) before
 * going on. Closing it kills the process if it still runs.
 */
final class RunningProcess implements AutoCloseable {
  /** The repository's root, where {@code ./jsock} is. */
  static final Path REPO = Path.of(System.getProperty("jsock.repo", "..")).toAbsolutePath();

  private static final Duration LIMIT = Duration.ofSeconds(60);

  private final Process process;
  private final BlockingQueue<String> pending = new LinkedBlockingQueue<>();
  private final List<String> out = new ArrayList<>();
  private final StringBuffer err = new StringBuffer();
  private final Thread errReader;
  private final Thread outReader;

  private RunningProcess(Process process) {
    this.process = process;
    this.outReader = Thread.ofVirtual().start(() -> pump(process.getInputStream(), pending));
    this.errReader = Thread.ofVirtual().start(() -> collect(process.getErrorStream(), err));
  }

  /** Starts {@code ./jsock} with the given arguments, running the jar the build just made. */
  static RunningProcess jsock(Map<String, String> env, String... args) {
    List<String> command = new ArrayList<>();
    command.add(REPO.resolve("jsock").toString());
    command.addAll(List.of(args));
    return start(command, env);
  }

  /** Starts {@code ./jsock} with the given arguments. */
  static RunningProcess jsock(String... args) {
    return jsock(Map.of(), args);
  }

  /** Starts any command, from the repository's root. */
  static RunningProcess start(List<String> command, Map<String, String> env) {
    ProcessBuilder builder = new ProcessBuilder(command).directory(REPO.toFile());
    String jar = System.getProperty("jsock.jar");
    if (jar != null) {
      builder.environment().put("JSOCK_JAR", jar);
    }
    builder.environment().putAll(env);
    builder.redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")));
    try {
      return new RunningProcess(builder.start());
    } catch (IOException e) {
      throw new UncheckedIOException("cannot start " + command, e);
    }
  }

  /** Waits for the next line of stdout; fails if the process ends or a minute passes first. */
  String nextLine() throws InterruptedException {
    String line = pending.poll(LIMIT.toSeconds(), TimeUnit.SECONDS);
    if (line == null || line.equals(EOF)) {
      throw new AssertionError("no more output; stderr: " + err);
    }
    out.add(line);
    return line;
  }

  /** Waits for the next line and returns the groups of {@code regex} matched against it. */
  Matcher nextLineMatching(String regex) throws InterruptedException {
    String line = nextLine();
    Matcher matcher = Pattern.compile(regex).matcher(line);
    if (!matcher.matches()) {
      throw new AssertionError("line '" + line + "' does not match " + regex + "; stderr: " + err);
    }
    return matcher;
  }

  /** Waits for the process to end (a minute at most) and returns its exit code. */
  int exitCode() throws InterruptedException {
    if (!process.waitFor(LIMIT.toSeconds(), TimeUnit.SECONDS)) {
      process.destroyForcibly();
      throw new AssertionError("process did not end; stderr: " + err);
    }
    outReader.join();
    errReader.join();
    return process.exitValue();
  }

  /** All stdout lines, once the process has ended. */
  List<String> lines() throws InterruptedException {
    exitCode();
    String line;
    while ((line = pending.poll()) != null) {
      if (!line.equals(EOF)) {
        out.add(line);
      }
    }
    return List.copyOf(out);
  }

  /** Everything the process wrote to stderr, once it has ended. */
  String stderr() throws InterruptedException {
    exitCode();
    return err.toString();
  }

  /** Whether the process still runs. */
  boolean isAlive() {
    return process.isAlive();
  }

  /** What the process has written to stderr so far, while it runs. */
  String stderrSoFar() {
    return err.toString();
  }

  /** Sends a signal (SIGTERM) to the process, as a service manager would. */
  void terminate() {
    process.destroy();
  }

  long pid() {
    return process.pid();
  }

  /** Sends the signal of that name ({@code INT}, {@code TERM}) to the process, as kill(1) does. */
  void signal(String name) throws IOException, InterruptedException {
    Process kill = new ProcessBuilder("kill", "-" + name, "" + process.pid()).inheritIO().start();
    if (kill.waitFor() != 0) {
      throw new AssertionError("kill -" + name + " " + process.pid() + " failed");
    }
  }

  @Override
  public void close() {
    if (process.isAlive()) {
      process.destroyForcibly();
    }
  }

  /** Marks the end of stdout in the queue; no line read from a process contains a NUL. */
  private static final String EOF = "\u0000EOF";

  private static void pump(InputStream in, BlockingQueue<String> lines) {
    try (var reader = new BufferedReader(new InputStreamReader(in, UTF_8))) {
      String line;
      while ((line = reader.readLine()) != null) {
        lines.add(line);
      }
    } catch (IOException e) {
      // the process ended
    } finally {
      lines.add(EOF);
    }
  }

  private static void collect(InputStream in, StringBuffer sink) {
    try (var reader = new BufferedReader(new InputStreamReader(in, UTF_8))) {
      String line;
      while ((line = reader.readLine()) != null) {
        sink.append(line).append('\n');
      }
    } catch (IOException e) {
      // the process ended
    }
  }
}
