package io.jsock;

import static io.jsock.Family.AF_UNIX;
import static io.jsock.SocketKind.SOCK_STREAM;
import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;
import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

import io.jsock.testing.ChildJvm;
import io.jsock.testing.Loopback;
import io.jsock.testing.Running;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.net.SocketAddress;
import java.net.SocketTimeoutException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.stream.Stream;
import jdk.net.ExtendedSocketOptions;
import jdk.net.UnixDomainPrincipal;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** {@link Socket} over AF_UNIX: paths, stale socket files, peer credentials, socket pairs. */
class SocketUnixTest {
  @TempDir Path dir;

  // ported from the JDK's unixdomain tests (Shutdown, and java/net/Socket's ReadAfterReset); what
  // python3 on Linux gives: a peer that closes with bytes of ours unread resets the connection, so
  // recv raises ConnectionResetError once, then returns b'', and send raises BrokenPipeError
  @ParameterizedTest
  @ValueSource(booleans = {true, false})
  void aPeerClosingWithOurBytesUnreadResetsTheConnectionOnceAsPythonSays(boolean blocking)
      throws Exception {
    var address = UnixDomainSocketAddress.of(dir.resolve("reset.sock"));
    try (Socket listener = Socket.create(AF_UNIX, SOCK_STREAM);
        Socket client = Socket.create(AF_UNIX, SOCK_STREAM)) {
      listener.bind(address);
      listener.listen();
      client.connect(address);
      Socket server = listener.accept().conn();
      client.sendAll("unread".getBytes(UTF_8));
      server.close();
      client.setBlocking(blocking);

      assertThatThrownBy(() -> client.recv(10))
          .isInstanceOf(ConnectionResetException.class)
          .hasMessage("recv from " + address.getPath() + ": connection reset by peer");
      assertThat(client.recv(10)).isEmpty();
      assertThatThrownBy(() -> client.send("x".getBytes(UTF_8)))
          .isInstanceOf(BrokenPipeException.class)
          .hasMessage("send to " + address.getPath() + ": broken pipe");
      client.shutdown(Shutdown.SHUT_WR);
      client.shutdown(Shutdown.SHUT_WR); // again: Linux (and Python) take it
      assertThat(client.getPeerName()).isEqualTo(address);
    }
  }

  @Test
  void aPathTooLongForTheKernelIsRefusedNamingTheLimit() throws Exception {
    Path tooLong = dir.resolve("x".repeat(120));
    try (Socket socket = Socket.create(AF_UNIX, SOCK_STREAM)) {
      assertThatThrownBy(() -> socket.bind(UnixDomainSocketAddress.of(tooLong)))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageStartingWith("address: AF_UNIX path too long (")
          .hasMessageContaining("bytes, the JDK allows 106): " + tooLong);
    }
  }

  // python3 on Linux: bind of a path of 107 bytes works (108 raises OSError 'AF_UNIX path too
  // long'); the JDK refuses 107 ("Unix domain path too long"), which jsock reported as EIO
  @Test
  void aPathOfTheJdksLimitBindsAndOneByteMoreIsRefusedNamingTheLimit() throws Exception {
    Path longest = pathOfLength(106);
    Path tooLong = pathOfLength(107);
    try (Socket socket = Socket.create(AF_UNIX, SOCK_STREAM);
        Socket other = Socket.create(AF_UNIX, SOCK_STREAM)) {
      socket.bind(UnixDomainSocketAddress.of(longest));
      assertThat(socket.getSockName()).isEqualTo(UnixDomainSocketAddress.of(longest));

      assertThatThrownBy(() -> other.bind(UnixDomainSocketAddress.of(tooLong)))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessage("address: AF_UNIX path too long (107 bytes, the JDK allows 106): " + tooLong);
      assertThatThrownBy(() -> other.connect(UnixDomainSocketAddress.of(tooLong)))
          .isInstanceOf(IllegalArgumentException.class);
    }
  }

  private Path pathOfLength(int bytes) {
    Path path = dir.resolve("x".repeat(bytes - dir.toString().length() - 1));
    assertThat(path.toString().getBytes(UTF_8)).hasSize(bytes);
    return path;
  }

  // python3 on Linux: the kernel looks the path up before it looks at the socket's own state
  // (unix_stream_connect), so a connected socket's connect to a path with nothing there raises
  // FileNotFoundError (ENOENT), and to a regular file ConnectionRefusedError, as does a
  // listener's; jsock gave EISCONN and EINVAL (found by PythonDifferentialTest)
  @Test
  void aConnectedSocketOrAListenerConnectingToAMissingPathOrAFileIsToldSoFirst() throws Exception {
    var address = UnixDomainSocketAddress.of(dir.resolve("server.sock"));
    var missing = UnixDomainSocketAddress.of(dir.resolve("missing.sock"));
    var file = UnixDomainSocketAddress.of(Files.writeString(dir.resolve("file"), "x"));
    try (Socket listener = Socket.create(AF_UNIX, SOCK_STREAM);
        Socket client = Socket.create(AF_UNIX, SOCK_STREAM)) {
      listener.bind(address);
      listener.listen();
      client.connect(address);
      for (Socket s : List.of(client, listener)) {
        ErrnoException e = catchThrowableOfType(ErrnoException.class, () -> s.connect(missing));
        assertThat(e.errno()).isEqualTo(Errno.ENOENT);
        assertThat(e).hasMessage("connect to " + missing.getPath() + ": no such file or directory");
        assertThat(s.connectEx(file)).isEqualTo(Errno.ECONNREFUSED);
        assertThatThrownBy(() -> s.connect(file)).isInstanceOf(ConnectionRefusedException.class);
      }
      assertThat(client.connectEx(address)).isEqualTo(Errno.EISCONN);
      assertThat(listener.connectEx(address)).isEqualTo(Errno.EINVAL);
      client.sendAll(new byte[] {7});
      assertThat(listener.accept().conn().recv(1)).containsExactly(7);
    }
  }

