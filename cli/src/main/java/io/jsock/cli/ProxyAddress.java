package io.jsock.cli;

import java.util.Optional;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;

/**
 * Where {@code --proxy HOST[:PORT]} points: a name or IP literal, and the port if one is given (the
 * protocol's own otherwise). An IPv6 literal with a port goes in brackets ({@code [::1]:1080}), as
 * ncat requires; a bare one ({@code ::1}) is a host without a port.
 *
 * @param host the proxy's name or IP literal, without brackets
 * @param port the port given, or empty for the protocol's well-known one
 */
record ProxyAddress(String host, Optional<Integer> port) {

  /** The port to connect to: the one given, or {@code type}'s well-known one. */
  int portFor(ProxyType type) {
    return port.orElse(type.defaultPort());
  }

  /** Reads {@code --proxy}: {@code HOST}, {@code HOST:PORT}, {@code [V6]} or {@code [V6]:PORT}. */
  static final class Converter implements ITypeConverter<ProxyAddress> {
    @Override
    public ProxyAddress convert(String text) {
      String spec = text.strip();
      if (spec.startsWith("[")) {
        int close = spec.indexOf(']');
        if (close < 0) {
          throw new TypeConversionException("no ']' after the IPv6 address: " + text);
        }
        String rest = spec.substring(close + 1);
        if (!rest.isEmpty() && !rest.startsWith(":")) {
          throw new TypeConversionException("not HOST[:PORT]: " + text);
        }
        return of(spec.substring(1, close), rest.isEmpty() ? null : rest.substring(1), text);
      }
      int colon = spec.indexOf(':');
      if (colon < 0 || spec.indexOf(':', colon + 1) >= 0) { // none, or a bare IPv6 literal
        return of(spec, null, text);
      }
      return of(spec.substring(0, colon), spec.substring(colon + 1), text);
    }

    private static ProxyAddress of(String host, String port, String text) {
      if (host.isEmpty()) {
        throw new TypeConversionException("no host in " + text);
      }
      if (port == null) {
        return new ProxyAddress(host, Optional.empty());
      }
      int number = new Port().convert(port);
      if (number == 0) {
        throw new TypeConversionException("port 0 is not a port one can connect to: " + text);
      }
      return new ProxyAddress(host, Optional.of(number));
    }
  }
}
