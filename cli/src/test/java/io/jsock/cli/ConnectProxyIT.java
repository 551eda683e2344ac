package io.jsock.cli;

import static java.nio.charset.StandardCharsets.ISO_8859_1;
import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assumptions.assumeThat;
import static org.awaitility.Awaitility.await;

import io.jsock.Socket;
import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.IOException;
import java.lang.ProcessBuilder.Redirect;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Integration test (runs the real {@code ./jsock connect} through a proxy with TLS, and with
 * credentials from its environment; the other cases run in this JVM, with a program ({@code -c}) in
 * place of stdin and stdout where data moves, see {@link #relayInProcess}): {@code --proxy} through
 * a SOCKS5 and a SOCKS4 test peer, real {@code ncat -l --proxy-type http}, and an HTTP peer that
 * answers as it is told; bytes both ways, what the proxy was asked for, exit codes and messages.
 * Loopback only: a name the proxy resolves is one no lookup here could find (the real jsock runs
 * with a hosts file that knows only localhost), and the test peers connect to the test's target on
 * 127.0.0.1 whatever they were asked.
 */
class ConnectProxyIT {
  private static final Duration LIMIT = Duration.ofSeconds(60);
  private static final byte[] TO_TARGET = "to the target\n".getBytes(UTF_8);
  private static final byte[] FROM_TARGET = "from the target\n".getBytes(UTF_8);

  @TempDir Path dir;

  // ---------------------------------------------------------------- SOCKS5

  @Test
  void socks5RelaysBothWaysAndSendsTheNameForTheProxyToResolve() throws Exception {
    try (Target target = Target.start();
        SocksPeer proxy = SocksPeer.socks5(target.port(), Optional.empty(), 0)) {
      Run run =
          relayInProcess(
              "connect",
              "-v",
              "--proxy",
              "127.0.0.1:" + proxy.port(),
              "--proxy-type",
              "socks5",
              "target.test",
              "" + 4242);
      assertThat(run.exit()).as(run.err()).isZero();
      assertThat(run.out()).isEqualTo(FROM_TARGET);
      assertThat(target.received()).isEqualTo(TO_TARGET);
      assertThat(proxy.request())
          .isEqualTo(new SocksPeer.Request("target.test", true, 4242, "", ""));
      assertThat(run.err())
          .contains(
              "jsock: connected to target.test:4242 through socks5 proxy 127.0.0.1:"
                  + proxy.port()
                  + " (TCP)\n");
    }
  }

  @Test
  void socks5GivesTheUserNameAndPasswordOfProxyAuth() throws Exception {
    try (Target target = Target.start();
        SocksPeer proxy = SocksPeer.socks5(target.port(), Optional.of("joe:se:cret"), 0)) {
      Run run =
          relayInProcess(
              proxied(proxy.port(), "socks5", "--proxy-auth", "joe:se:cret", "127.0.0.1", "" + 80));
      assertThat(run.exit()).as(run.err()).isZero();
      assertThat(run.out()).isEqualTo(FROM_TARGET);
      assertThat(proxy.request())
          .isEqualTo(new SocksPeer.Request("127.0.0.1", false, 80, "joe", "se:cret"));
    }
  }

  @Test
  void socks5RefusedCredentialsAreExitCode1WithTheReason() throws Exception {
    try (SocksPeer proxy = SocksPeer.socks5(1, Optional.of("joe:secret"), 0)) {
      InProcess run =
          InProcess.run(
              proxied(proxy.port(), "socks5", "--proxy-auth", "joe:wrong", "example.test", "80"));
      assertThat(run.exit()).isEqualTo(1);
      assertThat(run.err())
          .isEqualTo(
              "jsock: connect to example.test:80 through socks5 proxy 127.0.0.1:"
                  + proxy.port()
                  + ": the proxy refused the user name and password of --proxy-auth (RFC 1929"
                  + " status 0x01)\n");
    }
    try (SocksPeer proxy = SocksPeer.socks5(1, Optional.of("joe:secret"), 0)) {
      InProcess run = InProcess.run(proxied(proxy.port(), "socks5", "example.test", "80"));
      assertThat(run.exit()).isEqualTo(1);
      assertThat(run.err())
          .endsWith(": the proxy accepts none of the authentication methods offered (none)\n");
    }
  }

  /**
   * Credentials from {@code JSOCK_PROXY_AUTH} that the proxy refuses: the message names the
   * variable, not the option that was not given (SOCKS5, HTTP's 407, SOCKS4's identd mismatch).
   * jsock used to say "--proxy-auth" whichever was used.
   */
  @Test
  void refusedCredentialsFromTheEnvironmentNameTheVariable() throws Exception {
    Map<String, String> env = Map.of(ProxyOptions.AUTH_VARIABLE, "joe:wrong");
    String denied = "HTTP/1.1 407 Proxy Authentication Required";
    // three JVM starts at once: each waits mostly on its own class loading
    try (SocksPeer socks5 = SocksPeer.socks5(1, Optional.of("joe:secret"), 0);
        HttpPeer http = HttpPeer.answering(denied + "\r\n\r\n");
        SocksPeer socks4 = SocksPeer.socks4(1, 93);
        ExecutorService runs = Executors.newVirtualThreadPerTaskExecutor()) {
      Future<Run> viaSocks5 =
          runs.submit(() -> jsock(env, proxied(socks5.port(), "socks5", "example.test", "80")));
      Future<Run> viaHttp =
          runs.submit(() -> jsock(env, proxied(http.port(), "http", "example.test", "80")));
      Future<Run> viaSocks4 =
          runs.submit(
              () ->
                  jsock(
                      Map.of(ProxyOptions.AUTH_VARIABLE, "joe"),
                      proxied(socks4.port(), "socks4", "127.0.0.1", "80")));

      Run run = viaSocks5.get();
      assertThat(run.exit()).as(run.err()).isEqualTo(1);
      assertThat(run.err())
          .isEqualTo(
              "jsock: connect to example.test:80 through socks5 proxy 127.0.0.1:"
                  + socks5.port()
                  + ": the proxy refused the user name and password of JSOCK_PROXY_AUTH (RFC 1929"
                  + " status 0x01)\n");

      run = viaHttp.get();
      assertThat(run.exit()).as(run.err()).isEqualTo(1);
      assertThat(run.err())
          .isEqualTo(
              "jsock: connect to example.test:80 through http proxy 127.0.0.1:"
                  + http.port()
                  + ": the proxy refused the credentials of JSOCK_PROXY_AUTH: "
                  + denied
                  + "\n");
      assertThat(http.request()).contains("Proxy-Authorization: Basic am9lOndyb25n\r\n");

      run = viaSocks4.get();
      assertThat(run.exit()).as(run.err()).isEqualTo(1);
      assertThat(run.err())
          .endsWith(
              ": rejected: identd reports another user than the JSOCK_PROXY_AUTH user id (SOCKS4"
                  + " code 93)\n");
    }
  }

  /**
   * {@code -4}/{@code -6} (or {@code -s}) applies to the proxy's own address too, as ncat's does;
   * when the proxy has none of that family the message says that it is the proxy's address, and
   * why. jsock used to say only "resolve 127.0.0.1:1080", as if it were the target's.
   */
  @Test
  void aProxyAddressOutsideTheFamilyAskedForSaysItIsTheProxys() {
    InProcess v6 = InProcess.run("connect", "-6", "--proxy", "127.0.0.1:1080", "h", "80");
    assertThat(v6.exit()).as(v6.err()).isEqualTo(6);
    assertThat(v6.err())
        .startsWith("jsock: resolve proxy 127.0.0.1:1080: ")
        .endsWith(" (-6 asks for IPv6)\n");
    InProcess v4 =
        InProcess.run(
            "connect", "-4", "--proxy", "[::1]", "--proxy-type", "socks5", "example.test", "80");
    assertThat(v4.exit()).as(v4.err()).isEqualTo(6);
    assertThat(v4.err())
        .startsWith("jsock: resolve proxy [::1]:1080: ")
        .endsWith(" (-4 asks for IPv4)\n");
    InProcess source = InProcess.run("connect", "-s", "::1", "--proxy", "127.0.0.1", "h", "80");
    assertThat(source.exit()).as(source.err()).isEqualTo(6);
    assertThat(source.err())
        .startsWith("jsock: resolve proxy 127.0.0.1:3128: ")
        .endsWith(" (the -s source address ::1 is IPv6)\n");
  }

  @ParameterizedTest
  @CsvSource({
    "5, 3, connection refused",
    "6, 4, TTL expired (as SOCKS5 proxies say that their connect timed out)",
    "4, 6, host unreachable (as SOCKS5 proxies say that they could not resolve the name)",
    "2, 1, connection not allowed by ruleset",
    "1, 1, general SOCKS server failure",
    "9, 1, 'reply code 0x09, none of RFC 1928''s'"
  })
  void socks5ReplyCodesBecomeExitCodesAndClearMessages(int reply, int exit, String reason)
      throws Exception {
    try (SocksPeer proxy = SocksPeer.socks5(1, Optional.empty(), reply)) {
      InProcess run = InProcess.run(proxied(proxy.port(), "socks5", "example.test", "80"));
      assertThat(run.exit()).as(run.err()).isEqualTo(exit);
      assertThat(run.err())
          .isEqualTo(
              "jsock: connect to example.test:80 through socks5 proxy 127.0.0.1:"
                  + proxy.port()
                  + ": "
                  + reason
                  + "\n");
    }
  }

  @Test
  void proxyDnsLocalSendsTheAddressResolvedHereAndAnIpv6LiteralGoesAsOne() throws Exception {
    try (SocksPeer proxy = SocksPeer.socks5(1, Optional.empty(), 5)) {
      InProcess run =
          InProcess.run(
              proxied(proxy.port(), "socks5", "--proxy-dns", "local", "-4", "localhost", "80"));
      assertThat(run.exit()).isEqualTo(3);
      assertThat(proxy.request()).isEqualTo(new SocksPeer.Request("127.0.0.1", false, 80, "", ""));
    }
    try (SocksPeer proxy = SocksPeer.socks5(1, Optional.empty(), 5)) {
      InProcess run = InProcess.run(proxied(proxy.port(), "socks5", "::1", "80"));
      assertThat(run.exit()).isEqualTo(3);
      assertThat(proxy.request())
          .isEqualTo(new SocksPeer.Request("0:0:0:0:0:0:0:1", false, 80, "", ""));
    }
  }

  @Test
  void aSilentProxyTimesOutAfterWaitWithExitCode4() throws Exception {
    try (Socket silent = Socket.create()) {
      silent.bind("127.0.0.1", 0);
      silent.listen(); // the kernel completes the TCP handshake; nobody ever answers
      int port = ((InetSocketAddress) silent.getSockName()).getPort();
      long start = System.nanoTime();
      InProcess run = InProcess.run(proxied(port, "socks5", "-w", "300ms", "example.test", "80"));
      assertThat(run.exit()).isEqualTo(4);
      assertThat(run.err())
          .isEqualTo(
              "jsock: connect to example.test:80 through socks5 proxy 127.0.0.1:"
                  + port
                  + ": timed out waiting for the proxy's SOCKS5 method choice (-w 300ms)\n");
      assertThat(Duration.ofNanos(System.nanoTime() - start)).isGreaterThan(Duration.ofMillis(300));
    }
  }

  @Test
  void tlsGoesEndToEndThroughTheTunnelVerifiedAgainstTheTargetsName() throws Exception {
    // the certificate names target.test only: verified against the proxy's 127.0.0.1 it would fail
    PemFiles pem = PemFiles.selfSigned(dir, "target.test", "DNS:target.test");
    int port = FreePort.find();
    String server =
        "(printf 'from the target\\n'; sleep 20) | exec openssl s_server -accept 127.0.0.1:%d -cert %s -key %s -quiet -naccept 1"
            .formatted(port, pem.cert(), pem.key());
    Path serverOut = dir.resolve("server.out");
    try (PipedProcess peer =
            PipedProcess.start(
                List.of("bash", "-c", server),
                Map.of(),
                Redirect.from(new File("/dev/null")),
                Redirect.to(serverOut.toFile()));
        SocksPeer proxy = SocksPeer.socks5(port, Optional.empty(), 0)) {
      ConnectListenIT.awaitListening(port);
      Path out = dir.resolve("jsock.out");
      try (PipedProcess connect =
          PipedProcess.start(
              PipedProcess.jsock(
                  proxied(
                      proxy.port(),
                      "socks5",
                      "--tls",
                      "--ca",
                      pem.cert().toString(),
                      "-v",
                      "target.test",
                      "" + port)),
              hostsFileKnowingOnlyLocalhost(),
              Redirect.PIPE,
              Redirect.to(out.toFile()))) {
        connect.stdin().write(TO_TARGET);
        connect.stdin().flush();
        await().atMost(LIMIT).until(() -> Files.size(out) == FROM_TARGET.length);
        await().atMost(LIMIT).until(() -> Files.size(serverOut) == TO_TARGET.length);
        connect.stdin().close();
        assertThat(connect.exitCode()).as(connect.stderr()).isZero();
        assertThat(connect.stderr()).contains("jsock: TLS: TLSv1.3 ", "CN=target.test");
      }
      assertThat(Files.readAllBytes(out)).isEqualTo(FROM_TARGET);
      assertThat(Files.readAllBytes(serverOut)).isEqualTo(TO_TARGET);
    }
  }

  // ---------------------------------------------------------------- SOCKS4

  @Test
  void socks4aSendsTheNameAfterTheUserIdAndRelaysBothWays() throws Exception {
    try (Target target = Target.start();
        SocksPeer proxy = SocksPeer.socks4(target.port(), 90)) {
      Run run =
          relayInProcess(
              proxied(proxy.port(), "socks4", "--proxy-auth", "joe", "target.test", "4242"));
      assertThat(run.exit()).as(run.err()).isZero();
      assertThat(run.out()).isEqualTo(FROM_TARGET);
      assertThat(target.received()).isEqualTo(TO_TARGET);
      assertThat(proxy.request())
          .isEqualTo(new SocksPeer.Request("target.test", true, 4242, "joe", ""));
    }
  }

  @Test
  void socks4SendsAnIpv4AddressAsOneAndSaysARejection() throws Exception {
    try (SocksPeer proxy = SocksPeer.socks4(1, 91)) {
      InProcess run = InProcess.run(proxied(proxy.port(), "socks4", "127.0.0.1", "80"));
      assertThat(run.exit()).isEqualTo(1);
      assertThat(run.err())
          .isEqualTo(
              "jsock: connect to 127.0.0.1:80 through socks4 proxy 127.0.0.1:"
                  + proxy.port()
                  + ": request rejected or failed (SOCKS4 code 91)\n");
      assertThat(proxy.request()).isEqualTo(new SocksPeer.Request("127.0.0.1", false, 80, "", ""));
    }
  }

  @Test
  void socks4ARepliesVersion4IsTakenAsNcatTakesIt() throws Exception {
    // the reply's VN is 0 by the protocol, but some proxies echo the request's 4; ncat looks only
    // at the code
    try (Target target = Target.start();
        SocksPeer proxy = SocksPeer.socks4(target.port(), 90, 4)) {
      Run run = relayInProcess(proxied(proxy.port(), "socks4", "127.0.0.1", "" + target.port()));
      assertThat(run.exit()).as(run.err()).isZero();
      assertThat(run.out()).isEqualTo(FROM_TARGET);
      assertThat(target.received()).isEqualTo(TO_TARGET);
    }
  }

  // ---------------------------------------------------------------- HTTP CONNECT

  @Test
  void httpConnectThroughNcatsProxyRelaysBothWays() throws Exception {
    assumeThat(new File("/usr/bin/ncat")).as("ncat installed").exists();
    int proxyPort = FreePort.find();
    try (Target target = Target.startClosingAfter(TO_TARGET.length);
        PipedProcess ncat =
            PipedProcess.start(
                List.of("ncat", "-l", "--proxy-type", "http", "127.0.0.1", "" + proxyPort),
                Map.of(),
                Redirect.from(new File("/dev/null")),
                Redirect.DISCARD)) {
      ConnectListenIT.awaitListeningOnAnyAddress(
          proxyPort); // ncat's proxy mode binds the wildcard, not the host given
      // the default type is http; ncat resolves localhost, the one name looked up. ncat's tunnel
      // closes both ways at the client's end of stream, which could come before the target's
      // bytes went through: --no-shutdown, and the target ends the connection once it has all
      Run run =
          relayInProcess(
              "connect",
              "--no-shutdown",
              "--proxy",
              "127.0.0.1:" + proxyPort,
              "localhost",
              "" + target.port());
      assertThat(run.exit()).as(run.err()).isZero();
      assertThat(run.out()).isEqualTo(FROM_TARGET);
      assertThat(target.received()).isEqualTo(TO_TARGET);
    }
  }

  @Test
  void httpConnectSendsTheRequestAndCredentialsAndKeepsTheBytesAfterTheHeader() throws Exception {
    String reply = "HTTP/1.1 200 Connection established\r\nVia: test\r\n\r\nfrom the target\n";
    try (HttpPeer proxy = HttpPeer.answering(reply)) {
      Run run =
          relayInProcess(
              proxied(proxy.port(), "http", "--proxy-auth", "joe:secret", "target.test", "4242"));
      assertThat(run.exit()).as(run.err()).isZero();
      assertThat(run.out()).isEqualTo(FROM_TARGET);
      assertThat(proxy.request())
          .isEqualTo(
              "CONNECT target.test:4242 HTTP/1.1\r\nHost: target.test:4242\r\n"
                  + "Proxy-Authorization: Basic am9lOnNlY3JldA==\r\n\r\n");
    }
  }

  @Test
  void httpConnectSkipsInterimResponsesBeforeTheFinalOne() throws Exception {
    // RFC 9110 section 15.2: a client must be able to parse 1xx responses before the final one
    String reply =
        "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 102 Processing\r\nX: y\r\n\r\n"
            + "HTTP/1.1 200 Connection established\r\n\r\nfrom the target\n";
    try (HttpPeer proxy = HttpPeer.answering(reply)) {
      Run run = relayInProcess(proxied(proxy.port(), "http", "target.test", "4242"));
      assertThat(run.exit()).as(run.err()).isZero();
      assertThat(run.out()).isEqualTo(FROM_TARGET);
    }
  }

  @ParameterizedTest
  @CsvSource(
      delimiter = '|',
      value = {
        "HTTP/1.1 407 Proxy Authentication Required\\r\\nProxy-Authenticate: Basic realm=x\\r\\n\\r\\n"
            + "| the proxy asks for credentials (give them with --proxy-auth USER:PASS):"
            + " HTTP/1.1 407 Proxy Authentication Required",
        "HTTP/1.1 502 Bad Gateway\\r\\n\\r\\n| the proxy answered HTTP/1.1 502 Bad Gateway",
        "HTTP/1.1 101 Switching Protocols\\r\\n\\r\\n| the proxy answered HTTP/1.1 101 Switching"
            + " Protocols",
        "HTTP/1.1 2OO OK\\r\\n\\r\\n| not an HTTP status line: 'HTTP/1.1 2OO OK'",
        "SSH-2.0-OpenSSH_9.6\\r\\n| not an HTTP status line: 'SSH-2.0-OpenSSH_9.6'",
        "HTTP/1.1 200 OK\\r\\nVia: t| the proxy closed the connection in its HTTP reply header (0 of"
            + " 1 bytes)"
      })
  void httpConnectFailuresSayTheStatusLineWithExitCode1(String reply, String reason)
      throws Exception {
    try (HttpPeer proxy = HttpPeer.answering(reply.replace("\\r\\n", "\r\n"))) {
      InProcess run = InProcess.run(proxied(proxy.port(), "http", "example.test", "80"));
      assertThat(run.exit()).as(run.err()).isEqualTo(1);
      assertThat(run.err())
          .isEqualTo(
              "jsock: connect to example.test:80 through http proxy 127.0.0.1:"
                  + proxy.port()
                  + ": "
                  + reason.strip()
                  + "\n");
    }
  }

  @Test
  void anEndlessHttpHeaderIsCutAtItsBound() throws Exception {
    String reply =
        "HTTP/1.1 200 OK\r\n" + "X: y\r\n".repeat(HttpConnectHandshake.MAX_HEADER_BYTES / 6);
    try (HttpPeer proxy = HttpPeer.answering(reply)) {
      InProcess run = InProcess.run(proxied(proxy.port(), "http", "example.test", "80"));
      assertThat(run.exit()).isEqualTo(1);
      assertThat(run.err()).endsWith("its HTTP reply header is longer than 16384 bytes\n");
    }
  }

  // ---------------------------------------------------------------- usage

  @ParameterizedTest
  @CsvSource(
      delimiter = '|',
      value = {
        "-u --proxy 127.0.0.1 h 80| --proxy goes over TCP only: -u cannot be combined with it",
        "-U /tmp/x.sock --proxy 127.0.0.1| --proxy goes over TCP only: -U cannot be combined with it",
        "-z --proxy 127.0.0.1 h 80| -z cannot be combined with --proxy: it checks ports from this host only",
        "--proxy-type socks5 h 80| --proxy-type, --proxy-auth and --proxy-dns need --proxy",
        "--proxy 127.0.0.1 --proxy-type socks5 --proxy-auth joe h 80| --proxy-auth: socks5 takes a"
            + " user name and a password (USER:PASS)",
        "--proxy 127.0.0.1 --proxy-type socks4 --proxy-auth joe:x h 80| --proxy-auth: socks4 takes"
            + " a user id only (USER), no password",
        "--proxy 127.0.0.1 --proxy-type socks4 ::1 80| --proxy-type socks4 carries IPv4 addresses"
            + " only, not ::1 (use socks5 or http)",
        "--proxy 127.0.0.1 --proxy-dns none h 80| --proxy-dns none: HOST must be an IP address, not"
            + " the name h",
        "--proxy 127.0.0.1 --proxy-type socks6 h 80| Invalid value for option '--proxy-type': not a"
            + " proxy type: 'socks6' (http, socks4 or socks5)",
        "--proxy [::1 h 80| Invalid value for option '--proxy': no ']' after the IPv6 address: [::1",
        // an empty user, for every type: http sent Basic credentials for ':'
        "--proxy 127.0.0.1 --proxy-auth : h 80| --proxy-auth: USER is empty (USER[:PASS])",
        "--proxy 127.0.0.1 --proxy-auth :secret h 80| --proxy-auth: USER is empty (USER[:PASS])",
        "--proxy 127.0.0.1 --proxy-type socks4 --proxy-auth : h 80| --proxy-auth: USER is empty"
            + " (USER[:PASS])",
        "--proxy 127.0.0.1 --proxy-type socks5 --proxy-auth :secret h 80| --proxy-auth: USER is"
            + " empty (USER[:PASS])"
      })
  void usageErrorsNameTheOptionWithExitCode2(String args, String message) {
    InProcess run = InProcess.run(("connect " + args).split(" "));
    assertThat(run.exit()).isEqualTo(2);
    assertThat(run.err()).startsWith("jsock: " + message.strip() + "\n");
  }

  @Test
  void aTargetNameWithALineBreakOrSpaceIsAUsageErrorNotWrittenIntoTheRequest() throws Exception {
    try (HttpPeer proxy = HttpPeer.answering("HTTP/1.1 502 Bad Gateway\r\n\r\n")) {
      InProcess run = InProcess.run(proxied(proxy.port(), "http", "evil\r\nX-Injected: 1", "80"));
      assertThat(run.exit()).as(run.err()).isEqualTo(2);
      assertThat(run.err())
          .startsWith(
              "jsock: --proxy: HOST cannot hold spaces or control characters:"
                  + " 'evil\\x0D\\x0AX-Injected:\\x201'\n");
    }
  }

  // ---------------------------------------------------------------- tools

  /** {@code connect --proxy 127.0.0.1:PORT --proxy-type TYPE} and the rest. */
  private static String[] proxied(int port, String type, String... rest) {
    List<String> args =
        new ArrayList<>(List.of("connect", "--proxy", "127.0.0.1:" + port, "--proxy-type", type));
    args.addAll(List.of(rest));
    return args.toArray(String[]::new);
  }

  /** What a run did; its stdin (or its program's stdout) gave {@link #TO_TARGET}. */
  private record Run(int exit, byte[] out, String err) {}

  /**
   * What {@code jsock ARGS} did in this JVM with a program ({@code -c}) in place of stdin and
   * stdout: the program gives {@link #TO_TARGET} and ends its stdout, as a stdin of those bytes
   * ends, and keeps what comes from the connection as stdout would. The proxy's handshake and the
   * bytes through its tunnel are the same as the real binary's; the real binary's stdin and stdout
   * through a proxy are checked by the TLS case, and without a proxy by ConnectListenIT. A JVM
   * start costs seconds on a loaded machine, a shell milliseconds. The names these cases give go to
   * the proxy unresolved (or are localhost), so that this JVM, which has no hosts file of its own,
   * looks up none.
   */
  private Run relayInProcess(String... args) throws IOException {
    Path in = Files.write(Files.createTempFile(dir, "in", ""), TO_TARGET);
    Path out = Files.createTempFile(dir, "out", "");
    List<String> line = new ArrayList<>(List.of(args));
    line.addAll(1, List.of("-c", "cat '%s'; exec >&-; exec cat >'%s'".formatted(in, out)));
    InProcess run = InProcess.run(line.toArray(String[]::new));
    return new Run(run.exit(), Files.readAllBytes(out), run.err());
  }

  private Run jsock(String... args) throws Exception {
    return jsock(Map.of(), args);
  }

  /** As {@link #jsock(String...)}, with these variables in jsock's environment too. */
  private Run jsock(Map<String, String> env, String... args) throws Exception {
    Path in = Files.write(Files.createTempFile(dir, "in", ""), TO_TARGET);
    Path out = Files.createTempFile(dir, "out", "");
    Map<String, String> all = new java.util.HashMap<>(hostsFileKnowingOnlyLocalhost());
    all.putAll(env);
    try (PipedProcess process =
        PipedProcess.start(
            PipedProcess.jsock(args), all, Redirect.from(in.toFile()), Redirect.to(out.toFile()))) {
      int exit = process.exitCode();
      return new Run(exit, Files.readAllBytes(out), process.stderr());
    }
  }

  /**
   * jsock's environment: any name but localhost is unknown here, without asking DNS. The test's own
   * JSOCK_JAVA_OPTS come first ({@code -Djsock.selectorPoller=true} runs it on the portable path).
   */
  private synchronized Map<String, String> hostsFileKnowingOnlyLocalhost() throws IOException {
    Path hosts = dir.resolve("hosts"); // written once: runs started together read it
    if (!Files.exists(hosts)) {
      Files.writeString(hosts, "127.0.0.1 localhost\n::1 localhost\n");
    }
    String inherited = System.getenv().getOrDefault("JSOCK_JAVA_OPTS", "");
    return Map.of("JSOCK_JAVA_OPTS", (inherited + " -Djdk.net.hosts.file=" + hosts).strip());
  }

  /** A target of one connection: sends {@link #FROM_TARGET}, keeps what comes until its end. */
  private static final class Target implements AutoCloseable {
    private final Socket listener;
    private final int closeAfter;
    private final CompletableFuture<byte[]> received = new CompletableFuture<>();

    private Target(Socket listener, int closeAfter) {
      this.listener = listener;
      this.closeAfter = closeAfter;
    }

    static Target start() throws IOException {
      return startClosingAfter(Integer.MAX_VALUE);
    }

    /** A target that closes the connection once it has {@code count} bytes, or at their end. */
    static Target startClosingAfter(int count) throws IOException {
      Target target = new Target(Socket.create(), count);
      target.listener.bind("127.0.0.1", 0);
      target.listener.listen(1);
      Thread.ofVirtual().start(target::serve);
      return target;
    }

    int port() throws IOException {
      return ((InetSocketAddress) listener.getSockName()).getPort();
    }

    byte[] received() throws Exception {
      return received.get(60, TimeUnit.SECONDS);
    }

    private void serve() {
      try (Socket conn = listener.accept().conn()) {
        conn.sendAll(FROM_TARGET);
        ByteArrayOutputStream all = new ByteArrayOutputStream();
        byte[] chunk;
        while (all.size() < closeAfter && (chunk = conn.recv(65536)).length > 0) {
          all.writeBytes(chunk);
        }
        received.complete(all.toByteArray());
      } catch (IOException e) {
        received.completeExceptionally(e);
      }
    }

    @Override
    public void close() throws IOException {
      listener.close();
    }
  }

  /**
   * An HTTP proxy of one connection that reads the request's header to its blank line, answers with
   * the bytes it was given, half-closes and waits for the client's end.
   */
  private static final class HttpPeer implements AutoCloseable {
    private final Socket listener;
    private final CompletableFuture<String> request = new CompletableFuture<>();

    private HttpPeer(Socket listener) {
      this.listener = listener;
    }

    static HttpPeer answering(String reply) throws IOException {
      HttpPeer peer = new HttpPeer(Socket.create());
      peer.listener.bind("127.0.0.1", 0);
      peer.listener.listen(1);
      Thread.ofVirtual().start(() -> peer.serve(reply.getBytes(ISO_8859_1)));
      return peer;
    }

    int port() throws IOException {
      return ((InetSocketAddress) listener.getSockName()).getPort();
    }

    String request() throws Exception {
      return request.get(60, TimeUnit.SECONDS);
    }

    private void serve(byte[] reply) {
      try (Socket conn = listener.accept().conn()) {
        StringBuilder header = new StringBuilder();
        while (!header.toString().endsWith("\r\n\r\n") && header.length() < 65536) {
          byte[] b = conn.recv(1);
          if (b.length == 0) {
            break;
          }
          header.append((char) (b[0] & 0xFF));
        }
        request.complete(header.toString());
        conn.sendAll(reply);
        conn.shutdown(io.jsock.Shutdown.SHUT_WR);
        while (conn.recv(65536).length > 0) {
          // what the client sends after the header: drained until its end
        }
      } catch (IOException e) {
        request.completeExceptionally(e);
      }
    }

    @Override
    public void close() throws IOException {
      listener.close();
    }
  }
}
