package io.jsock.cli;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import io.jsock.Socket;
import io.jsock.Sockets;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.Arrays;

/**
 * What {@code jsock send} takes from a receiver it does not know (docs/cli/transfer.md): the answer
 * ({@code 'G'} and an offset, with a part's name and digest above 0, or {@code 'R'} and a reason)
 * and the verdict ({@code 'K'} or {@code 'M'} and a digest). Whatever bytes come, {@code
 * readAnswer} and {@code readVerdict} return what the documented layout says they hold, reading no
 * byte past it, or refuse them with a {@link TransferFailedException} or an {@link EOFException};
 * and every text a side writes (a reason, a part's name) reads back as itself, or cut before the
 * character that would cross 1,024 bytes.
 */
final class TransferAnswersFuzzTest {
  private static final Duration PATIENCE = Duration.ofSeconds(20);

  private static Socket left;
  private static Socket right;

  @FuzzTest(maxDuration = "2m")
  void readsAnswersAsDocumented(FuzzedDataProvider data) throws IOException {
    long size = data.consumeBoolean() ? data.consumeLong(0, 3) : data.consumeLong();
    byte[] bytes = data.consumeBoolean() ? data.consumeRemainingAsBytes() : built(data, size);
    DataInputStream in = new DataInputStream(new ByteArrayInputStream(bytes));
    Layout expected = answer(bytes, size);
    String what = "size " + size + ", " + TransferProtocol.hex(bytes);
    TransferProtocol.Answer answer;
    try {
      answer = TransferProtocol.readAnswer(in, size);
    } catch (TransferFailedException | EOFException refused) {
      assertThat(expected).as("refused (%s) %s", refused.getMessage(), what).isNull();
      return;
    }
    assertThat(expected).as("accepted %s as %s", what, answer).isNotNull();
    assertThat(in.available())
        .as("bytes left unread, %s", what)
        .isEqualTo(bytes.length - expected.end);
    switch (answer) {
      case TransferProtocol.Go go -> {
        assertThat(expected.kind).as(what).isEqualTo('G');
        assertThat(go.offset()).as(what).isEqualTo(expected.offset);
        assertThat(go.partialName()).as(what).isEqualTo(expected.text);
        assertThat(go.prefixSha256()).as(what).isEqualTo(expected.digest);
      }
      case TransferProtocol.Refused refused -> {
        assertThat(expected.kind).as(what).isEqualTo('R');
        assertThat(refused.message()).as(what).isEqualTo(expected.text);
      }
    }
  }

  @FuzzTest(maxDuration = "2m")
  void readsVerdictsAsDocumented(FuzzedDataProvider data) throws IOException {
    byte[] bytes = data.consumeRemainingAsBytes();
    DataInputStream in = new DataInputStream(new ByteArrayInputStream(bytes));
    String what = TransferProtocol.hex(bytes);
    boolean known = bytes.length > 0 && (bytes[0] == 'K' || bytes[0] == 'M');
    TransferProtocol.Verdict verdict;
    try {
      verdict = TransferProtocol.readVerdict(in);
    } catch (TransferFailedException | EOFException refused) {
      assertThat(known && bytes.length >= 33)
          .as("refused (%s) %s", refused.getMessage(), what)
          .isFalse();
      return;
    }
    assertThat(known && bytes.length >= 33).as("accepted %s", what).isTrue();
    assertThat(verdict.matched()).as(what).isEqualTo(bytes[0] == 'K');
    assertThat(verdict.sha256()).as(what).isEqualTo(Arrays.copyOfRange(bytes, 1, 33));
    assertThat(in.available()).as(what).isEqualTo(bytes.length - 33);
  }

  /** A reason and a part's name of any text go over a socket and read back as written. */
  @FuzzTest(maxDuration = "2m")
  void writesTextsThatReadBack(FuzzedDataProvider data) throws IOException {
    open();
    String text = data.consumeBoolean() ? long_(data) : data.consumeRemainingAsString();
    boolean refusal = text.length() % 2 == 0;
    long offset = 1 + (text.length() & 0xff);
    byte[] digest = new byte[32];
    Arrays.fill(digest, (byte) text.length());
    TransferProtocol.Answer sent =
        refusal
            ? new TransferProtocol.Refused(text)
            : new TransferProtocol.Go(offset, text, digest);
    TransferProtocol.writeAnswer(left, sent);
    TransferProtocol.writeVerdict(left, new TransferProtocol.Verdict(refusal, digest));
    DataInputStream in = new DataInputStream(right.getInputStream());
    TransferProtocol.Answer got = TransferProtocol.readAnswer(in, 1000);
    String expected = cut(text);
    String what = "text of " + text.length() + " chars";
    switch (got) {
      case TransferProtocol.Refused r -> {
        assertThat(refusal).as(what).isTrue();
        assertThat(r.message()).as(what).isEqualTo(expected);
      }
      case TransferProtocol.Go g -> {
        assertThat(refusal).as(what).isFalse();
        assertThat(g.offset()).as(what).isEqualTo(offset);
        assertThat(g.partialName()).as(what).isEqualTo(expected);
        assertThat(g.prefixSha256()).as(what).isEqualTo(digest);
      }
    }
    TransferProtocol.Verdict verdict = TransferProtocol.readVerdict(in);
    assertThat(verdict.matched()).as(what).isEqualTo(refusal);
    assertThat(verdict.sha256()).as(what).isEqualTo(digest);
  }

