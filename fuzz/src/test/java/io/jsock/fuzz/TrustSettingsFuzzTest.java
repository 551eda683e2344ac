package io.jsock.fuzz;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import io.jsock.fuzz.TrustSettingsReference.Answer;
import io.jsock.internal.OpensslTrustSettings;
import java.io.ByteArrayOutputStream;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HexFormat;
import java.util.List;

/**
 * OpenSSL's trust settings after the certificate in a {@code TRUSTED CERTIFICATE} block ({@link
 * OpensslTrustSettings}), against {@link TrustSettingsReference}: whatever bytes follow a
 * certificate, jsock gives OpenSSL's answer for a TLS client, or refuses them with an {@link
 * IllegalArgumentException}; never another answer, nor another exception.
 *
 * <p>Settings are built from the fuzzer's input: as OpenSSL writes them, fields there or not and
 * maybe out of order, lists of the OIDs that matter, each length written short, long with leading
 * zeros, indefinite or off by a few bytes; or as pieces: bytes as given, or an element (a tag that
 * the structure uses or any other) holding pieces, the OIDs, or an end of contents; or as bytes.
 */
final class TrustSettingsFuzzTest {
  private static final int[] TAGS = {0x30, 0xa0, 0x0c, 0x04, 0xa1, 0x06, 0x10, 0x80, 0x26, 0x00};
  private static final byte[][] OIDS = {
    HexFormat.of().parseHex("06082b06010505070301"), // serverAuth
    HexFormat.of().parseHex("0604551d2500"), // anyExtendedKeyUsage
    HexFormat.of().parseHex("06082b06010505070302"), // clientAuth
  };

  @FuzzTest(maxDuration = "2m")
  void decidesAsOpensslDoes(FuzzedDataProvider data) {
    byte[] settings =
        switch (data.consumeInt(0, 2)) {
          case 0 -> aux(data);
          case 1 -> pieces(data, 0);
          default -> data.consumeRemainingAsBytes();
        };
    Answer expected = TrustSettingsReference.answer(settings);
    String what = HexFormat.of().formatHex(settings) + ", which OpenSSL finds " + expected;
    boolean trusts;
    try {
      trusts = OpensslTrustSettings.trustsServers(settings);
    } catch (IllegalArgumentException refused) {
      assertThat(refused).as(what).hasMessageStartingWith("not OpenSSL trust settings");
      return;
    }
    switch (expected) {
      case TRUSTED -> assertThat(trusts).as(what).isTrue();
      case NOT_TRUSTED -> assertThat(trusts).as(what).isFalse();
      case REFUSED, UNDECIDED -> {} // jsock reads leniently what OpenSSL refuses
    }
  }

  /**
   * An {@code X509_CERT_AUX} as OpenSSL writes one, its fields each there or not, in order or with
   * two of them swapped, lists of the OIDs that matter, lengths written in any form.
   */
  private static byte[] aux(FuzzedDataProvider data) {
    List<byte[]> fields = new ArrayList<>();
    for (int tag : new int[] {0x30, 0xa0}) {
      if (data.consumeBoolean()) {
        ByteArrayOutputStream oids = new ByteArrayOutputStream();
        for (int i = data.consumeInt(0, 3); i > 0; i--) {
          oids.writeBytes(data.pickValue(OIDS));
        }
        fields.add(element(tag, oids.toByteArray(), data));
      }
    }
    for (int tag : new int[] {0x0c, 0x04, 0xa1}) {
      if (data.consumeBoolean()) {
        fields.add(element(tag, data.consumeBytes(data.consumeInt(0, 3)), data));
      }
    }
    if (fields.size() > 1 && data.consumeBoolean()) {
      Collections.swap(fields, 0, data.consumeInt(1, fields.size() - 1));
    }
    ByteArrayOutputStream content = new ByteArrayOutputStream();
    fields.forEach(content::writeBytes);
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    out.writeBytes(element(0x30, content.toByteArray(), data));
    out.writeBytes(data.consumeRemainingAsBytes()); // after the settings, OpenSSL reads nothing
    return out.toByteArray();
  }

  /** An element: its tag, its length in one of the forms, its content, maybe an end of contents. */
  private static byte[] element(int tag, byte[] content, FuzzedDataProvider data) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    out.write(tag);
    boolean indefinite = writeLength(out, content.length, data);
    out.writeBytes(content);
    if (indefinite != data.consumeProbabilityFloat() < 0.1f) {
      out.writeBytes(new byte[] {0, 0}); // the end of an indefinite length
    }
    return out.toByteArray();
  }

  private static byte[] pieces(FuzzedDataProvider data, int depth) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    int count = depth == 0 ? Integer.MAX_VALUE : data.consumeInt(0, 4);
    for (int i = 0; i < count && data.remainingBytes() > 0 && out.size() < 4096; i++) {
      switch (data.consumeInt(0, 3)) {
        case 0 -> out.writeBytes(data.consumeBytes(data.consumeInt(1, 8)));
        case 1 -> out.writeBytes(data.pickValue(OIDS));
        case 2 -> out.writeBytes(new byte[] {0, 0});
        default -> {
          int tag = data.consumeBoolean() ? data.pickValue(TAGS) : data.consumeByte() & 0xff;
          byte[] content = depth < 4 ? pieces(data, depth + 1) : data.consumeBytes(8);
          out.writeBytes(element(tag, content, data));
        }
      }
    }
    return out.toByteArray();
  }

  /**
   * The length short or long (with up to 4 leading zero octets), indefinite, or off by a few;
   * whether it is indefinite.
   */
  private static boolean writeLength(
      ByteArrayOutputStream out, int length, FuzzedDataProvider data) {
    switch (data.consumeInt(0, 3)) {
      case 0 -> {
        out.write(0x80);
        return true;
      }
      case 1 -> {
        int zeros = data.consumeInt(0, 4);
        int octets = length > 0xffff ? 3 : length > 0xff ? 2 : 1;
        out.write(0x80 | (zeros + octets));
        for (int i = 0; i < zeros; i++) {
          out.write(0);
        }
        for (int i = octets - 1; i >= 0; i--) {
          out.write(length >>> (8 * i));
        }
      }
      case 2 -> {
        return writeLength(out, Math.max(0, length + data.consumeInt(-3, 3)), data);
      }
      default -> {
        if (length < 0x80) {
          out.write(length);
        } else {
          out.write(length > 0xff ? 0x82 : 0x81);
          if (length > 0xff) {
            out.write(length >>> 8);
          }
          out.write(length);
        }
      }
    }
    return false;
  }
}
