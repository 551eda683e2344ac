package io.jsock;

import static io.jsock.Event.EVENT_READ;
import static io.jsock.Family.AF_INET;
import static io.jsock.Family.AF_UNIX;
import static io.jsock.SocketKind.SOCK_DGRAM;
import static io.jsock.SocketKind.SOCK_STREAM;
import static io.jsock.testing.Loopback.recvExactly;
import static java.nio.charset.StandardCharsets.US_ASCII;
import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.jsock.server.ServerConfig;
import io.jsock.server.TcpServer;
import io.jsock.testing.Running;
import io.jsock.tls.KeyMaterial;
import io.jsock.tls.TestPki;
import io.jsock.tls.Tls;
import io.jsock.tls.TlsContext;
import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.BufferedReader;
import java.io.ByteArrayOutputStream;
import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.net.UnixDomainSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Five small Python socket programs, ported to jsock as a Java developer who knows Python's {@code
 * socket}, {@code selectors}, {@code ssl} and {@code socketserver} would port them from jsock's
 * README and Javadoc alone. Each port runs against python3 running the original ({@code
 * ported_programs.py}), as the server and as the client, and the test checks the bytes exchanged.
 */
class PortedProgramsTest {
  /** How long any single wait of a port or of python3 may take before the test gives up. */
  private static final Duration LIMIT = Duration.ofSeconds(30);

  @TempDir Path dir;

  // ------------------------------------------------------------------ (1) the selectors echo

  /** The selectors example's callbacks: {@code callback(key.fileobj, mask)}. */
  private interface Callback {
    void call(Socket sock, Set<Event> mask) throws IOException;
  }

  /** docs.python.org/3/library/selectors.html "Examples", until {@code clients} have gone. */
  private static void selectorsEchoServer(Socket sock, int clients) throws IOException {
    try (SocketSelector sel = SocketSelector.open()) {
      int[] closed = {0};
      Callback read =
          (conn, mask) -> {
            byte[] data = conn.recv(1000); // Should be ready
            if (data.length > 0) {
              conn.send(data); // Hope it won't block
            } else {
              sel.unregister(conn);
              conn.close();
              closed[0]++;
            }
          };
      Callback accept =
          (s, mask) -> {
            Socket conn = s.accept().conn(); // Should be ready
            conn.setBlocking(false);
            sel.register(conn, Set.of(EVENT_READ), read);
          };
      sock.listen(100);
      sock.setBlocking(false);
      sel.register(sock, Set.of(EVENT_READ), accept);
      while (closed[0] < clients) {
        List<Ready> events = sel.select(LIMIT);
        assertThat(events).as("events within %s", LIMIT).isNotEmpty();
        for (Ready ready : events) {
          Callback callback = (Callback) ready.key().data();
          callback.call(ready.key().socket(), ready.events());
        }
      }
    }
  }

  @Test
  void theSelectorsEchoServerPortedEchoesPythonsClient() throws Exception {
    try (Socket sock = Socket.create()) {
      sock.bind("localhost", 0);
      var server =
          Running.inVirtualThread(
              () -> {
                selectorsEchoServer(sock, 1);
                return null;
              });
      List<String> out = python("selectors", "client", port(sock), "hello", "world", "ünïcode");
      server.get();
      assertThat(out).containsExactly("b'hello'", "b'world'", "b'\\xc3\\xbcn\\xc3\\xafcode'");
    }
  }

  @Test
  void pythonsSelectorsEchoServerEchoesThePortedClient() throws Exception {
    try (Python server = Python.start("selectors", "server", "1")) {
      int port = Integer.parseInt(server.readLine());
      try (Socket s = Sockets.createConnection("localhost", port, LIMIT)) {
        for (String m : List.of("hello", "world", "x".repeat(5000))) {
          byte[] sent = m.getBytes(UTF_8);
          s.sendAll(sent);
          assertThat(recvExactly(s, sent.length)).isEqualTo(sent);
        }
      }
      assertThat(server.rest()).isEmpty();
    }
  }

