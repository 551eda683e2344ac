package io.jsock.cli;

import io.jsock.Socket;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;

/**
 * One socket of the {@code udp} scenario: a datagram of S bytes (an 8-byte sequence number, then
 * pattern bytes chosen by it), one in flight; an echo that does not come within the wait counts as
 * lost, and a late one (an older sequence number) is checked and skipped.
 */
final class UdpLoop {
  /** The sequence number that starts every datagram. */
  static final int HEADER = Long.BYTES;

  private UdpLoop() {}

  static void run(Socket socket, int index, LoadPlan plan, EchoPattern pattern, LoadRun run)
      throws IOException {
    int size = plan.size();
    long seed = LoadPlan.seedOf(index);
    ByteBuffer view = pattern.view();
    ByteBuffer out = ByteBuffer.allocateDirect(size);
    ByteBuffer in = ByteBuffer.allocateDirect(size);
    long sequence = 0;
    while (!run.isStopping()) {
      sequence++;
      out.clear().putLong(sequence).put(pattern.window(view, seed, sequence * size, size - HEADER));
      out.flip();
      long start = System.nanoTime();
      socket.send(out);
      while (!run.isStopping()) {
        in.clear();
        try {
          socket.recvInto(in);
        } catch (SocketTimeoutException e) {
          run.lost();
          break;
        }
        in.flip();
        long echoed = check(in, index, sequence, seed, plan, pattern, view);
        if (echoed == sequence) {
          run.latency(System.nanoTime() - start);
          run.completed(1, size);
          break;
        }
      }
    }
  }

  /** Checks one echoed datagram and returns its sequence number (this one's, or an older one's). */
  private static long check(
      ByteBuffer in,
      int index,
      long sequence,
      long seed,
      LoadPlan plan,
      EchoPattern pattern,
      ByteBuffer view)
      throws EchoMismatchException {
    InetSocketAddress server = plan.server();
    if (in.remaining() != plan.size()) {
      throw EchoMismatchException.inDatagram(
          index, sequence, "sent " + plan.size() + " bytes, received " + in.remaining(), server);
    }
    long echoed = in.getLong(0);
    if (echoed < 1 || echoed > sequence) {
      throw EchoMismatchException.inDatagram(
          index, sequence, "received the sequence number " + echoed + ", never sent", server);
    }
    in.position(HEADER);
    int wrong = pattern.mismatch(in, view, seed, echoed * plan.size());
    if (wrong >= 0) {
      throw EchoMismatchException.inDatagram(
          index,
          echoed,
          String.format(
              "byte %d: sent 0x%02x, received 0x%02x",
              HEADER + wrong,
              pattern.at(seed, echoed * plan.size() + wrong) & 0xFF,
              in.get(HEADER + wrong) & 0xFF),
          server);
    }
    return echoed;
  }
}
