package io.jsock.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.Inet6Address;
import java.net.InetSocketAddress;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine.TypeConversionException;

class OptionsTest {
  @Test
  void durationsReadAsPeopleWriteThem() {
    assertThat(Durations.parse("500ms")).isEqualTo(Duration.ofMillis(500));
    assertThat(Durations.parse("2s")).isEqualTo(Duration.ofSeconds(2));
    assertThat(Durations.parse("1.5s")).isEqualTo(Duration.ofMillis(1500));
    assertThat(Durations.parse("3")).isEqualTo(Duration.ofSeconds(3));
    assertThat(Durations.parse("1m")).isEqualTo(Duration.ofMinutes(1));
    assertThat(Durations.parse("250us")).isEqualTo(Duration.ofNanos(250_000));
    assertThat(Durations.format(Duration.ofMillis(500))).isEqualTo("500ms");
    assertThat(Durations.format(Duration.ofSeconds(2))).isEqualTo("2s");
    assertThat(Durations.format(Duration.ofMillis(1500))).isEqualTo("1.5s");
  }

  @Test
  void aDurationMayBeginWithItsDecimalPointAsNcatTakesIt() {
    // ncat -w .5 and -i .5s wait half a second (strtod), as Python's float('.5') reads it
    assertThat(Durations.parse(".5")).isEqualTo(Duration.ofMillis(500));
    assertThat(Durations.parse(".25s")).isEqualTo(Duration.ofMillis(250));
    assertThat(Durations.parse(".5ms")).isEqualTo(Duration.ofNanos(500_000));
    assertThat(new Durations.Timeout().convert(".5")).isEqualTo(Duration.ofMillis(500));
    for (String bad : List.of(".", ".s", "..5", ".5.5")) {
      assertThatThrownBy(() -> Durations.parse(bad))
          .isInstanceOf(TypeConversionException.class)
          .hasMessageContaining("not a duration: '" + bad + "'");
    }
    int port = FreePort.find();
    InProcess run = InProcess.run("connect", "-w", ".5", "127.0.0.1", Integer.toString(port));
    int code = run.exit();
    String err = run.err();
    assertThat(err.toString()).contains("connection refused").doesNotContain("Invalid value");
    assertThat(code).isEqualTo(ExitCode.REFUSED.code());
  }

  @Test
  void aDurationMayEndWithItsDecimalPointAsNcatTakesIt() {
    // ncat 7.93 takes -w 5. and -w 1.s (strtod), as Python's float('5.') reads 5.0
    assertThat(Durations.parse("5.")).isEqualTo(Duration.ofSeconds(5));
    assertThat(Durations.parse("1.s")).isEqualTo(Duration.ofSeconds(1));
    assertThat(Durations.parse("2.ms")).isEqualTo(Duration.ofMillis(2));
    assertThat(new Durations.Timeout().convert("5.")).isEqualTo(Duration.ofSeconds(5));
    assertThat(Jitter.parseDuration("50.ms±20.ms")).isEqualTo(new Jitter(50_000_000, 20_000_000));
    for (String bad : List.of(".", ".s", "1..s", "5.."))
      assertThatThrownBy(() -> Durations.parse(bad))
          .isInstanceOf(TypeConversionException.class)
          .hasMessageContaining("not a duration: '" + bad + "'");
  }

  @Test
  void aBadDurationSaysHowToWriteOne() {
    for (String bad : List.of("", "2x", "-1s", "s", "1..s")) {
      assertThatThrownBy(() -> Durations.parse(bad))
          .isInstanceOf(TypeConversionException.class)
          .hasMessageContaining("not a duration: '" + bad + "'");
    }
  }

  @Test
  void connectAndListenUsageErrorsExitTwoAndPointToHelp() {
    // ConnectListenIT runs one of these as a process, through the launcher
    List<List<String>> commands =
        List.of(
            List.of("connect", "127.0.0.1"),
            List.of("connect", "127.0.0.1", "70000"),
            List.of("connect", "-w", "soon", "127.0.0.1", "80"),
            List.of("connect", "--send-only", "--recv-only", "127.0.0.1", "80"),
            List.of("connect", "--insecure", "127.0.0.1", "80"),
            List.of("listen", "--allow", "10.0.0.0/33", "0"),
            List.of("listen"));
    for (List<String> args : commands) {
      InProcess run = InProcess.run(args.toArray(String[]::new));
      int code = run.exit();
      String err = run.err();
      assertThat(code).as("%s: %s", args, err).isEqualTo(2);
      assertThat(err.toString()).as("%s", args).startsWith("jsock: ").contains("--help");
    }
  }