  // python3 on Linux: c.bind('') (autobind), a connect refused, then c.connect_ex(listener) gives
  // 0.
  // jsock's fresh channel after the failed connect took the empty path for a socket file: its
  // identity was the working directory's, which it tried to delete (a working directory that
  // happened to be empty would have gone) and failed, so the next connect gave EINVAL. Found by
  // PythonDifferentialTest (seed 1265 of its mixed seeds).
  @Test
  void anAutoboundClientConnectsAfterARefusedConnectAndLeavesTheWorkingDirectoryAlone()
      throws Exception {
    var address = UnixDomainSocketAddress.of(dir.resolve("server.sock"));
    var nobody = UnixDomainSocketAddress.of(dir.resolve("nobody.sock"));
    try (Socket listener = Socket.create(AF_UNIX, SOCK_STREAM);
        Socket nobodysSocket = Socket.create(AF_UNIX, SOCK_STREAM);
        Socket client = Socket.create(AF_UNIX, SOCK_STREAM)) {
      listener.bind(address);
      listener.listen();
      nobodysSocket.bind(nobody); // a socket file with no listener: refused
      client.bind(UnixDomainSocketAddress.of(""));
      Object workingDirectory = Files.readAttributes(Path.of(""), "fileKey").get("fileKey");

      assertThatThrownBy(() -> client.connect(nobody))
          .isInstanceOf(ConnectionRefusedException.class);

      assertThat(client.connectEx(address)).isZero();
      client.sendAll("x".getBytes(UTF_8));
      try (Socket conn = listener.accept().conn()) {
        assertThat(conn.recv(1)).isEqualTo("x".getBytes(UTF_8));
      }
      assertThat(Files.readAttributes(Path.of(""), "fileKey").get("fileKey"))
          .isEqualTo(workingDirectory);
    }
  }

  @Test
  void aStaleSocketFileIsReplacedButALiveOneIsInUse() throws Exception {
    var address = UnixDomainSocketAddress.of(dir.resolve("server.sock"));
    try (Socket first = Socket.create(AF_UNIX, SOCK_STREAM)) {
      first.bind(address);
      first.listen();
    }
    assertThat(Files.exists(address.getPath())).as("a closed listener leaves its file").isTrue();

    try (Socket second = Socket.create(AF_UNIX, SOCK_STREAM);
        Socket third = Socket.create(AF_UNIX, SOCK_STREAM)) {
      second.bind(address); // the stale file from the first is replaced
      second.listen();

      AddressInUseException e =
          catchThrowableOfType(AddressInUseException.class, () -> third.bind(address));
      assertThat(e).hasMessage("bind to " + address.getPath() + ": address already in use");
      assertThat(e.errno()).isEqualTo(Errno.EADDRINUSE);
      second.setBlocking(false);
      assertThatThrownBy(second::accept)
          .as("finding the address in use sent the live listener no connection")
          .isInstanceOf(WouldBlockException.class);
      second.setBlocking(true);

      try (Socket client = Socket.create(AF_UNIX, SOCK_STREAM)) {
        client.connect(address);
        assertThat(second.accept().conn().getPeerName()).isNotNull();
      }
    }
  }

  // python3 on Linux: bind to a symbolic link raises EADDRINUSE whatever it points to (the kernel
  // makes the socket file at the path and never follows a link there); jsock followed the link,
  // found a stale socket file at its end, and removed the link (someone's, not a socket's file)
  @Test
  void aSymbolicLinkToAStaleSocketFileIsInUseAndLeftInPlace() throws Exception {
    var stale = UnixDomainSocketAddress.of(dir.resolve("real.sock"));
    try (Socket first = Socket.create(AF_UNIX, SOCK_STREAM)) {
      first.bind(stale);
      first.listen();
    }
    Path link = Files.createSymbolicLink(dir.resolve("link.sock"), stale.getPath());
    var address = UnixDomainSocketAddress.of(link);
    try (Socket second = Socket.create(AF_UNIX, SOCK_STREAM)) {
      AddressInUseException e =
          catchThrowableOfType(AddressInUseException.class, () -> second.bind(address));
      assertThat(e).hasMessage("bind to " + link + ": address already in use");
      assertThat(Files.isSymbolicLink(link)).as("the link is left").isTrue();
      assertThat(Files.readSymbolicLink(link)).isEqualTo(stale.getPath());
    }
  }

