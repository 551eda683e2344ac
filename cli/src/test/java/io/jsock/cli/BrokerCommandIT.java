package io.jsock.cli;

import static io.jsock.cli.RunningProcess.jsock;
import static java.nio.charset.StandardCharsets.US_ASCII;
import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.jsock.Family;
import io.jsock.Socket;
import io.jsock.SocketKind;
import io.jsock.tls.Tls;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.net.StandardSocketOptions;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Integration test (runs the real {@code ./jsock broker} with in-test clients on loopback):
 * fan-out, chat names and announcements, and a client that never reads while three others exchange
 * megabytes at full speed, under both slow-client policies.
 */
class BrokerCommandIT {
  private static final Duration LIMIT = Duration.ofSeconds(60);
  private static final Pattern LISTENING = Pattern.compile("listening on 127\\.0\\.0\\.1:(\\d+)");

  @Test
  void eachClientsBytesGoToEveryOtherClientButNotBackToTheSender() throws Exception {
    try (RunningProcess broker = jsock("broker", "-v", "--max-clients", "3", "0")) {
      int port = port(broker);
      try (Socket a = join(broker, port, 1);
          Socket b = join(broker, port, 2);
          Socket c = join(broker, port, 3)) {
        a.sendAll("from a".getBytes(US_ASCII));
        assertThat(recvText(b, 6)).isEqualTo("from a");
        assertThat(recvText(c, 6)).isEqualTo("from a");
        b.sendAll("from b".getBytes(US_ASCII));
        assertThat(recvText(a, 6)).as("a's next bytes: b's, never its own").isEqualTo("from b");
        assertThat(recvText(c, 6)).isEqualTo("from b");
        try (Socket fourth = Socket.create(Family.AF_INET, SocketKind.SOCK_STREAM)) {
          fourth.setTimeout(LIMIT);
          fourth.connect(new InetSocketAddress("127.0.0.1", port));
          assertThat(fourth.recv(10)).as("turned away: end of stream").isEmpty();
        }
        await()
            .atMost(LIMIT)
            .until(() -> broker.stderrSoFar().contains("turned away: --max-clients 3 reached"));
      }
      await().atMost(LIMIT).until(() -> broker.stderrSoFar().contains("left (end of stream)"));
    }
  }

  @Test
  void onPortZeroWithoutVerboseTheBrokerSaysWhichPortItGot() throws Exception {
    try (RunningProcess broker = jsock("broker", "--chat", "0")) {
      int port = port(broker);
      try (Socket one = Socket.create(Family.AF_INET, SocketKind.SOCK_STREAM)) {
        one.setTimeout(LIMIT);
        one.connect(new InetSocketAddress("127.0.0.1", port));
        expect(one, "<announce> you are <user1>; no one else is here\n");
      }
    }
  }

  @Test
  void overTlsWithADevelopmentCertificate() throws Exception {
    try (RunningProcess broker = jsock("broker", "--tls", "--chat", "-v", "0")) {
      int port = port(broker);
      Socket one = joinTls(broker, port, 1);
      expect(one, "<announce> you are <user1>; no one else is here\n");
      try (one;
          Socket two = joinTls(broker, port, 2)) {
        expect(two, "<announce> you are <user2>; also here: <user1>\n");
        two.sendAll("over TLS\n".getBytes(US_ASCII));
        expect(one, "<announce> <user2> has joined\n<user2> over TLS\n");
      }
      assertThat(broker.stderrSoFar()).contains("development certificate", "(TLS over TCP)");
    }
  }

  @Test
  void onAnAfUnixSocket(@TempDir Path dir) throws Exception {
    Path path = dir.resolve("bus.sock");
    try (RunningProcess broker = jsock("broker", "-v", "-U", path.toString())) {
      await().atMost(LIMIT).until(() -> broker.stderrSoFar().contains("listening on"));
      try (Socket a = joinUnix(broker, path, 1);
          Socket b = joinUnix(broker, path, 2)) {
        a.sendAll("from a".getBytes(US_ASCII));
        assertThat(recvText(b, 6)).isEqualTo("from a");
      }
      assertThat(broker.stderrSoFar())
          .contains("<user1> (an unnamed AF_UNIX socket) joined; 1 connected")
          .contains("listening on " + path);
    }
  }

