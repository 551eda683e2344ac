package io.jsock.server;

import static io.jsock.Family.AF_INET;
import static io.jsock.Shutdown.SHUT_WR;
import static io.jsock.SocketKind.SOCK_DGRAM;
import static io.jsock.SocketKind.SOCK_STREAM;
import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.jsock.Socket;
import io.jsock.Sockets;
import io.jsock.framing.Framed;
import io.jsock.framing.Framing;
import io.jsock.framing.Framing.Prefix;
import io.jsock.testing.Loopback;
import java.io.EOFException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * README's examples, as written there (but for the port: 12345 may be taken), run against real
 * clients: the tutorial's server, message framing, the two server examples and the UDP server.
 * README's TLS examples name example.com and PEM files and are not run here; TlsSocketTest makes
 * the same calls on loopback.
 */
class ReadmeExamplesTest {
  private static final Duration PROMPTLY = Duration.ofSeconds(10);

  @Test
  void theTutorialsServerReceivesPrintsAndReplies() throws Exception {
    // README: "The library", the tutorial's server
    int port = Loopback.unusedPort(AF_INET, SOCK_STREAM);
    var serverSocket = Socket.create(AF_INET, SOCK_STREAM);
    serverSocket.bind(new InetSocketAddress("localhost", port));
    serverSocket.listen(1);
    try (Socket client = Sockets.createConnection(new InetSocketAddress("localhost", port))) {
      client.sendAll("Hello, server! This is the client.".getBytes(UTF_8));
      var accepted = serverSocket.accept();
      var clientSocket = accepted.conn();
      var data = clientSocket.recv(1024);
      assertThat(UTF_8.newDecoder().decode(ByteBuffer.wrap(data)).toString())
          .isEqualTo("Hello, server! This is the client.");
      clientSocket.sendAll("Hello, client! This is the server.".getBytes(UTF_8));
      clientSocket.close();
      serverSocket.close();
      assertThat(client.recv(1024)).isEqualTo("Hello, client! This is the server.".getBytes(UTF_8));
      assertThat(client.recv(1024)).isEmpty();
    }
  }

  @Test
  void theFramingExampleSendsARequestAndEchoesLinesUntilThePeerCloses() throws Exception {
    // README: "Beyond Python: message framing"
    try (Loopback.Pair pair = Loopback.pair(AF_INET)) {
      Socket sock = pair.client();
      Socket conn = pair.server();
      byte[] request = "request".getBytes(UTF_8);
      CompletableFuture<Void> lineServer =
          CompletableFuture.runAsync(
              () -> {
                try {
                  Framed raw = Framing.lengthPrefixed(Prefix.U32, 1 << 20).on(conn);
                  raw.sendMsg(raw.recvMsg());
                  Framed lines = Framing.lines(8192).on(conn); // '\n' or "\r\n"
                  try {
                    while (true) lines.sendMsg(handle(lines.recvMsg()));
                  } catch (EOFException peerClosed) {
                    // the peer closed between two messages
                  }
                } catch (Exception e) {
                  throw new IllegalStateException(e);
                }
              });

      Framed framed = Framing.lengthPrefixed(Prefix.U32, 1 << 20).on(sock);
      framed.sendMsg(request);
      byte[] response = framed.recvMsg();

      assertThat(response).isEqualTo(request);
      sock.sendAll("one\r\ntwo\n".getBytes(UTF_8));
      Framed replies = Framing.lines(8192).on(sock);
      assertThat(new String(replies.recvMsg(), UTF_8)).isEqualTo("ONE");
      assertThat(new String(replies.recvMsg(), UTF_8)).isEqualTo("TWO");
      sock.shutdown(SHUT_WR);
      lineServer.get(PROMPTLY.toSeconds(), TimeUnit.SECONDS);
    }
  }

  private static byte[] handle(byte[] line) {
    return new String(line, UTF_8).toUpperCase(Locale.ROOT).getBytes(UTF_8);
  }

  @Test
  void theEchoServerEchoes() throws Exception {
    // README: "An echo server"
    TcpServer server =
        TcpServer.start(
            ServerConfig.defaults(),
            conn -> {
              byte[] data;
              while ((data = conn.recv(64 * 1024)).length > 0) {
                conn.sendAll(data);
              }
            });
    try (server;
        Socket client = Sockets.createConnection(server.address(), PROMPTLY)) {
      client.sendAll("echo me".getBytes(UTF_8));
      assertThat(client.recv(100)).isEqualTo("echo me".getBytes(UTF_8));
    }
  }

  @Test
  void theChatServerPassesEachLineToEveryOtherMember() throws Exception {
    // README: "A line-based chat server"
    Set<Framed> members = ConcurrentHashMap.newKeySet();
    TcpServer chat =
        TcpServer.start(
            ServerConfig.defaults().withIdleTimeout(Duration.ofHours(1)),
            conn -> {
              Framed member = Framing.lines(4096).on(conn);
              members.add(member);
              try {
                while (true) {
                  byte[] line = member.recvMsg(); // EOFException when the member leaves
                  for (Framed other : members) {
                    if (other != member) {
                      other.sendMsg(line);
                    }
                  }
                }
              } catch (EOFException left) {
                // the member hung up
              } finally {
                members.remove(member);
              }
            });
    try (chat;
        Socket alice = Sockets.createConnection(chat.address(), PROMPTLY);
        Socket bob = Sockets.createConnection(chat.address(), PROMPTLY);
        Socket carol = Sockets.createConnection(chat.address(), PROMPTLY)) {
      Framed a = Framing.lines(4096).on(alice);
      Framed b = Framing.lines(4096).on(bob);
      Framed c = Framing.lines(4096).on(carol);
      await().atMost(PROMPTLY).until(() -> members.size() == 3);

      a.sendMsg("hello from alice".getBytes(UTF_8));

      assertThat(new String(b.recvMsg(), UTF_8)).isEqualTo("hello from alice");
      assertThat(new String(c.recvMsg(), UTF_8)).isEqualTo("hello from alice");
      alice.close();
      await().atMost(PROMPTLY).until(() -> members.size() == 2);
      b.sendMsg("bye".getBytes(UTF_8));
      assertThat(new String(c.recvMsg(), UTF_8)).isEqualTo("bye");
    }
  }

  @Test
  void theUdpServerSendsEachDatagramBack() throws Exception {
    // README: "Servers", UdpServer.start(config, (datagram, socket) -> ...)
    UdpServer server =
        UdpServer.start(
            ServerConfig.defaults(),
            (datagram, socket) -> socket.sendTo(datagram.data(), datagram.address()));
    try (server;
        Socket client = Socket.create(AF_INET, SOCK_DGRAM)) {
      client.setTimeout(PROMPTLY);
      client.sendTo("ping".getBytes(UTF_8), server.address());
      assertThat(client.recvFrom(100).data()).isEqualTo("ping".getBytes(UTF_8));
    }
  }
}
