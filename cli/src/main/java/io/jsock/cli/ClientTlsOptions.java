package io.jsock.cli;

import io.jsock.tls.Tls;
import io.jsock.tls.TlsContext;
import java.io.IOException;
import java.net.IDN;
import java.nio.file.Path;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * How a TLS client decides to trust its server: the JDK's trusted roots and the host name by
 * default, a CA file with {@code --ca}, a different expected name with {@code --server-name}, or
 * nothing at all with {@code --insecure}, which says so on stderr.
 */
final class ClientTlsOptions {
  @Spec(Spec.Target.MIXEE)
  CommandSpec spec;

  @Option(
      names = "--ca",
      paramLabel = "FILE",
      description =
          "With --tls: trust the certificates in FILE (PEM or PKCS#12), not the system's.")
  Path ca;

  @Option(
      names = "--server-name",
      paramLabel = "NAME",
      description = "With --tls: the name the server's certificate must carry (default: the host).")
  String serverName;

  @Option(
      names = "--insecure",
      description =
          "With --tls: accept any certificate and any name. Encrypts, but an attacker in the"
              + " middle goes unnoticed; for testing only.")
  boolean insecure;

  /** Whether any of these options was given (they all need {@code --tls}). */
  boolean given() {
    return ca != null || serverName != null || insecure;
  }

  /** The client context these options describe. */
  TlsContext context() throws IOException {
    if (serverName != null && serverName.isEmpty()) { // checked before connecting, as --ca is
      throw new ParameterException(spec.commandLine(), "--server-name: the name must not be empty");
    }
    if (serverName != null && !isIdnaName(serverName)) { // which TlsContext.wrap would refuse
      throw new ParameterException(
          spec.commandLine(),
          "--server-name: not a host name (an empty label, one over 63 characters, or a"
              + " character IDNA prohibits): "
              + serverName);
    }
    TlsContext context = Tls.client();
    if (ca != null) {
      OptionFiles.requireReadable(spec, "--ca", ca);
      try {
        context = context.withTrust(ca);
      } catch (IllegalArgumentException e) {
        throw OptionFiles.unsuitable(spec, "--ca", e);
      }
    }
    if (insecure) {
      context = context.insecureNoVerification(); // which says so on stderr when it connects
    }
    return context;
  }

  private static boolean isIdnaName(String name) {
    try {
      IDN.toASCII(name, IDN.ALLOW_UNASSIGNED);
      return true;
    } catch (IllegalArgumentException refused) {
      return false;
    }
  }

  /** The name to verify (and send as SNI): {@code --server-name}, or the host connected to. */
  String expectedName(String host) {
    return serverName != null ? serverName : host;
  }
}
