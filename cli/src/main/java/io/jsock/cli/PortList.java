package io.jsock.cli;

import io.jsock.AddressResolutionException;
import io.jsock.Sockets;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;
import java.util.Locale;
import picocli.CommandLine.TypeConversionException;

/**
 * The PORTS of {@code connect -z}, as OpenBSD nc reads them: several arguments, each a port, a
 * range {@code LOW-HIGH} (both included; written high to low it runs low to high, as nc's) or a
 * service name, and, beyond nc, a comma list of those ({@code 22,80,8000-8010}). Ports come in the
 * order given, each once, where first named: a repeat would only check the port again (and, from
 * one {@code -p} source port, find the connection it just closed still in TIME_WAIT), and with
 * repeats kept a few kilobytes of {@code 1-65535,1-65535,…} would fill gigabytes with ports.
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
    Ports ports = new Ports();
    for (String argument : arguments) {
      try {
        for (String item : argument.split(",", -1)) {
          addItem(item.strip(), proto, ports);
        }
      } catch (TypeConversionException e) {
        throw new TypeConversionException("PORTS " + argument + ": " + e.getMessage());
      }
    }
    return ports.inOrder;
  }

  private static void addItem(String item, String proto, Ports ports) {
    if (item.isEmpty()) {
      throw new TypeConversionException("an empty port");
    }
    int dash = item.indexOf('-', 1);
    if (item.chars().allMatch(c -> c == '-' || (c >= '0' && c <= '9')) && dash > 0) {
      int low = port(item.substring(0, dash));
      int high = port(item.substring(dash + 1));
      ports.addRange(Math.min(low, high), Math.max(low, high));
      return;
    }
    if (!item.chars().allMatch(c -> c >= '0' && c <= '9')) {
      int port;
      try {
        port = Sockets.getServByName(item, proto);
      } catch (AddressResolutionException unknown) {
        throw new TypeConversionException(
            "not a port, range or " + proto.toUpperCase(Locale.ROOT) + " service name");
      }
      ports.addRange(port, port);
      return;
    }
    int port = port(item);
    ports.addRange(port, port);
  }

  /** The ports named so far, each once: at most 65,535, however often the arguments repeat them. */
  private static final class Ports {
    final List<Integer> inOrder = new ArrayList<>();
    final BitSet named = new BitSet(65536);

    /**
     * Adds the ports of {@code low..high} not named yet, stepping from one unnamed port to the
     * next: a range named again costs a look at the set's 1,024 words, not a step per port.
     */
    void addRange(int low, int high) {
      for (int port = named.nextClearBit(low); port <= high; port = named.nextClearBit(port + 1)) {
        named.set(port);
        inOrder.add(port);
      }
    }
  }

  private static int port(String text) {
    int port = new Port().convert(text);
    if (port == 0) {
      throw new TypeConversionException("0 is not a port one can connect to");
    }
    return port;
  }
}
