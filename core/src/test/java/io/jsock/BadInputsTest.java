package io.jsock;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.jsock.framing.Framing;
import io.jsock.server.ServerConfig;
import io.jsock.server.TcpServer;
import io.jsock.server.UdpServer;
import io.jsock.tls.KeyMaterial;
import io.jsock.tls.Tls;
import io.jsock.tls.TlsContext;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.StandardSocketOptions;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A sweep of bad arguments over the public API (javap -public of io.jsock, io.jsock.framing,
 * io.jsock.server and io.jsock.tls): each is refused with the exception Python's counterpart would
 * give (an {@link IllegalArgumentException} for its ValueError, an {@link ErrnoException} for its
 * OSError) and a message naming the parameter, and no file descriptor is left open by the sweep.
 */
class BadInputsTest {
  @TempDir Path dir;

  /** A call expected to throw {@code type} with a message holding {@code words}. */
  private record Case(String name, Call call, Class<? extends Throwable> type, String words) {}

  @FunctionalInterface
  private interface Call {
    Object run() throws Exception;
  }

  private final List<Case> cases = new ArrayList<>();

  private void bad(String name, Class<? extends Throwable> type, String words, Call call) {
    cases.add(new Case(name, call, type, words));
  }

  /**
   * This process's open descriptors, each with what it refers to ("socket:[inode]", a path): a
   * descriptor another thread closes (a Cleaner, a test before this one) is no leak of the sweep's,
   * and a new one is told apart from one that took a closed one's number.
   */
  private static Set<String> openFds() throws IOException {
    Set<String> fds = new TreeSet<>();
    try (var entries = Files.list(Path.of("/proc/self/fd"))) {
      for (Path fd : (Iterable<Path>) entries::iterator) {
        try {
          fds.add(fd.getFileName() + " -> " + Files.readSymbolicLink(fd));
        } catch (IOException gone) {
          // closed since it was listed (the listing's own descriptor among them)
        }
      }
    }
    return fds;
  }

  /** The descriptors open now that were not open {@code before}. */
  private static Set<String> openedSince(Set<String> before) throws IOException {
    Set<String> opened = openFds();
    opened.removeAll(before);
    return opened;
  }

