package io.jsock.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.assertj.core.api.SoftAssertions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The bench scripts refuse options they cannot run with at once, with exit code 2 and a line naming
 * the option, before they build or start anything. Every run here writes into a temporary directory
 * ({@code --out}), never into docs/benchmarks.
 */
class BenchScriptsTest {
  /** The bench module's directory, where the scripts are (Maven runs the tests there). */
  private static final Path BENCH = Path.of("").toAbsolutePath();

  private record Outcome(int exitCode, String stderr) {}

  private static Outcome run(Path dir, String script, String... args) throws Exception {
    List<String> command = new ArrayList<>(List.of("bash", BENCH.resolve(script).toString()));
    command.addAll(List.of(args));
    Path err = dir.resolve(script + ".err");
    Process process =
        new ProcessBuilder(command)
            .redirectOutput(ProcessBuilder.Redirect.DISCARD)
            .redirectError(err.toFile())
            .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")))
            .start();
    if (!process.waitFor(3, TimeUnit.MINUTES)) {
      process.descendants().forEach(ProcessHandle::destroyForcibly);
      process.destroyForcibly();
      process.waitFor();
    }
    return new Outcome(process.exitValue(), Files.readString(err, StandardCharsets.UTF_8));
  }

  private static Outcome compare(Path dir, String... args) throws Exception {
    List<String> all =
        new ArrayList<>(List.of("--no-build", "--out", dir.resolve("out").toString()));
    all.addAll(List.of(args));
    return run(dir, "compare", all.toArray(String[]::new));
  }

  private static void assertUsageError(Outcome outcome, String line, Path dir) throws IOException {
    assertThat(outcome.stderr()).isEqualTo(line + " (try --help)\n");
    assertThat(outcome.exitCode()).isEqualTo(2);
    assertThat(dir.resolve("out")).doesNotExist();
  }

  @Test
  void compareRefusesAnUnknownScenarioInsteadOfWritingAnEmptyReport(@TempDir Path dir)
      throws Exception {
    assertUsageError(
        compare(dir, "--servers", "jsock", "--scenarios", "pingpong-100 pingpong-1OO"),
        "bench/compare: unknown scenario pingpong-1OO (pingpong-100, pingpong-1000,"
            + " pingpong-10000, pipeline-100x16, connect, udp-10, udp, udp-1000, bulk-64k)",
        dir);
  }

  @Test
  void compareNamesTheScenariosOfQuickModeForOneItDoesNotHave(@TempDir Path dir) throws Exception {
    assertUsageError(
        compare(dir, "--quick", "--servers", "jsock", "--scenarios", "udp-1000"),
        "bench/compare: unknown scenario udp-1000 (with --quick: pingpong-100, pipeline-100x16,"
            + " connect, udp, bulk-64k)",
        dir);
  }

  @Test
  void compareRefusesAnUnknownServerBeforeAnyRun(@TempDir Path dir) throws Exception {
    assertUsageError(
        compare(dir, "--servers", "jsock c-epol", "--scenarios", "pingpong-100"),
        "bench/compare: unknown server c-epol (jsock, jsock-selector, jsock-channel,"
            + " jsock-jit-default, jdk-vthreads, netty-epoll, netty-nio, c-epoll, c-uring, c-mmsg)",
        dir);
  }

  @Test
  void compareRefusesAnOptionWithoutItsValue(@TempDir Path dir) throws Exception {
    assertUsageError(compare(dir, "--repeat"), "bench/compare: --repeat needs a value", dir);
  }

  @Test
  void compareRefusesARepeatThatIsNotACount(@TempDir Path dir) throws Exception {
    assertUsageError(
        compare(dir, "--servers", "jsock", "--scenarios", "pingpong-100", "--repeat", "0"),
        "bench/compare: --repeat must be a whole number from 1: 0",
        dir);
  }

  @Test
  void compareRefusesADurationJsockBenchWouldRefuseInEveryRun(@TempDir Path dir) throws Exception {
    assertUsageError(
        compare(dir, "--servers", "jsock", "--scenarios", "pingpong-100", "--duration", "1"),
        "bench/compare: --duration: not a duration (a whole number and ms, s or m, as 500ms, 2s,"
            + " 1m): 1",
        dir);
    assertUsageError(
        compare(dir, "--servers", "jsock", "--scenarios", "pingpong-100", "--duration", "50ms"),
        "bench/compare: --duration must be from 100ms to under an hour: 50ms",
        dir);
  }

