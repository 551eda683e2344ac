package io.jsock.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import java.math.BigInteger;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import picocli.CommandLine.TypeConversionException;

/**
 * {@code --allow} and {@code --deny} ({@link AccessList}): networks written as the JDK writes
 * addresses (maybe bracketed, maybe IPv4-mapped) with any prefix text, and any peer; the lists
 * serve a peer exactly when the bits say so (a reference on {@link BigInteger}s: a peer is in a
 * network when its address shifted right by the bits after the prefix is the network's, IPv4-mapped
 * peers and networks of 96 bits or more taken as IPv4), and refuse only with a {@link
 * TypeConversionException}.
 */
final class AccessListFuzzTest {
  /** A network as the reference sees it: its bytes and prefix, IPv4-mapped ones unmapped. */
  private record Network(byte[] bytes, int prefix) {}

  private static final String[] PREFIXES = {
    "",
    "/0",
    "/1",
    "/7",
    "/8",
    "/24",
    "/31",
    "/32",
    "/33",
    "/64",
    "/95",
    "/96",
    "/97",
    "/104",
    "/127",
    "/128",
    "/129",
    "/-1",
    "/+8",
    "/08",
    "/",
    "/ 8",
    "/\u0668",
    "/0000000008",
    "/4294967304"
  };

  @FuzzTest(maxDuration = "2m")
  void servesAsTheBitsSay(FuzzedDataProvider data) throws UnknownHostException {
    AccessList lists = new AccessList();
    List<Network> allow = new ArrayList<>();
    List<Network> deny = new ArrayList<>();
    byte[] peer = address(data, null);
    int count = data.consumeInt(0, 4);
    for (int i = 0; i < count; i++) {
      boolean denied = data.consumeBoolean();
      byte[] bytes = address(data, data.consumeBoolean() ? peer : null);
      String literal = literal(bytes, data.consumeBoolean());
      String prefixText =
          data.consumeBoolean() ? data.pickValue(PREFIXES) : "/" + data.consumeInt(0, 128);
      String text = (data.consumeBoolean() ? " " : "") + literal + prefixText;
      Network expected = network(bytes, prefixText);
      AccessList.Cidr cidr;
      try {
        cidr = AccessList.Cidr.parse(text);
      } catch (TypeConversionException refused) {
        assertThat(expected).as("refused '%s' (%s)", text, refused.getMessage()).isNull();
        continue;
      }
      assertThat(expected).as("read '%s'", text).isNotNull();
      (denied ? lists.deny : lists.allow).add(cidr);
      (denied ? deny : allow).add(expected);
    }
    byte[] unmapped = unmapped(peer);
    boolean serves =
        deny.stream().noneMatch(n -> contains(n, unmapped))
            && (allow.isEmpty() || allow.stream().anyMatch(n -> contains(n, unmapped)));
    // Inet6Address.getByAddress keeps an IPv4-mapped address IPv6, as a dual-stack accept gives it
    InetAddress address =
        peer.length == 16
            ? Inet6Address.getByAddress(null, peer, -1)
            : InetAddress.getByAddress(peer);
    InetSocketAddress from = new InetSocketAddress(address, 40000);
    assertThat(lists.permits(from))
        .as(
            "peer %s, allow %s, deny %s",
            from.getAddress().getHostAddress(), lists.allow, lists.deny)
        .isEqualTo(serves);
  }

  private static final String[] TEXT_PIECES = {
    "0", "1", "00", "01", "10", "255", "256", "ffff", "FFFF", "12345", "0x1", ".", ":", "::",
    "::ffff:", "1.2.3.4", "[", "]", "/", "/8", "/96", "/128", "%", "%1", "lo", " ", "\t", "-", "+",
    "\u0660"
  };

  /**
   * Whatever text {@code --allow} is given, {@link AccessList.Cidr#parse} reads a network or
   * refuses the text with a {@link TypeConversionException} quoting it. Every address it reads is
   * the JDK's ({@link InetAddress#ofLiteral}, which never looks a name up) for the same literal,
   * and a strict one the JDK reads (a dotted quad without leading zeros, IPv6 in groups of up to
   * four hex digits) it reads too: the JDK takes more ({@code 1.2}, {@code 01.2.3.4}, a scope,
   * {@code ::000101}), inet_pton's grammar less. Like jsock, the reference takes brackets around
   * either family's literal.
   */
  @FuzzTest(maxDuration = "2m")
  void readsNetworkTextAsTheJdkReadsLiterals(FuzzedDataProvider data) {
    StringBuilder built = new StringBuilder();
    int pieces = data.consumeInt(0, 8);
    for (int i = 0; i < pieces; i++) {
      built.append(
          data.consumeBoolean()
              ? data.pickValue(TEXT_PIECES)
              : data.consumeString(data.consumeInt(0, 4)));
    }
    String text = built.toString();
    String spec = text.strip();
    int slash = spec.indexOf('/');
    String literal = slash < 0 ? spec : spec.substring(0, slash);
    if (literal.length() >= 2 && literal.startsWith("[") && literal.endsWith("]")) {
      literal = literal.substring(1, literal.length() - 1);
    }
    byte[] jdk = jdkLiteral(literal);
    Network expected = jdk == null ? null : network(jdk, slash < 0 ? "" : spec.substring(slash));
    AccessList.Cidr cidr;
    try {
      cidr = AccessList.Cidr.parse(text);
    } catch (TypeConversionException refused) {
      assertThat(refused).as("refused '%s'", text).hasMessageContaining("'" + text + "'");
      boolean strict =
          literal.matches("(0|[1-9][0-9]{0,2})(\\.(0|[1-9][0-9]{0,2})){3}")
              || literal.matches("[0-9a-fA-F:]*:[0-9a-fA-F:]*")
                  && !literal.matches(".*[0-9a-fA-F]{5}.*"); // the JDK takes ::000101
      assertThat(strict && expected != null)
          .as("refused '%s' (%s), which the JDK reads", text, refused.getMessage())
          .isFalse();
      return;
    }
    assertThat(expected).as("read '%s', which the JDK does not", text).isNotNull();
    assertThat(new Network(cidr.network(), cidr.prefixLength()))
        .as("'%s'", text)
        .usingRecursiveComparison()
        .isEqualTo(expected);
  }

