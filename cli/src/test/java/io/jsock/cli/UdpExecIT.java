package io.jsock.cli;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.jsock.Datagram;
import io.jsock.Family;
import io.jsock.Socket;
import io.jsock.SocketKind;
import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.IOException;
import java.lang.ProcessBuilder.Redirect;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/**
 * Integration test (runs the real {@code ./jsock listen -u -k} with {@code -c}, and real programs):
 * one program per UDP sender, as {@code ncat -u -l -k -c} runs one; each datagram a write to the
 * program's stdin, each read of its stdout a datagram back to that sender alone; a program that
 * ends ends its sender's session, so that the sender's next datagram starts a new one; {@code
 * --max-clients}, {@code -i}, IPv6, and no program left running after SIGTERM. The senders are
 * sockets of this test on loopback; each waits for its replies before it sends again, so that no
 * datagram is in flight when the test reads what came.
 */
class UdpExecIT {
  private static final Duration LIMIT = Duration.ofSeconds(60);

  /** The datagram that starts a program here: its shell reads it, then greets the sender. */
  private static final byte[] GO = "go\n".getBytes(UTF_8);

  /**
   * Two senders, each with a program of its own that sees its sender's port and answers each line
   * as it comes; the first sender's program ends at its line {@code end}, and the sender's next
   * datagram, once jsock has closed the session (-v), starts a new program. SIGTERM to jsock then
   * ends the two programs still running, without calling their status (143, its own signal's) a
   * failure. jsock used to refuse {@code -u -k -c} as a usage error.
   */
  @Test
  void eachSenderGetsItsOwnProgramAndANewOneAfterItsProgramEnded() throws Exception {
    String program =
        "echo \"$JSOCK_PROTO $JSOCK_REMOTE_ADDR $JSOCK_REMOTE_PORT $$\"; read -r go;"
            + " while read -r line && [ \"$line\" != end ]; do echo \"got $line\"; done";
    try (PipedProcess listen = jsock("listen", "-u", "-k", "-v", "-c", program, "0");
        Socket first = sender(Family.AF_INET);
        Socket second = sender(Family.AF_INET)) {
      InetSocketAddress server = new InetSocketAddress("127.0.0.1", listen.listeningPort());
      List<ProcessHandle> programs = new ArrayList<>();
      try {
        first.sendTo(GO, server);
        String[] firstGreeting = greeting(first);
        assertThat(Arrays.asList(firstGreeting).subList(0, 3))
            .containsExactly("UDP", "127.0.0.1", "" + port(first));
        programs.add(shell(firstGreeting));
        first.sendTo("ab\n".getBytes(UTF_8), server);
        assertThat(text(first)).isEqualTo("got ab\n");

        second.sendTo(GO, server); // while the first sender's program runs
        String[] secondGreeting = greeting(second);
        assertThat(Arrays.asList(secondGreeting).subList(0, 3))
            .containsExactly("UDP", "127.0.0.1", "" + port(second));
        programs.add(shell(secondGreeting));
        second.sendTo("xy\n".getBytes(UTF_8), server);
        assertThat(text(second)).isEqualTo("got xy\n");

        first.sendTo("end\n".getBytes(UTF_8), server); // its program exits
        assertThat(programs.getFirst().onExit()).succeedsWithin(LIMIT);
        listen.awaitStderr("closed 127\\.0\\.0\\.1:" + port(first) + "\n");

        first.sendTo(GO, server); // a new program for the same sender
        String[] again = greeting(first);
        assertThat(again[2]).isEqualTo("" + port(first));
        assertThat(again[3]).isNotEqualTo(firstGreeting[3]);
        programs.add(shell(again));
        first.sendTo("cd\n".getBytes(UTF_8), server);
        assertThat(text(first)).isEqualTo("got cd\n");

        assertThat(programs.subList(1, 3)).allMatch(ProcessHandle::isAlive);
        new ProcessBuilder("kill", "-TERM", "" + listen.pid()).inheritIO().start().waitFor();
        assertThat(listen.exitCode()).isEqualTo(143);
        assertThat(listen.stderr()).doesNotContain("exited with status"); // jsock's own SIGTERM
        await().atMost(LIMIT).until(() -> programs.stream().noneMatch(ProcessHandle::isAlive));
      } finally {
        programs.forEach(ProcessHandle::destroy); // should the test fail: none left behind
      }
    }
  }

