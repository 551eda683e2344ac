package io.jsock.fuzz;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * What OpenSSL makes of the bytes after the certificate in a {@code TRUSTED CERTIFICATE} block, for
 * a TLS client, written from its documented structure and reading rules alone, as plainly as
 * possible: {@code d2i_X509_CERT_AUX} reads them as BER (X.690) into {@code SEQUENCE { trust
 * SEQUENCE OF OID OPTIONAL, reject [0] IMPLICIT SEQUENCE OF OID OPTIONAL, alias UTF8String
 * OPTIONAL, keyid OCTET STRING OPTIONAL, other [1] IMPLICIT SEQUENCE OF AlgorithmIdentifier
 * OPTIONAL }}, fields in that order and nothing else, and {@code X509_check_trust} for {@code
 * X509_TRUST_SSL_SERVER} then rejects a certificate whose reject list names serverAuth or
 * anyExtendedKeyUsage, and trusts one with a trust list only if it names one of them.
 */
final class TrustSettingsReference {
  /** OpenSSL's answer. */
  enum Answer {
    /** May vouch for TLS servers (as a certificate without settings). */
    TRUSTED,
    /** Rejected for servers, or trusted for other uses only. */
    NOT_TRUSTED,
    /** Not readable: OpenSSL drops the certificate and fails to load the file. */
    REFUSED,
    /** What this reference does not decide: BER's constructed strings, AlgorithmIdentifiers. */
    UNDECIDED
  }

  private static final byte[] SERVER_AUTH = {0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x03, 0x01};
  private static final byte[] ANY_EXTENDED_KEY_USAGE = {0x55, 0x1d, 0x25, 0x00};

  private static final int UNIVERSAL = 0x00;
  private static final int CONTEXT = 0x80;

  private TrustSettingsReference() {}

  static Answer answer(byte[] settings) {
    if (settings.length == 0) {
      return Answer.TRUSTED;
    }
    List<byte[]> trust;
    List<byte[]> reject;
    try {
      Reader reader = new Reader(settings);
      reader.readAux();
      trust = reader.trust;
      reject = reader.reject;
    } catch (Refused e) {
      return Answer.REFUSED;
    } catch (Undecided e) {
      return Answer.UNDECIDED;
    }
    if (reject != null && reject.stream().anyMatch(TrustSettingsReference::namesServers)) {
      return Answer.NOT_TRUSTED;
    }
    if (trust != null) {
      return trust.stream().anyMatch(TrustSettingsReference::namesServers)
          ? Answer.TRUSTED
          : Answer.NOT_TRUSTED;
    }
    return Answer.TRUSTED;
  }

  private static boolean namesServers(byte[] oid) {
    return Arrays.equals(oid, SERVER_AUTH) || Arrays.equals(oid, ANY_EXTENDED_KEY_USAGE);
  }

  private static final class Refused extends Exception {
    Refused() {
      super(null, null, false, false);
    }
  }

  private static final class Undecided extends Exception {
    Undecided() {
      super(null, null, false, false);
    }
  }

  /** An element's identifier and length octets ({@code ASN1_get_object}). */
  private record Header(
      int tagClass, boolean constructed, long tag, boolean indefinite, int start, long length) {
    boolean is(int tagClass, long tag) {
      return this.tagClass == tagClass && this.tag == tag;
    }
  }

  private static final class Reader {
    private final byte[] b;
    List<byte[]> trust;
    List<byte[]> reject;

    Reader(byte[] b) {
      this.b = b;
    }

    void readAux() throws Refused, Undecided {
      Header outer = header(0, b.length);
      if (!outer.is(UNIVERSAL, 16) || !outer.constructed()) {
        throw new Refused();
      }
      int end = outer.indefinite() ? b.length : (int) (outer.start() + outer.length());
      boolean expectEoc = outer.indefinite();
      int at = outer.start();
      for (int field = 0; field < 5; field++) {
        if (at == end) {
          break;
        }
        if (isEoc(at, end)) {
          if (!expectEoc) {
            throw new Refused();
          }
          at += 2;
          expectEoc = false;
          break;
        }
        // the last field is not optional while data is left
        boolean optional = field < 4;
        int next =
            switch (field) {
              case 0 -> oids(at, end, UNIVERSAL, 16, optional, list -> trust = list);
              case 1 -> oids(at, end, CONTEXT, 0, optional, list -> reject = list);
              case 2 -> string(at, end, 12, optional);
              case 3 -> string(at, end, 4, optional);
              default -> other(at, end, optional);
            };
        if (next >= 0) {
          at = next;
        }
      }
      if (expectEoc) {
        if (!isEoc(at, end)) {
          throw new Refused();
        }
        at += 2;
      }
      if (!outer.indefinite() && at != end) {
        throw new Refused();
      }
    }

    interface Sink {
      void take(List<byte[]> oids);
    }

