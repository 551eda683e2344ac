package io.jsock.bench;

import static org.assertj.core.api.Assertions.assertThat;

import io.jsock.Family;
import io.jsock.Shutdown;
import io.jsock.Socket;
import io.jsock.SocketKind;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The Netty load client, which {@code bench/compare} runs beside {@code jsock bench} to check the
 * load generator, against servers on real loopback sockets (run as its own process, as the script
 * does: it ends with {@code System.exit}).
 */
class NettyLoadClientTest {
  private static final Duration LIMIT = Duration.ofSeconds(30);

  @Test
  void aServerThatClosesTheConnectionFailsTheRunAsJsockBenchDoes(@TempDir Path dir)
      throws Exception {
    try (Socket listener = Socket.create(Family.AF_INET, SocketKind.SOCK_STREAM)) {
      listener.bind("127.0.0.1", 0);
      listener.listen();
      int port = ((java.net.InetSocketAddress) listener.getSockName()).getPort();
      Thread server =
          Thread.ofVirtual()
              .start(
                  () -> {
                    // echoes the first message, then ends its side; what comes after it is
                    // read and dropped, so that the close is clean, never a reset
                    try (Socket conn = listener.accept().conn()) {
                      conn.setTimeout(LIMIT);
                      conn.sendAll(conn.recv(64));
                      conn.shutdown(Shutdown.SHUT_WR);
                      for (int i = 0; i < 10_000 && conn.recv(4096).length > 0; i++) {
                        // dropped
                      }
                    } catch (IOException e) {
                      // the test's assertions tell
                    }
                  });

      Path out = dir.resolve("out.json");
      Process client =
          new ProcessBuilder(
                  List.of(
                      ProcessHandle.current().info().command().orElseThrow(),
                      "--sun-misc-unsafe-memory-access=allow",
                      "--enable-native-access=ALL-UNNAMED",
                      "-cp",
                      System.getProperty("java.class.path"),
                      NettyLoadClient.class.getName(),
                      "--host",
                      "127.0.0.1",
                      "--port",
                      String.valueOf(port),
                      "-c",
                      "1",
                      "-s",
                      "64",
                      "--warmup",
                      "0s",
                      "--duration",
                      "500ms"))
              .redirectOutput(out.toFile())
              .redirectError(ProcessBuilder.Redirect.DISCARD)
              .start();
      if (!client.waitFor(2, TimeUnit.MINUTES)) {
        client.destroyForcibly().waitFor();
      }
      server.join(LIMIT);

      String json = Files.readString(out, StandardCharsets.UTF_8);
      assertThat(json)
          .contains("\"errors\":1")
          .contains("\"firstError\":\"the server closed connection 0\"");
      assertThat(client.exitValue()).isEqualTo(1);
    }
  }
}