  @Test
  void onExitAnAfUnixBrokerLeavesASocketFileAnotherBrokerPutAtItsPath(@TempDir Path dir)
      throws Exception {
    // The first broker's file is removed by hand and a second broker binds the path: when the
    // first one stops, the file is the second's, which it must leave (the first removed it).
    Path path = dir.resolve("bus.sock");
    try (RunningProcess first = jsock("broker", "-v", "-U", path.toString())) {
      await().atMost(LIMIT).until(() -> first.stderrSoFar().contains("listening on"));
      Files.delete(path);
      try (RunningProcess second = jsock("broker", "-v", "-U", path.toString())) {
        await().atMost(LIMIT).until(() -> second.stderrSoFar().contains("listening on"));
        first.terminate();
        assertThat(first.exitCode()).isEqualTo(143);
        assertThat(path).as("the second broker's socket file").exists();
        try (Socket a = joinUnix(second, path, 1);
            Socket b = joinUnix(second, path, 2)) {
          a.sendAll("still here".getBytes(US_ASCII));
          assertThat(recvText(b, 10)).isEqualTo("still here");
        }
        second.terminate();
        assertThat(second.exitCode()).isEqualTo(143);
        assertThat(path).as("removed by the broker that made it").doesNotExist();
      }
    }
  }

  @Test
  void withVeryVerboseTheChatBrokerSaysEveryChunkReceivedAsTheRawOneDoes() throws Exception {
    // --help: "-vv every chunk received"; the chat broker said nothing per chunk.
    for (String mode : List.of("--broker", "--chat")) {
      List<String> args = new ArrayList<>(List.of("broker", "-v", "-v", "0"));
      if (mode.equals("--chat")) {
        args.add(1, "--chat");
      }
      try (RunningProcess broker = jsock(args.toArray(String[]::new))) {
        int port = port(broker);
        try (Socket one = join(broker, port, 1);
            Socket two = join(broker, port, 2)) {
          two.sendAll("hello\n".getBytes(US_ASCII));
          String line = readLine(one);
          for (int i = 0; i < 3 && line.startsWith("<announce>"); i++) {
            line = readLine(one);
          }
          assertThat(line).endsWith("hello");
          await()
              .atMost(LIMIT)
              .until(() -> broker.stderrSoFar().contains("jsock: <user2> 6 bytes\n"));
        }
      }
    }
  }

  @Test
  void chatNamesEachLineAndAnnouncesJoinsAndLeaves() throws Exception {
    try (RunningProcess broker = jsock("broker", "--chat", "-v", "0")) {
      int port = port(broker);
      try (Socket one = join(broker, port, 1)) {
        expect(one, "<announce> you are <user1>; no one else is here\n");
        try (Socket two = join(broker, port, 2)) {
          expect(two, "<announce> you are <user2>; also here: <user1>\n");
          expect(one, "<announce> <user2> has joined\n");
          one.sendAll("hello\nwor".getBytes(US_ASCII));
          one.sendAll("ld\r\n".getBytes(US_ASCII));
          expect(two, "<user1> hello\n<user1> world\n");
          two.sendAll("hi\n".getBytes(US_ASCII));
          expect(one, "<user2> hi\n");
        }
        expect(one, "<announce> <user2> has left\n");
      }
    }
  }

