package io.jsock.cli;

import static io.jsock.cli.RunningProcess.jsock;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.jsock.Socket;
import java.io.File;
import java.io.IOException;
import java.lang.reflect.Method;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Integration test (runs the real {@code ./jsock}): the seed's commands as a person or a script
 * uses them, with the exit codes and one-line errors that {@code jsock --help} documents.
 */
class CommandsIT {
  @Test
  void demoRunsTheSeedsExchange() throws Exception {
    try (RunningProcess demo = jsock("demo")) {
      List<String> lines = demo.lines();
      assertThat(lines).hasSize(3);
      assertThat(lines.get(0)).matches("\\[server] Server is listening on localhost:\\d+");
      assertThat(lines.get(1)).isEqualTo("[server] Received: Hello, server! This is the client.");
      assertThat(lines.get(2)).isEqualTo("[client] Received: Hello, client! This is the server.");
      assertThat(demo.exitCode()).isZero();
    }
  }

  // python3's client.py > /dev/full: OSError (No space left on device), exit 1; jsock's commands
  // printed through picocli's writer, which kept the failure to itself, and exited 0
  @Test
  void aCommandWhoseStdoutCannotBeWrittenFailsInsteadOfExitingZero() throws Exception {
    for (List<String> command :
        List.of(PipedProcess.jsock("demo"), PipedProcess.jsock("resolve", "127.0.0.1", "80"))) {
      try (PipedProcess run =
          PipedProcess.start(
              command,
              Map.of(),
              ProcessBuilder.Redirect.PIPE,
              ProcessBuilder.Redirect.to(new File("/dev/full")))) {
        run.stdin().close();
        assertThat(run.exitCode()).as("%s: %s", command, run.stderr()).isEqualTo(1);
        assertThat(run.stderr()).endsWith("jsock: write to stdout failed\n");
      }
    }
  }

  // completion > /dev/full exited 0 with nothing written (install-completion then said the script
  // was installed), as did --help and --version: picocli prints them, and nothing looked
  @Test
  void completionHelpAndVersionFailWhenStdoutCannotBeWritten() throws Exception {
    for (List<String> command :
        List.of(
            PipedProcess.jsock("completion"),
            PipedProcess.jsock("--help"),
            PipedProcess.jsock("--version"),
            PipedProcess.jsock("connect", "--help"))) {
      assertFailsOnAFullStdout(command);
    }
  }

  // echo said 'write to stdout failed' of its banner and exited 0, the status of the stop its
  // shutdown hook runs at exit
  @Test
  void echoWhoseBannerCannotBeWrittenExitsOneAndRemovesItsSocketFile(@TempDir Path dir)
      throws Exception {
    Path socketFile = dir.resolve("echo.sock");
    assertFailsOnAFullStdout(PipedProcess.jsock("echo", "--host", "127.0.0.1", "--port", "0"));
    assertFailsOnAFullStdout(PipedProcess.jsock("echo", "--unix", socketFile.toString()));
    assertThat(socketFile).doesNotExist();
  }

  private static void assertFailsOnAFullStdout(List<String> command) throws Exception {
    try (PipedProcess run =
        PipedProcess.start(
            command,
            Map.of(),
            ProcessBuilder.Redirect.PIPE,
            ProcessBuilder.Redirect.to(new File("/dev/full")))) {
      run.stdin().close();
      assertThat(run.exitCode()).as("%s: %s", command, run.stderr()).isEqualTo(1);
      assertThat(run.stderr()).isEqualTo("jsock: write to stdout failed\n");
    }
  }

  @Test
  void serverRepliesWithTheGivenTextAndClientSendsTheGivenMessage() throws Exception {
    try (RunningProcess server = jsock("server", "--port", "0", "--reply", "pong")) {
      String port = server.nextLineMatching("Server is listening on localhost:(\\d+)").group(1);
      try (RunningProcess client = jsock("client", "--port", port, "--message", "ping")) {
        assertThat(client.lines()).containsExactly("Received: pong");
      }
      assertThat(server.lines()).endsWith("Received: ping");
    }
  }

