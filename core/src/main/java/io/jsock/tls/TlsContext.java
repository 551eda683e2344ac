package io.jsock.tls;

import static java.nio.charset.StandardCharsets.ISO_8859_1;

import io.jsock.Socket;
import io.jsock.internal.Literals;
import io.jsock.internal.SocketAccess;
import io.jsock.internal.TlsEngine;
import io.jsock.internal.TlsTrust;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.IDN;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicBoolean;
import javax.net.ssl.KeyManager;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SNIHostName;
import javax.net.ssl.SNIServerName;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.TrustManager;

/**
 * How to speak TLS on a connected socket, in the spirit of Python's {@code ssl.SSLContext}: a
 * client context verifies the server's certificate chain and host name by default, a server context
 * presents its {@link KeyMaterial}. {@link #wrap} runs the handshake and returns a new {@link
 * Socket} whose {@code recv}, {@code sendAll}, {@code shutdown}, {@code close} and timeouts work as
 * on any socket; the socket given to {@code wrap} is detached, as Python's {@code wrap_socket}
 * detaches it.
 *
 * <pre>{@code
 * TlsContext tls = Tls.client(); // system trust store, host name checked, TLS 1.3 or 1.2
 * try (Socket sock = tls.wrap(Sockets.createConnection(new InetSocketAddress("example.com", 443)), "example.com")) {
 *   sock.sendAll("HEAD / HTTP/1.1\r\nHost: example.com\r\n\r\n".getBytes(US_ASCII));
 *   byte[] reply = sock.recv(4096);
 * }
 *
 * TlsContext server = Tls.server(KeyMaterial.fromPem(chainPem, keyPem));
 * try (Socket conn = server.wrap(listener.accept().conn())) { ... }
 * }</pre>
 *
 * <p>Defaults: TLS 1.3 preferred, TLS 1.2 the minimum (nothing older can be enabled), a handshake
 * bounded by 10 seconds (or the socket's own timeout, if shorter). Contexts are immutable and
 * thread-safe: {@code withX} methods return a new context.
 */
public final class TlsContext {
  private static final System.Logger LOG = System.getLogger("io.jsock.tls");
  private static final List<String> ALLOWED = List.of("TLSv1.3", "TLSv1.2");
  private static final List<String> REFUSED =
      List.of("TLSv1.1", "TLSv1", "SSLv3", "SSLv2Hello", "SSLv2");
  private static final Duration DEFAULT_HANDSHAKE_TIMEOUT = Duration.ofSeconds(10);

  private final boolean client;
  private final KeyMaterial key; // servers only
  private final List<X509Certificate> trusted; // clients only; null: the system's trust store
  private final boolean insecure;
  private final Duration handshakeTimeout;
  private final List<String> protocols;

  /** Built on first use (from the fields above, so it is as immutable as they are). */
  private volatile SSLContext ssl;

  private final AtomicBoolean warned = new AtomicBoolean();

  private TlsContext(
      boolean client,
      KeyMaterial key,
      List<X509Certificate> trusted,
      boolean insecure,
      Duration handshakeTimeout,
      List<String> protocols) {
    this.client = client;
    this.key = key;
    this.trusted = trusted;
    this.insecure = insecure;
    this.handshakeTimeout = handshakeTimeout;
    this.protocols = protocols;
  }

  /** See {@link Tls#client()}. */
  static TlsContext client() {
    return new TlsContext(true, null, null, false, DEFAULT_HANDSHAKE_TIMEOUT, ALLOWED);
  }

  /** See {@link Tls#server(KeyMaterial)}. */
  static TlsContext server(KeyMaterial key) {
    Objects.requireNonNull(key, "key");
    return new TlsContext(false, key, null, false, DEFAULT_HANDSHAKE_TIMEOUT, ALLOWED);
  }

  /**
   * This client context trusting only the certificate authorities in a file instead of the
   * system's: PEM ({@code -----BEGIN CERTIFICATE-----}, as many as it holds; OpenSSL's {@code
   * TRUSTED CERTIFICATE} blocks too, unless their trust settings exclude serverAuth) or a PKCS#12
   * trust store without a password. Host names are still checked.
   */
  public TlsContext withTrust(Path pemOrPkcs12CaFile) throws IOException {
    Objects.requireNonNull(pemOrPkcs12CaFile, "pemOrPkcs12CaFile");
    requireClient("withTrust");
    // read once: the file may be a pipe (--ca <(...), /dev/stdin), as Python's cafile may
    byte[] bytes = KeyMaterial.readFile(pemOrPkcs12CaFile, "pemOrPkcs12CaFile");
    if (bytes.length == 0) { // no store, password-protected or not (Python: no certificate found)
      throw new IllegalArgumentException(
          "pemOrPkcs12CaFile: no certificate in " + pemOrPkcs12CaFile + " (the file is empty)");
    }
    String content = new String(bytes, ISO_8859_1);
    if (!content.contains("-----BEGIN ")) {
      return withTrustedCertificates(pkcs12Certificates(bytes, pemOrPkcs12CaFile));
    }
    List<X509Certificate> certificates =
        KeyMaterial.readCertificates(bytes, pemOrPkcs12CaFile, "pemOrPkcs12CaFile");
    if (certificates.isEmpty()) {
      throw new IllegalArgumentException(
          "pemOrPkcs12CaFile: no certificate in "
              + pemOrPkcs12CaFile
              + (content.contains("-----BEGIN TRUSTED CERTIFICATE-----")
                  ? " that may vouch for TLS servers (the trust settings of its TRUSTED"
                      + " CERTIFICATE blocks exclude serverAuth)"
                  : ""));
    }
    return withTrustedCertificates(certificates);
  }

