package io.jsock.testing;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Runs a test class's {@code main} in a JVM of its own, on the epoll path's flags, for what a test
 * cannot change in its own JVM (a property read at start-up, the process's environment).
 */
public final class ChildJvm {
  private ChildJvm() {}

  /**
   * The command line that runs {@code main} in a JVM of its own with the given JVM options, on the
   * epoll path's flags, its class path absolute: for a program run elsewhere than by {@link #run},
   * such as in a {@link NetnsHost} ({@link NetnsHost#run}).
   */
  public static List<String> command(Class<?> main, String... jvmOptions) {
    List<String> command = new ArrayList<>();
    command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    command.addAll(
        List.of(
            "--enable-native-access=ALL-UNNAMED",
            "--add-exports",
            "java.base/sun.nio.ch=ALL-UNNAMED"));
    command.addAll(List.of(jvmOptions));
    command.addAll(
        List.of(
            "-cp",
            Path.of("target/classes").toAbsolutePath()
                + File.pathSeparator
                + Path.of("target/test-classes").toAbsolutePath(),
            main.getName()));
    return command;
  }

  /**
   * {@code command} run under {@code ulimit -n limit}: a shell lowers the process's descriptor
   * limit and execs it, its arguments passed on as they are (no quoting), for a child that meets
   * the limit (EMFILE) where the test's own JVM must not.
   */
  public static List<String> underFdLimit(int limit, List<String> command) {
    List<String> shell =
        new ArrayList<>(List.of("sh", "-c", "ulimit -n " + limit + " && exec \"$@\"", "sh"));
    shell.addAll(command);
    return shell;
  }

  /**
   * Runs {@code main} with the given environment added and JVM options, waits for it (two minutes
   * at most), and returns what it printed, stdout and stderr together, line by line.
   *
   * @param dir where the output goes (a JUnit {@code @TempDir})
   */
  public static List<String> run(
      Class<?> main, Map<String, String> environment, Path dir, String... jvmOptions)
      throws Exception {
    List<String> options = new ArrayList<>();
    options.addAll(
        List.of(
            "--enable-native-access=ALL-UNNAMED",
            "--add-exports",
            "java.base/sun.nio.ch=ALL-UNNAMED"));
    options.addAll(List.of(jvmOptions));
    return runBare(main, environment, dir, options.toArray(String[]::new));
  }

  /**
   * As {@link #run}, with the given JVM options only: none of the epoll path's flags unless given,
   * as a program that puts jsock on its class path starts.
   */
  public static List<String> runBare(
      Class<?> main, Map<String, String> environment, Path dir, String... jvmOptions)
      throws Exception {
    List<String> command = new ArrayList<>();
    command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    command.addAll(List.of(jvmOptions));
    command.addAll(
        List.of(
            "-cp",
            Path.of("target/classes") + File.pathSeparator + Path.of("target/test-classes"),
            main.getName()));
    return runCommand(command, environment, dir);
  }

  /**
   * Runs {@code command} (as {@link #command} or {@link #underFdLimit} give) with the given
   * environment added, waits for it (two minutes at most), and returns what it printed, stdout and
   * stderr together, line by line.
   *
   * @param dir where the output goes (a JUnit {@code @TempDir})
   */
  public static List<String> runCommand(
      List<String> command, Map<String, String> environment, Path dir) throws Exception {
    Path output = Files.createTempFile(dir, "child", ".txt");
    ProcessBuilder builder =
        new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(output.toFile());
    builder.environment().putAll(environment);
    Process child = builder.start();
    try {
      assertThat(child.waitFor(120, TimeUnit.SECONDS)).as("child ended").isTrue();
    } finally {
      child.destroyForcibly();
    }
    return Files.readAllLines(output);
  }
}
