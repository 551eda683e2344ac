package io.jsock.cli;

import io.jsock.ConnectionTimedOutException;
import io.jsock.Shutdown;
import io.jsock.Socket;
import io.jsock.tls.Tls;
import io.jsock.tls.TlsContext;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The clients of {@code jsock listen -k}, served at once, one virtual thread each: what each client
 * sends goes to stdout in whole chunks (a chunk from one client is never cut by another's), and
 * stdin is sent to every client connected at the time, as {@code ncat -k} does; as there, stdin is
 * read only while a client is connected, so what it gives while nobody is (before the first client,
 * or between two) goes to the next client to come; a read that the last client left during is held
 * for the next (one chunk: the rest waits in stdin, unread). When stdin ends, every client is
 * half-closed (unless {@code --no-shutdown}), and so is any client that comes later. A client that
 * fails, or stops reading while a broadcast waits on it, is closed; the others go on. With
 * --send-only, stdin's end ends the listener too, as {@code ncat -k --send-only}. A client's data
 * that finds stdout's reader gone ends the listener, and so does one that stdout cannot take
 * ({@link #stdoutFailure}): stdout is every client's, not the client's own.
 */
final class Clients {
  private record Member(Socket conn, Diagnostics.Traffic traffic) {}

  private final StandardStreams std;
  private final Diagnostics diagnostics;
  private final BridgeOptions options;
  private final TlsContext tls; // null: no TLS
  private final Runnable outGone;
  private final AtomicInteger active = new AtomicInteger();
  private volatile IOException stdoutFailure;
  private volatile boolean sentAll; // --send-only: stdin has ended, every client half-closed

  // Guarded by this: who receives broadcasts (stdin is read only while someone does, as ncat -k
  // pays attention to stdin only while a client is connected), and whether stdin has ended.
  private final List<Member> members = new ArrayList<>();
  private boolean stdinEnded;

  /**
   * {@code outGone} runs when a client's data finds that stdout's reader has gone away, or that
   * stdout cannot be written ({@link #stdoutFailure} then says why), or when --send-only has sent
   * all of stdin ({@link #sentAll}).
   */
  Clients(
      StandardStreams std,
      Diagnostics diagnostics,
      BridgeOptions options,
      TlsContext tls,
      Runnable outGone) {
    this.std = std;
    this.diagnostics = diagnostics;
    this.options = options;
    this.tls = tls;
    this.outGone = outGone;
  }

  /** Starts reading stdin for the broadcasts (or, with --recv-only, marks it ended at once). */
  void start() {
    if (options.recvOnly) {
      synchronized (this) {
        stdinEnded = true;
      }
      return;
    }
    Thread.ofPlatform().daemon().name("jsock stdin").start(this::broadcastStdin);
  }

  /**
   * Takes a place for a client just accepted; false if {@code limit} clients are served already.
   */
  boolean reserve(int limit) {
    if (active.incrementAndGet() > limit) {
      active.decrementAndGet();
      return false;
    }
    return true;
  }

  /** Serves a client, on a virtual thread of its own, after {@link #reserve}. */
  void serve(Socket accepted, String peer) {
    Thread.ofVirtual().name("jsock client " + peer).start(() -> bridge(accepted, peer));
  }

  private void bridge(Socket accepted, String peer) {
    Diagnostics.Traffic traffic = diagnostics.traffic(peer);
    Socket conn = accepted;
    Member member = null;
    try {
      if (tls != null) {
        conn = tls.wrap(accepted);
        diagnostics.event(peer + ": " + ConnectCommand.describeAccepted(Tls.session(conn)));
      }
      conn.setTimeout(options.idleTimeout);
      member = new Member(conn, traffic);
      join(member);
      diagnostics.event("accepted " + peer); // said once broadcasts reach it
      receive(member);
    } catch (IOException | RuntimeException e) {
      if (member != null && idleTimedOut(e)) {
        diagnostics.event(
            "closing "
                + peer
                + ": sent nothing for "
                + Durations.format(options.idleTimeout)
                + " (-i)");
      } else if (member == null || leaveFailed(member)) { // else a broadcast dropped it, and said
        // why; without a member, the TLS handshake's own bound may have run out (-i not yet set)
        traffic.failed();
        diagnostics.say(peer + ": " + e.getMessage());
      }
    } finally {
      leave(member);
      closeQuietly(conn);
      traffic.closed();
      active.decrementAndGet();
    }
  }

  private void receive(Member member) throws IOException {
    // freed as the client's receiving ends, not when a collection finds it; only this thread uses
    // it
    try (Arena arena = Arena.ofConfined()) {
      ByteBuffer chunk = arena.allocate(StandardStreams.CHUNK).asByteBuffer();
      while (true) {
        chunk.clear();
        if (member.conn().recvInto(chunk) == 0) {
          if (options.sendOnly) {
            awaitLeaving(member); // its end of file ends nothing: stdin still goes to it, as ncat's
          }
          return;
        }
        chunk.flip();
        member.traffic().received(chunk);
        if (!options.sendOnly && !writeOut(chunk)) {
          outGone.run(); // nobody reads what would come, or it cannot be written: listen is done
          return;
        }
      }
    }
  }

  /** Writes to stdout; false once its reader has gone or a write failed (the first kept). */
  private boolean writeOut(ByteBuffer chunk) {
    try {
      return std.write(chunk);
    } catch (IOException e) {
      if (stdoutFailure == null) {
        stdoutFailure = e;
      }
      return false;
    }
  }

  /** Why stdout could not be written (not its reader gone), or null. */
  IOException stdoutFailure() {
    return stdoutFailure;
  }

  private synchronized void join(Member member) {
    members.add(member);
    notifyAll(); // wakes awaitAMember
    if (stdinEnded) {
      endOutput(member);
    }
  }

  /**
   * Takes a member out of the broadcast; true if this call did, so that of a failing broadcast and
   * the member's own thread, only the one that takes it out says why.
   */
  private synchronized boolean leave(Member member) {
    boolean left = member != null && members.remove(member);
    if (left) {
      notifyAll(); // wakes awaitLeaving
    }
    return left;
  }

  /**
   * With --send-only, holds a client that has ended its side until stdin has ended or a broadcast
   * to it failed: the listener is then done, or the client gone.
   */
  private synchronized void awaitLeaving(Member member) {
    try {
      while (!stdinEnded && members.contains(member)) {
        wait();
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /**
   * {@link #leave} for a member that failed, noted as it leaves: its own thread, finding it gone,
   * then says no closing line after the error the broadcast said.
   */
  private synchronized boolean leaveFailed(Member member) {
    if (!leave(member)) {
      return false;
    }
    member.traffic().failed();
    return true;
  }

  /** Waits while no client is connected (until one joins, or the process ends). */
  private synchronized void awaitAMember() throws InterruptedException {
    while (members.isEmpty()) {
      wait();
    }
  }

  /** Who receives broadcasts, once someone does (see {@link #awaitAMember}). */
  private synchronized List<Member> membersOnceAny() throws InterruptedException {
    awaitAMember();
    return List.copyOf(members);
  }

  private void broadcastStdin() {
    ByteBuffer chunk = ByteBuffer.allocateDirect(StandardStreams.CHUNK);
    try {
      while (true) {
        awaitAMember(); // stdin stays unread while nobody is connected, as with ncat -k
        chunk.clear();
        if (std.read(chunk) < 0) {
          break;
        }
        chunk.flip();
        // the last client may have left during the read: the chunk is held for the next one
        for (Member member : membersOnceAny()) {
          send(member, chunk.duplicate());
        }
      }
    } catch (IOException e) {
      diagnostics.say(e.getMessage());
    } catch (InterruptedException e) {
      return; // the daemon thread is never interrupted: the process is ending
    }
    synchronized (this) {
      stdinEnded = true;
      members.forEach(this::endOutput);
      notifyAll(); // wakes awaitLeaving
    }
    if (options.sendOnly) { // nothing more to send, nothing to receive: done, as ncat -k
      sentAll = true;
      outGone.run();
    }
  }

  /** True once --send-only has sent all of stdin: the listener is done, with exit code 0. */
  boolean sentAll() {
    return sentAll;
  }

  private void send(Member member, ByteBuffer chunk) {
    try {
      member.traffic().sending(chunk);
      member.conn().sendAll(chunk);
    } catch (IOException e) {
      if (idleTimedOut(e)) {
        if (leave(member)) {
          diagnostics.event(
              "closing "
                  + member.traffic().peer()
                  + ": did not take a broadcast within "
                  + Durations.format(options.idleTimeout)
                  + " (-i)");
        }
      } else if (leaveFailed(member)) { // else it had left on its own, and its thread closed it
        diagnostics.say(member.traffic().peer() + ": " + e.getMessage());
      }
      closeQuietly(member.conn());
    }
  }

  /**
   * Whether {@code e} is -i's timeout running out, not the kernel giving up on a vanished peer
   * ({@link ConnectionTimedOutException}, errno 110), which is that client's failure.
   */
  private static boolean idleTimedOut(Exception e) {
    return e instanceof SocketTimeoutException && !(e instanceof ConnectionTimedOutException);
  }

  private void endOutput(Member member) {
    if (options.noShutdown) {
      return;
    }
    try {
      member.conn().shutdown(Shutdown.SHUT_WR);
    } catch (IOException e) {
      diagnostics.event(member.traffic().peer() + ": " + e.getMessage());
    }
  }

  private void closeQuietly(Socket conn) {
    try {
      conn.close();
    } catch (IOException e) {
      diagnostics.event("close: " + e.getMessage());
    }
  }
}
