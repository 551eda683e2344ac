package io.jsock.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import picocli.CommandLine.TypeConversionException;

/** The parsers behind relay's and broker's options: sizes, rates, jitter and endpoints. */
class FaultParsersTest {
  @Test
  void sizesReadAsPeopleWriteThem() {
    assertThat(Sizes.parse("1000")).isEqualTo(1000);
    assertThat(Sizes.parse("64KiB")).isEqualTo(64 * 1024);
    assertThat(Sizes.parse("1MiB")).isEqualTo(1 << 20);
    assertThat(Sizes.parse("1.5MiB")).isEqualTo(3 << 19);
    assertThat(Sizes.parse("2GiB")).isEqualTo(2L << 30);
    assertThat(Sizes.parse("64KB")).isEqualTo(64_000);
    assertThat(Sizes.parse("1MB")).isEqualTo(1_000_000);
    assertThat(Sizes.parse("7B")).isEqualTo(7);
    assertThat(Sizes.format(1 << 20)).isEqualTo("1MiB");
    assertThat(Sizes.format(64 * 1024)).isEqualTo("64KiB");
    assertThat(Sizes.format(1000)).isEqualTo("1000B");
  }

  @Test
  void sizesAreReadInDecimalToTheByte() {
    // read through a double, sizes above 2^53 bytes lost their last digits, and what
    // Sizes.format wrote (9007199254740993B) did not read back
    assertThat(Sizes.parse("9007199254740993")).isEqualTo(9_007_199_254_740_993L);
    assertThat(Sizes.parse(Sizes.format(9_007_199_254_740_993L))).isEqualTo(9_007_199_254_740_993L);
    assertThat(Sizes.parse("0.5B")).isEqualTo(1);
    assertThatThrownBy(() -> Sizes.parse("4611686018427387904"))
        .hasMessage("size too large: '4611686018427387904'");
    assertThat(Sizes.parse("4611686018427387903")).isEqualTo(Long.MAX_VALUE / 2);
  }

  @Test
  void aSizeMayBeginOrEndWithItsPointAsADurationMay() {
    // Durations took .5s and 5. (ncat's -w .5) while Sizes refused .5MiB and 1.MiB
    assertThat(Sizes.parse(".5MiB")).isEqualTo(1 << 19);
    assertThat(Sizes.parse("1.MiB")).isEqualTo(1 << 20);
    assertThat(Sizes.parse(".5")).isEqualTo(1);
    assertThat(Sizes.Rate.parse(".25MiB/s")).isEqualTo(1 << 18);
  }

  @Test
  void aBadSizeSaysHowToWriteOne() {
    for (String bad : List.of("", "-1", "1XiB", "MiB", ".MiB", "1..5MiB", "1 MiB/s")) {
      assertThatThrownBy(() -> Sizes.parse(bad))
          .isInstanceOf(TypeConversionException.class)
          .hasMessage("not a size: '" + bad + "' (write it as 1000, 64KiB, 1MiB or 1MB)");
    }
    assertThatThrownBy(() -> Sizes.parse("99999999999GiB"))
        .hasMessage("size too large: '99999999999GiB'");
  }

  @Test
  void ratesAreSizesPerSecond() {
    assertThat(Sizes.Rate.parse("1MiB/s")).isEqualTo(1 << 20);
    assertThat(Sizes.Rate.parse("64KiB/s")).isEqualTo(64 * 1024);
    assertThat(Sizes.Rate.parse("1000/s")).isEqualTo(1000);
    assertThat(Sizes.Rate.parse("1000")).isEqualTo(1000);
    assertThatThrownBy(() -> Sizes.Rate.parse("1MiB/h"))
        .hasMessage("not a rate: '1MiB/h' (write it as 1MiB/s, 64KiB/s or 1000/s)");
    assertThatThrownBy(() -> Sizes.Rate.parse("0/s")).hasMessage("rate must be above zero: '0/s'");
  }

  @Test
  void durationsWithJitterTakePlusMinusInEitherSpelling() {
    Jitter j = Jitter.parseDuration("50ms±20ms");
    assertThat(j).isEqualTo(new Jitter(50_000_000, 20_000_000));
    assertThat(Jitter.parseDuration("50ms+-20ms")).isEqualTo(j);
    assertThat(Jitter.parseDuration("1s")).isEqualTo(new Jitter(1_000_000_000, 0));
    assertThat(j.formatDuration()).isEqualTo("50ms±20ms");
    assertThat(j.least()).isEqualTo(30_000_000);
    for (int i = 0; i < 1000; i++) {
      assertThat(j.draw()).isBetween(30_000_000L, 70_000_000L);
    }
    assertThat(new Jitter(10, 50).draw()).isNotNegative();
  }

