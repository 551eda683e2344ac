package io.jsock.bench;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketException;
import java.util.Set;

/**
 * The plain JDK echo server, the baseline jsock's hot path is measured against: {@code
 * java.net.ServerSocket} and one virtual thread per connection running the textbook blocking loop
 * over the socket's streams with a 16 KiB array per connection, TCP_NODELAY as the other servers
 * set it; for UDP one virtual thread receiving and sending with a {@code DatagramSocket}. Nothing
 * tuned: what a Java developer writes with JDK 25 and no library, whose virtual threads wait
 * through the JDK's own poller.
 *
 * <pre>
 * java -cp bench/target/jsock-bench-peers.jar io.jsock.bench.JdkEchoServer \
 *     --host 127.0.0.1 --port 0 [--udp]
 * </pre>
 *
 * Prints {@code Echo server listening on HOST:PORT} once it listens, as {@code jsock echo} does.
 */
public final class JdkEchoServer implements AutoCloseable {
  /** Each connection's buffer. */
  static final int BUFFER_SIZE = 16 * 1024;

  /** Larger than any UDP datagram. */
  private static final int MAX_DATAGRAM = 64 * 1024;

  private final ServerSocket listener; // null for UDP
  private final DatagramSocket datagrams; // null for TCP
  private final Thread loop;

  private JdkEchoServer(ServerSocket listener, DatagramSocket datagrams) {
    this.listener = listener;
    this.datagrams = datagrams;
    this.loop =
        listener != null
            ? Thread.ofPlatform().name("jdk echo accept").start(this::acceptLoop)
            : Thread.ofVirtual().name("jdk echo receive").start(this::receiveLoop);
  }

  public static void main(String[] args) throws IOException, InterruptedException {
    PeerOptions options =
        PeerOptions.parse("JdkEchoServer", args, Set.of("--host", "--port"), Set.of("--udp"));
    String host = options.text("--host", "localhost");
    InetSocketAddress address = new InetSocketAddress(host, options.number("--port", 12345));
    try (JdkEchoServer echo = start(address, options.flag("--udp"))) {
      PeerOptions.announceListening(host, echo.port());
      echo.loop.join();
    }
  }

  /** Starts an echo server on {@code address}: TCP, or UDP when {@code udp}. */
  static JdkEchoServer start(InetSocketAddress address, boolean udp) throws IOException {
    if (udp) {
      return new JdkEchoServer(null, new DatagramSocket(address));
    }
    ServerSocket listener = new ServerSocket();
    try {
      listener.setReuseAddress(true);
      listener.bind(address, 1024);
    } catch (IOException | RuntimeException e) {
      listener.close();
      throw e;
    }
    return new JdkEchoServer(listener, null);
  }

  /** The port it listens on. */
  int port() {
    return listener != null ? listener.getLocalPort() : datagrams.getLocalPort();
  }

  @Override
  public void close() throws IOException {
    if (listener != null) {
      listener.close();
    } else {
      datagrams.close();
    }
  }

  private void acceptLoop() {
    while (!listener.isClosed()) {
      Socket conn;
      try {
        conn = listener.accept();
      } catch (IOException e) {
        if (listener.isClosed()) {
          return;
        }
        throw new UncheckedIOException(e);
      }
      Thread.ofVirtual().name("jdk echo connection").start(() -> serve(conn));
    }
  }

  private static void serve(Socket conn) {
    try (conn) {
      conn.setTcpNoDelay(true);
      InputStream in = conn.getInputStream();
      OutputStream out = conn.getOutputStream();
      byte[] buffer = new byte[BUFFER_SIZE];
      int n;
      while ((n = in.read(buffer)) > 0) {
        out.write(buffer, 0, n);
      }
    } catch (SocketException e) {
      // the peer reset the connection, or the load generator stopped: the connection ends
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private void receiveLoop() {
    DatagramPacket packet = new DatagramPacket(new byte[MAX_DATAGRAM], MAX_DATAGRAM);
    while (!datagrams.isClosed()) {
      try {
        packet.setLength(MAX_DATAGRAM);
        datagrams.receive(packet);
        datagrams.send(packet); // back to its sender: the packet carries the sender's address
      } catch (IOException e) {
        if (datagrams.isClosed()) {
          return;
        }
        throw new UncheckedIOException(e);
      }
    }
  }
}