  @Test
  void chatWritesControlCharactersAsNcatDoesSoThatNoClientDrivesTheOthersTerminals()
      throws Exception {
    // ncat --chat writes them \ooo; passed raw, a client sent everyone's terminal escape
    // sequences (colours, titles, cursor moves), and a carriage return let it write another
    // name over its own. Tabs and UTF-8 text pass as they are (ncat escapes every byte over
    // 0x7e); bytes that are not UTF-8 are written \ooo, and so are C1 controls (U+009B is CSI).
    try (RunningProcess broker = jsock("broker", "--chat", "-v", "0")) {
      int port = port(broker);
      try (Socket one = join(broker, port, 1)) {
        expect(one, "<announce> you are <user1>; no one else is here\n");
        try (Socket two = join(broker, port, 2)) {
          expect(one, "<announce> <user2> has joined\n");
          byte[] line = {
            'a',
            1,
            'b',
            ' ',
            (byte) 0xc3,
            (byte) 0xbc,
            ' ',
            0x1b,
            '[',
            '3',
            '1',
            'm',
            '\t',
            'X',
            '\\',
            0x7f,
            '\r',
            '<',
            'u',
            '>',
            ' ',
            (byte) 0xc2,
            (byte) 0x9b,
            (byte) 0xff,
            '\r',
            '\n'
          };
          two.sendAll(line);
          byte[] shown =
              "<user2> a\\001b \u00fc \\033[31m\tX\\\\177\\015<u> \\302\\233\\377\n"
                  .getBytes(UTF_8);
          byte[] got = new byte[shown.length];
          int n = 0;
          while (n < got.length) {
            int more = one.recvInto(ByteBuffer.wrap(got, n, got.length - n));
            if (more == 0) {
              break;
            }
            n += more;
          }
          assertThat(new String(got, 0, n, UTF_8)).isEqualTo(new String(shown, UTF_8));
        }
      }
    }
  }

  @Test
  void chatSendsALastLineWithoutNewlineEvenWhenItsSenderResets() throws Exception {
    // A script that sends and closes without reading its greeting resets the connection (its
    // unread bytes make the kernel send RST): what it sent had arrived, and its last line too.
    try (RunningProcess broker = jsock("broker", "--chat", "-v", "0")) {
      int port = port(broker);
      try (Socket one = join(broker, port, 1)) {
        expect(one, "<announce> you are <user1>; no one else is here\n");
        try (Socket two = join(broker, port, 2)) {
          expect(one, "<announce> <user2> has joined\n");
          two.sendAll("first\nlast words".getBytes(US_ASCII));
          expect(one, "<user2> first\n");
          two.setSockOpt(StandardSocketOptions.SO_LINGER, 0);
        }
        expect(one, "<user2> last words\n<announce> <user2> has left\n");
      }
    }
  }

  @Test
  void chatKeepsACarriageReturnThatEndsALastLineWithoutNewline() throws Exception {
    // No LF follows the CR, so it is no CRLF's: it is a byte of the line, as where a line is cut
    // (ncat passes it on raw). It was dropped, and the others read "last" for "last\r".
    try (RunningProcess broker = jsock("broker", "--chat", "-v", "0")) {
      int port = port(broker);
      try (Socket one = join(broker, port, 1)) {
        expect(one, "<announce> you are <user1>; no one else is here\n");
        try (Socket two = join(broker, port, 2)) {
          expect(one, "<announce> <user2> has joined\n");
          two.sendAll("first\r\nlast\r".getBytes(US_ASCII));
          expect(one, "<user2> first\n");
        }
        assertThat(readLine(one)).isEqualTo("<user2> last\\015");
        assertThat(readLine(one)).isEqualTo("<announce> <user2> has left");
      }
    }
  }

  @Test
  void chatKeepsACarriageReturnWhereALongLineIsCutNotBeforeItsNewline() throws Exception {
    // A line longer than 64 KiB goes out in 64 KiB pieces; a CR that ends a piece is not a CRLF's
    // (the line goes on after it) and was dropped as one: the others lost a byte of the line.
    try (RunningProcess broker = jsock("broker", "--chat", "-v", "0")) {
      int port = port(broker);
      try (Socket one = join(broker, port, 1)) {
        expect(one, "<announce> you are <user1>; no one else is here\n");
        try (Socket two = join(broker, port, 2)) {
          expect(one, "<announce> <user2> has joined\n");
          String start = "a".repeat(65_535);
          two.sendAll((start + "\rb\r\n").getBytes(US_ASCII));
          assertThat(readLine(one)).isEqualTo("<user2> " + start + "\\015");
          assertThat(readLine(one)).isEqualTo("<user2> b");
        }
      }
    }
  }