  // ------------------------------------------------------------------ (2) UDP time, with retries

  /** The time server: drops the first request (a lost datagram), answers the others. */
  private static void timeServer(Socket s, String clock) throws IOException {
    s.setTimeout(LIMIT);
    for (int i = 0; i < 10; i++) {
      Datagram d = s.recvFrom(1024); // data, addr = s.recvfrom(1024)
      if (new String(d.data(), US_ASCII).equals("done")) {
        return;
      }
      if (i == 0) {
        continue; // lost
      }
      s.sendTo((new String(d.data(), US_ASCII) + " " + clock).getBytes(US_ASCII), d.address());
    }
  }

  /** The time client: s.settimeout(0.5), and up to five attempts, each retried on TimeoutError. */
  private static List<String> timeClient(int port) throws IOException {
    List<String> transcript = new ArrayList<>();
    try (Socket s = Socket.create(AF_INET, SOCK_DGRAM)) {
      s.setTimeout(Duration.ofMillis(500));
      for (int attempt = 1; attempt <= 5; attempt++) {
        s.sendTo("time".getBytes(US_ASCII), "127.0.0.1", port);
        Datagram d;
        try {
          d = s.recvFrom(1024);
        } catch (SocketTimeoutException e) { // except TimeoutError
          transcript.add("timeout " + attempt + ": " + e.getMessage());
          continue;
        }
        transcript.add(new String(d.data(), US_ASCII) + " from " + d.address());
        break;
      }
      s.sendTo("done".getBytes(US_ASCII), "127.0.0.1", port);
    }
    return transcript;
  }

  @Test
  void theUdpTimeServerPortedAnswersPythonsClientOnItsRetry() throws Exception {
    try (Socket s = Socket.create(AF_INET, SOCK_DGRAM)) {
      s.bind("127.0.0.1", 0);
      var server =
          Running.inVirtualThread(
              () -> {
                timeServer(s, "1700000000");
                return null;
              });
      List<String> out = python("time", "client", port(s));
      server.get();
      assertThat(out.getFirst()).isEqualTo("timeout 1");
      assertThat(out.getLast()).matches("b'time 1700000000' [2-5]");
    }
  }

  @Test
  void theUdpTimeClientPortedRetriesUntilPythonsServerAnswers() throws Exception {
    try (Python server = Python.start("time", "server", "1700000000")) {
      int port = Integer.parseInt(server.readLine());
      List<String> transcript = timeClient(port);
      // Python's TimeoutError says "timed out"; jsock names its operation "recv" for every
      // receive, and an unconnected datagram socket's own address ("on"), not the peer's
      assertThat(transcript.getFirst()).matches("timeout 1: recv on 0\\.0\\.0\\.0:\\d+: timed out");
      assertThat(transcript.getLast())
          .matches("time 1700000000 from /127.0.0.1:" + port)
          .isNotEqualTo(transcript.getFirst());
      assertThat(server.rest()).isEmpty();
    }
  }

  // ------------------------------------------------------- (3) AF_UNIX server and a socketpair

  /**
   * The AF_UNIX server: os.unlink(path) first, then each request goes to a "child" (a thread here,
   * as Java has no fork) over a socketpair, which answers it in upper case.
   */
  private static void unixServer(Path path, int requests) throws Exception {
    Files.deleteIfExists(path); // try: os.unlink(path) except FileNotFoundError: pass
    try (Socket srv = Socket.create(AF_UNIX, SOCK_STREAM)) {
      srv.bind(UnixDomainSocketAddress.of(path)); // srv.bind(path)
      srv.listen(1);
      Socket[] pair = Sockets.socketPair(); // parent, child = socket.socketpair()
      try (Socket parent = pair[0];
          Socket child = pair[1]) {
        var worker =
            Running.inPlatformThread(
                () -> {
                  byte[] data;
                  while ((data = child.recv(1024)).length > 0) {
                    child.sendAll(upper(data));
                  }
                  return null;
                });
        srv.setTimeout(LIMIT);
        try (Socket conn = srv.accept().conn()) {
          conn.setTimeout(LIMIT);
          for (int i = 0; i < requests; i++) {
            byte[] data = conn.recv(1024);
            if (data.length == 0) {
              break;
            }
            parent.sendAll(data);
            conn.sendAll(parent.recv(1024));
          }
        }
        parent.shutdown(Shutdown.SHUT_WR); // the child's recv returns b''
        worker.get();
      }
    }
  }

