package io.jsock.cli;

import io.jsock.Datagram;
import io.jsock.Socket;
import io.jsock.server.Server;
import io.jsock.server.ServerConfig;
import io.jsock.server.TcpServer;
import io.jsock.server.UdpServer;
import io.jsock.tls.Tls;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/** {@code jsock echo}: an echo server on jsock's server framework, written as a user would. */
@Command(
    name = "echo",
    header = "An echo server: TCP, UDP or AF_UNIX, optionally TLS.",
    mixinStandardHelpOptions = true,
    description = {
      "An echo server (TCP, UDP or AF_UNIX, optionally TLS): sends back every byte it"
          + " receives. Serves connections concurrently, one virtual thread each (UDP datagrams"
          + " one after another, on one thread), until interrupted;"
          + " on SIGINT or SIGTERM it stops accepting, lets open connections finish for up to 5"
          + " seconds, resets the rest and exits 0. A second SIGINT or SIGTERM meanwhile resets"
          + " them at once and exits 130 or 143. A connection silent for 5 minutes is closed, and"
          + " one whose client stops reading is reset once a reply has waited 30 seconds (the"
          + " server's idle and write timeouts).",
    })
final class EchoCommand implements Callable<Integer> {
  /** How long open connections may go on after SIGINT or SIGTERM. */
  static final Duration GRACE = Duration.ofSeconds(5);

  @Spec CommandSpec spec;

  @Option(
      names = "--host",
      defaultValue = Seed.HOST,
      converter = Host.class,
      description =
          "Address to listen on: a name or an IPv4/IPv6 literal; 0.0.0.0 or :: for every"
              + " interface (default: ${DEFAULT-VALUE}).")
  String host;

  @Option(
      names = "--port",
      defaultValue = Seed.PORT,
      converter = Port.class,
      description = "Port to listen on; 0 picks a free one (default: ${DEFAULT-VALUE}).")
  int port;

  @Option(names = "--udp", description = "Echo UDP datagrams instead of TCP streams.")
  boolean udp;

  @Option(
      names = "--unix",
      paramLabel = "PATH",
      description = "Listen on an AF_UNIX stream socket at PATH instead of a host and port.")
  Path unix;

  @Option(
      names = "--tls",
      description =
          "Speak TLS: with --cert and --key, or --pkcs12, when given; otherwise a self-signed"
              + " development certificate for localhost, 127.0.0.1 and ::1 (its SHA-256"
              + " fingerprint goes to stderr). TCP and AF_UNIX only.")
  boolean tls;

  @Mixin ServerKeyOptions serverKey;

  @Option(
      names = "--max-connections",
      paramLabel = "N",
      defaultValue = "10000",
      description =
          "Serve at most N connections at once; more are refused at once with a reset"
              + " (with --unix, closed) (default: ${DEFAULT-VALUE}). Not for --udp, which answers each datagram as it"
              + " receives it.")
  int maxConnections;

  @Option(
      names = "--first-byte-timeout",
      paramLabel = "D",
      defaultValue = "10s",
      converter = ShortDuration.class,
      description =
          "Reset (with --unix, close) a connection still silent D after it was accepted, as"
              + " 500ms, 10s, 5m"
              + " (default: ${DEFAULT-VALUE}). Not for --udp.")
  Duration firstByteTimeout;

  @Option(
      names = "--reuse-port",
      description =
          "Set SO_REUSEPORT: several servers may listen on the same host and port, and the"
              + " kernel deals new connections (UDP: senders) out among them. Not for --unix.")
  boolean reusePort;

