package io.jsock.bench;

import static org.assertj.core.api.Assertions.assertThat;

import io.jsock.Family;
import io.jsock.Socket;
import io.jsock.SocketKind;
import io.jsock.Sockets;
import java.io.ByteArrayOutputStream;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.Random;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** The Netty peer echoes intact over real loopback sockets, on both transports, TCP and UDP. */
class NettyEchoServerTest {
  private static final Duration LIMIT = Duration.ofSeconds(30);
  private static final InetSocketAddress ANY_PORT = new InetSocketAddress("127.0.0.1", 0);

  @ParameterizedTest
  @EnumSource(NettyTransport.class)
  void echoesAStreamIntact(NettyTransport transport) throws Exception {
    byte[] sent = new byte[256 * 1024];
    new Random(42).nextBytes(sent);
    try (NettyEchoServer.Running echo = NettyEchoServer.start(transport, ANY_PORT, false, 1);
        Socket conn =
            Sockets.createConnection(new InetSocketAddress("127.0.0.1", echo.port()), LIMIT)) {
      Thread writer =
          Thread.ofVirtual()
              .start(
                  () -> {
                    try {
                      conn.sendAll(sent);
                    } catch (java.io.IOException e) {
                      throw new java.io.UncheckedIOException(e);
                    }
                  });
      ByteArrayOutputStream received = new ByteArrayOutputStream();
      while (received.size() < sent.length) {
        byte[] chunk = conn.recv(64 * 1024);
        assertThat(chunk).as("end of stream after %d bytes", received.size()).isNotEmpty();
        received.write(chunk);
      }
      writer.join(LIMIT);
      assertThat(received.toByteArray()).isEqualTo(sent);
    }
  }

  @ParameterizedTest
  @EnumSource(NettyTransport.class)
  void echoesADatagramToItsSender(NettyTransport transport) throws Exception {
    try (NettyEchoServer.Running echo = NettyEchoServer.start(transport, ANY_PORT, true, 1);
        Socket client = Socket.create(Family.AF_INET, SocketKind.SOCK_DGRAM)) {
      client.setTimeout(LIMIT);
      client.connect(new InetSocketAddress("127.0.0.1", echo.port()));
      byte[] datagram = "ping over UDP".getBytes(java.nio.charset.StandardCharsets.UTF_8);
      client.send(datagram);
      assertThat(client.recv(1024)).isEqualTo(datagram);
    }
  }
}