  @Test
  void keepOpenServesClientsUntilTerminated() throws Exception {
    try (RunningProcess server = jsock("server", "--port", "0", "--keep-open")) {
      String port = server.nextLineMatching("Server is listening on localhost:(\\d+)").group(1);
      List<RunningProcess> clients = new ArrayList<>();
      for (int i = 0; i < 3; i++) {
        clients.add(jsock("client", "--port", port, "--message", "client " + i));
      }
      for (RunningProcess client : clients) {
        try (client) {
          assertThat(client.lines())
              .containsExactly("Received: Hello, client! This is the server.");
        }
      }
      List<String> received = List.of(server.nextLine(), server.nextLine(), server.nextLine());
      assertThat(received)
          .containsExactlyInAnyOrder(
              "Received: client 0", "Received: client 1", "Received: client 2");
      server.terminate();
      assertThat(server.exitCode()).isEqualTo(143); // 128 + SIGTERM
    }
  }

  @Test
  void refusedConnectionIsOneLineAndExitCode3() throws Exception {
    int port;
    try (Socket bound = Socket.create()) {
      bound.bind("127.0.0.1", 0); // bound, not listening: connections to it are refused
      port = ((InetSocketAddress) bound.getSockName()).getPort();
      try (RunningProcess client = jsock("client", "--port", String.valueOf(port))) {
        assertThat(client.exitCode()).isEqualTo(3);
        assertThat(client.stderr())
            .isEqualTo("jsock: connect to 127.0.0.1:" + port + ": connection refused\n");
        assertThat(client.lines()).isEmpty();
      }
    }
  }

  @Test
  void errorsAreToldAndClassifiedInEnglishWhateverTheMessageLanguage() throws Exception {
    // The JDK words socket errors with the C library's strerror in the locale's language, and
    // jsock tells them apart by their English words: in German a refusal was "input/output
    // error", exit 1, and a stdout whose reader went away failed ("Datenübergabe unterbrochen").
    // LANGUAGE takes effect under C.UTF-8, which the launcher itself makes of LC_ALL=C.
    int port;
    try (Socket bound = Socket.create()) {
      bound.bind("127.0.0.1", 0); // bound, not listening: connections to it are refused
      port = ((InetSocketAddress) bound.getSockName()).getPort();
      for (var env :
          List.of(
              Map.of("LC_ALL", "C", "LANGUAGE", "de"),
              Map.of("LC_ALL", "C.UTF-8", "LANGUAGE", "fr:de"),
              Map.of(
                  "LC_ALL", "", "LANG", "C.UTF-8", "LC_MESSAGES", "C.UTF-8", "LANGUAGE", "de"))) {
        try (RunningProcess client = jsock(env, "connect", "127.0.0.1", String.valueOf(port))) {
          assertThat(client.exitCode()).as(env + ": " + client.stderr()).isEqualTo(3);
          assertThat(client.stderr())
              .as(env.toString())
              .isEqualTo("jsock: connect to 127.0.0.1:" + port + ": connection refused\n");
        }
      }
    }
  }

  @Test
  void unknownHostIsOneLineAndExitCode6(@TempDir Path dir) throws Exception {
    // A hosts file of our own: the name fails to resolve without any DNS traffic.
    Path hosts = Files.writeString(dir.resolve("hosts"), "127.0.0.1 localhost\n");
    var env = Map.of("JSOCK_JAVA_OPTS", "-Djdk.net.hosts.file=" + hosts);
    try (RunningProcess client = jsock(env, "client", "--host", "nosuchhost.invalid")) {
      assertThat(client.exitCode()).isEqualTo(6);
      assertThat(client.stderr())
          .isEqualTo("jsock: resolve nosuchhost.invalid:12345: name or service not known\n");
    }
  }

  @Test
  void javaOptionsMayQuoteAValueWithSpacesAsTheJavaLauncherLets(@TempDir Path dir)
      throws Exception {
    // JSOCK_JAVA_OPTS was split on every space and globbed, quotes kept: a hosts file in a
    // directory with a space could not be named ("Could not find or load main class dir/hosts\"")
    Path hosts =
        Files.writeString(
            Files.createDirectory(dir.resolve("a dir")).resolve("hosts"),
            "127.0.0.77 quoted.test\n");
    for (String options :
        List.of(
            "-Djdk.net.hosts.file=\"" + hosts + "\" -Dx='1 2'",
            "-Dx=\"1 2\" '-Djdk.net.hosts.file=" + hosts + "'",
            "-Djdk.net.hosts.file=" + hosts.toString().replace(" ", "\\ ") + " -Dx=*")) {
      try (RunningProcess resolve =
          jsock(
              Map.of("JSOCK_JAVA_OPTS", options), "resolve", "-4", "--tcp", "quoted.test", "80")) {
        assertThat(resolve.exitCode()).as(options + ": " + resolve.stderr()).isZero();
        assertThat(resolve.lines())
            .as(options)
            .hasSize(2)
            .last()
            .asString()
            .startsWith("AF_INET   SOCK_STREAM  6     127.0.0.77 ")
            .endsWith(" 80");
      }
    }
  }

