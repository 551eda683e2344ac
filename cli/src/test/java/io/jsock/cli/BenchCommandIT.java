package io.jsock.cli;

import static io.jsock.cli.RunningProcess.jsock;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.jsock.Family;
import io.jsock.Socket;
import io.jsock.SocketKind;
import io.jsock.server.Server;
import io.jsock.server.ServerConfig;
import io.jsock.server.TcpServer;
import io.jsock.server.UdpServer;
import io.jsock.testing.Loopback;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Integration test (runs the real {@code ./jsock echo}, and the real {@code ./jsock bench} where
 * its exit and stderr are the point): short runs of every scenario, checked through their JSON; a
 * server that corrupts one byte, which the bench must catch and name; one that never echoes.
 */
class BenchCommandIT {
  private static final String BANNER = "Echo server listening on 127.0.0.1:(\\d+)";

  private static RunningProcess tcpEcho;
  private static RunningProcess udpEcho;

  @BeforeAll
  static void startEchoServers() {
    tcpEcho = jsock("echo", "--host", "127.0.0.1", "--port", "0");
    udpEcho = jsock("echo", "--udp", "--host", "127.0.0.1", "--port", "0");
  }

  @AfterAll
  static void stopEchoServers() throws InterruptedException {
    for (RunningProcess echo : List.of(tcpEcho, udpEcho)) {
      try (echo) {
        // up before the SIGTERM (a run of one test may not have used this server): a JVM that has
        // not yet installed the command's handler dies of the signal (143)
        port(echo);
        echo.terminate();
        assertThat(echo.exitCode()).isZero();
        assertThat(echo.stderr()).as("clean closes: no resets, no errors").isEmpty();
      }
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"pingpong", "pipeline", "bulk", "connect", "udp"})
  void eachScenarioEchoesIntactAgainstJsockEcho(String scenario) throws Exception {
    int port = port(scenario.equals("udp") ? udpEcho : tcpEcho);
    // In-process, to spare a JVM start per scenario; the server is the real ./jsock echo.
    String json =
        benchInProcess(
            scenario,
            "--host",
            "127.0.0.1",
            "--port",
            "" + port,
            "-c",
            "3",
            "--source-ips",
            "2",
            "--duration",
            "800ms",
            "--warmup",
            "200ms");
    assertThat(json.lines()).hasSize(1);
    assertThat(field(json, "scenario")).isEqualTo('"' + scenario + '"');
    assertThat(field(json, "connections")).isEqualTo("3");
    assertThat(field(json, "errors")).isEqualTo("0");
    assertThat(Long.parseLong(field(json, "messages"))).isPositive();
    assertThat(Long.parseLong(field(json, "verifiedBytes")))
        .as("every echoed byte checked, the measured ones among them")
        .isGreaterThanOrEqualTo(Long.parseLong(field(json, "bytes")))
        .isPositive();
    if (scenario.equals("pingpong") || scenario.equals("pipeline")) {
      assertThat(Long.parseLong(field(json, "fewestEchoes")))
          .as("each of the 3 connections served")
          .isPositive()
          .isLessThanOrEqualTo(Long.parseLong(field(json, "messages")));
    } else {
      assertThat(field(json, "fewestEchoes")).isEqualTo("null");
    }
    if (scenario.equals("bulk")) {
      assertThat(field(json, "latencyMicros")).isEqualTo("null");
    } else {
      assertThat(field(json, "latencyMicros")).startsWith("{\"count\":");
    }
  }

  /**
   * The measured period's counts agree: each message is one round trip in the latency histogram and
   * its size in bytes. The histogram was reset at the warm-up's end a moment before the counters
   * were read, so the round trips recorded in between (hundreds, pipelined) were in the histogram
   * and not in the messages: {@code "messages":739056}, {@code "count":740334}.
   */
  @Test
  void theLatencyHistogramCountsTheMeasuredMessagesExactly() throws Exception {
    // a process each: in a JVM that has run the bench before the moment is too short to show
    int port = port(tcpEcho);
    for (int run = 0; run < 4; run++) {
      try (RunningProcess bench =
          jsock(
              "bench",
              "pipeline",
              "--host",
              "127.0.0.1",
              "--port",
              "" + port,
              "-c",
              "4",
              "--duration",
              "300ms",
              "--warmup",
              "200ms",
              "--json")) {
        assertThat(bench.exitCode()).as("stderr: %s", bench.stderrSoFar()).isZero();
        String json = bench.nextLine();
        long messages = Long.parseLong(field(json, "messages"));
        Matcher count =
            Pattern.compile("\\{\"count\":(\\d+),").matcher(field(json, "latencyMicros"));
        assertThat(count.find()).as(json).isTrue();
        assertThat(Long.parseLong(count.group(1))).as("run %d: %s", run, json).isEqualTo(messages);
        assertThat(Long.parseLong(field(json, "bytes"))).as(json).isEqualTo(messages * 64);
      }
    }
  }

