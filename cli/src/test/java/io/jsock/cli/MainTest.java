package io.jsock.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The command line in-process: parsing, usage errors, help and the demo over real loopback. */
class MainTest {
  private final StringWriter out = new StringWriter();
  private final StringWriter err = new StringWriter();

  private int run(String... args) {
    return Main.commandLine()
        .setOut(new PrintWriter(out, true))
        .setErr(new PrintWriter(err, true))
        .execute(args);
  }

  @Test
  void helpListsTheCommandsAndExitCodes() {
    assertThat(run("--help")).isZero();
    assertThat(out.toString())
        .contains("server", "client", "demo", "echo", "Exit codes:", "3  connection refused");
  }

  @Test
  void listenAndBrokerHelpListEveryExitCodeTheyGive() {
    // listen -u exits 3 once its peer's port is closed (ICMP port unreachable), as connect -u
    // does; a HOST that does not resolve ends the broker with 6, as it does listen.
    assertThat(run("listen", "--help")).isZero();
    assertThat(run("broker", "--help")).isZero();
    String help = out.toString().replaceAll("\\s+", " ");
    assertThat(help).contains("3 port unreachable (-u", "5 TLS key not usable, 6 unknown host");
  }

  @Test
  void everyExampleInEveryCommandsHelpIsOneLine() {
    // broker's "the same over TLS (development certificate)" was wider than its 80 columns, and
    // picocli put "certificate)" on a line of its own at the margin
    for (String command : Main.commandLine().getSubcommands().keySet()) {
      out.getBuffer().setLength(0);
      assertThat(run(command, "--help")).as(command).isZero();
      String help = out.toString();
      int examples = help.indexOf("Examples:");
      if (examples < 0) {
        continue;
      }
      String section = help.substring(examples).split("\\R\\R")[0];
      assertThat(section.lines().skip(1))
          .as("%s --help's examples", command)
          .allSatisfy(line -> assertThat(line).matches("  \\S.*"));
    }
  }

  @Test
  void echoHelpSaysAnAfUnixClientIsClosedRatherThanReset() {
    // with --unix, a client over --max-connections or silent past --first-byte-timeout reads end
    // of stream (python3: b''), as README and ServerConfig say: AF_UNIX has no reset; --help said
    // both were reset
    assertThat(run("echo", "--help")).isZero();
    String help = out.toString().replaceAll("\\s+", " ");
    assertThat(help)
        .contains("more are refused at once with a reset (with --unix, closed)")
        .contains("Reset (with --unix, close) a connection still silent D");
  }

  @Test
  void echoHelpSaysWhenItEndsAQuietClientOrOneThatStopsReading() {
    // the server's idle and write timeouts (ServerConfig's 5 minutes and 30 seconds) apply to
    // echo's connections: a client silent for 5 minutes read b'' (python3), one that sent without
    // reading was reset after 30 s; --help and README said it serves clients until interrupted
    assertThat(run("echo", "--help")).isZero();
    String help = out.toString().replaceAll("\\s+", " ");
    assertThat(help)
        .contains("A connection silent for 5 minutes is closed")
        .contains("reset once a reply has waited 30 seconds");
  }

  @Test
  void echoHelpSaysUdpDatagramsAreAnsweredOneAfterAnotherOnOneThread() {
    // echo --udp runs UdpServer without a thread per datagram: its one receiving thread, a
    // platform thread, answers each datagram as it comes; --help said every client had a virtual
    // thread of its own
    assertThat(run("echo", "--help")).isZero();
    String help = out.toString().replaceAll("\\s+", " ");
    assertThat(help)
        .contains("connections concurrently, one virtual thread each")
        .contains("UDP datagrams one after another, on one thread");
  }

  @Test
  void echoRefusesUdpOverAfUnix() {
    assertThat(run("echo", "--udp", "--unix", "/tmp/never-bound.sock")).isEqualTo(2);
    assertThat(err.toString())
        .contains("jsock: --udp and --unix cannot be combined")
        .contains("Try 'jsock echo --help'");
  }

