package io.jsock.tls;

import static io.jsock.Family.AF_INET;
import static io.jsock.Family.AF_INET6;
import static java.nio.charset.StandardCharsets.UTF_8;
import static java.util.concurrent.TimeUnit.SECONDS;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowable;
import static org.awaitility.Awaitility.await;

import io.jsock.BrokenPipeException;
import io.jsock.ClosedSocketException;
import io.jsock.ConnectionResetException;
import io.jsock.Event;
import io.jsock.Family;
import io.jsock.Ready;
import io.jsock.Shutdown;
import io.jsock.Socket;
import io.jsock.SocketSelector;
import io.jsock.Sockets;
import io.jsock.WouldBlockException;
import io.jsock.testing.AddressText;
import io.jsock.testing.Loopback;
import io.jsock.testing.Loopback.Pair;
import io.jsock.testing.Running;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.InterruptedIOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.SocketAddress;
import java.net.SocketTimeoutException;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.KeyStore;
import java.security.MessageDigest;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.FutureTask;
import java.util.concurrent.atomic.AtomicBoolean;
import javax.net.ssl.ExtendedSSLSession;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SNIHostName;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManagerFactory;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.ValueSource;

/** jsock TLS clients and servers against each other (and the JDK's SSLSocket) on loopback. */
class TlsSocketTest {
  @TempDir static Path pki;

  static TestPki.Issued ca;
  static KeyMaterial serverKey;
  static TlsContext server;
  static TlsContext client;

  @BeforeAll
  static void makeCertificates() throws Exception {
    ca = TestPki.ca("jsock test CA");
    serverKey = TestPki.leaf(ca, "localhost", "127.0.0.1", "::1").write(pki.resolve("server"));
    server = Tls.server(serverKey);
    client = Tls.client().withTrustedCertificates(List.of(ca.certificate()));
  }

  @ParameterizedTest
  @EnumSource(Family.class)
  void roundTripsOneMibEachWayAtOnce(Family family, @TempDir Path dir) throws Exception {
    byte[] up = random(1 << 20, 1);
    byte[] down = random(1 << 20, 2);
    String host = family == AF_INET6 ? "::1" : "localhost";
    try (Pair plain = Loopback.pair(family, dir);
        Pair tls = handshake(plain, client, host, server)) {
      Future<?> clientSends = run(() -> tls.client().sendAll(up));
      Future<?> serverSends = run(() -> tls.server().sendAll(down));
      Future<byte[]> serverGot = call(() -> recvExactly(tls.server(), up.length));
      byte[] clientGot = recvExactly(tls.client(), down.length);
      clientSends.get(30, SECONDS);
      serverSends.get(30, SECONDS);
      assertThat(sha256(serverGot.get(30, SECONDS))).isEqualTo(sha256(up));
      assertThat(sha256(clientGot)).isEqualTo(sha256(down));
      assertThat(Tls.session(tls.client()).getProtocol()).isEqualTo("TLSv1.3");
      assertThat(tls.client().getPeerName()).isEqualTo(tls.server().getSockName());
    }
  }

  @Test
  void speaksTls12WhenLimitedToIt() throws Exception {
    try (Pair plain = Loopback.pair(AF_INET);
        Pair tls = handshake(plain, client.withProtocols("TLSv1.2"), "127.0.0.1", server)) {
      tls.client().sendAll("over 1.2".getBytes(UTF_8));
      assertThat(new String(recvExactly(tls.server(), 8), UTF_8)).isEqualTo("over 1.2");
      assertThat(Tls.session(tls.server()).getProtocol()).isEqualTo("TLSv1.2");
      tls.client().close();
      assertThat(tls.server().recv(10)).isEmpty();
    }
  }

  // as the JDK's SSLSocket: available() counts the plaintext already decrypted and not yet read,
  // never guessed from records still encrypted (recvFrom(0) decrypts one, taking none of it)
  @ParameterizedTest
  @EnumSource(Family.class)
  void availableCountsDecryptedBytesNotYetRead(Family family, @TempDir Path dir) throws Exception {
    String host = family == AF_INET6 ? "::1" : "localhost";
    try (Pair plain = Loopback.pair(family, dir);
        Pair tls = handshake(plain, client, host, server)) {
      InputStream in = tls.server().getInputStream();
      assertThat(in.available()).isZero();

      tls.client().sendAll("hello world".getBytes(UTF_8));
      tls.server().recvFrom(0);
      assertThat(in.available()).isEqualTo(11);
      assertThat(new InputStreamReader(in, UTF_8).ready()).isTrue();
      assertThat(in.read()).isEqualTo('h');
      assertThat(in.available()).isEqualTo(10);
      assertThat(in.readNBytes(10)).isEqualTo("ello world".getBytes(UTF_8));
      assertThat(in.available()).isZero();

      tls.client().close();
      assertThat(in.read()).isEqualTo(-1);
      assertThat(in.available()).isZero();
      tls.server().close();
      assertThatThrownBy(in::available)
          .isInstanceOf(ClosedSocketException.class)
          .hasMessageEndingWith(": socket is closed");
    }
  }

  @Test
  void rejectsAWrongHostNameByDefault() throws Exception {
    try (Pair plain = Loopback.pair(AF_INET)) {
      var serverAddress = plain.client().getPeerName();
      Future<Socket> serverSide = call(() -> server.wrap(plain.server()));
      Throwable failure = catchThrowable(() -> client.wrap(plain.client(), "wrong.example"));
      assertThat(failure)
          .isInstanceOf(TlsException.class)
          .hasMessageStartingWith("tls handshake with " + address(serverAddress) + ": ")
          .hasMessageContaining("certificate for 'localhost'")
          .hasMessageContaining("does not match host name 'wrong.example'");
      assertThat(((TlsException) failure).address()).isEqualTo(serverAddress);
      assertThat(causeOf(serverSide))
          .isInstanceOf(TlsException.class)
          .hasMessageContaining("the peer rejected our certificate");
    }
  }

  @Test
  void rejectsAnUnknownCertificateAuthorityByDefault() throws Exception {
    for (TlsContext untrusting :
        List.of(
            Tls.client(), // the system's trust store
            Tls.client()
                .withTrustedCertificates(List.of(TestPki.ca("another CA").certificate())))) {
      try (Pair plain = Loopback.pair(AF_INET)) {
        Future<Socket> serverSide = call(() -> server.wrap(plain.server()));
        assertThatThrownBy(() -> untrusting.wrap(plain.client(), "localhost"))
            .isInstanceOf(TlsException.class)
            .hasMessageContaining("tls handshake with 127.0.0.1:")
            .hasMessageContaining(": unknown certificate authority");
        assertThat(causeOf(serverSide)).isInstanceOf(TlsException.class);
      }
    }
  }

  @Test
  void rejectsAnExpiredCertificate() throws Exception {
    Instant now = Instant.now();
    KeyMaterial expired =
        TestPki.leaf(ca, now.minus(Duration.ofDays(30)), now.minus(Duration.ofDays(1)), "localhost")
            .write(pki.resolve("expired"));
    try (Pair plain = Loopback.pair(AF_INET)) {
      call(() -> Tls.server(expired).wrap(plain.server()));
      assertThatThrownBy(() -> client.wrap(plain.client(), "localhost"))
          .isInstanceOf(TlsException.class)
          .hasMessageContaining("certificate 'CN=localhost' expired on ");
    }
  }

  @Test
  void anExpiredServerCertificateIsRefusedWithTheCertificateExpiredAlertAsPythonSendsIt()
      throws Exception {
    // A Python (OpenSSL) client refusing an expired server certificate alerts certificate_expired,
    // as the JDK's own client; jsock sent certificate_unknown (the JDK chose the alert from a
    // cause that jsock's rejection hid), so the server heard nothing of why.
    Instant now = Instant.now();
    KeyMaterial expired =
        TestPki.leaf(ca, now.minus(Duration.ofDays(30)), now.minus(Duration.ofDays(1)), "localhost")
            .write(pki.resolve("expired-alert"));
    try (Pair plain = Loopback.pair(AF_INET)) {
      Future<Socket> serverSide = call(() -> Tls.server(expired).wrap(plain.server()));
      assertThatThrownBy(() -> client.wrap(plain.client(), "localhost"))
          .isInstanceOf(TlsException.class)
          .hasMessageContaining("certificate 'CN=localhost' expired on ");
      assertThat(causeOf(serverSide))
          .isInstanceOf(TlsException.class)
          .hasMessageEndingWith("the peer rejected our certificate (alert certificate_expired)");
    }
  }

  @ParameterizedTest
  @ValueSource(booleans = {true, false})
  void rejectsAnOutOfDateSelfSignedCertificateThatIsTrustedDirectly(boolean expired)
      throws Exception {
    Instant now = Instant.now();
    TestPki.Issued outOfDate =
        expired
            ? TestPki.selfSignedLeaf(
                now.minus(Duration.ofDays(30)), now.minus(Duration.ofDays(1)), "localhost")
            : TestPki.selfSignedLeaf(
                now.plus(Duration.ofDays(1)), now.plus(Duration.ofDays(30)), "localhost");
    KeyMaterial key = outOfDate.write(pki.resolve("self-signed-" + expired));
    TlsContext trusting = Tls.client().withTrustedCertificates(List.of(outOfDate.certificate()));
    try (Pair plain = Loopback.pair(AF_INET)) {
      call(() -> Tls.server(key).wrap(plain.server()));
      assertThatThrownBy(() -> trusting.wrap(plain.client(), "localhost"))
          .isInstanceOf(TlsException.class)
          .hasMessageContaining(
              expired
                  ? "certificate 'CN=localhost' expired on "
                  : "certificate 'CN=localhost' is not valid before ");
    }
  }

  @ParameterizedTest
  @ValueSource(booleans = {true, false})
  void rejectsAChainEndingAtATrustedAuthorityThatHasExpired(boolean serverSendsTheRoot)
      throws Exception {
    Instant now = Instant.now();
    TestPki.Issued oldCa =
        TestPki.ca("old CA", now.minus(Duration.ofDays(60)), now.minus(Duration.ofDays(1)));
    TestPki.Issued leaf = TestPki.leaf(oldCa, "localhost"); // valid today itself
    Path dir = pki.resolve("old-ca-" + serverSendsTheRoot);
    KeyMaterial key = leaf.write(dir);
    if (!serverSendsTheRoot) {
      TestPki.writePem(dir.resolve("cert.pem"), leaf.certificate());
      key = KeyMaterial.fromPem(dir.resolve("cert.pem"), dir.resolve("key.pem"));
    }
    KeyMaterial presented = key;
    TlsContext trusting = Tls.client().withTrustedCertificates(List.of(oldCa.certificate()));
    try (Pair plain = Loopback.pair(AF_INET)) {
      call(() -> Tls.server(presented).wrap(plain.server()));
      assertThatThrownBy(() -> trusting.wrap(plain.client(), "localhost"))
          .isInstanceOf(TlsException.class)
          .hasMessageContaining("certificate 'CN=old CA' expired on ");
    }
    // an expired authority that is trusted too, but did not issue the chain, is no reason to refuse
    TlsContext alsoTrusting =
        Tls.client().withTrustedCertificates(List.of(oldCa.certificate(), ca.certificate()));
    try (Pair plain = Loopback.pair(AF_INET);
        Pair tls = handshake(plain, alsoTrusting, "localhost", server)) {
      tls.client().sendAll("ok".getBytes(UTF_8));
      assertThat(recvExactly(tls.server(), 2)).isEqualTo("ok".getBytes(UTF_8));
    }
  }

  @Test
  void aWildcardMatchesOnlyAsAWholeLeftmostLabelAboveTwoLabelsAsInPython() throws Exception {
    KeyMaterial wild =
        TestPki.leaf(ca, "*.example.test", "*.test", "f*.partial.test", "*oo.partial2.test")
            .write(pki.resolve("wildcards"));
    for (String host : List.of("a.example.test", "A.Example.Test")) {
      try (Pair plain = Loopback.pair(AF_INET);
          Pair tls = handshake(plain, client, host, Tls.server(wild))) {
        assertThat(Tls.session(tls.client()).getProtocol()).isEqualTo("TLSv1.3");
      }
    }
    // OpenSSL, so Python, refuses these (RFC 9525: no partial wildcards, none over one label)
    for (String host :
        List.of("a.test", "foo.partial.test", "foo.partial2.test", "a.b.example.test")) {
      try (Pair plain = Loopback.pair(AF_INET)) {
        call(() -> Tls.server(wild).wrap(plain.server()));
        assertThatThrownBy(() -> client.wrap(plain.client(), host))
            .as(host)
            .isInstanceOf(TlsException.class)
            .hasMessageContaining("does not match host name '" + host + "'");
      }
    }
  }

  @Test
  void aWildcardStandsOnlyForALabelOfLettersDigitsAndHyphensAsInPython() throws Exception {
    // OpenSSL, so Python, lets the wildcard of *.example.test stand for a.example.test but not for
    // my_host.example.test (Hostname mismatch); the JDK leaves such names, which SNI cannot carry,
    // to TlsTrust
    KeyMaterial wild = TestPki.leaf(ca, "*.example.test").write(pki.resolve("wildcard-ldh"));
    for (String host : List.of("my_host.example.test", "a*b.example.test")) {
      try (Pair plain = Loopback.pair(AF_INET)) {
        call(() -> Tls.server(wild).wrap(plain.server()));
        assertThatThrownBy(() -> client.wrap(plain.client(), host))
            .as(host)
            .isInstanceOf(TlsException.class)
            .hasMessageEndingWith(
                ": certificate for '*.example.test' does not match host name '" + host + "'");
      }
    }
    // the literal name still matches, as OpenSSL lets a wildcard match a literal '*'
    try (Pair plain = Loopback.pair(AF_INET);
        Pair tls = handshake(plain, client, "*.example.test", Tls.server(wild))) {
      assertThat(Tls.session(tls.client()).getProtocol()).isEqualTo("TLSv1.3");
    }
  }

  @Test
  void aWildcardOverALabelThatBeginsOrEndsWithAHyphenIsNoWildcardAsInPython() throws Exception {
    // OpenSSL (valid_star), so Python, takes *.-x.test and *.x-.test as no wildcard at all, and
    // refuses a.-x.test and a.x-.test (Hostname mismatch); names SNI cannot carry, left to TlsTrust
    for (String[] refused :
        List.of(new String[] {"*.-x.test", "a.-x.test"}, new String[] {"*.x-.test", "a.x-.test"})) {
      KeyMaterial wild = TestPki.leaf(ca, refused[0]).write(pki.resolve(refused[1]));
      try (Pair plain = Loopback.pair(AF_INET)) {
        call(() -> Tls.server(wild).wrap(plain.server()));
        assertThatThrownBy(() -> client.wrap(plain.client(), refused[1]))
            .as(refused[0])
            .isInstanceOf(TlsException.class)
            .hasMessageEndingWith(
                ": certificate for '"
                    + refused[0]
                    + "' does not match host name '"
                    + refused[1]
                    + "'");
      }
    }
  }

  @Test
  void aWildcardPatternEndingWithADotIsNoWildcardAsInPython() throws Exception {
    // OpenSSL (valid_star), so Python, takes *.example.test. for no wildcard: x.example.test. is
    // refused (Hostname mismatch), though example.test. matches a name given as example.test.
    KeyMaterial wild = TestPki.leaf(ca, "*.example.test.").write(pki.resolve("wildcard-dot"));
    try (Pair plain = Loopback.pair(AF_INET)) {
      call(() -> Tls.server(wild).wrap(plain.server()));
      assertThatThrownBy(() -> client.wrap(plain.client(), "x.example.test."))
          .isInstanceOf(TlsException.class)
          .hasMessageEndingWith(
              ": certificate for '*.example.test.' does not match host name 'x.example.test.'");
    }
  }

  @Test
  void aWildcardInTheCommonNameOfACertificateWithoutDnsNamesMatchesAsInPythonToo()
      throws Exception {
    // with no DNS name, the JDK, OpenSSL and so Python check the subject's CN, with the same rules
    for (String[] accepted :
        List.of(
            new String[] {"*.example.test", "a.example.test"},
            new String[] {"cn.test", "cn.test"})) {
      KeyMaterial key = TestPki.commonNameOnly(ca, accepted[0]).write(pki.resolve(accepted[1]));
      try (Pair plain = Loopback.pair(AF_INET);
          Pair tls = handshake(plain, client, accepted[1], Tls.server(key))) {
        assertThat(Tls.session(tls.client()).getProtocol()).isEqualTo("TLSv1.3");
      }
    }
    for (String[] refused :
        List.of(
            new String[] {"f*.partial.test", "foo.partial.test"},
            new String[] {"*.test", "a.test"},
            new String[] {"*.example.test", "a.b.example.test"})) {
      KeyMaterial key = TestPki.commonNameOnly(ca, refused[0]).write(pki.resolve(refused[1]));
      try (Pair plain = Loopback.pair(AF_INET)) {
        call(() -> Tls.server(key).wrap(plain.server()));
        assertThatThrownBy(() -> client.wrap(plain.client(), refused[1]))
            .as(refused[0])
            .isInstanceOf(TlsException.class)
            .hasMessageEndingWith(
                ": certificate for 'CN="
                    + refused[0]
                    + "' does not match host name '"
                    + refused[1]
                    + "'");
      }
    }
  }