  @Test
  void chatSendsALineOfExactly64KiBEndedByCrlfAsOneLineAsItDoesOneEndedByLf() throws Exception {
    // The line is cut as its 64 KiB are in, before its CRLF: the CRLF alone went out as an empty
    // line of its own, where the same line ended by LF alone goes out as one line.
    try (RunningProcess broker = jsock("broker", "--chat", "-v", "0")) {
      int port = port(broker);
      try (Socket one = join(broker, port, 1)) {
        expect(one, "<announce> you are <user1>; no one else is here\n");
        try (Socket two = join(broker, port, 2)) {
          expect(one, "<announce> <user2> has joined\n");
          String full = "a".repeat(65_536);
          two.sendAll((full + "\r\nnext\r\n" + full + "\nlast\n").getBytes(US_ASCII));
          assertThat(readLine(one)).isEqualTo("<user2> " + full);
          assertThat(readLine(one)).isEqualTo("<user2> next");
          assertThat(readLine(one)).isEqualTo("<user2> " + full);
          assertThat(readLine(one)).isEqualTo("<user2> last");
        }
      }
    }
  }

  @Test
  void chatClientsJoiningTogetherAreEachListedOrAnnouncedOnce() throws Exception {
    // Each joiner's roster and the joins announced to it after must name every other client
    // exactly once: before joins were serialized, a client could be greeted with "no one else is
    // here" while another was already in, or be listed and then announced as joining.
    int count = 12;
    try (RunningProcess broker = jsock("broker", "--chat", "-v", "0")) {
      int port = port(broker);
      List<Socket> users = new ArrayList<>();
      try {
        for (int i = 0; i < count; i++) {
          Socket user = Socket.create(Family.AF_INET, SocketKind.SOCK_STREAM);
          users.add(user);
          user.setTimeout(Duration.ofSeconds(10));
          user.connect(new InetSocketAddress("127.0.0.1", port)); // no waiting between them
        }
        await()
            .atMost(LIMIT)
            .until(() -> broker.stderrSoFar().split(" joined; ", -1).length - 1 == count);
        List<String> everyone = new ArrayList<>();
        for (int i = 1; i <= count; i++) {
          everyone.add("<user" + i + ">");
        }
        for (Socket user : users) {
          Matcher greeting =
              Pattern.compile(
                      "<announce> you are (<user\\d+>); (?:no one else is here|also here: (.*))")
                  .matcher(readLine(user));
          assertThat(greeting.matches()).as("greeting").isTrue();
          List<String> known = new ArrayList<>();
          known.add(greeting.group(1));
          if (greeting.group(2) != null) {
            known.addAll(List.of(greeting.group(2).split(", ")));
          }
          while (known.size() < count) {
            Matcher joined =
                Pattern.compile("<announce> (<user\\d+>) has joined").matcher(readLine(user));
            assertThat(joined.matches()).as("a join announced to %s", known.getFirst()).isTrue();
            known.add(joined.group(1));
          }
          assertThat(known).as("who %s was told of", known.getFirst()).hasSameElementsAs(everyone);
          assertThat(known).doesNotHaveDuplicates();
        }
      } finally {
        for (Socket user : users) {
          user.close();
        }
      }
    }
  }

