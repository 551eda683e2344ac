package io.jsock.internal;

import java.util.Arrays;

/**
 * The trust settings that OpenSSL keeps after the certificate in a {@code TRUSTED CERTIFICATE} PEM
 * block ({@code openssl x509 -trustout -addtrust … -addreject …}, some distributions' CA bundles):
 * a DER {@code X509_CERT_AUX}, {@code SEQUENCE { trust SEQUENCE OF OID OPTIONAL, reject [0]
 * SEQUENCE OF OID OPTIONAL, … }}; BER's indefinite lengths, which OpenSSL also reads, are refused.
 */
public final class OpensslTrustSettings {
  private static final byte[] SERVER_AUTH = {0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x03, 0x01};
  private static final byte[] ANY_EXTENDED_KEY_USAGE = {0x55, 0x1d, 0x25, 0x00};

  private OpensslTrustSettings() {}

  /**
   * Whether a certificate with these settings may vouch for TLS servers, as OpenSSL decides for a
   * client (and so Python's {@code load_verify_locations}): not if they reject serverAuth or any
   * use; if they list trusted uses, only when serverAuth or any use is one of them; with no
   * settings, as any certificate.
   *
   * @throws IllegalArgumentException if {@code settings} is not such a DER structure
   */
  public static boolean trustsServers(byte[] settings) {
    if (settings.length == 0) {
      return true;
    }
    int[] outer = header(settings, 0, settings.length, 0x30);
    boolean listsTrust = false;
    boolean trusted = false;
    for (int at = outer[0]; at < outer[1]; ) {
      int tag = settings[at] & 0xff;
      int[] element = header(settings, at, outer[1], tag);
      if (tag == 0x30 || tag == 0xa0) { // trust, reject
        boolean namesServers = namesServers(settings, element[0], element[1]);
        if (tag == 0xa0 && namesServers) {
          return false;
        }
        listsTrust |= tag == 0x30;
        trusted |= tag == 0x30 && namesServers;
      }
      at = element[1];
    }
    return !listsTrust || trusted;
  }

  /** Whether a run of OIDs holds serverAuth or anyExtendedKeyUsage. */
  private static boolean namesServers(byte[] der, int from, int to) {
    boolean found = false;
    for (int at = from; at < to; ) {
      int[] oid = header(der, at, to, 0x06);
      byte[] value = Arrays.copyOfRange(der, oid[0], oid[1]);
      found |= Arrays.equals(value, SERVER_AUTH) || Arrays.equals(value, ANY_EXTENDED_KEY_USAGE);
      at = oid[1];
    }
    return found;
  }

  /** The start and end of the value of the element at {@code at}, which must have {@code tag}. */
  private static int[] header(byte[] der, int at, int limit, int tag) {
    if (at + 2 > limit || (der[at] & 0xff) != tag) {
      throw new IllegalArgumentException("not OpenSSL trust settings");
    }
    int length = der[at + 1] & 0xff;
    int start = at + 2;
    if (length == 0x80) {
      // BER's indefinite length, which OpenSSL reads; read as a length of 0, it would hide a
      // reject list, so it is refused: OpenSSL writes DER
      throw new IllegalArgumentException(
          "not OpenSSL trust settings: an indefinite length, which DER forbids");
    }
    if (length > 0x7f) {
      int bytes = length & 0x7f;
      if (bytes > 3 || start + bytes > limit) {
        throw new IllegalArgumentException("not OpenSSL trust settings");
      }
      length = 0;
      for (int i = 0; i < bytes; i++) {
        length = length << 8 | der[start + i] & 0xff;
      }
      start += bytes;
    }
    if (start + length > limit) {
      throw new IllegalArgumentException("not OpenSSL trust settings");
    }
    return new int[] {start, start + length};
  }
}
