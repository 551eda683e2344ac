package io.jsock.tls;

import java.io.IOException;
import java.io.Writer;
import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.concurrent.atomic.AtomicLong;
import javax.security.auth.x500.X500Principal;
import org.bouncycastle.asn1.ASN1Encoding;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.openssl.jcajce.JcaPKCS8Generator;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/**
 * Test certificates made with BouncyCastle: a CA, and leaves it issues for given names and dates
 * (wrong names, expired), written as PEM files for jsock and for openssl.
 */
public final class TestPki {
  private static final AtomicLong SERIALS = new AtomicLong(System.currentTimeMillis());

  private TestPki() {}

  /** A key pair and its certificate. */
  public record Issued(KeyPair keyPair, X509Certificate certificate, X509Certificate issuer) {
    /** Writes {@code cert.pem} (leaf then issuer) and {@code key.pem} (PKCS#8) into {@code dir}. */
    public KeyMaterial write(Path dir) throws IOException {
      Files.createDirectories(dir);
      writePem(dir.resolve("cert.pem"), certificate, issuer);
      writePkcs8(dir.resolve("key.pem"), keyPair);
      return KeyMaterial.fromPem(dir.resolve("cert.pem"), dir.resolve("key.pem"));
    }
  }

  /** A new self-signed CA. */
  public static Issued ca(String name) throws Exception {
    Instant now = Instant.now();
    return ca(name, now.minus(Duration.ofDays(1)), now.plus(Duration.ofDays(30)));
  }