  @Test
  void aZeroTimeoutIsAUsageErrorNamingTheOption() {
    // 0 would make the socket non-blocking: connect said "operation now in progress", a relay
    // reset every client, before these options refused it.
    List<List<String>> commands =
        List.of(
            List.of("connect", "--wait", "0", "127.0.0.1", "1"),
            List.of("connect", "--idle-timeout", "0s", "127.0.0.1", "1"),
            List.of("listen", "--idle-timeout", "0ms", "1"),
            List.of("relay", "--connect-timeout", "0", "0", "1"),
            List.of("relay", "--idle-timeout", "0", "0", "1"),
            List.of("broker", "--write-timeout", "0", "0"),
            List.of("send", "--timeout", "0", "x", "127.0.0.1", "1"),
            List.of("receive", "--timeout", "0", "1"));
    for (List<String> args : commands) {
      InProcess run = InProcess.run(args.toArray(String[]::new));
      int code = run.exit();
      String err = run.err();
      String option = args.get(1); // picocli names an option by its longest name
      assertThat(code).as("exit code of %s", args).isEqualTo(2);
      assertThat(err.toString())
          .as("stderr of %s", args)
          .contains("Invalid value for option '" + option + "'")
          .contains("a timeout must be longer than 0");
    }
    assertThat(new Durations.Timeout().convert("1ms")).isEqualTo(Duration.ofMillis(1));
  }

  @Test
  void wholeNumberOptionsTakeAsciiDigitsOnlyAsPortsDo() {
    // picocli's own integer converter took any script's digits and a sign: relay
    // --max-connections U+0660 read 0, +5 read 5; each command below fails for another reason
    // (exit 2) once its options are read, so none runs
    List<List<String>> commands =
        List.of(
            List.of("relay", "--max-connections", "+5", "0", "localhost:0"),
            List.of("relay", "--max-connections", "\u0665", "0", "localhost:0"),
            List.of("listen", "--max-clients", "+5", "0"),
            List.of("broker", "--max-clients", "\u0665", "-u", "0"),
            List.of("echo", "--max-connections", "+5", "--udp"),
            List.of("bench", "--connections", "\u0665", "--port", "0"),
            List.of("bench", "--size", "+64", "--port", "0"),
            List.of("bench", "--pipeline", "-1", "--port", "0"),
            List.of("bench", "--write-size", "\u0661\u0660", "--port", "0"),
            List.of("bench", "--source-ips", "+0", "--port", "0"));
    for (List<String> args : commands) {
      InProcess run = InProcess.run(args.toArray(String[]::new));
      int code = run.exit();
      String err = run.err();
      assertThat(code).as("exit code of %s: %s", args, err).isEqualTo(2);
      assertThat(err.toString())
          .as("stderr of %s", args)
          .startsWith(
              "jsock: Invalid value for option '"
                  + args.get(1)
                  + "': not a whole number: '"
                  + args.get(2)
                  + "' (write it in ASCII digits, as 100)");
    }
    InProcess run = InProcess.run("listen", "--max-clients", "99999999999", "0");
    int code = run.exit();
    String err = run.err();
    assertThat(code).isEqualTo(2);
    assertThat(err.toString())
        .startsWith(
            "jsock: Invalid value for option '--max-clients': number out of range: '99999999999'"
                + " (at most 2147483647)");
  }

  @Test
  void listenOptionsThatWouldBeIgnoredAreUsageErrorsNamingTheOption() {
    // each was accepted and ignored: -u -k listened with no idle timeout at all, and
    // --max-clients bounds nothing when one client (or no client: UDP) is served
    List<List<String>> commands =
        List.of(
            List.of("listen", "-u", "-k", "-i", "1s", "0", "--idle-timeout"),
            List.of("listen", "--max-clients", "5", "0", "--max-clients"),
            List.of("listen", "-u", "--max-clients", "5", "0", "--max-clients"),
            List.of("listen", "-u", "-k", "--max-clients", "5", "0", "--max-clients"));
    for (List<String> command : commands) {
      List<String> args = command.subList(0, command.size() - 1);
      InProcess run = InProcess.run(args.toArray(String[]::new));
      int code = run.exit();
      String err = run.err();
      assertThat(code).as("exit code of %s: %s", args, err).isEqualTo(2);
      assertThat(err.toString())
          .as("stderr of %s", args)
          .startsWith("jsock: " + command.getLast() + " ")
          .contains("Try 'jsock listen --help'");
    }
  }

