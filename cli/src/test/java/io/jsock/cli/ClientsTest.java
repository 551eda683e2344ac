package io.jsock.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.jsock.Shutdown;
import io.jsock.Socket;
import io.jsock.Sockets;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.InetSocketAddress;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** {@code jsock listen -k}'s clients in-process. */
@Timeout(60)
class ClientsTest {
  @Test
  void aClientLeavesNoDirectBufferForTheCollectorToFree() throws Exception {
    // each client's 64 KiB receive buffer was a direct buffer, freed only by a collection: a
    // listen -k held one per client served until one came (a collection in between would hide
    // part of the growth, never make it appear)
    BridgeOptions options = new BridgeOptions();
    options.recvOnly = true;
    StringWriter said = new StringWriter();
    Clients clients =
        new Clients(
            new StandardStreams(),
            new Diagnostics(new Lines(new PrintWriter(said, true)), 0, false),
            options,
            null,
            () -> {});
    clients.start();
    try (Socket listener = Sockets.createServer(new InetSocketAddress("127.0.0.1", 0))) {
      serveOne(clients, listener); // the JDK's own buffers, made once
      long before = DirectMemory.used();
      int served = 16;
      for (int i = 0; i < served; i++) {
        serveOne(clients, listener);
      }
      // 16 clients held 16 x 64 KiB until a collection; half of that leaves room for a direct
      // buffer another thread of the test JVM takes meanwhile (the JDK's temporary ones)
      assertThat(DirectMemory.used() - before).as(said.toString()).isLessThan(served * 32 * 1024);
    }
  }

  /** A client that sends nothing and half-closes, served until the listener's side closes. */
  private static void serveOne(Clients clients, Socket listener) throws Exception {
    try (Socket client = Sockets.createConnection(listener.getSockName(), Duration.ofSeconds(10))) {
      Socket conn = listener.accept().conn();
      assertThat(clients.reserve(100)).isTrue();
      clients.serve(conn, "client");
      client.shutdown(Shutdown.SHUT_WR);
      client.setTimeout(Duration.ofSeconds(30));
      assertThat(client.recv(1)).isEmpty(); // served to its end, and closed
    }
  }
}
