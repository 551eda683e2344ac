package io.jsock.framing;

import static io.jsock.Family.AF_INET;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.params.provider.Arguments.arguments;

import io.jsock.Family;
import io.jsock.Socket;
import io.jsock.SocketKind;
import io.jsock.framing.Framing.Prefix;
import io.jsock.testing.Loopback;
import io.jsock.testing.Loopback.Pair;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * {@link Framing}: its factories' validation, its value semantics, and the bytes each framing puts
 * on the wire (read raw by the peer of a loopback pair).
 */
class FramingTest {
  private static final int MAX_ARRAY = Integer.MAX_VALUE - 8;

  // ---------------------------------------------------------------- maxSize validation

  @ParameterizedTest
  @EnumSource(Prefix.class)
  void lengthPrefixedTakesOneAsTheSmallestMaximum(Prefix prefix) {
    assertThat(Framing.lengthPrefixed(prefix, 1).maxSize()).isEqualTo(1);
  }

  @ParameterizedTest
  @ValueSource(ints = {0, -1, Integer.MIN_VALUE})
  void aMaximumBelowOneIsRejectedNamingMaxSize(int maxSize) {
    for (Prefix prefix : Prefix.values()) {
      assertThatThrownBy(() -> Framing.lengthPrefixed(prefix, maxSize))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageStartingWith("maxSize must be 1..")
          .hasMessageEndingWith(": " + maxSize);
    }
    assertThatThrownBy(() -> Framing.lines(maxSize))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith("maxSize must be 1..")
        .hasMessageEndingWith(": " + maxSize);
    assertThatThrownBy(() -> Framing.delimited(new byte[] {0}, maxSize))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith("maxSize must be 1..")
        .hasMessageEndingWith(": " + maxSize);
  }

  @Test
  void u16CarriesAtMost65535() {
    assertThat(Framing.lengthPrefixed(Prefix.U16, 65535).maxSize()).isEqualTo(65535);
    assertThatThrownBy(() -> Framing.lengthPrefixed(Prefix.U16, 65536))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("maxSize must be 1..65535 for a U16 prefix: 65536");
  }

  @ParameterizedTest
  @EnumSource(
      value = Prefix.class,
      names = {"U32", "VARINT"})
  void u32AndVarintCarryUpToTheLargestJavaArray(Prefix prefix) {
    assertThat(Framing.lengthPrefixed(prefix, MAX_ARRAY).maxSize()).isEqualTo(MAX_ARRAY);
    assertThatThrownBy(() -> Framing.lengthPrefixed(prefix, MAX_ARRAY + 1))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage(
            "maxSize must be 1.." + MAX_ARRAY + " for a " + prefix + " prefix: " + (MAX_ARRAY + 1));
    assertThatThrownBy(() -> Framing.lengthPrefixed(prefix, Integer.MAX_VALUE))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageEndingWith(": " + Integer.MAX_VALUE);
  }

  @Test
  void linesAndDelimitersLeaveRoomForTheLineEndOrDelimiter() {
    assertThat(Framing.lines(MAX_ARRAY - 2).maxSize()).isEqualTo(MAX_ARRAY - 2);
    assertThatThrownBy(() -> Framing.lines(MAX_ARRAY - 1))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("maxSize must be 1.." + (MAX_ARRAY - 2) + " for lines: " + (MAX_ARRAY - 1));
    byte[] blankLine = "\r\n\r\n".getBytes(StandardCharsets.US_ASCII);
    assertThat(Framing.delimited(blankLine, MAX_ARRAY - 4).maxSize()).isEqualTo(MAX_ARRAY - 4);
    assertThatThrownBy(() -> Framing.delimited(blankLine, MAX_ARRAY - 3))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage(
            "maxSize must be 1.." + (MAX_ARRAY - 4) + " for this delimiter: " + (MAX_ARRAY - 3));
  }

  @Test
  void anEmptyOrMissingDelimiterIsRejected() {
    assertThatThrownBy(() -> Framing.delimited(new byte[0], 10))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("delimiter must not be empty");
    assertThatThrownBy(() -> Framing.delimited(null, 10))
        .isInstanceOf(NullPointerException.class)
        .hasMessage("delimiter");
    assertThatThrownBy(() -> Framing.lengthPrefixed(null, 10))
        .isInstanceOf(NullPointerException.class)
        .hasMessage("prefix");
  }

  // ---------------------------------------------------------------- value semantics

  @Test
  void theDelimiterIsCopiedSoTheCallerCannotChangeTheFraming() throws Exception {
    byte[] delimiter = {'|'};
    Framing framing = Framing.delimited(delimiter, 100);
    delimiter[0] = '#';

    assertThat(framing).isEqualTo(Framing.delimited(new byte[] {'|'}, 100));
    assertThat(wire(framing, bytes("ab"))).isEqualTo(bytes("ab|"));
  }

