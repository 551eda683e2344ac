package io.jsock.cli;

import io.jsock.Accepted;
import io.jsock.Socket;
import io.jsock.WouldBlockException;
import io.jsock.tls.Tls;
import io.jsock.tls.TlsContext;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicBoolean;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.TypeConversionException;

/** {@code jsock listen}: netcat's listener, joining stdin and stdout to the clients. */
@Command(
    name = "listen",
    header = "Accepts clients and joins them to stdin and stdout.",
    mixinStandardHelpOptions = true,
    sortOptions = false,
    usageHelpWidth = 100,
    description = {
      "Listens on [HOST] PORT (or the AF_UNIX socket -U PATH), accepts a client and joins stdin",
      "and stdout to it, as nc -l does, with the same end-of-file policy as jsock connect: when",
      "stdin ends the connection is half-closed; jsock exits 0 when the client closes its side.",
      "",
      "HOST defaults to loopback (127.0.0.1, or ::1 with -6): give 0.0.0.0 or :: to listen on every",
      "interface. With port 0 (or -v) the address listened on goes to stderr:",
      "'jsock: listening on 127.0.0.1:40123'.",
      "",
      "-k serves many clients at once until interrupted: what each sends goes to stdout in whole",
      "chunks, stdin is sent to every client connected (as ncat -k does; while none is, stdin",
      "waits unread for the next), and when stdin ends every client, and any later one, is",
      "half-closed.",
      "",
      "UDP (-u): without -k, the first sender is the only peer (as nc -u -l); with -k, datagrams",
      "from anyone go to stdout and stdin goes to the most recent sender. Stdin is read once a",
      "first datagram has come. With -k and -e/-c, each sender gets a program of its own (as",
      "ncat -u -l -k --exec): each datagram is a write to its stdin, each read of its stdout a",
      "datagram back; when it ends, the sender's next datagram starts a new one; -i ends a",
      "silent sender's program.",
      "",
      "--allow/--deny refuse peers by address (closed at once, said with -v). An AF_UNIX socket",
      "file is removed when jsock exits.",
      "",
      "-e PROGRAM (-c COMMAND: run by /bin/sh -c) joins a program to the client in place of stdin",
      "and stdout, as ncat --exec; with -k each client gets a program of its own, at once. The",
      "client's end of file closes the program's stdin, the end of its stdout half-closes the",
      "connection; the client is done when both are and the program has exited (a program that",
      "ended its stdout and exited ends it; one still running 1 s after it is done gets SIGTERM).",
      "The program finds the addresses in JSOCK_REMOTE_ADDR, JSOCK_REMOTE_PORT, JSOCK_LOCAL_ADDR,",
      "JSOCK_LOCAL_PORT and JSOCK_PROTO."
    },
    footerHeading = "%nExamples:%n",
    footer = {
      "  jsock listen 5000 > received.bin                 # one client, loopback",
      "  jsock listen -k -v 0.0.0.0 5000 --allow 10.0.0.0/8",
      "  jsock listen --tls --cert cert.pem --key key.pem 8443 < reply.txt",
      "  jsock listen -u 5353",
      "  jsock listen -U /tmp/app.sock -k",
      "  jsock listen -e /bin/cat 5000                    # an echo server for one client",
      "  jsock listen -k -c 'echo \"hello $JSOCK_REMOTE_ADDR\"; cat' 5000",
      "  jsock listen -u -k -i 30s -e /bin/cat 5000       # a UDP echo, a cat per sender",
      "",
      "Exit codes: 0 done, 1 failure, 2 usage, 3 port unreachable (-u: the peer's port has",
      "closed), 4 timed out (-i), 5 TLS failure (without -k), 6 unknown host, 7 address in use,",
      "130 interrupted."
    })
final class ListenCommand implements Callable<Integer> {
  private static final int BACKLOG = 128;

  @Spec CommandSpec spec;

  @Parameters(
      arity = "0..2",
      paramLabel = "[HOST] PORT",
      description =
          "Address (default: loopback) and port (0: any free port) to listen on; none with -U.")
  List<String> target = new ArrayList<>();

  @Mixin TransportOptions transport;

  @Option(
      names = {"-k", "--keep-open"},
      description =
          "Serve clients (or UDP peers) at once and one after another, until interrupted.")
  boolean keepOpen;

