package io.jsock.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import io.jsock.AddressResolutionException;
import io.jsock.Errno;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnixDomainSocketAddress;
import java.net.UnknownHostException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Address checks, lookups and formatting. Names resolve only from core's test hosts file ({@code
 * jdk.net.hosts.file}), never through DNS.
 */
class AddressesTest {
  @ParameterizedTest
  @CsvSource({
    "127.0.0.1, 127.0.0.1:80",
    "0.0.0.0, 0.0.0.0:80",
    "::1, [::1]:80",
    "::, [::]:80",
    "fe80:0:0:0:0:0:0:1, [fe80::1]:80",
    "2001:db8:0:0:1:0:0:1, [2001:db8::1:0:0:1]:80",
    "2001:db8:0:1:1:1:1:1, [2001:db8:0:1:1:1:1:1]:80",
    "2001:DB8:0:0:0:0:0:AB, [2001:db8::ab]:80",
    "1:0:0:0:0:0:0:0, [1::]:80",
    "::1.2.3.4, [::1.2.3.4]:80",
  })
  void formatWritesIpAddressesAsPythonAndRfc5952Do(String literal, String expected)
      throws Exception {
    InetSocketAddress address = new InetSocketAddress(InetAddress.getByName(literal), 80);

    assertThat(Addresses.format(address)).isEqualTo(expected);
  }

  @Test
  void formatWritesUnresolvedAndUnixAddresses() {
    assertThat(Addresses.format(InetSocketAddress.createUnresolved("example.invalid", 80)))
        .isEqualTo("example.invalid:80");
    assertThat(Addresses.format(InetSocketAddress.createUnresolved("::1", 80)))
        .isEqualTo("[::1]:80");
    assertThat(Addresses.format(UnixDomainSocketAddress.of("/tmp/a.sock")))
        .isEqualTo("/tmp/a.sock");
    assertThat(Addresses.format(UnixDomainSocketAddress.of(""))).isEqualTo("(unnamed)");
  }

  @Test
  void checkPortAcceptsZeroTo65535() {
    assertThat(Addresses.checkPort(0)).isZero();
    assertThat(Addresses.checkPort(65535)).isEqualTo(65535);
    assertThatThrownBy(() -> Addresses.checkPort(65536))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("port out of range 0..65535: 65536");
    assertThatThrownBy(() -> Addresses.checkPort(-1))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("port out of range 0..65535: -1");
  }

  @Test
  void resolveGivesTheWildcardForAnEmptyHost() throws Exception {
    assertThat(Addresses.resolve("", 5, false, "bind to"))
        .isEqualTo(new InetSocketAddress(InetAddress.getByName("0.0.0.0"), 5));
    assertThat(Addresses.resolve("", 5, true, "bind to"))
        .isEqualTo(new InetSocketAddress(InetAddress.getByName("::"), 5));
  }

  @Test
  void resolveRejectsALiteralOfTheOtherVersion() {
    AddressResolutionException e =
        catchThrowableOfType(
            AddressResolutionException.class,
            () -> Addresses.resolve("::1", 80, false, "connect to"));

    assertThat(e.errno()).isEqualTo(Errno.EAI_ADDRFAMILY);
    assertThat(e).hasMessage("connect to [::1]:80: address family for hostname not supported");
  }

  @Test
  void lookupParsesLiteralsWithoutTheResolver() throws Exception {
    // none of these is in the hosts file, and the JDK itself takes no hex parts
    assertThat(Addresses.lookup("0x7f.1")).containsExactly(Addresses.loopback(false));
    assertThat(Addresses.lookup("::1")).containsExactly(Addresses.loopback(true));
    assertThat(Addresses.lookup("::ffff:1.2.3.4").getFirst()).isInstanceOf(Inet6Address.class);
    assertThat(Addresses.lookup("fe80::1%3").getFirst())
        .isInstanceOfSatisfying(Inet6Address.class, ip -> assertThat(ip.getScopeId()).isEqualTo(3));
  }

  @Test
  void lookupAsksTheResolverForNames() throws Exception {
    assertThat(Addresses.lookup("localhost")).containsExactly(Addresses.loopback(false));
    assertThat(Addresses.lookup("ip6-localhost")).containsExactly(Addresses.loopback(true));
  }

  @ParameterizedTest
  @ValueSource(strings = {"1.2.3.4.5", "999.1.1.1", "1..1", "::1q", "1:2", "fe80::1%", "%1"})
  void lookupRejectsWhatOnlyLooksLikeALiteralWithoutAskingTheResolver(String host) {
    assertThatThrownBy(() -> Addresses.lookup(host))
        .isInstanceOf(UnknownHostException.class)
        .hasMessage(host + ": not a valid IP address literal");
  }

  @Test
  void lookupRejectsAnEmptyNameThatTheJdkWouldTakeAsLoopback() {
    assertThatThrownBy(() -> Addresses.lookup(""))
        .isInstanceOf(UnknownHostException.class)
        .hasMessage("empty host name");
  }

  @Test
  void resolveTakesAnIpv4MappedLiteralForIpv4AsItsIpv4Address() throws Exception {
    // as Python on Linux: an AF_INET socket binds ::ffff:127.0.0.1 as 127.0.0.1 (glibc's
    // getaddrinfo unmaps it for AF_INET); an IPv4-compatible ::127.0.0.1 stays IPv6
    assertThat(Addresses.resolve("::ffff:127.0.0.1", 80, false, "connect to"))
        .isEqualTo(new InetSocketAddress(Addresses.loopback(false), 80));
    AddressResolutionException e =
        catchThrowableOfType(
            AddressResolutionException.class,
            () -> Addresses.resolve("::127.0.0.1", 80, false, "connect to"));

    assertThat(e.errno()).isEqualTo(Errno.EAI_ADDRFAMILY);
  }

  @Test
  void ipTextWritesAddressesWithoutLookingThemUp() throws Exception {
    assertThat(Addresses.ipText(Addresses.loopback(false))).isEqualTo("127.0.0.1");
    assertThat(Addresses.ipText(Addresses.loopback(true))).isEqualTo("::1");
    assertThat(Addresses.ipText(Addresses.lookup("fe80::a%7").getFirst())).isEqualTo("fe80::a%7");
  }

  // python3: getaddrinfo("::1%0", 80) gives ('::1', 80, 0, 0), and getnameinfo(('::1', 80, 0, 0),
  // NI_NUMERICHOST) gives '::1': a scope id of 0 is no scope, which the JDK writes as "%0"
  @Test
  void aScopeIdOfZeroIsWrittenAsNoScope() throws Exception {
    InetAddress zero = Addresses.lookup("::1%0").getFirst();

    assertThat(Addresses.ipText(zero)).isEqualTo("::1");
    assertThat(Addresses.nameInfoText(zero)).isEqualTo("::1");
    assertThat(Addresses.format(new InetSocketAddress(zero, 9))).isEqualTo("[::1]:9");
    assertThat(Addresses.ipText(Addresses.lookup("fe80::a%0").getFirst())).isEqualTo("fe80::a");
  }
}