  /**
   * A UDP server that drops every fifth datagram and echoes every seventh too late: both count as
   * lost (the next datagram goes after the loss timeout), the late echoes are checked and skipped,
   * and the rest are measured.
   */
  @Test
  void udpDatagramsDroppedOrEchoedLateCountAsLostAndTheRunGoesOn() throws Exception {
    try (UdpServer lossy =
        UdpServer.start(
            ServerConfig.defaults().withAddress("127.0.0.1", 0),
            (datagram, socket) -> {
              long sequence = ByteBuffer.wrap(datagram.data()).getLong();
              if (sequence % 5 == 0) {
                return;
              }
              if (sequence % 7 == 0) {
                Thread.sleep(200);
              }
              socket.sendTo(datagram.data(), datagram.address());
            })) {
      String json =
          benchInProcess(
              "udp",
              "--host",
              "127.0.0.1",
              "--port",
              "" + ((InetSocketAddress) lossy.address()).getPort(),
              "-c",
              "4",
              "--loss-timeout",
              "50ms",
              "--duration",
              "1s",
              "--warmup",
              "0s");
      assertThat(field(json, "errors")).isEqualTo("0");
      long losses = Long.parseLong(field(json, "losses"));
      long messages = Long.parseLong(field(json, "messages"));
      assertThat(losses).isPositive();
      assertThat(messages).isPositive();
      // Of every 35 sequence numbers, 7 are dropped and 4 echoed late: 11 of 35 lost.
      assertThat((double) losses / (losses + messages)).isBetween(0.2, 0.45);
    }
  }

  /**
   * A UDP server that spoils the third datagram of each socket, one way or another (a second echo
   * of it was taken for a late one and skipped): the run stops with exit code 1 and a line naming
   * the socket, the datagram and what was wrong.
   */
  @ParameterizedTest
  @CsvSource(
      delimiter = '|',
      value = {
        "flip byte 20 | byte 20: sent 0x[0-9a-f]{2}, received 0x[0-9a-f]{2}",
        "cut to 10 bytes | sent 64 bytes, received 10",
        "grow to 65 bytes | sent 64 bytes, received 65",
        "renumber 999 | received the sequence number 999, never sent",
        "echo twice | echoed twice"
      })
  void aUdpEchoThatComesBackWrongFailsTheRunNamingWhat(String spoil, String what) throws Exception {
    try (UdpServer spoiling =
        UdpServer.start(
            ServerConfig.defaults().withAddress("127.0.0.1", 0),
            (datagram, socket) -> {
              byte[] data = datagram.data();
              if (ByteBuffer.wrap(data).getLong() == 3) {
                switch (spoil) {
                  case "flip byte 20" -> data[20] = (byte) ~data[20];
                  case "cut to 10 bytes" -> data = Arrays.copyOf(data, 10);
                  case "grow to 65 bytes" -> data = Arrays.copyOf(data, 65);
                  case "echo twice" -> socket.sendTo(data, datagram.address());
                  default -> ByteBuffer.wrap(data).putLong(0, 999);
                }
              }
              socket.sendTo(data, datagram.address());
            })) {
      int port = ((InetSocketAddress) spoiling.address()).getPort();
      InProcess run =
          runInProcess(
              "udp",
              "--host",
              "127.0.0.1",
              "--port",
              "" + port,
              "-c",
              "1",
              "--duration",
              "2s",
              "--warmup",
              "0s");
      assertThat(run.exit()).isEqualTo(1);
      assertThat(run.err())
          .matches(
              "jsock: echo mismatch on UDP socket 0, datagram 3: "
                  + what
                  + " \\(server 127.0.0.1:"
                  + port
                  + "\\)\n");
      assertThat(run.out()).as("no result for a run that failed").isEmpty();
    }
  }