  // CPython's test_check_hostname_idn: server_hostname goes through the idna codec (IDNA 2003, so
  // ß becomes ss), is matched in that form and sent so as SNI; python3 3.11 / OpenSSL 3.0 accept
  // each of these names for these certificates and send the ASCII name
  @Test
  void anInternationalizedHostNameIsMatchedAndSentAsSniInItsAsciiFormAsInPython() throws Exception {
    String[][] cases = {
      {"xn--knig-5qa.example.test", "könig.example.test", "xn--knig-5qa.example.test"},
      {"xn--knig-5qa.example.test", "KÖNIG.example.test", "xn--knig-5qa.example.test"},
      {"xn--knigsgsschen-lcb0w.test", "königsgäßchen.test", "xn--knigsgsschen-lcb0w.test"},
      {"*.xn--pythn-mua.test", "www.pythön.test", "www.xn--pythn-mua.test"},
      {"*.python.test", "püthon.python.test", "xn--pthon-kva.python.test"},
    };
    for (String[] c : cases) {
      KeyMaterial key = TestPki.leaf(ca, c[0]).write(pki.resolve("idn-" + c[2]));
      try (Pair plain = Loopback.pair(AF_INET);
          Pair tls = handshake(plain, client, c[1], Tls.server(key))) {
        assertThat(((ExtendedSSLSession) Tls.session(tls.server())).getRequestedServerNames())
            .as(c[1])
            .containsExactly(new SNIHostName(c[2]));
      }
    }
    // a wildcard stands for no part of a label, A-label or not (python3: Hostname mismatch)
    KeyMaterial partial = TestPki.leaf(ca, "xn--p*.python.test").write(pki.resolve("idn-partial"));
    assertRefused(partial, "püthon.python.test");
  }

  // python3 3.11 / OpenSSL 3.0 (server_hostname is an address when OpenSSL reads it as one): an
  // IPv6 address matches in any spelling, an IPv4 address given as four decimal numbers, leading
  // zeros and all (010.0.0.1 is 10.0.0.1, not inet_aton's octal 8.0.0.1)
  @Test
  void anIpAddressMatchesInEverySpellingOpensslReadsAsThatAddressAsInPython() throws Exception {
    KeyMaterial v6 = TestPki.leafNamed(ca, "x", "::1").write(pki.resolve("ip-v6"));
    KeyMaterial v4 =
        TestPki.leafNamed(ca, "x", "127.0.0.1", "10.0.0.1").write(pki.resolve("ip-v4"));
    String[][] accepted = {
      {"v6", "0:0:0:0:0:0:0:1"}, {"v6", "::0001"}, {"v4", "127.000.000.001"}, {"v4", "010.0.0.1"}
    };
    for (String[] c : accepted) {
      try (Pair plain = Loopback.pair(AF_INET);
          Pair tls = handshake(plain, client, c[1], Tls.server(c[0].equals("v6") ? v6 : v4))) {
        assertThat(((ExtendedSSLSession) Tls.session(tls.server())).getRequestedServerNames())
            .as(c[1])
            .isEmpty();
      }
    }
  }

  // python3 3.11 / OpenSSL 3.0: 127.1, 2130706433 and 0x7f.0.0.1 are no addresses to OpenSSL (it
  // reads four decimal numbers), so they are host names, sent as SNI and refused for a certificate
  // for 127.0.0.1 (Hostname mismatch); an IPv4-mapped address is 16 bytes, not the 4 of 127.0.0.1
  // (IP address mismatch)
  @Test
  void aNameThatOnlyInetAtonReadsAsAnAddressIsAHostNameForTheCertificateAsInPython()
      throws Exception {
    KeyMaterial v4 = TestPki.leafNamed(ca, "x", "127.0.0.1").write(pki.resolve("aton"));
    for (String host : List.of("127.1", "2130706433", "0x7f.0.0.1")) {
      assertRefused(v4, host);
    }
  }

  // python3 3.11 / OpenSSL 3.0: IP address mismatch (16 bytes are not the 4 of 127.0.0.1)
  @Test
  void anIpv4MappedAddressIsNotTheIpv4AddressOfTheCertificateAsInPython() throws Exception {
    assertRefused(
        TestPki.leafNamed(ca, "x", "127.0.0.1").write(pki.resolve("mapped")), "::ffff:127.0.0.1");
  }

  // jsock's own check of an address runs in TLS 1.2's handshake as in 1.3's (the JDK calls the
  // trust manager from both); python3 3.11 / OpenSSL 3.0: IP address mismatch
  @Test
  void anAddressIsComparedByteForByteOverTls12Too() throws Exception {
    TlsContext tls12 = client.withProtocols("TLSv1.2");
    assertRefused(
        tls12,
        TestPki.leafNamed(ca, "x", "127.0.0.1").write(pki.resolve("v12")),
        "::ffff:127.0.0.1");
    assertRefused(
        tls12,
        TestPki.leafWithRawAltNames(ca, java.util.HexFormat.of().parseHex("3008800087047f000001"))
            .write(pki.resolve("v12-raw")),
        "127.0.0.1");
  }

  // python3 3.11 / OpenSSL 3.0: a certificate's 16-byte entry ::ffff:127.0.0.1 refuses 127.0.0.1
  // (IP address mismatch) and accepts the IPv4-mapped address in either spelling
  @Test
  void anIpv4AddressIsNotTheIpv4MappedAddressOfTheCertificateAsInPython() throws Exception {
    KeyMaterial mapped =
        TestPki.leafNamed(ca, "x", "::ffff:127.0.0.1").write(pki.resolve("mapped-entry"));
    try (Pair plain = Loopback.pair(AF_INET)) {
      Future<Socket> serverSide = call(() -> Tls.server(mapped).wrap(plain.server()));
      assertThatThrownBy(() -> client.wrap(plain.client(), "127.0.0.1"))
          .isInstanceOf(TlsException.class)
          .hasMessageEndingWith(
              ": certificate for '::ffff:127.0.0.1' does not match host name '127.0.0.1'");
      assertThat(causeOf(serverSide)).isInstanceOf(TlsException.class);
    }
    for (String host : List.of("::ffff:127.0.0.1", "::ffff:7f00:1")) {
      try (Pair plain = Loopback.pair(AF_INET);
          Pair tls = handshake(plain, client, host, Tls.server(mapped))) {
        assertThat(Tls.session(tls.client()).getProtocol()).as(host).isEqualTo("TLSv1.3");
      }
    }
  }

  // python3 3.11 / OpenSSL 3.0 take a server_hostname for an address after the idna codec (which
  // maps fullwidth digits) and as sscanf's %d reads each number (spaces before it, a sign, int
  // overflow; anything after a space): each of these is 127.0.0.1 there, sent without SNI and
  // compared with the IP entries only (IP address mismatch for these certificates); jsock took them
  // for names and accepted the CN, or the JDK's IPv4-mapped collapse through SNI 127.0.0.1
  @Test
  void aHostNameThatOpensslReadsAsAnAddressIsCheckedAsThatAddressAsInPython() throws Exception {
    for (String host : List.of("127.0.0.4294967297", "127.0.0.1 junk", "127.0.0.+1")) {
      assertRefused(
          TestPki.commonNameOnly(ca, host.replace("+", "\\+")).write(pki.resolve("cn-" + host)),
          host);
    }
    KeyMaterial mapped =
        TestPki.leafNamed(ca, "127.0.0.1", "::ffff:127.0.0.1").write(pki.resolve("fullwidth-1"));
    assertRefused(mapped, "\uff11\uff12\uff17.0.0.1");
    KeyMaterial v4 = TestPki.leafNamed(ca, "x", "127.0.0.1").write(pki.resolve("fullwidth-2"));
    for (String host : List.of("\uff11\uff12\uff17.0.0.1", "127.0.0.1 ", " 127.0.0.1")) {
      try (Pair plain = Loopback.pair(AF_INET);
          Pair tls = handshake(plain, client, host, Tls.server(v4))) {
        assertThat(((ExtendedSSLSession) Tls.session(tls.server())).getRequestedServerNames())
            .as(host)
            .isEmpty();
      }
    }
  }

  // OpenSSL 3.0 refuses a certificate whose subjectAltName it cannot decode (openssl verify:
  // invalid certificate), whatever entries it holds; so did the JDK's check of an address
  @ParameterizedTest
  @ValueSource(
      strings = {
        "3008800087047f000001", // a primitive [0]: otherName is a SEQUENCE
        "3008890087047f000001", // [9]: no GeneralName has it
        "3006a70487047f000001", // [7] constructed, holding a [7] (no OCTET STRING)
      })
  void anAddressIsRefusedForACertificateWithAMalformedSubjectAltName(String der) throws Exception {
    KeyMaterial key =
        TestPki.leafWithRawAltNames(ca, java.util.HexFormat.of().parseHex(der))
            .write(pki.resolve("raw-" + der));
    assertRefused(key, "127.0.0.1");
  }

  // CPython's test_match_hostname ("When there is a subjectAltName, commonName isn't used"; "No
  // DNS entry in subjectAltName but a commonName"); python3 3.11 / OpenSSL 3.0 agree: the CN
  // counts for a host name only when the certificate has no DNS name, never for an address, and
  // an address matches only an IP address entry
  @Test
  void theCommonNameCountsOnlyForAHostNameOfACertificateWithoutDnsNamesAsInPython()
      throws Exception {
    KeyMaterial ipOnly = TestPki.leafNamed(ca, "localhost", "127.0.0.1").write(pki.resolve("cn1"));
    try (Pair plain = Loopback.pair(AF_INET);
        Pair tls = handshake(plain, client, "localhost", Tls.server(ipOnly))) {
      assertThat(Tls.session(tls.client()).getProtocol()).isEqualTo("TLSv1.3");
    }
    assertRefused(
        TestPki.leafNamed(ca, "localhost", "other.test").write(pki.resolve("cn2")), "localhost");
    assertRefused(TestPki.commonNameOnly(ca, "127.0.0.1").write(pki.resolve("cn3")), "127.0.0.1");
    assertRefused(TestPki.leafNamed(ca, "x", "127.0.0.1").write(pki.resolve("cn4")), "localhost");
  }

  // python3: certificate verify failed: certificate is not yet valid
  @Test
  void rejectsACertificateThatIsNotValidYet() throws Exception {
    Instant now = Instant.now();
    KeyMaterial early =
        TestPki.leaf(ca, now.plus(Duration.ofDays(1)), now.plus(Duration.ofDays(30)), "localhost")
            .write(pki.resolve("not-yet-valid"));
    try (Pair plain = Loopback.pair(AF_INET)) {
      Future<Socket> serverSide = call(() -> Tls.server(early).wrap(plain.server()));
      assertThatThrownBy(() -> client.wrap(plain.client(), "localhost"))
          .isInstanceOf(TlsException.class)
          .hasMessageContaining("certificate 'CN=localhost' is not valid before ");
      assertThat(causeOf(serverSide)).isInstanceOf(TlsException.class);
    }
  }

  // CPython's test_min_max_version_mismatch: a client and a server with no version in common both
  // fail the handshake, the client naming the server's alert
  @Test
  void aClientAndAServerWithNoProtocolInCommonBothFailSayingSo() throws Exception {
    try (Pair plain = Loopback.pair(AF_INET)) {
      Future<Socket> serverSide = call(() -> server.withProtocols("TLSv1.2").wrap(plain.server()));
      assertThatThrownBy(() -> client.withProtocols("TLSv1.3").wrap(plain.client(), "localhost"))
          .isInstanceOf(TlsException.class)
          .hasMessageStartingWith("tls handshake with 127.0.0.1:")
          .hasMessageContaining("protocol_version");
      assertThat(causeOf(serverSide))
          .isInstanceOf(TlsException.class)
          .hasMessageStartingWith("tls handshake with 127.0.0.1:");
    }
  }

  // CPython's test_rude_shutdown: a server that accepts and closes at once fails the client's
  // handshake with an OSError (python3: SSLEOFError, or ConnectionResetError)
  @Test
  void aPeerThatClosesBeforeTheHandshakeFailsTheWrapNamingTheHandshake() throws Exception {
    try (Pair plain = Loopback.pair(AF_INET)) {
      plain.server().close();
      Throwable failure = catchThrowable(() -> client.wrap(plain.client(), "localhost"));
      assertThat(failure)
          .isInstanceOfAny(
              TlsException.class, ConnectionResetException.class, BrokenPipeException.class)
          .hasMessageStartingWith("tls handshake with 127.0.0.1:");
      if (failure instanceof TlsException) {
        assertThat(failure)
            .hasMessageEndingWith("the peer closed the connection during the handshake");
      }
    }
  }

  // CPython's test_do_handshake_enotconn: the handshake of an unconnected socket fails with
  // ENOTCONN
  @Test
  void wrappingASocketThatIsNotConnectedFailsWithEnotconn() throws Exception {
    try (Socket unconnected = Socket.create()) {
      assertThatThrownBy(() -> client.wrap(unconnected, "localhost"))
          .isInstanceOf(io.jsock.SocketError.class)
          .hasMessage("tls wrap: transport endpoint is not connected")
          .satisfies(e -> assertThat(((io.jsock.SocketError) e).errno()).isEqualTo(107));
    }
  }

  // CPython's test_preauth_data_to_tls_client (CVE-2023-40217): a server that answers in plain
  // text and resets the connection before any handshake fails the wrap; its bytes are never read
  // as if they came over TLS
  @Test
  void plainTextFollowedByAResetBeforeTheHandshakeFailsTheWrap() throws Exception {
    try (Pair plain = Loopback.pair(AF_INET)) {
      plain.server().sendAll("HTTP/1.0 307 Temporary Redirect\r\n\r\n".getBytes(UTF_8));
      plain.server().setSockOpt(StandardSocketOptions.SO_LINGER, 0);
      plain.server().close(); // a reset
      assertThatThrownBy(() -> client.wrap(plain.client(), "localhost"))
          .isInstanceOfAny(
              TlsException.class, ConnectionResetException.class, BrokenPipeException.class)
          .hasMessageStartingWith("tls handshake with 127.0.0.1:");
    }
  }

  // CPython's test_echo and test_server_side: a server context makes no client socket and a
  // client context no server socket; nothing is sent and the socket stays plain
  @Test
  void eachContextWrapsOnlyItsOwnSideOfAConnection() throws Exception {
    try (Pair plain = Loopback.pair(AF_INET)) {
      assertThatThrownBy(() -> server.wrap(plain.client(), "localhost"))
          .isInstanceOf(IllegalStateException.class)
          .hasMessage("a server context wraps accepted sockets: use wrap(Socket)");
      assertThatThrownBy(() -> client.wrap(plain.server()))
          .isInstanceOf(IllegalStateException.class)
          .hasMessage("a client context needs the server's host name: use wrap(Socket, String)");
      plain.client().sendAll("still plain".getBytes(UTF_8));
      assertThat(recvExactly(plain.server(), 11)).isEqualTo("still plain".getBytes(UTF_8));
    }
  }

  // CPython's test_recv_zero: recv(0) and recv_into of no room take nothing and return at once,
  // with plaintext waiting or none and in any mode; the plaintext is still there afterwards
  @Test
  void recvOfNoBytesReturnsAtOnceAndTakesNothingAsPythonsSslRecv() throws Exception {
    try (Pair plain = Loopback.pair(AF_INET);
        Pair tls = handshake(plain, client, "localhost", server)) {
      tls.server().sendAll("data".getBytes(UTF_8));
      assertThat(tls.client().recv(0)).isEmpty();
      assertThat(recvExactly(tls.client(), 4)).isEqualTo("data".getBytes(UTF_8));
      assertThat(tls.client().recv(0)).isEmpty(); // blocking, nothing sent
      tls.client().setBlocking(false);
      assertThat(tls.client().recv(0)).isEmpty();
      assertThat(tls.client().recvInto(ByteBuffer.allocate(0))).isZero();
    }
  }

  /** Asserts that a client refuses the server presenting {@code key} for {@code host}. */
  private static void assertRefused(KeyMaterial key, String host) throws Exception {
    assertRefused(client, key, host);
  }

  private static void assertRefused(TlsContext client, KeyMaterial key, String host)
      throws Exception {
    try (Pair plain = Loopback.pair(AF_INET)) {
      Future<Socket> serverSide = call(() -> Tls.server(key).wrap(plain.server()));
      assertThatThrownBy(() -> client.wrap(plain.client(), host))
          .as(host)
          .isInstanceOf(TlsException.class)
          .hasMessageEndingWith("does not match host name '" + host + "'");
      assertThat(causeOf(serverSide)).isInstanceOf(TlsException.class);
    }
  }

  @Test
  void insecureModeConnectsToAnUnknownAuthorityAndWarnsOnce() throws Exception {
    LogCapture log = LogCapture.start("io.jsock.tls");
    try {
      TlsContext insecure = Tls.client().insecureNoVerification();
      for (int i = 0; i < 2; i++) {
        try (Pair plain = Loopback.pair(AF_INET);
            Pair tls = handshake(plain, insecure, i == 0 ? null : "wrong.example", server)) {
          tls.client().sendAll("hi".getBytes(UTF_8));
          assertThat(recvExactly(tls.server(), 2)).isEqualTo("hi".getBytes(UTF_8));
        }
      }
    } finally {
      log.stop();
    }
    assertThat(log.text().lines().filter(line -> line.contains("verification is OFF"))).hasSize(1);
    assertThat(log.text()).contains("WARNING");
  }

