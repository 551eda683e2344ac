package io.jsock.cli;

import io.jsock.Family;
import io.jsock.SocketKind;
import java.nio.file.Path;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * How a command reaches its peer, as netcat users spell it: TCP by default, {@code -u} UDP, {@code
 * -U PATH} an AF_UNIX stream socket, {@code -4}/{@code -6} one address family, {@code --tls} TLS on
 * the stream.
 */
final class TransportOptions {
  @Spec(Spec.Target.MIXEE)
  CommandSpec spec;

  @Option(
      names = {"-u", "--udp"},
      description = "UDP instead of TCP.")
  boolean udp;

  @Option(
      names = {"-U", "--unix"},
      paramLabel = "PATH",
      description = "An AF_UNIX stream socket at PATH instead of a host and port.")
  Path unix;

  @Option(names = "-4", description = "IPv4 addresses only.")
  boolean ipv4;

  @Option(names = "-6", description = "IPv6 addresses only.")
  boolean ipv6;

  @Option(names = "--tls", description = "TLS over the stream (TCP or AF_UNIX).")
  boolean tls;

  /** Checks that the options fit together. */
  void check() {
    if (ipv4 && ipv6) {
      throw usage("-4 and -6 cannot be combined");
    }
    if (udp && unix != null) {
      throw usage("-u and -U cannot be combined: the JDK has no AF_UNIX datagram sockets");
    }
    if (udp && tls) {
      throw usage("--tls and -u cannot be combined: TLS needs a stream");
    }
    if (unix != null && (ipv4 || ipv6)) {
      throw usage("-4 and -6 do not apply to -U (AF_UNIX)");
    }
  }

  /** The address family {@code -4} or {@code -6} asks for; {@code null} for any. */
  Family family() {
    return ipv4 ? Family.AF_INET : ipv6 ? Family.AF_INET6 : null;
  }

  /** {@code SOCK_DGRAM} for {@code -u}, {@code SOCK_STREAM} otherwise. */
  SocketKind kind() {
    return udp ? SocketKind.SOCK_DGRAM : SocketKind.SOCK_STREAM;
  }

  /**
   * The transport in words, for messages: {@code TCP}, {@code UDP}, {@code TLS}, {@code AF_UNIX}.
   */
  String describe() {
    String base = unix != null ? "AF_UNIX" : udp ? "UDP" : "TCP";
    return tls ? "TLS over " + base : base;
  }

  ParameterException usage(String message) {
    return new ParameterException(spec.commandLine(), message);
  }
}
