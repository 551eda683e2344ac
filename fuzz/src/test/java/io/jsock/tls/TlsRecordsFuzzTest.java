package io.jsock.tls;

import static java.util.concurrent.TimeUnit.SECONDS;
import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.api.BugDetectors;
import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.api.SilentCloseable;
import com.code_intelligence.jazzer.junit.FuzzTest;
import io.jsock.Socket;
import io.jsock.WouldBlockException;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.SocketTimeoutException;
import java.security.KeyStore;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Future;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;

/**
 * A TLS client's receive after the handshake, whatever bytes the peer then writes raw on the wire
 * (up to 40 KiB, in the fuzzer's chunks, maybe followed by the end of its sending): on TLS 1.2 or
 * 1.3, with a JDK {@code SSLSocket} as the server, each receive (with a timeout, or non-blocking)
 * waits ({@link SocketTimeoutException}, {@link WouldBlockException}) only while what came is the
 * beginning of a record whose header is plausible ({@link #verdict}: type 20 to 23, not 22 on TLS
 * 1.3, version 03 03, length within what OpenSSL takes), and otherwise fails with a {@link
 * TlsException} that names the cause (a header the reference refuses: its cause in words), or ends
 * once the peer's sending has ended; a failure is said again by the next receive. Nothing else
 * escapes, and no receive hangs. Bytes of plaintext would need records encrypted with the session's
 * keys: the fuzzer cannot write them, so any is a finding.
 */
final class TlsRecordsFuzzTest {
  private static final int MAX_BYTES = 40 * 1024;
  private static final Duration WAIT = Duration.ofMillis(20);

  /** The longest record body OpenSSL takes after the handshake: TLS 1.3's 2^14+256, 1.2's. */
  static final int TLS13_LIMIT = 16384 + 256;

  static final int TLS12_LIMIT = 16384 + 320;

  private static final SSLContext JDK_SERVER;
  private static final TlsContext CLIENT;

  static {
    try {
      KeyMaterial key = KeyMaterial.selfSigned("localhost");
      KeyStore store = KeyStore.getInstance("PKCS12");
      store.load(null, null);
      store.setKeyEntry(
          "k",
          key.privateKey(),
          new char[0],
          key.certificateChain().toArray(X509Certificate[]::new));
      KeyManagerFactory keys = KeyManagerFactory.getInstance("PKIX");
      keys.init(store, new char[0]);
      JDK_SERVER = SSLContext.getInstance("TLS");
      JDK_SERVER.init(keys.getKeyManagers(), null, null);
      CLIENT = Tls.client().withTrustedCertificates(List.of(key.certificateChain().get(0)));
    } catch (Exception e) {
      throw new ExceptionInInitializerError(e);
    }
  }

  /** What the reference says of the bytes after the handshake. */
  enum Verdict {
    /** Nothing, or the plausible beginning of a record: a receive waits. */
    WAITS,
    /** A header that can be no record of this session: a receive fails at once, naming it. */
    REFUSED,
    /** A whole record: a receive does not wait (it cannot decrypt what the fuzzer wrote). */
    WHOLE
  }

  /**
   * The reference: whether {@code bytes} (all the peer wrote after the handshake) begin with the
   * plausible beginning of a record (the header's first three bytes are checked once there, its
   * length once there), a header no record of this session has, or a whole record.
   */
  static Verdict verdict(byte[] bytes, int length, boolean tls13) {
    if (length < 3) {
      return Verdict.WAITS;
    }
    int type = bytes[0] & 0xff;
    if (bytes[1] != 3 || bytes[2] != 3 || type < 20 || type > 23 || (tls13 && type == 22)) {
      return Verdict.REFUSED;
    }
    if (length < 5) {
      return Verdict.WAITS;
    }
    int body = (bytes[3] & 0xff) << 8 | (bytes[4] & 0xff);
    if (body > (tls13 ? TLS13_LIMIT : TLS12_LIMIT)) {
      return Verdict.REFUSED;
    }
    return length < 5 + body ? Verdict.WAITS : Verdict.WHOLE;
  }