  @Test
  void needsAHostNameUnlessInsecure() throws Exception {
    try (Pair plain = Loopback.pair(AF_INET)) {
      assertThatThrownBy(() -> client.wrap(plain.client(), null))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("serverHostname");
    }
  }

  @Test
  void sendsTheHostNameAsSniButNotAnIpAddress() throws Exception {
    try (Pair plain = Loopback.pair(AF_INET);
        Pair tls = handshake(plain, client, "localhost", server)) {
      var session = (ExtendedSSLSession) Tls.session(tls.server());
      assertThat(session.getRequestedServerNames()).containsExactly(new SNIHostName("localhost"));
    }
    try (Pair plain = Loopback.pair(AF_INET);
        Pair tls = handshake(plain, client, "127.0.0.1", server)) {
      var session = (ExtendedSSLSession) Tls.session(tls.server());
      assertThat(session.getRequestedServerNames()).isEmpty();
    }
  }

  @Test
  void handshakeTimesOutAgainstAPeerThatNeverSpeaks() throws Exception {
    try (Pair plain = Loopback.pair(AF_INET)) {
      var serverAddress = plain.client().getPeerName();
      TlsContext impatient = client.withHandshakeTimeout(Duration.ofMillis(300));
      long start = System.nanoTime();
      assertThatThrownBy(() -> impatient.wrap(plain.client(), "localhost"))
          .isInstanceOf(SocketTimeoutException.class)
          .hasMessage("tls handshake with " + address(serverAddress) + ": timed out");
      assertThat(Duration.ofNanos(System.nanoTime() - start))
          .isBetween(Duration.ofMillis(290), Duration.ofSeconds(5));
      assertThat(plain.server().recv(1)).isNotEmpty(); // the ClientHello came
    }
  }

  @Test
  void handshakeIsBoundedByTheSocketsOwnTimeoutToo() throws Exception {
    try (Pair plain = Loopback.pair(AF_INET)) {
      plain.client().setTimeout(Duration.ofMillis(200));
      long start = System.nanoTime();
      assertThatThrownBy(() -> client.wrap(plain.client(), "localhost"))
          .isInstanceOf(SocketTimeoutException.class);
      assertThat(Duration.ofNanos(System.nanoTime() - start))
          .isBetween(Duration.ofMillis(190), Duration.ofSeconds(5));
    }
  }

  @Test
  void aHostNameThatSniCannotCarryIsSentWithoutSniAndStillVerified() throws Exception {
    // The JDK's SNIHostName refuses a trailing dot (and underscores); the handshake goes on.
    try (Pair plain = Loopback.pair(AF_INET);
        Pair tls = handshake(plain, client, "localhost.", server)) {
      var session = (ExtendedSSLSession) Tls.session(tls.server());
      assertThat(session.getRequestedServerNames()).isEmpty();
    }
    try (Pair plain = Loopback.pair(AF_INET)) {
      Future<?> accepting = run(() -> server.wrap(plain.server()));
      assertThatThrownBy(() -> client.wrap(plain.client(), "my_host"))
          .isInstanceOf(TlsException.class)
          .hasMessageEndingWith("does not match host name 'my_host'");
      assertThat(causeOf(accepting)).isInstanceOf(TlsException.class);
    }
  }

  @Test
  void aHostNameTheJdkRefusesIsVerifiedAgainstTheCertificateAsInPython() throws Exception {
    // Python (OpenSSL) accepts my_host for a certificate naming my_host; the JDK's own check
    // refuses any name that is not a valid DNS name, whatever the certificate says
    KeyMaterial underscored =
        TestPki.leaf(ca, "my_host", "*.my_domain.test").write(pki.resolve("underscored"));
    try (Pair plain = Loopback.pair(AF_INET);
        Pair tls = handshake(plain, client, "My_Host", Tls.server(underscored))) {
      tls.client().sendAll("hi".getBytes(UTF_8));
      assertThat(recvExactly(tls.server(), 2)).isEqualTo("hi".getBytes(UTF_8));
      assertThat(((ExtendedSSLSession) Tls.session(tls.server())).getRequestedServerNames())
          .isEmpty();
    }
    // OpenSSL matches no wildcard over labels that are not letters, digits and hyphens
    for (String host : List.of("other_host", "a.my_domain.test")) {
      try (Pair plain = Loopback.pair(AF_INET)) {
        call(() -> Tls.server(underscored).wrap(plain.server()));
        assertThatThrownBy(() -> client.wrap(plain.client(), host))
            .as(host)
            .isInstanceOf(TlsException.class)
            .hasMessageEndingWith(
                ": certificate for 'my_host', '*.my_domain.test' does not match host name '"
                    + host
                    + "'");
      }
    }
  }

  @Test
  void anEmptyHostNameIsRejectedNamingIt() throws Exception {
    try (Pair plain = Loopback.pair(AF_INET)) {
      assertThatThrownBy(() -> client.wrap(plain.client(), ""))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessage("serverHostname must not be empty");
      assertThatThrownBy(() -> client.insecureNoVerification().wrap(plain.client(), ""))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessage("serverHostname must not be empty");
    }
  }

  @Test
  void aHostNameWithANulCharacterIsRejectedBeforeTheHandshakeAsInPython() throws Exception {
    // CPython's test_bad_server_hostname: server_hostname "example.org\x00evil.com" is refused
    // (TypeError) before anything is sent; jsock handshook and then matched the name, NUL and all
    try (Pair plain = Loopback.pair(AF_INET)) {
      assertThatThrownBy(() -> client.wrap(plain.client(), "localhost\0evil.com"))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessage("serverHostname must not contain a NUL character: localhost\\0evil.com");
      plain.client().sendAll("still plain".getBytes(UTF_8)); // not detached: nothing was sent
      assertThat(recvExactly(plain.server(), 11)).isEqualTo("still plain".getBytes(UTF_8));
    }
  }

  @Test
  void aHostNameThatIdnaRefusesIsRejectedNamingItAsInPython() throws Exception {
    // Python's server_hostname goes through the idna codec first: UnicodeError, a ValueError
    for (String name : List.of(".example.test", "a..example.test", "x".repeat(64) + ".test")) {
      try (Pair plain = Loopback.pair(AF_INET)) {
        assertThatThrownBy(() -> client.wrap(plain.client(), name))
            .isInstanceOf(IllegalArgumentException.class)
            .hasMessage(
                "serverHostname: not a host name (an empty label, one over 63 characters, or a"
                    + " character IDNA prohibits): "
                    + name);
        plain.client().sendAll("still plain".getBytes(UTF_8)); // not detached: nothing was sent
        assertThat(recvExactly(plain.server(), 11)).isEqualTo("still plain".getBytes(UTF_8));
      }
    }
  }

  @Test
  void wrappingDetachesTheOriginalSocket() throws Exception {
    try (Pair plain = Loopback.pair(AF_INET);
        Pair tls = handshake(plain, client, "localhost", server)) {
      assertThatThrownBy(() -> plain.client().recv(1))
          .isInstanceOf(ClosedSocketException.class)
          .hasMessageContaining("socket was wrapped for TLS");
      assertThat(plain.client().isClosed()).isTrue(); // as Python's detach() marks it
      assertThat(tls.client().isClosed()).isFalse();
      plain.client().close(); // leaves the channel to the TLS socket
      tls.client().sendAll("still here".getBytes(UTF_8));
      assertThat(new String(recvExactly(tls.server(), 10), UTF_8)).isEqualTo("still here");
      assertThat(Tls.isTls(tls.client())).isTrue();
      assertThat(Tls.isTls(plain.client())).isFalse();
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"TLSv1.3", "TLSv1.2"})
  void closeSendsCloseNotifySoThePeerSeesAnOrderlyEnd(String protocol) throws Exception {
    try (Pair plain = Loopback.pair(AF_INET);
        Pair tls = handshake(plain, client.withProtocols(protocol), "localhost", server)) {
      tls.client().sendAll("bye".getBytes(UTF_8));
      tls.client().close();
      assertThat(recvExactly(tls.server(), 3)).isEqualTo("bye".getBytes(UTF_8));
      assertThat(tls.server().recv(10)).isEmpty();
      assertThat(tls.server().recv(10)).isEmpty(); // and stays at the end
    }
  }

  // A thread whose interrupt is set (a cancelled task closing its socket in try-with-resources)
  // still gets close_notify out when nothing holds it up, and keeps its interrupt
  @Test
  void closeFromAnInterruptedThreadStillSendsCloseNotify() throws Exception {
    try (Pair plain = Loopback.pair(AF_INET);
        Pair tls = handshake(plain, client, "localhost", server)) {
      tls.client().sendAll("bye".getBytes(UTF_8));
      Thread.currentThread().interrupt();
      boolean stillInterrupted;
      try {
        tls.client().close();
      } finally {
        stillInterrupted = Thread.interrupted();
      }
      assertThat(stillInterrupted).isTrue();
      assertThat(recvExactly(tls.server(), 3)).isEqualTo("bye".getBytes(UTF_8));
      assertThat(tls.server().recv(10)).isEmpty();
    }
  }

  // README's Endings: TLS 1.2 has no half-close, and the JDK's engine closes the sending side as
  // the peer's close_notify arrives (Python's OpenSSL still writes); TLS 1.3 ends one direction
  @ParameterizedTest
  @ValueSource(strings = {"TLSv1.3", "TLSv1.2"})
  void aSendAfterThePeersCloseNotifyIsRefusedOnlyUnderTls12(String protocol) throws Exception {
    try (Pair plain = Loopback.pair(AF_INET);
        Pair tls = handshake(plain, client.withProtocols(protocol), "localhost", server)) {
      tls.client().shutdown(Shutdown.SHUT_WR);
      assertThat(tls.server().recv(10)).isEmpty();
      if (protocol.equals("TLSv1.2")) {
        assertThatThrownBy(() -> tls.server().sendAll("late".getBytes(UTF_8)))
            .isInstanceOf(BrokenPipeException.class);
      } else {
        tls.server().sendAll("late".getBytes(UTF_8));
        assertThat(recvExactly(tls.client(), 4)).isEqualTo("late".getBytes(UTF_8));
      }
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"TLSv1.3", "TLSv1.2"})
  void closeWithSoLingerZeroResetsThePeerWithoutCloseNotify(String protocol) throws Exception {
    try (Pair plain = Loopback.pair(AF_INET);
        Pair tls = handshake(plain, client.withProtocols(protocol), "localhost", server)) {
      tls.client().sendAll("cut".getBytes(UTF_8));
      tls.client().setSockOpt(StandardSocketOptions.SO_LINGER, 0);
      tls.client().close();
      assertThat(recvExactly(tls.server(), 3)).isEqualTo("cut".getBytes(UTF_8));
      assertThatThrownBy(() -> tls.server().recv(10)).isInstanceOf(ConnectionResetException.class);
    }
  }

  // SO_LINGER 0 set on a listener is given to the sockets it accepts, as Linux's are (they read
  // 0); a TLS server made of such a socket sent close_notify before its reset, as close() only
  // looked at the options set on the socket itself, so a TLS 1.3 client read an orderly end
  @ParameterizedTest
  @ValueSource(strings = {"TLSv1.3", "TLSv1.2"})
  void closeWithSoLingerZeroFromTheListenerResetsThePeerWithoutCloseNotify(String protocol)
      throws Exception {
    Pair plain;
    try (Socket listener = Sockets.createServer(new InetSocketAddress("127.0.0.1", 0))) {
      listener.setSockOpt(StandardSocketOptions.SO_LINGER, 0);
      listener.setSockOpt(StandardSocketOptions.TCP_NODELAY, true); // no data held back by Nagle
      Socket connecting = Sockets.createConnection(listener.getSockName());
      plain = new Pair(connecting, listener.accept().conn());
    }
    try (plain;
        Pair tls = handshake(plain, client.withProtocols(protocol), "localhost", server)) {
      assertThat(tls.server().getSockOpt(StandardSocketOptions.SO_LINGER)).isZero();
      tls.server().sendAll("cut".getBytes(UTF_8));
      tls.server().close();
      assertThat(recvExactly(tls.client(), 3)).isEqualTo("cut".getBytes(UTF_8));
      assertThatThrownBy(() -> tls.client().recv(10)).isInstanceOf(ConnectionResetException.class);
    }
  }

  @ParameterizedTest
  @ValueSource(booleans = {true, false})
  void aShutdownWriteThatCouldNotFinishSendsCloseNotifyWhenCalledAgain(
      boolean nonBlocking, @TempDir Path dir) throws Exception {
    // Over AF_UNIX, whose send buffer frees only as the peer reads: once a send finds no room,
    // none comes. Over TCP on loopback, room came back whenever the kernel's softirq work ran late
    // (acknowledgements freeing the buffer after the sends had found none for 100 ms, under load),
    // and the shutdown that should not have finished did.
    try (Pair plain = Loopback.pair(Family.AF_UNIX, dir)) {
      try (Pair tls = handshake(plain, client, "localhost", server)) {
        Socket sock = tls.client();
        byte[] chunk = new byte[16 * 1024];
        long sent = 0;
        sock.setBlocking(false);
        boolean full = false;
        for (int i = 0; i < 100_000 && !full; i++) { // a few hundred KiB fill it
          try {
            sent += sock.send(chunk); // the same bytes again: a queued record goes first
          } catch (WouldBlockException noRoom) {
            full = true;
          }
        }
        assertThat(full).as("the send buffer filled").isTrue();
        if (nonBlocking) {
          assertThatThrownBy(() -> sock.shutdown(Shutdown.SHUT_WR))
              .isInstanceOf(WouldBlockException.class);
        } else {
          sock.setTimeout(Duration.ofMillis(5));
          assertThatThrownBy(() -> sock.shutdown(Shutdown.SHUT_WR))
              .isInstanceOf(SocketTimeoutException.class);
        }
        assertThat(sent).isPositive();
        Future<Long> drained =
            call(
                () -> {
                  long total = 0;
                  byte[] got;
                  while ((got = tls.server().recv(64 * 1024)).length > 0) {
                    total += got.length;
                  }
                  return total; // the orderly end: close_notify came
                });
        sock.setTimeout(Duration.ofSeconds(20));
        sock.shutdown(Shutdown.SHUT_WR); // again, as after OpenSSL's SSL_ERROR_WANT_WRITE
        assertThat(drained.get(30, SECONDS)).isGreaterThanOrEqualTo(sent);
      }
    }
  }

  @Test
  void shutdownWriteSendsCloseNotifyAndTheReplyStillArrives() throws Exception {
    try (Pair plain = Loopback.pair(AF_INET);
        Pair tls = handshake(plain, client, "localhost", server)) {
      tls.client().sendAll("question".getBytes(UTF_8));
      tls.client().shutdown(Shutdown.SHUT_WR);
      assertThat(recvExactly(tls.server(), 8)).isEqualTo("question".getBytes(UTF_8));
      assertThat(tls.server().recv(10)).isEmpty();
      tls.server().sendAll("answer".getBytes(UTF_8));
      tls.server().close();
      assertThat(recvExactly(tls.client(), 6)).isEqualTo("answer".getBytes(UTF_8));
      assertThat(tls.client().recv(10)).isEmpty();
    }
  }

  @Test
  void recvAfterShutdownReadStillReturnsWhatHadArrivedThenTheEnd() throws Exception {
    // as a plain socket on Linux; the portable path's channel ends the stream at once (as BSD)
    org.junit.jupiter.api.Assumptions.assumeFalse(Boolean.getBoolean("jsock.selectorPoller"));
    try (Pair plain = Loopback.pair(AF_INET);
        Pair tls = handshake(plain, client, "localhost", server);
        SocketSelector selector = SocketSelector.open()) {
      Socket sock = tls.server(); // the side that gets no session ticket: only our record comes
      tls.client().sendAll("queued".getBytes(UTF_8));
      sock.setBlocking(false);
      selector.register(sock, Set.of(Event.EVENT_READ), null);
      assertThat(selector.select(Duration.ofSeconds(5))).as("the record has arrived").hasSize(1);
      selector.unregister(sock);
      sock.setBlocking(true);

      sock.shutdown(Shutdown.SHUT_RD);

      assertThat(new String(sock.recv(100), UTF_8)).isEqualTo("queued");
      assertThat(sock.recv(100)).isEmpty();
      tls.client().sendAll("late".getBytes(UTF_8));
      assertThat(sock.recv(100)).as("the end stays the end").isEmpty();
    }
  }

