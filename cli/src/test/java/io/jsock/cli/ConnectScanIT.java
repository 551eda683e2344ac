package io.jsock.cli;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import io.jsock.Family;
import io.jsock.SocketKind;
import io.jsock.testing.Loopback;
import java.io.IOException;
import java.lang.ProcessBuilder.Redirect;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.StandardProtocolFamily;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.nio.channels.NetworkChannel;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Integration test (runs the real {@code ./jsock connect}): {@code -z} checks ports without sending
 * a byte, {@code -s}/{@code -p} bind the client's end before it connects. The usage errors are
 * checked in-process, where a JVM start would only cost time. Loopback only; the peers are the
 * JDK's own channels, so that they do not depend on the code under test.
 */
class ConnectScanIT {
  private static final InetAddress LOOPBACK = InetAddress.getLoopbackAddress();

  @TempDir Path dir;

  @Test
  void zeroIoScanSaysWhichPortsAcceptAndSendsThemNothing() throws Exception {
    List<NetworkChannel> held = holdFiveConsecutivePorts();
    try {
      int base = port(held.getFirst());
      ServerSocketChannel open = (ServerSocketChannel) held.get(2);
      Path in = Files.writeString(dir.resolve("in.txt"), "stdin must not be sent\n");
      // a range, a comma list and a lone port, as separate arguments (nc takes several)
      try (PipedProcess scan =
          PipedProcess.start(
              PipedProcess.jsock(
                  "connect",
                  "-z",
                  "-v",
                  "127.0.0.1",
                  base + "-" + (base + 1),
                  (base + 2) + "," + (base + 3),
                  "" + (base + 4)),
              Map.of(),
              Redirect.from(in.toFile()),
              Redirect.PIPE)) {
        assertThat(scan.exitCode()).as(scan.stderr()).isZero();
        assertThat(scan.stdout().readAllBytes()).isEmpty();
        assertThat(scan.stderr().lines())
            .containsExactly(
                "jsock: connect to 127.0.0.1:" + base + ": connection refused",
                "jsock: connect to 127.0.0.1:" + (base + 1) + ": connection refused",
                "jsock: connect to 127.0.0.1:" + (base + 2) + ": succeeded (TCP)",
                "jsock: connect to 127.0.0.1:" + (base + 3) + ": connection refused",
                "jsock: connect to 127.0.0.1:" + (base + 4) + ": connection refused");
      }
      try (SocketChannel accepted = open.accept()) {
        assertThat(accepted.read(ByteBuffer.allocate(64)))
            .as("bytes before end of file")
            .isEqualTo(-1);
      }
      // without -v a scan says nothing; every port refused: the refusal's exit code
      List<String> quiet =
          PipedProcess.jsock("connect", "-z", "127.0.0.1", base + "," + (base + 1));
      try (PipedProcess scan =
          PipedProcess.start(quiet, Map.of(), Redirect.from(in.toFile()), Redirect.PIPE)) {
        assertThat(scan.exitCode()).as(scan.stderr()).isEqualTo(ExitCode.REFUSED.code());
        assertThat(scan.stderr()).isEmpty();
      }
    } finally {
      for (NetworkChannel channel : held) {
        channel.close();
      }
    }
  }

  @Test
  void zeroIoTakesATcpSelfConnectForTheRefusalItIs() throws Exception {
    // bound to the port it connects to, the client's end meets itself (Linux's simultaneous
    // open): nothing listens there, which is what a scan must say, not "succeeded"
    int port = FreePort.find();
    try (PipedProcess scan =
        PipedProcess.start(
            PipedProcess.jsock(
                "connect", "-z", "-v", "-s", "127.0.0.1", "-p", "" + port, "127.0.0.1", "" + port),
            Map.of(),
            Redirect.from(new java.io.File("/dev/null")),
            Redirect.PIPE)) {
      assertThat(scan.exitCode()).as(scan.stderr()).isEqualTo(ExitCode.REFUSED.code());
      assertThat(scan.stderr())
          .isEqualTo(
              "jsock: connect to 127.0.0.1:"
                  + port
                  + ": connected to itself (nothing listens there; a TCP self-connect)\n");
    }
  }