  @Test
  void echoRefusesAPortBesideAUnixPath() {
    assertThat(run("echo", "--unix", "/tmp/never-bound.sock", "--port", "5")).isEqualTo(2);
    assertThat(err.toString()).contains("jsock: --unix takes the place of --host and --port");
  }

  @Test
  void brokerHelpOffersNoUdpWhichItRefuses() {
    // the broker shares connect's transport options; its --help said "-u, --udp  UDP instead of
    // TCP." though -u is always a usage error there
    assertThat(run("broker", "--help")).isZero();
    assertThat(out.toString()).contains("-U, --unix=PATH", "--tls").doesNotContain("--udp");
    assertThat(run("broker", "-u", "0")).isEqualTo(2);
    assertThat(err.toString())
        .contains("jsock: -u: the broker needs streams (TCP, TLS or AF_UNIX)");
  }

  @Test
  void versionNamesJsockAndJava() {
    assertThat(run("--version")).isZero();
    assertThat(out.toString()).startsWith("jsock ").contains("Java 25");
  }

  @Test
  void everyCommandsVersionOptionPrintsTheVersion() {
    // each command's --help offers "-V, --version  Print version information and exit."; the
    // commands printed nothing
    for (String command : List.of("echo", "connect", "send", "completion")) {
      out.getBuffer().setLength(0);
      assertThat(run(command, "--version")).as("jsock %s --version", command).isZero();
      assertThat(out.toString()).as("jsock %s --version", command).startsWith("jsock ");
    }
  }

  @Test
  void noCommandIsAUsageError() {
    assertThat(run()).isEqualTo(2);
    assertThat(err.toString()).contains("jsock: missing command");
  }

  @Test
  void portOutOfRangeIsAUsageErrorNamingThePort() {
    assertThat(run("client", "--port", "65536")).isEqualTo(2);
    assertThat(err.toString())
        .contains("port out of range 0..65535: 65536")
        .contains("Try 'jsock client --help'")
        .doesNotContain("Exception");
  }

  @Test
  void negativePortIsAUsageError() {
    assertThat(run("server", "--port", "-1")).isEqualTo(2);
    assertThat(err.toString()).contains("port out of range 0..65535: -1");
  }

  @Test
  void unknownOptionIsAUsageError() {
    assertThat(run("server", "--nope")).isEqualTo(2);
    assertThat(err.toString()).contains("Unknown option: '--nope'");
  }

  @Test
  void clientRefusesPortZero() {
    assertThat(run("client", "--port", "0")).isEqualTo(2);
    assertThat(err.toString())
        .contains("jsock: --port: 0 is not a port one can connect to")
        .contains("Try 'jsock client --help'"); // a usage error says so, as the others do
  }

  @Test
  void resolvePrintsGetAddrInfoAsATable() {
    assertThat(run("resolve", "127.0.0.1", "80")).isZero();
    assertThat(out.toString().lines())
        .containsExactly(
            "FAMILY    KIND         PROTO ADDRESS                                  PORT",
            "AF_INET   SOCK_STREAM  6     127.0.0.1                                80",
            "AF_INET   SOCK_DGRAM   17    127.0.0.1                                80");
  }

  @Test
  void resolveTakesAnIpv6LiteralInBracketsAsEveryHostArgumentDoes() {
    // connect '[::1]' connected to ::1, while resolve '[::1]' looked the bracketed text up and
    // said "jsock: resolve [[::1]]:80: name or service not known" (exit 6)
    assertThat(run("resolve", "[::1]", "80", "--tcp")).isZero();
    assertThat(out.toString().lines())
        .containsExactly(
            "FAMILY    KIND         PROTO ADDRESS                                  PORT",
            "AF_INET6  SOCK_STREAM  6     ::1                                      80");
    assertThat(err.toString()).isEmpty();
  }