  /**
   * A server that echoes every connection but one, which it holds without echoing: the echoes that
   * connection still waits for when the run stops never come, and the run says so (it exited 0 with
   * no error, the stall seen only in {@code fewestEchoes}).
   */
  @ParameterizedTest
  @ValueSource(strings = {"pingpong", "pipeline", "bulk", "connect"})
  void aConnectionTheServerStallsIsAnErrorNotACleanRun(String scenario) throws Exception {
    AtomicInteger accepted = new AtomicInteger();
    try (Server stalling =
        TcpServer.start(
            ServerConfig.defaults().withAddress("127.0.0.1", 0),
            conn -> {
              if (accepted.getAndIncrement() == 1) {
                while (conn.recv(4096).length > 0) {
                  // held: nothing comes back
                }
              } else {
                echoFlipping(conn, -1);
              }
            })) {
      int port = ((InetSocketAddress) stalling.address()).getPort();
      InProcess run =
          runInProcess(
              scenario,
              "--host",
              "127.0.0.1",
              "--port",
              "" + port,
              "-c",
              "2",
              "--duration",
              "500ms",
              "--warmup",
              "0s",
              "--timeout",
              "300ms");
      assertThat(run.exit()).as("stderr: %s", run.err()).isEqualTo(1);
      assertThat(run.err())
          .matches(
              "jsock: 1 connection error: recv from 127.0.0.1:"
                  + port
                  + ": connection [01] was still waiting for (1 echo|\\d+ echoes|its echo) after"
                  + " 300ms without an echoed byte since the run stopped \\(--timeout\\)\n");
      assertThat(field(run.out(), "errors")).isEqualTo("1");
      assertThat(Long.parseLong(field(run.out(), "messages"))).isPositive();
    }
  }

  /**
   * A server that holds one connection's echo until the run has stopped and then closes it: the
   * echo still owed never comes, and the run says so (a failure in the drain was taken for one of
   * the sockets the run closes itself, and the run was clean).
   */
  @ParameterizedTest
  @ValueSource(strings = {"pingpong", "bulk", "connect"})
  void aConnectionClosedWithItsEchoOwedAfterTheStopIsAnError(String scenario) throws Exception {
    AtomicInteger accepted = new AtomicInteger();
    CountDownLatch release = new CountDownLatch(1);
    try (Server closing =
        TcpServer.start(
            ServerConfig.defaults().withAddress("127.0.0.1", 0),
            conn -> {
              if (accepted.getAndIncrement() == 1) {
                release.await(); // then closed, with what came unread and unechoed
              } else {
                echoFlipping(conn, -1);
              }
            })) {
      int port = ((InetSocketAddress) closing.address()).getPort();
      try (RunningProcess bench =
          jsock(
              "bench",
              scenario,
              "--host",
              "127.0.0.1",
              "--port",
              "" + port,
              "-c",
              "2",
              "--duration",
              "500ms",
              "--warmup",
              "0s",
              "--phases",
              "--json")) {
        await().until(() -> bench.stderrSoFar().contains("jsock bench: stopped"));
        release.countDown();
        assertThat(bench.exitCode()).as("stderr: %s", bench.stderrSoFar()).isEqualTo(1);
        // bulk: its writer's send and its reader's recv may each see the close, one error
        assertThat(field(bench.nextLine(), "errors")).isEqualTo("1");
        assertThat(bench.stderr())
            .matches(
                "jsock bench: measuring\njsock bench: stopped\njsock: 1 connection error:"
                    + " (recv from|send to) 127.0.0.1:"
                    + port
                    + ": .*\n");
      } finally {
        release.countDown();
      }
    }
  }

  /**
   * A server that resets each bulk connection after its first bytes: the connection's writer (its
   * send) and its reader (its recv) both see the reset, and each counted it, so that 2 connections
   * made "4 connection errors".
   */
  @Test
  void aBulkConnectionTheServerResetsIsOneConnectionError() throws Exception {
    try (Server resetting =
        TcpServer.start(
            ServerConfig.defaults().withAddress("127.0.0.1", 0),
            conn -> {
              conn.recv(4096);
              conn.setSockOpt(StandardSocketOptions.SO_LINGER, 0); // the close resets
            })) {
      int port = ((InetSocketAddress) resetting.address()).getPort();
      InProcess run =
          runInProcess(
              "bulk",
              "--host",
              "127.0.0.1",
              "--port",
              "" + port,
              "-c",
              "2",
              "--duration",
              "500ms",
              "--warmup",
              "0s");
      assertThat(run.exit()).as("stderr: %s", run.err()).isEqualTo(1);
      assertThat(field(run.out(), "errors")).isEqualTo("2");
      assertThat(run.err())
          .matches(
              "jsock: 2 connection errors; the first: (recv from|send to) 127.0.0.1:"
                  + port
                  + ": .*\n");
    }
  }

