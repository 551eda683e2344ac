package io.jsock;

import static io.jsock.Family.AF_INET;
import static io.jsock.Family.AF_INET6;
import static io.jsock.Family.AF_UNIX;
import static io.jsock.NameInfoFlag.NI_DGRAM;
import static io.jsock.NameInfoFlag.NI_NAMEREQD;
import static io.jsock.NameInfoFlag.NI_NUMERICHOST;
import static io.jsock.NameInfoFlag.NI_NUMERICSERV;
import static io.jsock.SocketKind.SOCK_DGRAM;
import static io.jsock.SocketKind.SOCK_STREAM;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;
import static org.assertj.core.api.Assumptions.assumeThat;

import java.io.IOException;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.NetworkInterface;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The module functions. Names resolve only from core's test hosts file ({@code
 * src/test/resources/test-hosts}, set as {@code jdk.net.hosts.file} by the build), so nothing here
 * can send a DNS query; literals are CPython's vectors from {@code Lib/test/test_socket.py}.
 */
class SocketsTest {
  private static final HexFormat HEX = HexFormat.of();

  @AfterEach
  void restoreTheDefault() {
    Sockets.setDefaultTimeout(null);
  }

  @Test
  void theDefaultTimeoutStartsBlocking() {
    assertThat(Sockets.getDefaultTimeout()).isNull();
  }

  @Test
  void setDefaultTimeoutTakesEachOfTheThreeModes() throws Exception {
    Sockets.setDefaultTimeout(Duration.ofMillis(1500));
    assertThat(Sockets.getDefaultTimeout()).isEqualTo(Duration.ofMillis(1500));

    Sockets.setDefaultTimeout(Duration.ZERO);
    assertThat(Sockets.getDefaultTimeout()).isEqualTo(Duration.ZERO);
    try (Socket socket = Socket.create()) {
      assertThat(socket.getBlocking()).isFalse();
    }

    Sockets.setDefaultTimeout(null);
    assertThat(Sockets.getDefaultTimeout()).isNull();
  }

