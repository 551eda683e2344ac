package io.jsock.cli;

import static io.jsock.cli.RunningProcess.jsock;
import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.jsock.Shutdown;
import io.jsock.Socket;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Integration test (runs the real {@code ./jsock send} and {@code ./jsock receive}): files arrive
 * intact by SHA-256, resume continues a part file or is refused when it differs, hostile names and
 * existing files are refused, the progress bar shows in a terminal (tmux), and the completion
 * script installs.
 */
class TransferCommandsIT {
  private static final Duration LIMIT = Duration.ofSeconds(60);
  private static final Pattern LISTENING = Pattern.compile("receiving on 127\\.0\\.0\\.1:(\\d+)");

  @TempDir Path dir;

  @Test
  void sends32MiBIntactAndBothSidesReportItAsJson() throws Exception {
    Path data = randomFile("data.bin", 32 << 20, 1);
    Path out = dir.resolve("out.bin");
    try (RunningProcess receiver = jsock("receive", "--json", "0", out.toString())) {
      int port = portOf(receiver);
      try (RunningProcess sender =
          jsock("send", "--json", data.toString(), "127.0.0.1", "" + port)) {
        assertThat(sender.exitCode()).as(sender.stderrSoFar()).isZero();
        assertThat(receiver.exitCode()).as(receiver.stderrSoFar()).isZero();
        String sha256 = sha256(data);
        assertThat(sha256(out)).isEqualTo(sha256);
        assertThat(dir.resolve("out.bin.part")).doesNotExist();
        String sent = sender.lines().getFirst();
        assertThat(sent)
            .startsWith("{\"file\":\"data.bin\",\"size\":33554432,\"bytes\":33554432,")
            .contains("\"resumed_from\":0,", "\"sha256\":\"" + sha256 + "\"", "\"verified\":true")
            .containsPattern("\"seconds\":\\d+\\.\\d{3},\"bytes_per_second\":\\d+,");
        assertThat(receiver.lines().getFirst())
            .startsWith("{\"file\":" + Json.string(out.toString()) + ",\"size\":33554432,")
            .contains("\"bytes\":33554432,", "\"sha256\":\"" + sha256 + "\"");
        assertThat(sender.stderr())
            .matches(
                "jsock: sent data.bin: 32.0 MiB in \\d+\\.\\d\\d s \\(.* MiB/s\\), SHA-256 "
                    + sha256
                    + " verified\n");
      }
    }
  }

  /**
   * A receiver behind a slow link (at most 1.6 MiB/s for its first 12 MiB, then as fast as it goes,
   * so that the answer is not held behind a full send buffer) takes bytes all the time, yet a 4 MiB
   * sendfile chunk takes it over 2.5 s: {@code -w 2s} bounds each wait for it to take data (as
   * Python's sendfile bounds each wait), not the chunk as a whole.
   */
  @Tag("slow")
  @Test
  void aReceiverThatTakesDataSteadilyButSlowlyIsNotTimedOut() throws Exception {
    Path data = randomFile("data.bin", 16 << 20, 11);
    Path out = dir.resolve("out.bin");
    try (RunningProcess receiver = jsock("receive", "0", out.toString());
        Socket link = Socket.create()) {
      link.setSockOpt(StandardSocketOptions.SO_RCVBUF, 64 * 1024); // the accepted one's
      link.bind("127.0.0.1", 0);
      link.listen();
      int receiverPort = portOf(receiver);
      Thread slowLink =
          Thread.ofVirtual()
              .start(
                  () -> {
                    try (Socket in = link.accept().conn();
                        Socket onward = Socket.create()) {
                      onward.connect("127.0.0.1", receiverPort);
                      Thread back = Thread.ofVirtual().start(() -> copy(onward, in, 0));
                      copy(in, onward, 12 << 20); // 32 KiB at most every 20 ms, then at once
                      back.join();
                    } catch (Exception e) {
                      throw new AssertionError(e);
                    }
                  });
      try (RunningProcess sender =
          jsock(
              "send",
              "-w",
              "2s",
              data.toString(),
              "127.0.0.1",
              "" + ((InetSocketAddress) link.getSockName()).getPort())) {
        assertThat(sender.exitCode()).as(sender.stderrSoFar()).isZero();
        assertThat(receiver.exitCode()).as(receiver.stderrSoFar()).isZero();
        assertThat(sha256(out)).isEqualTo(sha256(data));
      }
      slowLink.join(LIMIT);
    }
  }

  /**
   * Copies {@code from} to {@code to}, 32 KiB a read, pausing 20 ms after each read until {@code
   * slowBytes} have gone; passes the end on.
   */
  private static void copy(Socket from, Socket to, long slowBytes) {
    byte[] buf = new byte[32 * 1024];
    try {
      long copied = 0;
      int n;
      while ((n = from.recvInto(buf, 0)) > 0) {
        to.sendAll(java.nio.ByteBuffer.wrap(buf, 0, n));
        copied += n;
        if (copied < slowBytes) {
          Thread.sleep(20);
        }
      }
      to.shutdown(Shutdown.SHUT_WR);
    } catch (Exception e) {
      // the other side closed first: the test's assertions say what went wrong
    }
  }

  @Test
  void resumeSendsOnlyTheRestAfterAMatchingPart() throws Exception {
    int size = 4 << 20;
    Path data = randomFile("data.bin", size, 2);
    Path out = dir.resolve("out.bin");
    Files.write(dir.resolve("out.bin.part"), prefix(data, size / 2));
    try (RunningProcess receiver = jsock("receive", "--resume", "--json", "0", out.toString())) {
      int port = portOf(receiver);
      try (RunningProcess sender =
          jsock("send", "--json", data.toString(), "127.0.0.1", "" + port)) {
        assertThat(sender.exitCode()).as(sender.stderrSoFar()).isZero();
        assertThat(receiver.exitCode()).as(receiver.stderrSoFar()).isZero();
        assertThat(sha256(out)).isEqualTo(sha256(data));
        assertThat(sender.lines().getFirst())
            .contains("\"size\":4194304,\"bytes\":2097152,\"resumed_from\":2097152,");
        assertThat(receiver.lines().getFirst())
            .contains("\"bytes\":2097152,\"resumed_from\":2097152,");
        assertThat(sender.stderr()).contains(", resumed at byte 2097152, SHA-256 ");
      }
    }
  }

