package io.jsock.cli;

import static io.jsock.cli.RunningProcess.jsock;
import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.jsock.AddrInfo;
import io.jsock.ConnectionResetException;
import io.jsock.Errno;
import io.jsock.Family;
import io.jsock.Socket;
import io.jsock.SocketKind;
import io.jsock.Sockets;
import io.jsock.testing.Echoes;
import io.jsock.testing.Echoes.Transfer;
import io.jsock.tls.Tls;
import io.jsock.tls.TlsContext;
import java.io.IOException;
import java.net.Inet6Address;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.SocketTimeoutException;
import java.net.StandardSocketOptions;
import java.net.UnixDomainSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.MessageDigest;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Integration test (runs the real {@code ./jsock echo}): echoes checked by SHA-256 over TCP, UDP,
 * AF_UNIX and TLS (with openssl s_client too), the graceful stop on SIGTERM with exit code 0, and
 * an accept loop that survives running out of file descriptors.
 */
class EchoCommandIT {
  private static final Duration LIMIT = Duration.ofSeconds(60);
  private static final String BANNER = "Echo server listening on localhost:(\\d+)";

  @Test
  void echoesConcurrentClientsIntactAndExitsZeroOnSigterm() throws Exception {
    int clients = 20;
    int size = 256 * 1024;
    try (RunningProcess echo = jsock("echo", "--port", "0");
        ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
      int port = Integer.parseInt(echo.nextLineMatching(BANNER).group(1));
      List<Future<Transfer>> transfers = new ArrayList<>();
      for (int i = 0; i < clients; i++) {
        long seed = i;
        transfers.add(pool.submit(() -> Echoes.exchange(connect(port), seed, size)));
      }
      for (int i = 0; i < clients; i++) {
        Transfer t = transfers.get(i).get(LIMIT.toSeconds(), TimeUnit.SECONDS);
        assertThat(t.intact()).as("client %d: %s", i, t).isTrue();
        assertThat(t.sent()).isEqualTo(Echoes.sha256Of(i, size));
      }
      echo.terminate();
      assertThat(echo.exitCode()).as("exit code after SIGTERM").isZero();
      assertThat(echo.lines()).containsExactly("Echo server listening on localhost:" + port);
      assertThat(echo.stderr()).isEmpty();
    }
  }

  @Test
  void sigtermLetsAnOpenTransferFinishThenExitsZero() throws Exception {
    int size = 4 * 1024 * 1024;
    try (RunningProcess echo = jsock("echo", "--port", "0")) {
      int port = Integer.parseInt(echo.nextLineMatching(BANNER).group(1));
      Socket conn = connect(port);
      SocketAddress server = conn.getPeerName();
      // echoed once, so the server has accepted it: a connection still in the listener's queue
      // when SIGTERM closes the listener is reset by the kernel (this failed so once, under load)
      conn.sendAll(new byte[] {1});
      assertThat(conn.recv(1)).containsExactly(1);
      Transfer t =
          Echoes.exchange(
              conn,
              42,
              size,
              () -> {
                echo.terminate();
                // The listener closes at once; this connection goes on.
                await().atMost(LIMIT).until(() -> refuses(server));
              });
      assertThat(t.intact()).as("transfer across SIGTERM: %s", t).isTrue();
      assertThat(t.receivedBytes()).isEqualTo(size);
      assertThat(echo.exitCode()).isZero();
    }
  }

  // The JVM's own shutdown hook of java.util.logging removed every handler as the stop began, so
  // whatever the server logged during the grace period never reached stderr. Stderr goes to a file
  // here: the line comes as the process exits, when a pipe's reader may be cut off before it.
  @Test
  void aConnectionFailingDuringTheGracePeriodIsStillSaidOnStderr(@TempDir Path dir)
      throws Exception {
    Path stderr = dir.resolve("stderr");
    List<String> command =
        List.of(
            "sh",
            "-c",
            "exec \"$0\" echo --port 0 2>\"$1\"",
            RunningProcess.REPO.resolve("jsock").toString(),
            stderr.toString());
    try (RunningProcess echo = RunningProcess.start(command, Map.of())) {
      int port = Integer.parseInt(echo.nextLineMatching(BANNER).group(1));
      Socket conn = connect(port);
      SocketAddress server = conn.getPeerName();
      assertThat(echoes(conn, LIMIT)).isTrue(); // accepted, its handler waiting in recv

      echo.terminate();
      await().atMost(LIMIT).until(() -> refuses(server)); // the graceful stop has begun
      conn.setSockOpt(StandardSocketOptions.SO_LINGER, 0);
      conn.close(); // a reset, which ends the handler's recv with ECONNRESET

      assertThat(echo.exitCode()).isZero();
      assertThat(Files.readString(stderr))
          .matches(
              "jsock: connection from 127\\.0\\.0\\.1:\\d+ to 127\\.0\\.0\\.1:"
                  + port
                  + ": recv from 127\\.0\\.0\\.1:\\d+: connection reset by peer\n");
    }
  }

