package io.jsock.internal;

import java.io.ByteArrayOutputStream;
import java.net.IDN;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.security.KeyStore;
import java.security.cert.CertPathBuilderException;
import java.security.cert.CertPathValidatorException;
import java.security.cert.CertificateException;
import java.security.cert.CertificateExpiredException;
import java.security.cert.CertificateNotYetValidException;
import java.security.cert.CertificateParsingException;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.regex.Pattern;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509ExtendedTrustManager;
import javax.security.auth.x500.X500Principal;

/**
 * The trust managers of {@code io.jsock.tls}: a verifying one that checks the chain and then the
 * host name in two steps, so that a rejection says which of them failed without reading the JDK's
 * message text, and an insecure one that accepts everything.
 */
public final class TlsTrust {
  /** What OpenSSL lets a wildcard stand over: labels of letters, digits and hyphens. */
  private static final Pattern LETTERS_DIGITS_HYPHENS = Pattern.compile("[a-z0-9.-]+");

  /**
   * What OpenSSL takes for the labels after a wildcard: letters, digits and hyphens, none beginning
   * or ending with a hyphen (else the pattern is no wildcard, only itself).
   */
  private static final Pattern WILDCARD_LABELS =
      Pattern.compile("[a-z0-9]([a-z0-9-]*[a-z0-9])?(\\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*");

  private TlsTrust() {}

  /**
   * A certificate rejection whose {@link #reason()} is ready for a message; {@link Errors#tls}
   * finds it in the cause chain of the JDK's handshake exception.
   */
  public static final class Rejection extends CertificateException {
    private static final long serialVersionUID = 1L;

    Rejection(String reason, Throwable cause) {
      super(reason, validatorReason(cause));
    }

    /**
     * The validator's exception among the causes, if any, as the cause: the JDK picks the alert it
     * sends (certificate_expired, bad_certificate, …) from the cause of the exception we throw, as
     * OpenSSL sends the reason; wrapped, the reason was lost and every rejection
     * certificate_unknown.
     */
    private static Throwable validatorReason(Throwable cause) {
      for (Throwable c = cause; c != null; c = c.getCause()) {
        if (c instanceof CertPathValidatorException) {
          return c;
        }
      }
      return cause;
    }

    /** Why the certificate was rejected. */
    public String reason() {
      return getMessage();
    }
  }

  /**
   * A trust manager verifying against {@code trusted} (the system's trust store when null): the
   * chain first, then the host name when the engine asks for endpoint identification.
   */
  public static TrustManager verifying(KeyStore trusted)
      throws java.security.GeneralSecurityException {
    TrustManagerFactory factory =
        TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
    factory.init(trusted);
    for (TrustManager manager : factory.getTrustManagers()) {
      if (manager instanceof X509ExtendedTrustManager extended) {
        return new Verifying(extended);
      }
    }
    throw new IllegalStateException("the JDK's trust manager factory has no X509 trust manager");
  }

  /** A trust manager that accepts every certificate: no verification at all. */
  public static TrustManager insecure() {
    return new Insecure();
  }

  private static final class Verifying extends X509ExtendedTrustManager {
    private final X509ExtendedTrustManager delegate;

    Verifying(X509ExtendedTrustManager delegate) {
      this.delegate = delegate;
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType, SSLEngine engine)
        throws CertificateException {
      try {
        delegate.checkServerTrusted(chain, authType); // the chain alone, no host name
      } catch (CertificateException e) {
        throw new Rejection(chainReason(e, chain), e);
      }
      checkAnchorDates(chain);
      try {
        // With the host name when it went out as SNI; the JDK checks no name that SNI cannot
        // carry (my_host), none it reads as an address (127.1) and no address, whose bytes it
        // reads loosely: TlsTrust checks those, and every name after the JDK.
        delegate.checkServerTrusted(chain, authType, engine);
        String host = engine.getPeerHost();
        Optional<byte[]> address =
            host == null ? Optional.empty() : Literals.parseCertificateAddress(host);
        if (address.isPresent()) {
          checkIpAddress(chain[0], address.get(), host);
        } else {
          checkDnsName(chain[0], host); // also what the JDK matched, more loosely
        }
      } catch (CertificateException e) {
        throw new Rejection(
            "certificate for "
                + names(chain[0])
                + " does not match host name '"
                + engine.getPeerHost()
                + "'",
            e);
      }
    }

