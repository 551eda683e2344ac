package io.jsock.cli;

import io.jsock.AddressResolutionException;
import io.jsock.Sockets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import picocli.CommandLine.TypeConversionException;

/**
 * The PORTS of {@code connect -z}, as OpenBSD nc reads them: several arguments, each a port, a
 * range {@code LOW-HIGH} (both included; written high to low it runs low to high, as nc's) or a
 * service name, and, beyond nc, a comma list of those ({@code 22,80,8000-8010}). Ports come in the
 * order given, repeats kept.
 */
final class PortList {
  private PortList() {}

  /**
   * The ports {@code arguments} name; a service name is looked up for {@code proto} ({@code tcp} or
   * {@code udp}) in jsock's built-in table.
   *
   * @throws TypeConversionException naming the argument at fault
   */
  static List<Integer> parse(List<String> arguments, String proto) {
    List<Integer> ports = new ArrayList<>();
    for (String argument : arguments) {
      try {
        for (String item : argument.split(",", -1)) {
          addItem(item.strip(), proto, ports);
        }
      } catch (TypeConversionException e) {
        throw new TypeConversionException("PORTS " + argument + ": " + e.getMessage());
      }
    }
    return ports;
  }

  private static void addItem(String item, String proto, List<Integer> ports) {
    if (item.isEmpty()) {
      throw new TypeConversionException("an empty port");
    }
    int dash = item.indexOf('-', 1);
    if (item.chars().allMatch(c -> c == '-' || (c >= '0' && c <= '9')) && dash > 0) {
      int low = port(item.substring(0, dash));
      int high = port(item.substring(dash + 1));
      for (int port = Math.min(low, high); port <= Math.max(low, high); port++) {
        ports.add(port);
      }
      return;
    }
    if (!item.chars().allMatch(c -> c >= '0' && c <= '9')) {
      try {
        ports.add(Sockets.getServByName(item, proto));
        return;
      } catch (AddressResolutionException unknown) {
        throw new TypeConversionException(
            "not a port, range or " + proto.toUpperCase(Locale.ROOT) + " service name");
      }
    }
    ports.add(port(item));
  }

  private static int port(String text) {
    int port = new Port().convert(text);
    if (port == 0) {
      throw new TypeConversionException("0 is not a port one can connect to");
    }
    return port;
  }
}
