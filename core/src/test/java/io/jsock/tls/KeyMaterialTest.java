package io.jsock.tls;

import static io.jsock.Family.AF_INET;
import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.jsock.testing.Loopback;
import io.jsock.testing.Loopback.Pair;
import java.io.File;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyStore;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.Arrays;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.FutureTask;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
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
  void aKeyBlockThatIsNotBase64IsRefusedNamingTheFile() throws Exception {
    // five base64 letters end in a unit of one, which holds no whole byte: the JDK's decoder
    // said only "Last unit does not have enough valid bits", naming neither the file nor the key
    KeyPair keys = TestPki.ecKeys();
    TestPki.writePem(dir.resolve("cert.pem"), TestPki.selfSigned(keys, "localhost"));
    Path key = dir.resolve("key.pem");
    Files.writeString(key, "-----BEGIN PRIVATE KEY-----\nAAAAA\n-----END PRIVATE KEY-----\n");
    assertThatThrownBy(() -> KeyMaterial.fromPem(dir.resolve("cert.pem"), key))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage(
            "pkcs8KeyPem: the PRIVATE KEY block of "
                + key
                + " is not base64: Last unit does not have enough valid bits");
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
  void aKeyFileWithoutAKeyIsRefusedWithoutAConversionCommand() throws Exception {
    // openssl pkcs8 cannot turn a certificate into a key: the command would only fail in turn
    TestPki.leaf(TestPki.ca("keyless CA"), "localhost").write(dir);
    assertThatThrownBy(() -> KeyMaterial.fromPem(dir.resolve("cert.pem"), dir.resolve("cert.pem")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage(
            "pkcs8KeyPem: "
                + dir.resolve("cert.pem")
                + " holds a 'CERTIFICATE', not an unencrypted PKCS#8 'PRIVATE KEY'");
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
  void aPemOrOtherNonDerFileGivenAsPkcs12IsSaidToBeNoStore() throws Exception {
    KeyPair keys = TestPki.ecKeys();
    Path pem = dir.resolve("cert.pem"); // the likeliest slip: the PEM certificate for the store
    TestPki.writePem(pem, TestPki.selfSigned(keys, "localhost"));
    assertThatThrownBy(() -> KeyMaterial.fromPkcs12(pem, new char[0]))
        .isInstanceOf(IOException.class)
        .hasMessage("cannot load PKCS#12 file " + pem + ": not a PKCS#12 store but a PEM file");
    Path binary = dir.resolve("random.bin"); // was the JDK's "DerInputStream.getLength(): ..."
    Files.write(binary, new byte[] {'l', (byte) 0xec, 1, 2, 3, 4, 5, 6, 7});
    assertThatThrownBy(() -> KeyMaterial.fromPkcs12(binary, new char[0]))
        .isInstanceOf(IOException.class)
        .hasMessageStartingWith(
            "cannot load PKCS#12 file " + binary + ": not a PKCS#12 store (not DER: ");
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

  // openssl req refuses IP:127.1 (a2i_GENERAL_NAME: bad ip address) and writes IP:010.0.0.1 as
  // 10.0.0.1: what OpenSSL, and so a Python client, takes for an address is one in the
  // certificate, the rest a DNS name (127.1 was the address 127.0.0.1 and 010.0.0.1 the address
  // 8.0.0.1, as inet_aton reads them, so no client accepted the certificate for those names).
  // keytool writes ::ffff:127.0.0.1 as 127.0.0.1, which no client asking for it accepts: refused.
  @Test
  void selfSignedTakesANameForAnAddressOnlyAsOpensslDoes() throws Exception {
    KeyMaterial key = KeyMaterial.selfSigned("127.1", "010.0.0.1");
    assertThat(key.certificateChain().get(0).getSubjectAlternativeNames())
        .containsExactly(List.of(2, "127.1"), List.of(7, "10.0.0.1"));
    TlsContext client = Tls.client().withTrustedCertificates(key.certificateChain());
    for (String host : List.of("127.1", "10.0.0.1", "010.0.0.1")) {
      roundTrip(key, client, host);
    }
    assertThatThrownBy(() -> KeyMaterial.selfSigned("localhost", "::ffff:127.0.0.1"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage(
            "hostNames: keytool writes an IPv4-mapped address as the IPv4 address, which a client"
                + " asking for the mapped one refuses: ::ffff:127.0.0.1");
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

  /**
   * A JVM ended by SIGTERM (or Ctrl-C) while keytool ran ({@code jsock echo --tls} stopped as it
   * starts) ran no {@code finally} of the caller's: keytool went on and wrote its key store into a
   * temporary directory that nothing deleted, a private key left in {@code /tmp} per run.
   */
  @Test
  void aSignalThatEndsTheJvmWhileKeytoolRunsLeavesNoKeytoolAndNoTemporaryFiles() throws Exception {
    Path tmp = Files.createDirectory(dir.resolve("tmp"));
    Path stderr = dir.resolve("stderr.txt");
    Process child =
        new ProcessBuilder(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Djava.io.tmpdir=" + tmp,
                "-cp",
                Path.of("target/classes") + File.pathSeparator + Path.of("target/test-classes"),
                SelfSignedChild.class.getName())
            .redirectOutput(dir.resolve("stdout.txt").toFile())
            .redirectError(stderr.toFile())
            .start();
    ProcessHandle keytool;
    try {
      keytool =
          await()
              .atMost(Duration.ofSeconds(60))
              .pollInterval(Duration.ofMillis(5))
              .until(() -> keytoolOf(child.toHandle()), Optional::isPresent)
              .orElseThrow();
      child.destroy(); // SIGTERM
      assertThat(child.waitFor(60, TimeUnit.SECONDS)).as("child ended").isTrue();
    } finally {
      child.destroyForcibly();
    }
    assertThat(child.exitValue()).as(Files.readString(stderr, UTF_8)).isEqualTo(143);
    keytool.onExit().get(60, TimeUnit.SECONDS); // before the fix it ran on, writing key.p12
    try (var left = Files.walk(tmp)) {
      assertThat(left.filter(path -> !path.equals(tmp)).map(Path::toString)).isEmpty();
    }
  }

  /** The child JVM of the test above: makes a development certificate. */
  static final class SelfSignedChild {
    public static void main(String[] args) throws Exception {
      KeyMaterial.selfSigned();
      System.out.println("DONE");
    }
  }

  private static Optional<ProcessHandle> keytoolOf(ProcessHandle parent) {
    return parent
        .children()
        .filter(ProcessHandle::isAlive)
        .filter(child -> child.info().command().orElse("").endsWith("/keytool"))
        .findFirst();
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
  void readsAKeyFileWithTextThatIsNotAsciiAroundItsBlock() throws Exception {
    // openssl pkcs12 -nodes writes "Bag Attributes" with the entry's friendlyName before the key
    TestPki.Issued leaf = TestPki.leaf(TestPki.ca("bag CA"), "localhost");
    leaf.write(dir);
    Path key = dir.resolve("key.pem");
    Files.write(
        key,
        ("Bag Attributes\n    friendlyName: Schlüssel für localhost\n" + Files.readString(key))
            .getBytes(UTF_8));
    KeyMaterial material = KeyMaterial.fromPem(dir.resolve("cert.pem"), key);
    assertThat(material.privateKey().getEncoded())
        .isEqualTo(leaf.keyPair().getPrivate().getEncoded());
  }

  @Test
  void aDerKeyFileIsRefusedNamingIt() throws Exception {
    TestPki.Issued leaf = TestPki.leaf(TestPki.ca("der CA"), "localhost");
    leaf.write(dir);
    Path der = dir.resolve("key.der");
    Files.write(der, leaf.keyPair().getPrivate().getEncoded());
    assertThatThrownBy(() -> KeyMaterial.fromPem(dir.resolve("cert.pem"), der))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("pkcs8KeyPem: no PEM block in " + der);
  }

  @Test
  void aCertificateFileThatHoldsNoCertificateIsRefusedNamingTheParameter() throws Exception {
    TestPki.Issued leaf = TestPki.leaf(TestPki.ca("garbled CA"), "localhost");
    leaf.write(dir);
    Path text = dir.resolve("notes.txt");
    Files.writeString(text, "not a certificate\n");
    assertThatThrownBy(() -> KeyMaterial.fromPem(text, dir.resolve("key.pem")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("certChainPem: not a PEM certificate file: " + text);
    Path garbled = dir.resolve("garbled.pem");
    Files.writeString(garbled, "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n");
    assertThatThrownBy(() -> KeyMaterial.fromPem(garbled, dir.resolve("key.pem")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("certChainPem: not a PEM certificate file: " + garbled);
    assertThatThrownBy(() -> Tls.client().withTrust(garbled))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("pemOrPkcs12CaFile: not a PEM certificate file: " + garbled);
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
  void trustsACaFileThatCanBeReadOnlyOnceAsAPipe() throws Exception {
    // Python's load_verify_locations (and ncat --ssl-trustfile) take --ca <(...) or /dev/stdin:
    // the file is read once; withTrust read it twice, and the second time found it empty
    TestPki.Issued ca = TestPki.ca("pipe CA");
    KeyMaterial key = TestPki.leaf(ca, "localhost").write(dir.resolve("server"));
    TestPki.writePem(dir.resolve("ca.pem"), ca.certificate());
    KeyStore store = KeyStore.getInstance("PKCS12");
    store.load(null, null);
    store.setCertificateEntry("ca", ca.certificate());
    try (OutputStream out = Files.newOutputStream(dir.resolve("trust.p12"))) {
      store.store(out, new char[0]);
    }
    for (String file : List.of("ca.pem", "trust.p12")) {
      Path fifo = dir.resolve(file + ".fifo");
      assertThat(new ProcessBuilder("mkfifo", fifo.toString()).start().waitFor()).isZero();
      FutureTask<TlsContext> trusting = new FutureTask<>(() -> Tls.client().withTrust(fifo));
      Thread.ofPlatform().start(trusting);
      Files.write(fifo, Files.readAllBytes(dir.resolve(file))); // once withTrust opens it
      TlsContext client;
      try {
        client = trusting.get(20, TimeUnit.SECONDS);
      } catch (TimeoutException stillReading) { // it opened the file again: give it an empty end
        Files.write(fifo, new byte[0]);
        client = trusting.get(20, TimeUnit.SECONDS);
      }
      roundTrip(key, client);
    }
  }

  @Test
  void anEmptyCaFileIsSaidToBeEmptyNotAPasswordProtectedStore() throws Exception {
    // Python: "no certificate or crl found"; jsock asked whether it was a password-protected
    // PKCS#12 store, which an empty file cannot be
    Path empty = Files.createFile(dir.resolve("empty.pem"));
    assertThatThrownBy(() -> Tls.client().withTrust(empty))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("pemOrPkcs12CaFile: no certificate in " + empty + " (the file is empty)");
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

  @Test
  void trustsTheTrustedCertificateBlocksThatOpensslWritesAsPythonDoes() throws Exception {
    // openssl x509 -trustout writes the certificate and then OpenSSL's trust settings for it in
    // a TRUSTED CERTIFICATE block, as some distributions' bundles hold their authorities; Python's
    // load_verify_locations (and ncat's --ssl-trustfile) take them
    TestPki.Issued ca = TestPki.ca("trusted-block CA");
    KeyMaterial key = TestPki.leaf(ca, "localhost").write(dir.resolve("server"));
    TestPki.writePem(dir.resolve("ca.pem"), ca.certificate());
    for (String settings : List.of("", "-addtrust serverAuth", "-addtrust anyExtendedKeyUsage")) {
      Path file = trustOut(dir.resolve("ca.pem"), settings);
      assertThat(Files.readString(file)).startsWith("-----BEGIN TRUSTED CERTIFICATE-----");
      roundTrip(key, Tls.client().withTrust(file));
    }
  }

  @Test
  void aTrustedCertificateBlockWhoseSettingsExcludeServersIsNotTrusted() throws Exception {
    // as OpenSSL decides for a client: rejected for serverAuth (or any use), or trusted for other
    // uses only
    TestPki.Issued ca = TestPki.ca("distrusted CA");
    TestPki.writePem(dir.resolve("ca.pem"), ca.certificate());
    for (String settings :
        List.of(
            "-addreject serverAuth",
            "-addreject anyExtendedKeyUsage",
            "-addtrust clientAuth",
            "-addtrust serverAuth -addreject serverAuth")) {
      Path file = trustOut(dir.resolve("ca.pem"), settings);
      assertThatThrownBy(() -> Tls.client().withTrust(file))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessage(
              "pemOrPkcs12CaFile: no certificate in "
                  + file
                  + " that may vouch for TLS servers (the trust settings of its TRUSTED"
                  + " CERTIFICATE blocks exclude serverAuth)");
    }
    // in a bundle, such a block is skipped and the others are trusted
    TestPki.Issued other = TestPki.ca("other CA");
    KeyMaterial key = TestPki.leaf(other, "localhost").write(dir.resolve("server"));
    TestPki.writePem(dir.resolve("other.pem"), other.certificate());
    Path bundle = dir.resolve("bundle.pem");
    Files.writeString(
        bundle,
        Files.readString(trustOut(dir.resolve("ca.pem"), "-addreject serverAuth"))
            + Files.readString(dir.resolve("other.pem")));
    TlsContext client = Tls.client().withTrust(bundle);
    assertThat(client.toString()).contains("1 trusted");
    roundTrip(key, client);
  }

  @Test
  void trustSettingsOfIndefiniteLengthAreRefusedNotReadAsEmpty() throws Exception {
    // BER's indefinite length (0x80), which OpenSSL reads: a reject list of serverAuth, and an
    // empty trust list, each keep the block from vouching for servers there (openssl verify:
    // "certificate rejected"); jsock read the length as 0, found no settings and trusted it
    X509Certificate ca = TestPki.ca("indefinite CA").certificate();
    for (String settings : List.of("3080a08006082b0601050507030100000000", "3080308200000000")) {
      Path file = dir.resolve("trusted-" + settings + ".pem");
      Files.writeString(
          file,
          "-----BEGIN TRUSTED CERTIFICATE-----\n"
              + Base64.getMimeEncoder()
                  .encodeToString(concat(ca.getEncoded(), HexFormat.of().parseHex(settings)))
              + "\n-----END TRUSTED CERTIFICATE-----\n");
      assertThatThrownBy(() -> Tls.client().withTrust(file))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessage("pemOrPkcs12CaFile: not a PEM certificate file: " + file)
          .cause()
          .hasMessage("not OpenSSL trust settings: an indefinite length, which DER forbids");
    }
  }

  private static byte[] concat(byte[] first, byte[] second) {
    byte[] both = Arrays.copyOf(first, first.length + second.length);
    System.arraycopy(second, 0, both, first.length, second.length);
    return both;
  }

  /** {@code openssl x509 -in pem -trustout SETTINGS}: a TRUSTED CERTIFICATE block. */
  private Path trustOut(Path pem, String settings) throws Exception {
    Path out = Files.createTempFile(dir, "trusted", ".pem");
    List<String> command =
        new java.util.ArrayList<>(
            List.of("openssl", "x509", "-in", pem.toString(), "-trustout", "-out", out.toString()));
    if (!settings.isEmpty()) {
      command.addAll(List.of(settings.split(" ")));
    }
    Process openssl =
        new ProcessBuilder(command)
            .redirectErrorStream(true)
            .redirectOutput(dir.resolve("openssl.log").toFile())
            .start();
    assertThat(openssl.waitFor()).as(Files.readString(dir.resolve("openssl.log"))).isZero();
    return out;
  }

  private static void roundTrip(KeyMaterial key, TlsContext client) throws Exception {
    roundTrip(key, client, "localhost");
  }

  private static void roundTrip(KeyMaterial key, TlsContext client, String host) throws Exception {
    try (Pair plain = Loopback.pair(AF_INET);
        Pair tls = TlsSocketTest.handshake(plain, client, host, Tls.server(key))) {
      tls.client().sendAll("key".getBytes(UTF_8));
      assertThat(TlsSocketTest.recvExactly(tls.server(), 3)).isEqualTo("key".getBytes(UTF_8));
    }
  }
}
