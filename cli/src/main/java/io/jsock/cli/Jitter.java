package io.jsock.cli;

import java.time.Duration;
import java.util.concurrent.ThreadLocalRandom;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;

/**
 * A value with a spread, as fault options are written: {@code 50ms±20ms} (or {@code 50ms+-20ms}) is
 * any duration from 30 to 70 ms, {@code 7±5} any count from 2 to 12, each value drawn uniformly; a
 * value without {@code ±} has no spread. Durations are held in nanoseconds.
 */
record Jitter(long base, long spread) {
  Jitter {
    if (base < 0 || spread < 0) {
      throw new IllegalArgumentException("negative jitter: " + base + "±" + spread);
    }
  }

  /** A value drawn uniformly from {@code base - spread} to {@code base + spread}, at least 0. */
  long draw() {
    if (spread == 0) {
      return base;
    }
    long value = base + ThreadLocalRandom.current().nextLong(-spread, spread + 1);
    return Math.max(0, value);
  }

  /** The least value a draw can give. */
  long least() {
    return Math.max(0, base - spread);
  }

  /** Reads {@code 50ms±20ms}, {@code 50ms+-20ms} or {@code 50ms}; a bare number is seconds. */
  static Jitter parseDuration(String text) {
    String[] parts = split(text);
    long base;
    long spread;
    try {
      base = Durations.parse(parts[0]).toNanos();
      spread = parts.length > 1 ? Durations.parse(parts[1]).toNanos() : 0;
    } catch (TypeConversionException e) {
      throw new TypeConversionException(
          "not a duration with jitter: '" + text + "' (write it as 50ms±20ms, 50ms+-20ms or 50ms)");
    }
    // no longer than any one duration: System.nanoTime() plus a draw near Long.MAX_VALUE wrapped
    if (base + spread > Decimals.LARGEST) {
      throw new TypeConversionException(
          "duration too long: '"
              + text
              + "' (DELAY + JITTER, the longest delay drawn, must not pass "
              + Decimals.LARGEST / 3_600_000_000_000L
              + "h)");
    }
    return new Jitter(base, spread);
  }

  /** Reads {@code 7±5}, {@code 7+-5} or {@code 7}; the least value must be at least one. */
  static Jitter parseCount(String text) {
    String[] parts = split(text);
    try {
      long base = count(parts[0]);
      long spread = parts.length > 1 ? count(parts[1]) : 0;
      if (base < 1 || base - spread < 1) {
        throw new TypeConversionException(
            "count out of range: '" + text + "' (the least value, base - spread, must be >= 1)");
      }
      if (base > Long.MAX_VALUE - spread) { // past it a draw wrapped to a negative piece
        throw new TypeConversionException(
            "count out of range: '"
                + text
                + "' (the largest value, base + spread, must be <= "
                + Long.MAX_VALUE
                + ")");
      }
      return new Jitter(base, spread);
    } catch (NumberFormatException e) {
      throw new TypeConversionException(
          "not a count with jitter: '" + text + "' (write it as 7±5, 7+-5 or 7)");
    }
  }

  /**
   * A count in ASCII digits, as ports and prefix lengths are written: {@link Long#parseLong} alone
   * takes a sign and any script's digits.
   */
  private static long count(String text) {
    String digits = text.strip();
    if (!digits.matches("[0-9]+")) {
      throw new NumberFormatException(digits);
    }
    return Long.parseLong(digits); // NumberFormatException past Long.MAX_VALUE
  }

  private static String[] split(String text) {
    String normalized = text.replace("+-", "±");
    String[] parts = normalized.split("±", -1);
    if (parts.length > 2 || parts[0].isBlank() || parts.length == 2 && parts[1].isBlank()) {
      return new String[] {"?"}; // fails in the caller's parser with its own message
    }
    return parts;
  }

  /** {@code 50ms±20ms}, as the option was written. */
  String formatDuration() {
    String base = Durations.format(Duration.ofNanos(this.base));
    return spread == 0 ? base : base + "±" + Durations.format(Duration.ofNanos(spread));
  }

  /** The picocli converter for a duration with jitter. */
  static final class DurationConverter implements ITypeConverter<Jitter> {
    @Override
    public Jitter convert(String text) {
      return parseDuration(text);
    }
  }

  /** The picocli converter for a count with jitter. */
  static final class CountConverter implements ITypeConverter<Jitter> {
    @Override
    public Jitter convert(String text) {
      return parseCount(text);
    }
  }
}
