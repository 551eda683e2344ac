package io.jsock.cli;

import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.Locale;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;

/**
 * One end of {@code jsock relay}, written as socat's addresses but simpler: {@code
 * [tcp:|udp:|tls:]HOST:PORT}, {@code [tcp:|udp:|tls:]PORT} (a listener on loopback), {@code
 * unix:PATH} and {@code tls+unix:PATH}. IPv6 literals go in brackets: {@code tcp:[::1]:8080}.
 */
record RelayEndpoint(Scheme scheme, String host, int port, Path path) {
  /** What travels between the relay and this end. */
  enum Scheme {
    TCP,
    UDP,
    TLS,
    UNIX,
    TLS_UNIX;

    boolean isTls() {
      return this == TLS || this == TLS_UNIX;
    }

    boolean isUnix() {
      return this == UNIX || this == TLS_UNIX;
    }
  }

  /** Whether this end carries a byte stream (everything but UDP). */
  boolean isStream() {
    return scheme != Scheme.UDP;
  }

  /** Reads an endpoint; {@code host} is {@code null} when only a port was written. */
  static RelayEndpoint parse(String text) {
    String spec = text.strip();
    Scheme scheme = Scheme.TCP;
    int colon = spec.indexOf(':');
    if (colon > 0 && !spec.startsWith("[")) {
      String prefix = spec.substring(0, colon).toLowerCase(Locale.ROOT);
      Scheme named =
          switch (prefix) {
            case "tcp" -> Scheme.TCP;
            case "udp" -> Scheme.UDP;
            case "tls" -> Scheme.TLS;
            case "unix" -> Scheme.UNIX;
            case "tls+unix" -> Scheme.TLS_UNIX;
            default -> null;
          };
      if (named != null) {
        scheme = named;
        spec = spec.substring(colon + 1);
      }
    }
    if (scheme.isUnix()) {
      if (spec.isEmpty()) {
        throw bad(text);
      }
      try {
        return new RelayEndpoint(scheme, null, 0, Path.of(spec));
      } catch (InvalidPathException e) { // a NUL, which no path holds
        throw bad(text);
      }
    }
    if (spec.startsWith("[") && spec.endsWith("]")) { // its last colon is the address's own
      String prefix = text.strip().substring(0, text.strip().length() - spec.length());
      throw new TypeConversionException(
          "not an endpoint: '" + text + "' (no port: write " + prefix + spec + ":PORT)");
    }
    int split = spec.lastIndexOf(':');
    String host = split < 0 ? null : spec.substring(0, split);
    String port = spec.substring(split + 1);
    if (host != null) {
      if (host.startsWith("[") && host.endsWith("]")) {
        host = host.substring(1, host.length() - 1);
      } else if (host.contains(":")) {
        throw new TypeConversionException(
            "not an endpoint: '" + text + "' (write IPv6 addresses in brackets: tcp:[::1]:8080)");
      }
      if (host.isEmpty()) {
        throw bad(text);
      }
    }
    int number;
    try {
      number = new Port().convert(port);
    } catch (TypeConversionException e) {
      throw new TypeConversionException("not an endpoint: '" + text + "' (" + e.getMessage() + ")");
    }
    return new RelayEndpoint(scheme, host, number, null);
  }

  private static TypeConversionException bad(String text) {
    return new TypeConversionException(
        "not an endpoint: '"
            + text
            + "' (write PORT, HOST:PORT, tcp:HOST:PORT, udp:HOST:PORT, tls:HOST:PORT,"
            + " unix:PATH or tls+unix:PATH)");
  }

  /** {@code tcp:127.0.0.1:8080}, {@code unix:/run/x.sock}: the endpoint as a user writes it. */
  @Override
  public String toString() {
    String name = scheme.name().toLowerCase(Locale.ROOT).replace('_', '+');
    if (scheme.isUnix()) {
      return name + ":" + path;
    }
    String shown = host == null ? "" : (host.contains(":") ? "[" + host + "]" : host) + ":";
    return name + ":" + shown + port;
  }

  /** The picocli converter for LISTEN and TARGET. */
  static final class Converter implements ITypeConverter<RelayEndpoint> {
    @Override
    public RelayEndpoint convert(String text) {
      return parse(text);
    }
  }
}