  @Test
  void theUnixServerPortedUnlinksAStalePathAndAnswersPythonsClientThroughItsChild()
      throws Exception {
    Path path = dir.resolve("upper.sock");
    Files.writeString(path, "a stale file where the socket goes");
    var server =
        Running.inVirtualThread(
            () -> {
              unixServer(path, 2);
              return null;
            });
    List<String> out = null;
    for (int attempt = 0; attempt < 1000 && out == null; attempt++) {
      // the port has no "ready" line to print: wait for its socket file, in place of the stale one
      if (Files.exists(path) && !Files.isRegularFile(path)) {
        out = python("unix", "client", path.toString(), "abc", "déf");
      } else {
        server.awaitBlocked();
      }
    }
    server.get();
    assertThat(out).containsExactly("b'ABC'", "b'D\\xc3\\xa9F'");
  }

  @Test
  void pythonsUnixServerAnswersThePortedClient() throws Exception {
    Path path = dir.resolve("upper.sock");
    try (Python server = Python.start("unix", "server", path.toString(), "2")) {
      assertThat(server.readLine()).isEqualTo("ready");
      try (Socket s = Socket.create(AF_UNIX, SOCK_STREAM)) {
        s.setTimeout(LIMIT);
        s.connect(UnixDomainSocketAddress.of(path)); // s.connect(path)
        s.sendAll("abc".getBytes(UTF_8));
        assertThat(s.recv(1024)).isEqualTo("ABC".getBytes(UTF_8));
        s.sendAll("déf".getBytes(UTF_8));
        assertThat(s.recv(1024)).isEqualTo("DéF".getBytes(UTF_8)); // bytes.upper(): ASCII only
        assertThat(s.recv(1024)).isEmpty();
      }
      assertThat(server.rest()).isEmpty();
    }
  }

  @Test
  void bindingAUnixPathThatExistsSaysWhyAsPythonsOsError() throws Exception {
    // why the Python original unlinks first: bind(path) on an existing file is EADDRINUSE
    Path path = Files.writeString(dir.resolve("taken.sock"), "");
    try (Socket s = Socket.create(AF_UNIX, SOCK_STREAM)) {
      assertThatThrownBy(() -> s.bind(UnixDomainSocketAddress.of(path)))
          .isInstanceOf(AddressInUseException.class)
          .hasMessage("bind to " + path + ": address already in use");
    }
  }

  // ------------------------------------------- (4) ssl.create_default_context and socketserver

  private record Pki(Path caFile, Path certFile, Path keyFile, KeyMaterial key) {}

  private Pki pki() throws Exception {
    TestPki.Issued ca = TestPki.ca("ported programs CA");
    ca.write(dir.resolve("ca"));
    KeyMaterial key = TestPki.leaf(ca, "localhost", "127.0.0.1", "::1").write(dir.resolve("leaf"));
    return new Pki(
        dir.resolve("ca/cert.pem"), dir.resolve("leaf/cert.pem"), dir.resolve("leaf/key.pem"), key);
  }

  /** socketserver.StreamRequestHandler: for line in self.rfile: self.wfile.write(line.upper()) */
  private static void upperHandler(Socket conn) throws IOException {
    BufferedInputStream rfile = conn.makeFile("rb");
    BufferedOutputStream wfile = conn.makeFile("wb");
    byte[] line;
    while ((line = readline(rfile)).length > 0) {
      wfile.write(upper(line));
      wfile.flush(); // StreamRequestHandler's wfile is unbuffered
    }
  }