  @Test
  void listenAndConnectRefuseMoreThanAHostAndAPort() throws Exception {
    // listen took the last of any number (ncat: "Got more than one port specification"), and
    // connect said HOST and PORT were needed when both were there; the port in use makes a
    // listen that takes it exit 7, not hang
    try (var busy = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      String port = Integer.toString(busy.getLocalPort());
      for (String command : List.of("listen", "connect")) {
        String label = command.equals("listen") ? "[HOST] PORT" : "HOST PORT";
        InProcess run = InProcess.run(command, "127.0.0.1", "9", port);
        int code = run.exit();
        String err = run.err();
        assertThat(code).as("exit code of %s: %s", command, err).isEqualTo(2);
        assertThat(err.toString())
            .as("stderr of %s", command)
            .startsWith("jsock: " + label + ": one host and one port, not 3 arguments: 127.0.0.1 9")
            .contains("Try 'jsock " + command + " --help'");
      }
    }
  }

  @Test
  void aMissingOrUnsuitableKeyOrCaFileIsAUsageErrorNamingTheOption(@TempDir Path dir)
      throws Exception {
    Path missing = dir.resolve("missing.pem");
    Path text = Files.writeString(dir.resolve("hello.txt"), "hello\n");
    // checked before anything connects or listens: port 1 is never tried
    assertUsageError(
        "--ca " + missing + ": no such file",
        "connect",
        "--tls",
        "--ca",
        missing,
        "127.0.0.1",
        "1");
    assertUsageError(
        "--ca " + dir + ": not a regular file", "connect", "--tls", "--ca", dir, "::1", "1");
    assertUsageError(
        "--ca: no certificate in "
            + text
            + " (a password-protected PKCS#12 store? export its certificates as PEM)",
        "send",
        "--tls",
        "--ca",
        text,
        text,
        "127.0.0.1",
        "1");
    assertUsageError(
        "--cert " + missing + ": no such file",
        "listen",
        "--tls",
        "--cert",
        missing,
        "--key",
        text,
        "127.0.0.1",
        "0");
    assertUsageError(
        "--key " + missing + ": no such file",
        "echo",
        "--tls",
        "--cert",
        text,
        "--key",
        missing,
        "--port",
        "0");
    assertUsageError(
        "--cert: not a PEM certificate file: " + text,
        "echo",
        "--tls",
        "--cert",
        text,
        "--key",
        text,
        "--port",
        "0");
    assertUsageError(
        "--pkcs12 " + missing + ": no such file", "receive", "--tls", "--pkcs12", missing, "0");
    Path pem = Files.writeString(dir.resolve("cert.pem"), "-----BEGIN CERTIFICATE-----\n");
    assertUsageError( // was the JDK's "toDerInputStream rejects tag type 45"
        "--pkcs12: cannot load PKCS#12 file "
            + pem
            + ": not a PKCS#12 store but a PEM file (PEM files go to --cert and --key)",
        "listen",
        "--tls",
        "--pkcs12",
        pem,
        "127.0.0.1",
        "0");
    // an empty name used to be tried: a refused connect (exit 3), or once connected
    // "serverHostname must not be empty", which names no option
    assertUsageError(
        "--server-name: the name must not be empty",
        "connect",
        "--tls",
        "--server-name",
        "",
        "127.0.0.1",
        "1");
    assertUsageError(
        "--server-name: the name must not be empty",
        "send",
        "--tls",
        "--server-name",
        "",
        text,
        "127.0.0.1",
        "1");
    // nor a name that is no host name (port 1 refuses: a refused connect would exit 3)
    assertUsageError(
        "--server-name: not a host name (an empty label, one over 63 characters, or a character"
            + " IDNA prohibits): .example.test",
        "connect",
        "--tls",
        "--server-name",
        ".example.test",
        "127.0.0.1",
        "1");
    // a key of the right algorithm but another certificate's: the listener used to start and
    // fail every handshake
    PemFiles mine = PemFiles.selfSigned(Files.createDirectory(dir.resolve("mine")));
    PemFiles other = PemFiles.selfSigned(Files.createDirectory(dir.resolve("other")));
    assertUsageError(
        "--key: "
            + other.key()
            + " is not the private key of the certificate 'CN=localhost' (its public key does not"
            + " match)",
        "echo",
        "--tls",
        "--cert",
        mine.cert(),
        "--key",
        other.key(),
        "--port",
        "0");
  }

