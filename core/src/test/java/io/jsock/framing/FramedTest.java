package io.jsock.framing;

import static io.jsock.Family.AF_INET;
import static io.jsock.Shutdown.SHUT_WR;
import static java.nio.charset.StandardCharsets.ISO_8859_1;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowable;
import static org.assertj.core.api.Assertions.catchThrowableOfType;
import static org.junit.jupiter.params.provider.Arguments.arguments;

import io.jsock.ClosedSocketException;
import io.jsock.Errno;
import io.jsock.ErrnoException;
import io.jsock.Event;
import io.jsock.Family;
import io.jsock.Socket;
import io.jsock.SocketSelector;
import io.jsock.WouldBlockException;
import io.jsock.framing.Framing.Prefix;
import io.jsock.testing.Loopback;
import io.jsock.testing.Loopback.Pair;
import io.jsock.testing.Running;
import io.jsock.tls.KeyMaterial;
import io.jsock.tls.Tls;
import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.SocketTimeoutException;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * {@link Framed} on real loopback pairs. The peer often writes raw bytes, encoded here
 * independently of the code under test ({@link Kind#encode}), so that receiving is tested against
 * the wire format rather than against {@code sendMsg}.
 *
 * <p>No test sleeps. Where a test needs the receiver to hold part of a frame before the rest
 * arrives, the peer sends a whole message and the part in one write: once {@code recvMsg} has
 * returned the whole message, the part is in the receiver's buffer (loopback delivers a small write
 * at once), and the rest is written only then.
 */
class FramedTest {
  /** Larger than the 8 KiB read buffer and the 64 KiB send copy limit. */
  private static final int MAX = 70_000;

  /** A wait for data that should never happen: long enough not to fire on a slow machine. */
  private static final Duration NEVER = Duration.ofSeconds(20);

  private final ExecutorService background = Executors.newVirtualThreadPerTaskExecutor();

  @TempDir Path dir;

  @AfterEach
  void stopBackground() throws Exception {
    background.shutdownNow();
    assertThat(background.awaitTermination(30, TimeUnit.SECONDS)).isTrue();
  }

  /** The framings under test, with an encoder and messages that suit each. */
  enum Kind {
    U16,
    U32,
    VARINT,
    LINES,
    NUL,
    BLANK_LINE;

    /** The largest message in most tests: {@link #MAX}, or all that a U16 prefix can carry. */
    int max() {
      return this == U16 ? 0xFFFF : MAX;
    }

    Framing framing(int maxSize) {
      return switch (this) {
        case U16 -> Framing.lengthPrefixed(Prefix.U16, maxSize);
        case U32 -> Framing.lengthPrefixed(Prefix.U32, maxSize);
        case VARINT -> Framing.lengthPrefixed(Prefix.VARINT, maxSize);
        case LINES -> Framing.lines(maxSize);
        case NUL -> Framing.delimited(new byte[] {0}, maxSize);
        case BLANK_LINE -> Framing.delimited(ascii("\r\n\r\n"), maxSize);
      };
    }

    Framing framing() {
      return framing(max());
    }

    boolean prefixed() {
      return this == U16 || this == U32 || this == VARINT;
    }

    /** The message on the wire; lines end with "\r\n" here, as a telnet peer would send them. */
    byte[] encode(byte[] message) {
      return switch (this) {
        case U16 -> concat(u16(message.length), message);
        case U32 -> concat(u32(message.length), message);
        case VARINT -> concat(varint(message.length), message);
        case LINES -> concat(message, ascii("\r\n"));
        case NUL -> concat(message, new byte[] {0});
        case BLANK_LINE -> concat(message, ascii("\r\n\r\n"));
      };
    }

    /**
     * A message of {@code length} bytes that this framing can carry: any bytes, line ends and NULs
     * included, after a prefix; letters otherwise.
     */
    byte[] message(int length, long seed) {
      byte[] message = new byte[length];
      Random random = new Random(seed);
      if (prefixed()) {
        random.nextBytes(message);
        if (length > 2) {
          message[0] = '\n';
          message[1] = 0;
        }
      } else {
        for (int i = 0; i < length; i++) {
          message[i] = (byte) ('a' + random.nextInt(26));
        }
      }
      return message;
    }

    /** A length prefix announcing {@code length}, raw. */
    byte[] prefix(long length) {
      return switch (this) {
        case U16 -> u16((int) length);
        case U32 -> u32(length);
        case VARINT -> varint(length);
        default -> throw new IllegalArgumentException(this + " has no prefix");
      };
    }
  }

  // ---------------------------------------------------------------- round trips

  @ParameterizedTest
  @EnumSource(Kind.class)
  void messagesOfLengthZeroOneAndTheMaximumMakeTheRoundTrip(Kind kind) throws Exception {
    List<Integer> lengths =
        Stream.of(0, 1, 2, 8191, 8192, 8193, 65535, 65536, kind.max() - 1, kind.max())
            .filter(length -> length <= kind.max())
            .toList();
    try (Pair pair = Loopback.pair(AF_INET)) {
      Framed client = kind.framing().on(pair.client());
      Future<Integer> echoed = echoInTheBackground(kind.framing().on(pair.server()));

      for (int length : lengths) {
        byte[] message = kind.message(length, length);
        client.sendMsg(message);
        assertThat(client.recvMsg()).as("length %d", length).isEqualTo(message);
      }
      pair.client().shutdown(SHUT_WR);

      assertThat(echoed.get(30, TimeUnit.SECONDS)).isEqualTo(lengths.size());
    }
  }

  @ParameterizedTest
  @EnumSource(Family.class)
  void framingWorksOnEveryFamilysStreamSockets(Family family) throws Exception {
    try (Pair pair = Loopback.pair(family, dir)) {
      Framed client = Framing.lengthPrefixed(Prefix.U32, MAX).on(pair.client());
      Framed server = Framing.lengthPrefixed(Prefix.U32, MAX).on(pair.server());

      client.sendMsg(ascii("request"));
      assertThat(server.recvMsg()).isEqualTo(ascii("request"));
      server.sendMsg(ascii("response"));
      assertThat(client.recvMsg()).isEqualTo(ascii("response"));
    }
  }

  @ParameterizedTest
  @EnumSource(Kind.class)
  void manyMessagesPipelinedInOneWriteAreReceivedInOrder(Kind kind) throws Exception {
    List<byte[]> messages = new ArrayList<>();
    for (int i = 0; i < 500; i++) {
      int length = i % 50 == 7 ? kind.max() - i % 3 : (i * 37) % 3000;
      messages.add(kind.message(length, i));
    }
    byte[] stream = encodeAll(kind, messages);
    try (Pair pair = Loopback.pair(AF_INET)) {
      Framed server = kind.framing().on(pair.server());
      Future<?> sent = inTheBackground(() -> pair.client().sendAll(stream)); // one write

      for (int i = 0; i < messages.size(); i++) {
        assertThat(server.recvMsg()).as("message %d", i).isEqualTo(messages.get(i));
      }
      sent.get(30, TimeUnit.SECONDS);
      pair.client().close();
      assertThatThrownBy(server::recvMsg).isInstanceOf(EOFException.class);
    }
  }

  @ParameterizedTest
  @EnumSource(Kind.class)
  void messagesArriveWholeWhenThePeerWritesOneByteAtATime(Kind kind) throws Exception {
    List<byte[]> messages = new ArrayList<>();
    for (int length : new int[] {0, 1, 2, 127, 128, 300, 0, 9000, 5}) {
      messages.add(kind.message(length, messages.size()));
    }
    byte[] stream = encodeAll(kind, messages);
    try (Pair pair = Loopback.pair(AF_INET)) {
      pair.client().setSockOpt(StandardSocketOptions.TCP_NODELAY, true);
      Framed server = kind.framing().on(pair.server());
      Future<?> sent =
          inTheBackground(
              () -> {
                for (byte b : stream) {
                  pair.client().sendAll(new byte[] {b});
                }
              });

      for (byte[] message : messages) {
        assertThat(server.recvMsg()).isEqualTo(message);
      }
      sent.get(30, TimeUnit.SECONDS);
    }
  }

  @ParameterizedTest
  @EnumSource(Kind.class)
  void aFrameSplitAtAnyPointIsReassembled(Kind kind) throws Exception {
    byte[] first = kind.message(5, 1);
    byte[] second = kind.message(20, 2);
    byte[] frame = kind.encode(second);
    try (Pair pair = Loopback.pair(AF_INET)) {
      Framed server = kind.framing().on(pair.server());
      for (int split = 1; split < frame.length; split++) {
        // The first message and the start of the second in one write: once the first is
        // received, the start of the second waits in the buffer for the rest.
        pair.client().sendAll(concat(kind.encode(first), Arrays.copyOf(frame, split)));
        assertThat(server.recvMsg()).isEqualTo(first);
        pair.client().sendAll(Arrays.copyOfRange(frame, split, frame.length));
        assertThat(server.recvMsg()).as("split at %d", split).isEqualTo(second);
      }
    }
  }

  @ParameterizedTest
  @EnumSource(Kind.class)
  void aFrameLargerThanTheReadBufferSplitAfterItsStartIsReassembled(Kind kind) throws Exception {
    byte[] first = kind.message(8000, 1); // leaves the next frame's start near the buffer's end
    byte[] second = kind.message(30_000, 2);
    byte[] frame = kind.encode(second);
    try (Pair pair = Loopback.pair(AF_INET)) {
      Framed server = kind.framing().on(pair.server());
      for (int split : new int[] {1, 2, 3, 100, 15_000, frame.length - 2, frame.length - 1}) {
        pair.client().sendAll(concat(kind.encode(first), Arrays.copyOf(frame, split)));
        assertThat(server.recvMsg()).isEqualTo(first);
        pair.client().sendAll(Arrays.copyOfRange(frame, split, frame.length));
        assertThat(server.recvMsg()).as("split at %d", split).isEqualTo(second);
      }
    }
  }

  // ---------------------------------------------------------------- sizes on send

  @ParameterizedTest
  @EnumSource(Kind.class)
  void sendingOneByteOverTheMaximumFailsNamingTheLengthAndSendsNothing(Kind kind) throws Exception {
    try (Pair pair = Loopback.pair(AF_INET)) {
      Framed client = kind.framing().on(pair.client());
      byte[] tooLarge = kind.message(kind.max() + 1, 1);

      assertThatThrownBy(() -> client.sendMsg(tooLarge))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessage(
              "message of " + (kind.max() + 1) + " bytes exceeds the maximum " + kind.max());

      client.sendMsg(ascii("next"));
      assertThat(kind.framing().on(pair.server()).recvMsg()).isEqualTo(ascii("next"));
    }
  }

  @Test
  void aNullMessageIsRejected() throws Exception {
    try (Pair pair = Loopback.pair(AF_INET)) {
      Framed client = Kind.U32.framing().on(pair.client());
      assertThatThrownBy(() -> client.sendMsg(null))
          .isInstanceOf(NullPointerException.class)
          .hasMessage("message");
    }
  }

  // ---------------------------------------------------------------- sizes on receive

  static Stream<Arguments> announcedTooLarge() {
    return Stream.of(
        arguments(Kind.U16, 1000, 1001L),
        arguments(Kind.U16, 1000, 65535L),
        arguments(Kind.U32, 1 << 20, (1L << 20) + 1),
        arguments(Kind.U32, 1 << 20, 0x7fffffffL),
        arguments(Kind.U32, 1 << 20, 0x80000000L), // negative as a Java int
        arguments(Kind.U32, 1 << 20, 0xffffffffL), // -1 as a Java int
        arguments(Kind.VARINT, 1 << 20, (1L << 20) + 1),
        arguments(Kind.VARINT, 1000, (1L << 28) - 1), // four bytes
        arguments(Kind.VARINT, 1000, 1L << 28), // five bytes
        arguments(Kind.VARINT, 1 << 20, 0x7fffffffL),
        arguments(Kind.VARINT, 1 << 20, 0xffffffffL));
  }

  @ParameterizedTest(name = "{0} max {1}, announced {2}")
  @MethodSource("announcedTooLarge")
  void aPrefixAnnouncingMoreThanTheMaximumFailsAtOnce(Kind kind, int maxSize, long announced)
      throws Exception {
    try (Pair pair = Loopback.pair(AF_INET)) {
      pair.server().setTimeout(NEVER); // waiting for the payload would time out, not pass
      Framed server = kind.framing(maxSize).on(pair.server());
      pair.client().sendAll(kind.prefix(announced)); // and no payload: the connection stays open

      FrameException e = catchThrowableOfType(FrameException.class, server::recvMsg);

      assertThat(e)
          .hasMessage(
              recvFrom(pair) + "frame of " + announced + " bytes exceeds the maximum " + maxSize);
      assertThat(e.errno()).isEqualTo(Errno.EMSGSIZE);
      assertThat(e.address()).isEqualTo(pair.client().getSockName());
    }
  }

  @ParameterizedTest
  @EnumSource(
      value = Kind.class,
      names = {"U32", "VARINT"})
  void theMaximumIsCheckedBeforeAnythingIsAllocated(Kind kind) throws Exception {
    // Once before measuring: loading the classes on this path allocates megabytes the first time.
    assertThat(allocatedWhileRejecting(kind)).isNotNegative();

    long allocated = allocatedWhileRejecting(kind);

    // The read buffer, the exception and its stack trace; not 2 GiB, nor even the 1 MiB maximum.
    assertThat(allocated).isLessThan(256 * 1024);
  }

  /**
   * The bytes allocated by a recvMsg that rejects a prefix announcing 2 GiB with a 1 MiB maximum.
   */
  private static long allocatedWhileRejecting(Kind kind) throws Exception {
    try (Pair pair = Loopback.pair(AF_INET)) {
      pair.server().setTimeout(NEVER);
      Framed server = kind.framing(1 << 20).on(pair.server());
      pair.client().sendAll(kind.prefix(0x7fffffffL));

      long before = allocatedBytes();
      Throwable thrown = catchThrowable(server::recvMsg);
      long allocated = allocatedBytes() - before;

      assertThat(thrown).isInstanceOf(FrameException.class).hasMessageContaining("2147483647");
      return allocated;
    }
  }

  @ParameterizedTest
  @EnumSource(
      value = Kind.class,
      names = {"U16", "U32", "VARINT"})
  void afterAMessageTooLargeTheFramedRefusesToReceive(Kind kind) throws Exception {
    try (Pair pair = Loopback.pair(AF_INET)) {
      Framed server = kind.framing(10).on(pair.server());
      pair.client().sendAll(concat(kind.encode(new byte[11]), kind.encode(new byte[1])));
      FrameException tooLarge = catchThrowableOfType(FrameException.class, server::recvMsg);

      ErrnoException refused = catchThrowableOfType(ErrnoException.class, server::recvMsg);

      assertThat(refused)
          .hasMessage(recvFrom(pair) + "cannot receive after a framing error")
          .hasCause(tooLarge);
      assertThat(refused.errno()).isEqualTo(Errno.EIO);
    }
  }

  @Test
  void aLineOverTheMaximumFailsAsSoonAsMaxPlusOneBytesHaveArrived() throws Exception {
    try (Pair pair = Loopback.pair(AF_INET)) {
      pair.server().setTimeout(NEVER);
      Framed server = Framing.lines(10).on(pair.server());
      pair.client().sendAll(ascii("abcdefghijk")); // 11 bytes, and the connection stays open

      FrameException e = catchThrowableOfType(FrameException.class, server::recvMsg);

      assertThat(e)
          .hasMessage(recvFrom(pair) + "frame exceeds the maximum 10: 11 bytes without a line end");
      assertThat(e.errno()).isEqualTo(Errno.EMSGSIZE);
    }
  }

  @Test
  void aLongLineFailsWithoutWaitingAfterTheBufferHasGrownToTheMaximum() throws Exception {
    try (Pair pair = Loopback.pair(AF_INET)) {
      pair.server().setTimeout(NEVER);
      Framed server = Framing.lines(100_000).on(pair.server());
      pair.client().sendAll(Kind.LINES.message(100_001, 1));

      assertThatThrownBy(server::recvMsg)
          .isInstanceOf(FrameException.class)
          .hasMessage(
              recvFrom(pair) + "frame exceeds the maximum 100000: 100001 bytes without a line end");
    }
  }

  @Test
  void aLineOfTheMaximumMayEndWithCarriageReturnAndNewline() throws Exception {
    try (Pair pair = Loopback.pair(AF_INET)) {
      Framed server = Framing.lines(10).on(pair.server());
      // The maximum and a '\r' are 11 bytes without a '\n': not yet too long.
      pair.client().sendAll(ascii("x\n0123456789\r"));
      assertThat(server.recvMsg()).isEqualTo(ascii("x"));
      pair.client().sendAll(ascii("\n0123456789\n"));

      assertThat(server.recvMsg()).isEqualTo(ascii("0123456789"));
      assertThat(server.recvMsg()).isEqualTo(ascii("0123456789"));
    }
  }

  @Test
  void aLineOfTheMaximumAndACarriageReturnNotFollowedByNewlineIsTooLong() throws Exception {
    try (Pair pair = Loopback.pair(AF_INET)) {
      pair.server().setTimeout(NEVER);
      Framed server = Framing.lines(10).on(pair.server());
      pair.client().sendAll(ascii("0123456789\rx"));

      assertThatThrownBy(server::recvMsg)
          .isInstanceOf(FrameException.class)
          .hasMessage(recvFrom(pair) + "frame exceeds the maximum 10: 12 bytes without a line end");
    }
  }

  @Test
  void aWholeLineOverTheMaximumIsTooLarge() throws Exception {
    try (Pair pair = Loopback.pair(AF_INET)) {
      Framed server = Framing.lines(10).on(pair.server());
      pair.client().sendAll(ascii("01234567890\n")); // 11 bytes and the line end in one read

      assertThatThrownBy(server::recvMsg)
          .isInstanceOf(FrameException.class)
          .hasMessage(recvFrom(pair) + "frame of 11 bytes exceeds the maximum 10");
    }
  }

  @Test
  void aDelimiterThatHasBegunByTheMaximumStillFits() throws Exception {
    try (Pair pair = Loopback.pair(AF_INET)) {
      Framed server = Kind.BLANK_LINE.framing(10).on(pair.server());
      pair.client().sendAll(ascii("x\r\n\r\n0123456789\r\n\r")); // 13 bytes, no whole delimiter
      assertThat(server.recvMsg()).isEqualTo(ascii("x"));
      pair.client().sendAll(ascii("\n"));

      assertThat(server.recvMsg()).isEqualTo(ascii("0123456789"));
    }
  }

  static Stream<Arguments> overlongDelimited() {
    return Stream.of(
        arguments(Kind.BLANK_LINE, "0123456789A", 11), // nothing could begin a delimiter
        arguments(Kind.BLANK_LINE, "0123456789\r\nX", 13), // a delimiter begun, then broken
        arguments(Kind.BLANK_LINE, "0123456789A\r\n\r", 14), // begun after the maximum
        arguments(Kind.NUL, "0123456789A", 11));
  }

  @ParameterizedTest(name = "{0} {1}")
  @MethodSource("overlongDelimited")
  void aDelimitedMessageOverTheMaximumFailsAsSoonAsItCannotFit(Kind kind, String sent, int buffered)
      throws Exception {
    try (Pair pair = Loopback.pair(AF_INET)) {
      pair.server().setTimeout(NEVER);
      Framed server = kind.framing(10).on(pair.server());
      pair.client().sendAll(ascii(sent));

      FrameException e = catchThrowableOfType(FrameException.class, server::recvMsg);

      assertThat(e)
          .hasMessage(
              recvFrom(pair)
                  + "frame exceeds the maximum 10: "
                  + buffered
                  + " bytes without the delimiter");
      assertThat(e.errno()).isEqualTo(Errno.EMSGSIZE);
    }
  }

  // ---------------------------------------------------------------- the end of the stream

  @ParameterizedTest
  @EnumSource(Kind.class)
  void theEndOfTheStreamBetweenMessagesIsAnEofExceptionNamingThePeer(Kind kind) throws Exception {
    try (Pair pair = Loopback.pair(AF_INET)) {
      Framed server = kind.framing().on(pair.server());
      pair.client().sendAll(kind.encode(ascii("last")));
      pair.client().shutdown(SHUT_WR);

      assertThat(server.recvMsg()).isEqualTo(ascii("last"));
      for (int i = 0; i < 2; i++) { // and again: nothing was lost, so it is no failure
        assertThatThrownBy(server::recvMsg)
            .isExactlyInstanceOf(EOFException.class)
            .hasMessage(recvFrom(pair) + "end of stream");
      }
    }
  }

  @Test
  void aPeerThatClosesAtOnceGivesEofException() throws Exception {
    try (Pair pair = Loopback.pair(AF_INET)) {
      Framed server = Kind.LINES.framing().on(pair.server());
      String expected = recvFrom(pair) + "end of stream";
      pair.client().close();

      assertThatThrownBy(server::recvMsg)
          .isExactlyInstanceOf(EOFException.class)
          .hasMessage(expected);
    }
  }

  static Stream<Arguments> truncatedFrames() {
    return Stream.of(
        arguments(Kind.U16, "01", "truncated frame: 1 of 2 prefix bytes"),
        arguments(Kind.U32, "00", "truncated frame: 1 of 4 prefix bytes"),
        arguments(Kind.U32, "0000", "truncated frame: 2 of 4 prefix bytes"),
        arguments(Kind.U32, "000000", "truncated frame: 3 of 4 prefix bytes"),
        arguments(Kind.VARINT, "80", "truncated frame: 1 byte of an unfinished varint prefix"),
        arguments(Kind.VARINT, "ff8080", "truncated frame: 3 bytes of an unfinished varint prefix"),
        arguments(Kind.U16, "000a", "truncated frame: 0 of 10 bytes"),
        arguments(Kind.U16, "000a616263", "truncated frame: 3 of 10 bytes"),
        arguments(Kind.U32, "0000000a616263", "truncated frame: 3 of 10 bytes"),
        arguments(Kind.VARINT, "0a616263", "truncated frame: 3 of 10 bytes"),
        arguments(Kind.VARINT, "01", "truncated frame: 0 of 1 byte"),
        arguments(Kind.LINES, "616263", "truncated frame: 3 bytes of an unterminated line"),
        arguments(Kind.LINES, "6162630d", "truncated frame: 4 bytes of an unterminated line"),
        arguments(Kind.LINES, "0d", "truncated frame: 1 byte of an unterminated line"),
        arguments(Kind.NUL, "616263", "truncated frame: 3 bytes without the delimiter"),
        arguments(
            Kind.BLANK_LINE, "6162630d0a0d", "truncated frame: 6 bytes without the delimiter"));
  }

  @ParameterizedTest(name = "{0} {1}")
  @MethodSource("truncatedFrames")
  void aStreamThatEndsInsideAFrameIsAFrameExceptionNeverAShortMessage(
      Kind kind, String hex, String reason) throws Exception {
    try (Pair pair = Loopback.pair(AF_INET)) {
      Framed server = kind.framing().on(pair.server());
      byte[] whole = kind.encode(ascii("whole"));
      pair.client().sendAll(concat(whole, HexFormat.of().parseHex(hex)));
      pair.client().shutdown(SHUT_WR);
      assertThat(server.recvMsg()).isEqualTo(ascii("whole"));

      FrameException e = catchThrowableOfType(FrameException.class, server::recvMsg);

      assertThat(e).hasMessage(recvFrom(pair) + reason);
      assertThat(e.errno()).isEqualTo(Errno.EPROTO);
      assertThat(e.address()).isEqualTo(pair.client().getSockName());
      assertThatThrownBy(server::recvMsg)
          .isInstanceOf(ErrnoException.class)
          .hasMessage(recvFrom(pair) + "cannot receive after a framing error")
          .hasCause(e);
    }
  }

  @Test
  void aStreamThatEndsInsideAFrameLargerThanTheBufferIsTruncated() throws Exception {
    try (Pair pair = Loopback.pair(AF_INET)) {
      Framed server = Kind.U32.framing().on(pair.server());
      String recvFrom = recvFrom(pair);
      pair.client().sendAll(concat(u32(50_000), new byte[20_000]));
      pair.client().close();

      assertThatThrownBy(server::recvMsg)
          .isInstanceOf(FrameException.class)
          .hasMessage(recvFrom + "truncated frame: 20000 of 50000 bytes");
    }
  }

  // ---------------------------------------------------------------- varints

  @ParameterizedTest
  @ValueSource(ints = {0, 1, 127, 128, 16383, 16384, 2097151, 2097152})
  void varintLengthsAtTheEdgesOfEachByteAreReceived(int length) throws Exception {
    byte[] message = Kind.VARINT.message(length, length);
    try (Pair pair = Loopback.pair(AF_INET)) {
      Framed server = Kind.VARINT.framing(2097152).on(pair.server());
      Future<?> sent = inTheBackground(() -> pair.client().sendAll(Kind.VARINT.encode(message)));

      assertThat(server.recvMsg()).isEqualTo(message);
      sent.get(30, TimeUnit.SECONDS);
    }
  }

  static Stream<Arguments> malformedVarints() {
    return Stream.of(
        arguments("8000", "overlong varint length prefix (2 bytes for 0)"),
        arguments("8100", "overlong varint length prefix (2 bytes for 1)"),
        arguments("ff00", "overlong varint length prefix (2 bytes for 127)"),
        arguments("808000", "overlong varint length prefix (3 bytes for 0)"),
        arguments("ff8000", "overlong varint length prefix (3 bytes for 127)"),
        arguments("8080808000", "overlong varint length prefix (5 bytes for 0)"),
        arguments("8080808080", "varint length prefix longer than 5 bytes"),
        arguments("ffffffff1f", "varint length prefix wider than 32 bits"),
        arguments("ffffffff7f", "varint length prefix wider than 32 bits"));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("malformedVarints")
  void malformedVarintsAreRejectedAtOnce(String hex, String reason) throws Exception {
    try (Pair pair = Loopback.pair(AF_INET)) {
      pair.server().setTimeout(NEVER); // the connection stays open: nothing more arrives
      Framed server = Kind.VARINT.framing(1 << 20).on(pair.server());
      pair.client().sendAll(HexFormat.of().parseHex(hex));

      FrameException e = catchThrowableOfType(FrameException.class, server::recvMsg);

      assertThat(e).hasMessage(recvFrom(pair) + reason);
      assertThat(e.errno()).isEqualTo(Errno.EPROTO);
    }
  }

  // ---------------------------------------------------------------- lines and delimiters

  @Test
  void linesEndAtNewlineAndLoseOneCarriageReturnBeforeIt() throws Exception {
    try (Pair pair = Loopback.pair(AF_INET)) {
      Framed server = Framing.lines(100).on(pair.server());
      pair.client().sendAll(ascii("a\nb\r\nc\rd\n\r\n\n\r\r\n"));

      assertThat(server.recvMsg()).isEqualTo(ascii("a"));
      assertThat(server.recvMsg()).isEqualTo(ascii("b"));
      assertThat(server.recvMsg()).isEqualTo(ascii("c\rd"));
      assertThat(server.recvMsg()).isEmpty();
      assertThat(server.recvMsg()).isEmpty();
      assertThat(server.recvMsg()).isEqualTo(ascii("\r"));
    }
  }

  @Test
  void aLineEndSplitBetweenTwoReadsIsFound() throws Exception {
    try (Pair pair = Loopback.pair(AF_INET)) {
      Framed server = Framing.lines(100).on(pair.server());
      pair.client().sendAll(ascii("first\nsecond\r"));
      assertThat(server.recvMsg()).isEqualTo(ascii("first"));
      pair.client().sendAll(ascii("\n"));

      assertThat(server.recvMsg()).isEqualTo(ascii("second"));
    }
  }

  @Test
  void aDelimiterSplitBetweenTwoReadsIsFound() throws Exception {
    try (Pair pair = Loopback.pair(AF_INET)) {
      Framed server = Kind.BLANK_LINE.framing(100).on(pair.server());
      pair.client().sendAll(ascii("one\r\n\r\ntwo\r\n"));
      assertThat(server.recvMsg()).isEqualTo(ascii("one"));
      pair.client().sendAll(ascii("\r\n"));

      assertThat(server.recvMsg()).isEqualTo(ascii("two"));
    }
  }

  @Test
  void theFirstWholeDelimiterEndsTheMessage() throws Exception {
    try (Pair pair = Loopback.pair(AF_INET)) {
      Framed server = Kind.BLANK_LINE.framing(100).on(pair.server());
      pair.client().sendAll(ascii("a\r\n\r\r\n\r\nb\r\n\r\n"));

      assertThat(server.recvMsg()).isEqualTo(ascii("a\r\n\r"));
      assertThat(server.recvMsg()).isEqualTo(ascii("b"));
    }
  }

  @Test
  void sendingALineWithALineEndInsideIsRejected() throws Exception {
    try (Pair pair = Loopback.pair(AF_INET)) {
      Framed client = Framing.lines(100).on(pair.client());

      assertThatThrownBy(() -> client.sendMsg(ascii("a\nb")))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessage("message contains a line end at index 1");
      assertThatThrownBy(() -> client.sendMsg(ascii("ab\r")))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessage(
              "message ends with '\\r', which the receiver would strip as part of the line end");
    }
  }

  @Test
  void sendingAMessageThatHoldsTheDelimiterIsRejected() throws Exception {
    try (Pair pair = Loopback.pair(AF_INET)) {
      Framed nul = Kind.NUL.framing(100).on(pair.client());
      Framed blankLine = Kind.BLANK_LINE.framing(100).on(pair.client());

      assertThatThrownBy(() -> nul.sendMsg(new byte[] {'a', 'b', 0, 'c'}))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessage("message contains the delimiter at index 2, where the receiver would end it");
      assertThatThrownBy(() -> blankLine.sendMsg(ascii("x\r\n\r\ny")))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessage("message contains the delimiter at index 1, where the receiver would end it");
      // Across the end: "ab\r\n" and "\r\n\r\n" would end after "ab".
      assertThatThrownBy(() -> blankLine.sendMsg(ascii("ab\r\n")))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessage("message contains the delimiter at index 2, where the receiver would end it");
    }
  }

  @Test
  void aMessageEndingInPartOfTheDelimiterMakesTheRoundTrip() throws Exception {
    try (Pair pair = Loopback.pair(AF_INET)) {
      Framed client = Kind.BLANK_LINE.framing(100).on(pair.client());
      Framed server = Kind.BLANK_LINE.framing(100).on(pair.server());

      client.sendMsg(ascii("ab\r"));
      client.sendMsg(ascii("\r\n\r"));

      assertThat(server.recvMsg()).isEqualTo(ascii("ab\r"));
      assertThat(server.recvMsg()).isEqualTo(ascii("\r\n\r"));
    }
  }

  // ---------------------------------------------------------------- timeouts and modes

  static Stream<Arguments> partialFrames() {
    return Stream.of(
        arguments(Kind.U16, "000a616263"),
        arguments(Kind.U32, "0000"), // inside the prefix
        arguments(Kind.U32, "0000000a616263"),
        arguments(Kind.VARINT, "8a"), // inside the prefix
        arguments(Kind.VARINT, "0a616263"),
        arguments(Kind.LINES, "6162630d"),
        arguments(Kind.NUL, "616263"),
        arguments(Kind.BLANK_LINE, "6162630d0a"));
  }

  @ParameterizedTest(name = "{0} {1}")
  @MethodSource("partialFrames")
  void aTimeoutMidFrameMakesEveryLaterRecvMsgFail(Kind kind, String hex) throws Exception {
    try (Pair pair = Loopback.pair(AF_INET)) {
      pair.server().setTimeout(Duration.ofMillis(200));
      Framed server = kind.framing().on(pair.server());
      pair.client().sendAll(HexFormat.of().parseHex(hex));

      long started = System.nanoTime();
      SocketTimeoutException timeout =
          catchThrowableOfType(SocketTimeoutException.class, server::recvMsg);
      long waited = System.nanoTime() - started;

      assertThat(timeout).hasMessage(recvFrom(pair) + "timed out");
      assertThat(waited).isBetween(150_000_000L, 10_000_000_000L);

      pair.client().sendAll(kind.encode(ascii("next"))); // whatever arrives now
      ErrnoException refused = catchThrowableOfType(ErrnoException.class, server::recvMsg);
      assertThat(refused)
          .hasMessage(recvFrom(pair) + "cannot receive after a timeout mid-frame")
          .hasCause(timeout);
      assertThat(refused.errno()).isEqualTo(Errno.EIO);
    }
  }

  @Test
  void aTimeoutWhileReadingALargeFrameStraightIntoItsArrayRefusesLaterCalls() throws Exception {
    try (Pair pair = Loopback.pair(AF_INET)) {
      pair.server().setTimeout(Duration.ofMillis(200));
      Framed server = Kind.U32.framing().on(pair.server());
      // Larger than the read buffer: the buffer is empty while the rest is awaited.
      pair.client().sendAll(concat(u32(50_000), new byte[100]));

      assertThatThrownBy(server::recvMsg).isInstanceOf(SocketTimeoutException.class);

      pair.client().sendAll(new byte[49_900]);
      assertThatThrownBy(server::recvMsg)
          .isInstanceOf(ErrnoException.class)
          .hasMessage(recvFrom(pair) + "cannot receive after a timeout mid-frame");
    }
  }

  @ParameterizedTest
  @EnumSource(Kind.class)
  void aTimeoutBetweenMessagesLosesNothing(Kind kind) throws Exception {
    try (Pair pair = Loopback.pair(AF_INET)) {
      pair.server().setTimeout(Duration.ofMillis(100));
      Framed server = kind.framing().on(pair.server());
      pair.client().sendAll(kind.encode(ascii("one")));
      assertThat(server.recvMsg()).isEqualTo(ascii("one"));

      assertThatThrownBy(server::recvMsg).isInstanceOf(SocketTimeoutException.class);

      pair.client().sendAll(kind.encode(ascii("two")));
      assertThat(server.recvMsg()).isEqualTo(ascii("two"));
    }
  }

  // as Python's buffered socket readers: an interrupt (KeyboardInterrupt) does not spoil the
  // reader as a timeout does, since no byte is taken by the wait it ends
  @ParameterizedTest
  @EnumSource(Kind.class)
  void anInterruptedRecvMsgThatStopsMidFrameGoesOnWhereItStopped(Kind kind) throws Exception {
    try (Pair pair = Loopback.pair(AF_INET)) {
      Framed server = kind.framing().on(pair.server());
      byte[] message = kind.message(30, 7);
      byte[] frame = kind.encode(message);
      for (int split : new int[] {1, frame.length / 2, frame.length - 1}) {
        pair.client().sendAll(concat(kind.encode(ascii("one")), Arrays.copyOf(frame, split)));
        assertThat(server.recvMsg()).isEqualTo(ascii("one")); // the part is buffered now
        Running<byte[]> receiving = Running.inVirtualThread(server::recvMsg);
        receiving.awaitBlocked();

        receiving.thread().interrupt();

        assertThat(receiving.failure())
            .as("split after %d bytes", split)
            .isExactlyInstanceOf(InterruptedIOException.class)
            .hasMessage(recvFrom(pair) + "interrupted");
        pair.client().sendAll(Arrays.copyOfRange(frame, split, frame.length));
        assertThat(server.recvMsg()).as("split after %d bytes", split).isEqualTo(message);
      }
    }
  }

  @Test
  void anInterruptedRecvMsgInsideALargeFrameGoesOnWhereItStopped() throws Exception {
    try (Pair pair = Loopback.pair(AF_INET)) {
      Framed server = Kind.U32.framing().on(pair.server());
      byte[] message = Kind.U32.message(50_000, 11); // larger than the read buffer
      byte[] frame = Kind.U32.encode(message);
      pair.client().sendAll(Arrays.copyOf(frame, 104));
      Running<byte[]> receiving = Running.inPlatformThread(server::recvMsg);
      receiving.awaitBlocked();

      receiving.thread().interrupt();

      assertThat(receiving.failure())
          .isExactlyInstanceOf(InterruptedIOException.class)
          .hasMessage(recvFrom(pair) + "interrupted");
      pair.client().sendAll(Arrays.copyOfRange(frame, 104, frame.length));
      assertThat(server.recvMsg()).isEqualTo(message);
    }
  }

  @Test
  void nonBlockingRecvMsgWithNothingToReadMayBeCalledAgain() throws Exception {
    try (Pair pair = Loopback.pair(AF_INET)) {
      Framed server = Kind.U32.framing().on(pair.server());
      pair.server().setTimeout(Duration.ZERO);

      assertThatThrownBy(server::recvMsg)
          .isInstanceOf(WouldBlockException.class)
          .hasMessage(recvFrom(pair) + "resource temporarily unavailable");

      pair.server().setTimeout(null);
      pair.client().sendAll(Kind.U32.encode(ascii("hello")));
      assertThat(server.recvMsg()).isEqualTo(ascii("hello"));
    }
  }

  @ParameterizedTest
  @EnumSource(Kind.class)
  void aNonBlockingRecvMsgThatStopsMidFrameGoesOnWhereItStopped(Kind kind) throws Exception {
    try (Pair pair = Loopback.pair(AF_INET)) {
      Framed server = kind.framing().on(pair.server());
      byte[] message = kind.message(30, 7);
      byte[] frame = kind.encode(message);
      for (int split = 1; split < frame.length; split++) {
        pair.server().setTimeout(null);
        pair.client().sendAll(concat(kind.encode(ascii("one")), Arrays.copyOf(frame, split)));
        assertThat(server.recvMsg()).isEqualTo(ascii("one")); // the part is buffered now
        pair.server().setTimeout(Duration.ZERO);

        assertThatThrownBy(server::recvMsg)
            .as("split after %d bytes", split)
            .isInstanceOf(WouldBlockException.class)
            .hasMessage(recvFrom(pair) + "resource temporarily unavailable");

        pair.client().sendAll(Arrays.copyOfRange(frame, split, frame.length));
        pair.server().setTimeout(null);
        assertThat(server.recvMsg()).as("split after %d bytes", split).isEqualTo(message);
      }
    }
  }

  @Test
  void aNonBlockingRecvMsgThatStopsInsideALargeFrameGoesOnWhereItStopped() throws Exception {
    try (Pair pair = Loopback.pair(AF_INET)) {
      Framed server = Kind.U32.framing().on(pair.server());
      byte[] message = Kind.U32.message(50_000, 11); // larger than the read buffer
      byte[] frame = Kind.U32.encode(message);
      pair.client().sendAll(concat(Kind.U32.encode(ascii("one")), Arrays.copyOf(frame, 104)));
      assertThat(server.recvMsg()).isEqualTo(ascii("one"));
      pair.server().setTimeout(Duration.ZERO);

      assertThatThrownBy(server::recvMsg).isInstanceOf(WouldBlockException.class);
      pair.client().sendAll(Arrays.copyOfRange(frame, 104, 30_000));
      assertThatThrownBy(server::recvMsg).isInstanceOf(WouldBlockException.class); // stops again
      pair.client().sendAll(Arrays.copyOfRange(frame, 30_000, frame.length));
      pair.client().sendAll(Kind.U32.encode(ascii("next")));

      pair.server().setTimeout(null);
      assertThat(server.recvMsg()).isEqualTo(message);
      assertThat(server.recvMsg()).isEqualTo(ascii("next"));
    }
  }

  @Test
  void overTlsASelectorLoopThatReceivesUntilWouldBlockGetsEveryMessage() throws Exception {
    KeyMaterial key = KeyMaterial.selfSigned();
    try (Pair plain = Loopback.pair(AF_INET);
        SocketSelector selector = SocketSelector.open()) {
      Future<Socket> accepted = background.submit(() -> Tls.server(key).wrap(plain.server()));
      try (Socket tlsClient =
              Tls.client()
                  .withTrustedCertificates(key.certificateChain())
                  .wrap(plain.client(), "localhost");
          Socket tlsServer = accepted.get(30, TimeUnit.SECONDS)) {
        Framed client = Kind.U32.framing().on(tlsClient);
        tlsClient.setBlocking(false);
        selector.register(tlsClient, Set.of(Event.EVENT_READ), null);
        byte[] third = Kind.U32.encode(ascii("three"));
        // Two whole messages and part of a third in one TLS record: all decrypted by one recv.
        tlsServer.sendAll(
            concat(
                concat(Kind.U32.encode(ascii("one")), Kind.U32.encode(ascii("two"))),
                Arrays.copyOf(third, 6)));
        List<String> received = new ArrayList<>();
        boolean restSent = false;
        for (int round = 0; round < 50 && received.size() < 3; round++) {
          if (received.size() == 2 && !restSent) {
            tlsServer.sendAll(Arrays.copyOfRange(third, 6, third.length));
            restSent = true;
          }
          assertThat(selector.select(NEVER)).as("ready after %s", received).isNotEmpty();
          try {
            while (true) { // the Framed may hold messages that no readiness shows
              received.add(new String(client.recvMsg(), ISO_8859_1));
            }
          } catch (WouldBlockException drained) {
            // select again
          }
        }
        assertThat(received).containsExactly("one", "two", "three");
      }
    }
  }

  // every call on a closed socket says it is closed (ClosedSocketException, EBADF, as Python's
  // OSError 9); a Framed spoilt mid-frame said EIO "cannot ... mid-frame" even once another
  // thread had closed its socket, hiding the close
  @Test
  void onceItsSocketIsClosedASpoiltFramedSaysSoAsTheSocketDoes() throws Exception {
    try (Pair pair = Loopback.pair(AF_INET)) {
      pair.server().setSockOpt(StandardSocketOptions.SO_RCVBUF, 64 * 1024); // and never read
      pair.client().setTimeout(Duration.ofMillis(200));
      pair.server().setTimeout(Duration.ofMillis(200));
      Framed client = Framing.lengthPrefixed(Prefix.U32, 64 << 20).on(pair.client());
      Framed server = Framing.lengthPrefixed(Prefix.U32, 64 << 20).on(pair.server());
      assertThatThrownBy(() -> client.sendMsg(new byte[64 << 20]))
          .isInstanceOf(SocketTimeoutException.class);
      assertThatThrownBy(server::recvMsg).isInstanceOf(SocketTimeoutException.class);

      pair.client().close();
      pair.server().close();

      Throwable send = catchThrowable(() -> client.sendMsg(ascii("x")));
      Throwable socketSend = catchThrowable(() -> pair.client().send(ascii("x")));
      assertThat(send).isInstanceOf(ClosedSocketException.class);
      assertThat(send).hasMessage(socketSend.getMessage());
      assertThat(((ClosedSocketException) send).errno()).isEqualTo(Errno.EBADF);
      Throwable recv = catchThrowable(server::recvMsg);
      Throwable socketRecv = catchThrowable(() -> pair.server().recv(1));
      assertThat(recv).isInstanceOf(ClosedSocketException.class);
      assertThat(recv).hasMessage(socketRecv.getMessage());
    }
  }

  @Test
  void aSendThatFailsAfterPartOfTheFrameWentMakesEveryLaterSendMsgFail() throws Exception {
    try (Pair pair = Loopback.pair(AF_INET)) {
      pair.server().setSockOpt(StandardSocketOptions.SO_RCVBUF, 64 * 1024); // and never read
      pair.client().setTimeout(Duration.ofMillis(200));
      Framed client = Framing.lengthPrefixed(Prefix.U32, 64 << 20).on(pair.client());

      SocketTimeoutException timeout =
          catchThrowableOfType(
              SocketTimeoutException.class, () -> client.sendMsg(new byte[64 << 20]));

      ErrnoException refused =
          catchThrowableOfType(ErrnoException.class, () -> client.sendMsg(ascii("x")));
      assertThat(refused)
          .hasMessage(
              "send to "
                  + address(pair.server().getSockName())
                  + ": cannot send after a failed sendMsg sent part of a frame")
          .hasCause(timeout);
      assertThat(refused.errno()).isEqualTo(Errno.EIO);
    }
  }

  @Test
  void aSendThatTimesOutBeforeAnyByteWentLeavesTheFramedUsable() throws Exception {
    try (Pair pair = Loopback.pair(AF_INET)) {
      pair.server().setSockOpt(StandardSocketOptions.SO_RCVBUF, 64 * 1024);
      pair.client().setTimeout(Duration.ofMillis(200));
      // Fill the connection: the server does not read yet, so nothing drains. After a large write
      // stops, Linux may still append a few bytes to its last segment: fill that up byte by byte.
      ByteBuffer filler = ByteBuffer.allocate(64 << 20);
      assertThatThrownBy(() -> pair.client().sendAll(filler))
          .isInstanceOf(SocketTimeoutException.class);
      int filled = filler.position();
      while (sentOneByte(pair.client())) {
        filled++;
      }
      int sentBeforeTheMessage = filled;
      Framed client = Kind.U32.framing().on(pair.client());

      assertThatThrownBy(() -> client.sendMsg(ascii("late")))
          .isInstanceOf(SocketTimeoutException.class);

      Future<byte[]> received =
          background.submit(
              () -> {
                readExactly(pair.server(), sentBeforeTheMessage);
                return Kind.U32.framing().on(pair.server()).recvMsg();
              });
      pair.client().setTimeout(null);
      client.sendMsg(ascii("on time"));
      assertThat(received.get(30, TimeUnit.SECONDS)).isEqualTo(ascii("on time"));
    }
  }

  @Test
  void overTlsASendThatTimesOutWithItsRecordQueuedMakesEveryLaterSendMsgFail() throws Exception {
    KeyMaterial key = KeyMaterial.selfSigned();
    try (Pair plain = Loopback.pair(AF_INET)) {
      plain.client().setSockOpt(StandardSocketOptions.SO_SNDBUF, 4096);
      Future<Socket> accepted = background.submit(() -> Tls.server(key).wrap(plain.server()));
      Socket tlsClient =
          Tls.client()
              .withTrustedCertificates(key.certificateChain())
              .wrap(plain.client(), "localhost");
      try (Socket tlsServer = accepted.get(30, TimeUnit.SECONDS)) {
        tlsClient.setTimeout(Duration.ofMillis(200));
        Framed client = Kind.U32.framing().on(tlsClient);
        // Small frames, one TLS record each, until one times out: its record is then queued in
        // the TLS socket, to go before whatever is sent next.
        SocketTimeoutException timeout = null;
        for (int i = 0; i < 100_000 && timeout == null; i++) {
          timeout =
              catchThrowableOfType(
                  SocketTimeoutException.class, () -> client.sendMsg(new byte[1000]));
        }
        assertThat(timeout).isNotNull();

        ErrnoException refused =
            catchThrowableOfType(ErrnoException.class, () -> client.sendMsg(ascii("x")));
        assertThat(refused)
            .hasMessage(
                "send to "
                    + address(tlsServer.getSockName())
                    + ": cannot send after a failed sendMsg sent part of a frame")
            .hasCause(timeout);
        assertThat(refused.errno()).isEqualTo(Errno.EIO);
      } finally {
        tlsClient.close();
      }
    }
  }

  // ---------------------------------------------------------------- threads

  @Test
  void messagesFromSeveralSendingThreadsNeverInterleave() throws Exception {
    int threads = 4;
    int perThread = 40;
    try (Pair pair = Loopback.pair(AF_INET)) {
      Framed client = Kind.U32.framing().on(pair.client());
      Framed server = Kind.U32.framing().on(pair.server());
      List<Future<?>> senders = new ArrayList<>();
      for (int t = 0; t < threads; t++) {
        int thread = t;
        senders.add(
            inTheBackground(
                () -> {
                  for (int seq = 0; seq < perThread; seq++) {
                    // Large ones go as prefix, then payload: two writes that must stay together.
                    int length = seq % 2 == 0 ? MAX : 100;
                    client.sendMsg(tagged(thread, seq, length));
                  }
                }));
      }

      int[] next = new int[threads];
      for (int i = 0; i < threads * perThread; i++) {
        byte[] message = server.recvMsg();
        int thread = message[0];
        int seq = message[1];
        assertThat(seq).as("thread %d in order", thread).isEqualTo(next[thread]++);
        assertThat(message).isEqualTo(tagged(thread, seq, message.length));
      }
      for (Future<?> sender : senders) {
        sender.get(30, TimeUnit.SECONDS);
      }
    }
  }

  @Test
  void aNonBlockingSendMsgWhileAnotherThreadWaitsToSendThrowsWouldBlock() throws Exception {
    try (Pair pair = Loopback.pair(AF_INET)) {
      pair.server().setSockOpt(StandardSocketOptions.SO_RCVBUF, 64 * 1024); // and never read
      Framed client = Framing.lengthPrefixed(Prefix.U32, 64 << 20).on(pair.client());
      Thread blocked = Thread.ofVirtual().start(() -> sendIgnoringFailure(client, 64 << 20));
      awaitWaiting(blocked); // inside sendMsg, waiting for room: the socket's mode is its own

      pair.client().setBlocking(false);
      Future<?> second = inTheBackground(() -> client.sendMsg(ascii("x")));

      Throwable failure = catchThrowable(() -> second.get(NEVER.toSeconds(), TimeUnit.SECONDS));
      assertThat(failure).isInstanceOf(ExecutionException.class);
      assertThat(failure.getCause())
          .isInstanceOf(WouldBlockException.class)
          .hasMessage(
              "send to "
                  + address(pair.server().getSockName())
                  + ": resource temporarily unavailable");
      pair.client().close(); // ends the first sendMsg
      blocked.join();
    }
  }

  @Test
  void aNonBlockingRecvMsgWhileAnotherThreadWaitsToReceiveThrowsWouldBlock() throws Exception {
    try (Pair pair = Loopback.pair(AF_INET)) {
      Framed server = Kind.U32.framing().on(pair.server());
      pair.server().setTimeout(null);
      CompletableFuture<byte[]> first = receiveWaiting(server);

      pair.server().setBlocking(false);
      Future<byte[]> second = background.submit(server::recvMsg);

      Throwable failure = catchThrowable(() -> second.get(NEVER.toSeconds(), TimeUnit.SECONDS));
      assertThat(failure).isInstanceOf(ExecutionException.class);
      assertThat(failure.getCause())
          .isInstanceOf(WouldBlockException.class)
          .hasMessage(recvFrom(pair) + "resource temporarily unavailable");
      pair.client().sendAll(Kind.U32.encode(ascii("one"))); // the first call, blocking, goes on
      assertThat(first.get(30, TimeUnit.SECONDS)).isEqualTo(ascii("one"));
    }
  }

  @Test
  void aRecvMsgInTimeoutModeWhileAnotherThreadWaitsToReceiveTimesOut() throws Exception {
    try (Pair pair = Loopback.pair(AF_INET)) {
      Framed server = Kind.U32.framing().on(pair.server());
      pair.server().setTimeout(null);
      CompletableFuture<byte[]> first = receiveWaiting(server);

      pair.server().setTimeout(Duration.ofMillis(100));
      Future<byte[]> second = background.submit(server::recvMsg);

      Throwable failure = catchThrowable(() -> second.get(NEVER.toSeconds(), TimeUnit.SECONDS));
      assertThat(failure).isInstanceOf(ExecutionException.class);
      assertThat(failure.getCause())
          .isInstanceOf(SocketTimeoutException.class)
          .hasMessage(recvFrom(pair) + "timed out");
      pair.client().sendAll(Kind.U32.encode(ascii("one")));
      assertThat(first.get(30, TimeUnit.SECONDS)).isEqualTo(ascii("one"));
    }
  }

  @Test
  void anInterruptEndsABlockingRecvMsgWaitingForAnotherThreadsCall() throws Exception {
    try (Pair pair = Loopback.pair(AF_INET)) {
      Framed server = Kind.U32.framing().on(pair.server());
      pair.server().setTimeout(null);
      CompletableFuture<byte[]> first = receiveWaiting(server);
      CompletableFuture<byte[]> second = new CompletableFuture<>();
      Thread waiting =
          Thread.ofVirtual()
              .start(
                  () -> {
                    try {
                      second.complete(server.recvMsg());
                    } catch (IOException | RuntimeException e) {
                      second.completeExceptionally(e);
                    }
                  });
      awaitWaiting(waiting);

      waiting.interrupt();

      Throwable failure = catchThrowable(() -> second.get(NEVER.toSeconds(), TimeUnit.SECONDS));
      assertThat(failure.getCause())
          .isInstanceOf(java.io.InterruptedIOException.class)
          .hasMessage(recvFrom(pair) + "interrupted");
      pair.client().sendAll(Kind.U32.encode(ascii("one"))); // the first call goes on
      assertThat(first.get(30, TimeUnit.SECONDS)).isEqualTo(ascii("one"));
    }
  }

  @Test
  void oneThreadReceivesWhileAnotherSends() throws Exception {
    try (Pair pair = Loopback.pair(AF_INET)) {
      Framed client = Kind.VARINT.framing().on(pair.client());
      Future<Integer> echoed = echoInTheBackground(Kind.VARINT.framing().on(pair.server()));
      List<byte[]> messages =
          IntStream.range(0, 300).mapToObj(i -> Kind.VARINT.message(i * 233, i)).toList();

      Future<?> sending =
          inTheBackground(
              () -> {
                for (byte[] message : messages) {
                  client.sendMsg(message);
                }
              });
      for (byte[] message : messages) {
        assertThat(client.recvMsg()).isEqualTo(message);
      }
      sending.get(30, TimeUnit.SECONDS);
      pair.client().shutdown(SHUT_WR);
      assertThat(echoed.get(30, TimeUnit.SECONDS)).isEqualTo(messages.size());
    }
  }

  // ---------------------------------------------------------------- tools

  private static void sendIgnoringFailure(Framed framed, int length) {
    try {
      framed.sendMsg(new byte[length]);
    } catch (IOException closed) {
      // the test closed the socket under it
    }
  }

  /** Waits (bounded) until the thread parks: a call in it waits for the socket. */
  private static void awaitWaiting(Thread thread) throws InterruptedException {
    for (int i = 0; i < 20_000 && thread.getState() != Thread.State.WAITING; i++) {
      Thread.sleep(1);
    }
    assertThat(thread.getState()).isEqualTo(Thread.State.WAITING);
  }

  /** Receives on a thread of its own, returned once it waits in the call. */
  private static CompletableFuture<byte[]> receiveWaiting(Framed framed)
      throws InterruptedException {
    CompletableFuture<byte[]> received = new CompletableFuture<>();
    Thread thread =
        Thread.ofVirtual()
            .start(
                () -> {
                  try {
                    received.complete(framed.recvMsg());
                  } catch (IOException | RuntimeException e) {
                    received.completeExceptionally(e);
                  }
                });
    awaitWaiting(thread);
    return received;
  }

  /** Echoes messages until the end of the stream, then returns how many there were. */
  private Future<Integer> echoInTheBackground(Framed framed) {
    return background.submit(
        () -> {
          int count = 0;
          try {
            while (true) {
              framed.sendMsg(framed.recvMsg());
              count++;
            }
          } catch (EOFException done) {
            return count;
          }
        });
  }

  private Future<?> inTheBackground(ThrowingRunnable task) {
    Callable<Void> callable =
        () -> {
          task.run();
          return null;
        };
    return background.submit(callable);
  }

  @FunctionalInterface
  private interface ThrowingRunnable {
    void run() throws Exception;
  }

  /** A message that says who sent it: thread, sequence number, then a pattern of both. */
  private static byte[] tagged(int thread, int seq, int length) {
    byte[] message = new byte[length];
    message[0] = (byte) thread;
    message[1] = (byte) seq;
    for (int i = 2; i < length; i++) {
      message[i] = (byte) (i * 31 + thread * 7 + seq);
    }
    return message;
  }

  /** Whether one more byte went before the socket's timeout. */
  private static boolean sentOneByte(Socket socket) throws Exception {
    try {
      socket.sendAll(new byte[1]);
      return true;
    } catch (SocketTimeoutException full) {
      return false;
    }
  }

  private static byte[] readExactly(Socket socket, int size) throws Exception {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    while (out.size() < size) {
      byte[] chunk = socket.recv(size - out.size());
      assertThat(chunk).as("bytes before the end of the stream").isNotEmpty();
      out.write(chunk);
    }
    return out.toByteArray();
  }

  /**
   * The bytes this thread has allocated so far, from {@code com.sun.management.ThreadMXBean};
   * through reflection, since module io.jsock (which the tests are patched into) does not read
   * java.management.
   */
  private static long allocatedBytes() throws Exception {
    Object bean =
        Class.forName("java.lang.management.ManagementFactory")
            .getMethod("getThreadMXBean")
            .invoke(null);
    return (long)
        Class.forName("com.sun.management.ThreadMXBean")
            .getMethod("getCurrentThreadAllocatedBytes")
            .invoke(bean);
  }

  /** How the server side names its peer in messages: {@code recv from 127.0.0.1:PORT: }. */
  private static String recvFrom(Pair pair) throws Exception {
    return "recv from " + address(pair.client().getSockName()) + ": ";
  }

  private static String address(SocketAddress address) {
    InetSocketAddress inet = (InetSocketAddress) address;
    return inet.getAddress().getHostAddress() + ":" + inet.getPort();
  }

  private static byte[] encodeAll(Kind kind, List<byte[]> messages) {
    ByteArrayOutputStream stream = new ByteArrayOutputStream();
    for (byte[] message : messages) {
      stream.writeBytes(kind.encode(message));
    }
    return stream.toByteArray();
  }

  static byte[] u16(int length) {
    return new byte[] {(byte) (length >>> 8), (byte) length};
  }

  static byte[] u32(long length) {
    return new byte[] {
      (byte) (length >>> 24), (byte) (length >>> 16), (byte) (length >>> 8), (byte) length
    };
  }

  /** Protobuf's unsigned varint, written independently of the code under test. */
  static byte[] varint(long value) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    do {
      int low = (int) (value & 0x7F);
      value >>>= 7;
      out.write(value == 0 ? low : low | 0x80);
    } while (value != 0);
    return out.toByteArray();
  }

  static byte[] ascii(String text) {
    return text.getBytes(ISO_8859_1);
  }

  static byte[] concat(byte[] a, byte[] b) {
    byte[] both = Arrays.copyOf(a, a.length + b.length);
    System.arraycopy(b, 0, both, a.length, b.length);
    return both;
  }
}