    /**
     * Refuses a chain whose trusted authority is out of date, as OpenSSL (and so Python) does: the
     * JDK takes a trust anchor as a name and a key, and never looks at its dates (nor at any date
     * when the server's own certificate is the trusted one, a self-signed certificate given to
     * {@code withTrustedCertificates}). The anchors a validation may stop at are the trusted
     * certificates that are in the chain (same name and key) or issued one of its certificates; as
     * OpenSSL looks for another path when one fails, one of them valid today is enough.
     */
    private void checkAnchorDates(X509Certificate[] chain) throws Rejection {
      X509Certificate outOfDate = null;
      CertificateException why = null;
      for (X509Certificate trusted : delegate.getAcceptedIssuers()) {
        if (!isAnchorOf(trusted, chain)) {
          continue;
        }
        try {
          trusted.checkValidity();
          return;
        } catch (CertificateException e) {
          if (outOfDate == null) {
            outOfDate = trusted;
            why = e;
          }
        }
      }
      if (outOfDate != null) {
        throw new Rejection(
            why instanceof CertificateExpiredException
                ? "certificate "
                    + subject(outOfDate)
                    + " expired on "
                    + outOfDate.getNotAfter().toInstant()
                : "certificate "
                    + subject(outOfDate)
                    + " is not valid before "
                    + outOfDate.getNotBefore().toInstant(),
            why);
      }
    }

    private static boolean isAnchorOf(X509Certificate trusted, X509Certificate[] chain) {
      for (X509Certificate link : chain) {
        boolean same =
            trusted.getSubjectX500Principal().equals(link.getSubjectX500Principal())
                && trusted.getPublicKey().equals(link.getPublicKey());
        if (same
            || trusted.getSubjectX500Principal().equals(link.getIssuerX500Principal())
                && issued(trusted, link)) {
          return true;
        }
      }
      return false;
    }

    private static boolean issued(X509Certificate issuer, X509Certificate certificate) {
      try {
        certificate.verify(issuer.getPublicKey());
        return true;
      } catch (java.security.GeneralSecurityException e) {
        return false;
      }
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType, Socket socket)
        throws CertificateException {
      delegate.checkServerTrusted(chain, authType, socket);
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType)
        throws CertificateException {
      delegate.checkServerTrusted(chain, authType);
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType, SSLEngine engine)
        throws CertificateException {
      try {
        delegate.checkClientTrusted(chain, authType, engine);
      } catch (CertificateException e) {
        throw new Rejection(chainReason(e, chain), e);
      }
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType, Socket socket)
        throws CertificateException {
      delegate.checkClientTrusted(chain, authType, socket);
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType)
        throws CertificateException {
      delegate.checkClientTrusted(chain, authType);
    }

    @Override
    public X509Certificate[] getAcceptedIssuers() {
      return delegate.getAcceptedIssuers();
    }
  }

  /**
   * Refuses an address that no IP address entry of the certificate holds byte for byte, as OpenSSL
   * (and so Python) compares them: the 16 bytes of {@code ::ffff:127.0.0.1} are not the 4 of {@code
   * 127.0.0.1}, either way round. The CN never counts for an address.
   */
  private static void checkIpAddress(X509Certificate leaf, byte[] address, String peerHost)
      throws CertificateException {
    for (SubjectAltNames.Entry entry : SubjectAltNames.of(leaf)) {
      if (entry instanceof SubjectAltNames.IpAddress ip && ip.matches(address)) {
        return;
      }
    }
    throw new CertificateException("no IP address entry holds the bytes of " + peerHost);
  }