  /** A new self-signed CA valid from {@code notBefore} to {@code notAfter}. */
  static Issued ca(String name, Instant notBefore, Instant notAfter) throws Exception {
    KeyPair keys = ecKeys();
    X500Principal subject = new X500Principal("CN=" + name);
    var builder =
        new JcaX509v3CertificateBuilder(
            subject,
            BigInteger.valueOf(SERIALS.incrementAndGet()),
            Date.from(notBefore),
            Date.from(notAfter),
            subject,
            keys.getPublic());
    builder.addExtension(Extension.basicConstraints, true, new BasicConstraints(true));
    builder.addExtension(
        Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign));
    X509Certificate certificate = sign(builder, keys);
    return new Issued(keys, certificate, null);
  }

  /** A server certificate for {@code names} (DNS names or IP literals) valid today. */
  public static Issued leaf(Issued ca, String... names) throws Exception {
    Instant now = Instant.now();
    return leaf(ca, now.minus(Duration.ofDays(1)), now.plus(Duration.ofDays(30)), names);
  }

  /** A server certificate for {@code names} valid from {@code notBefore} to {@code notAfter}. */
  static Issued leaf(Issued ca, Instant notBefore, Instant notAfter, String... names)
      throws Exception {
    return leaf(ca, ecKeys(), notBefore, notAfter, names);
  }

  /**
   * A self-signed server certificate for {@code names} valid from {@code notBefore} to {@code
   * notAfter}, trusted by a client that trusts it directly (as {@code --ca cert.pem} does).
   */
  static Issued selfSignedLeaf(Instant notBefore, Instant notAfter, String... names)
      throws Exception {
    KeyPair keys = ecKeys();
    Issued self = new Issued(keys, selfSigned(keys, names[0]), null);
    Issued issued = leaf(self, keys, notBefore, notAfter, names);
    return new Issued(keys, issued.certificate(), null);
  }

  private static Issued leaf(
      Issued ca, KeyPair keys, Instant notBefore, Instant notAfter, String... names)
      throws Exception {
    return issue(
        ca, keys, notBefore, notAfter, names[0], alternatives(names).getEncoded(ASN1Encoding.DER));
  }

  /**
   * A server certificate signed by {@code ca}: its subject's CN, and its subjectAltName extension
   * as {@code altNames} encodes it (none if null).
   */
  private static Issued issue(
      Issued ca,
      KeyPair keys,
      Instant notBefore,
      Instant notAfter,
      String commonName,
      byte[] altNames)
      throws Exception {
    var builder =
        new JcaX509v3CertificateBuilder(
            ca.certificate().getSubjectX500Principal(),
            BigInteger.valueOf(SERIALS.incrementAndGet()),
            Date.from(notBefore),
            Date.from(notAfter),
            new X500Principal("CN=" + commonName),
            keys.getPublic());
    if (altNames != null) {
      builder.addExtension(Extension.subjectAlternativeName, false, altNames);
    }
    builder.addExtension(Extension.basicConstraints, true, new BasicConstraints(false));
    return new Issued(keys, sign(builder, ca.keyPair()), ca.certificate());
  }

  /** A server certificate valid today, from yesterday for 30 days, as {@link #issue} makes it. */
  private static Issued issueValidToday(Issued ca, String commonName, byte[] altNames)
      throws Exception {
    Instant now = Instant.now();
    return issue(
        ca,
        ecKeys(),
        now.minus(Duration.ofDays(1)),
        now.plus(Duration.ofDays(30)),
        commonName,
        altNames);
  }

  /**
   * Subject alternative names: an IP address for a name that begins with a digit or has a colon.
   */
  private static GeneralNames alternatives(String... names) {
    GeneralName[] alternatives = new GeneralName[names.length];
    for (int i = 0; i < names.length; i++) {
      boolean ip = Character.isDigit(names[i].charAt(0)) || names[i].contains(":");
      alternatives[i] =
          ip
              ? new GeneralName(GeneralName.iPAddress, names[i])
              : new GeneralName(GeneralName.dNSName, names[i]);
    }
    return new GeneralNames(alternatives);
  }

  /**
   * A server certificate whose subjectAltName extension holds exactly {@code der} (the GeneralNames
   * as written, well-formed or not), valid today: for what a strict reader must refuse.
   */
  static Issued leafWithRawAltNames(Issued ca, byte[] der) throws Exception {
    return issueValidToday(ca, "x", der);
  }

  /**
   * A server certificate whose subject's CN is {@code commonName} and whose subject alternative
   * names are {@code names} (DNS names, or IP addresses in their usual spelling), valid today: for
   * the rules on when the CN counts.
   */
  static Issued leafNamed(Issued ca, String commonName, String... names) throws Exception {
    return issueValidToday(ca, commonName, alternatives(names).getEncoded(ASN1Encoding.DER));
  }

  /**
   * A server certificate that names its host in the subject's CN only, with no subject alternative
   * names, as certificates did before RFC 2818 was followed.
   */
  static Issued commonNameOnly(Issued ca, String commonName) throws Exception {
    return issueValidToday(ca, commonName, null);
  }

  static void writePem(Path file, Object... objects) throws IOException {
    try (Writer out = Files.newBufferedWriter(file);
        JcaPEMWriter pem = new JcaPEMWriter(out)) {
      for (Object object : objects) {
        if (object != null) {
          pem.writeObject(object);
        }
      }
    }
  }

  static void writePkcs8(Path file, KeyPair keys) throws IOException {
    try (Writer out = Files.newBufferedWriter(file);
        JcaPEMWriter pem = new JcaPEMWriter(out)) {
      pem.writeObject(new JcaPKCS8Generator(keys.getPrivate(), null));
    }
  }

  static KeyPair ecKeys() throws GeneralSecurityException {
    KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
    generator.initialize(new ECGenParameterSpec("secp256r1"));
    return generator.generateKeyPair();
  }

  static KeyPair rsaKeys() throws GeneralSecurityException {
    KeyPairGenerator generator = KeyPairGenerator.getInstance("RSA");
    generator.initialize(2048);
    return generator.generateKeyPair();
  }

  /** A self-signed certificate for {@code keys} (RSA or EC), for loading tests. */
  static X509Certificate selfSigned(KeyPair keys, String name) throws Exception {
    X500Principal subject = new X500Principal("CN=" + name);
    Instant now = Instant.now();
    var builder =
        new JcaX509v3CertificateBuilder(
            subject,
            BigInteger.valueOf(SERIALS.incrementAndGet()),
            Date.from(now.minus(Duration.ofDays(1))),
            Date.from(now.plus(Duration.ofDays(30))),
            subject,
            keys.getPublic());
    return sign(builder, keys);
  }

  private static X509Certificate sign(JcaX509v3CertificateBuilder builder, KeyPair signer)
      throws Exception {
    String algorithm =
        signer.getPrivate().getAlgorithm().equals("RSA") ? "SHA256withRSA" : "SHA256withECDSA";
    var holder = builder.build(new JcaContentSignerBuilder(algorithm).build(signer.getPrivate()));
    return new JcaX509CertificateConverter().getCertificate(holder);
  }
}