  @Test
  void aTransferCutShortKeepsItsPartAndResumeFinishesIt() throws Exception {
    int size = 1 << 20;
    Path data = randomFile("data.bin", size, 8);
    Path out = dir.resolve("out.bin");
    Path part = dir.resolve("out.bin.part");
    byte[] all = Files.readAllBytes(data);
    try (RunningProcess receiver = jsock("receive", "0", out.toString())) {
      int port = portOf(receiver);
      try (Socket conn = Socket.create()) {
        conn.setTimeout(LIMIT);
        conn.connect("127.0.0.1", port);
        conn.sendAll(header("data.bin", size, MessageDigest.getInstance("SHA-256").digest(all)));
        DataInputStream in = new DataInputStream(conn.getInputStream());
        assertThat(in.readUnsignedByte()).isEqualTo('G');
        assertThat(in.readLong()).as("offset").isZero();
        conn.sendAll(new byte[] {'D'});
        conn.sendAll(Arrays.copyOf(all, size / 2));
      }
      assertThat(receiver.exitCode()).isEqualTo(1);
      assertThat(receiver.stderr())
          .endsWith(
              "jsock: the sender closed the connection after 524288 of 1048576 bytes; they are"
                  + " kept in "
                  + part
                  + " (receive again with --resume to continue)\n");
    }
    assertThat(out).doesNotExist();
    assertThat(Files.readAllBytes(part)).isEqualTo(Arrays.copyOf(all, size / 2));

    try (RunningProcess receiver = jsock("receive", "--resume", "0", out.toString())) {
      int port = portOf(receiver);
      try (RunningProcess sender =
          jsock("send", "--json", data.toString(), "127.0.0.1", "" + port)) {
        assertThat(sender.exitCode()).as(sender.stderrSoFar()).isZero();
        assertThat(sender.lines().getFirst()).contains("\"bytes\":524288,\"resumed_from\":524288,");
      }
      assertThat(receiver.exitCode()).isZero();
    }
    assertThat(Files.readAllBytes(out)).isEqualTo(all);
    assertThat(part).doesNotExist();
  }

  @Test
  void aSecondReceiverRefusesThePartFileAnotherReceiverIsWriting() throws Exception {
    int size = 1 << 20;
    Path data = randomFile("data.bin", size, 21);
    byte[] all = Files.readAllBytes(data);
    Path other = Files.createDirectory(dir.resolve("other"));
    Files.write(other.resolve("data.bin"), new byte[size]); // another file, under the same name
    Path out = Files.createDirectory(dir.resolve("out"));
    Path part = out.resolve("data.bin.part");
    try (RunningProcess first = jsock("receive", "0", out.toString());
        RunningProcess second = jsock("receive", "0", out.toString())) {
      int firstPort = portOf(first);
      int secondPort = portOf(second);
      try (Socket conn = Socket.create()) {
        conn.setTimeout(LIMIT);
        conn.connect("127.0.0.1", firstPort);
        conn.sendAll(header("data.bin", size, MessageDigest.getInstance("SHA-256").digest(all)));
        DataInputStream in = new DataInputStream(conn.getInputStream());
        assertThat(in.readUnsignedByte()).isEqualTo('G');
        assertThat(in.readLong()).as("offset").isZero();
        conn.sendAll(new byte[] {'D'});
        conn.sendAll(Arrays.copyOf(all, size / 2));
        await().atMost(LIMIT).until(() -> Files.size(part) == size / 2);

        try (RunningProcess sender =
            jsock("send", other.resolve("data.bin").toString(), "127.0.0.1", "" + secondPort)) {
          assertThat(sender.exitCode()).isEqualTo(1);
          assertThat(sender.stderr())
              .isEqualTo(
                  "jsock: the receiver refused: cannot write "
                      + part
                      + ": another receiver is writing it\n");
        }
        assertThat(second.exitCode()).isEqualTo(1);

        conn.sendAll(Arrays.copyOfRange(all, size / 2, size));
        conn.shutdown(Shutdown.SHUT_WR);
        assertThat(in.readUnsignedByte()).as("verdict").isEqualTo('K');
      }
      assertThat(first.exitCode()).as(first.stderrSoFar()).isZero();
    }
    assertThat(Files.readAllBytes(out.resolve("data.bin"))).isEqualTo(all);
    assertThat(part).doesNotExist();
  }

  @Test
  void theReceiverKeepsNothingWhenTheDataDoesNotMatchTheAnnouncedSha256() throws Exception {
    byte[] data = "not what was announced".getBytes(UTF_8);
    Path out = dir.resolve("out.bin");
    try (RunningProcess receiver = jsock("receive", "0", out.toString())) {
      int port = portOf(receiver);
      try (Socket conn = Socket.create()) {
        conn.setTimeout(LIMIT);
        conn.connect("127.0.0.1", port);
        conn.sendAll(header("data.bin", data.length, new byte[32]));
        DataInputStream in = new DataInputStream(conn.getInputStream());
        assertThat(in.readUnsignedByte()).isEqualTo('G');
        assertThat(in.readLong()).isZero();
        conn.sendAll(new byte[] {'D'});
        conn.sendAll(data);
        assertThat(in.readUnsignedByte()).as("verdict").isEqualTo('M');
        byte[] got = new byte[32];
        in.readFully(got);
        assertThat(got).isEqualTo(MessageDigest.getInstance("SHA-256").digest(data));
      }
      assertThat(receiver.exitCode()).isEqualTo(1);
      assertThat(receiver.stderr())
          .contains("jsock: SHA-256 mismatch: data.bin should be " + "00".repeat(32) + ", got ")
          .endsWith(dir.resolve("out.bin.part") + " deleted\n");
    }
    try (var files = Files.list(dir)) {
      assertThat(files).isEmpty();
    }
  }

  @Test
  void theSenderHashesItsFileBeforeConnectingSoTheReceiversTimeoutDoesNotRunMeanwhile()
      throws Exception {
    // connected first, a sender hashing a big file kept the receiver waiting for the header past
    // its --timeout (receive -w 100ms and a 900 MB file: the receiver timed out, exit 4)
    int size = 64 << 20;
    Path data = randomFile("data.bin", size, 14);
    try (Socket listener = Socket.create()) {
      listener.bind("127.0.0.1", 0);
      listener.listen();
      listener.setTimeout(LIMIT);
      int port = ((InetSocketAddress) listener.getSockName()).getPort();
      try (RunningProcess sender = jsock("send", data.toString(), "127.0.0.1", "" + port);
          Socket conn = listener.accept().conn()) {
        assertThat(bytesRead(sender.pid()))
            .as("bytes the sender had read when it connected")
            .isGreaterThanOrEqualTo(size);
      }
    }
  }