  /**
   * Refuses a host name that no DNS name of the certificate (or when it has none, no CN of its
   * subject, as the JDK and OpenSSL both fall back to) matches as OpenSSL, and so Python, matches:
   * equal, or through a wildcard that is the whole leftmost label over at least two labels of
   * letters, digits and hyphens (RFC 9525; none beginning or ending with one, as OpenSSL's
   * valid_star), never {@code f*.example.com} nor {@code *.com}, and standing for a label of
   * letters, digits and hyphens (never {@code my_host}). Called once the JDK has matched the name,
   * which it does more loosely, and for the names the JDK does not check (my_host), never for IP
   * addresses.
   */
  private static void checkDnsName(X509Certificate leaf, String peerHost)
      throws CertificateException {
    if (peerHost == null) {
      throw new CertificateException("no host name to check");
    }
    List<String> patterns = dnsNames(leaf);
    if (patterns.isEmpty()) {
      patterns = commonNames(leaf);
    }
    String host = comparable(peerHost);
    int dot = host.indexOf('.');
    for (String pattern : patterns) {
      String name = comparable(pattern);
      if (name.equals(host)) {
        return;
      }
      if (name.startsWith("*.")
          && !pattern.endsWith(".") // OpenSSL: *.example.com. is no wildcard
          && name.indexOf('.', 2) > 0 // at least two labels under the wildcard
          && WILDCARD_LABELS.matcher(name.substring(2)).matches()
          && dot > 0
          && host.substring(dot + 1).equals(name.substring(2))
          && standsFor(host.substring(0, dot))) {
        return;
      }
    }
    throw new CertificateException("no DNS name matches " + peerHost + " without a wildcard");
  }

  /**
   * Whether a wildcard may stand for the host's leftmost label, as OpenSSL lets it: a label of
   * letters, digits and hyphens (never {@code my_host}), or a literal {@code *}.
   */
  private static boolean standsFor(String label) {
    return label.equals("*") || LETTERS_DIGITS_HYPHENS.matcher(label).matches();
  }

  /** A DNS name as compared: ASCII (IDNA), lower case, without a final dot. */
  private static String comparable(String name) {
    String ascii;
    try {
      ascii = IDN.toASCII(name, IDN.ALLOW_UNASSIGNED);
    } catch (IllegalArgumentException notIdna) {
      ascii = name;
    }
    ascii = ascii.toLowerCase(Locale.ROOT);
    return ascii.endsWith(".") ? ascii.substring(0, ascii.length() - 1) : ascii;
  }

  private static List<String> dnsNames(X509Certificate certificate) throws CertificateException {
    List<String> names = new ArrayList<>();
    var alternatives = certificate.getSubjectAlternativeNames();
    if (alternatives != null) {
      for (List<?> entry : alternatives) {
        if ((Integer) entry.get(0) == 2) { // dNSName
          names.add((String) entry.get(1));
        }
      }
    }
    return names;
  }

  /**
   * The CN values of the certificate's subject, read from its RFC 2253 form: attributes end at a
   * comma or plus sign that no backslash escapes; an escaped character stands for itself, an
   * escaped hex pair for a byte of UTF-8.
   */
  static List<String> commonNames(X509Certificate certificate) {
    String name = certificate.getSubjectX500Principal().getName(X500Principal.RFC2253);
    List<String> names = new ArrayList<>();
    ByteArrayOutputStream attribute = new ByteArrayOutputStream();
    for (int i = 0; i <= name.length(); i++) {
      if (i == name.length() || name.charAt(i) == ',' || name.charAt(i) == '+') {
        String text = attribute.toString(StandardCharsets.UTF_8);
        if (text.regionMatches(true, 0, "CN=", 0, 3)) {
          names.add(text.substring(3));
        }
        attribute.reset();
        continue;
      }
      if (name.charAt(i) == '\\' && i + 1 < name.length()) {
        i++;
        if (i + 1 < name.length()
            && Character.digit(name.charAt(i), 16) >= 0
            && Character.digit(name.charAt(i + 1), 16) >= 0) {
          attribute.write(Integer.parseInt(name, i, i + 2, 16));
          i++;
          continue;
        }
      }
      int end = Character.isHighSurrogate(name.charAt(i)) && i + 1 < name.length() ? i + 2 : i + 1;
      attribute.writeBytes(name.substring(i, end).getBytes(StandardCharsets.UTF_8));
      i = end - 1;
    }
    return names;
  }

