package io.jsock.cli;

import static java.nio.charset.StandardCharsets.UTF_8;

import io.jsock.Accepted;
import io.jsock.Socket;
import io.jsock.SocketKind;
import io.jsock.tls.Tls;
import io.jsock.tls.TlsContext;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicLong;
import picocli.CommandLine.Command;
import picocli.CommandLine.IModelTransformer;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.TypeConversionException;

/** {@code jsock broker [HOST] PORT}: every client's bytes go to every other client. */
@Command(
    name = "broker",
    header = "Passes each client's bytes to all the others (--chat: named lines).",
    mixinStandardHelpOptions = true,
    sortOptions = false,
    modelTransformer = BrokerCommand.HideUdp.class,
    customSynopsis = "jsock broker [OPTIONS] ([HOST] PORT | -U PATH)",
    description = {
      "A connection broker, as ncat --broker: accepts any number of clients and sends "
          + "the bytes each one sends to all the others (never back to the sender), until "
          + "interrupted. With --chat it is line-oriented, as ncat --chat: each client gets a "
          + "name (user1, user2, …), each line goes out prefixed with its sender's name "
          + "(<user1> hello), and joins and leaves are announced.",
      "",
      "A slow client never holds the others back: each client has its own queue of at "
          + "most --max-queue bytes, drained by its own writer, and senders only ever queue. "
          + "When a client's queue is full, --slow disconnect (the default) disconnects it "
          + "and says so on stderr; --slow drop drops what does not fit (whole lines with "
          + "--chat) until it reads again. The broker's memory is thus bounded by clients "
          + "times --max-queue.",
      "",
      "Listens on the loopback address (127.0.0.1, or ::1 with -6) unless HOST is given.",
      "",
    },
    footerHeading = "%nExamples:%n",
    footer = {
      "  jsock broker 9000                     fan-out on 127.0.0.1:9000",
      "  jsock broker --chat 0.0.0.0 9000      a chat room for the whole network",
      "  jsock broker --tls --chat 9443        the same over TLS (self-signed)",
      "  jsock broker -U /tmp/bus.sock         on an AF_UNIX socket",
      "  jsock broker --max-queue 64KiB --slow drop 9000",
      "",
      "Then connect with jsock connect, nc or ncat from several terminals.",
      "",
      "Exit codes: 0 success, 1 failure, 2 usage, 5 TLS key not usable, 6 unknown host,",
      "7 address in use, 130 interrupted."
    })
final class BrokerCommand implements Callable<Integer> {
  /** What to do with a client whose queue is full. */
  enum SlowPolicy {
    disconnect,
    drop
  }

  /**
   * Keeps {@code -u} out of the help and the completion script: the broker shares connect's
   * transport options, but needs a stream. The option is still parsed, so that {@code -u} is
   * refused with the reason rather than as an unknown option.
   */
  static final class HideUdp implements IModelTransformer {
    @Override
    public CommandSpec transform(CommandSpec command) {
      OptionSpec udp = command.findOption("--udp");
      command.remove(udp);
      command.addOption(udp.toBuilder().hidden(true).build());
      return command;
    }
  }

  private static final int BUFFER = 64 * 1024;
  private static final byte[] NEWLINE = {'\n'};

  @Spec CommandSpec spec;

  @Parameters(
      arity = "0..2",
      paramLabel = "[HOST] PORT",
      hideParamSyntax = true,
      description =
          "Where to listen: a port (0 picks a free one, said on stderr), after an optional host"
              + " or address (0.0.0.0 or :: for every interface). Not with -U.")
  List<String> hostPort = new ArrayList<>();

  @Mixin TransportOptions transport;

  @Option(
      names = "--chat",
      description = "Line-oriented chat: names, <name> prefixes, join and leave announcements.")
  boolean chat;

  @Option(
      names = "--max-clients",
      paramLabel = "N",
      defaultValue = "100",
      description =
          "Serve at most N clients at once; more are turned away (default: ${DEFAULT-VALUE}).")
  int maxClients;

  @Option(
      names = "--max-queue",
      paramLabel = "SIZE",
      defaultValue = "1MiB",
      converter = Sizes.class,
      description =
          "The most bytes waiting for one client (default: ${DEFAULT-VALUE}); see --slow.")
  long maxQueue;

  @Option(
      names = "--slow",
      paramLabel = "POLICY",
      defaultValue = "disconnect",
      description =
          "When a client's queue is full: disconnect it, or drop what does not fit"
              + " (default: ${DEFAULT-VALUE}).")
  SlowPolicy slow;

  @Option(
      names = "--write-timeout",
      paramLabel = "DURATION",
      defaultValue = "30s",
      converter = Durations.Timeout.class,
      description =
          "Disconnect a client whose socket has taken no bytes for DURATION, noticed when"
              + " something is next queued for it (default: ${DEFAULT-VALUE}).")
  Duration writeTimeout;

  @Mixin ServerKeyOptions serverKey;

