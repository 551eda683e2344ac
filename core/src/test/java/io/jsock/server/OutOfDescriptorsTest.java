package io.jsock.server;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assumptions.assumeThat;
import static org.awaitility.Awaitility.await;

import io.jsock.Socket;
import io.jsock.Sockets;
import java.io.BufferedReader;
import java.io.File;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A server that runs out of file descriptors reports it and serves again once some are free, even
 * with its classes in a directory, where loading a class takes a descriptor: the failure path is
 * loaded before the accept loop starts. A child JVM under {@code prlimit}, so that no class of that
 * path is loaded beforehand by other tests and the limit is the child's alone.
 */
class OutOfDescriptorsTest {
  @TempDir Path dir;

  @Test
  void anAcceptLoopOutOfDescriptorsServesAgainOnceSomeAreFree() throws Exception {
    assumeThat(Path.of("/usr/bin/prlimit")).exists();
    Path stderr = dir.resolve("stderr.txt");
    String classPath =
        Path.of("target/classes") + File.pathSeparator + Path.of("target/test-classes");
    Process child =
        new ProcessBuilder(
                List.of(
                    "/usr/bin/prlimit",
                    "--nofile=256:256",
                    Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                    "--enable-native-access=ALL-UNNAMED",
                    "-cp",
                    classPath,
                    OutOfDescriptorsEchoServer.class.getName()))
            .redirectError(stderr.toFile())
            .start();
    try (BufferedReader out =
            new BufferedReader(new InputStreamReader(child.getInputStream(), UTF_8));
        OutputStream commands = child.getOutputStream()) {
      String portLine = out.readLine();
      assertThat(portLine).startsWith("PORT ");
      int port = Integer.parseInt(portLine.substring("PORT ".length()));
      assertThat(out.readLine()).isEqualTo("FULL");

      try (Socket client = Sockets.createConnection(new InetSocketAddress("127.0.0.1", port))) {
        client.setTimeout(Duration.ofSeconds(20));
        client.sendAll("hello".getBytes(UTF_8));
        await()
            .atMost(Duration.ofSeconds(20))
            .until(() -> Files.readString(stderr).contains("too many open files; accepting again"));
        commands.write('\n');
        commands.flush(); // 20 descriptors free: the next attempt accepts the waiting client

        assertThat(new String(client.recv(100), UTF_8)).isEqualTo("hello");
      }
      assertThat(Files.readString(stderr))
          .contains("accept on 127.0.0.1:" + port + ": accepting again")
          .doesNotContain("Error");
    } finally {
      child.destroy();
      child.waitFor();
    }
  }
}
