package io.jsock;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.jsock.testing.Loopback;
import io.jsock.testing.Loopback.Pair;
import java.net.StandardSocketOptions;
import jdk.net.ExtendedSocketOptions;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** {@link Socket#setSockOpt} and {@link Socket#getSockOpt} with standard and extended options. */
class SocketOptionsTest {
  @ParameterizedTest
  @EnumSource(names = {"AF_INET", "AF_INET6"})
  void keepAliveAndItsTimersRoundTrip(Family family) throws Exception {
    try (Pair pair = Loopback.pair(family)) {
      Socket s = pair.client();
      s.setSockOpt(StandardSocketOptions.SO_KEEPALIVE, true);
      s.setSockOpt(ExtendedSocketOptions.TCP_KEEPIDLE, 30);
      s.setSockOpt(ExtendedSocketOptions.TCP_KEEPINTERVAL, 5);
      s.setSockOpt(ExtendedSocketOptions.TCP_KEEPCOUNT, 4);

      assertThat(s.getSockOpt(StandardSocketOptions.SO_KEEPALIVE)).isTrue();
      assertThat(s.getSockOpt(ExtendedSocketOptions.TCP_KEEPIDLE)).isEqualTo(30);
      assertThat(s.getSockOpt(ExtendedSocketOptions.TCP_KEEPINTERVAL)).isEqualTo(5);
      assertThat(s.getSockOpt(ExtendedSocketOptions.TCP_KEEPCOUNT)).isEqualTo(4);
    }
  }

  @ParameterizedTest
  @EnumSource(names = {"AF_INET", "AF_INET6"})
  void lingerBuffersAndTosRoundTrip(Family family) throws Exception {
    try (Pair pair = Loopback.pair(family)) {
      Socket s = pair.client();
      s.setSockOpt(StandardSocketOptions.SO_LINGER, 3);
      s.setSockOpt(StandardSocketOptions.SO_SNDBUF, 65_536);
      s.setSockOpt(StandardSocketOptions.SO_RCVBUF, 65_536);
      s.setSockOpt(StandardSocketOptions.IP_TOS, 0x10);

      assertThat(s.getSockOpt(StandardSocketOptions.SO_LINGER)).isEqualTo(3);
      // Linux doubles the buffer sizes it is given, for its own bookkeeping.
      assertThat(s.getSockOpt(StandardSocketOptions.SO_SNDBUF)).isGreaterThanOrEqualTo(65_536);
      assertThat(s.getSockOpt(StandardSocketOptions.SO_RCVBUF)).isGreaterThanOrEqualTo(65_536);
      assertThat(s.getSockOpt(StandardSocketOptions.IP_TOS)).isEqualTo(0x10);
    }
  }

  @ParameterizedTest
  @EnumSource(Family.class)
  void anOptionThatDoesNotFitTheSocketIsAClearError(Family family) throws Exception {
    try (Socket s = Socket.create(family, SocketKind.SOCK_STREAM)) {
      assertThatThrownBy(() -> s.setSockOpt(StandardSocketOptions.SO_BROADCAST, true))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessage("option SO_BROADCAST does not apply to an " + family + " SOCK_STREAM socket");
      assertThatThrownBy(() -> s.getSockOpt(StandardSocketOptions.IP_MULTICAST_TTL))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("option IP_MULTICAST_TTL does not apply");
      assertThatThrownBy(() -> s.setSockOpt(StandardSocketOptions.SO_LINGER, null))
          .isInstanceOf(NullPointerException.class)
          .hasMessage("value");
    }
  }
}
