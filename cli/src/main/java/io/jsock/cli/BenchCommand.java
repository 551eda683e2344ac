package io.jsock.cli;

import io.jsock.AddrInfo;
import io.jsock.ConnectionRefusedException;
import io.jsock.Socket;
import io.jsock.SocketKind;
import io.jsock.Sockets;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code jsock bench}: a load generator for echo servers, written on jsock: an event loop per CPU
 * for {@code pingpong}, {@code pipeline} and {@code udp}, plain blocking code on a virtual thread
 * per connection for {@code bulk} and {@code connect}. Every echoed byte is checked; latency
 * percentiles come from HdrHistogram and count only after the warm-up.
 */
@Command(
    name = "bench",
    header = "Loads an echo server and measures it, every echoed byte verified.",
    mixinStandardHelpOptions = true,
    description = {
      "Puts a load on an echo server (jsock echo, or any other) and measures it:",
      "throughput, and latency percentiles after a warm-up. Every echoed byte is",
      "checked; a wrong one stops the run with exit code 1, naming where it was.",
      "Scenarios: pingpong (one message in flight per connection), pipeline (K in",
      "flight), bulk (streaming writes while reading back), connect (connect, echo,",
      "close), udp (datagram echo; lost datagrams counted).",
    })
final class BenchCommand implements Callable<Integer> {
  /** At most this many bytes in flight per connection: more could fill both sides' buffers. */
  static final int MAX_IN_FLIGHT = 256 * 1024;

  /** The largest UDP payload over IPv4. */
  static final int MAX_DATAGRAM = 65_507;

  @Spec CommandSpec spec;

  @Parameters(
      index = "0",
      arity = "0..1",
      defaultValue = "pingpong",
      converter = Scenario.Converter.class,
      completionCandidates = Scenario.Names.class,
      paramLabel = "SCENARIO",
      description = "pingpong, pipeline, bulk, connect or udp (default: ${DEFAULT-VALUE}).")
  Scenario scenario;

  @Option(
      names = "--host",
      paramLabel = "H",
      defaultValue = Seed.HOST,
      converter = Host.class,
      description = "The echo server's host (default: ${DEFAULT-VALUE}).")
  String host;

  @Option(
      names = "--port",
      paramLabel = "P",
      defaultValue = Seed.PORT,
      converter = Port.class,
      description = "The echo server's port (default: ${DEFAULT-VALUE}).")
  int port;

  @Option(
      names = {"-c", "--connections"},
      paramLabel = "N",
      defaultValue = "10",
      description = "Connections (udp: sockets; connect: connecting at once) (default: 10).")
  int connections;

  @Option(
      names = {"-s", "--size"},
      paramLabel = "BYTES",
      defaultValue = "64",
      description =
          "Message size in bytes (udp: at least 8; not for bulk) (default: ${DEFAULT-VALUE}).")
  int size;

  @Option(
      names = {"-k", "--pipeline"},
      paramLabel = "K",
      defaultValue = "16",
      description = "pipeline: messages in flight per connection (default: ${DEFAULT-VALUE}).")
  int pipeline;

  @Option(
      names = "--write-size",
      paramLabel = "BYTES",
      defaultValue = "65536",
      description = "bulk: bytes per write (default: ${DEFAULT-VALUE}).")
  int writeSize;

  @Option(
      names = "--duration",
      paramLabel = "D",
      defaultValue = "10s",
      converter = ShortDuration.class,
      description = "How long to measure, as 500ms, 10s, 1m (default: ${DEFAULT-VALUE}).")
  Duration duration;

  @Option(
      names = "--warmup",
      paramLabel = "D",
      defaultValue = "2s",
      converter = ShortDuration.class,
      description = "Load before measuring, not counted (default: ${DEFAULT-VALUE}).")
  Duration warmup;

  @Option(
      names = "--timeout",
      paramLabel = "D",
      defaultValue = "10s",
      converter = ShortDuration.class,
      description =
          "How long one connect may wait, and how long the echoes still in flight may go"
              + " without a byte when the run stops (default: ${DEFAULT-VALUE}).")
  Duration timeout;

  @Option(
      names = "--loss-timeout",
      paramLabel = "D",
      defaultValue = "1s",
      converter = ShortDuration.class,
      description = "udp: how long an echo may take before it counts as lost (default: 1s).")
  Duration lossTimeout;

  @Option(
      names = "--source-ips",
      defaultValue = "0",
      paramLabel = "N",
      description =
          "Bind connection i to 127.0.0.1 + (i mod N), spreading many connections over the"
              + " loopback network's ephemeral ports (IPv4 server; default: the kernel chooses).")
  int sourceIps;

  @Option(names = "--json", description = "Print the result as one JSON object.")
  boolean json;

  @Option(
      names = "--phases",
      description =
          "Say on stderr when measuring starts and stops ('jsock bench: measuring', 'jsock"
              + " bench: stopped'), so a script can sample the server's CPU time and memory over"
              + " the measured period.")
  boolean phases;

  @Option(
      names = "--plot",
      paramLabel = "FILE.png",
      description = "Also draw the latency percentiles and throughput per second into a PNG.")
  Path plot;

