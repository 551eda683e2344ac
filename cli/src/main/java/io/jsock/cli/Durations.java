package io.jsock.cli;

import java.math.BigDecimal;
import java.time.Duration;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;

/**
 * Reads a duration option as people write them: {@code 500ms}, {@code 2s}, {@code 1.5s}, {@code
 * 1m}, {@code 1h}, {@code 250us}; a bare number is seconds, as in {@code nc -w 3}, and may begin or
 * end with its point, as ncat's {@code -w .5} and {@code -w 5.}.
 */
final class Durations implements ITypeConverter<Duration> {
  private static final Pattern DURATION =
      Pattern.compile("(\\d+(?:\\.\\d*)?|\\.\\d+)\\s*(us|µs|ms|s|m|h)?", Pattern.CASE_INSENSITIVE);

  @Override
  public Duration convert(String text) {
    return parse(text);
  }

  /** The duration {@code text} names; a {@link TypeConversionException} saying why not. */
  static Duration parse(String text) {
    Matcher m = DURATION.matcher(text.strip());
    if (!m.matches()) {
      throw new TypeConversionException(
          "not a duration: '" + text + "' (write it as 500ms, 2s, 1.5s, 1m or 1h)");
    }
    String unit = m.group(2) == null ? "s" : m.group(2).toLowerCase(java.util.Locale.ROOT);
    long nanosPerUnit =
        switch (unit) {
          case "us", "µs" -> 1_000L;
          case "ms" -> 1_000_000L;
          case "s" -> 1_000_000_000L;
          case "m" -> 60_000_000_000L;
          default -> 3_600_000_000_000L;
        };
    // in decimal, as written: a double cut 999999999.999999999s to 1e18 ns
    long nanos = Decimals.times(m.group(1), nanosPerUnit);
    if (nanos < 0) {
      throw new TypeConversionException("duration too long: '" + text + "'");
    }
    return Duration.ofNanos(nanos);
  }

  /**
   * A timeout: a duration as {@link Durations} reads it, but not 0, which would make a jsock socket
   * non-blocking (Python's {@code settimeout(0)}) and its first wait fail at once.
   */
  static final class Timeout implements ITypeConverter<Duration> {
    @Override
    public Duration convert(String text) {
      Duration duration = parse(text);
      if (duration.isZero()) {
        throw new TypeConversionException(
            "'" + text + "': a timeout must be longer than 0 (leave the option out to wait)");
      }
      return duration;
    }
  }

  /**
   * {@code 500ms}, {@code 2s}, {@code 1.5s}, {@code 250us}, {@code 1.5us}: a duration as these
   * options read it.
   */
  static String format(Duration duration) {
    long nanos = duration.toNanos();
    long millis = duration.toMillis();
    boolean wholeMillis = nanos % 1_000_000 == 0;
    if (millis < 1000 && !wholeMillis) {
      // 250us is not 0ms, nor 1.5ms 1ms, nor 1.5us 1us
      return BigDecimal.valueOf(nanos, 3).stripTrailingZeros().toPlainString() + "us";
    }
    if (millis < 1000 || wholeMillis && millis < 10_000 && millis % 100 != 0) {
      return millis + "ms";
    }
    // every digit kept: 12.25s is not 12.2s, nor 1.0005s 1s
    return BigDecimal.valueOf(nanos, 9).stripTrailingZeros().toPlainString() + "s";
  }
}