  @Test
  void theSenderExits1WhenTheReceiverReportsAMismatch() throws Exception {
    Path data = randomFile("data.bin", 50_000, 12);
    try (Socket listener = Socket.create()) {
      listener.bind("127.0.0.1", 0);
      listener.listen();
      int port = ((InetSocketAddress) listener.getSockName()).getPort();
      try (RunningProcess sender = jsock("send", data.toString(), "127.0.0.1", "" + port)) {
        listener.setTimeout(LIMIT);
        try (Socket conn = listener.accept().conn()) {
          conn.setTimeout(LIMIT);
          DataInputStream in = new DataInputStream(conn.getInputStream());
          in.readFully(new byte[4 + 1 + 2 + "data.bin".length() + 8 + 32]);
          conn.sendAll(new byte[] {'G', 0, 0, 0, 0, 0, 0, 0, 0});
          assertThat(in.readUnsignedByte()).isEqualTo('D');
          in.readFully(new byte[50_000]);
          byte[] verdict = new byte[33];
          verdict[0] = 'M';
          conn.sendAll(verdict);
        }
        assertThat(sender.exitCode()).isEqualTo(1);
        assertThat(sender.stderr())
            .isEqualTo(
                "jsock: SHA-256 mismatch: data.bin is "
                    + sha256(data)
                    + ", the receiver got "
                    + "00".repeat(32)
                    + "; the receiver kept nothing\n");
      }
    }
  }

  // What the receiver says is shown on the sender's terminal: a hostile receiver (or anyone on the
  // path, without TLS) could otherwise send it escape sequences (ESC ] retitles a window, U+009B is
  // a CSI), as a sender could before names were shown through TransferProtocol.printable
  @Test
  void theSenderShowsControlCharactersFromTheReceiverAsQuestionMarks() throws Exception {
    Path data = randomFile("data.bin", 50_000, 13);
    String hostile = "out\u001b]0;owned\u0007\u009b2J\n.bin";
    String shown = "out?]0;owned??2J?.bin";
    try (Socket listener = Socket.create()) {
      listener.bind("127.0.0.1", 0);
      listener.listen();
      listener.setTimeout(LIMIT);
      int port = ((InetSocketAddress) listener.getSockName()).getPort();
      for (boolean resume : new boolean[] {false, true}) {
        try (RunningProcess sender = jsock("send", data.toString(), "127.0.0.1", "" + port)) {
          try (Socket conn = listener.accept().conn()) {
            conn.setTimeout(LIMIT);
            DataInputStream in = new DataInputStream(conn.getInputStream());
            in.readFully(new byte[4 + 1 + 2 + "data.bin".length() + 8 + 32]);
            ByteArrayOutputStream answer = new ByteArrayOutputStream();
            DataOutputStream out = new DataOutputStream(answer);
            byte[] text = (resume ? hostile : "cannot write " + hostile).getBytes(UTF_8);
            if (resume) {
              out.writeByte('G');
              out.writeLong(10);
              out.writeShort(text.length);
              out.write(text);
              out.write(new byte[32]); // not the SHA-256 of data.bin's first 10 bytes
            } else {
              out.writeByte('R');
              out.writeShort(text.length);
              out.write(text);
            }
            conn.sendAll(answer.toByteArray());
            if (resume) {
              assertThat(in.readUnsignedByte()).as("resume refused").isEqualTo('X');
            }
          }
          assertThat(sender.exitCode()).isEqualTo(1);
          assertThat(sender.stderr())
              .isEqualTo(
                  resume
                      ? "jsock: resume refused: the 10 bytes already at "
                          + shown
                          + " (on the receiver) differ from the start of data.bin\n"
                      : "jsock: the receiver refused: cannot write " + shown + "\n");
        }
      }
    }
  }

  @Test
  void keepOpenReceivesOneFileAfterAnotherIncludingAnEmptyOne() throws Exception {
    Path first = randomFile("first.bin", 300_000, 9);
    Path empty = Files.createFile(dir.resolve("empty.bin"));
    Path inbox = Files.createDirectory(dir.resolve("inbox"));
    try (RunningProcess receiver = jsock("receive", "-k", "--json", "0", inbox.toString())) {
      int port = portOf(receiver);
      for (Path file : List.of(first, empty)) {
        try (RunningProcess sender = jsock("send", file.toString(), "127.0.0.1", "" + port)) {
          assertThat(sender.exitCode()).as(sender.stderrSoFar()).isZero();
        }
      }
      assertThat(receiver.nextLine()).contains("\"size\":300000,");
      assertThat(receiver.nextLine()).contains("\"size\":0,\"bytes\":0,");
      assertThat(receiver.isAlive()).isTrue();
      receiver.terminate();
      receiver.exitCode();
    }
    assertThat(sha256(inbox.resolve("first.bin"))).isEqualTo(sha256(first));
    assertThat(inbox.resolve("empty.bin")).isEmptyFile();
  }

  @Test
  void sendsOverTlsToAReceiverItTrustsAndRefusesOneItDoesNot() throws Exception {
    Path data = randomFile("data.bin", 2 << 20, 10);
    PemFiles pem = PemFiles.selfSigned(dir);
    Path cert = pem.cert();
    Path key = pem.key();
    Path inbox = Files.createDirectory(dir.resolve("inbox"));
    try (RunningProcess receiver =
        jsock("receive", "--tls", "--cert", "" + cert, "--key", "" + key, "-k", "0", "" + inbox)) {
      int port = portOf(receiver);
      try (RunningProcess sender =
          jsock("send", "--tls", data.toString(), "127.0.0.1", "" + port)) {
        assertThat(sender.exitCode()).as("an untrusted certificate").isEqualTo(5);
      }
      assertThat(inbox).isEmptyDirectory();
      try (RunningProcess sender =
          jsock("send", "--tls", "--ca", "" + cert, data.toString(), "127.0.0.1", "" + port)) {
        assertThat(sender.exitCode()).as(sender.stderrSoFar()).isZero();
      }
      receiver.terminate();
      receiver.exitCode();
    }
    assertThat(sha256(inbox.resolve("data.bin"))).isEqualTo(sha256(data));
  }

  // a plain sender met a TLS receiver's alert (content type 21) as "the receiver sent an unknown
  // answer: 21", and a plain receiver met a TLS sender's ClientHello (content type 22) as "no JSXF
  // header; is it jsock send?": each now says that its peer speaks TLS and which option is missing
  @Test
  void aPlainEndMetByATlsEndSaysThatItsPeerSpeaksTls() throws Exception {
    Path data = randomFile("data.bin", 1000, 12);
    PemFiles pem = PemFiles.selfSigned(dir);
    Path inbox = Files.createDirectory(dir.resolve("inbox"));
    try (RunningProcess receiver =
        jsock(
            "receive",
            "--tls",
            "--cert",
            "" + pem.cert(),
            "--key",
            "" + pem.key(),
            "0",
            "" + inbox)) {
      int port = portOf(receiver);
      try (RunningProcess sender = jsock("send", "" + data, "127.0.0.1", "" + port)) {
        assertThat(sender.exitCode()).isEqualTo(1);
        assertThat(sender.stderr())
            .isEqualTo(
                "jsock: the receiver speaks TLS (it answered with a TLS record): use send --tls\n");
      }
      receiver.exitCode();
    }
    try (RunningProcess receiver = jsock("receive", "0", "" + inbox)) {
      int port = portOf(receiver);
      try (RunningProcess sender =
          jsock("send", "--tls", "--ca", "" + pem.cert(), "" + data, "127.0.0.1", "" + port)) {
        sender.exitCode();
      }
      assertThat(receiver.exitCode()).isEqualTo(1);
      assertThat(receiver.stderr())
          .endsWith(
              "jsock: the peer speaks TLS (a TLS record instead of a JSXF header): use receive"
                  + " --tls\n");
    }
    assertThat(inbox).isEmptyDirectory();
  }

