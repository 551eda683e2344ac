package io.jsock.fuzz;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import io.jsock.Socket;
import io.jsock.Sockets;
import io.jsock.WouldBlockException;
import java.io.BufferedWriter;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.MalformedInputException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code makeFile("w")}'s text writer over a real AF_UNIX socket pair, against the JDK's strict
 * UTF-8 encoder: for writes of any text cut at any points (a surrogate pair split between two
 * writes, chunks of the writer's 4 KiB encoding around them), the peer receives the strict encoding
 * of their concatenation; a write that holds a lone surrogate (or begins with something other than
 * the low surrogate a high one that ended the last write waits for) throws {@link
 * MalformedInputException} and sends nothing of itself, nor the waiting high surrogate, and the
 * writes after it go on; closing with a high surrogate waiting throws it too, having sent the rest.
 *
 * <p>One socket pair serves every input; each input's writer is a new view of it, and the peer is
 * drained to exactly the expected bytes (and then found empty) before the next input.
 */
final class TextWriterFuzzTest {
  /** What was sent is at the peer at once (AF_UNIX): a wait this long means bytes are missing. */
  private static final Duration PATIENCE = Duration.ofSeconds(5);

  /** Bounds the text of one input (at most 3 bytes a char: well inside the socket's buffer). */
  private static final int MAX_CHARS = 20_000;

  private static Socket writerSide;
  private static Socket readerSide;

  private static synchronized void open() throws IOException {
    if (writerSide == null) {
      Socket[] pair = Sockets.socketPair();
      writerSide = pair[0];
      readerSide = pair[1];
      writerSide.setTimeout(PATIENCE);
      readerSide.setTimeout(PATIENCE);
    }
  }

  @FuzzTest(maxDuration = "2m")
  void sendsTheStrictEncodingOfWhatItWasGiven(FuzzedDataProvider data) throws Exception {
    open();
    List<String> writes = new ArrayList<>();
    int total = 0;
    while (data.remainingBytes() > 0 && writes.size() < 64 && total < MAX_CHARS) {
      String piece = piece(data, MAX_CHARS - total);
      writes.add(piece);
      total += piece.length();
    }
    // the model: bytes the peer must receive, and which writes must throw
    ByteArrayOutputStream expected = new ByteArrayOutputStream();
    StringBuilder log = new StringBuilder();
    String waiting = "";
    BufferedWriter writer = writerSide.makeFile("w");
    boolean anyFailed = false;
    for (int i = 0; i < writes.size(); i++) {
      String w = writes.get(i);
      String s = waiting + w;
      String held = "";
      if (!s.isEmpty() && Character.isHighSurrogate(s.charAt(s.length() - 1))) {
        held = s.substring(s.length() - 1);
        s = s.substring(0, s.length() - 1);
      }
      byte[] encoded = strict(s);
      log.append(describe(w)).append(encoded == null ? " (malformed)" : "").append('\n');
      int how = i % 4;
      if (encoded == null) {
        anyFailed = true;
        assertThatThrownBy(() -> write(writer, w, how))
            .as("write %d of:\n%s", i, log)
            .isExactlyInstanceOf(MalformedInputException.class);
        waiting = "";
      } else {
        write(writer, w, how);
        expected.writeBytes(encoded);
        waiting = held;
      }
    }
    if (waiting.isEmpty()) {
      writer.close();
    } else {
      assertThatThrownBy(writer::close)
          .as("close after:\n%s", log)
          .isExactlyInstanceOf(MalformedInputException.class);
    }
    byte[] want = expected.toByteArray();
    if (!anyFailed) {
      String all = String.join("", writes);
      if (!waiting.isEmpty()) {
        all = all.substring(0, all.length() - 1);
      }
      assertThat(want).as("the model, for:\n%s", log).isEqualTo(strict(all));
    }
    byte[] got = receive(want.length);
    assertThat(got).as("received for:\n%s", log).isEqualTo(want);
    readerSide.setBlocking(false);
    try {
      assertThatThrownBy(() -> readerSide.recv(1))
          .as("bytes after the expected ones, for:\n%s", log)
          .isInstanceOf(WouldBlockException.class);
    } finally {
      readerSide.setTimeout(PATIENCE);
    }
  }

  private static void write(BufferedWriter writer, String w, int how) throws IOException {
    switch (how) {
      case 0 -> writer.write(w);
      case 1 -> writer.write(w.toCharArray());
      case 2 -> {
        String padded = "ab" + w + "cd"; // an offset into a larger string
        writer.write(padded, 2, w.length());
      }
      default -> {
        if (w.length() == 1) {
          writer.write(w.charAt(0));
        } else {
          writer.append(new StringBuilder(w));
        }
      }
    }
  }

  private static byte[] receive(int n) throws IOException {
    byte[] got = new byte[n];
    int at = 0;
    while (at < n) {
      int read;
      try {
        read = readerSide.recvInto(ByteBuffer.wrap(got, at, n - at));
      } catch (SocketTimeoutException e) {
        throw new AssertionError("received " + at + " of the " + n + " bytes expected", e);
      }
      if (read == 0) {
        throw new AssertionError("end of stream after " + at + " of " + n + " bytes");
      }
      at += read;
    }
    return got;
  }

  /** The JDK's strict UTF-8 encoding, or null where it finds the text malformed. */
  private static byte[] strict(String s) {
    try {
      ByteBuffer bytes =
          UTF_8
              .newEncoder()
              .onMalformedInput(CodingErrorAction.REPORT)
              .onUnmappableCharacter(CodingErrorAction.REPORT)
              .encode(CharBuffer.wrap(s));
      byte[] out = new byte[bytes.remaining()];
      bytes.get(out);
      return out;
    } catch (CharacterCodingException e) {
      return null;
    }
  }

  /**
   * One write's text: runs of chars of a few kinds (ASCII, two and three UTF-8 bytes, high and low
   * surrogates, whole pairs), a run maybe thousands long so that the 4 KiB chunks are reached.
   */
  private static String piece(FuzzedDataProvider data, int room) {
    StringBuilder b = new StringBuilder();
    int runs = data.consumeInt(0, 4);
    for (int r = 0; r < runs && data.remainingBytes() > 0; r++) {
      int count = data.consumeBoolean() ? data.consumeInt(1, 6000) : data.consumeInt(1, 4);
      String unit =
          switch (data.consumeInt(0, 7)) {
            case 0 -> "a";
            case 1 -> "\u00e9";
            case 2 -> "\u20ac";
            case 3 -> "\ud83d";
            case 4 -> "\ude00";
            case 5 -> "\ud83d\ude00";
            case 6 -> "\uffff";
            default -> String.valueOf(data.consumeChar());
          };
      for (int i = 0; i < count && b.length() + unit.length() <= room; i++) {
        b.append(unit);
      }
    }
    return b.toString();
  }

  private static String describe(String w) {
    StringBuilder b = new StringBuilder("write of " + w.length() + ":");
    int shown = 0;
    char last = 0;
    int repeat = 0;
    for (int i = 0; i <= w.length(); i++) {
      char c = i < w.length() ? w.charAt(i) : 0;
      if (i < w.length() && i > 0 && c == last) {
        repeat++;
        continue;
      }
      if (i > 0) {
        b.append(String.format(" %04x", (int) last)).append(repeat > 1 ? "x" + repeat : "");
        if (++shown > 40) {
          b.append(" ...");
          break;
        }
      }
      last = c;
      repeat = 1;
    }
    return b.toString();
  }
}