  /** Why a chain failed, from the exceptions' types and the certificates' dates. */
  private static String chainReason(CertificateException e, X509Certificate[] chain) {
    for (Throwable cause = e; cause != null; cause = cause.getCause()) {
      if (cause instanceof CertificateExpiredException) {
        return expiry(chain, "expired on ", true);
      }
      if (cause instanceof CertificateNotYetValidException) {
        return expiry(chain, "not valid before ", false);
      }
      if (cause instanceof CertPathValidatorException invalid
          && invalid.getReason() == CertPathValidatorException.BasicReason.EXPIRED) {
        return expiry(chain, "expired on ", true);
      }
      if (cause instanceof CertPathValidatorException invalid
          && invalid.getReason() == CertPathValidatorException.BasicReason.NOT_YET_VALID) {
        return expiry(chain, "not valid before ", false);
      }
      if (cause instanceof CertPathValidatorException invalid
          && invalid.getReason() == CertPathValidatorException.BasicReason.REVOKED) {
        return "certificate revoked";
      }
      if (cause instanceof CertPathBuilderException) {
        return "unknown certificate authority (no trusted certificate issued "
            + subject(chain[chain.length - 1])
            + ")";
      }
    }
    return "certificate rejected: " + e.getMessage();
  }

  private static String expiry(X509Certificate[] chain, String what, boolean expired) {
    long now = System.currentTimeMillis();
    for (X509Certificate certificate : chain) {
      boolean hit =
          expired
              ? certificate.getNotAfter().getTime() < now
              : certificate.getNotBefore().getTime() > now;
      if (hit) {
        return "certificate "
            + subject(certificate)
            + (expired ? " expired on " : " is not valid before ")
            + (expired ? certificate.getNotAfter() : certificate.getNotBefore()).toInstant();
      }
    }
    return "certificate " + what.trim();
  }

  private static String subject(X509Certificate certificate) {
    return "'" + certificate.getSubjectX500Principal().getName() + "'";
  }

  /**
   * The names a certificate is for: its DNS and IP subject alternative names, quoted, an address as
   * Python writes it ({@code '::ffff:127.0.0.1'}, which the JDK would spell {@code '127.0.0.1'}).
   */
  static String names(X509Certificate certificate) {
    List<String> names = new ArrayList<>();
    try {
      for (SubjectAltNames.Entry entry : SubjectAltNames.of(certificate)) {
        names.add(
            switch (entry) {
              case SubjectAltNames.DnsName dns -> "'" + dns.name() + "'";
              case SubjectAltNames.IpAddress ip -> "'" + ip.text() + "'";
            });
      }
    } catch (CertificateParsingException e) {
      // fall back to the subject below
    }
    return names.isEmpty() ? subject(certificate) : String.join(", ", names);
  }

  private static final class Insecure extends X509ExtendedTrustManager {
    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType, SSLEngine engine) {}

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType, Socket socket) {}

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType) {}

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType, SSLEngine engine) {}

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType, Socket socket) {}

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType) {}

    @Override
    public X509Certificate[] getAcceptedIssuers() {
      return new X509Certificate[0];
    }
  }
}