  // python3 on Linux: a socket bound to a path and not listening yet (a server between bind and
  // listen, to chmod its file) refuses connections; bind to that path spelt another way (through
  // a linked directory, as /var/run for /run, or relative to another working directory) raises
  // EADDRINUSE. jsock looked the spelling up in /proc/net/unix, missed it, took the refusal for a
  // stale file and removed the other socket's file
  @Test
  void aBoundSocketNotListeningYetKeepsItsFileWhateverItsPathIsCalled() throws Exception {
    Path real = Files.createDirectory(dir.resolve("real"));
    Path alias = Files.createSymbolicLink(dir.resolve("alias"), real);
    Path relative = Path.of("").toAbsolutePath().relativize(real.resolve("rel.sock"));
    assertThat(relative.isAbsolute()).isFalse();
    try (Socket linked = Socket.create(AF_UNIX, SOCK_STREAM);
        Socket fromCwd = Socket.create(AF_UNIX, SOCK_STREAM);
        Socket other = Socket.create(AF_UNIX, SOCK_STREAM)) {
      linked.bind(UnixDomainSocketAddress.of(real.resolve("held.sock")));
      fromCwd.bind(UnixDomainSocketAddress.of(relative));
      for (Path spelt : List.of(alias.resolve("held.sock"), real.resolve("rel.sock"))) {
        var address = UnixDomainSocketAddress.of(spelt);
        AddressInUseException e =
            catchThrowableOfType(AddressInUseException.class, () -> other.bind(address));
        assertThat(e).hasMessage("bind to " + spelt + ": address already in use");
      }
      for (Socket holder : List.of(linked, fromCwd)) {
        holder.listen();
        try (Socket client = Socket.create(AF_UNIX, SOCK_STREAM)) {
          client.connect(holder.getSockName());
          assertThat(holder.accept().conn().getPeerName()).isNotNull();
        }
      }
    }
  }

  // python3 on Linux: a socket bound in the abstract namespace to b'\0\xff\xfe...' (any bytes
  // are allowed there, and in a path) shows in /proc/net/unix as '@\xff\xfe...'; jsock read the
  // table as UTF-8, so binding over a stale socket file threw UncheckedIOException
  // (MalformedInputException) while such a socket existed anywhere in the network namespace
  @Test
  void aStaleSocketFileIsReplacedWhileASocketWithANameThatIsNoUtf8Exists() throws Throwable {
    var address = UnixDomainSocketAddress.of(dir.resolve("server.sock"));
    try (Socket first = Socket.create(AF_UNIX, SOCK_STREAM)) {
      first.bind(address);
      first.listen();
    }
    int fd = bindAbstract(new byte[] {(byte) 0xff, (byte) 0xfe, 'j', 's', (byte) 0x80});
    try (Socket second = Socket.create(AF_UNIX, SOCK_STREAM)) {
      second.bind(address);
      second.listen();
      try (Socket client = Socket.create(AF_UNIX, SOCK_STREAM)) {
        client.connect(address);
        assertThat(second.accept().conn().getPeerName()).isNotNull();
      }
    } finally {
      Native.close(fd);
    }
  }

  // python3 on Linux: a stream socket's connect to the path of a datagram socket raises
  // OSError(91, 'Protocol wrong type for socket') (EPROTOTYPE); jsock said "input/output error"
  // (EIO), its fallback for a JDK message it did not know, and connect_ex returned 5
  @Test
  void aConnectToADatagramSocketsPathIsRefusedAsTheWrongTypeAsPythonSays() throws Throwable {
    Path path = dir.resolve("dgram.sock");
    var address = UnixDomainSocketAddress.of(path);
    int fd = Native.socket(1, 2, 0); // AF_UNIX, SOCK_DGRAM: the JDK cannot make one
    assertThat(fd).isNotNegative();
    try (Arena arena = Arena.ofConfined();
        Socket client = Socket.create(AF_UNIX, SOCK_STREAM)) {
      byte[] name = path.toString().getBytes(UTF_8);
      MemorySegment sockaddr = arena.allocate(110);
      sockaddr.set(JAVA_SHORT, 0, (short) 1); // sun_family AF_UNIX
      MemorySegment.copy(name, 0, sockaddr, JAVA_BYTE, 2, name.length);
      assertThat(Native.bind(fd, sockaddr, 2 + name.length + 1)).isZero();

      ErrnoException e = catchThrowableOfType(ErrnoException.class, () -> client.connect(address));
      assertThat(e.errno()).isEqualTo(Errno.EPROTOTYPE).isEqualTo(91);
      assertThat(e).hasMessage("connect to " + path + ": protocol wrong type for socket");
      assertThat(client.connectEx(address)).isEqualTo(Errno.EPROTOTYPE);
    } finally {
      Native.close(fd);
    }
  }

  /**
   * A socket bound in the abstract namespace to {@code name} plus a number of this test's own (the
   * JDK cannot make one), as Python's {@code bind(b"\0" + name)}; its descriptor.
   */
  private static int bindAbstract(byte[] name) throws Throwable {
    int fd = Native.socket(1, 1, 0); // AF_UNIX, SOCK_STREAM
    assertThat(fd).isNotNegative();
    try (Arena arena = Arena.ofConfined()) {
      byte[] suffix = Long.toString(ProcessHandle.current().pid()).getBytes(UTF_8);
      MemorySegment sockaddr = arena.allocate(110);
      sockaddr.set(JAVA_SHORT, 0, (short) 1); // sun_family AF_UNIX, sun_path[0] NUL: abstract
      MemorySegment.copy(name, 0, sockaddr, JAVA_BYTE, 3, name.length);
      MemorySegment.copy(suffix, 0, sockaddr, JAVA_BYTE, 3 + name.length, suffix.length);
      assertThat(Native.bind(fd, sockaddr, 3 + name.length + suffix.length)).isZero();
    } catch (Throwable e) {
      Native.close(fd);
      throw e;
    }
    return fd;
  }

