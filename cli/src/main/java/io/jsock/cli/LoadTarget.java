package io.jsock.cli;

import io.jsock.Family;
import io.jsock.Socket;
import io.jsock.SocketKind;
import java.io.IOException;
import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.net.UnknownHostException;
import java.time.Duration;

/**
 * Opens the load's sockets to the server: TCP with {@code TCP_NODELAY} (a load generator must not
 * wait to coalesce) in blocking mode once connected, or connected UDP; bound to one of N loopback
 * source addresses when asked, so that many connections do not exhaust one address's ephemeral
 * ports.
 */
final class LoadTarget {
  private final InetSocketAddress server;
  private final Family family;
  private final int sourceIps;
  private final Duration timeout;

  LoadTarget(InetSocketAddress server, int sourceIps, Duration timeout) {
    this.server = server;
    this.family = server.getAddress() instanceof Inet6Address ? Family.AF_INET6 : Family.AF_INET;
    if (sourceIps > 0 && family != Family.AF_INET) {
      throw new IllegalArgumentException(
          "--source-ips spreads over 127.0.0.0/8, which needs an IPv4 server, not "
              + Diagnostics.where(server));
    }
    this.sourceIps = sourceIps;
    this.timeout = timeout;
  }

  InetSocketAddress server() {
    return server;
  }

  /** A TCP connection to the server, for connection {@code index}. */
  Socket connect(int index) throws IOException {
    Socket socket = Socket.create(family, SocketKind.SOCK_STREAM);
    try {
      socket.setTimeout(timeout);
      bindSource(socket, index);
      socket.connect(server);
      socket.setSockOpt(StandardSocketOptions.TCP_NODELAY, true);
      // Blocking from here on: a wait with a timeout is a timed park, which costs a timer per
      // receive. The run stays bounded all the same: at its end, sockets still waiting are closed.
      socket.setTimeout(null);
      return socket;
    } catch (IOException | RuntimeException e) {
      socket.close();
      throw e;
    }
  }

  /** A UDP socket connected to the server, whose receives wait at most {@code wait}. */
  Socket datagram(int index, Duration wait) throws IOException {
    Socket socket = Socket.create(family, SocketKind.SOCK_DGRAM);
    try {
      socket.setTimeout(wait);
      bindSource(socket, index);
      socket.connect(server);
      return socket;
    } catch (IOException | RuntimeException e) {
      socket.close();
      throw e;
    }
  }

  private void bindSource(Socket socket, int index) throws IOException {
    if (sourceIps > 0) {
      socket.bind(new InetSocketAddress(sourceAddress(index % sourceIps), 0));
    }
  }

  /** {@code 127.0.0.1 + n}: the n-th address of the loopback network after 127.0.0.1. */
  static InetAddress sourceAddress(int n) throws UnknownHostException {
    int address = 0x7F000001 + n;
    return Inet4Address.getByAddress(
        new byte[] {
          (byte) (address >>> 24), (byte) (address >>> 16), (byte) (address >>> 8), (byte) address
        });
  }
}
