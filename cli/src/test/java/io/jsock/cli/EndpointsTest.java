package io.jsock.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.jsock.Family;
import io.jsock.Socket;
import io.jsock.SocketKind;
import io.jsock.Sockets;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** {@link Endpoints#bind}: what a restarted listener may reuse, and what a UDP socket may not. */
class EndpointsTest {
  @Test
  void aListenerRebindsItsPortWhileAConnectionItClosedIsInTimeWait() throws Exception {
    int port;
    try (Socket listener =
        Endpoints.bind("127.0.0.1", 0, null, Family.AF_INET, SocketKind.SOCK_STREAM, 1)) {
      port = ((InetSocketAddress) listener.getSockName()).getPort();
      try (Socket client = Sockets.createConnection(new InetSocketAddress("127.0.0.1", port))) {
        try (Socket served = listener.accept().conn()) {
          served.sendAll("bye".getBytes(StandardCharsets.US_ASCII));
        } // the listener's side closes first, so its end of the connection stays in TIME_WAIT
        assertThat(new String(client.recv(16), StandardCharsets.US_ASCII)).isEqualTo("bye");
        assertThat(client.recv(16)).isEmpty();
      }
    }
    try (Socket again =
        Endpoints.bind("127.0.0.1", port, null, Family.AF_INET, SocketKind.SOCK_STREAM, 1)) {
      assertThat(((InetSocketAddress) again.getSockName()).getPort()).isEqualTo(port);
    }
  }

  @Test
  void aUdpSocketIsNotOpenedToSharingItsPort() throws Exception {
    try (Socket first =
        Endpoints.bind("127.0.0.1", 0, null, Family.AF_INET, SocketKind.SOCK_DGRAM, 1)) {
      assertThat(first.getSockOpt(StandardSocketOptions.SO_REUSEADDR)).isFalse();
    }
  }
}
