package io.jsock.cli;

import java.util.Locale;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;

/**
 * Where the target's host name is resolved when {@code connect} goes through a proxy, as ncat's
 * {@code --proxy-dns}. An IP literal is never looked up: it goes to the proxy as an address.
 */
enum ProxyDns {
  /** Here; a name that does not resolve is an unknown host (exit code 6). */
  LOCAL(true, false),
  /** By the proxy: the name is sent as it is (ncat's default, and jsock's). */
  REMOTE(false, true),
  /** Here first; a name that does not resolve here is sent to the proxy. */
  BOTH(true, true),
  /** Nowhere: the target must be an IP literal. */
  NONE(false, false);

  private final boolean resolvesHere;
  private final boolean sendsNames;

  ProxyDns(boolean resolvesHere, boolean sendsNames) {
    this.resolvesHere = resolvesHere;
    this.sendsNames = sendsNames;
  }

  /** Whether jsock looks the name up itself. */
  boolean resolvesHere() {
    return resolvesHere;
  }

  /** Whether a name that jsock has not resolved may go to the proxy. */
  boolean sendsNames() {
    return sendsNames;
  }

  /** {@code local}, {@code remote}, {@code both}, {@code none}: as the option spells it. */
  String spelling() {
    return name().toLowerCase(Locale.ROOT);
  }

  /** Reads {@code --proxy-dns}: {@code local}, {@code remote}, {@code both} or {@code none}. */
  static final class Converter implements ITypeConverter<ProxyDns> {
    @Override
    public ProxyDns convert(String text) {
      for (ProxyDns dns : values()) {
        if (dns.spelling().equalsIgnoreCase(text.strip())) {
          return dns;
        }
      }
      throw new TypeConversionException(
          "not a --proxy-dns value: '" + text + "' (local, remote, both or none)");
    }
  }
}
