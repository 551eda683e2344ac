package io.jsock.server;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.InetSocketAddress;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * A child process for {@link OutOfDescriptorsTest}: an echo server that takes every file descriptor
 * its limit allows and gives some back when told to, with its classes loaded from a directory as in
 * tests and IDEs. Prints {@code PORT n}, then {@code FULL} once no descriptor is left; a line on
 * stdin frees 20 of them, and the end of stdin stops it.
 */
final class OutOfDescriptorsEchoServer {
  private OutOfDescriptorsEchoServer() {}

  public static void main(String[] args) throws IOException {
    TcpServer server =
        TcpServer.start(ServerConfig.defaults().withAddress("127.0.0.1", 0), ChildEcho::serve);
    System.out.println("PORT " + ((InetSocketAddress) server.address()).getPort());
    BufferedReader commands = new BufferedReader(new InputStreamReader(System.in));
    List<FileChannel> taken = new ArrayList<>();
    try {
      while (true) {
        taken.add(FileChannel.open(Path.of("/dev/null")));
      }
    } catch (IOException full) {
      System.out.println("FULL");
    }
    commands.readLine();
    for (int i = 0; i < 20; i++) {
      taken.removeLast().close();
    }
    commands.readLine();
    server.close();
  }
}