  /**
   * Short bulk runs against jsock echo end clean, each connection's last echo received: a reader
   * that had received all that was written could wait in a recv while its writer ended, for bytes
   * that never came (about one run in twelve held a connection for --timeout). The race is not
   * forced here; twelve runs give it its chances.
   */
  @Test
  void bulkRunsEndWithEveryConnectionsLastEchoReceived() {
    int port = port(tcpEcho);
    for (int run = 0; run < 12; run++) {
      String json =
          benchInProcess(
              "bulk",
              "--host",
              "127.0.0.1",
              "--port",
              "" + port,
              "-c",
              "4",
              "--write-size",
              "4096",
              "--duration",
              "100ms",
              "--warmup",
              "0s",
              "--timeout",
              "1s");
      assertThat(field(json, "errors")).as("run %d: %s", run, json).isEqualTo("0");
    }
  }

  /** Runs {@code jsock bench ARGS --json} in this JVM; asserts exit 0 and returns the JSON. */
  private static String benchInProcess(String... args) {
    InProcess run = runInProcess(args);
    assertThat(run.exit()).as("stderr: %s", run.err()).isZero();
    return run.out().strip();
  }

  /** Runs {@code jsock bench ARGS --json} in this JVM. */
  private static InProcess runInProcess(String... args) {
    String[] line = new String[args.length + 2];
    line[0] = "bench";
    System.arraycopy(args, 0, line, 1, args.length);
    line[line.length - 1] = "--json";
    return InProcess.run(line);
  }

  /** The port of a running echo server, from its banner (read once, then remembered). */
  private static synchronized int port(RunningProcess echo) {
    return PORTS.computeIfAbsent(echo, e -> Integer.parseInt(nextBanner(e).group(1)));
  }

  private static final Map<RunningProcess, Integer> PORTS = new HashMap<>();

  private static Matcher nextBanner(RunningProcess echo) {
    try {
      return echo.nextLineMatching(BANNER);
    } catch (InterruptedException e) {
      throw new AssertionError(e);
    }
  }

  @Test
  void aServerThatCorruptsOneByteFailsTheRunNamingWhere() throws Exception {
    int corruptAt = 1000;
    try (Server corrupting =
        TcpServer.start(
            ServerConfig.defaults().withAddress("127.0.0.1", 0),
            conn -> echoFlipping(conn, corruptAt))) {
      int port = ((InetSocketAddress) corrupting.address()).getPort();
      try (RunningProcess bench =
          jsock(
              "bench",
              "pipeline",
              "--host",
              "127.0.0.1",
              "--port",
              "" + port,
              "-c",
              "1",
              "--duration",
              "2s",
              "--warmup",
              "200ms")) {
        assertThat(bench.exitCode()).isEqualTo(1);
        assertThat(bench.stderr())
            .matches(
                "jsock: echo mismatch on connection 0 at byte "
                    + corruptAt
                    + " of its stream: sent 0x[0-9a-f]{2}, received 0x[0-9a-f]{2} \\(server"
                    + " 127.0.0.1:"
                    + port
                    + "\\)\n");
        assertThat(bench.lines()).as("no result for a run that failed").isEmpty();
      }
    }
  }

  @Test
  void aServerThatNeverEchoesEndsTheRunOnTimeWithExitOne() throws Exception {
    try (Server silent =
        TcpServer.start(
            ServerConfig.defaults().withAddress("127.0.0.1", 0),
            conn -> {
              while (conn.recv(4096).length > 0) {
                // swallowed: nothing comes back
              }
            })) {
      int port = ((InetSocketAddress) silent.address()).getPort();
      try (RunningProcess bench =
          jsock(
              "bench",
              "--host",
              "127.0.0.1",
              "--port",
              "" + port,
              "--duration",
              "500ms",
              "--warmup",
              "0s",
              "--timeout",
              "500ms")) {
        assertThat(bench.exitCode()).isEqualTo(1);
        assertThat(bench.stderr())
            .isEqualTo("jsock: no echo came back from 127.0.0.1:" + port + " while measuring\n");
      }
    }
  }

