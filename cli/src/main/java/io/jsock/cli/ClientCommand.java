package io.jsock.cli;

import java.io.IOException;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/** {@code jsock client}: the seed's client. */
@Command(
    name = "client",
    header = "The tutorial's client: sends a greeting, prints the reply.",
    mixinStandardHelpOptions = true,
    description = {
      "The tutorial's client: connects to localhost:12345, sends a greeting, prints the reply"
          + " and exits.",
    })
final class ClientCommand implements Callable<Integer> {
  @Spec picocli.CommandLine.Model.CommandSpec spec;

  @Mixin SeedAddress address;

  @Option(
      names = "--message",
      defaultValue = Seed.CLIENT_MESSAGE,
      description = "What to send (default: \"${DEFAULT-VALUE}\").")
  String message;

  @Override
  public Integer call() throws IOException {
    if (address.port == 0) {
      throw new ParameterException(
          spec.commandLine(), "--port: 0 is not a port one can connect to");
    }
    Seed.exchange(address.host, address.port, message, Lines.stdout(spec.commandLine()));
    return ExitCode.OK.code();
  }
}