  /**
   * This client context trusting only the given certificate authorities (or self-signed
   * certificates).
   */
  public TlsContext withTrustedCertificates(List<X509Certificate> certificates) {
    Objects.requireNonNull(certificates, "certificates");
    for (X509Certificate certificate : certificates) {
      Objects.requireNonNull(certificate, "certificates");
    }
    requireClient("withTrustedCertificates");
    if (certificates.isEmpty()) {
      throw new IllegalArgumentException("certificates: at least one is needed");
    }
    return new TlsContext(
        client, key, List.copyOf(certificates), insecure, handshakeTimeout, protocols);
  }

  /**
   * This client context with <b>no verification at all</b>: any certificate, any host name. Anyone
   * on the path can read and change the traffic. For tests against servers with throw-away
   * certificates only; the context logs a warning saying so the first time it connects.
   */
  public TlsContext insecureNoVerification() {
    requireClient("insecureNoVerification");
    return new TlsContext(client, key, trusted, true, handshakeTimeout, protocols);
  }

  /** This context with another bound for the handshake (default 10 s). */
  public TlsContext withHandshakeTimeout(Duration timeout) {
    Objects.requireNonNull(timeout, "timeout");
    if (timeout.isNegative() || timeout.isZero()) {
      throw new IllegalArgumentException("timeout must be positive: " + timeout);
    }
    return new TlsContext(client, key, trusted, insecure, timeout, protocols);
  }

  /**
   * This context limited to some of {@code TLSv1.3} and {@code TLSv1.2} (both by default).
   *
   * @throws IllegalArgumentException for anything older (TLSv1.1, TLSv1, SSLv3), which jsock
   *     refuses, or an unknown name
   */
  public TlsContext withProtocols(String... protocols) {
    Objects.requireNonNull(protocols, "protocols");
    if (protocols.length == 0) {
      throw new IllegalArgumentException("protocols: at least one is needed");
    }
    List<String> chosen = new ArrayList<>();
    for (String protocol : protocols) {
      Objects.requireNonNull(protocol, "protocols");
      if (REFUSED.contains(protocol)) {
        throw new IllegalArgumentException(
            "protocols: " + protocol + " is refused: jsock speaks TLSv1.2 and TLSv1.3 only");
      }
      if (!ALLOWED.contains(protocol)) {
        throw new IllegalArgumentException(
            "protocols: unknown protocol " + protocol + " (TLSv1.2 or TLSv1.3)");
      }
      if (!chosen.contains(protocol)) {
        chosen.add(protocol);
      }
    }
    chosen.sort((a, b) -> ALLOWED.indexOf(a) - ALLOWED.indexOf(b)); // newest first
    return new TlsContext(client, key, trusted, insecure, handshakeTimeout, List.copyOf(chosen));
  }

  /** The bound on the handshake. */
  public Duration handshakeTimeout() {
    return handshakeTimeout;
  }

  /** The protocols this context may speak, newest first. */
  public List<String> protocols() {
    return protocols;
  }

  /** Whether this is a client context. */
  public boolean isClient() {
    return client;
  }

  /** Whether this client context skips verification ({@link #insecureNoVerification()}). */
  public boolean isInsecure() {
    return insecure;
  }