  @Option(
      names = "--max-clients",
      paramLabel = "N",
      defaultValue = "100",
      description =
          "With -k: at most N clients at once; a client beyond them is closed at once (-u -k"
              + " with -e/-c: N senders, each with its program; a new one's datagram beyond them is"
              + " dropped)"
              + " (default: ${DEFAULT-VALUE}).")
  int maxClients;

  @Mixin AccessList access;

  @Mixin BridgeOptions bridge;

  @Mixin ExecOptions exec;

  @Mixin ServerKeyOptions serverKey;

  private Diagnostics diagnostics;

  @Override
  public Integer call() throws IOException, InterruptedException {
    transport.check();
    access.check(transport.unix != null);
    bridge.check();
    exec.check(bridge);
    serverKey.check(transport.tls);
    if (maxClients < 1) {
      throw usage("--max-clients must be at least 1: " + maxClients);
    }
    var parsed = spec.commandLine().getParseResult();
    boolean programPerSender = keepOpen && transport.udp && exec.given();
    if ((!keepOpen || (transport.udp && !programPerSender))
        && parsed.hasMatchedOption("--max-clients")) {
      throw usage(
          "--max-clients is for -k over TCP or -U, or -u -k with -e/-c: without -k one client is"
              + " served, and -u -k without a program has no clients");
    }
    if (keepOpen && transport.udp && !programPerSender && bridge.idleTimeout != null) {
      throw usage(
          "--idle-timeout is not for -u -k without -e/-c: datagrams from anyone have no idle"
              + " peer");
    }
    String host = transport.ipv6 ? "::1" : "127.0.0.1"; // loopback unless told otherwise
    int port = 0;
    if (transport.unix != null) {
      if (!target.isEmpty()) {
        throw usage("-U PATH takes the place of HOST and PORT");
      }
    } else {
      if (target.isEmpty()) {
        throw usage("PORT is needed (0 for any free port), or -U PATH");
      }
      if (target.size() > 2) { // picocli gives the list every positional argument
        throw usage(Endpoints.tooManyArguments("[HOST] PORT", target));
      }
      if (target.size() == 2) {
        host = host(target.get(0), spec);
      }
      port = port(target.getLast(), spec);
    }
    Lines err = new Lines(spec.commandLine().getErr()).prefixed("jsock: ");
    StderrLog.install(err);
    diagnostics = bridge.diagnostics(err);
    TlsContext tls = transport.tls ? Tls.server(serverKey.load(err)) : null;

    Socket listener =
        programPerSender
            ? Endpoints.bindShared(host, port, transport.family())
            : Endpoints.bind(
                host, port, transport.unix, transport.family(), transport.kind(), BACKLOG);
    Path unix = transport.unix;
    Runnable removeSocketFile = unix == null ? null : Endpoints.removeSocketFileOnExit(unix);
    try (listener) {
      String where = Diagnostics.where(listener.getSockName());
      if (port == 0 && unix == null) {
        diagnostics.say("listening on " + where);
      } else {
        diagnostics.event("listening on " + where + " (" + transport.describe() + ")");
      }
      if (programPerSender) {
        new SenderPrograms(listener, exec, bridge, diagnostics, maxClients)
            .serve(this::receivePermitted);
      } else if (transport.udp) {
        if (keepOpen) {
          serveDatagramsFromAnyone(listener);
        } else {
          serveFirstDatagramPeer(listener);
        }
      } else if (keepOpen && exec.given()) {
        serveProgramPerClient(listener, tls);
      } else if (keepOpen) {
        serveManyClients(listener, tls);
      } else {
        serveOneClient(listener, tls);
      }
    } finally {
      if (removeSocketFile != null) {
        removeSocketFile.run();
      }
    }
    return ExitCode.OK.code();
  }

  private void serveOneClient(Socket listener, TlsContext tls)
      throws IOException, InterruptedException {
    Accepted client = acceptPermitted(new Acceptor(listener, diagnostics::say), 1);
    listener.close(); // as nc: no second client waits in the backlog
    String peer = peerName(client, 1);
    diagnostics.event("accepted " + peer);
    join(client.conn(), peer, tls);
  }

