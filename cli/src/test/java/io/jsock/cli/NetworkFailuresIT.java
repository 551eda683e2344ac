package io.jsock.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.jsock.ConnectionResetException;
import io.jsock.Family;
import io.jsock.Socket;
import io.jsock.SocketKind;
import io.jsock.testing.NetnsHost;
import java.io.File;
import java.io.IOException;
import java.io.OutputStream;
import java.lang.ProcessBuilder.Redirect;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The command line against a real network: a host in a namespace of its own ({@link NetnsHost})
 * that drops, rejects or vanishes, where loopback always answers.
 */
class NetworkFailuresIT {
  @BeforeAll
  static void needsRootIpAndNft() {
    NetnsHost.assumeAvailable();
  }

  /**
   * A server in the host that reads and throws away what comes; says "got" at its first byte, and
   * how many bytes came at the end of the stream.
   */
  private static Process sink(NetnsHost host, int port) throws IOException {
    Process server =
        host.start(
            "python3",
            "-c",
            """
            import socket, sys
            s = socket.create_server(("%s", %d))
            print("ready", flush=True)
            c, _ = s.accept()
            total = len(c.recv(1))
            print("got", flush=True)
            while data := c.recv(65536):
                total += len(data)
            print(total, flush=True)
            """
                .formatted(host.address().getHostAddress(), port));
    assertThat(new String(server.getInputStream().readNBytes(6), StandardCharsets.US_ASCII))
        .isEqualTo("ready\n");
    return server;
  }

  @Test
  void connectWithAnIdleTimeoutEndsWhenThePeerVanishesWhileStdinStillHasDataForIt()
      throws Exception {
    try (NetnsHost host = NetnsHost.create()) {
      Process server = sink(host, 7000);
      try (PipedProcess connect =
          PipedProcess.start(
              PipedProcess.jsock("connect", "-i", "2s", host.address().getHostAddress(), "7000"),
              Map.of(),
              Redirect.PIPE,
              Redirect.DISCARD)) {
        OutputStream stdin = connect.stdin();
        stdin.write('x');
        stdin.flush();
        assertThat(new String(server.getInputStream().readNBytes(4), StandardCharsets.US_ASCII))
            .isEqualTo("got\n");
        // The host goes silent: what jsock sends from now on is never acknowledged, so its send
        // buffer fills and its write waits for good, with no byte moving either way.
        host.firewall("add rule inet test input drop");
        Thread feeder =
            Thread.ofVirtual()
                .start(
                    () -> {
                      byte[] chunk = new byte[64 << 10];
                      try {
                        for (int i = 0; i < 1024; i++) { // 64 MiB at most, far past the buffers
                          stdin.write(chunk);
                        }
                        stdin.close();
                      } catch (IOException e) {
                        // jsock has ended: its stdin is closed
                      }
                    });
        assertThat(connect.exitCode()).as(connect.stderr()).isEqualTo(4);
        assertThat(connect.stderr())
            .isEqualTo("jsock: idle timeout: no data either way for 2s (-i)\n");
        feeder.join();
      }
    }
  }

  /**
   * {@code jsock receive} in the host, through the launcher, writing to {@code dir}; returns once
   * it listens.
   */
  private static Process receiver(NetnsHost host, int port, Path dir, String... options)
      throws IOException {
    List<String> command =
        new ArrayList<>(
            List.of(
                "env",
                "JSOCK_JAR=" + System.getProperty("jsock.jar"),
                RunningProcess.REPO.resolve("jsock").toString(),
                "receive",
                "--host",
                host.address().getHostAddress()));
    command.addAll(List.of(options));
    command.addAll(List.of(Integer.toString(port), dir.toString() + "/"));
    Process receiver = host.start(command.toArray(String[]::new));
    String banner = "jsock: receiving on " + host.address().getHostAddress() + ":" + port + "\n";
    assertThat(
            new String(
                receiver.getInputStream().readNBytes(banner.length()), StandardCharsets.US_ASCII))
        .isEqualTo(banner);
    return receiver;
  }

