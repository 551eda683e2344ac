package io.jsock.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * A certificate and its private key as PEM files, as a user of {@code --cert}/{@code --key} has
 * them: made by {@code openssl req}, not by jsock, so the tests read what another tool wrote.
 */
record PemFiles(Path cert, Path key) {
  /**
   * A self-signed EC certificate for localhost, 127.0.0.1 and ::1, valid two days, in {@code dir}.
   */
  static PemFiles selfSigned(Path dir) throws Exception {
    return selfSigned(dir, "localhost", "DNS:localhost,IP:127.0.0.1,IP:::1");
  }

  /**
   * A self-signed EC certificate with common name {@code cn} for {@code san} (openssl's
   * subjectAltName syntax, {@code IP:198.18.0.2}), valid two days, in {@code dir}.
   */
  static PemFiles selfSigned(Path dir, String cn, String san) throws Exception {
    Path cert = dir.resolve("cert.pem");
    Path key = dir.resolve("key.pem");
    try (RunningProcess openssl =
        RunningProcess.start(
            List.of(
                "openssl",
                "req",
                "-x509",
                "-newkey",
                "ec",
                "-pkeyopt",
                "ec_paramgen_curve:prime256v1",
                "-nodes",
                "-days",
                "2",
                "-subj",
                "/CN=" + cn,
                "-addext",
                "subjectAltName=" + san,
                "-keyout",
                key.toString(),
                "-out",
                cert.toString()),
            Map.of())) {
      assertThat(openssl.exitCode()).as(openssl.stderrSoFar()).isZero();
    }
    return new PemFiles(cert, key);
  }
}