  // python3, plain socket: a recv blocked in another thread returns b'' when shutdown(SHUT_RD)
  @ParameterizedTest
  @EnumSource(
      value = Shutdown.class,
      names = {"SHUT_RD", "SHUT_RDWR"})
  void aRecvWaitingWhenItsOwnSocketShutsDownReadingReturnsTheEndNotATruncation(Shutdown how)
      throws Exception {
    try (Pair plain = Loopback.pair(AF_INET);
        Pair tls = handshake(plain, client, "localhost", server)) {
      Socket sock = tls.server(); // the side that gets no session ticket
      FutureTask<byte[]> blocked = new FutureTask<>(() -> sock.recv(10));
      Thread receiver = Thread.ofVirtual().start(blocked);
      await()
          .atMost(Duration.ofSeconds(5))
          .until(() -> isParkedIn(receiver, "io.jsock.internal.TlsEngine", "readMore"));

      sock.shutdown(how);

      assertThat(blocked.get(30, SECONDS)).isEmpty(); // as a plain socket: the peer did not close
      assertThat(sock.recv(10)).isEmpty();
    }
  }

  // python3: SSLSocket.shutdown(SHUT_RDWR) while sendall is stuck in another thread returns at
  // once (it sends no close_notify), and the sendall fails (SSLEOFError); a plain socket's with
  // BrokenPipeError, as jsock's
  @ParameterizedTest
  @EnumSource(
      value = Shutdown.class,
      names = {"SHUT_WR", "SHUT_RDWR"})
  void shutdownDoesNotWaitForASendStuckInAnotherThread(Shutdown how) throws Exception {
    try (Pair plain = Loopback.pair(AF_INET);
        Pair tls = handshake(plain, client, "localhost", server)) {
      Socket sock = tls.client();
      FutureTask<Void> stuck =
          new FutureTask<>(
              () -> {
                sock.sendAll(new byte[64 << 20]); // the peer never reads
                return null;
              });
      Thread sender = Thread.ofVirtual().start(stuck);
      await()
          .atMost(Duration.ofSeconds(10))
          .until(() -> isParkedIn(sender, "io.jsock.internal.TlsEngine", "flush"));

      Future<?> shutdown = run(() -> sock.shutdown(how));

      assertThat(causeOf(shutdown)).as("shutdown's failure").isNull();
      assertThat(causeOf(stuck))
          .isInstanceOf(BrokenPipeException.class)
          .hasMessageStartingWith("send to 127.0.0.1:");
    }
  }

  @Test
  void aKeyUpdateArrivingWhileASendIsStuckDoesNotStopTheReceiver() throws Exception {
    int upSize = 16 << 20;
    int downSize = 32 << 20; // more than loopback's buffers hold: the server's sendAll gets stuck
    byte[] up = random(upSize, 5);
    byte[] down = random(downSize, 6);
    KeyStore trust = KeyStore.getInstance("PKCS12");
    trust.load(null, null);
    trust.setCertificateEntry("ca", ca.certificate());
    TrustManagerFactory trusting = TrustManagerFactory.getInstance("PKIX");
    trusting.init(trust);
    SSLContext jdkClient = SSLContext.getInstance("TLSv1.3");
    jdkClient.init(null, trusting.getTrustManagers(), null);
    try (Socket listener = Sockets.createServer(new InetSocketAddress("127.0.0.1", 0))) {
      InetSocketAddress address = (InetSocketAddress) listener.getSockName();
      // A single-threaded peer: it reads one byte, asks for a KeyUpdate, then only writes.
      Future<byte[]> peer =
          call(
              () -> {
                try (SSLSocket ssl =
                    (SSLSocket)
                        jdkClient
                            .getSocketFactory()
                            .createSocket(address.getAddress(), address.getPort())) {
                  ssl.startHandshake();
                  ssl.getInputStream().readNBytes(1);
                  ssl.startHandshake(); // TLS 1.3 after the handshake: KeyUpdate, answer requested
                  ssl.getOutputStream().write(up);
                  ssl.getOutputStream().flush();
                  return ssl.getInputStream().readNBytes(downSize - 1);
                }
              });
      try (Socket plain = listener.accept().conn();
          Socket tls = server.wrap(plain)) {
        tls.setTimeout(Duration.ofSeconds(60));
        Future<?> sending = run(() -> tls.sendAll(down));

        // The answer to the KeyUpdate must not wait for the stuck sendAll's lock: a receiver that
        // waited would stop reading, and the peer, writing and not reading, would never go on.
        assertThat(sha256(recvExactly(tls, upSize))).isEqualTo(sha256(up));
        sending.get(60, SECONDS);
        assertThat(sha256(peer.get(60, SECONDS)))
            .isEqualTo(sha256(Arrays.copyOfRange(down, 1, downSize)));
      }
    }
  }

  @Test
  void aKeyUpdateArrivingWhileTheSendBufferIsFullDoesNotStopTheReceiver() throws Exception {
    int upSize = 16 << 20;
    int downSize = 32 << 20; // more than loopback's buffers hold
    byte[] up = random(upSize, 5);
    byte[] down = random(downSize, 6);
    KeyStore trust = KeyStore.getInstance("PKCS12");
    trust.load(null, null);
    trust.setCertificateEntry("ca", ca.certificate());
    TrustManagerFactory trusting = TrustManagerFactory.getInstance("PKIX");
    trusting.init(trust);
    SSLContext jdkClient = SSLContext.getInstance("TLSv1.3");
    jdkClient.init(null, trusting.getTrustManagers(), null);
    try (Socket listener = Sockets.createServer(new InetSocketAddress("127.0.0.1", 0))) {
      InetSocketAddress address = (InetSocketAddress) listener.getSockName();
      Future<byte[]> peer =
          call(
              () -> {
                try (SSLSocket ssl =
                    (SSLSocket)
                        jdkClient
                            .getSocketFactory()
                            .createSocket(address.getAddress(), address.getPort())) {
                  ssl.startHandshake();
                  ssl.getInputStream().readNBytes(1);
                  ssl.startHandshake(); // TLS 1.3 after the handshake: KeyUpdate, answer requested
                  ssl.getOutputStream().write(up);
                  ssl.getOutputStream().flush();
                  return ssl.getInputStream().readNBytes(downSize - 1);
                }
              });
      try (Socket plain = listener.accept().conn();
          Socket tls = server.wrap(plain)) {
        tls.setBlocking(false);
        ByteBuffer rest = ByteBuffer.wrap(down);
        assertThatThrownBy(
                () -> {
                  while (rest.hasRemaining()) {
                    tls.send(rest); // until the kernel is full and a record stays queued
                  }
                })
            .isInstanceOf(WouldBlockException.class);
        // No thread sends now, and nothing more can go: the KeyUpdate's answer must wait, and must
        // not hold up the receiver (OpenSSL sends it with the next write).
        tls.setTimeout(Duration.ofSeconds(20));
        assertThat(sha256(recvExactly(tls, upSize))).isEqualTo(sha256(up));
        tls.sendAll(rest);
        assertThat(sha256(peer.get(60, SECONDS)))
            .isEqualTo(sha256(Arrays.copyOfRange(down, 1, downSize)));
      }
    }
  }

  @Test
  void detectsTruncationWhenThePeerClosesWithoutCloseNotifyOnEveryLaterRecv() throws Exception {
    SSLContext jdk = jdkServerContext();
    try (ServerSocket listener = new ServerSocket(0, 1, Loopback.ip(AF_INET));
        Socket plain = Socket.create()) {
      plain.connect(listener.getLocalSocketAddress());
      java.net.Socket raw = listener.accept();
      Future<?> peer =
          run(
              () -> {
                SSLSocket ssl = (SSLSocket) jdk.getSocketFactory().createSocket(raw, null, false);
                ssl.setUseClientMode(false);
                ssl.startHandshake();
                OutputStream out = ssl.getOutputStream();
                out.write("partial".getBytes(UTF_8));
                out.flush();
                raw.close(); // TCP's FIN without TLS's close_notify
              });
      try (Socket tls = client.wrap(plain, "localhost")) {
        assertThat(recvExactly(tls, 7)).isEqualTo("partial".getBytes(UTF_8));
        peer.get(10, SECONDS);
        assertThatThrownBy(() -> tls.recv(10))
            .isInstanceOf(TlsException.class)
            .hasMessageContaining("recv from 127.0.0.1:")
            .hasMessageEndingWith("connection truncated: the peer closed without close_notify");
        // Still cut off on the next call, as with OpenSSL: never a clean end of stream after all.
        assertThatThrownBy(() -> tls.recv(10))
            .isInstanceOf(TlsException.class)
            .hasMessageEndingWith("connection truncated: the peer closed without close_notify");
      }
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"TLSv1.2", "TLSv1.3"})
  void aServerThatRequiresAClientCertificateIsNamedInTheFailure(String protocol) throws Exception {
    SSLContext jdk = jdkServerContext();
    try (ServerSocket listener = new ServerSocket(0, 1, Loopback.ip(AF_INET));
        Socket plain = Socket.create()) {
      plain.connect(listener.getLocalSocketAddress());
      java.net.Socket raw = listener.accept();
      Future<?> peer =
          run(
              () -> {
                SSLSocket ssl = (SSLSocket) jdk.getSocketFactory().createSocket(raw, null, false);
                ssl.setUseClientMode(false);
                ssl.setNeedClientAuth(true);
                try {
                  ssl.startHandshake();
                } finally {
                  // Closed only after the client: unread bytes would make it a reset, which could
                  // overtake the alert.
                  raw.getInputStream().readAllBytes();
                  raw.close();
                }
              });
      // TLS 1.2 fails the handshake; TLS 1.3 finishes it on the client's side and the server's
      // alert arrives at the first recv, as with Python.
      Throwable failure =
          catchThrowable(
              () -> {
                try (Socket tls = client.withProtocols(protocol).wrap(plain, "localhost")) {
                  tls.recv(10);
                }
              });
      assertThat(failure)
          .isInstanceOf(TlsException.class)
          .hasMessageContaining("client certificate");
      assertThat(catchThrowable(() -> peer.get(10, SECONDS))).isNotNull();
    }
  }

  @Test
  void anAlertFollowedByAResetIsNamedWhenOurNextHandshakeFlightMeetsTheReset() throws Exception {
    // Python's TLS 1.2 server requiring a client certificate alerts (handshake_failure) at our
    // empty Certificate and closes with our next records unread: a reset. Our next record's
    // write then met it (ECONNRESET or EPIPE, "tls handshake with …: connection reset by peer")
    // while the alert lay unread; Python's client (one write per flight) names the alert. Here
    // the peer sends its flight and the alert, then the reset, before we write our own flight.
    javax.net.ssl.SSLEngine server = jdkServerContext().createSSLEngine();
    server.setUseClientMode(false);
    server.setEnabledProtocols(new String[] {"TLSv1.2"});
    try (ServerSocket listener = new ServerSocket(0, 1, Loopback.ip(AF_INET));
        Socket plain = Socket.create()) {
      plain.connect(listener.getLocalSocketAddress());
      java.net.Socket raw = listener.accept();
      Future<?> peer =
          run(
              () -> {
                ByteBuffer in = ByteBuffer.allocate(32768);
                ByteBuffer app = ByteBuffer.allocate(32768);
                ByteBuffer out = ByteBuffer.allocate(65536);
                byte[] chunk = new byte[32768];
                server.beginHandshake();
                for (int i = 0; i < 100; i++) { // bounded: the ClientHello, then our flight
                  switch (server.getHandshakeStatus()) {
                    case NEED_UNWRAP -> {
                      in.flip();
                      var result = server.unwrap(in, app);
                      in.compact();
                      if (result.bytesConsumed() == 0) {
                        int n = raw.getInputStream().read(chunk);
                        in.put(chunk, 0, n);
                      }
                    }
                    case NEED_TASK -> server.getDelegatedTask().run();
                    case NEED_WRAP -> server.wrap(ByteBuffer.allocate(0), out);
                    default -> throw new AssertionError(server.getHandshakeStatus());
                  }
                  if (server.getHandshakeStatus()
                          == javax.net.ssl.SSLEngineResult.HandshakeStatus.NEED_UNWRAP
                      && out.position() > 0) {
                    break; // our flight is ready: the client's turn
                  }
                }
                out.put(new byte[] {0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x28}); // handshake_failure
                raw.getOutputStream().write(out.array(), 0, out.position());
                raw.setSoLinger(true, 0);
                raw.close(); // a reset, as when a server closes with our records unread
              });
      assertThatThrownBy(() -> client.withProtocols("TLSv1.2").wrap(plain, "localhost"))
          .isInstanceOf(TlsException.class)
          .hasMessageContaining("tls handshake with 127.0.0.1:")
          .hasMessageEndingWith(
              "or the peer requires a client certificate (alert handshake_failure)");
      peer.get(10, SECONDS);
    }
  }

  @Test
  void aCorruptRecordFailsThatRecvAndEveryLaterOne() throws Exception {
    SSLContext jdk = jdkServerContext();
    try (ServerSocket listener = new ServerSocket(0, 1, Loopback.ip(AF_INET));
        Socket plain = Socket.create()) {
      plain.connect(listener.getLocalSocketAddress());
      java.net.Socket raw = listener.accept();
      Future<?> peer =
          run(
              () -> {
                SSLSocket ssl = (SSLSocket) jdk.getSocketFactory().createSocket(raw, null, false);
                ssl.setUseClientMode(false);
                ssl.startHandshake();
                // An application-data record too short to hold its authentication tag.
                raw.getOutputStream().write(new byte[] {23, 3, 3, 0, 5, 1, 2, 3, 4, 5});
              });
      try (Socket tls = client.wrap(plain, "localhost");
          SocketSelector selector = SocketSelector.open()) {
        peer.get(10, SECONDS);
        assertThatThrownBy(() -> tls.recv(10))
            .isInstanceOf(TlsException.class)
            .hasMessageStartingWith("recv from 127.0.0.1:")
            .hasMessageContaining("bad record mac")
            .hasMessageContaining("bad_record_mac");
        // Nothing more on the wire, yet the socket is ready: its recv has the failure to report.
        tls.setBlocking(false);
        selector.register(tls, Set.of(Event.EVENT_READ), "failed");
        assertThat(selector.select(Duration.ofSeconds(5))).hasSize(1);
        assertThatThrownBy(() -> tls.recv(10))
            .isInstanceOf(TlsException.class)
            .hasMessageContaining("bad_record_mac");
      } finally {
        raw.close();
      }
    }
  }

  // python3 (OpenSSL) names each of these after the handshake: BAD_RECORD_TYPE for a plaintext
  // alert or change_cipher_spec under TLS 1.3, DECRYPTION_FAILED_OR_BAD_RECORD_MAC for a record too
  // short for its tag; jsock gave the JDK's internals ("Insufficient buffer remaining for AEAD
  // cipher fragment (0)…", "Unexpected exception", "Unexpected content: 20") and took a
  // handshake_failure alert mid-session for a handshake problem (no common cipher suite)
  @ParameterizedTest
  @org.junit.jupiter.params.provider.CsvSource(
      delimiter = '|',
      value = {
        "TLSv1.3|15030300020228|the peer sent alert handshake_failure (unencrypted, after the"
            + " handshake)",
        "TLSv1.3|15030300020100|the peer sent alert close_notify (unencrypted, after the"
            + " handshake)",
        "TLSv1.3|1703034a00|record overflow: the peer sent a record longer than TLS allows",
        "TLSv1.3|140303000101|unexpected message: a change_cipher_spec record after the handshake"
            + " (alert unexpected_message)",
        "TLSv1.3|1703030000|bad record mac: a record failed decryption or its integrity check"
            + " (alert bad_record_mac)",
        "TLSv1.2|1703030005aabbccddee|bad record mac: a record failed decryption or its integrity"
            + " check (alert bad_record_mac)",
      })
  void aMalformedRecordAfterTheHandshakeIsNamedInWords(String protocol, String hex, String reason)
      throws Exception {
    assertRecvFailsAfterRawBytes(protocol, hex, false, reason);
  }

  // python3 (OpenSSL) fails at once with WRONG_VERSION_NUMBER for bytes after the handshake that
  // are no TLS record (an HTTP request), and with BAD_RECORD_TYPE for a type TLS does not have;
  // jsock waited for the 8,239 bytes the 'length' of "GET /" claims (for ever with a blocking recv
  // and a peer that waits for an answer) or called the record a bad record mac
  @ParameterizedTest
  @org.junit.jupiter.params.provider.CsvSource(
      delimiter = '|',
      value = {
        "TLSv1.3|474554202f20485454502f312e300d0a0d0a|wrong version number: the peer sent"
            + " something that is no TLS record (it begins 47 45 54 20 2f)",
        "TLSv1.2|474554202f20485454502f312e300d0a0d0a|wrong version number: the peer sent"
            + " something that is no TLS record (it begins 47 45 54 20 2f)",
        "TLSv1.3|1707070005aabbccddee|wrong version number: the peer sent something that is no TLS"
            + " record (it begins 17 07 07 00 05)",
        "TLSv1.3|6303030005aabbccddee|bad record type: the peer sent a record of type 99, which TLS"
            + " does not have",
        "TLSv1.2|6303030005aabbccddee|bad record type: the peer sent a record of type 99, which TLS"
            + " does not have",
      })
  void bytesThatAreNoTlsRecordAfterTheHandshakeFailTheRecvAtOnce(
      String protocol, String hex, String reason) throws Exception {
    assertRecvFailsAfterRawBytes(protocol, hex, false, reason);
  }

