package io.jsock.cli;

import io.jsock.ClosedSocketException;
import io.jsock.ConnectionRefusedException;
import io.jsock.Datagram;
import io.jsock.Family;
import io.jsock.Socket;
import io.jsock.SocketKind;
import java.io.IOException;
import java.net.SocketAddress;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The UDP side of {@code jsock relay}: each client address gets its own socket connected to the
 * target (a session), so replies find their way back; a session is forgotten after the idle timeout
 * without datagrams either way.
 */
final class UdpRelay {
  private static final int MAX_DATAGRAM = 65_535;

  private final Socket listener;
  private final RelayEndpoint target;
  private final Family family;
  private final Duration idle;
  private final int maxSessions;
  private final AccessList access;
  private final RelayLog log;
  private final Map<SocketAddress, Session> sessions = new ConcurrentHashMap<>();

  UdpRelay(
      Socket listener,
      RelayEndpoint target,
      Family family,
      Duration idle,
      int maxSessions,
      AccessList access,
      RelayLog log) {
    this.listener = listener;
    this.target = target;
    this.family = family;
    this.idle = idle;
    this.maxSessions = maxSessions;
    this.access = access;
    this.log = log;
  }

  /** Relays datagrams until the process ends. */
  void run() throws IOException {
    while (true) {
      Datagram datagram = listener.recvFrom(MAX_DATAGRAM);
      SocketAddress client = datagram.address();
      if (!access.permits(client)) {
        log.verbose(Diagnostics.where(client) + " dropped: not allowed by --allow/--deny");
        continue;
      }
      Session session = sessions.get(client);
      if (session != null) {
        if (session.forward(datagram.data())) {
          continue;
        }
        sessions.remove(client, session); // it ended as this datagram came: a new one takes it
      }
      if (sessions.size() >= maxSessions) {
        log.warn(Diagnostics.where(client) + " dropped: --max-connections " + maxSessions);
        continue;
      }
      session = open(client);
      if (session != null) {
        session.forward(datagram.data());
      }
    }
  }

  private Session open(SocketAddress client) {
    String host = target.host() != null ? target.host() : "localhost";
    try {
      Socket upstream =
          Endpoints.connect(host, target.port(), null, family, SocketKind.SOCK_DGRAM, null);
      upstream.setTimeout(idle);
      Session session = new Session(client, upstream);
      sessions.put(client, session);
      log.verbose(Diagnostics.where(client) + " session to " + target);
      Thread.ofVirtual().name("udp relay " + client).start(session::relayReplies);
      return session;
    } catch (IOException e) {
      log.warn(Diagnostics.where(client) + ": " + e.getMessage());
      return null;
    }
  }

  /**
   * One client address and its socket to the target. A session that ends is marked ended first,
   * then removed from the table, then closed: a datagram the receiving thread hands it from then on
   * is refused ({@link #forward} returns false) and opens a new session, instead of going out
   * through a socket whose replies no one reads any more, or into a closed one.
   */
  private final class Session {
    /** {@link #lastActivityNanos} once the session has ended. */
    private static final long ENDED = Long.MIN_VALUE;

    private final SocketAddress client;
    private final Socket upstream;
    private final String name;
    private final AtomicLong lastActivityNanos = new AtomicLong(System.nanoTime());

    Session(SocketAddress client, Socket upstream) {
      this.client = client;
      this.upstream = upstream;
      this.name = Diagnostics.where(client);
    }

    /** Sends {@code data} to the target; false, sending nothing, if the session has ended. */
    boolean forward(byte[] data) {
      long last;
      do {
        last = lastActivityNanos.get();
        if (last == ENDED) {
          return false;
        }
      } while (!lastActivityNanos.compareAndSet(last, System.nanoTime()));
      log.dump(name + " > " + data.length + " bytes", ByteBuffer.wrap(data));
      try {
        upstream.send(data);
        if (log.isDebug()) {
          log.debug(name + " > " + data.length + " bytes");
        }
      } catch (IOException e) {
        if (lastActivityNanos.get() == ENDED) {
          return false; // ended (and closed) since the check: not sent
        }
        log.verbose(name + " > " + e.getMessage());
      }
      return true;
    }

    /** Sends the target's replies back to the client until the session has been idle too long. */
    void relayReplies() {
      try {
        while (true) {
          try {
            byte[] reply = upstream.recv(MAX_DATAGRAM);
            lastActivityNanos.set(System.nanoTime()); // only this thread ends the session
            log.dump(name + " < " + reply.length + " bytes", ByteBuffer.wrap(reply));
            try {
              listener.sendTo(reply, client);
              if (log.isDebug()) {
                log.debug(name + " < " + reply.length + " bytes");
              }
            } catch (ClosedSocketException e) {
              throw e;
            } catch (IOException e) {
              // this reply only (an IPv6 target's 65,527 bytes to an IPv4 client: EMSGSIZE), as a
              // datagram the target cannot take in forward
              log.verbose(name + " < " + e.getMessage());
            }
          } catch (SocketTimeoutException e) {
            long last = lastActivityNanos.get();
            long quiet = System.nanoTime() - last;
            if (quiet < idle.toNanos()) {
              // a datagram went out during the wait: wait out the rest of the idle timeout from
              // it, not a whole timeout more (the session lived up to twice its idle timeout)
              upstream.setTimeout(Duration.ofNanos(idle.toNanos() - quiet));
            } else if (lastActivityNanos.compareAndSet(last, ENDED)) {
              // (a datagram forwarded since the check keeps the session: the compareAndSet fails)
              end();
              log.verbose(name + " session ended: idle for " + Durations.format(idle));
              return;
            }
          } catch (ConnectionRefusedException e) {
            log.verbose(name + " < " + e.getMessage()); // ICMP port unreachable: no one there yet
          }
        }
      } catch (IOException e) {
        end();
        log.warn(name + " session ended: " + e.getMessage());
      } finally {
        end();
      }
    }

    /** Marks the session ended, removes it from the table, then closes its socket; idempotent. */
    private void end() {
      lastActivityNanos.set(ENDED);
      sessions.remove(client, this);
      try {
        upstream.close();
      } catch (IOException e) {
        // nothing was pending: a UDP socket's close loses only unread replies
      }
    }
  }
}
