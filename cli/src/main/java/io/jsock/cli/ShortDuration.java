package io.jsock.cli;

import java.time.Duration;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;

/** Reads a duration option written as people write them: {@code 500ms}, {@code 2s}, {@code 1m}. */
final class ShortDuration implements ITypeConverter<Duration> {
  private static final Pattern FORM = Pattern.compile("(\\d{1,9})(ms|s|m)");

  /** The longest duration read, as for the other duration options. */
  private static final Duration LONGEST = Duration.ofNanos(Decimals.LARGEST);

  @Override
  public Duration convert(String text) {
    Matcher matcher = FORM.matcher(text.strip());
    if (!matcher.matches()) {
      throw new TypeConversionException(
          "not a duration (a whole number and ms, s or m, as 500ms, 2s, 1m): " + text);
    }
    long amount = Long.parseLong(matcher.group(1));
    Duration duration =
        switch (matcher.group(2)) {
          case "ms" -> Duration.ofMillis(amount);
          case "s" -> Duration.ofSeconds(amount);
          default -> Duration.ofMinutes(amount);
        };
    // as Durations: the run adds them to System.nanoTime(), and 999999999m overflowed toNanos()
    if (duration.compareTo(LONGEST) > 0) {
      throw new TypeConversionException("duration too long: " + text);
    }
    return duration;
  }

  /** How a duration reads in output: {@code 500ms}, {@code 2s}, {@code 1.5s}. */
  static String format(Duration duration) {
    long millis = duration.toMillis();
    if (millis < 1000) {
      return millis + "ms";
    }
    return millis % 1000 == 0
        ? millis / 1000 + "s"
        : String.format(Locale.ROOT, "%.3fs", millis / 1000.0);
  }
}
