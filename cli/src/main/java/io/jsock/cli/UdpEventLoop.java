package io.jsock.cli;

import static io.jsock.Event.EVENT_READ;

import io.jsock.Event;
import io.jsock.Ready;
import io.jsock.Socket;
import io.jsock.SocketSelector;
import io.jsock.WouldBlockException;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;

/**
 * The {@code udp} scenario for a share of the sockets, on one platform thread with a {@link
 * SocketSelector}, as {@link StreamEventLoop} for the stream scenarios: each socket has one
 * datagram of S bytes in flight (an 8-byte sequence number, then pattern bytes chosen by it); an
 * echo checked and on time sends the next, an echo that has not come within {@code --loss-timeout}
 * counts as lost and the next is sent, and a late one (an older sequence number) is checked and
 * skipped; a datagram echoed twice fails the run, as a wrong byte does.
 */
final class UdpEventLoop implements Runnable {
  /** The sequence number that starts every datagram. */
  static final int HEADER = Long.BYTES;

  private static final Set<Event> READ = EnumSet.of(EVENT_READ);

  /** How long a select waits at most, so that the loop sees the stop and the losses in time. */
  private static final Duration TICK = Duration.ofMillis(10);

  private final LoopShare share;

  UdpEventLoop(LoopShare share) {
    this.share = share;
  }

  /** One socket's progress. */
  private static final class Flow {
    final Socket socket;
    final int index;
    final long seed;
    long sequence; // of the datagram in flight
    long echoed; // bit i: datagram sequence - i was echoed (to tell a second echo from a late one)
    long sentAt;
    boolean ended;

    Flow(Socket socket, int index) {
      this.socket = socket;
      this.index = index;
      this.seed = LoadPlan.seedOf(index);
    }
  }

  @Override
  public void run() {
    ByteBuffer out = ByteBuffer.allocateDirect(share.plan().size());
    // room for any datagram, so that an echo longer than sent is said as a wrong echo, as a shorter
    // one is, where one that did not fit failed its socket alone (EMSGSIZE) and the run went on
    ByteBuffer in = ByteBuffer.allocateDirect(BenchCommand.MAX_DATAGRAM);
    ByteBuffer view = share.pattern().view();
    long lossNanos = share.plan().lossTimeout().toNanos();
    List<Flow> flows = new ArrayList<>();
    try (SocketSelector selector = SocketSelector.open()) {
      for (int i = share.first(); i < share.open().length(); i += share.step()) {
        Flow flow = new Flow(share.open().get(i), i);
        flows.add(flow);
        try {
          flow.socket.setBlocking(false);
          selector.register(flow.socket, READ, flow);
          sendNext(flow, out, view);
        } catch (IOException e) {
          fail(selector, flow, e);
        }
      }
      long lastScan = System.nanoTime();
      while (!share.run().isStopping()) {
        for (Ready ready : selector.select(TICK)) {
          Flow flow = (Flow) ready.key().data();
          try {
            receive(flow, in, view, out);
          } catch (IOException e) {
            fail(selector, flow, e);
          }
        }
        long now = System.nanoTime();
        if (now - lastScan >= TICK.toNanos()) {
          lastScan = now;
          for (Flow flow : flows) {
            if (!flow.ended && now - flow.sentAt >= lossNanos) {
              share.run().lost();
              try {
                sendNext(flow, out, view);
              } catch (IOException e) {
                fail(selector, flow, e);
              }
            }
          }
        }
      }
    } catch (IOException e) {
      share.run().error(e);
    }
  }

  /** Receives one datagram, checks it, and sends the next if it was the one in flight. */
  private void receive(Flow flow, ByteBuffer in, ByteBuffer view, ByteBuffer out)
      throws IOException {
    in.clear();
    try {
      flow.socket.recvInto(in);
    } catch (WouldBlockException spurious) {
      return;
    }
    in.flip();
    long behind = flow.sequence - check(in, flow, view);
    if (behind < Long.SIZE) {
      if ((flow.echoed & 1L << behind) != 0) {
        throw EchoMismatchException.inDatagram(
            flow.index, flow.sequence - behind, "echoed twice", share.plan().server());
      }
      flow.echoed |= 1L << behind;
    }
    if (behind == 0) {
      share.run().latency(System.nanoTime() - flow.sentAt);
      share.run().completed(1, share.plan().size());
      sendNext(flow, out, view);
    }
  }

  private void sendNext(Flow flow, ByteBuffer out, ByteBuffer view) throws IOException {
    int size = share.plan().size();
    flow.sequence++;
    flow.echoed <<= 1;
    out.clear()
        .putLong(flow.sequence)
        .put(share.pattern().window(view, flow.seed, flow.sequence * size, size - HEADER))
        .flip();
    flow.sentAt = System.nanoTime();
    try {
      flow.socket.send(out);
    } catch (WouldBlockException full) {
      // not sent: it counts as lost after the wait, as one dropped on the way would
    }
  }

  /** Checks one echoed datagram and returns its sequence number (this one's, or an older one's). */
  private long check(ByteBuffer in, Flow flow, ByteBuffer view) throws EchoMismatchException {
    InetSocketAddress server = share.plan().server();
    if (in.remaining() != share.plan().size()) {
      throw EchoMismatchException.inDatagram(
          flow.index,
          flow.sequence,
          "sent " + share.plan().size() + " bytes, received " + in.remaining(),
          server);
    }
    long echoed = in.getLong(0);
    if (echoed < 1 || echoed > flow.sequence) {
      throw EchoMismatchException.inDatagram(
          flow.index,
          flow.sequence,
          "received the sequence number " + echoed + ", never sent",
          server);
    }
    in.position(HEADER);
    int wrong = share.pattern().mismatch(in, view, flow.seed, echoed * share.plan().size());
    if (wrong >= 0) {
      throw EchoMismatchException.inDatagram(
          flow.index,
          echoed,
          String.format(
              "byte %d: sent 0x%02x, received 0x%02x",
              HEADER + wrong,
              share.pattern().at(flow.seed, echoed * share.plan().size() + wrong) & 0xFF,
              in.get(HEADER + wrong) & 0xFF),
          server);
    }
    return echoed;
  }

  private void fail(SocketSelector selector, Flow flow, IOException e) {
    flow.ended = true; // no more sends for the losses scan
    share.fail(selector, flow.socket, e);
  }
}
