package io.jsock.cli;

import io.jsock.Accepted;
import io.jsock.Socket;
import java.io.IOException;
import java.io.PrintWriter;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code jsock server}: the seed's server. */
@Command(
    name = "server",
    header = "The tutorial's server: accepts one client, prints its message, replies.",
    mixinStandardHelpOptions = true,
    description = {
      "The tutorial's server: listens on localhost:12345, accepts one client, prints what it"
          + " received, replies and exits. With --keep-open it serves clients concurrently until"
          + " interrupted.",
    })
final class ServerCommand implements Callable<Integer> {
  @Spec picocli.CommandLine.Model.CommandSpec spec;

  @Mixin SeedAddress address;

  @Option(
      names = "--reply",
      defaultValue = Seed.SERVER_REPLY,
      description = "What to reply (default: \"${DEFAULT-VALUE}\").")
  String reply;

  @Option(
      names = "--keep-open",
      description = "Serve clients concurrently, one virtual thread each, until interrupted.")
  boolean keepOpen;

  @Override
  public Integer call() throws IOException {
    Lines out = Lines.stdout(spec.commandLine());
    try (Socket server = Seed.listen(address.host, address.port, keepOpen ? 128 : 1)) {
      out.line(Seed.banner(address.host, server));
      if (!keepOpen) {
        Seed.serve(server.accept(), reply, out);
        return ExitCode.OK.code();
      }
      PrintWriter err = spec.commandLine().getErr();
      while (true) {
        Accepted accepted = server.accept();
        Thread.ofVirtual()
            .name("jsock-server-" + accepted.address())
            .start(() -> serveLogged(accepted, out, err));
      }
    }
  }

  private void serveLogged(Accepted accepted, Lines out, PrintWriter err) {
    try {
      Seed.serve(accepted, reply, out);
    } catch (IOException e) {
      synchronized (err) {
        err.println("jsock: " + e.getMessage());
        err.flush();
      }
    }
  }
}
