package io.jsock.tls;

import static java.nio.charset.StandardCharsets.UTF_8;
import static java.util.concurrent.TimeUnit.SECONDS;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.jsock.Event;
import io.jsock.Socket;
import io.jsock.SocketSelector;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Predicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.net.ssl.ExtendedSSLSession;
import javax.net.ssl.SNIHostName;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * jsock against OpenSSL's own client and server ({@code openssl s_client}, {@code openssl
 * s_server}), driven through their standard input and output; only on loopback. Every process
 * started here is killed at the end of its test.
 */
class OpensslInteropTest {
  private static final Pattern ACCEPT = Pattern.compile("ACCEPT .*:(\\d+)");

  @TempDir static Path dir;
  static Path caPem;
  static Path certPem;
  static Path keyPem;
  static TlsContext server;
  static TlsContext client;

  private final List<Process> started = new ArrayList<>();
  private final AtomicInteger logs = new AtomicInteger();
  private Path lastStderr;

  @BeforeAll
  static void makeCertificates() throws Exception {
    TestPki.Issued ca = TestPki.ca("openssl interop CA");
    TestPki.writePem(caPem = dir.resolve("ca.pem"), ca.certificate());
    KeyMaterial key = TestPki.leaf(ca, "localhost", "127.0.0.1").write(dir.resolve("server"));
    certPem = dir.resolve("server/cert.pem");
    keyPem = dir.resolve("server/key.pem");
    server = Tls.server(key);
    client = Tls.client().withTrust(caPem);
  }

  @AfterEach
  void killProcesses() throws InterruptedException {
    for (Process process : started) {
      process.destroyForcibly();
      process.waitFor(10, SECONDS);
    }
  }

  @Test
  void jsockClientTalksToOpensslServerAndDetectsItsTruncation() throws Exception {
    Process openssl =
        start(
            "openssl",
            "s_server",
            "-accept",
            "0",
            "-4",
            "-naccept",
            "1",
            "-cert",
            certPem.toString(),
            "-key",
            keyPem.toString());
    Lines out = new Lines(openssl);
    Matcher accept = ACCEPT.matcher(out.next(line -> ACCEPT.matcher(line).find()));
    assertThat(accept.find()).isTrue();
    int port = Integer.parseInt(accept.group(1));

    Socket plain = Socket.create();
    plain.connect("127.0.0.1", port);
    try (Socket tls = client.wrap(plain, "localhost")) {
      assertThat(Tls.session(tls).getProtocol()).isEqualTo("TLSv1.3");
      tls.sendAll("hello from jsock\n".getBytes(UTF_8));
      out.next(line -> line.equals("hello from jsock"));

      OutputStream in = openssl.getOutputStream();
      in.write("hello from openssl\n".getBytes(UTF_8));
      in.flush();
      assertThat(recvLine(tls)).isEqualTo("hello from openssl");

      openssl.destroyForcibly(); // the kernel closes its socket: a FIN, no close_notify
      assertThat(openssl.waitFor(10, SECONDS)).isTrue();
      assertThatThrownBy(() -> tls.recv(100))
          .isInstanceOf(TlsException.class)
          .hasMessage(
              "recv from 127.0.0.1:"
                  + port
                  + ": connection truncated: the peer closed without close_notify");
    }
  }

  @Test
  void opensslClientTalksToJsockServerAndSendsSni() throws Exception {
    try (Socket listener = Socket.create()) {
      listener.bind("127.0.0.1", 0);
      listener.listen(1);
      int port = ((InetSocketAddress) listener.getSockName()).getPort();
      Process openssl =
          start(
              "openssl",
              "s_client",
              "-connect",
              "127.0.0.1:" + port,
              "-servername",
              "localhost",
              "-CAfile",
              caPem.toString(),
              "-verify_return_error",
              "-quiet");
      Lines out = new Lines(openssl);
      try (Socket tls = server.wrap(listener.accept().conn())) {
        var session = (ExtendedSSLSession) Tls.session(tls);
        assertThat(session.getRequestedServerNames()).containsExactly(new SNIHostName("localhost"));

        OutputStream in = openssl.getOutputStream();
        in.write("ping\n".getBytes(UTF_8));
        in.flush();
        assertThat(recvLine(tls)).isEqualTo("ping");
        tls.sendAll("pong\n".getBytes(UTF_8));
        out.next(line -> line.equals("pong"));
      }
      // close() sent close_notify: s_client ends the session and exits by itself
      assertThat(openssl.waitFor(10, SECONDS)).isTrue();
    }
  }