  @Test
  void compareRefusesACpuListWithNoCpuItMayRunOn(@TempDir Path dir) throws Exception {
    Outcome outcome =
        compare(dir, "--servers", "jsock", "--scenarios", "pingpong-100", "--load-cpus", "999");
    assertThat(outcome.stderr())
        .startsWith(
            "bench/compare: --load-cpus 999: no CPU this process may run on (it may run on ")
        .endsWith(") (try --help)\n");
    assertThat(outcome.exitCode()).isEqualTo(2);
  }

  @Test
  void compareRefusesNetnsWithoutRootBeforeItBuildsOrWritesAnything(@TempDir Path dir)
      throws Exception {
    // as nobody (setpriv): the namespace and the veth pair need root
    assumeTrue(
        Files.isExecutable(Path.of("/usr/bin/setpriv"))
            && "root".equals(System.getProperty("user.name")),
        "needs root and setpriv to run the script as another user");
    // the scripts copied where nobody may read them: the checkout may sit in a directory of mode
    // 700 (mktemp -d), which nobody cannot enter
    Path copy =
        Files.createTempDirectory(
            Path.of("/tmp"),
            "jsock-bench-nobody-",
            PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwxr-xr-x")));
    Path out = copy.resolve("nobody");
    try {
      for (String file : List.of("bench/compare", "bench/lib.sh", "cli/jvm.options")) {
        Path to = copy.resolve(file);
        Files.createDirectories(to.getParent());
        Files.copy(BENCH.resolve("..").resolve(file), to);
        to.getParent().toFile().setReadable(true, false);
        to.getParent().toFile().setExecutable(true, false);
        to.toFile().setReadable(true, false);
      }
      refusesNetnsAsNobody(copy.resolve("bench/compare"), out);
    } finally {
      for (String file : List.of("bench/compare", "bench/lib.sh", "cli/jvm.options")) {
        Files.deleteIfExists(copy.resolve(file));
      }
      Files.deleteIfExists(copy.resolve("bench"));
      Files.deleteIfExists(copy.resolve("cli"));
      Files.deleteIfExists(copy);
    }
  }

  private static void refusesNetnsAsNobody(Path compare, Path out) throws Exception {
    List<String> command =
        List.of(
            "setpriv",
            "--reuid=65534",
            "--regid=65534",
            "--clear-groups",
            "bash",
            compare.toString(),
            "--no-build",
            "--netns",
            "--out",
            out.resolve("out").toString());
    Process process =
        new ProcessBuilder(command)
            .redirectOutput(ProcessBuilder.Redirect.DISCARD)
            .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")))
            .start();
    String stderr = new String(process.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(process.waitFor(1, TimeUnit.MINUTES)).isTrue();
    assertThat(stderr)
        .isEqualTo(
            "bench/compare: --netns needs root (it makes a network namespace and a veth pair)\n");
    assertThat(process.exitValue()).isEqualTo(1);
    assertThat(out.resolve("out")).doesNotExist();
  }

  // bench/ab's commits do not exist: what is refused must be refused before they are looked up
  // (and built, a minute or more each).

  @Test
  void abRefusesPairsThatAreNotACountBeforeItBuilds(@TempDir Path dir) throws Exception {
    assertUsageError(
        run(dir, "ab", "--pairs", "x", "no-such-commit-1", "no-such-commit-2"),
        "bench/ab: --pairs must be a whole number from 1: x",
        dir);
  }

  @Test
  void abRefusesAnOptionWithoutItsValue(@TempDir Path dir) throws Exception {
    assertUsageError(
        run(dir, "ab", "no-such-commit-1", "no-such-commit-2", "--pause"),
        "bench/ab: --pause needs a value",
        dir);
  }

  @Test
  void abRefusesADurationJsockBenchWouldRefuseBeforeItBuilds(@TempDir Path dir) throws Exception {
    assertUsageError(
        run(dir, "ab", "--warmup", "2", "no-such-commit-1", "no-such-commit-2"),
        "bench/ab: --warmup: not a duration (a whole number and ms, s or m, as 500ms, 2s, 1m): 2",
        dir);
  }

  @Test
  void abRefusesACpuListWithNoCpuItMayRunOnBeforeItBuilds(@TempDir Path dir) throws Exception {
    Outcome outcome =
        run(dir, "ab", "--server-cpus", "999", "no-such-commit-1", "no-such-commit-2");
    assertThat(outcome.stderr())
        .startsWith("bench/ab: --server-cpus 999: no CPU this process may run on (it may run on ")
        .endsWith(") (try --help)\n");
    assertThat(outcome.exitCode()).isEqualTo(2);
  }

  private static final List<String> SCRIPTS =
      List.of(
          "ab",
          "alloc-profile",
          "busy-memory",
          "compare",
          "cpu-profile",
          "idle-memory",
          "late-connections",
          "leak-check",
          "many-connections",
          "syscall-count-cost");

  private record Printed(int exitCode, String stdout, String stderr) {}

  /** Runs {@code ./SCRIPT ARGS} from the bench directory, as a reader there would. */
  private static Printed runHere(Path dir, String script, String... args) throws Exception {
    List<String> command = new ArrayList<>(List.of("bash", "./" + script));
    command.addAll(List.of(args));
    Path out = dir.resolve(script + ".out");
    Path err = dir.resolve(script + ".err");
    Process process =
        new ProcessBuilder(command)
            .directory(BENCH.toFile())
            .redirectOutput(out.toFile())
            .redirectError(err.toFile())
            .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")))
            .start();
    if (!process.waitFor(1, TimeUnit.MINUTES)) {
      process.descendants().forEach(ProcessHandle::destroyForcibly);
      process.destroyForcibly();
      process.waitFor();
    }
    return new Printed(
        process.exitValue(),
        Files.readString(out, StandardCharsets.UTF_8),
        Files.readString(err, StandardCharsets.UTF_8));
  }

  @Test
  void everyScriptPrintsItsUsageForHelpAndStartsNothing(@TempDir Path dir) throws Exception {
    SoftAssertions softly = new SoftAssertions();
    for (String script : SCRIPTS) {
      for (String help : List.of("--help", "-h")) {
        Printed printed = runHere(dir, script, help);
        softly.assertThat(printed.stderr()).as("%s %s: stderr", script, help).isEmpty();
        softly.assertThat(printed.stdout()).as("%s %s", script, help).startsWith("bench/" + script);
        softly.assertThat(printed.exitCode()).as("%s %s: exit code", script, help).isZero();
      }
    }
    softly.assertAll();
  }

  @Test
  void everyScriptRefusesABadArgumentByNameBeforeItStartsAnything(@TempDir Path dir)
      throws Exception {
    String[][] cases = {
      {"busy-memory", "x", "N must be a whole number from 1: x"},
      {"busy-memory", "10 0", "SECONDS must be a whole number from 1: 0"},
      {"busy-memory", "10 3600", "SECONDS must be under an hour (jsock bench's longest run): 3600"},
      {"busy-memory", "--bogus", "unknown option --bogus"},
      {"busy-memory", "1 2 3", "unexpected argument 3 (it takes 2 at most)"},
      {"many-connections", "10 x", "SECONDS must be a whole number from 1: x"},
      {"many-connections", "10 5 0", "PROCESSES must be a whole number from 1: 0"},
      // bash's arithmetic read 08 as an error in the check of PROCESSES against N, which went on
      // to start the servers, and 010 as 8 (jsock bench opened 10 connections)
      {"many-connections", "08 5", "N must be written without a leading zero: 08"},
      {"busy-memory", "010", "N must be written without a leading zero: 010"},
      {"leak-check", "00", "SECONDS must be written without a leading zero: 00"},
      {"late-connections", "jsock 0", "RUNS must be a whole number from 1: 0"},
      {
        "late-connections",
        "c-epol",
        "unknown server c-epol (jsock, netty-epoll, jdk-vthreads, c-epoll)"
      },
      {"leak-check", "--tls x", "SECONDS must be a whole number from 0: x"},
      {"leak-check", "5 6", "unexpected argument 6 (it takes 1 at most)"},
      {"syscall-count-cost", "jsock x", "PAIRS must be a whole number from 1: x"},
      {"syscall-count-cost", "c-epol", "unknown server c-epol (c-epoll, jsock)"},
      {"idle-memory", "--warm", "--warm needs a value"},
      {"idle-memory", "--warm x", "--warm must be a whole number from 1: x"},
      {"idle-memory", "x", "N must be a whole number from 1: x"},
      {"idle-memory", "--wram 5", "unknown option --wram (the server's JVM options come after N)"},
      {"cpu-profile", "--keep", "--keep needs a value"},
      {
        "cpu-profile",
        "--server c-epol",
        "unknown server c-epol (jsock, jsock-jit-default, netty-epoll, c-epoll)"
      },
      {
        "cpu-profile",
        "--keep " + dir.resolve("none/perf.data"),
        "--keep " + dir.resolve("none/perf.data") + ": no directory " + dir.resolve("none")
      },
    };
    SoftAssertions softly = new SoftAssertions();
    for (String[] c : cases) {
      Printed printed = runHere(dir, c[0], c[1].split(" "));
      softly
          .assertThat(printed.stderr())
          .as("%s %s", c[0], c[1])
          .isEqualTo("bench/" + c[0] + ": " + c[2] + " (try --help)\n");
      softly.assertThat(printed.exitCode()).as("%s %s: exit code", c[0], c[1]).isEqualTo(2);
    }
    softly.assertAll();
  }

  /**
   * bench/leak-check says it fails on a wrong echo, and its connect load (jsock bench) checks every
   * echo: the load's failure must fail the check. Here the script runs from a copy whose {@code
   * ./jsock} starts a real JVM echo server (the plain JDK one of this module, for jcmd) and whose
   * {@code jsock bench} reports a wrong echo, exit 1, as jsock bench does; no abuse (0 s).
   */
  @Test
  void leakCheckFailsWhenItsConnectLoadMeetsAWrongEcho(@TempDir Path dir) throws Exception {
    Path copy = dir.resolve("tree");
    Files.createDirectories(copy.resolve("bench"));
    Files.createDirectories(copy.resolve("cli"));
    for (String script : List.of("leak-check", "lib.sh")) {
      Files.copy(BENCH.resolve(script), copy.resolve("bench").resolve(script));
    }
    Files.copy(BENCH.resolve("../cli/jvm.options"), copy.resolve("cli/jvm.options"));
    Path java = Path.of(ProcessHandle.current().info().command().orElseThrow());
    Path jsock = copy.resolve("jsock");
    Files.writeString(
        jsock,
        String.join(
            "\n",
            "#!/usr/bin/env bash",
            "if [ \"$1\" = echo ]; then",
            "  exec '" + java + "' -cp '" + System.getProperty("java.class.path") + "' \\",
            "    io.jsock.bench.JdkEchoServer --host 127.0.0.1 --port 0",
            "fi",
            "echo 'jsock: echo mismatch on connection 3 at byte 10 of its stream: sent 0x5a,"
                + " received 0xa5 (server 127.0.0.1:1)' >&2",
            "exit 1",
            ""));
    assertThat(jsock.toFile().setExecutable(true)).isTrue();
    Outcome outcome = run(dir, copy.resolve("bench/leak-check").toString(), "0");
    assertThat(outcome.stderr())
        .contains(
            "bench/leak-check: the connect load failed (exit 1): jsock: echo mismatch on"
                + " connection 3");
    assertThat(outcome.exitCode()).isEqualTo(1);
  }

  /**
   * A script waiting in bench/lib.sh's {@code poll} (as bench/compare does through a measured run)
   * and interrupted there exits 130 (143 for SIGTERM) once its EXIT trap has cleaned up: its
   * process stopped, its directory deleted. bash 5.2.15 left the read's timeout set when the trap
   * exited during poll's {@code read -t}, and died of SIGSEGV or an abort (or looped) in the
   * clean-up's first {@code $(...)} or sleep. The harness sets the traps as the scripts do, and
   * cleans up as bench/compare's {@code stop_pid} does; its shell starts with SIGINT at its default
   * (env --default-signal), as from a terminal, whatever Maven's own disposition is.
   */
  @Test
  void aScriptInterruptedWhileItPollsCleansUpAndExits130(@TempDir Path dir) throws Exception {
    String harness =
        String.join(
            "\n",
            ". \"$1/lib.sh\"",
            "work=$(mktemp -d \"$2/work.XXXXXX\")",
            "python3 -c 'import time; time.sleep(600)' & child=$! # a server here; SIGINT ignored",
            "stop() {",
            "  kill -TERM \"$1\" 2>/dev/null || return 0",
            "  for _ in $(seq 50); do kill -0 \"$1\" 2>/dev/null || return 0; sleep 0.1; done",
            "}",
            "trap 'stop \"$child\"; rm -rf \"$work\"' EXIT",
            "exit_on_interrupt",
            "printf '%s %s\\n' \"$child\" \"$work\"",
            "never() { : >\"$work/polling\"; find_line \"$work/none\" started; }",
            "poll 0.02 100000 \"$child\" never",
            "");
    SoftAssertions softly = new SoftAssertions();
    for (int round = 0; round < 12; round++) {
      String signal = round < 10 ? "INT" : "TERM";
      Path out = dir.resolve("harness" + round + ".out");
      Path err = dir.resolve("harness" + round + ".err");
      Process process =
          new ProcessBuilder(
                  "env",
                  "--default-signal=INT,TERM",
                  "bash",
                  "-c",
                  harness,
                  "harness",
                  BENCH.toString(),
                  dir.toString())
              .redirectOutput(out.toFile())
              .redirectError(err.toFile())
              .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")))
              .start();
      String[] started = {};
      try {
        for (int i = 0; i < 500 && started.length < 2; i++) { // the line, within 10 s
          Thread.sleep(20);
          started = Files.readString(out, StandardCharsets.UTF_8).strip().split(" ");
        }
        assertThat(started).as("round %d: the child and directory", round).hasSize(2);
        Path polling = Path.of(started[1], "polling"); // written by each of poll's checks
        for (int i = 0; i < 500 && !Files.exists(polling); i++) { // in poll, within 10 s
          Thread.sleep(20);
        }
        assertThat(polling).as("round %d: the script polls", round).exists();
        Thread.sleep(7 * round); // at another moment of poll's 20 ms pauses each round
        Process kill =
            new ProcessBuilder("kill", "-" + signal, Long.toString(process.pid())).start();
        assertThat(kill.waitFor()).isZero();
        if (!process.waitFor(1, TimeUnit.MINUTES)) {
          process.destroyForcibly();
          process.waitFor();
        }
        long child = Long.parseLong(started[0]);
        softly
            .assertThat(process.exitValue())
            .as("round %d: exit code after SIG%s", round, signal)
            .isEqualTo(signal.equals("INT") ? 130 : 143);
        softly
            .assertThat(Files.readString(err, StandardCharsets.UTF_8))
            .as("round %d: stderr", round)
            .isEmpty();
        softly.assertThat(Path.of(started[1])).as("round %d: its directory", round).doesNotExist();
        softly
            .assertThat(ProcessHandle.of(child).map(ProcessHandle::isAlive).orElse(false))
            .as("round %d: its child %d", round, child)
            .isFalse();
      } finally {
        process.destroyForcibly();
        if (started.length == 2) {
          ProcessHandle.of(Long.parseLong(started[0])).ifPresent(ProcessHandle::destroyForcibly);
        }
      }
    }
    softly.assertAll();
  }

  /** Every script sets its interrupts through bench/lib.sh, just after its EXIT trap. */
  @Test
  void everyScriptExitsOnAnInterruptThroughLibSh() throws Exception {
    SoftAssertions softly = new SoftAssertions();
    for (String script : SCRIPTS) {
      List<String> lines = Files.readAllLines(BENCH.resolve(script), StandardCharsets.UTF_8);
      int exitTrap = -1;
      for (int i = 0; i < lines.size(); i++) {
        if (lines.get(i).matches("^trap .* EXIT$")) {
          exitTrap = i;
          break;
        }
      }
      softly.assertThat(exitTrap).as("%s: its EXIT trap", script).isNotNegative();
      softly
          .assertThat(exitTrap >= 0 && exitTrap + 1 < lines.size() ? lines.get(exitTrap + 1) : "")
          .as("%s: the line after its EXIT trap", script)
          .startsWith("exit_on_interrupt");
      softly
          .assertThat(lines.stream().filter(line -> line.matches("^\\s*trap .*\\b(INT|TERM)\\b.*")))
          .as("%s: its own INT or TERM traps", script)
          .isEmpty();
    }
    softly.assertAll();
  }
}
