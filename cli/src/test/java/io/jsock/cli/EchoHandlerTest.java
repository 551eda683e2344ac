package io.jsock.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.jsock.Shutdown;
import io.jsock.Socket;
import io.jsock.Sockets;
import io.jsock.server.ServerConfig;
import java.io.ByteArrayOutputStream;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.Arrays;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import picocli.CommandLine;

/**
 * {@code jsock echo}'s handler over a real loopback connection: small messages through {@code
 * recv}, a streaming client through the connection's own buffer, and the switches between the two
 * in both directions must all echo exactly the bytes that came.
 */
@Timeout(60)
class EchoHandlerTest {
  @Test
  void smallAndLargeMessagesInAnyOrderComeBackExactly() throws Exception {
    Random random = new Random(42);
    int[] sizes = {100, 64 * 1024, 200_000, 3, 16 * 1024, 16 * 1024 - 1, 1 << 20, 64, 70_000, 1};
    ByteArrayOutputStream sent = new ByteArrayOutputStream();
    try (var executor = Executors.newVirtualThreadPerTaskExecutor();
        Socket listener = Sockets.createServer(new InetSocketAddress("127.0.0.1", 0));
        Socket client = Sockets.createConnection(listener.getSockName(), Duration.ofSeconds(10))) {
      Socket conn = listener.accept().conn();
      CompletableFuture<Void> handler =
          CompletableFuture.runAsync(
              () -> {
                try (conn) {
                  EchoCommand.echo(conn);
                } catch (Exception e) {
                  throw new IllegalStateException(e);
                }
              },
              executor);
      CompletableFuture<Void> sender =
          CompletableFuture.runAsync(
              () -> {
                try {
                  for (int size : sizes) {
                    byte[] message = new byte[size];
                    random.nextBytes(message);
                    sent.write(message);
                    client.sendAll(message);
                  }
                  client.shutdown(Shutdown.SHUT_WR);
                } catch (Exception e) {
                  throw new IllegalStateException(e);
                }
              },
              executor);

      ByteArrayOutputStream received = new ByteArrayOutputStream();
      byte[] chunk;
      while ((chunk = client.recv(100_000)).length > 0) {
        received.write(chunk);
      }

      sender.get(30, TimeUnit.SECONDS);
      handler.get(30, TimeUnit.SECONDS); // it returned at the end of the stream
      byte[] expected = sent.toByteArray();
      byte[] actual = received.toByteArray();
      assertThat(actual.length).isEqualTo(expected.length);
      assertThat(Arrays.mismatch(actual, expected))
          .as("index of the first wrong byte")
          .isEqualTo(-1);
    }
  }

  @Test
  void aStreamingConnectionsBufferStartsAt64KibAndGrowsTo256KibWhenAReceiveFillsIt() {
    byte[] first = EchoCommand.streamingBuffer(null, 16 * 1024);
    assertThat(first).hasSize(64 * 1024);
    assertThat(EchoCommand.streamingBuffer(first, 64 * 1024 - 1)).isSameAs(first);
    byte[] large = EchoCommand.streamingBuffer(first, 64 * 1024);
    assertThat(large).hasSize(256 * 1024);
    assertThat(EchoCommand.streamingBuffer(large, 256 * 1024)).isSameAs(large);
    assertThat(EchoCommand.streamingBuffer(large, 20_000)).isSameAs(large);
  }

  @Test
  void aTcpServerSetsNagleOffForEveryConnectionAndAUnixOrUdpOneDoesNot() {
    assertThat(serverConfig("--port", "0").tcpNoDelay()).isTrue();
    assertThat(serverConfig("--port", "0", "--udp").tcpNoDelay()).isFalse();
    assertThat(serverConfig("--unix", "/tmp/jsock-echo-test.sock").tcpNoDelay()).isFalse();
  }

  private static ServerConfig serverConfig(String... args) {
    EchoCommand command = new EchoCommand();
    new CommandLine(command).parseArgs(args);
    return command.serverConfig();
  }

  @Test
  void aUnixConnectionIsEchoedWithoutTcpOptions() throws Exception {
    Socket[] pair = Sockets.socketPair();
    try (Socket client = pair[0];
        Socket conn = pair[1]) {
      client.sendAll(new byte[] {4, 5});
      client.shutdown(Shutdown.SHUT_WR);

      EchoCommand.echo(conn);

      assertThat(client.recv(10)).containsExactly(4, 5);
    }
  }
}