  @Test
  void sendsWaitBoundsTheTlsHandshakeAsItBoundsTheConnect() throws Exception {
    Path data = randomFile("data.bin", 10, 11);
    PemFiles pem = PemFiles.selfSigned(dir);
    try (Socket silent = Socket.create()) {
      silent.bind("127.0.0.1", 0);
      silent.listen(); // accepted, then never a word of TLS
      int port = ((InetSocketAddress) silent.getSockName()).getPort();
      try (RunningProcess sender =
          jsock(
              "send",
              "--tls",
              "--ca",
              "" + pem.cert(),
              "-w",
              "1s",
              "" + data,
              "127.0.0.1",
              "" + port)) {
        try (Socket conn = silent.accept().conn()) {
          // The handshake's own 10 s are not -w: reset the connection if the sender waits on
          // past -w and a margin, so that such a sender says "connection reset", not "timed out".
          for (int i = 0; i < 80 && sender.isAlive(); i++) {
            Thread.sleep(100);
          }
          conn.setSockOpt(StandardSocketOptions.SO_LINGER, 0);
        }
        assertThat(sender.exitCode()).as(sender.stderrSoFar()).isEqualTo(4);
        assertThat(sender.stderr())
            .isEqualTo("jsock: tls handshake with 127.0.0.1:" + port + ": timed out\n");
      }
    }
  }

  @Test
  void receivesWaitBoundsTheTlsHandshakeAsItBoundsTheHeader() throws Exception {
    PemFiles pem = PemFiles.selfSigned(dir);
    try (RunningProcess receiver =
        jsock(
            "receive",
            "--tls",
            "--cert",
            "" + pem.cert(),
            "--key",
            "" + pem.key(),
            "-w",
            "1s",
            "0",
            "" + dir)) {
      int port = portOf(receiver);
      try (Socket conn = Socket.create()) {
        conn.connect("127.0.0.1", port); // and never a word of TLS
        for (int i = 0; i < 80 && receiver.isAlive(); i++) {
          Thread.sleep(100);
        }
        conn.setSockOpt(StandardSocketOptions.SO_LINGER, 0); // a receiver still waiting: reset
      }
      assertThat(receiver.exitCode()).as(receiver.stderrSoFar()).isEqualTo(4);
      assertThat(receiver.stderr())
          .matches("(?s).*jsock: tls handshake with 127\\.0\\.0\\.1:\\d+: timed out\n");
    }
  }

  @Test
  void resumeIsRefusedOnBothSidesWhenThePartDiffersAndThePartIsLeftAlone() throws Exception {
    int size = 1 << 20;
    Path data = randomFile("data.bin", size, 3);
    Path part = dir.resolve("out.bin.part");
    byte[] wrong = prefix(data, 12345);
    wrong[100] ^= 1;
    Files.write(part, wrong);
    try (RunningProcess receiver = jsock("receive", "--resume", "0", dir.resolve("out.bin") + "")) {
      int port = portOf(receiver);
      try (RunningProcess sender = jsock("send", data.toString(), "127.0.0.1", "" + port)) {
        assertThat(sender.exitCode()).isEqualTo(1);
        assertThat(receiver.exitCode()).isEqualTo(1);
        assertThat(sender.stderr())
            .isEqualTo(
                "jsock: resume refused: the 12345 bytes already at out.bin.part (on the receiver)"
                    + " differ from the start of data.bin\n");
        assertThat(receiver.stderr())
            .endsWith(
                "jsock: resume refused: the 12345 bytes already at "
                    + part
                    + " differ from the start of data.bin (left as they were)\n");
      }
    }
    assertThat(Files.readAllBytes(part)).isEqualTo(wrong);
    assertThat(dir.resolve("out.bin")).doesNotExist();
  }

  @Test
  void aSenderNameWithAPathIsRefusedAndNothingIsWritten() throws Exception {
    Path inbox = Files.createDirectory(dir.resolve("inbox"));
    List<String> names = List.of("../escaped.bin", "a/b.bin", "..", "/etc/evil");
    try (RunningProcess receiver = jsock("receive", "-k", "0", inbox.toString())) {
      int port = portOf(receiver);
      for (String name : names) {
        try (Socket conn = Socket.create()) {
          conn.setTimeout(LIMIT);
          conn.connect("127.0.0.1", port);
          conn.sendAll(header(name, 3, new byte[32]));
          DataInputStream in = new DataInputStream(conn.getInputStream());
          assertThat(in.readUnsignedByte()).as("answer to %s", name).isEqualTo('R');
          byte[] message = new byte[in.readUnsignedShort()];
          in.readFully(message);
          assertThat(new String(message, UTF_8))
              .startsWith("refused the file name '" + name + "' from the sender: not a plain");
        }
      }
      for (String name : names) {
        await()
            .atMost(LIMIT)
            .until(
                () ->
                    receiver.stderrSoFar().contains("jsock: refused the file name '" + name + "'"));
      }
      receiver.terminate();
      receiver.exitCode();
    }
    try (var files = Files.list(dir)) {
      assertThat(files.map(p -> p.getFileName().toString())).containsExactly("inbox");
    }
    try (var files = Files.list(inbox)) {
      assertThat(files).isEmpty();
    }
  }

  @Test
  void aSenderThatLeavesAfterTheAnswerBeforeAnyDataLeavesNoPartBehind() throws Exception {
    Path inbox = Files.createDirectory(dir.resolve("inbox"));
    try (RunningProcess receiver = jsock("receive", "-k", "0", inbox.toString())) {
      try (Socket conn = Socket.create()) {
        conn.setTimeout(LIMIT);
        conn.connect("127.0.0.1", portOf(receiver));
        conn.sendAll(header("late.bin", 3, new byte[32]));
        DataInputStream in = new DataInputStream(conn.getInputStream());
        assertThat(in.readUnsignedByte()).isEqualTo('G');
        conn.shutdown(Shutdown.SHUT_WR); // no go-ahead, no data: the sender has left
        in.readAllBytes(); // the rest of the answer, until the receiver closes
      }
      await()
          .atMost(LIMIT)
          .until(
              () ->
                  receiver
                      .stderrSoFar()
                      .contains("jsock: the sender closed the connection before any data"));
      receiver.terminate();
      receiver.exitCode();
    }
    try (var files = Files.list(inbox)) {
      assertThat(files).isEmpty();
    }
  }

