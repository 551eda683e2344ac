package io.jsock.cli;

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
      if (session == null) {
        if (sessions.size() >= maxSessions) {
          log.warn(Diagnostics.where(client) + " dropped: --max-connections " + maxSessions);
          continue;
        }
        session = open(client);
        if (session == null) {
          continue;
        }
      }
      session.forward(datagram.data());
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

  /** One client address and its socket to the target. */
  private final class Session {
    private final SocketAddress client;
    private final Socket upstream;
    private final String name;
    private volatile long lastActivityNanos = System.nanoTime();

    Session(SocketAddress client, Socket upstream) {
      this.client = client;
      this.upstream = upstream;
      this.name = Diagnostics.where(client);
    }

    void forward(byte[] data) {
      lastActivityNanos = System.nanoTime();
      log.dump(name + " > " + data.length + " bytes", ByteBuffer.wrap(data));
      try {
        upstream.send(data);
      } catch (IOException e) {
        log.verbose(name + " > " + e.getMessage());
      }
    }

    /** Sends the target's replies back to the client until the session has been idle too long. */
    void relayReplies() {
      try (upstream) {
        while (true) {
          try {
            byte[] reply = upstream.recv(MAX_DATAGRAM);
            lastActivityNanos = System.nanoTime();
            log.dump(name + " < " + reply.length + " bytes", ByteBuffer.wrap(reply));
            listener.sendTo(reply, client);
          } catch (SocketTimeoutException e) {
            if (System.nanoTime() - lastActivityNanos >= idle.toNanos()) {
              log.verbose(name + " session ended: idle for " + Durations.format(idle));
              return;
            }
          } catch (ConnectionRefusedException e) {
            log.verbose(name + " < " + e.getMessage()); // ICMP port unreachable: no one there yet
          }
        }
      } catch (IOException e) {
        log.warn(name + " session ended: " + e.getMessage());
      } finally {
        sessions.remove(client);
      }
    }
  }
}
