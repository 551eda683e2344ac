package io.jsock.fuzz;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import io.jsock.Errno;
import io.jsock.ErrnoException;
import io.jsock.Shutdown;
import io.jsock.Socket;
import io.jsock.Sockets;
import io.jsock.framing.FrameException;
import io.jsock.framing.Framed;
import io.jsock.framing.Framing;
import io.jsock.framing.Framing.Prefix;
import io.jsock.fuzz.FramingReference.Decoded;
import io.jsock.fuzz.FramingReference.Kind;
import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Framing over a real AF_UNIX socket pair, against {@link FramingReference}: whatever bytes a peer
 * sends, {@code recvMsg} returns the messages the reference finds in them and then ends as it does
 * (end of stream, EPROTO or EMSGSIZE); every message {@code sendMsg} accepts arrives intact, and it
 * refuses exactly the messages that would not.
 *
 * <p>Streams are built from the fuzzer's input as pieces: bytes as given, or one byte repeated up
 * to 20,000 times, so that small inputs reach messages larger than the decoder's 8 KiB buffer.
 */
final class FramedFuzzTest {
  /** Bounds each wait, so that a decoder that hangs fails the input instead of the run. */
  private static final Duration PATIENCE = Duration.ofSeconds(20);

  private static final int MAX_STREAM = 256 * 1024;

  @FuzzTest(maxDuration = "2m")
  void receivesWhatTheReferenceFinds(FuzzedDataProvider data) throws Exception {
    Choice choice = Choice.of(data);
    byte[] stream = stream(data, choice);
    Decoded expected = choice.reference.decode(stream);
    Socket[] pair = Sockets.socketPair();
    try (Socket reader = pair[0];
        Socket writer = pair[1]) {
      reader.setTimeout(PATIENCE);
      Thread peer =
          Thread.ofVirtual()
              .start(
                  () -> {
                    try {
                      writer.sendAll(stream);
                      writer.shutdown(Shutdown.SHUT_WR);
                    } catch (IOException readerGaveUp) {
                      // the reader stops at the first error and closes its end
                    }
                  });
      Framed framed = choice.framing.on(reader);
      String what = choice.reference + ", stream of " + stream.length + " bytes";
      for (int i = 0; i < expected.messages().size(); i++) {
        assertThat(framed.recvMsg())
            .as("message %d of %s", i, what)
            .isEqualTo(expected.messages().get(i));
      }
      switch (expected.end()) {
        case EOF -> {
          assertThatThrownBy(framed::recvMsg).as(what).isExactlyInstanceOf(EOFException.class);
          assertThatThrownBy(framed::recvMsg).as(what).isExactlyInstanceOf(EOFException.class);
        }
        case EPROTO, EMSGSIZE -> {
          int errno = expected.end() == FramingReference.End.EPROTO ? Errno.EPROTO : Errno.EMSGSIZE;
          assertThatThrownBy(framed::recvMsg)
              .as(what)
              .isInstanceOfSatisfying(
                  FrameException.class,
                  e -> assertThat(e.errno()).as(e.getMessage()).isEqualTo(errno));
          assertThatThrownBy(
                  framed::recvMsg) // the stream's position is lost: every later call fails
              .as(what)
              .isInstanceOfSatisfying(
                  ErrnoException.class, e -> assertThat(e.errno()).isEqualTo(Errno.EIO));
        }
      }
      reader.shutdown(Shutdown.SHUT_RDWR); // a peer still sending gets EPIPE
      peer.join();
    }
  }

