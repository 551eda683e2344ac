package io.jsock.internal;

import static org.assertj.core.api.Assertions.assertThat;

import io.jsock.BrokenPipeException;
import io.jsock.ClosedSocketException;
import io.jsock.ConnectionRefusedException;
import io.jsock.ConnectionResetException;
import io.jsock.ConnectionTimedOutException;
import io.jsock.Errno;
import io.jsock.ErrnoException;
import io.jsock.Family;
import io.jsock.Socket;
import io.jsock.SocketError;
import io.jsock.testing.ChildJvm;
import io.jsock.testing.Loopback;
import io.jsock.tls.TlsException;
import java.io.IOException;
import java.net.ConnectException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.nio.channels.AsynchronousCloseException;
import java.nio.channels.ClosedChannelException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLHandshakeException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ErrorsTest {
  private static final InetSocketAddress ADDRESS =
      new InetSocketAddress(InetAddress.getLoopbackAddress(), 9);

  @Test
  void translateReadsTheReasonFromTheJdksMessage() {
    IOException refused =
        Errors.translate(new ConnectException("Connection refused"), "connect to", ADDRESS);
    IOException reset =
        Errors.translate(new IOException("Connection reset by peer"), "recv from", ADDRESS);
    IOException pipe = Errors.translate(new IOException("Broken pipe"), "send to", ADDRESS);

    assertThat(refused)
        .isExactlyInstanceOf(ConnectionRefusedException.class)
        .hasMessage("connect to 127.0.0.1:9: connection refused")
        .hasCauseInstanceOf(ConnectException.class);
    assertThat(reset)
        .isExactlyInstanceOf(ConnectionResetException.class)
        .hasMessage("recv from 127.0.0.1:9: connection reset by peer");
    assertThat(pipe).isExactlyInstanceOf(BrokenPipeException.class);
  }

  // The JDK's "No such device" (a bind of an IPv6 link-local address whose scope names no
  // interface; python3 raises OSError [Errno 19] No such device there) was taken for EIO. The
  // bind itself is not tried here: its address is not one the tests may use.
  @Test
  void translateGivesNoSuchDeviceItsOwnNumber() {
    IOException noDevice =
        Errors.translate(new SocketException("No such device"), "bind to", ADDRESS);

    assertThat(noDevice)
        .isExactlyInstanceOf(ErrnoException.class)
        .hasMessage("bind to 127.0.0.1:9: no such device");
    assertThat(((ErrnoException) noDevice).errno()).isEqualTo(19).isEqualTo(Errno.ENODEV);
  }

  // Linux texts the JDK can pass on that no loopback test reaches: each keeps its own number (and
  // Python's), not EIO
  @Test
  void translateKnowsTheOtherTextsTheJdkCanPassOn() {
    Map<String, Integer> texts =
        Map.of(
            "Destination address required", Errno.EDESTADDRREQ,
            "Operation not supported", Errno.EOPNOTSUPP,
            "Cannot allocate memory", Errno.ENOMEM);

    texts.forEach(
        (text, errno) ->
            assertThat(Errors.translate(new SocketException(text), "send to", ADDRESS))
                .isInstanceOfSatisfying(
                    ErrnoException.class, e -> assertThat(e.errno()).as(text).isEqualTo(errno))
                .hasMessage("send to 127.0.0.1:9: " + text.toLowerCase(java.util.Locale.ROOT)));
  }

  // A JVM whose message language is not English (LANGUAGE=de, or LANG=de_DE.UTF-8) gets the JDK's
  // exceptions worded by the C library in that language: a refused connect was "Verbindungsaufbau
  // abgelehnt", which jsock took for EIO (an ErrnoException, not a ConnectionRefusedException)
  @Test
  void errorsWordedInTheProcesssMessageLanguageAreRecognised(@TempDir Path dir) throws Exception {
    org.junit.jupiter.api.Assumptions.assumeTrue(
        Files.exists(Path.of("/usr/share/locale/de/LC_MESSAGES/libc.mo")),
        "the C library's German texts are installed (libc-l10n)");
    List<String> printed =
        ChildJvm.run(RefusedConnect.class, Map.of("LC_ALL", "C.UTF-8", "LANGUAGE", "de"), dir);

    assertThat(printed)
        .as("what the child printed")
        .containsExactly("ConnectionRefusedException 111 connection refused");
  }

  /** Connects to an address that refuses, and prints what jsock threw. */
  static final class RefusedConnect {
    public static void main(String[] args) throws IOException {
      try (Loopback.Refusing refusing = Loopback.refusingAddress(Family.AF_INET);
          Socket socket = Socket.create()) {
        socket.connect(refusing.address());
        System.out.println("connected?");
      } catch (IOException e) {
        String message = e.getMessage();
        System.out.println(
            e.getClass().getSimpleName()
                + " "
                + (e instanceof SocketError error ? error.errno() : -1)
                + " "
                + message.substring(message.lastIndexOf(": ") + 2));
      }
    }
  }

  @Test
  void translateTurnsAClosedChannelIntoClosedSocket() {
    assertThat(Errors.translate(new ClosedChannelException(), "recv from", null))
        .isExactlyInstanceOf(ClosedSocketException.class)
        .hasMessage("recv from: socket is closed");
    assertThat(Errors.translate(new AsynchronousCloseException(), "recv from", ADDRESS))
        .isExactlyInstanceOf(ClosedSocketException.class);
  }

  @Test
  void translateGivesInputOutputErrorForAnUnknownMessage() {
    IOException e = Errors.translate(new IOException("something odd"), "recv from", ADDRESS);

    assertThat(e).isExactlyInstanceOf(ErrnoException.class);
    assertThat(((ErrnoException) e).errno()).isEqualTo(Errno.EIO);
  }

  @Test
  void translatePassesJsockExceptionsAndTimeoutsThrough() {
    IOException own = Errors.closed("recv from", ADDRESS);
    SocketTimeoutException timeout = Errors.timedOut("recv from", ADDRESS);

    assertThat(Errors.translate(own, "send to", null)).isSameAs(own);
    assertThat(Errors.translate(timeout, "send to", null)).isSameAs(timeout);
    assertThat(timeout).hasMessage("recv from 127.0.0.1:9: timed out");
  }

  @Test
  void ofGivesTheClassThatFitsTheErrorNumber() {
    assertThat(Errors.of(Errno.ETIMEDOUT, "connect to", ADDRESS))
        .isExactlyInstanceOf(ConnectionTimedOutException.class)
        .isInstanceOf(SocketTimeoutException.class)
        .hasMessage("connect to 127.0.0.1:9: connection timed out")
        .satisfies(e -> assertThat(((SocketError) e).errno()).isEqualTo(Errno.ETIMEDOUT))
        .satisfies(e -> assertThat(((SocketError) e).address()).isEqualTo(ADDRESS));
    assertThat(Errors.of(Errno.ENOTCONN, "recv from", null))
        .isExactlyInstanceOf(ErrnoException.class)
        .hasMessage("recv from: transport endpoint is not connected");
  }

  @Test
  void tlsNamesTheAlertTheVersionOrTheJdksReason() {
    assertThat(
            Errors.tls(
                new SSLHandshakeException("Received fatal alert: unknown_ca"),
                "tls handshake with",
                ADDRESS))
        .hasMessage(
            "tls handshake with 127.0.0.1:9: the peer rejected our certificate (alert unknown_ca)");
    assertThat(
            Errors.tls(
                new SSLHandshakeException(
                    "Client requested protocol TLSv1.1 is not enabled or supported in server"
                        + " context"),
                "tls handshake with",
                ADDRESS))
        .hasMessage("tls handshake with 127.0.0.1:9: protocol version TLSv1.1 refused");
    assertThat(
            Errors.tls(
                new SSLException("Unsupported or unrecognized SSL message"),
                "tls handshake with",
                ADDRESS))
        .hasMessage("tls handshake with 127.0.0.1:9: the peer does not speak TLS")
        .hasCauseInstanceOf(SSLException.class);
    assertThat(
            Errors.tls(
                new SSLException("(unexpected_message) Unexpected handshake message: client_hello"),
                "tls handshake with",
                ADDRESS))
        .hasMessage(
            "tls handshake with 127.0.0.1:9: the peer does not speak TLS (it sent our ClientHello"
                + " back: an echo server?)");
    TlsException once = Errors.tls(new SSLException("odd"), "recv from", ADDRESS);
    assertThat(once).hasMessage("recv from 127.0.0.1:9: odd");
    assertThat(Errors.tls(once, "recv from", ADDRESS)).isSameAs(once);
  }
}