  @Override
  public Integer call() throws IOException, InterruptedException {
    checkOptions();
    Lines out = Lines.stdout(spec.commandLine());
    Lines err = new Lines(spec.commandLine().getErr()).prefixed("jsock: ");
    StderrLog.install(err);
    ServerConfig config = serverConfig();
    if (tls) {
      config = config.withTls(Tls.server(serverKey.load(err)));
    }
    Server server =
        udp
            ? UdpServer.start(config, EchoCommand::echoDatagram)
            : TcpServer.start(config, EchoCommand::echo);
    Thread stop = Thread.ofPlatform().name("jsock echo stop").unstarted(() -> stop(server));
    Signals.interruptOnSecondSignal(stop);
    Runtime.getRuntime().addShutdownHook(stop);
    try {
      out.line("Echo server listening on " + where(server.address()));
    } catch (UncheckedIOException e) {
      // the hook's stop would end the process with 0 at the exit this failure leads to
      try {
        Runtime.getRuntime().removeShutdownHook(stop);
      } catch (IllegalStateException stopping) {
        throw e; // a signal's stop is under way, and ends the process
      }
      server.shutdown(Duration.ZERO);
      throw e;
    }
    while (!server.awaitTermination(Duration.ofDays(1))) {
      // serves until a signal's shutdown hook stops the server
    }
    return ExitCode.OK.code();
  }

  /**
   * The server's config from the options, TLS aside. A UDP echo only replies, and a UDP send does
   * not wait for the peer: the receiving thread answers each datagram itself, with no thread
   * started per datagram. A TCP connection gets {@code TCP_NODELAY}, as an echo should: each reply
   * goes out as it is written, its last partial segment not held back by Nagle's algorithm until
   * what went before is acknowledged. Netty's and the C echo servers of the benchmarks set it too;
   * without it, bulk echo (64 KiB writes) cost jsock 1.18x the server CPU per message
   * (docs/benchmarks/FINDINGS.md, "TCP_NODELAY"). The server sets it on its listening socket,
   * whence every connection inherits it, rather than each handler on its connection: a system call
   * less per connection (FINDINGS.md, "The connection's first read").
   */
  ServerConfig serverConfig() {
    ServerConfig config =
        unix != null
            ? ServerConfig.defaults().withAddress(UnixDomainSocketAddress.of(unix))
            : ServerConfig.defaults().withAddress(host, port).withTcpNoDelay(!udp);
    return config
        .withMaxConnections(maxConnections)
        .withFirstByteTimeout(firstByteTimeout)
        .withThreadPerDatagram(!udp)
        .withReusePort(reusePort);
  }

  /** The most one receive takes, and the size of a streaming connection's first buffer. */
  private static final int BUFSIZE = 64 * 1024;

  /**
   * What a streaming connection's buffer grows to once a receive fills it (the client sends faster
   * than its echo goes back): each send of 64 KiB ends in a short TCP segment of its own, and a
   * send of four times that carries four times the data per system call and per short segment. In
   * {@code jsock bench bulk -c 10 --write-size 65536} this buffer echoed 1.7x the data of a 64 KiB
   * one at 0.57x the CPU per message; 1 MiB did no better (docs/benchmarks/FINDINGS.md, "Bulk echo:
   * the streaming buffer").
   */
  private static final int LARGE_BUFSIZE = 256 * 1024;

  /** A receive at least this large means the client streams: the connection takes a buffer. */
  private static final int STREAMING = 16 * 1024;

  /**
   * The echo handler, as a user of jsock writes it: {@code recv}, {@code sendAll}, until the client
   * is done, as Python's tutorial does, so that a connection waiting for data holds no buffer. A
   * client that streams large messages gets a buffer of its connection's own, reused for every
   * receive ({@code recvInto}, then {@code sendAll} of what came, the way Python's {@code
   * recv_into} is used), where a fresh 64 KiB array per message would be fresh memory, out of the
   * cache, every time (docs/benchmarks/FINDINGS.md, "Since run C", has the figures). The buffer
   * goes once a small message comes; {@link #streamingBuffer} says when it grows.
   */
  static void echo(Socket conn) throws IOException {
    byte[] buffer = null;
    while (true) {
      int n;
      if (buffer == null) {
        byte[] data = conn.recv(BUFSIZE);
        n = data.length;
        if (n > 0) {
          conn.sendAll(data);
        }
      } else {
        n = conn.recvInto(buffer, 0);
        if (n > 0) {
          conn.sendAll(ByteBuffer.wrap(buffer, 0, n));
        }
      }
      if (n == 0) {
        return;
      }
      // the small-message path stays in this loop: a call here would be one per message, as the
      // JIT does not inline streamingBuffer into the loop's compiled code
      buffer = n < STREAMING ? null : streamingBuffer(buffer, n);
    }
  }