  @Test
  void udpEchoesDatagramsAndExitsZeroOnSigterm() throws Exception {
    try (RunningProcess echo = jsock("echo", "--udp", "--port", "0")) {
      int port = Integer.parseInt(echo.nextLineMatching(BANNER).group(1));
      AddrInfo server = Sockets.getAddrInfo("localhost", port, null, SocketKind.SOCK_DGRAM).get(0);
      try (Socket client = Socket.create(server.family(), SocketKind.SOCK_DGRAM)) {
        client.setTimeout(LIMIT);
        client.connect(server.address());
        for (String text : List.of("one", "two", "x".repeat(60_000))) {
          client.send(text.getBytes(UTF_8));
          assertThat(new String(client.recv(65536), UTF_8)).isEqualTo(text);
        }
      }
      echo.terminate();
      assertThat(echo.exitCode()).isZero();
    }
  }

  @Test
  void unixEchoesAndRemovesItsSocketFileOnSigterm(@TempDir Path dir) throws Exception {
    Path path = dir.resolve("echo.sock");
    try (RunningProcess echo = jsock("echo", "--unix", path.toString())) {
      assertThat(echo.nextLine()).isEqualTo("Echo server listening on " + path);
      Socket conn = Socket.create(Family.AF_UNIX, SocketKind.SOCK_STREAM);
      conn.setTimeout(LIMIT);
      conn.connect(UnixDomainSocketAddress.of(path));
      Transfer t = Echoes.exchange(conn, 7, 256 * 1024);
      assertThat(t.intact()).as("%s", t).isTrue();
      echo.terminate();
      assertThat(echo.exitCode()).isZero();
    }
    assertThat(path).doesNotExist();
  }

  // A second SIGINT during the grace period waited behind the first one's shutdown hook: the server
  // went on for the whole grace period and exited 0, where a user presses Ctrl-C again to force it
  @Test
  void secondSigintDuringTheGracePeriodResetsWhatIsLeftAndExits130() throws Exception {
    try (RunningProcess echo = withDefaultSignals("echo", "--port", "0")) {
      int port = Integer.parseInt(echo.nextLineMatching(BANNER).group(1));
      Socket silent = connect(port);
      SocketAddress server = silent.getPeerName();
      assertThat(echoes(silent, LIMIT)).isTrue(); // accepted, its handler waiting in recv

      echo.signal("INT");
      await().atMost(LIMIT).until(() -> refuses(server)); // the graceful stop has begun
      assertThat(echo.isAlive()).as("running through the grace period").isTrue();
      echo.signal("INT");

      assertThat(echo.exitCode()).as("exit code after a second SIGINT").isEqualTo(130);
      assertThatThrownBy(() -> silent.recv(1)).isInstanceOf(ConnectionResetException.class);
      assertThat(echo.stderr()).isEmpty();
    }
  }

  @Test
  void secondSigtermDuringTheGracePeriodExits143AndRemovesTheSocketFile(@TempDir Path dir)
      throws Exception {
    Path path = dir.resolve("echo.sock");
    try (RunningProcess echo = withDefaultSignals("echo", "--unix", path.toString())) {
      assertThat(echo.nextLine()).isEqualTo("Echo server listening on " + path);
      Socket silent = Socket.create(Family.AF_UNIX, SocketKind.SOCK_STREAM);
      silent.setTimeout(LIMIT);
      silent.connect(UnixDomainSocketAddress.of(path));
      assertThat(echoes(silent, LIMIT)).isTrue();

      echo.terminate();
      await().atMost(LIMIT).until(() -> Files.notExists(path)); // the graceful stop has begun
      assertThat(echo.isAlive()).as("running through the grace period").isTrue();
      echo.signal("TERM");

      assertThat(echo.exitCode()).as("exit code after a second SIGTERM").isEqualTo(143);
      assertThat(silent.recv(1)).isEmpty(); // closed: AF_UNIX has no reset
    }
    assertThat(path).doesNotExist();
  }

