package io.jsock;

import java.util.List;
import java.util.Objects;

/**
 * A host's entry as {@link Sockets#getHostByNameEx} and {@link Sockets#getHostByAddr} find it: the
 * {@code (hostname, aliaslist, ipaddrlist)} triple Python's {@code gethostbyname_ex} and {@code
 * gethostbyaddr} return.
 *
 * <pre>{@code
 * HostEntry entry = Sockets.getHostByAddr("127.0.0.1");
 * entry.hostName();    // "localhost"
 * entry.addresses();   // ["127.0.0.1"]
 * }</pre>
 *
 * @param hostName the host's name: the name asked for by {@code getHostByNameEx}, the name found by
 *     {@code getHostByAddr}
 * @param aliases other names of the host; always empty, since the JDK's resolver does not report
 *     aliases or canonical names
 * @param addresses the host's addresses as literals, in the resolver's order
 */
public record HostEntry(String hostName, List<String> aliases, List<String> addresses) {
  /** Checks that no part is null and keeps unmodifiable copies of the lists. */
  public HostEntry {
    Objects.requireNonNull(hostName, "hostName");
    aliases = copyOf(aliases, "aliases");
    addresses = copyOf(addresses, "addresses");
  }

  private static List<String> copyOf(List<String> names, String parameter) {
    Objects.requireNonNull(names, parameter);
    for (String name : names) {
      Objects.requireNonNull(name, parameter + ": null element");
    }
    return List.copyOf(names);
  }
}
