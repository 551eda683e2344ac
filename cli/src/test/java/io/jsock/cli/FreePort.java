package io.jsock.cli;

import io.jsock.Family;
import io.jsock.SocketKind;
import io.jsock.testing.Loopback;
import java.io.IOException;
import java.io.UncheckedIOException;

/**
 * A loopback TCP port with nothing bound to it, for programs that cannot be told to take port 0;
 * below the ephemeral range, so that no connection's source port takes it meanwhile (a connect to a
 * port in that range can even connect to itself).
 */
final class FreePort {
  private FreePort() {}

  static int find() {
    try {
      return Loopback.unusedPort(Family.AF_INET, SocketKind.SOCK_STREAM);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