  private static synchronized void open() throws IOException {
    if (left == null) {
      Socket[] pair = Sockets.socketPair();
      left = pair[0];
      right = pair[1];
      left.setTimeout(PATIENCE);
      right.setTimeout(PATIENCE);
    }
  }

  /** A text near the 1,024-byte limit: a run of one char (1 to 4 UTF-8 bytes) and the rest. */
  private static String long_(FuzzedDataProvider data) {
    String unit =
        switch (data.consumeInt(0, 4)) {
          case 0 -> "a";
          case 1 -> "\u00e9";
          case 2 -> "\u20ac";
          case 3 -> "\ud83d\ude00";
          default -> "\ud83d";
        };
    return unit.repeat(data.consumeInt(0, 1100)) + data.consumeRemainingAsString();
  }

  /**
   * The text as the documentation says it arrives: its UTF-8 (a lone surrogate as '?'), cut before
   * the first character that would cross 1,024 bytes.
   */
  private static String cut(String text) {
    StringBuilder kept = new StringBuilder();
    int bytes = 0;
    for (int i = 0; i < text.length(); ) {
      int c = text.codePointAt(i);
      String one = new String(Character.toChars(c));
      int n = one.getBytes(UTF_8).length;
      if (bytes + n > 1024) {
        break;
      }
      kept.append(c >= Character.MIN_SURROGATE && c <= Character.MAX_SURROGATE ? "?" : one);
      bytes += n;
      i += Character.charCount(c);
    }
    return kept.toString();
  }

  /** An answer's bytes built as a receiver might send them, right or a little wrong. */
  private static byte[] built(FuzzedDataProvider data, long size) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    int kind =
        switch (data.consumeInt(0, 3)) {
          case 0 -> 'G';
          case 1 -> 'R';
          case 2 -> data.consumeInt(18, 25);
          default -> data.consumeInt(0, 255);
        };
    out.write(kind);
    if (kind == 'G') {
      long offset =
          switch (data.consumeInt(0, 3)) {
            case 0 -> 0;
            case 1 -> size + data.consumeInt(-2, 2);
            case 2 -> data.consumeLong();
            default -> data.consumeLong(0, Math.max(0, size));
          };
      out.writeBytes(ByteBuffer.allocate(8).putLong(offset).array());
    }
    int length =
        switch (data.consumeInt(0, 2)) {
          case 0 -> data.consumeInt(0, 40);
          case 1 -> 1024 + data.consumeInt(-2, 2);
          default -> data.consumeInt(0, 0xffff);
        };
    out.write(length >> 8);
    out.write(length);
    out.writeBytes(data.consumeBytes(Math.min(length, 1100)));
    out.writeBytes(data.consumeRemainingAsBytes());
    return out.toByteArray();
  }

  /** What the documented layout finds at the start of the bytes; null where it refuses them. */
  private record Layout(char kind, long offset, String text, byte[] digest, int end) {}

  private static Layout answer(byte[] b, long size) {
    if (b.length < 1) {
      return null;
    }
    int kind = b[0] & 0xff;
    int at = 1;
    long offset = 0;
    if (kind == 'G') {
      if (b.length < at + 8) {
        return null;
      }
      offset = ByteBuffer.wrap(b, at, 8).getLong();
      at += 8;
      if (offset < 0 || offset > size) {
        return null;
      }
      if (offset == 0) {
        return new Layout('G', 0, "", new byte[0], at);
      }
    } else if (kind != 'R') {
      return null;
    }
    if (b.length < at + 2) {
      return null;
    }
    int length = (b[at] & 0xff) << 8 | b[at + 1] & 0xff;
    at += 2;
    if (length > 1024 || b.length < at + length) {
      return null;
    }
    String text = new String(b, at, length, UTF_8);
    at += length;
    if (kind == 'R') {
      return new Layout('R', 0, text, null, at);
    }
    if (b.length < at + 32) {
      return null;
    }
    return new Layout('G', offset, text, Arrays.copyOfRange(b, at, at + 32), at + 32);
  }
}
