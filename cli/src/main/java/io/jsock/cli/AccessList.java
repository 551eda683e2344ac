package io.jsock.cli;

import io.jsock.Family;
import io.jsock.Sockets;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;
import picocli.CommandLine.TypeConversionException;

/**
 * Which peers a listener serves: {@code --deny} wins over {@code --allow}, and when any {@code
 * --allow} is given only those networks are served. IPv4-mapped IPv6 peers ({@code
 * ::ffff:10.0.0.1}) are matched as the IPv4 addresses they are, and so are networks written that
 * way ({@code ::ffff:10.0.0.0/104} is {@code 10.0.0.0/8}). An AF_UNIX listener takes no lists: its
 * peers have no address to match.
 */
final class AccessList {
  /** The prefix of {@code ::ffff:0:0/96}, the IPv4-mapped IPv6 addresses. */
  private static final int MAPPED_PREFIX = 96;

  @Spec(Spec.Target.MIXEE)
  CommandSpec spec;

  @Option(
      names = "--allow",
      paramLabel = "CIDR",
      split = ",",
      converter = Cidr.Converter.class,
      description =
          "Serve only peers in these networks (repeatable, comma-separated): 127.0.0.1,"
              + " 10.0.0.0/8, ::1/128.")
  List<Cidr> allow = new ArrayList<>();

  @Option(
      names = "--deny",
      paramLabel = "CIDR",
      split = ",",
      converter = Cidr.Converter.class,
      description =
          "Refuse peers in these networks (repeatable, comma-separated); wins over --allow.")
  List<Cidr> deny = new ArrayList<>();

  /**
   * Refuses lists for an AF_UNIX listener, which they could not filter: its peers have no address.
   */
  void check(boolean unixListener) {
    if (unixListener && !(allow.isEmpty() && deny.isEmpty())) {
      throw new ParameterException(
          spec.commandLine(),
          "--allow and --deny do not apply to AF_UNIX: its peers have no address (the socket"
              + " file's permissions say who may connect)");
    }
  }

  /** Whether a peer at {@code address} may be served. */
  boolean permits(SocketAddress address) {
    if (!(address instanceof InetSocketAddress inet) || inet.getAddress() == null) {
      return true;
    }
    InetAddress peer = unmapped(inet.getAddress());
    if (deny.stream().anyMatch(cidr -> cidr.contains(peer))) {
      return false;
    }
    return allow.isEmpty() || allow.stream().anyMatch(cidr -> cidr.contains(peer));
  }

  private static InetAddress unmapped(InetAddress address) {
    byte[] bytes = address.getAddress();
    if (address instanceof Inet6Address && isV4Mapped(bytes)) {
      try {
        return InetAddress.getByAddress(Arrays.copyOfRange(bytes, 12, 16));
      } catch (UnknownHostException e) {
        throw new AssertionError(e); // four bytes are always an address
      }
    }
    return address;
  }

  private static boolean isV4Mapped(byte[] bytes) {
    if (bytes.length != 16) {
      return false;
    }
    for (int i = 0; i < 10; i++) {
      if (bytes[i] != 0) {
        return false;
      }
    }
    return bytes[10] == (byte) 0xff && bytes[11] == (byte) 0xff;
  }

  /** A network: an address and the number of leading bits that must match. */
  record Cidr(byte[] network, int prefixLength, String text) {
    /** Whether {@code address} is in this network (an address of the other family never is). */
    boolean contains(InetAddress address) {
      byte[] bytes = address.getAddress();
      if (bytes.length != network.length) {
        return false;
      }
      int full = prefixLength / 8;
      for (int i = 0; i < full; i++) {
        if (bytes[i] != network[i]) {
          return false;
        }
      }
      int rest = prefixLength % 8;
      if (rest == 0) {
        return true;
      }
      int mask = 0xff << (8 - rest) & 0xff;
      return (bytes[full] & mask) == (network[full] & mask);
    }

    @Override
    public String toString() {
      return text;
    }

    /** Reads {@code 10.0.0.0/8}, {@code ::1/128} or a lone address (a network of one). */
    static Cidr parse(String text) {
      String spec = text.strip();
      int slash = spec.indexOf('/');
      String literal = slash < 0 ? spec : spec.substring(0, slash);
      if (literal.startsWith("[") && literal.endsWith("]")) {
        literal = literal.substring(1, literal.length() - 1);
      }
      byte[] network = literalBytes(literal, text);
      int bits = network.length * 8;
      int prefix = bits;
      if (slash >= 0) {
        // ASCII digits only, as ncat and Python: parseInt alone takes a sign and any Unicode digit;
        // leading zeros as many as Python takes, nine digits after them so that parseInt cannot
        // overflow
        String digits = spec.substring(slash + 1);
        prefix = digits.matches("0*[0-9]{1,9}") ? Integer.parseInt(digits) : -1;
        if (prefix < 0 || prefix > bits) {
          throw new TypeConversionException(
              "not a network: '" + text + "' (prefix length must be 0.." + bits + ")");
        }
      }
      if (isV4Mapped(network) && prefix >= MAPPED_PREFIX) {
        // peers are unmapped before matching, so a network written mapped must be too
        return new Cidr(Arrays.copyOfRange(network, 12, 16), prefix - MAPPED_PREFIX, spec);
      }
      return new Cidr(network, prefix, spec);
    }

    private static byte[] literalBytes(String literal, String text) {
      try {
        return Sockets.inetPton(literal.contains(":") ? Family.AF_INET6 : Family.AF_INET, literal);
      } catch (IllegalArgumentException e) {
        throw new TypeConversionException(
            "not a network: '" + text + "' (write an IP address or CIDR such as 10.0.0.0/8)");
      }
    }

    /** The picocli converter for {@code --allow} and {@code --deny}. */
    static final class Converter implements picocli.CommandLine.ITypeConverter<Cidr> {
      @Override
      public Cidr convert(String text) {
        return parse(text);
      }
    }
  }
}
