package io.jsock.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.Locale;
import org.junit.jupiter.api.Test;
import picocli.CommandLine.TypeConversionException;

/** The durations {@code jsock bench} takes: {@code 500ms}, {@code 2s}, {@code 1m}. */
class ShortDurationTest {
  private final ShortDuration converter = new ShortDuration();

  @Test
  void readsMillisecondsSecondsAndMinutes() {
    assertThat(converter.convert("500ms")).isEqualTo(Duration.ofMillis(500));
    assertThat(converter.convert("2s")).isEqualTo(Duration.ofSeconds(2));
    assertThat(converter.convert(" 1m ")).isEqualTo(Duration.ofMinutes(1));
  }

  @Test
  void refusesANumberWithoutAUnitNamingTheForm() {
    assertThatThrownBy(() -> converter.convert("10"))
        .isInstanceOf(TypeConversionException.class)
        .hasMessage("not a duration (a whole number and ms, s or m, as 500ms, 2s, 1m): 10");
    assertThatThrownBy(() -> converter.convert("-1s")).isInstanceOf(TypeConversionException.class);
  }

  @Test
  void refusesADurationTooLongForNanosecondsToCount() {
    // 999999999m went through, and the run's toNanos() overflowed: "jsock: long overflow", exit 1
    assertThatThrownBy(() -> converter.convert("999999999m"))
        .isInstanceOf(TypeConversionException.class)
        .hasMessage("duration too long: 999999999m");
    assertThat(converter.convert("999999999s")).isEqualTo(Duration.ofSeconds(999_999_999));
  }

  @Test
  void formatsAsItReads() {
    assertThat(ShortDuration.format(Duration.ofMillis(500))).isEqualTo("500ms");
    assertThat(ShortDuration.format(Duration.ofSeconds(10))).isEqualTo("10s");
    assertThat(ShortDuration.format(Duration.ofMillis(1500))).isEqualTo("1.500s");
  }

  @Test
  void formatsWithAPointWhateverTheLocale() {
    // String.format took the default locale: with LANG=de_DE.UTF-8 the bench report and echo's
    // timeout message said 1,500s
    Locale before = Locale.getDefault();
    try {
      Locale.setDefault(Locale.GERMANY);
      assertThat(ShortDuration.format(Duration.ofMillis(1500))).isEqualTo("1.500s");
      Locale.setDefault(Locale.forLanguageTag("ar-EG"));
      assertThat(ShortDuration.format(Duration.ofMillis(1250))).isEqualTo("1.250s");
    } finally {
      Locale.setDefault(before);
    }
  }
}