  /** Joins a client to stdin and stdout, or to the program -e/-c runs for it. */
  private void join(Socket accepted, String peer, TlsContext tls)
      throws IOException, InterruptedException {
    Socket conn = accepted;
    if (tls != null) {
      try {
        conn = tls.wrap(accepted);
      } catch (IOException | RuntimeException e) {
        accepted.close();
        throw e;
      }
      diagnostics.event(peer + ": " + ConnectCommand.describeAccepted(Tls.session(conn)));
    }
    Socket joined = conn;
    Diagnostics.Traffic traffic = diagnostics.traffic(peer);
    exec.join(joined, diagnostics, streams -> new Bridge(joined, streams, traffic, bridge).run());
  }

  /**
   * -k with -e/-c: a program of its own for each client, at once (up to --max-clients); a client
   * that fails, or whose program cannot be started or fails, is said, and the others go on.
   */
  private void serveProgramPerClient(Socket listener, TlsContext tls) throws IOException {
    Semaphore places = new Semaphore(maxClients);
    Acceptor acceptor = new Acceptor(listener, diagnostics::say);
    for (long n = 1; ; n++) { // until interrupted
      Accepted client = acceptPermitted(acceptor, n);
      String peer = peerName(client, n);
      if (!places.tryAcquire()) {
        diagnostics.event("refused " + peer + ": --max-clients " + maxClients + " reached");
        client.conn().close();
        continue;
      }
      diagnostics.event("accepted " + peer);
      Thread.ofVirtual()
          .name("jsock client " + peer)
          .start(
              () -> {
                try {
                  join(client.conn(), peer, tls);
                } catch (IOException | RuntimeException e) {
                  diagnostics.say(peer + ": " + e.getMessage());
                } catch (InterruptedException e) {
                  Thread.currentThread().interrupt();
                } finally {
                  places.release();
                }
              });
    }
  }

  private void serveManyClients(Socket listener, TlsContext tls) throws IOException {
    StandardStreams std = new StandardStreams();
    // stdout's reader gone (| head): closing the listener ends the accept loop, quietly, as a
    // bridge ends then; a stdout that cannot be written (a full disk) ends it with the failure, as
    // a bridge's does; the clients' connections close as the process exits
    Clients clients = new Clients(std, diagnostics, bridge, tls, () -> closeQuietly(listener));
    clients.start();
    // A failed accept (out of file descriptors) is said and retried: the clients served go on.
    Acceptor acceptor = new Acceptor(listener, diagnostics::say);
    for (long n = 1; ; n++) { // until interrupted, or stdout's reader has gone or failed
      Accepted client;
      try {
        client = acceptPermitted(acceptor, n);
      } catch (IOException e) {
        if (clients.stdoutFailure() != null) {
          throw clients.stdoutFailure();
        }
        if (std.isOutGone() || clients.sentAll()) {
          return;
        }
        throw e;
      }
      String peer = peerName(client, n);
      if (!clients.reserve(maxClients)) {
        diagnostics.event("refused " + peer + ": --max-clients " + maxClients + " reached");
        client.conn().close();
        continue;
      }
      clients.serve(client.conn(), peer);
    }
  }

  /** The next client that --allow/--deny let in; the others are closed at once. */
  private Accepted acceptPermitted(Acceptor acceptor, long n) throws IOException {
    while (true) { // until a permitted client comes, or interrupted
      Accepted client = acceptor.accept();
      if (access.permits(client.address())) {
        return client;
      }
      diagnostics.event("refused " + peerName(client, n) + " (--allow/--deny)");
      client.conn().close();
    }
  }

  private void serveFirstDatagramPeer(Socket socket) throws IOException, InterruptedException {
    ByteBuffer first = ByteBuffer.allocateDirect(StandardStreams.CHUNK);
    SocketAddress peer = receivePermitted(socket, first);
    socket.connect(peer); // from now on, datagrams from this peer only
    Diagnostics.Traffic traffic = diagnostics.traffic(Diagnostics.where(peer));
    diagnostics.event("serving " + traffic.peer() + " (first datagram)");
    traffic.received(first);
    exec.join( // a program is started now, with the peer to tell it
        socket,
        diagnostics,
        std -> {
          if (!bridge.sendOnly) {
            std.write(first);
          }
          receiveQueuedFrom(peer, socket, first, std, traffic);
          new Bridge(socket, std, traffic, bridge).run();
        });
  }