  /**
   * Over IPv6 with {@code --max-clients 1} and {@code -i}: a second sender's datagram while the
   * first sender's program runs is dropped, said with -v; the first sender's program, silent for
   * {@code -i}, is ended, and the second sender's next datagram then starts its own. A datagram
   * larger than ncat's 8 KiB buffer (which cuts it there) reaches cat whole and comes back whole
   * (in the datagrams cat's reads of the pipe make).
   */
  @Test
  void maxClientsDropsOtherSendersUntilAnIdleProgramIsEndedOverIpv6() throws Exception {
    String program = "echo \"$JSOCK_REMOTE_ADDR $JSOCK_REMOTE_PORT\"; read -r go; exec cat";
    try (PipedProcess listen =
            jsock(
                "listen",
                "-6",
                "-u",
                "-k",
                "-v",
                "--max-clients",
                "1",
                "-i",
                "3s",
                "-c",
                program,
                "0");
        Socket first = sender(Family.AF_INET6);
        Socket second = sender(Family.AF_INET6)) {
      InetSocketAddress server = new InetSocketAddress("::1", listen.listeningPort());
      first.sendTo(GO, server);
      assertThat(greeting(first)).containsExactly("::1", "" + port(first));
      first.sendTo("a".getBytes(UTF_8), server);
      assertThat(text(first)).isEqualTo("a");
      byte[] large = new byte[20_000];
      Arrays.fill(large, (byte) 'z');
      first.sendTo(large, server);
      ByteArrayOutputStream echoed = new ByteArrayOutputStream();
      for (int i = 0; i < 100 && echoed.size() < large.length; i++) { // cat's reads: pipe-sized
        echoed.writeBytes(first.recvFrom(65_536).data());
      }
      assertThat(echoed.toByteArray()).isEqualTo(large);

      second.sendTo("b".getBytes(UTF_8), server); // no room: dropped
      listen.awaitStderr(
          "ignored a datagram from \\[::1\\]:" + port(second) + ": --max-clients 1 reached");
      listen.awaitStderr("\\[::1\\]:" + port(first) + ": idle timeout: .* \\(-i\\)");

      second.sendTo(GO, server);
      assertThat(greeting(second)).containsExactly("::1", "" + port(second));
      second.sendTo("c".getBytes(UTF_8), server);
      assertThat(text(second)).isEqualTo("c");
      assertThat(listen.isAlive()).isTrue();
      assertThat(listen.stderr().split("serving \\[::1\\]:", -1)).hasSize(3); // "b" started none
    }
  }

  /**
   * Sixty senders each send a burst of four datagrams at once, round robin: while the listener
   * starts their programs, their later datagrams wait in its queue (the kernel gave them to it
   * before each sender's own socket was connected). Each sender's cat must echo its four, in order.
   * jsock used to give a program only those the listener had taken before the program started: the
   * rest waited for the program's end (for ever, with cat), so a few senders in each run lost some.
   */
  @Test
  void aBurstRightBehindTheFirstDatagramReachesItsSendersProgramInOrder() throws Exception {
    int senders = 60;
    int burst = 4; // 240 datagrams: within the listener's receive buffer (no kernel drop)
    try (PipedProcess listen = jsock("listen", "-u", "-k", "-c", "cat", "0")) {
      InetSocketAddress server = new InetSocketAddress("127.0.0.1", listen.listeningPort());
      List<Socket> sockets = new ArrayList<>();
      try {
        for (int i = 0; i < senders; i++) {
          sockets.add(sender(Family.AF_INET));
        }
        StringBuilder expected = new StringBuilder();
        for (int n = 0; n < burst; n++) {
          expected.append(n).append('\n');
          for (Socket socket : sockets) {
            socket.sendTo((n + "\n").getBytes(UTF_8), server);
          }
        }
        assertThat(echoes(sockets, burst))
            .allSatisfy((port, got) -> assertThat(got).isEqualTo(expected.toString()));
      } finally {
        for (Socket socket : sockets) {
          socket.close();
        }
      }
    }
  }

