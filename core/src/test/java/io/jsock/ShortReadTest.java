package io.jsock;

import static java.nio.charset.StandardCharsets.US_ASCII;
import static org.assertj.core.api.Assertions.assertThat;

import io.jsock.testing.Loopback;
import io.jsock.testing.Loopback.Pair;
import io.jsock.testing.Running;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.Arrays;
import java.util.Random;
import java.util.concurrent.Callable;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A receive whose last read came back short waits instead of reading again (internal {@code
 * PolledChannel.isKnownEmpty}) for the next edge, or, on a virtual thread, for the first edge of
 * the socket's registration when it has not waited before. These are the cases where that would
 * lose data or hang if it were wrong: the end of the stream arriving with the last bytes (its edge
 * comes before the read that consumes both), a stream of small writes racing the reader, and data
 * after an urgent mark. Each runs its receiver on a platform and on a virtual thread; each receive
 * has a timeout, so a lost wakeup fails as a {@link java.net.SocketTimeoutException}.
 */
@Timeout(120)
class ShortReadTest {
  private static final Duration LIMIT = Duration.ofSeconds(20);

  @ParameterizedTest(name = "virtual receiver: {0}")
  @ValueSource(booleans = {false, true})
  void theLastBytesAndTheEndOfTheStreamArrivingTogetherAreBothReceived(boolean virtual)
      throws Exception {
    Random random = new Random(7);
    for (int round = 0; round < 300; round++) {
      byte[] sent = new byte[1 + random.nextInt(3000)];
      random.nextBytes(sent);
      try (Pair pair = Loopback.pair(Family.AF_INET)) {
        pair.server().setTimeout(LIMIT);
        if (round % 2 == 0) {
          pair.server().recv(0); // nothing: the first receive below may find the data there
        }
        Thread sender =
            Thread.ofVirtual()
                .start(
                    () -> {
                      try {
                        pair.client().sendAll(sent);
                        pair.client().close();
                      } catch (IOException e) {
                        throw new IllegalStateException(e);
                      }
                    });

        assertThat(on(virtual, () -> receiveUntilEnd(pair.server())))
            .as("round %d", round)
            .isEqualTo(sent);
        sender.join();
      }
    }
  }

  /**
   * An accepted connection's first receive on a virtual thread waits before it reads (nothing has
   * been read yet, as after a short read): the bytes, or the end of the stream, that came before
   * the accept, between the accept and the receive, or while it waits must all be reported.
   */
  @ParameterizedTest(name = "virtual receiver: {0}")
  @ValueSource(booleans = {false, true})
  void anAcceptedConnectionsFirstBytesAreReceivedWhenEverTheyCame(boolean virtual)
      throws Exception {
    Random random = new Random(17);
    try (Socket listener = Sockets.createServer(new InetSocketAddress("127.0.0.1", 0))) {
      for (int round = 0; round < 120; round++) {
        byte[] sent = new byte[round % 10 == 0 ? 0 : 1 + random.nextInt(3000)];
        random.nextBytes(sent);
        int when = round % 3; // 0: before the accept; 1: before the receive; 2: while it waits
        try (Socket client = Sockets.createConnection(listener.getSockName())) {
          Runnable send =
              () -> {
                try {
                  client.sendAll(sent);
                  client.shutdown(Shutdown.SHUT_WR);
                } catch (IOException e) {
                  throw new IllegalStateException(e);
                }
              };
          if (when == 0) {
            send.run();
          }
          try (Socket server = listener.accept().conn()) {
            server.setTimeout(LIMIT);
            if (when == 1) {
              send.run();
            }
            Thread sender = Thread.ofVirtual().unstarted(send);
            byte[] received =
                on(
                    virtual,
                    () -> {
                      if (when == 2) {
                        sender.start();
                      }
                      return receiveUntilEnd(server);
                    });
            assertThat(received).as("round %d, sent %d", round, when).isEqualTo(sent);
            if (when == 2) {
              sender.join();
            }
          }
        }
      }
    }
  }

  @ParameterizedTest(name = "virtual receiver: {0}")
  @ValueSource(booleans = {false, true})
  void aStreamOfSmallWritesArrivesWholeAndInOrder(boolean virtual) throws Exception {
    byte[] sent = new byte[4 << 20];
    new Random(11).nextBytes(sent);
    try (Pair pair = Loopback.pair(Family.AF_INET6)) {
      pair.server().setTimeout(LIMIT);
      Thread sender =
          Thread.ofVirtual()
              .start(
                  () -> {
                    Random sizes = new Random(13);
                    try {
                      for (int at = 0; at < sent.length; ) {
                        int n = Math.min(sent.length - at, 1 + sizes.nextInt(700));
                        pair.client().sendAll(Arrays.copyOfRange(sent, at, at + n));
                        at += n;
                        if (sizes.nextInt(64) == 0) {
                          Thread.sleep(1); // let the reader drain the queue and wait
                        }
                      }
                      pair.client().shutdown(Shutdown.SHUT_WR);
                    } catch (IOException | InterruptedException e) {
                      throw new IllegalStateException(e);
                    }
                  });

      assertThat(on(virtual, () -> receiveUntilEnd(pair.server()))).isEqualTo(sent);
      sender.join();
    }
  }

  @ParameterizedTest(name = "virtual receiver: {0}")
  @ValueSource(booleans = {false, true})
  @Timeout(60)
  void dataAfterAnUrgentMarkIsReceivedWithoutAnotherEdge(boolean virtual) throws Exception {
    try (Socket listener = Sockets.createServer(new InetSocketAddress("127.0.0.1", 0));
        java.net.Socket peer = new java.net.Socket()) {
      peer.connect(listener.getSockName());
      try (Socket server = listener.accept().conn()) {
        OutputStream out = peer.getOutputStream();
        Thread sender =
            Thread.ofPlatform()
                .start(
                    () -> {
                      try {
                        for (int round = 0; round < 100; round++) {
                          Thread.sleep(2); // the receiver is parked when the burst comes
                          out.write("abc".getBytes(US_ASCII));
                          peer.sendUrgentData('U'); // a receive stops at the mark: a short read
                          out.write("def".getBytes(US_ASCII));
                        }
                      } catch (IOException | InterruptedException e) {
                        throw new IllegalStateException(e);
                      }
                    });
        // in blocking mode: a missed edge hangs a receive here, and the test times out
        String received =
            on(
                virtual,
                () -> {
                  ByteArrayOutputStream bytes = new ByteArrayOutputStream();
                  while (bytes.toString(US_ASCII).replace("U", "").length() < 600) {
                    bytes.write(server.recv(8192));
                  }
                  return bytes.toString(US_ASCII);
                });
        sender.join();

        // Without SO_OOBINLINE the urgent byte leaves the stream, unless a newer mark came before
        // it was taken (Linux keeps one): then it stays inline.
        assertThat(received.replace("U", "")).isEqualTo("abcdef".repeat(100));
      }
    }
  }

  /**
   * Runs {@code receiver} on this (platform) thread, or on a virtual thread ({@link Running}, which
   * fails the test if it has not finished within {@link Running#PROMPTLY}), and returns its result.
   */
  private static <T> T on(boolean virtual, Callable<T> receiver) throws Exception {
    return virtual ? Running.inVirtualThread(receiver).get() : receiver.call();
  }

  private static byte[] receiveUntilEnd(Socket socket) throws IOException {
    ByteArrayOutputStream received = new ByteArrayOutputStream();
    byte[] chunk;
    while ((chunk = socket.recv(8192)).length > 0) {
      received.write(chunk);
    }
    return received.toByteArray();
  }
}