  /**
   * Runs the client handshake on a connected stream socket and returns the TLS socket; {@code
   * connected} is detached (using it afterwards throws {@link io.jsock.ClosedSocketException}). The
   * server's certificate must be valid for {@code serverHostname}, which is also sent as SNI unless
   * it is an IP address (or a name SNI cannot carry, such as one with an underscore). On failure
   * the connection is closed.
   *
   * @param serverHostname the name (or IP address) the server must prove; null only in {@link
   *     #insecureNoVerification()} mode
   * @throws TlsException if the handshake fails, saying why (wrong host name, unknown certificate
   *     authority, expired certificate, refused protocol version, …)
   * @throws java.net.SocketTimeoutException if the handshake does not finish within the handshake
   *     timeout (or the socket's timeout, if shorter)
   */
  public Socket wrap(Socket connected, String serverHostname) throws IOException {
    Objects.requireNonNull(connected, "connected");
    if (!client) {
      throw new IllegalStateException("a server context wraps accepted sockets: use wrap(Socket)");
    }
    if (serverHostname == null && !insecure) {
      throw new IllegalArgumentException(
          "serverHostname: needed to verify the server (null only with insecureNoVerification())");
    }
    if (serverHostname != null && serverHostname.isEmpty()) {
      throw new IllegalArgumentException("serverHostname must not be empty"); // as Python
    }
    if (serverHostname != null && serverHostname.indexOf('\0') >= 0) {
      throw new IllegalArgumentException( // as Python, before anything is sent
          "serverHostname must not contain a NUL character: "
              + serverHostname.replace("\0", "\\0"));
    }
    if (serverHostname != null && !isIdnaName(serverHostname)) {
      throw new IllegalArgumentException( // as Python's idna codec, which server_hostname meets
          "serverHostname: not a host name (an empty label, one over 63 characters, or a"
              + " character IDNA prohibits): "
              + serverHostname);
    }
    if (insecure && warned.compareAndSet(false, true)) {
      LOG.log(
          System.Logger.Level.WARNING,
          "TLS certificate verification is OFF for this client context"
              + " (insecureNoVerification): anyone on the path can read and change the traffic");
    }
    SocketAccess access = SocketAccess.get();
    SocketAddress peer = access.peer(connected);
    int port = peer instanceof InetSocketAddress inet ? inet.getPort() : -1;
    SSLEngine engine =
        serverHostname == null
            ? ssl().createSSLEngine()
            : ssl().createSSLEngine(serverHostname, port);
    engine.setUseClientMode(true);
    SSLParameters parameters = engine.getSSLParameters();
    parameters.setProtocols(protocols.toArray(String[]::new));
    Optional<SNIHostName> sni = serverHostname == null ? Optional.empty() : sniName(serverHostname);
    // None at all when empty: else the JDK sends one of its own for a host name that OpenSSL
    // takes for an address (１２７.0.0.1 as 127.0.0.1, 127.0.0.4294967297), which Python does not.
    parameters.setServerNames(sni.<List<SNIServerName>>map(List::of).orElse(List.of()));
    if (!insecure && sni.isPresent() && Literals.parseAton(sni.get().getAsciiName()).isEmpty()) {
      // Without this the JDK checks the chain but not the name (see BUILD-NOTES). It refuses any
      // name that SNI cannot carry (my_host), which OpenSSL matches, reads ::ffff:127.0.0.1 as
      // 127.0.0.1, which OpenSSL refuses, and 127.1 as an address, which is a DNS name to OpenSSL:
      // TlsTrust checks those names and every address itself, and every name after the JDK.
      parameters.setEndpointIdentificationAlgorithm("HTTPS");
    }
    engine.setSSLParameters(parameters);
    return handshake(access, connected, engine);
  }

  /**
   * Runs the server handshake on an accepted socket and returns the TLS socket; {@code accepted} is
   * detached. On failure the connection is closed.
   *
   * @throws TlsException if the handshake fails, saying why
   * @throws java.net.SocketTimeoutException if the client does not finish the handshake in time
   */
  public Socket wrap(Socket accepted) throws IOException {
    Objects.requireNonNull(accepted, "accepted");
    if (client) {
      throw new IllegalStateException(
          "a client context needs the server's host name: use wrap(Socket, String)");
    }
    SSLEngine engine = ssl().createSSLEngine();
    engine.setUseClientMode(false);
    SSLParameters parameters = engine.getSSLParameters();
    parameters.setProtocols(protocols.toArray(String[]::new));
    engine.setSSLParameters(parameters);
    return handshake(SocketAccess.get(), accepted, engine);
  }

  @Override
  public String toString() {
    return "TlsContext["
        + (client ? "client" : "server")
        + (client
            ? (insecure
                ? ", NO VERIFICATION"
                : trusted == null ? ", system trust" : ", " + trusted.size() + " trusted")
            : "")
        + ", "
        + protocols
        + ", handshake timeout "
        + handshakeTimeout
        + "]";
  }

  /** Whether IDNA (2003, as Python's idna codec) can encode the name: labels of 1 to 63. */
  private static boolean isIdnaName(String name) {
    try {
      IDN.toASCII(name, IDN.ALLOW_UNASSIGNED);
      return true;
    } catch (IllegalArgumentException refused) {
      return false;
    }
  }