  @Test
  void sendToAReceiverThatVanishesMidTransferTimesOutNamingTheBytesThatWent(@TempDir Path dir)
      throws Exception {
    try (NetnsHost host = NetnsHost.create()) {
      Path incoming = Files.createDirectory(dir.resolve("incoming"));
      receiver(host, 7001, incoming);
      Path file = dir.resolve("data.bin");
      byte[] data = new byte[8 << 20];
      new Random(7).nextBytes(data);
      Files.write(file, data);
      try (PipedProcess send =
          PipedProcess.start(
              PipedProcess.jsock(
                  "send",
                  "-w",
                  "2s",
                  "--rate",
                  "1MiB/s",
                  file.toString(),
                  host.address().getHostAddress(),
                  "7001"),
              Map.of(),
              Redirect.from(new File("/dev/null")),
              Redirect.DISCARD)) {
        Path part = incoming.resolve("data.bin.part");
        for (int i = 0; i < 600 && !(Files.exists(part) && Files.size(part) > 0); i++) {
          Thread.sleep(50); // 30 s at most for the first bytes to come
        }
        assertThat(part).isNotEmptyFile();
        // the receiver's host goes silent: nothing more is acknowledged, the send waits for -w
        host.firewall("add rule inet test input drop");
        assertThat(send.exitCode()).as(send.stderr()).isEqualTo(4);
        Matcher said =
            Pattern.compile(
                    "jsock: sendfile to "
                        + Pattern.quote(host.address().getHostAddress())
                        + ":7001: timed out after (\\d+) of 8388608 bytes\n")
                .matcher(send.stderr());
        assertThat(said.matches()).as(send.stderr()).isTrue();
        // at 1 MiB/s, the silence came long before the whole file could have gone
        assertThat(Long.parseLong(said.group(1))).isBetween(Files.size(part), 8388607L);
      }
    }
  }

  /**
   * A relay here between a client on loopback and a server in the host: a reset from the server's
   * kernel in mid-session (a firewall rule that answers the relay's next segment with an RST)
   * reaches the client as a reset, and the relay says so with {@code -v}.
   */
  @Test
  void aRelayCarriesAResetFromTheTargetsKernelToTheClient() throws Exception {
    try (NetnsHost host = NetnsHost.create()) {
      Process server = sink(host, 7002);
      String target = host.address().getHostAddress() + ":7002";
      try (RunningProcess relay = RunningProcess.jsock("relay", "-v", "0", target);
          Socket client = Socket.create(Family.AF_INET, SocketKind.SOCK_STREAM)) {
        Matcher listening =
            Pattern.compile("relay listening on 127\\.0\\.0\\.1:(\\d+),").matcher("");
        for (int i = 0; i < 600 && !listening.reset(relay.stderrSoFar()).find(); i++) {
          Thread.sleep(50);
        }
        assertThat(listening.reset(relay.stderrSoFar()).find()).as(relay.stderrSoFar()).isTrue();
        client.setTimeout(Duration.ofSeconds(60));
        client.connect(new InetSocketAddress("127.0.0.1", Integer.parseInt(listening.group(1))));
        client.sendAll(new byte[] {'x'});
        assertThat(new String(server.getInputStream().readNBytes(4), StandardCharsets.US_ASCII))
            .isEqualTo("got\n");
        host.firewall("add rule inet test input tcp dport 7002 reject with tcp reset");
        client.sendAll(new byte[] {'y'});
        assertThatThrownBy(() -> client.recv(10)).isInstanceOf(ConnectionResetException.class);
        String said =
            "reset: recv from " + target + ": connection reset by peer (up 2 bytes, down 0 bytes)";
        for (int i = 0; i < 600 && !relay.stderrSoFar().contains(said); i++) {
          Thread.sleep(50);
        }
        assertThat(relay.stderrSoFar()).contains(said);
      }
    }
  }
}