  // python3 (OpenSSL) refuses a TLS 1.3 record longer than 2^14+256 from its header
  // (ENCRYPTED_LENGTH_TOO_LONG); the JDK's engine refuses only what exceeds its buffer (16,709), so
  // for a length in between jsock waited for the body
  @ParameterizedTest
  @org.junit.jupiter.params.provider.CsvSource(
      delimiter = '|',
      value = {"1703034101|false", "1703034140|true"})
  void aTls13RecordLongerThanTheRfcAllowsFailsTheRecvAtOnce(String hex, boolean nonBlocking)
      throws Exception {
    assertRecvFailsAfterRawBytes(
        "TLSv1.3",
        hex,
        nonBlocking,
        "record overflow: the peer sent a record longer than TLS allows");
  }

  // python3 (OpenSSL) refuses from the header alone, at once, a record of another version than the
  // session's (WRONG_VERSION_NUMBER) and, after a TLS 1.3 handshake, a handshake record, which goes
  // encrypted there (BAD_RECORD_TYPE); jsock checked the first version byte only and waited for the
  // body the header claims (for ever against a peer that waits), in timeout and non-blocking mode
  @ParameterizedTest
  @org.junit.jupiter.params.provider.CsvSource(
      delimiter = '|',
      value = {
        "TLSv1.3|1703010010|false|wrong version number: the peer sent a record of version 03 01,"
            + " where this TLSv1.3 session's say 03 03",
        "TLSv1.3|1703040010|true|wrong version number: the peer sent a record of version 03 04,"
            + " where this TLSv1.3 session's say 03 03",
        "TLSv1.2|1703000010|false|wrong version number: the peer sent a record of version 03 00,"
            + " where this TLSv1.2 session's say 03 03",
        "TLSv1.2|1503010002|true|wrong version number: the peer sent a record of version 03 01,"
            + " where this TLSv1.2 session's say 03 03",
        "TLSv1.3|1603030004|false|bad record type: the peer sent an unencrypted handshake record"
            + " after the TLS 1.3 handshake",
        "TLSv1.3|160303000401000000|true|bad record type: the peer sent an unencrypted handshake"
            + " record after the TLS 1.3 handshake",
      })
  void aRecordHeaderThatIsNoRecordOfTheSessionFailsTheRecvAtOnce(
      String protocol, String hex, boolean nonBlocking, String reason) throws Exception {
    assertRecvFailsAfterRawBytes(protocol, hex, nonBlocking, reason);
  }

  // A sender whose wrap waits on a TLS 1.2 renegotiation (it wrapped the ClientHello a receiver
  // could not send, the sender holding the lock) reads the peer's records itself; it read them
  // without the header check a recv makes, so bytes that are no TLS record then ('GET /') made the
  // send wait for the 8,239 bytes their "length" claims (its timeout; for ever without)
  @Test
  void bytesThatAreNoTlsRecordFailASendWaitingOutARenegotiationAtOnce() throws Exception {
    Throwable[] failures =
        sendWaitingOutARenegotiation(
            (raw, tls) -> raw.getOutputStream().write("GET / HTTP/1.0\r\n\r\n".getBytes(UTF_8)));
    String reason =
        ": wrong version number: the peer sent something that is no TLS record (it begins 47"
            + " 45 54 20 2f)";
    assertThat(failures[0])
        .isInstanceOf(TlsException.class)
        .hasMessageStartingWith("send to 127.0.0.1:")
        .hasMessageEndingWith(reason);
    assertThat(failures[1]) // the input is over for good, as after a recv's own failure
        .isInstanceOf(TlsException.class)
        .hasMessageStartingWith("recv from 127.0.0.1:")
        .hasMessageEndingWith(reason);
  }

  /** Reads and drops what a JDK socket receives, until it ends or is closed. */
  private static void drain(java.net.Socket raw) {
    byte[] chunk = new byte[65536];
    try {
      while (raw.getInputStream().read(chunk) >= 0) {}
    } catch (IOException e) {
      // closed at the test's end
    }
  }

  @Test
  void aTruncationMetByASendWaitingOutARenegotiationIsSaidByLaterRecvsAsTheirOwn()
      throws Exception {
    Throwable[] failures =
        sendWaitingOutARenegotiation(
            (raw, tls) -> raw.shutdownOutput()); // no close_notify: a truncation
    assertThat(failures[0])
        .isInstanceOf(TlsException.class)
        .hasMessageStartingWith("send to 127.0.0.1:")
        .hasMessageContaining("connection truncated");
    assertThat(failures[1]) // as after a recv's own truncation
        .isInstanceOf(TlsException.class)
        .hasMessageStartingWith("recv from 127.0.0.1:")
        .hasMessageContaining("connection truncated");
  }

  @Test
  void aRenegotiationCutShortByShutRdLeavesLaterRecvsTheEndOfTheInput() throws Exception {
    Throwable[] failures =
        sendWaitingOutARenegotiation((raw, tls) -> tls.shutdown(Shutdown.SHUT_RD));
    assertThat(failures[0])
        .isInstanceOf(TlsException.class)
        .hasMessageStartingWith("send to 127.0.0.1:")
        .hasMessageEndingWith(": renegotiation cut short: reading was shut down");
    assertThat(failures[1]).isNull(); // recv returned b"", as on a plain socket after SHUT_RD
  }

  interface RenegotiationEnd {
    void run(java.net.Socket raw, Socket tls) throws Exception;
  }

  /**
   * A TLS 1.2 client whose sendAll waits out a renegotiation a JDK server asked for and never
   * answers, ended by {@code end} once it waits: what the send threw, and what a recv then threw
   * (null if it returned the end of the input).
   */
  private Throwable[] sendWaitingOutARenegotiation(RenegotiationEnd end) throws Exception {
    SSLContext jdk = jdkServerContext();
    CountDownLatch senderBlocked = new CountDownLatch(1);
    CountDownLatch helloRequestSent = new CountDownLatch(1);
    CountDownLatch recvTimedOut = new CountDownLatch(1);
    try (ServerSocket listener = new ServerSocket(0, 1, Loopback.ip(AF_INET));
        Socket plain = Socket.create()) {
      plain.connect(listener.getLocalSocketAddress());
      java.net.Socket raw = listener.accept();
      Future<?> peer =
          run(
              () -> {
                SSLSocket ssl = (SSLSocket) jdk.getSocketFactory().createSocket(raw, null, false);
                ssl.setUseClientMode(false);
                ssl.startHandshake();
                senderBlocked.await();
                ssl.startHandshake(); // a HelloRequest
                helloRequestSent.countDown();
                recvTimedOut.await();
                Thread.ofVirtual().start(() -> drain(raw)); // the sender goes on, then waits
              });
      try (Socket tls = client.withProtocols("TLSv1.2").wrap(plain, "localhost")) {
        tls.setTimeout(Duration.ofSeconds(10)); // a bound if it waits; the peer stays open
        Running<Void> sender =
            Running.inVirtualThread(
                () -> {
                  tls.sendAll(new byte[32 << 20]); // the peer does not read yet
                  return null;
                });
        await()
            .atMost(Duration.ofSeconds(10))
            .until(() -> isParkedIn(sender.thread(), ENGINE, "flush"));
        senderBlocked.countDown();
        // the recv's timeout must not run out before the HelloRequest is there for it to take
        assertThat(helloRequestSent.await(10, SECONDS)).isTrue();
        tls.setTimeout(Duration.ofMillis(500));
        // takes the HelloRequest; its ClientHello waits for the sender to let go of the lock
        assertThatThrownBy(() -> tls.recv(10)).isInstanceOf(SocketTimeoutException.class);
        recvTimedOut.countDown();
        peer.get(10, SECONDS);
        await() // the ClientHello sent, it waits for the server's answer
            .atMost(Duration.ofSeconds(10))
            .until(
                () ->
                    isParkedIn(sender.thread(), ENGINE, "renegotiate")
                        && isParkedIn(sender.thread(), ENGINE, "readMore"));
        tls.setTimeout(Duration.ofSeconds(10));
        end.run(raw, tls);
        Throwable sent = causeOf(sender.result());
        Throwable received = null;
        try {
          assertThat(tls.recv(10)).isEmpty();
        } catch (IOException e) {
          received = e;
        }
        return new Throwable[] {sent, received};
      } finally {
        raw.close();
      }
    }
  }

  /**
   * Asserts that a client's recv after a JDK server's handshake and then the bytes {@code hex}
   * fails at once with a {@link TlsException} saying {@code reason}.
   */
  private void assertRecvFailsAfterRawBytes(
      String protocol, String hex, boolean nonBlocking, String reason) throws Exception {
    assertThat(recvAfterRawBytes(protocol, java.util.HexFormat.of().parseHex(hex), nonBlocking))
        .isInstanceOf(TlsException.class)
        .hasMessageStartingWith("recv from 127.0.0.1:")
        .hasMessageEndingWith(": " + reason);
  }

  /**
   * What a client's recv throws after a JDK server's handshake and then these bytes: in timeout
   * mode, or non-blocking (the first failure other than would-block, within a bounded loop).
   */
  private Throwable recvAfterRawBytes(String protocol, byte[] bytes, boolean nonBlocking)
      throws Exception {
    SSLContext jdk = jdkServerContext();
    try (ServerSocket listener = new ServerSocket(0, 1, Loopback.ip(AF_INET));
        Socket plain = Socket.create()) {
      plain.connect(listener.getLocalSocketAddress());
      java.net.Socket raw = listener.accept();
      Future<?> peer =
          run(
              () -> {
                SSLSocket ssl = (SSLSocket) jdk.getSocketFactory().createSocket(raw, null, false);
                ssl.setUseClientMode(false);
                ssl.startHandshake();
                raw.getOutputStream().write(bytes);
              });
      try (Socket tls = client.withProtocols(protocol).wrap(plain, "localhost")) {
        peer.get(10, SECONDS);
        tls.setTimeout(Duration.ofSeconds(5)); // a bound if it waits; the peer stays open
        if (!nonBlocking) {
          return catchThrowable(() -> tls.recv(10));
        }
        tls.setBlocking(false);
        Throwable failure = null;
        for (int i = 0;
            i < 500 && (failure == null || failure instanceof WouldBlockException);
            i++) {
          Thread.sleep(10);
          failure = catchThrowable(() -> tls.recv(10));
        }
        return failure;
      } finally {
        raw.close();
      }
    }
  }

  @Test
  void timeoutAndNonBlockingModesWorkOnATlsSocket() throws Exception {
    try (Pair plain = Loopback.pair(AF_INET);
        Pair tls = handshake(plain, client, "localhost", server)) {
      Socket sock = tls.client();
      sock.setTimeout(Duration.ofMillis(200));
      long start = System.nanoTime();
      assertThatThrownBy(() -> sock.recv(10))
          .isInstanceOf(SocketTimeoutException.class)
          .hasMessageContaining("recv from 127.0.0.1:")
          .hasMessageEndingWith("timed out");
      assertThat(Duration.ofNanos(System.nanoTime() - start))
          .isBetween(Duration.ofMillis(190), Duration.ofSeconds(5));

      sock.setBlocking(false);
      assertThatThrownBy(() -> sock.recv(10)).isInstanceOf(WouldBlockException.class);
      tls.server().sendAll("late".getBytes(UTF_8));
      ByteBuffer got = ByteBuffer.allocate(4);
      await()
          .atMost(Duration.ofSeconds(5))
          .ignoreException(WouldBlockException.class)
          .until(() -> sock.recvInto(got) >= 0 && !got.hasRemaining());
      assertThat(new String(got.array(), UTF_8)).isEqualTo("late");
    }
  }

  @Test
  void sendAllIsBoundedAsAWholeByTheTimeout() throws Exception {
    try (Pair plain = Loopback.pair(AF_INET);
        Pair tls = handshake(plain, client, "localhost", server)) {
      tls.client().setTimeout(Duration.ofMillis(300));
      byte[] big = new byte[64 << 20]; // far more than the kernel's buffers: the peer never reads
      long start = System.nanoTime();
      assertThatThrownBy(() -> tls.client().sendAll(big))
          .isInstanceOf(SocketTimeoutException.class)
          .hasMessageContaining("send to 127.0.0.1:");
      assertThat(Duration.ofNanos(System.nanoTime() - start))
          .isBetween(Duration.ofMillis(290), Duration.ofSeconds(5));
    }
  }

  // as Python's SSLSocket.sendall (and jsock's plain sendAll): the mode is the call's, so a
  // blocking (or timeout-mode) sendAll waiting for room goes on when another thread makes the
  // socket non-blocking, and sends it all
  @ParameterizedTest
  @ValueSource(booleans = {true, false})
  void aSendAllThatWaitsGoesOnWhenAnotherThreadMakesTheSocketNonBlocking(boolean timeoutMode)
      throws Exception {
    byte[] data = random(16 << 20, 8); // far more than the kernel's buffers hold
    try (Pair plain = Loopback.pair(AF_INET);
        Pair tls = handshake(plain, client, "localhost", server)) {
      Socket sock = tls.client();
      sock.setTimeout(timeoutMode ? Duration.ofSeconds(60) : null);
      FutureTask<Void> sending =
          new FutureTask<>(
              () -> {
                sock.sendAll(data);
                return null;
              });
      Thread sender = Thread.ofVirtual().start(sending);
      await().atMost(Duration.ofSeconds(10)).until(() -> sender.getState() == Thread.State.WAITING);

      sock.setBlocking(false);
      Future<byte[]> got = call(() -> recvExactly(tls.server(), data.length));

      assertThat(causeOf(sending)).as("the sendAll's failure").isNull();
      assertThat(sha256(got.get(30, SECONDS))).isEqualTo(sha256(data));
    }
  }

  // as Python's SSLSocket.recv (whose waits take the timeout read at the call) and jsock's plain
  // recv: a blocking recv that has part of a record and waits for the rest goes on waiting when
  // another thread makes the socket non-blocking
  @Test
  void aRecvWaitingForTheRestOfARecordGoesOnWhenAnotherThreadMakesTheSocketNonBlocking()
      throws Exception {
    try (Pair near = Loopback.pair(AF_INET);
        Pair far = Loopback.pair(AF_INET)) {
      // the client speaks TLS on near, the server on far; the test relays between them, and cuts
      // the first record after the handshake in two
      AtomicBoolean cut = new AtomicBoolean();
      CountDownLatch rest = new CountDownLatch(1);
      Future<?> up = run(() -> relay(near.server(), far.client(), null, null));
      Future<?> down = run(() -> relay(far.client(), near.server(), cut, rest));
      try (Pair tls =
          handshake(
              new Pair(near.client(), far.server()),
              client.withProtocols("TLSv1.2"), // no session ticket after the handshake
              "localhost",
              server)) {
        Socket sock = tls.client();
        FutureTask<byte[]> receiving = new FutureTask<>(() -> sock.recv(100));
        Thread receiver = Thread.ofVirtual().start(receiving);
        await()
            .atMost(Duration.ofSeconds(10))
            .until(() -> receiver.getState() == Thread.State.WAITING);

        sock.setBlocking(false);
        cut.set(true);
        tls.server().sendAll("hello".getBytes(UTF_8));
        int port = ((InetSocketAddress) sock.getSockName()).getPort();
        await() // the record's first byte read, and the receiver waiting for the rest (or failed)
            .atMost(Duration.ofSeconds(10))
            .until(
                () ->
                    receiveQueue(port) == 0
                        && (receiving.isDone() || receiver.getState() == Thread.State.WAITING));
        rest.countDown();

        assertThat(causeOf(receiving)).as("the recv's failure").isNull();
        assertThat(receiving.get()).asString(UTF_8).isEqualTo("hello");
      } finally {
        up.cancel(true);
        down.cancel(true);
      }
    }
  }

  /**
   * Copies bytes from one socket to another until the end; once {@code cut} is set, the next bytes
   * go as their first byte, then the rest once {@code rest} opens.
   */
  private static void relay(Socket from, Socket to, AtomicBoolean cut, CountDownLatch rest)
      throws Exception {
    while (true) {
      byte[] chunk = from.recv(65536);
      if (chunk.length == 0) {
        return;
      }
      if (cut != null && cut.getAndSet(false) && chunk.length > 1) {
        to.sendAll(Arrays.copyOf(chunk, 1));
        rest.await();
        to.sendAll(Arrays.copyOfRange(chunk, 1, chunk.length));
      } else {
        to.sendAll(chunk);
      }
    }
  }

  /** The bytes waiting unread in the kernel for the IPv4 TCP socket bound to {@code port}. */
  private static long receiveQueue(int port) throws IOException {
    String local = String.format(":%04X", port);
    for (String line : Files.readAllLines(Path.of("/proc/net/tcp"))) {
      String[] fields = line.trim().split("\\s+");
      if (fields.length > 4 && fields[1].endsWith(local) && fields[3].equals("01")) {
        return Long.parseLong(fields[4].substring(fields[4].indexOf(':') + 1), 16);
      }
    }
    throw new AssertionError("no established socket on port " + port + " in /proc/net/tcp");
  }