  @Test
  void aLatencysLongestDrawIsNoLongerThanAnyDuration() {
    // each part may be as long as a duration (Decimals.LARGEST nanoseconds) but not their sum:
    // System.nanoTime() plus a draw near Long.MAX_VALUE wrapped, and the chunk went out at once
    assertThatThrownBy(() -> Jitter.parseDuration("1281023h±1281023h"))
        .isInstanceOf(TypeConversionException.class)
        .hasMessage(
            "duration too long: '1281023h±1281023h' (DELAY + JITTER, the longest delay drawn,"
                + " must not pass 1281023h)");
    assertThat(Jitter.parseDuration("1000000h±281023h"))
        .isEqualTo(new Jitter(3_600_000_000_000_000_000L, 1_011_682_800_000_000_000L));
    InProcess run = InProcess.run("relay", "--latency", "1281023h+-1h", "0", "localhost:0");
    int code = run.exit();
    String err = run.err();
    assertThat(code).isEqualTo(2);
    assertThat(err.toString())
        .startsWith("jsock: Invalid value for option '--latency': duration too long");
  }

  @Test
  void aBadDurationWithJitterSaysHowToWriteOne() {
    for (String bad : List.of("", "50", "50ms±", "±20ms", "50ms±20ms±1ms", "fast", "50ms-20ms")) {
      if (bad.equals("50")) {
        continue; // a bare number is seconds, as in every duration option
      }
      assertThatThrownBy(() -> Jitter.parseDuration(bad))
          .isInstanceOf(TypeConversionException.class)
          .hasMessage(
              "not a duration with jitter: '"
                  + bad
                  + "' (write it as 50ms±20ms, 50ms+-20ms or 50ms)");
    }
  }

  @Test
  void countsWithJitterNeverDrawBelowOne() {
    Jitter j = Jitter.parseCount("7±5");
    assertThat(j).isEqualTo(new Jitter(7, 5));
    assertThat(Jitter.parseCount("7+-5")).isEqualTo(j);
    assertThat(Jitter.parseCount("7")).isEqualTo(new Jitter(7, 0));
    for (int i = 0; i < 1000; i++) {
      assertThat(j.draw()).isBetween(2L, 12L);
    }
    assertThatThrownBy(() -> Jitter.parseCount("5±5"))
        .hasMessage("count out of range: '5±5' (the least value, base - spread, must be >= 1)");
    assertThatThrownBy(() -> Jitter.parseCount("0"))
        .hasMessageStartingWith("count out of range: '0'");
    for (String bad : List.of("", "seven", "7±", "7.5", "7±x", "7ms")) {
      assertThatThrownBy(() -> Jitter.parseCount(bad))
          .isInstanceOf(TypeConversionException.class)
          .hasMessage("not a count with jitter: '" + bad + "' (write it as 7±5, 7+-5 or 7)");
    }
  }

  @Test
  void aSliceCountIsWrittenInAsciiDigitsAndItsLargestDrawFitsALong() {
    // Long.parseLong took a sign and any Unicode digit: --slice \u0667 (Arabic-Indic 7) sliced in
    // 7s and +7 was 7, where ports and prefix lengths take ASCII digits only; and a base plus
    // spread past Long.MAX_VALUE drew negative pieces, written as 0-byte pieces
    for (String bad : List.of("\u0667", "7\u00b1\u0665", "+7", "7\u00b1+5")) {
      assertThatThrownBy(() -> Jitter.parseCount(bad))
          .isInstanceOf(TypeConversionException.class)
          .hasMessage("not a count with jitter: '" + bad + "' (write it as 7\u00b15, 7+-5 or 7)");
    }
    assertThatThrownBy(() -> Jitter.parseCount("9223372036854775807\u00b11"))
        .isInstanceOf(TypeConversionException.class)
        .hasMessageStartingWith("count out of range: '9223372036854775807\u00b11'");
    assertThat(Jitter.parseCount("0007 \u00b1 05")).isEqualTo(new Jitter(7, 5));
    assertThat(Jitter.parseCount("9223372036854775806\u00b11"))
        .isEqualTo(new Jitter(Long.MAX_VALUE - 1, 1));
  }

