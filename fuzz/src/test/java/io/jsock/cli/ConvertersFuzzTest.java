package io.jsock.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.math.RoundingMode;
import java.time.Duration;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import picocli.CommandLine.TypeConversionException;

/**
 * The CLI's option converters ({@link Durations}, {@link ShortDuration}, {@link Sizes}, {@link
 * Port}, {@link WholeNumbers}): whatever text an option is given, each answers the value its
 * documented form names, exactly (decimals read as decimals), or a {@link TypeConversionException},
 * never another exception; and what {@code Durations.format} and {@code Sizes.format} write reads
 * back as the same value.
 */
final class ConvertersFuzzTest {
  private static final String[] PIECES = {
    "0",
    "1",
    "5",
    ".",
    ".5",
    "9",
    "000",
    "999999999",
    "9007199254740993",
    "1e3",
    " ",
    "\t",
    "-",
    "+",
    "us",
    "µs",
    "ms",
    "MS",
    "s",
    "S",
    "m",
    "h",
    "H",
    "B",
    "KiB",
    "kib",
    "MiB",
    "GiB",
    "KB",
    "kB",
    "MB",
    "GB",
    "/s",
    "\u0660",
    "\u00a0"
  };

  /** Nanoseconds per unit of Durations. */
  private static final Pattern DURATION =
      Pattern.compile("([0-9]+(?:\\.[0-9]*)?|\\.[0-9]+)[ \\t\\n\\x0B\\f\\r]*(us|µs|ms|s|m|h)?");

  private static final Pattern SHORT = Pattern.compile("([0-9]{1,9})(ms|s|m)");
  private static final Pattern SIZE =
      Pattern.compile(
          "([0-9]+(?:\\.[0-9]*)?|\\.[0-9]+)[ \\t\\n\\x0B\\f\\r]*(B|KiB|MiB|GiB|KB|kB|MB|GB)?");
  private static final long LONGEST = Long.MAX_VALUE / 2;

  @FuzzTest(maxDuration = "2m")
  void readsDurationsExactly(FuzzedDataProvider data) {
    String text = text(data);
    Duration read;
    try {
      read = Durations.parse(text);
    } catch (TypeConversionException refused) {
      Long expected = durationNanos(text);
      assertThat(expected).as("refused '%s' (%s)", text, refused.getMessage()).isNull();
      return;
    }
    assertThat(read.toNanos()).as("'%s'", text).isEqualTo(durationNanos(text));
    String written = Durations.format(read);
    assertThat(Durations.parse(written)).as("'%s' written as '%s'", text, written).isEqualTo(read);
  }

  @FuzzTest(maxDuration = "2m")
  void readsShortDurationsExactly(FuzzedDataProvider data) {
    String text = text(data);
    Duration read;
    Matcher form = SHORT.matcher(text.strip());
    try {
      read = new ShortDuration().convert(text);
    } catch (TypeConversionException refused) {
      if (form.matches()) {
        assertThat(shortNanos(form))
            .as("refused '%s'", text)
            .isGreaterThan(BigInteger.valueOf(LONGEST));
      }
      return;
    }
    assertThat(form.matches()).as("read '%s'", text).isTrue();
    assertThat(BigInteger.valueOf(read.toNanos())).as("'%s'", text).isEqualTo(shortNanos(form));
    long millis = read.toMillis();
    String expected =
        millis < 1000
            ? millis + "ms"
            : millis % 1000 == 0
                ? millis / 1000 + "s"
                : BigDecimal.valueOf(millis, 3).toPlainString() + "s";
    assertThat(ShortDuration.format(read)).as("'%s' shown", text).isEqualTo(expected);
  }

  @FuzzTest(maxDuration = "2m")
  void readsSizesExactly(FuzzedDataProvider data) {
    String text = text(data);
    long read;
    try {
      read = Sizes.parse(text);
    } catch (TypeConversionException refused) {
      Long expected = sizeBytes(text);
      assertThat(expected).as("refused '%s' (%s)", text, refused.getMessage()).isNull();
      return;
    }
    assertThat(read).as("'%s'", text).isEqualTo(sizeBytes(text));
    String written = Sizes.format(read);
    assertThat(Sizes.parse(written)).as("'%s' written as '%s'", text, written).isEqualTo(read);
  }