  /**
   * {@code ./jsock ARGS} with SIGINT and SIGTERM at their defaults: a shell that runs the build in
   * the background ignores SIGINT for it, and a JVM leaves an ignored SIGINT ignored.
   */
  private static RunningProcess withDefaultSignals(String... args) {
    List<String> command = new ArrayList<>(List.of("env", "--default-signal=INT,TERM"));
    command.add(RunningProcess.REPO.resolve("jsock").toString());
    command.addAll(List.of(args));
    return RunningProcess.start(command, Map.of());
  }

  @Test
  void survivesRunningOutOfFileDescriptorsAndServesAgainOnceTheyAreFree() throws Exception {
    int fdLimit = 64;
    List<Socket> clients = new ArrayList<>();
    try (RunningProcess echo =
        RunningProcess.start(
            List.of("bash", "-c", "ulimit -n " + fdLimit + " && exec ./jsock echo --port 0"),
            Map.of())) {
      int port = Integer.parseInt(echo.nextLineMatching(BANNER).group(1));

      // Connections complete in the kernel's backlog even when the server cannot accept them,
      // so the first one whose echo does not come is the first the server could not accept.
      int served = 0;
      while (clients.size() < 4 * fdLimit) {
        Socket client = connect(port);
        clients.add(client);
        if (!echoes(client, Duration.ofSeconds(2))) {
          break;
        }
        served++;
      }
      assertThat(served)
          .as("connections served under a limit of %d descriptors", fdLimit)
          .isBetween(10, fdLimit);
      await()
          .atMost(LIMIT)
          .until(() -> echo.stderrSoFar().contains("too many open files; accepting again in"));
      assertThat(echo.isAlive()).isTrue();

      for (Socket client : clients) {
        client.close();
      }
      clients.clear();
      await()
          .atMost(LIMIT)
          .until(
              () -> {
                try (Socket client = connect(port)) {
                  return echoes(client, Duration.ofSeconds(2));
                }
              });
      await().atMost(LIMIT).until(() -> echo.stderrSoFar().contains(": accepting again"));

      echo.terminate();
      assertThat(echo.exitCode()).isZero();
      assertThat(echo.stderr())
          .as("throttled: at most a line a second, not one per failed accept")
          .satisfies(err -> assertThat(err.lines().count()).isLessThan(60));
    } finally {
      for (Socket client : clients) {
        client.close();
      }
    }
  }

  @Test
  void tlsWithADevelopmentCertificateSaysSoOnStderrAndEchoesToOpensslAndJsock(@TempDir Path dir)
      throws Exception {
    try (RunningProcess echo = jsock("echo", "--tls", "--port", "0")) {
      int port = Integer.parseInt(echo.nextLineMatching(BANNER).group(1));
      await().atMost(LIMIT).until(() -> echo.stderrSoFar().contains("fingerprint"));
      Matcher stated =
          Pattern.compile(
                  "jsock: TLS with a self-signed development certificate for localhost, 127.0.0.1"
                      + " and ::1, .*; SHA-256 fingerprint ((?:[0-9A-F]{2}:){31}[0-9A-F]{2})\n")
              .matcher(echo.stderrSoFar());
      assertThat(stated.matches()).as("stderr: %s", echo.stderrSoFar()).isTrue();

      // openssl, as a user would try it: a line on stdin comes back on stdout.
      Path line = Files.writeString(dir.resolve("line.txt"), "hello over TLS\n");
      try (RunningProcess openssl =
          RunningProcess.start(
              List.of(
                  "bash",
                  "-c",
                  "exec openssl s_client -connect 127.0.0.1:" + port + " -quiet < " + line),
              Map.of())) {
        assertThat(openssl.nextLine()).isEqualTo("hello over TLS");
      }

      // jsock: the certificate the server shows is the one stderr named; trusting it, the
      // connection is verified as any other, and the echo is intact.
      X509Certificate shown;
      try (Socket conn = Tls.client().insecureNoVerification().wrap(connect(port), null)) {
        shown = (X509Certificate) Tls.session(conn).getPeerCertificates()[0];
      }
      assertThat(fingerprint(shown)).isEqualTo(stated.group(1));
      TlsContext trusting = Tls.client().withTrustedCertificates(List.of(shown));
      Transfer t = Echoes.exchange(trusting.wrap(connect(port), "localhost"), 5, 256 * 1024);
      assertThat(t.intact()).as("%s", t).isTrue();

      echo.terminate();
      assertThat(echo.exitCode()).isZero();
      assertThat(echo.lines()).containsExactly("Echo server listening on localhost:" + port);
    }
  }

