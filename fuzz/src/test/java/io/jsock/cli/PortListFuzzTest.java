package io.jsock.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import io.jsock.AddressResolutionException;
import io.jsock.Sockets;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import picocli.CommandLine.TypeConversionException;

/**
 * The PORTS of {@code connect -z} ({@link PortList}) against a plain expansion of their documented
 * form: every argument a comma list of items, each (white space around it aside) a port from 1 to
 * 65535 in ASCII digits, a range of two such ports in either order, or a service name of jsock's
 * table for the protocol; the ports are those named, each once, in the order first named. Anything
 * else is refused with a {@link TypeConversionException} naming the first argument at fault, never
 * another exception.
 */
final class PortListFuzzTest {
  private static final Pattern RANGE = Pattern.compile("([0-9]+)-([0-9]+)");
  private static final String[] PIECES = {
    "0",
    "1",
    "2",
    "22",
    "80",
    "00",
    "65535",
    "65536",
    "4294967297",
    "-",
    "--",
    ",",
    ",,",
    " ",
    "\t",
    "+",
    "ssh",
    "SSH",
    "http",
    "domain",
    "https",
    "x",
    "\u0660",
    "\u00a0",
    "1-65535"
  };

  @FuzzTest(maxDuration = "2m")
  void expandsAsDocumented(FuzzedDataProvider data) {
    String proto = data.consumeBoolean() ? "tcp" : "udp";
    List<String> arguments = new ArrayList<>();
    int count = data.consumeInt(1, 3);
    for (int a = 0; a < count; a++) {
      StringBuilder argument = new StringBuilder();
      int pieces = data.consumeInt(0, 6);
      for (int i = 0; i < pieces; i++) {
        argument.append(
            data.consumeBoolean()
                ? data.pickValue(PIECES)
                : data.consumeString(data.consumeInt(0, 5)));
      }
      arguments.add(argument.toString());
    }
    Set<Integer> expected = new LinkedHashSet<>();
    for (String argument : arguments) {
      if (!expand(argument, proto, expected)) {
        assertThatThrownBy(() -> PortList.parse(arguments, proto))
            .as("%s %s", proto, arguments)
            .isExactlyInstanceOf(TypeConversionException.class)
            .hasMessageStartingWith("PORTS " + argument + ": ");
        return;
      }
    }
    assertThat(PortList.parse(arguments, proto))
        .as("%s %s", proto, arguments)
        .containsExactlyElementsOf(expected);
  }

  /** Adds the ports {@code argument} names to {@code ports}; false if it is not a port list. */
  private static boolean expand(String argument, String proto, Set<Integer> ports) {
    for (String text : argument.split(",", -1)) {
      String item = text.strip();
      Matcher range = RANGE.matcher(item);
      if (range.matches()) {
        Integer low = port(range.group(1));
        Integer high = port(range.group(2));
        if (low == null || high == null) {
          return false;
        }
        for (int port = Math.min(low, high); port <= Math.max(low, high); port++) {
          ports.add(port);
        }
      } else if (item.matches("[0-9]+")) {
        Integer port = port(item);
        if (port == null) {
          return false;
        }
        ports.add(port);
      } else {
        try {
          ports.add(Sockets.getServByName(item, proto));
        } catch (AddressResolutionException unknown) {
          return false;
        }
      }
    }
    return true;
  }

  /** The port {@code digits} names, or null outside 1..65535. */
  private static Integer port(String digits) {
    BigInteger value = new BigInteger(digits);
    return value.signum() > 0 && value.compareTo(BigInteger.valueOf(65535)) <= 0
        ? value.intValue()
        : null;
  }
}