  /**
   * Eighty new senders at once, each datagram naming its sender: each sender's cat echoes that
   * sender's lines and no other's. A new sender's socket is bound to the listener's address before
   * it is connected, and in between Linux gives it the datagrams of every sender without a socket
   * of its own (the socket bound last wins); jsock used to keep them for that sender's program, so
   * that a sender got other senders' lines and others got nothing (on a listener's first start,
   * most of the burst went to the first sender's cat).
   */
  @Test
  void newSendersAtOnceEachGetOnlyTheirOwnDatagramsBack() throws Exception {
    int senders = 80;
    int burst = 3; // 240 datagrams: within the listener's receive buffer (no kernel drop)
    try (PipedProcess listen = jsock("listen", "-u", "-k", "-c", "cat", "0")) {
      InetSocketAddress server = new InetSocketAddress("127.0.0.1", listen.listeningPort());
      List<Socket> sockets = new ArrayList<>();
      try {
        for (int i = 0; i < senders; i++) {
          sockets.add(sender(Family.AF_INET));
        }
        for (int n = 0; n < burst; n++) {
          for (Socket socket : sockets) {
            socket.sendTo((port(socket) + " " + n + "\n").getBytes(UTF_8), server);
          }
        }
        assertThat(echoes(sockets, burst))
            .allSatisfy(
                (port, got) ->
                    assertThat(got).isEqualTo(port + " 0\n" + port + " 1\n" + port + " 2\n"));
      } finally {
        for (Socket socket : sockets) {
          socket.close();
        }
      }
    }
  }

  /**
   * A listener on 0.0.0.0 that a sender (127.0.0.1) reaches at 127.0.0.2: the sender's own socket,
   * bound to 0.0.0.0 and connected, takes the source address routing picks for 127.0.0.1, so the
   * replies come from 127.0.0.1 (as ncat 7.93's; choosing 127.0.0.2 needs the datagram's
   * destination, IP_PKTINFO, which the JDK does not give), and the sender's next datagrams, still
   * to 127.0.0.2, miss that socket and come to the listener. They go to the sender's running
   * program, in order (ncat starts a new program for each). jsock used to hold them for that
   * program's end: cat never got "b".
   */
  @Test
  void aSenderReachingAWildcardListenerAtAnotherLocalAddressKeepsItsProgram() throws Exception {
    String program = "while read -r line; do echo \"$$ $line\"; done";
    try (PipedProcess listen = jsock("listen", "-u", "-k", "-c", program, "0.0.0.0", "0");
        Socket sender = sender(Family.AF_INET)) {
      int port = listen.listeningPort();
      InetSocketAddress server = new InetSocketAddress("127.0.0.2", port);
      sender.sendTo("a\n".getBytes(UTF_8), server);
      Datagram first = sender.recvFrom(65_536);
      String shell = new String(first.data(), UTF_8).split(" ")[0];
      assertThat(new String(first.data(), UTF_8)).isEqualTo(shell + " a\n");
      assertThat(first.address()).isEqualTo(new InetSocketAddress("127.0.0.1", port));
      for (String line : List.of("b", "c", "d")) {
        sender.sendTo((line + "\n").getBytes(UTF_8), server);
      }
      assertThat(texts(sender, 3)).isEqualTo(shell + " b\n" + shell + " c\n" + shell + " d\n");
    }
  }