  @Test
  void zeroIoUdpSendsOneZeroByteAndCountsTheIcmpRefusal() throws Exception {
    int refused = Loopback.unusedPort(Family.AF_INET, SocketKind.SOCK_DGRAM);
    try (DatagramChannel open = DatagramChannel.open(StandardProtocolFamily.INET)) {
      open.bind(new InetSocketAddress(LOOPBACK, 0));
      int port = port(open);
      try (PipedProcess scan =
          PipedProcess.start(
              PipedProcess.jsock(
                  "connect", "-z", "-u", "-v", "-w", "500ms", "127.0.0.1", refused + "," + port),
              Map.of(),
              Redirect.from(new java.io.File("/dev/null")),
              Redirect.PIPE)) {
        assertThat(scan.exitCode()).as(scan.stderr()).isZero();
        assertThat(scan.stderr().lines())
            .containsExactly(
                "jsock: recv from 127.0.0.1:" + refused + ": connection refused",
                "jsock: connect to 127.0.0.1:" + port + ": succeeded (UDP)");
      }
      ByteBuffer probe = ByteBuffer.allocate(16);
      open.receive(probe);
      assertThat(probe.flip().remaining()).isEqualTo(1);
      assertThat(probe.get()).isZero();
    }
  }

  @Test
  void sourceAddressAndPortAreTheAcceptedPeers() throws Exception {
    int source = FreePort.find();
    try (ServerSocketChannel listener = ServerSocketChannel.open()) {
      listener.bind(new InetSocketAddress(LOOPBACK, 0));
      Path in = Files.writeString(dir.resolve("in.txt"), "hello\n");
      try (PipedProcess connect =
          PipedProcess.start(
              PipedProcess.jsock(
                  "connect",
                  "-s",
                  "127.0.0.1",
                  "--source-port",
                  "" + source,
                  "127.0.0.1",
                  "" + port(listener)),
              Map.of(),
              Redirect.from(in.toFile()),
              Redirect.DISCARD)) {
        try (SocketChannel accepted = listener.accept()) {
          assertThat(accepted.getRemoteAddress())
              .isEqualTo(new InetSocketAddress(LOOPBACK, source));
          assertThat(new String(accepted.socket().getInputStream().readAllBytes(), UTF_8))
              .isEqualTo("hello\n");
        }
        assertThat(connect.exitCode()).as(connect.stderr()).isZero();
      }
      // the listener's own port is in use (exit 7); an address that is not local cannot be
      // bound (exit 1, EADDRNOTAVAIL): neither connects anywhere
      int taken = port(listener);
      assertThat(run("connect", "-p", "" + taken, "127.0.0.1", "" + taken))
          .isEqualTo(
              new Outcome(
                  ExitCode.ADDRESS_IN_USE,
                  "jsock: bind to 0.0.0.0:" + taken + ": address already in use\n"));
      assertThat(run("connect", "-s", "192.0.2.1", "127.0.0.1", "" + taken))
          .isEqualTo(
              new Outcome(
                  ExitCode.FAILURE,
                  "jsock: bind to 192.0.2.1:0: cannot assign requested address\n"));
    }
  }

  @Test
  void badPortsAndOptionsThatDoNotFitAreUsageErrorsNamingThem() {
    for (List<String> args :
        List.of(
            List.of("-z", "127.0.0.1", "20-70000"),
            List.of("-z", "127.0.0.1", "0"),
            List.of("-z", "127.0.0.1", "20,,30"),
            List.of("-z", "127.0.0.1", "no-such-service"),
            List.of("127.0.0.1", "20-30"),
            List.of("127.0.0.1", "20", "30"),
            List.of("-z", "--send-only", "127.0.0.1", "20"),
            List.of("-z", "-x", "127.0.0.1", "20"),
            List.of("-z", "-e", "/bin/cat", "127.0.0.1", "20"),
            List.of("-s", "127.0.0.1", "-U", "/tmp/x.sock"),
            List.of("-p", "70000", "127.0.0.1", "20"))) {
      List<String> command = new ArrayList<>(List.of("connect"));
      command.addAll(args);
      Outcome outcome = run(command.toArray(String[]::new));
      assertThat(outcome.exit()).as(args + ": " + outcome.stderr()).isEqualTo(ExitCode.USAGE);
    }
    assertThat(run("connect", "-z", "127.0.0.1", "20-70000").stderr())
        .startsWith("jsock: PORTS 20-70000: port out of range 0..65535: 70000\n");
    assertThat(run("connect", "-z", "127.0.0.1", "0").stderr())
        .startsWith("jsock: PORTS 0: 0 is not a port one can connect to\n");
    assertThat(run("connect", "-z", "127.0.0.1", "20,,30").stderr())
        .startsWith("jsock: PORTS 20,,30: an empty port\n");
    assertThat(run("connect", "-z", "127.0.0.1", "no-such-service").stderr())
        .startsWith("jsock: PORTS no-such-service: not a port, range or TCP service name\n");
  }

