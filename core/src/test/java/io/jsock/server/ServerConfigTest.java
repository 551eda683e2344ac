package io.jsock.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.jsock.tls.KeyMaterial;
import io.jsock.tls.Tls;
import io.jsock.tls.TlsContext;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.UnixDomainSocketAddress;
import java.time.Duration;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** {@link ServerConfig}: the documented defaults, the withers, and the checks naming the field. */
class ServerConfigTest {
  @Test
  void defaultsListenOnLoopbackOnAnyPortWithTheDocumentedLimits() {
    ServerConfig config = ServerConfig.defaults();
    InetSocketAddress address = (InetSocketAddress) config.address();
    assertThat(address.isUnresolved()).isFalse();
    assertThat(address.getAddress().getHostAddress()).isEqualTo("127.0.0.1");
    assertThat(address.getPort()).isZero();
    assertThat(config.maxConnections()).isEqualTo(10_000);
    assertThat(config.idleTimeout()).isEqualTo(Duration.ofMinutes(5));
    assertThat(config.writeTimeout()).isEqualTo(Duration.ofSeconds(30));
    assertThat(config.firstByteTimeout()).isEqualTo(Duration.ofSeconds(10));
    assertThat(config.backlog()).isEqualTo(1024);
    assertThat(config.reusePort()).isFalse();
    assertThat(config.shutdownGrace()).isEqualTo(Duration.ofSeconds(10));
    assertThat(config.tls()).isEmpty();
    assertThat(config.threadPerDatagram()).isTrue();
    assertThat(config.tcpNoDelay()).isFalse();
  }

  @Test
  void eachWitherChangesItsOwnFieldOnly() {
    ServerConfig defaults = ServerConfig.defaults();
    assertThat(defaults.withMaxConnections(7))
        .isEqualTo(
            new ServerConfig(
                defaults.address(),
                7,
                defaults.idleTimeout(),
                defaults.writeTimeout(),
                defaults.firstByteTimeout(),
                defaults.backlog(),
                false,
                defaults.shutdownGrace(),
                Optional.empty(),
                true,
                false));
    ServerConfig changed =
        defaults
            .withIdleTimeout(Duration.ofSeconds(1))
            .withWriteTimeout(Duration.ofSeconds(3))
            .withFirstByteTimeout(Duration.ofSeconds(2))
            .withBacklog(0)
            .withReusePort(true)
            .withShutdownGrace(Duration.ZERO)
            .withThreadPerDatagram(false)
            .withTcpNoDelay(true);
    assertThat(changed)
        .isEqualTo(
            new ServerConfig(
                defaults.address(),
                defaults.maxConnections(),
                Duration.ofSeconds(1),
                Duration.ofSeconds(3),
                Duration.ofSeconds(2),
                0,
                true,
                Duration.ZERO,
                Optional.empty(),
                false,
                true));
  }

  @Test
  void withTlsTakesAServerContextOnly() throws Exception {
    TlsContext server = Tls.server(KeyMaterial.selfSigned("localhost"));
    assertThat(ServerConfig.defaults().withTls(server).tls()).containsSame(server);
    assertThatThrownBy(() -> ServerConfig.defaults().withTls(Tls.client()))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith("tls: a server needs a server context");
    assertThatThrownBy(() -> ServerConfig.defaults().withTls(null))
        .isInstanceOf(NullPointerException.class)
        .hasMessage("serverContext");
  }

  @Test
  void theEmptyHostIsEveryIpv4InterfaceAsInPython() {
    InetSocketAddress everyInterface = new InetSocketAddress("0.0.0.0", 8080);
    assertThat(ServerConfig.defaults().withAddress("", 8080).address()).isEqualTo(everyInterface);
    assertThat(
            ServerConfig.defaults()
                .withAddress(InetSocketAddress.createUnresolved("", 8080))
                .address())
        .isEqualTo(everyInterface);
  }

  @Test
  void hostAndPortAreResolvedWhenTheServerStartsNotBefore() {
    SocketAddress address =
        ServerConfig.defaults().withAddress("name.that.is.never.looked.up", 8080).address();
    assertThat(((InetSocketAddress) address).isUnresolved()).isTrue();
    assertThat(((InetSocketAddress) address).getHostString())
        .isEqualTo("name.that.is.never.looked.up");
  }

  @Test
  void invalidValuesAreRejectedNamingTheField() {
    ServerConfig config = ServerConfig.defaults();
    assertThatThrownBy(() -> config.withMaxConnections(0))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("maxConnections must be positive: 0");
    assertThatThrownBy(() -> config.withIdleTimeout(Duration.ZERO))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("idleTimeout must be positive: PT0S");
    assertThatThrownBy(() -> config.withWriteTimeout(Duration.ZERO))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("writeTimeout must be positive: PT0S");
    assertThatThrownBy(() -> config.withFirstByteTimeout(Duration.ofSeconds(-1)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("firstByteTimeout must be positive: PT-1S");
    assertThatThrownBy(() -> config.withIdleTimeout(null))
        .isInstanceOf(NullPointerException.class)
        .hasMessage("idleTimeout");
    assertThatThrownBy(() -> config.withBacklog(-1))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("backlog must not be negative: -1");
    assertThatThrownBy(() -> config.withShutdownGrace(Duration.ofMillis(-1)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("shutdownGrace must not be negative: PT-0.001S");
    assertThatThrownBy(() -> config.withAddress("localhost", 65536))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("port out of range 0..65535: 65536");
    assertThatThrownBy(() -> config.withAddress((SocketAddress) null))
        .isInstanceOf(NullPointerException.class)
        .hasMessage("address");
    assertThatThrownBy(() -> config.withAddress(new SocketAddress() {}))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith("address: not an inet or AF_UNIX address");
    UnixDomainSocketAddress unix = UnixDomainSocketAddress.of("/tmp/jsock-server.sock");
    assertThatThrownBy(() -> config.withAddress(unix).withReusePort(true))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("reusePort: an AF_UNIX socket has no SO_REUSEPORT: " + unix);
    assertThatThrownBy(() -> config.withReusePort(true).withAddress(unix))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith("reusePort: ");
    assertThatThrownBy(() -> config.withAddress(unix).withTcpNoDelay(true))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("tcpNoDelay: an AF_UNIX socket has no TCP_NODELAY: " + unix);
  }
}