  /**
   * With {@code --max-clients 1}, a sender whose session has closed (its program ended its stdout,
   * then no datagram for a second) while the program still runs (it ignores SIGTERM until the
   * SIGKILL two seconds later) comes back with three datagrams at once: a new program takes them at
   * once and in order, while the old one is still being ended. jsock used to free the place and
   * start the next program only once the old one had exited, on that program's thread (where
   * datagrams the listener had queued meanwhile could wait for the new program's end), and a
   * datagram in between could be dropped as "--max-clients 1 reached".
   */
  @Test
  void aSenderComingBackWhileItsClosedProgramIsEndedGetsANewProgramInOrder() throws Exception {
    String program =
        "while read -r line && [ \"$line\" != end ]; do echo \"$$ $line\"; done;"
            + " exec >&-; trap '' TERM; while :; do sleep 1; done";
    try (PipedProcess listen =
            jsock("listen", "-u", "-k", "-v", "--max-clients", "1", "-c", program, "0");
        Socket sender = sender(Family.AF_INET)) {
      InetSocketAddress server = new InetSocketAddress("127.0.0.1", listen.listeningPort());
      sender.sendTo("a\n".getBytes(UTF_8), server);
      String[] reply = greeting(sender);
      assertThat(reply[1]).isEqualTo("a");
      ProcessHandle old = ProcessHandle.of(Long.parseLong(reply[0])).orElseThrow();
      try {
        sender.sendTo("end\n".getBytes(UTF_8), server); // stdout ends; the shell lives on
        listen.awaitStderr("closed 127\\.0\\.0\\.1:" + port(sender) + "\n");
        for (String line : List.of("b", "c", "d")) {
          sender.sendTo((line + "\n").getBytes(UTF_8), server);
        }
        String replies = texts(sender, 3);
        assertThat(old.isAlive()).as("the old program, still being ended").isTrue();
        String shell = replies.split(" ")[0];
        assertThat(shell).isNotEqualTo(reply[0]);
        assertThat(replies).isEqualTo(shell + " b\n" + shell + " c\n" + shell + " d\n");
        assertThat(listen.stderr()).doesNotContain("reached");
      } finally {
        // Both shells ignore SIGTERM, and closing `listen` kills jsock before its SIGKILL would
        // come: none left behind, the new one included, whether the test passed or failed
        old.destroyForcibly();
        ProcessHandle.of(listen.pid())
            .ifPresent(jsock -> jsock.descendants().forEach(ProcessHandle::destroyForcibly));
      }
    }
  }

  private static Socket sender(Family family) throws IOException {
    Socket socket = Socket.create(family, SocketKind.SOCK_DGRAM);
    socket.bind(family == Family.AF_INET6 ? "::1" : "127.0.0.1", 0);
    socket.setTimeout(LIMIT);
    return socket;
  }

  /** The next datagram, as text. */
  private static String text(Socket sender) throws IOException {
    Datagram datagram = sender.recvFrom(65_536);
    return new String(datagram.data(), UTF_8);
  }

  /**
   * The next {@code lines} lines, in as many datagrams as the program's writes made (a shell's
   * echoes to a pipe may be read as one).
   */
  private static String texts(Socket sender, int lines) throws IOException {
    StringBuilder got = new StringBuilder();
    for (int i = 0; i < lines && got.chars().filter(c -> c == '\n').count() < lines; i++) {
      got.append(text(sender));
    }
    return got.toString();
  }

  /**
   * What each sender (by port) got back, until it has {@code lines} lines or twenty seconds have
   * passed for all of them.
   */
  private static Map<Integer, String> echoes(List<Socket> sockets, int lines) throws IOException {
    long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
    Map<Integer, String> echoed = new TreeMap<>();
    for (Socket socket : sockets) {
      socket.setTimeout(Duration.ofMillis(200));
      StringBuilder got = new StringBuilder();
      while (got.chars().filter(c -> c == '\n').count() < lines && System.nanoTime() < deadline) {
        try {
          got.append(text(socket));
        } catch (SocketTimeoutException e) {
          // not yet: until the deadline
        }
      }
      echoed.put(port(socket), got.toString());
    }
    return echoed;
  }

  /** The program's first line, one datagram, split on blanks. */
  private static String[] greeting(Socket sender) throws IOException {
    String line = text(sender);
    assertThat(line).endsWith("\n");
    return line.strip().split(" ");
  }

  private static ProcessHandle shell(String[] greeting) {
    return ProcessHandle.of(Long.parseLong(greeting[greeting.length - 1])).orElseThrow();
  }

  private static int port(Socket socket) throws IOException {
    return ((InetSocketAddress) socket.getSockName()).getPort();
  }

  private static PipedProcess jsock(String... args) {
    return PipedProcess.start(
        PipedProcess.jsock(args), Map.of(), Redirect.from(new File("/dev/null")), Redirect.DISCARD);
  }
}