  // as on a plain socket, whose non-blocking recv and send answer EAGAIN while another thread
  // waits on it: a non-blocking call never waits, for the other thread's call neither
  @Test
  void nonBlockingCallsDoNotWaitForAnotherThreadsCallInTheSameDirection() throws Exception {
    try (Pair plain = Loopback.pair(AF_INET);
        Pair tls = handshake(plain, client, "localhost", server)) {
      Socket sock = tls.client();
      FutureTask<byte[]> receiving = new FutureTask<>(() -> sock.recv(10));
      Thread receiver = Thread.ofVirtual().start(receiving);
      FutureTask<Void> sending =
          new FutureTask<>(
              () -> {
                sock.sendAll(new byte[64 << 20]); // the peer does not read: it waits for room
                return null;
              });
      Thread sender = Thread.ofVirtual().start(sending);
      await()
          .atMost(Duration.ofSeconds(10))
          .until(
              () ->
                  receiver.getState() == Thread.State.WAITING
                      && sender.getState() == Thread.State.WAITING);

      sock.setBlocking(false);
      Future<Throwable> recv = call(() -> catchThrowable(() -> sock.recv(10)));
      Future<Throwable> send = call(() -> catchThrowable(() -> sock.send(new byte[] {1})));

      assertThat(recv.get(10, SECONDS))
          .isInstanceOf(WouldBlockException.class)
          .hasMessageStartingWith("recv from 127.0.0.1:");
      assertThat(send.get(10, SECONDS))
          .isInstanceOf(WouldBlockException.class)
          .hasMessageStartingWith("send to 127.0.0.1:");
      tls.server().sendAll("x".getBytes(UTF_8));
      assertThat(receiving.get(10, SECONDS)).isEqualTo("x".getBytes(UTF_8));
      tls.server().close(); // ends the waiting sendAll
      assertThat(causeOf(sending)).isNotNull();
    }
  }

  private static final String ENGINE = "io.jsock.internal.TlsEngine";

  @Test
  void anInterruptedWaitForAnotherThreadsCallNamesThePeerAsTheWireWaitDoes() throws Exception {
    try (Pair plain = Loopback.pair(AF_INET);
        Pair tls = handshake(plain, client, "localhost", server)) {
      Socket sock = tls.client();
      String peer = address(sock.getPeerName());
      Running<byte[]> first = Running.inVirtualThread(() -> sock.recv(10));
      await()
          .atMost(Duration.ofSeconds(10))
          .until(() -> isParkedIn(first.thread(), ENGINE, "readMore"));
      Running<byte[]> second = Running.inVirtualThread(() -> sock.recv(10));
      await()
          .atMost(Duration.ofSeconds(10))
          .until(() -> isParkedIn(second.thread(), ENGINE, "lock"));
      Running<Void> sending =
          Running.inVirtualThread(
              () -> {
                sock.sendAll(new byte[64 << 20]); // the peer does not read: it waits for room
                return null;
              });
      await()
          .atMost(Duration.ofSeconds(10))
          .until(() -> isParkedIn(sending.thread(), ENGINE, "flush"));
      Running<Void> secondSend =
          Running.inVirtualThread(
              () -> {
                sock.sendAll(new byte[] {1});
                return null;
              });
      await()
          .atMost(Duration.ofSeconds(10))
          .until(() -> isParkedIn(secondSend.thread(), ENGINE, "lock"));

      second.thread().interrupt();
      secondSend.thread().interrupt();
      first.thread().interrupt();

      // "recv from: interrupted" for the wait on the other thread's call before
      assertThat(second.failure())
          .isExactlyInstanceOf(InterruptedIOException.class)
          .hasMessage("recv from " + peer + ": interrupted");
      assertThat(secondSend.failure())
          .isExactlyInstanceOf(InterruptedIOException.class)
          .hasMessage("send to " + peer + ": interrupted");
      assertThat(first.failure())
          .isExactlyInstanceOf(InterruptedIOException.class)
          .hasMessage("recv from " + peer + ": interrupted");
    }
  }

  // python3: sslsock.settimeout(0.3); sendall(16 MiB) times out with megabytes sent; then
  // settimeout(20) and sendall of the same bytes again: the peer gets them exactly once (OpenSSL's
  // SSL_write goes on where the failed one stopped)
  @ParameterizedTest
  @ValueSource(booleans = {true, false})
  void aSendAllThatFailedPartWaySentAgainWithTheSameDataDeliversItOnce(boolean nonBlocking)
      throws Exception {
    try (Pair plain = Loopback.pair(AF_INET);
        Pair tls = handshake(plain, client, "localhost", server)) {
      Socket sock = tls.client();
      byte[] data = random(16 << 20, 9); // far more than the kernel's buffers: some goes, not all
      sock.setTimeout(nonBlocking ? Duration.ZERO : Duration.ofMillis(300));
      ByteBuffer buffer = ByteBuffer.wrap(data);
      assertThatThrownBy(() -> sock.sendAll(data))
          .isInstanceOf(nonBlocking ? WouldBlockException.class : SocketTimeoutException.class);
      assertThatThrownBy(() -> sock.sendAll(buffer))
          .as("again, and it fails again: no room yet")
          .isInstanceOf(nonBlocking ? WouldBlockException.class : SocketTimeoutException.class);
      assertThat(buffer.position()).as("where it was, as OpenSSL leaves it").isZero();

      Future<byte[]> got = call(() -> recvExactly(tls.server(), data.length + 5));
      sock.setTimeout(Duration.ofSeconds(20));
      sock.sendAll(data); // the same data again
      sock.sendAll("after".getBytes(UTF_8));
      byte[] all = got.get(30, SECONDS);
      assertThat(Arrays.mismatch(all, data)).as("first byte not as sent").isEqualTo(data.length);
      assertThat(Arrays.copyOfRange(all, data.length, all.length))
          .asString(UTF_8)
          .isEqualTo("after");
    }
  }

  @Test
  void sendsInTimeoutModeAreTriedOnceHoweverShortTheTimeout() throws Exception {
    // as Python's SSLSocket.send/sendall (settimeout(1e-9) sends a small message) and jsock's
    // plain sendAll: the timeout bounds waiting, so a send that needs no wait is never refused
    try (Pair plain = Loopback.pair(AF_INET);
        Pair tls = handshake(plain, client, "localhost", server)) {
      tls.client().setTimeout(Duration.ofNanos(1));

      int sent = tls.client().send("first".getBytes(UTF_8));
      tls.client().sendAll("second".getBytes(UTF_8));

      assertThat(sent).isEqualTo(5);
      assertThat(recvExactly(tls.server(), 11)).asString(UTF_8).isEqualTo("firstsecond");
    }
  }

  @Test
  void nonBlockingSendCountsWhatWentAndTheSameDataSentAgainGoesOnOnce() throws Exception {
    try (Pair plain = Loopback.pair(AF_INET);
        Pair tls = handshake(plain, client, "localhost", server)) {
      Socket sock = tls.client();
      sock.setBlocking(false);
      byte[] bytes = random(8 << 20, 3);
      ByteBuffer data = ByteBuffer.wrap(bytes);
      long accepted = sendUntilFull(sock, data); // a record may be queued, half written
      assertThat(data.hasRemaining()).as("the buffers are full").isTrue();
      assertThat((long) data.position()).isEqualTo(accepted).isPositive();

      Future<byte[]> got = call(() -> recvExactly(tls.server(), bytes.length));
      sock.setTimeout(Duration.ofSeconds(20));
      sock.sendAll(data); // the same data again, as OpenSSL asks: the queued record goes first
      assertThat(got.get(30, SECONDS)).isEqualTo(bytes); // nothing lost, nothing twice
    }
  }

  @Test
  void sendingNothingBetweenAWouldBlockAndTheRetryKeepsTheQueuedRecordCounted() throws Exception {
    try (Pair plain = Loopback.pair(AF_INET);
        Pair tls = handshake(plain, client, "localhost", server)) {
      Socket sock = tls.client();
      sock.setBlocking(false);
      byte[] bytes = random(8 << 20, 5);
      ByteBuffer data = ByteBuffer.wrap(bytes);
      sendUntilFull(sock, data); // a record is queued, half written
      assertThat(data.hasRemaining()).as("the buffers are full").isTrue();

      Future<byte[]> got = call(() -> recvExactly(tls.server(), bytes.length));
      sock.setTimeout(Duration.ofSeconds(20));
      sock.sendAll(new byte[0]); // as Python's sendall(b""): nothing to send, nothing changed
      sock.sendAll(ByteBuffer.allocate(0));
      sock.sendAll(data); // the same data again: the queued record's bytes are skipped
      assertThat(sha256(got.get(30, SECONDS))).isEqualTo(sha256(bytes));
    }
  }

  // python3.11 (OpenSSL 3.0), a TLS peer that starts reading only later: SSLSocket.send of 1 MiB,
  // 4 MiB and 128 KiB+2 in blocking mode returns the whole length, as sendall returns, and the
  // peer gets every byte once (CPython leaves SSL_MODE_ENABLE_PARTIAL_WRITE off, so SSL_write
  // returns only once every record has gone); as jsock's plain blocking send since f7d5b0b6
  @ParameterizedTest
  @ValueSource(ints = {1 << 20, 4 << 20, (128 << 10) + 2})
  void aBlockingSendSendsTheWholeBufferAsPythonsSslSendDoes(int size) throws Exception {
    try (Pair plain = Loopback.pair(AF_INET);
        Pair tls = handshake(plain, client, "localhost", server)) {
      Socket sock = tls.client();
      smallBuffers(tls);
      byte[] data = random(size, size);
      Future<byte[]> got = call(() -> recvToEnd(tls.server()));

      int sent = sock.send(data);
      sock.sendAll(data);
      sock.shutdown(Shutdown.SHUT_WR); // close_notify: the peer's recv ends

      assertThat(sent).isEqualTo(size);
      byte[] all = got.get(30, SECONDS);
      assertThat(all.length).isEqualTo(2 * size);
      assertThat(sha256(all)).isEqualTo(sha256(twice(data)));
    }
  }

  // python3.11, AF_UNIX, SO_SNDBUF 64 KiB filled with records of 16 KiB by non-blocking sends:
  // the same 16 KiB sent again in timeout mode (settimeout(1)) raises TimeoutError "The write
  // operation timed out" after the timeout, though the peer read one record meanwhile, which made
  // room for the queued one (a non-blocking send of it then returns 16384) but not enough for
  // Linux to call the socket writable (a quarter of the buffer free). jsock's TLS flush wrote once
  // more after its wait had ended at the deadline, and so returned 16384 after the whole timeout.
  @ParameterizedTest
  @ValueSource(strings = {"send", "sendAll"})
  void aSendInTimeoutModeThrowsTheTimeoutThoughTheQueuedRecordFitsOnceItHasPassed(
      String call, @TempDir Path dir) throws Exception {
    Pair plain = Loopback.pair(Family.AF_UNIX, dir);
    try (plain;
        Pair tls = handshake(plain, client, "localhost", server)) {
      Socket sock = tls.client();
      sock.setSockOpt(StandardSocketOptions.SO_SNDBUF, 64 * 1024);
      byte[] chunk = new byte[16 * 1024];
      sock.setBlocking(false);
      boolean full = false;
      for (int i = 0; i < 10_000 && !full; i++) { // a dozen records fill it
        try {
          sock.send(chunk); // the same bytes again: a queued record goes first
        } catch (WouldBlockException noRoom) {
          full = true;
        }
      }
      assertThat(full).as("the send buffer filled").isTrue();
      sock.setTimeout(Duration.ofSeconds(1));
      Running<Integer> sending =
          Running.inVirtualThread(
              () -> {
                if (call.equals("send")) {
                  return sock.send(chunk); // the queued record's bytes, then done
                }
                sock.sendAll(chunk);
                return chunk.length;
              });
      sending.awaitBlocked();

      assertThat(recvExactly(tls.server(), chunk.length)).hasSize(chunk.length); // a record or two

      assertThat(sending.failure())
          .isInstanceOf(SocketTimeoutException.class)
          .hasMessage("send to " + AddressText.text(sock.getPeerName()) + ": timed out");
      sock.setBlocking(false);
      assertThat(sock.send(chunk)).as("room that no readiness showed").isPositive();
    }
  }

  // python3.11, AF_UNIX, SO_SNDBUF 4096 filled by non-blocking sends of 100 bytes, settimeout(1):
  // do_handshake raises TimeoutError "The handshake operation timed out" after the timeout, though
  // the peer read 100 bytes meanwhile, and the peer then finds the filler only: its poll for room
  // timed out, so OpenSSL wrote nothing more. jsock's handshake flush wrote its ClientHello into
  // the room freed once its wait had ended at the deadline (which no readiness showed).
  @ParameterizedTest
  @ValueSource(booleans = {true, false})
  void aHandshakeWhoseWaitForRoomReachesItsDeadlineWritesNothingAfterIt(
      boolean virtual, @TempDir Path dir) throws Exception {
    try (Pair plain = Loopback.pair(Family.AF_UNIX, dir)) {
      Socket sock = plain.client();
      sock.setSockOpt(StandardSocketOptions.SO_SNDBUF, 4096);
      plain.server().setSockOpt(StandardSocketOptions.SO_RCVBUF, 4096);
      sock.setBlocking(false);
      int filled = 0;
      boolean full = false;
      for (int i = 0; i < 100_000 && !full; i++) { // bounded: far more than such buffers take
        try {
          filled += sock.send(new byte[100]);
        } catch (WouldBlockException noRoom) {
          full = true;
        }
      }
      assertThat(full).as("the send buffer filled").isTrue();
      sock.setBlocking(true);
      String peer = AddressText.text(sock.getPeerName()); // the wrap closes sock, failed or not
      TlsContext impatient = client.withHandshakeTimeout(Duration.ofSeconds(1));
      Callable<Socket> wrapping = () -> impatient.wrap(sock, "localhost");
      Running<Socket> handshaking =
          virtual ? Running.inVirtualThread(wrapping) : Running.inPlatformThread(wrapping);
      handshaking.awaitBlocked();

      assertThat(plain.server().recv(100)).hasSize(100);

      assertThat(handshaking.failure())
          .isInstanceOf(SocketTimeoutException.class)
          .hasMessage("tls handshake with " + peer + ": timed out");
      plain.server().setBlocking(false);
      ByteBuffer rest = ByteBuffer.allocate(2 * filled);
      try {
        for (int i = 0; i < 100_000 && plain.server().recvInto(rest) > 0; i++) {
          // bounded; ends with WouldBlockException once the queue is empty
        }
      } catch (WouldBlockException drained) {
        // all read
      }
      byte[] got = Arrays.copyOf(rest.array(), rest.position());
      assertThat(got.length).as("the filler, and no ClientHello").isEqualTo(filled - 100);
      assertThat(got).containsOnly((byte) 0);
      // python3.11: wrap_socket detached sock before its handshake, so sock.send raises
      // OSError(EBADF) afterwards
      assertThat(catchThrowable(() -> sock.send(new byte[1])))
          .isInstanceOf(ClosedSocketException.class);
    }
  }

  // python3.11: settimeout(0.5), a peer that does not read: SSLSocket.send (and sendall) of 1 MiB
  // or 4 MiB raises TimeoutError "The write operation timed out" with part of it sent; sent again
  // (the same data) once the peer reads, it returns the whole length and the peer has every byte
  // once. Of 128 KiB+2, it returns the whole length if the buffers hold it, else the same.
  @ParameterizedTest
  @ValueSource(ints = {1 << 20, 4 << 20, (128 << 10) + 2})
  void aSendInTimeoutModeSendsAllOrTimesOutAndTheSameDataSentAgainGoesOnOnce(int size)
      throws Exception {
    try (Pair plain = Loopback.pair(AF_INET);
        Pair tls = handshake(plain, client, "localhost", server)) {
      Socket sock = tls.client();
      smallBuffers(tls);
      byte[] data = random(size, size);
      sock.setTimeout(Duration.ofMillis(300));
      int sent = 0;
      Throwable failure = null;
      try {
        sent = sock.send(data);
      } catch (SocketTimeoutException e) {
        failure = e;
      }
      if (size >= 1 << 20) { // far more than the buffers hold, and the peer does not read
        assertThat(failure).hasMessageContaining("send to 127.0.0.1:");
      }

      Future<byte[]> got = call(() -> recvToEnd(tls.server()));
      sock.setTimeout(Duration.ofSeconds(20));
      if (failure != null) {
        sent = sock.send(data); // the same data again: what the failed call sent is skipped
      }
      sock.shutdown(Shutdown.SHUT_WR);

      assertThat(sent).isEqualTo(size);
      assertThat(sha256(got.get(30, SECONDS))).isEqualTo(sha256(data));
    }
  }

  // python3.11: a non-blocking SSLSocket.send of 128 KiB+2 that the kernel's buffers hold returns
  // the whole length, as a plain non-blocking send(2) does; jsock returned one record's 16 KiB
  @Test
  void aNonBlockingSendTakesAsManyRecordsAsTheKernelTakes() throws Exception {
    try (Pair plain = Loopback.pair(AF_INET);
        Pair tls = handshake(plain, client, "localhost", server)) {
      Socket sock = tls.client();
      sock.setSockOpt(StandardSocketOptions.SO_SNDBUF, 1 << 20); // room for far more than 128 KiB
      byte[] data = random((128 << 10) + 2, 7);
      sock.setBlocking(false);

      int sent = sock.send(data);

      Future<byte[]> got = call(() -> recvToEnd(tls.server()));
      sock.setBlocking(true);
      sock.shutdown(Shutdown.SHUT_WR);
      assertThat(sent).isEqualTo(data.length);
      assertThat(sha256(got.get(30, SECONDS))).isEqualTo(sha256(data));
    }
  }

