package io.jsock.cli;

import static io.jsock.Event.EVENT_READ;
import static io.jsock.Event.EVENT_WRITE;

import io.jsock.Event;
import io.jsock.Ready;
import io.jsock.Socket;
import io.jsock.SocketSelector;
import io.jsock.WouldBlockException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;

/**
 * The {@code pingpong} and {@code pipeline} scenarios for a share of the connections, on one
 * platform thread with a {@link SocketSelector}, as Python's {@code selectors} event loops: every
 * socket non-blocking, each ready one read once, its echo checked, its round trips recorded, and
 * the completed messages replaced by new ones sent at once. A send the socket cannot take whole
 * keeps its rest for {@link Event#EVENT_WRITE}.
 *
 * <p>Why not a virtual thread per connection, as the other scenarios: the load generator must not
 * be the bottleneck, and with few messages in flight per connection every echo costs its thread a
 * park and an unpark, where a loop pays one {@code epoll_wait} for all the sockets ready. Against
 * the C epoll server, virtual threads drove 0.79× (ping-pong) and 0.92× (pipelining) the rate of
 * Netty's client; a loop per CPU drives as much (README, "Load on any echo server").
 *
 * <p>When the run stops, the messages in flight are received and checked before the loop ends, so
 * that each connection ends with nothing unread and no byte unchecked, for as long as their bytes
 * keep coming (across a slow link, what the socket buffers hold takes seconds); a connection none
 * of whose bytes has come for {@code --timeout} since the run stopped is given up (the driver then
 * closes the sockets). As it ends, the loop tells the run how many messages each of its connections
 * had echoed, so that a report can show that every connection was served (the fewest).
 */
final class StreamEventLoop implements Runnable {
  private static final Set<Event> READ = EnumSet.of(EVENT_READ);
  private static final Set<Event> READ_WRITE = EnumSet.of(EVENT_READ, EVENT_WRITE);

  /** How often a waiting loop looks at the run's stop flag. */
  private static final Duration TICK = Duration.ofMillis(50);

  private final LoopShare share;

  StreamEventLoop(LoopShare share) {
    this.share = share;
  }

  /** One connection's progress. */
  private static final class Stream {
    final Socket socket;
    final int index;
    final long seed;
    final long[] sentAt; // message m's send time is in slot m % inFlight
    final ByteBuffer out; // a view of the pattern on the bytes not yet sent
    boolean writing; // watched for EVENT_WRITE: out has bytes the socket could not take
    boolean finished; // the run stopped and every message sent has come back
    boolean failed; // counted by the run, unregistered
    long sent;
    long done;
    long received;
    long lastByte; // once the run stops: when the last of its echoed bytes came

    Stream(Socket socket, int index, EchoPattern pattern, int inFlight) {
      this.socket = socket;
      this.index = index;
      this.seed = LoadPlan.seedOf(index);
      this.sentAt = new long[inFlight];
      this.out = pattern.view().limit(0);
    }
  }

