package io.jsock.internal;

import java.nio.charset.StandardCharsets;
import java.security.cert.CertificateParsingException;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Set;

/**
 * The DNS names and IP addresses of a certificate's subjectAltName extension, read from its DER as
 * OpenSSL reads them: an IP address as the bytes the certificate holds, 4 or 16 of them.
 *
 * <p>The JDK cannot be asked: its {@code getSubjectAlternativeNames} spells a 16-byte IPv4-mapped
 * entry ({@code ::ffff:127.0.0.1}) as {@code 127.0.0.1}, and its host name check reads an
 * IPv4-mapped host name as the IPv4 address, where OpenSSL, and so Python, compares 16 bytes with 4
 * and refuses.
 */
final class SubjectAltNames {
  private static final String OID = "2.5.29.17";
  private static final int OCTET_STRING = 0x04;
  private static final int SEQUENCE = 0x30;
  private static final int DNS_NAME = 0x82; // [2] IMPLICIT IA5String, primitive
  private static final int IP_ADDRESS = 0x87; // [7] IMPLICIT OCTET STRING, primitive

  /**
   * The tags a GeneralName may carry in DER: [0] otherName, [3] x400Address, [4] directoryName and
   * [5] ediPartyName constructed, the others primitive. Any other tag makes the extension
   * malformed, as OpenSSL's decoder finds it, never an entry to skip.
   */
  private static final Set<Integer> GENERAL_NAME_TAGS =
      Set.of(0xA0, 0x81, DNS_NAME, 0xA3, 0xA4, 0xA5, 0x86, IP_ADDRESS, 0x88);

  /** One entry: a DNS name or an IP address, in the certificate's order. */
  sealed interface Entry {}

  /** A dNSName entry, as written in the certificate. */
  record DnsName(String name) implements Entry {}

  /** An iPAddress entry: the certificate's bytes, 4 or 16 for an address. */
  record IpAddress(byte[] raw) implements Entry {
    IpAddress {
      raw = raw.clone();
    }

    /** Whether this entry holds exactly these address bytes, length and all. */
    boolean matches(byte[] address) {
      return Arrays.equals(raw, address);
    }

    /** The address as Python writes it ({@code inet_ntop}), or its bytes in hex if no address. */
    String text() {
      return switch (raw.length) {
        case 4 -> Literals.ipv4Text(raw);
        case 16 -> Literals.ipv6Text(raw);
        default -> HexFormat.of().formatHex(raw);
      };
    }
  }

  private SubjectAltNames() {}

  /**
   * The DNS names and IP addresses of the certificate, none when it has no subjectAltName.
   *
   * @throws CertificateParsingException if the extension is no well-formed DER GeneralNames
   */
  static List<Entry> of(X509Certificate certificate) throws CertificateParsingException {
    byte[] extension = certificate.getExtensionValue(OID);
    if (extension == null) {
      return List.of();
    }
    // The JDK's reading too, which throws for an extension it could not decode (a GeneralName it
    // does not know, an IP entry of another length than 4, 8, 16 or 32 bytes, a DNS name it
    // refuses): such a certificate was refused for an address before jsock read the bytes itself,
    // and OpenSSL refuses one it cannot decode ("invalid certificate").
    certificate.getSubjectAlternativeNames();
    return parse(extension);
  }

  /**
   * The entries of an extension value as {@link X509Certificate#getExtensionValue} gives it: an
   * OCTET STRING holding the GeneralNames SEQUENCE, each element one tag byte, a length and its
   * contents; every length must fit in what holds it, and nothing may follow.
   */
  static List<Entry> parse(byte[] extension) throws CertificateParsingException {
    Reader outer = new Reader(extension, 0, extension.length);
    Reader octets = outer.next(OCTET_STRING);
    outer.end();
    Reader names = octets.next(SEQUENCE);
    octets.end();
    List<Entry> entries = new ArrayList<>();
    while (!names.isAtEnd()) {
      int tag = names.peekTag();
      if (!GENERAL_NAME_TAGS.contains(tag)) {
        throw Reader.malformed("no GeneralName has tag 0x" + Integer.toHexString(tag));
      }
      Reader value = names.next(tag);
      if (tag == DNS_NAME) {
        entries.add(new DnsName(new String(value.rest(), StandardCharsets.ISO_8859_1)));
      } else if (tag == IP_ADDRESS) {
        entries.add(new IpAddress(value.rest()));
      }
    }
    return entries;
  }

  /** A bounded view of DER bytes, from {@code position} up to {@code limit}. */
  private static final class Reader {
    private final byte[] der;
    private int position;
    private final int limit;

    Reader(byte[] der, int position, int limit) {
      this.der = der;
      this.position = position;
      this.limit = limit;
    }

    boolean isAtEnd() {
      return position == limit;
    }

    int peekTag() throws CertificateParsingException {
      if (position >= limit) {
        throw malformed("a tag past the end");
      }
      int tag = der[position] & 0xFF;
      if ((tag & 0x1F) == 0x1F) {
        throw malformed("a tag number in more than one byte"); // no GeneralName has one
      }
      return tag;
    }

    /** The contents of the next element, which must carry {@code tag}; moves past it. */
    Reader next(int tag) throws CertificateParsingException {
      if (peekTag() != tag) {
        throw malformed(
            "tag 0x" + Integer.toHexString(peekTag()) + " where 0x" + Integer.toHexString(tag));
      }
      position++;
      int length = length();
      if (length > limit - position) {
        throw malformed("a length of " + length + " past the end");
      }
      Reader contents = new Reader(der, position, position + length);
      position += length;
      return contents;
    }

    /** A definite length, short form or long form in at most four bytes. */
    private int length() throws CertificateParsingException {
      if (position >= limit) {
        throw malformed("a length past the end");
      }
      int first = der[position++] & 0xFF;
      if (first < 0x80) {
        return first;
      }
      int count = first & 0x7F;
      if (count == 0 || count > 4 || count > limit - position) {
        throw malformed("a length of " + count + " length bytes"); // 0x80: indefinite, not DER
      }
      long length = 0;
      for (int i = 0; i < count; i++) {
        length = (length << 8) | (der[position++] & 0xFF);
      }
      if (length > Integer.MAX_VALUE) {
        throw malformed("a length of " + length);
      }
      return (int) length;
    }

    byte[] rest() {
      byte[] bytes = Arrays.copyOfRange(der, position, limit);
      position = limit;
      return bytes;
    }

    void end() throws CertificateParsingException {
      if (!isAtEnd()) {
        throw malformed((limit - position) + " bytes after the end");
      }
    }

    private static CertificateParsingException malformed(String what) {
      return new CertificateParsingException("malformed subjectAltName: " + what);
    }
  }
}
