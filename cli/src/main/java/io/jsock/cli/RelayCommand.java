package io.jsock.cli;

import io.jsock.Accepted;
import io.jsock.Family;
import io.jsock.Socket;
import io.jsock.SocketKind;
import io.jsock.tls.Tls;
import io.jsock.tls.TlsContext;
import java.io.IOException;
import java.net.StandardSocketOptions;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Semaphore;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code jsock relay LISTEN TARGET}: port forwarding, faithful or with injected faults. */
@Command(
    name = "relay",
    // the TLS options' texts as the relay asks for TLS: a tls: endpoint, not --tls
    resourceBundle = "io.jsock.cli.RelayHelp",
    header = "Forwards connections to a target, faithfully or with injected faults.",
    mixinStandardHelpOptions = true,
    sortOptions = false,
    description = {
      "Forwards each connection accepted on LISTEN to a new connection to TARGET, both "
          + "ways, until interrupted: TCP, TLS and AF_UNIX streams in any combination, or UDP "
          + "to UDP.",
      "",
      "Streams are relayed faithfully: an end of stream on one side becomes a "
          + "half-close (shutdown SHUT_WR) on the other, and the connection closes once both "
          + "directions have ended; a reset on one side resets the other (SO_LINGER 0, then "
          + "close) once the bytes already relayed to it have gone; a target that cannot be reached resets the client. UDP is relayed per "
          + "client address, each with its own socket to TARGET, forgotten after "
          + "--idle-timeout.",
      "",
      "Endpoints: PORT, HOST:PORT, tcp:HOST:PORT, udp:HOST:PORT, tls:HOST:PORT, "
          + "unix:PATH, tls+unix:PATH; IPv6 literals in brackets (tcp:[::1]:8080). LISTEN "
          + "binds the loopback address (127.0.0.1, or ::1 with -6) unless a host is given; a "
          + "tls: LISTEN is a TLS server (--cert/--key, --pkcs12, or a development "
          + "certificate), a tls: TARGET a TLS client that verifies the target as --ca, "
          + "--server-name and --insecure say.",
      "",
      "Faults, for testing programs against bad networks (streams only): --latency, "
          + "--bandwidth, --slice, --limit-data and --slow-close act on the directions "
          + "--direction names; --reset-after and --timeout on whole connections.",
      "",
    },
    footerHeading = "%nExamples:%n",
    footer = {
      "  jsock relay 8080 example.com:80               forward 127.0.0.1:8080",
      "  jsock relay 8443 tls:example.com:443          TLS to the target only",
      "  jsock relay tls:8443 localhost:8080           TLS in front of a server",
      "  jsock relay unix:/tmp/db.sock localhost:5432  a TCP service on a path",
      "  jsock relay udp:5353 udp:127.0.0.1:53         forward UDP",
      "  jsock relay 9000 localhost:8080 --latency 50ms±20ms --bandwidth 1MiB/s",
      "  jsock relay 9000 localhost:8080 --slice 7±5 --slice-delay 10ms",
      "  jsock relay 9000 localhost:8080 --limit-data 64KiB --direction down",
      "  jsock relay -v 9000 localhost:8080 --reset-after 2s",
      "",
      "Exit codes: 0 success, 1 failure, 2 usage, 5 TLS key not usable, 6 unknown host,",
      "7 address in use, 130 interrupted. A failure of one connection is reported on",
      "stderr and does not end the relay."
    })
