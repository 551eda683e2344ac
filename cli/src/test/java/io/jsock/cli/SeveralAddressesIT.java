package io.jsock.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.jsock.testing.NetnsHost;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Commands that connect by a name with several addresses, the first of them dead, run in a {@link
 * NetnsHost} whose name server ({@link NetnsHost#serveNames(Map)}) gives the name.
 */
class SeveralAddressesIT {
  @BeforeAll
  static void needsRootIpAndNft() {
    NetnsHost.assumeAvailable();
  }

  /** {@code ./jsock ARGS} in the host's namespace, so that it resolves with the host's server. */
  private static RunningProcess jsockIn(NetnsHost host, String... args) {
    List<String> command = new ArrayList<>();
    command.add(RunningProcess.REPO.resolve("jsock").toString());
    command.addAll(List.of(args));
    return RunningProcess.start(host.exec(command.toArray(String[]::new)), Map.of());
  }

  /**
   * {@code bench} takes the first address that accepts a connection, as wrk does and as {@code
   * connect} tries each: {@code mix.test} is 127.0.0.1 first (nobody listens there in the host) and
   * then the host's address, where {@code jsock echo} listens. It took the first address only, so
   * every connection was refused (exit 3) while {@code jsock connect mix.test} reached the echo.
   */
  @Test
  void benchUsesTheFirstAddressThatAccepts() throws Exception {
    try (NetnsHost host = NetnsHost.create()) {
      host.serveNames(
          Map.of("mix.test", List.of(InetAddress.getByName("127.0.0.1"), host.address())));
      String port = "7203";
      Process echo =
          host.start(
              "env",
              "JSOCK_JAR=" + System.getProperty("jsock.jar"),
              RunningProcess.REPO.resolve("jsock").toString(),
              "echo",
              "--host",
              host.address().getHostAddress(),
              "--port",
              port);
      String banner =
          "Echo server listening on " + host.address().getHostAddress() + ":" + port + "\n";
      assertThat(
              new String(echo.getInputStream().readNBytes(banner.length()), StandardCharsets.UTF_8))
          .isEqualTo(banner);
      try (RunningProcess bench =
          jsockIn(
              host,
              "bench",
              "pingpong",
              "--host",
              "mix.test",
              "--port",
              port,
              "-c",
              "2",
              "--duration",
              "500ms",
              "--warmup",
              "0s",
              "--json")) {
        assertThat(bench.exitCode()).as(bench.stderr()).isZero();
        assertThat(bench.lines().getFirst()).contains("\"errors\":0");
      }
    }
  }
}