  // Where jsock keeps its own contract rather than Python's: a non-blocking send returns what went
  // (whole records in the kernel), as send(2) and Python's plain sockets do, and
  // WouldBlockException only when not one record could go whole; Python's SSLSocket.send raises
  // SSLWantWriteError for 1 MiB unless all of it went, and its retry must pass the same data (a
  // shorter buffer sent the rest of the wrong bytes, measured). Retried with the same buffer after
  // a WouldBlockException, and advanced by the counts, the peer gets every byte once.
  @ParameterizedTest
  @ValueSource(ints = {1 << 20, 4 << 20, (128 << 10) + 2})
  void aNonBlockingSendCountsWhatWentAndThePeerGetsExactlyThat(int size) throws Exception {
    try (Pair plain = Loopback.pair(AF_INET);
        Pair tls = handshake(plain, client, "localhost", server)) {
      Socket sock = tls.client();
      smallBuffers(tls);
      byte[] data = random(size, size);
      ByteBuffer rest = ByteBuffer.wrap(data);
      sock.setBlocking(false);
      long counted = sendUntilFull(sock, rest); // the peer does not read yet
      if (size >= 1 << 20) {
        assertThat(rest.hasRemaining()).as("the buffers are full").isTrue();
      }
      assertThat((long) rest.position()).isEqualTo(counted);

      Future<byte[]> got = call(() -> recvToEnd(tls.server()));
      counted += sendTheRestAsThePeerReads(sock, rest, rest.remaining());
      sock.setBlocking(true);
      sock.shutdown(Shutdown.SHUT_WR);
      assertThat(counted).isEqualTo(size);
      assertThat(sha256(got.get(30, SECONDS))).isEqualTo(sha256(data));
    }
  }

  // The bytes of a record queued in part (by a WouldBlockException, or after a non-blocking count)
  // are counted by the next sends; a caller that goes on in pieces shorter than that record, as one
  // may after send(2)'s count, must have its pieces counted from it until its bytes are used up.
  // The first piece used to forget the rest of the record, which the next pieces sent again: the
  // peer got those bytes twice.
  @Test
  void aNonBlockingSendGoesOnInPiecesShorterThanTheQueuedRecordAndNoByteGoesTwice()
      throws Exception {
    try (Pair plain = Loopback.pair(AF_INET);
        Pair tls = handshake(plain, client, "localhost", server)) {
      Socket sock = tls.client();
      smallBuffers(tls);
      byte[] data = random(1 << 20, 13);
      ByteBuffer rest = ByteBuffer.wrap(data);
      sock.setBlocking(false);
      sendUntilFull(sock, rest); // the peer does not read yet
      assertThat(rest.hasRemaining()).as("the buffers are full").isTrue(); // a record is queued

      Future<byte[]> got = call(() -> recvToEnd(tls.server()));
      sendTheRestAsThePeerReads(sock, rest, 1000);
      sock.setBlocking(true);
      sock.shutdown(Shutdown.SHUT_WR);
      byte[] all = got.get(30, SECONDS);
      assertThat(all.length).isEqualTo(data.length);
      assertThat(sha256(all)).isEqualTo(sha256(data));
    }
  }

  // The same queued record, and the caller goes on in blocking mode, whose send takes all it is
  // given: pieces shorter than the record are each counted from it (the send returns at once, no
  // byte wrapped), then the rest of the data follows it. Set to 0 after the first piece, the bytes
  // of the record went twice here as in non-blocking mode.
  @Test
  void aBlockingSendGoesOnInPiecesShorterThanTheQueuedRecordAndNoByteGoesTwice() throws Exception {
    try (Pair plain = Loopback.pair(AF_INET);
        Pair tls = handshake(plain, client, "localhost", server)) {
      Socket sock = tls.client();
      smallBuffers(tls);
      byte[] data = random(1 << 20, 17);
      ByteBuffer rest = ByteBuffer.wrap(data);
      sock.setBlocking(false);
      sendUntilFull(sock, rest); // the peer does not read yet
      assertThat(rest.hasRemaining()).as("the buffers are full").isTrue(); // a record is queued

      Future<byte[]> got = call(() -> recvToEnd(tls.server()));
      sock.setBlocking(true);
      for (int i = 0; i < 3; i++) { // 3 pieces of 100 bytes, each shorter than any record left
        assertThat(sock.send(rest.slice(rest.position(), 100))).isEqualTo(100);
        rest.position(rest.position() + 100);
      }
      sock.sendAll(rest);
      sock.shutdown(Shutdown.SHUT_WR);
      byte[] all = got.get(30, SECONDS);
      assertThat(all.length).isEqualTo(data.length);
      assertThat(sha256(all)).isEqualTo(sha256(data));
    }
  }

  // python3.11 (OpenSSL 3.0): settimeout(1e-9), then SSLSocket.send of 64 KiB or 256 KiB to a peer
  // whose buffers have room returns the whole length: CPython's write waits, and so times out, only
  // after SSL_ERROR_WANT_WRITE. jsock checked the deadline before each record after the first, so
  // such a send timed out after 16 KiB though nothing had to wait.
  @ParameterizedTest
  @ValueSource(ints = {64 << 10, 256 << 10})
  void aSendInTimeoutModeThatNeverHasToWaitSendsAllHoweverShortTheTimeout(int size)
      throws Exception {
    try (Pair plain = Loopback.pair(AF_INET);
        Pair tls = handshake(plain, client, "localhost", server)) {
      Socket sock = tls.client();
      sock.setSockOpt(StandardSocketOptions.SO_SNDBUF, 4 << 20); // room for both sends at once
      byte[] data = random(size, size + 1);
      sock.setTimeout(Duration.ofNanos(1));

      int sent = sock.send(data);
      sock.sendAll(data);

      assertThat(sent).isEqualTo(size);
      Future<byte[]> got = call(() -> recvToEnd(tls.server()));
      sock.setTimeout(Duration.ofSeconds(20));
      sock.shutdown(Shutdown.SHUT_WR);
      assertThat(sha256(got.get(30, SECONDS))).isEqualTo(sha256(twice(data)));
    }
  }

  /**
   * Sends {@code rest} on a non-blocking socket until all of it went or the kernel's buffers are
   * full (a record may then stay queued, taken in part, and {@code rest} has bytes left): the sum
   * of the counts, by which {@code rest}'s position has moved.
   */
  private static long sendUntilFull(Socket sock, ByteBuffer rest) throws IOException {
    long counted = 0;
    try {
      for (int i = 0; i < 1_000_000 && rest.hasRemaining(); i++) {
        counted += sock.send(rest);
      }
    } catch (WouldBlockException e) {
      // full: rest stays where the failed call found it, as OpenSSL asks of the retry
    }
    return counted;
  }

  /**
   * Sends what is left of {@code rest} on a non-blocking socket while the peer reads, in pieces of
   * at most {@code piece} bytes, each the bytes after the counts so far, and the same piece again
   * after a {@link WouldBlockException}: the sum of the counts, each positive.
   */
  private static long sendTheRestAsThePeerReads(Socket sock, ByteBuffer rest, int piece)
      throws IOException {
    long counted = 0;
    long deadline = System.nanoTime() + SECONDS.toNanos(30);
    for (int i = 0; i < 10_000_000 && rest.hasRemaining(); i++) {
      assertThat(System.nanoTime() - deadline).as("sent within 30 s").isNegative();
      ByteBuffer next = rest.slice(rest.position(), Math.min(piece, rest.remaining()));
      try {
        int n = sock.send(next);
        assertThat(n).isPositive();
        counted += n;
        rest.position(rest.position() + n);
      } catch (WouldBlockException e) {
        java.util.concurrent.locks.LockSupport.parkNanos(100_000); // the peer makes room
      }
    }
    return counted;
  }

  /** Small kernel buffers on both sides, so that a peer that does not read soon stops a send. */
  private static void smallBuffers(Pair tls) throws IOException {
    tls.client().setSockOpt(StandardSocketOptions.SO_SNDBUF, 16 << 10);
    tls.server().setSockOpt(StandardSocketOptions.SO_RCVBUF, 16 << 10);
  }

  /** Everything {@code sock} receives until the peer's close_notify. */
  private static byte[] recvToEnd(Socket sock) throws IOException {
    sock.setTimeout(Duration.ofSeconds(30));
    java.io.ByteArrayOutputStream all = new java.io.ByteArrayOutputStream();
    for (int i = 0; i < 1_000_000; i++) {
      byte[] chunk = sock.recv(64 << 10);
      if (chunk.length == 0) {
        return all.toByteArray();
      }
      all.write(chunk);
    }
    throw new AssertionError("no end after " + all.size() + " bytes");
  }

  private static byte[] twice(byte[] data) {
    byte[] both = Arrays.copyOf(data, 2 * data.length);
    System.arraycopy(data, 0, both, data.length, data.length);
    return both;
  }

  @Test
  void streamsAndMakeFileWorkOverTls() throws Exception {
    try (Pair plain = Loopback.pair(AF_INET);
        Pair tls = handshake(plain, client, "localhost", server)) {
      tls.client().getOutputStream().write("one\ntwo\n".getBytes(UTF_8));
      BufferedReader lines = tls.server().makeFile("r");
      assertThat(lines.readLine()).isEqualTo("one");
      assertThat(lines.readLine()).isEqualTo("two");
    }
  }

  @Test
  void sendFileGoesThroughTlsNotAroundIt(@TempDir Path files) throws Exception {
    byte[] content = random(300_000, 4);
    Path file = files.resolve("data.bin");
    Files.write(file, content);
    try (Pair plain = Loopback.pair(AF_INET);
        Pair tls = handshake(plain, client, "localhost", server)) {
      Future<byte[]> got = call(() -> recvExactly(tls.server(), content.length));
      assertThat(tls.client().sendFile(file)).isEqualTo(content.length);
      assertThat(sha256(got.get(30, SECONDS))).isEqualTo(sha256(content));
    }
  }

  @Test
  void sendFileRefusesAClosedFileAndOneNotOpenForReadingAsWithoutTls(@TempDir Path files)
      throws Exception {
    Path file = Files.write(files.resolve("data.bin"), random(10, 6));
    try (Pair plain = Loopback.pair(AF_INET);
        Pair tls = handshake(plain, client, "localhost", server)) {
      FileChannel closed = FileChannel.open(file);
      closed.close();
      assertThatThrownBy(() -> tls.client().sendFile(closed, 0, 5))
          .isExactlyInstanceOf(IllegalArgumentException.class)
          .hasMessage("file is closed");
      try (FileChannel writeOnly = FileChannel.open(file, StandardOpenOption.WRITE)) {
        assertThatThrownBy(() -> tls.client().sendFile(writeOnly, 0, 5))
            .isExactlyInstanceOf(IllegalArgumentException.class)
            .hasMessage("file is not open for reading");
      }
      tls.client().sendAll("ok".getBytes(UTF_8));
      assertThat(tls.server().recv(10)).isEqualTo("ok".getBytes(UTF_8));
    }
  }

  // as without TLS ("sendfile to 127.0.0.1:p: timed out"): jsock send --tls said "send to"
  @Test
  void aSendFileThatTimesOutSaysSendfileAsWithoutTls(@TempDir Path files) throws Exception {
    Path file = files.resolve("data.bin");
    Files.write(file, random(64 << 20, 5)); // more than the kernel's buffers hold
    try (Pair plain = Loopback.pair(AF_INET);
        Pair tls = handshake(plain, client, "localhost", server);
        FileChannel channel = FileChannel.open(file)) {
      tls.client().setTimeout(Duration.ofMillis(200));

      assertThatThrownBy(() -> tls.client().sendFile(channel, 0, Long.MAX_VALUE))
          .isExactlyInstanceOf(SocketTimeoutException.class)
          .hasMessage("sendfile to " + address(tls.client().getPeerName()) + ": timed out");
      assertThat(channel.position()).isPositive().isLessThan(64 << 20);
    }
  }

  @Test
  void interruptingASendFileThatWaitsThrowsInterruptedIoExceptionAndKeepsTheFile(
      @TempDir Path files) throws Exception {
    Path file = files.resolve("data.bin");
    Files.write(file, random(64 << 20, 5));
    try (Pair plain = Loopback.pair(AF_INET);
        Pair tls = handshake(plain, client, "localhost", server);
        FileChannel channel = FileChannel.open(file)) {
      FutureTask<Long> blocked =
          new FutureTask<>(() -> tls.client().sendFile(channel, 0, Long.MAX_VALUE));
      Thread sender = Thread.ofVirtual().start(blocked);
      await().atMost(Duration.ofSeconds(5)).until(() -> sender.getState() == Thread.State.WAITING);

      sender.interrupt();

      assertThat(causeOf(blocked))
          .isExactlyInstanceOf(InterruptedIOException.class)
          .hasMessageEndingWith(": interrupted");
      assertThat(channel.isOpen()).isTrue();
      assertThat(channel.position()).isPositive().isLessThan(64 << 20);
      assertThat(tls.client().isClosed()).isFalse();
    }
  }

  @Test
  void nonBlockingSendFileReturnsWhatWentAndResumesFromTheFilePosition(@TempDir Path files)
      throws Exception {
    byte[] content = random(8 << 20, 5); // more than the kernel's buffers hold
    Path file = files.resolve("data.bin");
    Files.write(file, content);
    try (Pair plain = Loopback.pair(AF_INET);
        Pair tls = handshake(plain, client, "localhost", server);
        FileChannel channel = FileChannel.open(file)) {
      Socket sock = tls.client();
      sock.setBlocking(false);
      // as plain sendFile: it sends what it can without waiting and says how much that was
      long sent = sock.sendFile(channel, 0, content.length);
      assertThat(sent).isPositive().isLessThan(content.length);
      assertThat(channel.position()).isEqualTo(sent);

      Future<byte[]> got = call(() -> recvExactly(tls.server(), content.length));
      sock.setTimeout(Duration.ofSeconds(20));
      long rest = sock.sendFile(channel, sent, content.length - sent);
      assertThat(sent + rest).isEqualTo(content.length);
      assertThat(sha256(got.get(30, SECONDS))).isEqualTo(sha256(content)); // nothing twice
    }
  }

  @Test
  void closeFromAnotherThreadWakesABlockedRecv() throws Exception {
    try (Pair plain = Loopback.pair(AF_INET);
        Pair tls = handshake(plain, client, "localhost", server)) {
      FutureTask<byte[]> blocked = new FutureTask<>(() -> tls.client().recv(10));
      Thread receiver = Thread.ofVirtual().start(blocked);
      await()
          .atMost(Duration.ofSeconds(5))
          .until(() -> isParkedIn(receiver, "io.jsock.internal.TlsEngine", "readMore"));
      tls.client().close();
      assertThat(causeOf(blocked)).isInstanceOf(ClosedSocketException.class);
      assertThat(tls.server().recv(10)).isEmpty(); // and the peer got close_notify
    }
  }

  // A send that passed the open check just before another thread's close() sent close_notify met
  // the engine's closed outbound side and threw BrokenPipeException (as after SHUT_WR); python3
  // raises OSError(EBADF) for a send racing close(), and jsock's contract is ClosedSocketException
  @Tag("slow")
  @Test
  void sendsRacingCloseCompleteOrThrowClosedSocketNeverBrokenPipe() throws Exception {
    for (int round = 0; round < 100; round++) {
      try (Pair plain = Loopback.pair(AF_INET);
          Pair tls = handshake(plain, client, "localhost", server)) {
        Future<?> draining =
            run(
                () -> {
                  while (tls.server().recv(65536).length > 0) {
                    // drain until close_notify or the close
                  }
                });
        List<Future<?>> senders = new ArrayList<>();
        CountDownLatch sending = new CountDownLatch(4);
        for (int t = 0; t < 4; t++) {
          senders.add(
              run(
                  () -> {
                    sending.countDown();
                    for (int i = 0; i < 1_000_000; i++) { // until the close makes it throw
                      tls.client().sendAll(new byte[1000]);
                    }
                  }));
        }
        assertThat(sending.await(30, SECONDS)).isTrue();

        tls.client().close();

        for (Future<?> sender : senders) {
          assertThat(causeOf(sender))
              .as("round %d", round)
              .isExactlyInstanceOf(ClosedSocketException.class)
              .hasMessageEndingWith(": socket is closed");
        }
        tls.server().close();
        causeOf(draining);
      }
    }
  }