  @FuzzTest(maxDuration = "3m")
  void waitsOnlyForAPlausibleRecord(FuzzedDataProvider data) throws Exception {
    boolean tls13 = data.consumeBoolean();
    List<byte[]> chunks = new ArrayList<>();
    List<Boolean> nonBlocking = new ArrayList<>();
    int total = 0;
    int count = data.consumeInt(1, 5);
    for (int i = 0; i < count && total < MAX_BYTES; i++) {
      byte[] chunk = chunk(data, tls13, MAX_BYTES - total);
      chunks.add(chunk);
      nonBlocking.add(data.consumeBoolean());
      total += chunk.length;
    }
    boolean endsSending = data.consumeBoolean();

    // Jazzer's SSRF detector would take the loopback connection for a finding
    try (SilentCloseable loopbackOnly =
            BugDetectors.allowNetworkConnections(
                (host, port) -> host.equals("127.0.0.1") || host.equals("localhost"));
        ServerSocket listener = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
        Socket plain = Socket.create()) {
      plain.connect(listener.getLocalSocketAddress());
      try (java.net.Socket raw = listener.accept()) {
        Future<?> peer =
            CompletableFuture.runAsync(
                () -> {
                  try {
                    SSLSocket ssl =
                        (SSLSocket) JDK_SERVER.getSocketFactory().createSocket(raw, null, false);
                    ssl.setUseClientMode(false);
                    ssl.startHandshake();
                  } catch (IOException e) {
                    throw new RuntimeException(e);
                  }
                });
        Socket tls = CLIENT.withProtocols(tls13 ? "TLSv1.3" : "TLSv1.2").wrap(plain, "localhost");
        peer.get(20, SECONDS);
        ByteArrayOutputStream sent = new ByteArrayOutputStream();
        StringBuilder log = new StringBuilder(tls13 ? "TLSv1.3\n" : "TLSv1.2\n");
        for (int i = 0; i < chunks.size(); i++) {
          raw.getOutputStream().write(chunks.get(i));
          sent.write(chunks.get(i));
          boolean last = i == chunks.size() - 1;
          if (last && endsSending) {
            raw.shutdownOutput();
          }
          log.append("write ")
              .append(
                  HexFormat.of().formatHex(chunks.get(i), 0, Math.min(16, chunks.get(i).length)))
              .append(chunks.get(i).length > 16 ? "… (" + chunks.get(i).length + ")" : "")
              .append(last && endsSending ? ", end" : "")
              .append(nonBlocking.get(i) ? "; recv non-blocking\n" : "; recv with a timeout\n");
          Verdict verdict = verdict(sent.toByteArray(), sent.size(), tls13);
          boolean mayWait = verdict == Verdict.WAITS && !(last && endsSending);
          Throwable failure = recv(tls, nonBlocking.get(i), mayWait, log);
          if (failure == null) {
            assertThat(mayWait).as("waited where the reference says %s: %s", verdict, log).isTrue();
            continue;
          }
          if (failure instanceof Ended) {
            assertThat(last && endsSending).as("ended before the peer's end: %s", log).isTrue();
            assertThat(verdict).as("ended on %s: %s", verdict, log).isEqualTo(Verdict.WAITS);
            return;
          }
          assertThat(failure)
              .as("%s: %s", verdict, log)
              .isInstanceOf(TlsException.class)
              .hasMessageStartingWith("recv from ");
          if (verdict == Verdict.WAITS) {
            // only the end of the peer's sending may fail a plausible beginning (truncated)
            assertThat(last && endsSending)
                .as("refused what the reference waits for: %s\n%s", failure, log)
                .isTrue();
          }
          if (verdict == Verdict.REFUSED) {
            assertThat(failure.getMessage())
                .as(log.toString())
                .containsAnyOf("wrong version number", "bad record type", "record overflow");
          }
          Throwable again = recv(tls, nonBlocking.get(i), false, log);
          assertThat(again).as("said again: %s", log).isInstanceOf(TlsException.class);
          assertThat(again.getMessage()).as(log.toString()).isEqualTo(failure.getMessage());
          return;
        }
      }
    }
  }

  /** A receive's end other than a failure: 0, the end of the input. */
  private static final class Ended extends Exception {}

  /**
   * One receive: null if it waited (as it may), else what it failed with, or {@link Ended}. One
   * that waited where waiting is not expected tries again a few times, for bytes still on their way
   * through loopback (the timeout is short).
   */
  private static Throwable recv(Socket tls, boolean nonBlocking, boolean mayWait, StringBuilder log)
      throws Exception {
    if (nonBlocking) {
      tls.setBlocking(false);
    } else {
      tls.setTimeout(WAIT);
    }
    for (int attempt = 0; attempt < (mayWait ? 1 : 20); attempt++) {
      try {
        byte[] got = tls.recv(100);
        assertThat(got).as("plaintext from the fuzzer's bytes: %s", log).isEmpty();
        return new Ended();
      } catch (WouldBlockException | SocketTimeoutException waited) {
        if (nonBlocking) {
          Thread.sleep(10);
        }
      } catch (IOException | RuntimeException failed) {
        return failed;
      }
    }
    return null;
  }

  /** Bytes: as given, a header of kinds that matter (or not), or a run of one byte. */
  private static byte[] chunk(FuzzedDataProvider data, boolean tls13, int room) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    int pieces = data.consumeInt(1, 4);
    for (int p = 0; p < pieces && data.remainingBytes() > 0; p++) {
      switch (data.consumeInt(0, 3)) {
        case 0 -> out.writeBytes(data.consumeBytes(data.consumeInt(1, 32)));
        case 1, 2 -> {
          byte[] header = {
            (byte) (data.consumeBoolean() ? data.consumeInt(20, 23) : data.consumeInt(0, 255)),
            (byte) (data.consumeInt(0, 7) == 0 ? data.consumeInt(0, 255) : 3),
            (byte) (data.consumeInt(0, 7) == 0 ? data.consumeInt(0, 255) : 3),
            0,
            0
          };
          int length =
              switch (data.consumeInt(0, 3)) {
                case 0 -> data.consumeInt(0, 64);
                case 1 -> (tls13 ? TLS13_LIMIT : TLS12_LIMIT) + data.consumeInt(-2, 2);
                case 2 -> data.consumeInt(0, 65535);
                default -> (data.consumeBoolean() ? TLS13_LIMIT : TLS12_LIMIT) + 1;
              };
          header[3] = (byte) (length >> 8);
          header[4] = (byte) length;
          out.write(header, 0, data.consumeInt(1, 5));
        }
        default -> {
          int n = data.consumeBoolean() ? data.consumeInt(1, 64) : data.consumeInt(1, 20_000);
          byte[] run = new byte[n];
          java.util.Arrays.fill(run, data.consumeByte());
          out.writeBytes(run);
        }
      }
    }
    byte[] bytes = out.toByteArray();
    return bytes.length <= room ? bytes : java.util.Arrays.copyOf(bytes, room);
  }
}
