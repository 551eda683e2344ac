package io.jsock.cli;

import io.jsock.Socket;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * One connection of the {@code bulk} scenario: a virtual thread streams W-byte writes while this
 * one reads the echo back and checks every byte; a "message" is W bytes echoed. When the run stops,
 * everything sent is read back and checked before the loop ends. A connection that fails is one
 * error, whether its writer's send or its reader's recv (or both) saw it.
 */
final class BulkLoop {
  private BulkLoop() {}

  static void run(Socket socket, int index, LoadPlan plan, EchoPattern pattern, LoadRun run)
      throws IOException {
    int writeSize = plan.writeSize();
    long seed = LoadPlan.seedOf(index);
    AtomicLong sent = new AtomicLong();
    // a reset or a close fails both the writer's send and the reader's recv: the first counts
    AtomicBoolean failed = new AtomicBoolean();
    Thread writer =
        Thread.ofVirtual()
            .name("jsock bench writer " + index)
            .start(
                () -> {
                  ByteBuffer out = pattern.view();
                  try {
                    boolean last;
                    do {
                      // The last write starts once the stop is seen, and each is counted before it
                      // is made, the last as negative: see the reader's loop.
                      last = run.isStopping();
                      long from = sent.get();
                      sent.set(last ? -(from + writeSize) : from + writeSize);
                      socket.sendAll(pattern.window(out, seed, from, writeSize));
                    } while (!last);
                  } catch (IOException e) {
                    if (failed.compareAndSet(false, true)) {
                      run.error(e);
                    }
                  }
                });
    ByteBuffer expected = pattern.view();
    ByteBuffer in = ByteBuffer.allocateDirect(writeSize);
    long received = 0;
    long chunks = 0;
    // Once the run stops, what the writer sent is received and checked to the end: until its last
    // write's echo has come. A recv entered before the stop is seen always has one more write
    // coming
    // (the last starts after the stop), and one after it only while counted bytes are missing or
    // the last is yet to be counted; the reader waited in a recv for bytes that never came (until
    // --timeout) when the writer ended, all its echoes received, while it was not looking.
    try {
      while (!run.isStopping() || !lastEchoed(sent.get(), received)) {
        int n = pattern.receiveChecked(socket, in, expected, seed, received, index, plan.server());
        received += n;
        long complete = received / writeSize;
        run.completed((int) (complete - chunks), n);
        chunks = complete;
      }
    } catch (IOException e) {
      // a wrong byte always stops the run; another failure the writer has counted is not counted
      if (e instanceof EchoMismatchException || failed.compareAndSet(false, true)) {
        throw e;
      }
    }
  }

  /** Whether the writer's last write is counted ({@code sent} negative) and all of it echoed. */
  private static boolean lastEchoed(long sent, long received) {
    return sent < 0 && received >= -sent;
  }
}