final class RelayCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Parameters(
      index = "0",
      paramLabel = "LISTEN",
      converter = RelayEndpoint.Converter.class,
      description =
          "Where to listen, e.g. 8080, 0.0.0.0:8080, tls:8443, udp:5353, unix:PATH (port 0: a free one, said on stderr).")
  RelayEndpoint listen;

  @Parameters(
      index = "1",
      paramLabel = "TARGET",
      converter = RelayEndpoint.Converter.class,
      description = "Where to forward, e.g. localhost:80, tls:example.com:443, unix:PATH.")
  RelayEndpoint target;

  @Option(names = "-4", description = "IPv4 addresses only.")
  boolean ipv4;

  @Option(names = "-6", description = "IPv6 addresses only (LISTEN defaults to ::1).")
  boolean ipv6;

  @Option(
      names = "--max-connections",
      paramLabel = "N",
      defaultValue = "256",
      description =
          "Relay at most N connections (UDP: client addresses) at once; more are reset at once"
              + " (default: ${DEFAULT-VALUE}).")
  int maxConnections;

  @Option(
      names = "--idle-timeout",
      paramLabel = "DURATION",
      converter = Durations.Timeout.class,
      description =
          "Close a connection when no byte has moved either way for DURATION (each part of a"
              + " write a slow side takes is bytes moving, as socat -T counts) (default: never for"
              + " streams, 60s for UDP client addresses).")
  Duration idleTimeout;

  @Option(
      names = "--connect-timeout",
      paramLabel = "DURATION",
      converter = Durations.Timeout.class,
      defaultValue = "10s",
      description =
          "Give up connecting to TARGET (and, for tls:, its handshake) after DURATION (default:"
              + " ${DEFAULT-VALUE}).")
  Duration connectTimeout;

  @Mixin FaultOptions faults;

  @Mixin AccessList access;

  @Mixin ServerKeyOptions serverKey;

  @Mixin ClientTlsOptions clientTls;

  @Option(
      names = "-v",
      description =
          "Say more on stderr: -v the listener and each connection's start and end, -vv every"
              + " chunk passed on.")
  boolean[] verbose = new boolean[0];

  @Option(
      names = {"-x", "--hex-dump"},
      description = "Dump the relayed bytes on stderr, hexdump -C style, a header per chunk.")
  boolean hexDump;

  private static final Duration UDP_IDLE = Duration.ofSeconds(60);

  /** The stream connections being relayed, for the shutdown hook (see {@link #relayStreams}). */
  private final Set<RelayConnection> live = ConcurrentHashMap.newKeySet();

  @Override
  public Integer call() throws IOException, InterruptedException {
    checkOptions();
    Lines err = new Lines(spec.commandLine().getErr()).prefixed("jsock: ");
    StderrLog.install(err);
    RelayLog log = new RelayLog(err, verbose.length, hexDump);
    Family family = ipv4 ? Family.AF_INET : ipv6 ? Family.AF_INET6 : null;
    // TLS files and names are usage errors: found before binding, so never after the listening line
    TlsContext serverTls = listen.scheme().isTls() ? Tls.server(serverKey.load(err)) : null;
    // the handshake is part of reaching the target, as jsock connect -w bounds both
    TlsContext targetTls =
        target.scheme().isTls() ? clientTls.context().withHandshakeTimeout(connectTimeout) : null;
    String host = listen.host() != null ? listen.host() : ipv6 ? "::1" : "127.0.0.1";
    SocketKind kind = listen.isStream() ? SocketKind.SOCK_STREAM : SocketKind.SOCK_DGRAM;
    Socket listener = Endpoints.bind(host, listen.port(), listen.path(), family, kind, 128);
    if (listen.path() != null) {
      Endpoints.removeSocketFileOnExit(listen.path());
    }
    String faultsGiven = String.join(" ", faults.describe());
    log.listening(
        "relay listening on "
            + Diagnostics.where(listener.getSockName())
            + ", forwarding to "
            + target
            + (faultsGiven.isEmpty() ? "" : " with " + faultsGiven),
        listen.path() == null && listen.port() == 0);
    if (kind == SocketKind.SOCK_DGRAM) {
      Duration idle = idleTimeout != null ? idleTimeout : UDP_IDLE;
      new UdpRelay(listener, target, family, idle, maxConnections, access, log).run();
    } else {
      relayStreams(listener, family, serverTls, targetTls, log);
    }
    return ExitCode.OK.code();
  }

  private void relayStreams(
      Socket listener, Family family, TlsContext serverTls, TlsContext targetTls, RelayLog log)
      throws IOException {
    Semaphore permits = new Semaphore(maxConnections);
    Acceptor acceptor = new Acceptor(listener, log::warn);
    // an interrupt (SIGINT, SIGTERM) ends the process: a reset the relay is carrying goes now,
    // where the exit's close would end that peer's stream cleanly after the bytes it held
    Thread cutDrains = new Thread(() -> live.forEach(c -> c.cutDrain("interrupted")));
    Runtime.getRuntime().addShutdownHook(cutDrains);
    try {
      acceptLoop(acceptor, permits, family, serverTls, targetTls, log);
    } finally {
      try {
        Runtime.getRuntime().removeShutdownHook(cutDrains);
      } catch (IllegalStateException shuttingDown) {
        // the hook runs
      }
    }
  }

  private void acceptLoop(
      Acceptor acceptor,
      Semaphore permits,
      Family family,
      TlsContext serverTls,
      TlsContext targetTls,
      RelayLog log)
      throws IOException {
    long accepted = 0;
    while (true) {
      Accepted next = acceptor.accept();
      String name = "#" + ++accepted + " " + Diagnostics.where(next.address());
      if (!access.permits(next.address())) {
        log.verbose(name + " refused: not allowed by --allow/--deny");
        RelayConnection.resetQuietly(next.conn());
        continue;
      }
      if (!permits.tryAcquire()) {
        log.warn(name + " reset: --max-connections " + maxConnections + " reached");
        RelayConnection.resetQuietly(next.conn());
        continue;
      }
      Thread.ofVirtual()
          .name("relay " + name)
          .start(
              () -> {
                try {
                  relay(next.conn(), name, family, serverTls, targetTls, log);
                } finally {
                  permits.release();
                }
              });
    }
  }

  /** Relays one accepted connection until both directions end or it fails; never throws. */
  private void relay(
      Socket accepted,
      String name,
      Family family,
      TlsContext serverTls,
      TlsContext targetTls,
      RelayLog log) {
    Socket client = accepted;
    Socket upstream;
    try {
      if (serverTls != null) {
        client = serverTls.wrap(accepted);
      }
      String host = target.host() != null ? target.host() : "localhost";
      upstream =
          Endpoints.connect(
              host, target.port(), target.path(), family, SocketKind.SOCK_STREAM, connectTimeout);
      if (targetTls != null) {
        String expected = clientTls.expectedName(target.path() != null ? null : host);
        upstream = Endpoints.tlsClient(upstream, targetTls, expected);
      }
    } catch (IOException | RuntimeException e) {
      log.warn(name + ": " + e.getMessage() + "; client reset");
      RelayConnection.resetQuietly(client);
      return;
    }
    noDelay(client);
    noDelay(upstream);
    RelayConnection connection = new RelayConnection(client, upstream, name, log);
    live.add(connection);
    try { // removed however it ends, a watch or pipe that could not start included
      log.verbose(name + " connected to " + target);
      connection.watch(faults.resetAfter, faults.timeout, idleTimeout);
      new RelayPipe(connection, FaultOptions.Direction.up, faults, log).start();
      new RelayPipe(connection, FaultOptions.Direction.down, faults, log).start();
      connection.awaitEnd();
    } catch (InterruptedException e) {
      connection.reset("interrupted");
    } catch (RuntimeException | Error e) { // no thread for a watch or pipe: nothing would close it
      connection.reset("failed: " + e);
      throw e;
    } finally {
      live.remove(connection);
    }
  }

  /** A relay adds no delay of its own: small writes (such as slices) go out as written. */
  private static void noDelay(Socket socket) {
    try {
      socket.setSockOpt(StandardSocketOptions.TCP_NODELAY, true);
    } catch (IOException | IllegalArgumentException e) {
      // AF_UNIX has no Nagle algorithm to turn off
    }
  }

  private void checkOptions() {
    if (ipv4 && ipv6) {
      throw usage("-4 and -6 cannot be combined");
    }
    if ((ipv4 || ipv6) && listen.path() != null && target.path() != null) {
      // as connect and listen refuse them with -U: no endpoint has an address family to choose
      throw usage("-4 and -6 do not apply to unix: LISTEN and TARGET (AF_UNIX)");
    }
    if (listen.isStream() != target.isStream()) {
      throw usage(
          "LISTEN and TARGET must both be streams (tcp, tls, unix) or both udp: "
              + listen
              + " → "
              + target);
    }
    if (!listen.isStream() && !faults.describe().isEmpty()) {
      throw usage("fault options apply to stream relays (tcp, tls, unix), not to udp");
    }
    if (spec.commandLine().getParseResult().hasMatchedOption("--direction")
        && !faults.hasDirectedFault()) {
      throw usage(
          "--direction needs --latency, --bandwidth, --slice, --limit-data or --slow-close");
    }
    serverKey.check(listen.scheme().isTls(), "a tls: LISTEN"); // the relay has no --tls
    access.check(listen.path() != null);
    if (clientTls.given() && !target.scheme().isTls()) {
      throw usage("--ca, --server-name and --insecure need a tls: TARGET");
    }
    if (target.scheme() == RelayEndpoint.Scheme.TLS_UNIX
        && clientTls.serverName == null
        && !clientTls.insecure) {
      // a path names no host to verify: every connection would fail its handshake
      throw usage("--server-name is needed to verify a tls+unix: TARGET (or --insecure)");
    }
    if (maxConnections < 1) {
      throw usage("--max-connections must be at least 1: " + maxConnections);
    }
    if (faults.sliceDelay != null && faults.slice == null) {
      throw usage("--slice-delay needs --slice");
    }
    if (faults.limitData != null && faults.limitData < 1) {
      throw usage("--limit-data must be at least 1 byte: " + faults.limitData);
    }
    if (target.path() == null && target.port() == 0) {
      throw usage("TARGET port 0: name the port to forward to");
    }
  }

  private ParameterException usage(String message) {
    return new ParameterException(spec.commandLine(), message);
  }
}