  @Test
  void aSlowClientIsDisconnectedWhileTheOthersGetEverything() throws Exception {
    try (RunningProcess broker = jsock("broker", "-v", "0")) {
      List<Long> received = exchangeBesideASlowClient(broker);
      assertThat(received).containsOnly(2L * SENT_EACH);
      await()
          .atMost(LIMIT)
          .until(
              () ->
                  broker
                      .stderrSoFar()
                      .contains(
                          "<user1> (127.0.0.1:"
                              + slowPort
                              + ") disconnected: a slow client, its"
                              + " queue of 1MiB is full"));
      Pattern leaving =
          Pattern.compile("<user1> \\(.*\\) left .*: received 0 bytes, sent (\\d+) bytes");
      await().atMost(LIMIT).until(() -> leaving.matcher(broker.stderrSoFar()).find());
      Matcher left = leaving.matcher(broker.stderrSoFar());
      assertThat(left.find()).isTrue();
      assertThat(Long.parseLong(left.group(1)))
          .as("bytes the broker wrote to the slow client before giving up")
          .isLessThan(3L * SENT_EACH);
    }
  }

  @Test
  void withSlowDropTheSlowClientStaysAndMissesWhatDidNotFit() throws Exception {
    try (RunningProcess broker = jsock("broker", "-v", "--slow", "drop", "0")) {
      List<Long> received = exchangeBesideASlowClient(broker);
      assertThat(received).containsOnly(2L * SENT_EACH);
      String slowSaid = "<user1> (127.0.0.1:" + slowPort + ") is slow: its queue of 1MiB is full";
      await().atMost(LIMIT).until(() -> broker.stderrSoFar().contains(slowSaid));
      assertThat(broker.stderrSoFar()).doesNotContain("disconnected");
      long slowGot = drain(slow);
      slow.close();
      await()
          .atMost(LIMIT)
          .until(() -> broker.stderrSoFar().contains("<user1> (127.0.0.1:" + slowPort + ") left"));
      Matcher left =
          Pattern.compile(
                  "<user1> \\(.*\\) left .*: received 0 bytes, sent (\\d+) bytes, dropped (\\d+)")
              .matcher(broker.stderrSoFar());
      assertThat(left.find()).as(broker.stderrSoFar()).isTrue();
      assertThat(Long.parseLong(left.group(2))).as("dropped").isPositive();
      assertThat(slowGot).isLessThan(3L * SENT_EACH);
    }
  }

  /**
   * A client that reads slowly but steadily is no stalled client, though the broker's writer waits
   * seconds in one send: over TCP the kernel lets a blocked writer on only once a third of its send
   * buffer (megabytes, autotuned) has gone. {@code --write-timeout 1s} disconnected it about a
   * second into such a wait while its bytes moved all the while.
   */
  @Tag("slow")
  @Test
  void aClientThatReadsSlowlyButSteadilyOutlastsTheWriteTimeout() throws Exception {
    try (RunningProcess broker =
        jsock("broker", "-v", "--write-timeout", "1s", "--max-queue", "64MiB", "0")) {
      int port = port(broker);
      try (Socket reader = Socket.create(Family.AF_INET, SocketKind.SOCK_STREAM)) {
        reader.setSockOpt(StandardSocketOptions.SO_RCVBUF, 4096);
        reader.setTimeout(LIMIT);
        reader.connect(new InetSocketAddress("127.0.0.1", port));
        await().atMost(LIMIT).until(() -> broker.stderrSoFar().contains(" 1 connected"));
        try (Socket sender = join(broker, port, 2)) {
          byte[] data = new byte[6 << 20]; // more than the broker's send buffer holds
          for (int i = 0; i < data.length; i++) {
            data[i] = (byte) (i % 251);
          }
          Thread feeder =
              Thread.ofVirtual()
                  .start(
                      () -> {
                        try {
                          sender.sendAll(data);
                          for (int i = 0; i < 600; i++) { // something to queue, now and then
                            Thread.sleep(100);
                            sender.sendAll(new byte[] {(byte) ((data.length + i) % 251)});
                          }
                        } catch (IOException | InterruptedException e) {
                          // the test is over
                        }
                      });
          try {
            byte[] buf = new byte[8192];
            long got = 0;
            while (got < (3 << 20) / 2) { // 1.5 MiB, taken slowly but steadily
              Thread.sleep(10);
              int n = reader.recvInto(buf, 0);
              assertThat(n).as("end of stream after %d bytes", got).isPositive();
              for (int i = 0; i < n; i++) {
                assertThat(buf[i]).isEqualTo((byte) ((got + i) % 251));
              }
              got += n;
            }
            assertThat(broker.stderrSoFar()).doesNotContain("disconnected");
          } finally {
            feeder.interrupt();
          }
        }
      }
    }
  }