  @Mixin AccessList access;

  @Option(
      names = "-v",
      description =
          "Say more on stderr: -v the listener, joins and leaves with byte counts, slow"
              + " clients; -vv every chunk received.")
  boolean[] verbose = new boolean[0];

  @Option(
      names = {"-x", "--hex-dump"},
      description = "Dump the bytes received and sent on stderr, hexdump -C style.")
  boolean hexDump;

  private final Map<Long, BrokerClient> clients = new ConcurrentHashMap<>();

  /** Held while a client joins or leaves, so that rosters and announcements agree. */
  private final Object membership = new Object();

  private final AtomicLong ids = new AtomicLong();
  private RelayLog log;
  private int port;

  @Override
  public Integer call() throws IOException {
    String host = checkOptions();
    Lines err = new Lines(spec.commandLine().getErr()).prefixed("jsock: ");
    StderrLog.install(err);
    log = new RelayLog(err, verbose.length, hexDump);
    TlsContext tls = transport.tls ? Tls.server(serverKey.load(err)) : null;
    Socket listener =
        Endpoints.bind(host, port, transport.unix, transport.family(), SocketKind.SOCK_STREAM, 128);
    if (transport.unix != null) {
      Endpoints.removeSocketFileOnExit(transport.unix);
    }
    log.listening(
        (chat ? "chat " : "")
            + "broker listening on "
            + Diagnostics.where(listener.getSockName())
            + " ("
            + transport.describe()
            + "), at most "
            + maxClients
            + " clients, queues of "
            + Sizes.format(maxQueue)
            + ", slow clients: "
            + slow,
        transport.unix == null && port == 0);
    Acceptor acceptor = new Acceptor(listener, log::warn);
    Semaphore places = new Semaphore(maxClients); // taken before the handshake, not after
    while (true) {
      Accepted accepted = acceptor.accept();
      if (!access.permits(accepted.address())) {
        log.verbose(Diagnostics.where(accepted.address()) + " refused: --allow/--deny");
        close(accepted.conn());
        continue;
      }
      if (!places.tryAcquire()) {
        log.warn(
            Diagnostics.where(accepted.address())
                + " turned away: --max-clients "
                + maxClients
                + " reached");
        close(accepted.conn());
        continue;
      }
      long id = ids.incrementAndGet();
      Thread.ofVirtual()
          .name("broker user" + id)
          .start(
              () -> {
                try {
                  serve(accepted, id, tls);
                } finally {
                  places.release();
                }
              });
    }
  }

  /** Serves one client on its own virtual thread: handshake, writer, then the reading loop. */
  private void serve(Accepted accepted, long id, TlsContext tls) {
    Socket socket = accepted.conn();
    try {
      if (tls != null) {
        socket = tls.wrap(socket);
      }
    } catch (IOException e) {
      log.warn(Diagnostics.where(accepted.address()) + ": " + e.getMessage());
      close(socket);
      return;
    }
    BrokerClient client =
        new BrokerClient(socket, "user" + id, accepted.address(), maxQueue, writeTimeout, log);
    Thread.ofVirtual().name("broker writer user" + id).start(client::writeQueued);
    synchronized (membership) {
      if (chat) {
        greet(client);
      }
      clients.put(id, client);
      log.verbose(client.describe() + " joined; " + clients.size() + " connected");
      if (chat) {
        announce(client, "<announce> <" + client.name() + "> has joined");
      }
    }
    String why = "end of stream";
    try {
      if (chat) {
        readLines(client);
      } else {
        readBytes(client);
      }
    } catch (IOException e) {
      why = client.isClosed() ? "disconnected by the broker" : e.getMessage();
    } finally {
      synchronized (membership) {
        clients.remove(id);
        if (chat) {
          announce(client, "<announce> <" + client.name() + "> has left");
        }
      }
      client.close();
    }
    log.verbose(client.describe() + " left (" + why + "): " + client.stats());
  }

  private void greet(BrokerClient client) {
    List<String> here = clients.values().stream().map(c -> "<" + c.name() + ">").toList();
    String text =
        "<announce> you are <"
            + client.name()
            + ">; "
            + (here.isEmpty() ? "no one else is here" : "also here: " + String.join(", ", here))
            + "\n";
    client.offer(text.getBytes(UTF_8));
  }

  private void readBytes(BrokerClient from) throws IOException {
    byte[] buf = new byte[BUFFER];
    int n;
    while ((n = from.socket().recvInto(buf, 0)) > 0) {
      from.received(n);
      byte[] chunk = java.util.Arrays.copyOf(buf, n);
      log.debug("<" + from.name() + "> " + n + " bytes");
      log.dump("<" + from.name() + " " + n + " bytes", ByteBuffer.wrap(chunk));
      fanOut(from, chunk);
    }
  }