  @Test
  void framingsAreValuesEqualByKindDelimiterAndMaximum() {
    assertThat(Framing.lengthPrefixed(Prefix.U32, 10))
        .isEqualTo(Framing.lengthPrefixed(Prefix.U32, 10))
        .hasSameHashCodeAs(Framing.lengthPrefixed(Prefix.U32, 10))
        .isNotEqualTo(Framing.lengthPrefixed(Prefix.VARINT, 10))
        .isNotEqualTo(Framing.lengthPrefixed(Prefix.U32, 11));
    assertThat(Framing.delimited(bytes("\r\n"), 10))
        .isEqualTo(Framing.delimited(bytes("\r\n"), 10))
        .hasSameHashCodeAs(Framing.delimited(bytes("\r\n"), 10))
        .isNotEqualTo(Framing.delimited(bytes("\n\r"), 10));
    assertThat(Framing.lines(10))
        .isEqualTo(Framing.lines(10))
        .isNotEqualTo(Framing.delimited(bytes("\n"), 10));
  }

  @Test
  void toStringIsTheFactoryCall() {
    assertThat(Framing.lengthPrefixed(Prefix.U32, 1 << 20))
        .hasToString("lengthPrefixed(U32, 1048576)");
    assertThat(Framing.lines(8192)).hasToString("lines(8192)");
    assertThat(Framing.delimited(bytes("\r\n\r\n"), 100))
        .hasToString("delimited([0d 0a 0d 0a], 100)");
  }

  @Test
  void onNeedsAStreamSocket() throws Exception {
    try (Socket udp = Socket.create(Family.AF_INET, SocketKind.SOCK_DGRAM)) {
      assertThatThrownBy(() -> Framing.lines(10).on(udp))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessage("socket: framing needs a SOCK_STREAM socket, not SOCK_DGRAM");
    }
    assertThatThrownBy(() -> Framing.lines(10).on(null))
        .isInstanceOf(NullPointerException.class)
        .hasMessage("socket");
  }

  @Test
  void onGivesAFramedOnThatSocketWithThatFraming() throws Exception {
    try (Pair pair = Loopback.pair(AF_INET)) {
      Framing framing = Framing.lines(10);
      Framed framed = framing.on(pair.client());
      assertThat(framed.socket()).isSameAs(pair.client());
      assertThat(framed.framing()).isSameAs(framing);
    }
  }

  // ---------------------------------------------------------------- the bytes on the wire

  static Stream<Arguments> prefixesOnTheWire() {
    return Stream.of(
        arguments(Prefix.U16, 0, "0000"),
        arguments(Prefix.U16, 1, "0001"),
        arguments(Prefix.U16, 258, "0102"),
        arguments(Prefix.U16, 65535, "ffff"),
        arguments(Prefix.U32, 0, "00000000"),
        arguments(Prefix.U32, 258, "00000102"),
        arguments(Prefix.U32, 70000, "00011170"),
        arguments(Prefix.VARINT, 0, "00"),
        arguments(Prefix.VARINT, 1, "01"),
        arguments(Prefix.VARINT, 127, "7f"),
        arguments(Prefix.VARINT, 128, "8001"),
        arguments(Prefix.VARINT, 300, "ac02"),
        arguments(Prefix.VARINT, 16383, "ff7f"),
        arguments(Prefix.VARINT, 16384, "808001"),
        arguments(Prefix.VARINT, 2097151, "ffff7f"),
        arguments(Prefix.VARINT, 2097152, "80808001"));
  }

  @ParameterizedTest(name = "{0} {1} -> {2}")
  @MethodSource("prefixesOnTheWire")
  void lengthPrefixesAreNetworkOrderOrProtobufVarints(Prefix prefix, int length, String hex)
      throws Exception {
    byte[] message = new byte[length];
    Arrays.fill(message, (byte) 0xA5);
    byte[] expected = concat(HexFormat.of().parseHex(hex), message);

    assertThat(wire(Framing.lengthPrefixed(prefix, Math.max(length, 1)), message))
        .isEqualTo(expected);
  }

  @Test
  void linesEndWithANewline() throws Exception {
    assertThat(wire(Framing.lines(10), bytes("hello"))).isEqualTo(bytes("hello\n"));
    assertThat(wire(Framing.lines(10), bytes(""))).isEqualTo(bytes("\n"));
    assertThat(wire(Framing.lines(10), bytes("a\rb"))).isEqualTo(bytes("a\rb\n"));
  }

  @Test
  void delimitedMessagesEndWithTheDelimiter() throws Exception {
    assertThat(wire(Framing.delimited(new byte[] {0}, 10), bytes("hi")))
        .isEqualTo(new byte[] {'h', 'i', 0});
    assertThat(wire(Framing.delimited(bytes("\r\n\r\n"), 10), bytes("GET /")))
        .isEqualTo(bytes("GET /\r\n\r\n"));
  }

  /** What {@code sendMsg(message)} puts on the wire, as the peer receives it raw. */
  private static byte[] wire(Framing framing, byte[] message) throws Exception {
    try (Pair pair = Loopback.pair(AF_INET)) {
      framing.on(pair.client()).sendMsg(message);
      pair.client().close();
      ByteArrayOutputStream received = new ByteArrayOutputStream();
      for (byte[] chunk = pair.server().recv(1 << 16);
          chunk.length > 0;
          chunk = pair.server().recv(1 << 16)) {
        received.write(chunk);
      }
      return received.toByteArray();
    }
  }

  private static byte[] bytes(String text) {
    return text.getBytes(StandardCharsets.ISO_8859_1);
  }

  private static byte[] concat(byte[] a, byte[] b) {
    byte[] both = Arrays.copyOf(a, a.length + b.length);
    System.arraycopy(b, 0, both, a.length, b.length);
    return both;
  }
}