  @Test
  void resolveTakesAPortWithLeadingZerosAsTheLibraryDoes() {
    assertThat(run("resolve", "127.0.0.1", "0000000080", "--tcp")).isZero();
    assertThat(out.toString().lines())
        .containsExactly(
            "FAMILY    KIND         PROTO ADDRESS                                  PORT",
            "AF_INET   SOCK_STREAM  6     127.0.0.1                                80");
  }

  @Test
  void resolveTakesServiceNamesForTheKindsTheyAreDefinedFor() {
    assertThat(run("resolve", "127.0.0.1", "http")).isZero(); // http is a TCP service only
    assertThat(out.toString().lines())
        .containsExactly(
            "FAMILY    KIND         PROTO ADDRESS                                  PORT",
            "AF_INET   SOCK_STREAM  6     127.0.0.1                                80");
  }

  @Test
  void resolveFiltersAndWritesJson() {
    assertThat(run("resolve", "::1", "443", "-6", "--tcp", "--json")).isZero();
    assertThat(out.toString())
        .isEqualTo(
            "[{\"family\":\"AF_INET6\",\"kind\":\"SOCK_STREAM\",\"proto\":6,"
                + "\"address\":\"::1\",\"port\":443}]"
                + System.lineSeparator());
  }

  @Test
  void resolveKeepsTheScopeOfALinkLocalAddressAsPythonsScopeId() {
    // Python: getaddrinfo('fe80::1%lo', 22) gives ('fe80::1', 22, 0, 1); lo is interface 1
    assertThat(run("resolve", "fe80::1%lo", "22", "--tcp", "--json")).isZero();
    assertThat(out.toString())
        .isEqualTo(
            "[{\"family\":\"AF_INET6\",\"kind\":\"SOCK_STREAM\",\"proto\":6,"
                + "\"address\":\"fe80::1%1\",\"port\":22}]"
                + System.lineSeparator());
  }

  @Test
  void resolveRefusesAnIpv6LiteralForIpv4WithExitCode6() {
    assertThat(run("resolve", "::1", "-4")).isEqualTo(6);
    assertThat(err.toString())
        .startsWith("jsock: ")
        .contains("address family for hostname not supported");
  }

  @Test
  void resolveNamesThePortParameterWhenItIsOutOfRangeAsTheOtherCommandsDo() {
    assertThat(run("resolve", "localhost", "99999")).isEqualTo(2);
    assertThat(err.toString())
        .startsWith("jsock: PORT: port out of range 0..65535: 99999\n")
        .contains("Try 'jsock resolve --help'");
  }

  @Test
  void resolveTakesANegativePortAsAPortOutOfRange() {
    assertThat(run("resolve", "localhost", "-1")).isEqualTo(2);
    assertThat(err.toString()).startsWith("jsock: PORT: port out of range 0..65535: -1\n");
  }

  @Test
  void resolveRefusesBothUdpAndTcp() {
    assertThat(run("resolve", "127.0.0.1", "--udp", "--tcp")).isEqualTo(2);
    assertThat(err.toString())
        .startsWith("jsock: --udp and --tcp: choose one, or neither for both\n")
        .contains("Try 'jsock resolve --help'"); // a usage error says so, as -4 with -6 does
  }

  @Test
  void demoShowsBothSidesOfTheSeedExchangeInOrder() {
    assertThat(run("demo")).isZero();
    assertThat(out.toString().lines())
        .hasSize(3)
        .satisfies(
            lines -> {
              assertThat(lines.get(0)).matches("\\[server] Server is listening on localhost:\\d+");
              assertThat(lines.get(1))
                  .isEqualTo("[server] Received: Hello, server! This is the client.");
              assertThat(lines.get(2))
                  .isEqualTo("[client] Received: Hello, client! This is the server.");
            });
    assertThat(err.toString()).isEmpty();
  }