  @Test
  void tlsWithAPemCertificateAndKeyServesClientsThatTrustIt(@TempDir Path dir) throws Exception {
    PemFiles pem = PemFiles.selfSigned(dir);
    Path cert = pem.cert();
    Path key = pem.key();

    try (RunningProcess echo =
        jsock("echo", "--tls", "--cert", cert.toString(), "--key", key.toString(), "--port", "0")) {
      int port = Integer.parseInt(echo.nextLineMatching(BANNER).group(1));
      TlsContext trusting = Tls.client().withTrust(cert);
      Transfer t = Echoes.exchange(trusting.wrap(connect(port), "localhost"), 9, 64 * 1024);
      assertThat(t.intact()).as("%s", t).isTrue();
      echo.terminate();
      assertThat(echo.exitCode()).isZero();
      assertThat(echo.stderr()).as("no development certificate").isEmpty();
    }
  }

  @Test
  void tlsWithAPkcs12StoreWhosePasswordComesFromTheEnvironment(@TempDir Path dir) throws Exception {
    Path store = dir.resolve("echo.p12");
    String password = "s3cret-pw";
    Process keytool =
        new ProcessBuilder(
                Path.of(System.getProperty("java.home"), "bin", "keytool").toString(),
                "-genkeypair",
                "-alias",
                "echo",
                "-keyalg",
                "EC",
                "-groupname",
                "secp256r1",
                "-dname",
                "CN=localhost",
                "-ext",
                "SAN=dns:localhost,ip:127.0.0.1",
                "-validity",
                "2",
                "-storetype",
                "PKCS12",
                "-keystore",
                store.toString(),
                "-storepass",
                password,
                "-keypass",
                password)
            .redirectErrorStream(true)
            .redirectOutput(dir.resolve("keytool.log").toFile())
            .start();
    assertThat(keytool.waitFor(LIMIT.toSeconds(), TimeUnit.SECONDS)).isTrue();
    assertThat(keytool.exitValue()).as(Files.readString(dir.resolve("keytool.log"))).isZero();
    KeyStore keys = KeyStore.getInstance("PKCS12");
    try (var in = Files.newInputStream(store)) {
      keys.load(in, password.toCharArray());
    }
    X509Certificate cert = (X509Certificate) keys.getCertificate("echo");
    String[] args = {
      "echo", "--tls", "--pkcs12", store.toString(), "--password-env", "ECHO_P12", "--port", "0"
    };

    try (RunningProcess echo = jsock(Map.of("ECHO_P12", password), args)) {
      int port = Integer.parseInt(echo.nextLineMatching(BANNER).group(1));
      TlsContext trusting = Tls.client().withTrustedCertificates(List.of(cert));
      Transfer t = Echoes.exchange(trusting.wrap(connect(port), "localhost"), 3, 64 * 1024);
      assertThat(t.intact()).as("%s", t).isTrue();
      echo.terminate();
      assertThat(echo.exitCode()).isZero();
      assertThat(echo.stderr()).as("no development certificate").isEmpty();
    }
    try (RunningProcess wrong = jsock(Map.of("ECHO_P12", "not-it"), args)) {
      assertThat(wrong.exitCode())
          .as("a usage error, as a --key of another certificate")
          .isEqualTo(2);
      assertThat(wrong.stderr())
          .startsWith(
              "jsock: --pkcs12: cannot load PKCS#12 file "
                  + store
                  + ": keystore password was incorrect (the password given is the value of"
                  + " ECHO_P12)\n");
    }
    try (RunningProcess none =
        jsock(Map.of(), "echo", "--tls", "--pkcs12", store.toString(), "--port", "0")) {
      assertThat(none.exitCode()).isEqualTo(2);
      assertThat(none.stderr())
          .startsWith(
              "jsock: --pkcs12: cannot load PKCS#12 file "
                  + store
                  + ": keystore password was incorrect (without --password-env the password is"
                  + " empty)\n");
    }
    try (RunningProcess unset = jsock(Map.of(), args)) {
      assertThat(unset.exitCode()).isEqualTo(2);
      assertThat(unset.stderr())
          .startsWith("jsock: --password-env: the variable ECHO_P12 is not set\n");
    }
  }

