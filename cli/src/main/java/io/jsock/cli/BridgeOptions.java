package io.jsock.cli;

import java.time.Duration;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * How {@code jsock connect} and {@code jsock listen} join stdin and stdout to a connection: the
 * end-of-file policy ({@code --send-only}, {@code --recv-only}, {@code --no-shutdown}), the idle
 * timeout ({@code -i}) and what they show on stderr ({@code -v}, {@code -x}).
 */
final class BridgeOptions {
  @Spec(Spec.Target.MIXEE)
  CommandSpec spec;

  @Option(
      names = "--send-only",
      description =
          "Only send stdin; what the peer sends is read and thrown away. Exits as soon as stdin"
              + " has ended and the connection is half-closed.")
  boolean sendOnly;

  @Option(
      names = "--recv-only",
      description =
          "Only receive: stdin is not read, the connection is half-closed at once (unless"
              + " --no-shutdown), and what arrives goes to stdout until the peer closes.")
  boolean recvOnly;

  @Option(
      names = "--no-shutdown",
      description =
          "When stdin ends, do not half-close the connection (no shutdown(SHUT_WR)): the peer"
              + " sees no end of file, and jsock goes on printing until the peer closes.")
  boolean noShutdown;

  @Option(
      names = {"-i", "--idle-timeout"},
      paramLabel = "DURATION",
      converter = Durations.Timeout.class,
      description =
          "Give up when no data has moved either way for DURATION (500ms, 2s, 1m): exit code 4."
              + " With listen -k: close a client that sent nothing for DURATION (listen -u -k: only"
              + " with -e/-c, ending a silent sender's program). Default: wait forever.")
  Duration idleTimeout;

  @Option(
      names = "-v",
      description =
          "Say what happens on stderr: connections, TLS parameters; -vv adds byte counts when a"
              + " connection closes.")
  boolean[] verbose = new boolean[0];

  @Option(
      names = {"-x", "--hex"},
      description =
          "Hex dump both directions of the traffic on stderr ('> 5 bytes to …', '< 5 bytes from"
              + " …'); stdout keeps the data alone.")
  boolean hex;

  /** Checks that the options fit together. */
  void check() {
    if (sendOnly && recvOnly) {
      throw new ParameterException(
          spec.commandLine(), "--send-only and --recv-only cannot be combined");
    }
  }

  /** The stderr views these options ask for. */
  Diagnostics diagnostics(Lines err) {
    return new Diagnostics(err, verbose.length, hex);
  }
}
