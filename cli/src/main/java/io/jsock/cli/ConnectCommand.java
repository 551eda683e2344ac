package io.jsock.cli;

import io.jsock.AddrInfo;
import io.jsock.AddressResolutionException;
import io.jsock.ConnectionRefusedException;
import io.jsock.Errno;
import io.jsock.ErrnoException;
import io.jsock.Family;
import io.jsock.Socket;
import io.jsock.Sockets;
import io.jsock.tls.Tls;
import io.jsock.tls.TlsContext;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.function.Consumer;
import javax.net.ssl.SSLPeerUnverifiedException;
import javax.net.ssl.SSLSession;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.TypeConversionException;

/** {@code jsock connect}: netcat's client, joining stdin and stdout to a connection. */
@Command(
    name = "connect",
    header = "Joins stdin and stdout to a connection (TCP, UDP, AF_UNIX, TLS).",
    mixinStandardHelpOptions = true,
    sortOptions = false,
    usageHelpWidth = 100,
    description = {
      "Connects to HOST PORT (or the AF_UNIX socket -U PATH) and joins stdin and stdout to the",
      "connection, as nc does: what stdin gives is sent, what arrives is written to stdout;",
      "diagnostics go to stderr only.",
      "",
      "End of file: when stdin ends, the connection is half-closed (shutdown SHUT_WR), so the",
      "peer reads end of file and can still answer; jsock prints the answer and exits 0 once",
      "both directions are done: stdin has ended and the peer has closed its side, in either",
      "order (as OpenBSD nc). --send-only, --recv-only and --no-shutdown choose otherwise.",
      "",
      "UDP (-u): each read of stdin is one datagram, each datagram received goes to stdout; after",
      "stdin ends, jsock exits once no datagram has come for 1 second (--recv-only: never).",
      "",
      "TLS (--tls) verifies the server's certificate and name by default, against the system's",
      "trusted authorities or --ca; --insecure turns that off and says so.",
      "",
      "-e PROGRAM (-c COMMAND: run by /bin/sh -c) joins a program to the connection in place of",
      "stdin and stdout, as ncat --exec: the peer's end of file closes its stdin, the end of its",
      "stdout half-closes the connection, and jsock exits once both are done and the program has",
      "exited (exit code 1 if it failed); one that ended its stdout and exited ends the connection,",
      "one still running 1 s after the connection is done gets SIGTERM. It finds the addresses in",
      "JSOCK_REMOTE_ADDR, JSOCK_REMOTE_PORT, JSOCK_LOCAL_ADDR, JSOCK_LOCAL_PORT and JSOCK_PROTO.",
      "",
      "-z checks ports without sending data: HOST PORTS..., each a port, a range LOW-HIGH, a",
      "service name or a comma list of those; each is connected and closed at once, one after",
      "another (--tls: after the handshake). -v says how each went on stderr, one line each:",
      "'connect to 127.0.0.1:22: succeeded (TCP)' or the failure. Exit code 0 if any succeeded,",
      "otherwise the last failure's. With -u one zero byte is sent and a refusal (ICMP port",
      "unreachable) awaited for -w (default 1s): silence counts as success, as in nc and ncat.",
      "",
      "--proxy HOST[:PORT] goes through an HTTP (CONNECT), SOCKS4/4a or SOCKS5 proxy, as ncat's",
      "options of the same names: the proxy resolves the target's name unless --proxy-dns says",
      "otherwise, -w bounds the proxy's connect and the tunnel's negotiation together, and --tls",
      "runs end to end through the tunnel, verified against the target's name. TCP only; not -z."
    },
    footerHeading = "%nExamples:%n",
    footer = {
      "  printf 'GET / HTTP/1.0\\r\\n\\r\\n' | jsock connect example.org 80",
      "  jsock connect --tls --ca ca.pem localhost 8443 < request.bin > reply.bin",
      "  jsock connect -w 2s -i 30s 127.0.0.1 5000",
      "  echo ping | jsock connect -u 127.0.0.1 5353",
      "  jsock connect -U /tmp/app.sock --recv-only",
      "  jsock connect -e /bin/cat 127.0.0.1 5000        # echoes what the server sends",
      "  jsock connect -z -v 127.0.0.1 20-25 80,443       # which ports accept",
      "  jsock connect -s 127.0.0.2 -p 40000 127.0.0.1 5000",
      "  jsock connect --proxy 127.0.0.1:1080 --proxy-type socks5 example.org 80",
      "",
      "Exit codes: 0 done, 1 failure (connection reset, …), 2 usage, 3 refused, 4 timed out",
      "(-w, -i), 5 TLS failure, 6 unknown host, 7 source address in use, 130 interrupted."
    })
