package io.jsock.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.HexFormat;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Literal parsing and writing, with CPython's vectors from {@code Lib/test/test_socket.py} ({@code
 * testIPv4toString}, {@code testIPv6toString}, {@code testStringToIPv4}, {@code testStringToIPv6})
 * and glibc's behaviour as Python on Linux shows it. Bytes are written in hex.
 */
class LiteralsTest {
  private static final HexFormat HEX = HexFormat.of();

  @ParameterizedTest
  @CsvSource({
    "0.0.0.0, 00000000",
    "255.0.255.0, ff00ff00",
    "170.170.170.170, aaaaaaaa",
    "1.2.3.4, 01020304",
    "255.255.255.255, ffffffff",
    "10.0.0.1, 0a000001",
    "127.0.0.1, 7f000001",
  })
  void parseIpv4ReadsDottedQuads(String text, String hex) {
    assertThat(Literals.parseIpv4(text)).hasValueSatisfying(b -> assertHex(b, hex));
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "0.0.0.",
        "300.0.0.0",
        "a.0.0.0",
        "1.2.3.4.5",
        "::1", // CPython's
        "",
        "1.2.3",
        "1",
        "127.1",
        "01.2.3.4",
        "1.2.3.04",
        "1.2.3.00",
        "256.0.0.0",
        "1..2.3",
        ".1.2.3",
        "1.2.3.4.",
        " 1.2.3.4",
        "1.2.3.4 ",
        "0x1.2.3.4",
        "1.2.3.-4",
        "+1.2.3.4",
        "1.2.3.4/8",
        "１.2.3.4"
      })
  void parseIpv4RejectsAnythingButFourDecimalPartsWithoutLeadingZeros(String text) {
    assertThat(Literals.parseIpv4(text)).isEmpty();
  }

  @ParameterizedTest
  @CsvSource({
    "::, 00000000000000000000000000000000",
    "0::0, 00000000000000000000000000000000",
    "1::, 00010000000000000000000000000000",
    "45ef:76cb:1a:56ef:afeb:bac:1924:aeae, 45ef76cb001a56efafeb0bac1924aeae",
    "ad42:abc::127:0:254:2, ad420abc000000000127000002540002",
    "12:a::, 0012000a000000000000000000000000",
    "::254.42.23.64, 000000000000000000000000fe2a1740",
    "42::a29b:254.42.23.64, 00420000000000000000a29bfe2a1740",
    "42:a8b9:0:2:ffff:a29b:254.42.23.64, 0042a8b900000002ffffa29bfe2a1740",
    "::1, 00000000000000000000000000000001",
    "::ffff:1.2.3.4, 00000000000000000000ffff01020304",
    "::FFFF:1.2.3.4, 00000000000000000000ffff01020304",
    "1:2:3:4:5:6:1.2.3.4, 00010002000300040005000601020304",
    "1:2:3:4:5:6:7::, 00010002000300040005000600070000",
    "::1:2:3:4:5:6:7, 00000001000200030004000500060007",
    "1:2:3:4:5:6:7:8, 00010002000300040005000600070008",
    "2001:DB8::AB, 20010db80000000000000000000000ab",
    "0000:0000::0001, 00000000000000000000000000000001",
  })
  void parseIpv6ReadsEveryRfc4291Form(String text, String hex) {
    assertThat(Literals.parseIpv6(text)).hasValueSatisfying(b -> assertHex(b, hex));
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        // CPython's
        "0x20::",
        ":::",
        "::0::",
        "1::abc::",
        "1::abc::def",
        "1:2:3:4:5:6",
        "1:2:3:4:5:6:",
        "1:2:3:4:5:6:7:8:0",
        "1:2:3:4:5:6:7:8:",
        "255.254.253.252",
        "1::260.2.3.0",
        "1::0.be.e.0",
        "1:2:3:4:5:6:7:1.2.3.4",
        "::1.2.3.4:0",
        "0.100.200.0:3:4:5:6:7:8",
        // and glibc's further rules
        "",
        ":",
        ":1",
        "1:",
        "1::2:3:4:5:6:7:8",
        "::00001",
        "::01.2.3.4",
        "::1.2.3",
        "::1.2.3.4.5",
        "::12345",
        "fe80::1%lo",
        "fe80::1%1",
        " ::1",
        "::1 ",
        "[::1]",
        "::1q",
        "::1::2",
        "1:1:1:1:1:1:1:1:1",
        "::g",
        "1:2:3:4:5:6:7:8:9"
      })
  void parseIpv6RejectsWhatGlibcRejects(String text) {
    assertThat(Literals.parseIpv6(text)).isEmpty();
  }

  @ParameterizedTest
  @CsvSource({
    "0.0.0.0, 00000000",
    "255.255.255.255, ffffffff",
    "255.0.255.0, ff00ff00",
    "170.170.170.170, aaaaaaaa",
    "1.2.3.4, 01020304",
    "127.1, 7f000001",
    "0x7f.1, 7f000001",
    "017.1.2, 0f010002",
    "1.16777215, 01ffffff",
    "1.2.65535, 0102ffff",
    "4294967295, ffffffff",
    "0xffffffff, ffffffff",
    "0XFF.0Xa.0.010, ff0a0008",
    "0, 00000000",
    "00, 00000000",
    "0x0, 00000000",
  })
  void parseAtonReadsTheClassicFormsInAnyBase(String text, String hex) {
    assertThat(Literals.parseAton(text)).hasValueSatisfying(b -> assertHex(b, hex));
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "0.0.0.",
        "300.0.0.0",
        "a.0.0.0",
        "1.2.3.4.5",
        "::1", // CPython's
        "",
        "08",
        "09.1",
        "0x",
        "0x.1.2.3",
        "0xg",
        "0x100000000",
        "4294967296",
        "1.16777216",
        "1.2.65536",
        "1.2.3.256",
        "256.1",
        " 1.2.3.4",
        "+1.2.3.4",
        "-1",
        "1..2",
        ".1",
        "1.2.3.4 junk",
        "1.2.3.4 ",
        "1.2.3.4\n",
        "99999999999999999999",
        "١.2.3.4"
      })
  void parseAtonRejectsEverythingElse(String text) {
    assertThat(Literals.parseAton(text)).isEmpty();
  }

  @Test
  void ipv4TextWritesDottedQuads() {
    assertThat(Literals.ipv4Text(HEX.parseHex("01000100"))).isEqualTo("1.0.1.0");
    assertThat(Literals.ipv4Text(HEX.parseHex("aa55aa55"))).isEqualTo("170.85.170.85");
    assertThat(Literals.ipv4Text(HEX.parseHex("ffffffff"))).isEqualTo("255.255.255.255");
    assertThat(Literals.ipv4Text(HEX.parseHex("01020304"))).isEqualTo("1.2.3.4");
    assertThatThrownBy(() -> Literals.ipv4Text(new byte[5]))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("packed IP address must be 4 bytes, not 5");
  }

  @ParameterizedTest
  @CsvSource({
    "00000000000000000000000000000000, ::",
    "00000000000000000000000000000001, ::1",
    "0aef0b0105061001ffff999700550170, aef:b01:506:1001:ffff:9997:55:170", // CPython's
    "20010db8000000000001000000000001, 2001:db8::1:0:0:1", // the first of equal runs
    "20010db8000000010001000100010001, 2001:db8:0:1:1:1:1:1", // one zero group stays
    "20010db80000000000000000000000ab, 2001:db8::ab",
    "00010000000000000000000000000000, 1::",
    "fe800000000000000000000000000001, fe80::1",
    "00000000000000000000ffff01020304, ::ffff:1.2.3.4", // IPv4-mapped, as glibc writes it
    "00000000000000000000ffff00000000, ::ffff:0.0.0.0",
    "00000000000000000000000001020304, ::1.2.3.4", // IPv4-compatible, as glibc writes it
    "00000000000000000000000000020003, ::0.2.0.3",
    "00000000000000000000000000000100, ::100", // seven zero groups: not IPv4
    "0000000000000000ffff000001020304, ::ffff:0:102:304", // IPv4-translated: hex, as glibc
    "00010000000000000000ffff01020304, 1::ffff:102:304",
  })
  void ipv6TextWritesRfc5952AsLinuxDoes(String hex, String text) {
    assertThat(Literals.ipv6Text(HEX.parseHex(hex))).isEqualTo(text);
  }

  @Test
  void ipv6TextRoundTripsThroughParseIpv6() {
    for (String text :
        new String[] {"::", "::1", "2001:db8::1:0:0:1", "::ffff:10.0.0.1", "1:2:3:4:5:6:7:8"}) {
      assertThat(Literals.ipv6Text(Literals.parseIpv6(text).orElseThrow())).isEqualTo(text);
    }
  }

  @Test
  void ipv6TextRejectsAWrongLength() {
    assertThatThrownBy(() -> Literals.ipv6Text(new byte[15]))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("packed IP address must be 16 bytes, not 15");
  }

  // what python3 3.11 / OpenSSL 3.0 check a certificate's IP addresses against (a2i_IPADDRESS
  // after the idna codec); each row checked with openssl 3.0.20 x509 -checkip
  @ParameterizedTest
  @CsvSource({
    "127.0.0.1, 7f000001",
    "127.000.000.001, 7f000001",
    "010.0.0.1, 0a000001", // decimal, where inet_aton reads octal 8.0.0.1
    "255.255.255.255, ffffffff",
    "1.2.3.4294967297, 01020301", // sscanf's %d keeps the int of strtol's long
    "1.2.3.-4294967296, 01020300",
    "1.2.3.-99999999999999999999, 01020300", // strtol's LONG_MIN, whose int is 0
    "-0.2.3.1, 00020301",
    "+1.2.3.1, 01020301",
    "1.+2.3.1, 01020301",
    "' 1.2.3.1', 01020301", // %d skips spaces before a number
    "'1. 2.3.1', 01020301",
    "'1.2.3.1 ', 01020301", // and anything may follow a space
    "'1.2.3.1 junk', 01020301",
    "'1.2.3.1\n', 01020301",
    "'1.2.3.1\tx', 01020301",
    "\uff11\uff12\uff17.0.0.1, 7f000001", // fullwidth digits, which the idna codec maps
    "127\uff0e0.0.1, 7f000001", // and a fullwidth full stop
    "::1, 00000000000000000000000000000001",
    "::, 00000000000000000000000000000000",
    "1::, 00010000000000000000000000000000",
    "1:2:3:4:5:6:7::, 00010002000300040005000600070000",
    "::2:3:4:5:6:7:8, 00000002000300040005000600070008",
    "1:2:3:4:5:6::8, 00010002000300040005000600000008",
    "::0001, 00000000000000000000000000000001",
    "::FFFF:A00:1, 00000000000000000000ffff0a000001",
    "::ffff:127.0.0.1, 00000000000000000000ffff7f000001",
    "::ffff:010.0.0.1, 00000000000000000000ffff0a000001",
    "'::ffff: 10.0.0.1', 00000000000000000000ffff0a000001",
    "'::ffff:10.0.0.1 junk', 00000000000000000000ffff0a000001",
    "1:2:3:4:5:6:1.2.3.4, 00010002000300040005000601020304",
  })
  void parseCertificateAddressReadsWhatOpensslTakesForAnAddress(String text, String hex) {
    assertThat(Literals.parseCertificateAddress(text)).hasValueSatisfying(b -> assertHex(b, hex));
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "127.1",
        "2130706433",
        "0x7f.0.0.1",
        "256.0.0.1",
        "1.2.3.4294967552", // an int of 256
        "1.2.3.99999999999",
        "1.2.3.99999999999999999999", // strtol's LONG_MAX, whose int is -1
        "1 .2.3.1",
        "1.2.3.1x",
        "1.2.3.1.",
        "1.2.3.4.5",
        "1.2.3.",
        "1..2.3",
        "",
        "localhost",
        ":1",
        "1:",
        ":::",
        "1:::2",
        "::1::2",
        "1:2:3:4:5:6:7:8:9",
        "1:2:3:4:5:6:7:8::",
        "1:2:3:4:5:6:7:1.2.3.4",
        "1.2.3.4::",
        "::1.2.3.4:1",
        "::00001",
        "::g",
        "::+1",
        "::1 ", // spaces only around an IPv4 address
        " ::1",
        "fe80::1%lo",
        "fe80::1%1"
      })
  void parseCertificateAddressTakesTheRestForHostNames(String text) {
    assertThat(Literals.parseCertificateAddress(text)).isEmpty();
  }

  private static void assertHex(byte[] actual, String hex) {
    assertThat(HEX.formatHex(actual)).isEqualTo(hex);
  }
}