  @Test
  void aCaFileMayBeAPipeAsForNcatAndSocat(@TempDir Path dir) throws Exception {
    // ncat --ssl-trustfile <(...) and socat's cafile=<(...) read a pipe; jsock said "--ca
    // /dev/fd/63: not a regular file" (exit 2). Taken, the CA lets connect go on to a refused port.
    PemFiles pem = PemFiles.selfSigned(dir);
    Path fifo = dir.resolve("ca.fifo");
    assertThat(new ProcessBuilder("mkfifo", fifo.toString()).start().waitFor()).isZero();
    byte[] ca = Files.readAllBytes(pem.cert());
    Thread writer =
        Thread.ofPlatform()
            .start(
                () -> {
                  try {
                    Files.write(fifo, ca);
                  } catch (java.io.IOException e) {
                    throw new java.io.UncheckedIOException(e);
                  }
                });
    try (io.jsock.Socket closed = io.jsock.Socket.create()) {
      closed.bind("127.0.0.1", 0); // bound, not listening: connections to it are refused
      String port = Integer.toString(((InetSocketAddress) closed.getSockName()).getPort());
      InProcess run = InProcess.run("connect", "--tls", "--ca", fifo.toString(), "127.0.0.1", port);
      int code = run.exit();
      String err = run.err();
      assertThat(err.toString()).doesNotContain("--ca").contains("connection refused");
      assertThat(code).as("exit code; stderr %s", err).isEqualTo(3);
    } finally {
      // A writer still blocked in open(2) (the pipe was never read) needs a reader to end. Linux
      // opens a FIFO for reading and writing without blocking, whether or not a writer is left,
      // where a read-only open blocks for ever once the writer has gone (as it may have done
      // just after an isAlive check); the certificate fits in the pipe's buffer.
      try (java.io.RandomAccessFile unblocker = new java.io.RandomAccessFile(fifo.toFile(), "rw")) {
        writer.join();
      }
    }
  }

  private static void assertUsageError(String message, Object... args) {
    String[] strings = java.util.Arrays.stream(args).map(String::valueOf).toArray(String[]::new);
    InProcess run = InProcess.run(strings);
    int code = run.exit();
    String err = run.err();
    assertThat(code).as("exit code of %s; stderr %s", List.of(strings), err).isEqualTo(2);
    assertThat(err.toString()).startsWith("jsock: " + message + "\n");
  }

  @Test
  void denyWinsOverAllowAndAllowNarrows() {
    AccessList access = new AccessList();
    assertThat(access.permits(new InetSocketAddress("127.0.0.9", 1))).isTrue();
    access.allow.add(AccessList.Cidr.parse("127.0.0.0/8"));
    access.allow.add(AccessList.Cidr.parse("::1"));
    access.deny.add(AccessList.Cidr.parse("127.0.0.66/31"));
    assertThat(access.permits(new InetSocketAddress("127.0.0.9", 1))).isTrue();
    assertThat(access.permits(new InetSocketAddress("127.0.0.66", 1))).isFalse();
    assertThat(access.permits(new InetSocketAddress("127.0.0.67", 1))).isFalse();
    assertThat(access.permits(new InetSocketAddress("127.0.0.68", 1))).isTrue();
    assertThat(access.permits(new InetSocketAddress("198.18.0.1", 1))).isFalse();
    assertThat(access.permits(new InetSocketAddress("::1", 1))).isTrue();
    assertThat(access.permits(new InetSocketAddress("::2", 1))).isFalse();
    assertThat(access.permits(UnixDomainSocketAddress.of("/tmp/x"))).isTrue();
  }

  @Test
  void mappedIpv6PeersMatchAsIpv4() throws Exception {
    AccessList access = new AccessList();
    access.allow.add(AccessList.Cidr.parse("10.1.0.0/16"));
    var mapped =
        Inet6Address.getByAddress(
            null, new byte[] {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, -1, -1, 10, 1, 2, 3}, null);
    assertThat(access.permits(new InetSocketAddress(mapped, 1))).isTrue();
  }

  @Test
  void mappedIpv6NetworksMatchAsIpv4() {
    AccessList denying = new AccessList();
    denying.deny.add(AccessList.Cidr.parse("::ffff:127.0.0.1"));
    assertThat(denying.permits(new InetSocketAddress("127.0.0.1", 1))).isFalse();
    assertThat(denying.permits(new InetSocketAddress("127.0.0.2", 1))).isTrue();

    AccessList allowing = new AccessList();
    allowing.allow.add(AccessList.Cidr.parse("::ffff:10.0.0.0/104"));
    assertThat(allowing.permits(new InetSocketAddress("10.200.0.1", 1))).isTrue();
    assertThat(allowing.permits(new InetSocketAddress("11.0.0.1", 1))).isFalse();
    assertThat(AccessList.Cidr.parse("::ffff:10.0.0.0/104")).hasToString("::ffff:10.0.0.0/104");
  }