  @Test
  void aTransferCutShortByATimeoutOrAResetSaysItsPartIsKeptForResume() throws Exception {
    Path inbox = Files.createDirectory(dir.resolve("inbox"));
    try (RunningProcess receiver = jsock("receive", "-k", "-w", "1s", "0", inbox.toString())) {
      int port = portOf(receiver);
      for (boolean reset : new boolean[] {false, true}) {
        String name = reset ? "reset.bin" : "stalled.bin";
        try (Socket conn = Socket.create()) {
          conn.setTimeout(LIMIT);
          conn.connect("127.0.0.1", port);
          conn.sendAll(header(name, 10, new byte[32]));
          assertThat(conn.recv(1)).containsExactly('G');
          conn.sendAll(new byte[] {'D', 1, 2, 3}); // the go-ahead and 3 of the 10 bytes
          String expected =
              " after 3 of 10 bytes; they are kept in "
                  + inbox.resolve(name + ".part")
                  + " (receive again with --resume to continue)";
          if (reset) {
            await().atMost(LIMIT).until(() -> Files.size(inbox.resolve(name + ".part")) == 3);
            conn.setSockOpt(StandardSocketOptions.SO_LINGER, 0);
            conn.close();
            expected = "connection reset by peer" + expected;
          } else {
            expected = "timed out" + expected;
          }
          String line = expected;
          await().atMost(LIMIT).until(() -> receiver.stderrSoFar().contains(line));
        }
        assertThat(Files.readAllBytes(inbox.resolve(name + ".part"))).containsExactly(1, 2, 3);
      }
      receiver.terminate();
      receiver.exitCode();
    }
  }

  @Test
  void aPlainSenderNameLandsInTheGivenDirectory() throws Exception {
    Path data = randomFile("plain.bin", 100_000, 4);
    Path inbox = Files.createDirectory(dir.resolve("inbox"));
    try (RunningProcess receiver = jsock("receive", "0", inbox.toString())) {
      int port = portOf(receiver);
      try (RunningProcess sender = jsock("send", data.toString(), "localhost", "" + port)) {
        assertThat(sender.exitCode()).as(sender.stderrSoFar()).isZero();
      }
      assertThat(receiver.exitCode()).isZero();
    }
    assertThat(sha256(inbox.resolve("plain.bin"))).isEqualTo(sha256(data));
  }

  /**
   * ncat and socat take every argument as written: a file whose name begins with '@' is a file.
   * picocli's argument files read {@code @notes.txt} as the arguments in {@code notes.txt}, so
   * {@code send @notes.txt} sent nothing and said "FILE: abc does not exist".
   */
  @Test
  void aFileWhoseNameBeginsWithAnAtSignIsSentAsItIs() throws Exception {
    Path work = Files.createDirectory(dir.resolve("work"));
    Files.writeString(work.resolve("@notes.txt"), "the notes\n");
    Files.writeString(work.resolve("notes.txt"), "abc\n");
    Path inbox = Files.createDirectory(dir.resolve("inbox"));
    try (RunningProcess receiver = jsock("receive", "0", inbox.toString())) {
      int port = portOf(receiver);
      String command =
          "cd '"
              + work
              + "' && exec '"
              + RunningProcess.REPO.resolve("jsock")
              + "' send @notes.txt 127.0.0.1 "
              + port;
      try (RunningProcess sender = RunningProcess.start(List.of("bash", "-c", command), Map.of())) {
        assertThat(sender.exitCode()).as(sender.stderrSoFar()).isZero();
      }
      assertThat(receiver.exitCode()).isZero();
    }
    assertThat(inbox.resolve("@notes.txt")).hasContent("the notes");
  }

  @Test
  void aFileWrittenAsADirectoryThatDoesNotExistIsAUsageError() throws Exception {
    Path incoming = dir.resolve("incoming");
    try (RunningProcess receiver = jsock("receive", "0", incoming + "/")) {
      assertThat(receiver.exitCode()).as(receiver.stderrSoFar()).isEqualTo(2);
      assertThat(receiver.stderr())
          .startsWith("jsock: FILE: no directory " + incoming + " to receive into\n");
    }
    assertThat(incoming).doesNotExist();
  }

  @Test
  void sendsStandardInputUnderTheGivenName() throws Exception {
    Path data = randomFile("data.bin", 700_000, 11);
    Path inbox = Files.createDirectory(dir.resolve("inbox"));
    try (RunningProcess receiver = jsock("receive", "0", inbox.toString())) {
      int port = portOf(receiver);
      String command =
          "exec ./jsock send --json --name piped.bin - 127.0.0.1 " + port + " < " + data;
      try (RunningProcess sender = RunningProcess.start(List.of("bash", "-c", command), Map.of())) {
        assertThat(sender.exitCode()).as(sender.stderrSoFar()).isZero();
        assertThat(sender.lines().getFirst())
            .startsWith("{\"file\":\"piped.bin\",\"size\":700000,");
      }
      assertThat(receiver.exitCode()).isZero();
    }
    assertThat(sha256(inbox.resolve("piped.bin"))).isEqualTo(sha256(data));
  }

  /**
   * O_NONBLOCK belongs to the open pipe, shared by every process using it, so a parent may leave
   * stdin non-blocking: the first read that found it empty failed the send with "Resource
   * temporarily unavailable" (exit 1) instead of waiting for the rest.
   */
  @Test
  void sendsANonBlockingStandardInputWholeThoughItComesInTwoParts() throws Exception {
    String parent =
        """
        import fcntl, os, struct, subprocess, sys, termios, time
        r, w = os.pipe()
        fcntl.fcntl(r, fcntl.F_SETFL, fcntl.fcntl(r, fcntl.F_GETFL) | os.O_NONBLOCK)
        child = subprocess.Popen(sys.argv[1:], stdin=r)
        os.write(w, b"first\\n")
        for _ in range(6000):  # until jsock has taken it: its next read finds the pipe empty
            if struct.unpack("i", fcntl.ioctl(r, termios.FIONREAD, b"0000"))[0] == 0:
                break
            time.sleep(0.01)
        os.write(w, b"second\\n")
        os.close(w)
        os.close(r)
        sys.exit(child.wait())
        """;
    Path inbox = Files.createDirectory(dir.resolve("inbox"));
    try (RunningProcess receiver = jsock("receive", "0", inbox.toString())) {
      int port = portOf(receiver);
      List<String> command = new ArrayList<>(List.of("python3", "-c", parent));
      command.addAll(
          PipedProcess.jsock("send", "--name", "parts.txt", "-", "127.0.0.1", "" + port));
      try (RunningProcess sender = RunningProcess.start(command, Map.of())) {
        assertThat(sender.exitCode()).as(sender.stderrSoFar()).isZero();
      }
      assertThat(receiver.exitCode()).as(receiver.stderrSoFar()).isZero();
    }
    assertThat(Files.readString(inbox.resolve("parts.txt"))).isEqualTo("first\nsecond\n");
  }

