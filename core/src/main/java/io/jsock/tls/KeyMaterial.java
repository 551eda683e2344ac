package io.jsock.tls;

import io.jsock.internal.Literals;
import io.jsock.internal.OpensslTrustSettings;
import java.io.BufferedInputStream;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.Signature;
import java.security.cert.Certificate;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.interfaces.RSAKey;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.Collections;
import java.util.HexFormat;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A server's identity: its private key and certificate chain (leaf first), for {@link
 * TlsContext#server(KeyMaterial)}.
 *
 * <pre>{@code
 * KeyMaterial key = KeyMaterial.fromPem(Path.of("fullchain.pem"), Path.of("key.pem"));
 * TlsContext server = Tls.server(key);
 * }</pre>
 */
public final class KeyMaterial {
  /** What a certificate's DNS name may be: letters, digits and hyphens, maybe a leading "*.". */
  private static final Pattern DNS_NAME =
      Pattern.compile(
          "(\\*\\.)?[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*");

  /**
   * A PEM block: its kind, then its body up to the matching END line. The body may hold single
   * hyphens, as the headers of a traditional encrypted key do ({@code Proc-Type: 4,ENCRYPTED},
   * {@code DEK-Info: AES-128-CBC,…}), but never a run of five: a block cut short does not swallow
   * the next one. Unrolled and possessive, so a long body costs no stack.
   */
  private static final Pattern PEM =
      Pattern.compile("-----BEGIN ([A-Z0-9 ]+)-----([^-]*+(?:-(?!----)[^-]*+)*+)-----END \\1-----");

  /** The PEM blocks that hold a certificate, as OpenSSL's readers take them. */
  private static final Set<String> CERTIFICATE_BLOCKS =
      Set.of("CERTIFICATE", "X509 CERTIFICATE", "TRUSTED CERTIFICATE");

  private final PrivateKey key;
  private final List<X509Certificate> chain;

  private KeyMaterial(PrivateKey key, List<X509Certificate> chain) {
    this.key = key;
    this.chain = List.copyOf(chain);
  }

  /**
   * Loads a certificate chain (leaf first, as {@code fullchain.pem}) and an unencrypted PKCS#8
   * private key ({@code -----BEGIN PRIVATE KEY-----}, RSA or EC) from PEM files.
   *
   * @throws IllegalArgumentException if the files hold no certificate, or a key in another form
   *     (convert it with {@code openssl pkcs8 -topk8 -nocrypt -in key.pem -out key-pkcs8.pem}), or
   *     a key that is not the private key of the chain's first certificate
   */
  public static KeyMaterial fromPem(Path certChainPem, Path pkcs8KeyPem) throws IOException {
    Objects.requireNonNull(certChainPem, "certChainPem");
    Objects.requireNonNull(pkcs8KeyPem, "pkcs8KeyPem");
    List<X509Certificate> chain =
        readCertificates(readFile(certChainPem, "certChainPem"), certChainPem, "certChainPem");
    if (chain.isEmpty()) {
      throw new IllegalArgumentException("certChainPem: no certificate in " + certChainPem);
    }
    // bytes as they are, as for certificates: text around the block may be UTF-8 (a friendlyName
    // that openssl pkcs12 writes), and a DER file must be named as such, not fail to decode
    String text = new String(readFile(pkcs8KeyPem, "pkcs8KeyPem"), StandardCharsets.ISO_8859_1);
    Matcher block = keyBlock(text);
    if (block == null) {
      throw new IllegalArgumentException("pkcs8KeyPem: no PEM block in " + pkcs8KeyPem);
    }
    if (!block.group(1).equals("PRIVATE KEY")) {
      String found =
          "pkcs8KeyPem: "
              + pkcs8KeyPem
              + " holds a '"
              + block.group(1)
              + "', not an unencrypted PKCS#8 'PRIVATE KEY'";
      // only a key converts: openssl pkcs8 would fail on a certificate too
      throw new IllegalArgumentException(
          block.group(1).endsWith("PRIVATE KEY")
              ? found
                  + "; convert it with: openssl pkcs8 -topk8 -nocrypt -in "
                  + pkcs8KeyPem
                  + " -out key-pkcs8.pem"
              : found);
    }
    byte[] der;
    try {
      der = Base64.getMimeDecoder().decode(block.group(2));
    } catch (IllegalArgumentException e) { // the JDK's message names neither the file nor the key
      throw new IllegalArgumentException(
          "pkcs8KeyPem: the PRIVATE KEY block of "
              + pkcs8KeyPem
              + " is not base64: "
              + e.getMessage(),
          e);
    }
    String algorithm = chain.get(0).getPublicKey().getAlgorithm();
    PrivateKey key;
    try {
      key = KeyFactory.getInstance(algorithm).generatePrivate(new PKCS8EncodedKeySpec(der));
    } catch (GeneralSecurityException e) {
      throw new IllegalArgumentException(
          "pkcs8KeyPem: not a " + algorithm + " private key for the certificate: " + pkcs8KeyPem,
          e);
    }
    // Checked here because a server with another key of the same algorithm would start, and
    // then fail every handshake with a bad signature that names neither file.
    if (!belongsTo(key, chain.get(0).getPublicKey())) {
      throw new IllegalArgumentException(
          "pkcs8KeyPem: "
              + pkcs8KeyPem
              + " is not the private key of the certificate '"
              + chain.get(0).getSubjectX500Principal().getName()
              + "' (its public key does not match)");
    }
    return new KeyMaterial(key, chain);
  }

