package io.jsock.bench;

import static org.assertj.core.api.Assertions.assertThat;

import io.jsock.Family;
import io.jsock.Socket;
import io.jsock.SocketKind;
import io.jsock.Sockets;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The benchmark's peer servers echo intact over real loopback sockets: Netty on both transports and
 * the plain JDK server, TCP and UDP.
 */
class EchoPeersTest {
  private static final Duration LIMIT = Duration.ofSeconds(30);
  private static final InetSocketAddress ANY_PORT = new InetSocketAddress("127.0.0.1", 0);

  @ParameterizedTest
  @EnumSource(NettyTransport.class)
  void nettyEchoesAStreamIntact(NettyTransport transport) throws Exception {
    try (NettyEchoServer.Running echo = NettyEchoServer.start(transport, ANY_PORT, false, 1)) {
      assertEchoesAStreamIntact(echo.port());
    }
  }

  @ParameterizedTest
  @EnumSource(NettyTransport.class)
  void nettyEchoesADatagramToItsSender(NettyTransport transport) throws Exception {
    try (NettyEchoServer.Running echo = NettyEchoServer.start(transport, ANY_PORT, true, 1)) {
      assertEchoesADatagramToItsSender(echo.port());
    }
  }

  @Test
  void jdkEchoesAStreamIntactOnSeveralConnectionsAtOnce() throws Exception {
    try (JdkEchoServer echo = JdkEchoServer.start(ANY_PORT, false);
        Socket other =
            Sockets.createConnection(new InetSocketAddress("127.0.0.1", echo.port()), LIMIT)) {
      assertEchoesAStreamIntact(echo.port()); // more than its 16 KiB buffer, while other is open
      other.setTimeout(LIMIT);
      other.sendAll("still here".getBytes(StandardCharsets.US_ASCII));
      assertThat(new String(other.recv(64), StandardCharsets.US_ASCII)).isEqualTo("still here");
    }
  }

  @Test
  void jdkEchoesADatagramToItsSender() throws Exception {
    try (JdkEchoServer echo = JdkEchoServer.start(ANY_PORT, true)) {
      assertEchoesADatagramToItsSender(echo.port());
    }
  }

  private static void assertEchoesAStreamIntact(int port) throws Exception {
    byte[] sent = new byte[256 * 1024];
    new Random(42).nextBytes(sent);
    try (Socket conn = Sockets.createConnection(new InetSocketAddress("127.0.0.1", port), LIMIT)) {
      conn.setTimeout(LIMIT);
      Thread writer =
          Thread.ofVirtual()
              .start(
                  () -> {
                    try {
                      conn.sendAll(sent);
                    } catch (IOException e) {
                      throw new UncheckedIOException(e);
                    }
                  });
      ByteArrayOutputStream received = new ByteArrayOutputStream();
      while (received.size() < sent.length) {
        byte[] chunk = conn.recv(64 * 1024);
        assertThat(chunk).as("end of stream after %d bytes", received.size()).isNotEmpty();
        received.write(chunk);
      }
      assertThat(writer.join(LIMIT)).isTrue();
      assertThat(received.toByteArray()).isEqualTo(sent);
    }
  }

  private static void assertEchoesADatagramToItsSender(int port) throws Exception {
    try (Socket client = Socket.create(Family.AF_INET, SocketKind.SOCK_DGRAM)) {
      client.setTimeout(LIMIT);
      client.connect(new InetSocketAddress("127.0.0.1", port));
      byte[] datagram = "ping over UDP".getBytes(StandardCharsets.UTF_8);
      client.send(datagram);
      assertThat(client.recv(1024)).isEqualTo(datagram);
    }
  }
}
