package io.jsock.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code jsock relay} and {@code jsock broker} in-process: usage errors and help. */
class RelayUsageTest {
  private final StringWriter out = new StringWriter();
  private final StringWriter err = new StringWriter();

  private int run(String... args) {
    return Main.commandLine()
        .setOut(new PrintWriter(out, true))
        .setErr(new PrintWriter(err, true))
        .execute(args);
  }

  private void assertUsage(String message, String... args) {
    assertThat(run(args)).as("exit code of %s", String.join(" ", args)).isEqualTo(2);
    assertThat(err.toString()).contains("jsock: " + message).contains("--help' for more");
    err.getBuffer().setLength(0);
  }

  @Test
  void relayRefusesOptionsThatDoNotFit() {
    assertUsage("LISTEN and TARGET must both be streams", "relay", "udp:0", "tcp:1");
    assertUsage(
        "fault options apply to stream relays", "relay", "udp:0", "udp:1", "--latency", "1s");
    assertUsage("--slice-delay needs --slice", "relay", "0", "1", "--slice-delay", "5ms");
    assertUsage(
        "--ca, --server-name and --insecure need a tls: TARGET", "relay", "0", "1", "--insecure");
    assertUsage( // the relay has no --tls: a tls: LISTEN is its TLS server
        "--cert, --key, --pkcs12 and --password-env need a tls: LISTEN",
        "relay",
        "0",
        "1",
        "--pkcs12",
        "x.p12");
    assertUsage(
        "--server-name is needed to verify a tls+unix: TARGET (or --insecure)",
        "relay",
        "0",
        "tls+unix:/tmp/target.sock");
    assertUsage("-4 and -6 cannot be combined", "relay", "-4", "-6", "0", "1");
    assertUsage("TARGET port 0", "relay", "0", "localhost:0");
    assertUsage(
        "--max-connections must be at least 1", "relay", "--max-connections", "0", "0", "1");
    assertUsage("Missing required parameter: 'TARGET'", "relay", "0");
    assertUsage(
        "Invalid value for option '--bandwidth': not a rate: 'fast'",
        "relay",
        "0",
        "1",
        "--bandwidth",
        "fast");
    assertUsage(
        "Invalid value for option '--slice': not a count with jitter: '7±x'",
        "relay",
        "0",
        "1",
        "--slice",
        "7±x");
    assertUsage(
        "Invalid value for option '--limit-data': not a size: '1XB'",
        "relay",
        "0",
        "1",
        "--limit-data",
        "1XB");
    assertUsage(
        "Invalid value for option '--direction'", "relay", "0", "1", "--direction", "sideways");
  }

  @Test
  void relayRefusesADirectionWithoutAFaultItSteers() {
    // --direction alone (or with --reset-after or --timeout, which act on whole connections)
    // was taken and ignored; TARGET port 0 stops a relay that would take it from running
    String message =
        "--direction needs --latency, --bandwidth, --slice, --limit-data or --slow-close";
    assertUsage(message, "relay", "--direction", "up", "0", "localhost:0");
    assertUsage(message, "relay", "--direction", "both", "0", "localhost:0");
    assertUsage(message, "relay", "--direction", "down", "--reset-after", "1s", "0", "localhost:0");
    assertUsage(message, "relay", "--direction", "down", "udp:0", "udp:localhost:0");
    assertUsage(
        "TARGET port 0", "relay", "--direction", "down", "--slow-close", "1s", "0", "localhost:0");
  }

  @Test
  void relayRefusesMinus4AndMinus6BetweenTwoUnixEndpointsAsConnectAndListenRefuseThemWithU(
      @TempDir Path dir) {
    // taken and ignored; LISTEN in a missing directory makes a relay that takes it fail (exit 1)
    // instead of running
    String listen = "unix:" + dir.resolve("missing/relay.sock");
    String target = "unix:" + dir.resolve("target.sock");
    for (String family : new String[] {"-4", "-6"}) {
      assertUsage(
          "-4 and -6 do not apply to unix: LISTEN and TARGET (AF_UNIX)",
          "relay",
          family,
          listen,
          target);
    }
  }

