package io.jsock.server;

import java.io.IOException;
import java.net.InetSocketAddress;

/**
 * A child process for {@link SaturatedServerTest}: an echo server, run with one carrier thread.
 * Prints {@code PORT n}, then {@code POLLER jsock-epoll} when jsock's epoll lanes serve the process
 * (the platform thread that wakes idle lanes exists); stops at the end of stdin.
 */
final class SaturatedEchoServer {
  private SaturatedEchoServer() {}

  public static void main(String[] args) throws IOException {
    try (TcpServer server =
        TcpServer.start(ServerConfig.defaults().withAddress("127.0.0.1", 0), ChildEcho::serve)) {
      System.out.println("PORT " + ((InetSocketAddress) server.address()).getPort());
      System.out.println(
          "POLLER "
              + Thread.getAllStackTraces().keySet().stream()
                  .map(Thread::getName)
                  .filter("jsock-epoll"::equals)
                  .findAny()
                  .orElse("other"));
      while (System.in.read() >= 0) {
        // until the test closes stdin
      }
    }
  }
}