  /**
   * A streaming connection's buffer for its next receive, after one of {@code n} bytes (at least
   * {@link #STREAMING}) into {@code buffer} ({@code null}: through {@code recv}): {@link #BUFSIZE}
   * when the client has just started streaming, {@link #LARGE_BUFSIZE} once a receive fills that,
   * otherwise the same.
   */
  static byte[] streamingBuffer(byte[] buffer, int n) {
    if (buffer == null) {
      return new byte[BUFSIZE];
    }
    if (n == buffer.length && buffer.length < LARGE_BUFSIZE) {
      return new byte[LARGE_BUFSIZE];
    }
    return buffer;
  }

  /** The UDP echo handler: each datagram goes back to its sender, from the receiving thread. */
  static void echoDatagram(Datagram datagram, Socket socket) throws IOException {
    socket.sendTo(datagram.data(), datagram.address());
  }

  /**
   * Runs on SIGINT or SIGTERM (as a shutdown hook): a graceful stop, then exit status 0 rather than
   * the JVM's 130 or 143, since stopping on a signal is how this server is meant to end. A second
   * signal interrupts it ({@link Signals}), which ends the grace period at once: the connections
   * still open are reset, and the status is the second signal's, 130 or 143.
   */
  private static void stop(Server server) {
    server.shutdown(Signals.isForced() ? Duration.ZERO : GRACE);
    Runtime.getRuntime().halt(Signals.exitStatus(ExitCode.OK.code()));
  }

  private void checkOptions() {
    var parsed = spec.commandLine().getParseResult();
    if (tls && udp) {
      throw new ParameterException(
          spec.commandLine(), "--tls and --udp cannot be combined: TLS needs a stream");
    }
    serverKey.check(tls);
    if (maxConnections < 1) {
      throw new ParameterException(
          spec.commandLine(), "--max-connections must be at least 1: " + maxConnections);
    }
    if (unix != null && udp) {
      throw new ParameterException(
          spec.commandLine(),
          "--udp and --unix cannot be combined: the JDK has no AF_UNIX datagram sockets");
    }
    if (firstByteTimeout.isZero()) {
      throw new ParameterException(spec.commandLine(), "--first-byte-timeout must be positive: 0");
    }
    if (udp && parsed.hasMatchedOption("--first-byte-timeout")) {
      throw new ParameterException(
          spec.commandLine(), "--first-byte-timeout is for streams: UDP has no connections");
    }
    if (udp && parsed.hasMatchedOption("--max-connections")) {
      throw new ParameterException(
          spec.commandLine(),
          "--max-connections is for streams: UDP has no connections (each datagram is answered as"
              + " it comes)");
    }
    if (unix != null && reusePort) {
      throw new ParameterException(
          spec.commandLine(), "--reuse-port and --unix cannot be combined: AF_UNIX has no ports");
    }
    if (unix != null && (parsed.hasMatchedOption("--host") || parsed.hasMatchedOption("--port"))) {
      throw new ParameterException(
          spec.commandLine(), "--unix takes the place of --host and --port");
    }
  }

  /** {@code localhost:12345} as the user wrote the host, with the real port; or the path. */
  private String where(SocketAddress address) {
    if (address instanceof InetSocketAddress inet) {
      return (host.contains(":") ? "[" + host + "]" : host) + ":" + inet.getPort();
    }
    return ((UnixDomainSocketAddress) address).getPath().toString();
  }
}