  @Test
  void demoRunsOverIpv6() {
    assertThat(run("demo", "--host", "[::1]")).isZero();
    assertThat(out.toString()).contains("[server] Server is listening on ::1:");
    assertThat(out.toString()).contains("[client] Received: Hello, client! This is the server.");
  }

  @Test
  void benchRefusesAPipelineDepthForPingpong() {
    assertThat(run("bench", "pingpong", "-k", "4")).isEqualTo(2);
    assertThat(err.toString())
        .contains("jsock: --pipeline is for the pipeline scenario")
        .contains("Try 'jsock bench --help'");
  }

  @Test
  void benchRefusesAMessageSizeForBulkWhoseWritesAreWriteSize() {
    // bulk streams --write-size chunks and never read --size: 'bulk -s 100' ran 64 KiB writes
    assertThat(run("bench", "bulk", "-s", "100", "--host", "127.0.0.1", "--port", "1"))
        .isEqualTo(2);
    assertThat(err.toString())
        .contains("jsock: --size is not for the bulk scenario")
        .contains("Try 'jsock bench --help'");
  }

  @Test
  void benchNamesTheTimeoutThatIsZero() {
    assertThat(run("bench", "--timeout", "0s", "--host", "127.0.0.1", "--port", "1")).isEqualTo(2);
    assertThat(run("bench", "udp", "--loss-timeout", "0ms", "--host", "127.0.0.1", "--port", "1"))
        .isEqualTo(2);
    assertThat(err.toString())
        .contains("jsock: --timeout must be positive\n")
        .contains("jsock: --loss-timeout must be positive\n");
  }

  @Test
  void benchRefusesATimeoutTooLongToCountNamingTheOption() {
    // it ran, and ended in "jsock: long overflow" (exit 1, a stack trace from each event loop)
    assertThat(run("bench", "--timeout", "999999999m", "--host", "127.0.0.1", "--port", "1"))
        .isEqualTo(2);
    assertThat(err.toString())
        .contains("jsock: Invalid value for option '--timeout': duration too long: 999999999m");
  }

  @Test
  void benchRefusesAnUnknownScenarioNamingTheKnownOnes() {
    assertThat(run("bench", "flood")).isEqualTo(2);
    assertThat(err.toString())
        .contains("unknown scenario 'flood'; one of pingpong, pipeline, bulk, connect, udp");
  }

  @Test
  void benchRefusesADurationWithoutAUnit() {
    assertThat(run("bench", "--duration", "10")).isEqualTo(2);
    assertThat(err.toString()).contains("not a duration");
  }

  @Test
  void benchRefusesSourceIpsForAnIpv6ServerNamingItAsPythonWrites() {
    // the address was the JDK's long form: [0:0:0:0:0:0:0:1]:1
    assertThat(run("bench", "--host", "::1", "--port", "1", "--source-ips", "4")).isEqualTo(2);
    assertThat(err.toString())
        .contains(
            "jsock: --source-ips spreads over 127.0.0.0/8, which needs an IPv4 server, not [::1]:1");
  }

  @Test
  void benchRefusesPortZeroAsTheOtherClientsDo() {
    // connect(2) to port 0 is refused: this exited 3 with "connection refused", as if a server
    // were missing, instead of naming the option
    assertThat(run("bench", "--host", "127.0.0.1", "--port", "0", "--duration", "1s")).isEqualTo(2);
    assertThat(err.toString())
        .contains("jsock: --port: 0 is not a port one can connect to")
        .contains("Try 'jsock bench --help'");
  }

  @Test
  void benchRefusesAPlotInADirectoryThatDoesNotExistBeforeItRuns() {
    // checked only when the chart was written, after the whole run, with a bare path for a message
    assertThat(
            run(
                "bench",
                "--host",
                "127.0.0.1",
                "--port",
                "1",
                "--plot",
                "/nonexistent-jsock-dir/chart.png"))
        .isEqualTo(2);
    assertThat(err.toString())
        .contains("jsock: --plot: no such directory: /nonexistent-jsock-dir")
        .doesNotContain("connection refused");
  }
}
