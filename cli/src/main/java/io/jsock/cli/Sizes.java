package io.jsock.cli;

import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;

/**
 * Reads a size option as people write them: {@code 1000} (bytes), {@code 64KiB}, {@code 1MiB},
 * {@code 1GiB} (powers of 1024), {@code 64KB}, {@code 1MB} (powers of 1000), {@code 1.5MiB}; the
 * number may begin or end with its point ({@code .5MiB}, {@code 1.MiB}), as a duration's may.
 */
final class Sizes implements ITypeConverter<Long> {
  private static final Pattern SIZE =
      Pattern.compile("(\\d+(?:\\.\\d*)?|\\.\\d+)\\s*(B|KiB|MiB|GiB|KB|kB|MB|GB)?");

  @Override
  public Long convert(String text) {
    return parse(text);
  }

  /** The number of bytes {@code text} names; a {@link TypeConversionException} saying why not. */
  static long parse(String text) {
    Matcher m = SIZE.matcher(text.strip());
    if (!m.matches()) {
      throw new TypeConversionException(
          "not a size: '" + text + "' (write it as 1000, 64KiB, 1MiB or 1MB)");
    }
    // in decimal, as written: a double lost the last digits of sizes above 2^53
    long bytes = Decimals.times(m.group(1), multiplier(m.group(2)));
    if (bytes < 0) {
      throw new TypeConversionException("size too large: '" + text + "'");
    }
    return bytes;
  }

  private static long multiplier(String unit) {
    if (unit == null) {
      return 1;
    }
    return switch (unit.toLowerCase(Locale.ROOT)) {
      case "kib" -> 1L << 10;
      case "mib" -> 1L << 20;
      case "gib" -> 1L << 30;
      case "kb" -> 1_000L;
      case "mb" -> 1_000_000L;
      case "gb" -> 1_000_000_000L;
      default -> 1;
    };
  }

  /** {@code 1MiB}, {@code 64KiB}, {@code 1000B}: a size as these options read it. */
  static String format(long bytes) {
    if (bytes >= 1 << 20 && bytes % (1 << 20) == 0) {
      return (bytes >> 20) + "MiB";
    }
    if (bytes >= 1 << 10 && bytes % (1 << 10) == 0) {
      return (bytes >> 10) + "KiB";
    }
    return bytes + "B";
  }

  /** {@code 2.0 MiB}: a byte count for people, in binary units with one decimal. */
  static String describe(double bytes) {
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

  /**
   * Reads a rate option: a size per second, {@code 1MiB/s}, {@code 64KiB/s}, {@code 1000/s}; the
   * {@code /s} may be left out. A rate of zero is refused (it would never send).
   */
  static final class Rate implements ITypeConverter<Long> {
    @Override
    public Long convert(String text) {
      return parse(text);
    }

    /** Bytes per second; a {@link TypeConversionException} saying why not. */
    static long parse(String text) {
      String size = text.strip();
      if (size.endsWith("/s")) {
        size = size.substring(0, size.length() - 2);
      }
      long rate;
      try {
        rate = Sizes.parse(size);
      } catch (TypeConversionException e) {
        throw new TypeConversionException(
            "not a rate: '" + text + "' (write it as 1MiB/s, 64KiB/s or 1000/s)");
      }
      if (rate <= 0) {
        throw new TypeConversionException("rate must be above zero: '" + text + "'");
      }
      return rate;
    }
  }
}