  @Test
  void brokerRefusesOptionsThatDoNotFit() {
    assertUsage("missing PORT (or -U PATH)", "broker");
    assertUsage("-u: the broker needs streams", "broker", "-u", "0");
    assertUsage("-U PATH takes the place of [HOST] PORT", "broker", "-U", "/tmp/x.sock", "9");
    assertUsage("[HOST] PORT: port out of range 0..65535: 70000", "broker", "70000");
    assertUsage("[HOST] PORT: not a port number: x", "broker", "localhost", "x");
    assertUsage("--max-clients must be at least 2", "broker", "--max-clients", "1", "0");
    assertUsage(
        "Invalid value for option '--max-queue': not a size", "broker", "--max-queue", "lots", "0");
    assertUsage("Invalid value for option '--slow'", "broker", "--slow", "wait", "0");
  }

  @Test
  void brokerRefusesMoreThanAHostAndAPort() throws Exception {
    // The port in use makes the broker exit (7) if it takes the last argument and listens.
    try (ServerSocket busy = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      String port = Integer.toString(busy.getLocalPort());
      assertUsage("[HOST] PORT: one host and one port", "broker", "127.0.0.1", "9", port);
    }
  }

  @Test
  void relayRefusesTlsOptionsBeforeItListens(@TempDir Path dir) {
    // Said after the listening line (port 0: said without -v), a script would connect to a relay
    // that is about to exit.
    String missing = dir.resolve("missing.pem").toString();
    assertUsageBeforeListening(
        "--ca " + missing + ": no such file", "relay", "0", "tls:1", "--ca", missing);
    assertUsageBeforeListening(
        "--server-name: the name must not be empty", "relay", "0", "tls:1", "--server-name", "");
    assertUsageBeforeListening(
        "--cert " + missing + ": no such file",
        "relay",
        "tls:0",
        "1",
        "--cert",
        missing,
        "--key",
        missing);
  }

  private void assertUsageBeforeListening(String message, String... args) {
    assertThat(run(args)).as("exit code of %s", String.join(" ", args)).isEqualTo(2);
    assertThat(err.toString()).startsWith("jsock: " + message).doesNotContain("listening");
    err.getBuffer().setLength(0);
  }

  @Test
  void aListenHostThatCannotBeResolvedExitsWithTheCodeTheHelpNames() {
    assertThat(run("relay", "-6", "0.0.0.0:0", "1")).isEqualTo(6);
    assertThat(err.toString()).startsWith("jsock: resolve 0.0.0.0:0: ");
    assertThat(run("broker", "-6", "0.0.0.0", "0")).isEqualTo(6);
    assertThat(run("relay", "--help")).isZero();
    assertThat(run("broker", "--help")).isZero();
    assertThat(out.toString().split("6 unknown host", -1)).hasSize(3);
  }

  @Test
  void helpDocumentsEveryFaultWithExamples() {
    assertThat(run("relay", "--help")).isZero();
    assertThat(out.toString())
        .contains("--latency=DELAY[±JITTER]", "--bandwidth=RATE", "--slice=SIZE[±JITTER]")
        .contains("--limit-data=SIZE", "--reset-after=DURATION", "--timeout=DURATION")
        .contains("--slow-close=DURATION", "--direction=WAY", "(default: both)")
        .contains("Examples:", "jsock relay 9000 localhost:8080 --latency 50ms±20ms");
    out.getBuffer().setLength(0);
    assertThat(run("broker", "--help")).isZero();
    assertThat(out.toString())
        .contains("Usage: jsock broker [OPTIONS] ([HOST] PORT | -U PATH)")
        .contains("--max-queue=SIZE", "1MiB); see --slow", "--slow=POLICY", "(default: disconnect)")
        .contains("Examples:");
  }

  @Test
  void relayHelpAsksForTlsByItsEndpointsNotByATlsOptionItDoesNotHave() {
    // the TLS options' texts, shared with listen and connect, said "With --tls: …", and
    // 'relay --tls' is "Unknown option": the relay asks for TLS with a tls: LISTEN or TARGET
    assertThat(run("relay", "--help")).isZero();
    String help = out.toString().replaceAll("\\s+", " ");
    assertThat(help)
        .doesNotContain("With --tls")
        .contains("--cert=PEM With a tls: LISTEN: the certificate chain")
        .contains("--pkcs12=FILE With a tls: LISTEN: a PKCS#12 key store")
        .contains("--ca=FILE With a tls: TARGET: trust the certificates in FILE")
        .contains("--insecure With a tls: TARGET: accept any certificate");
    out.getBuffer().setLength(0);
    assertThat(run("listen", "--help")).isZero();
    assertThat(out.toString().replaceAll("\\s+", " "))
        .contains("--cert=PEM With --tls: the certificate chain");
  }
}
