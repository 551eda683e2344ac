package io.jsock.server;

import io.jsock.Socket;
import java.io.IOException;

/**
 * The echo handler of the servers that tests run in child processes (their classes come from a
 * directory, without the test libraries), as a user writes it.
 */
final class ChildEcho {
  private ChildEcho() {}

  static void serve(Socket conn) throws IOException {
    byte[] data;
    while ((data = conn.recv(1024)).length > 0) {
      conn.sendAll(data);
    }
  }
}
