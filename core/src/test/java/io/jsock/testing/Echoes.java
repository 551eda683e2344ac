package io.jsock.testing;

import io.jsock.Shutdown;
import io.jsock.Socket;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Random;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.FutureTask;

/**
 * The client's side of an echo check: send seeded random bytes while receiving the echo on the same
 * connection, and compare the SHA-256 of both directions.
 *
 * <pre>{@code
 * Echoes.Transfer t = Echoes.exchange(Sockets.createConnection(address), 42, 256 * 1024);
 * assertThat(t.received()).isEqualTo(t.sent());
 * }</pre>
 */
public final class Echoes {
  private static final int CHUNK = 16 * 1024;

  private Echoes() {}

  /**
   * What a connection carried: the SHA-256 (hex) and length of what was sent and of what came back.
   */
  public record Transfer(String sent, long sentBytes, String received, long receivedBytes) {
    /** Whether the echo came back whole and unchanged. */
    public boolean intact() {
      return sent.equals(received) && sentBytes == receivedBytes;
    }
  }

  /** {@link #exchange(Socket, long, int, Runnable)} without a pause. */
  public static Transfer exchange(Socket conn, long seed, int size) throws Exception {
    return exchange(conn, seed, size, () -> {});
  }

  /**
   * Sends {@code size} bytes generated from {@code seed} on {@code conn} from a second thread, then
   * shuts down the sending side; meanwhile receives on this thread until the end of the stream.
   * Closes the socket.
   *
   * @param halfway run by the sender after the first half is sent, before the rest (a test may wait
   *     there for an event, such as a server beginning to shut down)
   */
  public static Transfer exchange(Socket conn, long seed, int size, Runnable halfway)
      throws Exception {
    try (conn) {
      FutureTask<String> sending = new FutureTask<>(() -> send(conn, seed, size, halfway));
      Thread.ofVirtual().name("echo sender").start(sending);
      MessageDigest digest = sha256();
      byte[] buf = new byte[CHUNK];
      long received = 0;
      int n;
      try {
        while ((n = conn.recvInto(buf, 0)) > 0) {
          digest.update(buf, 0, n);
          received += n;
        }
      } catch (IOException e) {
        conn.close(); // ends the sender too, so that the failure is reported at once
        throw e;
      }
      String sent;
      try {
        sent = sending.get();
      } catch (ExecutionException e) {
        throw e.getCause() instanceof Exception cause ? cause : e;
      }
      return new Transfer(sent, size, hex(digest), received);
    }
  }

  /** The SHA-256 (hex) of the {@code size} bytes that {@code seed} generates. */
  public static String sha256Of(long seed, int size) {
    MessageDigest digest = sha256();
    Random random = new Random(seed);
    byte[] chunk = new byte[CHUNK];
    for (int left = size; left > 0; left -= CHUNK) {
      random.nextBytes(chunk);
      digest.update(chunk, 0, Math.min(CHUNK, left));
    }
    return hex(digest);
  }

  /** A fresh SHA-256 digest. */
  public static MessageDigest sha256() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new AssertionError(e);
    }
  }

  /** The digest's value in hex; resets the digest. */
  public static String hex(MessageDigest digest) {
    return HexFormat.of().formatHex(digest.digest());
  }

  private static String send(Socket conn, long seed, int size, Runnable halfway)
      throws IOException {
    MessageDigest digest = sha256();
    Random random = new Random(seed);
    byte[] chunk = new byte[CHUNK];
    boolean paused = false;
    for (int sent = 0; sent < size; ) {
      if (!paused && sent >= size / 2) {
        halfway.run();
        paused = true;
      }
      random.nextBytes(chunk);
      int n = Math.min(CHUNK, size - sent);
      digest.update(chunk, 0, n);
      conn.sendAll(ByteBuffer.wrap(chunk, 0, n));
      sent += n;
    }
    conn.shutdown(Shutdown.SHUT_WR);
    return hex(digest);
  }
}
