package io.jsock.cli;

import picocli.CommandLine.Option;

/** The {@code --host} and {@code --port} options of the seed's two programs: localhost:12345. */
final class SeedAddress {
  @Option(
      names = "--host",
      defaultValue = Seed.HOST,
      converter = Host.class,
      description = "A name or an IPv4/IPv6 literal (default: ${DEFAULT-VALUE}).")
  String host;

  @Option(
      names = "--port",
      defaultValue = Seed.PORT,
      converter = Port.class,
      description = "The port; a server's 0 picks a free one (default: ${DEFAULT-VALUE}).")
  int port;
}
