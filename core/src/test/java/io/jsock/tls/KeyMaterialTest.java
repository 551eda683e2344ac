package io.jsock.tls;

import static io.jsock.Family.AF_INET;
import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.jsock.testing.Loopback;
import io.jsock.testing.Loopback.Pair;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyStore;
import java.security.cert.X509Certificate;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class KeyMaterialTest {
  @TempDir Path dir;

  @Test
  void loadsAPemChainAndAPkcs8EcKey() throws Exception {
    TestPki.Issued ca = TestPki.ca("pem CA");
    KeyMaterial key = TestPki.leaf(ca, "localhost").write(dir);
    assertThat(key.certificateChain()).hasSize(2);
    assertThat(key.certificateChain().get(1)).isEqualTo(ca.certificate());
    assertThat(key.privateKey().getAlgorithm()).isEqualTo("EC");
    assertThat(Files.readString(dir.resolve("key.pem"))).startsWith("-----BEGIN PRIVATE KEY-----");
  }

  @Test
  void loadsAPkcs8RsaKey() throws Exception {
    KeyPair keys = TestPki.rsaKeys();
    TestPki.writePem(dir.resolve("cert.pem"), TestPki.selfSigned(keys, "localhost"));
    TestPki.writePkcs8(dir.resolve("key.pem"), keys);
    KeyMaterial key = KeyMaterial.fromPem(dir.resolve("cert.pem"), dir.resolve("key.pem"));
    assertThat(key.privateKey().getAlgorithm()).isEqualTo("RSA");
    assertThat(key.privateKey().getEncoded()).isEqualTo(keys.getPrivate().getEncoded());
    roundTrip(key, Tls.client().withTrustedCertificates(key.certificateChain()));
  }

  @Test
  void refusesOtherPemKeyKindsWithTheConversionCommand() throws Exception {
    for (KeyPair keys : List.of(TestPki.ecKeys(), TestPki.rsaKeys())) {
      TestPki.writePem(dir.resolve("cert.pem"), TestPki.selfSigned(keys, "localhost"));
      TestPki.writePem(dir.resolve("key.pem"), keys); // "EC PRIVATE KEY" / "RSA PRIVATE KEY"
      assertThat(Files.readString(dir.resolve("key.pem"))).doesNotContain("BEGIN PRIVATE KEY");
      assertThatThrownBy(() -> KeyMaterial.fromPem(dir.resolve("cert.pem"), dir.resolve("key.pem")))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining(keys.getPrivate().getAlgorithm() + " PRIVATE KEY")
          .hasMessageContaining("openssl pkcs8 -topk8 -nocrypt");
    }
  }

  @Test
  void refusesAnEncryptedTraditionalKeyWithTheConversionCommand() throws Exception {
    KeyPair keys = TestPki.rsaKeys();
    TestPki.writePem(dir.resolve("cert.pem"), TestPki.selfSigned(keys, "localhost"));
    // as "openssl rsa -aes128 -traditional" writes it: PEM headers before the base64
    try (var out = Files.newBufferedWriter(dir.resolve("key.pem"));
        var pem = new org.bouncycastle.openssl.jcajce.JcaPEMWriter(out)) {
      pem.writeObject(
          keys,
          new org.bouncycastle.openssl.jcajce.JcePEMEncryptorBuilder("AES-128-CBC")
              .setProvider(new org.bouncycastle.jce.provider.BouncyCastleProvider())
              .build("secret".toCharArray()));
    }
    assertThat(Files.readString(dir.resolve("key.pem"))).contains("Proc-Type: 4,ENCRYPTED");
    assertThatThrownBy(() -> KeyMaterial.fromPem(dir.resolve("cert.pem"), dir.resolve("key.pem")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage(
            "pkcs8KeyPem: "
                + dir.resolve("key.pem")
                + " holds a 'RSA PRIVATE KEY', not an unencrypted PKCS#8 'PRIVATE KEY'; convert it"
                + " with: openssl pkcs8 -topk8 -nocrypt -in "
                + dir.resolve("key.pem")
                + " -out key-pkcs8.pem");
  }

  @Test
  void refusesAKeyThatIsNotTheCertificates() throws Exception {
    TestPki.writePem(dir.resolve("cert.pem"), TestPki.selfSigned(TestPki.rsaKeys(), "localhost"));
    TestPki.writePkcs8(dir.resolve("key.pem"), TestPki.ecKeys());
    assertThatThrownBy(() -> KeyMaterial.fromPem(dir.resolve("cert.pem"), dir.resolve("key.pem")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("not a RSA private key");
  }

  @Test
  void refusesAKeyOfTheRightAlgorithmThatIsAnotherCertificates() throws Exception {
    // the same algorithm is not enough: such a server would fail every handshake it tried
    for (KeyPair keys : List.of(TestPki.ecKeys(), TestPki.rsaKeys())) {
      String algorithm = keys.getPrivate().getAlgorithm();
      KeyPair other = algorithm.equals("EC") ? TestPki.ecKeys() : TestPki.rsaKeys();
      TestPki.writePem(dir.resolve("cert.pem"), TestPki.selfSigned(keys, "localhost"));
      TestPki.writePkcs8(dir.resolve("key.pem"), other);
      assertThatThrownBy(() -> KeyMaterial.fromPem(dir.resolve("cert.pem"), dir.resolve("key.pem")))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessage(
              "pkcs8KeyPem: "
                  + dir.resolve("key.pem")
                  + " is not the private key of the certificate 'CN=localhost' (its public key"
                  + " does not match)");
    }
  }

  @Test
  void loadsPkcs12AndRefusesAWrongPassword() throws Exception {
    KeyPair keys = TestPki.ecKeys();
    X509Certificate certificate = TestPki.selfSigned(keys, "localhost");
    KeyStore store = KeyStore.getInstance("PKCS12");
    store.load(null, null);
    store.setKeyEntry(
        "server", keys.getPrivate(), "secret".toCharArray(), new X509Certificate[] {certificate});
    Path file = dir.resolve("server.p12");
    try (OutputStream out = Files.newOutputStream(file)) {
      store.store(out, "secret".toCharArray());
    }
    KeyMaterial key = KeyMaterial.fromPkcs12(file, "secret".toCharArray());
    assertThat(key.certificateChain()).containsExactly(certificate);
    assertThat(key.privateKey().getEncoded()).isEqualTo(keys.getPrivate().getEncoded());
    assertThatThrownBy(() -> KeyMaterial.fromPkcs12(file, "wrong".toCharArray()))
        .isInstanceOf(IOException.class)
        .hasMessageContaining("cannot load PKCS#12 file");
    Path text = dir.resolve("not-a-store.p12");
    Files.writeString(text, "hello\n");
    assertThatThrownBy(() -> KeyMaterial.fromPkcs12(text, new char[0]))
        .isInstanceOf(IOException.class)
        .hasMessage("cannot load PKCS#12 file " + text + ": not a PKCS#12 store (EOFException)");
  }

  @Test
  void selfSignedMakesADevelopmentCertificateWithKeytool() throws Exception {
    KeyMaterial key = KeyMaterial.selfSigned();
    X509Certificate certificate = key.certificateChain().get(0);
    assertThat(certificate.getSubjectAlternativeNames())
        .extracting(entry -> entry.get(1).toString())
        .contains("localhost", "127.0.0.1");
    assertThat(key.privateKey().getAlgorithm()).isEqualTo("EC");
    roundTrip(key, Tls.client().withTrustedCertificates(key.certificateChain()));
    assertThatThrownBy(() -> roundTrip(key, Tls.client()))
        .isInstanceOf(TlsException.class)
        .hasMessageContaining("unknown certificate authority");
  }

  @Test
  void anInterruptedSelfSignedLeavesNoKeytoolRunning() throws Exception {
    var failure = new AtomicReference<Throwable>();
    var keytoolsLeft = new AtomicReference<List<ProcessHandle>>();
    Thread caller =
        Thread.ofPlatform()
            .start(
                () -> {
                  Thread.currentThread().interrupt(); // keytool's wait is interrupted at once
                  try {
                    KeyMaterial.selfSigned("localhost");
                  } catch (Throwable e) {
                    failure.set(e);
                  }
                  keytoolsLeft.set(keytoolChildren()); // as the call returns
                });
    caller.join();
    assertThat(failure.get())
        .isInstanceOf(InterruptedIOException.class)
        .hasMessage("interrupted while keytool ran");
    assertThat(keytoolsLeft.get()).isEmpty();
  }

  private static List<ProcessHandle> keytoolChildren() {
    return ProcessHandle.current()
        .children()
        .filter(ProcessHandle::isAlive)
        .filter(child -> child.info().command().orElse("").endsWith("/keytool"))
        .toList();
  }

  @Test
  void selfSignedRejectsANameThatIsNeitherADnsNameNorAnIpAddressNamingIt() {
    for (String name : List.of("my_host", "a,ip:10.0.0.1", "", "-leading.example", "a b")) {
      assertThatThrownBy(() -> KeyMaterial.selfSigned("localhost", name))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessage("hostNames: not a DNS name or IP address: " + name);
    }
    assertThatThrownBy(() -> KeyMaterial.selfSigned("localhost", null))
        .isInstanceOf(NullPointerException.class)
        .hasMessage("hostNames");
    assertThatThrownBy(() -> KeyMaterial.selfSigned((String[]) null))
        .isInstanceOf(NullPointerException.class)
        .hasMessage("hostNames");
  }

  @Test
  void trustsAPemCaFile() throws Exception {
    TestPki.Issued ca = TestPki.ca("file CA");
    KeyMaterial key = TestPki.leaf(ca, "localhost").write(dir.resolve("server"));
    TestPki.writePem(dir.resolve("ca.pem"), ca.certificate());
    roundTrip(key, Tls.client().withTrust(dir.resolve("ca.pem")));
  }

  @Test
  void loadsTheKeyAndTheChainFromOneFileHoldingBoth() throws Exception {
    // as OpenSSL's readers (Python's load_cert_chain, ncat --ssl-cert/--ssl-key) take such a file
    TestPki.Issued ca = TestPki.ca("combined CA");
    TestPki.Issued leaf = TestPki.leaf(ca, "localhost");
    leaf.write(dir);
    String key = Files.readString(dir.resolve("key.pem"));
    String chain = Files.readString(dir.resolve("cert.pem"));
    for (String combined : List.of(key + chain, chain + key)) {
      Files.writeString(dir.resolve("combined.pem"), combined);
      KeyMaterial material =
          KeyMaterial.fromPem(dir.resolve("combined.pem"), dir.resolve("combined.pem"));
      assertThat(material.certificateChain()).containsExactly(leaf.certificate(), ca.certificate());
      roundTrip(material, Tls.client().withTrustedCertificates(List.of(ca.certificate())));
    }
  }

  @Test
  void trustsThePemCaFileOfAServerThatHoldsItsKeyToo() throws Exception {
    // Python's load_verify_locations skips blocks that are not certificates
    TestPki.Issued ca = TestPki.ca("self CA");
    KeyMaterial key = TestPki.leaf(ca, "localhost").write(dir.resolve("server"));
    TestPki.writePem(dir.resolve("ca.pem"), ca.certificate());
    Files.writeString(
        dir.resolve("ca-and-key.pem"),
        Files.readString(dir.resolve("server/key.pem")) + Files.readString(dir.resolve("ca.pem")));
    roundTrip(key, Tls.client().withTrust(dir.resolve("ca-and-key.pem")));
  }

  @Test
  void trustsAPkcs12TrustStoreWithoutPassword() throws Exception {
    TestPki.Issued ca = TestPki.ca("p12 CA");
    KeyMaterial key = TestPki.leaf(ca, "localhost").write(dir.resolve("server"));
    KeyStore store = KeyStore.getInstance("PKCS12");
    store.load(null, null);
    store.setCertificateEntry("ca", ca.certificate());
    Path file = dir.resolve("trust.p12");
    try (OutputStream out = Files.newOutputStream(file)) {
      store.store(out, new char[0]);
    }
    roundTrip(key, Tls.client().withTrust(file));
  }

  @Test
  void aTrustFileWithoutTrustedCertificatesIsRefusedSayingWhy() throws Exception {
    TestPki.Issued ca = TestPki.ca("openssl p12 CA");
    TestPki.writePem(dir.resolve("ca.pem"), ca.certificate());
    // openssl (before 3.2, or without -jdktrust) marks no certificate as trusted for Java
    Path openssl = dir.resolve("openssl.p12");
    Process export =
        new ProcessBuilder(
                "openssl",
                "pkcs12",
                "-export",
                "-nokeys",
                "-in",
                dir.resolve("ca.pem").toString(),
                "-out",
                openssl.toString(),
                "-passout",
                "pass:")
            .redirectErrorStream(true)
            .redirectOutput(dir.resolve("openssl.log").toFile())
            .start();
    assertThat(export.waitFor()).isZero();
    assertThatThrownBy(() -> Tls.client().withTrust(openssl))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("no trusted certificate in " + openssl)
        .hasMessageContaining("give the certificates as PEM")
        .hasMessageNotContaining("password-protected");
    // a PEM file with a key but no certificate is no PKCS#12 store at all
    TestPki.writePkcs8(dir.resolve("key.pem"), TestPki.ecKeys());
    assertThatThrownBy(() -> Tls.client().withTrust(dir.resolve("key.pem")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("pemOrPkcs12CaFile: no certificate in " + dir.resolve("key.pem"));
  }

  private static void roundTrip(KeyMaterial key, TlsContext client) throws Exception {
    try (Pair plain = Loopback.pair(AF_INET);
        Pair tls = TlsSocketTest.handshake(plain, client, "localhost", Tls.server(key))) {
      tls.client().sendAll("key".getBytes(UTF_8));
      assertThat(TlsSocketTest.recvExactly(tls.server(), 3)).isEqualTo("key".getBytes(UTF_8));
    }
  }
}