  @Test
  void portInUseIsOneLineAndExitCode7() throws Exception {
    try (Socket holder = Socket.create()) {
      holder.bind("127.0.0.1", 0);
      holder.listen();
      int port = ((InetSocketAddress) holder.getSockName()).getPort();
      try (RunningProcess server = jsock("server", "--host", "127.0.0.1", "--port", "" + port)) {
        assertThat(server.exitCode()).isEqualTo(7);
        assertThat(server.stderr())
            .isEqualTo("jsock: bind to 127.0.0.1:" + port + ": address already in use\n");
      }
    }
  }

  @Test
  void portOutOfRangeIsAUsageErrorWithExitCode2() throws Exception {
    try (RunningProcess client = jsock("client", "--port", "65536")) {
      assertThat(client.exitCode()).isEqualTo(2);
      assertThat(client.stderr())
          .startsWith(
              "jsock: Invalid value for option '--port': port out of range 0..65535: 65536\n");
    }
  }

  @Test
  void helpAndVersionWork() throws Exception {
    try (RunningProcess help = jsock("server", "--help")) {
      assertThat(String.join("\n", help.lines())).contains("--keep-open", "--reply", "--port");
      assertThat(help.exitCode()).isZero();
    }
    try (RunningProcess version = jsock("--version")) {
      assertThat(version.lines().getFirst()).startsWith("jsock 0.");
    }
  }

  @Test
  void launcherRunsTheJvmWithTheOptionsOfJvmOptionsWhichJsockJavaOptsOverride() throws Exception {
    List<Matcher> options = jvmOptionsMatching("-XX:(\\w+)=(\\S+)");
    assertThat(options)
        .extracting(matcher -> matcher.group())
        .contains(
            "-XX:Tier0BackedgeNotifyFreqLog=3",
            "-XX:CompileCommand=CompileThresholdScaling,io.jsock.internal.EpollPoller::turn,0.01");
    try (RunningProcess version =
        jsock(Map.of("JSOCK_JAVA_OPTS", "-XX:+PrintFlagsFinal"), "--version")) {
      List<String> flags = version.lines();
      for (Matcher matcher : options) {
        String name = matcher.group(1);
        // a list flag (CompileCommand) prints one line per value, the last one with the origin
        assertThat(flags)
            .anyMatch(
                line ->
                    line.matches(
                        "\\s*(\\w+ )?"
                            + name
                            + " +\\+?= +"
                            + Pattern.quote(matcher.group(2))
                            + "\\b.*"))
            .anyMatch(
                line -> line.matches("\\s*(\\w+ )?" + name + " .*\\{product} \\{command line}"));
      }
    }
    var overridden =
        Map.of("JSOCK_JAVA_OPTS", "-XX:Tier0BackedgeNotifyFreqLog=10 -XX:+PrintFlagsFinal");
    try (RunningProcess version = jsock(overridden, "--version")) {
      assertThat(version.lines())
          .anyMatch(line -> line.matches("\\s*intx Tier0BackedgeNotifyFreqLog += 10 .*"));
    }
  }

  @Test
  void theJvmsPageSizeWarningsStayOffStdoutWhereJsockWritesData() throws Exception {
    // cli/jvm.options asks for transparent huge pages; a kernel without them makes the JVM warn on
    // stdout. Explicit large pages, which this machine has none of, make it warn the same way.
    assertThat(jvmOptionsMatching("-XX:\\+UseTransparentHugePages|-Xlog:pagesize=off"))
        .extracting(matcher -> matcher.group())
        .containsExactly("-XX:+UseTransparentHugePages", "-Xlog:pagesize=off");
    var noLargePages = Map.of("JSOCK_JAVA_OPTS", "-XX:-UseTransparentHugePages -XX:+UseLargePages");
    try (RunningProcess version = jsock(noLargePages, "--version")) {
      assertThat(version.lines()).noneMatch(line -> line.contains("pagesize"));
      assertThat(version.lines().getFirst()).startsWith("jsock 0.");
      assertThat(version.exitCode()).isZero();
    }
  }