  /** Reads lines (at most 64 KiB each; longer ones are cut) and sends each, named, to the rest. */
  private void readLines(BrokerClient from) throws IOException {
    byte[] buf = new byte[BUFFER];
    byte[] prefix = ("<" + from.name() + "> ").getBytes(UTF_8);
    ByteArrayOutputStream line = new ByteArrayOutputStream();
    boolean cut = false; // the last piece sent was cut from a line that went on
    int n;
    try {
      while ((n = from.socket().recvInto(buf, 0)) > 0) {
        from.received(n);
        if (log.isDebug()) {
          log.debug("<" + from.name() + "> " + n + " bytes");
        }
        log.dump("<" + from.name() + " " + n + " bytes", ByteBuffer.wrap(buf, 0, n));
        int start = 0;
        for (int i = 0; i < n; i++) {
          if (buf[i] == '\n' || line.size() + (i - start) >= BUFFER) {
            boolean ended = buf[i] == '\n';
            line.write(buf, start, i - start);
            start = ended ? i + 1 : i;
            // a CR ending a cut piece is the line's; the CRLF alone after a cut ends its line
            if (!(ended && cut && line.size() == 1 && line.toByteArray()[0] == '\r')) {
              fanOut(from, named(prefix, line, ended));
            }
            cut = !ended;
            line.reset();
          }
        }
        line.write(buf, start, n - start);
      }
    } finally {
      // A last line without its newline, also when its sender reset the connection after it: a
      // client that closes without reading what it was sent makes its kernel send RST. No LF
      // follows a CR at its end, which is thus the line's own, as where a line is cut.
      if (line.size() > 0) {
        fanOut(from, named(prefix, line, false));
      }
    }
  }

  /** The line, named; {@code crlf}: a CR at its end is a CRLF's, dropped. */
  private static byte[] named(byte[] prefix, ByteArrayOutputStream line, boolean crlf) {
    ByteArrayOutputStream out = new ByteArrayOutputStream(prefix.length + line.size() + 1);
    out.writeBytes(prefix);
    int length = line.size();
    byte[] text = line.toByteArray();
    if (crlf && length > 0 && text[length - 1] == '\r') {
      length--; // a telnet or Windows client's CRLF
    }
    ChatEscapes.write(text, length, out);
    out.writeBytes(NEWLINE);
    return out.toByteArray();
  }

  private void announce(BrokerClient about, String text) {
    fanOut(about, (text + "\n").getBytes(UTF_8));
  }

  /** Queues {@code data} for every client but {@code from}, applying the slow-client policy. */
  private void fanOut(BrokerClient from, byte[] data) {
    for (BrokerClient to : clients.values()) {
      if (to == from) {
        continue;
      }
      switch (to.offer(data)) {
        case QUEUED, CLOSED -> {}
        case STALLED -> {
          log.warn(
              to.describe()
                  + " disconnected: took no bytes for --write-timeout "
                  + Durations.format(writeTimeout));
          to.close();
        }
        case FULL -> full(to, data.length);
      }
    }
  }

  private void full(BrokerClient to, int bytes) {
    if (slow == SlowPolicy.disconnect) {
      log.warn(
          to.describe()
              + " disconnected: a slow client, its queue of "
              + Sizes.format(maxQueue)
              + " is full (--slow drop would drop data instead)");
      to.close();
    } else if (to.drop(bytes)) {
      log.warn(
          to.describe()
              + " is slow: its queue of "
              + Sizes.format(maxQueue)
              + " is full; dropping what does not fit");
    }
  }

  /** Checks the options and reads {@code [HOST] PORT}; returns the host to listen on. */
  private String checkOptions() {
    transport.check();
    if (transport.udp) {
      throw transport.usage("-u: the broker needs streams (TCP, TLS or AF_UNIX)");
    }
    serverKey.check(transport.tls);
    access.check(transport.unix != null);
    if (transport.unix != null && !hostPort.isEmpty()) {
      throw transport.usage("-U PATH takes the place of [HOST] PORT");
    }
    if (hostPort.size() > 2) { // picocli gives the list every positional argument
      throw transport.usage(Endpoints.tooManyArguments("[HOST] PORT", hostPort));
    }
    if (transport.unix == null && hostPort.isEmpty()) {
      throw transport.usage("missing PORT (or -U PATH)");
    }
    if (maxClients < 2) {
      throw transport.usage("--max-clients must be at least 2: " + maxClients);
    }
    if (maxQueue < 1) {
      throw transport.usage("--max-queue must be at least 1 byte: " + maxQueue);
    }
    try {
      if (transport.unix == null) {
        port = new Port().convert(hostPort.getLast());
      }
      if (hostPort.size() == 2) {
        return new Host().convert(hostPort.getFirst());
      }
    } catch (TypeConversionException e) {
      throw transport.usage("[HOST] PORT: " + e.getMessage());
    }
    return transport.ipv6 ? "::1" : "127.0.0.1";
  }

  private static void close(Socket socket) {
    try {
      socket.close();
    } catch (IOException e) {
      // a client that reset first: nothing is left to tell
    }
  }
}