  /**
   * The name to send as SNI: none for an IP address (as OpenSSL reads one: {@code 127.1} is a name
   * there, sent as Python sends it), and none for a name that SNI cannot carry (such as {@code
   * my_host} or {@code host.}, which the JDK's {@link SNIHostName} refuses), as the JDK's own
   * {@code SSLSocket} does; the certificate is checked against the name either way.
   */
  private static Optional<SNIHostName> sniName(String serverHostname) {
    if (Literals.parseCertificateAddress(serverHostname).isPresent()) {
      return Optional.empty();
    }
    try {
      return Optional.of(new SNIHostName(serverHostname));
    } catch (IllegalArgumentException notAnSniName) {
      return Optional.empty();
    }
  }

  private Socket handshake(SocketAccess access, Socket plain, SSLEngine engine) throws IOException {
    long nanos;
    try {
      nanos = handshakeTimeout.toNanos();
    } catch (ArithmeticException tooLong) { // ChronoUnit.FOREVER's duration: as good as none
      nanos = Long.MAX_VALUE;
    }
    // Capped so that the sum cannot wrap around: deadlines are compared by subtraction.
    long deadline = System.nanoTime() + Math.min(nanos, Long.MAX_VALUE / 4);
    Socket wrapped = access.attachTls(plain, new TlsEngine(engine));
    access.handshake(wrapped, deadline);
    return wrapped;
  }

  private SSLContext ssl() throws IOException {
    SSLContext built = ssl;
    if (built == null) {
      try {
        KeyManager[] keyManagers = null;
        if (key != null) {
          char[] password = new char[0];
          KeyStore store = KeyStore.getInstance("PKCS12");
          store.load(null, null);
          store.setKeyEntry(
              "key",
              key.privateKey(),
              password,
              key.certificateChain().toArray(X509Certificate[]::new));
          KeyManagerFactory factory =
              KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
          factory.init(store, password);
          keyManagers = factory.getKeyManagers();
        }
        TrustManager trust = insecure ? TlsTrust.insecure() : TlsTrust.verifying(trustStore());
        built = SSLContext.getInstance("TLS");
        built.init(keyManagers, new TrustManager[] {trust}, null);
        ssl = built;
      } catch (GeneralSecurityException e) {
        throw new IOException("cannot set up TLS: " + e.getMessage(), e);
      }
    }
    return built;
  }

  private KeyStore trustStore() throws GeneralSecurityException, IOException {
    if (trusted == null) {
      return null; // the system's
    }
    KeyStore store = KeyStore.getInstance("PKCS12");
    store.load(null, null);
    for (int i = 0; i < trusted.size(); i++) {
      store.setCertificateEntry("ca" + i, trusted.get(i));
    }
    return store;
  }

  /**
   * The certificates of a PKCS#12 trust store saved with an empty password, or with none; refused
   * saying why when there are none.
   */
  private static List<X509Certificate> pkcs12Certificates(byte[] content, Path file)
      throws IOException {
    Optional<List<X509Certificate>> opened = pkcs12Certificates(content, file, new char[0]);
    if (opened.isPresent() && opened.get().isEmpty()) {
      // It opened, so it has no password: the JDK skips certificates not marked as trusted
      throw new IllegalArgumentException(
          "pemOrPkcs12CaFile: no trusted certificate in "
              + file
              + " (the JDK takes only certificates marked as trusted for Java, which openssl"
              + " pkcs12 marks only when given -jdktrust anyExtendedKeyUsage, from OpenSSL 3.2 on):"
              + " give the certificates as PEM");
    }
    if (opened.isEmpty()) {
      opened = pkcs12Certificates(content, file, null);
    }
    if (opened.isEmpty() || opened.get().isEmpty()) {
      throw new IllegalArgumentException(
          "pemOrPkcs12CaFile: no certificate in "
              + file
              + " (a password-protected PKCS#12 store? export its certificates as PEM)");
    }
    return opened.get();
  }

  /** The store's certificates, or empty if it does not open with this password. */
  private static Optional<List<X509Certificate>> pkcs12Certificates(
      byte[] content, Path file, char[] password) throws IOException {
    try (InputStream in = new ByteArrayInputStream(content)) {
      KeyStore store = KeyStore.getInstance("PKCS12");
      try {
        store.load(in, password);
      } catch (IOException wrongPassword) {
        return Optional.empty();
      }
      List<X509Certificate> certificates = new ArrayList<>();
      for (String alias : Collections.list(store.aliases())) {
        if (store.getCertificate(alias) instanceof X509Certificate certificate) {
          certificates.add(certificate);
        }
      }
      return Optional.of(certificates);
    } catch (GeneralSecurityException e) {
      throw new IOException("cannot read PKCS#12 trust store " + file + ": " + e.getMessage(), e);
    }
  }

  private void requireClient(String method) {
    if (!client) {
      throw new IllegalStateException(method + " applies to client contexts");
    }
  }
}