  /**
   * The file's first block that holds a private key, else its first block (whose kind the caller
   * names), else null: one file may hold the key and its certificates, in either order, as
   * OpenSSL's readers allow ({@code ncat --ssl-cert x.pem --ssl-key x.pem}).
   */
  private static Matcher keyBlock(String text) {
    Matcher block = PEM.matcher(text);
    Matcher first = null;
    while (block.find()) {
      if (block.group(1).endsWith("PRIVATE KEY")) {
        return block;
      }
      if (first == null) {
        first = PEM.matcher(text);
        first.find(block.start());
      }
    }
    return first;
  }

  /**
   * Whether {@code key} is the private half of {@code publicKey}: RSA keys share their modulus;
   * other keys sign a probe that the public key must verify.
   */
  private static boolean belongsTo(PrivateKey key, PublicKey publicKey) {
    if (key instanceof RSAKey rsa) {
      return publicKey instanceof RSAKey rsaPublic
          && rsa.getModulus().equals(rsaPublic.getModulus());
    }
    String signature =
        switch (key.getAlgorithm()) {
          case "EC" -> "SHA256withECDSA";
          case "EdDSA", "Ed25519", "Ed448" -> key.getAlgorithm();
          default -> null;
        };
    if (signature == null) {
      return true; // no way to tell here; the handshake will
    }
    try {
      byte[] probe = "jsock key check".getBytes(StandardCharsets.US_ASCII);
      Signature signer = Signature.getInstance(signature);
      signer.initSign(key);
      signer.update(probe);
      byte[] signed = signer.sign();
      Signature verifier = Signature.getInstance(signature);
      verifier.initVerify(publicKey);
      verifier.update(probe);
      return verifier.verify(signed);
    } catch (GeneralSecurityException e) {
      return false;
    }
  }

  /** The whole of a file given as {@code parameter}, a directory refused naming both. */
  static byte[] readFile(Path file, String parameter) throws IOException {
    requireNoDirectory(file, parameter);
    return Files.readAllBytes(file);
  }