  @Test
  void standardInputSpooledForSendingLeavesNoTemporaryFileWhenTheSenderIsKilled() throws Exception {
    Path data = randomFile("data.bin", 700_000, 13);
    Path tmp = Files.createDirectory(dir.resolve("tmp"));
    try (Socket listener = Socket.create()) {
      listener.bind("127.0.0.1", 0);
      listener.listen();
      listener.setTimeout(LIMIT);
      int port = ((InetSocketAddress) listener.getSockName()).getPort();
      String command = "exec ./jsock send - 127.0.0.1 " + port + " < " + data;
      try (RunningProcess sender =
          RunningProcess.start(
              List.of("bash", "-c", command),
              Map.of("JSOCK_JAVA_OPTS", "-Djava.io.tmpdir=" + tmp))) {
        try (Socket conn = listener.accept().conn()) {
          conn.setTimeout(LIMIT);
          // the whole header: standard input is spooled, and the sender waits for the answer
          new DataInputStream(conn.getInputStream())
              .readFully(new byte[4 + 1 + 2 + "stdin".length() + 8 + 32]);
          sender.terminate();
          assertThat(sender.exitCode()).isEqualTo(143);
        }
      }
    }
    try (var files = Files.list(tmp)) {
      assertThat(files).as("temporary files left in " + tmp).isEmpty();
    }
  }

  @Test
  void anExistingFileIsReplacedOnlyWithForce() throws Exception {
    Path data = randomFile("data.bin", 100_000, 5);
    Path out = Files.writeString(dir.resolve("out.bin"), "keep me");
    try (RunningProcess receiver = jsock("receive", "0", out.toString())) {
      int port = portOf(receiver);
      try (RunningProcess sender = jsock("send", data.toString(), "127.0.0.1", "" + port)) {
        assertThat(sender.exitCode()).isEqualTo(1);
        assertThat(sender.stderr())
            .isEqualTo(
                "jsock: the receiver refused: "
                    + out
                    + " exists (receive with --force to replace it)\n");
      }
      assertThat(receiver.exitCode()).isEqualTo(1);
    }
    assertThat(Files.readString(out)).isEqualTo("keep me");
    assertThat(dir.resolve("out.bin.part")).doesNotExist();

    try (RunningProcess receiver = jsock("receive", "--force", "0", out.toString())) {
      int port = portOf(receiver);
      try (RunningProcess sender = jsock("send", data.toString(), "127.0.0.1", "" + port)) {
        assertThat(sender.exitCode()).as(sender.stderrSoFar()).isZero();
      }
      assertThat(receiver.exitCode()).isZero();
    }
    assertThat(sha256(out)).isEqualTo(sha256(data));
  }

  @Test
  void aSymbolicLinkInFilesPlaceIsAnExistingFileEvenWhenItLeadsNowhere() throws Exception {
    Path data = randomFile("data.bin", 100_000, 10);
    Path inbox = Files.createDirectory(dir.resolve("inbox"));
    Path link = Files.createSymbolicLink(inbox.resolve("data.bin"), dir.resolve("nowhere"));
    try (RunningProcess receiver = jsock("receive", "0", inbox.toString())) {
      int port = portOf(receiver);
      try (RunningProcess sender = jsock("send", data.toString(), "127.0.0.1", "" + port)) {
        assertThat(sender.exitCode()).as(sender.stderrSoFar()).isEqualTo(1);
        assertThat(sender.stderr())
            .isEqualTo(
                "jsock: the receiver refused: "
                    + link
                    + " exists (receive with --force to replace it)\n");
      }
      assertThat(receiver.exitCode()).isEqualTo(1);
    }
    assertThat(Files.readSymbolicLink(link)).isEqualTo(dir.resolve("nowhere"));
    assertThat(inbox.resolve("data.bin.part")).doesNotExist();
  }

  // A full disk fails the same way (ENOSPC); a file size limit (ulimit -f, EFBIG: the JVM ignores
  // SIGXFSZ) makes it happen for any user without filling a disk
  @Test
  void aPartFileThatCannotTakeTheDataSaysWhatItKeptAndWhere() throws Exception {
    int size = 1 << 20;
    Path data = randomFile("data.bin", size, 12);
    Path inbox = Files.createDirectory(dir.resolve("inbox"));
    Path part = inbox.resolve("data.bin.part");
    try (RunningProcess receiver =
        RunningProcess.start(
            List.of("bash", "-c", "ulimit -f 256 && exec ./jsock receive 0 " + inbox), Map.of())) {
      int port = portOf(receiver);
      try (RunningProcess sender = jsock("send", data.toString(), "127.0.0.1", "" + port)) {
        assertThat(sender.exitCode()).as(sender.stderrSoFar()).isEqualTo(1);
      }
      assertThat(receiver.exitCode()).isEqualTo(1);
      assertThat(receiver.stderr())
          .endsWith(
              "jsock: cannot write "
                  + part
                  + ": file too large after 262144 of 1048576 bytes; they are kept in "
                  + part
                  + " (receive again with --resume to continue)\n");
    }
    assertThat(Files.readAllBytes(part)).isEqualTo(prefix(data, 256 << 10));
    assertThat(inbox.resolve("data.bin")).doesNotExist();
  }

  // An unwritable directory does the same for a user other than root; a directory in the part
  // file's place fails to open for root too
  @Test
  void aPartFileThatCannotBeWrittenIsRefusedOnBothSidesWithItsReason() throws Exception {
    Path data = randomFile("data.bin", 100_000, 8);
    Path out = dir.resolve("out.bin");
    Path part = Files.createDirectory(dir.resolve("out.bin.part"));
    String reason = "cannot write " + part + ": is a directory";
    try (RunningProcess receiver = jsock("receive", "0", out.toString())) {
      int port = portOf(receiver);
      try (RunningProcess sender = jsock("send", data.toString(), "127.0.0.1", "" + port)) {
        assertThat(sender.exitCode()).isEqualTo(1);
        assertThat(sender.stderr()).isEqualTo("jsock: the receiver refused: " + reason + "\n");
      }
      assertThat(receiver.exitCode()).isEqualTo(1);
      assertThat(receiver.stderr()).endsWith("jsock: " + reason + "\n");
    }
    assertThat(out).doesNotExist();
    assertThat(part).isEmptyDirectory();
  }

