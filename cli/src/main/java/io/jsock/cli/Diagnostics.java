package io.jsock.cli;

import io.jsock.Family;
import io.jsock.Sockets;
import java.net.Inet6Address;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.util.concurrent.atomic.AtomicLong;

/**
 * What {@code -v}, {@code -vv} and {@code -x} show on stderr: connection events at {@code -v}, byte
 * counts when a connection closes at {@code -vv}, and every chunk of traffic as a hex dump with
 * {@code -x}. Data itself only ever goes to stdout.
 */
final class Diagnostics {
  private final Lines err;
  private final int verbosity;
  private final HexDump hex;

  Diagnostics(Lines err, int verbosity, boolean hexDump) {
    this.err = err;
    this.verbosity = verbosity;
    this.hex = hexDump ? new HexDump(err) : null;
  }

  /** A line shown with {@code -v}. */
  void event(String text) {
    if (verbosity >= 1) {
      err.line(text);
    }
  }

  /** A line shown always: a warning, or what a person needs to go on (the port chosen). */
  void say(String text) {
    err.line(text);
  }

  /** The traffic of one connection with the peer at {@code peer}. */
  Traffic traffic(String peer) {
    return new Traffic(peer);
  }

  /** {@code 127.0.0.1:5000}, {@code [::1]:5000}, or an AF_UNIX path. */
  static String where(SocketAddress address) {
    return switch (address) {
      case InetSocketAddress inet when inet.getAddress() instanceof Inet6Address v6 ->
          "[" + Sockets.inetNtop(Family.AF_INET6, v6.getAddress()) + "]:" + inet.getPort();
      case InetSocketAddress inet when inet.getAddress() != null ->
          inet.getAddress().getHostAddress() + ":" + inet.getPort();
      case InetSocketAddress inet -> inet.getHostString() + ":" + inet.getPort();
      case UnixDomainSocketAddress unix ->
          unix.getPath().toString().isEmpty() ? "an unnamed AF_UNIX socket" : unix.getPath() + "";
      default -> String.valueOf(address);
    };
  }

  /** Counts and dumps the chunks of one connection. Thread-safe: one thread per direction. */
  final class Traffic {
    private final String peer;
    private final AtomicLong sent = new AtomicLong();
    private final AtomicLong received = new AtomicLong();
    private volatile boolean failed;

    private Traffic(String peer) {
      this.peer = peer;
    }

    String peer() {
      return peer;
    }

    /** Notes a chunk about to be sent (position to limit, left unchanged). */
    void sending(ByteBuffer chunk) {
      sent.addAndGet(chunk.remaining());
      if (hex != null) {
        hex.dump("> " + chunk.remaining() + " bytes to " + peer, chunk);
      }
    }

    /** Notes a chunk just received (position to limit, left unchanged). */
    void received(ByteBuffer chunk) {
      received.addAndGet(chunk.remaining());
      if (hex != null) {
        hex.dump("< " + chunk.remaining() + " bytes from " + peer, chunk);
      }
    }

    /**
     * Notes that the connection failed (a reset, a refusal, a timeout): its error is said instead
     * of the closing line, as ncat says only {@code Connection reset by peer.}
     */
    void failed() {
      failed = true;
    }

    /**
     * Says that the connection closed: {@code -v} a line, {@code -vv} with the byte counts; nothing
     * if it {@link #failed}.
     */
    void closed() {
      if (failed) {
        return;
      }
      if (verbosity >= 2) {
        err.line(
            "closed "
                + peer
                + ": "
                + sent.get()
                + " bytes sent, "
                + received.get()
                + " bytes received");
      } else {
        event("closed " + peer);
      }
    }
  }
}