  /**
   * A client that reads steadily behind a small send buffer stays, while one that reads nothing is
   * disconnected. The reader is python3 with Ethernet's MSS ({@code TCP_MAXSEG} 1460, which it
   * offers in its SYN), so the broker's kernel keeps a send buffer of some 90 KB for it, as over a
   * real link, not megabytes: a blocked writer goes on once a third of it has gone and refills it
   * with the same 64 KiB message, so what the kernel holds for the client (SIOCOUTQ) rises and
   * falls while the client reads all along. Judged by that count, a check just after a refill found
   * it no lower than at the check before and disconnected the reader.
   */
  @Tag("slow")
  @Test
  void aClientThatReadsSteadilyBehindASmallSendBufferStaysWhileOneThatReadsNothingGoes()
      throws Exception {
    String reader =
        String.join(
            "\n",
            "import socket, sys, time",
            "s = socket.socket()",
            "s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)",
            "s.setsockopt(socket.IPPROTO_TCP, socket.TCP_MAXSEG, 1460)",
            "s.connect(('127.0.0.1', int(sys.argv[1])))",
            "s.settimeout(30)",
            "print('connected', flush=True)",
            "got = 0",
            "for i in range(240):  # 1 KiB every 50 ms for 12 s: steady, and slower than sent",
            "    time.sleep(0.05)",
            "    data = s.recv(1024)",
            "    if not data:",
            "        print('end of stream after', got, flush=True)",
            "        sys.exit(1)",
            "    for j, b in enumerate(data):",
            "        if b != (got + j) % 251:",
            "            print('wrong byte at', got + j, flush=True)",
            "            sys.exit(1)",
            "    got += len(data)",
            "print('read', got, flush=True)");
    try (RunningProcess broker =
        jsock("broker", "-v", "--write-timeout", "1s", "--max-queue", "64MiB", "0")) {
      int port = port(broker);
      try (RunningProcess steady =
              RunningProcess.start(
                  List.of("python3", "-c", reader, Integer.toString(port)), Map.of());
          Socket stuck = Socket.create(Family.AF_INET, SocketKind.SOCK_STREAM)) {
        assertThat(steady.nextLine()).isEqualTo("connected");
        await().atMost(LIMIT).until(() -> broker.stderrSoFar().contains(" 1 connected"));
        stuck.setSockOpt(StandardSocketOptions.SO_RCVBUF, 4096);
        stuck.connect(new InetSocketAddress("127.0.0.1", port));
        int stuckPort = ((InetSocketAddress) stuck.getSockName()).getPort();
        await().atMost(LIMIT).until(() -> broker.stderrSoFar().contains(" 2 connected"));
        String stuckGone =
            "<user2> (127.0.0.1:"
                + stuckPort
                + ") disconnected: took no bytes for --write-timeout 1s";
        try (Socket sender = join(broker, port, 3)) {
          Thread feeder =
              Thread.ofVirtual()
                  .start(
                      () -> {
                        try {
                          long offset = 0;
                          for (int i = 0; i < 300; i++) { // 4 MiB at once, then 64 KiB now and then
                            if (!steady.isAlive() && broker.stderrSoFar().contains(stuckGone)) {
                              break;
                            }
                            byte[] chunk = new byte[CHUNK];
                            for (int j = 0; j < chunk.length; j++) {
                              chunk[j] = (byte) ((offset + j) % 251);
                            }
                            sender.sendAll(chunk);
                            offset += chunk.length;
                            Thread.sleep(i < 64 ? 0 : 100);
                          }
                        } catch (IOException | InterruptedException e) {
                          // the test is over
                        }
                      });
          try {
            assertThat(steady.nextLine()).startsWith("read ");
            await().atMost(LIMIT).until(() -> broker.stderrSoFar().contains(stuckGone));
            assertThat(broker.stderrSoFar())
                .doesNotContainPattern("<user1> \\(127\\.0\\.0\\.1:\\d+\\) disconnected");
          } finally {
            feeder.interrupt();
          }
        }
      }
    }
  }