  // A part file the receiver did not make may be a symbolic link (another user's, in a shared
  // directory): following it wrote the sender's bytes over the file it points to, outside FILE's
  // directory
  @Test
  void aPartFileThatIsASymbolicLinkIsRefusedAndItsTargetLeftAlone() throws Exception {
    Path data = randomFile("data.bin", 100_000, 9);
    Path victim = Files.writeString(dir.resolve("victim.txt"), "keep me");
    Path inbox = Files.createDirectory(dir.resolve("inbox"));
    Path part = Files.createSymbolicLink(inbox.resolve("data.bin.part"), victim);
    String reason = "cannot write " + part + ": it is a symbolic link (not followed)";
    for (String resume : new String[] {"--force", "--resume"}) {
      try (RunningProcess receiver = jsock("receive", resume, "0", inbox.toString())) {
        int port = portOf(receiver);
        try (RunningProcess sender = jsock("send", data.toString(), "127.0.0.1", "" + port)) {
          assertThat(sender.exitCode()).as(sender.stderrSoFar()).isEqualTo(1);
          assertThat(sender.stderr()).isEqualTo("jsock: the receiver refused: " + reason + "\n");
        }
        assertThat(receiver.exitCode()).isEqualTo(1);
        assertThat(receiver.stderr()).endsWith("jsock: " + reason + "\n");
      }
      assertThat(Files.readString(victim)).as(resume).isEqualTo("keep me");
      assertThat(Files.readSymbolicLink(part)).isEqualTo(victim);
      assertThat(inbox.resolve("data.bin")).doesNotExist();
    }
  }

  @Test
  void sendingToAPortNobodyListensOnExits3() throws Exception {
    Path data = randomFile("data.bin", 10, 6);
    int port = FreePort.find();
    try (RunningProcess sender = jsock("send", data.toString(), "127.0.0.1", "" + port)) {
      assertThat(sender.exitCode()).isEqualTo(3);
      assertThat(sender.stderr())
          .isEqualTo("jsock: connect to 127.0.0.1:" + port + ": connection refused\n");
    }
  }

  // a slow --rate sent 16 KiB chunks at least, so at 4 KiB/s the receiver waited 4 s between
  // them and its -w 3s ended a healthy transfer; a chunk is now a tenth of a second's bytes. 3 s,
  // not less: the receiver's first answer and its verdict run cold code in a fresh JVM, which a
  // busy machine can make take a second
  @Tag("slow")
  @Test
  void aSlowRateSendsOftenEnoughForTheReceiversTimeout() throws Exception {
    Path data = randomFile("data.bin", 17 * 1024, 13);
    Path out = dir.resolve("out.bin");
    try (RunningProcess receiver = jsock("receive", "-w", "3s", "0", out.toString())) {
      int port = portOf(receiver);
      try (RunningProcess sender =
          jsock("send", "--rate", "4KiB/s", "-w", "3s", "" + data, "127.0.0.1", "" + port)) {
        assertThat(sender.exitCode()).as(sender.stderrSoFar()).isZero();
      }
      assertThat(receiver.exitCode()).as(receiver.stderrSoFar()).isZero();
    }
    assertThat(Files.readAllBytes(out)).isEqualTo(Files.readAllBytes(data));
  }

  @Test
  void aBadRateIsAUsageErrorNamingTheOption() throws Exception {
    try (RunningProcess sender = jsock("send", "--rate", "fast", "f", "127.0.0.1", "9")) {
      assertThat(sender.exitCode()).isEqualTo(2);
      assertThat(sender.stderr()).startsWith("jsock: Invalid value for option '--rate': ");
    }
  }

  /**
   * Runs {@code ./jsock send} in a tmux pane (a real terminal, 100×12) and captures the screen
   * while the rate-limited transfer runs: the bar shows percentage, bytes, elapsed / ETA and rate.
   * The capture is kept as cli/target/send-progress.txt (a copy is docs/cli/send-progress.txt).
   */
  @Test
  void sendShowsAProgressBarInATerminal() throws Exception {
    Assumptions.assumeTrue(
        onPath("tmux"), "tmux is not installed: the terminal session test cannot run");
    Path data = randomFile("data.bin", 8 << 20, 7);
    Path out = dir.resolve("out.bin");
    String socket = "jsock-it-" + ProcessHandle.current().pid() + "-" + System.nanoTime();
    try (RunningProcess receiver = jsock("receive", "0", out.toString())) {
      int port = portOf(receiver);
      String command =
          "cd "
              + RunningProcess.REPO
              + " && JSOCK_JAR="
              + System.getProperty("jsock.jar")
              + " ./jsock send --rate 2MiB/s "
              + data
              + " 127.0.0.1 "
              + port
              + "; echo EXIT=$?; sleep 60";
      tmux(socket, "-f", "/dev/null", "new-session", "-d", "-x", "100", "-y", "12", command);
      try {
        Pattern bar =
            Pattern.compile(
                "send data\\.bin +(\\d+)% \\[[=> ]+\\] +\\d+/8MiB"
                    + " \\(\\d+:\\d\\d:\\d\\d / \\d+:\\d\\d:\\d\\d\\) +[\\d.]+MiB/s");
        List<String> screens = new ArrayList<>();
        await()
            .atMost(LIMIT)
            .pollInterval(Duration.ofMillis(250))
            .until(
                () -> {
                  String screen = tmux(socket, "capture-pane", "-p");
                  Matcher m = bar.matcher(screen);
                  if (m.find() && Integer.parseInt(m.group(1)) > 0 && !screen.contains("EXIT=")) {
                    screens.add(screen);
                  }
                  return screen.contains("EXIT=");
                });
        assertThat(screens).as("screens with the bar moving").isNotEmpty();
        String finalScreen = tmux(socket, "capture-pane", "-p");
        assertThat(finalScreen).contains("EXIT=0", "jsock: sent data.bin: 8.0 MiB in ");
        Files.writeString(
            RunningProcess.REPO.resolve("cli/target/send-progress.txt"),
            "$ ./jsock send --rate 2MiB/s data.bin 127.0.0.1 PORT    (tmux pane 100x12)\n\n"
                + "During the transfer:\n"
                + screens.get(screens.size() / 2).strip()
                + "\n\nAt the end:\n"
                + finalScreen.strip()
                + "\n");
      } finally {
        tmux(socket, "kill-server");
      }
      assertThat(receiver.exitCode()).isZero();
      assertThat(receiver.stderr()).doesNotContain("%").as("no bar where stderr is a pipe");
    }
    assertThat(sha256(out)).isEqualTo(sha256(data));
  }

