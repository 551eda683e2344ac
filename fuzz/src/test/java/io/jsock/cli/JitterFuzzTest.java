package io.jsock.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import java.math.BigInteger;
import picocli.CommandLine.TypeConversionException;

/**
 * Values with a spread, as the fault options take them ({@link Jitter}): {@code BASE}, {@code
 * BASE±SPREAD} or {@code BASE+-SPREAD}, each part a duration ({@link Durations}' form, read by
 * {@link ConvertersFuzzTest#durationNanos}) whose sum is at most half a {@code long} of
 * nanoseconds, or a count in ASCII digits whose least value is at least 1 and whose largest fits a
 * {@code long}. Whatever the text, the value is exactly that, or a {@link TypeConversionException},
 * never another exception; and a duration reads back from what {@code formatDuration} writes.
 */
final class JitterFuzzTest {
  private static final String[] PIECES = {
    "0",
    "1",
    "5",
    "7",
    ".",
    ".5",
    "50",
    "9223372036854775807",
    "4611686018427387904",
    "ms",
    "s",
    "m",
    "h",
    "us",
    " ",
    "\t",
    "±",
    "+-",
    "+",
    "-",
    "-+",
    "\u0660",
    "\u00a0"
  };
  private static final BigInteger LONG_MAX = BigInteger.valueOf(Long.MAX_VALUE);

  @FuzzTest(maxDuration = "2m")
  void readsDurationsWithSpread(FuzzedDataProvider data) {
    String text = text(data);
    String[] parts = parts(text);
    Long base = parts == null ? null : ConvertersFuzzTest.durationNanos(parts[0]);
    Long spread = parts == null || parts.length == 1 ? (Long) 0L : null;
    if (parts != null && parts.length == 2) {
      spread = ConvertersFuzzTest.durationNanos(parts[1]);
    }
    boolean valid = base != null && spread != null && base + spread <= Decimals.LARGEST;
    Jitter read;
    try {
      read = Jitter.parseDuration(text);
    } catch (TypeConversionException refused) {
      assertThat(valid).as("refused %s (%s)", quoted(text), refused.getMessage()).isFalse();
      return;
    }
    assertThat(valid).as("read %s", quoted(text)).isTrue();
    assertThat(read).as("%s", quoted(text)).isEqualTo(new Jitter(base, spread));
    String written = read.formatDuration();
    assertThat(Jitter.parseDuration(written))
        .as("%s written as %s", quoted(text), written)
        .isEqualTo(read);
  }

  @FuzzTest(maxDuration = "2m")
  void readsCountsWithSpread(FuzzedDataProvider data) {
    String text = text(data);
    String[] parts = parts(text);
    BigInteger base = parts == null ? null : count(parts[0]);
    BigInteger spread = parts == null || parts.length == 1 ? BigInteger.ZERO : null;
    if (parts != null && parts.length == 2) {
      spread = count(parts[1]);
    }
    boolean valid =
        base != null
            && spread != null
            && base.subtract(spread).signum() > 0
            && base.add(spread).compareTo(LONG_MAX) <= 0;
    Jitter read;
    try {
      read = Jitter.parseCount(text);
    } catch (TypeConversionException refused) {
      assertThat(valid).as("refused %s (%s)", quoted(text), refused.getMessage()).isFalse();
      return;
    }
    assertThat(valid).as("read %s", quoted(text)).isTrue();
    assertThat(read)
        .as("%s", quoted(text))
        .isEqualTo(new Jitter(base.longValueExact(), spread.longValueExact()));
  }

  /** BASE and maybe SPREAD, split at the one {@code ±} or {@code +-}; null if not so written. */
  private static String[] parts(String text) {
    int plusMinus = text.indexOf('±');
    int written = text.indexOf("+-");
    int at = plusMinus < 0 ? written : written < 0 ? plusMinus : Math.min(plusMinus, written);
    if (at < 0) {
      return new String[] {text};
    }
    String base = text.substring(0, at);
    String spread = text.substring(at + (at == plusMinus ? 1 : 2));
    if (spread.contains("±") || spread.contains("+-")) {
      return null;
    }
    return new String[] {base, spread};
  }

  /** A count in ASCII digits, white space around it aside; null if it is not one. */
  private static BigInteger count(String text) {
    String digits = text.strip();
    return digits.matches("[0-9]+") ? new BigInteger(digits) : null;
  }

  private static String text(FuzzedDataProvider data) {
    StringBuilder built = new StringBuilder();
    int pieces = data.consumeInt(0, 6);
    for (int i = 0; i < pieces; i++) {
      built.append(
          data.consumeBoolean()
              ? data.pickValue(PIECES)
              : data.consumeString(data.consumeInt(0, 6)));
    }
    return built.toString();
  }

  private static String quoted(String text) {
    return ProgramWordsFuzzTest.quoted(text);
  }
}