  @Test
  void maxConnectionsRefusesTheNextClientWithAResetWhileTheOthersEcho() throws Exception {
    try (RunningProcess echo = jsock("echo", "--port", "0", "--max-connections", "2");
        Socket first = connect(Integer.parseInt(echo.nextLineMatching(BANNER).group(1)));
        Socket second = connect(((InetSocketAddress) first.getPeerName()).getPort())) {
      for (Socket held : List.of(first, second)) {
        held.sendAll("held".getBytes(UTF_8));
        assertThat(new String(held.recv(16), UTF_8)).isEqualTo("held");
      }
      int port = ((InetSocketAddress) first.getPeerName()).getPort();
      // The kernel completes the handshake before the server accepts and resets, so the reset
      // reaches the third client either while its connect is still finishing or at its first recv.
      assertThatThrownBy(
              () -> {
                try (Socket third = connect(port)) {
                  third.recv(16);
                }
              })
          .isInstanceOf(ConnectionResetException.class)
          .hasMessageContaining("connection reset by peer");
      first.sendAll("still".getBytes(UTF_8));
      assertThat(new String(first.recv(16), UTF_8)).isEqualTo("still");
    }
  }

  @Test
  void twoServersWithReusePortShareAPortAndEachServesItsShareOfTheConnections() throws Exception {
    String ipBanner = "Echo server listening on 127.0.0.1:(\\d+)";
    try (RunningProcess first =
        jsock("echo", "--reuse-port", "--host", "127.0.0.1", "--port", "0")) {
      String port = first.nextLineMatching(ipBanner).group(1);
      try (RunningProcess second =
          jsock("echo", "--reuse-port", "--host", "127.0.0.1", "--port", port)) {
        assertThat(second.nextLineMatching(ipBanner).group(1)).isEqualTo(port);
        // The kernel deals each connection to one of the two by a hash of its addresses and
        // ports: of 64, all going to one server has odds of 2^-63.
        List<Socket> clients = new ArrayList<>();
        try {
          for (int i = 0; i < 64; i++) {
            clients.add(connect(Integer.parseInt(port)));
            assertThat(echoes(clients.getLast(), LIMIT)).as("connection %d", i).isTrue();
          }
          first.terminate();
          assertThat(first.exitCode()).as("the first server's exit code").isZero();
          int stillServed = 0;
          for (Socket client : clients) {
            try {
              stillServed += echoes(client, Duration.ofSeconds(5)) ? 1 : 0;
            } catch (IOException e) {
              // a connection of the first server, reset as it stopped
            }
          }
          assertThat(stillServed).as("connections the second server serves").isBetween(1, 63);
          try (Socket late = connect(Integer.parseInt(port))) {
            assertThat(echoes(late, LIMIT)).as("a new connection, to the second server").isTrue();
          }
        } finally {
          for (Socket client : clients) {
            client.close();
          }
        }
        second.terminate();
        assertThat(second.exitCode()).isZero();
      }
    }
  }

  @Test
  void firstByteTimeoutResetsASilentConnectionAndSparesOneThatSpoke() throws Exception {
    // a second: the talking connection's first byte must be there within it, on a loaded machine
    try (RunningProcess echo = jsock("echo", "--port", "0", "--first-byte-timeout", "1s")) {
      int port = Integer.parseInt(echo.nextLineMatching(BANNER).group(1));
      try (Socket talking = connect(port)) {
        assertThat(echoes(talking, LIMIT)).isTrue();
        try (Socket silent = connect(port)) { // accepted after the talking one
          // the deadline resets the connection that never spoke
          assertThatThrownBy(() -> silent.recv(16))
              .isInstanceOf(ConnectionResetException.class)
              .hasMessageContaining("connection reset by peer");
        }
        // the talking one's deadline, sooner than the silent one's, has passed: it is still served
        assertThat(echoes(talking, LIMIT)).isTrue();
      }
    }
  }