  @Test
  void allowAndDenyOnAnAfUnixListenerAreUsageErrors(@TempDir Path dir) {
    // an AF_UNIX peer has no address: 'listen -U PATH --allow 10.0.0.1' served every client
    // (ncat denies them all); the lists cannot apply there, so they are refused
    String path = dir.resolve("s.sock").toString();
    List<List<String>> commands =
        List.of(
            List.of("listen", "-U", path, "--allow", "10.0.0.1"),
            List.of("broker", "-U", path, "--deny", "10.0.0.1"),
            List.of("relay", "unix:" + path, "127.0.0.1:1", "--allow", "10.0.0.1"));
    for (List<String> args : commands) {
      InProcess run = InProcess.run(args.toArray(String[]::new));
      int code = run.exit();
      String err = run.err();
      assertThat(code).as("exit code of %s: %s", args, err).isEqualTo(2);
      assertThat(err.toString())
          .as("stderr of %s", args)
          .startsWith(
              "jsock: --allow and --deny do not apply to AF_UNIX: its peers have no address")
          .contains("Try 'jsock " + args.getFirst() + " --help'");
    }
  }

  @Test
  void aBadNetworkIsAUsageError() {
    for (String bad : List.of("10.0.0.0/33", "::1/129", "localhost", "10.0.0/8", "1.2.3.4/x")) {
      assertThatThrownBy(() -> AccessList.Cidr.parse(bad))
          .isInstanceOf(TypeConversionException.class)
          .hasMessageContaining("not a network: '" + bad + "'");
    }
  }

  @Test
  void aPrefixLengthIsAsciiDigitsOnly() {
    // Integer.parseInt took a sign and any Unicode digit: "/+8", "/-0" and "/\u0668" (Arabic-Indic
    // eight) were networks, where ncat ("Error parsing netmask") and Python's ipaddress refuse them
    for (String bad : List.of("10.0.0.0/+8", "10.0.0.0/-0", "10.0.0.0/\u0668", "::1/+128")) {
      assertThatThrownBy(() -> AccessList.Cidr.parse(bad))
          .isInstanceOf(TypeConversionException.class)
          .hasMessageContaining("not a network: '" + bad + "'");
    }
    assertThat(AccessList.Cidr.parse("10.0.0.0/08").prefixLength()).isEqualTo(8); // as Python
  }

  @Test
  void aPrefixLengthTakesAnyNumberOfLeadingZerosAsPython() {
    // ten digits or more were refused as out of range ("prefix length must be 0..32") though
    // their value was 8; Python's ipaddress reads 10.0.0.0/0000000008 as 10.0.0.0/8
    assertThat(AccessList.Cidr.parse("10.0.0.0/0000000008").prefixLength()).isEqualTo(8);
    assertThat(AccessList.Cidr.parse("::/0000000000064").prefixLength()).isEqualTo(64);
    assertThat(AccessList.Cidr.parse("::ffff:10.0.0.0/00000000000104").prefixLength()).isEqualTo(8);
    assertThatThrownBy(() -> AccessList.Cidr.parse("10.0.0.0/0000000033"))
        .hasMessage("not a network: '10.0.0.0/0000000033' (prefix length must be 0..32)");
    assertThatThrownBy(() -> AccessList.Cidr.parse("10.0.0.0/4294967304"))
        .hasMessage("not a network: '10.0.0.0/4294967304' (prefix length must be 0..32)");
  }

  @Test
  void hexDumpShowsOffsetsHexAndText() {
    StringWriter out = new StringWriter();
    new HexDump(new Lines(new PrintWriter(out)))
        .dump(
            "> 18 bytes",
            ByteBuffer.wrap("Hello, jsock!\n\0\1\2\3".getBytes(StandardCharsets.UTF_8)));
    assertThat(out.toString())
        .isEqualTo(
            "> 18 bytes\n"
                + "00000000  48 65 6c 6c 6f 2c 20 6a  73 6f 63 6b 21 0a 00 01  |Hello, jsock!...|\n"
                + "00000010  02 03                                             |..|\n");
  }
}
