package io.jsock.cli;

import static io.jsock.cli.RunningProcess.jsock;
import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.jsock.AddrInfo;
import io.jsock.Errno;
import io.jsock.Family;
import io.jsock.Socket;
import io.jsock.SocketKind;
import io.jsock.Sockets;
import io.jsock.testing.Echoes;
import io.jsock.testing.Echoes.Transfer;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.SocketTimeoutException;
import java.net.UnixDomainSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Integration test (runs the real {@code ./jsock echo}): echoes checked by SHA-256 over TCP, UDP
 * and AF_UNIX, the graceful stop on SIGTERM with exit code 0, and an accept loop that survives
 * running out of file descriptors.
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

  /** A connection to {@code localhost:port}, trying each address the name has, as a user would. */
  private static Socket connect(int port) throws IOException {
    Socket conn =
        Sockets.createConnection(InetSocketAddress.createUnresolved("localhost", port), LIMIT);
    conn.setTimeout(LIMIT);
    return conn;
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
        ((InetSocketAddress) address).getAddress() instanceof java.net.Inet6Address
            ? Family.AF_INET6
            : Family.AF_INET;
    try (Socket probe = Socket.create(family, SocketKind.SOCK_STREAM)) {
      return probe.connectEx(address) == Errno.ECONNREFUSED;
    }
  }
}