  @Test
  void jsockServerRefusesAnOpensslClientSpeakingTls11() throws Exception {
    try (Socket listener = Socket.create()) {
      listener.bind("127.0.0.1", 0);
      listener.listen(1);
      int port = ((InetSocketAddress) listener.getSockName()).getPort();
      Process openssl =
          start(
              "openssl",
              "s_client",
              "-connect",
              "127.0.0.1:" + port,
              "-tls1_1",
              "-cipher",
              "DEFAULT@SECLEVEL=0",
              "-quiet");
      Socket accepted = listener.accept().conn();
      assertThatThrownBy(() -> server.wrap(accepted))
          .isInstanceOf(TlsException.class)
          .hasMessageStartingWith("tls handshake with 127.0.0.1:")
          .hasMessageEndingWith(": protocol version TLSv1.1 refused");
      assertThat(openssl.waitFor(10, SECONDS)).isTrue();
      assertThat(openssl.exitValue()).isNotZero();
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"my_host", "localhost."})
  void jsockServerNamesAServerNameTheJdkRefusesInTheFailure(String name) throws Exception {
    // OpenSSL (so Python's server_hostname) sends these as SNI; the JDK's server ends the
    // handshake at them, and no SSLEngine setting changes that
    try (Socket listener = Socket.create()) {
      listener.bind("127.0.0.1", 0);
      listener.listen(1);
      int port = ((InetSocketAddress) listener.getSockName()).getPort();
      Process openssl =
          start("openssl", "s_client", "-connect", "127.0.0.1:" + port, "-servername", name);
      Socket accepted = listener.accept().conn();
      assertThatThrownBy(() -> server.wrap(accepted))
          .isInstanceOf(TlsException.class)
          .hasMessageStartingWith("tls handshake with 127.0.0.1:")
          .hasMessageEndingWith(
              ": the client asked for server name '"
                  + name
                  + "' (SNI), which the JDK refuses as a host name (alert illegal_parameter sent)");
      assertThat(openssl.waitFor(10, SECONDS)).isTrue();
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"-tls1_3", "-tls1_2"})
  void jsockServerSaysThatAnOpensslClientRejectedItsCertificate(String version) throws Exception {
    try (Socket listener = Socket.create()) {
      listener.bind("127.0.0.1", 0);
      listener.listen(1);
      int port = ((InetSocketAddress) listener.getSockName()).getPort();
      // no -CAfile: the client does not know the test CA and rejects the chain with unknown_ca
      Process openssl =
          start(
              "openssl",
              "s_client",
              "-connect",
              "127.0.0.1:" + port,
              version,
              "-servername",
              "localhost",
              "-verify_return_error",
              "-quiet");
      Socket accepted = listener.accept().conn();
      assertThatThrownBy(() -> server.wrap(accepted))
          .isInstanceOf(TlsException.class)
          .hasMessageStartingWith("tls handshake with 127.0.0.1:")
          .hasMessageEndingWith(": the peer rejected our certificate (alert unknown_ca)");
      assertThat(openssl.waitFor(10, SECONDS)).isTrue();
    }
  }

  @Test
  void jsockClientRefusesOpensslServerWithAnotherName() throws Exception {
    Process openssl =
        start(
            "openssl",
            "s_server",
            "-accept",
            "0",
            "-4",
            "-naccept",
            "1",
            "-cert",
            certPem.toString(),
            "-key",
            keyPem.toString());
    Lines out = new Lines(openssl);
    Matcher accept = ACCEPT.matcher(out.next(line -> ACCEPT.matcher(line).find()));
    assertThat(accept.find()).isTrue();
    Socket plain = Socket.create();
    plain.connect("127.0.0.1", Integer.parseInt(accept.group(1)));
    assertThatThrownBy(() -> client.wrap(plain, "other.example"))
        .isInstanceOf(TlsException.class)
        .hasMessageContaining("certificate for 'localhost', '127.0.0.1'")
        .hasMessageEndingWith("does not match host name 'other.example'");
  }

  @ParameterizedTest
  @CsvSource({"TLSv1.3, K, KEYUPDATE", "TLSv1.2, R, RENEGOTIATING"})
  void jsockServerAnswersKeyUpdateAndRenegotiation(String protocol, String command, String says)
      throws Exception {
    try (Socket listener = Socket.create()) {
      listener.bind("127.0.0.1", 0);
      listener.listen(1);
      int port = ((InetSocketAddress) listener.getSockName()).getPort();
      // Not -quiet: s_client takes command letters ("K": KeyUpdate asking for ours in return,
      // "R": renegotiate) only then.
      Process openssl =
          start(
              "openssl",
              "s_client",
              "-connect",
              "127.0.0.1:" + port,
              "-servername",
              "localhost",
              "-CAfile",
              caPem.toString(),
              "-verify_return_error",
              protocol.equals("TLSv1.3") ? "-tls1_3" : "-tls1_2");
      Lines out = new Lines(openssl);
      try (Socket tls = server.wrap(listener.accept().conn())) {
        assertThat(Tls.session(tls).getProtocol()).isEqualTo(protocol);
        OutputStream in = openssl.getOutputStream();
        in.write("before\n".getBytes(UTF_8));
        in.flush();
        assertThat(recvLine(tls)).isEqualTo("before");
        in.write((command + "\n").getBytes(UTF_8));
        in.flush();
        // s_client takes a line as a command only if it reads it alone: wait until it did.
        Path stderr = lastStderr;
        await().atMost(Duration.ofSeconds(10)).until(() -> Files.readString(stderr).contains(says));
        in.write("after\n".getBytes(UTF_8));
        in.flush();
        assertThat(recvLine(tls)).isEqualTo("after"); // read through the handshake messages
        tls.sendAll("still talking\n".getBytes(UTF_8));
        out.next(line -> line.equals("still talking"));
      }
    }
  }