  /**
   * Refuses a directory given where a file is wanted, as Python's IsADirectoryError: the JDK's read
   * says only "Is a directory", naming neither the path nor the parameter.
   */
  static void requireNoDirectory(Path file, String parameter) throws FileSystemException {
    if (Files.isDirectory(file)) {
      throw new FileSystemException(file.toString(), null, "Is a directory (" + parameter + ")");
    }
  }

  /**
   * Loads the first private key entry of a PKCS#12 file ({@code .p12}, {@code .pfx}) and its chain.
   *
   * @throws IllegalArgumentException if the file holds no private key entry
   * @throws IOException if it cannot be read, or the password is wrong
   */
  public static KeyMaterial fromPkcs12(Path pkcs12, char[] password) throws IOException {
    Objects.requireNonNull(pkcs12, "pkcs12");
    Objects.requireNonNull(password, "password");
    requireNoDirectory(pkcs12, "pkcs12");
    try (InputStream in = new BufferedInputStream(Files.newInputStream(pkcs12))) {
      in.mark(PEM_BEGIN.length);
      byte[] head = in.readNBytes(PEM_BEGIN.length);
      in.reset();
      KeyStore store = KeyStore.getInstance("PKCS12");
      try {
        store.load(in, password);
      } catch (IOException e) {
        throw new IOException("cannot load PKCS#12 file " + pkcs12 + ": " + notLoaded(e, head), e);
      }
      for (String alias : Collections.list(store.aliases())) {
        if (store.isKeyEntry(alias)
            && store.getKey(alias, password) instanceof PrivateKey key
            && store.getCertificateChain(alias) != null) {
          List<X509Certificate> chain = new ArrayList<>();
          for (Certificate certificate : store.getCertificateChain(alias)) {
            chain.add((X509Certificate) certificate);
          }
          return new KeyMaterial(key, chain);
        }
      }
      throw new IllegalArgumentException("pkcs12: no private key entry in " + pkcs12);
    } catch (GeneralSecurityException e) {
      throw new IOException("cannot load PKCS#12 file " + pkcs12 + ": " + e.getMessage(), e);
    }
  }

  /** How a PEM file begins: {@code -----BEGIN }. */
  private static final byte[] PEM_BEGIN = "-----BEGIN ".getBytes(StandardCharsets.US_ASCII);

  /**
   * Why a PKCS#12 file did not load, given its first bytes: the JDK's words for a wrong password
   * ("keystore password was incorrect"), but not its DER parser's for a file that is no store at
   * all ("toDerInputStream rejects tag type 45" for a PEM file): a store is a DER SEQUENCE, 0x30.
   */
  private static String notLoaded(IOException e, byte[] head) {
    if (Arrays.equals(head, PEM_BEGIN)) {
      return "not a PKCS#12 store but a PEM file";
    }
    if (e.getMessage() == null) {
      return "not a PKCS#12 store (" + e.getClass().getSimpleName() + ")";
    }
    if (head.length == 0 || head[0] != 0x30) {
      return "not a PKCS#12 store (not DER: " + e.getMessage() + ")";
    }
    return e.getMessage();
  }

  /** Whether 16 address bytes are {@code ::ffff:a.b.c.d}. */
  private static boolean isIpv4Mapped(byte[] raw) {
    for (int i = 0; i < 10; i++) {
      if (raw[i] != 0) {
        return false;
      }
    }
    return raw.length == 16 && raw[10] == (byte) 0xFF && raw[11] == (byte) 0xFF;
  }

  /** An address as keytool's {@code -ext SAN=ip:} takes it: dotted quad, or IPv6 in full. */
  private static String addressText(byte[] raw) {
    if (raw.length == 4) {
      return Literals.ipv4Text(raw);
    }
    StringBuilder text = new StringBuilder();
    for (int i = 0; i < 16; i += 2) {
      text.append(i > 0 ? ":" : "")
          .append(Integer.toHexString((raw[i] & 0xFF) << 8 | raw[i + 1] & 0xFF));
    }
    return text.toString();
  }

