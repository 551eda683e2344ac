package io.jsock.cli;

import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.Optional;

/**
 * What {@code connect} asks its proxy to connect to: an address (an IP literal, or a name resolved
 * here) or a name for the proxy to resolve, and a port.
 *
 * @param host the host as given on the command line, for messages and TLS
 * @param address the address to send, or empty to send {@code host} as a name
 * @param port the target's port
 */
record ProxyTarget(String host, Optional<InetAddress> address, int port) {

  /** The target as the proxy is told it: {@code 127.0.0.1}, {@code ::1} or the name. */
  String sentHost() {
    return address.map(InetAddress::getHostAddress).orElse(host);
  }

  /** {@code host:port} as HTTP's CONNECT writes it: an IPv6 address in brackets. */
  String authority() {
    String sent = sentHost();
    return (address.orElse(null) instanceof Inet6Address ? "[" + sent + "]" : sent) + ":" + port;
  }

  /** {@code localhost:5000}, {@code [::1]:5000}: the target as the user named it, for messages. */
  String describe() {
    return (host.contains(":") ? "[" + host + "]" : host) + ":" + port;
  }

  /** The target as an unresolved address, for the exceptions that carry one. */
  InetSocketAddress unresolved() {
    return InetSocketAddress.createUnresolved(host, port);
  }
}
