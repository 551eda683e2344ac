package io.jsock;

import static org.assertj.core.api.Assertions.assertThat;

import io.jsock.server.ServerConfig;
import io.jsock.server.TcpServer;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Many connections in strict request-response, the pattern where a lost readiness edge shows: each
 * side waits for the other's one message, so a wakeup that goes missing stalls a connection for
 * good (caught here by the timeout, as a hang). Runs on whichever poller the JVM allows, and the
 * build runs it on both.
 */
class PingPongTest {
  private static final int CONNECTIONS = 64;
  private static final int ROUNDS = 300;

  @ParameterizedTest(name = "{0}-byte messages")
  @ValueSource(ints = {1, 64, 3000})
  @Timeout(value = 60, unit = TimeUnit.SECONDS)
  void everyConnectionGetsEveryReply(int size) throws Exception {
    try (TcpServer server =
        TcpServer.start(
            ServerConfig.defaults().withAddress("127.0.0.1", 0),
            conn -> {
              byte[] buf = new byte[64 * 1024];
              int n;
              while ((n = conn.recvInto(buf, 0)) > 0) {
                conn.sendAll(ByteBuffer.wrap(buf, 0, n));
              }
            })) {
      InetSocketAddress address = (InetSocketAddress) server.address();
      List<Future<Integer>> clients = new ArrayList<>();
      try (var threads = Executors.newVirtualThreadPerTaskExecutor()) {
        for (int c = 0; c < CONNECTIONS; c++) {
          int id = c;
          clients.add(threads.submit(() -> rounds(address, id, size)));
        }
        for (Future<Integer> client : clients) {
          assertThat(client.get()).isEqualTo(ROUNDS);
        }
      }
    }
  }

  private static int rounds(InetSocketAddress address, int id, int size) throws Exception {
    try (Socket conn = Sockets.createConnection(address, Duration.ofSeconds(30))) {
      conn.setTimeout(null);
      byte[] message = new byte[size];
      byte[] reply = new byte[size];
      for (int round = 0; round < ROUNDS; round++) {
        Arrays.fill(message, (byte) (id * 31 + round));
        conn.sendAll(message);
        int got = 0;
        while (got < size) {
          int n = conn.recvInto(ByteBuffer.wrap(reply, got, size - got));
          assertThat(n).as("connection %d round %d: bytes before the end", id, round).isPositive();
          got += n;
        }
        assertThat(reply).as("connection %d round %d", id, round).isEqualTo(message);
      }
      return ROUNDS;
    }
  }
}
