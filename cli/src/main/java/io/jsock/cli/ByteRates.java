package io.jsock.cli;

import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;

/**
 * Reads a rate option as people write them: {@code 2MiB/s}, {@code 500KiB/s}, {@code 10MB/s},
 * {@code 1.5M}; a bare number is bytes per second. {@code Ki}/{@code Mi}/{@code Gi} are powers of
 * 1024, {@code K}/{@code M}/{@code G} powers of 1000, as in curl's {@code --limit-rate} and pv.
 */
final class ByteRates implements ITypeConverter<Long> {
  private static final Pattern RATE =
      Pattern.compile("(\\d+(?:\\.\\d+)?)\\s*([kmg]i?)?b?(?:/s)?", Pattern.CASE_INSENSITIVE);

  @Override
  public Long convert(String text) {
    return parse(text);
  }

  /** Bytes per second; a {@link TypeConversionException} saying why not. */
  static long parse(String text) {
    Matcher m = RATE.matcher(text.strip());
    if (!m.matches()) {
      throw new TypeConversionException(
          "not a rate: '" + text + "' (write it as 2MiB/s, 500KiB/s, 10MB/s or bytes per second)");
    }
    String prefix = m.group(2) == null ? "" : m.group(2).toLowerCase(Locale.ROOT);
    double multiplier =
        switch (prefix) {
          case "k" -> 1e3;
          case "ki" -> 1024;
          case "m" -> 1e6;
          case "mi" -> 1024 * 1024;
          case "g" -> 1e9;
          case "gi" -> 1024.0 * 1024 * 1024;
          default -> 1;
        };
    double rate = Double.parseDouble(m.group(1)) * multiplier;
    if (rate < 1) {
      throw new TypeConversionException("rate too low: '" + text + "' (at least 1 byte/s)");
    }
    if (rate > Long.MAX_VALUE / 2) {
      throw new TypeConversionException("rate too high: '" + text + "'");
    }
    return Math.round(rate);
  }

  /** {@code 2.0 MiB}: a byte count in binary units, one decimal. */
  static String bytes(double bytes) {
    String[] units = {"B", "KiB", "MiB", "GiB", "TiB"};
    int unit = 0;
    while (bytes >= 1024 && unit < units.length - 1) {
      bytes /= 1024;
      unit++;
    }
    return unit == 0
        ? (long) bytes + " B"
        : String.format(Locale.ROOT, "%.1f %s", bytes, units[unit]);
  }
}
