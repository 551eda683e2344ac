package io.jsock;

/** Which direction {@link Socket#shutdown(Shutdown)} closes, as Python's {@code SHUT_*}. */
public enum Shutdown {
  /** No more receiving: further {@code recv} calls return end of stream. */
  SHUT_RD,
  /** No more sending: the peer reads end of stream, and may still reply (a half-close). */
  SHUT_WR,
  /** Both directions. */
  SHUT_RDWR
}
