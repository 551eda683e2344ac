package io.jsock.cli;

import java.net.Inet6Address;
import java.nio.charset.StandardCharsets;
import java.util.Optional;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * {@code connect}'s way through a proxy, as ncat's options of the same names: {@code --proxy
 * HOST[:PORT]}, {@code --proxy-type http|socks4|socks5} (default http), {@code --proxy-auth
 * USER[:PASS]} (or the environment's {@code JSOCK_PROXY_AUTH}, as ncat's {@code NCAT_PROXY_AUTH})
 * and {@code --proxy-dns local|remote|both|none} (default remote).
 */
final class ProxyOptions {
  /** Where {@code --proxy-auth} is read from when the option is not given. */
  static final String AUTH_VARIABLE = "JSOCK_PROXY_AUTH";

  @Spec(Spec.Target.MIXEE)
  CommandSpec spec;

  @Option(
      names = "--proxy",
      paramLabel = "HOST[:PORT]",
      converter = ProxyAddress.Converter.class,
      description =
          "Connect through the proxy at HOST (ncat --proxy): PORT defaults to 3128 for http, 1080"
              + " for socks; an IPv6 address with a port in brackets, [::1]:1080. TCP only.")
  ProxyAddress proxy;

  @Option(
      names = "--proxy-type",
      paramLabel = "TYPE",
      converter = ProxyType.Converter.class,
      description =
          "With --proxy: http (CONNECT, the default), socks4 (socks4a for a name the proxy"
              + " resolves) or socks5.")
  ProxyType type;

  @Option(
      names = "--proxy-auth",
      paramLabel = "USER[:PASS]",
      description =
          "With --proxy: http Basic or socks5 user name and password (USER:PASS), or a socks4"
              + " user id (USER). Default: the environment's "
              + AUTH_VARIABLE
              + ", which ps does not show.")
  String auth;

  @Option(
      names = "--proxy-dns",
      paramLabel = "WHERE",
      converter = ProxyDns.Converter.class,
      description =
          "With --proxy, where HOST's name is resolved: remote (by the proxy, the default), local"
              + " (here; exit code 6 if it does not resolve), both (here, else by the proxy) or"
              + " none (HOST must be an IP address).")
  ProxyDns dns;

  /** Whether {@code --proxy} was given. */
  boolean given() {
    return proxy != null;
  }

  /**
   * Checks that the options fit together and with the rest of {@code connect}'s: TCP only, no
   * {@code -z}, credentials of the form the protocol takes, a target the protocol can carry.
   */
  void check(TransportOptions transport, boolean zeroIo, String host) {
    if (proxy == null) {
      if (type != null || auth != null || dns != null) {
        throw usage("--proxy-type, --proxy-auth and --proxy-dns need --proxy");
      }
      return;
    }
    if (transport.udp) {
      throw usage("--proxy goes over TCP only: -u cannot be combined with it");
    }
    if (transport.unix != null) {
      throw usage("--proxy goes over TCP only: -U cannot be combined with it");
    }
    if (zeroIo) {
      throw usage("-z cannot be combined with --proxy: it checks ports from this host only");
    }
    ProxyType protocol = type();
    credentials().ifPresent(credentials -> checkCredentials(protocol, credentials));
    boolean literal = ProxyRoute.literal(host).isPresent();
    if (!literal && host.chars().anyMatch(c -> c <= 0x20 || c == 0x7F)) {
      // written as it is into the CONNECT request line and Host field, or SOCKS4a's NUL-ended name
      throw usage(
          "--proxy: HOST cannot hold spaces or control characters: '" + escaped(host) + "'");
    }
    if (dns() == ProxyDns.NONE && !literal) {
      throw usage("--proxy-dns none: HOST must be an IP address, not the name " + host);
    }
    if (protocol == ProxyType.SOCKS4
        && ProxyRoute.literal(host).orElse(null) instanceof Inet6Address) {
      throw usage(
          "--proxy-type socks4 carries IPv4 addresses only, not " + host + " (use socks5 or http)");
    }
    if (protocol == ProxyType.SOCKS5
        && !literal
        && host.getBytes(StandardCharsets.UTF_8).length > 255) {
      throw usage("--proxy-type socks5 carries names of at most 255 bytes: " + host);
    }
  }

  /** The route these options describe; {@link #given()} must be true. */
  ProxyRoute route() {
    return new ProxyRoute(proxy, type(), credentials(), dns());
  }

  private void checkCredentials(ProxyType protocol, ProxyAuth credentials) {
    String option = credentials.source();
    if (credentials.user().isEmpty()) { // http would send Basic credentials for ":"
      throw usage(option + ": USER is empty (USER[:PASS])");
    }
    switch (protocol) {
      case SOCKS4 -> {
        if (credentials.password().isPresent()) {
          throw usage(option + ": socks4 takes a user id only (USER), no password");
        }
        if (credentials.user().indexOf('\0') >= 0) {
          throw usage(option + ": a socks4 user id cannot hold a NUL character");
        }
      }
      case SOCKS5 -> {
        if (credentials.password().isEmpty()) {
          throw usage(option + ": socks5 takes a user name and a password (USER:PASS)");
        }
        if (!fitsSocks5(credentials.user()) || !fitsSocks5(credentials.password().get())) {
          throw usage(option + ": socks5 takes a user name and a password of 1 to 255 bytes each");
        }
      }
      case HTTP -> {
        // any user name and password: Basic credentials
      }
    }
  }

  /** {@code text} with spaces and control characters as {@code \xHH}, for a message. */
  private static String escaped(String text) {
    StringBuilder shown = new StringBuilder();
    text.chars()
        .forEach(c -> shown.append(c <= 0x20 || c == 0x7F ? "\\x%02X".formatted(c) : (char) c));
    return shown.toString();
  }

  private static boolean fitsSocks5(String text) {
    int length = text.getBytes(StandardCharsets.UTF_8).length;
    return length >= 1 && length <= 255;
  }

  private ProxyType type() {
    return type != null ? type : ProxyType.HTTP;
  }

  private ProxyDns dns() {
    return dns != null ? dns : ProxyDns.REMOTE;
  }

  /** {@code --proxy-auth}, or {@value #AUTH_VARIABLE} when the option is not given. */
  private Optional<ProxyAuth> credentials() {
    if (auth != null) {
      return Optional.of(ProxyAuth.parse(auth, "--proxy-auth"));
    }
    return Optional.ofNullable(System.getenv(AUTH_VARIABLE))
        .map(text -> ProxyAuth.parse(text, AUTH_VARIABLE));
  }

  private ParameterException usage(String message) {
    return new ParameterException(spec.commandLine(), message);
  }
}