  /** socket(2), bind(2) and close(2), for sockets the JDK cannot make. */
  private static final class Native {
    private static final Linker LINKER = Linker.nativeLinker();
    private static final MethodHandle SOCKET =
        handle("socket", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT));
    private static final MethodHandle BIND =
        handle("bind", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT));
    private static final MethodHandle CLOSE =
        handle("close", FunctionDescriptor.of(JAVA_INT, JAVA_INT));

    private static MethodHandle handle(String name, FunctionDescriptor descriptor) {
      return LINKER.downcallHandle(LINKER.defaultLookup().find(name).orElseThrow(), descriptor);
    }

    static int socket(int domain, int type, int protocol) throws Throwable {
      return (int) SOCKET.invokeExact(domain, type, protocol);
    }

    static int bind(int fd, MemorySegment address, int length) throws Throwable {
      return (int) BIND.invokeExact(fd, address, length);
    }

    static void close(int fd) throws Throwable {
      int ignored = (int) CLOSE.invokeExact(fd);
    }
  }

  // python3 on Linux: s.bind(p); os.chmod(p, 0o600); s.listen() leaves p at 0o140600, the same
  // inode (gunicorn and others chmod or chown between bind and listen); jsock's listen made the
  // file afresh, with the umask's mode (0o755 under umask 022)
  @Test
  void aModeSetBetweenBindAndListenHoldsForTheListeningSocket() throws Exception {
    Path path = dir.resolve("server.sock");
    var address = UnixDomainSocketAddress.of(path);
    for (String mode : List.of("rw-------", "rwxrw-rw-")) {
      Files.deleteIfExists(path);
      try (Socket server = Socket.create(AF_UNIX, SOCK_STREAM)) {
        server.bind(address);
        Files.setPosixFilePermissions(path, PosixFilePermissions.fromString(mode));
        server.listen();
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(path)))
            .isEqualTo(mode);
        try (Socket client = Socket.create(AF_UNIX, SOCK_STREAM)) {
          client.connect(address);
          assertThat(server.accept().conn().getSockName()).isEqualTo(address);
        }
      }
    }
  }

  // between bind and listen another program may take the path (unlink, then its own bind, as a
  // second instance of a server does) or put a file there; Linux's listen leaves the path alone
  // (it listens on the socket, not the name), and jsock's, which binds its listener afresh, deleted
  // whatever was at the path: the other server's socket file, or a regular file with its data
  @Test
  void aListenLeavesAloneWhatAnotherProgramPutAtThePathSinceTheBind() throws Exception {
    Path path = dir.resolve("server.sock");
    var address = UnixDomainSocketAddress.of(path);
    try (Socket first = Socket.create(AF_UNIX, SOCK_STREAM);
        ServerSocketChannel other = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
      first.bind(address);
      Files.delete(path);
      other.bind(address);

      assertThatThrownBy(first::listen)
          .isInstanceOf(AddressInUseException.class)
          .hasMessage(
              "listen on "
                  + path
                  + ": address already in use (another socket or file has taken the path since"
                  + " the bind)");
      try (Socket client = Socket.create(AF_UNIX, SOCK_STREAM)) {
        client.connect(address);
        other.accept().close();
      }
    }
    try (Socket second = Socket.create(AF_UNIX, SOCK_STREAM)) {
      Files.deleteIfExists(path);
      second.bind(address);
      Files.delete(path);
      Files.writeString(path, "keep me");

      assertThatThrownBy(second::listen).isInstanceOf(AddressInUseException.class);
      assertThat(Files.readString(path)).isEqualTo("keep me");
    }
  }

  // a failed connect makes the JDK close the channel, and jsock binds a fresh one to the path as
  // the old one was: it too removed the file another program had put at the path since the bind
  @Test
  void aFailedConnectLeavesAloneWhatAnotherProgramPutAtThePathSinceTheBind() throws Exception {
    Path path = dir.resolve("client.sock");
    var address = UnixDomainSocketAddress.of(path);
    try (Socket client = Socket.create(AF_UNIX, SOCK_STREAM);
        ServerSocketChannel other = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
      client.bind(address);
      Files.delete(path);
      other.bind(address);

      assertThatThrownBy(() -> client.connect(UnixDomainSocketAddress.of(dir.resolve("nobody"))))
          .isInstanceOf(ErrnoException.class)
          .hasMessageContaining("no such file or directory");
      try (Socket third = Socket.create(AF_UNIX, SOCK_STREAM)) {
        third.connect(address);
        other.accept().close();
      }
    }
  }

  // python3 on Linux: a client that connected unbound may bind afterwards (getsockname gives the
  // path, the server's getpeername too, and the socket file is made); a bound socket, connected
  // or not, and a listener are refused with EINVAL. jsock refused the first with EINVAL as well
  // python3: conn, addr = l.accept() gives addr '' for a client that connected unbound; once it
  // binds c.sock, conn.getpeername() gives '/…/c.sock' (and conn.recvfrom names it too)
  @Test
  void anAcceptedSocketsPeerNameIsThePathItsClientBoundAfterConnectingAsPythonSays()
      throws Exception {
    assumeFalse(Boolean.getBoolean("jsock.selectorPoller"), "the epoll path's FFM calls");
    var server = UnixDomainSocketAddress.of(dir.resolve("server.sock"));
    var late = UnixDomainSocketAddress.of(dir.resolve("late.sock"));
    try (Socket listener = Socket.create(AF_UNIX, SOCK_STREAM);
        Socket client = Socket.create(AF_UNIX, SOCK_STREAM)) {
      listener.bind(server);
      listener.listen();
      client.connect(server);
      Accepted accepted = listener.accept();
      try (Socket conn = accepted.conn()) {
        assertThat(accepted.address()).isEqualTo(UnixDomainSocketAddress.of(""));
        assertThat(conn.getPeerName()).isEqualTo(UnixDomainSocketAddress.of(""));

        client.bind(late);

        assertThat(conn.getPeerName()).isEqualTo(late);
        client.sendAll("x".getBytes(UTF_8));
        assertThat(conn.recvFrom(1).address()).isEqualTo(late);
        assertThat(client.getPeerName()).isEqualTo(server);
      }
    }
  }

  @Test
  void aClientThatConnectedUnboundMayBindAfterwardsAsOnLinux() throws Exception {
    assumeFalse(Boolean.getBoolean("jsock.selectorPoller"), "the epoll path's FFM calls");
    var server = UnixDomainSocketAddress.of(dir.resolve("server.sock"));
    var late = UnixDomainSocketAddress.of(dir.resolve("late.sock"));
    try (Socket listener = Socket.create(AF_UNIX, SOCK_STREAM);
        Socket client = Socket.create(AF_UNIX, SOCK_STREAM)) {
      listener.bind(server);
      listener.listen();
      client.connect(server);
      try (Socket accepted = listener.accept().conn()) {
        client.bind(late);

        assertThat(client.getSockName()).isEqualTo(late);
        assertThat(Files.exists(late.getPath())).isTrue();
        client.sendAll("after the bind".getBytes(UTF_8));
        assertThat(new String(accepted.recv(100), UTF_8)).isEqualTo("after the bind");
        assertThatThrownBy(() -> client.bind(UnixDomainSocketAddress.of(dir.resolve("again"))))
            .isInstanceOf(ErrnoException.class)
            .hasMessageEndingWith("invalid argument");
        assertThatThrownBy(() -> listener.bind(UnixDomainSocketAddress.of(dir.resolve("l2"))))
            .isInstanceOf(ErrnoException.class)
            .hasMessageEndingWith("invalid argument");
      }
    }
    // a path in use is refused as Python's (EADDRINUSE), and nothing is removed
    try (Socket listener = Socket.create(AF_UNIX, SOCK_STREAM);
        Socket holder = Socket.create(AF_UNIX, SOCK_STREAM);
        Socket client = Socket.create(AF_UNIX, SOCK_STREAM)) {
      Files.delete(late.getPath());
      Files.delete(server.getPath());
      listener.bind(server);
      listener.listen();
      holder.bind(late);
      client.connect(server);
      assertThatThrownBy(() -> client.bind(late)).isInstanceOf(AddressInUseException.class);
      assertThat(client.getSockName()).isEqualTo(UnixDomainSocketAddress.of(""));
      assertThat(holder.getSockName()).isEqualTo(late);
    }
  }

  // python3 on Linux: clients that connected unbound, and a socketpair() end, each bind('') and
  // get an abstract name of their own from the kernel (autobind: b'\x00e6620'). jsock passed the
  // empty path with its NUL, which names the one empty abstract address: the first took it and
  // the second bind failed with EADDRINUSE (PythonDifferentialTest seed 1923).
  @Test
  void clientsThatConnectedUnboundEachAutobindAsOnLinux() throws Exception {
    assumeFalse(Boolean.getBoolean("jsock.selectorPoller"), "the epoll path's FFM calls");
    var server = UnixDomainSocketAddress.of(dir.resolve("server.sock"));
    var unnamed = UnixDomainSocketAddress.of("");
    Socket[] pair = Sockets.socketPair();
    try (Socket listener = Socket.create(AF_UNIX, SOCK_STREAM);
        Socket first = Socket.create(AF_UNIX, SOCK_STREAM);
        Socket second = Socket.create(AF_UNIX, SOCK_STREAM);
        Socket pairEnd = pair[0];
        Socket otherEnd = pair[1]) {
      listener.bind(server);
      listener.listen();
      first.connect(server);
      second.connect(server);
      try (Socket acceptedFirst = listener.accept().conn();
          Socket acceptedSecond = listener.accept().conn()) {
        first.bind(unnamed);
        second.bind(unnamed);
        pairEnd.bind(unnamed);

        // an abstract name is none a Path can hold: "" as before the bind (README)
        assertThat(second.getSockName()).isEqualTo(unnamed);
        assertThat(acceptedSecond.getPeerName()).isEqualTo(unnamed);
        second.sendAll("after the bind".getBytes(UTF_8));
        assertThat(new String(acceptedSecond.recv(100), UTF_8)).isEqualTo("after the bind");
        pairEnd.sendAll("pair".getBytes(UTF_8));
        assertThat(new String(otherEnd.recv(100), UTF_8)).isEqualTo("pair");
        first.bind(unnamed); // bound already: Linux's autobind does nothing, as before
        assertThatThrownBy(() -> first.bind(UnixDomainSocketAddress.of(dir.resolve("again"))))
            .isInstanceOf(ErrnoException.class)
            .hasMessageEndingWith("invalid argument");
        assertThat(acceptedFirst.getPeerName()).isEqualTo(unnamed);
      }
    }
  }

  @Test
  void aRegularFileInTheWayIsNeverRemoved() throws Exception {
    Path file = Files.writeString(dir.resolve("notes.txt"), "keep me");
    try (Socket socket = Socket.create(AF_UNIX, SOCK_STREAM)) {
      assertThatThrownBy(() -> socket.bind(UnixDomainSocketAddress.of(file)))
          .isInstanceOf(AddressInUseException.class);
    }
    assertThat(Files.readString(file)).isEqualTo("keep me");
  }

  // python3 on Linux: bind, connect and connect_ex to a path under a regular file raise
  // NotADirectoryError (ENOTDIR), and through a loop of symbolic links OSError(ELOOP); jsock said
  // EIO ("input/output error") for both
  @Test
  void aPathThatCannotLeadToASocketGivesTheKernelsErrno() throws Exception {
    Path file = Files.writeString(dir.resolve("notes.txt"), "x");
    Path loop = Files.createSymbolicLink(dir.resolve("a"), dir.resolve("b"));
    Files.createSymbolicLink(dir.resolve("b"), loop);
    record Case(Path path, int errno, String reason) {}
    for (Case c :
        List.of(
            new Case(file.resolve("x.sock"), 20, "not a directory"),
            new Case(loop.resolve("x.sock"), 40, "too many levels of symbolic links"))) {
      UnixDomainSocketAddress address = UnixDomainSocketAddress.of(c.path());
      try (Socket bound = Socket.create(AF_UNIX, SOCK_STREAM);
          Socket connected = Socket.create(AF_UNIX, SOCK_STREAM);
          Socket connectedEx = Socket.create(AF_UNIX, SOCK_STREAM)) {
        ErrnoException bind = catchThrowableOfType(ErrnoException.class, () -> bound.bind(address));
        ErrnoException connect =
            catchThrowableOfType(ErrnoException.class, () -> connected.connect(address));

        assertThat(bind.errno()).isEqualTo(c.errno());
        assertThat(bind).hasMessage("bind to " + c.path() + ": " + c.reason());
        assertThat(bind.address()).isEqualTo(address);
        assertThat(connect.errno()).isEqualTo(c.errno());
        assertThat(connect).hasMessage("connect to " + c.path() + ": " + c.reason());
        assertThat(connect.getCause()).isInstanceOf(java.net.SocketException.class);
        assertThat(connectedEx.connectEx(address)).isEqualTo(c.errno());
      }
    }
    assertThat(Errno.ENOTDIR).isEqualTo(20);
    assertThat(Errno.ELOOP).isEqualTo(40);
  }

  @Test
  void peerCredentialsNameThisProcessesUser() throws Exception {
    var address = UnixDomainSocketAddress.of(dir.resolve("creds.sock"));
    try (Socket server = Socket.create(AF_UNIX, SOCK_STREAM);
        Socket client = Socket.create(AF_UNIX, SOCK_STREAM)) {
      server.bind(address);
      server.listen();
      client.connect(address);
      try (Socket conn = server.accept().conn()) {
        UnixDomainPrincipal peer = conn.getSockOpt(ExtendedSocketOptions.SO_PEERCRED);
        assertThat(peer.user().getName()).isEqualTo(System.getProperty("user.name"));
      }
    }
  }

  // python3 on Linux: getsockopt(SOL_SOCKET, SO_PEERCRED, 12) of an AF_UNIX socket that is not
  // connected gives (pid 0, uid -1, gid -1), no peer; the JDK fails on that uid with a stale
  // errno, so jsock said "getsockopt SO_PEERCRED: no such file or directory" (ENOENT)
  @Test
  void peerCredentialsOfASocketThatIsNotConnectedAreRefusedAsNotConnected() throws Exception {
    var address = UnixDomainSocketAddress.of(dir.resolve("creds.sock"));
    try (Socket fresh = Socket.create(AF_UNIX, SOCK_STREAM);
        Socket bound = Socket.create(AF_UNIX, SOCK_STREAM)) {
      bound.bind(address);
      for (Socket socket : List.of(fresh, bound)) {
        ErrnoException e =
            catchThrowableOfType(
                ErrnoException.class, () -> socket.getSockOpt(ExtendedSocketOptions.SO_PEERCRED));
        assertThat(e).hasMessage("getsockopt SO_PEERCRED: transport endpoint is not connected");
        assertThat(e.errno()).isEqualTo(Errno.ENOTCONN);
      }
    }
  }

  @Test
  void socketPairIsConnectedBothWaysAndLeavesNoFileBehind() throws Exception {
    List<Path> before = pairDirectories();
    Socket[] pair = Sockets.socketPair();
    try (Socket a = pair[0];
        Socket b = pair[1]) {
      assertThat(a.family()).isEqualTo(AF_UNIX);
      a.sendAll("ping".getBytes(UTF_8));
      assertThat(b.recv(10)).isEqualTo("ping".getBytes(UTF_8));
      b.sendAll("pong".getBytes(UTF_8));
      assertThat(a.recv(10)).isEqualTo("pong".getBytes(UTF_8));
      b.shutdown(Shutdown.SHUT_WR);
      assertThat(a.recv(10)).isEmpty();
      assertThat(pairDirectories()).isEqualTo(before);
    }
  }

  // python3 on Linux: socketpair() works whatever TMPDIR is (socketpair(2) needs no path); jsock's
  // listener went in java.io.tmpdir, and a directory of 80 bytes or more there made socketPair
  // throw IllegalArgumentException (an AF_UNIX path too long) for an argument never given. The JDK
  // reads java.io.tmpdir at start-up, hence a JVM of its own.
  @Test
  void socketPairWorksWhenTheTemporaryDirectorysPathIsTooLongForASocket() throws Exception {
    Path deep = Files.createDirectories(dir.resolve("d".repeat(100)));
    List<String> printed =
        ChildJvm.run(PairInDeepTemporaryDirectory.class, Map.of(), dir, "-Djava.io.tmpdir=" + deep);

    assertThat(printed).containsExactly("ping ''");
    try (Stream<Path> left = Files.list(deep)) {
      assertThat(left).isEmpty();
    }
  }

  /** Makes a socket pair and prints what one end received and the other's peer name. */
  static final class PairInDeepTemporaryDirectory {
    public static void main(String[] args) throws IOException {
      Socket[] pair = Sockets.socketPair();
      try (Socket a = pair[0];
          Socket b = pair[1]) {
        a.sendAll("ping".getBytes(UTF_8));
        System.out.println(new String(b.recv(10), UTF_8) + " '" + a.getPeerName().toString() + "'");
      }
    }
  }

  // From CPython's BasicSocketPairTest and its rule for new socket objects: python3 on Linux,
  // socket.setdefaulttimeout(2.5); a, b = socket.socketpair() gives a.gettimeout() and
  // b.gettimeout() 2.5; after setdefaulttimeout(0), 0.0 and getblocking() False
  @Test
  void bothEndsOfASocketPairStartInTheDefaultTimeoutsMode() throws Exception {
    try {
      Sockets.setDefaultTimeout(Duration.ofMillis(2500));
      Socket[] timed = Sockets.socketPair();
      try (Socket a = timed[0];
          Socket b = timed[1]) {
        assertThat(List.of(a.getTimeout(), b.getTimeout())).containsOnly(Duration.ofMillis(2500));
        assertThat(a.family()).isEqualTo(AF_UNIX);
        assertThat(b.kind()).isEqualTo(SOCK_STREAM);
      }
      Sockets.setDefaultTimeout(Duration.ZERO);
      Socket[] nonBlocking = Sockets.socketPair();
      try (Socket a = nonBlocking[0];
          Socket b = nonBlocking[1]) {
        assertThat(List.of(a.getBlocking(), b.getBlocking())).containsOnly(false);
        assertThatThrownBy(() -> b.recv(1)).isInstanceOf(WouldBlockException.class);
      }
    } finally {
      Sockets.setDefaultTimeout(null);
    }
  }

  // From trio's test_socket (resolve with ""), against python3 on Linux: s.bind(path); s.bind('')
  // returns None and s.getsockname() is still path, before and after s.listen() (Linux's autobind
  // of a bound socket does nothing); s.bind(other) then raises EINVAL
  @Test
  void bindingTheEmptyPathAgainLeavesABoundSocketAsItWasAsLinux() throws Exception {
    UnixDomainSocketAddress path = UnixDomainSocketAddress.of(dir.resolve("bound"));
    UnixDomainSocketAddress empty = UnixDomainSocketAddress.of("");
    try (Socket socket = Socket.create(AF_UNIX, SOCK_STREAM)) {
      socket.bind(path);
      socket.bind(empty);
      assertThat(socket.getSockName()).isEqualTo(path);
      socket.listen();
      socket.bind(empty);
      assertThat(socket.getSockName()).isEqualTo(path);
      UnixDomainSocketAddress other = UnixDomainSocketAddress.of(dir.resolve("other"));
      assertThatThrownBy(() -> socket.bind(other))
          .isInstanceOf(ErrnoException.class)
          .hasMessage("bind to " + other.getPath() + ": invalid argument");
      try (Socket client = Socket.create(AF_UNIX, SOCK_STREAM)) {
        client.connect(path);
      }
    }
  }

  // python3 on Linux: an accepted socket has its listener's name, so its bind('') (autobind)
  // returns
  // None and leaves getsockname as it was, as for a bound one; a bind to another path is EINVAL
  @Test
  void bindingTheEmptyPathOnAnAcceptedSocketLeavesItAsItWasAsLinux() throws Exception {
    UnixDomainSocketAddress path = UnixDomainSocketAddress.of(dir.resolve("listening"));
    try (Socket listener = Socket.create(AF_UNIX, SOCK_STREAM);
        Socket client = Socket.create(AF_UNIX, SOCK_STREAM)) {
      listener.bind(path);
      listener.listen();
      client.connect(path);
      try (Socket conn = listener.accept().conn()) {
        conn.bind(UnixDomainSocketAddress.of(""));

        assertThat(conn.getSockName()).isEqualTo(path);
        UnixDomainSocketAddress other = UnixDomainSocketAddress.of(dir.resolve("other"));
        assertThatThrownBy(() -> conn.bind(other))
            .isInstanceOf(ErrnoException.class)
            .hasMessage("bind to " + other.getPath() + ": invalid argument");
        conn.sendAll(new byte[] {1});
        assertThat(client.recv(1)).containsExactly(1);
      }
    }
  }

  // python3 on Linux: a, b = socket.socketpair(); a.getsockname(), a.getpeername(),
  // b.getsockname() and b.getpeername() are all '' (socketpair(2) names neither end), and
  // b.settimeout(0.1); b.recv(1) raises TimeoutError
  @Test
  void neitherEndOfASocketPairHasAName() throws Exception {
    UnixDomainSocketAddress unnamed = UnixDomainSocketAddress.of("");
    Socket[] pair = Sockets.socketPair();
    try (Socket a = pair[0];
        Socket b = pair[1]) {
      assertThat(List.of(a.getSockName(), a.getPeerName(), b.getSockName(), b.getPeerName()))
          .containsOnly(unnamed);
      a.setTimeout(Duration.ofMillis(100));
      assertThatThrownBy(() -> a.recv(1))
          .isInstanceOf(SocketTimeoutException.class)
          .hasMessage("recv from (unnamed): timed out");
      // as Python's repr, which leaves out the '' that getsockname and getpeername give
      assertThat(a.toString()).isEqualTo("Socket[AF_UNIX, SOCK_STREAM]");
      assertThat(b.toString()).isEqualTo("Socket[AF_UNIX, SOCK_STREAM]");
    }
  }

  // python3 on Linux: with a listener's queue full (listen(0), one client queued), a non-blocking
  // connect raises BlockingIOError (EAGAIN) and a blocking one waits until the listener accepts,
  // then connects
  @ParameterizedTest
  @ValueSource(booleans = {true, false})
  void aBlockingConnectToAListenerWithAFullQueueWaitsUntilItAccepts(boolean virtual)
      throws Exception {
    UnixDomainSocketAddress path = UnixDomainSocketAddress.of(dir.resolve("full"));
    List<Socket> queued = new ArrayList<>();
    try (Socket listener = Socket.create(AF_UNIX, SOCK_STREAM);
        Socket client = Socket.create(AF_UNIX, SOCK_STREAM)) {
      listener.bind(path);
      listener.listen(0);
      fillQueue(path, queued);

      Callable<SocketAddress> connect =
          () -> {
            client.connect(path);
            return client.getPeerName();
          };
      Running<SocketAddress> connecting =
          virtual ? Running.inVirtualThread(connect) : Running.inPlatformThread(connect);
      await()
          .atMost(Running.PROMPTLY)
          .until(
              () ->
                  connecting.thread().getState() == Thread.State.TIMED_WAITING
                      || connecting.thread().getState() == Thread.State.TERMINATED);
      listener.accept().conn().close(); // room in the queue

      assertThat(connecting.get()).isEqualTo(path);
    } finally {
      Loopback.closeAll(queued);
    }
  }

  // python3 on Linux: a blocking connect waiting for room in a full queue goes on waiting when
  // another thread then sets a timeout or non-blocking mode (the kernel took the mode at the
  // call), and connects once the listener accepts
  @ParameterizedTest
  @ValueSource(strings = {"PT10S", "PT0S"})
  void aBlockingConnectWaitingForRoomGoesOnWhenAnotherThreadChangesTheMode(String mode)
      throws Exception {
    UnixDomainSocketAddress path = UnixDomainSocketAddress.of(dir.resolve("full"));
    List<Socket> queued = new ArrayList<>();
    try (Socket listener = Socket.create(AF_UNIX, SOCK_STREAM);
        Socket client = Socket.create(AF_UNIX, SOCK_STREAM)) {
      listener.bind(path);
      listener.listen(0);
      fillQueue(path, queued);
      Running<SocketAddress> connecting =
          Running.inVirtualThread(
              () -> {
                client.connect(path);
                return client.getPeerName();
              });
      await()
          .atMost(Running.PROMPTLY)
          .until(() -> connecting.thread().getState() == Thread.State.TIMED_WAITING);

      client.setTimeout(Duration.parse(mode));

      // the connect's next looks at the queue (some every 64 ms) still find it full
      await()
          .during(Duration.ofMillis(500))
          .atMost(Running.PROMPTLY)
          .untilAsserted(() -> assertThat(connecting.result()).isNotDone());
      listener.accept().conn().close(); // room in the queue
      assertThat(connecting.get()).isEqualTo(path);
    } finally {
      Loopback.closeAll(queued);
    }
  }

  /** Connects clients that are never accepted until the next would be refused with EAGAIN. */
  private static void fillQueue(UnixDomainSocketAddress path, List<Socket> queued)
      throws IOException {
    WouldBlockException full = null;
    while (full == null && queued.size() < 100) {
      Socket filler = Socket.create(AF_UNIX, SOCK_STREAM);
      queued.add(filler);
      filler.setBlocking(false);
      full = catchThrowableOfType(WouldBlockException.class, () -> filler.connect(path));
    }
    assertThat(full).isNotNull().hasMessageEndingWith(": resource temporarily unavailable");
  }

  /** The directories that {@link Sockets#socketPair()} makes for its listener, as they are now. */
  private static List<Path> pairDirectories() throws IOException {
    try (Stream<Path> entries = Files.list(Path.of(System.getProperty("java.io.tmpdir")))) {
      return entries
          .filter(path -> path.getFileName().toString().startsWith("jsock-pair"))
          .sorted()
          .toList();
    }
  }
}