  @Test
  void everyMethodThatJvmOptionsNamesExists() throws Exception {
    // a renamed method would leave its CompileCommand matching nothing, and the JVM says nothing
    List<String> named = new ArrayList<>();
    for (Matcher matcher : jvmOptionsMatching("-XX:CompileCommand=\\w+,([\\w.$]+)::(\\w+),.*")) {
      String method = matcher.group(1) + "::" + matcher.group(2);
      assertThat(Class.forName(matcher.group(1)).getDeclaredMethods())
          .as(method)
          .extracting(Method::getName)
          .contains(matcher.group(2));
      named.add(method);
    }
    assertThat(named)
        .contains(
            "io.jsock.internal.EpollPoller::turn",
            "java.util.concurrent.ForkJoinPool::runWorker",
            "io.jsock.server.TcpServer::acceptLoop");
  }

  /** The lines of cli/jvm.options that match {@code regex} as a whole, matched. */
  private static List<Matcher> jvmOptionsMatching(String regex) throws IOException {
    Pattern pattern = Pattern.compile(regex);
    List<Matcher> matched = new ArrayList<>();
    for (String line : Files.readAllLines(RunningProcess.REPO.resolve("cli/jvm.options"))) {
      Matcher matcher = pattern.matcher(line.strip());
      if (matcher.matches()) {
        matched.add(matcher);
      }
    }
    return matched;
  }

  @Test
  void aUserWhoMayNotWriteTheCheckoutRunsItsBuiltJar(@TempDir Path dir) throws Exception {
    // a checkout installed by its owner (here the launcher, cli/jvm.options and the jar), read-only
    // to its users; root may write anywhere, so as root the launcher runs as nobody
    Path target = Files.createDirectories(dir.resolve("cli/target"));
    Files.copy(RunningProcess.REPO.resolve("jsock"), dir.resolve("jsock"));
    Files.copy(RunningProcess.REPO.resolve("cli/jvm.options"), dir.resolve("cli/jvm.options"));
    Path jar = Path.of(System.getProperty("jsock.jar"));
    Files.copy(jar, target.resolve(jar.getFileName()));
    for (Path path : List.of(target, dir.resolve("cli"), dir)) {
      Files.setPosixFilePermissions(path, PosixFilePermissions.fromString("r-xr-xr-x"));
    }
    List<String> command = new ArrayList<>();
    if ((Integer) Files.getAttribute(Path.of("/proc/self"), "unix:uid") == 0) {
      command.addAll(List.of("setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"));
    }
    command.addAll(List.of(dir.resolve("jsock").toString(), "--version"));
    for (int run = 1; run <= 2; run++) { // the second run finds no class-data archive either
      try (RunningProcess version = RunningProcess.start(command, Map.of("JSOCK_JAR", ""))) {
        assertThat(version.exitCode()).as("run %d; stderr: %s", run, version.stderr()).isZero();
        assertThat(version.lines().getFirst()).startsWith("jsock 0.");
      }
    }
  }

  @Test
  void aLauncherLinkedFromAnotherDirectoryRunsItsCheckoutsJar(@TempDir Path dir) throws Exception {
    // ln -s ~/src/jsock/jsock ~/bin/jsock: the launcher looked for its checkout in ~/bin, tried to
    // build there ("Could not find the selected project in the reactor: cli", exit 1) and left a
    // lock file and cli/target behind
    Path checkout = dir.resolve("checkout");
    Path target = Files.createDirectories(checkout.resolve("cli/target"));
    Files.copy(RunningProcess.REPO.resolve("jsock"), checkout.resolve("jsock"));
    Files.copy(RunningProcess.REPO.resolve("cli/jvm.options"), checkout.resolve("cli/jvm.options"));
    Path jar = Path.of(System.getProperty("jsock.jar"));
    Files.copy(jar, target.resolve(jar.getFileName()));
    Path bin = Files.createDirectory(dir.resolve("my bin"));
    Files.createSymbolicLink(bin.resolve("jsock"), checkout.resolve("jsock"));
    List<String> command = List.of(bin.resolve("jsock").toString(), "--version");
    try (RunningProcess version = RunningProcess.start(command, Map.of("JSOCK_JAR", ""))) {
      assertThat(version.exitCode()).as(version.stderr()).isZero();
      assertThat(version.lines().getFirst()).startsWith("jsock 0.");
    }
    try (var files = Files.list(bin)) {
      assertThat(files.map(path -> path.getFileName().toString())).containsExactly("jsock");
    }
  }