  @Test
  void aThreadingTcpServerPortedToTcpServerOverTlsAnswersPythonsDefaultContextClient()
      throws Exception {
    Pki pki = pki();
    try (TcpServer server =
        TcpServer.start(
            ServerConfig.defaults()
                .withAddress("127.0.0.1", 0)
                .withTls(Tls.server(pki.key()))
                .withIdleTimeout(LIMIT),
            PortedProgramsTest::upperHandler)) {
      List<String> out =
          python(
              "tls", "client", pki.caFile().toString(), port(server.address()), "hello", "ünïcode");
      // Python's ssl closes without close_notify: each handler here ends with jsock's "connection
      // truncated" TlsException (logged at INFO), where Python's server would read b''
      assertThat(out).containsExactly("TLSv1.3", "b'HELLO\\n'", "b'\\xc3\\xbcN\\xc3\\xafCODE\\n'");
    }
  }

  @Test
  void theDefaultContextClientPortedTalksToPythonsThreadingTcpServerOverTls() throws Exception {
    Pki pki = pki();
    try (Python server =
        Python.start("tls", "server", pki.certFile().toString(), pki.keyFile().toString(), "1")) {
      int port = Integer.parseInt(server.readLine());
      TlsContext ctx = Tls.client().withTrust(pki.caFile()); // create_default_context(cafile=...)
      try (Socket sock = Sockets.createConnection("localhost", port, LIMIT);
          Socket ssock = ctx.wrap(sock, "localhost")) {
        assertThat(Tls.session(ssock).getProtocol()).isEqualTo("TLSv1.3"); // ssock.version()
        BufferedInputStream rfile = ssock.makeFile("rb"); // f = ssock.makefile('rwb')
        BufferedOutputStream wfile = ssock.makeFile("wb");
        for (String line : List.of("hello", "ünïcode")) {
          wfile.write((line + "\n").getBytes(UTF_8));
          wfile.flush();
          assertThat(readline(rfile)).isEqualTo(upper((line + "\n").getBytes(UTF_8)));
        }
      }
      assertThat(server.rest()).isEmpty();
    }
  }

  // ------------------------------------ (5) create_connection, makefile('rwb') and readline()

  /**
   * Python's {@code readline()} of a binary file: the bytes up to and including {@code '\n'}, or
   * what came before the end of the stream ({@code b''} at its end). jsock's "rb" view is a {@link
   * BufferedInputStream}, which has no readline.
   */
  private static byte[] readline(InputStream in) throws IOException {
    ByteArrayOutputStream line = new ByteArrayOutputStream();
    int b;
    while ((b = in.read()) != -1) {
      line.write(b);
      if (b == '\n') {
        break;
      }
    }
    return line.toByteArray();
  }

  /** The line server: "LEN n" for each line, "BYE" to "QUIT". */
  private static void linesServer(Socket srv) throws IOException {
    srv.setTimeout(LIMIT);
    try (Socket conn = srv.accept().conn()) {
      conn.setTimeout(LIMIT);
      BufferedInputStream in = conn.makeFile("rb"); // with conn.makefile('rwb') as f:
      BufferedOutputStream out = conn.makeFile("wb");
      byte[] line;
      while ((line = readline(in)).length > 0) {
        String text = new String(line, UTF_8).stripTrailing();
        if (text.equals("QUIT")) {
          out.write("BYE\n".getBytes(UTF_8));
          out.flush();
          break;
        }
        out.write(("LEN " + text.getBytes(UTF_8).length + "\n").getBytes(UTF_8));
        out.flush();
      }
    }
  }

  @Test
  void theLineServerPortedAnswersPythonsMakefileClient() throws Exception {
    try (Socket srv = Sockets.createServer("127.0.0.1", 0)) {
      var server =
          Running.inVirtualThread(
              () -> {
                linesServer(srv);
                return null;
              });
      List<String> out = python("lines", "client", port(srv), "abc", "héllo");
      server.get();
      assertThat(out).containsExactly("b'LEN 3\\n'", "b'LEN 6\\n'", "b'BYE\\n'", "b''");
    }
  }

