package io.jsock.cli;

import static io.jsock.cli.RunningProcess.jsock;
import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.jsock.Socket;
import io.jsock.Sockets;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Integration test (runs the real {@code ./jsock}, {@code python3} and {@code java} processes): the
 * tutorial's own Python programs and jsock's commands talk to each other both ways, with the seed's
 * exact output lines.
 */
class SeedInteropIT {
  private static final String SERVER_BANNER = "Server is listening on localhost:(\\d+)";
  private static final String SERVER_RECEIVED = "Received: Hello, server! This is the client.";
  private static final String CLIENT_RECEIVED = "Received: Hello, client! This is the server.";

  private static RunningProcess python(String program, String port) {
    String path = RunningProcess.REPO.resolve("cli/src/test/resources/seed/" + program).toString();
    return RunningProcess.start(List.of("python3", path, port), Map.of());
  }

  @Test
  void theSeedsPythonClientTalksToJsockServer() throws Exception {
    try (RunningProcess server = jsock("server", "--port", "0")) {
      String port = server.nextLineMatching(SERVER_BANNER).group(1);
      try (RunningProcess client = python("client.py", port)) {
        assertThat(client.lines()).containsExactly(CLIENT_RECEIVED);
        assertThat(client.exitCode()).isZero();
      }
      assertThat(server.lines()).endsWith(SERVER_RECEIVED);
      assertThat(server.exitCode()).isZero();
      assertThat(server.stderr()).isEmpty();
    }
  }

  @Test
  void jsockClientTalksToTheSeedsPythonServer() throws Exception {
    try (RunningProcess server = python("server.py", "0")) {
      String port = server.nextLineMatching(SERVER_BANNER).group(1);
      try (RunningProcess client = jsock("client", "--port", port)) {
        assertThat(client.lines()).containsExactly(CLIENT_RECEIVED);
        assertThat(client.exitCode()).isZero();
        assertThat(client.stderr()).isEmpty();
      }
      assertThat(server.lines()).endsWith(SERVER_RECEIVED);
      assertThat(server.exitCode()).isZero();
    }
  }

  @Test
  void jsockServerAndClientTalkOverIpv6() throws Exception {
    try (RunningProcess server = jsock("server", "--host", "::1", "--port", "0")) {
      String port = server.nextLineMatching("Server is listening on ::1:(\\d+)").group(1);
      try (RunningProcess client = jsock("client", "--host", "::1", "--port", port)) {
        assertThat(client.lines()).containsExactly(CLIENT_RECEIVED);
      }
      assertThat(server.lines()).endsWith(SERVER_RECEIVED);
      assertThat(server.exitCode()).isZero();
    }
  }

  @Test
  void theJavaExamplesMirrorTheSeedAndTalkToPython() throws Exception {
    String java = ProcessHandle.current().info().command().orElse("java");
    String classes = RunningProcess.REPO.resolve("core/target/classes").toString();
    // The example prints the port it is given, as the seed does, so it gets a free one.
    int port = FreePort.find();
    try (RunningProcess server =
        RunningProcess.start(
            List.of(java, "-cp", classes, "examples/Server.java", String.valueOf(port)),
            Map.of())) {
      server.nextLineMatching("Server is listening on localhost:" + port);
      try (RunningProcess client = python("client.py", String.valueOf(port))) {
        assertThat(client.lines()).containsExactly(CLIENT_RECEIVED);
      }
      assertThat(server.lines()).endsWith(SERVER_RECEIVED);
      assertThat(server.exitCode()).isZero();
    }
    try (RunningProcess server = python("server.py", "0")) {
      String seedPort = server.nextLineMatching(SERVER_BANNER).group(1);
      try (RunningProcess client =
          RunningProcess.start(
              List.of(java, "-cp", classes, "examples/Client.java", seedPort), Map.of())) {
        assertThat(client.lines()).containsExactly(CLIENT_RECEIVED);
        assertThat(client.exitCode()).isZero();
      }
      assertThat(server.lines()).endsWith(SERVER_RECEIVED);
    }
  }

  @Test
  void theJavaExamplesStopOnBytesThatAreNotUtf8AsTheSeedsDataDecodeDoes() throws Exception {
    // The seed's data.decode() raises UnicodeDecodeError: its server prints nothing more and
    // replies nothing, its client prints nothing, and each exits 1 (checked with python3).
    String java = ProcessHandle.current().info().command().orElse("java");
    String classes = RunningProcess.REPO.resolve("core/target/classes").toString();
    int port = FreePort.find();
    try (RunningProcess server =
        RunningProcess.start(
            List.of(java, "-cp", classes, "examples/Server.java", String.valueOf(port)),
            Map.of())) {
      server.nextLineMatching("Server is listening on localhost:" + port);
      try (Socket peer = Sockets.createConnection(new InetSocketAddress("localhost", port))) {
        peer.sendAll(new byte[] {(byte) 0xff, (byte) 0xfe, 'a', 'b'});
        assertThat(peer.recv(1024)).isEmpty();
      }
      assertThat(server.lines()).containsExactly("Server is listening on localhost:" + port);
      assertThat(server.exitCode()).isOne();
      assertThat(server.stderr()).contains("MalformedInputException");
    }
    try (Socket listener = Sockets.createServer(new InetSocketAddress("localhost", 0))) {
      String seedPort = String.valueOf(((InetSocketAddress) listener.getSockName()).getPort());
      try (RunningProcess client =
          RunningProcess.start(
              List.of(java, "-cp", classes, "examples/Client.java", seedPort), Map.of())) {
        try (Socket conn = listener.accept().conn()) {
          assertThat(conn.recv(1024))
              .isEqualTo("Hello, server! This is the client.".getBytes(UTF_8));
          conn.sendAll(new byte[] {(byte) 0xe2, (byte) 0x98}); // a snowman cut short
        }
        assertThat(client.lines()).isEmpty();
        assertThat(client.exitCode()).isOne();
        assertThat(client.stderr()).contains("MalformedInputException");
      }
    }
  }

  @Test
  void jsockClientSendsNonAsciiTextIntactInTheCLocaleAsPythonDoes() throws Exception {
    // The test passes the argument to ./jsock in this JVM's encoding of file names and arguments.
    assumeTrue(System.getProperty("sun.jnu.encoding").equals("UTF-8"), "a UTF-8 test JVM");
    // The C locale of a container or a cron job: Python reads its arguments as UTF-8 there
    // (PEP 538, PEP 540), and the JVM read them as ASCII: each byte of "ü" became a U+FFFD, sent.
    Map<String, String> cLocale = Map.of("LC_ALL", "C", "LANG", "C");
    String message = "Grüße, server! ☃";
    try (RunningProcess server =
        RunningProcess.start(
            List.of(
                "python3",
                RunningProcess.REPO.resolve("cli/src/test/resources/seed/server.py").toString(),
                "0"),
            cLocale)) {
      String port = server.nextLineMatching(SERVER_BANNER).group(1);
      try (RunningProcess client = jsock(cLocale, "client", "--port", port, "--message", message)) {
        assertThat(client.lines()).containsExactly(CLIENT_RECEIVED);
        assertThat(client.exitCode()).isZero();
      }
      assertThat(server.lines()).endsWith("Received: " + message);
      assertThat(server.exitCode()).isZero();
    }
  }
}
