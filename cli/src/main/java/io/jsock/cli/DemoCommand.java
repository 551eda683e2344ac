package io.jsock.cli;

import io.jsock.Socket;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.FutureTask;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code jsock demo}: the seed's server and client in one process, over real loopback sockets. */
@Command(
    name = "demo",
    header = "The tutorial's exchange: the server and the client in one process.",
    mixinStandardHelpOptions = true,
    description = {
      "Runs the tutorial's exchange: the server and the client in one process, over real"
          + " loopback sockets, each side's lines shown with its name.",
    })
final class DemoCommand implements Callable<Integer> {
  @Spec picocli.CommandLine.Model.CommandSpec spec;

  @Option(
      names = "--host",
      defaultValue = Seed.HOST,
      converter = Host.class,
      description = "Address to run on (default: ${DEFAULT-VALUE}).")
  String host;

  @Option(
      names = "--port",
      defaultValue = "0",
      converter = Port.class,
      description = "Port to run on; 0 picks a free one (default: ${DEFAULT-VALUE}).")
  int port;

  @Override
  public Integer call() throws Exception {
    Lines out = Lines.stdout(spec.commandLine());
    Lines serverOut = out.prefixed("[server] ");
    try (Socket server = Seed.listen(host, port, 1)) {
      serverOut.line(Seed.banner(host, server));
      FutureTask<Void> serving =
          new FutureTask<>(
              () -> {
                Seed.serve(server.accept(), Seed.SERVER_REPLY, serverOut);
                return null;
              });
      Thread.ofVirtual().name("jsock-demo-server").start(serving);
      int bound = ((InetSocketAddress) server.getSockName()).getPort();
      Seed.exchange(host, bound, Seed.CLIENT_MESSAGE, out.prefixed("[client] "));
      try {
        serving.get();
      } catch (ExecutionException e) {
        throw switch (e.getCause()) {
          case IOException io -> io;
          case RuntimeException unchecked -> unchecked; // a line stdout could not take
          default -> e;
        };
      }
    }
    return ExitCode.OK.code();
  }
}
