package io.jsock.cli;

import io.jsock.Socket;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.concurrent.atomic.AtomicLong;

/**
 * One connection of the {@code bulk} scenario: a virtual thread streams W-byte writes while this
 * one reads the echo back and checks every byte; a "message" is W bytes echoed. When the run stops,
 * everything sent is read back and checked before the loop ends.
 */
final class BulkLoop {
  private BulkLoop() {}

  static void run(Socket socket, int index, LoadPlan plan, EchoPattern pattern, LoadRun run)
      throws IOException {
    int writeSize = plan.writeSize();
    long seed = LoadPlan.seedOf(index);
    AtomicLong sent = new AtomicLong();
    Thread writer =
        Thread.ofVirtual()
            .name("jsock bench writer " + index)
            .start(
                () -> {
                  ByteBuffer out = pattern.view();
                  try {
                    while (!run.isStopping()) {
                      socket.sendAll(pattern.window(out, seed, sent.get(), writeSize));
                      sent.addAndGet(writeSize);
                    }
                  } catch (IOException e) {
                    run.error(e);
                  }
                });
    ByteBuffer expected = pattern.view();
    ByteBuffer in = ByteBuffer.allocateDirect(writeSize);
    long received = 0;
    long chunks = 0;
    // Once the run stops and the writer has ended, what it sent is received and checked to the end.
    while (!run.isStopping() || writer.isAlive() || received < sent.get()) {
      int n = pattern.receiveChecked(socket, in, expected, seed, received, index, plan.server());
      received += n;
      long complete = received / writeSize;
      run.completed((int) (complete - chunks), n);
      chunks = complete;
    }
  }
}
