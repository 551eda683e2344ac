package io.jsock.cli;

import static io.jsock.cli.RunningProcess.jsock;
import static org.assertj.core.api.Assertions.assertThat;

import io.jsock.testing.NetnsHost;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * {@code jsock bench} across a slow real link: {@code jsock echo} in a {@link NetnsHost} behind a
 * rate-limited link with a small MTU, where what is in flight takes seconds to come back.
 */
@Tag("slow")
class BenchSlowLinkIT {
  @BeforeAll
  static void needsRootIpAndNft() {
    NetnsHost.assumeAvailable();
  }

  /** {@code jsock echo} in the host, through the launcher; returns once it listens. */
  private static Process echo(NetnsHost host, int port, String... options) throws IOException {
    List<String> command =
        new ArrayList<>(
            List.of(
                "env",
                "JSOCK_JAR=" + System.getProperty("jsock.jar"),
                RunningProcess.REPO.resolve("jsock").toString(),
                "echo",
                "--host",
                host.address().getHostAddress(),
                "--port",
                Integer.toString(port)));
    command.addAll(List.of(options));
    Process echo = host.start(command.toArray(String[]::new));
    String banner =
        "Echo server listening on " + host.address().getHostAddress() + ":" + port + "\n";
    assertThat(
            new String(echo.getInputStream().readNBytes(banner.length()), StandardCharsets.UTF_8))
        .isEqualTo(banner);
    return echo;
  }

  /** The value of {@code "name":value} in a one-line JSON object (a number, null or an object). */
  private static String field(String json, String name) {
    Matcher m = Pattern.compile("\"" + name + "\":(\\{[^}]*\\}|\"[^\"]*\"|[^,}]+)").matcher(json);
    assertThat(m.find()).as("%s in %s", name, json).isTrue();
    return m.group(1);
  }

  /**
   * Bulk keeps what the socket buffers take in flight: seconds' worth across a 2 mbit/s link, far
   * more than {@code --timeout} 3s. The drain after the run waits while its echoed bytes keep
   * coming; it said "connection 0 was still waiting for its echo 3s after the run stopped" (exit 1)
   * of a server that was echoing all along.
   */
  @Test
  void bulkAcrossASlowLinkDrainsWhatItHasInFlight() throws Exception {
    try (NetnsHost host = NetnsHost.create()) {
      host.mtu(576);
      host.rate("2mbit");
      echo(host, 7200);
      try (RunningProcess bench =
          jsock(
              "bench",
              "bulk",
              "--host",
              host.address().getHostAddress(),
              "--port",
              "7200",
              "-c",
              "4",
              "--duration",
              "2s",
              "--warmup",
              "1s",
              "--timeout",
              "3s",
              "--json")) {
        assertThat(bench.exitCode()).as(bench.stderr()).isZero();
        assertThat(bench.stderr()).isEmpty();
        String json = bench.lines().getFirst();
        assertThat(field(json, "errors")).isEqualTo("0");
        long messages = Long.parseLong(field(json, "messages"));
        long bytes = Long.parseLong(field(json, "bytes"));
        assertThat(messages).isPositive();
        // a write is a message once its last byte is echoed: the period's ends split four at most
        assertThat(bytes).isBetween((messages - 4) * 65536, (messages + 4) * 65536);
        assertThat(Long.parseLong(field(json, "verifiedBytes")))
            .as("everything sent was echoed and checked, the measured bytes among it")
            .isGreaterThan(bytes)
            .isEqualTo(Long.parseLong(field(json, "verifiedBytes")) / 65536 * 65536);
      }
    }
  }

  /** Pingpong and pipeline across the slow link: a long round trip, figures in order. */
  @Test
  void pingpongAndPipelineAcrossASlowLinkGiveOrderedFigures() throws Exception {
    try (NetnsHost host = NetnsHost.create()) {
      host.mtu(576);
      host.rate("2mbit");
      echo(host, 7201);
      for (String scenario : List.of("pingpong", "pipeline")) {
        try (RunningProcess bench =
            jsock(
                "bench",
                scenario,
                "--host",
                host.address().getHostAddress(),
                "--port",
                "7201",
                "-c",
                "4",
                "-s",
                "1400",
                "--duration",
                "2s",
                "--warmup",
                "1s",
                "--timeout",
                "3s",
                "--json")) {
          assertThat(bench.exitCode()).as(bench.stderr()).isZero();
          String json = bench.lines().getFirst();
          assertThat(field(json, "errors")).isEqualTo("0");
          long messages = Long.parseLong(field(json, "messages"));
          assertThat(messages).isPositive();
          assertThat(Long.parseLong(field(json, "fewestEchoes"))).isPositive();
          String latency = field(json, "latencyMicros");
          assertThat(Long.parseLong(field(latency, "count"))).isEqualTo(messages);
          List<Double> ordered = new ArrayList<>();
          for (String p : List.of("p50", "p90", "p99", "p999", "max")) {
            ordered.add(Double.parseDouble(field(latency, p)));
          }
          assertThat(ordered).isSorted().allMatch(v -> v > 0);
          assertThat(Double.parseDouble(field(latency, "mean")))
              .isBetween(ordered.getFirst() / 10, ordered.getLast());
        }
      }
    }
  }
}
