package io.jsock.cli;

import io.jsock.Socket;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.concurrent.atomic.AtomicReferenceArray;

/**
 * One worker of the {@code connect} scenario: connect, send one message, check its echo, close,
 * again. The round trip recorded is the whole cycle. The client closes first, so the TIME_WAIT
 * state is on its side (Linux reuses such ports for loopback connections, tcp_tw_reuse=2).
 */
final class ConnectLoop {
  private ConnectLoop() {}

  static void run(
      LoadTarget target,
      int index,
      LoadPlan plan,
      EchoPattern pattern,
      LoadRun run,
      AtomicReferenceArray<Socket> open)
      throws IOException {
    int size = plan.size();
    ByteBuffer out = pattern.view();
    ByteBuffer expected = pattern.view();
    ByteBuffer in = ByteBuffer.allocateDirect(size);
    long round = 0;
    while (!run.isStopping()) {
      long seed = LoadPlan.seedOf(index) + round++; // each connection's bytes differ
      long start = System.nanoTime();
      try (Socket socket = target.connect(index)) {
        open.set(index, socket);
        socket.sendAll(pattern.window(out, seed, 0, size));
        in.clear();
        while (in.hasRemaining()) {
          if (socket.recvInto(in) == 0) {
            throw new IOException(
                "recv from "
                    + Diagnostics.where(plan.server())
                    + ": the server closed the connection after "
                    + in.position()
                    + " of "
                    + size
                    + " bytes");
          }
        }
        in.flip();
        int wrong = pattern.mismatch(in, expected, seed, 0);
        if (wrong >= 0) {
          throw EchoMismatchException.inStream(
              index, wrong, pattern.at(seed, wrong), in.get(wrong), plan.server());
        }
      }
      run.latency(System.nanoTime() - start);
      run.completed(1, size);
    }
  }
}
