package io.jsock.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import io.jsock.AddressResolutionException;
import io.jsock.Errno;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnixDomainSocketAddress;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Address checks and formatting. Only literals are resolved here: never a name, never DNS. */
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
}
