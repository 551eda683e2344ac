package io.jsock.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;
import picocli.CommandLine.TypeConversionException;

/** {@code --rate} as people write it: binary and decimal prefixes, with or without "B/s". */
class ByteRatesTest {
  @Test
  void readsBinaryAndDecimalPrefixes() {
    assertThat(ByteRates.parse("2MiB/s")).isEqualTo(2 * 1024 * 1024);
    assertThat(ByteRates.parse("500KiB/s")).isEqualTo(500 * 1024);
    assertThat(ByteRates.parse("10MB/s")).isEqualTo(10_000_000);
    assertThat(ByteRates.parse("1.5M")).isEqualTo(1_500_000);
    assertThat(ByteRates.parse("1gib")).isEqualTo(1L << 30);
    assertThat(ByteRates.parse("4096")).isEqualTo(4096);
  }

  @Test
  void refusesWordsAndRatesBelowOneBytePerSecond() {
    assertThatThrownBy(() -> ByteRates.parse("fast"))
        .isInstanceOf(TypeConversionException.class)
        .hasMessageStartingWith("not a rate: 'fast'");
    assertThatThrownBy(() -> ByteRates.parse("0.1"))
        .isInstanceOf(TypeConversionException.class)
        .hasMessageStartingWith("rate too low");
  }

  @Test
  void writesByteCountsInBinaryUnits() {
    assertThat(ByteRates.bytes(512)).isEqualTo("512 B");
    assertThat(ByteRates.bytes(32 << 20)).isEqualTo("32.0 MiB");
    assertThat(ByteRates.bytes(1536)).isEqualTo("1.5 KiB");
  }
}
