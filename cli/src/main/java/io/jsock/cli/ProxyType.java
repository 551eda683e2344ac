package io.jsock.cli;

import java.util.Locale;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;

/** The protocols {@code connect --proxy} speaks to its proxy, as ncat's {@code --proxy-type}. */
enum ProxyType {
  /** HTTP {@code CONNECT} (RFC 9110 section 9.3.6); ncat's default, on port 3128 by default. */
  HTTP(3128),
  /** SOCKS4, and SOCKS4a when the proxy is to resolve the target's name; port 1080. */
  SOCKS4(1080),
  /** SOCKS5 (RFC 1928), with RFC 1929's user name and password; port 1080. */
  SOCKS5(1080);

  private final int defaultPort;

  ProxyType(int defaultPort) {
    this.defaultPort = defaultPort;
  }

  /** The proxy's port when {@code --proxy} names none: the protocol's well-known one, as ncat. */
  int defaultPort() {
    return defaultPort;
  }

  /** {@code http}, {@code socks4}, {@code socks5}: as the option spells it, for messages. */
  String spelling() {
    return name().toLowerCase(Locale.ROOT);
  }

  /** Reads {@code --proxy-type}: {@code http}, {@code socks4} or {@code socks5}. */
  static final class Converter implements ITypeConverter<ProxyType> {
    @Override
    public ProxyType convert(String text) {
      for (ProxyType type : values()) {
        if (type.spelling().equalsIgnoreCase(text.strip())) {
          return type;
        }
      }
      throw new TypeConversionException(
          "not a proxy type: '" + text + "' (http, socks4 or socks5)");
    }
  }
}