  @FuzzTest(maxDuration = "2m")
  void sendsWhatItAccepts(FuzzedDataProvider data) throws Exception {
    Choice choice = Choice.of(data);
    byte[] message = stream(data, choice);
    Socket[] pair = Sockets.socketPair();
    try (Socket left = pair[0];
        Socket right = pair[1]) {
      left.setTimeout(PATIENCE);
      right.setTimeout(PATIENCE);
      Framed sender = choice.framing.on(left);
      Framed receiver = choice.framing.on(right);
      String what = choice.reference + ", message of " + message.length + " bytes";
      if (!choice.reference.sendable(message)) {
        assertThatThrownBy(() -> sender.sendMsg(message))
            .as(what)
            .isExactlyInstanceOf(IllegalArgumentException.class);
        return;
      }
      AtomicReference<Throwable> failure = new AtomicReference<>();
      Thread peer =
          Thread.ofVirtual()
              .start(
                  () -> {
                    try {
                      sender.sendMsg(message);
                      sender.sendMsg(message); // the stream stays aligned after the first
                      left.shutdown(Shutdown.SHUT_WR);
                    } catch (Throwable e) {
                      failure.set(e);
                    }
                  });
      assertThat(receiver.recvMsg()).as(what).isEqualTo(message);
      assertThat(receiver.recvMsg()).as(what).isEqualTo(message);
      assertThatThrownBy(receiver::recvMsg).as(what).isExactlyInstanceOf(EOFException.class);
      peer.join();
      assertThat(failure.get()).as(what).isNull();
    }
  }

  /** A framing, and the reference for it. */
  private record Choice(Framing framing, FramingReference reference) {
    static Choice of(FuzzedDataProvider data) {
      Kind kind = data.pickValue(Kind.values());
      int maxSize = data.consumeInt(1, kind == Kind.U16 ? 0xFFFF : 70_000);
      byte[] delimiter = kind == Kind.DELIMITED ? nonEmpty(data.consumeBytes(4)) : null;
      Framing framing =
          switch (kind) {
            case U16 -> Framing.lengthPrefixed(Prefix.U16, maxSize);
            case U32 -> Framing.lengthPrefixed(Prefix.U32, maxSize);
            case VARINT -> Framing.lengthPrefixed(Prefix.VARINT, maxSize);
            case LINES -> Framing.lines(maxSize);
            case DELIMITED -> Framing.delimited(delimiter, maxSize);
          };
      return new Choice(framing, new FramingReference(kind, maxSize, delimiter));
    }

    /** A length prefix announcing {@code length} bytes, or what ends a message. */
    byte[] marker(int length) {
      return switch (reference.kind()) {
        case U16 -> new byte[] {(byte) (length >>> 8), (byte) length};
        case U32 ->
            new byte[] {
              (byte) (length >>> 24), (byte) (length >>> 16), (byte) (length >>> 8), (byte) length
            };
        case VARINT -> {
          ByteArrayOutputStream varint = new ByteArrayOutputStream();
          int rest = length;
          while ((rest & ~0x7F) != 0) {
            varint.write((rest & 0x7F) | 0x80);
            rest >>>= 7;
          }
          varint.write(rest);
          yield varint.toByteArray();
        }
        case LINES -> length % 2 == 0 ? new byte[] {'\n'} : new byte[] {'\r', '\n'};
        case DELIMITED -> reference.delimiter();
      };
    }

    private static byte[] nonEmpty(byte[] delimiter) {
      return delimiter.length > 0 ? delimiter : new byte[] {0};
    }
  }

  /**
   * The rest of the input as a stream of pieces: bytes as given, one byte repeated, or what ends or
   * begins a frame in the chosen framing (a length prefix for a given length, a line end, the
   * delimiter), so that streams of whole frames, large ones included, are a few bytes away.
   */
  private static byte[] stream(FuzzedDataProvider data, Choice choice) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    while (data.remainingBytes() > 0 && out.size() < MAX_STREAM) {
      switch (data.consumeInt(0, 2)) {
        case 0 -> out.writeBytes(data.consumeBytes(data.consumeInt(1, 64)));
        case 1 -> {
          int count = data.consumeInt(1, 20_000);
          byte b = data.consumeByte();
          for (int i = 0; i < count; i++) {
            out.write(b);
          }
        }
        default -> out.writeBytes(choice.marker(data.consumeInt(0, 70_000)));
      }
    }
    return out.toByteArray();
  }
}
