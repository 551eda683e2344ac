package io.jsock.cli;

import io.jsock.Errno;
import io.jsock.ErrnoException;
import io.jsock.Socket;
import io.jsock.tls.Tls;
import io.jsock.tls.TlsContext;
import java.io.IOException;
import java.net.SocketAddress;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import javax.net.ssl.SSLPeerUnverifiedException;
import javax.net.ssl.SSLSession;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

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
      "exited (exit code 1 if it failed). It finds the addresses in JSOCK_REMOTE_ADDR,",
      "JSOCK_REMOTE_PORT, JSOCK_LOCAL_ADDR, JSOCK_LOCAL_PORT and JSOCK_PROTO."
    },
    footerHeading = "%nExamples:%n",
    footer = {
      "  printf 'GET / HTTP/1.0\\r\\n\\r\\n' | jsock connect example.org 80",
      "  jsock connect --tls --ca ca.pem localhost 8443 < request.bin > reply.bin",
      "  jsock connect -w 2s -i 30s 127.0.0.1 5000",
      "  echo ping | jsock connect -u 127.0.0.1 5353",
      "  jsock connect -U /tmp/app.sock --recv-only",
      "  jsock connect -e /bin/cat 127.0.0.1 5000        # echoes what the server sends",
      "",
      "Exit codes: 0 done, 1 failure (connection reset, …), 2 usage, 3 refused, 4 timed out",
      "(-w, -i), 5 TLS failure, 6 unknown host, 130 interrupted."
    })
final class ConnectCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Parameters(
      arity = "0..2",
      paramLabel = "HOST PORT",
      description = "The host (name or IP literal, [::1] allowed) and port; none with -U.")
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

  @Mixin BridgeOptions bridge;

  @Mixin ExecOptions exec;

  @Mixin ClientTlsOptions clientTls;

  @Override
  public Integer call() throws IOException, InterruptedException {
    transport.check();
    bridge.check();
    exec.check(bridge);
    String host = null;
    int port = 0;
    if (transport.unix != null) {
      if (!target.isEmpty()) {
        throw usage("-U PATH takes the place of HOST and PORT");
      }
    } else {
      if (target.size() > 2) { // picocli gives the list every positional argument
        throw usage(Endpoints.tooManyArguments("HOST PORT", target));
      }
      if (target.size() != 2) {
        throw usage("HOST and PORT are needed (or -U PATH)");
      }
      host = ListenCommand.host(target.get(0), spec);
      port = ListenCommand.port(target.get(1), spec);
      if (port == 0) {
        throw usage("PORT: 0 is not a port one can connect to");
      }
    }
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
    Socket conn =
        Endpoints.connect(
            host,
            port,
            transport.unix,
            transport.family(),
            transport.kind(),
            connectTimeout,
            failed -> diagnostics.event(failed.getMessage() + "; trying the next address"));
    String peer = Diagnostics.where(peerName(conn));
    diagnostics.event("connected to " + peer + " (" + transport.describe() + ")");
    if (context != null) {
      conn = Endpoints.tlsClient(conn, context, name);
      diagnostics.event(describe(Tls.session(conn)));
    }
    Socket joined = conn;
    Diagnostics.Traffic traffic = diagnostics.traffic(peer);
    exec.join(joined, streams -> new Bridge(joined, streams, traffic, bridge).run());
    return ExitCode.OK.code();
  }

  /**
   * The connected peer's address. A peer that reset the connection the moment it was made leaves
   * none to ask for (Linux says ENOTCONN, as Python does); the exception names the address it had,
   * and the first read reports the reset.
   */
  private static SocketAddress peerName(Socket conn) throws IOException {
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