  /** A client that has stopped reading is disconnected once its socket takes no bytes for D. */
  @Test
  void aClientThatStopsReadingIsDisconnectedByTheWriteTimeout() throws Exception {
    try (RunningProcess broker =
        jsock("broker", "-v", "--write-timeout", "1s", "--max-queue", "64MiB", "0")) {
      int port = port(broker);
      try (Socket stuck = Socket.create(Family.AF_INET, SocketKind.SOCK_STREAM)) {
        stuck.setSockOpt(StandardSocketOptions.SO_RCVBUF, 4096);
        stuck.connect(new InetSocketAddress("127.0.0.1", port));
        await().atMost(LIMIT).until(() -> broker.stderrSoFar().contains(" 1 connected"));
        try (Socket sender = join(broker, port, 2)) {
          sender.sendAll(new byte[6 << 20]);
          for (int i = 0; i < 600 && !broker.stderrSoFar().contains("disconnected"); i++) {
            Thread.sleep(100);
            sender.sendAll(new byte[] {1});
          }
          assertThat(broker.stderrSoFar())
              .contains("<user1>", "disconnected: took no bytes for --write-timeout 1s");
        }
      }
    }
  }

  // ------------------------------------------------------------------ tools

  private static final int CHUNK = 64 * 1024;
  private static final int ROUNDS = 64;
  private static final long SENT_EACH = (long) CHUNK * ROUNDS;
  private Socket slow;
  private int slowPort;

  @AfterEach
  void closeTheSlowClient() throws IOException {
    if (slow != null) {
      slow.close();
    }
  }

