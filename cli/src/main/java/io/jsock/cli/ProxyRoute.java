package io.jsock.cli;

import io.jsock.AddrInfo;
import io.jsock.AddressResolutionException;
import io.jsock.Errno;
import io.jsock.Family;
import io.jsock.Socket;
import io.jsock.SocketKind;
import io.jsock.Sockets;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.function.Consumer;

/**
 * A proxy that {@code connect} goes through, and how: the options {@code --proxy}, {@code
 * --proxy-type}, {@code --proxy-auth} and {@code --proxy-dns} as one value.
 *
 * @param address where the proxy is
 * @param type the protocol it speaks
 * @param auth the credentials to give it, if any
 * @param dns where the target's name is resolved
 */
record ProxyRoute(ProxyAddress address, ProxyType type, Optional<ProxyAuth> auth, ProxyDns dns) {

  /** The proxy's port: the one given, or its protocol's well-known one. */
  int port() {
    return address.portFor(type);
  }

  /**
   * What to ask the proxy for: an IP literal as an address; a name resolved here when {@code dns}
   * says so (in {@code family}, or IPv4 for SOCKS4, which carries nothing else), or left for the
   * proxy. A name that resolves nowhere it may is an unknown host, exit code 6.
   */
  ProxyTarget target(String host, int port, Family family) throws IOException {
    Optional<InetAddress> literal = literal(host);
    if (literal.isPresent()) {
      return new ProxyTarget(host, literal, port);
    }
    if (dns.resolvesHere()) {
      Family asked = type == ProxyType.SOCKS4 ? Family.AF_INET : family;
      try {
        InetSocketAddress resolved =
            (InetSocketAddress)
                Sockets.getAddrInfo(host, port, asked, SocketKind.SOCK_STREAM).getFirst().address();
        return new ProxyTarget(host, Optional.of(resolved.getAddress()), port);
      } catch (AddressResolutionException e) {
        if (!dns.sendsNames()) {
          throw e;
        }
      }
    }
    return new ProxyTarget(host, Optional.empty(), port);
  }

  /**
   * A connection to {@code target} through the proxy: the proxy connected (from {@code source}, its
   * addresses tried in turn as a direct connect's), the tunnel negotiated, the socket returned
   * blocking and without a timeout. {@code timeout} ({@code -w}) bounds each connect attempt, and
   * the negotiation gets what is left of it.
   */
  Socket open(
      ProxyTarget target,
      ClientSource source,
      Family family,
      Optional<Duration> timeout,
      Consumer<IOException> tryingNext)
      throws IOException {
    long start = System.nanoTime();
    Socket conn =
        Endpoints.connect(addresses(source, family), source, timeout.orElse(null), tryingNext);
    try {
      ProxyChannel channel =
          new ProxyChannel(
              conn,
              "connect to " + target.describe() + " through " + describe(conn),
              timeout,
              start);
      switch (type) {
        case HTTP -> HttpConnectHandshake.open(channel, target, auth);
        case SOCKS4 -> Socks4Handshake.open(channel, target, auth);
        case SOCKS5 -> Socks5Handshake.open(channel, target, auth);
      }
      channel.finish();
      return conn;
    } catch (IOException | RuntimeException e) {
      conn.close();
      throw e;
    }
  }

  /**
   * The proxy's addresses, in the family of {@code source}'s address or the one {@code -4}/{@code
   * -6} asks for ({@code family}, null for any), as ncat limits the proxy's too. A failure says
   * that it is the proxy's address, and why a family was asked for: {@code resolve proxy
   * 127.0.0.1:1080: address family for hostname not supported (-6 asks for IPv6)}.
   */
  private List<AddrInfo> addresses(ClientSource source, Family family) throws IOException {
    Family asked = source.family(family);
    try {
      return Sockets.getAddrInfo(address.host(), port(), asked, SocketKind.SOCK_STREAM);
    } catch (AddressResolutionException e) {
      String host = address.host().indexOf(':') >= 0 ? "[" + address.host() + "]" : address.host();
      String familyName = asked == Family.AF_INET6 ? "IPv6" : "IPv4";
      String why = "";
      if (source.address().isPresent()) {
        String ip = Sockets.inetNtop(asked, source.address().get().getAddress());
        why = " (the -s source address " + ip + " is " + familyName + ")";
      } else if (asked != null) {
        why = " (" + (asked == Family.AF_INET6 ? "-6" : "-4") + " asks for " + familyName + ")";
      }
      AddressResolutionException proxys =
          new AddressResolutionException(
              "resolve proxy %s:%d: %s%s".formatted(host, port(), Errno.describe(e.errno()), why),
              e.errno(),
              e.address());
      proxys.initCause(e);
      throw proxys;
    }
  }

  /** {@code socks5 proxy 127.0.0.1:1080}: the proxy {@code conn} is connected to. */
  String describe(Socket conn) throws IOException {
    return type.spelling() + " proxy " + Diagnostics.where(ConnectCommand.peerName(conn));
  }

  /** The address {@code host} writes, if it is an IP literal. */
  static Optional<InetAddress> literal(String host) {
    try {
      return Optional.of(InetAddress.ofLiteral(host));
    } catch (IllegalArgumentException notLiteral) {
      return Optional.empty();
    }
  }
}