  /**
   * Receives the datagrams queued before the connect, which it does not filter (as on Linux): the
   * peer's as the bridge would, the others' ignored, as those that come later are by the kernel.
   */
  private void receiveQueuedFrom(
      SocketAddress peer,
      Socket socket,
      ByteBuffer chunk,
      StandardStreams std,
      Diagnostics.Traffic traffic)
      throws IOException {
    socket.setBlocking(false);
    try {
      while (true) { // until the queue is empty
        chunk.clear();
        SocketAddress from = socket.recvFromInto(chunk);
        chunk.flip();
        if (!peer.equals(from)) {
          diagnostics.event(
              "ignored a datagram from " + Diagnostics.where(from) + ": serving " + traffic.peer());
          continue;
        }
        traffic.received(chunk);
        if (!bridge.sendOnly) {
          std.write(chunk);
        }
      }
    } catch (WouldBlockException empty) {
      // all taken
    } finally {
      socket.setBlocking(true);
    }
  }

  private void serveDatagramsFromAnyone(Socket socket) throws IOException, InterruptedException {
    StandardStreams std = new StandardStreams();
    ByteBuffer chunk = ByteBuffer.allocateDirect(StandardStreams.CHUNK);
    CountDownLatch firstPeer = new CountDownLatch(1);
    SocketAddress[] latest = new SocketAddress[1];
    AtomicBoolean sentAll = new AtomicBoolean(); // --send-only: stdin has ended, all sent
    if (!bridge.recvOnly) {
      Thread.ofPlatform()
          .daemon()
          .name("jsock stdin")
          .start(
              () -> {
                if (sendStdinToLatest(socket, std, firstPeer, latest) && bridge.sendOnly) {
                  sentAll.set(true); // nothing more to send: done, as ncat -u -k --send-only
                  closeQuietly(socket);
                }
              });
    }
    while (true) { // until interrupted, or --send-only has sent all of stdin
      SocketAddress from;
      try {
        from = receivePermitted(socket, chunk);
      } catch (IOException e) {
        if (sentAll.get()) {
          return;
        }
        throw e;
      }
      synchronized (latest) {
        latest[0] = from;
      }
      firstPeer.countDown();
      diagnostics.traffic(Diagnostics.where(from)).received(chunk);
      if (!bridge.sendOnly && !std.write(chunk)) {
        return; // stdout's reader has gone: done, quietly
      }
    }
  }

  /** Sends each read of stdin to the latest peer; true once stdin has ended. */
  private boolean sendStdinToLatest(
      Socket socket, StandardStreams std, CountDownLatch firstPeer, SocketAddress[] latest) {
    ByteBuffer chunk = ByteBuffer.allocateDirect(65_507);
    try {
      firstPeer.await();
      while (true) {
        chunk.clear();
        if (std.read(chunk) < 0) {
          return true;
        }
        chunk.flip();
        SocketAddress to;
        synchronized (latest) {
          to = latest[0];
        }
        diagnostics.traffic(Diagnostics.where(to)).sending(chunk);
        socket.sendTo(chunk, to);
      }
    } catch (IOException e) {
      diagnostics.say(e.getMessage());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    return false;
  }

  /** Receives datagrams until one comes from a permitted peer; returns it flipped for reading. */
  private SocketAddress receivePermitted(Socket socket, ByteBuffer chunk) throws IOException {
    while (true) { // until a permitted datagram comes, or interrupted
      chunk.clear();
      SocketAddress from = socket.recvFromInto(chunk);
      chunk.flip();
      if (access.permits(from)) {
        return from;
      }
      diagnostics.event("ignored a datagram from " + Diagnostics.where(from) + " (--allow/--deny)");
    }
  }

  private String peerName(Accepted client, long n) {
    return client.address() instanceof InetSocketAddress
        ? Diagnostics.where(client.address())
        : "client " + n + " on " + transport.unix;
  }

  /** The HOST parameter, or a usage error naming it. */
  static String host(String text, CommandSpec spec) {
    try {
      return new Host().convert(text);
    } catch (TypeConversionException e) {
      throw new ParameterException(spec.commandLine(), "HOST: " + e.getMessage());
    }
  }

  /** The PORT parameter, or a usage error naming it. */
  static int port(String text, CommandSpec spec) {
    try {
      return new Port().convert(text);
    } catch (TypeConversionException e) {
      throw new ParameterException(spec.commandLine(), "PORT: " + e.getMessage());
    }
  }

  private void closeQuietly(Socket socket) {
    try {
      socket.close();
    } catch (IOException e) {
      diagnostics.event("close: " + e.getMessage());
    }
  }

  private ParameterException usage(String message) {
    return new ParameterException(spec.commandLine(), message);
  }
}
