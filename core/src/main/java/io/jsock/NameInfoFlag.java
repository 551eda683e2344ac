package io.jsock;

/**
 * Flags for {@link Sockets#getNameInfo}, spelt as Python's {@code socket.NI_*} constants; pass
 * several where Python would combine them with {@code |}.
 *
 * <pre>{@code
 * import static io.jsock.NameInfoFlag.*;
 * NameInfo numeric = Sockets.getNameInfo(address, NI_NUMERICHOST, NI_NUMERICSERV);
 * }</pre>
 */
public enum NameInfoFlag {
  /** Write the host as an address literal instead of looking its name up. */
  NI_NUMERICHOST,
  /** Write the port as a number instead of a service name. */
  NI_NUMERICSERV,
  /**
   * Fail if the address has no name (or with {@link #NI_NUMERICHOST}, always), not give the
   * literal.
   */
  NI_NAMEREQD,
  /** Name the port as a UDP service rather than a TCP one (they differ for a few ports). */
  NI_DGRAM
}