  @Override
  public Integer call() throws IOException, InterruptedException {
    checkOptions();
    LoadPlan plan =
        new LoadPlan(
            scenario,
            resolve(),
            connections,
            size,
            scenario == Scenario.PINGPONG ? 1 : pipeline,
            writeSize,
            warmup,
            duration,
            sourceIps,
            timeout,
            lossTimeout);
    Lines err = new Lines(spec.commandLine().getErr());
    LoadDriver.Outcome outcome =
        LoadDriver.run(
            plan, phases ? phase -> err.line("jsock bench: " + phase) : LoadRun.Phases.NONE);
    if (outcome.run().mismatch() != null) {
      throw outcome.run().mismatch();
    }
    BenchReport report = new BenchReport(outcome);
    Lines out = Lines.stdout(spec.commandLine());
    if (json) {
      out.line(report.json());
    } else {
      report.lines().forEach(out::line);
    }
    if (plot != null) {
      BenchChart.write(plot, scenario.label(), outcome.measured());
    }
    // a server that never echoes also leaves every connection waiting at the end: said as this
    boolean onlyWaiting =
        outcome.run().errors() == 0 || outcome.run().firstError() instanceof EchoTimeoutException;
    if (onlyWaiting && outcome.measured().messages() == 0) {
      err.line(
          "jsock: no echo came back from " + Diagnostics.where(plan.server()) + " while measuring");
      return ExitCode.FAILURE.code();
    }
    if (outcome.run().errors() > 0) {
      long errors = outcome.run().errors();
      err.line(
          "jsock: "
              + (errors == 1 ? "1 connection error: " : errors + " connection errors; the first: ")
              + outcome.run().firstError().getMessage());
      // a refused connection exits 3 wherever it comes (a UDP echo's port unreachable)
      return outcome.run().firstError() instanceof ConnectionRefusedException
          ? ExitCode.REFUSED.code()
          : ExitCode.FAILURE.code();
    }
    return ExitCode.OK.code();
  }

  /**
   * The server's address: the host's first, or for TCP with several the first that accepts a
   * connection (bounded by --timeout), as wrk picks it and as connect tries each; when none does,
   * the last one's error, the earlier ones suppressed under it.
   */
  private InetSocketAddress resolve() throws IOException {
    SocketKind kind = scenario == Scenario.UDP ? SocketKind.SOCK_DGRAM : SocketKind.SOCK_STREAM;
    List<AddrInfo> infos = Sockets.getAddrInfo(host, port, null, kind);
    if (kind == SocketKind.SOCK_DGRAM || infos.size() == 1) {
      return (InetSocketAddress) infos.getFirst().address();
    }
    try (Socket probe = Endpoints.connect(host, port, null, null, kind, timeout)) {
      return (InetSocketAddress) probe.getPeerName();
    }
  }

  private void checkOptions() {
    var parsed = spec.commandLine().getParseResult();
    require(port != 0, "--port: 0 is not a port one can connect to");
    require(connections >= 1 && connections <= 100_000, "--connections must be 1..100000");
    require(size >= 1 && size <= MAX_IN_FLIGHT, "--size must be 1.." + MAX_IN_FLIGHT);
    require(pipeline >= 1 && pipeline <= 4096, "--pipeline must be 1..4096");
    require(writeSize >= 1 && writeSize <= 1 << 20, "--write-size must be 1..1048576");
    require(sourceIps >= 0 && sourceIps <= 65_534, "--source-ips must be 0..65534");
    require(
        !duration.isNegative() && duration.toMillis() >= 100 && duration.toHours() < 1,
        "--duration must be from 100ms to under an hour");
    require(warmup.toMinutes() < 10, "--warmup must be under 10 minutes");
    require(timeout.toMillis() >= 1, "--timeout must be positive");
    require(lossTimeout.toMillis() >= 1, "--loss-timeout must be positive");
    require(
        scenario == Scenario.PIPELINE || !parsed.hasMatchedOption("--pipeline"),
        "--pipeline is for the pipeline scenario (pingpong keeps one message in flight)");
    require(
        scenario == Scenario.BULK || !parsed.hasMatchedOption("--write-size"),
        "--write-size is for the bulk scenario");
    require(
        scenario != Scenario.BULK || !parsed.hasMatchedOption("--size"),
        "--size is not for the bulk scenario: its writes are --write-size bytes");
    require(
        scenario == Scenario.UDP || !parsed.hasMatchedOption("--loss-timeout"),
        "--loss-timeout is for the udp scenario");
    if (scenario == Scenario.PIPELINE) {
      require(
          (long) size * pipeline <= MAX_IN_FLIGHT,
          "--size times --pipeline must be at most " + MAX_IN_FLIGHT + " bytes in flight");
    }
    if (scenario == Scenario.UDP) {
      require(
          size >= UdpEventLoop.HEADER && size <= MAX_DATAGRAM,
          "udp: --size must be " + UdpEventLoop.HEADER + ".." + MAX_DATAGRAM);
    }
    if (plot != null) {
      require(plot.toString().endsWith(".png"), "--plot: the file name must end in .png");
      // checked now: the chart is written only after the whole run
      Path directory = plot.toAbsolutePath().getParent();
      require(Files.isDirectory(directory), "--plot: no such directory: " + directory);
    }
  }

  private void require(boolean condition, String message) {
    if (!condition) {
      throw new ParameterException(spec.commandLine(), message);
    }
  }
}
