package io.jsock.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.jsock.testing.NetnsHost;
import java.io.IOException;
import java.io.OutputStream;
import java.lang.ProcessBuilder.Redirect;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

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
}