  @Test
  void firstByteTimeoutMustBePositiveAndIsNotForUdp() throws Exception {
    assertThat(usageError("echo", "--first-byte-timeout", "0s"))
        .startsWith("jsock: --first-byte-timeout must be positive: 0\n");
    assertThat(usageError("echo", "--udp", "--first-byte-timeout", "5s"))
        .startsWith("jsock: --first-byte-timeout is for streams: UDP has no connections\n");
    // --max-connections with --udp was taken and ignored
    assertThat(usageError("echo", "--udp", "--max-connections", "5"))
        .startsWith(
            "jsock: --max-connections is for streams: UDP has no connections (each datagram is"
                + " answered as it comes)\n");
  }

  @Test
  void reusePortWithUnixIsAUsageError() throws Exception {
    assertThat(usageError("echo", "--reuse-port", "--unix", "echo.sock"))
        .startsWith("jsock: --reuse-port and --unix cannot be combined: AF_UNIX has no ports\n");
  }

  @Test
  void maxConnectionsBelowOneIsAUsageError() throws Exception {
    assertThat(usageError("echo", "--max-connections", "0"))
        .startsWith("jsock: --max-connections must be at least 1: 0\n");
  }

  @Test
  void certificateOptionsWithoutTlsAreAUsageError() throws Exception {
    assertThat(usageError("echo", "--cert", "cert.pem", "--key", "key.pem"))
        .startsWith("jsock: --cert, --key, --pkcs12 and --password-env need --tls\n");
  }

  @Test
  void portInUseIsOneLineAndExitCode7() throws Exception {
    try (Socket holder = Socket.create()) {
      holder.bind("127.0.0.1", 0);
      holder.listen();
      int port = ((InetSocketAddress) holder.getSockName()).getPort();
      try (RunningProcess echo = jsock("echo", "--host", "127.0.0.1", "--port", "" + port)) {
        assertThat(echo.exitCode()).isEqualTo(7);
        assertThat(echo.stderr())
            .isEqualTo("jsock: bind to 127.0.0.1:" + port + ": address already in use\n");
      }
    }
  }

  // ---------------------------------------------------------------- tools

  /** Runs {@code jsock ARGS}, which must be a usage error (exit code 2); returns its stderr. */
  private static String usageError(String... args) throws Exception {
    try (RunningProcess process = jsock(args)) {
      assertThat(process.exitCode())
          .as("exit code of jsock %s", String.join(" ", args))
          .isEqualTo(2);
      return process.stderr();
    }
  }

  /** A connection to {@code localhost:port}, trying each address the name has, as a user would. */
  private static Socket connect(int port) throws IOException {
    Socket conn =
        Sockets.createConnection(InetSocketAddress.createUnresolved("localhost", port), LIMIT);
    conn.setTimeout(LIMIT);
    return conn;
  }

  /** The certificate's SHA-256 fingerprint, as openssl and {@code jsock echo --tls} print it. */
  private static String fingerprint(X509Certificate certificate) throws Exception {
    byte[] digest = MessageDigest.getInstance("SHA-256").digest(certificate.getEncoded());
    return HexFormat.ofDelimiter(":").withUpperCase().formatHex(digest);
  }

  /** Whether one byte comes back within {@code wait}. */
  private static boolean echoes(Socket client, Duration wait) throws IOException {
    client.setTimeout(wait);
    client.sendAll(new byte[] {'x'});
    try {
      return client.recv(1).length == 1;
    } catch (SocketTimeoutException e) {
      return false;
    } finally {
      client.setTimeout(LIMIT);
    }
  }

  private static boolean refuses(SocketAddress address) throws IOException {
    Family family =
        ((InetSocketAddress) address).getAddress() instanceof Inet6Address
            ? Family.AF_INET6
            : Family.AF_INET;
    try (Socket probe = Socket.create(family, SocketKind.SOCK_STREAM)) {
      return probe.connectEx(address) == Errno.ECONNREFUSED;
    }
  }
}