  // python3: a selector holding the plain socket, then sel.register(ctx.wrap_socket(sock), ...)
  // raises KeyError "... is already registered": the wrapped socket has the same descriptor
  @Test
  void aSelectorRefusesTheTlsSocketWhileItHoldsThePlainOneItWrapped() throws Exception {
    try (Pair plain = Loopback.pair(AF_INET);
        SocketSelector selector = SocketSelector.open()) {
      selector.register(plain.client(), Set.of(Event.EVENT_READ), "plain");
      try (Pair tls = handshake(plain, client, "localhost", server)) {
        Socket wrapped = tls.client();

        assertThatThrownBy(() -> selector.register(wrapped, Set.of(Event.EVENT_READ), "tls"))
            .isInstanceOf(IllegalArgumentException.class)
            .hasMessageStartingWith(
                "socket: its connection is already registered through another socket"
                    + " (unregister that one first): ");
        selector.unregister(plain.client());
        selector.register(wrapped, Set.of(Event.EVENT_READ), "tls");
        tls.server().sendAll("hello".getBytes(UTF_8));
        wrapped.setBlocking(false);
        byte[] hello = null;
        while (hello == null) { // a session ticket may make the first readiness a spurious one
          assertThat(selector.select(Duration.ofSeconds(5)))
              .extracting(ready -> ready.key().data())
              .containsExactly("tls");
          try {
            hello = wrapped.recv(64);
          } catch (WouldBlockException spurious) {
            // select again
          }
        }
        assertThat(new String(hello, UTF_8)).isEqualTo("hello");
      }
    }
  }

  // the plain socket a wrap detached counts as closed, so a select drops its registration (as
  // any socket closed while registered); the TLS socket, registered next on the same connection,
  // was missed by the select after: the JDK refused its channel until a poll let the dropped key go
  @Test
  void aSelectorWatchesTheTlsSocketOnceASelectHasDroppedThePlainOneItWrapped() throws Exception {
    try (Pair plain = Loopback.pair(AF_INET);
        SocketSelector selector = SocketSelector.open()) {
      selector.register(plain.client(), Set.of(Event.EVENT_READ), "plain");
      try (Pair tls = handshake(plain, client, "localhost", server)) {
        Socket wrapped = tls.client();
        tls.server().sendAll("hello".getBytes(UTF_8));
        await()
            .atMost(Duration.ofSeconds(10))
            .until(
                () -> {
                  assertThat(selector.select(Duration.ZERO)).isEmpty();
                  return selector.getMap().isEmpty(); // dropped once the connection is readable
                });

        selector.register(wrapped, Set.of(Event.EVENT_READ), "tls");
        wrapped.setBlocking(false);
        byte[] hello = null;
        while (hello == null) { // a session ticket may make the first readiness a spurious one
          assertThat(selector.select(Duration.ofSeconds(5)))
              .extracting(ready -> ready.key().data())
              .containsExactly("tls");
          try {
            hello = wrapped.recv(64);
          } catch (WouldBlockException spurious) {
            // select again
          }
        }
        assertThat(new String(hello, UTF_8)).isEqualTo("hello");
      }
    }
  }

  // the wrap takes over the selectors that hold the connection for the plain socket: closing the
  // TLS socket makes them let it go, as closing a registered plain socket does, instead of leaving
  // it open (no reset, a FIN at most) until the selector's next select
  @Test
  void closingTheTlsSocketResetsThePeerAtOnceThoughASelectorHoldsThePlainOne() throws Exception {
    try (Pair plain = Loopback.pair(AF_INET);
        SocketSelector selector = SocketSelector.open()) {
      selector.register(plain.client(), Set.of(Event.EVENT_READ), "plain");
      try (Pair tls = handshake(plain, client, "localhost", server)) {
        tls.client().setSockOpt(StandardSocketOptions.SO_LINGER, 0);

        tls.client().close(); // no select follows

        tls.server().setTimeout(Duration.ofSeconds(10));
        assertThatThrownBy(() -> tls.server().recv(10))
            .isInstanceOf(ConnectionResetException.class);
        assertThat(selector.select(Duration.ZERO)).isEmpty();
        assertThat(selector.getMap()).isEmpty();
      }
    }
  }

  @Test
  void aSelectorReportsDecryptedBytesTheSocketStillHoldsAsReadable() throws Exception {
    try (Pair plain = Loopback.pair(AF_INET);
        Pair tls = handshake(plain, client, "localhost", server);
        SocketSelector selector = SocketSelector.open()) {
      Socket sock = tls.client();
      sock.setBlocking(false);
      selector.register(sock, Set.of(Event.EVENT_READ), "client");
      tls.server().sendAll("one record, read in parts".getBytes(UTF_8));
      byte[] first = null;
      while (first == null) { // a session ticket may make the first readiness a spurious one
        assertThat(selector.select(Duration.ofSeconds(5)))
            .extracting(ready -> ready.key().data())
            .containsExactly("client");
        try {
          first = sock.recv(4);
        } catch (WouldBlockException spurious) {
          // select again
        }
      }
      assertThat(new String(first, UTF_8)).isEqualTo("one ");

      // The rest is decrypted and held by the socket, and nothing more is on the wire: the raw
      // channel is not readable, the socket is.
      List<Ready> held = selector.select(Duration.ofSeconds(5));
      assertThat(held)
          .singleElement()
          .extracting(Ready::events)
          .isEqualTo(Set.of(Event.EVENT_READ));
      assertThat(new String(sock.recv(64), UTF_8)).isEqualTo("record, read in parts");

      assertThat(selector.select(Duration.ofMillis(200))).as("all taken").isEmpty();
      selector.modify(sock, Set.of(Event.EVENT_WRITE), "client");
      tls.server().sendAll("more".getBytes(UTF_8));
      assertThat(sock.recv(2)).isEqualTo("mo".getBytes(UTF_8));
      assertThat(selector.select(Duration.ZERO))
          .as("held input does not make a socket watched only for writing readable")
          .singleElement()
          .extracting(Ready::events)
          .isEqualTo(Set.of(Event.EVENT_WRITE));
    }
  }

  // python3: connect_ex on a non-blocking socket (EINPROGRESS), select until writable, then
  // ctx.wrap_socket(sock, server_hostname=...) wraps the connection
  @Test
  void wrapsASocketWhoseNonBlockingConnectTheSelectorReportedDone() throws Exception {
    try (Socket listener = Socket.create(AF_INET, io.jsock.SocketKind.SOCK_STREAM);
        SocketSelector selector = SocketSelector.open()) {
      listener.bind("127.0.0.1", 0);
      listener.listen(1);
      Future<Socket> accepted = call(() -> server.wrap(listener.accept().conn()));
      Socket plain = Socket.create(AF_INET, io.jsock.SocketKind.SOCK_STREAM);
      plain.setBlocking(false);
      plain.connectEx(listener.getSockName()); // EINPROGRESS, or 0 if it is done already
      selector.register(plain, Set.of(Event.EVENT_WRITE), null);
      assertThat(selector.select(Duration.ofSeconds(5))).as("connected").hasSize(1);
      selector.unregister(plain);

      try (Socket sock = client.wrap(plain, "localhost");
          Socket peer = accepted.get(30, SECONDS)) {
        assertThat(sock.getPeerName()).isEqualTo(listener.getSockName());
        assertThat(sock.getBlocking()).isFalse();
        peer.sendAll("over tls".getBytes(UTF_8));
        sock.setBlocking(true);
        assertThat(recvExactly(sock, 8)).isEqualTo("over tls".getBytes(UTF_8));
      }
    }
  }

  @Test
  void wrapReportsANonBlockingConnectThatFailedAsTheConnectsFailure() throws Exception {
    try (Loopback.Refusing refusing = Loopback.refusingAddress(AF_INET);
        Socket plain = Socket.create(AF_INET, io.jsock.SocketKind.SOCK_STREAM);
        SocketSelector selector = SocketSelector.open()) {
      plain.setBlocking(false);
      plain.connectEx(refusing.address());
      selector.register(plain, Set.of(Event.EVENT_WRITE), null);
      assertThat(selector.select(Duration.ofSeconds(5))).as("the connect ended").hasSize(1);
      selector.unregister(plain);

      assertThatThrownBy(() -> client.wrap(plain, "localhost"))
          .isInstanceOf(io.jsock.ConnectionRefusedException.class)
          .hasMessage("connect to " + address(refusing.address()) + ": connection refused");
    }
  }

  @Test
  void handshakesANonBlockingSocketAndKeepsItNonBlocking() throws Exception {
    try (Pair plain = Loopback.pair(AF_INET)) {
      plain.client().setBlocking(false);
      try (Pair tls = handshake(plain, client, "localhost", server)) {
        assertThat(tls.client().getBlocking()).isFalse();
        assertThatThrownBy(() -> tls.client().recv(10)).isInstanceOf(WouldBlockException.class);
      }
    }
  }

  @Test
  void serverSaysWhenThePeerDoesNotSpeakTls() throws Exception {
    try (Pair plain = Loopback.pair(AF_INET)) {
      plain.client().sendAll("GET / HTTP/1.0\r\n\r\n".getBytes(UTF_8));
      assertThatThrownBy(() -> server.wrap(plain.server()))
          .isInstanceOf(TlsException.class)
          .hasMessageStartingWith("tls handshake with 127.0.0.1:")
          .hasMessageEndingWith(": the peer does not speak TLS");
    }
  }

  @Test
  void serverSaysWhenThePeerSendsARecordLongerThanTlsAllows() throws Exception {
    try (Pair plain = Loopback.pair(AF_INET)) {
      // a handshake record's header (type 22, version 3.1) claiming 65,535 bytes: at most 16 KiB
      // and some are allowed, so the JDK refuses it before reading on
      plain.client().sendAll(new byte[] {0x16, 0x03, 0x01, (byte) 0xff, (byte) 0xff});
      assertThatThrownBy(() -> server.wrap(plain.server()))
          .isInstanceOf(TlsException.class)
          .hasMessageStartingWith("tls handshake with 127.0.0.1:")
          .hasMessageEndingWith(": the peer does not speak TLS (a record longer than TLS allows)");
    }
  }

  @Test
  void clientSaysWhenThePeerEchoesItsHello() throws Exception {
    try (Pair plain = Loopback.pair(AF_INET)) {
      Future<?> echo =
          run(
              () -> {
                byte[] data;
                try {
                  while ((data = plain.server().recv(64 * 1024)).length > 0) {
                    plain.server().sendAll(data);
                  }
                } catch (ConnectionResetException | BrokenPipeException e) {
                  // The client answers the echoed hello with an alert and closes: when the alert's
                  // echo reaches it before its close, unread, the close is a reset (as TCP does).
                }
              });
      assertThatThrownBy(() -> client.wrap(plain.client(), "localhost"))
          .isInstanceOf(TlsException.class)
          .hasMessageStartingWith("tls handshake with 127.0.0.1:")
          .hasMessageEndingWith(
              ": the peer does not speak TLS (it sent our ClientHello back: an echo server?)");
      echo.get(10, SECONDS); // the failed handshake closed the connection: the echo ends
    }
  }

  @Test
  void aResetDuringTheHandshakeIsNamedAsTheHandshakes() throws Exception {
    try (Pair plain = Loopback.pair(AF_INET)) {
      Future<?> resetter =
          run(
              () -> {
                plain.server().recv(1); // the ClientHello has come
                plain.server().setSockOpt(StandardSocketOptions.SO_LINGER, 0);
                plain.server().close(); // RST
              });
      assertThatThrownBy(() -> client.wrap(plain.client(), "localhost"))
          .isInstanceOf(ConnectionResetException.class)
          .hasMessageStartingWith("tls handshake with 127.0.0.1:")
          .hasMessageEndingWith(": connection reset by peer")
          .hasCauseInstanceOf(ConnectionResetException.class);
      resetter.get(10, SECONDS);
    }
  }

  @Test
  void refusesProtocolsOlderThanTls12() {
    assertThatThrownBy(() -> Tls.client().withProtocols("TLSv1.1"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("TLSv1.1 is refused");
    assertThatThrownBy(() -> Tls.server(serverKey).withProtocols("TLSv1.3", "TLSv1"))
        .isInstanceOf(IllegalArgumentException.class);
    assertThat(Tls.client().withProtocols("TLSv1.2", "TLSv1.3").protocols())
        .containsExactly("TLSv1.3", "TLSv1.2");
  }

  @Test
  void trustedCertificatesAreCheckedNamingTheParameter() {
    assertThatThrownBy(
            () -> Tls.client().withTrustedCertificates(Arrays.asList(ca.certificate(), null)))
        .isInstanceOf(NullPointerException.class)
        .hasMessage("certificates");
    assertThatThrownBy(() -> Tls.client().withTrustedCertificates(List.of()))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("certificates: at least one is needed");
  }

  // a plain stream's recvFrom(0) waits for input and takes none, as Python's (the kernel's
  // recvfrom(2) of no bytes); Python's SSLSocket refuses recvfrom (ValueError), jsock's TLS socket
  // receives as recv does, so its recvFrom(0) must not answer at once with what reads as the end
  @ParameterizedTest
  @ValueSource(booleans = {false, true})
  void recvFromOfNoBytesWaitsForPlaintextAndTakesNoneAsOnAPlainStream(boolean virtual)
      throws Exception {
    try (Pair plain = Loopback.pair(AF_INET);
        Pair tls = handshake(plain, client, "127.0.0.1", server)) {
      Socket socket = tls.client();
      SocketAddress peer = socket.getPeerName();
      socket.setBlocking(false);
      assertThatThrownBy(() -> socket.recvFrom(0)).isInstanceOf(WouldBlockException.class);
      assertThatThrownBy(() -> socket.recvFromInto(ByteBuffer.allocate(0)))
          .isInstanceOf(WouldBlockException.class);
      socket.setTimeout(Duration.ofMillis(200));
      assertThatThrownBy(() -> socket.recvFrom(0))
          .isExactlyInstanceOf(SocketTimeoutException.class);
      socket.setTimeout(null);
      Running<io.jsock.Datagram> waiting =
          virtual
              ? Running.inVirtualThread(() -> socket.recvFrom(0))
              : Running.inPlatformThread(() -> socket.recvFrom(0));
      waiting.awaitBlocked();
      tls.server().sendAll("hi".getBytes(UTF_8));
      io.jsock.Datagram nothing = waiting.get();

      assertThat(nothing.data()).isEmpty();
      assertThat(nothing.address()).isEqualTo(peer);
      assertThat(socket.recvFromInto(ByteBuffer.allocate(0))).isEqualTo(peer);
      assertThat(socket.recv(10)).isEqualTo("hi".getBytes(UTF_8));
      tls.server().close();
      assertThat(socket.recvFrom(0).data()).as("the end of the stream").isEmpty();
    }
  }

  // ---------------------------------------------------------------- helpers

  /** Wraps both sides of a plain pair: the server in another thread, the client here. */
  static Pair handshake(Pair plain, TlsContext clientSide, String host, TlsContext serverSide)
      throws Exception {
    Future<Socket> accepted = call(() -> serverSide.wrap(plain.server()));
    Socket connected;
    try {
      connected = clientSide.wrap(plain.client(), host);
    } catch (IOException e) {
      accepted.cancel(true);
      throw e;
    }
    return new Pair(connected, accepted.get(30, SECONDS));
  }

  static byte[] recvExactly(Socket sock, int length) throws IOException {
    byte[] all = new byte[length];
    ByteBuffer buffer = ByteBuffer.wrap(all);
    while (buffer.hasRemaining()) {
      if (sock.recvInto(buffer) == 0) {
        throw new AssertionError(
            "end of stream after " + buffer.position() + " of " + length + " bytes");
      }
    }
    return all;
  }

  static byte[] random(int length, long seed) {
    byte[] data = new byte[length];
    new Random(seed).nextBytes(data);
    return data;
  }

  static byte[] sha256(byte[] data) throws Exception {
    return MessageDigest.getInstance("SHA-256").digest(data);
  }

  static String address(SocketAddress address) {
    InetSocketAddress inet = (InetSocketAddress) address;
    return inet.getAddress().getHostAddress() + ":" + inet.getPort();
  }

  static Throwable causeOf(Future<?> future) throws Exception {
    try {
      future.get(30, SECONDS);
      return null;
    } catch (ExecutionException e) {
      return e.getCause();
    }
  }

  /** Whether {@code thread} waits inside {@code className.method} (a blocked call). */
  static boolean isParkedIn(Thread thread, String className, String method) {
    return thread.getState() == Thread.State.WAITING
        && Arrays.stream(thread.getStackTrace())
            .anyMatch(
                frame ->
                    frame.getClassName().equals(className) && frame.getMethodName().equals(method));
  }

  interface Action {
    void run() throws Exception;
  }

  static Future<?> run(Action action) {
    return call(
        () -> {
          action.run();
          return null;
        });
  }

  /** Runs a task in a virtual thread of its own (other test classes use it too). */
  static <T> Future<T> call(Callable<T> task) {
    FutureTask<T> future = new FutureTask<>(task);
    Thread.ofVirtual().start(future);
    return future;
  }

  SSLContext jdkServerContext() throws Exception {
    KeyStore store = KeyStore.getInstance("PKCS12");
    store.load(null, null);
    store.setKeyEntry(
        "k",
        serverKey.privateKey(),
        new char[0],
        serverKey.certificateChain().toArray(X509Certificate[]::new));
    KeyManagerFactory keys = KeyManagerFactory.getInstance("PKIX");
    keys.init(store, new char[0]);
    SSLContext context = SSLContext.getInstance("TLS");
    context.init(keys.getKeyManagers(), null, null);
    return context;
  }
}