  /**
   * A new self-signed EC (secp256r1) certificate for the given host names and IP addresses (by
   * default {@code localhost}, {@code 127.0.0.1} and {@code ::1}), valid for 30 days, made by the
   * JDK's own {@code keytool}. <b>For development and tests only:</b> no client trusts it unless
   * told to, as with {@code Tls.client().withTrustedCertificates(key.certificateChain())}. keytool
   * writes into a temporary directory that the call deletes; a shutdown hook, held for the call's
   * length, stops keytool and deletes it too if a signal ends the JVM meanwhile.
   *
   * @throws IllegalArgumentException naming {@code hostNames} if one is neither an IP address (as
   *     OpenSSL reads one: {@code 127.1} is a DNS name there) nor a DNS name (letters, digits and
   *     hyphens; {@code *.} first for a wildcard)
   */
  public static KeyMaterial selfSigned(String... hostNames) throws IOException {
    Objects.requireNonNull(hostNames, "hostNames");
    for (String name : hostNames) {
      Objects.requireNonNull(name, "hostNames");
    }
    List<String> names =
        hostNames.length == 0 ? List.of("localhost", "127.0.0.1", "::1") : List.of(hostNames);
    StringBuilder san = new StringBuilder("SAN=");
    for (String name : names) {
      // An address as OpenSSL (and so a Python client) reads one, the rest a name: 127.1 is the
      // DNS name 127.1 there, 010.0.0.1 the address 10.0.0.1, as openssl req -addext writes them.
      Optional<byte[]> address = Literals.parseCertificateAddress(name);
      if (address.isEmpty() && !DNS_NAME.matcher(name).matches()) {
        // Checked here: keytool would fail with an IOException, or take a comma as a separator.
        throw new IllegalArgumentException("hostNames: not a DNS name or IP address: " + name);
      }
      if (address.isPresent() && isIpv4Mapped(address.get())) {
        throw new IllegalArgumentException(
            "hostNames: keytool writes an IPv4-mapped address as the IPv4 address, which a client"
                + " asking for the mapped one refuses: "
                + name);
      }
      san.append(san.length() > 4 ? "," : "")
          .append(address.map(raw -> "ip:" + addressText(raw)).orElse("dns:" + name));
    }
    char[] password = HexFormat.of().formatHex(new SecureRandom().generateSeed(12)).toCharArray();
    Path dir = Files.createTempDirectory("jsock-selfsigned");
    Path store = dir.resolve("key.p12");
    // A signal that ends the JVM (SIGTERM, Ctrl-C) while keytool runs runs no finally below: the
    // hook stops keytool and deletes what it wrote, or a key store was left in the temporary
    // directory, as keytool went on without us.
    AtomicReference<Process> running = new AtomicReference<>();
    Thread cleanUp =
        Thread.ofPlatform()
            .name("jsock selfSigned clean-up")
            .unstarted(
                () -> {
                  Process keytool = running.get();
                  if (keytool != null) {
                    kill(keytool);
                  }
                  deleteQuietly(store, dir.resolve("keytool.log"), dir);
                });
    Runtime.getRuntime().addShutdownHook(cleanUp);
    try {
      ProcessBuilder command =
          new ProcessBuilder(
                  Path.of(System.getProperty("java.home"), "bin", "keytool").toString(),
                  "-genkeypair",
                  "-alias",
                  "jsock",
                  "-keyalg",
                  "EC",
                  "-groupname",
                  "secp256r1",
                  "-validity",
                  "30",
                  "-dname",
                  "CN=" + names.get(0),
                  "-ext",
                  san.toString(),
                  "-storetype",
                  "PKCS12",
                  "-keystore",
                  store.toString(),
                  "-storepass:env",
                  "JSOCK_STOREPASS")
              .redirectErrorStream(true)
              .redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()))
              .redirectOutput(dir.resolve("keytool.log").toFile());
      command.environment().put("JSOCK_STOREPASS", new String(password)); // not on a command line
      Process keytool = command.start();
      running.set(keytool);
      try {
        if (!keytool.waitFor(60, TimeUnit.SECONDS)) {
          throw new IOException("keytool did not finish within 60 s");
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new InterruptedIOException("interrupted while keytool ran");
      } finally {
        if (keytool.isAlive()) {
          kill(keytool);
        }
      }
      if (keytool.exitValue() != 0) {
        throw new IOException(
            "keytool failed ("
                + keytool.exitValue()
                + "): "
                + Files.readString(dir.resolve("keytool.log")).strip());
      }
      return fromPkcs12(store, password);
    } finally {
      try {
        Runtime.getRuntime().removeShutdownHook(cleanUp);
      } catch (IllegalStateException e) {
        // the JVM is shutting down: the hook deletes the files
      }
      Files.deleteIfExists(store);
      Files.deleteIfExists(dir.resolve("keytool.log"));
      Files.deleteIfExists(dir);
    }
  }

  private static void deleteQuietly(Path... paths) {
    for (Path path : paths) {
      try {
        Files.deleteIfExists(path);
      } catch (IOException e) {
        // the JVM is ending: nothing to report it to
      }
    }
  }

  /**
   * Kills a keytool that the caller stops waiting for, and waits until it is gone, so that it does
   * not outlive the call (nor write the key into the directory being deleted); an interrupt stays
   * set.
   */
  private static void kill(Process keytool) {
    keytool.destroyForcibly();
    boolean interrupted = Thread.interrupted();
    while (true) {
      try {
        keytool.waitFor(); // SIGKILL cannot be caught: it ends at once
        break;
      } catch (InterruptedException e) {
        interrupted = true;
      }
    }
    if (interrupted) {
      Thread.currentThread().interrupt();
    }
  }

  /** The certificate chain, leaf first. */
  public List<X509Certificate> certificateChain() {
    return chain;
  }

  /** The private key. */
  PrivateKey privateKey() {
    return key;
  }

  /**
   * Every certificate in a PEM file, in order, skipping its other blocks (a private key, say), as
   * OpenSSL's readers do; a file with no PEM block at all is read as the JDK reads certificates.
   * OpenSSL's {@code TRUSTED CERTIFICATE} blocks count too, except those whose trust settings keep
   * them from vouching for TLS servers. A file that holds something else fails naming {@code
   * parameter}. The caller reads the file, once: it may be a pipe ({@code --ca <(...)}).
   */
  static List<X509Certificate> readCertificates(byte[] content, Path pem, String parameter) {
    String text = new String(content, StandardCharsets.ISO_8859_1);
    try {
      CertificateFactory factory = CertificateFactory.getInstance("X.509");
      List<X509Certificate> certificates = new ArrayList<>();
      if (!text.contains("-----BEGIN ")) {
        for (Certificate certificate :
            factory.generateCertificates(new ByteArrayInputStream(content))) {
          certificates.add((X509Certificate) certificate);
        }
        return certificates;
      }
      Matcher block = PEM.matcher(text);
      while (block.find()) {
        if (!CERTIFICATE_BLOCKS.contains(block.group(1))) {
          continue;
        }
        ByteArrayInputStream der =
            new ByteArrayInputStream(Base64.getMimeDecoder().decode(block.group(2)));
        X509Certificate certificate = (X509Certificate) factory.generateCertificate(der);
        // what follows the certificate in a TRUSTED CERTIFICATE block: OpenSSL's trust settings
        if (!block.group(1).equals("TRUSTED CERTIFICATE")
            || OpensslTrustSettings.trustsServers(der.readAllBytes())) {
          certificates.add(certificate);
        }
      }
      return certificates;
    } catch (CertificateException | IllegalArgumentException e) {
      throw new IllegalArgumentException(parameter + ": not a PEM certificate file: " + pem, e);
    }
  }
}
