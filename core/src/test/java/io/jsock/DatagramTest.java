package io.jsock;

import static io.jsock.Family.AF_INET;
import static io.jsock.SocketKind.SOCK_DGRAM;
import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** {@link Datagram}: a value, as Python's {@code (data, address)} pair from {@code recvfrom}. */
class DatagramTest {
  // python3: a.sendto(b"hi", b); a.sendto(b"hi", b); b.recvfrom(9) == b.recvfrom(9) -> True
  @Test
  void datagramsWithTheSameBytesFromTheSameSenderAreEqualAsPythonsPairs() throws Exception {
    try (Socket a = Socket.create(AF_INET, SOCK_DGRAM);
        Socket b = Socket.create(AF_INET, SOCK_DGRAM)) {
      a.bind("127.0.0.1", 0);
      b.bind("127.0.0.1", 0);
      b.setTimeout(Duration.ofSeconds(10));
      a.sendTo("hi".getBytes(UTF_8), b.getSockName());
      a.sendTo("hi".getBytes(UTF_8), b.getSockName());
      a.sendTo("ho".getBytes(UTF_8), b.getSockName());

      Datagram first = b.recvFrom(9);
      Datagram second = b.recvFrom(9);
      Datagram third = b.recvFrom(9);

      assertThat(second).isEqualTo(first).hasSameHashCodeAs(first);
      assertThat(third).isNotEqualTo(first);
      assertThat(new Datagram("hi".getBytes(UTF_8), b.getSockName())).isNotEqualTo(first);
    }
  }

  // python3: repr((b"hi\n\x00'", ("127.0.0.1", 5000))) -> (b"hi\n\x00'", ('127.0.0.1', 5000))
  @Test
  void toStringShowsTheBytesAsPythonWritesThemAndTheAddress() throws Exception {
    InetSocketAddress v4 = new InetSocketAddress(InetAddress.getByName("127.0.0.1"), 5000);
    InetSocketAddress v6 = new InetSocketAddress(InetAddress.getByName("::1"), 5000);

    assertThat(new Datagram("hi".getBytes(UTF_8), v4))
        .hasToString("Datagram[data=b'hi', address=127.0.0.1:5000]");
    assertThat(new Datagram(new byte[] {'a', '\n', 0, '\\', (byte) 0xff, '\t', '\r', '~'}, v6))
        .hasToString("Datagram[data=b'a\\n\\x00\\\\\\xff\\t\\r~', address=[::1]:5000]");
    assertThat(new Datagram(new byte[0], v4))
        .hasToString("Datagram[data=b'', address=127.0.0.1:5000]");
    // Python's quotes: double when the bytes hold ' but no ", else single with \' escaped
    assertThat(new Datagram("it's".getBytes(UTF_8), v4))
        .hasToString("Datagram[data=b\"it's\", address=127.0.0.1:5000]");
    assertThat(new Datagram("'\"".getBytes(UTF_8), v4))
        .hasToString("Datagram[data=b'\\'\"', address=127.0.0.1:5000]");
  }
}