  @Test
  void endpointsReadAsSocatsButSimpler() {
    assertThat(RelayEndpoint.parse("8080"))
        .isEqualTo(new RelayEndpoint(RelayEndpoint.Scheme.TCP, null, 8080, null));
    assertThat(RelayEndpoint.parse("example.com:80"))
        .isEqualTo(new RelayEndpoint(RelayEndpoint.Scheme.TCP, "example.com", 80, null));
    assertThat(RelayEndpoint.parse("tcp:[::1]:8080"))
        .isEqualTo(new RelayEndpoint(RelayEndpoint.Scheme.TCP, "::1", 8080, null));
    assertThat(RelayEndpoint.parse("[::1]:8080").host()).isEqualTo("::1");
    assertThat(RelayEndpoint.parse("udp:53"))
        .isEqualTo(new RelayEndpoint(RelayEndpoint.Scheme.UDP, null, 53, null));
    assertThat(RelayEndpoint.parse("TLS:my-host.example:443"))
        .isEqualTo(new RelayEndpoint(RelayEndpoint.Scheme.TLS, "my-host.example", 443, null));
    assertThat(RelayEndpoint.parse("unix:/tmp/a b.sock"))
        .isEqualTo(new RelayEndpoint(RelayEndpoint.Scheme.UNIX, null, 0, Path.of("/tmp/a b.sock")));
    assertThat(RelayEndpoint.parse("tls+unix:x.sock").scheme())
        .isEqualTo(RelayEndpoint.Scheme.TLS_UNIX);
    assertThat(RelayEndpoint.parse("tcp:[::1]:8080").toString()).isEqualTo("tcp:[::1]:8080");
    assertThat(RelayEndpoint.parse("unix:/x").toString()).isEqualTo("unix:/x");
    assertThat(RelayEndpoint.parse("9").toString()).isEqualTo("tcp:9");
  }

  @Test
  void aBadEndpointSaysHowToWriteOne() {
    assertThatThrownBy(() -> RelayEndpoint.parse("unix:"))
        .isInstanceOf(TypeConversionException.class)
        .hasMessageStartingWith("not an endpoint: 'unix:' (write PORT, HOST:PORT, tcp:HOST:PORT");
    assertThatThrownBy(() -> RelayEndpoint.parse("::1:80"))
        .hasMessage("not an endpoint: '::1:80' (write IPv6 addresses in brackets: tcp:[::1]:8080)");
    assertThatThrownBy(() -> RelayEndpoint.parse("tcp:host:99999"))
        .hasMessage("not an endpoint: 'tcp:host:99999' (port out of range 0..65535: 99999)");
    assertThatThrownBy(() -> RelayEndpoint.parse("host:http"))
        .hasMessage("not an endpoint: 'host:http' (not a port number: http)");
    assertThatThrownBy(() -> RelayEndpoint.parse(":80")).hasMessageStartingWith("not an endpoint");
    // in brackets but without a port: the port is what is missing
    assertThatThrownBy(() -> RelayEndpoint.parse("tcp:[::1]"))
        .hasMessage("not an endpoint: 'tcp:[::1]' (no port: write tcp:[::1]:PORT)");
    assertThatThrownBy(() -> RelayEndpoint.parse("[fe80::1%eth0]"))
        .hasMessage("not an endpoint: '[fe80::1%eth0]' (no port: write [fe80::1%eth0]:PORT)");
  }

  @Test
  void aPortIsWrittenInAsciiDigits() {
    // Integer.parseInt took any Unicode digit: "\u0668\u0660" (Arabic-Indic 80) was port 80, and
    // "tcp:host:\u0668\u0660" an endpoint, where ncat says 'Invalid port number'
    assertThatThrownBy(() -> new Port().convert("\u0668\u0660"))
        .isInstanceOf(TypeConversionException.class)
        .hasMessage("not a port number: \u0668\u0660");
    assertThatThrownBy(() -> RelayEndpoint.parse("tcp:host:\u0668\u0660"))
        .hasMessage("not an endpoint: 'tcp:host:\u0668\u0660' (not a port number: \u0668\u0660)");
    assertThat(new Port().convert("+80")).isEqualTo(80); // as ncat
    assertThatThrownBy(() -> new Port().convert("-1")).hasMessage("port out of range 0..65535: -1");
  }