  @Test
  void portsReadAsNcReadsThem() {
    assertThat(PortList.parse(List.of("22-24", "ssh,http", "9-7"), "tcp"))
        .containsExactly(22, 23, 24, 80, 7, 8, 9);
    assertThat(PortList.parse(List.of("1-65535"), "tcp")).hasSize(65535);
  }

  @Test
  void portsNamedAgainAreCheckedOnceSoThatRepeatsCannotFillTheMemory() {
    // 16 KB of arguments once made a list of 131 million ports (5 GB, and a scan of days)
    String everyPortTwoThousandTimes = String.join(",", Collections.nCopies(2000, "1-65535"));
    List<Integer> ports =
        PortList.parse(List.of(everyPortTwoThousandTimes, "80", "65535-1"), "tcp");
    assertThat(ports).hasSize(65535);
    assertThat(ports.getFirst()).isEqualTo(1);
    assertThat(ports.getLast()).isEqualTo(65535);
    assertThat(PortList.parse(List.of("30,20-22,21", "ssh", "20"), "tcp"))
        .containsExactly(30, 20, 21, 22);
  }

  @Test
  void aPortNamedAgainFromOneSourcePortIsCheckedOnce() throws Exception {
    // the repeat's connection, from the same -p port, would meet the first one's in TIME_WAIT:
    // EADDRNOTAVAIL, which ended the scan with exit 1 though the port had accepted
    try (ServerSocketChannel listener = ServerSocketChannel.open()) {
      listener.bind(new InetSocketAddress(LOOPBACK, 0));
      int open = port(listener);
      Outcome outcome =
          run(
              "connect",
              "-z",
              "-v",
              "-p",
              "" + FreePort.find(),
              "127.0.0.1",
              open + "," + open,
              "" + open,
              open + "-" + open);
      assertThat(outcome)
          .isEqualTo(
              new Outcome(
                  ExitCode.OK, "jsock: connect to 127.0.0.1:" + open + ": succeeded (TCP)\n"));
    }
  }

  @Test
  void aSourceOfAnotherFamilyThanTheTargetOrMinus4Or6SaysThatTheSourceIsWhy() {
    // before, the first blamed 127.0.0.1:0 alone, the second the target, as if -4/-6 had
    // been given: neither named -s
    assertThat(run("connect", "-6", "-s", "127.0.0.1", "::1", "20"))
        .isEqualTo(
            new Outcome(
                ExitCode.UNKNOWN_HOST,
                "jsock: resolve 127.0.0.1:0: address family for hostname not supported (the -s"
                    + " source address; -6 asks for IPv6)\n"));
    assertThat(run("connect", "-z", "-s", "::1", "127.0.0.1", "20"))
        .isEqualTo(
            new Outcome(
                ExitCode.UNKNOWN_HOST,
                "jsock: resolve 127.0.0.1:20: address family for hostname not supported (only its"
                    + " IPv6 addresses were looked up: the -s source address ::1 is IPv6)\n"));
    // without -s, -4 with an IPv6 target says what it said before
    assertThat(run("connect", "-4", "::1", "20"))
        .isEqualTo(
            new Outcome(
                ExitCode.UNKNOWN_HOST,
                "jsock: resolve [::1]:20: address family for hostname not supported\n"));
  }

  private record Outcome(ExitCode exit, String stderr) {}

  /** Runs jsock in this JVM: for what fails before any socket is made, or binds only. */
  private static Outcome run(String... args) {
    InProcess run = InProcess.run(args);
    ExitCode exit = null;
    for (ExitCode candidate : ExitCode.values()) {
      if (candidate.code() == run.exit()) {
        exit = candidate;
      }
    }
    return new Outcome(exit, run.err());
  }

  /**
   * Five consecutive loopback ports held by this process: the middle one listening, the others
   * bound without listening, so that they refuse and no other program can take them meanwhile.
   */
  private static List<NetworkChannel> holdFiveConsecutivePorts() throws IOException {
    for (int attempt = 0; attempt < 50; attempt++) {
      int base = Loopback.unusedPort(Family.AF_INET, SocketKind.SOCK_STREAM);
      List<NetworkChannel> held = new ArrayList<>();
      try {
        for (int i = 0; i < 5; i++) {
          NetworkChannel channel = i == 2 ? ServerSocketChannel.open() : SocketChannel.open();
          held.add(channel);
          channel.bind(new InetSocketAddress(LOOPBACK, base + i));
        }
        return held;
      } catch (java.net.BindException taken) {
        for (NetworkChannel channel : held) {
          channel.close();
        }
      }
    }
    throw new IOException("no five consecutive free loopback ports after 50 tries");
  }

  private static int port(NetworkChannel channel) throws IOException {
    return ((InetSocketAddress) channel.getLocalAddress()).getPort();
  }
}