  @Test
  void jsockClientRenegotiatesWhileOneThreadReceivesAndAnotherSends() throws Exception {
    // Not -quiet: s_server takes "R" (send a HelloRequest) only then.
    Process openssl =
        start(
            "openssl",
            "s_server",
            "-accept",
            "0",
            "-4",
            "-naccept",
            "1",
            "-tls1_2",
            "-cert",
            certPem.toString(),
            "-key",
            keyPem.toString());
    Lines out = new Lines(openssl);
    Matcher accept = ACCEPT.matcher(out.next(line -> ACCEPT.matcher(line).find()));
    assertThat(accept.find()).isTrue();
    Socket plain = Socket.create();
    plain.connect("127.0.0.1", Integer.parseInt(accept.group(1)));
    try (Socket tls = client.withProtocols("TLSv1.2").wrap(plain, "localhost")) {
      OutputStream in = openssl.getOutputStream();
      in.write("R\n".getBytes(UTF_8));
      in.flush();
      try (SocketSelector selector = SocketSelector.open()) { // its HelloRequest has come
        selector.register(tls, Set.of(Event.EVENT_READ), "hello request");
        assertThat(selector.select(Duration.ofSeconds(10))).hasSize(1);
        selector.unregister(tls);
      }
      tls.setTimeout(Duration.ofSeconds(10));
      byte[] lines =
          "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcde\n"
              .repeat(1 << 18)
              .getBytes(UTF_8);
      Thread sender =
          Thread.ofVirtual()
              .start(
                  () -> {
                    try {
                      tls.sendAll(lines); // 16 MiB
                      tls.sendAll("the end\n".getBytes(UTF_8));
                    } catch (IOException e) {
                      throw new UncheckedIOException(e);
                    }
                  });
      out.next(line -> line.startsWith("0123456789")); // the sender is under way
      // Now a receiver meets the HelloRequest while the sender holds the send lock. It used to
      // stall: the sender wrapped the ClientHello, then waited for the receiver's lock without
      // sending it, and the receiver waited for the server's answer to it.
      Thread.ofVirtual().start(() -> drain(tls));
      out.next(line -> line.equals("the end"));
      sender.join(Duration.ofSeconds(30));
    }
  }

  private static void drain(Socket sock) {
    try {
      while (sock.recv(4096).length > 0) {}
    } catch (IOException e) {
      // closed at the test's end
    }
  }

  // ---------------------------------------------------------------- helpers

  private Process start(String... command) throws IOException {
    lastStderr = dir.resolve("stderr-" + logs.incrementAndGet() + ".txt");
    Process process = new ProcessBuilder(command).redirectError(lastStderr.toFile()).start();
    started.add(process);
    return process;
  }

  /** Receives up to a newline, which is dropped. */
  private static String recvLine(Socket sock) throws IOException {
    StringBuilder line = new StringBuilder();
    while (true) {
      byte[] got = sock.recv(1);
      if (got.length == 0) {
        throw new AssertionError("end of stream after '" + line + "'");
      }
      if (got[0] == '\n') {
        return line.toString();
      }
      line.append((char) got[0]);
    }
  }

  /** A process's output lines, read by a thread of their own so that tests wait with bounds. */
  private static final class Lines {
    private final BlockingQueue<String> lines = new LinkedBlockingQueue<>();
    private final List<String> seen = new ArrayList<>();

    Lines(Process process) {
      Thread.ofVirtual()
          .start(
              () -> {
                try (BufferedReader reader =
                    new BufferedReader(new InputStreamReader(process.getInputStream(), UTF_8))) {
                  for (String line; (line = reader.readLine()) != null; ) {
                    lines.add(line);
                  }
                } catch (IOException ended) {
                  // the process was killed
                }
              });
    }

    /** The first line that matches, waiting at most 10 s for it. */
    String next(Predicate<String> wanted) throws InterruptedException {
      long deadline = System.nanoTime() + SECONDS.toNanos(10);
      while (true) {
        String line = lines.poll(deadline - System.nanoTime(), TimeUnit.NANOSECONDS);
        if (line == null) {
          throw new AssertionError("no such line within 10 s; output so far: " + seen);
        }
        seen.add(line);
        if (wanted.test(line)) {
          return line;
        }
      }
    }
  }
}