  // The JVM's -XX:+AutoCreateSharedArchive made the class-data archive at the exit of the first
  // run, while its other threads went on: jsock echo stopped by SIGTERM in its first half second
  // crashed in that dump (SIGSEGV, exit 134, an hs_err file in the working directory; 3 of 24).
  // A training run makes it now, and no run of the user's dumps anything at its exit.
  @Test
  void aRunMapsTheClassDataArchiveATrainingRunMadeAndDumpsNothingAtItsExit(@TempDir Path dir)
      throws Exception {
    Path target = Files.createDirectories(dir.resolve("cli/target"));
    Files.copy(RunningProcess.REPO.resolve("jsock"), dir.resolve("jsock"));
    Files.copy(RunningProcess.REPO.resolve("cli/jvm.options"), dir.resolve("cli/jvm.options"));
    Path jar = Path.of(System.getProperty("jsock.jar"));
    Files.copy(jar, target.resolve(jar.getFileName()));
    String name = jar.getFileName().toString();
    Path archive = target.resolve(name.substring(0, name.length() - ".jar".length()) + ".jsa");
    List<String> command =
        List.of(dir.resolve("jsock").toString(), "echo", "--host", "127.0.0.1", "--port", "0");
    try (RunningProcess echo = RunningProcess.start(command, Map.of("JSOCK_JAR", ""))) {
      assertThat(echo.nextLine()).startsWith("Echo server listening on 127.0.0.1:");
      String jvmCommand =
          Files.readString(Path.of("/proc/" + echo.pid() + "/cmdline")).replace('\0', ' ');
      assertThat(archive).isNotEmptyFile();
      assertThat(jvmCommand)
          .contains("-XX:SharedArchiveFile=" + archive)
          .doesNotContain("AutoCreateSharedArchive", "ArchiveClassesAtExit");
    }
    try (var files = Files.list(target)) {
      assertThat(files.map(path -> path.getFileName().toString()))
          .noneMatch(file -> file.startsWith("hs_err") || file.contains(".jsa.tmp"));
    }
  }

  @Test
  void theJvmAfterABuildHoldsNoDescriptorOfTheBuildLock(@TempDir Path dir) throws Exception {
    // a checkout whose jar is missing, and a Maven that "builds" it by copying the real one
    for (String file : List.of("pom.xml", "core/pom.xml", "cli/pom.xml")) {
      Files.createDirectories(dir.resolve(file).getParent());
      Files.createFile(dir.resolve(file));
    }
    Files.createDirectories(dir.resolve("core/src/main"));
    Files.createDirectories(dir.resolve("cli/src/main"));
    Files.copy(RunningProcess.REPO.resolve("jsock"), dir.resolve("jsock"));
    Files.copy(RunningProcess.REPO.resolve("cli/jvm.options"), dir.resolve("cli/jvm.options"));
    Path jar = Path.of(System.getProperty("jsock.jar"));
    Path bin = Files.createDirectory(dir.resolve("bin"));
    Path mvn =
        Files.writeString(
            bin.resolve("mvn"),
            "#!/bin/sh\nmkdir -p cli/target && cp '"
                + jar
                + "' cli/target/"
                + jar.getFileName()
                + "\n");
    Files.setPosixFilePermissions(mvn, PosixFilePermissions.fromString("rwxr-xr-x"));
    var env = Map.of("JSOCK_JAR", "", "PATH", bin + ":" + System.getenv("PATH"));
    try (RunningProcess receiver =
        RunningProcess.start(List.of(dir.resolve("jsock").toString(), "receive", "0"), env)) {
      await()
          .atMost(Duration.ofSeconds(60))
          .until(() -> receiver.stderrSoFar().contains("receiving on"));
      List<String> open = new ArrayList<>();
      try (var fds = Files.list(Path.of("/proc/" + receiver.pid() + "/fd"))) {
        for (Path fd : fds.toList()) {
          open.add(Files.readSymbolicLink(fd).toString());
        }
      }
      assertThat(receiver.stderrSoFar()).contains("jsock: building");
      assertThat(open).noneMatch(target -> target.endsWith(".jsock-build.lock"));
    }
  }

  @Test
  void launcherExplainsAMissingJdk(@TempDir Path dir) throws Exception {
    var env =
        Map.of(
            "JAVA_HOME", dir.toString(),
            "PATH", "/usr/bin:/bin",
            "JSOCK_JDK_DIRS", dir.toString());
    // /usr/bin/java may be a JDK 17 (as on a new machine) or absent: either way not a JDK 25.
    try (RunningProcess launcher = jsock(env, "demo")) {
      assertThat(launcher.exitCode()).isEqualTo(1);
      assertThat(launcher.stderr())
          .contains("jsock: needs a JDK 25 or newer (java and javac), and found none.")
          .contains("Looked at JAVA_HOME, java on PATH and /usr/lib/jvm/*");
    }
  }
}