final class ConnectCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Parameters(
      arity = "0..2",
      paramLabel = "HOST PORT",
      description =
          "The host (name or IP literal, [::1] allowed) and port; none with -U. With -z: several"
              + " PORTS (22, 20-30, ssh, 22,80).")
  List<String> target = new ArrayList<>();

  @Mixin TransportOptions transport;

  @Option(
      names = {"-w", "--wait"},
      paramLabel = "DURATION",
      converter = Durations.Timeout.class,
      description =
          "Give up connecting (and the TLS handshake) after DURATION (500ms, 2s; a bare number"
              + " is seconds): exit code 4. Default: the system's connect timeout, 10s for TLS.")
  Duration connectTimeout;

  @Option(
      names = {"-z", "--zero-io"},
      description =
          "Only check that each port accepts a connection: connect, close, send nothing (nc -z).")
  boolean zeroIo;

  @Option(
      names = {"-s", "--source"},
      paramLabel = "ADDR",
      converter = Host.class,
      description = "Bind to the local address ADDR before connecting (TCP, UDP).")
  String sourceHost;

  @Option(
      names = {"-p", "--source-port"},
      paramLabel = "PORT",
      converter = Port.class,
      description =
          "Bind to the local port PORT before connecting (TCP, UDP), with SO_REUSEADDR for TCP:"
              + " exit code 7 if it is in use.")
  int sourcePort;

  @Mixin BridgeOptions bridge;

  @Mixin ExecOptions exec;

  @Mixin ClientTlsOptions clientTls;

  @Mixin ProxyOptions proxy;

  @Override
  public Integer call() throws IOException, InterruptedException {
    transport.check();
    bridge.check();
    exec.check(bridge);
    checkZeroIo();
    String host = null;
    List<Integer> ports = List.of();
    if (transport.unix != null) {
      if (!target.isEmpty()) {
        throw usage("-U PATH takes the place of HOST and PORT");
      }
      if (sourceHost != null || sourcePort != 0) {
        throw usage("-s and -p do not apply to -U (AF_UNIX)");
      }
    } else {
      if (target.size() > 2 && !zeroIo) { // picocli gives the list every positional argument
        throw usage(Endpoints.tooManyArguments("HOST PORT", target));
      }
      if (target.size() < 2) {
        throw usage("HOST and PORT are needed (or -U PATH)");
      }
      host = ListenCommand.host(target.get(0), spec);
      ports = zeroIo ? ports(target.subList(1, target.size())) : List.of(port(target.get(1)));
    }
    proxy.check(transport, zeroIo, host);
    if (clientTls.given() && !transport.tls) {
      throw usage("--ca, --server-name and --insecure need --tls");
    }
    Lines err = new Lines(spec.commandLine().getErr()).prefixed("jsock: ");
    StderrLog.install(err);
    Diagnostics diagnostics = bridge.diagnostics(err);

    TlsContext context = null; // made before connecting: a bad --ca is a usage error at once
    String name = clientTls.expectedName(host);
    if (transport.tls) {
      if (name == null && !clientTls.insecure) {
        throw usage("--server-name is needed to verify a TLS server over -U");
      }
      context = clientTls.context();
      if (connectTimeout != null) {
        context = context.withHandshakeTimeout(connectTimeout);
      }
    }
    Consumer<IOException> tryingNext =
        failed -> diagnostics.event(failed.getMessage() + "; trying the next address");
    ClientSource source = source();
    if (proxy.given()) {
      ProxyRoute route = proxy.route();
      ProxyTarget target = route.target(host, ports.getFirst(), transport.family());
      Socket conn =
          route.open(
              target, source, transport.family(), Optional.ofNullable(connectTimeout), tryingNext);
      diagnostics.event(
          "connected to %s through %s (%s)"
              .formatted(target.describe(), route.describe(conn), transport.describe()));
      return join(withTls(conn, context, name, diagnostics), diagnostics, target.describe());
    }
    List<AddrInfo> targets = host == null ? List.of() : targets(host, ports.getFirst(), source);
    Connector connect =
        port ->
            transport.unix != null
                ? Endpoints.connect(
                    null, 0, transport.unix, null, transport.kind(), connectTimeout, tryingNext)
                : Endpoints.connect(
                    Endpoints.withPort(targets, port), source, connectTimeout, tryingNext);
    if (zeroIo) {
      TlsContext tls = context;
      // -U has no ports: its one check ignores the number
      List<Integer> checked = transport.unix != null ? List.of(0) : ports;
      return PortScan.run(
          checked,
          port -> connectAndClose(connect.open(port), tls, name),
          diagnostics,
          transport.describe());
    }
    Socket conn = connect.open(ports.isEmpty() ? 0 : ports.getFirst());
    String peer = Diagnostics.where(peerName(conn));
    diagnostics.event("connected to " + peer + " (" + transport.describe() + ")");
    return join(withTls(conn, context, name, diagnostics), diagnostics, peer);
  }

  /** {@code conn}, or its TLS client over it (verifying {@code name}) when --tls asks for one. */
  private static Socket withTls(
      Socket conn, TlsContext context, String name, Diagnostics diagnostics) throws IOException {
    if (context == null) {
      return conn;
    }
    Socket tls = Endpoints.tlsClient(conn, context, name);
    diagnostics.event(describe(Tls.session(tls)));
    return tls;
  }

  /**
   * Joins stdin and stdout (or the program of -e) to {@code conn}, with the peer named {@code
   * peer}, until both ways are done.
   */
  private int join(Socket conn, Diagnostics diagnostics, String peer)
      throws IOException, InterruptedException {
    Diagnostics.Traffic traffic = diagnostics.traffic(peer);
    exec.join(conn, diagnostics, streams -> new Bridge(conn, streams, traffic, bridge).run());
    return ExitCode.OK.code();
  }

  /** Opens a connection to one port. */
  @FunctionalInterface
  private interface Connector {
    Socket open(int port) throws IOException;
  }

  /** Checks a -z connection: the TLS handshake, or a UDP port's refusal; then closes it. */
  private SocketAddress connectAndClose(Socket conn, TlsContext tls, String name)
      throws IOException {
    try (conn) {
      SocketAddress peer = peerName(conn);
      if (transport.unix == null && !transport.udp && peer.equals(conn.getSockName())) {
        // Linux's TCP simultaneous open: a port in the ephemeral range that nothing listens on
        // may be the very port the kernel picked for this end, which then connects to itself
        throw new ConnectionRefusedException(
            "connect to "
                + Diagnostics.where(peer)
                + ": connected to itself (nothing listens there; a TCP self-connect)",
            peer);
      }
      if (tls != null) {
        Endpoints.tlsClient(conn, tls, name).close();
      }
      if (transport.udp) {
        PortScan.probeUdp(conn, connectTimeout != null ? connectTimeout : PortScan.UDP_WAIT);
      }
      return peer;
    }
  }

  /** Checks that -z has no option about data with it: it moves none. */
  private void checkZeroIo() {
    if (zeroIo
        && (bridge.sendOnly
            || bridge.recvOnly
            || bridge.noShutdown
            || bridge.idleTimeout != null
            || bridge.hex
            || exec.given())) {
      throw usage(
          "-z moves no data: --send-only, --recv-only, --no-shutdown, -i, -x, -e and -c do not"
              + " apply");
    }
  }

  /** The PORTS of -z, or a usage error naming the argument. */
  private List<Integer> ports(List<String> arguments) {
    try {
      return PortList.parse(arguments, transport.udp ? "udp" : "tcp");
    } catch (TypeConversionException e) {
      throw usage(e.getMessage());
    }
  }

  /** The PORT to connect to, or a usage error. */
  private int port(String text) {
    int port = ListenCommand.port(text, spec);
    if (port == 0) {
      throw usage("PORT: 0 is not a port one can connect to");
    }
    return port;
  }

  /**
   * Where -s and -p bind the client's end; the kernel's choice without them. A source that does not
   * resolve (or not in the family -4 or -6 asks for) says that it is the source at fault.
   */
  private ClientSource source() throws IOException {
    if (sourceHost == null) {
      return new ClientSource(Optional.empty(), sourcePort);
    }
    Family asked = transport.family();
    List<AddrInfo> locals;
    try {
      locals = Sockets.getAddrInfo(sourceHost, sourcePort, asked, transport.kind());
    } catch (AddressResolutionException e) {
      String limit =
          asked == null
              ? ""
              : "; " + (asked == Family.AF_INET ? "-4" : "-6") + " asks for " + familyName(asked);
      throw explained(e, "the -s source address" + limit);
    }
    return new ClientSource(
        Optional.of(((InetSocketAddress) locals.getFirst().address()).getAddress()), sourcePort);
  }

  /**
   * The addresses of {@code host}, in the family of {@code source}'s address if it has one: a
   * target without an address of that family says that -s is why.
   */
  private List<AddrInfo> targets(String host, int port, ClientSource source) throws IOException {
    Family family = source.family(transport.family());
    try {
      return Sockets.getAddrInfo(host, port, family, transport.kind());
    } catch (AddressResolutionException e) {
      if (source.address().isEmpty()) {
        throw e;
      }
      throw explained(
          e,
          "only its "
              + familyName(family)
              + " addresses were looked up: the -s source address "
              + sourceHost
              + " is "
              + familyName(family));
    }
  }

  private static AddressResolutionException explained(AddressResolutionException e, String why) {
    AddressResolutionException explained =
        new AddressResolutionException(e.getMessage() + " (" + why + ")", e.errno(), e.address());
    explained.initCause(e);
    return explained;
  }

  private static String familyName(Family family) {
    return family == Family.AF_INET6 ? "IPv6" : "IPv4";
  }

  /**
   * The connected peer's address. A peer that reset the connection the moment it was made leaves
   * none to ask for (Linux says ENOTCONN, as Python does); the exception names the address it had,
   * and the first read reports the reset.
   */
  static SocketAddress peerName(Socket conn) throws IOException {
    try {
      return conn.getPeerName();
    } catch (ErrnoException gone) {
      if (gone.errno() != Errno.ENOTCONN || gone.address() == null) {
        throw gone;
      }
      return gone.address();
    }
  }

  /** {@code TLS: TLSv1.3 TLS_AES_128_GCM_SHA256, server certificate CN=localhost}. */
  static String describe(SSLSession session) {
    String text = describeAccepted(session);
    try {
      var certificates = session.getPeerCertificates();
      if (certificates.length > 0 && certificates[0] instanceof X509Certificate leaf) {
        text += ", server certificate " + leaf.getSubjectX500Principal().getName();
      }
    } catch (SSLPeerUnverifiedException e) {
      text += ", no server certificate";
    }
    return text;
  }

  /**
   * {@code TLS: TLSv1.3 TLS_AES_128_GCM_SHA256}, as a listener sees a client: with no certificate
   * to name, since clients are not asked for one (and the server's own is not the peer's).
   */
  static String describeAccepted(SSLSession session) {
    return "TLS: " + session.getProtocol() + " " + session.getCipherSuite();
  }

  private ParameterException usage(String message) {
    return new ParameterException(spec.commandLine(), message);
  }
}
