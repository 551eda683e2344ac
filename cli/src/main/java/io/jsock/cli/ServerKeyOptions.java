package io.jsock.cli;

import io.jsock.tls.KeyMaterial;
import java.io.IOException;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.cert.X509Certificate;
import java.util.HexFormat;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * The key and certificate a TLS listener presents: PEM files, a PKCS#12 store, or (when none is
 * given) a self-signed development certificate whose fingerprint goes to stderr.
 */
final class ServerKeyOptions {
  @Spec(Spec.Target.MIXEE)
  CommandSpec spec;

  @Option(
      names = "--cert",
      paramLabel = "PEM",
      description = "With --tls: the certificate chain, PEM, leaf first (needs --key).")
  Path cert;

  @Option(
      names = "--key",
      paramLabel = "PKCS8-PEM",
      description = "With --tls: the private key, unencrypted PKCS#8 PEM (needs --cert).")
  Path key;

  @Option(
      names = "--pkcs12",
      paramLabel = "FILE",
      description = "With --tls: a PKCS#12 key store holding the key and its chain.")
  Path pkcs12;

  @Option(
      names = "--password-env",
      paramLabel = "VAR",
      description =
          "With --pkcs12: the environment variable holding the store's password (never a"
              + " command-line argument, which other users can see).")
  String passwordEnv;

  /** Checks that the options fit together, given whether TLS was asked for. */
  void check(boolean tls) {
    check(tls, "--tls");
  }

  /**
   * Checks that the options fit together, given whether TLS was asked for by {@code tlsAsked}, the
   * words that ask for it ({@code --tls}; the relay's {@code a tls: LISTEN}).
   */
  void check(boolean tls, String tlsAsked) {
    if (!tls && (cert != null || key != null || pkcs12 != null || passwordEnv != null)) {
      throw usage("--cert, --key, --pkcs12 and --password-env need " + tlsAsked);
    }
    if ((cert == null) != (key == null)) {
      throw usage("--cert and --key go together");
    }
    if (cert != null && pkcs12 != null) {
      throw usage("--pkcs12 takes the place of --cert and --key");
    }
    if (passwordEnv != null && pkcs12 == null) {
      throw usage("--password-env needs --pkcs12");
    }
  }

  /** The key and chain the options name, or a development certificate, said so on {@code err}. */
  KeyMaterial load(Lines err) throws IOException {
    if (cert != null) {
      OptionFiles.requireReadable(spec, "--cert", cert);
      OptionFiles.requireReadable(spec, "--key", key);
      try {
        return KeyMaterial.fromPem(cert, key);
      } catch (IllegalArgumentException e) {
        boolean aboutKey = e.getMessage().startsWith("pkcs8KeyPem:");
        throw OptionFiles.unsuitable(spec, aboutKey ? "--key" : "--cert", e);
      }
    }
    if (pkcs12 != null) {
      String password = passwordEnv == null ? "" : System.getenv(passwordEnv);
      if (password == null) {
        throw usage("--password-env: the variable " + passwordEnv + " is not set");
      }
      OptionFiles.requireReadable(spec, "--pkcs12", pkcs12);
      try {
        return KeyMaterial.fromPkcs12(pkcs12, password.toCharArray());
      } catch (IllegalArgumentException e) {
        throw OptionFiles.unsuitable(spec, "--pkcs12", e);
      } catch (IOException e) { // readable, so its content or the password is wrong: as a bad --key
        throw new ParameterException(
            spec.commandLine(), "--pkcs12: " + e.getMessage() + passwordHint(e), e);
      }
    }
    KeyMaterial developer = KeyMaterial.selfSigned("localhost", "127.0.0.1", "::1");
    err.line(
        "TLS with a self-signed development certificate for localhost, 127.0.0.1 and ::1,"
            + " which no client trusts unless told to; SHA-256 fingerprint "
            + fingerprint(developer.certificateChain().getFirst()));
    return developer;
  }

  /** Where the password came from, when the JDK says it was wrong; where a PEM file goes. */
  private String passwordHint(IOException e) {
    if (e.getMessage().endsWith("not a PKCS#12 store but a PEM file")) {
      return " (PEM files go to --cert and --key)";
    }
    if (!e.getMessage().endsWith("password was incorrect")) {
      return "";
    }
    return passwordEnv == null
        ? " (without --password-env the password is empty)"
        : " (the password given is the value of " + passwordEnv + ")";
  }

  /** The certificate's SHA-256 fingerprint as openssl prints it: {@code AB:CD:…}. */
  static String fingerprint(X509Certificate certificate) {
    try {
      byte[] digest = MessageDigest.getInstance("SHA-256").digest(certificate.getEncoded());
      return HexFormat.ofDelimiter(":").withUpperCase().formatHex(digest);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("SHA-256 of the certificate: " + e.getMessage(), e);
    }
  }

  private ParameterException usage(String message) {
    return new ParameterException(spec.commandLine(), message);
  }
}
