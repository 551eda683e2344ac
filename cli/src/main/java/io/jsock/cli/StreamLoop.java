package io.jsock.cli;

import io.jsock.Socket;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.Arrays;

/**
 * One connection of the {@code pingpong} and {@code pipeline} scenarios: K messages in flight (1
 * for pingpong); each echo is checked byte for byte and its round trip recorded, and each message
 * completed is replaced by a new one, sent together after each receive. When the run stops, the
 * messages in flight are received and checked before the loop ends.
 *
 * <p>The buffers are made once per connection: the loop allocates nothing.
 */
final class StreamLoop {
  private StreamLoop() {}

  static void run(Socket socket, int index, LoadPlan plan, EchoPattern pattern, LoadRun run)
      throws IOException {
    int size = plan.size();
    int inFlight = plan.pipeline();
    long seed = LoadPlan.seedOf(index);
    ByteBuffer out = pattern.view();
    ByteBuffer expected = pattern.view();
    // Never more than inFlight * size bytes are on their way back, so one receive fits them all.
    ByteBuffer in = ByteBuffer.allocateDirect(size * inFlight);
    long[] sentAt = new long[inFlight]; // message m's send time is in slot m % inFlight
    long sent = inFlight;
    long done = 0;
    long received = 0;
    Arrays.fill(sentAt, System.nanoTime());
    socket.sendAll(pattern.window(out, seed, 0, size * inFlight));
    // Once the run stops, the messages still in flight are received and checked too, so that the
    // connection ends with nothing unread (a clean close, not a reset) and no byte goes unchecked.
    while (!run.isStopping() || done < sent) {
      int n = pattern.receiveChecked(socket, in, expected, seed, received, index, plan.server());
      received += n;
      long now = System.nanoTime();
      long complete = received / size;
      int fresh = (int) (complete - done);
      for (; done < complete; done++) {
        run.latency(now - sentAt[(int) (done % inFlight)]);
      }
      run.completed(fresh, n);
      if (fresh > 0 && !run.isStopping()) {
        for (int i = 0; i < fresh; i++) {
          sentAt[(int) ((sent + i) % inFlight)] = now;
        }
        socket.sendAll(pattern.window(out, seed, sent * size, fresh * size));
        sent += fresh;
      }
    }
  }
}