    /** A SEQUENCE OF OID with this tag: where it ends, or -1 if absent. */
    private int oids(int at, int end, int tagClass, long tag, boolean optional, Sink sink)
        throws Refused {
      Header h = header(at, end);
      if (!h.is(tagClass, tag)) {
        if (optional) {
          return -1;
        }
        throw new Refused();
      }
      if (!h.constructed()) {
        throw new Refused();
      }
      int contentEnd = h.indefinite() ? end : (int) (h.start() + h.length());
      boolean expectEoc = h.indefinite();
      List<byte[]> list = new ArrayList<>();
      int q = h.start();
      while (q < contentEnd) {
        if (isEoc(q, contentEnd)) {
          if (!expectEoc) {
            throw new Refused();
          }
          q += 2;
          expectEoc = false;
          break;
        }
        Header oid = header(q, contentEnd);
        if (!oid.is(UNIVERSAL, 6) || oid.constructed()) {
          throw new Refused();
        }
        byte[] value = Arrays.copyOfRange(b, oid.start(), (int) (oid.start() + oid.length()));
        checkOid(value);
        list.add(value);
        q = (int) (oid.start() + oid.length());
      }
      if (expectEoc) {
        throw new Refused();
      }
      sink.take(list);
      return q;
    }

    /** {@code c2i_ASN1_OBJECT}'s checks. */
    private static void checkOid(byte[] value) throws Refused {
      if (value.length == 0 || (value[value.length - 1] & 0x80) != 0) {
        throw new Refused();
      }
      for (int i = 0; i < value.length; i++) {
        if ((value[i] & 0xff) == 0x80 && (i == 0 || (value[i - 1] & 0x80) == 0)) {
          throw new Refused();
        }
      }
    }

    /** A universal string type, primitive: where it ends, or -1 if absent. */
    private int string(int at, int end, long tag, boolean optional) throws Refused, Undecided {
      Header h = header(at, end);
      if (!h.is(UNIVERSAL, tag)) {
        if (optional) {
          return -1;
        }
        throw new Refused();
      }
      if (h.constructed()) {
        throw new Undecided(); // BER's constructed strings: OpenSSL collects their parts
      }
      return (int) (h.start() + h.length());
    }

    /** {@code other}: only an empty one is decided here. */
    private int other(int at, int end, boolean optional) throws Refused, Undecided {
      Header h = header(at, end);
      if (!h.is(CONTEXT, 1)) {
        if (optional) {
          return -1;
        }
        throw new Refused();
      }
      if (!h.constructed()) {
        throw new Refused();
      }
      if (h.indefinite() || h.length() != 0) {
        throw new Undecided();
      }
      return h.start();
    }

    private boolean isEoc(int at, int end) {
      return end - at >= 2 && b[at] == 0 && b[at + 1] == 0;
    }

    /**
     * The header at {@code at}, reading no further than {@code end}, as {@code ASN1_get_object}
     * reads it: refused if it does not fit, or announces more content than there is.
     */
    private Header header(int at, int end) throws Refused {
      long max = end - at;
      if (max <= 0) {
        throw new Refused();
      }
      int first = b[at] & 0xff;
      int p = at;
      long tag;
      if ((first & 0x1f) == 0x1f) {
        p++;
        if (--max == 0) {
          throw new Refused();
        }
        tag = 0;
        while ((b[p] & 0x80) != 0) {
          tag = tag << 7 | b[p++] & 0x7f;
          if (--max == 0 || tag > (Integer.MAX_VALUE >> 7)) {
            throw new Refused();
          }
        }
        tag = tag << 7 | b[p++] & 0x7f;
        if (--max == 0) {
          throw new Refused();
        }
      } else {
        tag = first & 0x1f;
        p++;
        if (--max == 0) {
          throw new Refused();
        }
      }
      // asn1_get_length: max is what is left from the first length octet
      max--;
      int lengthOctet = b[p++] & 0xff;
      boolean indefinite = lengthOctet == 0x80;
      long length = 0;
      if (!indefinite && lengthOctet > 0x80) {
        int count = lengthOctet & 0x7f;
        if (max < count + 1) {
          throw new Refused(); // OpenSSL wants a byte after them, even for an empty content
        }
        while (count > 0 && b[p] == 0) {
          p++;
          count--;
        }
        if (count > 8 || (count == 8 && (b[p] & 0x80) != 0)) {
          throw new Refused();
        }
        for (; count > 0; count--) {
          length = length << 8 | b[p++] & 0xff;
        }
      } else if (!indefinite) {
        length = lengthOctet;
      }
      boolean constructed = (first & 0x20) != 0;
      if (indefinite && !constructed) {
        throw new Refused();
      }
      if (length > end - p) {
        throw new Refused();
      }
      return new Header(first & 0xc0, constructed, tag, indefinite, p, length);
    }
  }
}
