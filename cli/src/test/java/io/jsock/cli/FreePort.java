package io.jsock.cli;

import io.jsock.Socket;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;

/** A loopback port that was free a moment ago, for programs that cannot be told to take port 0. */
final class FreePort {
  private FreePort() {}

  static int find() {
    try (Socket probe = Socket.create()) {
      probe.bind("127.0.0.1", 0);
      return ((InetSocketAddress) probe.getSockName()).getPort();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
