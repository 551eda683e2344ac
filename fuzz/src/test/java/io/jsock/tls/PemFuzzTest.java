package io.jsock.tls;

import static java.nio.charset.StandardCharsets.ISO_8859_1;
import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;

/**
 * What {@link KeyMaterial#fromPem} takes from files it does not know: whatever text they hold, it
 * returns a key and its chain, or refuses with an {@link IllegalArgumentException} that names the
 * file it is about ({@code pkcs8KeyPem: …} the key's, else the chain's), as the CLI's {@code
 * --cert} and {@code --key} report it; nothing else escapes. In this package, to reach the key.
 *
 * <p>The texts are built from pieces: bytes as given, BEGIN and END lines of the kinds that matter
 * or others, the base64 of a real certificate or key (whole, cut or with a letter changed), runs of
 * hyphens and line ends.
 */
final class PemFuzzTest {
  private static final String[] KINDS = {
    "CERTIFICATE", "TRUSTED CERTIFICATE", "X509 CERTIFICATE", "PRIVATE KEY", "EC PRIVATE KEY", "X"
  };
  private static final KeyMaterial REAL;
  private static final Path DIRECTORY;

  static {
    try {
      REAL = KeyMaterial.selfSigned("localhost");
      DIRECTORY = Files.createTempDirectory("jsock-pem-fuzz");
      DIRECTORY.toFile().deleteOnExit();
    } catch (IOException e) {
      throw new ExceptionInInitializerError(e);
    }
  }

  @FuzzTest(maxDuration = "2m")
  void readsPemOrSaysWhichFile(FuzzedDataProvider data) throws Exception {
    Path cert = DIRECTORY.resolve("cert.pem");
    Path key = DIRECTORY.resolve("key.pem");
    boolean oneFile = data.consumeBoolean(); // ncat --ssl-cert x.pem --ssl-key x.pem
    Files.write(cert, text(data));
    if (!oneFile) {
      Files.write(key, text(data));
    }
    Path keyFile = oneFile ? cert : key;
    try {
      KeyMaterial loaded = KeyMaterial.fromPem(cert, keyFile);
      assertThat(loaded.certificateChain()).isNotEmpty();
    } catch (IllegalArgumentException refused) {
      Path about = refused.getMessage().startsWith("pkcs8KeyPem:") ? keyFile : cert;
      assertThat(refused.getMessage()).as("%s", refused).contains(about.toString());
    }
  }

  private static byte[] text(FuzzedDataProvider data) throws Exception {
    StringBuilder text = new StringBuilder();
    int pieces = data.consumeInt(0, 12);
    for (int i = 0; i < pieces && data.remainingBytes() > 0; i++) {
      switch (data.consumeInt(0, 4)) {
        case 0 -> text.append(new String(data.consumeBytes(data.consumeInt(1, 16)), ISO_8859_1));
        case 1 ->
            text.append(data.consumeBoolean() ? "-----BEGIN " : "-----END ")
                .append(data.pickValue(KINDS))
                .append("-----\n");
        case 2 -> text.append(base64(data)).append('\n');
        case 3 -> text.append("-".repeat(data.consumeInt(1, 6)));
        default -> text.append(data.consumeBoolean() ? "\n" : "\r\n");
      }
    }
    return text.toString().getBytes(ISO_8859_1);
  }

  /** The base64 of the real certificate or key, maybe cut short or with one letter changed. */
  private static String base64(FuzzedDataProvider data) throws Exception {
    byte[] der =
        data.consumeBoolean()
            ? REAL.certificateChain().get(0).getEncoded()
            : REAL.privateKey().getEncoded();
    char[] letters = Base64.getMimeEncoder().encodeToString(der).toCharArray();
    int length = data.consumeBoolean() ? letters.length : data.consumeInt(0, letters.length);
    if (length > 0 && data.consumeBoolean()) {
      letters[data.consumeInt(0, length - 1)] = data.consumeChar();
    }
    return new String(letters, 0, length);
  }
}