  @Test
  void aRefusedConnectionExitsThreeNamingTheAddress() throws Exception {
    int port = FreePort.find();
    try (RunningProcess bench =
        jsock("bench", "--host", "127.0.0.1", "--port", "" + port, "--duration", "1s")) {
      assertThat(bench.exitCode()).isEqualTo(3);
      assertThat(bench.stderr())
          .isEqualTo("jsock: connect to 127.0.0.1:" + port + ": connection refused\n");
    }
  }

  @Test
  void theConnectScenarioExitsThreeAtOnceWhenNoServerIsThere() throws Exception {
    // it connects only once measuring: it ran the whole warm-up and duration, each worker's
    // first connect refused, then exited 1 with "2 connection errors; the first: ..."
    int port = FreePort.find();
    try (RunningProcess bench =
        jsock(
            "bench",
            "connect",
            "--host",
            "127.0.0.1",
            "--port",
            "" + port,
            "-c",
            "2",
            "--warmup",
            "2s",
            "--duration",
            "10s")) {
      assertThat(bench.exitCode()).isEqualTo(3);
      assertThat(bench.stderr())
          .isEqualTo("jsock: connect to 127.0.0.1:" + port + ": connection refused\n");
      assertThat(bench.lines()).isEmpty(); // no report: it did not run
    }
  }

  @Test
  void aUdpServerThatIsNotThereExitsThreeAsARefusedConnectionDoes() throws Exception {
    // the ICMP port unreachable comes back as a refused recv: this exited 1
    int port = Loopback.unusedPort(Family.AF_INET, SocketKind.SOCK_DGRAM);
    try (RunningProcess bench =
        jsock(
            "bench",
            "udp",
            "--host",
            "127.0.0.1",
            "--port",
            "" + port,
            "-c",
            "2",
            "--warmup",
            "500ms",
            "--duration",
            "1s")) {
      assertThat(bench.exitCode()).isEqualTo(3);
      assertThat(bench.stderr())
          .isEqualTo(
              "jsock: 2 connection errors; the first: recv from 127.0.0.1:"
                  + port
                  + ": connection refused\n");
    }
    try (RunningProcess one =
        jsock(
            "bench",
            "udp",
            "--host",
            "127.0.0.1",
            "--port",
            "" + port,
            "-c",
            "1",
            "--warmup",
            "500ms",
            "--duration",
            "1s")) {
      assertThat(one.exitCode()).isEqualTo(3);
      assertThat(one.stderr()) // it said "1 connection errors; the first: ..."
          .isEqualTo(
              "jsock: 1 connection error: recv from 127.0.0.1:" + port + ": connection refused\n");
    }
  }

  @Test
  void aUdpRunEndsAsSoonAsEverySocketHasBeenRefused() throws Exception {
    // it ran its whole warm-up and duration with no socket left, then said so
    int port = Loopback.unusedPort(Family.AF_INET, SocketKind.SOCK_DGRAM);
    String[] args = {
      "bench",
      "udp",
      "--host",
      "127.0.0.1",
      "--port",
      "" + port,
      "-c",
      "2",
      "--warmup",
      "20s",
      "--duration",
      "10m"
    };
    try (RunningProcess bench = jsock(args)) {
      assertThat(bench.exitCode()).isEqualTo(3); // waits a minute at most
      assertThat(bench.stderr())
          .isEqualTo(
              "jsock: 2 connection errors; the first: recv from 127.0.0.1:"
                  + port
                  + ": connection refused\n");
    }
  }

  /** An echo that sends byte {@code at} of the stream back with its bits flipped. */
  private static void echoFlipping(Socket conn, long at) throws IOException {
    ByteBuffer buf = ByteBuffer.allocate(64 * 1024);
    long offset = 0;
    while (conn.recvInto(buf.clear()) > 0) {
      buf.flip();
      if (at >= offset && at < offset + buf.limit()) {
        int i = (int) (at - offset);
        buf.put(i, (byte) ~buf.get(i));
      }
      offset += buf.limit();
      conn.sendAll(buf);
    }
  }

  /** A top-level field of a flat JSON object, as its JSON text. */
  private static String field(String json, String name) {
    Matcher m = Pattern.compile("\"" + name + "\":(\\{[^}]*\\}|\"[^\"]*\"|[^,}]*)").matcher(json);
    assertThat(m.find()).as("%s in %s", name, json).isTrue();
    return m.group(1);
  }
}