  @Test
  void theMakefileClientPortedReadsPythonsLineServerToTheEnd() throws Exception {
    try (Python server = Python.start("lines", "server", "1")) {
      int port = Integer.parseInt(server.readLine());
      try (Socket s = Sockets.createConnection("127.0.0.1", port, LIMIT)) {
        BufferedInputStream in = s.makeFile("rb"); // f = s.makefile('rwb')
        BufferedOutputStream out = s.makeFile("wb");
        List<String> replies = new ArrayList<>();
        for (String line : List.of("abc", "héllo", "QUIT")) {
          out.write((line + "\n").getBytes(UTF_8));
          out.flush();
          replies.add(new String(readline(in), UTF_8));
        }
        replies.add(new String(readline(in), UTF_8));
        assertThat(replies).containsExactly("LEN 3\n", "LEN 6\n", "BYE\n", "");
      }
      assertThat(server.rest()).isEmpty();
    }
  }

  @Test
  void makeFileRefusesPythonsRwbSayingWhatToDoInstead() throws Exception {
    try (Socket s = Socket.create()) {
      assertThatThrownBy(() -> s.makeFile("rwb"))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessage("mode 'rwb' reads and writes: make a reader (r, rb) and a writer (w, wb)");
    }
  }

  @Test
  void makeFilesViewTypeIsTheOneItsModeNamesAndAnotherFailsAtTheCall() throws Exception {
    try (Socket s = Socket.create()) {
      Closeable inferred = s.makeFile("rb"); // what `var f = s.makeFile("rb")` gives
      assertThat(inferred).isInstanceOf(BufferedInputStream.class);
      assertThatThrownBy(
              () -> {
                BufferedReader r = s.makeFile("rb"); // compiles, as the Javadoc warns
                r.readLine();
              })
          .isInstanceOf(ClassCastException.class);
    }
  }

  // ------------------------------------------------------------------------------- helpers

  private static String port(Socket s) throws IOException {
    return port(s.getSockName());
  }

  private static String port(java.net.SocketAddress address) {
    return "" + ((InetSocketAddress) address).getPort();
  }

  /** Python's {@code bytes.upper()}: ASCII letters only. */
  private static byte[] upper(byte[] data) {
    byte[] upper = data.clone();
    for (int i = 0; i < upper.length; i++) {
      if (upper[i] >= 'a' && upper[i] <= 'z') {
        upper[i] -= 'a' - 'A';
      }
    }
    return upper;
  }

  /** Runs a Python client to its end and gives its output lines. */
  private static List<String> python(String... args) throws Exception {
    try (Python client = Python.start(args)) {
      return client.rest();
    }
  }

  /** python3 running one role of ported_programs.py; closing it kills what is still running. */
  private record Python(Process process, BufferedReader out) implements AutoCloseable {
    static Python start(String... args) throws Exception {
      Path script = Path.of(PortedProgramsTest.class.getResource("/ported_programs.py").toURI());
      List<String> command = new ArrayList<>(List.of("python3", script.toString()));
      command.addAll(List.of(args));
      Process process =
          new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.INHERIT).start();
      return new Python(
          process, new BufferedReader(new InputStreamReader(process.getInputStream(), UTF_8)));
    }

    /** The next line it prints (its port, or "ready"). */
    String readLine() throws IOException {
      String line = out.readLine();
      assertThat(line).as("a line from python3 %s", process.info().arguments()).isNotNull();
      return line;
    }

    /** The lines it prints until it exits, which it must do with status 0. */
    List<String> rest() throws Exception {
      List<String> lines;
      try (Stream<String> rest = out.lines()) {
        lines = rest.toList();
      }
      assertThat(process.waitFor(LIMIT.toSeconds(), TimeUnit.SECONDS)).isTrue();
      assertThat(process.exitValue()).as("python3's exit status").isZero();
      return lines;
    }

    @Override
    public void close() throws IOException {
      process.destroyForcibly();
      out.close();
    }
  }
}