  @Test
  void setDefaultTimeoutRejectsANegativeTimeout() {
    assertThatThrownBy(() -> Sockets.setDefaultTimeout(Duration.ofSeconds(-1)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith("timeout must not be negative");
    assertThat(Sockets.getDefaultTimeout()).isNull();
  }

  // inet_pton, inet_ntop, inet_aton, inet_ntoa

  @ParameterizedTest
  @CsvSource({
    "AF_INET, 0.0.0.0, 00000000",
    "AF_INET, 255.0.255.0, ff00ff00",
    "AF_INET, 170.170.170.170, aaaaaaaa",
    "AF_INET, 255.255.255.255, ffffffff",
    "AF_INET6, ::, 00000000000000000000000000000000",
    "AF_INET6, 1::, 00010000000000000000000000000000",
    "AF_INET6, 45ef:76cb:1a:56ef:afeb:bac:1924:aeae, 45ef76cb001a56efafeb0bac1924aeae",
    "AF_INET6, ad42:abc::127:0:254:2, ad420abc000000000127000002540002",
    "AF_INET6, ::ffff:1.2.3.4, 00000000000000000000ffff01020304",
    "AF_INET6, 42:a8b9:0:2:ffff:a29b:254.42.23.64, 0042a8b900000002ffffa29bfe2a1740",
  })
  void inetPtonPacksALiteralOfTheFamily(Family family, String text, String hex) {
    assertThat(HEX.formatHex(Sockets.inetPton(family, text))).isEqualTo(hex);
  }

  @ParameterizedTest
  @CsvSource({
    "AF_INET, 0.0.0.",
    "AF_INET, 300.0.0.0",
    "AF_INET, a.0.0.0",
    "AF_INET, 1.2.3.4.5",
    "AF_INET, ::1",
    "AF_INET, 1.2.3",
    "AF_INET, 01.2.3.4",
    "AF_INET, 127.1",
    "AF_INET, localhost",
    "AF_INET6, 0x20::",
    "AF_INET6, :::",
    "AF_INET6, ::0::",
    "AF_INET6, 1::abc::def",
    "AF_INET6, 1:2:3:4:5:6",
    "AF_INET6, 1:2:3:4:5:6:7:8:0",
    "AF_INET6, 255.254.253.252",
    "AF_INET6, 1::260.2.3.0",
    "AF_INET6, 1:2:3:4:5:6:7:1.2.3.4",
    "AF_INET6, ::1.2.3.4:0",
    "AF_INET6, fe80::1%1",
    "AF_INET6, localhost",
  })
  void inetPtonRejectsAnythingElseNamingTheString(Family family, String text) {
    assertThatThrownBy(() -> Sockets.inetPton(family, text))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("ipString: illegal IP address string passed to inetPton: \"" + text + "\"");
  }

  @Test
  void inetPtonRejectsAfUnixAndNulls() {
    assertThatThrownBy(() -> Sockets.inetPton(AF_UNIX, "/tmp/s"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("family: inetPton takes AF_INET or AF_INET6, not AF_UNIX");
    assertThatThrownBy(() -> Sockets.inetPton(null, "::1"))
        .isInstanceOf(NullPointerException.class)
        .hasMessage("family");
    assertThatThrownBy(() -> Sockets.inetPton(AF_INET, null))
        .isInstanceOf(NullPointerException.class)
        .hasMessage("ipString");
  }

  @ParameterizedTest
  @CsvSource({
    "AF_INET, 01000100, 1.0.1.0",
    "AF_INET, aa55aa55, 170.85.170.85",
    "AF_INET, ffffffff, 255.255.255.255",
    "AF_INET6, 00000000000000000000000000000000, ::",
    "AF_INET6, 00000000000000000000000000000001, ::1",
    "AF_INET6, 0aef0b0105061001ffff999700550170, aef:b01:506:1001:ffff:9997:55:170",
    "AF_INET6, 20010db8000000000001000000000001, 2001:db8::1:0:0:1",
    "AF_INET6, 00000000000000000000ffff7f000001, ::ffff:127.0.0.1",
  })
  void inetNtopWritesTheCanonicalText(Family family, String hex, String text) {
    assertThat(Sockets.inetNtop(family, HEX.parseHex(hex))).isEqualTo(text);
  }

  @ParameterizedTest
  @CsvSource({"AF_INET, 3", "AF_INET, 5", "AF_INET, 16", "AF_INET6, 15", "AF_INET6, 17"})
  void inetNtopRejectsAWrongLength(Family family, int length) {
    int wanted = family == AF_INET ? 4 : 16;
    assertThatThrownBy(() -> Sockets.inetNtop(family, new byte[length]))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("packedIp: inetNtop(" + family + ") takes " + wanted + " bytes, not " + length);
  }

  @Test
  void inetNtopRejectsAfUnixAndNulls() {
    assertThatThrownBy(() -> Sockets.inetNtop(AF_UNIX, new byte[4]))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("family: inetNtop takes AF_INET or AF_INET6, not AF_UNIX");
    assertThatThrownBy(() -> Sockets.inetNtop(AF_INET6, null))
        .isInstanceOf(NullPointerException.class)
        .hasMessage("packedIp");
  }

  @ParameterizedTest
  @ValueSource(strings = {"0.0.0.0", "1.2.3.4", "::", "::1", "2001:db8::1", "::ffff:10.0.0.1"})
  void inetNtopUndoesInetPton(String text) {
    Family family = text.contains(":") ? AF_INET6 : AF_INET;
    assertThat(Sockets.inetNtop(family, Sockets.inetPton(family, text))).isEqualTo(text);
  }

  @ParameterizedTest
  @CsvSource({
    "0.0.0.0, 00000000",
    "255.255.255.255, ffffffff",
    "255.0.255.0, ff00ff00",
    "1.2.3.4, 01020304",
    "127.1, 7f000001",
    "10.1.2, 0a010002",
    "0x7f.0.0.1, 7f000001",
    "017.0.0.1, 0f000001",
    "2130706433, 7f000001",
  })
  void inetAtonPacksTheClassicForms(String text, String hex) {
    assertThat(HEX.formatHex(Sockets.inetAton(text))).isEqualTo(hex);
  }

  @ParameterizedTest
  @ValueSource(
      strings = {"0.0.0.", "300.0.0.0", "a.0.0.0", "1.2.3.4.5", "::1", "", "08", "1.2.3.4 junk"})
  void inetAtonRejectsAnythingElseNamingTheString(String text) {
    assertThatThrownBy(() -> Sockets.inetAton(text))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("ipString: illegal IP address string passed to inetAton: \"" + text + "\"");
  }

  @Test
  void inetNtoaWritesFourBytesAsADottedQuad() {
    assertThat(Sockets.inetNtoa(HEX.parseHex("01000100"))).isEqualTo("1.0.1.0");
    assertThat(Sockets.inetNtoa(HEX.parseHex("aa55aa55"))).isEqualTo("170.85.170.85");
    assertThat(Sockets.inetNtoa(HEX.parseHex("ffffffff"))).isEqualTo("255.255.255.255");
    assertThat(Sockets.inetNtoa(HEX.parseHex("01020304"))).isEqualTo("1.2.3.4");
    for (int length : new int[] {3, 5, 16}) {
      assertThatThrownBy(() -> Sockets.inetNtoa(new byte[length]))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessage("packedIp: inetNtoa takes 4 bytes, not " + length);
    }
    assertThatThrownBy(() -> Sockets.inetNtoa(null))
        .isInstanceOf(NullPointerException.class)
        .hasMessage("packedIp");
  }

  // htons, ntohs, htonl, ntohl

  @Test
  void htonsAndHtonlSwapBytesOnALittleEndianMachine() {
    assumeThat(ByteOrder.nativeOrder()).isEqualTo(ByteOrder.LITTLE_ENDIAN);
    assertThat(Sockets.htons(0x1234)).isEqualTo(0x3412);
    assertThat(Sockets.ntohs(0x3412)).isEqualTo(0x1234);
    assertThat(Sockets.htons(1)).isEqualTo(0x0100);
    assertThat(Sockets.htons(0xFF00)).isEqualTo(0x00FF);
    assertThat(Sockets.htonl(0x12345678L)).isEqualTo(0x78563412L);
    assertThat(Sockets.ntohl(0x78563412L)).isEqualTo(0x12345678L);
    assertThat(Sockets.htonl(1)).isEqualTo(0x01000000L);
    assertThat(Sockets.htonl(0xFF)).isEqualTo(0xFF000000L); // unsigned: no sign extension
  }

  @Test
  void byteOrderFunctionsAreTheirOwnInverse() {
    // CPython's testNtoH: each function undoes itself on the low 16 or 32 bits
    for (long i : new long[] {0, 1, 0xFFFF, ~0xFFFFL, 2, 0x01234567L, 0x76543210L}) {
      int shortValue = (int) (i & 0xFFFF);
      long intValue = i & 0xFFFF_FFFFL;
      assertThat(Sockets.htons(Sockets.htons(shortValue))).isEqualTo(shortValue);
      assertThat(Sockets.ntohs(Sockets.ntohs(shortValue))).isEqualTo(shortValue);
      assertThat(Sockets.htonl(Sockets.htonl(intValue))).isEqualTo(intValue);
      assertThat(Sockets.ntohl(Sockets.ntohl(intValue))).isEqualTo(intValue);
    }
    assertThat(Sockets.htons(0xFFFF)).isEqualTo(0xFFFF);
    assertThat(Sockets.htonl(0xFFFF_FFFFL)).isEqualTo(0xFFFF_FFFFL);
  }

  @Test
  void byteOrderFunctionsRejectValuesOutOfRange() {
    // CPython's testNtoHErrors: negative and too large values fail
    for (int bad : new int[] {-1, -2, -(1 << 15) - 1, Integer.MIN_VALUE, 1 << 16, (1 << 31) - 1}) {
      assertThatThrownBy(() -> Sockets.htons(bad))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessage("htons: value out of range 0..65535: " + bad);
      assertThatThrownBy(() -> Sockets.ntohs(bad))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessage("ntohs: value out of range 0..65535: " + bad);
    }
    for (long bad : new long[] {-1, -(1L << 31) - 1, Long.MIN_VALUE, 1L << 32, Long.MAX_VALUE}) {
      assertThatThrownBy(() -> Sockets.htonl(bad))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessage("htonl: value out of range 0..4294967295: " + bad);
      assertThatThrownBy(() -> Sockets.ntohl(bad))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessage("ntohl: value out of range 0..4294967295: " + bad);
    }
  }

  // getservbyname, getservbyport

  @ParameterizedTest
  @CsvSource(
      nullValues = "null",
      value = {
        "http, tcp, 80",
        "www, tcp, 80",
        "https, null, 443",
        "ssh, null, 22",
        "domain, udp, 53",
        "ntp, udp, 123",
        "ntp, null, 123",
        "imap, tcp, 143",
        "imap2, tcp, 143",
        "smtp, tcp, 25",
        "submission, tcp, 587",
        "postgres, tcp, 5432",
        "redis, tcp, 6379",
        "syslog, tcp, 514", // netbase: shell 514/tcp cmd syslog, then syslog 514/udp
        "syslog, udp, 514",
        "cmd, tcp, 514",
      })
  void getServByNameFindsAServiceByNameOrAlias(String name, String proto, int port)
      throws Exception {
    assertThat(Sockets.getServByName(name, proto)).isEqualTo(port);
  }

  @ParameterizedTest
  @CsvSource(
      nullValues = "null",
      value = {"ntp, tcp", "ssh, udp", "nosuch, null", "http, sctp", "HTTP, tcp", "'', null"})
  void getServByNameFailsForAnUnknownServiceOrProtocol(String name, String proto) {
    AddressResolutionException e =
        catchThrowableOfType(
            AddressResolutionException.class, () -> Sockets.getServByName(name, proto));

    assertThat(e.errno()).isEqualTo(Errno.EAI_SERVICE);
    assertThat(e)
        .hasMessage(
            "getServByName "
                + name
                + (proto == null ? "" : "/" + proto)
                + ": service/proto not found");
  }

  @ParameterizedTest
  @CsvSource(
      nullValues = "null",
      value = {
        "80, tcp, http",
        "80, null, http",
        "143, null, imap2",
        "53, udp, domain",
        "123, udp, ntp",
        "123, null, ntp",
        "22, tcp, ssh",
        "5432, tcp, postgresql",
        "514, null, shell",
        "514, tcp, shell",
        "514, udp, syslog",
      })
  void getServByPortFindsTheOfficialName(int port, String proto, String name) throws Exception {
    assertThat(Sockets.getServByPort(port, proto)).isEqualTo(name);
  }

  @Test
  void getServByPortFailsForAPortWithoutAServiceAndRejectsBadPorts() {
    AddressResolutionException e =
        catchThrowableOfType(
            AddressResolutionException.class, () -> Sockets.getServByPort(123, "tcp"));
    assertThat(e.errno()).isEqualTo(Errno.EAI_SERVICE);
    assertThat(e).hasMessage("getServByPort 123/tcp: port/proto not found");
    assertThatThrownBy(() -> Sockets.getServByPort(9999, null))
        .isInstanceOf(AddressResolutionException.class)
        .hasMessage("getServByPort 9999: port/proto not found");

    // CPython: getservbyport does not accept out of range ports
    assertThatThrownBy(() -> Sockets.getServByPort(-1, null))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("port out of range 0..65535: -1");
    assertThatThrownBy(() -> Sockets.getServByPort(65536, null))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("port out of range 0..65535: 65536");
  }

  @ParameterizedTest
  @ValueSource(strings = {"daytime", "domain", "echo"})
  void getServByNameAndByPortAgreeBothWays(String service) throws Exception {
    // CPython's testGetServBy
    int port = Sockets.getServByName(service, "tcp");
    assertThat(Sockets.getServByName(service, null)).isEqualTo(port);
    assertThat(Sockets.getServByName(service, "udp")).isEqualTo(port);
    assertThat(Sockets.getServByPort(port, null)).isEqualTo(service);
    assertThat(Sockets.getServByPort(port, "tcp")).isEqualTo(service);
    assertThat(Sockets.getServByPort(port, "udp")).isEqualTo(service);
  }

  // getaddrinfo

  @Test
  void getAddrInfoResolvesLocalhostForEachKind() throws Exception {
    assertThat(Sockets.getAddrInfo("localhost", 80, null, null))
        .containsExactly(
            info(AF_INET, SOCK_STREAM, "127.0.0.1", 80),
            info(AF_INET, SOCK_DGRAM, "127.0.0.1", 80));
  }

  @Test
  void getAddrInfoTakesAServiceName() throws Exception {
    assertThat(Sockets.getAddrInfo("localhost", "http", null, SOCK_STREAM))
        .containsExactly(info(AF_INET, SOCK_STREAM, "127.0.0.1", 80));
    assertThat(Sockets.getAddrInfo("127.0.0.1", "domain", null, null))
        .containsExactly(
            info(AF_INET, SOCK_STREAM, "127.0.0.1", 53),
            info(AF_INET, SOCK_DGRAM, "127.0.0.1", 53));
  }

  @Test
  void getAddrInfoGivesOnlyTheKindsAServiceIsDefinedFor() throws Exception {
    assertThat(Sockets.getAddrInfo("localhost", "ntp", null, null))
        .containsExactly(info(AF_INET, SOCK_DGRAM, "127.0.0.1", 123));

    AddressResolutionException e =
        catchThrowableOfType(
            AddressResolutionException.class,
            () -> Sockets.getAddrInfo("localhost", "ntp", null, SOCK_STREAM));
    assertThat(e.errno()).isEqualTo(Errno.EAI_SERVICE);
    assertThat(e).hasMessage("resolve localhost:ntp: servname not supported for ai_socktype");
  }

  @Test
  void getAddrInfoFailsForAnUnknownServiceBeforeLookingTheHostUp() {
    AddressResolutionException e =
        catchThrowableOfType(
            AddressResolutionException.class,
            () -> Sockets.getAddrInfo("nosuch.invalid", "nosuch", null, null));

    assertThat(e.errno()).isEqualTo(Errno.EAI_SERVICE);
    assertThat(e)
        .hasMessage("resolve nosuch.invalid:nosuch: servname not supported for ai_socktype");
    assertThatThrownBy(() -> Sockets.getAddrInfo("::1", "http ", null, null))
        .isInstanceOf(AddressResolutionException.class)
        .hasMessage("resolve [::1]:http : servname not supported for ai_socktype");
  }

  @Test
  void getAddrInfoTakesDecimalTextAndNullOrEmptyForZero() throws Exception {
    assertThat(Sockets.getAddrInfo("127.0.0.1", "8080", null, SOCK_STREAM))
        .containsExactly(info(AF_INET, SOCK_STREAM, "127.0.0.1", 8080));
    assertThat(Sockets.getAddrInfo("127.0.0.1", null, null, SOCK_STREAM))
        .containsExactly(info(AF_INET, SOCK_STREAM, "127.0.0.1", 0));
    assertThat(Sockets.getAddrInfo("127.0.0.1", "", null, SOCK_STREAM))
        .containsExactly(info(AF_INET, SOCK_STREAM, "127.0.0.1", 0));
    assertThatThrownBy(() -> Sockets.getAddrInfo("127.0.0.1", "70000", null, null))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("port out of range 0..65535: 70000");
    assertThatThrownBy(() -> Sockets.getAddrInfo("127.0.0.1", 80L, null, null))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("port: an Integer or a String, not java.lang.Long");
  }

  @Test
  void getAddrInfoReadsDecimalTextAsGlibcDoes() throws Exception {
    // as strtoul in glibc's getaddrinfo, which Python calls: leading white space, a sign and any
    // number of leading zeros; python3: getaddrinfo('127.0.0.1', '000080') gives port 80
    for (String text : List.of("000080", "0000000000080", "+80", " 80", "\t80", "\n+080")) {
      assertThat(Sockets.getAddrInfo("127.0.0.1", text, null, SOCK_STREAM))
          .as(text)
          .containsExactly(info(AF_INET, SOCK_STREAM, "127.0.0.1", 80));
    }
    assertThat(Sockets.getAddrInfo("127.0.0.1", "-0", null, SOCK_STREAM))
        .containsExactly(info(AF_INET, SOCK_STREAM, "127.0.0.1", 0));
    assertThatThrownBy(() -> Sockets.getAddrInfo("127.0.0.1", "0000123456", null, null))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("port out of range 0..65535: 123456");
    // glibc takes a negative number for a service name, which there is none of
    assertThatThrownBy(() -> Sockets.getAddrInfo("127.0.0.1", "-5", null, null))
        .isInstanceOf(AddressResolutionException.class)
        .hasMessage("resolve 127.0.0.1:-5: servname not supported for ai_socktype");
  }

  @Test
  void getAddrInfoGivesTheLoopbackAddressesForANullHost() throws Exception {
    assertThat(Sockets.getAddrInfo(null, 80, null, SOCK_STREAM))
        .containsExactly(
            info(AF_INET6, SOCK_STREAM, "::1", 80), info(AF_INET, SOCK_STREAM, "127.0.0.1", 80));
    assertThat(Sockets.getAddrInfo(null, 80, AF_INET, SOCK_STREAM))
        .containsExactly(info(AF_INET, SOCK_STREAM, "127.0.0.1", 80));
    assertThat(Sockets.getAddrInfo(null, "ntp", AF_INET6, null))
        .containsExactly(info(AF_INET6, SOCK_DGRAM, "::1", 123));
  }

  // python3: getaddrinfo(None, None) raises gaierror EAI_NONAME (glibc needs a host or a service);
  // getaddrinfo(None, "") and getaddrinfo(None, 0) give the loopback addresses, port 0
  @Test
  void getAddrInfoNeedsAHostOrAPort() throws Exception {
    AddressResolutionException e =
        catchThrowableOfType(
            AddressResolutionException.class, () -> Sockets.getAddrInfo(null, null, null, null));

    assertThat(e.errno()).isEqualTo(Errno.EAI_NONAME);
    assertThat(e).hasMessage("resolve: no host and no port: name or service not known");
    assertThat(Sockets.getAddrInfo(null, "", AF_INET, SOCK_STREAM))
        .containsExactly(info(AF_INET, SOCK_STREAM, "127.0.0.1", 0));
  }

  // python3, with a hosts file naming xn--bcher-kva.example.test (in a mount namespace):
  // getaddrinfo, gethostbyname and create_connection of "bücher.example.test" (or "BÜCHER...")
  // find 127.0.0.8, since Python's idna codec encodes every host name before the lookup
  @Test
  void aNonAsciiHostNameIsLookedUpAsItsIdnaEncodingAsPythonDoes() throws Exception {
    assertThat(Sockets.getAddrInfo("bücher.example.test", 80, AF_INET, SOCK_STREAM))
        .containsExactly(info(AF_INET, SOCK_STREAM, "127.0.0.8", 80));
    assertThat(Sockets.getHostByName("BÜCHER.example.test")).isEqualTo("127.0.0.8");
    try (Socket server = Sockets.createServer("127.0.0.8", 0);
        Socket client =
            Sockets.createConnection(
                "bücher.example.test", ((InetSocketAddress) server.getSockName()).getPort())) {
      assertThat(client.getPeerName()).isEqualTo(server.getSockName());
    }
  }

  @Test
  void getAddrInfoKeepsOnlyTheFamilyAskedFor() throws Exception {
    assertThat(Sockets.getAddrInfo("dual", 7, null, SOCK_STREAM))
        .containsExactly(
            info(AF_INET, SOCK_STREAM, "127.0.0.3", 7), info(AF_INET6, SOCK_STREAM, "::3", 7));
    assertThat(Sockets.getAddrInfo("dual", 7, AF_INET, SOCK_STREAM))
        .containsExactly(info(AF_INET, SOCK_STREAM, "127.0.0.3", 7));
    assertThat(Sockets.getAddrInfo("dual", 7, AF_INET6, SOCK_STREAM))
        .containsExactly(info(AF_INET6, SOCK_STREAM, "::3", 7));

    AddressResolutionException e =
        catchThrowableOfType(
            AddressResolutionException.class, () -> Sockets.getAddrInfo("six", 80, AF_INET, null));
    // glibc: a name without an address of the family is not known (-2); only a literal of the
    // other family is EAI_ADDRFAMILY (-9)
    assertThat(e.errno()).isEqualTo(Errno.EAI_NONAME);
    assertThat(e).hasMessage("resolve six:80: name or service not known");
    assertThatThrownBy(() -> Sockets.getAddrInfo("127.0.0.1", 80, AF_INET6, null))
        .isInstanceOf(AddressResolutionException.class)
        .hasMessage("resolve 127.0.0.1:80: address family for hostname not supported");
  }

  @Test
  void getAddrInfoParsesLiteralsItselfInEveryFormGetaddrinfoTakes() throws Exception {
    // the hosts file knows none of these: only jsock's own parsing can answer
    assertThat(Sockets.getAddrInfo("127.1", 80, null, SOCK_STREAM))
        .containsExactly(info(AF_INET, SOCK_STREAM, "127.0.0.1", 80));
    assertThat(Sockets.getAddrInfo("0x7f.0.0.1", 80, null, SOCK_STREAM))
        .containsExactly(info(AF_INET, SOCK_STREAM, "127.0.0.1", 80));
    assertThat(Sockets.getAddrInfo("::1", 80, null, SOCK_STREAM))
        .containsExactly(info(AF_INET6, SOCK_STREAM, "::1", 80));

    // an IPv4-mapped address stays IPv6, as in Python
    AddrInfo mapped = Sockets.getAddrInfo("::ffff:127.0.0.1", 80, null, SOCK_STREAM).getFirst();
    assertThat(mapped.family()).isEqualTo(AF_INET6);
    InetSocketAddress address = (InetSocketAddress) mapped.address();
    assertThat(address.getAddress()).isInstanceOf(Inet6Address.class);
    assertThat(HEX.formatHex(address.getAddress().getAddress()))
        .isEqualTo("00000000000000000000ffff7f000001");
  }

  // python3 on Linux: getaddrinfo("::ffff:127.0.0.1", 80, AF_INET) gives ('127.0.0.1', 80), as
  // glibc answers AF_INET with an IPv4-mapped literal's IPv4 address; so gethostbyname gives
  // "127.0.0.1" and an AF_INET socket binds it. An IPv4-compatible one (::1.2.3.4) is not mapped.
  @Test
  void anIpv4MappedLiteralIsItsIpv4AddressForAfInet() throws Exception {
    assertThat(Sockets.getAddrInfo("::ffff:127.0.0.1", 80, AF_INET, SOCK_STREAM))
        .containsExactly(info(AF_INET, SOCK_STREAM, "127.0.0.1", 80));
    assertThat(Sockets.getAddrInfo("::ffff:7f00:1", 80, AF_INET, SOCK_STREAM))
        .containsExactly(info(AF_INET, SOCK_STREAM, "127.0.0.1", 80));
    assertThat(Sockets.getHostByName("::ffff:127.0.0.1")).isEqualTo("127.0.0.1");
    try (Socket s = Socket.create(AF_INET, SOCK_DGRAM)) {
      s.bind("::ffff:127.0.0.1", 0);
      assertThat(((InetSocketAddress) s.getSockName()).getAddress()).isEqualTo(ip("127.0.0.1"));
    }
    assertThatThrownBy(() -> Sockets.getAddrInfo("::1.2.3.4", 80, AF_INET, null))
        .isInstanceOf(AddressResolutionException.class)
        .hasMessage("resolve [::1.2.3.4]:80: address family for hostname not supported");
  }

  @Test
  void getAddrInfoTakesAnIpv6LiteralWithANumericScope() throws Exception {
    AddrInfo scoped = Sockets.getAddrInfo("fe80::1%1", 80, null, SOCK_STREAM).getFirst();

    Inet6Address ip = (Inet6Address) ((InetSocketAddress) scoped.address()).getAddress();
    assertThat(ip.getScopeId()).isEqualTo(1);
    assertThat(HEX.formatHex(ip.getAddress())).isEqualTo("fe800000000000000000000000000001");
  }

  // python3: getaddrinfo("fe80::1%lo", 80, type=SOCK_STREAM) gives ('fe80::1', 80, 0, 1): the
  // interface's index as the scope, whatever addresses the interface has (lo has no link-local one)
  @Test
  void getAddrInfoTakesAnIpv6LiteralScopedByAnInterfaceNameAsItsIndex() throws Exception {
    AddrInfo scoped = Sockets.getAddrInfo("fe80::1%lo", 80, null, SOCK_STREAM).getFirst();

    Inet6Address ip = (Inet6Address) ((InetSocketAddress) scoped.address()).getAddress();
    assertThat(ip.getScopeId()).isEqualTo(NetworkInterface.getByName("lo").getIndex());
    assertThat(HEX.formatHex(ip.getAddress())).isEqualTo("fe800000000000000000000000000001");
    assertThatThrownBy(() -> Sockets.getAddrInfo("fe80::1%nosuch0", 80, null, SOCK_STREAM))
        .isInstanceOf(AddressResolutionException.class);
  }

  // python3: getaddrinfo("ff02::1%lo", 80) gives scope 1, getaddrinfo("::1%lo", 80) and
  // ("2001:db8::1%lo", 80) fail with EAI_NONAME: glibc takes an interface name only as the scope
  // of a link-local (fe80::/10) or link- or node-local multicast address; a number, for any
  @Test
  void onlyALinkLocalAddressTakesAnInterfaceNameAsItsScope() throws Exception {
    int lo = NetworkInterface.getByName("lo").getIndex();
    AddrInfo multicast = Sockets.getAddrInfo("ff02::1%lo", 80, null, SOCK_STREAM).getFirst();
    assertThat(((Inet6Address) ((InetSocketAddress) multicast.address()).getAddress()).getScopeId())
        .isEqualTo(lo);
    assertThat(Sockets.getAddrInfo("::1%" + lo, 80, null, SOCK_STREAM)).hasSize(1);
    for (String host : List.of("::1%lo", "2001:db8::1%lo", "ff05::1%lo")) {
      AddressResolutionException e =
          catchThrowableOfType(
              AddressResolutionException.class,
              () -> Sockets.getAddrInfo(host, 80, null, SOCK_STREAM));
      assertThat(e).as(host).isNotNull();
      assertThat(e.errno()).isEqualTo(Errno.EAI_NONAME);
    }
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "1.2.3.4.5",
        "300.1.2.3",
        "1..2",
        "::1q",
        "::1::2",
        "1:1:1:1:1:1:1:1:1",
        "fe80::1%",
        "nosuch.invalid",
        ""
      })
  void getAddrInfoFailsForWhatIsNeitherALiteralNorAKnownName(String host) {
    AddressResolutionException e =
        catchThrowableOfType(
            AddressResolutionException.class, () -> Sockets.getAddrInfo(host, 80, null, null));

    assertThat(e.errno()).isEqualTo(Errno.EAI_NONAME);
    String shown = host.contains(":") ? "[" + host + "]" : host;
    assertThat(e).hasMessage("resolve " + shown + ":80: name or service not known");
  }

  @Test
  void aHostNameInBracketsIsNamedInTheErrorWithoutItsBracketsDoubled() throws Exception {
    // Python: getaddrinfo('[::1]', 80), create_connection(('[::1]', 80)) and connect(('[::1]', 80))
    // fail with "Name or service not known", naming nothing twice; jsock said "[[::1]]:80"
    assertThatThrownBy(() -> Sockets.getAddrInfo("[::1]", 80, null, null))
        .isInstanceOf(AddressResolutionException.class)
        .hasMessage("resolve [::1]:80: name or service not known");
    assertThatThrownBy(() -> Sockets.createConnection("[::1]", 80))
        .isInstanceOf(AddressResolutionException.class)
        .hasMessage("resolve [::1]:80: name or service not known");
    try (Socket socket = Socket.create(AF_INET6, SOCK_STREAM)) {
      assertThatThrownBy(() -> socket.connect("[::1]", 80))
          .isInstanceOf(AddressResolutionException.class)
          .hasMessage("connect to [::1]:80: name or service not known");
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"[::1", "::1]", "a[::1"})
  void aHostNameWithABracketOfItsOwnIsNamedAsGivenWithoutAnotherPair(String host) {
    // Python names nothing ("Name or service not known"), ncat the name as given
    // ('Could not resolve hostname "[::1"'); jsock said "[[::1]:80", "[::1]]:80", "[a[::1]:80"
    assertThatThrownBy(() -> Sockets.getAddrInfo(host, 80, null, null))
        .isInstanceOf(AddressResolutionException.class)
        .hasMessage("resolve " + host + ":80: name or service not known");
  }

  @Test
  void getAddrInfoRejectsAfUnix() {
    assertThatThrownBy(() -> Sockets.getAddrInfo("localhost", 80, AF_UNIX, null))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("family: getAddrInfo resolves AF_INET and AF_INET6 only");
  }

  // getnameinfo

  @Test
  void getNameInfoFindsTheHostAndServiceNames() throws Exception {
    var address = new InetSocketAddress(ip("127.0.0.1"), 80);

    assertThat(Sockets.getNameInfo(address)).isEqualTo(new NameInfo("localhost", "http"));
    assertThat(Sockets.getNameInfo(address, NI_NUMERICHOST))
        .isEqualTo(new NameInfo("127.0.0.1", "http"));
    assertThat(Sockets.getNameInfo(address, NI_NUMERICSERV))
        .isEqualTo(new NameInfo("localhost", "80"));
    assertThat(Sockets.getNameInfo(address, NI_NUMERICHOST, NI_NUMERICSERV))
        .isEqualTo(new NameInfo("127.0.0.1", "80"));
    assertThat(Sockets.getNameInfo(new InetSocketAddress(ip("::1"), 22)))
        .isEqualTo(new NameInfo("ip6-localhost", "ssh"));
    assertThat(Sockets.getNameInfo(new InetSocketAddress(ip("::1"), 22), NI_NUMERICHOST))
        .isEqualTo(new NameInfo("::1", "ssh"));
  }

  @Test
  void getNameInfoNamesUdpServicesWithNiDgram() throws Exception {
    var ntp = new InetSocketAddress(ip("127.0.0.1"), 123);

    assertThat(Sockets.getNameInfo(ntp, NI_NUMERICHOST))
        .isEqualTo(new NameInfo("127.0.0.1", "123"));
    assertThat(Sockets.getNameInfo(ntp, NI_NUMERICHOST, NI_DGRAM))
        .isEqualTo(new NameInfo("127.0.0.1", "ntp"));
  }

  @Test
  void getNameInfoFallsBackToLiteralsUnlessANameIsRequired() throws Exception {
    var nameless = new InetSocketAddress(ip("127.0.0.9"), 9999);

    assertThat(Sockets.getNameInfo(nameless)).isEqualTo(new NameInfo("127.0.0.9", "9999"));
    AddressResolutionException e =
        catchThrowableOfType(
            AddressResolutionException.class, () -> Sockets.getNameInfo(nameless, NI_NAMEREQD));
    assertThat(e.errno()).isEqualTo(Errno.EAI_NONAME);
    assertThat(e).hasMessage("getNameInfo 127.0.0.9:9999: name or service not known");
  }

  // python3 on Linux: getnameinfo(("127.0.0.1", 80), NI_NUMERICHOST | NI_NAMEREQD) raises gaierror
  // EAI_NONAME, though the address has a name: glibc requires a name it was told not to look up
  @Test
  void getNameInfoFailsWhenANameIsRequiredButTheHostMustBeNumeric() {
    var named = new InetSocketAddress(ip("127.0.0.1"), 80);

    AddressResolutionException e =
        catchThrowableOfType(
            AddressResolutionException.class,
            () -> Sockets.getNameInfo(named, NI_NUMERICHOST, NI_NAMEREQD));
    assertThat(e.errno()).isEqualTo(Errno.EAI_NONAME);
    assertThat(e).hasMessage("getNameInfo 127.0.0.1:80: name or service not known");
  }

  // CPython's test_getnameinfo_ipv6_scopeid_symbolic and _numeric: glibc writes the scope of a
  // link-local address (fe80::/10, ff02::) as its interface's name, any other scope as a number
  @Test
  void getNameInfoNamesTheInterfaceOfALinkLocalScope() throws Exception {
    int lo = NetworkInterface.getByName("lo").getIndex();
    var linkLocal =
        new InetSocketAddress(
            Inet6Address.getByAddress(null, ip("ff02::1de:c0:face:8d").getAddress(), lo), 1234);
    var global =
        new InetSocketAddress(
            Inet6Address.getByAddress(null, ip("2001:db8::1").getAddress(), lo), 1234);

    assertThat(Sockets.getNameInfo(linkLocal, NI_NUMERICHOST, NI_NUMERICSERV))
        .isEqualTo(new NameInfo("ff02::1de:c0:face:8d%lo", "1234"));
    assertThat(Sockets.getNameInfo(global, NI_NUMERICHOST, NI_NUMERICSERV))
        .isEqualTo(new NameInfo("2001:db8::1%" + lo, "1234"));
    var fromName = Sockets.getAddrInfo("fe80::1%lo", 1234, null, SOCK_STREAM).getFirst();
    assertThat(Sockets.getNameInfo(fromName.address(), NI_NUMERICHOST, NI_NUMERICSERV))
        .isEqualTo(new NameInfo("fe80::1%lo", "1234"));
  }

  @Test
  void getNameInfoTakesUnresolvedLiteralsButNoNames() throws Exception {
    assertThat(Sockets.getNameInfo(InetSocketAddress.createUnresolved("127.0.0.1", 80)))
        .isEqualTo(new NameInfo("localhost", "http"));

    // as CPython's test_getnameinfo: only IP addresses are allowed
    AddressResolutionException e =
        catchThrowableOfType(
            AddressResolutionException.class,
            () -> Sockets.getNameInfo(InetSocketAddress.createUnresolved("localhost", 80)));
    assertThat(e.errno()).isEqualTo(Errno.EAI_NONAME);
    assertThat(e).hasMessage("getNameInfo localhost:80: name or service not known");
  }

  @Test
  void getNameInfoRejectsOtherAddressesAndNulls() {
    assertThatThrownBy(() -> Sockets.getNameInfo(UnixDomainSocketAddress.of("/tmp/s")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("address: getNameInfo takes an InetSocketAddress, not /tmp/s");
    assertThatThrownBy(() -> Sockets.getNameInfo(null))
        .isInstanceOf(NullPointerException.class)
        .hasMessage("address");
    var address = new InetSocketAddress(ip("127.0.0.1"), 80);
    assertThatThrownBy(() -> Sockets.getNameInfo(address, (NameInfoFlag) null))
        .isInstanceOf(NullPointerException.class)
        .hasMessage("flags: null flag");
  }

  // gethostbyname, gethostbyname_ex, gethostbyaddr, gethostname, getfqdn

  @Test
  void getHostByNameGivesTheFirstIpv4Address() throws Exception {
    assertThat(Sockets.getHostByName("localhost")).isEqualTo("127.0.0.1");
    assertThat(Sockets.getHostByName("box")).isEqualTo("127.0.0.2");
    assertThat(Sockets.getHostByName("dual")).isEqualTo("127.0.0.3");
    assertThat(Sockets.getHostByName("twice")).isEqualTo("127.0.0.4");
  }

  @ParameterizedTest
  @CsvSource({
    "127.0.0.1, 127.0.0.1",
    "10.0.0.1, 10.0.0.1",
    "255.255.255.255, 255.255.255.255",
    "127.1, 127.0.0.1",
    "'', 0.0.0.0",
    "<broadcast>, 255.255.255.255",
  })
  void getHostByNameGivesLiteralsAsTheyAre(String host, String expected) throws Exception {
    // CPython's test_host_resolution, and setipaddr's special names
    assertThat(Sockets.getHostByName(host)).isEqualTo(expected);
  }

  @Test
  void getHostByNameFailsForAHostWithoutIpv4() {
    // as Python with glibc: a name is not known, a literal is of the wrong family
    AddressResolutionException name =
        catchThrowableOfType(AddressResolutionException.class, () -> Sockets.getHostByName("six"));
    assertThat(name.errno()).isEqualTo(Errno.EAI_NONAME);
    assertThat(name).hasMessage("getHostByName six: name or service not known");
    AddressResolutionException literal =
        catchThrowableOfType(AddressResolutionException.class, () -> Sockets.getHostByName("::1"));
    assertThat(literal.errno()).isEqualTo(Errno.EAI_ADDRFAMILY);
    assertThat(literal).hasMessage("getHostByName ::1: address family for hostname not supported");
  }

  @ParameterizedTest
  @ValueSource(
      strings = {"0.1.1.~1", "1+.1.1.1", "::1q", "::1::2", "1:1:1:1:1:1:1:1:1", "nosuch.invalid"})
  void hostFunctionsFailForBadAddressesAndUnknownNames(String host) {
    // CPython's test_host_resolution_bad_address, plus a name no resolver knows
    assertFailsWithNoName(() -> Sockets.getHostByName(host), "getHostByName " + host);
    assertFailsWithNoName(() -> Sockets.getHostByNameEx(host), "getHostByNameEx " + host);
    assertFailsWithNoName(() -> Sockets.getHostByAddr(host), "getHostByAddr " + host);
  }

  @Test
  void getHostByNameExGivesEveryIpv4AddressOfTheName() throws Exception {
    assertThat(Sockets.getHostByNameEx("localhost"))
        .isEqualTo(new HostEntry("localhost", List.of(), List.of("127.0.0.1")));
    assertThat(Sockets.getHostByNameEx("twice"))
        .isEqualTo(new HostEntry("twice", List.of(), List.of("127.0.0.4", "127.0.0.5")));
    assertThat(Sockets.getHostByNameEx("dual"))
        .isEqualTo(new HostEntry("dual", List.of(), List.of("127.0.0.3")));
    assertThat(Sockets.getHostByNameEx("127.0.0.1"))
        .isEqualTo(new HostEntry("127.0.0.1", List.of(), List.of("127.0.0.1")));
  }

  @Test
  void aHostEntryNamesTheMissingPart() {
    assertThatThrownBy(() -> new HostEntry("h", null, List.of()))
        .isInstanceOf(NullPointerException.class)
        .hasMessage("aliases");
    assertThatThrownBy(() -> new HostEntry("h", List.of(), null))
        .isInstanceOf(NullPointerException.class)
        .hasMessage("addresses");
    assertThatThrownBy(() -> new HostEntry("h", List.of(), Arrays.asList("127.0.0.1", null)))
        .isInstanceOf(NullPointerException.class)
        .hasMessage("addresses: null element");
  }

  @Test
  void getHostByAddrFindsTheNameOfAnAddress() throws Exception {
    assertThat(Sockets.getHostByAddr("127.0.0.1"))
        .isEqualTo(new HostEntry("localhost", List.of(), List.of("127.0.0.1")));
    assertThat(Sockets.getHostByAddr("::1"))
        .isEqualTo(new HostEntry("ip6-localhost", List.of(), List.of("::1")));
    assertThat(Sockets.getHostByAddr("127.0.0.2"))
        .isEqualTo(new HostEntry("box.example.test", List.of(), List.of("127.0.0.2")));
    // a name is resolved first, as in Python
    assertThat(Sockets.getHostByAddr("box"))
        .isEqualTo(new HostEntry("box.example.test", List.of(), List.of("127.0.0.2")));
  }

  @Test
  void getHostByAddrFailsForAnAddressWithoutAName() {
    assertFailsWithNoName(() -> Sockets.getHostByAddr("127.0.0.9"), "getHostByAddr 127.0.0.9");
  }

  @Test
  void hostFunctionsRejectNull() {
    assertThatThrownBy(() -> Sockets.getHostByName(null)).hasMessage("hostname");
    assertThatThrownBy(() -> Sockets.getHostByNameEx(null)).hasMessage("hostname");
    assertThatThrownBy(() -> Sockets.getHostByAddr(null)).hasMessage("ipAddress");
    assertThatThrownBy(() -> Sockets.getFqdn(null)).hasMessage("name");
    assertThatThrownBy(() -> Sockets.getServByName(null, "tcp")).hasMessage("name");
  }

  @Test
  void getHostNameIsTheNameTheSystemReports() throws Exception {
    Process uname = new ProcessBuilder("uname", "-n").redirectErrorStream(true).start();
    String expected = new String(uname.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(uname.waitFor()).isZero();

    assertThat(Sockets.getHostName()).isEqualTo(expected.strip()).isNotBlank();
  }

  @Test
  void getFqdnPrefersANameWithADot() throws Exception {
    assertThat(Sockets.getFqdn("box")).isEqualTo("box.example.test");
    assertThat(Sockets.getFqdn("127.0.0.2")).isEqualTo("box.example.test");
    assertThat(Sockets.getFqdn("  box\n")).isEqualTo("box.example.test");
    assertThat(Sockets.getFqdn("localhost")).isEqualTo("localhost");
  }

  // python3: getfqdn strips what str.strip() takes for white space, the no-break spaces (U+00A0,
  // U+2007, U+202F) and NEL (U+0085) too, which Java's strip() keeps: getfqdn("\xa0") is this
  // machine's name, as getfqdn("") is
  @Test
  void getFqdnStripsTheWhiteSpacePythonStrips() throws Exception {
    assertThat(Sockets.getFqdn("\u00A0box\u2007")).isEqualTo("box.example.test");
    assertThat(Sockets.getFqdn("\u0085127.0.0.2\u202F")).isEqualTo("box.example.test");
    assertThat(Sockets.getFqdn("\u00A0")).isEqualTo(Sockets.getFqdn("")).isNotBlank();
  }

  @Test
  void getFqdnGivesBackANameItCannotResolve() throws Exception {
    assertThat(Sockets.getFqdn("nosuch.invalid")).isEqualTo("nosuch.invalid");
    assertThat(Sockets.getFqdn("127.0.0.9")).isEqualTo("127.0.0.9");
  }

  @Test
  void getFqdnOfNothingIsThisMachine() throws Exception {
    String machine = Sockets.getFqdn(Sockets.getHostName());

    assertThat(Sockets.getFqdn("")).isEqualTo(machine).isNotEmpty();
    assertThat(Sockets.getFqdn("0.0.0.0")).isEqualTo(machine);
    assertThat(Sockets.getFqdn("::")).isEqualTo(machine);
  }

  private static void assertFailsWithNoName(Executable call, String operation) {
    AddressResolutionException e =
        catchThrowableOfType(AddressResolutionException.class, call::execute);
    assertThat(e).as(operation).isNotNull();
    assertThat(e.errno()).isEqualTo(Errno.EAI_NONAME);
    assertThat(e).hasMessage(operation + ": name or service not known");
  }

  private static AddrInfo info(Family family, SocketKind kind, String ip, int port) {
    return new AddrInfo(
        family, kind, kind == SOCK_STREAM ? 6 : 17, "", new InetSocketAddress(ip(ip), port));
  }

  /** An address from a literal, through jsock's parser: never a lookup. */
  private static InetAddress ip(String literal) {
    Family family = literal.contains(":") ? AF_INET6 : AF_INET;
    try {
      return InetAddress.getByAddress(Sockets.inetPton(family, literal));
    } catch (IOException e) {
      throw new AssertionError(e);
    }
  }
}
