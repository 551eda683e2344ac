package io.jsock.testing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.jsock.Family;
import io.jsock.Socket;
import io.jsock.SocketKind;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The test host on a network of its own: reachable, firewalled, and gone after close. */
class NetnsHostTest {
  @BeforeAll
  static void needsRootIpAndNft() {
    NetnsHost.assumeAvailable();
  }

  @Test
  void aProgramInTheHostAnswersOverTheLinkAndTheFirewallDropsWhatItIsTold() throws Exception {
    String name;
    try (NetnsHost host = NetnsHost.create()) {
      name = host.name();
      assertThat(host.address().getHostAddress()).startsWith("198.1");
      Process server =
          host.start(
              "python3",
              "-c",
              """
              import socket
              s = socket.create_server(("%s", 7000))
              print("ready", flush=True)
              c, _ = s.accept()
              c.sendall(b"hello from " + c.getpeername()[0].encode())
              c.close()
              """
                  .formatted(host.address().getHostAddress()));
      assertThat(new String(server.getInputStream().readNBytes(6), StandardCharsets.US_ASCII))
          .isEqualTo("ready\n");
      try (Socket client = Socket.create(Family.AF_INET, SocketKind.SOCK_STREAM)) {
        client.setTimeout(Duration.ofSeconds(10));
        client.connect(new InetSocketAddress(host.address(), 7000));
        assertThat(new String(client.recv(100), StandardCharsets.US_ASCII))
            .isEqualTo("hello from " + host.localAddress().getHostAddress());
      }

      host.firewall("add rule inet test input tcp dport 7001 drop");
      try (Socket client = Socket.create(Family.AF_INET, SocketKind.SOCK_STREAM)) {
        client.setTimeout(Duration.ofMillis(300));
        assertThatThrownBy(() -> client.connect(new InetSocketAddress(host.address(), 7001)))
            .isInstanceOf(SocketTimeoutException.class)
            .hasMessageEndingWith("timed out");
      }
    }
    assertThat(
            new String(
                new ProcessBuilder("ip", "netns", "list").start().getInputStream().readAllBytes()))
        .doesNotContain(name);
  }

  @Test
  void eachHostHasItsOwnSubnetAndName() throws IOException {
    try (NetnsHost one = NetnsHost.create();
        NetnsHost two = NetnsHost.create()) {
      assertThat(one.name()).isNotEqualTo(two.name());
      assertThat(one.address()).isNotEqualTo(two.address());
      assertThat(one.run("ip", "-o", "-4", "addr", "show", "dev", "eth0"))
          .contains(one.address().getHostAddress() + "/29");
      two.mtu(1280);
      two.rate("1mbit");
      assertThat(two.run("ip", "link", "show", "dev", "eth0")).contains("mtu 1280");
      assertThat(two.run("tc", "qdisc", "show", "dev", "eth0"))
          .contains("tbf")
          .contains("rate 1Mbit");
    }
  }
}
