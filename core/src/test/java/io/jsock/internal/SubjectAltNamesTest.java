package io.jsock.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.security.cert.CertificateParsingException;
import java.util.HexFormat;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The subjectAltName extension read from its DER: entries in order, addresses as their bytes, and
 * anything malformed refused rather than half read. Bytes are written in hex.
 */
class SubjectAltNamesTest {
  private static final HexFormat HEX = HexFormat.of();

  /** dNSName a.test, iPAddress 127.0.0.1, iPAddress ::ffff:127.0.0.1, a URI "x". */
  private static final String NAMES =
      "8206612e74657374" + "87047f000001" + "871000000000000000000000ffff7f000001" + "860178";

  @Test
  void readsDnsNamesAndAddressesInOrderSkippingOtherKinds() throws Exception {
    List<SubjectAltNames.Entry> entries = SubjectAltNames.parse(HEX.parseHex("04253023" + NAMES));
    assertThat(entries).hasSize(3);
    assertThat(entries.get(0)).isEqualTo(new SubjectAltNames.DnsName("a.test"));
    assertThat(((SubjectAltNames.IpAddress) entries.get(1)).text()).isEqualTo("127.0.0.1");
    assertThat(((SubjectAltNames.IpAddress) entries.get(2)).text()).isEqualTo("::ffff:127.0.0.1");
  }

  @Test
  void anAddressMatchesOnlyTheSameBytesOfTheSameLength() throws Exception {
    List<SubjectAltNames.Entry> entries = SubjectAltNames.parse(HEX.parseHex("04253023" + NAMES));
    var v4 = (SubjectAltNames.IpAddress) entries.get(1);
    var mapped = (SubjectAltNames.IpAddress) entries.get(2);
    byte[] v4Bytes = HEX.parseHex("7f000001");
    byte[] mappedBytes = HEX.parseHex("00000000000000000000ffff7f000001");
    assertThat(v4.matches(v4Bytes)).isTrue();
    assertThat(v4.matches(mappedBytes)).isFalse();
    assertThat(mapped.matches(mappedBytes)).isTrue();
    assertThat(mapped.matches(v4Bytes)).isFalse();
  }

  @Test
  void readsLongFormLengths() throws Exception {
    assertThat(SubjectAltNames.parse(HEX.parseHex("048126308123" + NAMES))).hasSize(3);
  }

  @Test
  void anExtensionWithoutNamesHasNone() throws Exception {
    assertThat(SubjectAltNames.parse(HEX.parseHex("04023000"))).isEmpty();
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "", // nothing
        "04", // no length
        "0425302382", // lengths past the end
        "0406300487057f00", // an entry longer than the sequence
        "0480300000000000", // indefinite length: not DER
        "0485000000000430023000", // five length bytes
        "0481", // long form without its length byte
        "0402300000", // bytes after the OCTET STRING
        "0403300000", // bytes after the SEQUENCE
        "04023100", // a SET, not a SEQUENCE
        "040430029f00", // a tag number in more than one byte
        "040430028000", // a primitive [0]: otherName is a SEQUENCE
        "040430028900", // [9]: no GeneralName has it
        "0401", // an OCTET STRING cut short
      })
  void refusesMalformedDer(String hex) {
    assertThatThrownBy(() -> SubjectAltNames.parse(HEX.parseHex(hex)))
        .isInstanceOf(CertificateParsingException.class)
        .hasMessageStartingWith("malformed subjectAltName: ");
  }
}