  /**
   * Joins a client that never reads (a tiny receive buffer), then three that exchange {@link
   * #SENT_EACH} bytes each in lock-step rounds: each sends a chunk, then reads until it has the
   * others' chunks of that round, so a fast client never has more than two chunks in flight and
   * never fills its own queue, however busy the machine. Returns what each fast client received.
   */
  private List<Long> exchangeBesideASlowClient(RunningProcess broker) throws Exception {
    int port = port(broker);
    slow = Socket.create(Family.AF_INET, SocketKind.SOCK_STREAM);
    slow.setSockOpt(StandardSocketOptions.SO_RCVBUF, 4096);
    slow.setTimeout(LIMIT);
    slow.connect(new InetSocketAddress("127.0.0.1", port));
    slowPort = ((InetSocketAddress) slow.getSockName()).getPort();
    await().atMost(LIMIT).until(() -> broker.stderrSoFar().contains(" 1 connected"));
    List<Socket> fast = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      fast.add(join(broker, port, i + 2));
    }
    ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor();
    try {
      long start = System.nanoTime();
      List<Future<Long>> exchanges = new ArrayList<>();
      for (Socket client : fast) {
        exchanges.add(pool.submit(() -> exchangeInRounds(client)));
      }
      List<Long> received = new ArrayList<>();
      for (Future<Long> exchange : exchanges) {
        received.add(exchange.get(LIMIT.toSeconds(), TimeUnit.SECONDS));
      }
      System.out.printf(
          "broker: 3 clients exchanged %d MiB each beside a slow one in %d ms%n",
          SENT_EACH >> 20, (System.nanoTime() - start) / 1_000_000);
      return received;
    } catch (Exception e) {
      throw new AssertionError("exchange failed; broker's stderr: " + broker.stderrSoFar(), e);
    } finally {
      for (Socket client : fast) {
        client.close(); // wakes any task still waiting, so the pool can close
      }
      pool.close();
    }
  }

  private static long exchangeInRounds(Socket client) throws IOException {
    byte[] chunk = new byte[CHUNK];
    byte[] buf = new byte[CHUNK];
    long received = 0;
    for (int round = 1; round <= ROUNDS; round++) {
      client.sendAll(chunk);
      while (received < 2L * CHUNK * round) {
        int n = client.recvInto(buf, 0);
        if (n == 0) {
          return received;
        }
        received += n;
      }
    }
    return received;
  }

  /** Reads what a client has until nothing comes for a second (or the connection ends). */
  private static long drain(Socket client) throws IOException {
    client.setTimeout(Duration.ofSeconds(1));
    byte[] buf = new byte[64 * 1024];
    long total = 0;
    try {
      for (int i = 0; i < 100_000; i++) {
        int n = client.recvInto(buf, 0);
        if (n == 0) {
          break;
        }
        total += n;
      }
    } catch (SocketTimeoutException e) {
      // nothing more is coming
    }
    return total;
  }

  private static int port(RunningProcess broker) {
    await()
        .atMost(LIMIT)
        .until(() -> !broker.isAlive() || LISTENING.matcher(broker.stderrSoFar()).find());
    Matcher m = LISTENING.matcher(broker.stderrSoFar());
    assertThat(m.find()).as("broker's stderr: %s", broker.stderrSoFar()).isTrue();
    return Integer.parseInt(m.group(1));
  }

  /** Connects a client and waits until the broker has counted it as the {@code n}th. */
  private static Socket join(RunningProcess broker, int port, int n) throws IOException {
    Socket client = Socket.create(Family.AF_INET, SocketKind.SOCK_STREAM);
    client.setTimeout(LIMIT);
    client.connect(new InetSocketAddress("127.0.0.1", port));
    await().atMost(LIMIT).until(() -> broker.stderrSoFar().contains(" " + n + " connected"));
    return client;
  }

  /** Connects a TLS client (trusting any certificate) and waits until the broker counts it. */
  private static Socket joinTls(RunningProcess broker, int port, int n) throws IOException {
    Socket plain = Socket.create(Family.AF_INET, SocketKind.SOCK_STREAM);
    plain.setTimeout(LIMIT);
    plain.connect(new InetSocketAddress("127.0.0.1", port));
    Socket client = Tls.client().insecureNoVerification().wrap(plain, null);
    await().atMost(LIMIT).until(() -> broker.stderrSoFar().contains(" " + n + " connected"));
    return client;
  }

  private static Socket joinUnix(RunningProcess broker, Path path, int n) throws IOException {
    Socket client = Socket.create(Family.AF_UNIX, SocketKind.SOCK_STREAM);
    client.setTimeout(LIMIT);
    client.connect(UnixDomainSocketAddress.of(path));
    await().atMost(LIMIT).until(() -> broker.stderrSoFar().contains(" " + n + " connected"));
    return client;
  }

  private static String recvText(Socket client, int length) throws IOException {
    byte[] buf = new byte[length];
    int got = 0;
    while (got < length) {
      int n = client.recvInto(ByteBuffer.wrap(buf, got, length - got));
      if (n == 0) {
        break;
      }
      got += n;
    }
    return new String(buf, 0, got, US_ASCII);
  }

  /** The next line the client receives, without its newline. */
  private static String readLine(Socket client) throws IOException {
    StringBuilder line = new StringBuilder();
    while (true) {
      byte[] b = client.recv(1);
      if (b.length == 0 || b[0] == '\n') {
        return line.toString();
      }
      line.append((char) b[0]);
    }
  }

  private static void expect(Socket client, String text) throws IOException {
    assertThat(recvText(client, text.length())).isEqualTo(text);
  }
}