  @FuzzTest(maxDuration = "2m")
  void readsPortsAsNumbers(FuzzedDataProvider data) {
    String text = text(data);
    String stripped = text.strip();
    Integer expected = null;
    if (stripped.matches("[+-]?[0-9]+")) {
      BigInteger value = new BigInteger(stripped);
      if (value.signum() >= 0 && value.compareTo(BigInteger.valueOf(65535)) <= 0) {
        expected = value.intValue();
      }
    }
    Integer read;
    try {
      read = new Port().convert(text);
    } catch (TypeConversionException refused) {
      read = null;
    }
    assertThat(read).as("'%s'", text).isEqualTo(expected);
  }

  @FuzzTest(maxDuration = "2m")
  void readsWholeNumbersInAsciiDigits(FuzzedDataProvider data) {
    long max = data.consumeBoolean() ? Integer.MAX_VALUE : Long.MAX_VALUE;
    String text = text(data);
    String stripped = text.strip();
    Long expected = null;
    if (stripped.matches("[0-9]+")
        && new BigInteger(stripped).compareTo(BigInteger.valueOf(max)) <= 0) {
      expected = Long.parseLong(stripped);
    }
    Long read;
    try {
      read = WholeNumbers.parse(text, max);
    } catch (TypeConversionException refused) {
      assertThat(refused).as("'%s'", text).hasMessageContaining("'" + text + "'");
      read = null;
    }
    assertThat(read).as("'%s' (at most %d)", text, max).isEqualTo(expected);
  }

  private static String text(FuzzedDataProvider data) {
    StringBuilder built = new StringBuilder();
    int pieces = data.consumeInt(0, 6);
    for (int i = 0; i < pieces; i++) {
      built.append(
          data.consumeBoolean()
              ? data.pickValue(PIECES)
              : data.consumeString(data.consumeInt(0, 8)));
    }
    return built.toString();
  }

  /** The nanoseconds a duration names, rounded half up, or null if Durations must refuse it. */
  static Long durationNanos(String text) {
    Matcher m = DURATION.matcher(text.strip());
    if (!m.matches()) {
      m = Pattern.compile(DURATION.pattern(), Pattern.CASE_INSENSITIVE).matcher(text.strip());
      if (!m.matches()) {
        return null;
      }
    }
    String unit = m.group(2) == null ? "s" : m.group(2).toLowerCase(Locale.ROOT);
    long perUnit =
        switch (unit) {
          case "us", "µs" -> 1_000L;
          case "ms" -> 1_000_000L;
          case "s" -> 1_000_000_000L;
          case "m" -> 60_000_000_000L;
          default -> 3_600_000_000_000L;
        };
    BigDecimal nanos = new BigDecimal(m.group(1)).multiply(BigDecimal.valueOf(perUnit));
    BigInteger whole = nanos.setScale(0, RoundingMode.HALF_UP).toBigIntegerExact();
    return whole.compareTo(BigInteger.valueOf(LONGEST)) > 0 ? null : whole.longValueExact();
  }

  private static BigInteger shortNanos(Matcher form) {
    long perUnit =
        switch (form.group(2)) {
          case "ms" -> 1_000_000L;
          case "s" -> 1_000_000_000L;
          default -> 60_000_000_000L;
        };
    return new BigInteger(form.group(1)).multiply(BigInteger.valueOf(perUnit));
  }

  /** The bytes a size names, rounded half up, or null if Sizes must refuse it. */
  private static Long sizeBytes(String text) {
    Matcher m = SIZE.matcher(text.strip());
    if (!m.matches()) {
      return null;
    }
    long perUnit =
        m.group(2) == null
            ? 1
            : switch (m.group(2)) {
              case "KiB" -> 1L << 10;
              case "MiB" -> 1L << 20;
              case "GiB" -> 1L << 30;
              case "KB", "kB" -> 1_000L;
              case "MB" -> 1_000_000L;
              case "GB" -> 1_000_000_000L;
              default -> 1L;
            };
    BigDecimal bytes = new BigDecimal(m.group(1)).multiply(BigDecimal.valueOf(perUnit));
    BigInteger whole = bytes.setScale(0, RoundingMode.HALF_UP).toBigIntegerExact();
    return whole.compareTo(BigInteger.valueOf(LONGEST)) > 0 ? null : whole.longValueExact();
  }
}