  /** The JDK's bytes of an IP literal, 16 for any IPv6 form (mapped too); null if it is none. */
  private static byte[] jdkLiteral(String literal) {
    InetAddress address;
    try {
      address = InetAddress.ofLiteral(literal);
    } catch (IllegalArgumentException notALiteral) {
      return null;
    }
    byte[] bytes = address.getAddress();
    if (bytes.length == 4 && literal.contains(":")) { // ::ffff:1.2.3.4, which the JDK unmaps
      byte[] mapped = new byte[16];
      mapped[10] = (byte) 0xff;
      mapped[11] = (byte) 0xff;
      System.arraycopy(bytes, 0, mapped, 12, 4);
      return mapped;
    }
    return bytes;
  }

  /** The address as the JDK writes it, or an IPv4-mapped one as {@code ::ffff:10.0.0.1}. */
  private static String literal(byte[] bytes, boolean bare) throws UnknownHostException {
    String text;
    if (bytes.length == 16 && isMapped(bytes)) {
      text =
          "::ffff:" + InetAddress.getByAddress(Arrays.copyOfRange(bytes, 12, 16)).getHostAddress();
    } else {
      text = InetAddress.getByAddress(bytes).getHostAddress();
    }
    return bytes.length == 16 && !bare ? "[" + text + "]" : text;
  }

  /**
   * 4 or 16 bytes: random, sharing a random number of leading bits with {@code near}, or mapped.
   */
  private static byte[] address(FuzzedDataProvider data, byte[] near) {
    byte[] bytes;
    if (near != null) {
      bytes = near.clone();
      int keep = data.consumeInt(0, bytes.length * 8);
      for (int bit = keep; bit < bytes.length * 8; bit++) {
        if (data.consumeBoolean()) {
          bytes[bit / 8] ^= (byte) (0x80 >> (bit % 8));
        }
      }
      return bytes;
    }
    switch (data.consumeInt(0, 2)) {
      case 0 -> bytes = data.consumeBytes(4);
      case 1 -> bytes = data.consumeBytes(16);
      default -> {
        bytes = new byte[16];
        bytes[10] = (byte) 0xff;
        bytes[11] = (byte) 0xff;
        System.arraycopy(Arrays.copyOf(data.consumeBytes(4), 4), 0, bytes, 12, 4);
      }
    }
    return bytes.length <= 4 ? Arrays.copyOf(bytes, 4) : Arrays.copyOf(bytes, 16);
  }

  /** The network the text names, or null if the prefix is not one of the family. */
  private static Network network(byte[] bytes, String prefixText) {
    int bits = bytes.length * 8;
    int prefix = bits;
    if (!prefixText.isEmpty()) {
      String digits = prefixText.substring(1);
      if (!digits.matches("[0-9]+")
          || new BigInteger(digits).compareTo(BigInteger.valueOf(bits)) > 0) {
        return null;
      }
      prefix = Integer.parseInt(digits);
    }
    if (bytes.length == 16 && isMapped(bytes) && prefix >= 96) {
      return new Network(Arrays.copyOfRange(bytes, 12, 16), prefix - 96);
    }
    return new Network(bytes, prefix);
  }

  private static boolean contains(Network network, byte[] peer) {
    if (network.bytes().length != peer.length) {
      return false;
    }
    int after = peer.length * 8 - network.prefix();
    return new BigInteger(1, peer)
        .shiftRight(after)
        .equals(new BigInteger(1, network.bytes()).shiftRight(after));
  }

  private static byte[] unmapped(byte[] peer) {
    return peer.length == 16 && isMapped(peer) ? Arrays.copyOfRange(peer, 12, 16) : peer;
  }

  private static boolean isMapped(byte[] bytes) {
    return HexFormat.of().formatHex(bytes, 0, 12).equals("00000000000000000000ffff");
  }
}