  /**
   * A shell's background job ({@code jsock receive PORT &}) draws its bar on the shell's terminal
   * while the program in the foreground changes the terminal's modes (here: echo off, as a shell's
   * line editor does at its prompt). progressbar's JLine terminal put back the modes it had found
   * when the bar closed ({@code stty} from a background process group), and the kernel stopped the
   * receiver with SIGTTOU as its transfer ended. The terminal is a pty whose session a python3
   * "shell" leads; jsock is a process group of its own in it, as a job.
   */
  @Test
  void aReceiveRunningAsABackgroundJobOnATerminalFinishesWithoutTouchingItsModes()
      throws Exception {
    String shell =
        """
        import fcntl, os, pty, signal, subprocess, sys, termios
        cut = sys.argv.index("--")
        receive, send = sys.argv[1:cut], sys.argv[cut + 1:]
        master, slave = pty.openpty()
        ready_r, ready_w = os.pipe()
        pid = os.fork()
        if pid == 0:  # the shell: session leader, the pty its terminal, jsock a background job
            os.close(master)
            os.close(ready_w)
            os.setsid()
            fcntl.ioctl(slave, termios.TIOCSCTTY, 0)
            job = subprocess.Popen(receive, stdin=slave, stdout=subprocess.DEVNULL, stderr=slave,
                                   process_group=0)
            result = "receive did not listen"
            if os.read(ready_r, 1) == b"l":
                sender = subprocess.Popen(send, stdin=subprocess.DEVNULL,
                                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                if os.read(ready_r, 1) == b"b":  # the bar is drawn: echo off, as at a prompt
                    modes = termios.tcgetattr(slave)
                    modes[3] &= ~termios.ECHO
                    termios.tcsetattr(slave, termios.TCSANOW, modes)
                _, status = os.waitpid(job.pid, os.WUNTRACED)
                if os.WIFSTOPPED(status):
                    result = "receive stopped by signal %d" % os.WSTOPSIG(status)
                    os.killpg(job.pid, signal.SIGKILL)
                else:
                    result = "receive exited %d" % os.waitstatus_to_exitcode(status)
                sender.wait()
                echo = termios.tcgetattr(slave)[3] & termios.ECHO
                result += ", echo " + ("on" if echo else "off")
            else:
                job.kill()
            print(result, flush=True)
            os._exit(0)
        os.close(slave)
        os.close(ready_r)
        seen, told = b"", b""
        while True:  # the terminal's screen, which tells the shell when to go on
            try:
                data = os.read(master, 4096)
            except OSError:  # EIO: the session has ended
                break
            if not data:
                break
            seen += data
            if not told and b"receiving on" in seen:
                told = b"l"
                os.write(ready_w, told)
            elif told == b"l" and b"%" in seen:
                told = b"b"
                os.write(ready_w, told)
        os.waitpid(pid, 0)
        sys.stderr.write(seen.decode(errors="replace"))
        """;
    Path data = randomFile("data.bin", 2 << 20, 17);
    Path inbox = Files.createDirectory(dir.resolve("inbox"));
    int port = FreePort.find();
    List<String> command = new ArrayList<>(List.of("python3", "-c", shell));
    command.addAll(PipedProcess.jsock("receive", "" + port, inbox.toString()));
    command.add("--");
    command.addAll(
        PipedProcess.jsock("send", "--rate", "1MiB/s", data.toString(), "127.0.0.1", "" + port));
    try (RunningProcess session = RunningProcess.start(command, Map.of())) {
      assertThat(session.exitCode()).as(session.stderrSoFar()).isZero();
      assertThat(session.lines())
          .as(session.stderrSoFar())
          .containsExactly("receive exited 0, echo off");
    }
    assertThat(sha256(inbox.resolve("data.bin"))).isEqualTo(sha256(data));
  }

  @Test
  void installCompletionWritesAScriptThatBashLoads() throws Exception {
    Path data = Files.createDirectory(dir.resolve("data"));
    try (RunningProcess install =
        jsock(Map.of("XDG_DATA_HOME", data.toString()), "install-completion")) {
      assertThat(install.exitCode()).as(install.stderrSoFar()).isZero();
    }
    Path script = data.resolve("bash-completion/completions/jsock");
    assertThat(Files.readString(script)).contains("send", "receive", "--resume", "--rate");
    try (RunningProcess bash =
        RunningProcess.start(
            List.of("bash", "-c", "source " + script + " && complete -p jsock"), Map.of())) {
      assertThat(bash.exitCode()).as(bash.stderrSoFar()).isZero();
      assertThat(bash.lines()).singleElement().asString().contains("jsock").startsWith("complete ");
    }
  }

  // ---------------------------------------------------------------- tools

  private static int portOf(RunningProcess receiver) {
    await().atMost(LIMIT).until(() -> LISTENING.matcher(receiver.stderrSoFar()).find());
    Matcher m = LISTENING.matcher(receiver.stderrSoFar());
    assertThat(m.find()).isTrue();
    return Integer.parseInt(m.group(1));
  }

  /** The bytes a process has read so far ({@code rchar} of {@code /proc/PID/io}). */
  private static long bytesRead(long pid) throws Exception {
    for (String line : Files.readAllLines(Path.of("/proc/" + pid + "/io"))) {
      if (line.startsWith("rchar: ")) {
        return Long.parseLong(line.substring("rchar: ".length()));
      }
    }
    throw new AssertionError("no rchar in /proc/" + pid + "/io");
  }

  private Path randomFile(String name, int size, long seed) throws Exception {
    byte[] bytes = new byte[size];
    new Random(seed).nextBytes(bytes);
    return Files.write(dir.resolve(name), bytes);
  }

  private static byte[] prefix(Path file, int length) throws Exception {
    byte[] all = Files.readAllBytes(file);
    return Arrays.copyOf(all, length);
  }

  private static String sha256(Path file) throws Exception {
    return HexFormat.of()
        .formatHex(MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(file)));
  }

  /** A transfer header as docs/cli/transfer.md describes it, written independently of jsock. */
  private static byte[] header(String name, long size, byte[] sha256) throws Exception {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    DataOutputStream out = new DataOutputStream(bytes);
    out.writeBytes("JSXF");
    out.writeByte(1);
    byte[] utf8 = name.getBytes(UTF_8);
    out.writeShort(utf8.length);
    out.write(utf8);
    out.writeLong(size);
    out.write(sha256);
    return bytes.toByteArray();
  }

  private static boolean onPath(String program) {
    for (String entry : System.getenv().getOrDefault("PATH", "").split(":")) {
      if (Files.isExecutable(Path.of(entry, program))) {
        return true;
      }
    }
    return false;
  }

  /** Runs {@code tmux -L socket ARGS} on the test's private server and returns its stdout. */
  private static String tmux(String socket, String... args) throws Exception {
    List<String> command = new ArrayList<>(List.of("tmux", "-L", socket));
    command.addAll(List.of(args));
    Process tmux = new ProcessBuilder(command).redirectErrorStream(true).start();
    String output = new String(tmux.getInputStream().readAllBytes(), UTF_8);
    assertThat(tmux.waitFor(LIMIT.toSeconds(), TimeUnit.SECONDS)).isTrue();
    return output;
  }
}
