package io.jsock.fuzz;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import io.jsock.Shutdown;
import io.jsock.Socket;
import io.jsock.Sockets;
import io.jsock.WouldBlockException;
import java.io.InputStream;
import java.time.Duration;
import java.util.Arrays;

/**
 * The stream views' reads on a non-blocking AF_UNIX socket ({@code getInputStream()} and {@code
 * makeFile("rb")}), with the peer's data arriving in chunks of the fuzzer's sizes between the
 * reads: {@code readNBytes}, {@code readAllBytes}, {@code read} and {@code skip} each give the
 * bytes that had come, in order, none lost nor given twice; {@code readNBytes}, {@code
 * readAllBytes} and the stream's {@code skip} take all that had come up to what was asked; a call
 * with nothing there throws {@link WouldBlockException}, or ends (-1, an empty array, 0) once the
 * peer has shut down its sending.
 *
 * <p>On an AF_UNIX socket what the peer's send returned from is readable at once, so what has come
 * is known exactly.
 */
final class NonBlockingReadsFuzzTest {
  private static final Duration PATIENCE = Duration.ofSeconds(20);

  /** Bounds what waits in the socket, well inside its buffer. */
  private static final int MAX_WAITING = 60_000;

  @FuzzTest(maxDuration = "2m")
  void readsWhatHadComeInOrder(FuzzedDataProvider data) throws Exception {
    boolean buffered = data.consumeBoolean();
    Socket[] pair = Sockets.socketPair();
    try (Socket reader = pair[0];
        Socket writer = pair[1]) {
      writer.setTimeout(PATIENCE);
      reader.setBlocking(false);
      InputStream in = buffered ? reader.makeFile("rb") : reader.getInputStream();
      byte[] sent = new byte[0];
      int sentCount = 0; // bytes the peer sent, numbered: byte i is (i * 7 + i / 251)
      int readCount = 0; // bytes the views gave (or skipped)
      boolean ended = false;
      StringBuilder log = new StringBuilder(buffered ? "makeFile(rb)\n" : "getInputStream\n");
      for (int op = 0; op < 40 && data.remainingBytes() > 0; op++) {
        int waiting = sentCount - readCount;
        switch (data.consumeInt(0, 7)) {
          case 0, 1 -> {
            int n = data.consumeBoolean() ? data.consumeInt(1, 20_000) : data.consumeInt(1, 16);
            if (ended || waiting + n > MAX_WAITING) {
              continue;
            }
            sent = new byte[n];
            for (int i = 0; i < n; i++) {
              sent[i] = at(sentCount + i);
            }
            writer.sendAll(sent);
            sentCount += n;
            log.append("send ").append(n).append('\n');
          }
          case 2 -> {
            if (!ended) {
              writer.shutdown(Shutdown.SHUT_WR);
              ended = true;
              log.append("shutdown\n");
            }
          }
          case 3 -> {
            int n = len(data);
            log.append("readNBytes ").append(n).append('\n');
            if (n > 0 && waiting == 0 && !ended) {
              assertThatThrownBy(() -> in.readNBytes(n))
                  .as(log.toString())
                  .isInstanceOf(WouldBlockException.class);
            } else {
              byte[] got = n == Integer.MAX_VALUE ? in.readAllBytes() : in.readNBytes(n);
              assertThat(got)
                  .as(log.toString())
                  .isEqualTo(expected(readCount, Math.min(n, waiting)));
              readCount += got.length;
            }
          }
          case 4 -> {
            int n = Math.min(len(data), 70_000);
            int off = data.consumeInt(0, 3);
            byte[] b = new byte[off + n + 2];
            log.append("readNBytes(b, ").append(off).append(", ").append(n).append(")\n");
            if (n > 0 && waiting == 0 && !ended) {
              assertThatThrownBy(() -> in.readNBytes(b, off, n))
                  .as(log.toString())
                  .isInstanceOf(WouldBlockException.class);
            } else {
              int got = in.readNBytes(b, off, n);
              assertThat(got).as(log.toString()).isEqualTo(Math.min(n, waiting));
              assertThat(Arrays.copyOfRange(b, off, off + got))
                  .as(log.toString())
                  .isEqualTo(expected(readCount, got));
              assertThat(b[off + n]).as("past the end, " + log).isZero();
              readCount += got;
            }
          }
          case 5 -> {
            int n = Math.min(len(data), 70_000);
            byte[] b = new byte[n];
            log.append("read(b, 0, ").append(n).append(")\n");
            if (n > 0 && waiting == 0 && !ended) {
              assertThatThrownBy(() -> in.read(b, 0, n))
                  .as(log.toString())
                  .isInstanceOf(WouldBlockException.class);
            } else {
              int got = in.read(b, 0, n);
              if (n == 0) {
                assertThat(got).as(log.toString()).isZero();
              } else if (waiting == 0) {
                assertThat(got).as(log.toString()).isEqualTo(-1);
              } else {
                assertThat(got).as(log.toString()).isBetween(1, Math.min(n, waiting));
                assertThat(Arrays.copyOf(b, got))
                    .as(log.toString())
                    .isEqualTo(expected(readCount, got));
                readCount += got;
              }
            }
          }
          case 6 -> {
            log.append("read()\n");
            if (waiting == 0 && !ended) {
              assertThatThrownBy(in::read)
                  .as(log.toString())
                  .isInstanceOf(WouldBlockException.class);
            } else {
              int got = in.read();
              assertThat(got)
                  .as(log.toString())
                  .isEqualTo(waiting == 0 ? -1 : at(readCount) & 0xff);
              readCount += waiting == 0 ? 0 : 1;
            }
          }
          default -> {
            long n = data.consumeBoolean() ? data.consumeLong(-2, 70_000) : Long.MAX_VALUE;
            log.append("skip ").append(n).append('\n');
            if (n > 0 && waiting == 0 && !ended) {
              assertThatThrownBy(() -> in.skip(n))
                  .as(log.toString())
                  .isInstanceOf(WouldBlockException.class);
            } else {
              long got = in.skip(n);
              long most = Math.max(0, Math.min(n, waiting));
              if (buffered && most > 0) {
                assertThat(got).as(log.toString()).isBetween(1L, most);
              } else {
                assertThat(got).as(log.toString()).isEqualTo(most);
              }
              readCount += (int) got;
            }
          }
        }
      }
      // whatever is left reads in order, to the end
      if (!ended) {
        writer.shutdown(Shutdown.SHUT_WR);
      }
      assertThat(in.readAllBytes())
          .as("the rest, " + log)
          .isEqualTo(expected(readCount, sentCount - readCount));
      assertThat(in.read()).as(log.toString()).isEqualTo(-1);
    }
  }

  /** A length to ask for: small, up to a few chunks, or all ({@code Integer.MAX_VALUE}). */
  private static int len(FuzzedDataProvider data) {
    return switch (data.consumeInt(0, 3)) {
      case 0 -> data.consumeInt(0, 16);
      case 1 -> data.consumeInt(0, 70_000);
      case 2 -> 8192 + data.consumeInt(-2, 2);
      default -> Integer.MAX_VALUE;
    };
  }

  private static byte at(int i) {
    return (byte) (i * 7 + i / 251);
  }

  private static byte[] expected(int from, int n) {
    byte[] b = new byte[n];
    for (int i = 0; i < n; i++) {
      b[i] = at(from + i);
    }
    return b;
  }
}