  @Override
  public void run() {
    int size = share.plan().size();
    int inFlight = share.plan().pipeline();
    ByteBuffer in = ByteBuffer.allocateDirect(size * inFlight);
    ByteBuffer expected = share.pattern().view();
    List<Stream> streams = new ArrayList<>();
    try (SocketSelector selector = SocketSelector.open()) {
      int active = 0;
      for (int i = share.first(); i < share.open().length(); i += share.step()) {
        Stream stream = new Stream(share.open().get(i), i, share.pattern(), inFlight);
        streams.add(stream);
        try {
          stream.socket.setBlocking(false);
          selector.register(stream.socket, READ, stream);
          Arrays.fill(stream.sentAt, System.nanoTime());
          stream.sent = inFlight;
          share.pattern().window(stream.out, stream.seed, 0, size * inFlight);
          flush(selector, stream);
          active++;
        } catch (IOException e) {
          stream.failed = true;
          share.fail(selector, stream.socket, e);
        }
      }
      boolean draining = false;
      long lastLook = 0;
      while (active > 0) {
        if (share.run().isStopping()) {
          long now = System.nanoTime();
          if (!draining) {
            draining = true;
            lastLook = now;
            for (Stream stream : streams) {
              stream.lastByte = now;
            }
          } else if (now - lastLook >= TICK.toNanos()) {
            lastLook = now;
            active -= giveUpOnSilent(selector, streams, now);
            if (active == 0) {
              return;
            }
          }
        }
        for (Ready ready : selector.select(TICK)) {
          Stream stream = (Stream) ready.key().data();
          if (stream.finished) {
            // A finished stream stays registered (below); should its socket turn readable, with
            // an end of stream or bytes no message asked for, the selector lets it go.
            selector.unregister(stream.socket);
            continue;
          }
          try {
            if (ready.events().contains(EVENT_WRITE)) {
              flush(selector, stream);
            }
            if (ready.events().contains(EVENT_READ) && receive(selector, stream, in, expected)) {
              // Not unregistered: each unregister makes the selector poll once more (it must let
              // the socket's channel go before returning), and a poll while thousands of echoes
              // wait costs a thousand ready sockets' worth, which made 16,000 connections take
              // 50 s to finish. Nothing more is sent on it, so it stays quiet.
              stream.finished = true;
              active--;
            }
          } catch (IOException e) {
            stream.failed = true;
            share.fail(selector, stream.socket, e);
            active--;
          }
        }
      }
    } catch (IOException e) {
      share.run().error(e);
    } finally {
      for (Stream stream : streams) {
        share.run().echoesOfOneConnection(stream.done);
      }
    }
  }

  /**
   * Gives up on each stream still owed echoes none of whose bytes has come for {@code --timeout}
   * (the server kept them), counting it; returns how many.
   */
  private int giveUpOnSilent(SocketSelector selector, List<Stream> streams, long now) {
    long timeout = share.plan().timeout().toNanos();
    int given = 0;
    for (Stream stream : streams) {
      if (!stream.finished && !stream.failed && now - stream.lastByte >= timeout) {
        long missing = stream.sent - stream.done;
        stream.failed = true;
        share.fail(
            selector,
            stream.socket,
            new EchoTimeoutException(
                stream.index, missing == 1 ? "1 echo" : missing + " echoes", share.plan()));
        given++;
      }
    }
    return given;
  }

  /**
   * Receives what is there, checks it, records the messages it completes and sends their
   * replacements; returns whether the stream is finished (stopping, nothing left in flight).
   */
  private boolean receive(
      SocketSelector selector, Stream stream, ByteBuffer in, ByteBuffer expected)
      throws IOException {
    int size = share.plan().size();
    int inFlight = share.plan().pipeline();
    int n;
    try {
      n =
          share
              .pattern()
              .receiveChecked(
                  stream.socket,
                  in,
                  expected,
                  stream.seed,
                  stream.received,
                  stream.index,
                  share.plan().server());
    } catch (WouldBlockException spurious) {
      return false;
    }
    stream.received += n;
    long now = System.nanoTime();
    long complete = stream.received / size;
    int fresh = (int) (complete - stream.done);
    for (; stream.done < complete; stream.done++) {
      share.run().latency(now - stream.sentAt[(int) (stream.done % inFlight)]);
    }
    share.run().completed(fresh, n);
    if (share.run().isStopping()) {
      stream.lastByte = now;
      return stream.done == stream.sent;
    }
    if (fresh > 0) {
      for (int i = 0; i < fresh; i++) {
        stream.sentAt[(int) ((stream.sent + i) % inFlight)] = now;
      }
      int pending = stream.out.remaining();
      long from = stream.sent * size - pending;
      share.pattern().window(stream.out, stream.seed, from, pending + fresh * size);
      stream.sent += fresh;
      flush(selector, stream);
    }
    return false;
  }

  /** Sends what the stream has pending, watching for room to write while some is left. */
  private static void flush(SocketSelector selector, Stream stream) throws IOException {
    while (stream.out.hasRemaining()) {
      try {
        stream.socket.send(stream.out);
      } catch (WouldBlockException full) {
        break;
      }
    }
    boolean writing = stream.out.hasRemaining();
    if (writing != stream.writing) {
      selector.modify(stream.socket, writing ? READ_WRITE : READ, stream);
      stream.writing = writing;
    }
  }
}