  @Test
  void aPortMayHaveAnyNumberOfLeadingZerosAsNcatAndGetaddrinfoTakeIt() {
    // ncat -l 127.0.0.1 00000000001234 listens on 1234, Python's getaddrinfo reads '0000000080'
    // as 80; "not a port number" came from the nine-digit bound meant against overflow
    assertThat(new Port().convert("0000000080")).isEqualTo(80);
    assertThat(new Port().convert("+00000000001234")).isEqualTo(1234);
    assertThat(RelayEndpoint.parse("tcp:host:0000000080").port()).isEqualTo(80);
    assertThatThrownBy(() -> new Port().convert("00000000099999"))
        .hasMessage("port out of range 0..65535: 99999");
    assertThatThrownBy(() -> new Port().convert("0000012345678901"))
        .hasMessage("not a port number: 0000012345678901");
  }

  @Test
  void aPathWithANulIsNotAnEndpoint() {
    // Path.of's InvalidPathException escaped the converter
    assertThatThrownBy(() -> RelayEndpoint.parse("unix:/tmp/a\0b"))
        .isInstanceOf(TypeConversionException.class)
        .hasMessageStartingWith("not an endpoint: 'unix:/tmp/a\0b' (write PORT, HOST:PORT");
    assertThatThrownBy(() -> new RelayEndpoint.Converter().convert("tls+unix:\0"))
        .isInstanceOf(TypeConversionException.class);
  }

  @Test
  void durationOfAFaultFormatsBack() {
    assertThat(Durations.format(Duration.ofMillis(250))).isEqualTo("250ms");
    assertThat(Durations.format(Duration.ofNanos(250_000))).isEqualTo("250us");
    assertThat(Durations.format(Duration.ofNanos(1_500_000))).isEqualTo("1500us");
    assertThat(Jitter.parseDuration("2ms±500us").formatDuration()).isEqualTo("2ms±500us");
    // above 10 s, and with parts of a millisecond above 1 s, every digit given is kept
    for (String given : List.of("12.25s", "10.05s", "1.0005s", "1.2505s", "90.5s", "1.5s", "60s")) {
      assertThat(Durations.format(Durations.parse(given))).as(given).isEqualTo(given);
    }
    assertThat(Jitter.parseDuration("12.25s±1.5s").formatDuration()).isEqualTo("12.25s±1.5s");
  }

  @Test
  void durationsAreReadInDecimalToTheNanosecond() {
    // read through a double, 999999999.999999999 s was 1e18 ns, and above 104 days (2^53 ns)
    // the last digits of every duration were lost
    assertThat(Durations.parse("999999999.999999999"))
        .isEqualTo(Duration.ofNanos(999_999_999_999_999_999L));
    assertThat(Durations.parse("9007199.254740993s"))
        .isEqualTo(Duration.ofNanos(9_007_199_254_740_993L));
    assertThat(Durations.parse("0.0000000005s")).isEqualTo(Duration.ofNanos(1));
    assertThatThrownBy(() -> Durations.parse("4611686018.427387904s"))
        .hasMessage("duration too long: '4611686018.427387904s'");
    assertThat(Durations.parse("4611686018.427387903s"))
        .isEqualTo(Duration.ofNanos(Long.MAX_VALUE / 2));
  }

  @Test
  void durationOfPartsOfAMicrosecondFormatsBackWithEveryDigit() {
    // below a millisecond, nanoseconds were cut to whole microseconds: --slice-delay 1.5us was
    // shown as "--slice-delay 1us", and 0.5us as 0us
    for (String given : List.of("1.5us", "0.5us", "999.999us", "1000.001us", "250us")) {
      assertThat(Durations.format(Durations.parse(given))).as(given).isEqualTo(given);
    }
    assertThat(Jitter.parseDuration("2ms±0.25us").formatDuration()).isEqualTo("2ms±0.25us");
  }

  @Test
  void byteCountsReadForPeople() {
    assertThat(Sizes.describe(512)).isEqualTo("512 B");
    assertThat(Sizes.describe(32 << 20)).isEqualTo("32.0 MiB");
    assertThat(Sizes.describe(1536)).isEqualTo("1.5 KiB");
  }
}