  @Test
  void everyBadArgumentIsRefusedNamingItsParameterAndNothingLeaks() throws Exception {
    Socket.create().close(); // the JDK's own descriptors (epoll, pre-close socket) opened once
    for (Socket end : Sockets.socketPair()) {
      end.close();
    }
    Set<String> before = openFds();
    SocketAddress loopback = new InetSocketAddress("127.0.0.1", 9);
    SocketAddress foreign = new SocketAddress() {};
    Path file = Files.write(dir.resolve("f"), new byte[] {1, 2, 3});
    try (Socket tcp = Socket.create();
        Socket udp = Socket.create(Family.AF_INET, SocketKind.SOCK_DGRAM);
        Socket listener = Sockets.createServer("127.0.0.1", 0);
        SocketSelector selector = SocketSelector.open()) {
      Socket[] pair = Sockets.socketPair();
      Socket conn = pair[0];
      Socket closed = Socket.create();
      closed.close();
      try {
        // Socket
        bad(
            "create family",
            NullPointerException.class,
            "family",
            () -> Socket.create(null, SocketKind.SOCK_STREAM));
        bad(
            "create kind",
            NullPointerException.class,
            "kind",
            () -> Socket.create(Family.AF_INET, null));
        bad(
            "bind null",
            NullPointerException.class,
            "address",
            () -> {
              tcp.bind(null);
              return null;
            });
        bad(
            "bind port",
            IllegalArgumentException.class,
            "port out of range",
            () -> {
              tcp.bind("127.0.0.1", 65536);
              return null;
            });
        bad(
            "bind v6 on v4",
            IllegalArgumentException.class,
            "address",
            () -> {
              tcp.bind(new InetSocketAddress("::1", 0));
              return null;
            });
        bad(
            "bind foreign",
            IllegalArgumentException.class,
            "address",
            () -> {
              tcp.bind(foreign);
              return null;
            });
        bad(
            "bind unix on v4",
            IllegalArgumentException.class,
            "address",
            () -> {
              tcp.bind(UnixDomainSocketAddress.of(dir.resolve("s")));
              return null;
            });
        bad(
            "listen backlog",
            IllegalArgumentException.class,
            "backlog",
            () -> {
              tcp.listen(-1);
              return null;
            });
        bad(
            "listen udp",
            ErrnoException.class,
            "operation not supported",
            () -> {
              udp.listen();
              return null;
            });
        bad("accept not listening", ErrnoException.class, "invalid argument", tcp::accept);
        bad(
            "connect null",
            NullPointerException.class,
            "address",
            () -> {
              tcp.connect(null);
              return null;
            });
        bad(
            "connect host",
            NullPointerException.class,
            "host",
            () -> {
              tcp.connect(null, 1);
              return null;
            });
        bad(
            "connect port",
            IllegalArgumentException.class,
            "port out of range",
            () -> {
              tcp.connect("127.0.0.1", -1);
              return null;
            });
        bad(
            "connectEx foreign",
            IllegalArgumentException.class,
            "address",
            () -> tcp.connectEx(foreign));
        bad("recv bufsize", IllegalArgumentException.class, "bufsize", () -> conn.recv(-1));
        bad(
            "recvInto null",
            NullPointerException.class,
            "buffer",
            () -> conn.recvInto((ByteBuffer) null));
        bad(
            "recvInto read-only",
            IllegalArgumentException.class,
            "read-only",
            () -> conn.recvInto(ByteBuffer.allocate(1).asReadOnlyBuffer()));
        bad(
            "recvInto nbytes",
            IllegalArgumentException.class,
            "nbytes",
            () -> conn.recvInto(new byte[4], 5));
        bad("recvInto buf", NullPointerException.class, "buf", () -> conn.recvInto(null, 1));
        bad("send null", NullPointerException.class, "data", () -> conn.send((byte[]) null));
        bad(
            "sendAll null",
            NullPointerException.class,
            "data",
            () -> {
              conn.sendAll((ByteBuffer) null);
              return null;
            });
        bad("sendFile null", NullPointerException.class, "file", () -> conn.sendFile((Path) null));
        bad(
            "sendFile channel null",
            NullPointerException.class,
            "file",
            () -> conn.sendFile((FileChannel) null, 0, 1));
        bad(
            "sendFile offset",
            IllegalArgumentException.class,
            "offset",
            () -> conn.sendFile(file, -1, 1));
        bad(
            "sendFile count",
            IllegalArgumentException.class,
            "count",
            () -> conn.sendFile(file, 0, 0));
        bad(
            "sendFile udp",
            IllegalArgumentException.class,
            "SOCK_STREAM",
            () -> udp.sendFile(file));
        bad("makeFile null", NullPointerException.class, "mode", () -> conn.makeFile(null));
        bad("makeFile mode", IllegalArgumentException.class, "mode", () -> conn.makeFile("x"));
        bad("recvFrom bufsize", IllegalArgumentException.class, "bufsize", () -> udp.recvFrom(-1));
        bad(
            "recvFromInto read-only",
            IllegalArgumentException.class,
            "read-only",
            () -> udp.recvFromInto(ByteBuffer.allocate(1).asReadOnlyBuffer()));
        bad(
            "sendTo address",
            NullPointerException.class,
            "address",
            () -> udp.sendTo(new byte[1], (SocketAddress) null));
        bad(
            "sendTo port",
            IllegalArgumentException.class,
            "port out of range",
            () -> udp.sendTo(new byte[1], "127.0.0.1", 70000));
        bad(
            "sendTo foreign",
            IllegalArgumentException.class,
            "address",
            () -> udp.sendTo(new byte[1], foreign));
        bad(
            "shutdown how",
            NullPointerException.class,
            "how",
            () -> {
              conn.shutdown(null);
              return null;
            });
        bad(
            "setTimeout",
            IllegalArgumentException.class,
            "timeout",
            () -> {
              conn.setTimeout(Duration.ofNanos(-1));
              return null;
            });
        bad(
            "setSockOpt option",
            NullPointerException.class,
            "option",
            () -> {
              conn.setSockOpt(null, 1);
              return null;
            });
        bad(
            "setSockOpt value",
            NullPointerException.class,
            "value",
            () -> {
              conn.setSockOpt(StandardSocketOptions.SO_RCVBUF, null);
              return null;
            });
        bad(
            "setSockOpt range",
            IllegalArgumentException.class,
            "value",
            () -> {
              udp.setSockOpt(StandardSocketOptions.IP_TOS, 256);
              return null;
            });
        bad(
            "setSockOpt kind",
            IllegalArgumentException.class,
            "TCP_NODELAY",
            () -> {
              udp.setSockOpt(StandardSocketOptions.TCP_NODELAY, true);
              return null;
            });
        // jsock's own TCP options and unsentBytes, as python3's setsockopt and ioctl(TIOCOUTQ); the
        // values the kernel checks, and the ioctl, on the epoll path only (the portable path
        // cannot)
        bad(
            "setSockOpt TCP_USER_TIMEOUT null",
            NullPointerException.class,
            "value",
            () -> {
              tcp.setSockOpt(Sockets.TCP_USER_TIMEOUT, null);
              return null;
            });
        bad(
            "setSockOpt TCP_USER_TIMEOUT on UDP",
            IllegalArgumentException.class,
            "TCP_USER_TIMEOUT does not apply to an AF_INET SOCK_DGRAM socket",
            () -> {
              udp.setSockOpt(Sockets.TCP_USER_TIMEOUT, 1000);
              return null;
            });
        bad(
            "getSockOpt TCP_SYNCNT on AF_UNIX",
            IllegalArgumentException.class,
            "TCP_SYNCNT does not apply to an AF_UNIX SOCK_STREAM socket",
            () -> conn.getSockOpt(Sockets.TCP_SYNCNT));
        bad(
            "setSockOpt TCP_USER_TIMEOUT raw",
            IllegalArgumentException.class,
            "value: TCP_USER_TIMEOUT cannot be 1000",
            () -> {
              @SuppressWarnings({"unchecked", "rawtypes"})
              java.net.SocketOption<Object> raw = (java.net.SocketOption) Sockets.TCP_USER_TIMEOUT;
              tcp.setSockOpt(raw, "1000");
              return null;
            });
        bad(
            "closed getSockOpt TCP_USER_TIMEOUT",
            ClosedSocketException.class,
            "closed",
            () -> closed.getSockOpt(Sockets.TCP_USER_TIMEOUT));
        bad("closed unsentBytes", ClosedSocketException.class, "closed", closed::unsentBytes);
        if (!Boolean.getBoolean("jsock.selectorPoller")) {
          bad(
              "setSockOpt TCP_USER_TIMEOUT negative",
              ErrnoException.class,
              "setsockopt TCP_USER_TIMEOUT: invalid argument",
              () -> {
                tcp.setSockOpt(Sockets.TCP_USER_TIMEOUT, -1);
                return null;
              });
          bad(
              "setSockOpt TCP_SYNCNT 0",
              ErrnoException.class,
              "setsockopt TCP_SYNCNT: invalid argument",
              () -> {
                tcp.setSockOpt(Sockets.TCP_SYNCNT, 0);
                return null;
              });
          bad(
              "setSockOpt TCP_SYNCNT 128",
              ErrnoException.class,
              "setsockopt TCP_SYNCNT: invalid argument",
              () -> {
                listener.setSockOpt(Sockets.TCP_SYNCNT, 128);
                return null;
              });
          bad(
              "unsentBytes listener",
              ErrnoException.class,
              "ioctl SIOCOUTQ: invalid argument",
              listener::unsentBytes);
        }
        bad(
            "closed bind",
            ClosedSocketException.class,
            "closed",
            () -> {
              closed.bind(loopback);
              return null;
            });
        // Sockets
        bad(
            "setDefaultTimeout",
            IllegalArgumentException.class,
            "timeout",
            () -> {
              Sockets.setDefaultTimeout(Duration.ofSeconds(-1));
              return null;
            });
        bad(
            "getAddrInfo port type",
            IllegalArgumentException.class,
            "port",
            () -> Sockets.getAddrInfo("127.0.0.1", 80L, null, null));
        bad(
            "getAddrInfo family",
            IllegalArgumentException.class,
            "family",
            () -> Sockets.getAddrInfo("127.0.0.1", 80, Family.AF_UNIX, null));
        bad(
            "getNameInfo flags",
            NullPointerException.class,
            "flags",
            () -> Sockets.getNameInfo(loopback, (NameInfoFlag[]) null));
        bad(
            "getNameInfo address",
            IllegalArgumentException.class,
            "address",
            () -> Sockets.getNameInfo(foreign));
        bad(
            "getServByPort",
            IllegalArgumentException.class,
            "port out of range",
            () -> Sockets.getServByPort(-1, null));
        bad(
            "inetPton",
            IllegalArgumentException.class,
            "ipString",
            () -> Sockets.inetPton(Family.AF_INET, ""));
        bad(
            "inetNtop",
            IllegalArgumentException.class,
            "packedIp",
            () -> Sockets.inetNtop(Family.AF_INET6, new byte[4]));
        bad(
            "inetNtoa",
            IllegalArgumentException.class,
            "packedIp",
            () -> Sockets.inetNtoa(new byte[3]));
        bad("htons", IllegalArgumentException.class, "htons", () -> Sockets.htons(65536));
        bad("htonl", IllegalArgumentException.class, "htonl", () -> Sockets.htonl(1L << 32));
        bad(
            "createConnection timeout",
            IllegalArgumentException.class,
            "timeout",
            () -> Sockets.createConnection(loopback, Duration.ZERO));
        bad(
            "createConnection options",
            NullPointerException.class,
            "options",
            () -> Sockets.createConnection(loopback, (ConnectOptions) null));
        bad(
            "createConnection address",
            IllegalArgumentException.class,
            "address",
            () -> Sockets.createConnection(foreign));
        bad(
            "createConnection source",
            IllegalArgumentException.class,
            "sourceAddress",
            () ->
                Sockets.createConnection(
                    loopback, ConnectOptions.defaults().withSourceAddress(foreign)));
        bad(
            "createServer options",
            NullPointerException.class,
            "options",
            () -> Sockets.createServer(loopback, null));
        bad(
            "createServer dualStack",
            IllegalArgumentException.class,
            "dualStack",
            () ->
                Sockets.createServer(
                    new InetSocketAddress("127.0.0.1", 0),
                    ServerOptions.defaults().withDualStack(true)));
        bad(
            "createServer in use",
            AddressInUseException.class,
            "address already in use",
            () -> Sockets.createServer(listener.getSockName()));
        // values
        bad(
            "ServerOptions backlog",
            IllegalArgumentException.class,
            "backlog",
            () -> ServerOptions.defaults().withBacklog(-1));
        bad(
            "ConnectOptions timeout",
            IllegalArgumentException.class,
            "timeout",
            () -> ConnectOptions.defaults().withTimeout(Duration.ofSeconds(-1)));
        bad(
            "Datagram",
            NullPointerException.class,
            "address",
            () -> new Datagram(new byte[0], null));
        bad(
            "SelectorKey",
            IllegalArgumentException.class,
            "events",
            () -> new SelectorKey(conn, Set.of(), null));
        // SocketSelector
        bad(
            "register socket",
            NullPointerException.class,
            "socket",
            () -> selector.register(null, EnumSet.of(Event.EVENT_READ), null));
        bad(
            "register events",
            IllegalArgumentException.class,
            "events",
            () -> selector.register(conn, Set.of(), null));
        bad(
            "register closed",
            ClosedSocketException.class,
            "closed",
            () -> selector.register(closed, EnumSet.of(Event.EVENT_READ), null));
        bad(
            "modify unregistered",
            IllegalArgumentException.class,
            "not registered",
            () -> selector.modify(conn, EnumSet.of(Event.EVENT_READ), null));
        bad(
            "getKey unregistered",
            IllegalArgumentException.class,
            "not registered",
            () -> selector.getKey(conn));
        // framing
        bad(
            "lengthPrefixed",
            IllegalArgumentException.class,
            "maxSize",
            () -> Framing.lengthPrefixed(Framing.Prefix.U16, 70000));
        bad(
            "delimited",
            IllegalArgumentException.class,
            "delimiter",
            () -> Framing.delimited(new byte[0], 1));
        bad(
            "Framing.on udp",
            IllegalArgumentException.class,
            "socket",
            () -> Framing.lines(10).on(udp));
        bad(
            "sendMsg",
            NullPointerException.class,
            "message",
            () -> {
              Framing.lines(10).on(conn).sendMsg(null);
              return null;
            });
        // server
        bad(
            "ServerConfig maxConnections",
            IllegalArgumentException.class,
            "maxConnections",
            () -> ServerConfig.defaults().withMaxConnections(0));
        bad(
            "ServerConfig idleTimeout",
            IllegalArgumentException.class,
            "idleTimeout",
            () -> ServerConfig.defaults().withIdleTimeout(Duration.ZERO));
        bad(
            "ServerConfig tls",
            IllegalArgumentException.class,
            "tls",
            () -> ServerConfig.defaults().withTls(Tls.client()));
        bad(
            "TcpServer handler",
            NullPointerException.class,
            "handler",
            () -> TcpServer.start(ServerConfig.defaults(), null));
        bad(
            "TcpServer in use",
            AddressInUseException.class,
            "address already in use",
            () ->
                TcpServer.start(
                    ServerConfig.defaults().withAddress(listener.getSockName()), s -> {}));
        bad(
            "UdpServer unix",
            IllegalArgumentException.class,
            "address",
            () ->
                UdpServer.start(
                    ServerConfig.defaults()
                        .withAddress(UnixDomainSocketAddress.of(dir.resolve("u"))),
                    (d, s) -> {}));
        // tls
        TlsContext client = Tls.client();
        bad("Tls.session plain", IllegalArgumentException.class, "socket", () -> Tls.session(conn));
        bad(
            "withHandshakeTimeout",
            IllegalArgumentException.class,
            "timeout",
            () -> client.withHandshakeTimeout(Duration.ZERO));
        bad(
            "withProtocols",
            IllegalArgumentException.class,
            "protocols",
            () -> client.withProtocols("TLSv1"));
        bad(
            "withTrustedCertificates",
            IllegalArgumentException.class,
            "certificates",
            () -> client.withTrustedCertificates(List.of()));
        bad(
            "wrap hostname",
            IllegalArgumentException.class,
            "serverHostname",
            () -> client.wrap(conn, null));
        bad(
            "wrap udp",
            IllegalArgumentException.class,
            "SOCK_STREAM",
            () -> client.wrap(udp, "localhost"));
        bad(
            "selfSigned",
            IllegalArgumentException.class,
            "hostNames",
            () -> KeyMaterial.selfSigned("a b"));
        bad(
            "fromPem garbage",
            IllegalArgumentException.class,
            "certChainPem",
            () -> KeyMaterial.fromPem(file, file));
        // a directory where a file is wanted: the JDK's IOException said only 'Is a directory'
        bad(
            "fromPem chain directory",
            FileSystemException.class,
            "certChainPem",
            () -> KeyMaterial.fromPem(dir, file));
        bad(
            "fromPem key directory",
            FileSystemException.class,
            "pkcs8KeyPem",
            () -> KeyMaterial.fromPem(certificateFile(), dir));
        bad(
            "fromPkcs12 directory",
            FileSystemException.class,
            "pkcs12",
            () -> KeyMaterial.fromPkcs12(dir, new char[0]));
        bad(
            "withTrust directory",
            FileSystemException.class,
            "pemOrPkcs12CaFile",
            () -> client.withTrust(dir));

        List<String> wrong = new ArrayList<>();
        for (Case c : cases) {
          try {
            Object result = c.call.run();
            if (result instanceof AutoCloseable opened) {
              opened.close();
            }
            wrong.add(c.name + ": returned " + result);
          } catch (Throwable e) {
            if (!c.type.isInstance(e)
                || e.getMessage() == null
                || !e.getMessage().contains(c.words)) {
              wrong.add(c.name + ": " + e);
            }
          }
        }
        assertThat(wrong).as("calls not refused as expected").isEmpty();
      } finally {
        pair[0].close();
        pair[1].close();
      }
    }
    Set<String> opened = openedSince(before);
    for (int i = 0; i < 100 && !opened.isEmpty(); i++) { // one another thread opened for a while
      Thread.sleep(100);
      opened = openedSince(before);
    }
    assertThat(opened).as("file descriptors the sweep left open").isEmpty();
  }

  /** A PEM certificate file, so that only the key's path is wrong. */
  private Path certificateFile() throws IOException {
    byte[] der;
    try {
      der = KeyMaterial.selfSigned("localhost").certificateChain().getFirst().getEncoded();
    } catch (java.security.cert.CertificateEncodingException e) {
      throw new IOException(e);
    }
    String pem =
        "-----BEGIN CERTIFICATE-----\n"
            + java.util.Base64.getMimeEncoder().encodeToString(der)
            + "\n-----END CERTIFICATE-----\n";
    return Files.writeString(dir.resolve("cert.pem"), pem);
  }

  @Test
  void aDirectoryGivenForATlsFileIsNamedWithItsParameter() {
    assertThatThrownBy(() -> Tls.client().withTrust(dir))
        .isInstanceOf(FileSystemException.class)
        .hasMessage(dir + ": Is a directory (pemOrPkcs12CaFile)");
    assertThatThrownBy(() -> KeyMaterial.fromPkcs12(dir, new char[0]))
        .isInstanceOf(FileSystemException.class)
        .hasMessage(dir + ": Is a directory (pkcs12)");
  }
}
