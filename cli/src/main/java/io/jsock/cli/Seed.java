package io.jsock.cli;

import static java.nio.charset.StandardCharsets.UTF_8;

import io.jsock.AddrInfo;
import io.jsock.Socket;
import io.jsock.SocketKind;
import io.jsock.Sockets;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;

/**
 * The two programs of the tutorial (the seed), each end's exchange written once for {@code jsock
 * server}, {@code jsock client} and {@code jsock demo}.
 */
final class Seed {
  static final String HOST = "localhost";
  static final String PORT = "12345";
  static final String CLIENT_MESSAGE = "Hello, server! This is the client.";
  static final String SERVER_REPLY = "Hello, client! This is the server.";

  /** As the seed's {@code recv(1024)}. */
  private static final int BUFSIZE = 1024;

  private Seed() {}

  /**
   * The server's socket, bound and listening, as the seed creates it (plus SO_REUSEADDR, so that a
   * restart does not trip over the last run's connections in TIME_WAIT).
   */
  static Socket listen(String host, int port, int backlog) throws IOException {
    AddrInfo info = Sockets.getAddrInfo(host, port, null, SocketKind.SOCK_STREAM).getFirst();
    Socket server = Socket.create(info.family(), SocketKind.SOCK_STREAM);
    try {
      server.setSockOpt(StandardSocketOptions.SO_REUSEADDR, true);
      server.bind(info.address());
      server.listen(backlog);
      return server;
    } catch (IOException | RuntimeException e) {
      server.close();
      throw e;
    }
  }

  /** The banner the seed prints: {@code Server is listening on localhost:12345}. */
  static String banner(String host, Socket server) throws IOException {
    int port = ((InetSocketAddress) server.getSockName()).getPort();
    return "Server is listening on " + host + ":" + port;
  }

  /** The server's side of one exchange: receive, print, reply, close. */
  static void serve(Socket conn, String reply, Lines out) throws IOException {
    try (conn) {
      byte[] data = conn.recv(BUFSIZE);
      out.line("Received: " + new String(data, UTF_8));
      conn.sendAll(reply.getBytes(UTF_8));
    }
  }

  /** The client's side: connect, send, receive, print, close. */
  static void exchange(String host, int port, String message, Lines out) throws IOException {
    try (Socket client = Sockets.createConnection(InetSocketAddress.createUnresolved(host, port))) {
      client.sendAll(message.getBytes(UTF_8));
      byte[] data = client.recv(BUFSIZE);
      out.line("Received: " + new String(data, UTF_8));
    }
  }
}
