package io.jsock.cli;

import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;

/**
 * Reads a host option: a name or an IP literal; an IPv6 literal may be written in brackets, as in
 * URLs ({@code [::1]}).
 */
final class Host implements ITypeConverter<String> {
  @Override
  public String convert(String text) {
    String host = text.strip();
    if (host.startsWith("[") && host.endsWith("]")) {
      host = host.substring(1, host.length() - 1);
    }
    if (host.isEmpty()) {
      throw new TypeConversionException("empty host");
    }
    return host;
  }
}
